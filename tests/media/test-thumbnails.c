/* test-thumbnails.c — thumbnail strips show the right moments of a clip;
 * waveform peaks follow where the sound is loud and where it is silent. */
#include <math.h>

#include "core/rg-error.h"
#include "media-test-util.h"
#include "media/rg-thumbnails.h"

static char *dir;

static void
test_strip (void)
{
  g_autofree char *path = g_build_filename (dir, "counter.mp4", NULL);
  g_autoptr (GError) error = NULL;
  /* 5 thumbnails of the whole 2 s clip: the middles of 0.4 s shares */
  g_autoptr (RgThumbnailStrip) s = rg_thumbnail_strip (path, 0, -1, 5, 32, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->count, ==, 5);
  g_assert_cmpint (s->width, ==, 32);
  g_assert_cmpint (s->height, ==, 24);
  for (int i = 0; i < 5; i++)
    {
      g_assert_cmpint (s->times[i], ==, (RgTime)(2 * i + 1) * RG_TIME_HZ / 5);
      g_assert_cmpint (media_test_frame_number (s->rgba + (gsize)i * 32 * 24 * 4, 32, 24), ==,
                       5 + 10 * i);
    }
  /* a clip [1.0 s, 1.4 s): two thumbnails at 1.1 s and 1.3 s */
  g_autoptr (RgThumbnailStrip) clip
      = rg_thumbnail_strip (path, RG_TIME_HZ, 2 * RG_TIME_HZ / 5, 2, 16, &error);
  g_assert_no_error (error);
  g_assert_cmpint (media_test_frame_number (clip->rgba, 16, 12), ==, 27);
  g_assert_cmpint (media_test_frame_number (clip->rgba + 16 * 12 * 4, 16, 12), ==, 32);

  g_assert_null (rg_thumbnail_strip (path, 0, -1, 0, 32, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

static void
test_waveform (void)
{
  g_autofree char *path = g_build_filename (dir, "half.wav", NULL);
  g_autoptr (GError) error = NULL;
  /* silence for 0.5 s, then ±0.5 on the left and ±0.25 on the right */
  g_autoptr (RgWaveform) w = rg_waveform_peaks (path, 0, -1, 4, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w->buckets, ==, 4);
  for (int b = 0; b < 2; b++)
    for (int c = 0; c < 2; c++)
      {
        g_assert_cmpfloat (fabsf (w->max[2 * b + c]), <, 1e-4f);
        g_assert_cmpfloat (fabsf (w->min[2 * b + c]), <, 1e-4f);
      }
  for (int b = 2; b < 4; b++)
    {
      g_assert_cmpfloat (fabsf (w->max[2 * b] - 0.5f), <, 0.01f);
      g_assert_cmpfloat (fabsf (w->min[2 * b] + 0.5f), <, 0.01f);
      g_assert_cmpfloat (fabsf (w->max[2 * b + 1] - 0.25f), <, 0.01f);
    }
  /* only the loud part, in 3 buckets */
  g_autoptr (RgWaveform) loud = rg_waveform_peaks (path, RG_TIME_HZ / 2, RG_TIME_HZ / 2, 3, &error);
  g_assert_no_error (error);
  for (int b = 0; b < 3; b++)
    g_assert_cmpfloat (loud->max[2 * b], >, 0.45f);

  g_autofree char *video_only = g_build_filename (dir, "counter.mp4", NULL);
  g_assert_null (rg_waveform_peaks (video_only, 0, -1, 4, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = media_test_dir_new ();
  g_autofree char *counter = g_build_filename (dir, "counter.mp4", NULL);
  g_autofree char *half = g_build_filename (dir, "half.wav", NULL);
  g_autofree char *src = media_test_counter_source (64, 48, "25", 2);
  media_test_ffmpeg (counter, "-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "ultrafast",
                     "-crf", "8", "-g", "12", "-pix_fmt", "yuv420p", NULL);
  media_test_ffmpeg (half, "-f", "lavfi", "-i",
                     "aevalsrc=gte(t\\,0.5)*0.5*sin(2*PI*441*t)|gte(t\\,0.5)*0.25*sin(2*PI*441*t)"
                     ":s=48000:d=1",
                     "-c:a", "pcm_f32le", NULL);
  g_test_add_func ("/media/thumbnails/strip", test_strip);
  g_test_add_func ("/media/thumbnails/waveform", test_waveform);
  int ret = g_test_run ();
  media_test_dir_free (dir);
  return ret;
}
