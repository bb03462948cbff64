/* test-fuzz-media.c — mutated MP4 and WAV files against rg_probe() and the
 * first frames of a decode.
 *
 * The valid inputs are written by rg_video_writer (H.264 + AAC in a
 * faststart MP4; 16-bit PCM WAV). Besides random byte mutations, the
 * integer fields a demuxer trusts are targeted: MP4 box sizes and the
 * entry counts of the sample tables (stsz, stco, stts, stsc), and the WAV
 * RIFF/fmt/data sizes and rates. Each case is probed and, whatever the
 * probe said, opened for video and for sound and decoded for a few frames:
 * the reader must stand alone, not rely on the probe having refused. FFmpeg
 * is slow next to the other parsers, so the counts are small. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "media/rg-audio-reader.h"
#include "media/rg-probe.h"
#include "media/rg-video-reader.h"
#include "media/rg-video-writer.h"
#include "fuzz-mutate.h"

#define W 64
#define H 48
#define RATE 48000

static void
write_media (const char *path, gboolean video)
{
  GError *error = NULL;
  RgVideoWriterOptions opts = { 0 };
  if (video)
    {
      opts.width = W;
      opts.height = H;
      opts.fps = (RgRational){ 24, 1 };
      opts.input = RG_PIXEL_RGB24;
      opts.speed = RG_ENCODE_FASTEST;
      opts.threads = 1;
    }
  opts.sample_rate = RATE;
  opts.channels = 2;
  g_autoptr (RgVideoWriter) w = rg_video_writer_open (path, &opts, &error);
  g_assert_no_error (error);
  g_autofree guint8 *rgb = g_malloc (W * H * 3);
  g_autofree float *sound = g_new (float, RATE / 24 * 2);
  for (int f = 0; f < 8; f++)
    {
      if (video)
        {
          for (int i = 0; i < W * H * 3; i++)
            rgb[i] = (guint8)(i * 7 + f * 31);
          g_assert_true (rg_video_writer_write_rgb (w, rgb, W * 3, &error));
        }
      for (int i = 0; i < RATE / 24; i++)
        sound[2 * i] = sound[2 * i + 1] = 0.5f * sinf ((float)(f * RATE / 24 + i) * 0.05f);
      g_assert_true (rg_video_writer_write_audio (w, sound, RATE / 24, &error));
      g_assert_no_error (error);
    }
  g_assert_true (rg_video_writer_finish (g_steal_pointer (&w), &error));
  g_assert_no_error (error);
}

/* Offsets of the 4 bytes `delta` after each occurrence of a tag. */
static void
add_fields_after (GArray *fields, const guint8 *data, gsize len, const char *tag, gssize delta)
{
  for (gsize i = 4; i + 4 <= len; i++)
    if (memcmp (data + i, tag, 4) == 0 && (gssize)i + delta >= 0
        && (gsize)((gssize)i + delta) + 4 <= len)
      {
        RgFuzzField f = { (gsize)((gssize)i + delta), 4 };
        g_array_append_val (fields, f);
      }
}

static void
decode_some (RgFuzz *fz, const char *path)
{
  GError *error = NULL;
  RgMediaInfo *info = rg_probe (path, &error);
  rg_fuzz_check (fz, info != NULL, g_steal_pointer (&error));
  g_clear_pointer (&info, rg_media_info_free);

  RgVideoReaderOptions vopts = { W, H, RG_PIXEL_RGBA, FALSE, 1 };
  RgVideoReader *vr = rg_video_reader_open (path, &vopts, &error);
  if (vr != NULL)
    {
      for (int i = 0; i < 3; i++)
        {
          RgVideoFrame frame;
          gboolean ok = rg_video_reader_next (vr, &frame, &error);
          if (ok && frame.size != rg_pixel_image_size (RG_PIXEL_RGBA, W, H))
            g_error ("fuzz %s iteration %u: frame of %" G_GSIZE_FORMAT " bytes", fz->target,
                     fz->iteration, frame.size);
          if (!ok)
            {
              /* The end of the stream is not an error: then no GError. */
              if (error != NULL)
                rg_fuzz_check (fz, FALSE, g_steal_pointer (&error));
              break;
            }
        }
      rg_video_reader_free (vr);
    }
  else
    rg_fuzz_check (fz, FALSE, g_steal_pointer (&error)); /* NULL must come with a GError */

  /* A seek lands where the decoder must find a keyframe through the
   * (possibly mutated) index, a different path from reading in order. */
  vr = rg_video_reader_open (path, &vopts, &error);
  if (vr != NULL)
    {
      RgVideoFrame frame;
      gboolean ok = rg_video_reader_frame_at (vr, RG_TIME_HZ / 4, &frame, &error);
      rg_fuzz_check (fz, ok, g_steal_pointer (&error));
      rg_video_reader_free (vr);
    }
  else
    g_clear_error (&error);

  RgAudioReader *ar = rg_audio_reader_open_if_any (path, RATE, 2, &error);
  if (ar != NULL)
    {
      float buf[2048 * 2];
      for (int i = 0; i < 3; i++)
        {
          gssize n = rg_audio_reader_read (ar, buf, 2048, &error);
          if (n < 0)
            {
              rg_fuzz_check (fz, FALSE, g_steal_pointer (&error));
              break;
            }
          for (gssize k = 0; k < n * 2; k++)
            if (!isfinite (buf[k]))
              g_error ("fuzz %s iteration %u: decoded sound is not finite", fz->target,
                       fz->iteration);
          if (n == 0)
            break;
        }
      rg_audio_reader_free (ar);
    }
  else if (error != NULL)
    rg_fuzz_check (fz, FALSE, g_steal_pointer (&error));
}

