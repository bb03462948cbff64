/* rg-shard-sim.c — the trace-driven simulator (model documented in rg-shard-sim.h). */
#include "embed/rg-shard-sim.h"

#include <stdlib.h>

#include "core/rg-error.h"
#include "embed/rg-embed-cache.h"

#define GiB (1024.0 * 1024.0 * 1024.0)

void
rg_shard_cost_defaults (RgShardCost *cost)
{
  cost->fast_bw = 897.0 * GiB;
  cost->slow_bw = 51.0 * GiB;
  cost->intra_bw = 600.0 * GiB;
  cost->inter_bw = 12.5 * GiB;
  cost->collective_latency = 10e-6;
  cost->id_bytes = 8.0;
  cost->update_factor = 2.0;
}

typedef struct {
  uint32_t owner;
  uint32_t segment;
} PoolPart;

typedef struct {
  const RgShardPlan *plan;
  const RgTrace     *trace;
  const RgShardCost *cost;
  uint32_t           world;
  RgShardSimResult  *res;
  uint32_t         **stamp;  /* per table, per ranked row: last step that touched it */
  RgEmbedCache     **caches; /* per device, or NULL */
  PoolPart          *parts;  /* one pooled sample's (owner, segment) pairs */
  uint32_t           n_parts, cap_parts;
  uint32_t          *ring;
} Sim;

static inline void
send (Sim *s, uint32_t src, uint32_t dst, double bytes)
{
  s->res->traffic[(gsize) src * s->world + dst] += bytes;
}

/* An all-to-all payload: counted in the matrix and in the a2a totals. */
static inline void
send_a2a (Sim *s, uint32_t src, uint32_t dst, double bytes)
{
  send (s, src, dst, bytes);
  s->res->bytes_a2a += bytes;
  if (rg_topology_node (&s->plan->topo, src) != rg_topology_node (&s->plan->topo, dst))
    s->res->bytes_a2a_inter += bytes;
}

static int
cmp_u32 (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
  return (x > y) - (x < y);
}

/* A row's first touch in a step: every copy applies the update once, and
 * copies exchange gradients by an all-reduce (rg-shard-sim.h). */
static void
update_row (Sim *s, uint32_t t, const RgShardSegment *seg, int64_t rank, double width)
{
  uint32_t slot = (uint32_t) ((rank - seg->row_begin) % seg->group_size);
  uint32_t G = seg->n_groups;
  for (uint32_t g = 0; g < G; g++)
    {
      uint32_t p = seg->devices[g * seg->group_size + slot];
      gboolean fast = seg->tier == RG_TIER_FAST
                      || (s->caches && rg_embed_cache_contains (s->caches[p], t, rank));
      s->res->device_load[p]
          += s->cost->update_factor * width / (fast ? s->cost->fast_bw : s->cost->slow_bw);
      s->ring[g] = p;
    }
  if (G < 2)
    return;
  qsort (s->ring, G, sizeof (uint32_t), cmp_u32);

  /* Copies per node: hierarchical when every node holding one holds the
   * same number q, else one flat ring. */
  uint32_t nodes, q;
  gboolean even = rg_shard_ring_layout (&s->plan->topo, s->ring, G, &nodes, &q);
  double sent = 0;
  if (!even)
    {
      double each = 2.0 * (G - 1) / G * width;
      for (uint32_t g = 0; g < G; g++)
        send (s, s->ring[g], s->ring[(g + 1) % G], each);
      sent = each * G;
    }
  else
    {
      /* Reduce-scatter and all-gather inside each node (a ring of q), and
       * an all-reduce of each 1/q shard across the nodes (a ring of the
       * j-th copies), as NCCL's hierarchical algorithms do. */
      for (uint32_t n = 0; n < nodes; n++)
        for (uint32_t j = 0; j < q; j++)
          {
            uint32_t me = s->ring[n * q + j];
            double   intra = 2.0 * (q - 1) / q * width;
            double   inter = 2.0 * (nodes - 1) / nodes * width / q;
            if (q > 1)
              send (s, me, s->ring[n * q + (j + 1) % q], intra);
            if (nodes > 1)
              send (s, me, s->ring[((n + 1) % nodes) * q + j], inter);
            sent += (q > 1 ? intra : 0) + (nodes > 1 ? inter : 0);
          }
    }
  s->res->bytes_allreduce += sent;
}

