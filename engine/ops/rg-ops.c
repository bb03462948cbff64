/* rg-ops.c — argument checks and dispatch to the backend's op table.
 *
 * Checks here are the contract of rg-ops.h: a failed one is a programming
 * error in the caller (g_return_if_fail logs it and returns without touching
 * the output). Model files are validated when they load, so nothing a user
 * supplies can reach these checks with a wrong shape. */
#include "ops/rg-ops-check.h"

static const RgOpTable *backend_tables[RG_BACKEND_COUNT];

const RgOpTable *
rg_op_table_get (RgBackend backend)
{
  g_return_val_if_fail (backend < RG_BACKEND_COUNT, NULL);
  if (backend == RG_BACKEND_CPU)
    return rg_op_table_cpu ();
  return g_atomic_pointer_get (&backend_tables[backend]);
}

void
rg_op_table_register_sized (RgBackend backend, const RgOpTable *table, gsize table_size)
{
  g_return_if_fail (backend != RG_BACKEND_CPU && backend < RG_BACKEND_COUNT);
  if (table != NULL && table_size != sizeof (RgOpTable))
    {
      g_critical ("rg_op_table_register: the %s table was compiled against another RgOpTable "
                  "(%" G_GSIZE_FORMAT " bytes, this build's %" G_GSIZE_FORMAT "): rebuild it",
                  table->name ? table->name : "unnamed", table_size, sizeof (RgOpTable));
      return;
    }
  g_atomic_pointer_set (&backend_tables[backend], table);
}

/* ---- linear algebra ---- */

void
rg_linear (const RgTensor *x, const RgTensor *w, const RgTensor *b, RgTensor *y)
{
  g_return_if_fail (is_f32 (x) && is_f32 (w) && is_f32 (y));
  g_return_if_fail (x->ndim >= 1 && w->ndim == 2 && y->ndim == x->ndim);
  g_return_if_fail (w->backend == x->backend && y->backend == x->backend);
  g_return_if_fail (last_dim (x) == w->shape[1] && last_dim (y) == w->shape[0]);
  for (int d = 0; d < x->ndim - 1; d++)
    g_return_if_fail (x->shape[d] == y->shape[d]);
  g_return_if_fail (is_opt_f32_on (b, x->backend) && (b == NULL || is_vec (b, w->shape[0])));
  g_return_if_fail (x->data != y->data);
  g_return_if_fail (fits_int (rg_tensor_numel (x) / MAX (last_dim (x), (int64_t) 1))
                    && fits_int (w->shape[0]) && fits_int (w->shape[1]));
  DISPATCH (x->backend, linear, x, w, b, y);
}

void
rg_matmul (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b, float alpha,
           float beta, RgTensor *c)
{
  g_return_if_fail (is_f32 (a) && is_f32 (b) && is_f32 (c));
  g_return_if_fail (a->ndim == 2 && b->ndim == 2 && c->ndim == 2);
  g_return_if_fail (a->backend == c->backend && b->backend == c->backend);
  int64_t m = trans_a ? a->shape[1] : a->shape[0];
  int64_t k = trans_a ? a->shape[0] : a->shape[1];
  int64_t kb = trans_b ? b->shape[1] : b->shape[0];
  int64_t n = trans_b ? b->shape[0] : b->shape[1];
  g_return_if_fail (k == kb && c->shape[0] == m && c->shape[1] == n);
  g_return_if_fail (c->data != a->data && c->data != b->data);
  g_return_if_fail (fits_int (m) && fits_int (n) && fits_int (k) && fits_int (a->shape[1])
                    && fits_int (b->shape[1]));
  DISPATCH (c->backend, matmul, a, trans_a, b, trans_b, alpha, beta, c);
}

/* ---- normalisation ---- */

void
rg_rmsnorm (const RgTensor *x, const RgTensor *w, float eps, RgTensor *y)
{
  g_return_if_fail (same_elems (x, y) && rg_tensor_same_shape (x, y) && x->ndim >= 1);
  g_return_if_fail (is_opt_f32_on (w, x->backend) && (w == NULL || is_vec (w, last_dim (x))));
  DISPATCH (x->backend, rmsnorm, x, w, eps, y);
}

