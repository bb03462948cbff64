/* rg-export.c — composite video tracks, mix audio tracks, encode.
 *
 * The timeline is walked in blocks of one output frame: block i covers
 * [i/fps, (i+1)/fps) and the audio samples [S(i), S(i+1)) with
 * S(i) = round(i·rate/fps), so picture and sound advance together and no
 * rounding error accumulates. Readers are opened when a clip is reached and
 * closed when it is passed, so a long timeline holds few decoders. */
#include "media/rg-export.h"

#include <libswscale/swscale.h>
#include <math.h>

#include "core/rg-error.h"
#include "media/rg-audio-reader.h"
#include "media/rg-video-reader.h"

#define CHANNELS 2

typedef struct
{
  const RgExportClip *clip;
  RgVideoReader *video;
  RgAudioReader *audio;
  gint64 audio_next; /* timeline sample the reader will give next */
  gboolean silent;   /* a video clip whose source has no sound */
} ClipState;

typedef struct
{
  const RgExportSpec *spec;
  const char *path;
  gboolean has_video;
  RgRational block_rate; /* video fps, or 10 blocks/s for audio only */
  gint64 n_blocks;
  gint64 n_samples;
  ClipState **video; /* [track][clip] */
  ClipState **audio;
  guint8 *canvas;
  struct SwsContext *fit;
  float *mix;
  float *tmp;
  gsize mix_cap; /* frames */
} Exporter;

static void
close_clip (ClipState *cs)
{
  g_clear_pointer (&cs->video, rg_video_reader_free);
  g_clear_pointer (&cs->audio, rg_audio_reader_free);
}

static void
exporter_clear (Exporter *e)
{
  const RgExportSpec *s = e->spec;
  for (guint t = 0; e->video != NULL && t < s->n_video_tracks; t++)
    {
      for (guint c = 0; c < s->video_tracks[t].n_clips; c++)
        close_clip (&e->video[t][c]);
      g_free (e->video[t]);
    }
  for (guint t = 0; e->audio != NULL && t < s->n_audio_tracks; t++)
    {
      for (guint c = 0; c < s->audio_tracks[t].n_clips; c++)
        close_clip (&e->audio[t][c]);
      g_free (e->audio[t]);
    }
  g_free (e->video);
  g_free (e->audio);
  g_free (e->canvas);
  sws_freeContext (e->fit);
  g_free (e->mix);
  g_free (e->tmp);
}

static gboolean
validate_tracks (const char *path, const char *kind, const RgExportTrack *tracks, guint n,
                 RgTime *end, GError **error)
{
  for (guint t = 0; t < n; t++)
    for (guint c = 0; c < tracks[t].n_clips; c++)
      {
        const RgExportClip *a = &tracks[t].clips[c];
        if (a->source == NULL || a->duration <= 0 || a->start < 0 || a->source_in < 0
            || a->start > G_MAXINT64 / 2 || a->duration > G_MAXINT64 / 2)
          {
            g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                         "%s: %s track %u, clip %u: needs a source, start ≥ 0, in ≥ 0 and a "
                         "positive duration",
                         path, kind, t + 1, c + 1);
            return FALSE;
          }
        *end = MAX (*end, a->start + a->duration);
        for (guint d = 0; d < c; d++)
          {
            const RgExportClip *b = &tracks[t].clips[d];
            if (a->start < b->start + b->duration && b->start < a->start + a->duration)
              {
                g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                             "%s: %s track %u: clips %u and %u overlap", path, kind, t + 1, d + 1,
                             c + 1);
                return FALSE;
              }
          }
      }
  return TRUE;
}

static ClipState **
make_states (const RgExportTrack *tracks, guint n)
{
  ClipState **states = g_new0 (ClipState *, MAX (n, 1));
  for (guint t = 0; t < n; t++)
    {
      states[t] = g_new0 (ClipState, MAX (tracks[t].n_clips, 1));
      for (guint c = 0; c < tracks[t].n_clips; c++)
        states[t][c].clip = &tracks[t].clips[c];
    }
  return states;
}

