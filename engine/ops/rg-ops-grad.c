/* rg-ops-grad.c — argument checks and dispatch of the backward passes
 * (rg-ops-grad.h). As in rg-ops.c, a failed check is a programming error:
 * g_return_if_fail logs it and no gradient is touched. */
#include "ops/rg-ops-check.h"

/* NULL, or a packed f32 gradient shaped like t, on its backend, aliasing
 * neither t nor the upstream gradient (it is accumulated into). */
static inline gboolean
is_grad_of (const RgTensor *g, const RgTensor *t, const RgTensor *dy)
{
  return g == NULL
         || (is_f32 (g) && g->backend == t->backend && rg_tensor_same_shape (g, t)
             && g->data != t->data && g->data != dy->data);
}

/* A gradient for an optional forward input: shaped [n] when given. */
static inline gboolean
is_vec_grad (const RgTensor *g, int64_t n, const RgTensor *dy)
{
  return g == NULL
         || (is_f32 (g) && g->backend == dy->backend && is_vec (g, n) && g->data != dy->data);
}

/* ---- linear algebra ---- */

void
rg_linear_backward (const RgTensor *x, const RgTensor *w, const RgTensor *dy, RgTensor *dx,
                    RgTensor *dw, RgTensor *db)
{
  g_return_if_fail (is_f32 (x) && is_f32 (w) && is_f32 (dy));
  g_return_if_fail (x->ndim >= 1 && w->ndim == 2 && dy->ndim == x->ndim);
  g_return_if_fail (w->backend == x->backend && dy->backend == x->backend);
  g_return_if_fail (last_dim (x) == w->shape[1] && last_dim (dy) == w->shape[0]);
  for (int d = 0; d < x->ndim - 1; d++)
    g_return_if_fail (x->shape[d] == dy->shape[d]);
  g_return_if_fail (is_grad_of (dx, x, dy) && is_grad_of (dw, w, dy)
                    && is_vec_grad (db, w->shape[0], dy));
  g_return_if_fail (fits_int (rg_tensor_numel (dy) / MAX (last_dim (dy), (int64_t) 1))
                    && fits_int (w->shape[0]) && fits_int (w->shape[1]));
  DISPATCH (x->backend, linear_backward, x, w, dy, dx, dw, db);
}

void
rg_matmul_backward (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b,
                    float alpha, const RgTensor *dc, RgTensor *da, RgTensor *db)
{
  g_return_if_fail (is_f32 (a) && is_f32 (b) && is_f32 (dc));
  g_return_if_fail (a->ndim == 2 && b->ndim == 2 && dc->ndim == 2);
  g_return_if_fail (a->backend == dc->backend && b->backend == dc->backend);
  int64_t m = trans_a ? a->shape[1] : a->shape[0];
  int64_t k = trans_a ? a->shape[0] : a->shape[1];
  int64_t kb = trans_b ? b->shape[1] : b->shape[0];
  int64_t n = trans_b ? b->shape[0] : b->shape[1];
  g_return_if_fail (k == kb && dc->shape[0] == m && dc->shape[1] == n);
  g_return_if_fail (is_grad_of (da, a, dc) && is_grad_of (db, b, dc));
  g_return_if_fail (da == NULL || db == NULL || da->data != db->data);
  g_return_if_fail (fits_int (m) && fits_int (n) && fits_int (k));
  DISPATCH (dc->backend, matmul_backward, a, trans_a, b, trans_b, alpha, dc, da, db);
}

/* ---- normalisation ---- */

/* dy shaped like x, both packed f32 on one backend */
static inline gboolean
dy_like (const RgTensor *dy, const RgTensor *x)
{
  return same_elems (x, dy) && rg_tensor_same_shape (x, dy);
}

void
rg_rmsnorm_backward (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                     RgTensor *dx, RgTensor *dw)
{
  g_return_if_fail (dy_like (dy, x) && x->ndim >= 1);
  g_return_if_fail (is_opt_f32_on (w, x->backend) && (w == NULL || is_vec (w, last_dim (x))));
  g_return_if_fail (is_grad_of (dx, x, dy) && (dw == NULL || w != NULL));
  g_return_if_fail (w == NULL || is_grad_of (dw, w, dy));
  DISPATCH (x->backend, rmsnorm_backward, x, w, eps, dy, dx, dw);
}