void
rg_layernorm (const RgTensor *x, const RgTensor *w, const RgTensor *b, float eps, RgTensor *y)
{
  g_return_if_fail (same_elems (x, y) && rg_tensor_same_shape (x, y) && x->ndim >= 1);
  g_return_if_fail (is_opt_f32_on (w, x->backend) && (w == NULL || is_vec (w, last_dim (x))));
  g_return_if_fail (is_opt_f32_on (b, x->backend) && (b == NULL || is_vec (b, last_dim (x))));
  DISPATCH (x->backend, layernorm, x, w, b, eps, y);
}

void
rg_groupnorm (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b, float eps,
              RgTensor *y)
{
  g_return_if_fail (same_elems (x, y) && rg_tensor_same_shape (x, y) && x->ndim >= 2);
  g_return_if_fail (groups >= 1 && x->shape[1] % groups == 0);
  g_return_if_fail (is_opt_f32_on (w, x->backend) && (w == NULL || is_vec (w, x->shape[1])));
  g_return_if_fail (is_opt_f32_on (b, x->backend) && (b == NULL || is_vec (b, x->shape[1])));
  DISPATCH (x->backend, groupnorm, x, groups, w, b, eps, y);
}

void
rg_groupnorm_silu (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b, float eps,
                   RgTensor *y)
{
  g_return_if_fail (same_elems (x, y) && rg_tensor_same_shape (x, y) && x->ndim >= 2);
  g_return_if_fail (groups >= 1 && x->shape[1] % groups == 0);
  g_return_if_fail (is_opt_f32_on (w, x->backend) && (w == NULL || is_vec (w, x->shape[1])));
  g_return_if_fail (is_opt_f32_on (b, x->backend) && (b == NULL || is_vec (b, x->shape[1])));
  DISPATCH (x->backend, groupnorm_silu, x, groups, w, b, eps, y);
}

void
rg_softmax (const RgTensor *x, RgTensor *y)
{
  g_return_if_fail (same_elems (x, y) && rg_tensor_same_shape (x, y) && x->ndim >= 1);
  DISPATCH (x->backend, softmax, x, y);
}

/* ---- elementwise ---- */

void
rg_silu (const RgTensor *x, RgTensor *y)
{
  g_return_if_fail (same_elems (x, y));
  DISPATCH (x->backend, silu, x, y);
}

void
rg_gelu (const RgTensor *x, RgTensor *y)
{
  g_return_if_fail (same_elems (x, y));
  DISPATCH (x->backend, gelu, x, y);
}

void
rg_swiglu (const RgTensor *gate, const RgTensor *up, RgTensor *y)
{
  g_return_if_fail (same_elems (gate, y) && same_elems (up, y));
  DISPATCH (y->backend, swiglu, gate, up, y);
}

void
rg_add (const RgTensor *a, const RgTensor *b, RgTensor *y)
{
  g_return_if_fail (same_elems (a, y) && same_elems (b, y));
  DISPATCH (y->backend, add, a, b, y);
}

void
rg_mul (const RgTensor *a, const RgTensor *b, RgTensor *y)
{
  g_return_if_fail (same_elems (a, y) && same_elems (b, y));
  DISPATCH (y->backend, mul, a, b, y);
}

void
rg_axpby (float alpha, const RgTensor *a, float beta, const RgTensor *b, RgTensor *y)
{
  g_return_if_fail (same_elems (a, y) && same_elems (b, y));
  DISPATCH (y->backend, axpby, alpha, a, beta, b, y);
}

void
rg_scale (const RgTensor *x, float s, RgTensor *y)
{
  g_return_if_fail (same_elems (x, y));
  DISPATCH (y->backend, scale, x, s, y);
}

void
rg_add_bias (const RgTensor *x, const RgTensor *b, RgTensor *y)
{
  g_return_if_fail (same_elems (x, y) && x->ndim >= 1);
  g_return_if_fail (is_f32 (b) && b->backend == x->backend && is_vec (b, last_dim (x)));
  DISPATCH (y->backend, add_bias, x, b, y);
}

/* ---- attention ---- */

