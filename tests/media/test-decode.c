/* test-decode.c — frame-accurate video decode and audio decode.
 *
 * The video inputs carry their frame number in their colour
 * (media_test_counter_source), so every decoded frame says which one it
 * is. Other checks compare against the ffmpeg CLI's own
 * decode of the same file. */
#include <math.h>

#include "core/rg-error.h"
#include "media-test-util.h"
#include "media/rg-audio-reader.h"
#include "media/rg-video-reader.h"

static char *dir;

static char *
input (const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static int
frame_number (const RgVideoFrame *f)
{
  g_assert_cmpint (f->format, ==, RG_PIXEL_RGBA);
  return media_test_frame_number (f->data, f->width, f->height);
}

static RgVideoReader *
open_reader (const char *name, const RgVideoReaderOptions *o)
{
  g_autofree char *path = input (name);
  g_autoptr (GError) error = NULL;
  RgVideoReader *r = rg_video_reader_open (path, o, &error);
  g_assert_no_error (error);
  return r;
}

static int
number_at (RgVideoReader *r, RgTime t)
{
  g_autoptr (GError) error = NULL;
  RgVideoFrame f;
  g_assert_true (rg_video_reader_frame_at (r, t, &f, &error));
  g_assert_no_error (error);
  return frame_number (&f);
}

/* The same 25 fps content in MP4 (indexed), MPEG-TS (seeks by searching
 * timestamps; its first keyframe's decode time precedes its pts) and a raw
 * H.264 stream (no timestamps, no seeking: decoded from the start). */
static void
test_frame_at_constant_rate (gconstpointer name)
{
  g_autoptr (RgVideoReader) r = open_reader (name, NULL);
  const RgTime frame = RG_TIME_HZ / 25;
  /* Jump around: backwards, across keyframes (every 12 frames), forwards. */
  int order[] = { 37, 0, 49, 12, 11, 13, 25, 24, 2, 3, 4, 40, 39, 1 };
  for (gsize i = 0; i < G_N_ELEMENTS (order); i++)
    {
      int n = order[i];
      g_assert_cmpint (number_at (r, n * frame), ==, n);             /* first tick */
      g_assert_cmpint (number_at (r, n * frame + frame / 2), ==, n); /* middle */
      g_assert_cmpint (number_at (r, (n + 1) * frame - 1), ==, n);   /* last tick */
    }
  g_autoptr (GError) error = NULL;
  RgVideoFrame f;
  g_assert_true (rg_video_reader_frame_at (r, 30 * frame + 5, &f, &error));
  g_assert_cmpint (f.pts, ==, 30 * frame);
  g_assert_cmpint (f.duration, ==, frame);
  g_assert_cmpint (f.width, ==, 64);
  g_assert_cmpint (f.height, ==, 48);
  /* before the start: the first frame; past the end: the last one holds */
  g_assert_cmpint (number_at (r, -RG_TIME_HZ), ==, 0);
  g_assert_cmpint (number_at (r, 10 * RG_TIME_HZ), ==, 49);
}

static void
test_frame_at_variable_rate (void)
{
  /* Source frames 0–9 of 30 fps, then only every third: 12, 15 … 57. */
  g_autoptr (RgVideoReader) r = open_reader ("counter-vfr.mp4", NULL);
  for (int step = 0; step < 60; step++)
    {
      int k = (step * 23) % 60; /* visit 60 instants in a scrambled order */
      RgTime t = (RgTime)k * RG_TIME_HZ / 30 + RG_TIME_HZ / 100;
      int want = k < 10 ? k : k < 12 ? 9 : k - k % 3;
      g_assert_cmpint (number_at (r, t), ==, want);
    }
}

static void
test_sequential_next (void)
{
  g_autoptr (RgVideoReader) r = open_reader ("counter.mp4", NULL);
  g_autoptr (GError) error = NULL;
  RgVideoFrame f;
  int n = 0;
  while (rg_video_reader_next (r, &f, &error))
    {
      g_assert_cmpint (frame_number (&f), ==, n);
      g_assert_cmpint (f.pts, ==, (RgTime)n * RG_TIME_HZ / 25);
      n++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 50);

  /* next() continues from a frame_at() */
  g_assert_true (rg_video_reader_frame_at (r, RG_TIME_HZ, &f, &error));
  g_assert_true (rg_video_reader_next (r, &f, &error));
  g_assert_cmpint (frame_number (&f), ==, 26);
}

/* Mean absolute difference between our RGBA frame and ffmpeg's decode of it. */
static double
diff_vs_ffmpeg (const char *name, const RgVideoFrame *f, int index)
{
  g_autofree char *path = input (name), *raw = input ("ref.rgba");
  g_autofree char *select = g_strdup_printf ("select=eq(n\\,%d)", index);
  media_test_ffmpeg (raw, "-i", path, "-vf", select, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt",
                     "rgba", NULL);
  g_autofree guint8 *ref = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (raw, (char **)&ref, &len, NULL));
  g_assert_cmpuint (len, ==, f->size);
  double sum = 0;
  for (gsize i = 0; i < len; i++)
    sum += ABS ((int)ref[i] - (int)f->data[i]);
  return sum / len;
}

