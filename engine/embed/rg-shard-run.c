/* rg-shard-run.c — one training step per trace batch, across MPI ranks
 * (protocol in rg-shard-run.h).
 *
 * Vocabulary: a *part* is one unit of remote work: for a sequence table one
 * (id, column slice) lookup, for a pooled table the ids of one sample that
 * one owner serves for one column slice. Requests, responses and gradients
 * are lists of parts per peer, in the same order in all three exchanges;
 * parts a rank serves for itself travel through the same code (the
 * communicator does not count a rank's traffic to itself). */
#include "rg-shard-run.h"

#include "core/rg-error.h"
#include "embed/rg-embed-store.h"
#include "embed/rg-sasrec.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

typedef struct
{
  uint32_t table, segment, n_ids;
} PartMeta; /* control bytes */

typedef struct
{
  uint32_t table, sample, pos, segment; /* pos: index into the bag, or G_MAXUINT32 when pooled */
} PartRef;

typedef struct
{
  GArray *meta; /* PartMeta */
  GArray *ids;  /* int64_t */
  GArray *refs; /* PartRef */
} Outbox;

/* One collective step list of a replica ring, from this rank's seat: a
 * reduce-scatter or all-gather among G seats over a range of the buffer
 * (the whole buffer, or shard j of q). */
typedef struct
{
  uint32_t G, pos, next, prev;
  gboolean reduce;
  uint32_t shard_q, shard_j; /* shard_q == 0: the whole buffer */
} RingOp;

/* A replica ring: the copies of the rows of one segment that share a slot.
 * As the simulator models it: hierarchical (NCCL's way) when every node
 * holding copies holds the same number q — reduce-scatter in the node,
 * all-reduce of each 1/q shard across nodes, all-gather in the node — else
 * one flat ring. */
typedef struct
{
  uint32_t table, segment;
  gboolean member;
  RingOp ops[4];
  int n_ops;
  GArray *rows; /* int64_t physical rows, ascending ranked order */
  float *buf;
  gsize n; /* rows × columns */
} Ring;

typedef struct
{
  RgComm *comm;
  const RgShardRunConfig *cfg;
  const RgShardPlan *plan;
  const RgTrace *trace;
  uint32_t W, me;
  RgEmbedStore *store;
  uint32_t *store_id;  /* trace table → store table id */
  RgSasrec **models;   /* per table, sequence tables only */
  uint32_t **stamp;    /* per table, per ranked row */
  GError *local_error; /* first failure on this rank */
  double ring_bytes;
  double comm_seconds; /* inside collectives, this step */
  double lookups_local, lookups_remote;
} Run;

RgShardRunConfig
rg_shard_run_config_default (void)
{
  RgShardRunConfig c = {
    .optim = { RG_EMBED_OPTIM_ADAGRAD, 0.05f, 1e-8f },
    .seed = 1,
    .max_len = 50,
    .n_negatives = 8,
  };
  return c;
}

void
rg_shard_run_result_free (RgShardRunResult *result)
{
  if (result == NULL)
    return;
  g_free (result->traffic);
  g_free (result);
}

double
rg_shard_run_traffic_error (const RgShardRunResult *result, const double *predicted)
{
  gsize n = (gsize)result->world * result->world;
  double total_p = 0, total_m = 0, worst = 0;
  for (gsize k = 0; k < n; k++)
    {
      total_p += predicted[k];
      total_m += result->traffic[k];
    }
  if (total_p == 0)
    return total_m == 0 ? 0.0 : INFINITY;
  worst = fabs (total_m - total_p) / total_p;
  for (gsize k = 0; k < n; k++)
    if (predicted[k] >= 0.01 * total_p || result->traffic[k] >= 0.01 * total_p)
      worst = MAX (worst, fabs (result->traffic[k] - predicted[k]) / MAX (predicted[k], 1.0));
  return worst;
}

static void
fail_local (Run *r, GError *error)
{
  if (r->local_error == NULL)
    r->local_error = error;
  else
    g_error_free (error);
}

/* ---- slices in the table's element type (what travels) ---- */

static inline gsize
elem_bytes (const Run *r, uint32_t t)
{
  return r->trace->tables[t].elem_bytes;
}

static void
put_slice (const Run *r, uint32_t t, const float *src, uint32_t cols, guint8 *dst)
{
  if (elem_bytes (r, t) == 2)
    rg_convert_floats (src, RG_F32, dst, RG_BF16, cols);
  else
    memcpy (dst, src, cols * sizeof (float));
}

static void
get_slice (const Run *r, uint32_t t, const guint8 *src, uint32_t cols, float *dst)
{
  if (elem_bytes (r, t) == 2)
    rg_convert_floats (src, RG_BF16, dst, RG_F32, cols);
  else
    memcpy (dst, src, cols * sizeof (float));
}

static inline const RgShardSegment *
segment (const Run *r, uint32_t t, uint32_t si)
{
  return &r->plan->tables[t].segments[si];
}

static inline gsize
width (const Run *r, uint32_t t, uint32_t si)
{
  const RgShardSegment *s = segment (r, t, si);
  return (gsize)(s->col_end - s->col_begin) * elem_bytes (r, t);
}

/* ---- setup: a store per rank with the rows this rank holds ---- */

static gboolean
holds (const Run *r, const RgShardSegment *seg, int64_t rank)
{
  uint32_t slot = (uint32_t)((rank - seg->row_begin) % seg->group_size);
  for (uint32_t g = 0; g < seg->n_groups; g++)
    if (seg->devices[g * seg->group_size + slot] == r->me)
      return TRUE;
  return FALSE;
}

