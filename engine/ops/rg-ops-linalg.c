/* rg-ops-linalg.c — linear and matmul on the CPU, both through CBLAS.
 *
 * The GEMMs go through rg_sgemm, which spreads large ones over the pool. */
#include "ops/rg-ops-cpu.h"

#include "core/rg-gemm.h"

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
  rg_sgemm (FALSE, TRUE, rows, n_out, n_in, 1.0f, rg_tensor_f32 (x), n_in, rg_tensor_f32 (w), n_in,
            beta, rg_tensor_f32 (y), n_out);
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
  rg_sgemm (trans_a, trans_b, m, n, k, alpha, rg_tensor_f32 (a), a->shape[1], rg_tensor_f32 (b),
            b->shape[1], beta, rg_tensor_f32 (c), n);
}

/* ---- backward: GEMMs with beta = 1, so gradients accumulate ---- */

void
rg_cpu_linear_backward (const RgTensor *x, const RgTensor *w, const RgTensor *dy, RgTensor *dx,
                        RgTensor *dw, RgTensor *db)
{
  int64_t n_in = w->shape[1], n_out = w->shape[0];
  int64_t rows = n_out ? rg_tensor_numel (dy) / n_out : 0;
  if (rows == 0 || n_out == 0)
    return;
  if (db != NULL)
    rg_cpu_colsum (rows, n_out, rg_tensor_f32 (dy), NULL, NULL, NULL, rg_tensor_f32 (db));
  if (n_in == 0)
    return;
  /* dx[rows, in] += dy[rows, out] · w[out, in] */
  if (dx != NULL)
    rg_sgemm (FALSE, FALSE, rows, n_in, n_out, 1.0f, rg_tensor_f32 (dy), n_out, rg_tensor_f32 (w),
              n_in, 1.0f, rg_tensor_f32 (dx), n_in);
  /* dw[out, in] += dyᵀ · x */
  if (dw != NULL)
    rg_sgemm (TRUE, FALSE, n_out, n_in, rows, 1.0f, rg_tensor_f32 (dy), n_out, rg_tensor_f32 (x),
              n_in, 1.0f, rg_tensor_f32 (dw), n_in);
}

/* With A = op(a) [M, K], B = op(b) [K, N] and C = alpha·A·B:
 * dA = alpha·dC·Bᵀ and dB = alpha·Aᵀ·dC. Stored transposed, da = dAᵀ =
 * alpha·B·dCᵀ and db = dBᵀ = alpha·dCᵀ·A; each case is one GEMM that reads
 * a and b in their stored layout. */
void
rg_cpu_matmul_backward (const RgTensor *a, gboolean trans_a, const RgTensor *b,
                        gboolean trans_b, float alpha, const RgTensor *dc, RgTensor *da,
                        RgTensor *db)
{
  int64_t m = dc->shape[0], n = dc->shape[1];
  int64_t k = trans_a ? a->shape[0] : a->shape[1];
  int lda = (int) a->shape[1], ldb = (int) b->shape[1];
  const float *ap = rg_tensor_f32 (a), *bp = rg_tensor_f32 (b), *dcp = rg_tensor_f32 (dc);
  if (m == 0 || n == 0 || k == 0)
    return;
  if (da != NULL)
    {
      if (!trans_a) /* da[M, K] += alpha · dC[M, N] · Bᵀ, Bᵀ = b or bᵀ */
        rg_sgemm (FALSE, !trans_b, m, k, n, alpha, dcp, n, bp, ldb, 1.0f, rg_tensor_f32 (da), lda);
      else /* da[K, M] += alpha · B[K, N] · dCᵀ */
        rg_sgemm (trans_b, TRUE, k, m, n, alpha, bp, ldb, dcp, n, 1.0f, rg_tensor_f32 (da), lda);
    }
  if (db != NULL)
    {
      if (!trans_b) /* db[K, N] += alpha · Aᵀ · dC */
        rg_sgemm (!trans_a, FALSE, k, n, m, alpha, ap, lda, dcp, n, 1.0f, rg_tensor_f32 (db), ldb);
      else /* db[N, K] += alpha · dCᵀ · A */
        rg_sgemm (TRUE, trans_a, n, k, m, alpha, dcp, n, ap, lda, 1.0f, rg_tensor_f32 (db), ldb);
    }
}
