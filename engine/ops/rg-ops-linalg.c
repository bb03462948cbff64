/* rg-ops-linalg.c — linear and matmul on the CPU, both through CBLAS.
 *
 * These run on the caller's thread and let OpenBLAS spread the GEMM over its
 * own threads (rg-parallel sets it to the pool's size). */
#include "ops/rg-ops-cpu.h"

#include <cblas.h>

typedef struct {
  const float *bias;
  float       *y;
  int64_t      n_out;
} BiasRows;

static void
fill_bias_rows (void *data, int64_t begin, int64_t end)
{
  const BiasRows *c = data;
  for (int64_t r = begin; r < end; r++)
    memcpy (c->y + r * c->n_out, c->bias, (size_t) c->n_out * sizeof (float));
}

/* y = x·wᵀ + b: the bias is written first and the GEMM accumulates onto it
 * (beta = 1), which saves a second pass over y. */
void
rg_cpu_linear (const RgTensor *x, const RgTensor *w, const RgTensor *b, RgTensor *y)
{
  int64_t n_in = w->shape[1], n_out = w->shape[0];
  /* counted on y: with in = 0, x has no elements but y still has rows */
  int64_t rows = n_out ? rg_tensor_numel (y) / n_out : 0;
  float beta = 0.0f;
  if (rows == 0 || n_out == 0)
    return;
  if (b != NULL)
    {
      BiasRows c = { rg_tensor_f32 (b), rg_tensor_f32 (y), n_out };
      rg_parallel_for (rows, rg_cpu_row_grain (n_out), fill_bias_rows, &c);
      beta = 1.0f;
    }
  if (n_in == 0)
    {
      if (b == NULL)
        memset (y->data, 0, rg_tensor_nbytes (y));
      return;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) rows, (int) n_out, (int) n_in,
               1.0f, rg_tensor_f32 (x), (int) n_in, rg_tensor_f32 (w), (int) n_in, beta,
               rg_tensor_f32 (y), (int) n_out);
}

void
rg_cpu_matmul (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b,
               float alpha, float beta, RgTensor *c)
{
  int64_t m = c->shape[0], n = c->shape[1];
  int64_t k = trans_a ? a->shape[0] : a->shape[1];
  if (m == 0 || n == 0)
    return;
  if (k == 0)
    {
      /* BLAS leaves c alone when k = 0; the contract says c = beta·c. */
      float *cp = rg_tensor_f32 (c);
      for (int64_t i = 0; i < m * n; i++)
        cp[i] = beta == 0.0f ? 0.0f : beta * cp[i];
      return;
    }
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, (int) m, (int) n, (int) k, alpha,
               rg_tensor_f32 (a), (int) a->shape[1], rg_tensor_f32 (b), (int) b->shape[1], beta,
               rg_tensor_f32 (c), (int) n);
}
