/* rg-sasrec.c — SASRec forward (ops: layernorm, linear, causal attention),
 * the in-batch sampled-softmax loss, and the backward pass to the item
 * rows and the dense parameters.
 *
 * Per sequence the forward keeps what the backward needs: each block's
 * input h, its normalised a, q, k, v and the attention output o. The
 * attention probabilities are recomputed in the backward (n ≤ max_len, so
 * n² per head is small) rather than stored by the op. */
#include "rg-sasrec.h"

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "core/rg-tensor.h"
#include "ops/rg-ops.h"

#include "core/rg-gemm.h"
#include <math.h>
#include <string.h>

/* negatives equal to the target are redrawn this many times, then dropped */
#define NEG_TRIES 8
#define LN_EPS 1e-5f

enum
{
  WQ,
  WK,
  WV,
  WO,
  N_W
};

typedef struct
{
  RgTensor *w[N_W]; /* [D, D], PyTorch's [out, in] */
  float *g[N_W];    /* gradients of the last step */
} Block;

struct _RgSasrec
{
  RgSasrecConfig cfg;
  RgTensor *pos; /* [max_len, D] */
  float *gpos;
  Block *blocks;
};

/* Activations of one sequence. */
typedef struct
{
  int64_t n;
  float *x;                     /* [n, D] block-0 input (emb + pos) */
  float *h, *a, *q, *k, *v, *o; /* per block [n_blocks][n, D]; h = block input */
  float *hf, *u;                /* final residual stream and LayerNorm(hf) */
} Acts;

RgSasrecConfig
rg_sasrec_config_default (int dim)
{
  RgSasrecConfig c = {
    .dim = dim,
    .max_len = 50,
    .n_blocks = 2,
    .n_heads = 1,
    .n_negatives = 8,
    .seed = 7,
    .train_dense = FALSE,
    .dense_lr = 0.05f,
  };
  return c;
}

static RgTensor *
init_matrix (uint64_t seed, uint64_t stream, int64_t rows, int64_t cols, float std)
{
  RgTensor *t = rg_tensor_f32_new (2, rows, cols);
  float *p = rg_tensor_f32 (t);
  rg_rng_normal (seed, stream, 0, p, rows * cols);
  for (int64_t i = 0; i < rows * cols; i++)
    p[i] *= std;
  return t;
}

RgSasrec *
rg_sasrec_new (const RgSasrecConfig *config, GError **error)
{
  const RgSasrecConfig *c = config;
  if (c->dim <= 0 || c->dim > 4096 || c->max_len < 2 || c->max_len > 4096 || c->n_blocks < 0
      || c->n_blocks > 16 || c->n_heads <= 0 || c->dim % c->n_heads != 0 || c->n_negatives < 1
      || c->n_negatives > 1024 || !isfinite (c->dense_lr))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "SASRec: invalid config (dim %d, max_len %d, %d blocks, %d heads, %d "
                   "negatives); dim must divide by heads",
                   c->dim, c->max_len, c->n_blocks, c->n_heads, c->n_negatives);
      return NULL;
    }
  RgSasrec *m = g_new0 (RgSasrec, 1);
  m->cfg = *c;
  /* small init: the blocks start near the identity (residual) */
  float std = 0.5f / sqrtf ((float)c->dim);
  gsize dd = (gsize)c->dim * c->dim;
  m->pos = init_matrix (c->seed, 0, c->max_len, c->dim, 0.02f);
  m->gpos = g_new0 (float, (gsize)c->max_len * c->dim);
  m->blocks = g_new0 (Block, MAX (c->n_blocks, 1));
  for (int b = 0; b < c->n_blocks; b++)
    for (int w = 0; w < N_W; w++)
      {
        m->blocks[b].w[w] = init_matrix (c->seed, 1 + N_W * b + w, c->dim, c->dim, std);
        m->blocks[b].g[w] = g_new0 (float, dd);
      }
  return m;
}

