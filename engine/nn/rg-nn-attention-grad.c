/* rg-nn-attention-grad.c — training passes of the attention layer.
 *
 * The forward keeps q, k, v, their QK-normed versions, the heads' output
 * and the per-row log-sum-exp: with those, rg_attention_backward rebuilds
 * the probabilities block by block, so a pass never holds an N×N matrix. */
#include "nn/rg-nn-grad.h"

#include <math.h>
#include <string.h>

#include "ops/rg-ops-grad.h"

/* [..., D] as [numel / Dh, Dh]: QK-norm is an RMSNorm over each head. */
static RgTensor *
heads_view (const RgTensor *x, int64_t head_dim)
{
  int64_t shape[2] = { rg_tensor_numel (x) / head_dim, head_dim };
  return rg_tensor_reshape ((RgTensor *) x, 2, shape);
}

static void
norm_heads (const RgRmsNorm *n, const RgTensor *x, RgTensor *y, int64_t head_dim)
{
  g_autoptr (RgTensor) xv = heads_view (x, head_dim);
  g_autoptr (RgTensor) yv = heads_view (y, head_dim);
  rg_rmsnorm (xv, n->w, n->eps, yv);
}

static void
norm_heads_backward (const RgRmsNorm *n, RgGrads *g, const RgTensor *x, const RgTensor *dy,
                     RgTensor *dx, int64_t head_dim)
{
  g_autoptr (RgTensor) xv = heads_view (x, head_dim);
  g_autoptr (RgTensor) dyv = heads_view (dy, head_dim);
  g_autoptr (RgTensor) dxv = heads_view (dx, head_dim);
  rg_rmsnorm_layer_backward (n, g, xv, dyv, dxv);
}

RgTensor *
rg_attention_layer_forward_train (const RgAttentionLayer *a, RgArena *arena, const RgTensor *x,
                                  const RgTensor *context, const int32_t *kv_len,
                                  RgAttentionSaved *saved)
{
  int64_t dim = a->q.w->shape[0], head_dim = dim / a->heads, b = x->shape[0];
  saved->x = rg_tensor_ref ((RgTensor *) x);
  /* the caller's kv_len need not outlive this call; the backward needs it */
  if (kv_len != NULL)
    {
      saved->kv_len = rg_arena_alloc (arena, (gsize) b * sizeof (int32_t));
      memcpy (saved->kv_len, kv_len, (gsize) b * sizeof (int32_t));
    }
  const RgTensor *kv_src = x;
  if (context != NULL)
    {
      /* as rg_attention_layer_forward: keys past every row's kv_len are
       * masked, so only the longest valid prefix is projected */
      int64_t keep = context->shape[1];
      if (kv_len != NULL)
        {
          keep = 1;
          for (int64_t i = 0; i < b; i++)
            keep = MAX (keep, kv_len[i]);
        }
      if (keep < context->shape[1])
        {
          g_autoptr (RgTensor) prefix = rg_tensor_narrow ((RgTensor *) context, 1, 0, keep);
          saved->kv = rg_tensor_new_in (arena, RG_F32, 3, prefix->shape);
          rg_tensor_copy (saved->kv, prefix);
        }
      else
        saved->kv = rg_tensor_ref ((RgTensor *) context);
      kv_src = saved->kv;
    }
  if (context == NULL && a->qkv != NULL)
    {
      /* one GEMM for the three projections, split into packed q, k, v as
       * the inference forward does */
      int64_t shape[RG_MAX_DIMS];
      for (int d = 0; d < x->ndim; d++)
        shape[d] = x->shape[d];
      shape[x->ndim - 1] = 3 * dim;
      g_autoptr (RgTensor) qkv = rg_tensor_new_in (arena, RG_F32, x->ndim, shape);
      rg_linear (x, a->qkv, NULL, qkv);
      saved->q = rg_tensor_new_in (arena, RG_F32, x->ndim, x->shape);
      saved->k = rg_tensor_new_in (arena, RG_F32, x->ndim, x->shape);
      saved->v = rg_tensor_new_in (arena, RG_F32, x->ndim, x->shape);
      float *dst[3] = { rg_tensor_f32 (saved->q), rg_tensor_f32 (saved->k),
                        rg_tensor_f32 (saved->v) };
      const float *src = rg_tensor_f32 (qkv);
      for (int64_t r = 0, rows = rg_tensor_numel (x) / dim; r < rows; r++)
        for (int i = 0; i < 3; i++)
          memcpy (dst[i] + r * dim, src + (r * 3 + i) * dim, (gsize) dim * sizeof (float));
    }
  else
    {
      saved->q = rg_linear_forward (&a->q, arena, x);
      saved->k = rg_linear_forward (&a->k, arena, kv_src);
      saved->v = rg_linear_forward (&a->v, arena, kv_src);
    }
  const RgTensor *q = saved->q, *k = saved->k;
  if (a->qk_norm)
    {
      saved->qn = rg_tensor_new_in (arena, RG_F32, q->ndim, q->shape);
      saved->kn = rg_tensor_new_in (arena, RG_F32, k->ndim, k->shape);
      norm_heads (&a->q_norm, q, saved->qn, head_dim);
      norm_heads (&a->k_norm, k, saved->kn, head_dim);
      q = saved->qn;
      k = saved->kn;
    }
  RgAttentionParams params = {
    .n_heads = a->heads,
    .scale = 1.f / sqrtf ((float) head_dim),
    .causal = FALSE,
    .kv_len = saved->kv_len,
  };
  saved->h = rg_tensor_new_in (arena, RG_F32, q->ndim, q->shape);
  saved->lse = rg_nn_new (arena, 3, b, (int64_t) a->heads, q->shape[1]);
  rg_attention_lse (q, k, saved->v, &params, saved->h, saved->lse);
  return rg_linear_forward (&a->o, arena, saved->h);
}