void
rg_layernorm_backward (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                       RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  g_return_if_fail (dy_like (dy, x) && x->ndim >= 1);
  g_return_if_fail (is_opt_f32_on (w, x->backend) && (w == NULL || is_vec (w, last_dim (x))));
  g_return_if_fail (is_grad_of (dx, x, dy) && (dw == NULL || w != NULL));
  g_return_if_fail (w == NULL || is_grad_of (dw, w, dy));
  g_return_if_fail (is_vec_grad (db, last_dim (x), dy));
  DISPATCH (x->backend, layernorm_backward, x, w, eps, dy, dx, dw, db);
}

void
rg_groupnorm_backward (const RgTensor *x, int groups, const RgTensor *w, float eps,
                       const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  g_return_if_fail (dy_like (dy, x) && x->ndim >= 2);
  g_return_if_fail (groups >= 1 && x->shape[1] % groups == 0);
  g_return_if_fail (is_opt_f32_on (w, x->backend) && (w == NULL || is_vec (w, x->shape[1])));
  g_return_if_fail (is_grad_of (dx, x, dy) && (dw == NULL || w != NULL));
  g_return_if_fail (w == NULL || is_grad_of (dw, w, dy));
  g_return_if_fail (is_vec_grad (db, x->shape[1], dy));
  DISPATCH (x->backend, groupnorm_backward, x, groups, w, eps, dy, dx, dw, db);
}

void
rg_groupnorm_silu_backward (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                            float eps, const RgTensor *dy, RgTensor *dx, RgTensor *dw,
                            RgTensor *db)
{
  g_return_if_fail (dy_like (dy, x) && x->ndim >= 2);
  g_return_if_fail (groups >= 1 && x->shape[1] % groups == 0);
  g_return_if_fail (is_opt_f32_on (w, x->backend) && (w == NULL || is_vec (w, x->shape[1])));
  g_return_if_fail (is_opt_f32_on (b, x->backend) && (b == NULL || is_vec (b, x->shape[1])));
  g_return_if_fail (is_grad_of (dx, x, dy) && (dw == NULL || w != NULL));
  g_return_if_fail (w == NULL || is_grad_of (dw, w, dy));
  g_return_if_fail (is_vec_grad (db, x->shape[1], dy));
  DISPATCH (x->backend, groupnorm_silu_backward, x, groups, w, b, eps, dy, dx, dw, db);
}

void
rg_softmax_backward (const RgTensor *y, const RgTensor *dy, RgTensor *dx)
{
  g_return_if_fail (dy_like (dy, y) && y->ndim >= 1);
  g_return_if_fail (dx != NULL && is_grad_of (dx, y, dy));
  DISPATCH (y->backend, softmax_backward, y, dy, dx);
}

/* ---- elementwise ---- */

void
rg_silu_backward (const RgTensor *x, const RgTensor *dy, RgTensor *dx)
{
  g_return_if_fail (same_elems (x, dy) && dx != NULL && same_elems (x, dx));
  g_return_if_fail (dx->data != x->data && dx->data != dy->data);
  DISPATCH (x->backend, silu_backward, x, dy, dx);
}

void
rg_gelu_backward (const RgTensor *x, const RgTensor *dy, RgTensor *dx)
{
  g_return_if_fail (same_elems (x, dy) && dx != NULL && same_elems (x, dx));
  g_return_if_fail (dx->data != x->data && dx->data != dy->data);
  DISPATCH (x->backend, gelu_backward, x, dy, dx);
}

/* NULL, or same numel as dy and aliasing none of a, b, dy */
static inline gboolean
is_flat_grad (const RgTensor *g, const RgTensor *a, const RgTensor *b, const RgTensor *dy)
{
  return g == NULL
         || (same_elems (g, dy) && g->data != dy->data && (a == NULL || g->data != a->data)
             && (b == NULL || g->data != b->data));
}

void
rg_swiglu_backward (const RgTensor *gate, const RgTensor *up, const RgTensor *dy, RgTensor *dgate,
                    RgTensor *dup)
{
  g_return_if_fail (same_elems (gate, dy) && same_elems (up, dy));
  g_return_if_fail (is_flat_grad (dgate, gate, up, dy) && is_flat_grad (dup, gate, up, dy));
  g_return_if_fail (dgate == NULL || dup == NULL || dgate->data != dup->data);
  DISPATCH (dy->backend, swiglu_backward, gate, up, dy, dgate, dup);
}

