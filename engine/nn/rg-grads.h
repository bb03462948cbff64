/* rg-grads.h — gradient buffers that mirror a model's weights.
 *
 * Training needs one gradient tensor per weight, laid out like it. Weights
 * may be views into shared storage (q/k/v and gate/up are rows of one
 * packed matrix, see rg_params_pack_rows), and a layer's backward wants
 * the gradient of exactly the tensor its forward used — sometimes the
 * packed matrix, sometimes one of its views. So RgGrads allocates, for
 * every storage block behind the weights, one zeroed gradient block of the
 * same size, and rg_grads_of(w) returns a view of the gradient block at
 * w's offset with w's shape: the gradient of a packed matrix and of its
 * row views are then the same memory, and accumulating through either one
 * is the same as accumulating through the other.
 *
 * Weights must be writable heap tensors (rg_params_new_init or a writable
 * load), never borrowed from a read-only mapping. */
#pragma once

#include <glib.h>

#include "core/rg-tensor.h"
#include "nn/rg-params.h"

G_BEGIN_DECLS

typedef struct _RgGrads RgGrads;

/* Gradient blocks for every weight of p, all zero. */
RgGrads  *rg_grads_new (RgParams *p);
void      rg_grads_free (RgGrads *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgGrads, rg_grads_free)

/* The gradient of weight w (a weight of p, a view of one, or a packed
 * matrix): a new ref to a contiguous f32 view with w's shape. NULL when w
 * is NULL (an optional weight that is absent); w must belong to p. */
RgTensor *rg_grads_of (RgGrads *g, const RgTensor *w);

/* Clear every gradient (once per optimizer step). */
void      rg_grads_zero (RgGrads *g);
/* Multiply every gradient by s (average over accumulated micro-batches). */
void      rg_grads_scale (RgGrads *g, float s);

G_END_DECLS