/* dcontext[b, :keep] += dkv[b] for a gradient of the context's prefix. */
static void
add_prefix (const RgTensor *dkv, RgTensor *dcontext)
{
  int64_t keep = dkv->shape[1], l = dcontext->shape[1], c = dcontext->shape[2];
  const float *src = rg_tensor_f32 (dkv);
  float *dst = rg_tensor_f32 (dcontext);
  for (int64_t b = 0; b < dkv->shape[0]; b++)
    for (int64_t i = 0; i < keep * c; i++)
      dst[b * l * c + i] += src[b * keep * c + i];
}

void
rg_attention_layer_backward (const RgAttentionLayer *a, RgGrads *g, RgArena *arena,
                             const RgAttentionSaved *s, const RgTensor *dy, RgTensor *dx,
                             RgTensor *dcontext)
{
  int64_t dim = a->q.w->shape[0], head_dim = dim / a->heads;
  g_return_if_fail (s->kv != NULL || dcontext == NULL);
  g_autoptr (RgTensor) dh = rg_nn_zeros_like (arena, s->h);
  rg_linear_layer_backward (&a->o, g, s->h, dy, dh);

  RgAttentionParams params = {
    .n_heads = a->heads,
    .scale = 1.f / sqrtf ((float) head_dim),
    .causal = FALSE,
    .kv_len = s->kv_len,
  };
  g_autoptr (RgTensor) dqa = rg_nn_zeros_like (arena, s->q);
  g_autoptr (RgTensor) dka = rg_nn_zeros_like (arena, s->k);
  g_autoptr (RgTensor) dv = rg_nn_zeros_like (arena, s->v);
  rg_attention_backward (s->qn != NULL ? s->qn : s->q, s->kn != NULL ? s->kn : s->k, s->v, s->h,
                         s->lse, dh, &params, dqa, dka, dv);
  g_autoptr (RgTensor) dq = NULL, dk = NULL;
  if (a->qk_norm)
    {
      dq = rg_nn_zeros_like (arena, s->q);
      dk = rg_nn_zeros_like (arena, s->k);
      norm_heads_backward (&a->q_norm, g, s->q, dqa, dq, head_dim);
      norm_heads_backward (&a->k_norm, g, s->k, dka, dk, head_dim);
    }
  else
    {
      dq = g_steal_pointer (&dqa);
      dk = g_steal_pointer (&dka);
    }

  if (s->kv == NULL && a->qkv != NULL)
    {
      /* the packed forward's backward: interleave dq | dk | dv per row and
       * run one GEMM backward against qkv (its gradient block is the one
       * q.w, k.w and v.w view) */
      int64_t shape[RG_MAX_DIMS];
      for (int d = 0; d < s->x->ndim; d++)
        shape[d] = s->x->shape[d];
      shape[s->x->ndim - 1] = 3 * dim;
      g_autoptr (RgTensor) dqkv = rg_tensor_new_in (arena, RG_F32, s->x->ndim, shape);
      const float *src[3] = { rg_tensor_f32 (dq), rg_tensor_f32 (dk), rg_tensor_f32 (dv) };
      float *dst = rg_tensor_f32 (dqkv);
      for (int64_t r = 0, rows = rg_tensor_numel (s->x) / dim; r < rows; r++)
        for (int i = 0; i < 3; i++)
          memcpy (dst + (r * 3 + i) * dim, src[i] + r * dim, (gsize) dim * sizeof (float));
      g_autoptr (RgTensor) dw = rg_grads_of (g, a->qkv);
      rg_linear_backward (s->x, a->qkv, dqkv, dx, dw, NULL);
      return;
    }

  rg_linear_layer_backward (&a->q, g, s->x, dq, dx);
  const RgTensor *src = s->kv != NULL ? s->kv : s->x;
  RgTensor *dsrc = s->kv != NULL ? dcontext : dx;
  g_autoptr (RgTensor) dprefix = NULL;
  if (dsrc != NULL && s->kv != NULL && s->kv->shape[1] < dcontext->shape[1])
    {
      /* k and v read a prefix copy of the context */
      dprefix = rg_nn_zeros_like (arena, s->kv);
      dsrc = dprefix;
    }
  rg_linear_layer_backward (&a->k, g, src, dk, dsrc);
  rg_linear_layer_backward (&a->v, g, src, dv, dsrc);
  if (dprefix != NULL)
    add_prefix (dprefix, dcontext);
}

void
rg_attention_saved_clear (RgAttentionSaved *saved)
{
  g_clear_pointer (&saved->x, rg_tensor_unref);
  g_clear_pointer (&saved->kv, rg_tensor_unref);
  g_clear_pointer (&saved->q, rg_tensor_unref);
  g_clear_pointer (&saved->k, rg_tensor_unref);
  g_clear_pointer (&saved->v, rg_tensor_unref);
  g_clear_pointer (&saved->qn, rg_tensor_unref);
  g_clear_pointer (&saved->kn, rg_tensor_unref);
  g_clear_pointer (&saved->h, rg_tensor_unref);
  g_clear_pointer (&saved->lse, rg_tensor_unref);
  saved->kv_len = NULL; /* arena memory */
}