static void
test_odd_10bit_rotated_match_ffmpeg (void)
{
  g_autoptr (GError) error = NULL;
  RgVideoFrame f;
  const char *names[] = { "odd.mkv", "10bit.mp4", "rotated.mp4" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (RgVideoReader) r = open_reader (names[i], NULL);
      g_assert_true (rg_video_reader_frame_at (r, RG_TIME_HZ / 5, &f, &error)); /* frame 5 */
      g_assert_no_error (error);
      double d = diff_vs_ffmpeg (names[i], &f, 5);
      g_test_message ("%s: %d×%d, mean |Δ| vs ffmpeg %.3f", names[i], f.width, f.height, d);
      g_assert_cmpfloat (d, <, 1.5);
    }
  g_autoptr (RgVideoReader) odd = open_reader ("odd.mkv", NULL);
  g_assert_true (rg_video_reader_frame_at (odd, 0, &f, &error));
  g_assert_cmpint (f.width, ==, 317);
  g_assert_cmpint (f.height, ==, 241);

  /* upright by default (ffmpeg's autorotate agreed above), as coded on request */
  g_autoptr (RgVideoReader) up = open_reader ("rotated.mp4", NULL);
  g_assert_true (rg_video_reader_frame_at (up, 0, &f, &error));
  g_assert_cmpint (f.width, ==, 240);
  g_assert_cmpint (f.height, ==, 320);
  g_assert_cmpint (rg_video_reader_get_rotation (up), !=, 0);
  RgVideoReaderOptions keep = { .keep_rotation = TRUE };
  g_autoptr (RgVideoReader) coded = open_reader ("rotated.mp4", &keep);
  g_assert_true (rg_video_reader_frame_at (coded, 0, &f, &error));
  g_assert_cmpint (f.width, ==, 320);
  g_assert_cmpint (f.height, ==, 240);
}

static void
test_formats_and_sizes (void)
{
  g_autoptr (GError) error = NULL;
  RgVideoFrame f;
  RgTime t = 20 * RG_TIME_HZ / 25;
  /* frame 20: R = 72, B = 24 */
  RgVideoReaderOptions rgb = { .width = 32, .format = RG_PIXEL_RGB24 };
  g_autoptr (RgVideoReader) a = open_reader ("counter.mp4", &rgb);
  g_assert_true (rg_video_reader_frame_at (a, t, &f, &error));
  g_assert_cmpint (f.width, ==, 32);
  g_assert_cmpint (f.height, ==, 24); /* aspect kept */
  g_assert_cmpuint (f.size, ==, 32 * 24 * 3);
  g_assert_cmpint (ABS (f.data[(12 * 32 + 16) * 3] - 72), <=, 6);

  RgVideoReaderOptions planar = { .format = RG_PIXEL_RGB_F32 };
  g_autoptr (RgVideoReader) b = open_reader ("counter.mp4", &planar);
  g_assert_true (rg_video_reader_frame_at (b, t, &f, &error));
  const float *pl = (const float *)f.data;
  gsize mid = 24 * 64 + 32, plane = 64 * 48;
  g_assert_cmpfloat (fabsf (pl[mid] - 72 / 255.f), <, 0.025f);             /* R */
  g_assert_cmpfloat (fabsf (pl[2 * plane + mid] - 24 / 255.f), <, 0.025f); /* B */

  RgVideoReaderOptions yuv = { .format = RG_PIXEL_YUV420P };
  g_autoptr (RgVideoReader) c = open_reader ("odd.mkv", &yuv);
  g_assert_true (rg_video_reader_frame_at (c, 0, &f, &error));
  g_assert_cmpuint (f.size, ==, 317 * 241 + 2 * 159 * 121);
}