static gboolean
setup_store (Run *r, GError **error)
{
  g_autofree char *path = g_strdup_printf ("%s/rank-%u.rgemb", r->cfg->work_dir, r->me);
  const char *suffixes[] = { "", "-wal", "-shm" };
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *p = g_strconcat (path, suffixes[i], NULL);
      g_unlink (p);
    }
  RgEmbedStoreConfig scfg = rg_embed_store_config_default ();
  /* the plan's fit is checked against the topology; the stand-in tiers
   * only need room for the records */
  scfg.device_bytes = G_MAXSIZE / 4;
  scfg.host_bytes = G_MAXSIZE / 4;
  r->store = rg_embed_store_open (path, &scfg, error);
  if (r->store == NULL)
    return FALSE;
  r->store_id = g_new0 (uint32_t, r->trace->n_tables);
  for (uint32_t t = 0; t < r->trace->n_tables; t++)
    {
      const RgTableSpec *spec = &r->trace->tables[t];
      const RgShardTable *tab = &r->plan->tables[t];
      g_autofree char *name = g_strdup_printf ("table-%u", t);
      if (!rg_embed_store_create_table_lazy (
              r->store, name, spec->rows, (int)spec->dim, spec->elem_bytes == 2 ? RG_BF16 : RG_F32,
              &r->cfg->optim, r->cfg->seed, 0.1f, &r->store_id[t], error))
        return FALSE;
      g_autofree guint8 *place = g_new (guint8, spec->rows);
      for (int64_t row = 0; row < spec->rows; row++)
        {
          int64_t rank = rg_shard_table_rank (tab, row);
          uint32_t first, n;
          rg_shard_table_find (tab, rank, &first, &n);
          place[row] = RG_EMBED_TIER_COLD;
          for (uint32_t si = first; si < first + n; si++)
            if (holds (r, &tab->segments[si], rank))
              place[row] = tab->segments[si].tier == RG_TIER_FAST ? RG_EMBED_TIER_DEVICE
                                                                  : RG_EMBED_TIER_HOST;
        }
      if (!rg_embed_store_set_placement (r->store, r->store_id[t], place, error))
        return FALSE;
    }
  r->models = g_new0 (RgSasrec *, r->trace->n_tables);
  r->stamp = g_new0 (uint32_t *, r->trace->n_tables);
  for (uint32_t t = 0; t < r->trace->n_tables; t++)
    {
      r->stamp[t] = g_new0 (uint32_t, r->trace->tables[t].rows);
      if (r->trace->tables[t].kind != RG_TABLE_SEQUENCE)
        continue;
      RgSasrecConfig mc = rg_sasrec_config_default ((int)r->trace->tables[t].dim);
      mc.max_len = r->cfg->max_len;
      mc.n_negatives = r->cfg->n_negatives;
      mc.seed = r->cfg->seed + t;
      r->models[t] = rg_sasrec_new (&mc, error);
      if (r->models[t] == NULL)
        return FALSE;
    }
  return TRUE;
}

/* ---- exchanges ---- */

/* alltoallv of per-peer GArrays of `elem` bytes; recv arrays are filled. */
static gboolean
exchange (Run *r, GArray **send, GArray **recv, gsize elem, gboolean control, GError **error)
{
  uint32_t W = r->W;
  g_autofree uint64_t *ssz = g_new (uint64_t, W), *rsz = g_new (uint64_t, W);
  g_autofree gsize *sc = g_new (gsize, W), *sd = g_new (gsize, W);
  g_autofree gsize *rc = g_new (gsize, W), *rd = g_new (gsize, W);
  gsize st = 0, rt = 0;
  for (uint32_t p = 0; p < W; p++)
    {
      ssz[p] = send[p]->len;
      sc[p] = (gsize)send[p]->len * elem;
      sd[p] = st;
      st += sc[p];
    }
  gint64 t_sizes = g_get_monotonic_time ();
  if (!rg_comm_alltoall_sizes (r->comm, ssz, rsz, error))
    return FALSE;
  r->comm_seconds += (double)(g_get_monotonic_time () - t_sizes) / 1e6;
  for (uint32_t p = 0; p < W; p++)
    {
      rc[p] = (gsize)rsz[p] * elem;
      rd[p] = rt;
      rt += rc[p];
    }
  g_autofree guint8 *sbuf = g_malloc (st + 1), *rbuf = g_malloc (rt + 1);
  for (uint32_t p = 0; p < W; p++)
    if (sc[p])
      memcpy (sbuf + sd[p], send[p]->data, sc[p]);
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok = control ? rg_comm_alltoallv_control (r->comm, sbuf, sc, sd, rbuf, rc, rd, error)
                        : rg_comm_alltoallv (r->comm, sbuf, sc, sd, rbuf, rc, rd, error);
  r->comm_seconds += (double)(g_get_monotonic_time () - t0) / 1e6;
  if (!ok)
    return FALSE;
  for (uint32_t p = 0; p < W; p++)
    {
      g_array_set_size (recv[p], 0);
      g_array_append_vals (recv[p], rbuf + rd[p], (guint)rsz[p]);
    }
  return TRUE;
}

static GArray **
arrays_new (uint32_t W, gsize elem)
{
  GArray **a = g_new (GArray *, W);
  for (uint32_t p = 0; p < W; p++)
    a[p] = g_array_new (FALSE, FALSE, (guint)elem);
  return a;
}

static void
arrays_free (GArray **a, uint32_t W)
{
  if (a == NULL)
    return;
  for (uint32_t p = 0; p < W; p++)
    g_array_unref (a[p]);
  g_free (a);
}

/* ---- one step ---- */

typedef struct
{
  uint32_t i0, i1; /* my samples */
  uint32_t base;   /* bag offset of my first sample */
  uint32_t n_ids;  /* my ids in this table */
  float *emb;      /* sequence: n_ids × dim; pooled: (i1 − i0) × dim */
  float *grad;
} Mine;

typedef struct
{
  uint32_t owner, segment;
  int64_t id;
} Triple;

static int
cmp_triple (const void *a, const void *b)
{
  const Triple *x = a, *y = b;
  if (x->owner != y->owner)
    return (x->owner > y->owner) - (x->owner < y->owner);
  return (x->segment > y->segment) - (x->segment < y->segment);
}

static void
add_part (Outbox *box, uint32_t t, uint32_t si, uint32_t sample, uint32_t pos, const int64_t *ids,
          uint32_t n)
{
  PartMeta m = { t, si, n };
  PartRef ref = { t, sample, pos, si };
  g_array_append_val (box->meta, m);
  g_array_append_vals (box->ids, ids, n);
  g_array_append_val (box->refs, ref);
}

