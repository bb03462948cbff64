/* rg-shard-plan.c — plan structure, validation, memory accounting, lookup rule. */
#include "embed/rg-shard-plan.h"

#include <string.h>

#include "core/rg-error.h"

const char *
rg_tier_name (RgTier tier)
{
  return tier == RG_TIER_FAST ? "fast" : "slow";
}

gboolean
rg_topology_validate (const RgTopology *topo, GError **error)
{
  if (topo->n_nodes < 1 || topo->devices_per_node < 1
      || (uint64_t) topo->n_nodes * topo->devices_per_node > RG_SHARD_MAX_DEVICES)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "topology: %u nodes × %u devices is outside 1..%u devices", topo->n_nodes,
                   topo->devices_per_node, RG_SHARD_MAX_DEVICES);
      return FALSE;
    }
  return TRUE;
}

RgShardPlan *
rg_shard_plan_new (const char *scheme, const RgTopology *topo, const RgTableSpec *tables,
                   uint32_t n_tables)
{
  RgShardPlan *plan = g_new0 (RgShardPlan, 1);
  plan->scheme = g_strdup (scheme);
  plan->topo = *topo;
  plan->n_tables = n_tables;
  plan->tables = g_new0 (RgShardTable, n_tables ? n_tables : 1);
  for (uint32_t t = 0; t < n_tables; t++)
    {
      plan->tables[t].rows = tables[t].rows;
      plan->tables[t].dim = tables[t].dim;
      plan->tables[t].elem_bytes = tables[t].elem_bytes;
    }
  return plan;
}

void
rg_shard_plan_free (RgShardPlan *plan)
{
  if (!plan)
    return;
  for (uint32_t t = 0; t < plan->n_tables; t++)
    {
      RgShardTable *tab = &plan->tables[t];
      for (uint32_t s = 0; s < tab->n_segments; s++)
        g_free (tab->segments[s].devices);
      g_free (tab->segments);
      g_free (tab->rank);
    }
  g_free (plan->tables);
  g_free (plan->scheme);
  g_free (plan);
}

void
rg_shard_plan_add (RgShardPlan *plan, uint32_t t, int64_t row_begin, int64_t row_end,
                   uint32_t col_begin, uint32_t col_end, RgTier tier, uint32_t n_groups,
                   uint32_t group_size, const uint32_t *devices)
{
  RgShardTable *tab = &plan->tables[t];
  tab->segments = g_renew (RgShardSegment, tab->segments, tab->n_segments + 1);
  RgShardSegment *seg = &tab->segments[tab->n_segments++];
  seg->row_begin = row_begin;
  seg->row_end = row_end;
  seg->col_begin = col_begin;
  seg->col_end = col_end;
  seg->tier = tier;
  seg->n_groups = n_groups;
  seg->group_size = group_size;
  seg->devices = g_memdup2 (devices, sizeof (uint32_t) * (gsize) n_groups * group_size);
}

void
rg_shard_plan_set_rank (RgShardPlan *plan, uint32_t t, int64_t *rank)
{
  g_free (plan->tables[t].rank);
  plan->tables[t].rank = rank;
}

