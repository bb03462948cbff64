/* rg_sgemm: the pool's GEMM slabs give cblas_sgemm's results.
 *
 * Every transpose case, split by rows (m ≥ n) and by columns (m < n), with
 * ragged sizes (no multiple of the slab alignment), leading dimensions
 * wider than the matrices (so a slab's offsets must use them) and beta ≠ 0,
 * against a double-precision reference: what a wrong slab offset or a
 * dropped ragged edge would break. Then the thread count: 1 thread (one
 * whole GEMM) and 3 threads (slabs) agree to float rounding, and calls from
 * inside a parallel_for (which run whole) are right too. */
#include <math.h>

#include "core/rg-gemm.h"
#include "core/rg-parallel.h"

typedef struct {
  gboolean ta, tb;
  int64_t  m, n, k, lda, ldb, ldc;
  float   *a, *b, *c0;
} Case;

static float *
random_matrix (GRand *rng, int64_t n)
{
  float *x = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rng, -1, 1);
  return x;
}

static Case
case_new (GRand *rng, gboolean ta, gboolean tb, int64_t m, int64_t n, int64_t k)
{
  Case c = { ta, tb, m, n, k };
  /* stored shapes: a [m, k] or [k, m], b [k, n] or [n, k]; 3 spare columns each */
  int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  c.lda = a_cols + 3;
  c.ldb = b_cols + 3;
  c.ldc = n + 3;
  c.a = random_matrix (rng, a_rows * c.lda);
  c.b = random_matrix (rng, b_rows * c.ldb);
  c.c0 = random_matrix (rng, m * c.ldc);
  return c;
}

static void
case_free (Case *c)
{
  g_free (c->a);
  g_free (c->b);
  g_free (c->c0);
}

/* c = alpha·op(a)·op(b) + beta·c0 with the given thread count */
static float *
run (const Case *c, int threads, float alpha, float beta)
{
  float *out = g_memdup2 (c->c0, (gsize) (c->m * c->ldc) * sizeof (float));
  rg_parallel_set_threads (threads);
  rg_sgemm (c->ta, c->tb, c->m, c->n, c->k, alpha, c->a, c->lda, c->b, c->ldb, beta, out, c->ldc);
  return out;
}

static double
reference (const Case *c, int64_t i, int64_t j, float alpha, float beta)
{
  double s = 0.0;
  for (int64_t p = 0; p < c->k; p++)
    {
      double av = c->ta ? c->a[p * c->lda + i] : c->a[i * c->lda + p];
      double bv = c->tb ? c->b[j * c->ldb + p] : c->b[p * c->ldb + j];
      s += av * bv;
    }
  return alpha * s + beta * (double) c->c0[i * c->ldc + j];
}

static void
test_cases (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  /* m ≥ n splits rows, m < n columns; all above the split threshold */
  static const int64_t sizes[][3] = { { 203, 67, 45 }, { 71, 197, 53 }, { 129, 129, 17 } };
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int t = 0; t < 4; t++)
      {
        Case c = case_new (rng, t & 1, t >> 1, sizes[s][0], sizes[s][1], sizes[s][2]);
        g_autofree float *one = run (&c, 1, 0.75f, 0.5f);
        g_autofree float *three = run (&c, 3, 0.75f, 0.5f);
        double worst = 0.0, worst_threads = 0.0;
        for (int64_t i = 0; i < c.m; i++)
          {
            for (int64_t j = 0; j < c.n; j++)
              {
                double want = reference (&c, i, j, 0.75f, 0.5f);
                worst = MAX (worst, fabs (three[i * c.ldc + j] - want));
                worst_threads = MAX (worst_threads,
                                     fabs (three[i * c.ldc + j] - one[i * c.ldc + j]));
              }
            /* the spare columns of c are not C's: untouched */
            for (int64_t j = c.n; j < c.ldc; j++)
              g_assert_cmpfloat (three[i * c.ldc + j], ==, c.c0[i * c.ldc + j]);
          }
        g_test_message ("m %ld n %ld k %ld ta %d tb %d: max error %.3g, 1 vs 3 threads %.3g",
                        (long) c.m, (long) c.n, (long) c.k, c.ta, c.tb, worst, worst_threads);
        g_assert_cmpfloat (worst, <, 1e-4);
        g_assert_cmpfloat (worst_threads, <, 1e-5);
        case_free (&c);
      }
}

/* Inside a parallel_for each call runs whole on its thread. */
typedef struct {
  Case  *cases;
  float **out;
} Nested;

static void
nested_range (void *data, int64_t begin, int64_t end)
{
  Nested *nd = data;
  for (int64_t i = begin; i < end; i++)
    {
      Case *c = &nd->cases[i];
      rg_sgemm (c->ta, c->tb, c->m, c->n, c->k, 1.0f, c->a, c->lda, c->b, c->ldb, 0.0f, nd->out[i],
                c->ldc);
    }
}

static void
test_nested (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (12);
  enum { N = 6 };
  Case cases[N];
  float *out[N];
  for (int i = 0; i < N; i++)
    {
      cases[i] = case_new (rng, i & 1, (i >> 1) & 1, 97, 83, 61);
      out[i] = g_new0 (float, 97 * cases[i].ldc);
    }
  rg_parallel_set_threads (3);
  Nested nd = { cases, out };
  rg_parallel_for (N, 1, nested_range, &nd);
  for (int i = 0; i < N; i++)
    {
      for (int64_t r = 0; r < cases[i].m; r++)
        for (int64_t j = 0; j < cases[i].n; j++)
          g_assert_cmpfloat (fabs (out[i][r * cases[i].ldc + j] - reference (&cases[i], r, j, 1, 0)),
                             <, 1e-4);
      g_free (out[i]);
      case_free (&cases[i]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gemm/cases", test_cases);
  g_test_add_func ("/gemm/nested", test_nested);
  return g_test_run ();
}
