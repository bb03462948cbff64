/* rg-ema.h — exponential moving average of the weights (what sampling uses).
 *
 * After every optimizer update, each shadow s follows its weight w:
 *
 *   s ← s + (1 − d)·(w − s)
 *
 * With warm-up on, the decay of update n (1-based) is
 * d = min(decay, (1 + n) / (10 + n)), the schedule of TensorFlow's
 * ExponentialMovingAverage with num_updates: early on the average tracks
 * the fast-moving weights instead of staying anchored to the random
 * initialisation, which with decay 0.999 would otherwise dominate the
 * average for thousands of steps. Shadows start as copies of the weights.
 * All f32, elementwise on the thread pool (bit-identical for any thread
 * count). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/rg-tensor.h"

G_BEGIN_DECLS

typedef struct _RgEma RgEma;

/* decay must lie in [0, 1); otherwise NULL with RG_ERROR_INVALID_ARGUMENT. */
RgEma *rg_ema_new (double decay, gboolean warmup, GError **error);
void rg_ema_free (RgEma *ema);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgEma, rg_ema_free)

/* Track `weight` (contiguous f32, ref taken); its shadow starts as a copy. */
gboolean rg_ema_add (RgEma *ema, const char *name, RgTensor *weight, GError **error);

double rg_ema_get_decay (RgEma *ema);
gboolean rg_ema_get_warmup (RgEma *ema);
/* The decay that update number n (1-based) uses. */
double rg_ema_decay_at (RgEma *ema, int64_t n);

/* Fold the current weights into the shadows (one update). */
void rg_ema_update (RgEma *ema);

guint rg_ema_get_n (RgEma *ema);
const char *rg_ema_get_name (RgEma *ema, guint i);
RgTensor *rg_ema_get_weight (RgEma *ema, guint i);
RgTensor *rg_ema_get_shadow (RgEma *ema, guint i);
/* The shadow of `name`, or NULL. */
RgTensor *rg_ema_lookup (RgEma *ema, const char *name);
/* Updates folded in so far; set on resume. */
int64_t rg_ema_get_updates (RgEma *ema);
void rg_ema_set_updates (RgEma *ema, int64_t n);

G_END_DECLS
