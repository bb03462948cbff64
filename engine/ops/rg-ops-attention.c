/* rg-ops-attention.c — multi-head attention, blockwise with an online
 * softmax (the FlashAttention-2 forward, on the CPU).
 *
 * Work item: one (batch, head, block of BQ queries). Its K/V are visited in
 * blocks of BK keys; per block S = Q·Kᵀ·scale and O += P·V are two small
 * sgemms reading q, k, v in place (the head is a column slice, so the
 * leading dimension is H·Dh and nothing is repacked). A running row max m
 * and row sum l rescale what O holds whenever a larger score turns up, so
 * the softmax is exact without ever holding a full row of scores. Scratch
 * per thread is BQ·BK + BQ·Dh floats: memory is O(threads · block), never
 * O(Nq · Nk).
 *
 * The pool runs the work items, so every sgemm is issued from inside a
 * pool thread. Blocks are sized so BQ·BK·Dh stays at OpenBLAS's threshold
 * for running a GEMM single-threaded (65536·4): larger ones would make each
 * of our threads wake OpenBLAS's own threads and contend for the cores.
 *
 * Each output row is produced by one thread in a fixed order, so the result
 * does not depend on the thread count. */
#include "ops/rg-ops-cpu.h"

#include <cblas.h>

#define ATTN_BQ             64
#define ATTN_BLAS_SERIAL_MNK (65536 * 4)

typedef struct {
  const float   *q, *k, *v;
  float         *out;
  int64_t        nq, nk, heads, dh, row; /* row = H·Dh, the token stride */
  int64_t        bq, bk, n_qblocks;
  float          scale;
  gboolean       causal;
  const int32_t *kv_len;
} Attention;

/* Fold one block of scores (rows × cols, row stride bk) into the running
 * state: scores become probabilities under the new max, O is rescaled. */
static void
online_softmax_block (const Attention *c, float *s, float *o, float *m, float *l, int64_t rows,
                      int64_t cols, int64_t q0, int64_t k0)
{
  for (int64_t i = 0; i < rows; i++)
    {
      float *srow = s + i * c->bk;
      int64_t valid = cols;
      if (c->causal)
        valid = CLAMP (q0 + i + 1 - k0, (int64_t) 0, cols);
      if (valid == 0)
        {
          /* every key of this block is in this query's future */
          memset (srow, 0, (size_t) cols * sizeof (float));
          continue;
        }
      float m_new = MAX (m[i], rg_cpu_max (srow, valid));
      /* m[i] = −inf on the first block: corr ≈ 0, and O and l are 0 anyway */
      float corr = rg_cpu_exp (m[i] - m_new);
      for (int64_t j = 0; j < valid; j++)
        srow[j] = rg_cpu_exp (srow[j] - m_new);
      for (int64_t j = valid; j < cols; j++)
        srow[j] = 0.0f;
      l[i] = l[i] * corr + rg_cpu_sum (srow, valid);
      if (m_new != m[i])
        {
          float *orow = o + i * c->dh;
          for (int64_t d = 0; d < c->dh; d++)
            orow[d] *= corr;
        }
      m[i] = m_new;
    }
}

static void
attention_items (void *data, int64_t begin, int64_t end)
{
  const Attention *c = data;
  int64_t dh = c->dh, row = c->row;
  float *s = g_new (float, c->bq * c->bk);
  float *o = g_new (float, c->bq * dh);
  float *m = g_new (float, c->bq);
  float *l = g_new (float, c->bq);

  for (int64_t item = begin; item < end; item++)
    {
      int64_t qb = item % c->n_qblocks, bh = item / c->n_qblocks;
      int64_t h = bh % c->heads, b = bh / c->heads;
      int64_t q0 = qb * c->bq, rows = MIN (c->bq, c->nq - q0);
      int64_t kv_end = c->kv_len ? c->kv_len[b] : c->nk;
      if (c->causal)
        kv_end = MIN (kv_end, q0 + rows);
      const float *qp = c->q + (b * c->nq + q0) * row + h * dh;

      for (int64_t i = 0; i < rows; i++)
        {
          m[i] = -INFINITY;
          l[i] = 0.0f;
        }
      memset (o, 0, (size_t) (rows * dh) * sizeof (float));

      for (int64_t k0 = 0; k0 < kv_end; k0 += c->bk)
        {
          int64_t cols = MIN (c->bk, kv_end - k0);
          const float *kp = c->k + (b * c->nk + k0) * row + h * dh;
          const float *vp = c->v + (b * c->nk + k0) * row + h * dh;
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) rows, (int) cols, (int) dh,
                       c->scale, qp, (int) row, kp, (int) row, 0.0f, s, (int) c->bk);
          online_softmax_block (c, s, o, m, l, rows, cols, q0, k0);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) rows, (int) dh,
                       (int) cols, 1.0f, s, (int) c->bk, vp, (int) row, 1.0f, o, (int) dh);
        }

      for (int64_t i = 0; i < rows; i++)
        {
          float *dst = c->out + (b * c->nq + q0 + i) * row + h * dh;
          const float *orow = o + i * dh;
          /* l = 0: no valid key at all (kv_len 0); the contract says zeros */
          float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
          for (int64_t d = 0; d < dh; d++)
            dst[d] = orow[d] * inv;
        }
    }

  g_free (s);
  g_free (o);
  g_free (m);
  g_free (l);
}

void
rg_cpu_attention (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                  const RgAttentionParams *params, RgTensor *out)
{
  Attention c = { 0 };
  c.q = rg_tensor_f32 (q);
  c.k = rg_tensor_f32 (k);
  c.v = rg_tensor_f32 (v);
  c.out = rg_tensor_f32 (out);
  c.nq = q->shape[1];
  c.nk = k->shape[1];
  c.heads = params->n_heads;
  c.row = q->shape[2];
  c.dh = c.row / c.heads;
  c.scale = params->scale;
  c.causal = params->causal;
  c.kv_len = params->kv_len;
  if (c.nq == 0 || c.dh == 0 || q->shape[0] == 0)
    return;
  c.bq = ATTN_BQ;
  c.bk = CLAMP ((ATTN_BLAS_SERIAL_MNK / (c.bq * c.dh)) & ~(int64_t) 15, (int64_t) 16,
                (int64_t) 512);
  c.n_qblocks = (c.nq + c.bq - 1) / c.bq;
  rg_parallel_for (q->shape[0] * c.heads * c.n_qblocks, 1, attention_items, &c);
}
