/* rg-recshard.c — RecShard's cost model, the greedy + local-search solver,
 * and the pieces both solvers share (count runs, plan building). */
#include "embed/rg-recshard-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rg-error.h"

void
rg_recshard_options_defaults (RgRecShardOptions *options)
{
  options->max_moves = 256;
  options->max_pieces = 64;
  options->time_limit = 20.0;
}

double
rg_recshard_table_cost (const RgTableProfile *p, const RgProfile *profile, int64_t h,
                        const RgShardCost *cost)
{
  double A = rg_table_profile_per_batch (p, profile);
  double F = rg_table_profile_cdf (p, h);
  return A * (double) p->row_bytes * (F / cost->fast_bw + (1.0 - F) / cost->slow_bw);
}

/* ---- count runs ---- */

RgRuns *
rg_runs_new (const RgProfile *profile)
{
  RgRuns *runs = g_new0 (RgRuns, profile->n_tables);
  for (uint32_t t = 0; t < profile->n_tables; t++)
    {
      const RgTableProfile *p = &profile->tables[t];
      RgRuns               *r = &runs[t];
      GArray *a = g_array_new (FALSE, FALSE, sizeof (RgRun));
      int64_t k = 0;
      while (k < p->unique_rows)
        {
          uint64_t c = p->counts[p->order[k]];
          int64_t  j = k;
          while (j < p->unique_rows && p->counts[p->order[j]] == c)
            j++;
          RgRun run = { t, c, j - k };
          g_array_append_val (a, run);
          k = j;
        }
      r->n = a->len;
      r->runs = (RgRun *) g_array_free (a, FALSE);
    }
  return runs;
}

void
rg_runs_free (RgRuns *runs, uint32_t n_tables)
{
  if (!runs)
    return;
  for (uint32_t t = 0; t < n_tables; t++)
    g_free (runs[t].runs);
  g_free (runs);
}

static int
cmp_run_hot_first (const void *a, const void *b)
{
  const RgRun *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return (x->table > y->table) - (x->table < y->table);
}

/* Best fast allocation for the tables in `members` given `fast_bytes`:
 * hottest rows first across tables (saving per byte is the row's count,
 * whatever its width). Writes h[t] for members; returns the fast bytes
 * used. */
uint64_t
rg_recshard_allocate (const RgProfile *profile, const RgRuns *runs, const uint32_t *members,
                      uint32_t n_members, uint64_t fast_bytes, int64_t *h)
{
  gsize total = 0;
  for (uint32_t i = 0; i < n_members; i++)
    {
      total += runs[members[i]].n;
      h[members[i]] = 0;
    }
  g_autofree RgRun *all = g_new (RgRun, total ? total : 1);
  gsize             k = 0;
  for (uint32_t i = 0; i < n_members; i++)
    {
      const RgRuns *r = &runs[members[i]];
      memcpy (all + k, r->runs, sizeof (RgRun) * r->n);
      k += r->n;
    }
  qsort (all, total, sizeof (RgRun), cmp_run_hot_first);
  uint64_t left = fast_bytes;
  /* h[t] grows only while a table's runs are taken in order; once a run of
   * a table is cut short, that table's later (colder) runs cannot follow
   * (its fast rows must stay a prefix). */
  g_autofree guint8 *cut = g_new0 (guint8, profile->n_tables);
  for (gsize i = 0; i < total && left > 0; i++)
    {
      uint32_t t = all[i].table;
      uint64_t rb = profile->tables[t].row_bytes;
      if (cut[t])
        continue;
      int64_t take = (int64_t) MIN ((uint64_t) all[i].rows, left / rb);
      h[t] += take;
      left -= (uint64_t) take * rb;
      if (take < all[i].rows)
        cut[t] = 1;
    }
  /* Rows the profile never saw save nothing, but fast bytes left over still
   * hold them: that keeps the slow tier as small as it can be. */
  for (uint32_t i = 0; i < n_members && left > 0; i++)
    {
      uint32_t              t = members[i];
      const RgTableProfile *p = &profile->tables[t];
      if (cut[t] || h[t] < p->unique_rows)
        continue;
      int64_t take = (int64_t) MIN ((uint64_t) (p->rows - h[t]), left / p->row_bytes);
      h[t] += take;
      left -= (uint64_t) take * p->row_bytes;
    }
  return fast_bytes - left;
}

/* ---- plans ---- */

