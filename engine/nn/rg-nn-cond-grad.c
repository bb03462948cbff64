/* rg-nn-cond-grad.c — training passes of the conditioning layers: the
 * flow-time embedding, the adaLN split, the positional tables and their
 * per-row addition. */
#include "nn/rg-nn-grad.h"

#include "ops/rg-ops-grad.h"

RgTensor *
rg_time_embed_forward_train (const RgTimeEmbed *e, RgArena *arena, const RgTensor *t,
                             RgTimeEmbedSaved *saved)
{
  int64_t b = t->shape[0];
  g_autoptr (RgTensor) ts = rg_nn_new (arena, 1, b);
  rg_scale (t, 1000.f, ts);
  saved->freq = rg_nn_new (arena, 2, b, (int64_t) e->freq_dim);
  rg_timestep_embedding (ts, 10000.f, saved->freq);
  saved->h = rg_linear_forward (&e->fc1, arena, saved->freq);
  /* the inference forward applies SiLU in place; its input is kept here */
  saved->a = rg_tensor_new_in (arena, RG_F32, 2, saved->h->shape);
  rg_silu (saved->h, saved->a);
  return rg_linear_forward (&e->fc2, arena, saved->a);
}

void
rg_time_embed_backward (const RgTimeEmbed *e, RgGrads *g, RgArena *arena,
                        const RgTimeEmbedSaved *saved, const RgTensor *dy)
{
  g_autoptr (RgTensor) da = rg_nn_zeros_like (arena, saved->a);
  rg_linear_layer_backward (&e->fc2, g, saved->a, dy, da);
  g_autoptr (RgTensor) dh = rg_nn_zeros_like (arena, saved->h);
  rg_silu_backward (saved->h, da, dh);
  rg_linear_layer_backward (&e->fc1, g, saved->freq, dh, NULL);
}

void
rg_time_embed_saved_clear (RgTimeEmbedSaved *saved)
{
  g_clear_pointer (&saved->freq, rg_tensor_unref);
  g_clear_pointer (&saved->h, rg_tensor_unref);
  g_clear_pointer (&saved->a, rg_tensor_unref);
}

void
rg_adaln_split_backward (const RgTensor *const *dout, int n, RgTensor *dmod, RgTensor *dtable)
{
  int64_t b = -1, d = -1;
  for (int k = 0; k < n; k++)
    if (dout[k] != NULL)
      {
        b = dout[k]->shape[0];
        d = dout[k]->shape[1];
      }
  if (b < 0)
    return;
  g_return_if_fail (dmod == NULL || (dmod->shape[0] == b && dmod->shape[1] == n * d));
  g_return_if_fail (dtable == NULL || (dtable->shape[0] == n && dtable->shape[1] == d));
  float *dm = dmod != NULL ? rg_tensor_f32 (dmod) : NULL;
  float *dt = dtable != NULL ? rg_tensor_f32 (dtable) : NULL;
  for (int k = 0; k < n; k++)
    {
      if (dout[k] == NULL)
        continue;
      g_return_if_fail (dout[k]->shape[0] == b && dout[k]->shape[1] == d);
      const float *o = rg_tensor_f32 (dout[k]);
      /* rows in batch order: the table's sum does not depend on threads */
      for (int64_t i = 0; i < b; i++)
        for (int64_t j = 0; j < d; j++)
          {
            if (dm != NULL)
              dm[i * n * d + k * d + j] += o[i * d + j];
            if (dt != NULL)
              dt[k * d + j] += o[i * d + j];
          }
    }
}

void
rg_pos_emb3_backward (const RgPosEmb3 *e, RgGrads *g, const RgTensor *dy, int64_t t, int64_t h,
                      int64_t w)
{
  g_autoptr (RgTensor) gt = rg_grads_of (g, e->t);
  g_autoptr (RgTensor) gh = rg_grads_of (g, e->h);
  g_autoptr (RgTensor) gw = rg_grads_of (g, e->w);
  g_return_if_fail (gt != NULL && gh != NULL && gw != NULL);
  /* the forward read the tables' first rows: so does the gradient */
  g_autoptr (RgTensor) dt = rg_tensor_narrow (gt, 0, 0, t);
  g_autoptr (RgTensor) dh = rg_tensor_narrow (gh, 0, 0, h);
  g_autoptr (RgTensor) dw = rg_tensor_narrow (gw, 0, 0, w);
  rg_pos_emb_factorized_backward (dy, dt, dh, dw);
}

void
rg_add_rows_backward (const RgTensor *dy, RgTensor *dx, RgTensor *dpos)
{
  if (dx != NULL)
    rg_add_backward (dy, dx, NULL);
  if (dpos == NULL)
    return;
  for (int64_t i = 0; i < dy->shape[0]; i++)
    {
      g_autoptr (RgTensor) row = rg_tensor_narrow ((RgTensor *) dy, 0, i, 1);
      g_autoptr (RgTensor) dyi = rg_tensor_reshape (row, 2, dpos->shape);
      rg_add_backward (dyi, dpos, NULL);
    }
}
