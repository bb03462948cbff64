/* Flow matching: the path, its target, CFG arithmetic, the Euler solver and
 * the schedules, checked against their defining formulas. */
#include <math.h>

#include "core/rg-error.h"
#include "gen/rg-flow.h"
#include "gen/rg-schedule.h"

static RgTensor *
tensor_from (int n, const float *values)
{
  RgTensor *t = rg_tensor_f32_new (2, (int64_t) 1, (int64_t) n);
  memcpy (rg_tensor_f32 (t), values, n * sizeof (float));
  return t;
}

static void
test_path_endpoints (void)
{
  const int64_t shape[] = { 2, 3, 4 };
  g_autoptr (RgTensor) x0 = rg_flow_noise (1, 0, 3, shape);
  g_autoptr (RgTensor) x1 = rg_flow_noise (2, 0, 3, shape);
  g_autoptr (RgTensor) xt = rg_tensor_new (RG_F32, 3, shape);
  const float *a = rg_tensor_f32 (x0), *b = rg_tensor_f32 (x1), *y = rg_tensor_f32 (xt);
  const float s = RG_FLOW_SIGMA_MIN;

  /* t = 0 is pure noise, exactly */
  float t0[] = { 0.0f, 0.0f };
  rg_flow_interpolate (x0, x1, t0, s, xt);
  for (int i = 0; i < 24; i++)
    g_assert_cmpfloat (y[i], ==, a[i]);

  /* t = 1 is data plus σ_min of the noise */
  float t1[] = { 1.0f, 1.0f };
  rg_flow_interpolate (x0, x1, t1, s, xt);
  for (int i = 0; i < 24; i++)
    g_assert_cmpfloat_with_epsilon (y[i], b[i] + s * a[i], 1e-6);

  /* per-item times: item 0 at t = 0.25, item 1 at t = 0.75 */
  float tm[] = { 0.25f, 0.75f };
  rg_flow_interpolate (x0, x1, tm, s, xt);
  for (int i = 0; i < 24; i++)
    {
      float t = tm[i / 12];
      g_assert_cmpfloat_with_epsilon (y[i], t * b[i] + (1 - (1 - s) * t) * a[i], 1e-6);
    }
}

static void
test_target_is_path_derivative (void)
{
  const int64_t shape[] = { 1, 64 };
  g_autoptr (RgTensor) x0 = rg_flow_noise (3, 0, 2, shape);
  g_autoptr (RgTensor) x1 = rg_flow_noise (4, 0, 2, shape);
  g_autoptr (RgTensor) v = rg_tensor_new (RG_F32, 2, shape);
  g_autoptr (RgTensor) lo = rg_tensor_new (RG_F32, 2, shape);
  g_autoptr (RgTensor) hi = rg_tensor_new (RG_F32, 2, shape);

  rg_flow_target (x0, x1, RG_FLOW_SIGMA_MIN, v);
  /* the path is linear in t, so a finite difference is its exact slope */
  float ta = 0.25f, tb = 0.75f;
  rg_flow_interpolate (x0, x1, &ta, RG_FLOW_SIGMA_MIN, lo);
  rg_flow_interpolate (x0, x1, &tb, RG_FLOW_SIGMA_MIN, hi);
  for (int i = 0; i < 64; i++)
    {
      float fd = (rg_tensor_f32 (hi)[i] - rg_tensor_f32 (lo)[i]) / (tb - ta);
      float want = rg_tensor_f32 (x1)[i] - (1 - RG_FLOW_SIGMA_MIN) * rg_tensor_f32 (x0)[i];
      g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (v)[i], want, 1e-6);
      g_assert_cmpfloat_with_epsilon (fd, want, 1e-5);
    }
}

static void
test_noise_is_seeded (void)
{
  const int64_t shape[] = { 1, 16, 4, 8, 8 };
  g_autoptr (RgTensor) a = rg_flow_noise (42, RG_FLOW_STREAM_LATENT, 5, shape);
  g_autoptr (RgTensor) b = rg_flow_noise (42, RG_FLOW_STREAM_LATENT, 5, shape);
  g_autoptr (RgTensor) c = rg_flow_noise (43, RG_FLOW_STREAM_LATENT, 5, shape);
  g_assert_cmpmem (a->data, rg_tensor_nbytes (a), b->data, rg_tensor_nbytes (b));
  g_assert_true (memcmp (a->data, c->data, rg_tensor_nbytes (a)) != 0);
}

