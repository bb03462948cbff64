/* rg-audio-reader.c — decode + libswresample to interleaved f32, positions
 * kept in output samples so seeks are sample-accurate. */
#include "media/rg-audio-reader.h"

#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "media/rg-media-decode.h"

struct _RgAudioReader
{
  char *path;
  int rate;
  int channels;
  RgDecodeLoop loop;
  int64_t start_pts;
  AVFrame *frame;

  SwrContext *swr;
  AVChannelLayout swr_layout; /* the input the resampler is set up for */
  int swr_rate;
  int swr_format;

  float *pending; /* converted, not yet handed out */
  gsize pending_len;
  gsize pending_pos;
  gsize pending_cap;

  gint64 position; /* output sample index of pending[pending_pos] */
  gint64 end;      /* samples the container says the stream has, or -1 */
  gboolean align;  /* next decoded frame sets the position */
  gboolean eof;
};

void
rg_audio_reader_free (RgAudioReader *r)
{
  if (r == NULL)
    return;
  rg_decode_loop_clear (&r->loop);
  av_frame_free (&r->frame);
  swr_free (&r->swr);
  av_channel_layout_uninit (&r->swr_layout);
  g_free (r->pending);
  g_free (r->path);
  g_free (r);
}

static RgAudioReader *
open_reader (const char *path, int rate, int channels, gboolean required, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  if (rate < 1000 || rate > 384000 || channels < 1 || channels > 2)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: cannot decode to %d Hz × %d channels (1 or 2 channels)", path, rate,
                   channels);
      return NULL;
    }
  AVFormatContext *fmt = rg_media_open_input (path, error);
  if (fmt == NULL)
    return NULL;
  int index = av_find_best_stream (fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
  if (index < 0)
    {
      if (required)
        g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "%s: no audio stream", path);
      avformat_close_input (&fmt);
      return NULL;
    }

  RgAudioReader *r = g_new0 (RgAudioReader, 1);
  r->path = g_strdup (path);
  r->rate = rate;
  r->channels = channels;
  r->align = TRUE;
  if (!rg_decode_loop_init (&r->loop, r->path, fmt, index, 1, error))
    {
      if (r->loop.fmt == NULL)
        avformat_close_input (&fmt);
      rg_audio_reader_free (r);
      return NULL;
    }
  AVStream *st = r->loop.st;
  r->start_pts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
  /* AAC decoders hand out the encoder's padding after the last frame; the
   * container's exact duration (not an estimate from the bit rate) says
   * where the real audio ends. */
  r->end = fmt->duration_estimation_method == AVFMT_DURATION_FROM_STREAM
                   && st->duration != AV_NOPTS_VALUE
               ? av_rescale_q (st->duration, st->time_base, (AVRational){ 1, rate })
               : -1;
  r->frame = av_frame_alloc ();
  if (r->frame == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "%s: out of memory", path);
      rg_audio_reader_free (r);
      return NULL;
    }
  return r;
}

RgAudioReader *
rg_audio_reader_open (const char *path, int rate, int channels, GError **error)
{
  return open_reader (path, rate, channels, TRUE, error);
}

RgAudioReader *
rg_audio_reader_open_if_any (const char *path, int rate, int channels, GError **error)
{
  return open_reader (path, rate, channels, FALSE, error);
}

