/* rg-schedule.h — where the Euler solver evaluates the model: the flow
 * times t₀ = 0 < t₁ < … < t_N = 1 of an N-step generation.
 *
 * LINEAR spaces the N steps evenly. LINEAR_QUADRATIC is Movie Gen's
 * schedule (§3.1.2): most of the visible structure forms in the first,
 * noisiest steps, so the first half of the steps walk the start of a fine
 * `fine_steps`-step linear grid (t_i = i / fine_steps) and the second half
 * cover the rest of the way to 1 with quadratically growing steps. The
 * quadratic joins the linear part with the same value and slope, so the
 * schedule is smooth and strictly increasing; with 50 steps and a 1000-step
 * grid it is exactly the paper's "first 25 steps of the 1000-step linear
 * schedule, then 25 quadratic steps". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  RG_SCHEDULE_LINEAR,
  RG_SCHEDULE_LINEAR_QUADRATIC,
} RgScheduleKind;

/* The fine grid Movie Gen emulates. */
#define RG_SCHEDULE_FINE_STEPS 1000

/* "linear" / "linear-quadratic". */
const char *rg_schedule_kind_to_string (RgScheduleKind kind);
gboolean    rg_schedule_kind_from_string (const char *name, RgScheduleKind *kind,
                                          GError **error);

/* The n_steps + 1 times of the schedule (free with g_free), or NULL with
 * RG_ERROR_INVALID_ARGUMENT when n_steps < 1, or, for LINEAR_QUADRATIC,
 * fine_steps < n_steps (the fine grid must be finer than the schedule). */
double *rg_schedule_new (RgScheduleKind kind, int n_steps, int fine_steps, GError **error);

G_END_DECLS
