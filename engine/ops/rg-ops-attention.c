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
  float         *lse; /* [B, H, Nq] or NULL: rg_attention_lse */
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
      float corr = rg_fast_exp (m[i] - m_new);
      for (int64_t j = 0; j < valid; j++)
        srow[j] = rg_fast_exp (srow[j] - m_new);
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
          if (c->lse != NULL)
            c->lse[bh * c->nq + q0 + i] = l[i] > 0.0f ? m[i] + logf (l[i]) : INFINITY;
        }
    }

  g_free (s);
  g_free (o);
  g_free (m);
  g_free (l);
}

static void attention_run (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                           const RgAttentionParams *params, RgTensor *out, RgTensor *lse);

void
rg_cpu_attention (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                  const RgAttentionParams *params, RgTensor *out)
{
  attention_run (q, k, v, params, out, NULL);
}

void
rg_cpu_attention_lse (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                      const RgAttentionParams *params, RgTensor *out, RgTensor *lse)
{
  attention_run (q, k, v, params, out, lse);
}

static void
attention_run (const RgTensor *q, const RgTensor *k, const RgTensor *v,
               const RgAttentionParams *params, RgTensor *out, RgTensor *lse)
{
  Attention c = { 0 };
  c.lse = lse ? rg_tensor_f32 (lse) : NULL;
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

/* ---- backward (FlashAttention-2, recomputing P from the saved lse) ----
 *
 * With P = exp(S − lse) the softmax of a query row, O = P·V and
 * D_i = Σ_d dO_i·O_i: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − D)·scale,
 * dQ = dS·K, dK = dSᵀ·Q. dK/dV sum over queries and dQ over keys, so to
 * stay free of atomics (and deterministic) the work runs twice over the
 * same blocks: once per (batch, head, key block), accumulating dK and dV
 * over all query blocks, once per (batch, head, query block), accumulating
 * dQ over all key blocks. Each pass recomputes S, P and dP; that is the
 * FLOP price of O(threads · block) memory. */

typedef struct {
  const Attention *a;
  const float     *dout, *lse;
  float           *dq, *dk, *dv, *dsum; /* dsum [B, H, Nq] = D */
} AttentionGrad;

/* S → P in place, then dP (in dp) → dS in place, for one block: rows
 * queries from q0, cols keys from k0. Entries a query may not see (causal
 * future) get P = 0; a row with lse = +inf saw no key at all. */
static void
block_ds (const AttentionGrad *g, int64_t bh, float *s, float *dp, int64_t rows, int64_t cols,
          int64_t q0, int64_t k0)
{
  const Attention *c = g->a;
  for (int64_t i = 0; i < rows; i++)
    {
      float *srow = s + i * c->bk, *dprow = dp + i * c->bk;
      float lse = g->lse[bh * c->nq + q0 + i], dsum = g->dsum[bh * c->nq + q0 + i];
      int64_t valid = cols;
      if (c->causal)
        valid = CLAMP (q0 + i + 1 - k0, (int64_t) 0, cols);
      if (isinf (lse))
        valid = 0;
      for (int64_t j = 0; j < valid; j++)
        srow[j] = rg_fast_exp (srow[j] - lse);
      for (int64_t j = valid; j < cols; j++)
        srow[j] = 0.0f;
      for (int64_t j = 0; j < cols; j++)
        dprow[j] = srow[j] * (dprow[j] - dsum) * c->scale;
    }
}

/* S = Q·Kᵀ·scale and dP = dO·Vᵀ for one block, then P and dS. */
static void
block_scores (const AttentionGrad *g, int64_t b, int64_t h, float *s, float *dp, int64_t rows,
              int64_t cols, int64_t q0, int64_t k0)
{
  const Attention *c = g->a;
  int64_t row = c->row, dh = c->dh;
  const float *qp = c->q + (b * c->nq + q0) * row + h * dh;
  const float *dop = g->dout + (b * c->nq + q0) * row + h * dh;
  const float *kp = c->k + (b * c->nk + k0) * row + h * dh;
  const float *vp = c->v + (b * c->nk + k0) * row + h * dh;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) rows, (int) cols, (int) dh,
               c->scale, qp, (int) row, kp, (int) row, 0.0f, s, (int) c->bk);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) rows, (int) cols, (int) dh, 1.0f,
               dop, (int) row, vp, (int) row, 0.0f, dp, (int) c->bk);
  block_ds (g, b * c->heads + h, s, dp, rows, cols, q0, k0);
}