static void
add_part (Sim *s, uint32_t owner, uint32_t segment)
{
  for (uint32_t i = 0; i < s->n_parts; i++)
    if (s->parts[i].owner == owner && s->parts[i].segment == segment)
      return;
  if (s->n_parts == s->cap_parts)
    {
      s->cap_parts = MAX (16u, 2 * s->cap_parts);
      s->parts = g_renew (PoolPart, s->parts, s->cap_parts);
    }
  s->parts[s->n_parts++] = (PoolPart) { owner, segment };
}

static void
simulate_bag (Sim *s, uint32_t step_stamp, uint32_t t, const RgTraceBag *bag)
{
  const RgShardTable *tab = &s->plan->tables[t];
  gboolean            pooled = s->trace->tables[t].kind == RG_TABLE_POOLED;
  uint32_t            B = s->trace->batch_size;
  RgShardSimResult   *res = s->res;

  for (uint32_t i = 0; i < B; i++)
    {
      uint32_t d = (uint32_t) ((uint64_t) i * s->world / B);
      s->n_parts = 0;
      for (uint32_t j = bag->offsets[i]; j < bag->offsets[i + 1]; j++)
        {
          int64_t  rank = rg_shard_table_rank (tab, bag->ids[j]);
          uint32_t first, n;
          rg_shard_table_find (tab, rank, &first, &n);
          gboolean first_touch = s->stamp[t][rank] != step_stamp;
          s->stamp[t][rank] = step_stamp;
          for (uint32_t si = first; si < first + n; si++)
            {
              const RgShardSegment *seg = &tab->segments[si];
              double   width = (double) (seg->col_end - seg->col_begin) * tab->elem_bytes;
              uint32_t o = rg_shard_segment_owner (&s->plan->topo, seg, rank, d);
              gboolean fast = seg->tier == RG_TIER_FAST;
              res->lookups++;
              if (o == d)
                res->local_lookups++;
              if (!fast && s->caches && rg_embed_cache_access (s->caches[o], t, rank))
                {
                  res->cache_hits++;
                  fast = TRUE;
                }
              if (!fast)
                res->slow_accesses++;
              res->device_load[o] += width / (fast ? s->cost->fast_bw : s->cost->slow_bw);
              if (o != d)
                {
                  send_a2a (s, d, o, s->cost->id_bytes);
                  if (pooled)
                    add_part (s, o, si);
                  else
                    {
                      send_a2a (s, o, d, width); /* embedding */
                      send_a2a (s, d, o, width); /* gradient */
                    }
                }
              if (first_touch)
                update_row (s, t, seg, rank, width);
            }
        }
      /* Pooled: one partial sum per (owner, slice) forward, one gradient back. */
      for (uint32_t k = 0; k < s->n_parts; k++)
        {
          const RgShardSegment *seg = &tab->segments[s->parts[k].segment];
          double width = (double) (seg->col_end - seg->col_begin) * tab->elem_bytes;
          send_a2a (s, s->parts[k].owner, d, width);
          send_a2a (s, d, s->parts[k].owner, width);
        }
    }
}

static void
finish (Sim *s)
{
  RgShardSimResult *res = s->res;
  uint32_t          W = s->world;
  double            inv = 1.0 / res->n_steps;
  const RgTopology *topo = &s->plan->topo;

  for (gsize k = 0; k < (gsize) W * W; k++)
    res->traffic[k] *= inv;
  for (uint32_t d = 0; d < W; d++)
    res->device_load[d] *= inv;
  res->bytes_a2a *= inv;
  res->bytes_a2a_inter *= inv;
  res->bytes_allreduce *= inv;
  res->lookups *= inv;
  res->local_lookups *= inv;
  res->slow_accesses *= inv;
  res->cache_hits *= inv;

  double worst = 0.0;
  for (uint32_t d = 0; d < W; d++)
    {
      double io = 0, ii = 0, eo = 0, ei = 0;
      for (uint32_t e = 0; e < W; e++)
        {
          gboolean same = rg_topology_node (topo, d) == rg_topology_node (topo, e);
          double   out = res->traffic[(gsize) d * W + e], in = res->traffic[(gsize) e * W + d];
          if (same)
            {
              io += out;
              ii += in;
              res->bytes_intra += out;
            }
          else
            {
              eo += out;
              ei += in;
              res->bytes_inter += out;
            }
        }
      double t = MAX (MAX (io, ii) / s->cost->intra_bw, MAX (eo, ei) / s->cost->inter_bw);
      worst = MAX (worst, t);
      res->load_max = MAX (res->load_max, res->device_load[d]);
      res->load_mean += res->device_load[d] / W;
    }
  int phases = (res->bytes_a2a > 0 ? 2 : 0) + (res->bytes_allreduce > 0 ? 1 : 0);
  res->comm_time = worst + phases * s->cost->collective_latency;
  res->load_imbalance = res->load_mean > 0 ? res->load_max / res->load_mean : 1.0;
  res->mem_time = res->load_max;
  res->step_time = res->mem_time + res->comm_time;
  res->throughput = res->step_time > 0 ? res->batch_size / res->step_time : 0.0;
}