static void
test_still_and_refusals (void)
{
  g_autoptr (GError) error = NULL;
  RgVideoFrame f;
  g_autoptr (RgVideoReader) still = open_reader ("still.png", NULL);
  g_assert_true (rg_video_reader_frame_at (still, 5 * RG_TIME_HZ, &f, &error));
  g_assert_cmpint (f.width, ==, 160);
  g_assert_true (rg_video_reader_frame_at (still, 0, &f, &error));
  g_assert_no_error (error);

  g_autofree char *wav = input ("mono8k.wav");
  g_assert_null (rg_video_reader_open (wav, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "no video stream"));
}

static void
test_damaged_packets (void)
{
  /* 300 random bytes overwritten in the middle of the media data (the index
   * at the end stays intact):
   * every request still returns a frame or a clean error, and a full
   * sequential pass ends. ASan/UBSan runs of this test catch bad reads. */
  g_autofree char *good = input ("counter.mp4"), *bad = input ("damaged.mp4");
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (good, (char **)&data, &len, NULL));
  GRand *rand = g_rand_new_with_seed (3);
  for (int i = 0; i < 300; i++)
    data[g_rand_int_range (rand, (gint32)(len / 4), (gint32)(len * 3 / 4))]
        = (guint8)g_rand_int (rand);
  g_rand_free (rand);
  g_assert_true (g_file_set_contents (bad, (const char *)data, (gssize)len, NULL));

  g_autoptr (GError) error = NULL;
  g_autoptr (RgVideoReader) r = rg_video_reader_open (bad, NULL, &error);
  g_assert_no_error (error);
  RgVideoFrame f;
  int answered = 0;
  for (int n = 49; n >= 0; n -= 3)
    {
      if (rg_video_reader_frame_at (r, (RgTime)n * RG_TIME_HZ / 25, &f, &error))
        answered++;
      else
        g_clear_error (&error);
    }
  g_assert_cmpint (answered, >, 0);
  int frames = 0;
  g_autoptr (RgVideoReader) seq = rg_video_reader_open (bad, NULL, &error);
  while (rg_video_reader_next (seq, &f, &error))
    frames++;
  g_clear_error (&error);
  g_assert_cmpint (frames, <=, 50);
}

static double
rms (const float *x, gsize n, int stride)
{
  double s = 0;
  for (gsize i = 0; i < n; i++)
    s += (double)x[i * stride] * x[i * stride];
  return sqrt (s / MAX (n, 1));
}

static void
test_audio_mono_8k_to_stereo_48k (void)
{
  g_autofree char *path = input ("mono8k.wav");
  g_autoptr (GError) error = NULL;
  gsize n = 0;
  g_autofree float *pcm = rg_audio_decode_file (path, 48000, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ABS ((gssize)n - 72000), <=, 2); /* 1.5 s */
  /* a 0.5-amplitude sine: RMS 0.354 on both channels */
  g_assert_cmpfloat (fabs (rms (pcm + 4800, 48000, 2) - 0.3536), <, 0.01);
  g_assert_cmpfloat (fabs (rms (pcm + 4801, 48000, 2) - 0.3536), <, 0.01);
}

