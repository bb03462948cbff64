/* Tensors: views, copies, dtype conversions and the arena. */
#include <math.h>
#include <string.h>

#include "core/rg-tensor.h"

static void
test_views (void)
{
  g_autoptr (RgTensor) t = rg_tensor_f32_new (3, (int64_t) 2, (int64_t) 3, (int64_t) 4);
  float *p = rg_tensor_f32 (t);
  for (int i = 0; i < 24; i++)
    p[i] = (float) i;

  int64_t shape[2] = { 6, -1 };
  g_autoptr (RgTensor) r = rg_tensor_reshape (t, 2, shape);
  g_assert_cmpint (r->shape[1], ==, 4);
  g_assert_true (r->data == t->data);

  g_autoptr (RgTensor) n = rg_tensor_narrow (t, 2, 1, 2); /* [2,3,2] */
  g_assert_false (rg_tensor_is_contiguous (n));
  g_autoptr (RgTensor) c = rg_tensor_contiguous (n);
  g_assert_true (rg_tensor_is_contiguous (c));
  float *q = rg_tensor_f32 (c);
  g_assert_cmpfloat (q[0], ==, 1);
  g_assert_cmpfloat (q[1], ==, 2);
  g_assert_cmpfloat (q[2], ==, 5);
  g_assert_cmpfloat (q[11], ==, 22);

  int perm[3] = { 2, 0, 1 };
  g_autoptr (RgTensor) pm = rg_tensor_permute (t, perm); /* [4,2,3] */
  g_autoptr (RgTensor) pc = rg_tensor_contiguous (pm);
  q = rg_tensor_f32 (pc);
  /* pc[k][i][j] = t[i][j][k] */
  g_assert_cmpfloat (q[1 * 6 + 1 * 3 + 2], ==, p[1 * 12 + 2 * 4 + 1]);

  g_autofree char *s = rg_tensor_shape_string (pm);
  g_assert_cmpstr (s, ==, "[4, 2, 3]");
}

static void
test_view_outlives_base (void)
{
  RgTensor *t = rg_tensor_f32_zeros (1, (int64_t) 8);
  RgTensor *v = rg_tensor_narrow (t, 0, 4, 4);
  rg_tensor_unref (t);
  rg_tensor_f32 (v)[3] = 7; /* storage still alive through the view */
  g_assert_cmpfloat (rg_tensor_f32 (v)[3], ==, 7);
  rg_tensor_unref (v);
}

static void
test_bf16 (void)
{
  g_assert_cmphex (rg_f32_to_bf16 (1.0f), ==, 0x3f80);
  /* 1 + 2^-8 is a tie between 1 and 1+2^-7: rounds to even (1.0) */
  g_assert_cmphex (rg_f32_to_bf16 (1.0f + 1.0f / 256), ==, 0x3f80);
  /* 1 + 3·2^-8 is a tie between 1+2^-7 and 1+2^-6: rounds to even (1+2^-6) */
  g_assert_cmphex (rg_f32_to_bf16 (1.0f + 3.0f / 256), ==, 0x3f82);
  g_assert_true (isnan (rg_bf16_to_f32 (rg_f32_to_bf16 (NAN))));
  g_assert_true (isinf (rg_bf16_to_f32 (rg_f32_to_bf16 (INFINITY))));
  for (float v = -5; v < 5; v += 0.013f)
    g_assert_cmpfloat_with_epsilon (rg_bf16_to_f32 (rg_f32_to_bf16 (v)), v, fabsf (v) / 128 + 1e-30);
}