void
rg_sasrec_free (RgSasrec *model)
{
  if (model == NULL)
    return;
  rg_tensor_unref (model->pos);
  g_free (model->gpos);
  for (int b = 0; b < model->cfg.n_blocks; b++)
    for (int w = 0; w < N_W; w++)
      {
        rg_tensor_unref (model->blocks[b].w[w]);
        g_free (model->blocks[b].g[w]);
      }
  g_free (model->blocks);
  g_free (model);
}

const RgSasrecConfig *
rg_sasrec_config (const RgSasrec *model)
{
  return &model->cfg;
}

static const char *const w_names[N_W] = { "wq", "wk", "wv", "wo" };

/* Parameter `name` and its gradient buffer. */
static gboolean
find_param (const RgSasrec *m, const char *name, float **param, float **grad, gsize *n)
{
  gsize dd = (gsize)m->cfg.dim * m->cfg.dim;
  if (g_strcmp0 (name, "pos") == 0)
    {
      *param = rg_tensor_f32 (m->pos);
      *grad = m->gpos;
      *n = (gsize)m->cfg.max_len * m->cfg.dim;
      return TRUE;
    }
  for (int b = 0; b < m->cfg.n_blocks; b++)
    for (int w = 0; w < N_W; w++)
      {
        char want[32];
        g_snprintf (want, sizeof want, "block%d.%s", b, w_names[w]);
        if (g_strcmp0 (name, want) == 0)
          {
            *param = rg_tensor_f32 (m->blocks[b].w[w]);
            *grad = m->blocks[b].g[w];
            *n = dd;
            return TRUE;
          }
      }
  return FALSE;
}

float *
rg_sasrec_param (RgSasrec *model, const char *name, gsize *n)
{
  float *p, *g;
  return find_param (model, name, &p, &g, n) ? p : NULL;
}

const float *
rg_sasrec_param_grad (const RgSasrec *model, const char *name, gsize *n)
{
  float *p, *g;
  return find_param (model, name, &p, &g, n) ? g : NULL;
}

/* ---- forward ---- */

static RgTensor *
view (float *data, int64_t n, int64_t d)
{
  return rg_tensor_new_borrowed (RG_F32, 3, (int64_t[]){ 1, n, d }, data, NULL, NULL);
}

static void
acts_init (Acts *A, const RgSasrec *m, int64_t n)
{
  gsize nd = (gsize)n * m->cfg.dim, nb = (gsize)MAX (m->cfg.n_blocks, 1);
  A->n = n;
  A->x = g_new (float, nd);
  A->h = g_new (float, nd *nb);
  A->a = g_new (float, nd *nb);
  A->q = g_new (float, nd *nb);
  A->k = g_new (float, nd *nb);
  A->v = g_new (float, nd *nb);
  A->o = g_new (float, nd *nb);
  A->hf = g_new (float, nd);
  A->u = g_new (float, nd);
}

static void
acts_clear (Acts *A)
{
  g_free (A->x);
  g_free (A->h);
  g_free (A->a);
  g_free (A->q);
  g_free (A->k);
  g_free (A->v);
  g_free (A->o);
  g_free (A->hf);
  g_free (A->u);
}