/* (Re)build the resampler when the decoded format changes mid-stream. */
static gboolean
ensure_swr (RgAudioReader *r, const AVFrame *f, GError **error)
{
  AVChannelLayout in;
  if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
    av_channel_layout_default (&in, f->ch_layout.nb_channels);
  else if (av_channel_layout_copy (&in, &f->ch_layout) < 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "%s: out of memory", r->path);
      return FALSE;
    }
  if (r->swr != NULL && f->sample_rate == r->swr_rate && f->format == r->swr_format
      && av_channel_layout_compare (&in, &r->swr_layout) == 0)
    {
      av_channel_layout_uninit (&in);
      return TRUE;
    }

  AVChannelLayout out;
  av_channel_layout_default (&out, r->channels);
  swr_free (&r->swr);
  int ret = swr_alloc_set_opts2 (&r->swr, &out, AV_SAMPLE_FMT_FLT, r->rate, &in, f->format,
                                 f->sample_rate, 0, NULL);
  /* Float output is not normalised by default: a full-scale 5.1 source
   * would downmix past 1.0. Keep the matrix within unity gain. */
  if (ret >= 0)
    ret = av_opt_set_double (r->swr, "rematrix_maxval", 1.0, 0);
  /* Mono goes to both sides at full level ("dual mono", as editors play a
   * mono dialogue track), not FFmpeg's −3 dB centre spread. */
  static const double dual_mono[2] = { 1.0, 1.0 };
  if (ret >= 0 && in.nb_channels == 1 && r->channels == 2)
    ret = swr_set_matrix (r->swr, dual_mono, 1);
  if (ret >= 0)
    ret = swr_init (r->swr);
  av_channel_layout_uninit (&out);
  av_channel_layout_uninit (&r->swr_layout);
  r->swr_layout = in;
  r->swr_rate = f->sample_rate;
  r->swr_format = f->format;
  if (ret < 0)
    {
      swr_free (&r->swr);
      rg_media_set_averror (error, RG_ERROR_UNSUPPORTED, ret, "%s: cannot convert this audio",
                            r->path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
reserve_pending (RgAudioReader *r, gsize frames)
{
  if (frames > G_MAXSIZE / 2 / sizeof (float) / 2)
    return FALSE;
  if (frames > r->pending_cap)
    {
      r->pending_cap = MAX (frames, r->pending_cap * 2);
      r->pending = g_realloc_n (r->pending, r->pending_cap * r->channels, sizeof (float));
    }
  return TRUE;
}

/* Convert f (NULL = drain the resampler) into pending. */
static gboolean
convert (RgAudioReader *r, const AVFrame *f, GError **error)
{
  int in_n = f != NULL ? f->nb_samples : 0;
  int out_max = swr_get_out_samples (r->swr, in_n);
  if (out_max < 0 || !reserve_pending (r, (gsize)out_max))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: audio frame too large", r->path);
      return FALSE;
    }
  uint8_t *dst[1] = { (uint8_t *)r->pending };
  int got = swr_convert (r->swr, dst, out_max,
                         f != NULL ? (const uint8_t **)f->extended_data : NULL, in_n);
  if (got < 0)
    {
      rg_media_set_averror (error, RG_ERROR_CORRUPT, got, "%s: audio conversion", r->path);
      return FALSE;
    }
  r->pending_len = (gsize)got;
  r->pending_pos = 0;
  return TRUE;
}

/* After a seek (or at the start) the first frame's timestamp says which
 * output sample it holds: drop what lies before the wanted position, or pad
 * with silence if the stream starts after it. */
static void
align_pending (RgAudioReader *r, const AVFrame *f)
{
  r->align = FALSE;
  int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
  if (ts == AV_NOPTS_VALUE)
    return;
  int64_t at = av_rescale_q (ts - r->start_pts, r->loop.st->time_base, (AVRational){ 1, r->rate });
  if (at < r->position)
    {
      gsize drop = (gsize)MIN ((gint64)r->pending_len, r->position - at);
      r->pending_pos = drop;
    }
  else if (at > r->position && at - r->position < (gint64)r->rate * 60)
    {
      gsize gap = (gsize)(at - r->position);
      if (!reserve_pending (r, r->pending_len + gap))
        return;
      memmove (r->pending + gap * r->channels, r->pending,
               r->pending_len * r->channels * sizeof (float));
      memset (r->pending, 0, gap * r->channels * sizeof (float));
      r->pending_len += gap;
    }
}

/* Decode and convert the next frame; FALSE at the end (no error) or on error. */
static gboolean
refill (RgAudioReader *r, GError **error)
{
  while (!r->eof)
    {
      av_frame_unref (r->frame);
      int got = rg_decode_loop_next (&r->loop, r->frame, error);
      if (got < 0)
        return FALSE;
      if (got == 0)
        {
          r->eof = TRUE;
          /* the resampler still holds the last few samples */
          return r->swr != NULL && convert (r, NULL, error) && r->pending_len > 0;
        }
      if (!ensure_swr (r, r->frame, error) || !convert (r, r->frame, error))
        return FALSE;
      if (r->align)
        align_pending (r, r->frame);
      if (r->pending_pos < r->pending_len)
        return TRUE;
    }
  return FALSE;
}

gssize
rg_audio_reader_read (RgAudioReader *r, float *out, gsize n_frames, GError **error)
{
  g_return_val_if_fail (r != NULL && (out != NULL || n_frames == 0), -1);
  gsize written = 0;
  while (written < n_frames)
    {
      if (r->pending_pos == r->pending_len)
        {
          if (!refill (r, error))
            {
              if (error != NULL && *error != NULL)
                return -1;
              break;
            }
          continue;
        }
      gsize k = MIN (n_frames - written, r->pending_len - r->pending_pos);
      if (r->end >= 0)
        {
          k = (gsize)MIN ((gint64)k, MAX (0, r->end - r->position));
          if (k == 0)
            break;
        }
      memcpy (out + written * r->channels, r->pending + r->pending_pos * r->channels,
              k * r->channels * sizeof (float));
      r->pending_pos += k;
      r->position += (gint64)k;
      written += k;
    }
  return (gssize)written;
}

gboolean
rg_audio_reader_seek (RgAudioReader *r, RgTime t, GError **error)
{
  g_return_val_if_fail (r != NULL, FALSE);
  gint64 target = MAX (0, rg_time_to_samples (t, r->rate));
  int64_t ts
      = av_rescale_q (target, (AVRational){ 1, r->rate }, r->loop.st->time_base) + r->start_pts;
  if (!rg_decode_loop_seek (&r->loop, ts, error))
    return FALSE;
  /* Forget the resampler's history: it belongs to the old position. */
  swr_free (&r->swr);
  r->pending_len = r->pending_pos = 0;
  r->position = target;
  r->align = TRUE;
  r->eof = FALSE;
  return TRUE;
}

gint64
rg_audio_reader_get_length (RgAudioReader *r)
{
  const AVStream *st = r->loop.st;
  if (st->duration != AV_NOPTS_VALUE)
    return av_rescale_q (st->duration, st->time_base, (AVRational){ 1, r->rate });
  if (r->loop.fmt->duration != AV_NOPTS_VALUE)
    return av_rescale_q (r->loop.fmt->duration, AV_TIME_BASE_Q, (AVRational){ 1, r->rate });
  return -1;
}

float *
rg_audio_decode_file (const char *path, int rate, int channels, gsize *n_frames, GError **error)
{
  g_autoptr (RgAudioReader) r = rg_audio_reader_open (path, rate, channels, error);
  if (r == NULL)
    return NULL;
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (float));
  float chunk[8192];
  gsize per = G_N_ELEMENTS (chunk) / channels;
  for (;;)
    {
      gssize got = rg_audio_reader_read (r, chunk, per, error);
      if (got < 0)
        return NULL;
      if (got == 0)
        break;
      g_array_append_vals (all, chunk, (guint)got * channels);
    }
  *n_frames = all->len / channels;
  return (float *)g_array_free (g_steal_pointer (&all), FALSE);
}
