/* rg-nn-grad.h — training passes of the layers in rg-nn.h.
 *
 * A training forward (_forward_train) computes the same output as the
 * layer's _forward and also keeps, in a small Saved struct, refs to the
 * activations its backward needs (inputs and pre-activation values; the
 * in-place tricks of the inference forward are undone where they would
 * destroy one). Activations live in the caller's arena, which must not be
 * reset until the backward has run; rg_*_saved_clear drops the refs (call
 * it before that reset).
 *
 * A backward (_backward) takes the layer, the gradient store (rg-grads.h),
 * what was saved and the upstream gradient dy, ACCUMULATES the weights'
 * gradients into the store and ACCUMULATES ∂L/∂x into dx (dx may be NULL
 * when the input needs no gradient, e.g. the first layer on data).
 * Scratch gradients come from `arena`. The ops-level rules of
 * rg-ops-grad.h (accumulation, determinism) carry over unchanged. */
#pragma once

#include "nn/rg-grads.h"
#include "nn/rg-nn.h"

G_BEGIN_DECLS

/* A zeroed arena tensor shaped like t (scratch for a gradient). */
RgTensor *rg_nn_zeros_like (RgArena *arena, const RgTensor *t);
/* The same without clearing it (a gradient written, not accumulated). */
RgTensor *rg_nn_new_like (RgArena *arena, const RgTensor *t);

/* ---- normalisation ---- */

/* The backward of rg_groupnorm_silu_forward, from its input x alone. */
void rg_groupnorm_silu_layer_backward (const RgGroupNorm *n, RgGrads *g, const RgTensor *x,
                                       const RgTensor *dy, RgTensor *dx);

/* ---- dense, attention and conditioning (the transformers) ----
 *
 * Layers whose inference forward leaves its input intact (linear, the
 * norms, the positional tables) need no Saved struct: their backward takes
 * the forward's input. Layer backwards are named _layer_backward where the
 * op of rg-ops-grad.h already has the plain name. */

void rg_linear_layer_backward (const RgLinear *l, RgGrads *g, const RgTensor *x,
                               const RgTensor *dy, RgTensor *dx);
void rg_rmsnorm_layer_backward (const RgRmsNorm *n, RgGrads *g, const RgTensor *x,
                                const RgTensor *dy, RgTensor *dx);
void rg_layernorm_layer_backward (const RgLayerNorm *n, RgGrads *g, const RgTensor *x,
                                  const RgTensor *dy, RgTensor *dx);

typedef struct {
  RgTensor *x;   /* the input */
  RgTensor *gu;  /* [..., 2·hidden]: the packed projection, gate | up per row */
  RgTensor *act; /* silu(gate)·up, down's input */
} RgSwiGLUSaved;

RgTensor *rg_swiglu_forward_train (const RgSwiGLU *f, RgArena *arena, const RgTensor *x,
                                   RgSwiGLUSaved *saved);
/* gate and up get their gradient through one GEMM backward against the
 * packed gate_up matrix (its gradient is theirs, see rg-grads.h). */
void      rg_swiglu_layer_backward (const RgSwiGLU *f, RgGrads *g, RgArena *arena,
                                    const RgSwiGLUSaved *saved, const RgTensor *dy, RgTensor *dx);
void      rg_swiglu_saved_clear (RgSwiGLUSaved *saved);

typedef struct {
  RgTensor *x;       /* the query input */
  RgTensor *kv;      /* cross-attention: what k and v were projected from (the
                      * context, or the copy of its longest valid prefix);
                      * NULL for self-attention */
  RgTensor *q, *k, *v; /* the projections, q and k before QK-norm */
  RgTensor *qn, *kn; /* q and k after QK-norm (NULL without it) */
  RgTensor *h;       /* the heads' output, o's input */
  RgTensor *lse;     /* [B, H, Nq] log-sum-exp per query row */
  int32_t  *kv_len;  /* arena copy of the forward's kv_len, or NULL */
} RgAttentionSaved;

