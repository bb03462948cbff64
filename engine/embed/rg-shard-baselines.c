/* rg-shard-baselines.c — the schemes RecShard and FlexShard are measured against. */
#include "embed/rg-shard-planner.h"

#include <stdlib.h>
#include <string.h>

#include "core/rg-error.h"
#include "embed/rg-embed-cache.h"

/* TorchRec's column-wise shards are at least this wide (DEFAULT_CW_DIM). */
#define CW_DIM 32

static uint64_t
spec_bytes (const RgTableSpec *t)
{
  return (uint64_t) t->rows * rg_table_row_bytes (t);
}

typedef struct {
  uint32_t table;
  double   key;
} Keyed;

static int
cmp_keyed_desc (const void *a, const void *b)
{
  const Keyed *x = a, *y = b;
  if (x->key != y->key)
    return x->key > y->key ? -1 : 1;
  return (x->table > y->table) - (x->table < y->table);
}

static uint32_t
least (const double *v, uint32_t n)
{
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; i++)
    if (v[i] < v[best])
      best = i;
  return best;
}

/* ---- whole-table greedy ---- */

RgShardPlan *
rg_shard_plan_greedy (RgGreedyMetric metric, const RgProfile *profile, const RgTableSpec *tables,
                      const RgTopology *topo, GError **error)
{
  static const char *names[] = { "greedy-size", "greedy-lookup", "greedy-size-lookup" };
  if (!rg_topology_validate (topo, error))
    return NULL;
  uint32_t           W = rg_topology_world (topo), T = profile->n_tables;
  g_autofree Keyed  *order = g_new (Keyed, T);
  g_autofree double *acc = g_new0 (double, W);
  g_autofree uint64_t *fast = g_new0 (uint64_t, W);
  g_autofree uint64_t *slow = g_new0 (uint64_t, W);
  for (uint32_t t = 0; t < T; t++)
    {
      double size = (double) spec_bytes (&tables[t]);
      double look = (double) profile->tables[t].accesses;
      order[t].table = t;
      order[t].key = metric == RG_GREEDY_SIZE ? size : metric == RG_GREEDY_LOOKUP ? look : size * look;
    }
  qsort (order, T, sizeof (Keyed), cmp_keyed_desc);

  g_autoptr (RgShardPlan) plan = rg_shard_plan_new (names[metric], topo, tables, T);
  for (uint32_t i = 0; i < T; i++)
    {
      uint32_t t = order[i].table;
      uint64_t bytes = spec_bytes (&tables[t]);
      /* The device with the least accumulated metric that can take the
       * table whole in either tier. */
      int best = -1;
      for (uint32_t d = 0; d < W; d++)
        {
          gboolean ok = fast[d] + bytes <= topo->fast_bytes || slow[d] + bytes <= topo->slow_bytes;
          if (ok && (best < 0 || acc[d] < acc[best]))
            best = (int) d;
        }
      if (best < 0)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                       "%s: table %u (%" G_GUINT64_FORMAT " bytes) fits whole on no device",
                       names[metric], t, bytes);
          return NULL;
        }
      uint32_t d = (uint32_t) best;
      RgTier   tier = fast[d] + bytes <= topo->fast_bytes ? RG_TIER_FAST : RG_TIER_SLOW;
      (tier == RG_TIER_FAST ? fast : slow)[d] += bytes;
      acc[d] += order[i].key;
      rg_shard_plan_add (plan, t, 0, tables[t].rows, 0, tables[t].dim, tier, 1, 1, &d);
    }
  return g_steal_pointer (&plan);
}

/* ---- TorchRec's classic schemes ---- */

/* Marks whole segments slow, coldest per byte first, until every device's
 * fast tier fits. Without a profile the largest go first. */
static void
spill (RgShardPlan *plan, const RgProfile *profile)
{
  uint32_t             W = rg_topology_world (&plan->topo);
  g_autofree uint64_t *fast = g_new0 (uint64_t, W);
  for (;;)
    {
      rg_shard_plan_device_bytes (plan, fast, NULL);
      int over = -1;
      for (uint32_t d = 0; d < W && over < 0; d++)
        if (fast[d] > plan->topo.fast_bytes)
          over = (int) d;
      if (over < 0)
        return;
      RgShardSegment *pick = NULL;
      double          pick_key = 0;
      for (uint32_t t = 0; t < plan->n_tables; t++)
        for (uint32_t s = 0; s < plan->tables[t].n_segments; s++)
          {
            RgShardSegment *seg = &plan->tables[t].segments[s];
            gboolean        on = FALSE;
            for (uint32_t k = 0; k < seg->n_groups * seg->group_size; k++)
              on = on || seg->devices[k] == (uint32_t) over;
            if (!on || seg->tier != RG_TIER_FAST)
              continue;
            double bytes = (double) (seg->row_end - seg->row_begin)
                           * (seg->col_end - seg->col_begin) * plan->tables[t].elem_bytes;
            double key = profile ? (double) profile->tables[t].accesses / bytes : -bytes;
            if (!pick || key < pick_key)
              {
                pick = seg;
                pick_key = key;
              }
          }
      if (!pick)
        return; /* nothing left to spill: check_fit will say so */
      pick->tier = RG_TIER_SLOW;
    }
}

