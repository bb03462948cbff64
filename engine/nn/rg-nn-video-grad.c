/* rg-nn-video-grad.c — training passes of the 2.5D conv, its residual
 * block and GroupNorm. */
#include "nn/rg-nn-grad.h"

#include <string.h>

#include "ops/rg-ops-grad.h"

RgTensor *
rg_nn_new_like (RgArena *arena, const RgTensor *t)
{
  return rg_tensor_new_in (arena, RG_F32, t->ndim, t->shape);
}

RgTensor *
rg_nn_zeros_like (RgArena *arena, const RgTensor *t)
{
  RgTensor *z = rg_nn_new_like (arena, t);
  memset (z->data, 0, rg_tensor_nbytes (z));
  return z;
}

static void
clear_ref (RgTensor **t)
{
  g_clear_pointer (t, rg_tensor_unref);
}

void
rg_groupnorm_silu_layer_backward (const RgGroupNorm *n, RgGrads *g, const RgTensor *x,
                                  const RgTensor *dy, RgTensor *dx)
{
  g_autoptr (RgTensor) dw = rg_grads_of (g, n->w);
  g_autoptr (RgTensor) db = rg_grads_of (g, n->b);
  rg_groupnorm_silu_backward (x, n->groups, n->w, n->b, n->eps, dy, dx, dw, db);
}

/* Output length of a size-3, pad-1 convolution with stride s. */
static int64_t
conv_len (int64_t n, int s)
{
  return (n + 2 - 3) / s + 1;
}

RgTensor *
rg_conv25_forward_train (const RgConv25 *c, RgArena *arena, const RgTensor *x,
                         RgConv25Saved *saved)
{
  int64_t b = x->shape[0], o = c->ws->shape[0], t = x->shape[2];
  int64_t h = conv_len (x->shape[3], c->stride_s), w = conv_len (x->shape[4], c->stride_s);
  RgTensor *s = rg_nn_new (arena, 5, b, o, t, h, w);
  rg_conv2d_frames (x, c->ws, c->bs, c->stride_s, RG_PAD_REPLICATE, s);
  RgTensor *y = rg_nn_new (arena, 5, b, o, conv_len (t, c->stride_t), h, w);
  rg_conv1d_time (s, c->wt, c->bt, c->stride_t, RG_PAD_REPLICATE, y);
  saved->x = rg_tensor_ref ((RgTensor *) x);
  saved->s = s;
  return y;
}

void
rg_conv25_backward (const RgConv25 *c, RgGrads *g, RgArena *arena, const RgConv25Saved *saved,
                    const RgTensor *dy, RgTensor *dx)
{
  g_autoptr (RgTensor) ds = rg_nn_zeros_like (arena, saved->s);
  g_autoptr (RgTensor) dwt = rg_grads_of (g, c->wt);
  g_autoptr (RgTensor) dbt = rg_grads_of (g, c->bt);
  rg_conv1d_time_backward (saved->s, c->wt, c->stride_t, RG_PAD_REPLICATE, dy, ds, dwt, dbt);
  g_autoptr (RgTensor) dws = rg_grads_of (g, c->ws);
  g_autoptr (RgTensor) dbs = rg_grads_of (g, c->bs);
  rg_conv2d_frames_backward (saved->x, c->ws, c->stride_s, RG_PAD_REPLICATE, ds, dx, dws, dbs);
}

void
rg_conv25_saved_clear (RgConv25Saved *saved)
{
  clear_ref (&saved->x);
  clear_ref (&saved->s);
}

RgTensor *
rg_resblock25_forward_train (const RgResBlock25 *r, RgArena *arena, const RgTensor *x,
                             RgResBlock25Saved *saved)
{
  saved->x = rg_tensor_ref ((RgTensor *) x);
  g_autoptr (RgTensor) a1 = rg_groupnorm_silu_forward (&r->norm1, arena, x);
  saved->h2 = rg_conv25_forward_train (&r->conv1, arena, a1, &saved->conv1);
  g_autoptr (RgTensor) a2 = rg_groupnorm_silu_forward (&r->norm2, arena, saved->h2);
  RgTensor *y = rg_conv25_forward_train (&r->conv2, arena, a2, &saved->conv2);
  rg_add (y, x, y);
  return y;
}

void
rg_resblock25_backward (const RgResBlock25 *r, RgGrads *g, RgArena *arena,
                        const RgResBlock25Saved *s, const RgTensor *dy, RgTensor *dx)
{
  g_autoptr (RgTensor) da2 = rg_nn_zeros_like (arena, s->h2);
  rg_conv25_backward (&r->conv2, g, arena, &s->conv2, dy, da2);
  g_autoptr (RgTensor) dh2 = rg_nn_zeros_like (arena, s->h2);
  rg_groupnorm_silu_layer_backward (&r->norm2, g, s->h2, da2, dh2);
  g_autoptr (RgTensor) da1 = rg_nn_zeros_like (arena, s->x);
  rg_conv25_backward (&r->conv1, g, arena, &s->conv1, dh2, da1);
  rg_groupnorm_silu_layer_backward (&r->norm1, g, s->x, da1, dx);
  if (dx != NULL)
    rg_add_backward (dy, dx, NULL); /* the residual path */
}

void
rg_resblock25_saved_clear (RgResBlock25Saved *saved)
{
  clear_ref (&saved->x);
  clear_ref (&saved->h2);
  rg_conv25_saved_clear (&saved->conv1);
  rg_conv25_saved_clear (&saved->conv2);
}