void
rg_attention (const RgTensor *q, const RgTensor *k, const RgTensor *v,
              const RgAttentionParams *params, RgTensor *out)
{
  g_return_if_fail (params != NULL && params->n_heads >= 1);
  g_return_if_fail (is_f32 (q) && is_f32 (k) && is_f32 (v) && is_f32 (out));
  g_return_if_fail (q->ndim == 3 && k->ndim == 3 && v->ndim == 3 && out->ndim == 3);
  g_return_if_fail (k->backend == q->backend && v->backend == q->backend
                    && out->backend == q->backend);
  g_return_if_fail (rg_tensor_same_shape (k, v) && rg_tensor_same_shape (q, out));
  g_return_if_fail (k->shape[0] == q->shape[0] && k->shape[2] == q->shape[2]);
  g_return_if_fail (q->shape[2] % params->n_heads == 0);
  g_return_if_fail (!params->causal || q->shape[1] == k->shape[1]);
  g_return_if_fail (out->data != q->data && out->data != k->data && out->data != v->data);
  g_return_if_fail (fits_int (q->shape[2]));
  if (params->kv_len != NULL)
    for (int64_t b = 0; b < q->shape[0]; b++)
      g_return_if_fail (params->kv_len[b] >= 0 && params->kv_len[b] <= k->shape[1]);
  DISPATCH (q->backend, attention, q, k, v, params, out);
}

/* ---- DiT conditioning ---- */

void
rg_modulate (const RgTensor *x, const RgTensor *shift, const RgTensor *scale, RgTensor *y)
{
  g_return_if_fail (same_elems (x, y) && x->ndim == 3 && rg_tensor_same_shape (x, y));
  g_return_if_fail (is_row_mod (x, shift) && is_row_mod (x, scale));
  DISPATCH (x->backend, modulate, x, shift, scale, y);
}

void
rg_gate_add (RgTensor *x, const RgTensor *gate, const RgTensor *h)
{
  g_return_if_fail (same_elems (x, h) && x->ndim == 3 && rg_tensor_same_shape (x, h));
  g_return_if_fail (is_row_mod (x, gate));
  g_return_if_fail (x->data != h->data);
  DISPATCH (x->backend, gate_add, x, gate, h);
}

void
rg_timestep_embedding (const RgTensor *t, float max_period, RgTensor *y)
{
  g_return_if_fail (is_f32 (t) && is_f32 (y) && t->backend == y->backend);
  g_return_if_fail (t->ndim == 1 && y->ndim == 2 && y->shape[0] == t->shape[0]);
  g_return_if_fail (y->shape[1] % 2 == 0 && max_period > 0.0f);
  DISPATCH (y->backend, timestep_embedding, t, max_period, y);
}

/* ---- video layout ---- */

void
rg_conv2d_frames (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                  RgPadMode pad, RgTensor *y)
{
  g_return_if_fail (is_f32 (x) && is_f32 (w) && is_f32 (y));
  g_return_if_fail (x->ndim == 5 && w->ndim == 4 && y->ndim == 5 && stride >= 1);
  g_return_if_fail (w->backend == x->backend && y->backend == x->backend);
  g_return_if_fail (is_opt_f32_on (b, x->backend) && (b == NULL || is_vec (b, w->shape[0])));
  g_return_if_fail (pad == RG_PAD_ZEROS || pad == RG_PAD_REPLICATE);
  g_return_if_fail (w->shape[1] == x->shape[1] && w->shape[2] >= 1 && w->shape[3] >= 1);
  g_return_if_fail (x->shape[3] + 2 * (w->shape[2] / 2) >= w->shape[2]
                    && x->shape[4] + 2 * (w->shape[3] / 2) >= w->shape[3]);
  g_return_if_fail (y->shape[0] == x->shape[0] && y->shape[1] == w->shape[0]
                    && y->shape[2] == x->shape[2]
                    && y->shape[3] == conv_out (x->shape[3], w->shape[2], stride)
                    && y->shape[4] == conv_out (x->shape[4], w->shape[3], stride));
  g_return_if_fail (x->data != y->data);
  g_return_if_fail (fits_int (x->shape[1] * w->shape[2] * w->shape[3])
                    && fits_int (y->shape[2] * y->shape[3] * y->shape[4]));
  DISPATCH (x->backend, conv2d_frames, x, w, b, stride, pad, y);
}