static gboolean
exporter_init (Exporter *e, const RgExportSpec *s, const char *path, GError **error)
{
  e->spec = s;
  e->path = path;
  e->has_video = s->n_video_tracks > 0 || s->width > 0 || s->height > 0;
  if (e->has_video
      && (s->width <= 0 || s->height <= 0 || s->fps.num <= 0 || s->fps.den <= 0
          || s->fps.num > G_MAXINT || s->fps.den > G_MAXINT))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: a video export needs a canvas size and a frame rate", path);
      return FALSE;
    }
  if (s->sample_rate != 0 && (s->sample_rate < 8000 || s->sample_rate > 192000))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: bad sample rate %d", path,
                   s->sample_rate);
      return FALSE;
    }
  if (!e->has_video && s->sample_rate == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: nothing to export (no canvas and no sample rate)", path);
      return FALSE;
    }
  RgTime end = 0;
  if (!validate_tracks (path, "video", s->video_tracks, s->n_video_tracks, &end, error)
      || !validate_tracks (path, "audio", s->audio_tracks, s->n_audio_tracks, &end, error))
    return FALSE;
  RgTime duration = s->duration > 0 ? s->duration : end;
  if (duration <= 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: the timeline is empty", path);
      return FALSE;
    }

  e->block_rate = e->has_video ? s->fps : (RgRational){ 10, 1 };
  /* frames whose start lies before the end: ⌈duration · fps⌉ */
  e->n_blocks = rg_time_to_frame (duration - 1, e->block_rate) + 1;
  e->n_samples = s->sample_rate > 0 ? rg_time_to_samples (duration, s->sample_rate) : 0;
  e->video = make_states (s->video_tracks, s->n_video_tracks);
  e->audio = make_states (s->audio_tracks, s->n_audio_tracks);
  if (e->has_video)
    e->canvas = g_malloc ((gsize)s->width * s->height * 4);
  return TRUE;
}

static void
paint_black (guint8 *rgba, gsize n_pixels)
{
  for (gsize p = 0; p < n_pixels; p++)
    {
      rgba[4 * p] = rgba[4 * p + 1] = rgba[4 * p + 2] = 0;
      rgba[4 * p + 3] = 255;
    }
}

/* Scale a frame into the canvas, aspect kept, centred on black. */
static gboolean
fit_into_canvas (Exporter *e, const RgVideoFrame *f, GError **error)
{
  int W = e->spec->width, H = e->spec->height;
  int w = W, h = (int)((gint64)W * f->height / f->width);
  if (h > H)
    h = H, w = (int)((gint64)H * f->width / f->height);
  w = MAX (w, 1), h = MAX (h, 1);
  e->fit = sws_getCachedContext (e->fit, f->width, f->height, AV_PIX_FMT_RGBA, w, h,
                                 AV_PIX_FMT_RGBA, SWS_BICUBIC, NULL, NULL, NULL);
  if (e->fit == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_FAILED, "%s: cannot scale %d×%d to %d×%d", e->path,
                   f->width, f->height, w, h);
      return FALSE;
    }
  paint_black (e->canvas, (gsize)W * H);
  const uint8_t *src[1] = { f->data };
  const int src_stride[1] = { f->width * 4 };
  uint8_t *dst[1] = { e->canvas + ((gsize)((H - h) / 2) * W + (W - w) / 2) * 4 };
  const int dst_stride[1] = { W * 4 };
  sws_scale (e->fit, src, src_stride, 0, f->height, dst, dst_stride);
  return TRUE;
}