static void
forward (const RgSasrec *m, const float *x_in, Acts *A)
{
  const int64_t n = A->n, D = m->cfg.dim;
  const gsize nd = (gsize)n * D;
  const float *pos = rg_tensor_f32 (m->pos);
  for (gsize i = 0; i < nd; i++)
    A->x[i] = x_in[i] + pos[i];
  RgAttentionParams params = {
    .n_heads = m->cfg.n_heads,
    .scale = 1.0f / sqrtf ((float)(D / m->cfg.n_heads)),
    .causal = TRUE,
    .kv_len = NULL,
  };
  const float *in = A->x;
  for (int b = 0; b < m->cfg.n_blocks; b++)
    {
      const Block *blk = &m->blocks[b];
      float *h = A->h + b * nd;
      memcpy (h, in, nd * sizeof (float));
      g_autoptr (RgTensor) th = view (h, n, D), ta = view (A->a + b * nd, n, D);
      g_autoptr (RgTensor) tq = view (A->q + b * nd, n, D), tk = view (A->k + b * nd, n, D);
      g_autoptr (RgTensor) tv = view (A->v + b * nd, n, D), to = view (A->o + b * nd, n, D);
      g_autoptr (RgTensor) tnext = view (A->hf, n, D);
      rg_layernorm (th, NULL, NULL, LN_EPS, ta);
      rg_linear (ta, blk->w[WQ], NULL, tq);
      rg_linear (ta, blk->w[WK], NULL, tk);
      rg_linear (ta, blk->w[WV], NULL, tv);
      rg_attention (tq, tk, tv, &params, to);
      /* hf = h + o·W_oᵀ: the next block's input (or the final stream) */
      rg_linear (to, blk->w[WO], NULL, tnext);
      for (gsize i = 0; i < nd; i++)
        A->hf[i] += h[i];
      in = A->hf;
    }
  if (m->cfg.n_blocks == 0)
    memcpy (A->hf, A->x, nd * sizeof (float));
  g_autoptr (RgTensor) thf = view (A->hf, n, D), tu = view (A->u, n, D);
  rg_layernorm (thf, NULL, NULL, LN_EPS, tu);
}

/* ---- backward ---- */

/* dx += LayerNorm'(x)ᵀ dy, row by row (no affine). */
static void
layernorm_backward (const float *x, const float *dy, int64_t n, int64_t D, float *dx)
{
  for (int64_t r = 0; r < n; r++)
    {
      const float *xr = x + r * D, *g = dy + r * D;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < D; i++)
        mean += xr[i];
      mean /= D;
      for (int64_t i = 0; i < D; i++)
        var += (xr[i] - mean) * (xr[i] - mean);
      float inv = 1.0f / sqrtf ((float)(var / D) + LN_EPS);
      double mg = 0, mgy = 0;
      for (int64_t i = 0; i < D; i++)
        {
          float y = (float)(xr[i] - mean) * inv;
          mg += g[i];
          mgy += g[i] * y;
        }
      mg /= D;
      mgy /= D;
      for (int64_t i = 0; i < D; i++)
        {
          float y = (float)(xr[i] - mean) * inv;
          dx[r * D + i] += inv * (g[i] - (float)mg - y * (float)mgy);
        }
    }
}

/* y = x·Wᵀ backward: dx (+)= dy·W, dW += dyᵀ·x. */
static void
linear_backward (const float *x, const float *W, const float *dy, int64_t n, int64_t D, float *dx,
                 float beta, float *dW)
{
  rg_sgemm (FALSE, FALSE, n, D, D, 1.0f, dy, D, W, D, beta, dx, D);
  rg_sgemm (TRUE, FALSE, D, D, n, 1.0f, dy, D, x, D, 1.0f, dW, D);
}

