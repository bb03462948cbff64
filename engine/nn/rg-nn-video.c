/* rg-nn-video.c — 2.5D convolutions, their residual block, and the
 * factorized positional embedding. */
#include "nn/rg-nn.h"

#include <math.h>

void
rg_conv25_init (RgConv25 *c, RgParams *p, const char *prefix, int64_t cin, int64_t cout,
                int stride_s, int stride_t)
{
  g_autofree char *ws = g_strconcat (prefix, ".spatial.weight", NULL);
  g_autofree char *bs = g_strconcat (prefix, ".spatial.bias", NULL);
  g_autofree char *wt = g_strconcat (prefix, ".temporal.weight", NULL);
  g_autofree char *bt = g_strconcat (prefix, ".temporal.bias", NULL);
  int64_t s_shape[4] = { cout, cin, 3, 3 }, t_shape[3] = { cout, cout, 3 }, b_shape[1] = { cout };
  c->ws = rg_params_take (p, ws, RG_INIT_NORMAL, 1.f / sqrtf ((float) (cin * 9)), 4, s_shape);
  c->bs = rg_params_take (p, bs, RG_INIT_NORMAL, 0.02f, 1, b_shape);
  c->wt = rg_params_take (p, wt, RG_INIT_NORMAL, 1.f / sqrtf ((float) (cout * 3)), 3, t_shape);
  c->bt = rg_params_take (p, bt, RG_INIT_NORMAL, 0.02f, 1, b_shape);
  c->stride_s = stride_s;
  c->stride_t = stride_t;
}

/* Output length of a size-3, pad-1 convolution with stride s. */
static int64_t
conv_len (int64_t n, int s)
{
  return (n + 2 - 3) / s + 1;
}

RgTensor *
rg_conv25_forward (const RgConv25 *c, RgArena *arena, const RgTensor *x)
{
  int64_t b = x->shape[0], o = c->ws->shape[0], t = x->shape[2];
  int64_t h = conv_len (x->shape[3], c->stride_s), w = conv_len (x->shape[4], c->stride_s);
  g_autoptr (RgTensor) s = rg_nn_new (arena, 5, b, o, t, h, w);
  rg_conv2d_frames (x, c->ws, c->bs, c->stride_s, RG_PAD_REPLICATE, s);
  RgTensor *y = rg_nn_new (arena, 5, b, o, conv_len (t, c->stride_t), h, w);
  rg_conv1d_time (s, c->wt, c->bt, c->stride_t, RG_PAD_REPLICATE, y);
  return y;
}

void
rg_resblock25_init (RgResBlock25 *r, RgParams *p, const char *prefix, int64_t channels,
                    int groups, float eps)
{
  g_autofree char *n1 = g_strconcat (prefix, ".norm1", NULL);
  g_autofree char *n2 = g_strconcat (prefix, ".norm2", NULL);
  g_autofree char *c1 = g_strconcat (prefix, ".conv1", NULL);
  g_autofree char *c2 = g_strconcat (prefix, ".conv2", NULL);
  rg_groupnorm_init (&r->norm1, p, n1, channels, groups, eps);
  rg_conv25_init (&r->conv1, p, c1, channels, channels, 1, 1);
  rg_groupnorm_init (&r->norm2, p, n2, channels, groups, eps);
  rg_conv25_init (&r->conv2, p, c2, channels, channels, 1, 1);
}

RgTensor *
rg_resblock25_forward (const RgResBlock25 *r, RgArena *arena, const RgTensor *x)
{
  g_autoptr (RgTensor) h1 = rg_groupnorm_silu_forward (&r->norm1, arena, x);
  g_autoptr (RgTensor) h2 = rg_conv25_forward (&r->conv1, arena, h1);
  g_autoptr (RgTensor) h3 = rg_groupnorm_silu_forward (&r->norm2, arena, h2);
  RgTensor *y = rg_conv25_forward (&r->conv2, arena, h3);
  rg_add (y, x, y);
  return y;
}

void
rg_pos_emb3_init (RgPosEmb3 *e, RgParams *p, const char *prefix, int64_t tmax, int64_t hmax,
                  int64_t wmax, int64_t dim)
{
  /* three summed tables: each at 0.02/√3 keeps the sum at DiT's usual 0.02 */
  float std = 0.02f / sqrtf (3.f);
  e->t = rg_params_take2 (p, prefix, "t", RG_INIT_NORMAL, std, tmax, dim);
  e->h = rg_params_take2 (p, prefix, "h", RG_INIT_NORMAL, std, hmax, dim);
  e->w = rg_params_take2 (p, prefix, "w", RG_INIT_NORMAL, std, wmax, dim);
}

RgTensor *
rg_pos_emb3_forward (const RgPosEmb3 *e, RgArena *arena, int64_t t, int64_t h, int64_t w)
{
  g_autoptr (RgTensor) tt = rg_tensor_narrow (e->t, 0, 0, t);
  g_autoptr (RgTensor) th = rg_tensor_narrow (e->h, 0, 0, h);
  g_autoptr (RgTensor) tw = rg_tensor_narrow (e->w, 0, 0, w);
  RgTensor *y = rg_nn_new (arena, 2, t * h * w, e->t->shape[1]);
  rg_pos_emb_factorized (tt, th, tw, y);
  return y;
}

void
rg_add_rows (const RgTensor *x, const RgTensor *pos, RgTensor *y)
{
  int64_t b = x->shape[0];
  for (int64_t i = 0; i < b; i++)
    {
      g_autoptr (RgTensor) xi = rg_tensor_narrow ((RgTensor *) x, 0, i, 1);
      g_autoptr (RgTensor) yi = rg_tensor_narrow (y, 0, i, 1);
      g_autoptr (RgTensor) xv = rg_tensor_reshape (xi, 2, pos->shape);
      g_autoptr (RgTensor) yv = rg_tensor_reshape (yi, 2, pos->shape);
      rg_add (xv, pos, yv);
    }
}