/* Requests of my samples of batch b, grouped per owner. */
static void
build_requests (Run *r, uint32_t b, Mine *mine, Outbox *out)
{
  const uint32_t B = r->trace->batch_size;
  g_autoptr (GArray) triples = g_array_new (FALSE, FALSE, sizeof (Triple));
  for (uint32_t t = 0; t < r->trace->n_tables; t++)
    {
      const RgTraceBag *bag = rg_trace_bag (r->trace, b, t);
      const RgShardTable *tab = &r->plan->tables[t];
      gboolean pooled = r->trace->tables[t].kind == RG_TABLE_POOLED;
      Mine *m = &mine[t];
      /* sample i runs on rank i·W / B, so mine are a contiguous block */
      m->i0 = (uint32_t)(((uint64_t)r->me * B + r->W - 1) / r->W);
      m->i1 = (uint32_t)(((uint64_t)(r->me + 1) * B + r->W - 1) / r->W);
      m->base = bag->offsets[m->i0];
      m->n_ids = bag->offsets[m->i1] - m->base;
      for (uint32_t i = m->i0; i < m->i1; i++)
        {
          g_array_set_size (triples, 0);
          for (uint32_t j = bag->offsets[i]; j < bag->offsets[i + 1]; j++)
            {
              int64_t id = bag->ids[j];
              int64_t rank = rg_shard_table_rank (tab, id);
              uint32_t first, n;
              rg_shard_table_find (tab, rank, &first, &n);
              for (uint32_t si = first; si < first + n; si++)
                {
                  uint32_t o
                      = rg_shard_segment_owner (&r->plan->topo, &tab->segments[si], rank, r->me);
                  if (o == r->me)
                    r->lookups_local++;
                  else
                    r->lookups_remote++;
                  if (!pooled)
                    add_part (&out[o], t, si, i, j, &id, 1);
                  else
                    g_array_append_val (triples, ((Triple){ o, si, id }));
                }
            }
          if (!pooled || triples->len == 0)
            continue;
          /* one part per (owner, slice) of this sample */
          Triple *tr = (Triple *)(void *)triples->data;
          qsort (tr, triples->len, sizeof (Triple), cmp_triple);
          g_autofree int64_t *ids = g_new (int64_t, triples->len);
          for (guint k = 0; k < triples->len;)
            {
              guint e = k;
              while (e < triples->len && tr[e].owner == tr[k].owner
                     && tr[e].segment == tr[k].segment)
                {
                  ids[e - k] = tr[e].id;
                  e++;
                }
              add_part (&out[tr[k].owner], t, tr[k].segment, i, G_MAXUINT32, ids, e - k);
              k = e;
            }
        }
    }
}

/* Validates a peer's request layout and ids before trusting them. */
static gboolean
check_meta (Run *r, uint32_t peer, GArray *meta, GArray *ids, GError **error)
{
  gsize at = 0;
  for (guint k = 0; k < meta->len; k++)
    {
      PartMeta *m = &g_array_index (meta, PartMeta, k);
      if (m->table >= r->trace->n_tables || m->segment >= r->plan->tables[m->table].n_segments
          || m->n_ids > ids->len - at)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "shard run: rank %u sent a malformed request (table %u, segment %u, %u "
                       "ids)",
                       peer, m->table, m->segment, m->n_ids);
          return FALSE;
        }
      for (uint32_t i = 0; i < m->n_ids; i++)
        {
          int64_t id = g_array_index (ids, int64_t, at + i);
          if (id < 0 || id >= r->trace->tables[m->table].rows)
            {
              g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                           "shard run: rank %u asked for row %" G_GINT64_FORMAT
                           " of table %u, which has %" G_GINT64_FORMAT,
                           peer, id, m->table, r->trace->tables[m->table].rows);
              return FALSE;
            }
        }
      at += m->n_ids;
    }
  if (at != ids->len)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "shard run: rank %u sent %u ids but its layout lists %" G_GSIZE_FORMAT, peer,
                   ids->len, at);
      return FALSE;
    }
  return TRUE;
}

/* Owner side: the response slices for every peer's parts, in order. Rows
 * are read per table in one store call. */
static gboolean
serve (Run *r, GArray **meta, GArray **ids, GArray **resp, GError **error)
{
  const uint32_t n_tables = r->trace->n_tables;
  g_autofree GArray **want = g_new (GArray *, n_tables);
  for (uint32_t t = 0; t < n_tables; t++)
    want[t] = g_array_new (FALSE, FALSE, sizeof (int64_t));
  for (uint32_t p = 0; p < r->W; p++)
    {
      gsize at = 0;
      for (guint k = 0; k < meta[p]->len; k++)
        {
          PartMeta *m = &g_array_index (meta[p], PartMeta, k);
          g_array_append_vals (want[m->table], &g_array_index (ids[p], int64_t, at), m->n_ids);
          at += m->n_ids;
        }
    }
  g_autofree float **rows = g_new0 (float *, n_tables);
  g_autofree gsize *cursor = g_new0 (gsize, n_tables);
  gboolean ok = TRUE;
  for (uint32_t t = 0; ok && t < n_tables; t++)
    {
      int dim = (int)r->trace->tables[t].dim;
      rows[t] = g_new (float, (gsize)MAX (want[t]->len, 1) * dim);
      ok = rg_embed_store_read_rows (r->store, r->store_id[t],
                                     (const int64_t *)(void *)want[t]->data, want[t]->len, rows[t],
                                     error);
    }
  if (ok)
    {
      g_autofree float *sum = g_new (float, RG_EMBED_STORE_MAX_DIM);
      for (uint32_t p = 0; p < r->W; p++)
        {
          g_array_set_size (resp[p], 0);
          for (guint k = 0; k < meta[p]->len; k++)
            {
              PartMeta *m = &g_array_index (meta[p], PartMeta, k);
              const RgShardSegment *seg = segment (r, m->table, m->segment);
              uint32_t cols = seg->col_end - seg->col_begin;
              int dim = (int)r->trace->tables[m->table].dim;
              memset (sum, 0, cols * sizeof (float));
              for (uint32_t i = 0; i < m->n_ids; i++)
                {
                  const float *row = rows[m->table] + (cursor[m->table]++) * dim;
                  for (uint32_t c = 0; c < cols; c++)
                    sum[c] += row[seg->col_begin + c];
                }
              guint at = resp[p]->len;
              g_array_set_size (resp[p], at + (guint)width (r, m->table, m->segment));
              put_slice (r, m->table, sum, cols, (guint8 *)resp[p]->data + at);
            }
        }
    }
  for (uint32_t t = 0; t < n_tables; t++)
    {
      g_array_unref (want[t]);
      g_free (rows[t]);
    }
  return ok;
}