RgTensor *rg_attention_layer_forward_train (const RgAttentionLayer *a, RgArena *arena,
                                            const RgTensor *x, const RgTensor *context,
                                            const int32_t *kv_len, RgAttentionSaved *saved);
/* dcontext: for cross-attention, the gradient of the context the forward
 * was given ([B, L, kv_dim], accumulates, may be NULL; keys at or past
 * kv_len get none). Self-attention passes NULL: k and v feed dx. */
void      rg_attention_layer_backward (const RgAttentionLayer *a, RgGrads *g, RgArena *arena,
                                       const RgAttentionSaved *saved, const RgTensor *dy,
                                       RgTensor *dx, RgTensor *dcontext);
void      rg_attention_saved_clear (RgAttentionSaved *saved);

typedef struct {
  RgTensor *freq; /* sinusoidal features, fc1's input */
  RgTensor *h;    /* fc1's output before SiLU */
  RgTensor *a;    /* SiLU(h), fc2's input */
} RgTimeEmbedSaved;

RgTensor *rg_time_embed_forward_train (const RgTimeEmbed *e, RgArena *arena, const RgTensor *t,
                                       RgTimeEmbedSaved *saved);
/* The flow time is data: only fc1 and fc2 get gradients. */
void      rg_time_embed_backward (const RgTimeEmbed *e, RgGrads *g, RgArena *arena,
                                  const RgTimeEmbedSaved *saved, const RgTensor *dy);
void      rg_time_embed_saved_clear (RgTimeEmbedSaved *saved);

/* rg_adaln_split's backward from the gradients of its n outputs (entries
 * may be NULL): dmod [B, n·D] += dout[k] in column slice k, and dtable
 * [n, D] (the table's gradient, NULL: none) += Σ over the batch. */
void rg_adaln_split_backward (const RgTensor *const *dout, int n, RgTensor *dmod,
                              RgTensor *dtable);
/* rg_pos_emb3_forward's backward for a t×h×w grid: dy [t·h·w, D]
 * accumulates into the first t, h, w rows of the tables' gradients. */
void rg_pos_emb3_backward (const RgPosEmb3 *e, RgGrads *g, const RgTensor *dy, int64_t t,
                           int64_t h, int64_t w);
/* rg_add_rows' backward: dx [B, N, D] += dy (dx may be NULL), dpos [N, D]
 * += Σ over the batch of dy (NULL: not wanted). */
void rg_add_rows_backward (const RgTensor *dy, RgTensor *dx, RgTensor *dpos);

/* ---- video ---- */

typedef struct {
  RgTensor *x; /* the input */
  RgTensor *s; /* the spatial conv's output, the temporal conv's input */
} RgConv25Saved;

RgTensor *rg_conv25_forward_train (const RgConv25 *c, RgArena *arena, const RgTensor *x,
                                   RgConv25Saved *saved);
void      rg_conv25_backward (const RgConv25 *c, RgGrads *g, RgArena *arena,
                              const RgConv25Saved *saved, const RgTensor *dy, RgTensor *dx);
void      rg_conv25_saved_clear (RgConv25Saved *saved);

typedef struct {
  RgTensor     *x;  /* the block's input */
  RgTensor     *h2; /* conv1's output (norm2's input) */
  RgConv25Saved conv1, conv2;
} RgResBlock25Saved;

RgTensor *rg_resblock25_forward_train (const RgResBlock25 *r, RgArena *arena, const RgTensor *x,
                                       RgResBlock25Saved *saved);
void      rg_resblock25_backward (const RgResBlock25 *r, RgGrads *g, RgArena *arena,
                                  const RgResBlock25Saved *saved, const RgTensor *dy,
                                  RgTensor *dx);
void      rg_resblock25_saved_clear (RgResBlock25Saved *saved);

G_END_DECLS