RgShardPlan *
rg_recshard_build_plan (const char *scheme, const RgProfile *profile, const RgTableSpec *tables,
                        const RgTopology *topo, const uint32_t *device, const int64_t *h)
{
  RgShardPlan *plan = rg_shard_plan_new (scheme, topo, tables, profile->n_tables);
  for (uint32_t t = 0; t < profile->n_tables; t++)
    {
      const RgTableProfile *p = &profile->tables[t];
      int64_t               hot = CLAMP (h[t], 0, p->rows);
      rg_shard_plan_set_rank (plan, t, rg_table_profile_rank (p));
      if (hot > 0)
        rg_shard_plan_add (plan, t, 0, hot, 0, tables[t].dim, RG_TIER_FAST, 1, 1, &device[t]);
      if (hot < p->rows)
        rg_shard_plan_add (plan, t, hot, p->rows, 0, tables[t].dim, RG_TIER_SLOW, 1, 1,
                           &device[t]);
    }
  return plan;
}

double
rg_recshard_plan_objective (const RgShardPlan *plan, const RgProfile *profile,
                            const RgShardCost *cost)
{
  uint32_t           W = rg_topology_world (&plan->topo);
  g_autofree double *load = g_new0 (double, W);
  for (uint32_t t = 0; t < plan->n_tables; t++)
    {
      const RgShardTable *tab = &plan->tables[t];
      const RgShardSegment *first = &tab->segments[0];
      int64_t h = first->tier == RG_TIER_FAST ? first->row_end : 0;
      load[first->devices[0]] += rg_recshard_table_cost (&profile->tables[t], profile, h, cost);
    }
  double worst = 0;
  for (uint32_t d = 0; d < W; d++)
    worst = MAX (worst, load[d]);
  return worst;
}

/* ---- greedy + local search ---- */

typedef struct {
  const RgProfile   *profile;
  const RgRuns      *runs;
  const RgTopology  *topo;
  const RgShardCost *cost;
  uint32_t           W, T;
  uint32_t          *device;  /* per table */
  int64_t           *h;       /* per table */
  double            *load;    /* per device */
  uint64_t          *bytes;   /* per device: all rows of its tables */
  uint32_t          *members; /* scratch */
  int64_t           *h_try;   /* scratch */
} Greedy;

static uint64_t
table_bytes (const Greedy *g, uint32_t t)
{
  return (uint64_t) g->profile->tables[t].rows * g->profile->tables[t].row_bytes;
}

/* Load of device d if it held its current tables, minus `drop` (or
 * UINT32_MAX), plus `add` (or UINT32_MAX). Fills g->h_try for them. */
static double
device_load_with (Greedy *g, uint32_t d, uint32_t drop, uint32_t add)
{
  uint32_t n = 0;
  for (uint32_t t = 0; t < g->T; t++)
    if ((g->device[t] == d && t != drop) || t == add)
      g->members[n++] = t;
  rg_recshard_allocate (g->profile, g->runs, g->members, n, g->topo->fast_bytes, g->h_try);
  double load = 0;
  for (uint32_t i = 0; i < n; i++)
    load += rg_recshard_table_cost (&g->profile->tables[g->members[i]], g->profile,
                                    g->h_try[g->members[i]], g->cost);
  return load;
}

static void
commit_device (Greedy *g, uint32_t d)
{
  g->load[d] = device_load_with (g, d, UINT32_MAX, UINT32_MAX);
  for (uint32_t t = 0; t < g->T; t++)
    if (g->device[t] == d)
      g->h[t] = g->h_try[t];
}

static gboolean
fits (const Greedy *g, uint32_t d, uint64_t extra)
{
  return g->bytes[d] + extra <= g->topo->fast_bytes + g->topo->slow_bytes;
}

typedef struct {
  uint32_t table;
  double   est;
} Est;

static int
cmp_est_desc (const void *a, const void *b)
{
  const Est *x = a, *y = b;
  if (x->est != y->est)
    return x->est > y->est ? -1 : 1;
  return (x->table > y->table) - (x->table < y->table);
}

/* One first-improvement step: move a table off the slowest device, or
 * swap one with a table elsewhere, if that lowers the pair's maximum
 * below the current maximum. */