static int64_t
kv_end_of (const Attention *c, int64_t b)
{
  return c->kv_len ? MIN ((int64_t) c->kv_len[b], c->nk) : c->nk;
}

/* D = rowsum(dO ∘ O), one (batch, token) per index, all heads. */
static void
attention_dsum_rows (void *data, int64_t begin, int64_t end)
{
  const AttentionGrad *g = data;
  const Attention *c = g->a;
  for (int64_t r = begin; r < end; r++)
    {
      int64_t b = r / c->nq, i = r % c->nq;
      for (int64_t h = 0; h < c->heads; h++)
        {
          const float *o = c->out + r * c->row + h * c->dh, *d = g->dout + r * c->row + h * c->dh;
          float acc = 0.0f;
          for (int64_t k = 0; k < c->dh; k++)
            acc += o[k] * d[k];
          g->dsum[(b * c->heads + h) * c->nq + i] = acc;
        }
    }
}

/* One (batch, head, key block) per item: dK and dV of those keys. */
static void
attention_dkv_items (void *data, int64_t begin, int64_t end)
{
  const AttentionGrad *g = data;
  const Attention *c = g->a;
  int64_t dh = c->dh, row = c->row, n_kblocks = (c->nk + c->bk - 1) / c->bk;
  float *s = g_new (float, c->bq * c->bk), *dp = g_new (float, c->bq * c->bk);
  float *dk = g_new (float, c->bk * dh), *dv = g_new (float, c->bk * dh);

  for (int64_t item = begin; item < end; item++)
    {
      int64_t kb = item % n_kblocks, bh = item / n_kblocks;
      int64_t h = bh % c->heads, b = bh / c->heads;
      int64_t k0 = kb * c->bk, kv_end = kv_end_of (c, b);
      if (k0 >= kv_end)
        continue; /* padding keys: no query saw them, their gradient is 0 */
      int64_t cols = MIN (c->bk, kv_end - k0);
      memset (dk, 0, (size_t) (cols * dh) * sizeof (float));
      memset (dv, 0, (size_t) (cols * dh) * sizeof (float));
      /* causal: queries before k0 never see these keys */
      int64_t q_start = c->causal ? (k0 / c->bq) * c->bq : 0;
      for (int64_t q0 = q_start; q0 < c->nq; q0 += c->bq)
        {
          int64_t rows = MIN (c->bq, c->nq - q0);
          block_scores (g, b, h, s, dp, rows, cols, q0, k0);
          const float *qp = c->q + (b * c->nq + q0) * row + h * dh;
          const float *dop = g->dout + (b * c->nq + q0) * row + h * dh;
          /* dV += Pᵀ·dO, dK += dSᵀ·Q */
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) cols, (int) dh, (int) rows,
                       1.0f, s, (int) c->bk, dop, (int) row, 1.0f, dv, (int) dh);
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) cols, (int) dh, (int) rows,
                       1.0f, dp, (int) c->bk, qp, (int) row, 1.0f, dk, (int) dh);
        }
      for (int64_t j = 0; j < cols; j++)
        {
          int64_t off = (b * c->nk + k0 + j) * row + h * dh;
          if (g->dk != NULL)
            for (int64_t d = 0; d < dh; d++)
              g->dk[off + d] += dk[j * dh + d];
          if (g->dv != NULL)
            for (int64_t d = 0; d < dh; d++)
              g->dv[off + d] += dv[j * dh + d];
        }
    }
  g_free (s);
  g_free (dp);
  g_free (dk);
  g_free (dv);
}