/* Requester side: responses into my embedding buffers. */
static void
assemble (Run *r, Mine *mine, Outbox *out, GArray **resp)
{
  for (uint32_t t = 0; t < r->trace->n_tables; t++)
    {
      gboolean pooled = r->trace->tables[t].kind == RG_TABLE_POOLED;
      gsize dim = r->trace->tables[t].dim;
      gsize n = pooled ? mine[t].i1 - mine[t].i0 : mine[t].n_ids;
      mine[t].emb = g_new0 (float, MAX (n, 1) * dim);
      mine[t].grad = g_new0 (float, MAX (n, 1) * dim);
    }
  g_autofree float *slice = g_new (float, RG_EMBED_STORE_MAX_DIM);
  for (uint32_t p = 0; p < r->W; p++)
    {
      gsize at = 0;
      for (guint k = 0; k < out[p].refs->len; k++)
        {
          PartRef *ref = &g_array_index (out[p].refs, PartRef, k);
          const RgShardSegment *seg = segment (r, ref->table, ref->segment);
          uint32_t cols = seg->col_end - seg->col_begin;
          gsize dim = r->trace->tables[ref->table].dim;
          Mine *m = &mine[ref->table];
          get_slice (r, ref->table, (const guint8 *)resp[p]->data + at, cols, slice);
          at += width (r, ref->table, ref->segment);
          float *dst = ref->pos == G_MAXUINT32 ? m->emb + (ref->sample - m->i0) * dim
                                               : m->emb + (ref->pos - m->base) * dim;
          for (uint32_t c = 0; c < cols; c++)
            dst[seg->col_begin + c] += slice[c];
        }
    }
}

/* The loss and the gradient of every looked-up vector; returns the mean
 * SASRec loss over my sequence tables. */
static float
compute (Run *r, uint32_t b, uint64_t step, Mine *mine)
{
  double loss_sum = 0;
  int n_loss = 0;
  for (uint32_t t = 0; t < r->trace->n_tables; t++)
    {
      Mine *m = &mine[t];
      gsize dim = r->trace->tables[t].dim;
      uint32_t n_samples = m->i1 - m->i0;
      if (r->trace->tables[t].kind == RG_TABLE_POOLED)
        {
          /* loss ½ mean ‖pooled‖²: its gradient is the pooled vector / n */
          for (gsize k = 0; k < n_samples * dim; k++)
            m->grad[k] = n_samples ? m->emb[k] / (float)n_samples : 0.0f;
          continue;
        }
      const RgTraceBag *bag = rg_trace_bag (r->trace, b, t);
      g_autofree uint32_t *offs = g_new (uint32_t, n_samples + 1);
      for (uint32_t k = 0; k <= n_samples; k++)
        offs[k] = bag->offsets[m->i0 + k] - m->base;
      float loss = 0;
      GError *error = NULL;
      if (!rg_sasrec_step (r->models[t], offs, n_samples, bag->ids + m->base, m->emb, step, m->grad,
                           &loss, &error))
        fail_local (r, error);
      loss_sum += loss;
      n_loss++;
    }
  return n_loss ? (float)(loss_sum / n_loss) : 0.0f;
}

/* Requester side: the gradient slice of every part, in request order. */
static void
gradients_out (Run *r, Mine *mine, Outbox *out, GArray **grads)
{
  for (uint32_t p = 0; p < r->W; p++)
    {
      g_array_set_size (grads[p], 0);
      for (guint k = 0; k < out[p].refs->len; k++)
        {
          PartRef *ref = &g_array_index (out[p].refs, PartRef, k);
          const RgShardSegment *seg = segment (r, ref->table, ref->segment);
          gsize dim = r->trace->tables[ref->table].dim;
          Mine *m = &mine[ref->table];
          const float *src = ref->pos == G_MAXUINT32 ? m->grad + (ref->sample - m->i0) * dim
                                                     : m->grad + (ref->pos - m->base) * dim;
          guint at = grads[p]->len;
          g_array_set_size (grads[p], at + (guint)width (r, ref->table, ref->segment));
          put_slice (r, ref->table, src + seg->col_begin, seg->col_end - seg->col_begin,
                     (guint8 *)grads[p]->data + at);
        }
    }
}

/* Owner side: received gradient slices summed per (table, row). */
static void
accumulate (Run *r, GArray **meta, GArray **ids, GArray **grads, GHashTable **acc)
{
  g_autofree float *slice = g_new (float, RG_EMBED_STORE_MAX_DIM);
  for (uint32_t p = 0; p < r->W; p++)
    {
      gsize at_id = 0, at = 0;
      for (guint k = 0; k < meta[p]->len; k++)
        {
          PartMeta *m = &g_array_index (meta[p], PartMeta, k);
          const RgShardSegment *seg = segment (r, m->table, m->segment);
          uint32_t cols = seg->col_end - seg->col_begin;
          gsize dim = r->trace->tables[m->table].dim;
          get_slice (r, m->table, (const guint8 *)grads[p]->data + at, cols, slice);
          at += width (r, m->table, m->segment);
          for (uint32_t i = 0; i < m->n_ids; i++)
            {
              int64_t row = g_array_index (ids[p], int64_t, at_id + i);
              gpointer key = GSIZE_TO_POINTER ((gsize)row);
              float *g = g_hash_table_lookup (acc[m->table], key);
              if (g == NULL)
                {
                  g = g_new0 (float, dim);
                  g_hash_table_insert (acc[m->table], key, g);
                }
              for (uint32_t c = 0; c < cols; c++)
                g[seg->col_begin + c] += slice[c];
            }
          at_id += m->n_ids;
        }
    }
}

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

typedef struct
{
  int64_t rank, row;
} RankRow;

static int
cmp_rank_row (const void *a, const void *b)
{
  const RankRow *x = a, *y = b;
  return (x->rank > y->rank) - (x->rank < y->rank);
}

static void
ring_op (RingOp *op, uint32_t G, uint32_t pos, uint32_t next, uint32_t prev, gboolean reduce,
         uint32_t shard_q, uint32_t shard_j)
{
  *op = (RingOp){ G, pos, next, prev, reduce, shard_q, shard_j };
}

