/* bench-decode.c — decode throughput of RgVideoReader against the ffmpeg
 * CLI on the same 1080p H.264 file with the same thread count.
 *
 *   bench-decode [SECONDS] (default 6; threads from RG_NUM_THREADS, else
 *   every core)
 *
 * Two pairs are timed, each the best of three runs:
 *   yuv420p out  vs  ffmpeg -threads N -i f -f null -            (decode only)
 *   RGBA out     vs  ffmpeg -threads N -i f -pix_fmt rgba -f null -
 * and the ratios (ours ÷ ffmpeg, frames per second; ≥ 0.9 is the target)
 * are printed. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "media/rg-video-reader.h"

static void
run_ffmpeg (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    {
      g_printerr ("bench-decode: ffmpeg failed: %s\n", error ? error->message : err);
      exit (1);
    }
}

static double
time_ffmpeg (const char *path, int threads, gboolean rgba)
{
  g_autofree char *n = g_strdup_printf ("%d", threads);
  const char *plain[]
      = { "ffmpeg", "-nostdin", "-v", "error", "-threads", n, "-i", path, "-f", "null", "-", NULL };
  const char *conv[] = { "ffmpeg", "-nostdin", "-v",   "error", "-threads", n,   "-i",
                         path,     "-pix_fmt", "rgba", "-f",    "null",     "-", NULL };
  double best = G_MAXDOUBLE;
  for (int run = 0; run < 3; run++)
    {
      gint64 t0 = g_get_monotonic_time ();
      run_ffmpeg (rgba ? conv : plain);
      best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
    }
  return best;
}

static double
time_reelgen (const char *path, int threads, RgPixelFormat format, int *frames)
{
  double best = G_MAXDOUBLE;
  for (int run = 0; run < 3; run++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (GError) error = NULL;
      RgVideoReaderOptions o = { .format = format, .threads = threads };
      g_autoptr (RgVideoReader) r = rg_video_reader_open (path, &o, &error);
      RgVideoFrame f;
      int n = 0;
      while (r != NULL && rg_video_reader_next (r, &f, &error))
        n++;
      if (error != NULL)
        {
          g_printerr ("bench-decode: %s\n", error->message);
          exit (1);
        }
      *frames = n;
      best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
    }
  return best;
}

int
main (int argc, char **argv)
{
  double seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 6.0;
  const char *env = g_getenv ("RG_NUM_THREADS");
  int threads = env != NULL ? atoi (env) : (int)g_get_num_processors ();
  threads = MAX (threads, 1);

  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-bench-decode-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "1080p.mp4", NULL);
  g_autofree char *src = g_strdup_printf ("testsrc2=s=1920x1080:r=30:d=%g", seconds);
  const char *make[]
      = { "ffmpeg", "-nostdin", "-y",      "-v",       "error",    "-f",      "lavfi", "-i", src,
          "-c:v",   "libx264",  "-preset", "veryfast", "-pix_fmt", "yuv420p", path,    NULL };
  run_ffmpeg (make);

  int frames = 0;
  double ours_yuv = time_reelgen (path, threads, RG_PIXEL_YUV420P, &frames);
  double peer_yuv = time_ffmpeg (path, threads, FALSE);
  double ours_rgba = time_reelgen (path, threads, RG_PIXEL_RGBA, &frames);
  double peer_rgba = time_ffmpeg (path, threads, TRUE);

  printf ("bench-decode: 1920x1080 H.264, %d frames, %d threads (best of 3)\n", frames, threads);
  printf ("  yuv420p: reelgen %7.1f fps   ffmpeg -f null          %7.1f fps   ratio %.2f\n",
          frames / ours_yuv, frames / peer_yuv, peer_yuv / ours_yuv);
  printf ("  rgba:    reelgen %7.1f fps   ffmpeg -pix_fmt rgba    %7.1f fps   ratio %.2f\n",
          frames / ours_rgba, frames / peer_rgba, peer_rgba / ours_rgba);
  printf ("  (target: ratio >= 0.90)\n");

  g_unlink (path);
  g_rmdir (dir);
  return 0;
}
