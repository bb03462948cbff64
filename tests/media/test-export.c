/* test-export.c — render a timeline, decode the result, check what a viewer
 * would see and hear: frame count, duration, which clip shows when (top
 * track wins, black in gaps), and picture/sound sync using a flash + beep
 * source. Cancel and failure leave no file. */
#include <glib/gstdio.h>
#include <math.h>

#include "core/rg-error.h"
#include "media-test-util.h"
#include "media/rg-audio-reader.h"
#include "media/rg-export.h"
#include "media/rg-probe.h"
#include "media/rg-video-reader.h"

#define SEC(x) ((RgTime)((x)*RG_TIME_HZ))

static char *dir;
static char *red, *green, *flash, *noise;

/* Timeline (4 s, 128×96, 25 fps, 48 kHz):
 *   V1 (top)  green [1.0, 2.0)
 *   V2        red [0, 2.5) · flash.mp4 from 0.5 s at [2.5, 3.5) — its white
 *             frame (source 1.0 s) lands at 3.0 s
 *   gap       [3.5, 4.0) black
 *   A1        flash.mp4 from 0.5 s at [2.5, 3.5) — its beep lands at 3.0 s
 *   A2        loud noise over everything, muted */
static RgExportClip v1[1], v2[2], a1[1], a2[1];
static RgExportTrack vtracks[2], atracks[2];

static RgExportSpec
timeline (void)
{
  v1[0] = (RgExportClip){ .source = green, .start = SEC (1), .duration = SEC (1) };
  v2[0] = (RgExportClip){ .source = red, .start = 0, .duration = SEC (2.5) };
  v2[1] = (RgExportClip){
    .source = flash, .source_in = SEC (0.5), .start = SEC (2.5), .duration = SEC (1)
  };
  a1[0] = v2[1];
  a2[0] = (RgExportClip){ .source = noise, .start = 0, .duration = SEC (4) };
  vtracks[0] = (RgExportTrack){ .clips = v1, .n_clips = 1 };
  vtracks[1] = (RgExportTrack){ .clips = v2, .n_clips = 2 };
  atracks[0] = (RgExportTrack){ .clips = a1, .n_clips = 1 };
  atracks[1] = (RgExportTrack){ .clips = a2, .n_clips = 1, .muted = TRUE };
  return (RgExportSpec){ .width = 128,
                         .height = 96,
                         .fps = { 25, 1 },
                         .sample_rate = 48000,
                         .duration = SEC (4),
                         .video_tracks = vtracks,
                         .n_video_tracks = 2,
                         .audio_tracks = atracks,
                         .n_audio_tracks = 2,
                         .speed = RG_ENCODE_FASTEST };
}

typedef struct
{
  int calls;
  double last;
  double cancel_at;
  GCancellable *cancellable;
} Progress;

static void
on_progress (double fraction, double eta, gpointer user_data)
{
  Progress *p = user_data;
  g_assert_cmpfloat (fraction, >=, p->last);
  g_assert_cmpfloat (fraction, <=, 1.0);
  p->last = fraction;
  p->calls++;
  if (p->cancellable != NULL && fraction >= p->cancel_at)
    g_cancellable_cancel (p->cancellable);
}

static void
centre_rgb (const RgVideoFrame *f, int rgb[3])
{
  const guint8 *p = f->data + ((gsize)(f->height / 2) * f->width + f->width / 2) * 4;
  for (int c = 0; c < 3; c++)
    rgb[c] = p[c];
}

static void
assert_colour_at (RgVideoReader *r, RgTime t, int red_, int green_, int blue_, int tol)
{
  g_autoptr (GError) error = NULL;
  RgVideoFrame f;
  g_assert_true (rg_video_reader_frame_at (r, t, &f, &error));
  g_assert_no_error (error);
  int rgb[3];
  centre_rgb (&f, rgb);
  g_test_message ("t=%.2f s: %d %d %d", rg_time_to_seconds (t), rgb[0], rgb[1], rgb[2]);
  g_assert_cmpint (ABS (rgb[0] - red_), <=, tol);
  g_assert_cmpint (ABS (rgb[1] - green_), <=, tol);
  g_assert_cmpint (ABS (rgb[2] - blue_), <=, tol);
}