/* This rank's seat in the ring of `slot` of `seg`, and its op list. */
static void
ring_seat (const Run *r, Ring *ring, const RgShardSegment *seg, uint32_t slot)
{
  const RgTopology *topo = &r->plan->topo;
  uint32_t G = seg->n_groups;
  g_autofree uint32_t *d = g_new (uint32_t, G);
  for (uint32_t g = 0; g < G; g++)
    d[g] = seg->devices[g * seg->group_size + slot];
  qsort (d, G, sizeof (uint32_t), cmp_u32);
  int me = -1;
  for (uint32_t g = 0; g < G; g++)
    if (d[g] == r->me)
      me = (int)g;
  ring->member = me >= 0;
  if (me < 0)
    return;

  /* copies per node: the simulator's rule, shared through rg-shard-plan.h */
  uint32_t nodes, q;
  gboolean even = rg_shard_ring_layout (topo, d, G, &nodes, &q);

  uint32_t k = (uint32_t)me;
  if (!even)
    {
      ring_op (&ring->ops[0], G, k, d[(k + 1) % G], d[(k + G - 1) % G], TRUE, 0, 0);
      ring_op (&ring->ops[1], G, k, d[(k + 1) % G], d[(k + G - 1) % G], FALSE, 0, 0);
      ring->n_ops = 2;
      return;
    }
  uint32_t node = k / q, j = k % q;
  uint32_t in_next = d[node * q + (j + 1) % q], in_prev = d[node * q + (j + q - 1) % q];
  uint32_t x_next = d[((node + 1) % nodes) * q + j];
  uint32_t x_prev = d[((node + nodes - 1) % nodes) * q + j];
  /* after the in-node reduce-scatter, seat j holds the node's sum of shard
   * (j + 1) mod q: that shard crosses the nodes */
  if (q > 1)
    ring_op (&ring->ops[ring->n_ops++], q, j, in_next, in_prev, TRUE, 0, 0);
  if (nodes > 1)
    {
      ring_op (&ring->ops[ring->n_ops++], nodes, node, x_next, x_prev, TRUE, q, (j + 1) % q);
      ring_op (&ring->ops[ring->n_ops++], nodes, node, x_next, x_prev, FALSE, q, (j + 1) % q);
    }
  if (q > 1)
    ring_op (&ring->ops[ring->n_ops++], q, j, in_next, in_prev, FALSE, 0, 0);
}

/* Every replica ring of batch b with its rows, in an order all ranks share. */
static GPtrArray *
build_rings (Run *r, uint32_t b, uint32_t stamp)
{
  GPtrArray *rings = g_ptr_array_new ();
  g_autoptr (GHashTable) by_key = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  for (uint32_t t = 0; t < r->trace->n_tables; t++)
    {
      const RgShardTable *tab = &r->plan->tables[t];
      const RgTraceBag *bag = rg_trace_bag (r->trace, b, t);
      g_autoptr (GArray) touched = g_array_new (FALSE, FALSE, sizeof (RankRow));
      for (uint64_t j = 0; j < bag->n_ids; j++)
        {
          int64_t rank = rg_shard_table_rank (tab, bag->ids[j]);
          if (r->stamp[t][rank] == stamp)
            continue;
          r->stamp[t][rank] = stamp;
          RankRow rr = { rank, bag->ids[j] };
          g_array_append_val (touched, rr);
        }
      g_array_sort (touched, cmp_rank_row);
      for (guint k = 0; k < touched->len; k++)
        {
          RankRow *rr = &g_array_index (touched, RankRow, k);
          uint32_t first, n;
          rg_shard_table_find (tab, rr->rank, &first, &n);
          for (uint32_t si = first; si < first + n; si++)
            {
              const RgShardSegment *seg = &tab->segments[si];
              if (seg->n_groups < 2)
                continue;
              uint32_t slot = (uint32_t)((rr->rank - seg->row_begin) % seg->group_size);
              char key[48];
              g_snprintf (key, sizeof key, "%u/%u/%u", t, si, slot);
              Ring *ring = g_hash_table_lookup (by_key, key);
              if (ring == NULL)
                {
                  ring = g_new0 (Ring, 1);
                  ring->table = t;
                  ring->segment = si;
                  ring_seat (r, ring, seg, slot);
                  ring->rows = g_array_new (FALSE, FALSE, sizeof (int64_t));
                  char *k2 = g_strdup (key);
                  g_ptr_array_add (keys, k2);
                  g_hash_table_insert (by_key, k2, ring);
                  g_ptr_array_add (rings, ring);
                }
              g_array_append_val (ring->rows, rr->row);
            }
        }
    }
  return rings;
}

static void
ring_free (Ring *ring)
{
  g_array_unref (ring->rows);
  g_free (ring->buf);
  g_free (ring);
}

static uint32_t
ring_phases (const Ring *ring)
{
  uint32_t n = 0;
  for (int i = 0; i < ring->n_ops; i++)
    n += ring->ops[i].G - 1;
  return n;
}

/* The op that runs in `phase` of this ring, and its step within the op. */
static const RingOp *
ring_op_at (const Ring *ring, uint32_t phase, uint32_t *step_out)
{
  for (int i = 0; i < ring->n_ops; i++)
    {
      if (phase < ring->ops[i].G - 1)
        {
          *step_out = phase;
          return &ring->ops[i];
        }
      phase -= ring->ops[i].G - 1;
    }
  return NULL;
}

/* Chunk c of the op's range, as [*b0, *b1). */
static void
op_chunk (const Ring *ring, const RingOp *op, uint32_t c, gsize *b0, gsize *b1)
{
  gsize r0 = 0, r1 = ring->n;
  if (op->shard_q > 0)
    {
      r0 = (gsize)((uint64_t)ring->n * op->shard_j / op->shard_q);
      r1 = (gsize)((uint64_t)ring->n * (op->shard_j + 1) / op->shard_q);
    }
  *b0 = r0 + (gsize)((uint64_t)(r1 - r0) * c / op->G);
  *b1 = r0 + (gsize)((uint64_t)(r1 - r0) * (c + 1) / op->G);
}

/* All-reduce of every ring this rank sits in, all rings advancing
 * together: one alltoallv per phase. */
