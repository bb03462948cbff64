/* rg-thumbnails.c — thumbnail strips through the video reader, waveform
 * peaks through the audio reader. */
#include "media/rg-thumbnails.h"

#include "core/rg-error.h"
#include "media/rg-audio-reader.h"
#include "media/rg-video-reader.h"

#define WAVEFORM_RATE 48000

void
rg_thumbnail_strip_free (RgThumbnailStrip *strip)
{
  if (strip == NULL)
    return;
  g_free (strip->rgba);
  g_free (strip->times);
  g_free (strip);
}

void
rg_waveform_free (RgWaveform *wave)
{
  if (wave == NULL)
    return;
  g_free (wave->min);
  g_free (wave->max);
  g_free (wave);
}

RgThumbnailStrip *
rg_thumbnail_strip (const char *path, RgTime in, RgTime duration, int count, int width,
                    GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  if (count < 1 || count > 1000 || width < 1 || width > 4096 || in < 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: bad thumbnail request (%d thumbnails %d pixels wide)", path, count, width);
      return NULL;
    }
  RgVideoReaderOptions opts = { .width = width, .format = RG_PIXEL_RGBA };
  g_autoptr (RgVideoReader) r = rg_video_reader_open (path, &opts, error);
  if (r == NULL)
    return NULL;
  if (duration < 0)
    duration = MAX (0, rg_video_reader_get_duration (r) - in);

  RgThumbnailStrip *strip = g_new0 (RgThumbnailStrip, 1);
  strip->count = count;
  strip->times = g_new (RgTime, count);
  for (int i = 0; i < count; i++)
    {
      /* the middle of share i: in + (2i + 1)·duration / 2count */
      strip->times[i] = in + (RgTime)((2 * (__int128)i + 1) * duration / (2 * count));
      RgVideoFrame f;
      if (!rg_video_reader_frame_at (r, strip->times[i], &f, error))
        {
          rg_thumbnail_strip_free (strip);
          return NULL;
        }
      if (strip->rgba == NULL)
        {
          strip->width = f.width;
          strip->height = f.height;
          strip->rgba = g_malloc_n (count, f.size);
        }
      memcpy (strip->rgba + (gsize)i * f.size, f.data, f.size);
    }
  return strip;
}

RgWaveform *
rg_waveform_peaks (const char *path, RgTime in, RgTime duration, int buckets, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  if (buckets < 1 || buckets > 1 << 20 || in < 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: bad waveform request (%d buckets)", path, buckets);
      return NULL;
    }
  g_autoptr (RgAudioReader) r = rg_audio_reader_open (path, WAVEFORM_RATE, 2, error);
  if (r == NULL)
    return NULL;
  gint64 first = rg_time_to_samples (in, WAVEFORM_RATE);
  gint64 total = duration >= 0 ? rg_time_to_samples (duration, WAVEFORM_RATE)
                               : MAX (0, rg_audio_reader_get_length (r) - first);
  if (first > 0 && !rg_audio_reader_seek (r, in, error))
    return NULL;

  RgWaveform *w = g_new0 (RgWaveform, 1);
  w->buckets = buckets;
  w->channels = 2;
  w->rate = WAVEFORM_RATE;
  w->min = g_new0 (float, (gsize)buckets * 2);
  w->max = g_new0 (float, (gsize)buckets * 2);

  float chunk[2 * 4096];
  gint64 done = 0;
  while (done < total)
    {
      gssize got = rg_audio_reader_read (r, chunk, (gsize)MIN (4096, total - done), error);
      if (got < 0)
        {
          rg_waveform_free (w);
          return NULL;
        }
      if (got == 0)
        break; /* the file is shorter than asked: the rest stays silent */
      for (gssize s = 0; s < got; s++)
        {
          /* bucket b covers samples [b·total/buckets, (b+1)·total/buckets) */
          gsize b = (gsize)((__int128)(done + s) * buckets / total);
          for (int c = 0; c < 2; c++)
            {
              float x = chunk[2 * s + c];
              w->min[2 * b + c] = MIN (w->min[2 * b + c], x);
              w->max[2 * b + c] = MAX (w->max[2 * b + c], x);
            }
        }
      done += got;
    }
  return w;
}