static gboolean
validate_table (const RgShardPlan *plan, uint32_t t, GError **error)
{
  const RgShardTable *tab = &plan->tables[t];
  uint32_t            world = rg_topology_world (&plan->topo);
  int64_t             cur = 0;
  uint32_t            s = 0;

  if (tab->rows < 1 || tab->rows > RG_TRACE_MAX_ROWS || tab->dim < 1
      || (tab->elem_bytes != 2 && tab->elem_bytes != 4))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "plan table %u: bad shape (%" G_GINT64_FORMAT " rows, dim %u, %u-byte elements)",
                   t, tab->rows, tab->dim, tab->elem_bytes);
      return FALSE;
    }
  for (uint32_t i = 0; i < tab->n_segments; i++)
    {
      const RgShardSegment *seg = &tab->segments[i];
      if (seg->n_groups < 1 || seg->group_size < 1
          || (uint64_t) seg->n_groups * seg->group_size > (uint64_t) world * world)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "plan table %u segment %u: %u groups of %u devices", t, i, seg->n_groups,
                       seg->group_size);
          return FALSE;
        }
      for (uint32_t k = 0; k < seg->n_groups * seg->group_size; k++)
        if (seg->devices[k] >= world)
          {
            g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                         "plan table %u segment %u: device %u does not exist (world of %u)", t,
                         i, seg->devices[k], world);
            return FALSE;
          }
      if (seg->tier != RG_TIER_FAST && seg->tier != RG_TIER_SLOW)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "plan table %u segment %u: bad tier",
                       t, i);
          return FALSE;
        }
    }
  /* Tiling: contiguous row ranges, each split into contiguous columns. */
  while (s < tab->n_segments)
    {
      const RgShardSegment *first = &tab->segments[s];
      uint32_t              col = 0;
      if (first->row_begin != cur || first->row_end <= first->row_begin
          || first->row_end > tab->rows)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "plan table %u segment %u: rows [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                       ") do not continue from row %" G_GINT64_FORMAT " within %" G_GINT64_FORMAT
                       " rows",
                       t, s, first->row_begin, first->row_end, cur, tab->rows);
          return FALSE;
        }
      while (s < tab->n_segments && tab->segments[s].row_begin == first->row_begin)
        {
          const RgShardSegment *seg = &tab->segments[s];
          if (seg->row_end != first->row_end || seg->col_begin != col
              || seg->col_end <= seg->col_begin || seg->col_end > tab->dim)
            {
              g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                           "plan table %u segment %u: columns [%u, %u) do not continue from "
                           "column %u of %u",
                           t, s, seg->col_begin, seg->col_end, col, tab->dim);
              return FALSE;
            }
          col = seg->col_end;
          s++;
        }
      if (col != tab->dim)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "plan table %u: rows from %" G_GINT64_FORMAT " cover %u of %u columns", t,
                       first->row_begin, col, tab->dim);
          return FALSE;
        }
      cur = first->row_end;
    }
  if (cur != tab->rows)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "plan table %u: segments cover %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                   " rows",
                   t, cur, tab->rows);
      return FALSE;
    }
  if (tab->rank)
    {
      g_autofree guint8 *seen = g_malloc0 ((gsize) (tab->rows + 7) / 8);
      for (int64_t r = 0; r < tab->rows; r++)
        {
          int64_t k = tab->rank[r];
          if (k < 0 || k >= tab->rows || (seen[k / 8] & (1u << (k % 8))))
            {
              g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                           "plan table %u: row remap is not a permutation (row %" G_GINT64_FORMAT
                           " → %" G_GINT64_FORMAT ")",
                           t, r, k);
              return FALSE;
            }
          seen[k / 8] |= (guint8) (1u << (k % 8));
        }
    }
  return TRUE;
}

gboolean
rg_shard_plan_validate (const RgShardPlan *plan, GError **error)
{
  if (!rg_topology_validate (&plan->topo, error))
    return FALSE;
  if (plan->cache != RG_SHARD_CACHE_NONE && plan->cache_rows < 1)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "plan: a cache of %" G_GINT64_FORMAT " rows",
                   plan->cache_rows);
      return FALSE;
    }
  for (uint32_t t = 0; t < plan->n_tables; t++)
    if (!validate_table (plan, t, error))
      return FALSE;
  return TRUE;
}

gboolean
rg_shard_plan_check_tables (const RgShardPlan *plan, const RgTableSpec *tables,
                            uint32_t n_tables, GError **error)
{
  if (plan->n_tables != n_tables)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "plan \"%s\" has %u tables, the trace %u", plan->scheme, plan->n_tables,
                   n_tables);
      return FALSE;
    }
  for (uint32_t t = 0; t < n_tables; t++)
    {
      const RgShardTable *p = &plan->tables[t];
      if (p->rows != tables[t].rows || p->dim != tables[t].dim
          || p->elem_bytes != tables[t].elem_bytes)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "plan \"%s\" table %u is %" G_GINT64_FORMAT " × %u, the trace's %" G_GINT64_FORMAT
                       " × %u",
                       plan->scheme, t, p->rows, p->dim, tables[t].rows, tables[t].dim);
          return FALSE;
        }
    }
  return TRUE;
}

static uint64_t
max_row_bytes (const RgShardPlan *plan)
{
  uint64_t m = 0;
  for (uint32_t t = 0; t < plan->n_tables; t++)
    m = MAX (m, (uint64_t) plan->tables[t].dim * plan->tables[t].elem_bytes);
  return m;
}