void
rg_conv1d_time (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                RgPadMode pad, RgTensor *y)
{
  g_return_if_fail (is_f32 (x) && is_f32 (w) && is_f32 (y));
  g_return_if_fail (x->ndim == 5 && w->ndim == 3 && y->ndim == 5 && stride >= 1);
  g_return_if_fail (w->backend == x->backend && y->backend == x->backend);
  g_return_if_fail (is_opt_f32_on (b, x->backend) && (b == NULL || is_vec (b, w->shape[0])));
  g_return_if_fail (pad == RG_PAD_ZEROS || pad == RG_PAD_REPLICATE);
  g_return_if_fail (w->shape[1] == x->shape[1] && w->shape[2] >= 1);
  g_return_if_fail (x->shape[2] + 2 * (w->shape[2] / 2) >= w->shape[2]);
  g_return_if_fail (y->shape[0] == x->shape[0] && y->shape[1] == w->shape[0]
                    && y->shape[2] == conv_out (x->shape[2], w->shape[2], stride)
                    && y->shape[3] == x->shape[3] && y->shape[4] == x->shape[4]);
  g_return_if_fail (x->data != y->data);
  g_return_if_fail (fits_int (x->shape[1] * w->shape[2])
                    && fits_int (y->shape[2] * y->shape[3] * y->shape[4]));
  DISPATCH (x->backend, conv1d_time, x, w, b, stride, pad, y);
}

void
rg_upsample_nearest (const RgTensor *x, int ft, int fh, int fw, RgTensor *y)
{
  g_return_if_fail (is_f32 (x) && is_f32 (y) && x->backend == y->backend);
  g_return_if_fail (x->ndim == 5 && y->ndim == 5 && ft >= 1 && fh >= 1 && fw >= 1);
  g_return_if_fail (y->shape[0] == x->shape[0] && y->shape[1] == x->shape[1]
                    && y->shape[2] == x->shape[2] * ft && y->shape[3] == x->shape[3] * fh
                    && y->shape[4] == x->shape[4] * fw);
  g_return_if_fail (x->data != y->data);
  DISPATCH (x->backend, upsample_nearest, x, ft, fh, fw, y);
}

void
rg_patchify (const RgTensor *x, int ph, int pw, RgTensor *y)
{
  g_return_if_fail (is_f32 (x) && is_f32 (y) && x->backend == y->backend);
  g_return_if_fail (patch_shapes_match (x, y, ph, pw));
  g_return_if_fail (x->data != y->data);
  DISPATCH (x->backend, patchify, x, ph, pw, y);
}

void
rg_unpatchify (const RgTensor *x, int ph, int pw, RgTensor *y)
{
  g_return_if_fail (is_f32 (x) && is_f32 (y) && x->backend == y->backend);
  g_return_if_fail (patch_shapes_match (y, x, ph, pw));
  g_return_if_fail (x->data != y->data);
  DISPATCH (x->backend, unpatchify, x, ph, pw, y);
}

void
rg_pos_emb_factorized (const RgTensor *tt, const RgTensor *th, const RgTensor *tw, RgTensor *y)
{
  g_return_if_fail (is_f32 (tt) && is_f32 (th) && is_f32 (tw) && is_f32 (y));
  g_return_if_fail (tt->backend == y->backend && th->backend == y->backend
                    && tw->backend == y->backend);
  g_return_if_fail (tt->ndim == 2 && th->ndim == 2 && tw->ndim == 2 && y->ndim == 2);
  int64_t d = y->shape[1];
  g_return_if_fail (tt->shape[1] == d && th->shape[1] == d && tw->shape[1] == d);
  g_return_if_fail (y->shape[0] == tt->shape[0] * th->shape[0] * tw->shape[0]);
  DISPATCH (y->backend, pos_emb_factorized, tt, th, tw, y);
}

void
rg_embedding (const RgTensor *table, const RgTensor *ids, RgTensor *y)
{
  g_return_if_fail (is_f32 (table) && is_f32 (y) && table->ndim == 2);
  g_return_if_fail (ids != NULL && ids->dtype == RG_I32 && rg_tensor_is_contiguous (ids));
  g_return_if_fail (table->backend == y->backend && ids->backend == y->backend);
  g_return_if_fail (y->ndim >= 1 && last_dim (y) == table->shape[1]);
  g_return_if_fail (rg_tensor_numel (y) == rg_tensor_numel (ids) * table->shape[1]);
  DISPATCH (y->backend, embedding, table, ids, y);
}
