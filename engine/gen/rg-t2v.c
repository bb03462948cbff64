/* rg-t2v.c — text → latent → frames → MP4. */
#include "rg-t2v.h"

#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "gen/rg-flow.h"
#include "gen/rg-tiled-decode.h"
#include "media/rg-video-writer.h"

const char *
rg_gen_stage_name (RgGenStage stage)
{
  switch (stage)
    {
    case RG_GEN_STAGE_ENCODING_TEXT:
      return "encoding text";
    case RG_GEN_STAGE_DENOISING:
      return "denoising";
    case RG_GEN_STAGE_DECODING:
      return "decoding";
    case RG_GEN_STAGE_WRITING:
      return "writing";
    }
  return "working";
}

void
rg_t2v_params_init (RgT2VParams *params, const RgModelConfig *config)
{
  memset (params, 0, sizeof *params);
  params->prompt = "";
  params->steps = 50;
  params->guidance = 6.0f;
  params->schedule = RG_SCHEDULE_LINEAR_QUADRATIC;
  params->frames = config->video.frames;
  params->width = config->video.width;
  params->height = config->video.height;
  params->fps = (RgRational) { config->video.fps, 1 };
}

static gboolean
latent_shape (const RgT2VParams *params, const RgModelConfig *config, int64_t shape[5],
              GError **error)
{
  shape[0] = 1;
  return rg_model_config_latent_shape (config, params->frames, params->height, params->width,
                                       shape + 1, error);
}

gboolean
rg_t2v_params_validate (const RgT2VParams *params, const RgModelConfig *config, GError **error)
{
  const RgDitConfig *dit = &config->dit;
  int64_t shape[5];

  if (params->prompt == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "text-to-video needs a prompt");
      return FALSE;
    }
  if (params->steps < 1 || params->steps > RG_SCHEDULE_FINE_STEPS)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "steps must be between 1 and %d, not %d", RG_SCHEDULE_FINE_STEPS,
                   params->steps);
      return FALSE;
    }
  if (!isfinite (params->guidance) || params->guidance < 0.0f)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "guidance must be a finite number ≥ 0, not %g", params->guidance);
      return FALSE;
    }
  if (params->fps.num <= 0 || params->fps.den <= 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "frame rate must be positive, not %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                   params->fps.num, params->fps.den);
      return FALSE;
    }
  if (dit->extra_in_channels != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
                   "model “%s” takes %d extra input channels (an edit model), not plain "
                   "text-to-video",
                   config->name, dit->extra_in_channels);
      return FALSE;
    }
  if (params->frames < 1 || params->width < 1 || params->height < 1)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "clip size %d frames of %d×%d is empty", params->frames, params->width,
                   params->height);
      return FALSE;
    }
  if (!latent_shape (params, config, shape, error))
    return FALSE;

  /* The DiT's positional tables bound the token grid; say it in frames
   * and pixels, which is what the user chose. */
  int tf = rg_model_config_tae_time_factor (config);
  int sf = rg_model_config_tae_space_factor (config);
  if (shape[2] % dit->patch_t || shape[3] % dit->patch_h || shape[4] % dit->patch_w)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%d frames of %d×%d do not divide into the model's %d×%d×%d patches of "
                   "%d×%d×%d pixels",
                   params->frames, params->width, params->height, dit->patch_t, dit->patch_h,
                   dit->patch_w, dit->patch_t * tf, dit->patch_h * sf, dit->patch_w * sf);
      return FALSE;
    }
  if (shape[2] / dit->patch_t > dit->pos_t || shape[3] / dit->patch_h > dit->pos_h
      || shape[4] / dit->patch_w > dit->pos_w)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "model “%s” generates at most %d frames of %d×%d; %d frames of %d×%d asked",
                   config->name, dit->pos_t * dit->patch_t * tf, dit->pos_w * dit->patch_w * sf,
                   dit->pos_h * dit->patch_h * sf, params->frames, params->width,
                   params->height);
      return FALSE;
    }
  return TRUE;
}