/* Causal attention backward for all heads: dq, dk, dv from do. */
static void
attention_backward (const float *q, const float *k, const float *v, const float *dout, int64_t n,
                    int64_t D, int H, float *dq, float *dk, float *dv)
{
  const int64_t Dh = D / H;
  const float scale = 1.0f / sqrtf ((float)Dh);
  g_autofree float *P = g_new (float, n), *dP = g_new (float, n);
  memset (dq, 0, (gsize)n * D * sizeof (float));
  memset (dk, 0, (gsize)n * D * sizeof (float));
  memset (dv, 0, (gsize)n * D * sizeof (float));
  for (int h = 0; h < H; h++)
    for (int64_t i = 0; i < n; i++)
      {
        const float *qi = q + i * D + h * Dh, *doi = dout + i * D + h * Dh;
        float mx = -INFINITY;
        for (int64_t j = 0; j <= i; j++)
          {
            float s = 0;
            for (int64_t c = 0; c < Dh; c++)
              s += qi[c] * k[j * D + h * Dh + c];
            P[j] = s * scale;
            mx = MAX (mx, P[j]);
          }
        double z = 0;
        for (int64_t j = 0; j <= i; j++)
          {
            P[j] = expf (P[j] - mx);
            z += P[j];
          }
        double pdp = 0;
        for (int64_t j = 0; j <= i; j++)
          {
            P[j] = (float)(P[j] / z);
            float s = 0;
            for (int64_t c = 0; c < Dh; c++)
              s += doi[c] * v[j * D + h * Dh + c];
            dP[j] = s;
            pdp += P[j] * s;
          }
        for (int64_t j = 0; j <= i; j++)
          {
            float ds = P[j] * (dP[j] - (float)pdp) * scale;
            for (int64_t c = 0; c < Dh; c++)
              {
                dv[j * D + h * Dh + c] += P[j] * doi[c];
                dq[i * D + h * Dh + c] += ds * k[j * D + h * Dh + c];
                dk[j * D + h * Dh + c] += ds * qi[c];
              }
          }
      }
}

/* From du (gradient at u) to dx (gradient at the block-0 input x, which is
 * both the item rows' and the position embeddings' gradient); dense
 * gradients are accumulated into the model. */
static void
backward (RgSasrec *m, const Acts *A, const float *du, float *dx)
{
  const int64_t n = A->n, D = m->cfg.dim;
  const gsize nd = (gsize)n * D;
  g_autofree float *dh = g_new0 (float, nd);
  g_autofree float *dO = g_new (float, nd), *dq = g_new (float, nd);
  g_autofree float *dk = g_new (float, nd), *dv = g_new (float, nd), *da = g_new (float, nd);
  layernorm_backward (A->hf, du, n, D, dh);
  for (int b = m->cfg.n_blocks - 1; b >= 0; b--)
    {
      Block *blk = &m->blocks[b];
      const float *h = A->h + b * nd, *a = A->a + b * nd;
      const float *q = A->q + b * nd, *k = A->k + b * nd, *v = A->v + b * nd;
      const float *o = A->o + b * nd;
      /* out = h + o·W_oᵀ: dh passes through the residual unchanged */
      linear_backward (o, rg_tensor_f32 (blk->w[WO]), dh, n, D, dO, 0.0f, blk->g[WO]);
      attention_backward (q, k, v, dO, n, D, m->cfg.n_heads, dq, dk, dv);
      linear_backward (a, rg_tensor_f32 (blk->w[WQ]), dq, n, D, da, 0.0f, blk->g[WQ]);
      linear_backward (a, rg_tensor_f32 (blk->w[WK]), dk, n, D, da, 1.0f, blk->g[WK]);
      linear_backward (a, rg_tensor_f32 (blk->w[WV]), dv, n, D, da, 1.0f, blk->g[WV]);
      layernorm_backward (h, da, n, D, dh);
    }
  memcpy (dx, dh, nd * sizeof (float));
  for (gsize i = 0; i < nd; i++)
    m->gpos[i] += dh[i];
}