static void
fuzz_file (const char *target, const char *name, gboolean video, guint64 seed, guint iterations)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-fuzz-media-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *valid = g_build_filename (dir, name, NULL);
  g_autofree char *ext = g_strdup (strrchr (name, '.'));
  g_autofree char *bad = g_strconcat (dir, "/bad", ext, NULL);
  write_media (valid, video);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (valid, &data, &len, &error));

  g_autoptr (GArray) fields = g_array_new (FALSE, FALSE, sizeof (RgFuzzField));
  const guint8 *d = (const guint8 *)data;
  if (video)
    {
      static const char *const boxes[] = { "moov", "trak", "mdia", "minf", "stbl", "mdat",
                                           "mdhd", "tkhd", "stsd", "avcC", "esds" };
      for (guint i = 0; i < G_N_ELEMENTS (boxes); i++)
        add_fields_after (fields, d, len, boxes[i], -4); /* the box's size */
      static const char *const tables[] = { "stsz", "stco", "stts", "stsc", "stss", "ctts" };
      for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
        {
          add_fields_after (fields, d, len, tables[i], -4);
          add_fields_after (fields, d, len, tables[i], 8);  /* entry count / sample size */
          add_fields_after (fields, d, len, tables[i], 12); /* stsz count, first entry */
          add_fields_after (fields, d, len, tables[i], 16);
        }
      add_fields_after (fields, d, len, "mdhd", 16); /* timescale (version 0) */
      add_fields_after (fields, d, len, "mdhd", 20); /* duration */
    }
  else
    {
      add_fields_after (fields, d, len, "RIFF", 4);
      add_fields_after (fields, d, len, "fmt ", 4);  /* chunk size */
      add_fields_after (fields, d, len, "fmt ", 8);  /* format tag + channels */
      add_fields_after (fields, d, len, "fmt ", 12); /* sample rate */
      add_fields_after (fields, d, len, "fmt ", 16); /* byte rate */
      add_fields_after (fields, d, len, "fmt ", 20); /* block align + bits */
      add_fields_after (fields, d, len, "data", 4);
    }
  g_assert_cmpuint (fields->len, >, 4);

  RgFuzz fz;
  rg_fuzz_init (&fz, target, seed, iterations);
  decode_some (&fz, valid); /* the writer's own file reads cleanly */
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      g_autoptr (GByteArray) m
          = rg_fuzz_mutate (&fz, d, len, 3, (const RgFuzzField *)fields->data, fields->len, FALSE);
      rg_fuzz_write (bad, m->data, m->len);
      decode_some (&fz, bad);
    }
  g_unlink (bad);
  g_unlink (valid);
  g_rmdir (dir);
}

static void
test_mp4 (void)
{
  fuzz_file ("mp4", "valid.mp4", TRUE, 0x6d703400, 100);
}

static void
test_wav (void)
{
  fuzz_file ("wav", "valid.wav", FALSE, 0x77617600, 120);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/media/mp4", test_mp4);
  g_test_add_func ("/fuzz/media/wav", test_wav);
  return g_test_run ();
}
