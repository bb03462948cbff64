/* rg-nn-attention.c — multi-head self- and cross-attention with QK-norm. */
#include "nn/rg-nn.h"

#include <math.h>
#include <string.h>

void
rg_attention_layer_init (RgAttentionLayer *a, RgParams *p, const char *prefix, int64_t dim,
                         int64_t kv_dim, int heads, gboolean qk_norm, float eps)
{
  static const char *const names[] = { "q", "k", "v", "o" };
  RgLinear *lin[] = { &a->q, &a->k, &a->v, &a->o };
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strconcat (prefix, ".", names[i], NULL);
      rg_linear_init (lin[i], p, name, (i == 1 || i == 2) ? kv_dim : dim, dim, FALSE);
    }
  a->qkv = NULL;
  if (kv_dim == dim)
    {
      RgTensor *parts[3] = { a->q.w, a->k.w, a->v.w };
      a->qkv = rg_params_pack_rows (p, parts, 3);
      a->q.w = parts[0];
      a->k.w = parts[1];
      a->v.w = parts[2];
    }
  a->heads = heads;
  a->qk_norm = qk_norm;
  if (qk_norm)
    {
      g_autofree char *qn = g_strconcat (prefix, ".q_norm", NULL);
      g_autofree char *kn = g_strconcat (prefix, ".k_norm", NULL);
      rg_rmsnorm_init (&a->q_norm, p, qn, dim / heads, TRUE, eps);
      rg_rmsnorm_init (&a->k_norm, p, kn, dim / heads, TRUE, eps);
    }
}

/* RMSNorm over each head's slice: view [..., D] as [numel/Dh, Dh]. */
static void
norm_heads (const RgRmsNorm *n, RgTensor *x, int64_t head_dim)
{
  int64_t shape[2] = { rg_tensor_numel (x) / head_dim, head_dim };
  g_autoptr (RgTensor) view = rg_tensor_reshape (x, 2, shape);
  rg_rmsnorm (view, n->w, n->eps, view);
}

RgTensor *
rg_attention_layer_forward (const RgAttentionLayer *a, RgArena *arena, const RgTensor *x,
                            const RgTensor *context, const int32_t *kv_len)
{
  const RgTensor *kv_src = context != NULL ? context : x;
  int64_t dim = a->q.w->shape[0], head_dim = dim / a->heads;
  /* Keys past every row's kv_len are masked, so their projections are never
   * used: project only the longest valid prefix (prompts are usually much
   * shorter than the text encoder's max_len). */
  g_autoptr (RgTensor) trimmed = NULL;
  if (context != NULL && kv_len != NULL)
    {
      int64_t keep = 1;
      for (int64_t b = 0; b < context->shape[0]; b++)
        keep = MAX (keep, kv_len[b]);
      if (keep < context->shape[1])
        {
          g_autoptr (RgTensor) prefix = rg_tensor_narrow ((RgTensor *) context, 1, 0, keep);
          trimmed = rg_tensor_new_in (arena, RG_F32, 3, prefix->shape);
          rg_tensor_copy (trimmed, prefix);
          kv_src = trimmed;
        }
    }
  g_autoptr (RgTensor) q = NULL, k = NULL, v = NULL;
  if (context == NULL && a->qkv != NULL)
    {
      /* one GEMM for all three projections; rg_attention wants each of
       * q, k, v packed, so the rows are split (a copy, cheap next to the
       * GEMM) */
      int64_t shape[RG_MAX_DIMS];
      for (int d = 0; d < x->ndim; d++)
        shape[d] = x->shape[d];
      shape[x->ndim - 1] = 3 * dim;
      g_autoptr (RgTensor) qkv = rg_tensor_new_in (arena, RG_F32, x->ndim, shape);
      rg_linear (x, a->qkv, NULL, qkv);
      q = rg_tensor_new_in (arena, RG_F32, x->ndim, x->shape);
      k = rg_tensor_new_in (arena, RG_F32, x->ndim, x->shape);
      v = rg_tensor_new_in (arena, RG_F32, x->ndim, x->shape);
      float *dst[3] = { rg_tensor_f32 (q), rg_tensor_f32 (k), rg_tensor_f32 (v) };
      const float *src = rg_tensor_f32 (qkv);
      for (int64_t r = 0, rows = rg_tensor_numel (x) / dim; r < rows; r++)
        for (int i = 0; i < 3; i++)
          memcpy (dst[i] + r * dim, src + (r * 3 + i) * dim, (gsize) dim * sizeof (float));
    }
  else
    {
      q = rg_linear_forward (&a->q, arena, x);
      k = rg_linear_forward (&a->k, arena, kv_src);
      v = rg_linear_forward (&a->v, arena, kv_src);
    }
  if (a->qk_norm)
    {
      norm_heads (&a->q_norm, q, head_dim);
      norm_heads (&a->k_norm, k, head_dim);
    }
  RgAttentionParams params = {
    .n_heads = a->heads,
    .scale = 1.f / sqrtf ((float) head_dim),
    .causal = FALSE,
    .kv_len = kv_len,
  };
  g_autoptr (RgTensor) h = rg_tensor_new_in (arena, RG_F32, q->ndim, q->shape);
  rg_attention (q, k, v, &params, h);
  return rg_linear_forward (&a->o, arena, h);
}