static inline float
dot (const float *a, const float *b, int n)
{
  float s = 0;
  for (int i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static void
zero_dense_grads (RgSasrec *m)
{
  gsize dd = (gsize)m->cfg.dim * m->cfg.dim;
  memset (m->gpos, 0, (gsize)m->cfg.max_len * m->cfg.dim * sizeof (float));
  for (int b = 0; b < m->cfg.n_blocks; b++)
    for (int w = 0; w < N_W; w++)
      memset (m->blocks[b].g[w], 0, dd * sizeof (float));
}

static void
sgd_dense (RgSasrec *m)
{
  gsize dd = (gsize)m->cfg.dim * m->cfg.dim, np = (gsize)m->cfg.max_len * m->cfg.dim;
  float lr = m->cfg.dense_lr, *pos = rg_tensor_f32 (m->pos);
  for (gsize i = 0; i < np; i++)
    pos[i] -= lr * m->gpos[i];
  for (int b = 0; b < m->cfg.n_blocks; b++)
    for (int w = 0; w < N_W; w++)
      {
        float *p = rg_tensor_f32 (m->blocks[b].w[w]);
        for (gsize i = 0; i < dd; i++)
          p[i] -= lr * m->blocks[b].g[w][i];
      }
}

gboolean
rg_sasrec_step_split (RgSasrec *model, const uint32_t *offsets, gsize batch, const int64_t *ids,
                      const float *emb_in, const float *emb_out, uint64_t step, float *grad_in,
                      float *grad_out, float *loss, GError **error)
{
  const int D = model->cfg.dim, K = model->cfg.n_negatives;
  const gsize n_ids = offsets[batch];
  for (gsize b = 0; b < batch; b++)
    if (offsets[b + 1] < offsets[b])
      {
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "SASRec: sequence offsets decrease at sample %" G_GSIZE_FORMAT, b);
        return FALSE;
      }
  if (grad_in)
    memset (grad_in, 0, n_ids * D * sizeof (float));
  if (grad_out)
    memset (grad_out, 0, n_ids * D * sizeof (float));
  zero_dense_grads (model);
  *loss = 0;

  /* how many predictions the batch makes, for the mean */
  int64_t n_pred = 0;
  for (gsize b = 0; b < batch; b++)
    {
      int64_t len = MIN ((int64_t)(offsets[b + 1] - offsets[b]), model->cfg.max_len);
      n_pred += MAX (len - 1, 0);
    }
  if (n_pred == 0)
    return TRUE;

  RgRng rng;
  rg_rng_init (&rng, model->cfg.seed, step);
  const gsize ml = (gsize)model->cfg.max_len * D;
  g_autofree float *du = g_new (float, ml), *dx = g_new (float, ml);
  g_autofree float *logits = g_new (float, K + 1);
  g_autofree gsize *cand = g_new (gsize, K + 1);
  double total = 0;
  const float inv_n = 1.0f / (float)n_pred;

  for (gsize b = 0; b < batch; b++)
    {
      int64_t len = offsets[b + 1] - offsets[b];
      int64_t n = MIN (len, model->cfg.max_len);
      if (n < 2)
        continue;
      gsize first = offsets[b + 1] - (gsize)n; /* keep the last max_len items */
      Acts A;
      acts_init (&A, model, n);
      forward (model, emb_in + first * D, &A);
      memset (du, 0, (gsize)n * D * sizeof (float));
      for (int64_t t = 0; t + 1 < n; t++)
        {
          const float *ut = A.u + t * D;
          gsize target = first + (gsize)t + 1;
          int n_cand = 0;
          cand[n_cand++] = target;
          for (int j = 0; j < K; j++)
            for (int tries = 0; tries < NEG_TRIES; tries++)
              {
                gsize c = (gsize)rg_rng_range (&rng, 0, (int)n_ids);
                if (ids[c] != ids[target])
                  {
                    cand[n_cand++] = c;
                    break;
                  }
              }
          float mx = -INFINITY;
          for (int j = 0; j < n_cand; j++)
            {
              logits[j] = dot (ut, emb_out + cand[j] * D, D);
              mx = MAX (mx, logits[j]);
            }
          double z = 0;
          for (int j = 0; j < n_cand; j++)
            z += exp ((double)(logits[j] - mx));
          total += -(double)(logits[0] - mx) + log (z);
          for (int j = 0; j < n_cand; j++)
            {
              float p = (float)(exp ((double)(logits[j] - mx)) / z);
              float coef = (p - (j == 0 ? 1.0f : 0.0f)) * inv_n;
              const float *e = emb_out + cand[j] * D;
              for (int d = 0; d < D; d++)
                {
                  du[t * D + d] += coef * e[d];
                  if (grad_out)
                    grad_out[cand[j] * D + d] += coef * ut[d];
                }
            }
        }
      backward (model, &A, du, dx);
      if (grad_in)
        for (gsize i = 0; i < (gsize)n * D; i++)
          grad_in[first * D + i] += dx[i];
      acts_clear (&A);
    }
  *loss = (float)(total / (double)n_pred);
  if (model->cfg.train_dense)
    sgd_dense (model);
  return TRUE;
}

gboolean
rg_sasrec_step (RgSasrec *model, const uint32_t *offsets, gsize batch, const int64_t *ids,
                const float *emb, uint64_t step, float *grad, float *loss, GError **error)
{
  const gsize n = (gsize)offsets[batch] * model->cfg.dim;
  g_autofree float *gin = g_new (float, MAX (n, 1));
  if (!rg_sasrec_step_split (model, offsets, batch, ids, emb, emb, step, gin, grad, loss, error))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    grad[i] += gin[i];
  return TRUE;
}

/* ---- inference ---- */

gboolean
rg_sasrec_recommend (RgSasrec *model, RgEmbedStore *store, uint32_t table, const int64_t *history,
                     gsize n, gboolean exclude_history, int k, int64_t *items, float *scores,
                     int *n_found, GError **error)
{
  const RgEmbedTableInfo *info = rg_embed_store_table (store, table);
  const int D = model->cfg.dim;
  *n_found = 0;
  if (info == NULL || info->dim != D || n == 0 || k <= 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "SASRec: cannot recommend from table %u (%s) with a history of %" G_GSIZE_FORMAT
                   " items and k = %d; the model is %d wide",
                   table, info ? info->name : "missing", n, k, D);
      return FALSE;
    }
  gsize len = MIN (n, (gsize)model->cfg.max_len);
  const int64_t *recent = history + (n - len);
  g_autofree float *emb = g_new (float, len *D);
  if (!rg_embed_store_read_rows (store, table, recent, len, emb, error))
    return FALSE;
  Acts A;
  acts_init (&A, model, (int64_t)len);
  forward (model, emb, &A);
  g_autofree float *u = g_memdup2 (A.u + (len - 1) * D, D * sizeof (float));
  acts_clear (&A);

  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  if (exclude_history)
    for (gsize i = 0; i < n; i++)
      g_hash_table_add (seen, GSIZE_TO_POINTER ((gsize)history[i]));
  g_autofree float *best = g_new (float, k);
  const int64_t chunk = 4096;
  g_autofree int64_t *ids = g_new (int64_t, chunk);
  g_autofree float *rows = g_new (float, (gsize)chunk *D);
  for (int64_t start = 0; start < info->rows; start += chunk)
    {
      int64_t m = MIN (chunk, info->rows - start);
      for (int64_t i = 0; i < m; i++)
        ids[i] = start + i;
      if (!rg_embed_store_read_rows (store, table, ids, m, rows, error))
        return FALSE;
      for (int64_t i = 0; i < m; i++)
        {
          if (exclude_history && g_hash_table_contains (seen, GSIZE_TO_POINTER ((gsize)ids[i])))
            continue;
          float sc = dot (u, rows + i * D, D);
          /* insertion into the sorted top-k */
          int at = *n_found < k ? (*n_found)++ : k;
          if (at == k && sc <= best[k - 1])
            continue;
          if (at == k)
            at = k - 1;
          while (at > 0 && best[at - 1] < sc)
            {
              best[at] = best[at - 1];
              items[at] = items[at - 1];
              at--;
            }
          best[at] = sc;
          items[at] = ids[i];
        }
    }
  if (scores)
    memcpy (scores, best, *n_found * sizeof (float));
  return TRUE;
}
