/* rg-embed-optim.h — sparse (row-wise) optimizers for embedding rows.
 *
 * Only the rows a batch touched are updated, in whatever tier they live.
 * Each row carries its own optimizer state next to its weights, so a row
 * moves between tiers (and is written to SQLite) as one unit:
 *
 *   SGD               no state:  w ← w − lr·g
 *   row-wise Adagrad  one float: s ← s + mean(g²);  w ← w − lr·g / (√s + eps)
 *                     (FBGEMM's EXACT_ROWWISE_ADAGRAD: one accumulator per
 *                     row instead of per element, D× less state)
 *
 * The caller sums the gradients of duplicate ids in a batch first, as TBE's
 * backward does, so a row is stepped once per batch. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/rg-dtype.h"

G_BEGIN_DECLS

typedef enum
{
  RG_EMBED_OPTIM_SGD,
  RG_EMBED_OPTIM_ADAGRAD,
} RgEmbedOptimKind;

typedef struct
{
  RgEmbedOptimKind kind;
  float lr;
  float eps; /* Adagrad only */
} RgEmbedOptim;

const char *rg_embed_optim_name (RgEmbedOptimKind kind); /* "sgd", "adagrad" */
gboolean rg_embed_optim_from_name (const char *name, RgEmbedOptimKind *out);

/* Floats of state per row: 0 for SGD, 1 for row-wise Adagrad. */
int rg_embed_optim_state_floats (RgEmbedOptimKind kind);

/* One step on one row: weights[dim] of dtype (f32 or bf16, rounded to
 * nearest even after the update), state[state_floats], grad[dim] in f32. */
void rg_embed_optim_step_row (const RgEmbedOptim *optim, RgDType dtype, int dim, void *weights,
                              float *state, const float *grad);

G_END_DECLS
