/* rg-ops.h — the op table: every numerical op the models use.
 *
 * Callers use these functions; each validates shapes (g_return_if_fail: a
 * mismatch is a programming error, model files are validated at load time)
 * and dispatches on the backend of its inputs through a per-backend table
 * (rg-op-table.h). The CPU column is the reference for every op; a CUDA
 * column drops in from kernels/ without touching callers.
 *
 * Conventions: all tensors f32 and contiguous unless stated; outputs are
 * preallocated by the caller with the stated shape and may not alias inputs
 * unless stated ("in place ok"). "[..., D]" means any leading dims.
 * Weights use PyTorch's layouts so safetensors files load as they are:
 * linear [out, in], conv2d [O, C, kh, kw], conv1d [O, C, k].
 * The backward of each op is in rg-ops-grad.h. */
#pragma once

#include <glib.h>

#include "core/rg-tensor.h"

G_BEGIN_DECLS

/* ---- linear algebra ----
 *
 * linear, matmul and the convs hand one large GEMM to OpenBLAS, which
 * threads it itself: call them from the caller's thread, not from inside
 * rg_parallel_for. Started from every pool thread at once, OpenBLAS's
 * threads fight ours for the cores (a blocked attention doing that ran
 * 10–30× slower; rg_attention keeps its own GEMMs below OpenBLAS's
 * threading threshold for this reason). */

/* y[..., out] = x[..., in] · w[out, in]ᵀ (+ b[out]); b may be NULL. */
void rg_linear (const RgTensor *x, const RgTensor *w, const RgTensor *b, RgTensor *y);
/* c[M, N] = alpha · op(a) · op(b) + beta · c, op = transpose when trans_*.
 * a is [M, K] (or [K, M] when trans_a), b is [K, N] (or [N, K]). */
void rg_matmul (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b,
                float alpha, float beta, RgTensor *c);

/* ---- normalisation ---- */

/* y = x / sqrt(mean(x², last dim) + eps) · w; w [D] may be NULL. In place ok. */
void rg_rmsnorm (const RgTensor *x, const RgTensor *w, float eps, RgTensor *y);
/* y = (x − mean) / sqrt(var + eps) · w + b over the last dim; w, b may be NULL. In place ok. */
void rg_layernorm (const RgTensor *x, const RgTensor *w, const RgTensor *b, float eps, RgTensor *y);
/* GroupNorm over x [B, C, ...spatial] with `groups` groups; w, b [C] may be NULL. In place ok. */
void rg_groupnorm (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                   float eps, RgTensor *y);
/* y = silu(GroupNorm(x)) in one pass (the TAE's norm → act pairs). The
 * same values as rg_groupnorm then rg_silu, bit for bit. In place ok. */
void rg_groupnorm_silu (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                        float eps, RgTensor *y);

/* ---- elementwise (any shape, same numel; in place ok) ---- */

void rg_silu (const RgTensor *x, RgTensor *y);
void rg_gelu (const RgTensor *x, RgTensor *y);          /* exact (erf) GELU, as torch's default */
/* y = silu(gate) · up */
void rg_swiglu (const RgTensor *gate, const RgTensor *up, RgTensor *y);
void rg_add (const RgTensor *a, const RgTensor *b, RgTensor *y);
void rg_mul (const RgTensor *a, const RgTensor *b, RgTensor *y);
/* y = alpha · a + beta · b */
void rg_axpby (float alpha, const RgTensor *a, float beta, const RgTensor *b, RgTensor *y);
void rg_scale (const RgTensor *x, float s, RgTensor *y);
/* y[..., D] = x[..., D] + b[D] (bias broadcast over leading dims). In place ok. */
void rg_add_bias (const RgTensor *x, const RgTensor *b, RgTensor *y);

/* softmax over the last dim. In place ok. */
void rg_softmax (const RgTensor *x, RgTensor *y);

/* ---- attention ---- */

typedef struct {
  int          n_heads;
  float        scale;        /* usually 1/sqrt(head_dim) */
  gboolean     causal;       /* query i sees keys ≤ i (requires Nq == Nk) */
  const int32_t *kv_len;     /* per batch, keys ≥ kv_len[b] are padding; NULL = all valid */
} RgAttentionParams;

/* out[B, Nq, H·Dh] = softmax(q kᵀ · scale) v per head, with q [B, Nq, H·Dh],
 * k and v [B, Nk, H·Dh]. Blockwise with an online softmax: memory is
 * O(threads · block), never O(Nq · Nk). A query that sees no valid key
 * (kv_len[b] = 0) gets zeros. */
void rg_attention (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                   const RgAttentionParams *params, RgTensor *out);

/* ---- DiT conditioning ---- */

/* y[B, N, D] = x · (1 + scale[B, D]) + shift[B, D]. In place ok. */
void rg_modulate (const RgTensor *x, const RgTensor *shift, const RgTensor *scale, RgTensor *y);
/* x[B, N, D] += gate[B, D] · h[B, N, D] (in place on x). */
void rg_gate_add (RgTensor *x, const RgTensor *gate, const RgTensor *h);
/* y[B, D] = [cos(t·f_i), sin(t·f_i)], f_i = exp(−ln(max_period)·i/(D/2)),
 * with t [B] (scaled by the caller, e.g. t·1000). D even. */
void rg_timestep_embedding (const RgTensor *t, float max_period, RgTensor *y);

/* ---- video layout ops, x [B, C, T, H, W] ---- */

typedef enum {
  RG_PAD_ZEROS,
  RG_PAD_REPLICATE,
} RgPadMode;

/* Spatial conv applied to every frame: w [O, C, kh, kw], b [O] or NULL,
 * stride s, symmetric padding (kh/2, kw/2) → y [B, O, T, H', W']. */
void rg_conv2d_frames (const RgTensor *x, const RgTensor *w, const RgTensor *b,
                       int stride, RgPadMode pad, RgTensor *y);
/* Temporal conv along T at every pixel: w [O, C, kt], b [O] or NULL, stride
 * st, symmetric padding kt/2 → y [B, O, T', H, W]. With H = W = 1 this is
 * a plain conv1d over [B, C, L]. */
void rg_conv1d_time (const RgTensor *x, const RgTensor *w, const RgTensor *b,
                     int stride, RgPadMode pad, RgTensor *y);
/* Nearest-neighbour upsample by integer factors → y [B, C, T·ft, H·fh, W·fw]. */
void rg_upsample_nearest (const RgTensor *x, int ft, int fh, int fw, RgTensor *y);

/* 1×ph×pw patchify: x [B, C, T, H, W] → y [B, T·(H/ph)·(W/pw), C·ph·pw],
 * token order (t, h, w), feature order (c, dh, dw). unpatchify inverts it. */
void rg_patchify (const RgTensor *x, int ph, int pw, RgTensor *y);
void rg_unpatchify (const RgTensor *x, int ph, int pw, RgTensor *y);

/* Factorized positional embedding: y[T·H·W, D] with
 * y[(t·H + h)·W + w] = tt[t] + th[h] + tw[w]; tables [T, D], [H, D], [W, D]
 * (callers pass narrowed views when the grid is smaller than the table). */
void rg_pos_emb_factorized (const RgTensor *tt, const RgTensor *th, const RgTensor *tw,
                            RgTensor *y);

/* y[n, D] = table[ids[n]] for int32 ids (rows outside the table: error
 * logged and zeros written, never an out-of-bounds read). */
void rg_embedding (const RgTensor *table, const RgTensor *ids, RgTensor *y);

G_END_DECLS