static void
test_audio_surround_downmix (void)
{
  g_autoptr (GError) error = NULL;
  gsize n = 0;
  /* 1 kHz tone in front-left only, then in centre only */
  g_autofree char *fl = input ("front-left.wav"), *c = input ("centre.wav");
  g_autofree float *l = rg_audio_decode_file (fl, 48000, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 48000);
  g_assert_cmpfloat (rms (l, n, 2), >, 0.12);
  g_assert_cmpfloat (rms (l + 1, n, 2), <, 0.001); /* nothing leaks right */

  g_autofree float *m = rg_audio_decode_file (c, 48000, 2, &n, &error);
  g_assert_no_error (error);
  double left = rms (m, n, 2), right = rms (m + 1, n, 2);
  g_assert_cmpfloat (fabs (left - right), <, 0.001); /* centre: equal in both */
  g_assert_cmpfloat (fabs (left / rms (l, n, 2) - G_SQRT2 / 2), <, 0.01); /* at −3 dB */

  /* a loud AAC 5.1 file (unnormalised, L would peak at 1.7): stereo out,
   * exactly as long as the source, no sample beyond full scale */
  g_autofree char *aac = input ("surround.m4a");
  g_autofree float *s = rg_audio_decode_file (aac, 44100, 2, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 44100);
  for (gsize i = 0; i < 2 * n; i++)
    g_assert_cmpfloat (fabsf (s[i]), <=, 1.0f);
}

static void
test_audio_seek_is_sample_accurate (void)
{
  /* a ramp: sample k holds k / 48000 (exact in f32 PCM) */
  g_autofree char *path = input ("ramp.wav");
  g_autoptr (GError) error = NULL;
  g_autoptr (RgAudioReader) r = rg_audio_reader_open (path, 48000, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rg_audio_reader_get_length (r), ==, 96000);
  gint64 targets[] = { 70001, 12345, 0, 47999, 95990 };
  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_assert_true (rg_audio_reader_seek (r, rg_time_from_samples (targets[i], 48000), &error));
      float x[4];
      gssize got = rg_audio_reader_read (r, x, 4, &error);
      g_assert_cmpint (got, ==, 4);
      for (int k = 0; k < 4; k++)
        g_assert_cmpfloat (fabsf (x[k] - (targets[i] + k) / 96000.0f), <, 1e-6f);
    }
  float tail[64];
  g_assert_cmpint (rg_audio_reader_read (r, tail, 64, &error), ==, 6); /* 95994 … 95999 */
  g_assert_cmpint (rg_audio_reader_read (r, tail, 64, &error), ==, 0);
  g_assert_no_error (error);
}

