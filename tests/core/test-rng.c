/* Philox4x32-10: known answers, statistics, and independence from threads. */
#include <math.h>

#include "core/rg-parallel.h"
#include "core/rg-rng.h"

static void
test_known_answers (void)
{
  /* Random123's kat_vectors for philox4x32_10 */
  static const struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
    { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
    { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff }, { 0xffffffff, 0xffffffff },
      { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
    { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 }, { 0xa4093822, 0x299f31d0 },
      { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (kat); i++)
    {
      uint32_t out[4];
      rg_philox4x32_10 (kat[i].ctr, kat[i].key, out);
      for (int j = 0; j < 4; j++)
        g_assert_cmphex (out[j], ==, kat[i].out[j]);
    }
}

static void
test_normal_stats (void)
{
  const int64_t n = 1 << 20;
  float *x = g_new (float, n);
  rg_rng_normal (42, 0, 0, x, n);
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < n; i++)
    {
      g_assert_true (isfinite (x[i]));
      s += x[i];
      s2 += (double) x[i] * x[i];
    }
  double mean = s / n, var = s2 / n - mean * mean;
  g_assert_cmpfloat (fabs (mean), <, 0.005);
  g_assert_cmpfloat (fabs (var - 1), <, 0.01);
  g_free (x);
}

static void
test_slices_and_threads (void)
{
  const int64_t n = 100003;
  float *a = g_new (float, n), *b = g_new (float, n);
  rg_parallel_set_threads (1);
  rg_rng_normal (7, 3, 0, a, n);
  rg_parallel_set_threads (4);
  rg_rng_normal (7, 3, 0, b, n);
  for (int64_t i = 0; i < n; i++)
    g_assert_cmpfloat (a[i], ==, b[i]);
  /* an odd-offset slice is the same elements of the same stream */
  rg_rng_normal (7, 3, 12345, b, 1000);
  for (int64_t i = 0; i < 1000; i++)
    g_assert_cmpfloat (b[i], ==, a[12345 + i]);
  /* another seed or stream differs */
  rg_rng_normal (8, 3, 0, b, 16);
  g_assert_cmpfloat (a[0], !=, b[0]);
  rg_rng_uniform (7, 3, 0, b, 1000);
  for (int i = 0; i < 1000; i++)
    g_assert_true (b[i] > 0 && b[i] <= 1);
  g_free (a);
  g_free (b);
}

static void
test_sequential (void)
{
  RgRng r1, r2;
  rg_rng_init (&r1, 5, 1);
  rg_rng_init (&r2, 5, 1);
  int hist[6] = { 0 };
  for (int i = 0; i < 6000; i++)
    {
      int v = rg_rng_range (&r1, 0, 6);
      g_assert_cmpint (v, ==, rg_rng_range (&r2, 0, 6));
      hist[v]++;
    }
  for (int i = 0; i < 6; i++)
    g_assert_cmpint (ABS (hist[i] - 1000), <, 150);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rng/known-answers", test_known_answers);
  g_test_add_func ("/rng/normal-stats", test_normal_stats);
  g_test_add_func ("/rng/slices-and-threads", test_slices_and_threads);
  g_test_add_func ("/rng/sequential", test_sequential);
  return g_test_run ();
}