static gboolean
allreduce_rings (Run *r, GPtrArray *rings, GHashTable **acc, GError **error)
{
  uint32_t max_phases = 0;
  for (guint k = 0; k < rings->len; k++)
    {
      Ring *ring = g_ptr_array_index (rings, k);
      if (!ring->member)
        continue;
      max_phases = MAX (max_phases, ring_phases (ring));
      const RgShardSegment *seg = segment (r, ring->table, ring->segment);
      uint32_t cols = seg->col_end - seg->col_begin;
      ring->n = (gsize)ring->rows->len * cols;
      ring->buf = g_new0 (float, MAX (ring->n, 1));
      for (guint i = 0; i < ring->rows->len; i++)
        {
          int64_t row = g_array_index (ring->rows, int64_t, i);
          const float *g = g_hash_table_lookup (acc[ring->table], GSIZE_TO_POINTER ((gsize)row));
          if (g)
            memcpy (ring->buf + (gsize)i * cols, g + seg->col_begin, cols * sizeof (float));
        }
    }
  /* every rank must run as many phases as the busiest rank */
  g_autofree uint64_t *ph_send = g_new (uint64_t, r->W), *ph_recv = g_new (uint64_t, r->W);
  for (uint32_t p = 0; p < r->W; p++)
    ph_send[p] = max_phases;
  if (!rg_comm_alltoall_sizes (r->comm, ph_send, ph_recv, error))
    return FALSE;
  for (uint32_t p = 0; p < r->W; p++)
    max_phases = MAX (max_phases, (uint32_t)ph_recv[p]);

  GArray **send = arrays_new (r->W, 1), **recv = arrays_new (r->W, 1);
  g_autofree float *tmp = NULL;
  gsize tmp_n = 0;
  gboolean ok = TRUE;
  uint64_t before = rg_comm_bytes_sent_total (r->comm);
  for (uint32_t phase = 0; ok && phase < max_phases; phase++)
    {
      for (uint32_t p = 0; p < r->W; p++)
        g_array_set_size (send[p], 0);
      for (guint k = 0; k < rings->len; k++)
        {
          Ring *ring = g_ptr_array_index (rings, k);
          uint32_t s;
          const RingOp *op = ring->member ? ring_op_at (ring, phase, &s) : NULL;
          if (op == NULL)
            continue;
          uint32_t c = op->reduce ? (op->pos + op->G - s % op->G) % op->G
                                  : (op->pos + 1 + op->G - s % op->G) % op->G;
          gsize b0, b1;
          op_chunk (ring, op, c, &b0, &b1);
          guint at = send[op->next]->len;
          g_array_set_size (send[op->next], at + (guint)((b1 - b0) * elem_bytes (r, ring->table)));
          put_slice (r, ring->table, ring->buf + b0, (uint32_t)(b1 - b0),
                     (guint8 *)send[op->next]->data + at);
        }
      ok = exchange (r, send, recv, 1, FALSE, error);
      g_autofree gsize *at = g_new0 (gsize, r->W);
      for (guint k = 0; ok && k < rings->len; k++)
        {
          Ring *ring = g_ptr_array_index (rings, k);
          uint32_t s;
          const RingOp *op = ring->member ? ring_op_at (ring, phase, &s) : NULL;
          if (op == NULL)
            continue;
          uint32_t c
              = op->reduce ? (op->pos + 2 * op->G - s - 1) % op->G : (op->pos + op->G - s) % op->G;
          gsize b0, b1;
          op_chunk (ring, op, c, &b0, &b1);
          gsize bytes = (b1 - b0) * elem_bytes (r, ring->table);
          if (at[op->prev] + bytes > recv[op->prev]->len)
            {
              g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                           "shard run: ring message from rank %u is short", op->prev);
              ok = FALSE;
              break;
            }
          if (tmp_n < b1 - b0)
            {
              tmp_n = b1 - b0;
              tmp = g_renew (float, tmp, tmp_n);
            }
          get_slice (r, ring->table, (const guint8 *)recv[op->prev]->data + at[op->prev],
                     (uint32_t)(b1 - b0), tmp);
          at[op->prev] += bytes;
          for (gsize i = 0; i < b1 - b0; i++)
            ring->buf[b0 + i] = op->reduce ? ring->buf[b0 + i] + tmp[i] : tmp[i];
        }
    }
  r->ring_bytes += (double)(rg_comm_bytes_sent_total (r->comm) - before);
  arrays_free (send, r->W);
  arrays_free (recv, r->W);
  if (!ok)
    return FALSE;

  /* the summed gradient replaces each copy's own share */
  for (guint k = 0; k < rings->len; k++)
    {
      Ring *ring = g_ptr_array_index (rings, k);
      if (!ring->member)
        continue;
      const RgShardSegment *seg = segment (r, ring->table, ring->segment);
      uint32_t cols = seg->col_end - seg->col_begin;
      gsize dim = r->trace->tables[ring->table].dim;
      for (guint i = 0; i < ring->rows->len; i++)
        {
          int64_t row = g_array_index (ring->rows, int64_t, i);
          gpointer key = GSIZE_TO_POINTER ((gsize)row);
          float *g = g_hash_table_lookup (acc[ring->table], key);
          if (g == NULL)
            {
              g = g_new0 (float, dim);
              g_hash_table_insert (acc[ring->table], key, g);
            }
          memcpy (g + seg->col_begin, ring->buf + (gsize)i * cols, cols * sizeof (float));
        }
    }
  return TRUE;
}

static gboolean
apply (Run *r, GHashTable **acc, GError **error)
{
  for (uint32_t t = 0; t < r->trace->n_tables; t++)
    {
      guint n = g_hash_table_size (acc[t]);
      if (n == 0)
        continue;
      gsize dim = r->trace->tables[t].dim;
      g_autofree int64_t *rows = g_new (int64_t, n);
      g_autofree float *grads = g_new (float, (gsize)n *dim);
      GHashTableIter it;
      gpointer key, value;
      guint k = 0;
      g_hash_table_iter_init (&it, acc[t]);
      while (g_hash_table_iter_next (&it, &key, &value))
        {
          rows[k] = (int64_t)GPOINTER_TO_SIZE (key);
          memcpy (grads + (gsize)k * dim, value, dim * sizeof (float));
          k++;
        }
      if (!rg_embed_store_apply_gradients (r->store, r->store_id[t], rows, n, grads, error))
        return FALSE;
    }
  return TRUE;
}