static gboolean
render_video (Exporter *e, RgVideoWriter *w, RgTime t, GError **error)
{
  const RgExportSpec *s = e->spec;
  ClipState *top = NULL;
  for (guint tr = 0; tr < s->n_video_tracks && top == NULL; tr++)
    {
      if (s->video_tracks[tr].hidden)
        continue;
      for (guint c = 0; c < s->video_tracks[tr].n_clips && top == NULL; c++)
        {
          const RgExportClip *clip = e->video[tr][c].clip;
          if (clip->start <= t && t < clip->start + clip->duration)
            top = &e->video[tr][c];
        }
    }

  gsize stride = (gsize)s->width * 4;
  if (top == NULL)
    {
      paint_black (e->canvas, (gsize)s->width * s->height);
      return rg_video_writer_write_rgb (w, e->canvas, stride, error);
    }
  if (top->video == NULL)
    {
      RgVideoReaderOptions ro = { .format = RG_PIXEL_RGBA, .threads = s->threads };
      top->video = rg_video_reader_open (top->clip->source, &ro, error);
      if (top->video == NULL)
        return FALSE;
    }
  RgVideoFrame f;
  if (!rg_video_reader_frame_at (top->video, top->clip->source_in + (t - top->clip->start), &f,
                                 error))
    return FALSE;
  if (f.width == s->width && f.height == s->height)
    return rg_video_writer_write_rgb (w, f.data, stride, error);
  return fit_into_canvas (e, &f, error) && rg_video_writer_write_rgb (w, e->canvas, stride, error);
}

static float
db_to_gain (float db)
{
  return powf (10.0f, db / 20.0f);
}

/* Add one clip's samples for timeline samples [lo, hi) into mix (at lo - a).
 * A clip on a video track may have no sound: it then adds nothing. */
static gboolean
mix_clip (Exporter *e, ClipState *cs, gboolean sound_optional, gint64 a, gint64 lo, gint64 hi,
          float gain, GError **error)
{
  int rate = e->spec->sample_rate;
  gint64 clip_first = rg_time_to_samples (cs->clip->start, rate);
  if (cs->silent)
    return TRUE;
  if (cs->audio == NULL)
    {
      GError *local = NULL;
      cs->audio = sound_optional
                      ? rg_audio_reader_open_if_any (cs->clip->source, rate, CHANNELS, &local)
                      : rg_audio_reader_open (cs->clip->source, rate, CHANNELS, &local);
      if (cs->audio == NULL)
        {
          if (local != NULL)
            {
              g_propagate_error (error, local);
              return FALSE;
            }
          cs->silent = TRUE;
          return TRUE;
        }
      cs->audio_next = -1;
    }
  if (cs->audio_next != lo)
    {
      gint64 src = rg_time_to_samples (cs->clip->source_in, rate) + (lo - clip_first);
      if (!rg_audio_reader_seek (cs->audio, rg_time_from_samples (src, rate), error))
        return FALSE;
    }
  gssize got = rg_audio_reader_read (cs->audio, e->tmp, (gsize)(hi - lo), error);
  if (got < 0)
    return FALSE;
  /* A source shorter than its clip leaves silence for the rest. */
  float *dst = e->mix + (lo - a) * CHANNELS;
  for (gssize i = 0; i < got * CHANNELS; i++)
    dst[i] += gain * e->tmp[i];
  cs->audio_next = lo + got == hi ? hi : -1;
  return TRUE;
}

/* Mix the sound of tracks' clips for timeline samples [a, b). Video tracks
 * play only when asked to (with_sound), and their clips may be silent. */