static void
test_logit_normal (void)
{
  const int n = 20000;
  float *t = g_new (float, n);
  rg_flow_sample_t_logit_normal (5, 1, 0, 0.0f, 1.0f, t, n);
  int below = 0, middle = 0;
  for (int i = 0; i < n; i++)
    {
      g_assert_true (t[i] > 0.0f && t[i] < 1.0f);
      below += t[i] < 0.5f;
      /* P(|z| < 1) ≈ 0.683 ↔ t in (sigmoid(−1), sigmoid(1)) */
      middle += t[i] > 0.2689f && t[i] < 0.7311f;
    }
  g_assert_cmpfloat (fabs (below / (double) n - 0.5), <, 0.02);
  g_assert_cmpfloat (fabs (middle / (double) n - 0.6827), <, 0.02);

  /* a shifted mean moves the mass towards 1 */
  rg_flow_sample_t_logit_normal (5, 1, 0, 2.0f, 0.5f, t, n);
  double mean = 0;
  for (int i = 0; i < n; i++)
    mean += t[i];
  g_assert_cmpfloat (mean / n, >, 0.8);
  g_free (t);
}

/* rg_flow_loss's gradient against central differences, in double over
 * the f32 loss (v is put back as it was). */
static void
assert_loss_gradient (RgTensor *v, const RgTensor *target, double motion_weight,
                      const float *cell_weight)
{
  g_autoptr (RgTensor) dv = rg_tensor_new (RG_F32, 5, v->shape);
  float *vp = rg_tensor_f32 (v);
  int64_t n = rg_tensor_numel (v);
  rg_flow_loss (v, target, motion_weight, cell_weight, dv);
  g_autofree float *analytic = g_memdup2 (rg_tensor_f32 (dv), (gsize) n * sizeof (float));
  double err = 0.0, ref = 0.0;
  for (int64_t i = 0; i < n; i++)
    {
      float keep = vp[i], h = 1e-2f;
      vp[i] = keep + h;
      double up = rg_flow_loss (v, target, motion_weight, cell_weight, dv);
      vp[i] = keep - h;
      double down = rg_flow_loss (v, target, motion_weight, cell_weight, dv);
      vp[i] = keep;
      double fd = (up - down) / (2.0 * h);
      err += (fd - analytic[i]) * (fd - analytic[i]);
      ref += fd * fd;
    }
  g_assert_cmpfloat (err / ref, <=, 1e-6);
}

/* rg_flow_loss: weight 0 is the plain MSE; a clip whose error is the same
 * in every frame pays nothing extra for motion while an error that changes
 * does; the gradient matches central differences of the returned loss. */
static void
test_loss (void)
{
  const int64_t shape[] = { 2, 3, 4, 2, 3 };
  g_autoptr (RgTensor) v = rg_flow_noise (5, 0, 5, shape);
  g_autoptr (RgTensor) target = rg_flow_noise (6, 0, 5, shape);
  g_autoptr (RgTensor) dv = rg_tensor_new (RG_F32, 5, shape);
  float *vp = rg_tensor_f32 (v), *tp = rg_tensor_f32 (target);
  int64_t n = rg_tensor_numel (v);

  double mse = 0.0;
  for (int64_t i = 0; i < n; i++)
    mse += (double) (vp[i] - tp[i]) * (vp[i] - tp[i]);
  mse /= (double) n;
  g_assert_cmpfloat_with_epsilon (rg_flow_loss (v, target, 0.0, NULL, dv), mse, 1e-9);
  g_assert_cmpfloat (rg_flow_loss (v, target, 2.0, NULL, dv), >, mse);

  /* an error constant over time: the motion term adds nothing */
  g_autoptr (RgTensor) steady = rg_tensor_new (RG_F32, 5, shape);
  float *sp = rg_tensor_f32 (steady);
  for (int64_t i = 0; i < n; i++)
    sp[i] = tp[i] + 0.5f;
  g_assert_cmpfloat_with_epsilon (rg_flow_loss (steady, target, 3.0, NULL, dv), 0.25, 1e-6);
  /* an error of ±0.5 alternating by frame: all of its 0.25 changes */
  for (int64_t i = 0; i < n; i++)
    sp[i] = tp[i] + (((i / 6) % 4) % 2 ? 0.5f : -0.5f);
  g_assert_cmpfloat_with_epsilon (rg_flow_loss (steady, target, 3.0, NULL, dv), 0.25 * 4.0, 1e-6);
  /* 0.5 in frame 0 only: r̄ = 0.125, so per pixel column the changing part
   * is 0.375² + 3 · 0.125² = 0.1875 of the 0.25 summed over 4 frames */
  for (int64_t i = 0; i < n; i++)
    sp[i] = tp[i] + ((i / 6) % 4 == 0 ? 0.5f : 0.0f);
  g_assert_cmpfloat_with_epsilon (rg_flow_loss (steady, target, 2.0, NULL, dv),
                                  (0.25 + 2.0 * 0.1875) / 4.0, 1e-6);

  assert_loss_gradient (v, target, 1.5, NULL);

  /* one frame: no frame differences, the plain MSE */
  const int64_t one[] = { 1, 2, 1, 2, 2 };
  g_autoptr (RgTensor) a = rg_flow_noise (7, 0, 5, one);
  g_autoptr (RgTensor) b = rg_flow_noise (8, 0, 5, one);
  g_autoptr (RgTensor) da = rg_tensor_new (RG_F32, 5, one);
  g_assert_cmpfloat_with_epsilon (rg_flow_loss (a, b, 5.0, NULL, da),
                                  rg_flow_loss (a, b, 0.0, NULL, da), 1e-12);
}

