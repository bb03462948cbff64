/* Rational time: exact at every common frame and sample rate. */
#include "core/rg-time.h"

static void
test_frames (void)
{
  RgRational ntsc = { 30000, 1001 }, pal = { 25, 1 };
  g_assert_cmpint (rg_time_from_frame (1, ntsc), ==, 3003);
  g_assert_cmpint (rg_time_from_frame (1, pal), ==, 3600);
  for (int64_t f = 0; f < 100000; f += 7)
    {
      g_assert_cmpint (rg_time_to_frame (rg_time_from_frame (f, ntsc), ntsc), ==, f);
      /* a tick before a frame's start still belongs to the previous frame */
      if (f > 0)
        g_assert_cmpint (rg_time_to_frame (rg_time_from_frame (f, ntsc) - 1, ntsc), ==, f - 1);
    }
  g_assert_cmpint (rg_time_to_frame (-1, pal), ==, -1);
}

static void
test_time_bases (void)
{
  RgRational tb = { 1, 12800 };
  g_assert_cmpint (rg_time_from_tb (12800, tb), ==, RG_TIME_HZ);
  g_assert_cmpint (rg_time_to_tb (RG_TIME_HZ * 3, tb), ==, 38400);
  g_assert_cmpint (rg_time_to_samples (RG_TIME_HZ, 44100), ==, 44100);
  g_assert_cmpint (rg_time_from_samples (48000, 48000), ==, RG_TIME_HZ);
  g_assert_cmpint (rg_rescale (INT64_MAX / 2, 4, 4), ==, INT64_MAX / 2);
  g_assert_cmpint (rg_rescale (-3, 1, 2), ==, -2); /* ties away from zero */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/time/frames", test_frames);
  g_test_add_func ("/time/time-bases", test_time_bases);
  return g_test_run ();
}
