/* test-probe.c — rg_probe on the inputs issue 4 lists, each made by ffmpeg's
 * generators: every one is described correctly or refused with a clear error. */
#include <glib/gstdio.h>

#include "core/rg-error.h"
#include "media-test-util.h"
#include "media/rg-probe.h"

static char *dir;

static char *
input (const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static RgMediaInfo *
probe_ok (const char *name)
{
  g_autofree char *path = input (name);
  g_autoptr (GError) error = NULL;
  RgMediaInfo *info = rg_probe (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  return info;
}

static void
test_constant_rate (void)
{
  g_autoptr (RgMediaInfo) info = probe_ok ("cfr.mp4");
  g_assert_cmpuint (info->n_video, ==, 1);
  g_assert_cmpuint (info->n_audio, ==, 1);
  g_assert_nonnull (strstr (info->container, "mp4"));
  const RgVideoStreamInfo *v = &info->video[info->best_video];
  g_assert_cmpstr (v->codec, ==, "h264");
  g_assert_cmpint (v->width, ==, 320);
  g_assert_cmpint (v->height, ==, 240);
  g_assert_cmpstr (v->pixel_format, ==, "yuv420p");
  g_assert_cmpint (v->bit_depth, ==, 8);
  g_assert_cmpint (v->nominal_fps.num * 1, ==, 25 * v->nominal_fps.den);
  g_assert_cmpint (v->average_fps.num * 1, ==, 25 * v->average_fps.den);
  g_assert_false (v->variable_fps);
  g_assert_false (v->still_image);
  g_assert_cmpint (v->rotation, ==, 0);
  g_assert_cmpint (v->frame_count, ==, 50);
  g_assert_cmpint (v->duration, ==, 2 * RG_TIME_HZ);
  const RgAudioStreamInfo *a = &info->audio[info->best_audio];
  g_assert_cmpstr (a->codec, ==, "aac");
  g_assert_cmpint (a->sample_rate, ==, 44100);
  g_assert_cmpint (a->channels, ==, 2);
  g_assert_cmpstr (a->channel_layout, ==, "stereo");
  g_assert_cmpint (ABS (info->duration - 2 * RG_TIME_HZ), <, RG_TIME_HZ / 20);
}

static void
test_variable_rate (void)
{
  g_autoptr (RgMediaInfo) info = probe_ok ("vfr.mp4");
  const RgVideoStreamInfo *v = &info->video[0];
  g_assert_true (v->variable_fps);
  /* frames 0–9 of a 30 fps source, then every third one: 12, 15 … 57 */
  g_assert_cmpint (v->frame_count, ==, 10 + 16);
  g_assert_cmpfloat ((double)v->average_fps.num / v->average_fps.den, <, 20.0);

  g_autoptr (RgMediaInfo) cfr = probe_ok ("ntsc.mkv");
  g_assert_false (cfr->video[0].variable_fps); /* 33/34 ms steps are rounding */
  g_assert_cmpint (cfr->video[0].nominal_fps.num, ==, 30000);
  g_assert_cmpint (cfr->video[0].nominal_fps.den, ==, 1001);
  g_assert_cmpint (cfr->video[0].frame_count, ==, 30); /* counted: mkv has no count */
}

static void
test_odd_size_and_10_bit (void)
{
  g_autoptr (RgMediaInfo) odd = probe_ok ("odd.mkv");
  g_assert_cmpint (odd->video[0].width, ==, 317);
  g_assert_cmpint (odd->video[0].height, ==, 241);

  g_autoptr (RgMediaInfo) deep = probe_ok ("10bit.mp4");
  g_assert_cmpstr (deep->video[0].pixel_format, ==, "yuv420p10le");
  g_assert_cmpint (deep->video[0].bit_depth, ==, 10);
}

static void
test_rotated (void)
{
  g_autoptr (RgMediaInfo) info = probe_ok ("rotated.mp4");
  const RgVideoStreamInfo *v = &info->video[0];
  g_assert_true (v->rotation == 90 || v->rotation == 270);
  g_assert_cmpint (v->display_width, ==, 240);
  g_assert_cmpint (v->display_height, ==, 320);
  g_assert_cmpint (v->width, ==, 320);
}

static void
test_audio_only (void)
{
  g_autoptr (RgMediaInfo) surround = probe_ok ("surround.m4a");
  g_assert_cmpuint (surround->n_video, ==, 0);
  g_assert_cmpint (surround->best_video, ==, -1);
  g_assert_cmpint (surround->audio[0].channels, ==, 6);
  g_assert_cmpstr (surround->audio[0].channel_layout, ==, "5.1");
  g_assert_cmpint (surround->audio[0].sample_rate, ==, 48000);

  g_autoptr (RgMediaInfo) mono = probe_ok ("mono8k.wav");
  g_assert_cmpuint (mono->n_video, ==, 0);
  g_assert_cmpstr (mono->audio[0].codec, ==, "pcm_s16le");
  g_assert_cmpint (mono->audio[0].sample_rate, ==, 8000);
  g_assert_cmpint (mono->audio[0].channels, ==, 1);
  g_assert_cmpstr (mono->audio[0].channel_layout, ==, "mono");
  g_assert_cmpint (mono->duration, ==, RG_TIME_HZ * 3 / 2);
}

static void
test_still_image (void)
{
  g_autoptr (RgMediaInfo) info = probe_ok ("still.png");
  g_assert_cmpuint (info->n_video, ==, 1);
  g_assert_true (info->video[0].still_image);
  g_assert_cmpstr (info->video[0].codec, ==, "png");
  g_assert_cmpint (info->video[0].frame_count, ==, 1);
  g_assert_cmpint (info->video[0].width, ==, 160);
}

static void
expect_refusal (const char *name, int code, const char *words)
{
  g_autofree char *path = input (name);
  g_autoptr (GError) error = NULL;
  g_assert_null (rg_probe (path, &error));
  g_assert_error (error, RG_ERROR, code);
  g_test_message ("%s: %s", name, error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_refusals (void)
{
  expect_refusal ("notes.txt", RG_ERROR_CORRUPT, "not a media file");
  expect_refusal ("random.bin", RG_ERROR_CORRUPT, "not a media file");
  expect_refusal ("empty.mp4", RG_ERROR_CORRUPT, "empty");
  expect_refusal ("missing.mp4", RG_ERROR_NOT_FOUND, "No such file");
  /* moov box at the end, cut off */
  expect_refusal ("cut.mp4", RG_ERROR_CORRUPT, "damaged or truncated");
  /* moov box first (faststart), media data cut off */
  expect_refusal ("cut-faststart.mp4", RG_ERROR_CORRUPT, "truncated");
  /* a container holding only subtitles */
  expect_refusal ("subtitles.mkv", RG_ERROR_UNSUPPORTED, "without an audio or video stream");
}

/* A Matroska file cut in half (a recording or download that stopped) plays
 * up to the cut, as in any player: it is accepted, flagged, and its length
 * is what is there, not the 4 s its header promises. No complete input is
 * flagged. */
static void
test_truncated_but_playable (void)
{
  g_autoptr (RgMediaInfo) cut = probe_ok ("cut.mkv");
  g_test_message ("cut.mkv: %.3f s, video %.3f s, %" G_GINT64_FORMAT " frames, audio %.3f s",
                  rg_time_to_seconds (cut->duration), rg_time_to_seconds (cut->video[0].duration),
                  cut->video[0].frame_count, rg_time_to_seconds (cut->audio[0].duration));
  g_assert_true (cut->truncated);
  g_assert_cmpint (cut->duration, >, RG_TIME_HZ * 3 / 2);
  g_assert_cmpint (cut->duration, <, RG_TIME_HZ * 5 / 2);
  g_assert_cmpint (cut->video[0].frame_count, >, 30);
  g_assert_cmpint (cut->video[0].frame_count, <, 70);
  g_assert_cmpint (cut->video[0].duration, <=, cut->duration);
  g_assert_cmpint (cut->audio[0].duration, >, 0);
  g_assert_cmpint (cut->audio[0].duration, <=, cut->duration);

  const char *whole[]
      = { "whole.mkv",   "cfr.mp4",      "vfr.mp4",    "ntsc.mkv",  "odd.mkv",      "10bit.mp4",
          "rotated.mp4", "surround.m4a", "mono8k.wav", "still.png", "faststart.mp4" };
  for (guint i = 0; i < G_N_ELEMENTS (whole); i++)
    {
      g_autoptr (RgMediaInfo) info = probe_ok (whole[i]);
      g_test_message ("%s: %.3f s", whole[i], rg_time_to_seconds (info->duration));
      g_assert_false (info->truncated);
    }
  g_autoptr (RgMediaInfo) full = probe_ok ("whole.mkv");
  g_assert_cmpint (ABS (full->duration - 4 * RG_TIME_HZ), <, RG_TIME_HZ / 10);
}

static void
truncate_copy (const char *from, const char *to, double fraction)
{
  g_autofree char *src = input (from), *dst = input (to);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (dst, data, (gssize)(len * fraction), NULL));
}

static void
make_inputs (void)
{
  g_autofree char *cfr
      = input ("cfr.mp4"),
      *vfr = input ("vfr.mp4"), *ntsc = input ("ntsc.mkv"), *odd = input ("odd.mkv"),
      *deep = input ("10bit.mp4"), *rot = input ("rotated.mp4"), *surround = input ("surround.m4a"),
      *mono = input ("mono8k.wav"), *still = input ("still.png"), *fast = input ("faststart.mp4"),
      *srt = input ("subs.srt"), *subs = input ("subtitles.mkv"), *txt = input ("notes.txt"),
      *rnd = input ("random.bin"), *empty = input ("empty.mp4"), *whole = input ("whole.mkv");

  media_test_ffmpeg (cfr, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-f", "lavfi", "-i",
                     "sine=f=440:r=44100:d=2", "-ac", "2", "-c:v", "libx264", "-preset",
                     "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", NULL);
  media_test_ffmpeg (vfr, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=30:d=2", "-vf",
                     "select='lt(n\\,10)+not(mod(n\\,3))*gte(n\\,10)'", "-fps_mode", "vfr", "-c:v",
                     "libx264", "-preset", "ultrafast", NULL);
  media_test_ffmpeg (ntsc, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=30000/1001", "-frames:v",
                     "30", "-c:v", "libx264", "-preset", "ultrafast", NULL);
  media_test_ffmpeg (odd, "-f", "lavfi", "-i", "testsrc=s=317x241:r=25:d=0.4", "-c:v", "ffv1",
                     "-pix_fmt", "yuv420p", NULL);
  media_test_ffmpeg (deep, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=0.4", "-c:v", "libx264",
                     "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", NULL);
  media_test_ffmpeg (rot, "-i", cfr, "-c", "copy", "-metadata:s:v", "rotate=90", NULL);
  media_test_ffmpeg (surround, "-f", "lavfi", "-i",
                     "aevalsrc=sin(2*PI*440*t)|0|0|0|0|0:c=5.1:s=48000:d=1", "-c:a", "aac", NULL);
  media_test_ffmpeg (mono, "-f", "lavfi", "-i", "sine=f=440:r=8000:d=1.5", "-c:a", "pcm_s16le",
                     NULL);
  media_test_ffmpeg (still, "-f", "lavfi", "-i", "testsrc2=s=160x120", "-frames:v", "1", NULL);
  media_test_ffmpeg (fast, "-i", cfr, "-c", "copy", "-movflags", "+faststart", NULL);
  g_assert_true (g_file_set_contents (srt, "1\n00:00:00,000 --> 00:00:01,000\nhello\n", -1, NULL));
  media_test_ffmpeg (subs, "-i", srt, NULL);

  g_assert_true (g_file_set_contents (txt, "Shot list\n1. wide\n2. close-up\n", -1, NULL));
  guint8 noise[4096];
  GRand *rand = g_rand_new_with_seed (7);
  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8)g_rand_int (rand);
  g_rand_free (rand);
  g_assert_true (g_file_set_contents (rnd, (const char *)noise, sizeof noise, NULL));
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  truncate_copy ("cfr.mp4", "cut.mp4", 0.5);
  truncate_copy ("faststart.mp4", "cut-faststart.mp4", 0.5);
  media_test_ffmpeg (whole, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=4", "-f", "lavfi", "-i",
                     "sine=f=440:r=48000:d=4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a",
                     "aac", NULL);
  truncate_copy ("whole.mkv", "cut.mkv", 0.5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = media_test_dir_new ();
  make_inputs ();
  g_test_add_func ("/media/probe/constant-rate", test_constant_rate);
  g_test_add_func ("/media/probe/variable-rate", test_variable_rate);
  g_test_add_func ("/media/probe/odd-size-and-10-bit", test_odd_size_and_10_bit);
  g_test_add_func ("/media/probe/rotated", test_rotated);
  g_test_add_func ("/media/probe/audio-only", test_audio_only);
  g_test_add_func ("/media/probe/still-image", test_still_image);
  g_test_add_func ("/media/probe/refusals", test_refusals);
  g_test_add_func ("/media/probe/truncated-but-playable", test_truncated_but_playable);
  int ret = g_test_run ();
  media_test_dir_free (dir);
  return ret;
}
