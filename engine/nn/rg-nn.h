/* rg-nn.h — layers: weights plus the ops that use them.
 *
 * Each layer is a plain struct of borrowed weight pointers (owned by the
 * model's RgParams), filled by its _init from a name prefix, and a _forward
 * that allocates its output in the caller's arena, so one pass of a model
 * costs no heap allocation for activations: the caller resets the arena
 * after the pass. Outputs are new tensor headers the caller unrefs.
 * Weight layouts follow PyTorch (linear [out, in], conv [O, C, k…]) and
 * the names follow the struct fields ("….q.weight", "….norm1.bias"). */
#pragma once

#include <glib.h>

#include "core/rg-tensor.h"
#include "nn/rg-params.h"
#include "ops/rg-ops.h"

G_BEGIN_DECLS

/* ---- dense ---- */

typedef struct {
  RgTensor *w; /* [out, in] */
  RgTensor *b; /* [out] or NULL */
} RgLinear;

/* w ~ N(0, 1/in), b ~ N(0, 0.02²). */
void      rg_linear_init (RgLinear *l, RgParams *p, const char *prefix, int64_t in, int64_t out,
                          gboolean bias);
RgTensor *rg_linear_forward (const RgLinear *l, RgArena *arena, const RgTensor *x);

/* SwiGLU FFN: down(silu(gate(x)) · up(x)), no biases (Llama). */
typedef struct {
  RgLinear  gate, up, down;
  RgTensor *gate_up; /* [2·hidden, dim]: gate.w and up.w are views of its rows */
} RgSwiGLU;

void      rg_swiglu_init (RgSwiGLU *f, RgParams *p, const char *prefix, int64_t dim,
                          int64_t hidden);
RgTensor *rg_swiglu_forward (const RgSwiGLU *f, RgArena *arena, const RgTensor *x);
/* Its hidden activation silu(gate(x))·up(x) [..., hidden], before down;
 * with gu_out, also the packed gate|up projection it came from (what the
 * training pass keeps; the caller unrefs it). */
RgTensor *rg_swiglu_hidden (const RgSwiGLU *f, RgArena *arena, const RgTensor *x,
                            RgTensor **gu_out);

/* ---- normalisation ---- */

typedef struct {
  RgTensor *w; /* [D] or NULL (no affine: adaLN modulates instead) */
  float     eps;
} RgRmsNorm;

void      rg_rmsnorm_init (RgRmsNorm *n, RgParams *p, const char *prefix, int64_t dim,
                           gboolean affine, float eps);
RgTensor *rg_rmsnorm_forward (const RgRmsNorm *n, RgArena *arena, const RgTensor *x);

typedef struct {
  RgTensor *w, *b; /* [D] */
  float     eps;
} RgLayerNorm;

void      rg_layernorm_init (RgLayerNorm *n, RgParams *p, const char *prefix, int64_t dim,
                             float eps);
RgTensor *rg_layernorm_forward (const RgLayerNorm *n, RgArena *arena, const RgTensor *x);

typedef struct {
  RgTensor *w, *b; /* [C] */
  int       groups;
  float     eps;
} RgGroupNorm;

void      rg_groupnorm_init (RgGroupNorm *n, RgParams *p, const char *prefix, int64_t channels,
                             int groups, float eps);
RgTensor *rg_groupnorm_forward (const RgGroupNorm *n, RgArena *arena, const RgTensor *x);
/* silu(GroupNorm(x)) in one pass; its backward needs only x. */
RgTensor *rg_groupnorm_silu_forward (const RgGroupNorm *n, RgArena *arena, const RgTensor *x);

/* ---- attention ---- */

/* Multi-head attention with separate q, k, v, o projections (no biases).
 * Self-attention when forward gets context = NULL; cross-attention to a
 * [B, L, kv_dim] context otherwise, keys ≥ kv_len[b] masked. QK-norm is an
 * RMSNorm over each head's q and k (weights [head_dim]), which keeps the
 * logits bounded at large widths (Movie Gen, after ViT-22B). When
 * kv_dim = dim the q, k, v weights are packed (rg_params_pack_rows), so
 * self-attention projects with one GEMM. */