/* rg_flow_loss with cell weights: all ones is the unweighted loss; a
 * weight of 5 on one cell of one item adds 4 times that cell's squares
 * (every channel and frame) and nothing elsewhere; the gradient, motion
 * term included, matches central differences. */
static void
test_loss_cell_weight (void)
{
  const int64_t shape[] = { 2, 3, 4, 2, 3 }; /* B, C, T, H, W */
  g_autoptr (RgTensor) v = rg_flow_noise (15, 0, 5, shape);
  g_autoptr (RgTensor) target = rg_flow_noise (16, 0, 5, shape);
  g_autoptr (RgTensor) dv = rg_tensor_new (RG_F32, 5, shape);
  const float *vp = rg_tensor_f32 (v), *tp = rg_tensor_f32 (target);
  int64_t n = rg_tensor_numel (v), hw = 6;
  float ones[2 * 6], one_cell[2 * 6];
  for (int i = 0; i < 2 * 6; i++)
    ones[i] = 1.0f, one_cell[i] = 1.0f;
  one_cell[1 * 6 + 4] = 5.0f; /* item 1, row 1, column 1 */

  g_assert_cmpfloat_with_epsilon (rg_flow_loss (v, target, 2.0, ones, dv),
                                  rg_flow_loss (v, target, 2.0, NULL, dv), 1e-9);
  double cell = 0.0;
  for (int64_t c = 0; c < 3; c++)
    for (int64_t f = 0; f < 4; f++)
      {
        int64_t i = ((1 * 3 + c) * 4 + f) * hw + 4;
        cell += (double) (vp[i] - tp[i]) * (vp[i] - tp[i]);
      }
  g_assert_cmpfloat_with_epsilon (rg_flow_loss (v, target, 0.0, one_cell, dv),
                                  rg_flow_loss (v, target, 0.0, NULL, dv) + 4.0 * cell / (double) n,
                                  1e-6);
  assert_loss_gradient (v, target, 1.5, one_cell);
}

static void
test_cfg_arithmetic (void)
{
  const float c[] = { 1.0f, -2.0f, 0.5f, 3.0f };
  const float u[] = { 0.0f, 1.0f, 0.5f, -1.0f };
  g_autoptr (RgTensor) vc = tensor_from (4, c);
  g_autoptr (RgTensor) vu = tensor_from (4, u);
  g_autoptr (RgTensor) out = rg_tensor_f32_new (2, (int64_t) 1, (int64_t) 4);

  /* g = 1: the conditional velocity, bit for bit */
  rg_cfg_combine (vc, vu, 1.0f, out);
  g_assert_cmpmem (out->data, 16, c, 16);

  /* g = 0: the unconditional one */
  rg_cfg_combine (vc, vu, 0.0f, out);
  g_assert_cmpmem (out->data, 16, u, 16);

  /* g = 7.5: u + 7.5·(c − u) worked by hand */
  const float want[] = { 7.5f, -21.5f, 0.5f, 29.0f };
  rg_cfg_combine (vc, vu, 7.5f, out);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (rg_tensor_f32 (out)[i], ==, want[i]);

  /* batched: item 0 conditional, item 1 unconditional */
  g_autoptr (RgTensor) v2 = rg_tensor_f32_new (2, (int64_t) 2, (int64_t) 4);
  memcpy (rg_tensor_f32 (v2), c, 16);
  memcpy (rg_tensor_f32 (v2) + 4, u, 16);
  rg_tensor_fill (out, 0.0f);
  rg_cfg_combine_batched (v2, 7.5f, out);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (rg_tensor_f32 (out)[i], ==, want[i]);
}

