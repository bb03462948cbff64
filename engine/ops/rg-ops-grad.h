/* rg-ops-grad.h — backward passes of the ops in rg-ops.h.
 *
 * Each rg_X_backward takes what the forward saw (the inputs it needs, never
 * a copy of its state) and the upstream gradient dy, and ACCUMULATES into
 * the gradient tensors it is given: grad += ∂L/∂input. Callers zero a
 * gradient buffer once per step; a tensor used twice (a shared weight, a
 * residual fan-out) then gets the sum of its uses for free. Any gradient
 * output may be NULL when that gradient is not wanted. Gradients have the
 * shape of the tensor they belong to, are packed f32 on the same backend,
 * and may not alias dy or any input.
 *
 * Reductions over rows (norm dw/db, biases, modulation, embedding tables)
 * run column-parallel with rows visited in a fixed order, so they are
 * bit-identical whatever the thread count; no float atomics anywhere.
 * Attention's backward is bit-identical too (its GEMMs are too small for
 * OpenBLAS to thread). Gradients computed by one large sgemm (linear,
 * matmul, conv dx/dw) inherit OpenBLAS's own last-bit dependence on its
 * thread count (0.3.21: ~1e-7 relative); with a fixed thread count every
 * backward is reproducible run to run.
 *
 * Ops with no trainable input have no backward here: timestep_embedding
 * (t is data). A forward that runs in place (y aliasing x) destroys x, so
 * callers that train keep x; softmax's backward needs only its output. */
#pragma once

#include "ops/rg-ops.h"

G_BEGIN_DECLS

/* ---- linear algebra ---- */

/* dx[..., in] += dy·w, dw[out, in] += dyᵀ·x, db[out] += Σ dy over rows. */
void rg_linear_backward (const RgTensor *x, const RgTensor *w, const RgTensor *dy, RgTensor *dx,
                         RgTensor *dw, RgTensor *db);
/* For c = alpha · op(a) · op(b) + beta · c: da += ∂/∂a, db += ∂/∂b (each
 * in its own stored layout). The gradient of the old c, beta · dc, is the
 * caller's (usually beta = 0). */
void rg_matmul_backward (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b,
                         float alpha, const RgTensor *dc, RgTensor *da, RgTensor *db);

/* ---- normalisation ---- */

