/* rg-lr.c — warmup + cosine learning rate. */
#include "train/rg-lr.h"

#include <math.h>

#include "core/rg-error.h"

gboolean
rg_lr_schedule_validate (const RgLrSchedule *s, GError **error)
{
  if (!isfinite (s->base_lr) || !isfinite (s->min_lr) || s->base_lr < 0 || s->min_lr < 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "learning-rate schedule: rates must be finite and >= 0 (base %g, min %g)",
                   s->base_lr, s->min_lr);
      return FALSE;
    }
  if (s->min_lr > s->base_lr)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "learning-rate schedule: min_lr %g is above base_lr %g", s->min_lr, s->base_lr);
      return FALSE;
    }
  if (s->warmup_steps < 0 || s->total_steps <= s->warmup_steps)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "learning-rate schedule: need 0 <= warmup_steps (%" G_GINT64_FORMAT
                   ") < total_steps (%" G_GINT64_FORMAT ")",
                   s->warmup_steps, s->total_steps);
      return FALSE;
    }
  return TRUE;
}

double
rg_lr_at (const RgLrSchedule *s, int64_t step)
{
  if (step < 0)
    step = 0;
  if (step < s->warmup_steps)
    return s->base_lr * (double)(step + 1) / (double)s->warmup_steps;
  if (step >= s->total_steps)
    return s->min_lr;

  double progress = (double)(step - s->warmup_steps) / (double)(s->total_steps - s->warmup_steps);
  return s->min_lr + (s->base_lr - s->min_lr) * 0.5 * (1.0 + cos (G_PI * progress));
}