RgShardPlan *
rg_shard_plan_classic (const char *scheme, const RgProfile *profile, const RgTableSpec *tables,
                       uint32_t n_tables, const RgTopology *topo, GError **error)
{
  if (!rg_topology_validate (topo, error))
    return NULL;
  uint32_t             W = rg_topology_world (topo), dpn = topo->devices_per_node;
  g_autofree uint32_t *all = g_new (uint32_t, W);
  g_autofree double   *bytes = g_new0 (double, W);
  g_autofree Keyed    *order = g_new (Keyed, n_tables);
  for (uint32_t d = 0; d < W; d++)
    all[d] = d;
  for (uint32_t t = 0; t < n_tables; t++)
    order[t] = (Keyed) { t, (double) spec_bytes (&tables[t]) };
  qsort (order, n_tables, sizeof (Keyed), cmp_keyed_desc);

  g_autoptr (RgShardPlan) plan = rg_shard_plan_new (scheme, topo, tables, n_tables);
  for (uint32_t i = 0; i < n_tables; i++)
    {
      uint32_t           t = order[i].table;
      const RgTableSpec *s = &tables[t];
      if (strcmp (scheme, "table-wise") == 0)
        {
          uint32_t d = least (bytes, W);
          bytes[d] += order[i].key;
          rg_shard_plan_add (plan, t, 0, s->rows, 0, s->dim, RG_TIER_FAST, 1, 1, &d);
        }
      else if (strcmp (scheme, "row-wise") == 0)
        rg_shard_plan_add (plan, t, 0, s->rows, 0, s->dim, RG_TIER_FAST, 1, W, all);
      else if (strcmp (scheme, "table-row-wise") == 0)
        {
          /* The node with the fewest bytes so far; rows dealt over its devices. */
          uint32_t best = 0;
          for (uint32_t n = 1; n < topo->n_nodes; n++)
            if (bytes[n * dpn] < bytes[best * dpn])
              best = n;
          for (uint32_t k = 0; k < dpn; k++)
            bytes[best * dpn + k] += order[i].key / dpn;
          rg_shard_plan_add (plan, t, 0, s->rows, 0, s->dim, RG_TIER_FAST, 1, dpn,
                             all + best * dpn);
        }
      else if (strcmp (scheme, "column-wise") == 0)
        {
          uint32_t k = CLAMP (s->dim / CW_DIM, 1u, W);
          for (uint32_t c = 0; c < k; c++)
            {
              uint32_t c0 = s->dim * c / k, c1 = s->dim * (c + 1) / k;
              uint32_t d = least (bytes, W);
              bytes[d] += order[i].key * (c1 - c0) / s->dim;
              rg_shard_plan_add (plan, t, 0, s->rows, c0, c1, RG_TIER_FAST, 1, 1, &d);
            }
        }
      else if (strcmp (scheme, "data-parallel") == 0)
        rg_shard_plan_add (plan, t, 0, s->rows, 0, s->dim, RG_TIER_FAST, W, 1, all);
      else
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "unknown sharding scheme \"%s\"", scheme);
          return NULL;
        }
    }
  spill (plan, profile);
  return g_steal_pointer (&plan);
}

/* ---- caches ---- */

RgShardPlan *
rg_shard_plan_cache (RgShardCacheKind kind, const RgTableSpec *tables, uint32_t n_tables,
                     const RgTopology *topo, GError **error)
{
  if (!rg_topology_validate (topo, error))
    return NULL;
  uint32_t             W = rg_topology_world (topo);
  g_autofree uint32_t *all = g_new (uint32_t, W);
  uint64_t             widest = 0;
  for (uint32_t d = 0; d < W; d++)
    all[d] = d;
  for (uint32_t t = 0; t < n_tables; t++)
    widest = MAX (widest, rg_table_row_bytes (&tables[t]));
  int64_t rows = (int64_t) (topo->fast_bytes / MAX (widest, 1));
  if (rows < RG_EMBED_CACHE_WAYS)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                   "%s cache: %" G_GUINT64_FORMAT " fast bytes per device hold %" G_GINT64_FORMAT
                   " rows, less than one 32-way set",
                   kind == RG_SHARD_CACHE_LRU ? "lru" : "lfu", topo->fast_bytes, rows);
      return NULL;
    }
  RgShardPlan *plan = rg_shard_plan_new (kind == RG_SHARD_CACHE_LRU ? "lru" : "lfu", topo, tables,
                                         n_tables);
  /* Whole sets only, so the cache never exceeds the fast tier. */
  plan->cache = kind;
  plan->cache_rows = rows / RG_EMBED_CACHE_WAYS * RG_EMBED_CACHE_WAYS;
  for (uint32_t t = 0; t < n_tables; t++)
    rg_shard_plan_add (plan, t, 0, tables[t].rows, 0, tables[t].dim, RG_TIER_SLOW, 1, W, all);
  return plan;
}