/* ---- sampling ---- */

typedef struct {
  RgDit                *dit;
  const RgModelConfig  *config;
  float                 guidance;
  RgTensor             *context;     /* [1 or 2, L, D]: conditional (, unconditional) */
  int32_t               context_len[2];
  int32_t               task[2];     /* task 0 is text-to-video */
  RgTensor             *t;           /* [batch] flow time */
  RgTensor             *x2, *v2;     /* batch-2 scratch when guiding */
  const double         *times;
  const RgTensor       *last_v;      /* the solver's velocity of the step just taken */
  const RgGenCallbacks *callbacks;
  gpointer              user_data;
} Sampler;

static gboolean
sampler_velocity (const RgTensor *x, float t, RgTensor *v, gpointer user_data,
                  GCancellable *cancellable, GError **error)
{
  Sampler *s = user_data;
  RgDitInput in = {
    .t = s->t,
    .context = s->context,
    .context_len = s->context_len,
    .task = s->config->dit.n_tasks > 0 ? s->task : NULL,
  };
  float *tt = rg_tensor_f32 (s->t);

  s->last_v = v;
  if (s->x2 == NULL)
    {
      tt[0] = t;
      in.x = x;
      return rg_dit_forward (s->dit, &in, v, cancellable, error);
    }

  /* Conditional and unconditional passes as one batch of 2. */
  gsize bytes = rg_tensor_nbytes (x);
  memcpy (s->x2->data, x->data, bytes);
  memcpy ((char *) s->x2->data + bytes, x->data, bytes);
  tt[0] = tt[1] = t;
  in.x = s->x2;
  if (!rg_dit_forward (s->dit, &in, s->v2, cancellable, error))
    return FALSE;
  rg_cfg_combine_batched (s->v2, s->guidance, v);
  return TRUE;
}

/* The first three latent channels of the middle latent frame of the
 * predicted clean latent x̂₁ = x + (1 − t)·v, each stretched to 0…255: a
 * cheap, honest look at the layout forming, not a decoded frame. */
static guint8 *
latent_preview (const RgTensor *x, const RgTensor *v, double t, int *width, int *height)
{
  int64_t c = x->shape[1], nt = x->shape[2], h = x->shape[3], w = x->shape[4];
  int64_t hw = h * w;
  const float *xs = rg_tensor_f32 (x), *vs = rg_tensor_f32 (v);
  guint8 *rgb = g_malloc (hw * 3);
  float *plane = g_new (float, hw);

  for (int ch = 0; ch < 3; ch++)
    {
      int64_t base = (MIN (ch, c - 1) * nt + nt / 2) * hw;
      float lo = INFINITY, hi = -INFINITY;
      for (int64_t i = 0; i < hw; i++)
        {
          plane[i] = xs[base + i] + (float) (1.0 - t) * vs[base + i];
          lo = MIN (lo, plane[i]);
          hi = MAX (hi, plane[i]);
        }
      float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
      for (int64_t i = 0; i < hw; i++)
        rgb[i * 3 + ch] = (guint8) lrintf ((plane[i] - lo) * scale);
    }
  g_free (plane);
  *width = (int) w;
  *height = (int) h;
  return rgb;
}

static void
sampler_step (int step, int n_steps, const RgTensor *x, gpointer user_data)
{
  Sampler *s = user_data;
  const RgGenCallbacks *cb = s->callbacks;

  if (cb == NULL)
    return;
  if (cb->step)
    cb->step (step, n_steps, s->user_data);
  if (cb->preview && cb->preview_every > 0 && (step % cb->preview_every == 0 || step == n_steps))
    {
      int w, h;
      g_autofree guint8 *rgb = latent_preview (x, s->last_v, s->times[step], &w, &h);
      cb->preview (rgb, w, h, s->user_data);
    }
}

static void
stage (const RgGenCallbacks *callbacks, RgGenStage which, gpointer user_data)
{
  if (callbacks && callbacks->stage)
    callbacks->stage (which, user_data);
}

