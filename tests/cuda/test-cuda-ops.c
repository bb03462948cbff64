/* The CUDA column against the CPU column (the reference), op by op, with
 * the same NMSE limits as the PyTorch oracle: 1e-10 for elementwise, norm
 * and softmax, 1e-7 for the cuBLAS GEMMs. Odd sizes on purpose (rows not a
 * multiple of a block, a row longer than a block). Skipped without a GPU.
 * Also: an op the CUDA column lacks fails loudly instead of running. */
#include <math.h>

#include "ops/rg-op-table.h"
#include "rg-cuda-device.h"
#include "rg-cuda-tensor.h"

static GRand *rng;

static RgTensor *
host_random (int ndim, const int64_t *shape, double s)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  float *p = rg_tensor_f32 (t);
  for (int64_t i = 0; i < rg_tensor_numel (t); i++)
    p[i] = (float) g_rand_double_range (rng, -s, s);
  return t;
}

static RgTensor *
to_device (const RgTensor *h)
{
  g_autoptr (GError) error = NULL;
  RgTensor *d = rg_cuda_tensor_from_host (h, &error);
  g_assert_no_error (error);
  return d;
}

/* NMSE of the device result against the host reference. */
static double
nmse_vs (const RgTensor *device, const RgTensor *ref)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTensor) back = rg_tensor_new (RG_F32, ref->ndim, ref->shape);
  g_assert_true (rg_cuda_tensor_copy (back, device, &error));
  g_assert_no_error (error);
  const float *a = rg_tensor_f32 (back), *b = rg_tensor_f32 (ref);
  double num = 0, den = 0;
  for (int64_t i = 0; i < rg_tensor_numel (ref); i++)
    {
      g_assert_false (isnan (a[i]));
      num += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
      den += (double) b[i] * b[i];
    }
  double nmse = num / MAX (den, 1e-30);
  if (nmse > 1e-10) /* name the elements, so a failure on the device says how it fails */
    {
      int64_t n = rg_tensor_numel (ref), bad = 0, first = -1;
      for (int64_t i = 0; i < n; i++)
        if (fabsf (a[i] - b[i]) > 1e-5f * MAX (1.0f, fabsf (b[i])))
          bad++, first = first < 0 ? i : first;
      g_test_message ("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " elements differ; first at %"
                      G_GINT64_FORMAT ": device %g, host %g; element 0: %g vs %g, last: %g vs %g",
                      bad, n, first, first < 0 ? 0.0 : a[first], first < 0 ? 0.0 : b[first],
                      a[0], b[0], a[n - 1], b[n - 1]);
    }
  return nmse;
}

#define SHAPE(...) (sizeof ((int64_t[]){ __VA_ARGS__ }) / sizeof (int64_t)), (int64_t[]){ __VA_ARGS__ }

static gboolean
have_device (void)
{
  if (rg_cuda_device_count () > 0)
    return TRUE;
  g_test_skip ("no CUDA device");
  return FALSE;
}

static void
test_elementwise (void)
{
  if (!have_device ())
    return;
  g_autoptr (RgTensor) a = host_random (SHAPE (3, 1001), 4);
  g_autoptr (RgTensor) b = host_random (SHAPE (3, 1001), 4);
  g_autoptr (RgTensor) bias = host_random (SHAPE (1001), 1);
  g_autoptr (RgTensor) ref = rg_tensor_new (RG_F32, SHAPE (3, 1001));
  g_autoptr (RgTensor) da = to_device (a);
  g_autoptr (RgTensor) db = to_device (b);
  g_autoptr (RgTensor) dbias = to_device (bias);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTensor) dy = rg_cuda_tensor_new (RG_F32, SHAPE (3, 1001), &error);
  g_assert_no_error (error);

  rg_add (a, b, ref), rg_add (da, db, dy);
  g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-10);
  rg_mul (a, b, ref), rg_mul (da, db, dy);
  g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-10);
  rg_silu (a, ref), rg_silu (da, dy);
  g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-10);
  rg_swiglu (a, b, ref), rg_swiglu (da, db, dy);
  g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-10);
  rg_add_bias (a, bias, ref), rg_add_bias (da, dbias, dy);
  g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-10);
}