/* One training step on batch b. Local failures are recorded, not returned,
 * so this rank keeps joining the collectives; a communication failure is
 * returned (the world is broken then anyway). */
static gboolean
step (Run *r, uint32_t b, uint64_t step_index, float *loss, GError **error)
{
  const uint32_t W = r->W, n_tables = r->trace->n_tables;
  g_autofree Outbox *out = g_new (Outbox, W);
  for (uint32_t p = 0; p < W; p++)
    {
      out[p].meta = g_array_new (FALSE, FALSE, sizeof (PartMeta));
      out[p].ids = g_array_new (FALSE, FALSE, sizeof (int64_t));
      out[p].refs = g_array_new (FALSE, FALSE, sizeof (PartRef));
    }
  g_autofree Mine *mine = g_new0 (Mine, n_tables);
  GArray **smeta = g_new (GArray *, W), **sids = g_new (GArray *, W);
  for (uint32_t p = 0; p < W; p++)
    {
      smeta[p] = out[p].meta;
      sids[p] = out[p].ids;
    }
  GArray **meta = arrays_new (W, sizeof (PartMeta)), **ids = arrays_new (W, sizeof (int64_t));
  GArray **resp = arrays_new (W, 1), **back = arrays_new (W, 1);
  GArray **grads = arrays_new (W, 1), **recv_grads = arrays_new (W, 1);
  GHashTable **acc = g_new (GHashTable *, n_tables);
  for (uint32_t t = 0; t < n_tables; t++)
    acc[t] = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  GPtrArray *rings = NULL;
  GError *local = NULL;
  gboolean ok;

  build_requests (r, b, mine, out);
  ok = exchange (r, smeta, meta, sizeof (PartMeta), TRUE, error)
       && exchange (r, sids, ids, sizeof (int64_t), FALSE, error);
  for (uint32_t p = 0; ok && p < W && r->local_error == NULL; p++)
    if (!check_meta (r, p, meta[p], ids[p], &local))
      fail_local (r, local);
  if (ok && r->local_error == NULL)
    {
      if (!serve (r, meta, ids, resp, &local))
        fail_local (r, local);
    }
  if (r->local_error != NULL)
    {
      /* keep the exchange well-formed: zero slices of the promised sizes */
      for (uint32_t p = 0; p < W; p++)
        {
          gsize bytes = 0;
          for (guint k = 0; k < meta[p]->len; k++)
            {
              PartMeta *m = &g_array_index (meta[p], PartMeta, k);
              bytes += m->table < n_tables && m->segment < r->plan->tables[m->table].n_segments
                           ? width (r, m->table, m->segment)
                           : 0;
            }
          g_array_set_size (resp[p], 0);
          g_array_set_size (resp[p], (guint)bytes);
          memset (resp[p]->data, 0, bytes);
        }
    }
  ok = ok && exchange (r, resp, back, 1, FALSE, error);
  gboolean sizes_ok = TRUE;
  for (uint32_t p = 0; ok && p < W; p++)
    {
      gsize want = 0;
      for (guint k = 0; k < out[p].refs->len; k++)
        {
          PartRef *ref = &g_array_index (out[p].refs, PartRef, k);
          want += width (r, ref->table, ref->segment);
        }
      sizes_ok = sizes_ok && want == back[p]->len;
    }
  if (ok && !sizes_ok)
    fail_local (r, g_error_new (RG_ERROR, RG_ERROR_CORRUPT,
                                "shard run: a rank answered with the wrong number of bytes"));
  if (ok)
    {
      if (sizes_ok)
        assemble (r, mine, out, back);
      else
        for (uint32_t t = 0; t < n_tables; t++)
          {
            gsize n = MAX (mine[t].n_ids, mine[t].i1 - mine[t].i0) + 1;
            mine[t].emb = g_new0 (float, n * r->trace->tables[t].dim);
            mine[t].grad = g_new0 (float, n * r->trace->tables[t].dim);
          }
      *loss = compute (r, b, step_index, mine);
      gradients_out (r, mine, out, grads);
    }
  ok = ok && exchange (r, grads, recv_grads, 1, FALSE, error);
  if (ok)
    {
      gboolean grads_ok = TRUE;
      for (uint32_t p = 0; p < W; p++)
        grads_ok = grads_ok && recv_grads[p]->len == resp[p]->len;
      if (grads_ok && r->local_error == NULL)
        accumulate (r, meta, ids, recv_grads, acc);
      else if (!grads_ok)
        fail_local (r, g_error_new (RG_ERROR, RG_ERROR_CORRUPT,
                                    "shard run: a rank sent the wrong number of gradient bytes"));
      rings = build_rings (r, b, (uint32_t)step_index + 1);
      ok = allreduce_rings (r, rings, acc, error);
    }
  if (ok && r->local_error == NULL && !apply (r, acc, &local))
    fail_local (r, local);

  for (uint32_t t = 0; t < n_tables; t++)
    {
      g_free (mine[t].emb);
      g_free (mine[t].grad);
      g_hash_table_unref (acc[t]);
    }
  g_free (acc);
  if (rings)
    {
      for (guint k = 0; k < rings->len; k++)
        ring_free (g_ptr_array_index (rings, k));
      g_ptr_array_unref (rings);
    }
  for (uint32_t p = 0; p < W; p++)
    {
      g_array_unref (out[p].meta);
      g_array_unref (out[p].ids);
      g_array_unref (out[p].refs);
    }
  g_free (smeta);
  g_free (sids);
  arrays_free (meta, W);
  arrays_free (ids, W);
  arrays_free (resp, W);
  arrays_free (back, W);
  arrays_free (grads, W);
  arrays_free (recv_grads, W);
  return ok;
}

/* Every rank learns whether any failed; control bytes. */
static gboolean
agree (Run *r, GError **error)
{
  g_autofree uint64_t *mine = g_new (uint64_t, r->W), *theirs = g_new (uint64_t, r->W);
  for (uint32_t p = 0; p < r->W; p++)
    mine[p] = r->local_error != NULL;
  if (!rg_comm_alltoall_sizes (r->comm, mine, theirs, error))
    return FALSE;
  if (r->local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&r->local_error),
                                  "shard run, rank %u: ", r->me);
      return FALSE;
    }
  for (uint32_t p = 0; p < r->W; p++)
    if (theirs[p])
      {
        g_set_error (error, RG_ERROR, RG_ERROR_FAILED,
                     "shard run: rank %u failed (its own error says why)", p);
        return FALSE;
      }
  return TRUE;
}

