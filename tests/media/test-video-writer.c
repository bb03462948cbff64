/* test-video-writer.c — files written by RgVideoWriter, read back by ffprobe
 * and ffmpeg (an independent reader): codecs, sizes, exact rates, frame
 * counts, colours, lossless FFV1, and no file left behind on abort or error. */
#include <glib/gstdio.h>
#include <math.h>
#include <sys/stat.h>

#include "core/rg-error.h"
#include "media-test-util.h"
#include "media/rg-video-writer.h"

/* Frame i is a flat colour that encodes i, so a frame read back identifies itself. */
static void
fill_frame (guint8 *rgb, int w, int h, int bpp, int i)
{
  for (int p = 0; p < w * h; p++)
    {
      rgb[p * bpp + 0] = (guint8)(i * 37 % 256);
      rgb[p * bpp + 1] = (guint8)(255 - i * 11 % 256);
      rgb[p * bpp + 2] = (guint8)(i * 5 % 256);
      if (bpp == 4)
        rgb[p * bpp + 3] = 255;
    }
}

static void
write_clip (const char *path, const RgVideoWriterOptions *o, int n_frames, double audio_s)
{
  g_autoptr (GError) error = NULL;
  RgVideoWriter *w = rg_video_writer_open (path, o, &error);
  g_assert_no_error (error);
  int bpp = o->input == RG_PIXEL_RGBA ? 4 : 3;
  g_autofree guint8 *rgb = g_malloc ((gsize)o->width * o->height * bpp);
  for (int i = 0; i < n_frames; i++)
    {
      fill_frame (rgb, o->width, o->height, bpp, i);
      g_assert_true (rg_video_writer_write_rgb (w, rgb, (gsize)o->width * bpp, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (rg_video_writer_get_frame_count (w), ==, n_frames);
  if (o->sample_rate > 0)
    {
      gsize n = (gsize)(audio_s * o->sample_rate);
      g_autofree float *pcm = g_new (float, n * o->channels);
      for (gsize s = 0; s < n; s++)
        for (int c = 0; c < o->channels; c++)
          pcm[s * o->channels + c] = 0.5f * sinf (2.0f * G_PI * 440.0f * s / o->sample_rate);
      /* in uneven pieces, as a generator hands them over */
      for (gsize done = 0; done < n;)
        {
          gsize piece = MIN (n - done, 777);
          g_assert_true (rg_video_writer_write_audio (w, pcm + done * o->channels, piece, &error));
          done += piece;
        }
    }
  g_assert_true (rg_video_writer_finish (w, &error));
  g_assert_no_error (error);
}

/* Frame `index` of a file, decoded to RGB24 by the ffmpeg CLI. */
static guint8 *
ffmpeg_frame (const char *dir, const char *path, int index, gsize *len)
{
  g_autofree char *raw = g_build_filename (dir, "frame.rgb", NULL);
  g_autofree char *select = g_strdup_printf ("select=eq(n\\,%d)", index);
  media_test_ffmpeg (raw, "-i", path, "-vf", select, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt",
                     "rgb24", NULL);
  guint8 *data = NULL;
  g_assert_true (g_file_get_contents (raw, (char **)&data, len, NULL));
  return data;
}

static void
test_mp4_round_trip (void)
{
  char *dir = media_test_dir_new ();
  g_autofree char *path = g_build_filename (dir, "clip.mp4", NULL);
  RgVideoWriterOptions o = { .width = 320,
                             .height = 240,
                             .fps = { 24, 1 },
                             .input = RG_PIXEL_RGBA,
                             .sample_rate = 48000,
                             .channels = 2,
                             .speed = RG_ENCODE_FAST };
  write_clip (path, &o, 48, 2.0);
  g_assert_cmpuint (media_test_dir_count (dir), ==, 1); /* no temporary left */

  g_autoptr (GHashTable) v = media_test_ffprobe (
      path, "v:0", "stream=codec_name,width,height,pix_fmt,r_frame_rate,nb_read_frames", TRUE);
  g_assert_cmpstr (g_hash_table_lookup (v, "codec_name"), ==, "h264");
  g_assert_cmpstr (g_hash_table_lookup (v, "width"), ==, "320");
  g_assert_cmpstr (g_hash_table_lookup (v, "height"), ==, "240");
  g_assert_cmpstr (g_hash_table_lookup (v, "pix_fmt"), ==, "yuv420p");
  g_assert_cmpstr (g_hash_table_lookup (v, "r_frame_rate"), ==, "24/1");
  g_assert_cmpstr (g_hash_table_lookup (v, "nb_read_frames"), ==, "48");

  g_autoptr (GHashTable) a
      = media_test_ffprobe (path, "a:0", "stream=codec_name,sample_rate,channels,duration", FALSE);
  g_assert_cmpstr (g_hash_table_lookup (a, "codec_name"), ==, "aac");
  g_assert_cmpstr (g_hash_table_lookup (a, "sample_rate"), ==, "48000");
  g_assert_cmpstr (g_hash_table_lookup (a, "channels"), ==, "2");
  g_assert_cmpfloat_with_epsilon (g_ascii_strtod (g_hash_table_lookup (a, "duration"), NULL), 2.0,
                                  0.03);

  /* Colours survive the RGB → YUV → RGB round trip (matrix tagged right). */
  for (int i = 0; i < 48; i += 13)
    {
      gsize len = 0;
      g_autofree guint8 *rgb = ffmpeg_frame (dir, path, i, &len);
      g_assert_cmpuint (len, ==, 320 * 240 * 3);
      guint8 want[3];
      fill_frame (want, 1, 1, 3, i);
      gsize mid = (120 * 320 + 160) * 3;
      for (int c = 0; c < 3; c++)
        g_assert_cmpint (ABS ((int)rgb[mid + c] - want[c]), <=, 6);
    }
  media_test_dir_free (dir);
}

static void
test_ntsc_rate_is_exact (void)
{
  char *dir = media_test_dir_new ();
  g_autofree char *path = g_build_filename (dir, "ntsc.mp4", NULL);
  RgVideoWriterOptions o = { .width = 64,
                             .height = 48,
                             .fps = { 30000, 1001 },
                             .input = RG_PIXEL_RGB24,
                             .speed = RG_ENCODE_FASTEST };
  write_clip (path, &o, 30, 0);
  g_autoptr (GHashTable) v = media_test_ffprobe (
      path, "v:0", "stream=r_frame_rate,nb_read_frames,duration_ts,time_base", TRUE);
  g_assert_cmpstr (g_hash_table_lookup (v, "r_frame_rate"), ==, "30000/1001");
  g_assert_cmpstr (g_hash_table_lookup (v, "nb_read_frames"), ==, "30");
  /* 30 frames of 1001/30000 s: exactly 1.001 s in the stream's time base */
  const char *tb = g_hash_table_lookup (v, "time_base");
  g_assert_true (g_str_has_prefix (tb, "1/"));
  gint64 den = g_ascii_strtoll (tb + 2, NULL, 10);
  gint64 dur = g_ascii_strtoll (g_hash_table_lookup (v, "duration_ts"), NULL, 10);
  g_assert_cmpint (dur * 30000, ==, 30 * 1001 * den);
  media_test_dir_free (dir);
}

static void
test_webm_and_lossless_mkv (void)
{
  char *dir = media_test_dir_new ();
  g_autofree char *webm = g_build_filename (dir, "clip.webm", NULL);
  g_autofree char *mkv = g_build_filename (dir, "clip.mkv", NULL);
  /* 44.1 kHz mono: Opus only takes 48 kHz, so the writer resamples */
  RgVideoWriterOptions o = { .width = 64,
                             .height = 48,
                             .fps = { 25, 1 },
                             .input = RG_PIXEL_RGB24,
                             .sample_rate = 44100,
                             .channels = 1,
                             .speed = RG_ENCODE_FASTEST };
  write_clip (webm, &o, 10, 0.4);
  write_clip (mkv, &o, 10, 0.4);

  g_autoptr (GHashTable) wv
      = media_test_ffprobe (webm, "v:0", "stream=codec_name,nb_read_frames", TRUE);
  g_assert_cmpstr (g_hash_table_lookup (wv, "codec_name"), ==, "vp9");
  g_assert_cmpstr (g_hash_table_lookup (wv, "nb_read_frames"), ==, "10");
  g_autoptr (GHashTable) wa
      = media_test_ffprobe (webm, "a:0", "stream=codec_name,sample_rate", FALSE);
  g_assert_cmpstr (g_hash_table_lookup (wa, "codec_name"), ==, "opus");
  g_assert_cmpstr (g_hash_table_lookup (wa, "sample_rate"), ==, "48000");

  g_autoptr (GHashTable) mv
      = media_test_ffprobe (mkv, "v:0", "stream=codec_name,nb_read_frames", TRUE);
  g_assert_cmpstr (g_hash_table_lookup (mv, "codec_name"), ==, "ffv1");
  g_assert_cmpstr (g_hash_table_lookup (mv, "nb_read_frames"), ==, "10");
  g_autoptr (GHashTable) ma
      = media_test_ffprobe (mkv, "a:0", "stream=codec_name,sample_rate", FALSE);
  g_assert_cmpstr (g_hash_table_lookup (ma, "codec_name"), ==, "flac");
  g_assert_cmpstr (g_hash_table_lookup (ma, "sample_rate"), ==, "44100");

  /* The lossless preset gives back the exact bytes. */
  gsize len = 0;
  g_autofree guint8 *got = ffmpeg_frame (dir, mkv, 7, &len);
  g_autofree guint8 *want = g_malloc (64 * 48 * 3);
  fill_frame (want, 64, 48, 3, 7);
  g_assert_cmpmem (got, len, want, 64 * 48 * 3);
  media_test_dir_free (dir);
}

/* A finished file has the mode any newly saved file gets (0666 less the
 * umask), not the private 0600 of a temporary: others can play a clip when
 * the user's umask lets them. Checked under two umasks so neither mode can
 * be a constant. */
static void
test_finished_file_mode (void)
{
  char *dir = media_test_dir_new ();
  RgVideoWriterOptions o = { .width = 32, .height = 32, .fps = { 24, 1 }, .input = RG_PIXEL_RGB24 };
  const mode_t masks[] = { 022, 027, 077 };
  mode_t saved = umask (022);
  for (guint m = 0; m < G_N_ELEMENTS (masks); m++)
    {
      umask (masks[m]);
      g_autofree char *name = g_strdup_printf ("mode-%03o.mkv", (unsigned)masks[m]);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      write_clip (path, &o, 2, 0.0);
      GStatBuf st;
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_test_message ("umask %03o: %s has mode %03o", (unsigned)masks[m], name,
                      (unsigned)(st.st_mode & 0777));
      g_assert_cmpuint (st.st_mode & 0777, ==, 0666 & ~masks[m]);
    }
  umask (saved);
  media_test_dir_free (dir);
}

static void
test_abort_leaves_nothing (void)
{
  char *dir = media_test_dir_new ();
  g_autofree char *path = g_build_filename (dir, "gone.mp4", NULL);
  RgVideoWriterOptions o = { .width = 64,
                             .height = 48,
                             .fps = { 24, 1 },
                             .input = RG_PIXEL_RGB24,
                             .sample_rate = 48000,
                             .channels = 2 };
  guint8 rgb[64 * 48 * 3] = { 0 };
  g_autoptr (GError) error = NULL;

  RgVideoWriter *w = rg_video_writer_open (path, &o, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media_test_dir_count (dir), ==, 1); /* the hidden temporary */
  for (int i = 0; i < 5; i++)
    g_assert_true (rg_video_writer_write_rgb (w, rgb, 64 * 3, &error));
  rg_video_writer_abort (w);
  g_assert_cmpuint (media_test_dir_count (dir), ==, 0);

  /* a writer dropped by g_autoptr without finish() is aborted too */
  {
    g_autoptr (RgVideoWriter) dropped = rg_video_writer_open (path, &o, &error);
    g_assert_no_error (error);
    g_assert_true (rg_video_writer_write_rgb (dropped, rgb, 64 * 3, &error));
  }
  g_assert_cmpuint (media_test_dir_count (dir), ==, 0);

  /* finishing without a single frame fails, and leaves nothing either */
  w = rg_video_writer_open (path, &o, &error);
  g_assert_no_error (error);
  g_assert_false (rg_video_writer_finish (w, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (media_test_dir_count (dir), ==, 0);
  media_test_dir_free (dir);
}

static void
test_refusals (void)
{
  char *dir = media_test_dir_new ();
  RgVideoWriterOptions o
      = { .width = 317, .height = 241, .fps = { 24, 1 }, .input = RG_PIXEL_RGB24 };
  g_autoptr (GError) error = NULL;
  g_autofree char *mp4 = g_build_filename (dir, "odd.mp4", NULL);
  g_assert_null (rg_video_writer_open (mp4, &o, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "even"));
  g_clear_error (&error);

  g_autofree char *gif = g_build_filename (dir, "x.gif", NULL);
  o.width = 64;
  o.height = 48;
  g_assert_null (rg_video_writer_open (gif, &o, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  o.fps = (RgRational){ 0, 1 };
  g_assert_null (rg_video_writer_open (mp4, &o, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  o.fps = (RgRational){ 24, 1 };
  g_autofree char *missing = g_build_filename (dir, "no-such-dir", "x.mp4", NULL);
  g_assert_null (rg_video_writer_open (missing, &o, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_IO);
  g_clear_error (&error);

  /* odd sizes are fine where the codec stores full-resolution planes */
  g_autofree char *mkv = g_build_filename (dir, "odd.mkv", NULL);
  o.width = 317;
  o.height = 241;
  write_clip (mkv, &o, 2, 0);
  g_assert_cmpuint (media_test_dir_count (dir), ==, 1);
  media_test_dir_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/writer/mp4-round-trip", test_mp4_round_trip);
  g_test_add_func ("/media/writer/ntsc-rate-exact", test_ntsc_rate_is_exact);
  g_test_add_func ("/media/writer/webm-and-lossless-mkv", test_webm_and_lossless_mkv);
  g_test_add_func ("/media/writer/finished-file-mode", test_finished_file_mode);
  g_test_add_func ("/media/writer/abort-leaves-nothing", test_abort_leaves_nothing);
  g_test_add_func ("/media/writer/refusals", test_refusals);
  return g_test_run ();
}
