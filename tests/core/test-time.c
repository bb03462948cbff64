/* Rational time: exact at every common frame and sample rate. */
#include <string.h>

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

static void
test_text (void)
{
  RgRational fps = { 24, 1 };
  RgTime t = 0;
  g_assert_true (rg_time_parse ("1.5", fps, &t, NULL));
  g_assert_cmpint (t, ==, 135000);
  g_assert_true (rg_time_parse ("36f", fps, &t, NULL));
  g_assert_cmpint (t, ==, 135000);
  g_assert_true (rg_time_parse ("7t", fps, &t, NULL));
  g_assert_cmpint (t, ==, 7);
  g_assert_true (rg_time_parse ("0.1", fps, &t, NULL)); /* exact, no float */
  g_assert_cmpint (t, ==, 9000);
  g_autoptr (GError) error = NULL;
  g_assert_false (rg_time_parse ("1.5s", fps, &t, &error));
  g_assert_nonnull (strstr (error->message, "1.5s"));
  g_clear_error (&error);
  g_assert_false (rg_time_parse ("3f", (RgRational){ 0, 1 }, &t, &error));
  g_autofree char *s = rg_time_format (RG_TIME_HZ * 3723 + 45000);
  g_assert_cmpstr (s, ==, "01:02:03.500");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/time/frames", test_frames);
  g_test_add_func ("/time/time-bases", test_time_bases);
  g_test_add_func ("/time/text", test_text);
  return g_test_run ();
}