void
rg_mul_backward (const RgTensor *a, const RgTensor *b, const RgTensor *dy, RgTensor *da,
                 RgTensor *db)
{
  g_return_if_fail (same_elems (a, dy) && same_elems (b, dy));
  g_return_if_fail (is_flat_grad (da, a, b, dy) && is_flat_grad (db, a, b, dy));
  g_return_if_fail (da == NULL || db == NULL || da->data != db->data);
  DISPATCH (dy->backend, mul_backward, a, b, dy, da, db);
}

void
rg_axpby_backward (float alpha, float beta, const RgTensor *dy, RgTensor *da, RgTensor *db)
{
  g_return_if_fail (is_f32 (dy));
  g_return_if_fail (is_flat_grad (da, NULL, NULL, dy) && is_flat_grad (db, NULL, NULL, dy));
  /* the same tensor as both inputs (y = αx + βx) would need α + β: the
   * caller passes it once with the summed factor */
  g_return_if_fail (da == NULL || db == NULL || da->data != db->data);
  DISPATCH (dy->backend, axpby_backward, alpha, beta, dy, da, db);
}

void
rg_add_backward (const RgTensor *dy, RgTensor *da, RgTensor *db)
{
  rg_axpby_backward (1.0f, 1.0f, dy, da, db);
}

void
rg_scale_backward (float s, const RgTensor *dy, RgTensor *dx)
{
  rg_axpby_backward (s, 0.0f, dy, dx, NULL);
}

void
rg_add_bias_backward (const RgTensor *dy, RgTensor *dx, RgTensor *db)
{
  g_return_if_fail (is_f32 (dy) && dy->ndim >= 1);
  g_return_if_fail (is_flat_grad (dx, NULL, NULL, dy) && is_vec_grad (db, last_dim (dy), dy));
  DISPATCH (dy->backend, add_bias_backward, dy, dx, db);
}

/* ---- attention ---- */

/* The forward's checks (rg_attention) for q, k, v, out and params. */
static gboolean
attention_args_ok (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                   const RgAttentionParams *params, const RgTensor *out)
{
  if (params == NULL || params->n_heads < 1)
    return FALSE;
  if (!(is_f32 (q) && is_f32 (k) && is_f32 (v) && is_f32 (out)))
    return FALSE;
  if (q->ndim != 3 || k->ndim != 3 || v->ndim != 3 || out->ndim != 3)
    return FALSE;
  if (k->backend != q->backend || v->backend != q->backend || out->backend != q->backend)
    return FALSE;
  if (!rg_tensor_same_shape (k, v) || !rg_tensor_same_shape (q, out))
    return FALSE;
  if (k->shape[0] != q->shape[0] || k->shape[2] != q->shape[2] || q->shape[2] % params->n_heads != 0
      || !fits_int (q->shape[2]))
    return FALSE;
  if (params->causal && q->shape[1] != k->shape[1])
    return FALSE;
  if (params->kv_len != NULL)
    for (int64_t b = 0; b < q->shape[0]; b++)
      if (params->kv_len[b] < 0 || params->kv_len[b] > k->shape[1])
        return FALSE;
  return TRUE;
}

/* lse [B, H, Nq] */
static inline gboolean
is_lse_of (const RgTensor *lse, const RgTensor *q, int heads)
{
  return is_f32 (lse) && lse->backend == q->backend && lse->ndim == 3
         && lse->shape[0] == q->shape[0] && lse->shape[1] == heads && lse->shape[2] == q->shape[1];
}

void
rg_attention_lse (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                  const RgAttentionParams *params, RgTensor *out, RgTensor *lse)
{
  g_return_if_fail (attention_args_ok (q, k, v, params, out));
  g_return_if_fail (out->data != q->data && out->data != k->data && out->data != v->data);
  g_return_if_fail (is_lse_of (lse, q, params->n_heads));
  DISPATCH (q->backend, attention_lse, q, k, v, params, out, lse);
}