/* The ideal velocity towards a single data point x1 from the noise the
 * trajectory started at: constant along the straight path, and the same
 * value whatever the schedule. */
typedef struct {
  const RgTensor *x1;
  int calls;
  float last_t;
} IdealField;

static gboolean
ideal_velocity (const RgTensor *x, float t, RgTensor *v, gpointer user_data,
                GCancellable *cancellable, GError **error)
{
  IdealField *f = user_data;
  const float s = RG_FLOW_SIGMA_MIN;
  /* invert x_t = t·x1 + (1 − (1 − s)·t)·x0 for x0, then v = x1 − (1 − s)·x0 */
  for (int64_t i = 0; i < rg_tensor_numel (x); i++)
    {
      float b = rg_tensor_f32 (f->x1)[i];
      float x0 = (rg_tensor_f32 (x)[i] - t * b) / (1 - (1 - s) * t);
      rg_tensor_f32 (v)[i] = b - (1 - s) * x0;
    }
  g_assert_cmpfloat (t, >=, f->last_t);
  f->last_t = t;
  f->calls++;
  return TRUE;
}

static void
check_euler_reaches_data (RgScheduleKind kind, int steps)
{
  const int64_t shape[] = { 1, 256 };
  g_autoptr (RgTensor) x0 = rg_flow_noise (9, 0, 2, shape);
  g_autoptr (RgTensor) x1 = rg_flow_noise (10, 0, 2, shape);
  g_autoptr (RgTensor) x = rg_tensor_clone (x0);
  g_autoptr (GError) error = NULL;
  g_autofree double *t = rg_schedule_new (kind, steps, RG_SCHEDULE_FINE_STEPS, &error);
  g_assert_no_error (error);

  IdealField f = { x1, 0, -1.0f };
  g_assert_true (rg_flow_euler (x, t, steps, ideal_velocity, NULL, &f, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (f.calls, ==, steps);
  for (int i = 0; i < 256; i++)
    {
      float want = rg_tensor_f32 (x1)[i] + RG_FLOW_SIGMA_MIN * rg_tensor_f32 (x0)[i];
      g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (x)[i], want, 1e-4);
    }
}

static void
test_euler_exact_endpoint (void)
{
  check_euler_reaches_data (RG_SCHEDULE_LINEAR, 1);
  check_euler_reaches_data (RG_SCHEDULE_LINEAR, 7);
  check_euler_reaches_data (RG_SCHEDULE_LINEAR_QUADRATIC, 50);
}

/* dx/dt = t: exact solution x(1) = x(0) + ½, Euler's error with N even
 * steps is exactly 1/(2N), a check that the step sizes are the schedule's. */
static gboolean
time_velocity (const RgTensor *x, float t, RgTensor *v, gpointer user_data,
               GCancellable *cancellable, GError **error)
{
  rg_tensor_fill (v, t);
  return TRUE;
}

static void
test_euler_step_sizes (void)
{
  g_autoptr (RgTensor) x = rg_tensor_f32_zeros (1, (int64_t) 3);
  g_autofree double *t = rg_schedule_new (RG_SCHEDULE_LINEAR, 10, 0, NULL);
  g_assert_true (rg_flow_euler (x, t, 10, time_velocity, NULL, NULL, NULL, NULL));
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (x)[0], 0.5 - 1.0 / 20, 1e-6);
}

static gboolean
count_and_cancel (const RgTensor *x, float t, RgTensor *v, gpointer user_data,
                  GCancellable *cancellable, GError **error)
{
  int *calls = user_data;
  if (++*calls == 3)
    g_cancellable_cancel (cancellable);
  rg_tensor_fill (v, 1.0f);
  return TRUE;
}

static void
test_euler_cancel (void)
{
  g_autoptr (RgTensor) x = rg_tensor_f32_zeros (1, (int64_t) 2);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree double *t = rg_schedule_new (RG_SCHEDULE_LINEAR, 10, 0, NULL);
  int calls = 0;
  g_assert_false (rg_flow_euler (x, t, 10, count_and_cancel, NULL, &calls, cancellable, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CANCELLED);
  /* three steps ran, the fourth never started */
  g_assert_cmpint (calls, ==, 3);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (x)[0], 0.3, 1e-6);
}

