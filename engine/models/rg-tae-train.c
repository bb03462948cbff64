/* rg-tae-train.c — the TAE's training passes: the same stages as
 * rg-tae.c, run through the layers' _forward_train so every activation the
 * backward needs stays in the tape's arena until the next reset. */
#include "models/rg-tae-train.h"

#include <string.h>

#include "core/rg-error.h"
#include "models/rg-tae-private.h"
#include "nn/rg-nn-grad.h"
#include "ops/rg-ops-grad.h"

typedef struct {
  RgConv25Saved     in;
  RgResBlock25Saved res[RG_TAE_MAX_LEVELS];
  RgConv25Saved     down[RG_TAE_MAX_LEVELS];
  RgResBlock25Saved mid;
  RgTensor         *norm_in; /* the output GroupNorm's input */
  RgConv25Saved     out;
  gboolean          done;
} EncoderTape;

typedef struct {
  RgConv25Saved     in;
  RgResBlock25Saved mid;
  RgResBlock25Saved res[RG_TAE_MAX_LEVELS];
  RgTensor         *up_in[RG_TAE_MAX_LEVELS]; /* what nearest upsampling l read */
  RgConv25Saved     up[RG_TAE_MAX_LEVELS];
  RgTensor         *norm_in;
  RgConv25Saved     out;
  gboolean          done;
} DecoderTape;

struct _RgTaeTape {
  RgArena    *arena;
  EncoderTape enc;
  DecoderTape dec;
};

RgTaeTape *
rg_tae_tape_new (const RgTae *tae)
{
  (void) tae;
  RgTaeTape *tape = g_new0 (RgTaeTape, 1);
  tape->arena = rg_arena_new (64 << 20);
  return tape;
}

static void
clear_encoder (EncoderTape *e)
{
  rg_conv25_saved_clear (&e->in);
  for (int l = 0; l < RG_TAE_MAX_LEVELS; l++)
    {
      rg_resblock25_saved_clear (&e->res[l]);
      rg_conv25_saved_clear (&e->down[l]);
    }
  rg_resblock25_saved_clear (&e->mid);
  g_clear_pointer (&e->norm_in, rg_tensor_unref);
  rg_conv25_saved_clear (&e->out);
  e->done = FALSE;
}

static void
clear_decoder (DecoderTape *d)
{
  rg_conv25_saved_clear (&d->in);
  rg_resblock25_saved_clear (&d->mid);
  for (int l = 0; l < RG_TAE_MAX_LEVELS; l++)
    {
      rg_resblock25_saved_clear (&d->res[l]);
      g_clear_pointer (&d->up_in[l], rg_tensor_unref);
      rg_conv25_saved_clear (&d->up[l]);
    }
  g_clear_pointer (&d->norm_in, rg_tensor_unref);
  rg_conv25_saved_clear (&d->out);
  d->done = FALSE;
}

void
rg_tae_tape_reset (RgTaeTape *tape)
{
  clear_encoder (&tape->enc);
  clear_decoder (&tape->dec);
  rg_arena_reset (tape->arena);
}

void
rg_tae_tape_free (RgTaeTape *tape)
{
  if (tape == NULL)
    return;
  rg_tae_tape_reset (tape);
  rg_arena_free (tape->arena);
  g_free (tape);
}

/* The closing GroupNorm → SiLU → conv of both halves. */
static RgTensor *
norm_silu_conv_train (const RgGroupNorm *norm, const RgConv25 *conv, RgArena *arena,
                      const RgTensor *x, RgTensor **norm_in, RgConv25Saved *saved)
{
  *norm_in = rg_tensor_ref ((RgTensor *) x);
  g_autoptr (RgTensor) act = rg_groupnorm_silu_forward (norm, arena, x);
  return rg_conv25_forward_train (conv, arena, act, saved);
}