void
rg_attention_backward (const RgTensor *q, const RgTensor *k, const RgTensor *v, const RgTensor *out,
                       const RgTensor *lse, const RgTensor *dout, const RgAttentionParams *params,
                       RgTensor *dq, RgTensor *dk, RgTensor *dv)
{
  g_return_if_fail (attention_args_ok (q, k, v, params, out));
  g_return_if_fail (is_lse_of (lse, q, params->n_heads));
  g_return_if_fail (is_f32 (dout) && dout->backend == q->backend && rg_tensor_same_shape (dout, q));
  g_return_if_fail (is_grad_of (dq, q, dout) && is_grad_of (dk, k, dout)
                    && is_grad_of (dv, v, dout));
  g_return_if_fail ((dq == NULL || (dq->data != k->data && dq->data != v->data))
                    && (dk == NULL || (dk->data != q->data && dk->data != v->data))
                    && (dv == NULL || (dv->data != q->data && dv->data != k->data)));
  DISPATCH (q->backend, attention_backward, q, k, v, out, lse, dout, params, dq, dk, dv);
}

/* ---- DiT conditioning ---- */

void
rg_modulate_backward (const RgTensor *x, const RgTensor *scale, const RgTensor *dy, RgTensor *dx,
                      RgTensor *dshift, RgTensor *dscale)
{
  g_return_if_fail (dy_like (dy, x) && x->ndim == 3 && is_row_mod (x, scale));
  g_return_if_fail (is_grad_of (dx, x, dy) && is_grad_of (dshift, scale, dy)
                    && is_grad_of (dscale, scale, dy));
  g_return_if_fail (dshift == NULL || dscale == NULL || dshift->data != dscale->data);
  DISPATCH (x->backend, modulate_backward, x, scale, dy, dx, dshift, dscale);
}

void
rg_gate_add_backward (const RgTensor *gate, const RgTensor *h, const RgTensor *dx, RgTensor *dgate,
                      RgTensor *dh)
{
  g_return_if_fail (dy_like (dx, h) && h->ndim == 3 && is_row_mod (h, gate));
  g_return_if_fail (is_grad_of (dgate, gate, dx) && is_grad_of (dh, h, dx));
  DISPATCH (dx->backend, gate_add_backward, gate, h, dx, dgate, dh);
}

/* ---- video layout ---- */

void
rg_conv2d_frames_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                           const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  g_return_if_fail (is_f32 (x) && is_f32 (w) && is_f32 (dy));
  g_return_if_fail (x->ndim == 5 && w->ndim == 4 && dy->ndim == 5 && stride >= 1);
  g_return_if_fail (w->backend == x->backend && dy->backend == x->backend);
  g_return_if_fail (pad == RG_PAD_ZEROS || pad == RG_PAD_REPLICATE);
  g_return_if_fail (w->shape[1] == x->shape[1] && w->shape[2] >= 1 && w->shape[3] >= 1);
  g_return_if_fail (x->shape[3] + 2 * (w->shape[2] / 2) >= w->shape[2]
                    && x->shape[4] + 2 * (w->shape[3] / 2) >= w->shape[3]);
  g_return_if_fail (dy->shape[0] == x->shape[0] && dy->shape[1] == w->shape[0]
                    && dy->shape[2] == x->shape[2]
                    && dy->shape[3] == conv_out (x->shape[3], w->shape[2], stride)
                    && dy->shape[4] == conv_out (x->shape[4], w->shape[3], stride));
  g_return_if_fail (is_grad_of (dx, x, dy) && is_grad_of (dw, w, dy)
                    && is_vec_grad (db, w->shape[0], dy));
  g_return_if_fail (fits_int (x->shape[1] * w->shape[2] * w->shape[3])
                    && fits_int (dy->shape[2] * dy->shape[3] * dy->shape[4])
                    && fits_int (w->shape[0]));
  DISPATCH (x->backend, conv2d_frames_backward, x, w, stride, pad, dy, dx, dw, db);
}

