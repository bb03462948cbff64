/* rg-tae.c — the 2.5D temporal autoencoder.
 *
 * Encoder: conv_in → per level a residual block, then (except at the last
 * level) a stride-2 conv25 to the next level's channels, stride 2 in T for
 * the first temporal_down transitions → mid block → GroupNorm, SiLU →
 * conv_out to 2·C (mean, log-variance). The decoder mirrors it, with
 * nearest upsampling followed by a conv25 in place of strided convs.
 *
 * Activations use two arenas in turn: a stage reads its input from one and
 * writes into the other, so memory stays at two stages whatever the depth. */
#include "models/rg-tae.h"

#include "core/rg-error.h"
#include "models/rg-model-private.h"
#include "models/rg-tae-private.h"
#include "nn/rg-nn.h"


RgTae *
rg_tae_new (const RgModelConfig *config, RgParams *p)
{
  const RgTaeConfig *c = &config->tae;
  RgTae *tae = g_new0 (RgTae, 1);
  float eps = 1e-6f;
  int last = c->levels - 1;
  tae->cfg = *c;

  rg_conv25_init (&tae->enc_in, p, "tae.enc.conv_in", c->image_channels, c->channels[0], 1, 1);
  for (int l = 0; l < c->levels; l++)
    {
      g_autofree char *res = g_strdup_printf ("tae.enc.res.%d", l);
      rg_resblock25_init (&tae->enc_res[l], p, res, c->channels[l], c->groups, eps);
      if (l < last)
        {
          g_autofree char *down = g_strdup_printf ("tae.enc.down.%d", l);
          rg_conv25_init (&tae->enc_down[l], p, down, c->channels[l], c->channels[l + 1], 2,
                          rg_tae_time_stride (c, l));
        }
    }
  rg_resblock25_init (&tae->enc_mid, p, "tae.enc.mid", c->channels[last], c->groups, eps);
  rg_groupnorm_init (&tae->enc_norm, p, "tae.enc.norm_out", c->channels[last], c->groups, eps);
  rg_conv25_init (&tae->enc_out, p, "tae.enc.conv_out", c->channels[last],
                  2 * c->latent_channels, 1, 1);
  /* The posterior starts nearly deterministic (σ ≈ e^-3): through unit
   * noise the decoder learns nothing until the encoder has inflated its
   * means far beyond it, which is slow and leaves oversized latents. */
  rg_params_fill (p, tae->enc_out.bt, c->latent_channels, c->latent_channels,
                  RG_TAE_LOGVAR_INIT);

  rg_conv25_init (&tae->dec_in, p, "tae.dec.conv_in", c->latent_channels, c->channels[last], 1,
                  1);
  rg_resblock25_init (&tae->dec_mid, p, "tae.dec.mid", c->channels[last], c->groups, eps);
  for (int l = last; l >= 0; l--)
    {
      g_autofree char *res = g_strdup_printf ("tae.dec.res.%d", l);
      rg_resblock25_init (&tae->dec_res[l], p, res, c->channels[l], c->groups, eps);
      if (l > 0)
        {
          g_autofree char *up = g_strdup_printf ("tae.dec.up.%d", l);
          rg_conv25_init (&tae->dec_up[l], p, up, c->channels[l], c->channels[l - 1], 1, 1);
        }
    }
  rg_groupnorm_init (&tae->dec_norm, p, "tae.dec.norm_out", c->channels[0], c->groups, eps);
  rg_conv25_init (&tae->dec_out, p, "tae.dec.conv_out", c->channels[0], c->image_channels, 1, 1);
  tae->arena[0] = rg_arena_new (32 << 20);
  tae->arena[1] = rg_arena_new (32 << 20);
  return tae;
}

void
rg_tae_free (RgTae *tae)
{
  if (tae == NULL)
    return;
  rg_arena_free (tae->arena[0]);
  rg_arena_free (tae->arena[1]);
  g_free (tae);
}

/* Alternating arenas: next_stage resets the arena that the stage before
 * the previous one used (its tensors are dead: only `x` is carried on). */
typedef struct {
  RgTae *tae;
  int    stage;
} Stages;

static RgArena *
next_stage (Stages *s)
{
  s->stage++;
  RgArena *a = s->tae->arena[s->stage % 2];
  rg_arena_reset (a);
  return a;
}

static gboolean
check_video (const char *what, const RgTensor *t, int64_t c, GError **error)
{
  if (t->dtype != RG_F32 || t->ndim != 5 || t->shape[1] != c || !rg_tensor_is_contiguous (t))
    {
      g_autofree char *s = rg_tensor_shape_string (t);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "TAE: %s has shape %s, expected contiguous f32 [B, %" G_GINT64_FORMAT
                   ", T, H, W]", what, s, c);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_out (const char *what, const RgTensor *t, const int64_t *want, GError **error)
{
  int64_t s[5] = { want[0], want[1], want[2], want[3], want[4] };
  g_autoptr (RgTensor) w = rg_tensor_new_borrowed (RG_F32, 5, s, NULL, NULL, NULL);
  if (t->dtype == RG_F32 && rg_tensor_is_contiguous (t) && rg_tensor_same_shape (t, w))
    return TRUE;
  g_autofree char *ts = rg_tensor_shape_string (t);
  g_autofree char *ws = rg_tensor_shape_string (w);
  g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
               "TAE: %s has shape %s, expected f32 %s", what, ts, ws);
  return FALSE;
}