static void
norm_silu_conv_backward (const RgGroupNorm *norm, const RgConv25 *conv, RgGrads *g,
                         RgArena *arena, const RgTensor *norm_in, const RgConv25Saved *saved,
                         const RgTensor *dy, RgTensor *dx)
{
  g_autoptr (RgTensor) dact = rg_nn_zeros_like (arena, norm_in);
  rg_conv25_backward (conv, g, arena, saved, dy, dact);
  rg_groupnorm_silu_layer_backward (norm, g, norm_in, dact, dx);
}

gboolean
rg_tae_encode_train (RgTae *tae, RgTaeTape *tape, const RgTensor *video, RgTensor *mean,
                     RgTensor *logvar, GError **error)
{
  const RgTaeConfig *c = &tae->cfg;
  int last = c->levels - 1;
  g_return_val_if_fail (logvar != NULL, FALSE);
  if (!rg_tae_check_encode (tae, video, mean, logvar, error))
    return FALSE;
  EncoderTape *e = &tape->enc;
  clear_encoder (e);
  RgArena *a = tape->arena;

  RgTensor *x = rg_conv25_forward_train (&tae->enc_in, a, video, &e->in);
  for (int l = 0; l < c->levels; l++)
    {
      RgTensor *y = rg_resblock25_forward_train (&tae->enc_res[l], a, x, &e->res[l]);
      rg_tensor_unref (x);
      x = y;
      if (l < last)
        {
          y = rg_conv25_forward_train (&tae->enc_down[l], a, x, &e->down[l]);
          rg_tensor_unref (x);
          x = y;
        }
    }
  g_autoptr (RgTensor) m = rg_resblock25_forward_train (&tae->enc_mid, a, x, &e->mid);
  rg_tensor_unref (x);
  g_autoptr (RgTensor) out = norm_silu_conv_train (&tae->enc_norm, &tae->enc_out, a, m,
                                                   &e->norm_in, &e->out);
  g_autoptr (RgTensor) mv = rg_tensor_narrow (out, 1, 0, c->latent_channels);
  g_autoptr (RgTensor) lv = rg_tensor_narrow (out, 1, c->latent_channels, c->latent_channels);
  rg_tensor_copy (mean, mv);
  rg_tensor_copy (logvar, lv);
  e->done = TRUE;
  return TRUE;
}

void
rg_tae_encode_backward (RgTae *tae, RgTaeTape *tape, RgGrads *g, const RgTensor *dmean,
                        const RgTensor *dlogvar)
{
  const RgTaeConfig *c = &tae->cfg;
  EncoderTape *e = &tape->enc;
  RgArena *a = tape->arena;
  int last = c->levels - 1;
  g_return_if_fail (e->done);

  /* the conv's output is [mean | logvar] along channels */
  int64_t shape[5] = { dmean->shape[0], 2 * c->latent_channels, dmean->shape[2],
                       dmean->shape[3], dmean->shape[4] };
  g_autoptr (RgTensor) dout = rg_tensor_new_in (a, RG_F32, 5, shape);
  {
    g_autoptr (RgTensor) dm = rg_tensor_narrow (dout, 1, 0, c->latent_channels);
    g_autoptr (RgTensor) dl = rg_tensor_narrow (dout, 1, c->latent_channels, c->latent_channels);
    rg_tensor_copy (dm, dmean);
    rg_tensor_copy (dl, dlogvar);
  }
  g_autoptr (RgTensor) dmid = rg_nn_zeros_like (a, e->norm_in);
  norm_silu_conv_backward (&tae->enc_norm, &tae->enc_out, g, a, e->norm_in, &e->out,
                           dout, dmid);
  RgTensor *dx = rg_nn_zeros_like (a, e->mid.x);
  rg_resblock25_backward (&tae->enc_mid, g, a, &e->mid, dmid, dx);
  for (int l = last; l >= 0; l--)
    {
      RgTensor *dprev;
      if (l < last)
        {
          dprev = rg_nn_zeros_like (a, e->down[l].x);
          rg_conv25_backward (&tae->enc_down[l], g, a, &e->down[l], dx, dprev);
          rg_tensor_unref (dx);
          dx = dprev;
        }
      dprev = rg_nn_zeros_like (a, e->res[l].x);
      rg_resblock25_backward (&tae->enc_res[l], g, a, &e->res[l], dx, dprev);
      rg_tensor_unref (dx);
      dx = dprev;
    }
  /* the video is data: conv_in's input gradient is not needed */
  rg_conv25_backward (&tae->enc_in, g, a, &e->in, dx, NULL);
  rg_tensor_unref (dx);
}