static gboolean
check_config (RgComm *comm, const RgShardRunConfig *cfg, GError **error)
{
  if (cfg->plan == NULL || cfg->trace == NULL || cfg->work_dir == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "shard run: a plan, a trace and a work directory are required");
      return FALSE;
    }
  uint32_t W = rg_topology_world (&cfg->plan->topo);
  if ((uint32_t)rg_comm_size (comm) != W)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "shard run: plan “%s” is for %u devices but %d ranks are running "
                   "(launch with mpirun -np %u)",
                   cfg->plan->scheme, W, rg_comm_size (comm), W);
      return FALSE;
    }
  if (cfg->n_batches < 1 || cfg->first_batch >= cfg->trace->n_batches
      || cfg->n_batches > cfg->trace->n_batches - cfg->first_batch)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "shard run: batches [%u, %u) are not inside the trace's %u", cfg->first_batch,
                   cfg->first_batch + cfg->n_batches, cfg->trace->n_batches);
      return FALSE;
    }
  for (uint32_t t = 0; t < cfg->trace->n_tables; t++)
    if (cfg->trace->tables[t].dim > RG_EMBED_STORE_MAX_DIM)
      {
        g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "shard run: table %u is too wide", t);
        return FALSE;
      }
  return rg_shard_plan_validate (cfg->plan, error)
         && rg_shard_plan_check_tables (cfg->plan, cfg->trace->tables, cfg->trace->n_tables, error);
}

/* One row of numbers per rank, gathered after the counters are read (the
 * gather's own bytes are not part of the run). */
static RgShardRunResult *
collect (Run *r, const double *times, const double *losses, const double *comm_times,
         GError **error)
{
  const uint32_t W = r->W, S = r->cfg->n_batches;
  RgComm *comm = r->comm;
  gsize row_len = W + 4 + 3 * (gsize)S;
  g_autofree double *row = g_new0 (double, row_len);
  g_autofree double *all = g_new0 (double, row_len *W);
  for (uint32_t p = 0; p < W; p++)
    row[p] = (double)rg_comm_bytes_sent (comm, (int)p);
  row[W] = (double)comm->control_sent;
  row[W + 1] = r->ring_bytes;
  row[W + 2] = r->lookups_local;
  row[W + 3] = r->lookups_remote;
  memcpy (row + W + 4, times, S * sizeof (double));
  memcpy (row + W + 4 + S, losses, S * sizeof (double));
  memcpy (row + W + 4 + 2 * S, comm_times, S * sizeof (double));
  if (!rg_comm_allgather (comm, row, row_len * sizeof (double), all, error))
    return NULL;

  RgShardRunResult *res = g_new0 (RgShardRunResult, 1);
  res->world = W;
  res->n_steps = S;
  res->traffic = g_new0 (double, (gsize)W *W);
  double min_step = INFINITY, sum_step = 0;
  for (uint32_t d = 0; d < W; d++)
    {
      const double *rd = all + d * row_len;
      for (uint32_t e = 0; e < W; e++)
        {
          res->traffic[d * W + e] = rd[e] / S;
          res->bytes_total += rd[e] / S;
        }
      res->control_bytes += rd[W] / S;
      res->bytes_allreduce += rd[W + 1] / S;
      res->lookups_local += rd[W + 2] / S;
      res->lookups_remote += rd[W + 3] / S;
    }
  for (uint32_t s = 0; s < S; s++)
    {
      double slowest = 0, loss = 0, comm_slowest = 0;
      for (uint32_t d = 0; d < W; d++)
        {
          slowest = MAX (slowest, all[d * row_len + W + 4 + s]);
          loss += all[d * row_len + W + 4 + S + s] / W;
          comm_slowest = MAX (comm_slowest, all[d * row_len + W + 4 + 2 * S + s]);
        }
      res->comm_time += comm_slowest / S;
      sum_step += slowest;
      min_step = MIN (min_step, slowest);
      if (s == 0)
        res->loss_first = (float)loss;
      if (s == S - 1)
        res->loss_last = (float)loss;
    }
  res->step_time = sum_step / S;
  res->step_time_min = min_step;
  return res;
}

RgShardRunResult *
rg_shard_run (RgComm *comm, const RgShardRunConfig *config, GError **error)
{
  /* every rank checks the same inputs, so every rank refuses together */
  if (!check_config (comm, config, error))
    return NULL;
  Run r = {
    .comm = comm,
    .cfg = config,
    .plan = config->plan,
    .trace = config->trace,
    .W = (uint32_t)rg_comm_size (comm),
    .me = (uint32_t)rg_comm_rank (comm),
  };
  GError *local = NULL;
  if (!setup_store (&r, &local))
    fail_local (&r, local);
  RgShardRunResult *res = NULL;
  const uint32_t S = config->n_batches;
  g_autofree double *times = g_new0 (double, S);
  g_autofree double *losses = g_new0 (double, S);
  g_autofree double *comm_times = g_new0 (double, S);
  if (!agree (&r, error) || !rg_comm_barrier (comm, error))
    goto out;

  rg_comm_reset_counters (comm);
  for (uint32_t s = 0; s < S; s++)
    {
      float loss = 0;
      gint64 t0 = g_get_monotonic_time ();
      r.comm_seconds = 0;
      if (!step (&r, config->first_batch + s, s, &loss, error) || !agree (&r, error))
        goto out;
      times[s] = (double)(g_get_monotonic_time () - t0) / 1e6;
      losses[s] = loss;
      comm_times[s] = r.comm_seconds;
    }
  res = collect (&r, times, losses, comm_times, error);

out:
  g_clear_error (&r.local_error);
  if (r.store && !rg_embed_store_close (r.store, res ? error : NULL) && res)
    g_clear_pointer (&res, rg_shard_run_result_free);
  if (r.models)
    for (uint32_t t = 0; t < r.trace->n_tables; t++)
      rg_sasrec_free (r.models[t]);
  if (r.stamp)
    for (uint32_t t = 0; t < r.trace->n_tables; t++)
      g_free (r.stamp[t]);
  g_free (r.models);
  g_free (r.stamp);
  g_free (r.store_id);
  return res;
}