static void
test_schedule_linear (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree double *t = rg_schedule_new (RG_SCHEDULE_LINEAR, 8, 0, &error);
  g_assert_no_error (error);
  for (int i = 0; i <= 8; i++)
    g_assert_cmpfloat_with_epsilon (t[i], i / 8.0, 1e-15);
}

static void
check_linear_quadratic (int n, int fine)
{
  g_autoptr (GError) error = NULL;
  g_autofree double *t = rg_schedule_new (RG_SCHEDULE_LINEAR_QUADRATIC, n, fine, &error);
  g_assert_no_error (error);
  int half = n / 2;

  /* the first half walks the fine grid: t_i = i / fine */
  for (int i = 0; i <= half; i++)
    g_assert_cmpfloat_with_epsilon (t[i], (double) i / fine, 1e-12);
  /* strictly increasing, ends at exactly 1 */
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat (t[i], <, t[i + 1]);
  g_assert_cmpfloat (t[n], ==, 1.0);
  /* the quadratic half's steps grow (second differences constant, > 0) */
  for (int i = half; i + 2 <= n; i++)
    {
      double d1 = t[i + 1] - t[i], d2 = t[i + 2] - t[i + 1];
      g_assert_cmpfloat (d2, >, d1);
      if (i > half)
        g_assert_cmpfloat_with_epsilon (d2 - d1, (t[half + 2] - t[half + 1]) - (t[half + 1] - t[half]),
                                        1e-9);
    }
}

static void
test_schedule_linear_quadratic (void)
{
  /* Movie Gen's own numbers: 50 steps, the first 25 of a 1000-step grid */
  check_linear_quadratic (50, 1000);
  {
    g_autofree double *t = rg_schedule_new (RG_SCHEDULE_LINEAR_QUADRATIC, 50, 1000, NULL);
    g_assert_cmpfloat_with_epsilon (t[25], 0.025, 1e-12);
    g_assert_cmpfloat_with_epsilon (t[1] - t[0], 0.001, 1e-12);
  }
  check_linear_quadratic (2, 1000);
  check_linear_quadratic (7, 1000);
  check_linear_quadratic (64, 256);

  /* one step is just 0 → 1 */
  g_autofree double *one = rg_schedule_new (RG_SCHEDULE_LINEAR_QUADRATIC, 1, 1000, NULL);
  g_assert_cmpfloat (one[0], ==, 0.0);
  g_assert_cmpfloat (one[1], ==, 1.0);
}

static void
test_schedule_errors (void)
{
  GError *error = NULL;
  g_assert_null (rg_schedule_new (RG_SCHEDULE_LINEAR, 0, 1000, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (rg_schedule_new (RG_SCHEDULE_LINEAR_QUADRATIC, 100, 50, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  RgScheduleKind kind;
  g_assert_true (rg_schedule_kind_from_string ("linear-quadratic", &kind, NULL));
  g_assert_cmpint (kind, ==, RG_SCHEDULE_LINEAR_QUADRATIC);
  g_assert_cmpstr (rg_schedule_kind_to_string (kind), ==, "linear-quadratic");
  g_assert_false (rg_schedule_kind_from_string ("cosine", &kind, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "cosine"));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flow/path-endpoints", test_path_endpoints);
  g_test_add_func ("/flow/target-is-derivative", test_target_is_path_derivative);
  g_test_add_func ("/flow/noise-seeded", test_noise_is_seeded);
  g_test_add_func ("/flow/logit-normal", test_logit_normal);
  g_test_add_func ("/flow/loss", test_loss);
  g_test_add_func ("/flow/loss-cell-weight", test_loss_cell_weight);
  g_test_add_func ("/flow/cfg", test_cfg_arithmetic);
  g_test_add_func ("/flow/euler-exact-endpoint", test_euler_exact_endpoint);
  g_test_add_func ("/flow/euler-step-sizes", test_euler_step_sizes);
  g_test_add_func ("/flow/euler-cancel", test_euler_cancel);
  g_test_add_func ("/schedule/linear", test_schedule_linear);
  g_test_add_func ("/schedule/linear-quadratic", test_schedule_linear_quadratic);
  g_test_add_func ("/schedule/errors", test_schedule_errors);
  return g_test_run ();
}
