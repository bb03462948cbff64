/* rg-sasrec.h — a small SASRec-style sequence recommender.
 *
 * Given a creator's history of items (a sequence of rows of an item
 * table), predict the next item at every position:
 *
 *   x_t  = item_emb[id_t] + pos_emb[t]                    t < max_len
 *   h    = x;  per block (n_blocks, 2 by default):
 *          a = LayerNorm(h);  h += W_o · CausalAttention(W_q a, W_k a, W_v a)
 *   u_t  = LayerNorm(h_t)
 *   loss = mean over t of sampled softmax: −log softmax(u_t · e⁺, u_t · e⁻_1..K)
 *          with e⁺ = item_emb[id_{t+1}] and K negatives drawn from the other
 *          items of the same batch (in-batch negatives: every row the loss
 *          touches is a row the batch already looked up, so a sharded run
 *          moves no extra rows for them).
 *
 * The forward attention is rg_attention (engine/ops) with causal = TRUE;
 * the backward pass is written here (the op table has no backward yet):
 * LayerNorm, the linear maps, causal softmax attention and the residuals.
 *
 * What is trained — stated exactly:
 *  - item-embedding rows: the full gradient of the loss, through both of
 *    their roles — as inputs (back through every block) and as scored
 *    targets/negatives. The caller applies it (the store's sparse
 *    optimizer);
 *  - the dense part (W_q, W_k, W_v, W_o of every block and the position
 *    embeddings): its gradient is always computed (rg_sasrec_param_grad);
 *    it is applied by plain SGD at dense_lr after each step only when
 *    train_dense is set. A sharded run keeps it frozen: updating it would
 *    need a data-parallel all-reduce the shard simulator does not model.
 *
 * Sequences longer than max_len keep their last max_len items. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "embed/rg-embed-store.h"

G_BEGIN_DECLS

typedef struct
{
  int dim;     /* D: the item table's width, divisible by n_heads */
  int max_len; /* positions with an embedding */
  int n_blocks;
  int n_heads;
  int n_negatives;      /* K per prediction */
  uint64_t seed;        /* initialises the dense weights; negatives use (seed, step) */
  gboolean train_dense; /* apply SGD to the dense part after each step */
  float dense_lr;
} RgSasrecConfig;

typedef struct _RgSasrec RgSasrec;

/* max_len 50, 2 blocks, 1 head, K = 8, dense part frozen (dense_lr 0.05). */
RgSasrecConfig rg_sasrec_config_default (int dim);

RgSasrec *rg_sasrec_new (const RgSasrecConfig *config, GError **error);
void rg_sasrec_free (RgSasrec *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgSasrec, rg_sasrec_free)

const RgSasrecConfig *rg_sasrec_config (const RgSasrec *model);

/* One batch. Sample b is ids[offsets[b] .. offsets[b+1]) and its rows
 * emb[offsets[b] .. offsets[b+1]) × dim, already looked up (from a store,
 * or from remote ranks). Writes grad[n_ids × dim] — the gradient of the
 * mean loss for each looked-up vector (zero where a vector played no part)
 * — and the mean loss. `step` picks the negatives. A batch with no
 * sequence of length ≥ 2 has loss 0 and zero gradients. */
gboolean rg_sasrec_step (RgSasrec *model, const uint32_t *offsets, gsize batch, const int64_t *ids,
                         const float *emb, uint64_t step, float *grad, float *loss, GError **error);

/* The same with the two roles of the rows given separately: emb_in feeds
 * the blocks, emb_out is scored. grad_in = ∂loss/∂emb_in and grad_out =
 * ∂loss/∂emb_out (either may be NULL); what finite-difference tests check. */
gboolean rg_sasrec_step_split (RgSasrec *model, const uint32_t *offsets, gsize batch,
                               const int64_t *ids, const float *emb_in, const float *emb_out,
                               uint64_t step, float *grad_in, float *grad_out, float *loss,
                               GError **error);

/* What comes next: the k items of `table` the model scores highest after
 * `history` (n ids, oldest first; the last max_len are used), best first,
 * into items[k] and scores[k] (scores may be NULL); *n_found ≤ k when the
 * table is smaller. With exclude_history, items already in the history are
 * skipped (a creator rarely wants the style they just used). Every row of
 * the table is scored, read from the store in chunks: right for the app's
 * catalogues of styles and prompts, not for millions of items. */
gboolean rg_sasrec_recommend (RgSasrec *model, RgEmbedStore *store, uint32_t table,
                              const int64_t *history, gsize n, gboolean exclude_history, int k,
                              int64_t *items, float *scores, int *n_found, GError **error);

/* The dense parameters by name — "pos", "block0.wq", "block0.wk",
 * "block0.wv", "block0.wo", "block1.wq", … — and the gradient of the last
 * step for each; NULL for an unknown name. *n receives the element count. */
float *rg_sasrec_param (RgSasrec *model, const char *name, gsize *n);
const float *rg_sasrec_param_grad (const RgSasrec *model, const char *name, gsize *n);

G_END_DECLS
