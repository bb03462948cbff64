/* bench-export.c — timeline export throughput against the equivalent
 * ffmpeg command line, same source, codecs, preset and thread count.
 *
 *   bench-export [SECONDS] (default 5; threads from RG_NUM_THREADS, else
 *   every core)
 *
 * The timeline is one 1080p H.264 + AAC clip on a 1080p canvas, exported
 * to H.264 (x264 "veryfast", crf 18, 2 s keyframes) + AAC MP4 with
 * faststart. The peer is
 *   ffmpeg -threads N -i src -c:v libx264 -preset veryfast -crf 18 -g G
 *          -pix_fmt yuv420p -c:a aac -threads N -movflags +faststart out.mp4
 * Each side is the best of two runs; ratio = ffmpeg time ÷ our time
 * (≥ 0.8 is the target). */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "media/rg-export.h"
#include "media/rg-probe.h"

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
      g_printerr ("bench-export: ffmpeg failed: %s\n", error ? error->message : err);
      exit (1);
    }
}

int
main (int argc, char **argv)
{
  double seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 5.0;
  const char *env = g_getenv ("RG_NUM_THREADS");
  int threads = MAX (env != NULL ? atoi (env) : (int)g_get_num_processors (), 1);
  g_autofree char *n = g_strdup_printf ("%d", threads);

  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-bench-export-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *src = g_build_filename (dir, "source.mp4", NULL);
  g_autofree char *ours = g_build_filename (dir, "reelgen.mp4", NULL);
  g_autofree char *peer = g_build_filename (dir, "ffmpeg.mp4", NULL);
  g_autofree char *vsrc = g_strdup_printf ("testsrc2=s=1920x1080:r=30:d=%g", seconds);
  g_autofree char *asrc = g_strdup_printf ("sine=f=440:r=48000:d=%g", seconds);
  const char *make[]
      = { "ffmpeg",   "-nostdin", "-y",      "-v",   "error", "-f", "lavfi", "-i",      vsrc,
          "-f",       "lavfi",    "-i",      asrc,   "-ac",   "2",  "-c:v",  "libx264", "-preset",
          "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",   src,  NULL };
  run_ffmpeg (make);

  RgExportClip clip = { .source = src, .duration = (RgTime)(seconds * RG_TIME_HZ) };
  RgExportTrack vt = { .clips = &clip, .n_clips = 1 }, at = vt;
  RgExportSpec spec = { .width = 1920,
                        .height = 1080,
                        .fps = { 30, 1 },
                        .sample_rate = 48000,
                        .video_tracks = &vt,
                        .n_video_tracks = 1,
                        .audio_tracks = &at,
                        .n_audio_tracks = 1,
                        .speed = RG_ENCODE_FAST,
                        .quality = 18,
                        .threads = threads };
  const char *cmd[] = { "ffmpeg",   "-nostdin",  "-y",         "-v",   "error",   "-threads",
                        n,          "-i",        src,          "-c:v", "libx264", "-preset",
                        "veryfast", "-crf",      "18",         "-g",   "60",      "-pix_fmt",
                        "yuv420p",  "-c:a",      "aac",        "-b:a", "192k",    "-threads",
                        n,          "-movflags", "+faststart", peer,   NULL };

  double t_ours = G_MAXDOUBLE, t_peer = G_MAXDOUBLE;
  for (int run = 0; run < 2; run++)
    {
      gint64 t0 = g_get_monotonic_time ();
      if (!rg_export (&spec, ours, NULL, NULL, NULL, &error))
        {
          g_printerr ("bench-export: %s\n", error->message);
          return 1;
        }
      t_ours = MIN (t_ours, (g_get_monotonic_time () - t0) / 1e6);
      t0 = g_get_monotonic_time ();
      run_ffmpeg (cmd);
      t_peer = MIN (t_peer, (g_get_monotonic_time () - t0) / 1e6);
    }
  g_autoptr (RgMediaInfo) info = rg_probe (ours, &error);
  gint64 frames = info != NULL && info->n_video > 0 ? info->video[0].frame_count : -1;

  printf ("bench-export: %g s of 1920x1080@30 H.264+AAC -> MP4 (x264 veryfast crf 18), "
          "%d threads, best of 2\n",
          seconds, threads);
  printf ("  reelgen export %6.2f s (%5.1f fps, %" G_GINT64_FORMAT " frames)\n", t_ours,
          frames / t_ours, frames);
  printf ("  ffmpeg         %6.2f s (%5.1f fps)\n", t_peer, frames / t_peer);
  printf ("  ratio %.2f (target >= 0.80)\n", t_peer / t_ours);

  g_unlink (src);
  g_unlink (ours);
  g_unlink (peer);
  g_rmdir (dir);
  return 0;
}
