/* rg-gemm.c — GEMM slabs on the pool (see rg-gemm.h for why). */
#include "rg-gemm.h"

#include <cblas.h>

#include "rg-parallel.h"

/* Below this many multiply-adds a GEMM runs whole on the caller: waking
 * the pool costs more than it saves (OpenBLAS's own threshold, 4 · 65536). */
#define SPLIT_WORK 262144.0
/* Slabs are whole multiples of the kernels' register tiles (sgemm's are
 * 16 or 24 × 4 or 8 here), so only the last slab has a ragged edge. */
#define SLAB_ALIGN 32

typedef struct {
  gboolean     trans_a, trans_b, by_rows;
  int64_t      m, n, k, slab;
  float        alpha, beta;
  const float *a, *b;
  float       *c;
  int64_t      lda, ldb, ldc;
} Gemm;

static void
call (const Gemm *g, int64_t m, int64_t n, const float *a, const float *b, float *c)
{
  cblas_sgemm (CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
               g->trans_b ? CblasTrans : CblasNoTrans, (int) m, (int) n, (int) g->k, g->alpha, a,
               (int) g->lda, b, (int) g->ldb, g->beta, c, (int) g->ldc);
}

static void
gemm_slabs (void *data, int64_t begin, int64_t end)
{
  const Gemm *g = data;
  for (int64_t s = begin; s < end; s++)
    {
      int64_t o = s * g->slab;
      if (g->by_rows)
        /* rows o… of op(a): row o of a, or column o when a is stored transposed */
        call (g, MIN (g->slab, g->m - o), g->n, g->trans_a ? g->a + o : g->a + o * g->lda, g->b,
              g->c + o * g->ldc);
      else
        call (g, g->m, MIN (g->slab, g->n - o), g->a, g->trans_b ? g->b + o * g->ldb : g->b + o,
              g->c + o);
    }
}

void
rg_sgemm (gboolean trans_a, gboolean trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
          int64_t ldc)
{
  Gemm g = { trans_a, trans_b, FALSE, m, n, k, 0, alpha, beta, a, b, c, lda, ldb, ldc };
  if (m <= 0 || n <= 0)
    return;
  int threads = rg_parallel_threads ();
  if (threads == 1 || rg_parallel_in_pool () || (double) m * n * k < SPLIT_WORK)
    {
      call (&g, m, n, a, b, c);
      return;
    }
  /* split the longer side: the other operand is packed once per slab */
  g.by_rows = m >= n;
  int64_t len = g.by_rows ? m : n;
  int64_t per = (len + threads - 1) / threads;
  g.slab = (per + SLAB_ALIGN - 1) / SLAB_ALIGN * SLAB_ALIGN;
  rg_parallel_for ((len + g.slab - 1) / g.slab, 1, gemm_slabs, &g);
}