static void
test_f16 (void)
{
  g_assert_cmphex (rg_f32_to_f16 (1.0f), ==, 0x3c00);
  g_assert_cmphex (rg_f32_to_f16 (-2.0f), ==, 0xc000);
  g_assert_cmphex (rg_f32_to_f16 (65504.0f), ==, 0x7bff);
  g_assert_cmphex (rg_f32_to_f16 (65520.0f), ==, 0x7c00);      /* rounds to inf */
  g_assert_cmphex (rg_f32_to_f16 (5.960464477539063e-08f), ==, 0x0001); /* smallest subnormal */
  g_assert_cmpfloat (rg_f16_to_f32 (0x0001), ==, 5.960464477539063e-08f);
  g_assert_cmpfloat (rg_f16_to_f32 (0x3555), ==, 0.333251953125f);
  g_assert_true (isnan (rg_f16_to_f32 (rg_f32_to_f16 (NAN))));
  for (float v = -100; v < 100; v += 0.37f)
    g_assert_cmpfloat_with_epsilon (rg_f16_to_f32 (rg_f32_to_f16 (v)), v, fabsf (v) / 1024 + 1e-7);
}

static void
test_convert_tensor (void)
{
  g_autoptr (RgTensor) t = rg_tensor_f32_new (2, (int64_t) 3, (int64_t) 5);
  for (int i = 0; i < 15; i++)
    rg_tensor_f32 (t)[i] = (float) i * 0.5f - 3;
  g_autoptr (RgTensor) h = rg_tensor_to_dtype (t, RG_BF16);
  g_assert_cmpint (rg_tensor_nbytes (h), ==, 30);
  g_autoptr (RgTensor) back = rg_tensor_to_dtype (h, RG_F32);
  for (int i = 0; i < 15; i++)
    g_assert_cmpfloat (rg_tensor_f32 (back)[i], ==, rg_tensor_f32 (t)[i]);
}

/* Two-pass mean and std, exact on a large offset (where Σx² − (Σx)²/n
 * would lose the spread), NaN on an empty tensor. */
static void
test_mean_std (void)
{
  g_autoptr (RgTensor) t = rg_tensor_new (RG_F32, 1, (int64_t[]){ 4 });
  float *p = rg_tensor_f32 (t);
  for (int i = 0; i < 4; i++)
    p[i] = 10000.0f + (float) i;
  double mean, std;
  rg_tensor_mean_std (t, &mean, &std);
  g_assert_cmpfloat_with_epsilon (mean, 10001.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (std, sqrt (1.25), 1e-9);
  g_autoptr (RgTensor) empty = rg_tensor_new (RG_F32, 1, (int64_t[]){ 0 });
  rg_tensor_mean_std (empty, &mean, &std);
  g_assert_true (isnan (mean) && isnan (std));
}

static void
test_arena (void)
{
  g_autoptr (RgArena) a = rg_arena_new (1 << 16);
  void *p1 = rg_arena_alloc (a, 10);
  void *p2 = rg_arena_alloc (a, 100);
  g_assert_cmpuint ((guintptr) p1 % 64, ==, 0);
  g_assert_cmpuint ((guintptr) p2 % 64, ==, 0);
  g_assert_true ((char *) p2 >= (char *) p1 + 10);
  void *big = rg_arena_alloc (a, 1 << 20); /* larger than a chunk */
  memset (big, 1, 1 << 20);
  gsize peak = rg_arena_peak (a);
  g_assert_cmpuint (peak, >=, (1 << 20) + 64 + 128);
  rg_arena_reset (a);
  void *p3 = rg_arena_alloc (a, 10);
  g_assert_true (p3 == p1); /* reuse after reset */
  g_assert_cmpuint (rg_arena_peak (a), ==, peak);

  int64_t shape[2] = { 4, 4 };
  RgTensor *t = rg_tensor_new_in (a, RG_F32, 2, shape);
  rg_tensor_fill (t, 2);
  g_assert_cmpfloat (rg_tensor_f32 (t)[15], ==, 2);
  rg_tensor_unref (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tensor/views", test_views);
  g_test_add_func ("/tensor/view-outlives-base", test_view_outlives_base);
  g_test_add_func ("/tensor/bf16", test_bf16);
  g_test_add_func ("/tensor/f16", test_f16);
  g_test_add_func ("/tensor/convert", test_convert_tensor);
  g_test_add_func ("/tensor/arena", test_arena);
  g_test_add_func ("/tensor/mean-std", test_mean_std);
  return g_test_run ();
}