static void
make_inputs (void)
{
  g_autofree char *counter = input ("counter.mp4"), *ts = input ("counter.ts"),
                  *raw = input ("counter.h264"), *vfr = input ("counter-vfr.mp4"),
                  *odd = input ("odd.mkv"), *deep = input ("10bit.mp4"),
                  *rot = input ("rotated.mp4"), *still = input ("still.png"),
                  *mono = input ("mono8k.wav"), *fl = input ("front-left.wav"),
                  *c = input ("centre.wav"), *surround = input ("surround.m4a"),
                  *ramp = input ("ramp.wav"), *tmp = input ("plain.mp4");
  g_autofree char *cfr_src = media_test_counter_source (64, 48, "25", 2);
  g_autofree char *vfr_src = media_test_counter_source (64, 48, "30", 2);
  media_test_ffmpeg (counter, "-f", "lavfi", "-i", cfr_src, "-c:v", "libx264", "-preset",
                     "ultrafast", "-crf", "8", "-g", "12", "-bf", "2", "-pix_fmt", "yuv420p", NULL);
  media_test_ffmpeg (ts, "-f", "lavfi", "-i", cfr_src, "-c:v", "libx264", "-preset", "ultrafast",
                     "-crf", "8", "-g", "12", "-bf", "2", "-pix_fmt", "yuv420p", NULL);
  media_test_ffmpeg (raw, "-f", "lavfi", "-i", cfr_src, "-c:v", "libx264", "-preset", "ultrafast",
                     "-crf", "8", "-g", "12", "-bf", "2", "-pix_fmt", "yuv420p", NULL);
  media_test_ffmpeg (vfr, "-f", "lavfi", "-i", vfr_src, "-vf",
                     "select='lt(n\\,10)+not(mod(n\\,3))*gte(n\\,10)'", "-fps_mode", "vfr", "-c:v",
                     "libx264", "-crf", "8", "-g", "7", "-pix_fmt", "yuv420p", NULL);
  media_test_ffmpeg (odd, "-f", "lavfi", "-i", "testsrc=s=317x241:r=25:d=0.4", "-c:v", "ffv1",
                     "-pix_fmt", "yuv420p", NULL);
  media_test_ffmpeg (deep, "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=0.4", "-c:v", "libx264",
                     "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", NULL);
  media_test_ffmpeg (tmp, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=0.4", "-c:v", "libx264",
                     "-preset", "ultrafast", NULL);
  media_test_ffmpeg (rot, "-i", tmp, "-c", "copy", "-metadata:s:v", "rotate=90", NULL);
  media_test_ffmpeg (still, "-f", "lavfi", "-i", "testsrc2=s=160x120", "-frames:v", "1", NULL);
  media_test_ffmpeg (mono, "-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*440*t):s=8000:d=1.5", "-c:a",
                     "pcm_s16le", NULL);
  media_test_ffmpeg (fl, "-f", "lavfi", "-i",
                     "aevalsrc=0.5*sin(2*PI*1000*t)|0|0|0|0|0:c=5.1:s=48000:d=1", "-c:a",
                     "pcm_f32le", NULL);
  media_test_ffmpeg (c, "-f", "lavfi", "-i",
                     "aevalsrc=0|0|0.5*sin(2*PI*1000*t)|0|0|0:c=5.1:s=48000:d=1", "-c:a",
                     "pcm_f32le", NULL);
  media_test_ffmpeg (surround, "-f", "lavfi", "-i",
                     "aevalsrc=0.7*sin(2*PI*440*t)|0.7*sin(2*PI*440*t)|0.7*sin(2*PI*440*t)|0|0.7*"
                     "sin(2*PI*440*t)|0.7*sin(2*PI*440*t):c=5.1:s=48000:d=1",
                     "-c:a", "aac", NULL);
  media_test_ffmpeg (ramp, "-f", "lavfi", "-i", "aevalsrc=n/96000:s=48000:d=2", "-c:a", "pcm_f32le",
                     NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = media_test_dir_new ();
  make_inputs ();
  g_test_add_data_func ("/media/decode/frame-at-constant-rate/mp4", "counter.mp4",
                        test_frame_at_constant_rate);
  g_test_add_data_func ("/media/decode/frame-at-constant-rate/mpegts", "counter.ts",
                        test_frame_at_constant_rate);
  g_test_add_data_func ("/media/decode/frame-at-constant-rate/raw-h264", "counter.h264",
                        test_frame_at_constant_rate);
  g_test_add_func ("/media/decode/frame-at-variable-rate", test_frame_at_variable_rate);
  g_test_add_func ("/media/decode/sequential-next", test_sequential_next);
  g_test_add_func ("/media/decode/odd-10bit-rotated-match-ffmpeg",
                   test_odd_10bit_rotated_match_ffmpeg);
  g_test_add_func ("/media/decode/formats-and-sizes", test_formats_and_sizes);
  g_test_add_func ("/media/decode/still-and-refusals", test_still_and_refusals);
  g_test_add_func ("/media/decode/damaged-packets", test_damaged_packets);
  g_test_add_func ("/media/decode/audio-mono-8k-to-stereo-48k", test_audio_mono_8k_to_stereo_48k);
  g_test_add_func ("/media/decode/audio-surround-downmix", test_audio_surround_downmix);
  g_test_add_func ("/media/decode/audio-seek-sample-accurate", test_audio_seek_is_sample_accurate);
  int ret = g_test_run ();
  media_test_dir_free (dir);
  return ret;
}