gboolean
rg_tae_decode_train (RgTae *tae, RgTaeTape *tape, const RgTensor *latent, RgTensor *video,
                     GError **error)
{
  const RgTaeConfig *c = &tae->cfg;
  int last = c->levels - 1;
  if (!rg_tae_check_decode (tae, latent, video, error))
    return FALSE;
  DecoderTape *d = &tape->dec;
  clear_decoder (d);
  RgArena *a = tape->arena;

  g_autoptr (RgTensor) in = rg_conv25_forward_train (&tae->dec_in, a, latent, &d->in);
  RgTensor *x = rg_resblock25_forward_train (&tae->dec_mid, a, in, &d->mid);
  for (int l = last; l >= 0; l--)
    {
      RgTensor *y = rg_resblock25_forward_train (&tae->dec_res[l], a, x, &d->res[l]);
      rg_tensor_unref (x);
      x = y;
      if (l > 0)
        {
          int f = rg_tae_time_stride (c, l - 1);
          g_autoptr (RgTensor) up = rg_nn_new (a, 5, x->shape[0], x->shape[1], x->shape[2] * f,
                                               x->shape[3] * 2, x->shape[4] * 2);
          rg_upsample_nearest (x, f, 2, 2, up);
          d->up_in[l] = x;
          x = rg_conv25_forward_train (&tae->dec_up[l], a, up, &d->up[l]);
        }
    }
  g_autoptr (RgTensor) out = norm_silu_conv_train (&tae->dec_norm, &tae->dec_out, a, x,
                                                   &d->norm_in, &d->out);
  rg_tensor_unref (x);
  rg_tensor_copy (video, out);
  d->done = TRUE;
  return TRUE;
}

void
rg_tae_decode_backward (RgTae *tae, RgTaeTape *tape, RgGrads *g, const RgTensor *dvideo,
                        RgTensor *dlatent)
{
  const RgTaeConfig *c = &tae->cfg;
  DecoderTape *d = &tape->dec;
  RgArena *a = tape->arena;
  int last = c->levels - 1;
  g_return_if_fail (d->done);

  RgTensor *dx = rg_nn_zeros_like (a, d->norm_in);
  norm_silu_conv_backward (&tae->dec_norm, &tae->dec_out, g, a, d->norm_in, &d->out,
                           dvideo, dx);
  for (int l = 0; l <= last; l++)
    {
      RgTensor *dprev;
      if (l > 0)
        {
          int f = rg_tae_time_stride (c, l - 1);
          g_autoptr (RgTensor) dup = rg_nn_zeros_like (a, d->up[l].x);
          rg_conv25_backward (&tae->dec_up[l], g, a, &d->up[l], dx, dup);
          rg_tensor_unref (dx);
          dx = rg_nn_zeros_like (a, d->up_in[l]);
          rg_upsample_nearest_backward (dup, f, 2, 2, dx);
        }
      dprev = rg_nn_zeros_like (a, d->res[l].x);
      rg_resblock25_backward (&tae->dec_res[l], g, a, &d->res[l], dx, dprev);
      rg_tensor_unref (dx);
      dx = dprev;
    }
  g_autoptr (RgTensor) din = rg_nn_zeros_like (a, d->mid.x);
  rg_resblock25_backward (&tae->dec_mid, g, a, &d->mid, dx, din);
  rg_tensor_unref (dx);
  rg_conv25_backward (&tae->dec_in, g, a, &d->in, din, dlatent);
}
