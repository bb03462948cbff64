/* rg-ops-reduce.c — the column reduction the backward passes share.
 *
 * Parameter gradients are sums over rows (tokens, pixels, samples) of a
 * per-row product: db = Σ dy, dw = Σ dy·x̂. Splitting rows across threads
 * would make the sum depend on the split, and float atomics on the order
 * threads arrive in. Instead each thread owns a slice of columns and walks
 * every row in order: the result is bit-identical for any thread count, and
 * each row read is a contiguous run the compiler vectorises. */
#include "ops/rg-ops-cpu.h"

/* Columns per work item: one 256-byte run of every row. */
#define COLSUM_CHUNK 64

typedef struct
{
  int64_t rows, cols;
  const float *a, *b, *mu, *rs;
  float *acc;
} ColSum;

static void
colsum_chunks (void *data, int64_t begin, int64_t end)
{
  const ColSum *c = data;
  float part[COLSUM_CHUNK];
  for (int64_t chunk = begin; chunk < end; chunk++)
    {
      int64_t c0 = chunk * COLSUM_CHUNK, n = MIN ((int64_t) COLSUM_CHUNK, c->cols - c0);
      memset (part, 0, sizeof part);
      for (int64_t r = 0; r < c->rows; r++)
        {
          const float *a = c->a + r * c->cols + c0;
          if (c->b == NULL)
            {
              for (int64_t i = 0; i < n; i++)
                part[i] += a[i];
              continue;
            }
          const float *b = c->b + r * c->cols + c0;
          float mu = c->mu ? c->mu[r] : 0.0f, rs = c->rs ? c->rs[r] : 1.0f;
          for (int64_t i = 0; i < n; i++)
            part[i] += a[i] * ((b[i] - mu) * rs);
        }
      for (int64_t i = 0; i < n; i++)
        c->acc[c0 + i] += part[i];
    }
}

void
rg_cpu_colsum (int64_t rows, int64_t cols, const float *a, const float *b, const float *mu,
               const float *rs, float *acc)
{
  ColSum c = { rows, cols, a, b, mu, rs, acc };
  if (rows == 0 || cols == 0)
    return;
  rg_parallel_for ((cols + COLSUM_CHUNK - 1) / COLSUM_CHUNK, 1, colsum_chunks, &c);
}