static void
test_mp4_round_trip (void)
{
  g_autofree char *out = g_build_filename (dir, "timeline.mp4", NULL);
  RgExportSpec spec = timeline ();
  Progress p = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_export (&spec, out, on_progress, &p, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p.calls, ==, 100);
  g_assert_cmpfloat (p.last, ==, 1.0);

  g_autoptr (RgMediaInfo) info = rg_probe (out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->video[0].codec, ==, "h264");
  g_assert_cmpstr (info->audio[0].codec, ==, "aac");
  g_assert_cmpint (info->video[0].frame_count, ==, 100);
  g_assert_cmpint (info->video[0].duration, ==, SEC (4));
  g_assert_cmpint (ABS (info->audio[0].duration - SEC (4)), <=, SEC (0.001));

  g_autoptr (RgVideoReader) r = rg_video_reader_open (out, NULL, &error);
  g_assert_no_error (error);
  assert_colour_at (r, SEC (0.5), 255, 0, 0, 12);      /* red */
  assert_colour_at (r, SEC (1.5), 0, 255, 0, 12);      /* green: the top track wins */
  assert_colour_at (r, SEC (2.2), 255, 0, 0, 12);      /* red again */
  assert_colour_at (r, SEC (2.9), 0, 0, 0, 12);        /* flash clip, dark frame */
  assert_colour_at (r, SEC (3.01), 255, 255, 255, 12); /* its white frame */
  assert_colour_at (r, SEC (3.7), 0, 0, 0, 12);        /* the gap */

  /* Sync: the first bright frame and the first loud sample. */
  g_autoptr (RgVideoReader) seq = rg_video_reader_open (out, NULL, &error);
  RgVideoFrame f;
  RgTime flash_t = -1;
  while (flash_t < 0 && rg_video_reader_next (seq, &f, &error))
    {
      int rgb[3];
      centre_rgb (&f, rgb);
      if (rgb[0] > 200 && rgb[1] > 200 && rgb[2] > 200)
        flash_t = f.pts;
    }
  g_assert_no_error (error);
  gsize n = 0;
  g_autofree float *pcm = rg_audio_decode_file (out, 48000, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ABS ((gssize)n - 4 * 48000), <=, 1);
  gssize beep = -1;
  for (gsize i = 0; i < n && beep < 0; i++)
    if (fabsf (pcm[2 * i]) > 0.1f)
      beep = (gssize)i;
  g_assert_cmpint (beep, >=, 0);
  RgTime beep_t = rg_time_from_samples (beep, 48000);
  g_test_message ("flash at %.4f s, beep at %.4f s", rg_time_to_seconds (flash_t),
                  rg_time_to_seconds (beep_t));
  g_assert_cmpint (flash_t, ==, SEC (3));
  g_assert_cmpint (ABS (beep_t - flash_t), <=, SEC (1.0 / 25)); /* ≤ 1 frame */
  g_assert_cmpint (ABS (beep_t - SEC (3)), <=, SEC (0.002));    /* in fact ≈ exact */
  /* the muted noise track is not heard before the beep (AAC smears a
   * transient up to one 1024-sample block early: stop two blocks short) */
  for (gsize i = 0; i + 2048 < (gsize)beep; i++)
    g_assert_cmpfloat (fabsf (pcm[2 * i]), <, 0.01f);
}