RgTensor *
rg_t2v_sample (RgModel *model, const RgT2VParams *params, const RgGenCallbacks *callbacks,
               gpointer user_data, GCancellable *cancellable, GError **error)
{
  const RgModelConfig *config = rg_model_get_config (model);
  int64_t shape[5];

  if (!rg_t2v_params_validate (params, config, error) || !latent_shape (params, config, shape, error))
    return NULL;

  g_autofree double *times = rg_schedule_new (params->schedule, params->steps,
                                              RG_SCHEDULE_FINE_STEPS, error);
  if (times == NULL)
    return NULL;

  /* g = 1 is the conditional velocity alone: skip the unconditional pass. */
  gboolean guided = params->guidance != 1.0f;
  const char *prompts[2] = {
    params->prompt,
    params->negative_prompt ? params->negative_prompt : "",
  };
  Sampler s = {
    .dit = rg_model_get_dit (model),
    .config = config,
    .guidance = params->guidance,
    .times = times,
    .callbacks = callbacks,
    .user_data = user_data,
  };

  stage (callbacks, RG_GEN_STAGE_ENCODING_TEXT, user_data);
  s.context = rg_text_encoder_encode (rg_model_get_text_encoder (model), prompts, guided ? 2 : 1,
                                      s.context_len, cancellable, error);
  if (s.context == NULL)
    return NULL;

  RgTensor *x = rg_flow_noise (params->seed, RG_FLOW_STREAM_LATENT, 5, shape);
  s.t = rg_tensor_f32_new (1, (int64_t) (guided ? 2 : 1));
  if (guided)
    {
      int64_t shape2[5] = { 2, shape[1], shape[2], shape[3], shape[4] };
      s.x2 = rg_tensor_new (RG_F32, 5, shape2);
      s.v2 = rg_tensor_new (RG_F32, 5, shape2);
    }

  stage (callbacks, RG_GEN_STAGE_DENOISING, user_data);
  gboolean ok = rg_flow_euler (x, times, params->steps, sampler_velocity, sampler_step, &s,
                               cancellable, error);

  g_clear_pointer (&s.context, rg_tensor_unref);
  g_clear_pointer (&s.t, rg_tensor_unref);
  g_clear_pointer (&s.x2, rg_tensor_unref);
  g_clear_pointer (&s.v2, rg_tensor_unref);
  if (!ok)
    g_clear_pointer (&x, rg_tensor_unref);
  return x;
}

/* ---- decoding ---- */

typedef struct {
  RgTae                *tae;
  int                   done, n_tiles;
  const RgGenCallbacks *callbacks;
  gpointer              user_data;
} Decoder;

static gboolean
tae_decode_tile (const RgTensor *latent, RgTensor *video, gpointer data,
                 GCancellable *cancellable, GError **error)
{
  Decoder *d = data;
  if (!rg_tae_decode (d->tae, latent, video, cancellable, error))
    return FALSE;
  if (d->callbacks && d->callbacks->step)
    d->callbacks->step (++d->done, d->n_tiles, d->user_data);
  return TRUE;
}

/* video [1, 3, T, H, W] in [-1, 1] → frames [T, H, W, 3] u8. */
static RgTensor *
video_to_rgb24 (const RgTensor *video)
{
  int64_t t = video->shape[2], h = video->shape[3], w = video->shape[4];
  int64_t shape[4] = { t, h, w, 3 }, hw = h * w;
  RgTensor *frames = rg_tensor_new (RG_U8, 4, shape);
  const float *src = rg_tensor_f32 (video);
  guint8 *dst = frames->data;

  for (int64_t f = 0; f < t; f++)
    for (int c = 0; c < 3; c++)
      {
        const float *plane = src + (c * t + f) * hw;
        guint8 *out = dst + f * hw * 3 + c;
        for (int64_t i = 0; i < hw; i++)
          {
            float p = (plane[i] + 1.0f) * 127.5f;
            /* NaN from a broken model lands on 0 rather than in UB */
            out[i * 3] = (guint8) (p > 0.0f ? (p < 255.0f ? lrintf (p) : 255) : 0);
          }
      }
  return frames;
}

