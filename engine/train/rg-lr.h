/* rg-lr.h — the learning-rate schedule: linear warmup, then cosine decay.
 *
 * `step` is the index of the update about to be taken (0 for the first).
 * Warmup ramps linearly to base_lr over warmup_steps updates, starting at
 * base_lr / warmup_steps rather than 0 so that the first update is not
 * wasted. Cosine then falls from base_lr to min_lr at total_steps and stays
 * at min_lr beyond it (a run extended past its plan keeps training gently
 * instead of going to zero). The schedule is a pure function of the step, so
 * a resumed run needs only the step to be back on it. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  double base_lr;
  double min_lr;
  int64_t warmup_steps; /* >= 0; 0 starts at base_lr */
  int64_t total_steps;  /* > warmup_steps */
} RgLrSchedule;

/* FALSE with RG_ERROR_INVALID_ARGUMENT for negative or non-finite rates,
 * min_lr > base_lr, or total_steps <= warmup_steps. */
gboolean rg_lr_schedule_validate (const RgLrSchedule *s, GError **error);
double rg_lr_at (const RgLrSchedule *s, int64_t step);

G_END_DECLS