static void
test_lossless_and_webm (void)
{
  g_autoptr (GError) error = NULL;
  RgExportSpec spec = timeline ();
  spec.duration = SEC (1.2); /* red, then green from 1.0 s */
  g_autofree char *mkv = g_build_filename (dir, "timeline.mkv", NULL);
  g_assert_true (rg_export (&spec, mkv, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (RgMediaInfo) info = rg_probe (mkv, &error);
  g_assert_cmpstr (info->video[0].codec, ==, "ffv1");
  g_assert_cmpstr (info->audio[0].codec, ==, "flac");
  g_assert_cmpint (info->video[0].frame_count, ==, 30);
  g_autoptr (RgVideoReader) r = rg_video_reader_open (mkv, NULL, &error);
  /* lossless: exactly what the decoded sources gave */
  assert_colour_at (r, SEC (1.1), 0, 255, 0, 3);

  g_autofree char *webm = g_build_filename (dir, "timeline.webm", NULL);
  g_assert_true (rg_export (&spec, webm, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (RgMediaInfo) winfo = rg_probe (webm, &error);
  g_assert_cmpstr (winfo->video[0].codec, ==, "vp9");
  g_assert_cmpstr (winfo->audio[0].codec, ==, "opus");
  g_assert_cmpint (winfo->video[0].frame_count, ==, 30);
}

static void
test_letterbox (void)
{
  /* a 128×96 (4:3) source on a 192×96 canvas: pillar-boxed */
  g_autoptr (GError) error = NULL;
  RgExportSpec spec = timeline ();
  spec.width = 192;
  spec.duration = SEC (0.2);
  spec.n_audio_tracks = 0;
  spec.sample_rate = 0;
  g_autofree char *out = g_build_filename (dir, "wide.mkv", NULL);
  g_assert_true (rg_export (&spec, out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (RgVideoReader) r = rg_video_reader_open (out, NULL, &error);
  RgVideoFrame f;
  g_assert_true (rg_video_reader_frame_at (r, 0, &f, &error));
  g_assert_cmpint (f.width, ==, 192);
  const guint8 *row = f.data + (gsize)48 * 192 * 4;
  g_assert_cmpint (row[4 * 10], <, 8);   /* left bar black */
  g_assert_cmpint (row[4 * 96], >, 240); /* picture red */
  g_assert_cmpint (row[4 * 185], <, 8);  /* right bar black */
}

/* The first sample louder than 0.1 in the left channel, or -1. */
static gssize
first_loud (const float *pcm, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (fabsf (pcm[2 * i]) > 0.1f)
      return (gssize)i;
  return -1;
}

static float
peak (const float *pcm, gsize n)
{
  float m = 0.0f;
  for (gsize i = 0; i < 2 * n; i++)
    m = MAX (m, fabsf (pcm[i]));
  return m;
}

/* A clip with sound dropped on a video track is heard where it plays: the
 * flash clip from 0.52 s placed at 0.2 s puts its beep and white frame
 * (source 1.0 s) at 0.68 s (frame 17), with no audio track at all. A muted
 * track is silent but still seen; a hidden one is heard but not seen; a
 * silent source adds nothing. */
static void
test_video_clip_sound (void)
{
  g_autoptr (GError) error = NULL;
  RgExportClip clips[2] = {
    { .source = flash, .source_in = SEC (0.52), .start = SEC (0.2), .duration = SEC (1) },
    { .source = red, .start = SEC (1.2), .duration = SEC (0.3) }, /* no audio stream */
  };
  RgExportTrack track = { .clips = clips, .n_clips = 2, .with_sound = TRUE };
  RgExportSpec spec = { .width = 128,
                        .height = 96,
                        .fps = { 25, 1 },
                        .sample_rate = 48000,
                        .video_tracks = &track,
                        .n_video_tracks = 1,
                        .speed = RG_ENCODE_FASTEST };
  g_autofree char *out = g_build_filename (dir, "clip-sound.mkv", NULL);
  g_assert_true (rg_export (&spec, out, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  gsize n = 0;
  g_autofree float *pcm = rg_audio_decode_file (out, 48000, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 72000); /* 1.5 s */
  gssize beep = first_loud (pcm, n);
  g_test_message ("beep at sample %" G_GSSIZE_FORMAT, beep);
  /* lossless FLAC: the beep starts within a sample or two of 0.68 s */
  g_assert_cmpint (ABS (beep - 32640), <=, 2);
  /* it lasts its 80 ms and nothing follows: the clip ends at 1.2 s and the
   * silent red clip after it adds nothing */
  g_assert_cmpfloat (peak (pcm + 2 * 32640, 3800), >, 0.5f);
  g_assert_cmpfloat (peak (pcm + 2 * 37600, n - 37600), <, 0.01f);
  g_autoptr (RgVideoReader) r = rg_video_reader_open (out, NULL, &error);
  assert_colour_at (r, SEC (0.68), 255, 255, 255, 3);
  assert_colour_at (r, SEC (1.3), 255, 0, 0, 12);

  /* muted: silent, still seen */
  track.muted = TRUE;
  g_autofree char *muted = g_build_filename (dir, "clip-muted.mkv", NULL);
  g_assert_true (rg_export (&spec, muted, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autofree float *quiet = rg_audio_decode_file (muted, 48000, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 72000);
  g_assert_cmpfloat (peak (quiet, n), <, 1e-4f);
  g_autoptr (RgVideoReader) rm = rg_video_reader_open (muted, NULL, &error);
  assert_colour_at (rm, SEC (0.68), 255, 255, 255, 3);

  /* hidden: heard, not seen */
  track.muted = FALSE;
  track.hidden = TRUE;
  g_autofree char *hidden = g_build_filename (dir, "clip-hidden.mkv", NULL);
  g_assert_true (rg_export (&spec, hidden, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autofree float *heard = rg_audio_decode_file (hidden, 48000, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ABS (first_loud (heard, n) - 32640), <=, 2);
  g_autoptr (RgVideoReader) rh = rg_video_reader_open (hidden, NULL, &error);
  assert_colour_at (rh, SEC (0.68), 0, 0, 0, 3);

  /* without with_sound a video track stays picture-only */
  track.hidden = FALSE;
  track.with_sound = FALSE;
  g_autofree char *picture = g_build_filename (dir, "clip-picture.mkv", NULL);
  g_assert_true (rg_export (&spec, picture, NULL, NULL, NULL, &error));
  g_autofree float *none = rg_audio_decode_file (picture, 48000, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (peak (none, n), <, 1e-4f);
}

/* FFmpeg and its encoders (x264's banner and statistics, libvpx, the AAC
 * and Opus encoders) talk on stderr by default; an export through the
 * engine says nothing there unless debug messages are asked for. */
static void
test_quiet (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      RgExportSpec spec = timeline ();
      spec.duration = SEC (1);
      const char *names[] = { "quiet.mp4", "quiet.webm", "quiet.mkv" };
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        {
          g_autofree char *out = g_build_filename (dir, names[i], NULL);
          g_assert_true (rg_export (&spec, out, NULL, NULL, NULL, &error));
          g_assert_no_error (error);
        }
      return;
    }
  if (g_getenv ("G_MESSAGES_DEBUG") != NULL)
    {
      g_test_skip ("G_MESSAGES_DEBUG is set: FFmpeg's log is wanted on stderr");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("");
}

static void
test_cancel_and_failure_leave_nothing (void)
{
  g_autofree char *sub = g_build_filename (dir, "out", NULL);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  g_autofree char *out = g_build_filename (sub, "cancelled.mp4", NULL);
  g_autoptr (GError) error = NULL;
  RgExportSpec spec = timeline ();

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Progress p = { .cancel_at = 0.5, .cancellable = cancellable };
  g_assert_false (rg_export (&spec, out, on_progress, &p, cancellable, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CANCELLED);
  g_assert_cmpint (p.calls, ==, 50);
  g_assert_cmpuint (media_test_dir_count (sub), ==, 0);
  g_clear_error (&error);

  /* a missing source, reached half-way through */
  v2[1].source = "/nonexistent/flash.mp4";
  spec.video_tracks = vtracks;
  g_assert_false (rg_export (&spec, out, NULL, NULL, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/flash.mp4"));
  g_assert_cmpuint (media_test_dir_count (sub), ==, 0);
  g_clear_error (&error);

  /* overlapping clips on one track are refused before anything is written */
  spec = timeline ();
  v2[1].start = SEC (2);
  g_assert_false (rg_export (&spec, out, NULL, NULL, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "overlap"));
  g_assert_cmpuint (media_test_dir_count (sub), ==, 0);
  g_rmdir (sub);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = media_test_dir_new ();
  red = g_build_filename (dir, "red.mp4", NULL);
  green = g_build_filename (dir, "green.mp4", NULL);
  flash = g_build_filename (dir, "flash.mp4", NULL);
  noise = g_build_filename (dir, "noise.wav", NULL);
  media_test_ffmpeg (red, "-f", "lavfi", "-i", "color=c=red:s=128x96:r=25:d=3", "-c:v", "libx264",
                     "-preset", "ultrafast", NULL);
  media_test_ffmpeg (green, "-f", "lavfi", "-i", "color=c=0x00FF00:s=128x96:r=25:d=2", "-c:v",
                     "libx264", "-preset", "ultrafast", NULL);
  /* black with one white frame at 1.0 s (frame 25), and a 1 kHz beep
   * starting at exactly 1.0 s */
  media_test_ffmpeg (
      flash, "-f", "lavfi", "-i", "nullsrc=s=128x96:r=25:d=2,format=gray,geq=lum='255*eq(N\\,25)'",
      "-f", "lavfi", "-i", "aevalsrc=between(t\\,1\\,1.08)*0.8*sin(2*PI*1000*(t-1)):s=48000:d=2",
      "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", NULL);
  media_test_ffmpeg (noise, "-f", "lavfi", "-i", "anoisesrc=a=0.9:r=48000:d=4", NULL);
  g_test_add_func ("/media/export/mp4-round-trip", test_mp4_round_trip);
  g_test_add_func ("/media/export/lossless-and-webm", test_lossless_and_webm);
  g_test_add_func ("/media/export/letterbox", test_letterbox);
  g_test_add_func ("/media/export/video-clip-sound", test_video_clip_sound);
  g_test_add_func ("/media/export/quiet", test_quiet);
  g_test_add_func ("/media/export/cancel-and-failure-leave-nothing",
                   test_cancel_and_failure_leave_nothing);
  int ret = g_test_run ();
  media_test_dir_free (dir);
  g_free (red);
  g_free (green);
  g_free (flash);
  g_free (noise);
  return ret;
}