void rg_rmsnorm_backward (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                          RgTensor *dx, RgTensor *dw);
/* The bias does not enter the gradient, so only w is passed. */
void rg_layernorm_backward (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                            RgTensor *dx, RgTensor *dw, RgTensor *db);
void rg_groupnorm_backward (const RgTensor *x, int groups, const RgTensor *w, float eps,
                            const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
/* The backward of y = silu(GroupNorm(x)) from x alone (dy is y's
 * gradient): SiLU's input is recomputed bit-identically to the forward's,
 * so nothing between the two ops needs keeping. The same values as
 * rg_silu_backward then rg_groupnorm_backward, bit for bit. */
void rg_groupnorm_silu_backward (const RgTensor *x, int groups, const RgTensor *w,
                                 const RgTensor *b, float eps, const RgTensor *dy, RgTensor *dx,
                                 RgTensor *dw, RgTensor *db);
/* From the forward's output y: dx += y · (dy − Σ dy·y) per row. */
void rg_softmax_backward (const RgTensor *y, const RgTensor *dy, RgTensor *dx);

/* ---- elementwise ---- */

void rg_silu_backward (const RgTensor *x, const RgTensor *dy, RgTensor *dx);
void rg_gelu_backward (const RgTensor *x, const RgTensor *dy, RgTensor *dx);
void rg_swiglu_backward (const RgTensor *gate, const RgTensor *up, const RgTensor *dy,
                         RgTensor *dgate, RgTensor *dup);
/* da += dy, db += dy */
void rg_add_backward (const RgTensor *dy, RgTensor *da, RgTensor *db);
/* da += dy · b, db += dy · a */
void rg_mul_backward (const RgTensor *a, const RgTensor *b, const RgTensor *dy, RgTensor *da,
                      RgTensor *db);
/* da += alpha · dy, db += beta · dy */
void rg_axpby_backward (float alpha, float beta, const RgTensor *dy, RgTensor *da, RgTensor *db);
/* dx += s · dy */
void rg_scale_backward (float s, const RgTensor *dy, RgTensor *dx);
/* dx[..., D] += dy, db[D] += Σ dy over rows. */
void rg_add_bias_backward (const RgTensor *dy, RgTensor *dx, RgTensor *db);

/* ---- attention ---- */

/* rg_attention that also stores each query row's log-sum-exp of its
 * scaled scores, lse [B, H, Nq] (+inf for a query that sees no key): all
 * the backward needs to rebuild any block of probabilities, so training
 * keeps O(N) per head instead of the N² attention matrix. `out` is
 * bit-identical to rg_attention's. */
void rg_attention_lse (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                       const RgAttentionParams *params, RgTensor *out, RgTensor *lse);
/* FlashAttention-2 backward from q, k, v, the forward's out and lse, and
 * dout: dq, dk, dv (shapes of q, k, v) accumulate. Probabilities are
 * recomputed block by block; scratch is O(threads · block) plus O(B·H·Nq)
 * for the per-row Σ dout·out. Same params as the forward. */
void rg_attention_backward (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                            const RgTensor *out, const RgTensor *lse, const RgTensor *dout,
                            const RgAttentionParams *params, RgTensor *dq, RgTensor *dk,
                            RgTensor *dv);

/* ---- DiT conditioning ---- */

/* y = x · (1 + scale) + shift: dx += dy·(1 + scale), dshift[B, D] += Σₙ dy,
 * dscale[B, D] += Σₙ dy·x. */
void rg_modulate_backward (const RgTensor *x, const RgTensor *scale, const RgTensor *dy,
                           RgTensor *dx, RgTensor *dshift, RgTensor *dscale);
/* x += gate · h, with dx the gradient of the updated x (it also is the
 * gradient of the old x, which callers pass on as it is): dgate[B, D] +=
 * Σₙ dx·h, dh += dx·gate. */
void rg_gate_add_backward (const RgTensor *gate, const RgTensor *h, const RgTensor *dx,
                           RgTensor *dgate, RgTensor *dh);

/* ---- video layout ---- */

/* Same x, w, stride and padding as the forward; dx via col2im (padding
 * taps fold back onto the border pixel they replicated, or vanish for
 * zeros), dw += dy·colᵀ, db += Σ dy. */
void rg_conv2d_frames_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                                const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
void rg_conv1d_time_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                              const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
/* dx[B, C, T, H, W] += the sum of dy over each ft×fh×fw block. */
void rg_upsample_nearest_backward (const RgTensor *dy, int ft, int fh, int fw, RgTensor *dx);
/* patchify's backward is unpatchify of dy (and the other way round),
 * accumulated: dx has the forward input's shape. */
void rg_patchify_backward (const RgTensor *dy, int ph, int pw, RgTensor *dx);
void rg_unpatchify_backward (const RgTensor *dy, int ph, int pw, RgTensor *dx);

/* dy [T·H·W, D] → dtt[t] += Σ_{h,w}, dth[h] += Σ_{t,w}, dtw[w] += Σ_{t,h};
 * the grid is read from the gradient tables' first dims, so all three are
 * required (pass narrowed views of the full tables' gradients, as the
 * forward takes narrowed tables). */
void rg_pos_emb_factorized_backward (const RgTensor *dy, RgTensor *dtt, RgTensor *dth,
                                     RgTensor *dtw);
/* dtable[ids[n]] += dy[n]; rows outside the table are skipped (the forward
 * already reported them). Deterministic: each thread owns a column slice
 * and adds the rows in id order of appearance. */
void rg_embedding_backward (const RgTensor *ids, const RgTensor *dy, RgTensor *dtable);

G_END_DECLS
