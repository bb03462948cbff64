/* rg-euler.c — the Euler solver for flow matching.
 *
 * Movie Gen samples with plain first-order Euler: with a good schedule it
 * matches higher-order solvers at the same number of model evaluations, and
 * one evaluation per step keeps progress and cancellation simple. */
#include "rg-flow.h"

#include "core/rg-error.h"

gboolean
rg_flow_euler (RgTensor *x, const double *t, int n_steps, RgVelocityFunc velocity,
               RgSolverStepFunc on_step, gpointer user_data, GCancellable *cancellable,
               GError **error)
{
  g_return_val_if_fail (x != NULL && x->dtype == RG_F32 && rg_tensor_is_contiguous (x), FALSE);
  g_return_val_if_fail (t != NULL && n_steps >= 1 && velocity != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (int i = 0; i < n_steps; i++)
    if (!(t[i] < t[i + 1]))
      {
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "Euler solver: times must increase, but t[%d] = %g and t[%d] = %g", i,
                     t[i], i + 1, t[i + 1]);
        return FALSE;
      }

  g_autoptr (RgTensor) v = rg_tensor_new (RG_F32, x->ndim, x->shape);
  float *xs = rg_tensor_f32 (x);
  const float *vs = rg_tensor_f32 (v);
  int64_t n = rg_tensor_numel (x);

  for (int i = 0; i < n_steps; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "cancelled before step %d of %d",
                       i + 1, n_steps);
          return FALSE;
        }
      if (!velocity (x, (float) t[i], v, user_data, cancellable, error))
        return FALSE;
      float dt = (float) (t[i + 1] - t[i]);
      for (int64_t k = 0; k < n; k++)
        xs[k] += dt * vs[k];
      if (on_step)
        on_step (i + 1, n_steps, x, user_data);
    }
  return TRUE;
}