RgTensor *
rg_t2v_decode (RgModel *model, const RgTensor *latent, const RgGenCallbacks *callbacks,
               gpointer user_data, GCancellable *cancellable, GError **error)
{
  const RgModelConfig *config = rg_model_get_config (model);
  int tf = rg_model_config_tae_time_factor (config);
  int sf = rg_model_config_tae_space_factor (config);

  g_return_val_if_fail (latent->ndim == 5 && latent->shape[0] == 1, NULL);

  int64_t shape[5] = { 1, config->tae.image_channels, latent->shape[2] * tf,
                       latent->shape[3] * sf, latent->shape[4] * sf };
  g_autoptr (RgTensor) video = rg_tensor_new (RG_F32, 5, shape);
  /* the DiT's latents are normalised (rg-model-config.h): back to the TAE's scale */
  g_autoptr (RgTensor) z = rg_tensor_clone (latent);
  float *zd = rg_tensor_f32 (z);
  for (int64_t i = 0, n = rg_tensor_numel (z); i < n; i++)
    zd[i] = zd[i] * config->tae.latent_std + config->tae.latent_mean;
  /* Tiles are the clip length the TAE was trained on, overlapping by a
   * quarter of it (at least one latent frame) for the cross-fade. */
  int tile = MAX (1, config->video.frames / tf);
  int overlap = tile > 1 ? MAX (1, tile / 4) : 0;

  Decoder d = {
    .tae = rg_model_get_tae (model),
    .n_tiles = rg_tiled_decode_n_tiles (latent->shape[2], tile, overlap),
    .callbacks = callbacks,
    .user_data = user_data,
  };
  if (!rg_tiled_decode (z, tile, overlap, tf, tae_decode_tile, &d, video, cancellable, error))
    return NULL;
  return video_to_rgb24 (video);
}

/* ---- writing ---- */

gboolean
rg_t2v_write (const RgTensor *frames, RgRational fps, const char *path,
              GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (frames->ndim == 4 && frames->dtype == RG_U8 && frames->shape[3] == 3,
                        FALSE);

  RgVideoWriterOptions opts = {
    .width = (int) frames->shape[2],
    .height = (int) frames->shape[1],
    .fps = fps,
    .input = RG_PIXEL_RGB24,
    .speed = RG_ENCODE_BALANCED,
  };
  g_autoptr (RgVideoWriter) writer = rg_video_writer_open (path, &opts, error);
  if (writer == NULL)
    return FALSE;

  gsize stride = (gsize) opts.width * 3, frame_bytes = stride * (gsize) opts.height;
  for (int64_t f = 0; f < frames->shape[0]; f++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          /* the autoptr aborts the writer, which removes the partial file */
          g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "cancelled while writing %s", path);
          return FALSE;
        }
      if (!rg_video_writer_write_rgb (writer, (const guint8 *) frames->data + f * frame_bytes,
                                      stride, error))
        return FALSE;
    }
  return rg_video_writer_finish (g_steal_pointer (&writer), error);
}

gboolean
rg_t2v_run (RgModel *model, const RgT2VParams *params, const char *output_path,
            const RgGenCallbacks *callbacks, gpointer user_data, GCancellable *cancellable,
            GError **error)
{
  g_autoptr (RgTensor) latent
      = rg_t2v_sample (model, params, callbacks, user_data, cancellable, error);
  if (latent == NULL)
    return FALSE;

  stage (callbacks, RG_GEN_STAGE_DECODING, user_data);
  g_autoptr (RgTensor) frames
      = rg_t2v_decode (model, latent, callbacks, user_data, cancellable, error);
  if (frames == NULL)
    return FALSE;

  stage (callbacks, RG_GEN_STAGE_WRITING, user_data);
  return rg_t2v_write (frames, params->fps, output_path, cancellable, error);
}