gboolean
rg_tae_check_encode (const RgTae *tae, const RgTensor *video, const RgTensor *mean,
                     const RgTensor *logvar, GError **error)
{
  const RgTaeConfig *c = &tae->cfg;
  int last = c->levels - 1, ft = 1 << c->temporal_down, fs = 1 << last;
  if (!check_video ("the video", video, c->image_channels, error))
    return FALSE;
  int64_t b = video->shape[0], t = video->shape[2], h = video->shape[3], w = video->shape[4];
  if (t % ft != 0 || h % fs != 0 || w % fs != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "TAE: a %" G_GINT64_FORMAT "-frame %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                   " video is not divisible by the %d× time and %d× space compression",
                   t, w, h, ft, fs);
      return FALSE;
    }
  int64_t lat[5] = { b, c->latent_channels, t / ft, h / fs, w / fs };
  return check_out ("the mean", mean, lat, error)
         && (logvar == NULL || check_out ("the log-variance", logvar, lat, error));
}

gboolean
rg_tae_encode (RgTae *tae, const RgTensor *video, RgTensor *mean, RgTensor *logvar,
               GCancellable *cancellable, GError **error)
{
  const RgTaeConfig *c = &tae->cfg;
  int last = c->levels - 1;
  if (!rg_tae_check_encode (tae, video, mean, logvar, error))
    return FALSE;

  Stages s = { tae, 0 };
  RgTensor *x = rg_conv25_forward (&tae->enc_in, next_stage (&s), video);
  for (int l = 0; l < c->levels; l++)
    {
      if (!rg_model_check_cancel (cancellable, "TAE encode", error))
        {
          rg_tensor_unref (x);
          return FALSE;
        }
      RgTensor *y = rg_resblock25_forward (&tae->enc_res[l], next_stage (&s), x);
      rg_tensor_unref (x);
      x = y;
      if (l < last)
        {
          y = rg_conv25_forward (&tae->enc_down[l], next_stage (&s), x);
          rg_tensor_unref (x);
          x = y;
        }
    }
  RgArena *a = next_stage (&s);
  g_autoptr (RgTensor) m = rg_resblock25_forward (&tae->enc_mid, a, x);
  rg_tensor_unref (x);
  g_autoptr (RgTensor) n = rg_groupnorm_silu_forward (&tae->enc_norm, a, m);
  g_autoptr (RgTensor) out = rg_conv25_forward (&tae->enc_out, a, n);
  /* channels [0, C) are the mean, [C, 2C) the log-variance */
  g_autoptr (RgTensor) mv = rg_tensor_narrow (out, 1, 0, c->latent_channels);
  rg_tensor_copy (mean, mv);
  if (logvar != NULL)
    {
      g_autoptr (RgTensor) lv = rg_tensor_narrow (out, 1, c->latent_channels,
                                                  c->latent_channels);
      rg_tensor_copy (logvar, lv);
    }
  return TRUE;
}

gboolean
rg_tae_check_decode (const RgTae *tae, const RgTensor *latent, const RgTensor *video,
                     GError **error)
{
  const RgTaeConfig *c = &tae->cfg;
  int last = c->levels - 1, ft = 1 << c->temporal_down, fs = 1 << last;
  if (!check_video ("the latent", latent, c->latent_channels, error))
    return FALSE;
  int64_t want[5] = { latent->shape[0], c->image_channels, latent->shape[2] * ft,
                      latent->shape[3] * fs, latent->shape[4] * fs };
  return check_out ("the video", video, want, error);
}

gboolean
rg_tae_decode (RgTae *tae, const RgTensor *latent, RgTensor *video, GCancellable *cancellable,
               GError **error)
{
  const RgTaeConfig *c = &tae->cfg;
  int last = c->levels - 1;
  if (!rg_tae_check_decode (tae, latent, video, error))
    return FALSE;

  Stages s = { tae, 0 };
  RgArena *a = next_stage (&s);
  g_autoptr (RgTensor) in = rg_conv25_forward (&tae->dec_in, a, latent);
  RgTensor *x = rg_resblock25_forward (&tae->dec_mid, a, in);
  for (int l = last; l >= 0; l--)
    {
      if (!rg_model_check_cancel (cancellable, "TAE decode", error))
        {
          rg_tensor_unref (x);
          return FALSE;
        }
      RgTensor *y = rg_resblock25_forward (&tae->dec_res[l], next_stage (&s), x);
      rg_tensor_unref (x);
      x = y;
      if (l > 0)
        {
          /* level l was reached through transition l − 1 */
          int f = rg_tae_time_stride (c, l - 1);
          a = next_stage (&s);
          g_autoptr (RgTensor) up = rg_nn_new (a, 5, x->shape[0], x->shape[1], x->shape[2] * f,
                                               x->shape[3] * 2, x->shape[4] * 2);
          rg_upsample_nearest (x, f, 2, 2, up);
          rg_tensor_unref (x);
          x = rg_conv25_forward (&tae->dec_up[l], a, up);
        }
    }
  a = next_stage (&s);
  g_autoptr (RgTensor) n = rg_groupnorm_silu_forward (&tae->dec_norm, a, x);
  rg_tensor_unref (x);
  g_autoptr (RgTensor) out = rg_conv25_forward (&tae->dec_out, a, n);
  rg_tensor_copy (video, out);
  return TRUE;
}