/* One (batch, head, query block) per item: dQ of those queries. */
static void
attention_dq_items (void *data, int64_t begin, int64_t end)
{
  const AttentionGrad *g = data;
  const Attention *c = g->a;
  int64_t dh = c->dh, row = c->row;
  float *s = g_new (float, c->bq * c->bk), *dp = g_new (float, c->bq * c->bk);
  float *dq = g_new (float, c->bq * dh);

  for (int64_t item = begin; item < end; item++)
    {
      int64_t qb = item % c->n_qblocks, bh = item / c->n_qblocks;
      int64_t h = bh % c->heads, b = bh / c->heads;
      int64_t q0 = qb * c->bq, rows = MIN (c->bq, c->nq - q0);
      int64_t kv_end = kv_end_of (c, b);
      if (c->causal)
        kv_end = MIN (kv_end, q0 + rows);
      memset (dq, 0, (size_t) (rows * dh) * sizeof (float));
      for (int64_t k0 = 0; k0 < kv_end; k0 += c->bk)
        {
          int64_t cols = MIN (c->bk, kv_end - k0);
          block_scores (g, b, h, s, dp, rows, cols, q0, k0);
          const float *kp = c->k + (b * c->nk + k0) * row + h * dh;
          /* dQ += dS·K */
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int) rows, (int) dh,
                       (int) cols, 1.0f, dp, (int) c->bk, kp, (int) row, 1.0f, dq, (int) dh);
        }
      for (int64_t i = 0; i < rows; i++)
        {
          float *dst = g->dq + (b * c->nq + q0 + i) * row + h * dh;
          for (int64_t d = 0; d < dh; d++)
            dst[d] += dq[i * dh + d];
        }
    }
  g_free (s);
  g_free (dp);
  g_free (dq);
}

void
rg_cpu_attention_backward (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                           const RgTensor *out, const RgTensor *lse, const RgTensor *dout,
                           const RgAttentionParams *params, RgTensor *dq, RgTensor *dk,
                           RgTensor *dv)
{
  Attention c = { 0 };
  c.q = rg_tensor_f32 (q);
  c.k = rg_tensor_f32 (k);
  c.v = rg_tensor_f32 (v);
  c.out = rg_tensor_f32 (out); /* only read here */
  c.nq = q->shape[1];
  c.nk = k->shape[1];
  c.heads = params->n_heads;
  c.row = q->shape[2];
  c.dh = c.row / c.heads;
  c.scale = params->scale;
  c.causal = params->causal;
  c.kv_len = params->kv_len;
  int64_t batch = q->shape[0];
  if (c.nq == 0 || c.nk == 0 || c.dh == 0 || batch == 0)
    return;
  /* S, dP and the accumulators: two BQ×BK and two BK×Dh blocks per
   * thread, each GEMM under OpenBLAS's single-thread threshold */
  c.bq = ATTN_BQ;
  c.bk = CLAMP ((ATTN_BLAS_SERIAL_MNK / (c.bq * c.dh)) & ~(int64_t) 15, (int64_t) 16,
                (int64_t) 512);
  c.n_qblocks = (c.nq + c.bq - 1) / c.bq;

  AttentionGrad g = { &c, rg_tensor_f32 (dout), rg_tensor_f32 (lse),
                      dq ? rg_tensor_f32 (dq) : NULL, dk ? rg_tensor_f32 (dk) : NULL,
                      dv ? rg_tensor_f32 (dv) : NULL, g_new (float, batch * c.heads * c.nq) };
  rg_parallel_for (batch * c.nq, rg_cpu_row_grain (c.row), attention_dsum_rows, &g);
  if (dk != NULL || dv != NULL)
    rg_parallel_for (batch * c.heads * ((c.nk + c.bk - 1) / c.bk), 1, attention_dkv_items, &g);
  if (dq != NULL)
    rg_parallel_for (batch * c.heads * c.n_qblocks, 1, attention_dq_items, &g);
  g_free (g.dsum);
}