static gboolean
mix_tracks (Exporter *e, const RgExportTrack *tracks, ClipState **states, guint n_tracks,
            gboolean video, gint64 a, gint64 b, GError **error)
{
  int rate = e->spec->sample_rate;
  for (guint tr = 0; tr < n_tracks; tr++)
    {
      const RgExportTrack *track = &tracks[tr];
      if (video && !track->with_sound)
        continue;
      for (guint c = 0; c < track->n_clips; c++)
        {
          ClipState *cs = &states[tr][c];
          gint64 first = rg_time_to_samples (cs->clip->start, rate);
          gint64 last = rg_time_to_samples (cs->clip->start + cs->clip->duration, rate);
          if (last <= a) /* passed: free its audio decoder (a picture is freed apart) */
            g_clear_pointer (&cs->audio, rg_audio_reader_free);
          gint64 lo = MAX (a, first), hi = MIN (b, last);
          if (track->muted || lo >= hi)
            continue;
          float gain = db_to_gain (track->gain_db + cs->clip->gain_db);
          if (!mix_clip (e, cs, video, a, lo, hi, gain, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
render_audio (Exporter *e, RgVideoWriter *w, gint64 a, gint64 b, GError **error)
{
  const RgExportSpec *s = e->spec;
  gsize n = (gsize)(b - a);
  if (n == 0)
    return TRUE;
  if (n > e->mix_cap)
    {
      e->mix_cap = n;
      e->mix = g_renew (float, e->mix, n *CHANNELS);
      e->tmp = g_renew (float, e->tmp, n *CHANNELS);
    }
  memset (e->mix, 0, n * CHANNELS * sizeof (float));

  if (!mix_tracks (e, s->audio_tracks, e->audio, s->n_audio_tracks, FALSE, a, b, error)
      || !mix_tracks (e, s->video_tracks, e->video, s->n_video_tracks, TRUE, a, b, error))
    return FALSE;
  /* Several loud tracks can sum past full scale: clamp rather than wrap
   * (and never pass a NaN from a broken source to the encoder). */
  for (gsize i = 0; i < n * CHANNELS; i++)
    {
      float x = e->mix[i];
      e->mix[i] = isnan (x) ? 0.0f : CLAMP (x, -1.0f, 1.0f);
    }
  return rg_video_writer_write_audio (w, e->mix, n, error);
}

/* Free the decoders of video clips that end at or before t. */
static void
close_passed_video (Exporter *e, RgTime t)
{
  for (guint tr = 0; tr < e->spec->n_video_tracks; tr++)
    for (guint c = 0; c < e->spec->video_tracks[tr].n_clips; c++)
      {
        ClipState *cs = &e->video[tr][c];
        if (cs->video != NULL && cs->clip->start + cs->clip->duration <= t)
          g_clear_pointer (&cs->video, rg_video_reader_free);
      }
}

static gboolean
run (Exporter *e, RgVideoWriter *w, RgExportProgress progress, gpointer user_data,
     GCancellable *cancellable, GError **error)
{
  const RgExportSpec *s = e->spec;
  gint64 t0 = g_get_monotonic_time ();
  for (gint64 i = 0; i < e->n_blocks; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "%s: export cancelled", e->path);
          return FALSE;
        }
      RgTime t = rg_time_from_frame (i, e->block_rate);
      if (e->has_video && !render_video (e, w, t, error))
        return FALSE;
      if (s->sample_rate > 0)
        {
          /* S(i) = round(i · rate / fps), computed from the frame index */
          gint64 a = rg_rescale (i, (gint64)s->sample_rate * e->block_rate.den, e->block_rate.num);
          gint64 b
              = rg_rescale (i + 1, (gint64)s->sample_rate * e->block_rate.den, e->block_rate.num);
          if (!render_audio (e, w, MIN (a, e->n_samples), MIN (b, e->n_samples), error))
            return FALSE;
        }
      close_passed_video (e, rg_time_from_frame (i + 1, e->block_rate));
      if (progress != NULL)
        {
          double done = (double)(i + 1) / e->n_blocks;
          double spent = (g_get_monotonic_time () - t0) / 1e6;
          progress (done, i >= 2 ? spent / done - spent : -1.0, user_data);
        }
    }
  return TRUE;
}

gboolean
rg_export (const RgExportSpec *spec, const char *path, RgExportProgress progress,
           gpointer user_data, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (spec != NULL && path != NULL, FALSE);
  Exporter e = { 0 };
  if (!exporter_init (&e, spec, path, error))
    {
      exporter_clear (&e);
      return FALSE;
    }
  RgVideoWriterOptions wo = {
    .width = e.has_video ? spec->width : 0,
    .height = e.has_video ? spec->height : 0,
    .fps = spec->fps,
    .input = RG_PIXEL_RGBA,
    .sample_rate = spec->sample_rate,
    .channels = CHANNELS,
    .speed = spec->speed,
    .quality = spec->quality,
    .threads = spec->threads,
  };
  RgVideoWriter *w = rg_video_writer_open (path, &wo, error);
  if (w == NULL)
    {
      exporter_clear (&e);
      return FALSE;
    }
  gboolean ok = run (&e, w, progress, user_data, cancellable, error);
  exporter_clear (&e);
  if (!ok)
    {
      rg_video_writer_abort (w);
      return FALSE;
    }
  return rg_video_writer_finish (w, error);
}
