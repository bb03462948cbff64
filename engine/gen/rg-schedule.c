/* rg-schedule.c — linear and linear-quadratic flow-time schedules. */
#include "rg-schedule.h"

#include "core/rg-error.h"

const char *
rg_schedule_kind_to_string (RgScheduleKind kind)
{
  switch (kind)
    {
    case RG_SCHEDULE_LINEAR:
      return "linear";
    case RG_SCHEDULE_LINEAR_QUADRATIC:
      return "linear-quadratic";
    }
  return "unknown";
}

gboolean
rg_schedule_kind_from_string (const char *name, RgScheduleKind *kind, GError **error)
{
  if (g_strcmp0 (name, "linear") == 0)
    *kind = RG_SCHEDULE_LINEAR;
  else if (g_strcmp0 (name, "linear-quadratic") == 0)
    *kind = RG_SCHEDULE_LINEAR_QUADRATIC;
  else
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "unknown schedule “%s” (expected linear or linear-quadratic)",
                   name ? name : "(null)");
      return FALSE;
    }
  return TRUE;
}

/* Steps 0 … L−1 sit on the fine grid: t_i = i·τ/L with τ = L/F the time
 * reached after L fine steps. Steps L … N follow t(i) = a·i² + b·i + c,
 * chosen so that t(L) = τ, t'(L) = τ/L (the linear slope) and t(N) = 1:
 *   with Q = N − L and D = L − τ·N,
 *   a = D / (L·Q²),  b = τ/L − 2·D/Q²,  c = a·L².
 * D ≥ 0 whenever F ≥ N, so a ≥ 0, t' grows from τ/L > 0 and the schedule
 * is strictly increasing. (This is the form Genmo's Mochi uses for the
 * same Movie Gen schedule.) */
static void
fill_linear_quadratic (double *t, int n, int fine)
{
  int l = n / 2, q = n - l;
  double tau = (double) l / fine;
  double d = l - tau * n;
  double a = d / ((double) l * q * q);
  double b = tau / l - 2.0 * d / ((double) q * q);
  double c = a * l * l;

  for (int i = 0; i < l; i++)
    t[i] = i * tau / l;
  for (int i = l; i < n; i++)
    t[i] = a * i * i + b * i + c;
}

double *
rg_schedule_new (RgScheduleKind kind, int n_steps, int fine_steps, GError **error)
{
  if (n_steps < 1)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "a schedule needs at least 1 step, not %d", n_steps);
      return NULL;
    }
  if (kind == RG_SCHEDULE_LINEAR_QUADRATIC && fine_steps < n_steps)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "linear-quadratic schedule: the fine grid (%d steps) must have at least "
                   "as many steps as the schedule (%d)",
                   fine_steps, n_steps);
      return NULL;
    }

  double *t = g_new (double, n_steps + 1);
  /* One step has no "first half": both kinds are the single step 0 → 1. */
  if (kind == RG_SCHEDULE_LINEAR || n_steps == 1)
    for (int i = 0; i < n_steps; i++)
      t[i] = (double) i / n_steps;
  else
    fill_linear_quadratic (t, n_steps, fine_steps);
  /* Exactly 1 at the end whatever the rounding: the last step lands on data. */
  t[n_steps] = 1.0;
  return t;
}