void
rg_shard_plan_device_bytes (const RgShardPlan *plan, uint64_t *fast, uint64_t *slow)
{
  uint32_t world = rg_topology_world (&plan->topo);
  g_autofree uint64_t *f = g_new0 (uint64_t, world);
  g_autofree uint64_t *sl = g_new0 (uint64_t, world);

  for (uint32_t t = 0; t < plan->n_tables; t++)
    {
      const RgShardTable *tab = &plan->tables[t];
      for (uint32_t i = 0; i < tab->n_segments; i++)
        {
          const RgShardSegment *seg = &tab->segments[i];
          int64_t               n = seg->row_end - seg->row_begin;
          uint64_t              row_bytes = (uint64_t) (seg->col_end - seg->col_begin) * tab->elem_bytes;
          uint64_t             *dst = seg->tier == RG_TIER_FAST ? f : sl;
          for (uint32_t g = 0; g < seg->n_groups; g++)
            for (uint32_t k = 0; k < seg->group_size; k++)
              {
                /* Cyclic deal: slot k gets the positions i ≡ k (mod size). */
                uint64_t rows = (uint64_t) (n / seg->group_size)
                                + ((uint64_t) k < (uint64_t) (n % seg->group_size) ? 1 : 0);
                dst[seg->devices[g * seg->group_size + k]] += rows * row_bytes;
              }
        }
    }
  if (plan->cache != RG_SHARD_CACHE_NONE)
    for (uint32_t d = 0; d < world; d++)
      f[d] += (uint64_t) plan->cache_rows * max_row_bytes (plan);
  if (fast)
    memcpy (fast, f, sizeof (uint64_t) * world);
  if (slow)
    memcpy (slow, sl, sizeof (uint64_t) * world);
}

gboolean
rg_shard_plan_check_fit (const RgShardPlan *plan, GError **error)
{
  uint32_t             world = rg_topology_world (&plan->topo);
  g_autofree uint64_t *fast = g_new0 (uint64_t, world);
  g_autofree uint64_t *slow = g_new0 (uint64_t, world);
  rg_shard_plan_device_bytes (plan, fast, slow);
  for (uint32_t d = 0; d < world; d++)
    for (int tier = 0; tier < 2; tier++)
      {
        uint64_t need = tier == 0 ? fast[d] : slow[d];
        uint64_t have = tier == 0 ? plan->topo.fast_bytes : plan->topo.slow_bytes;
        if (need > have)
          {
            g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                         "plan \"%s\" does not fit: device %u (node %u) %s tier needs %" G_GUINT64_FORMAT
                         " bytes but has %" G_GUINT64_FORMAT " (short by %" G_GUINT64_FORMAT " bytes)",
                         plan->scheme, d, rg_topology_node (&plan->topo, d),
                         rg_tier_name ((RgTier) tier), need, have, need - have);
            return FALSE;
          }
      }
  return TRUE;
}

void
rg_shard_table_find (const RgShardTable *t, int64_t rank, uint32_t *first, uint32_t *n)
{
  /* Last segment whose row_begin <= rank, then back to the first column
   * split of that row range. */
  uint32_t lo = 0, hi = t->n_segments;
  while (hi - lo > 1)
    {
      uint32_t mid = (lo + hi) / 2;
      if (t->segments[mid].row_begin <= rank)
        lo = mid;
      else
        hi = mid;
    }
  while (lo > 0 && t->segments[lo - 1].row_begin == t->segments[lo].row_begin)
    lo--;
  uint32_t k = lo + 1;
  while (k < t->n_segments && t->segments[k].row_begin == t->segments[lo].row_begin)
    k++;
  *first = lo;
  *n = k - lo;
}

uint32_t
rg_shard_segment_owner (const RgTopology *topo, const RgShardSegment *seg, int64_t rank,
                        uint32_t requester)
{
  uint32_t slot = (uint32_t) ((rank - seg->row_begin) % seg->group_size);
  uint32_t node = rg_topology_node (topo, requester);
  int      same_node = -1;
  for (uint32_t g = 0; g < seg->n_groups; g++)
    {
      uint32_t d = seg->devices[g * seg->group_size + slot];
      if (d == requester)
        return d;
      if (same_node < 0 && rg_topology_node (topo, d) == node)
        same_node = (int) g;
    }
  if (same_node >= 0)
    return seg->devices[(uint32_t) same_node * seg->group_size + slot];
  return seg->devices[(requester % seg->n_groups) * seg->group_size + slot];
}

gboolean
rg_shard_ring_layout (const RgTopology *topo, const uint32_t *d, uint32_t n, uint32_t *nodes_out,
                      uint32_t *per_node)
{
  uint32_t nodes = 1, q = 1, run = 1;
  gboolean even = TRUE;
  for (uint32_t g = 1; g < n; g++)
    {
      if (rg_topology_node (topo, d[g]) == rg_topology_node (topo, d[g - 1]))
        run++;
      else
        {
          if (nodes == 1)
            q = run;
          even = even && run == q;
          nodes++;
          run = 1;
        }
    }
  if (nodes == 1)
    q = run;
  even = even && run == q;
  *nodes_out = nodes;
  *per_node = q;
  return even;
}