static gboolean
improve (Greedy *g)
{
  uint32_t worst = 0;
  for (uint32_t d = 1; d < g->W; d++)
    if (g->load[d] > g->load[worst])
      worst = d;
  double cur = g->load[worst];
  for (uint32_t t = 0; t < g->T; t++)
    {
      if (g->device[t] != worst)
        continue;
      for (uint32_t e = 0; e < g->W; e++)
        {
          if (e == worst || !fits (g, e, table_bytes (g, t)))
            continue;
          double le = device_load_with (g, e, UINT32_MAX, t);
          if (le >= cur * (1 - 1e-9))
            continue;
          double lw = device_load_with (g, worst, t, UINT32_MAX);
          if (MAX (le, lw) < cur * (1 - 1e-9))
            {
              g->bytes[worst] -= table_bytes (g, t);
              g->bytes[e] += table_bytes (g, t);
              g->device[t] = e;
              commit_device (g, worst);
              commit_device (g, e);
              return TRUE;
            }
        }
    }
  for (uint32_t t = 0; t < g->T; t++)
    {
      if (g->device[t] != worst)
        continue;
      for (uint32_t u = 0; u < g->T; u++)
        {
          uint32_t e = g->device[u];
          if (e == worst)
            continue;
          uint64_t bt = table_bytes (g, t), bu = table_bytes (g, u);
          if (g->bytes[e] - bu + bt > g->topo->fast_bytes + g->topo->slow_bytes
              || g->bytes[worst] - bt + bu > g->topo->fast_bytes + g->topo->slow_bytes)
            continue;
          g->device[u] = worst; /* tentatively, so the helpers see the swap */
          g->device[t] = e;
          double le = device_load_with (g, e, UINT32_MAX, UINT32_MAX);
          double lw = le < cur * (1 - 1e-9) ? device_load_with (g, worst, UINT32_MAX, UINT32_MAX)
                                            : G_MAXDOUBLE;
          if (MAX (le, lw) < cur * (1 - 1e-9))
            {
              g->bytes[worst] += bu - bt;
              g->bytes[e] += bt - bu;
              commit_device (g, worst);
              commit_device (g, e);
              return TRUE;
            }
          g->device[u] = e;
          g->device[t] = worst;
        }
    }
  return FALSE;
}

RgShardPlan *
rg_recshard_plan_greedy (const RgProfile *profile, const RgTableSpec *tables,
                         const RgTopology *topo, const RgShardCost *cost,
                         const RgRecShardOptions *options, GError **error)
{
  if (!rg_topology_validate (topo, error))
    return NULL;
  uint32_t W = rg_topology_world (topo), T = profile->n_tables;
  RgRuns  *runs = rg_runs_new (profile);
  Greedy   g = { profile, runs, topo, cost, W, T,
                 g_new0 (uint32_t, T), g_new0 (int64_t, T), g_new0 (double, W),
                 g_new0 (uint64_t, W), g_new (uint32_t, T), g_new0 (int64_t, T) };
  RgShardPlan *plan = NULL;

  /* Estimate each table's cost from one pooled allocation of all fast
   * memory, then place the most expensive first on the least loaded
   * device that can hold it (LPT). */
  for (uint32_t t = 0; t < T; t++)
    g.members[t] = t;
  rg_recshard_allocate (profile, runs, g.members, T, (uint64_t) topo->fast_bytes * W, g.h_try);
  g_autofree Est *est = g_new (Est, T);
  for (uint32_t t = 0; t < T; t++)
    est[t] = (Est) { t, rg_recshard_table_cost (&profile->tables[t], profile, g.h_try[t], cost) };
  qsort (est, T, sizeof (Est), cmp_est_desc);
  g_autofree double *est_load = g_new0 (double, W);
  for (uint32_t i = 0; i < T; i++)
    {
      uint32_t t = est[i].table;
      int      best = -1;
      for (uint32_t d = 0; d < W; d++)
        if (fits (&g, d, table_bytes (&g, t)) && (best < 0 || est_load[d] < est_load[best]))
          best = (int) d;
      if (best < 0)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                       "recshard: table %u (%" G_GUINT64_FORMAT " bytes) fits on no device: "
                       "every device has less than that left of its %" G_GUINT64_FORMAT
                       " fast + slow bytes",
                       t, table_bytes (&g, t), topo->fast_bytes + topo->slow_bytes);
          goto out;
        }
      g.device[t] = (uint32_t) best;
      g.bytes[best] += table_bytes (&g, t);
      est_load[best] += est[i].est;
    }
  for (uint32_t d = 0; d < W; d++)
    commit_device (&g, d);
  for (uint32_t m = 0; m < options->max_moves && improve (&g); m++)
    ;
  plan = rg_recshard_build_plan ("recshard", profile, tables, topo, g.device, g.h);

out:
  rg_runs_free (runs, T);
  g_free (g.device);
  g_free (g.h);
  g_free (g.load);
  g_free (g.bytes);
  g_free (g.members);
  g_free (g.h_try);
  return plan;
}
