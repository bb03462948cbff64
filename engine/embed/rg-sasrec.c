/* rg-sasrec.c — SASRec forward (ops: layernorm, linear, causal attention)
 * and the sampled-softmax loss with its gradient for the item rows. */
#include "rg-sasrec.h"

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "core/rg-tensor.h"
#include "ops/rg-ops.h"

#include <math.h>
#include <string.h>

/* negatives equal to the target are redrawn this many times, then dropped */
#define NEG_TRIES 8

typedef struct {
  RgTensor *wq, *wk, *wv, *wo; /* [D, D] */
} Block;

struct _RgSasrec {
  RgSasrecConfig cfg;
  RgTensor      *pos; /* [max_len, D] */
  Block         *blocks;
};

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
      || c->n_negatives > 1024)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "SASRec: invalid config (dim %d, max_len %d, %d blocks, %d heads, %d "
                   "negatives); dim must divide by heads",
                   c->dim, c->max_len, c->n_blocks, c->n_heads, c->n_negatives);
      return NULL;
    }
  RgSasrec *m = g_new0 (RgSasrec, 1);
  m->cfg = *c;
  /* small init, as SASRec's xavier-like one: the blocks start near identity
   * (residual), so early training is driven by the item rows */
  float std = 0.5f / sqrtf ((float) c->dim);
  m->pos = init_matrix (c->seed, 0, c->max_len, c->dim, 0.02f);
  m->blocks = g_new0 (Block, MAX (c->n_blocks, 1));
  for (int b = 0; b < c->n_blocks; b++)
    {
      m->blocks[b].wq = init_matrix (c->seed, 1 + 4 * b, c->dim, c->dim, std);
      m->blocks[b].wk = init_matrix (c->seed, 2 + 4 * b, c->dim, c->dim, std);
      m->blocks[b].wv = init_matrix (c->seed, 3 + 4 * b, c->dim, c->dim, std);
      m->blocks[b].wo = init_matrix (c->seed, 4 + 4 * b, c->dim, c->dim, std);
    }
  return m;
}

void
rg_sasrec_free (RgSasrec *model)
{
  if (model == NULL)
    return;
  rg_tensor_unref (model->pos);
  for (int b = 0; b < model->cfg.n_blocks; b++)
    {
      rg_tensor_unref (model->blocks[b].wq);
      rg_tensor_unref (model->blocks[b].wk);
      rg_tensor_unref (model->blocks[b].wv);
      rg_tensor_unref (model->blocks[b].wo);
    }
  g_free (model->blocks);
  g_free (model);
}

const RgSasrecConfig *
rg_sasrec_config (const RgSasrec *model)
{
  return &model->cfg;
}

/* u[n, D] for one sequence whose input rows are x_in[n, D]. */
static void
encode (const RgSasrec *m, const float *x_in, int64_t n, float *u)
{
  const int64_t D = m->cfg.dim;
  g_autoptr (RgTensor) h = rg_tensor_f32_new (3, (int64_t) 1, n, D);
  g_autoptr (RgTensor) a = rg_tensor_f32_new (3, (int64_t) 1, n, D);
  g_autoptr (RgTensor) q = rg_tensor_f32_new (3, (int64_t) 1, n, D);
  g_autoptr (RgTensor) k = rg_tensor_f32_new (3, (int64_t) 1, n, D);
  g_autoptr (RgTensor) v = rg_tensor_f32_new (3, (int64_t) 1, n, D);
  g_autoptr (RgTensor) o = rg_tensor_f32_new (3, (int64_t) 1, n, D);
  float *hp = rg_tensor_f32 (h);
  const float *pos = rg_tensor_f32 (m->pos);
  for (int64_t i = 0; i < n * D; i++)
    hp[i] = x_in[i] + pos[i];

  RgAttentionParams params = {
    .n_heads = m->cfg.n_heads,
    .scale = 1.0f / sqrtf ((float) (D / m->cfg.n_heads)),
    .causal = TRUE,
    .kv_len = NULL,
  };
  for (int b = 0; b < m->cfg.n_blocks; b++)
    {
      const Block *blk = &m->blocks[b];
      rg_layernorm (h, NULL, NULL, 1e-5f, a);
      rg_linear (a, blk->wq, NULL, q);
      rg_linear (a, blk->wk, NULL, k);
      rg_linear (a, blk->wv, NULL, v);
      rg_attention (q, k, v, &params, o);
      rg_linear (o, blk->wo, NULL, a);
      rg_add (h, a, h);
    }
  g_autoptr (RgTensor) ut = rg_tensor_new_borrowed (RG_F32, 3, (int64_t[]) { 1, n, D }, u, NULL,
                                                    NULL);
  rg_layernorm (h, NULL, NULL, 1e-5f, ut);
}

static inline float
dot (const float *a, const float *b, int n)
{
  float s = 0;
  for (int i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

gboolean
rg_sasrec_step_split (RgSasrec *model, const uint32_t *offsets, gsize batch, const int64_t *ids,
                      const float *emb_in, const float *emb_out, uint64_t step, float *grad,
                      float *loss, GError **error)
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
  memset (grad, 0, n_ids * D * sizeof (float));
  *loss = 0;

  /* how many predictions the batch makes, for the mean */
  int64_t n_pred = 0;
  for (gsize b = 0; b < batch; b++)
    {
      int64_t len = MIN ((int64_t) (offsets[b + 1] - offsets[b]), model->cfg.max_len);
      n_pred += MAX (len - 1, 0);
    }
  if (n_pred == 0)
    return TRUE;

  RgRng rng;
  rg_rng_init (&rng, model->cfg.seed, step);
  g_autofree float *u = g_new (float, (gsize) model->cfg.max_len * D);
  g_autofree float *logits = g_new (float, K + 1);
  g_autofree gsize *cand = g_new (gsize, K + 1);
  double total = 0;
  const float inv_n = 1.0f / (float) n_pred;

  for (gsize b = 0; b < batch; b++)
    {
      int64_t len = offsets[b + 1] - offsets[b];
      int64_t n = MIN (len, model->cfg.max_len);
      if (n < 2)
        continue;
      gsize first = offsets[b + 1] - (gsize) n; /* keep the last max_len items */
      encode (model, emb_in + first * D, n, u);
      for (int64_t t = 0; t + 1 < n; t++)
        {
          const float *ut = u + t * D;
          gsize target = first + (gsize) t + 1;
          int n_cand = 0;
          cand[n_cand++] = target;
          for (int j = 0; j < K; j++)
            for (int tries = 0; tries < NEG_TRIES; tries++)
              {
                gsize c = (gsize) rg_rng_range (&rng, 0, (int) n_ids);
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
            z += exp ((double) (logits[j] - mx));
          total += -(double) (logits[0] - mx) + log (z);
          for (int j = 0; j < n_cand; j++)
            {
              float p = (float) (exp ((double) (logits[j] - mx)) / z);
              float coef = (p - (j == 0 ? 1.0f : 0.0f)) * inv_n;
              float *g = grad + cand[j] * D;
              for (int d = 0; d < D; d++)
                g[d] += coef * ut[d];
            }
        }
    }
  *loss = (float) (total / (double) n_pred);
  return TRUE;
}

gboolean
rg_sasrec_step (RgSasrec *model, const uint32_t *offsets, gsize batch, const int64_t *ids,
                const float *emb, uint64_t step, float *grad, float *loss, GError **error)
{
  return rg_sasrec_step_split (model, offsets, batch, ids, emb, emb, step, grad, loss, error);
}