void
rg_conv1d_time_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                         const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  g_return_if_fail (is_f32 (x) && is_f32 (w) && is_f32 (dy));
  g_return_if_fail (x->ndim == 5 && w->ndim == 3 && dy->ndim == 5 && stride >= 1);
  g_return_if_fail (w->backend == x->backend && dy->backend == x->backend);
  g_return_if_fail (pad == RG_PAD_ZEROS || pad == RG_PAD_REPLICATE);
  g_return_if_fail (w->shape[1] == x->shape[1] && w->shape[2] >= 1);
  g_return_if_fail (x->shape[2] + 2 * (w->shape[2] / 2) >= w->shape[2]);
  g_return_if_fail (dy->shape[0] == x->shape[0] && dy->shape[1] == w->shape[0]
                    && dy->shape[2] == conv_out (x->shape[2], w->shape[2], stride)
                    && dy->shape[3] == x->shape[3] && dy->shape[4] == x->shape[4]);
  g_return_if_fail (is_grad_of (dx, x, dy) && is_grad_of (dw, w, dy)
                    && is_vec_grad (db, w->shape[0], dy));
  g_return_if_fail (fits_int (x->shape[1] * w->shape[2])
                    && fits_int (dy->shape[2] * dy->shape[3] * dy->shape[4])
                    && fits_int (w->shape[0]));
  DISPATCH (x->backend, conv1d_time_backward, x, w, stride, pad, dy, dx, dw, db);
}

void
rg_upsample_nearest_backward (const RgTensor *dy, int ft, int fh, int fw, RgTensor *dx)
{
  g_return_if_fail (is_f32 (dy) && is_f32 (dx) && dx->backend == dy->backend);
  g_return_if_fail (dx->ndim == 5 && dy->ndim == 5 && ft >= 1 && fh >= 1 && fw >= 1);
  g_return_if_fail (dy->shape[0] == dx->shape[0] && dy->shape[1] == dx->shape[1]
                    && dy->shape[2] == dx->shape[2] * ft && dy->shape[3] == dx->shape[3] * fh
                    && dy->shape[4] == dx->shape[4] * fw);
  g_return_if_fail (dx->data != dy->data);
  DISPATCH (dy->backend, upsample_nearest_backward, dy, ft, fh, fw, dx);
}

void
rg_patchify_backward (const RgTensor *dy, int ph, int pw, RgTensor *dx)
{
  g_return_if_fail (is_f32 (dy) && is_f32 (dx) && dx->backend == dy->backend);
  g_return_if_fail (patch_shapes_match (dx, dy, ph, pw) && dx->data != dy->data);
  DISPATCH (dy->backend, patchify_backward, dy, ph, pw, dx);
}

void
rg_unpatchify_backward (const RgTensor *dy, int ph, int pw, RgTensor *dx)
{
  g_return_if_fail (is_f32 (dy) && is_f32 (dx) && dx->backend == dy->backend);
  g_return_if_fail (patch_shapes_match (dy, dx, ph, pw) && dx->data != dy->data);
  DISPATCH (dy->backend, unpatchify_backward, dy, ph, pw, dx);
}

void
rg_pos_emb_factorized_backward (const RgTensor *dy, RgTensor *dtt, RgTensor *dth, RgTensor *dtw)
{
  g_return_if_fail (is_f32 (dy) && dy->ndim == 2);
  g_return_if_fail (is_f32 (dtt) && is_f32 (dth) && is_f32 (dtw));
  g_return_if_fail (dtt->backend == dy->backend && dth->backend == dy->backend
                    && dtw->backend == dy->backend);
  g_return_if_fail (dtt->ndim == 2 && dth->ndim == 2 && dtw->ndim == 2);
  int64_t d = dy->shape[1];
  g_return_if_fail (dtt->shape[1] == d && dth->shape[1] == d && dtw->shape[1] == d);
  g_return_if_fail (dy->shape[0] == dtt->shape[0] * dth->shape[0] * dtw->shape[0]);
  g_return_if_fail (dtt->data != dth->data && dtt->data != dtw->data && dth->data != dtw->data);
  DISPATCH (dy->backend, pos_emb_factorized_backward, dy, dtt, dth, dtw);
}

void
rg_embedding_backward (const RgTensor *ids, const RgTensor *dy, RgTensor *dtable)
{
  g_return_if_fail (is_f32 (dtable) && is_f32 (dy) && dtable->ndim == 2);
  g_return_if_fail (ids != NULL && ids->dtype == RG_I32 && rg_tensor_is_contiguous (ids));
  g_return_if_fail (dtable->backend == dy->backend && ids->backend == dy->backend);
  g_return_if_fail (dy->ndim >= 1 && last_dim (dy) == dtable->shape[1]);
  g_return_if_fail (rg_tensor_numel (dy) == rg_tensor_numel (ids) * dtable->shape[1]);
  g_return_if_fail (dtable->data != dy->data);
  DISPATCH (dy->backend, embedding_backward, ids, dy, dtable);
}
