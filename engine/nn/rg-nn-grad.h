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

/* ---- normalisation ---- */

void rg_groupnorm_layer_backward (const RgGroupNorm *n, RgGrads *g, const RgTensor *x,
                                  const RgTensor *dy, RgTensor *dx);

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
  RgTensor     *x;      /* the block's input */
  RgTensor     *n1, *n2; /* GroupNorm outputs before their SiLU */
  RgTensor     *h2;     /* conv1's output (norm2's input) */
  RgConv25Saved conv1, conv2;
} RgResBlock25Saved;

RgTensor *rg_resblock25_forward_train (const RgResBlock25 *r, RgArena *arena, const RgTensor *x,
                                       RgResBlock25Saved *saved);
void      rg_resblock25_backward (const RgResBlock25 *r, RgGrads *g, RgArena *arena,
                                  const RgResBlock25Saved *saved, const RgTensor *dy,
                                  RgTensor *dx);
void      rg_resblock25_saved_clear (RgResBlock25Saved *saved);

G_END_DECLS