RgShardSimResult *
rg_shard_simulate (const RgShardPlan *plan, const RgTrace *trace, uint32_t first_batch,
                   uint32_t n_batches, const RgShardCost *cost, GError **error)
{
  if (!rg_shard_plan_check_tables (plan, trace->tables, trace->n_tables, error))
    return NULL;
  if (n_batches < 1 || first_batch >= trace->n_batches
      || n_batches > trace->n_batches - first_batch)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "simulate: batches [%u, %u) are not inside the trace's %u", first_batch,
                   first_batch + n_batches, trace->n_batches);
      return NULL;
    }
  for (uint32_t t = 0; t < plan->n_tables; t++)
    if (plan->tables[t].n_segments == 0)
      {
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "simulate: plan \"%s\" places nothing of table %u", plan->scheme, t);
        return NULL;
      }

  uint32_t W = rg_topology_world (&plan->topo);
  Sim      s = { plan, trace, cost, W, NULL, NULL, NULL, NULL, 0, 0, NULL };
  if (plan->cache != RG_SHARD_CACHE_NONE)
    {
      s.caches = g_new0 (RgEmbedCache *, W);
      for (uint32_t d = 0; d < W; d++)
        {
          s.caches[d] = rg_embed_cache_new (plan->cache == RG_SHARD_CACHE_LRU ? RG_EMBED_CACHE_LRU
                                                                              : RG_EMBED_CACHE_LFU,
                                            plan->cache_rows, 0, error);
          if (!s.caches[d])
            {
              for (uint32_t e = 0; e < d; e++)
                rg_embed_cache_free (s.caches[e]);
              g_free (s.caches);
              return NULL;
            }
        }
    }

  RgShardSimResult *res = g_new0 (RgShardSimResult, 1);
  res->world = W;
  res->n_steps = n_batches;
  res->batch_size = trace->batch_size;
  res->traffic = g_new0 (double, (gsize) W * W);
  res->device_load = g_new0 (double, W);
  s.res = res;
  s.ring = g_new (uint32_t, W * (gsize) W);
  s.stamp = g_new (uint32_t *, trace->n_tables);
  for (uint32_t t = 0; t < trace->n_tables; t++)
    s.stamp[t] = g_new0 (uint32_t, trace->tables[t].rows);

  /* Caches start warm: they see every batch before the measured ones
   * (the measurement is then reset), as a long-running job's would. */
  if (s.caches && first_batch > 0)
    {
      for (uint32_t b = 0; b < first_batch; b++)
        for (uint32_t t = 0; t < trace->n_tables; t++)
          simulate_bag (&s, b + 1, t, rg_trace_bag (trace, b, t));
      RgShardSimResult *warm = res;
      res = g_new0 (RgShardSimResult, 1);
      res->world = W;
      res->n_steps = n_batches;
      res->batch_size = trace->batch_size;
      res->traffic = g_new0 (double, (gsize) W * W);
      res->device_load = g_new0 (double, W);
      s.res = res;
      rg_shard_sim_result_free (warm);
    }
  for (uint32_t b = 0; b < n_batches; b++)
    for (uint32_t t = 0; t < trace->n_tables; t++)
      simulate_bag (&s, first_batch + b + 1, t, rg_trace_bag (trace, first_batch + b, t));
  finish (&s);

  for (uint32_t t = 0; t < trace->n_tables; t++)
    g_free (s.stamp[t]);
  g_free (s.stamp);
  g_free (s.ring);
  g_free (s.parts);
  if (s.caches)
    {
      for (uint32_t d = 0; d < W; d++)
        rg_embed_cache_free (s.caches[d]);
      g_free (s.caches);
    }
  return res;
}

void
rg_shard_sim_result_free (RgShardSimResult *result)
{
  if (!result)
    return;
  g_free (result->traffic);
  g_free (result->device_load);
  g_free (result);
}