typedef struct {
  int       heads;
  RgLinear  q, k, v, o;
  RgTensor *qkv; /* [3·dim, dim] (q.w, k.w, v.w are views of it) or NULL */
  gboolean  qk_norm;
  RgRmsNorm q_norm, k_norm;
} RgAttentionLayer;

void      rg_attention_layer_init (RgAttentionLayer *a, RgParams *p, const char *prefix,
                                   int64_t dim, int64_t kv_dim, int heads, gboolean qk_norm,
                                   float eps);
RgTensor *rg_attention_layer_forward (const RgAttentionLayer *a, RgArena *arena,
                                      const RgTensor *x, const RgTensor *context,
                                      const int32_t *kv_len);

/* ---- conditioning ---- */

/* Flow time → [B, D]: sinusoidal features of 1000·t, then
 * linear → SiLU → linear (DiT's TimestepEmbedder). */
typedef struct {
  int      freq_dim;
  RgLinear fc1, fc2;
} RgTimeEmbed;

void      rg_time_embed_init (RgTimeEmbed *e, RgParams *p, const char *prefix, int freq_dim,
                              int64_t dim);
RgTensor *rg_time_embed_forward (const RgTimeEmbed *e, RgArena *arena, const RgTensor *t);

/* adaLN: out[k] [B, D] = mod[B, k·D:(k+1)·D] + table[k] for k < n, where
 * mod is the shared projection of the time embedding and table [n, D] a
 * block's own learned offsets (NULL: none). */
void rg_adaln_split (RgArena *arena, const RgTensor *mod, const RgTensor *table, int n,
                     RgTensor **out);

/* ---- video ---- */

/* A 2.5D convolution: 3×3 spatial conv on every frame (stride s in H, W),
 * then a size-3 temporal conv (stride st in T), both replicate-padded. */
typedef struct {
  RgTensor *ws, *bs; /* [O, C, 3, 3], [O] */
  RgTensor *wt, *bt; /* [O, O, 3], [O] */
  int       stride_s, stride_t;
} RgConv25;

void      rg_conv25_init (RgConv25 *c, RgParams *p, const char *prefix, int64_t cin,
                          int64_t cout, int stride_s, int stride_t);
RgTensor *rg_conv25_forward (const RgConv25 *c, RgArena *arena, const RgTensor *x);

/* x + conv2(silu(norm2(conv1(silu(norm1(x)))))), channels unchanged. */
typedef struct {
  RgGroupNorm norm1, norm2;
  RgConv25    conv1, conv2;
} RgResBlock25;

void      rg_resblock25_init (RgResBlock25 *r, RgParams *p, const char *prefix,
                              int64_t channels, int groups, float eps);
RgTensor *rg_resblock25_forward (const RgResBlock25 *r, RgArena *arena, const RgTensor *x);

/* Learnable factorized positional embedding: tables [Tmax, D], [Hmax, D],
 * [Wmax, D]; forward sums the first T, H, W rows into [T·H·W, D]. */
typedef struct {
  RgTensor *t, *h, *w;
} RgPosEmb3;

void      rg_pos_emb3_init (RgPosEmb3 *e, RgParams *p, const char *prefix, int64_t tmax,
                            int64_t hmax, int64_t wmax, int64_t dim);
RgTensor *rg_pos_emb3_forward (const RgPosEmb3 *e, RgArena *arena, int64_t t, int64_t h,
                               int64_t w);

/* y [B, N, D] = x + pos [N, D] for every batch row (in place ok). */
void rg_add_rows (const RgTensor *x, const RgTensor *pos, RgTensor *y);

/* Arena-allocated f32 tensor: rg_tensor_new_in with the shape as arguments. */
RgTensor *rg_nn_new (RgArena *arena, int ndim, ...);
/* An arena f32 tensor shaped like x with the last dim replaced. */
RgTensor *rg_nn_like_last (RgArena *arena, const RgTensor *x, int64_t last);

G_END_DECLS