static void
test_norm (void)
{
  if (!have_device ())
    return;
  static const int64_t dims[] = { 1, 7, 257, 3000 };
  for (guint i = 0; i < G_N_ELEMENTS (dims); i++)
    {
      int64_t d = dims[i];
      g_autoptr (RgTensor) x = host_random (SHAPE (5, d), 3);
      g_autoptr (RgTensor) w = host_random (SHAPE (d), 1);
      g_autoptr (RgTensor) ref = rg_tensor_new (RG_F32, SHAPE (5, d));
      g_autoptr (RgTensor) dx = to_device (x);
      g_autoptr (RgTensor) dw = to_device (w);
      g_autoptr (RgTensor) dy = rg_cuda_tensor_new (RG_F32, SHAPE (5, d), NULL);
      rg_rmsnorm (x, w, 1e-6f, ref), rg_rmsnorm (dx, dw, 1e-6f, dy);
      g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-10);
      rg_softmax (x, ref), rg_softmax (dx, dy);
      g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-10);
    }
}

static void
test_gemm (void)
{
  if (!have_device ())
    return;
  g_autoptr (RgTensor) x = host_random (SHAPE (2, 37, 129), 1);
  g_autoptr (RgTensor) w = host_random (SHAPE (65, 129), 0.1);
  g_autoptr (RgTensor) b = host_random (SHAPE (65), 1);
  g_autoptr (RgTensor) ref = rg_tensor_new (RG_F32, SHAPE (2, 37, 65));
  g_autoptr (RgTensor) dx = to_device (x);
  g_autoptr (RgTensor) dw = to_device (w);
  g_autoptr (RgTensor) db = to_device (b);
  g_autoptr (RgTensor) dy = rg_cuda_tensor_new (RG_F32, SHAPE (2, 37, 65), NULL);
  rg_linear (x, w, b, ref), rg_linear (dx, dw, db, dy);
  g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-7);
  rg_linear (x, w, NULL, ref), rg_linear (dx, dw, NULL, dy);
  g_assert_cmpfloat (nmse_vs (dy, ref), <=, 1e-7);

  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      {
        g_autoptr (RgTensor) a = ta ? host_random (SHAPE (17, 33), 1) : host_random (SHAPE (33, 17), 1);
        g_autoptr (RgTensor) bm = tb ? host_random (SHAPE (45, 17), 1) : host_random (SHAPE (17, 45), 1);
        g_autoptr (RgTensor) c = host_random (SHAPE (33, 45), 1);
        g_autoptr (RgTensor) da = to_device (a);
        g_autoptr (RgTensor) dbm = to_device (bm);
        g_autoptr (RgTensor) dc = to_device (c);
        rg_matmul (a, ta, bm, tb, 0.5f, 0.25f, c);
        rg_matmul (da, ta, dbm, tb, 0.5f, 0.25f, dc);
        g_assert_cmpfloat (nmse_vs (dc, c), <=, 1e-7);
      }
}

/* Ops without a CUDA kernel are reported, not run on device pointers. */
static void
test_missing_op (void)
{
  if (!have_device ())
    return;
  if (g_test_subprocess ())
    {
      g_autoptr (RgTensor) dx = rg_cuda_tensor_new (RG_F32, SHAPE (16), NULL);
      g_autoptr (RgTensor) dy = rg_cuda_tensor_new (RG_F32, SHAPE (16), NULL);
      rg_gelu (dx, dy);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*rg_gelu*no implementation on the CUDA backend*");
}

/* The CUDA column as the C dispatcher reads it, checked without a device:
 * the kernels' entries sit in the slots of their ops, one function each.
 * A kernel object compiled against an older RgOpTable (a header edit that
 * ninja did not see) is refused at registration, so this fails on any
 * machine instead of an H200 adding by multiplying. */
static void
test_table (void)
{
  rg_cuda_ops_register ();
  const RgOpTable *t = rg_op_table_get (RG_BACKEND_CUDA);
  g_assert_nonnull (t);
  g_assert_cmpstr (t->name, ==, "cuda");
  gconstpointer have[] = { t->linear, t->matmul,  t->rmsnorm, t->softmax, t->silu,
                           t->swiglu, t->add,     t->mul,     t->add_bias };
  for (guint i = 0; i < G_N_ELEMENTS (have); i++)
    {
      g_assert_nonnull (have[i]);
      for (guint j = 0; j < i; j++)
        g_assert_true (have[i] != have[j]);
    }
  g_assert_null (t->gelu);
  g_assert_null (t->conv2d_frames);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (3);
  g_test_add_func ("/cuda/ops/table", test_table);
  g_test_add_func ("/cuda/ops/elementwise", test_elementwise);
  g_test_add_func ("/cuda/ops/norm", test_norm);
  g_test_add_func ("/cuda/ops/gemm", test_gemm);
  g_test_add_func ("/cuda/ops/missing-op", test_missing_op);
  int rc = g_test_run ();
  g_rand_free (rng);
  return rc;
}
