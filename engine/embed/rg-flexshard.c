/* rg-flexshard.c — FlexShard's tiered, topology-aware replication.
 *
 * Expected bytes per step of one row read c times per step (by requesters
 * spread evenly over the W = N·P devices, N nodes of P), with m = id +
 * 2·row bytes per remote read (id and embedding forward, gradient back)
 * and u = 1 − e^−c the chance the row is touched in a step — the
 * simulator's model (rg-shard-sim.h), in expectation:
 *
 *                                intra-node bytes        inter-node bytes
 *   tier 2, sharded over all W:  c·m·(P−1)/W             c·m·(W−P)/W
 *   tier 1, one copy per node:   c·m·(P−1)/P             u·2(N−1)·row   (sync ring over N)
 *   tier 0, a copy everywhere:   u·2N(P−1)·row           u·2(N−1)·row   (hierarchical sync)
 *
 * and per-device memory row/W, row/P, row. A promotion's saving is
 * w·Δintra / BW_intra + Δinter / BW_inter. Promotions take the largest
 * saving per byte first, a run of equally hot rows at a time, so the tiers
 * stay prefixes of the hot-first ranking.
 *
 * Intra- and inter-node links work in parallel, so what a step waits for
 * is the slower of the two, not their sum: intra bytes are free until the
 * intra links become the bottleneck. The weight w says how much intra
 * bytes count; the planner runs the promotion for several w (and for no
 * replication at all), estimates each outcome's communication time —
 * max(intra / (W·BW_intra), inter / (W·BW_inter)) plus one latency per
 * collective phase, the replicas' all-reduce being one more — and keeps
 * the best. That is our addition to the paper's greedy. */
#include "embed/rg-recshard-private.h"

#include <math.h>
#include <string.h>

#include "core/rg-error.h"

typedef struct {
  const RgTableProfile *p;
  const RgRuns         *runs;
  int64_t               a, b;   /* tier 0 = [0, a), tier 1 = [a, b), tier 2 = [b, unique) */
  gsize                 ra, rb; /* run holding row a / row b */
  int64_t               oa, ob; /* offset of a / b inside that run */
  gboolean              done1, done0;
} Tab;

typedef struct {
  const RgShardCost *cost;
  double             W, N, P, steps;
  double             w_intra; /* weight of intra-node bytes in a saving */
} Model;

typedef struct {
  double intra, inter;
} Bytes;

static double
ceil_div (int64_t n, double k)
{
  return ceil ((double) n / k);
}

/* Per-device bytes of a table's fast tiers (the worst device: ceilings). */
static double
usage (const Model *m, const Tab *x, int64_t a, int64_t b)
{
  double rb = (double) x->p->row_bytes;
  return rb * ((double) a + ceil_div (b - a, m->P) + ceil_div (x->p->unique_rows - b, m->W));
}

static Bytes
tier_bytes (const Model *m, int tier, double c, double row)
{
  double msg = m->cost->id_bytes + 2.0 * row;
  double u = 1.0 - exp (-c);
  switch (tier)
    {
    case 2:
      return (Bytes) { c * msg * (m->P - 1) / m->W, c * msg * (m->W - m->P) / m->W };
    case 1:
      return (Bytes) { c * msg * (m->P - 1) / m->P, u * 2.0 * (m->N - 1) * row };
    default:
      return (Bytes) { u * 2.0 * m->N * (m->P - 1) * row, u * 2.0 * (m->N - 1) * row };
    }
}

static double
tier_cost (const Model *m, int tier, double c, double row)
{
  Bytes b = tier_bytes (m, tier, c, row);
  return m->w_intra * b.intra / m->cost->intra_bw + b.inter / m->cost->inter_bw;
}

/* Saving per byte of promoting the next run into `tier` (1 or 0), and how
 * many rows that run still has; 0 when there is nothing to promote. */
static double
next_gain (const Model *m, const Tab *x, int tier, int64_t *rows)
{
  double row = (double) x->p->row_bytes;
  if (tier == 1)
    {
      if (x->done1 || x->rb >= x->runs->n || m->P >= m->W)
        return 0.0;
      const RgRun *r = &x->runs->runs[x->rb];
      double       c = (double) r->count / m->steps;
      *rows = r->rows - x->ob;
      return (tier_cost (m, 2, c, row) - tier_cost (m, 1, c, row)) / (row * (1 / m->P - 1 / m->W));
    }
  /* On one node tier 1 would be tier 2 again: rows go from 2 to 0. */
  gboolean one_node = m->P >= m->W;
  if (x->done0 || m->W <= 1 || (one_node ? x->rb >= x->runs->n : x->a >= x->b))
    return 0.0;
  const RgRun *r = &x->runs->runs[x->ra];
  double       c = (double) r->count / m->steps;
  int          from = one_node ? 2 : 1;
  *rows = one_node ? r->rows - x->oa : MIN (r->rows - x->oa, x->b - x->a);
  double denom = row * (1 - (from == 1 ? 1 / m->P : 1 / m->W));
  return denom > 0 ? (tier_cost (m, from, c, row) - tier_cost (m, 0, c, row)) / denom : 0.0;
}

static void
advance (const RgRuns *runs, gsize *ri, int64_t *off, int64_t n)
{
  *off += n;
  while (*ri < runs->n && *off >= runs->runs[*ri].rows)
    {
      *off -= runs->runs[*ri].rows;
      (*ri)++;
    }
}

/* The greedy promotion from "everything in tier 2" under `budget`. */
static void
promote (const Model *m, Tab *tab, uint32_t T, double used, double budget)
{
  gboolean one_node = m->P >= m->W;
  for (;;)
    {
      int     best_t = -1, best_tier = 0;
      double  best = 0;
      int64_t best_rows = 0;
      for (uint32_t t = 0; t < T; t++)
        for (int tier = 1; tier >= 0; tier--)
          {
            int64_t rows = 0;
            double  gain = next_gain (m, &tab[t], tier, &rows);
            if (gain > best)
              {
                best = gain;
                best_t = (int) t;
                best_tier = tier;
                best_rows = rows;
              }
          }
      if (best_t < 0)
        return;
      Tab    *x = &tab[best_t];
      int64_t a = x->a, b = x->b;
      /* Shrink to what fits: usage is monotone in the rows promoted. */
      int64_t lo = 0, hi = best_rows;
      while (lo < hi)
        {
          int64_t mid = lo + (hi - lo + 1) / 2;
          double  after = best_tier == 1 ? usage (m, x, a, b + mid)
                                         : usage (m, x, a + mid, one_node ? b + mid : b);
          if (used - usage (m, x, a, b) + after <= budget)
            lo = mid;
          else
            hi = mid - 1;
        }
      if (lo > 0)
        {
          double before = usage (m, x, a, b);
          if (best_tier == 1 || one_node)
            {
              x->b += lo;
              advance (x->runs, &x->rb, &x->ob, lo);
            }
          if (best_tier == 0)
            {
              x->a += lo;
              advance (x->runs, &x->ra, &x->oa, lo);
            }
          used += usage (m, x, x->a, x->b) - before;
        }
      if (lo < best_rows)
        {
          /* The run did not fit whole: this table's tier is full. */
          if (best_tier == 1)
            x->done1 = TRUE;
          else
            x->done0 = TRUE;
        }
    }
}

/* Expected communication time of the tiers in `tab` (see the top). */
static double
estimate (const Model *m, const Tab *tab, uint32_t T)
{
  Bytes    sum = { 0, 0 };
  gboolean replicas = FALSE, remote = FALSE;
  for (uint32_t t = 0; t < T; t++)
    {
      const Tab *x = &tab[t];
      double     row = (double) x->p->row_bytes;
      int64_t    pos = 0;
      for (gsize i = 0; i < x->runs->n; i++)
        {
          const RgRun *r = &x->runs->runs[i];
          double       c = (double) r->count / m->steps;
          /* Split the run at the tier boundaries a and b. */
          int64_t cut[4] = { pos, CLAMP (x->a, pos, pos + r->rows), CLAMP (x->b, pos, pos + r->rows),
                             pos + r->rows };
          for (int tier = 0; tier < 3; tier++)
            {
              int64_t n = cut[tier + 1] - cut[tier];
              if (n <= 0)
                continue;
              Bytes b = tier_bytes (m, tier, c, row);
              sum.intra += n * b.intra;
              sum.inter += n * b.inter;
              replicas = replicas || tier < 2;
              remote = remote || tier > 0;
            }
          pos += r->rows;
        }
    }
  double phases = (remote ? 2 : 0) + (replicas ? 1 : 0);
  return MAX (sum.intra / (m->W * m->cost->intra_bw), sum.inter / (m->W * m->cost->inter_bw))
         + phases * m->cost->collective_latency;
}

static void
reset (Tab *tab, uint32_t T, const RgProfile *profile, const RgRuns *runs)
{
  for (uint32_t t = 0; t < T; t++)
    tab[t] = (Tab) { &profile->tables[t], &runs[t], 0, 0, 0, 0, 0, 0, FALSE, FALSE };
}

RgShardPlan *
rg_flexshard_plan (const RgProfile *profile, const RgTableSpec *tables, const RgTopology *topo,
                   const RgShardCost *cost, uint64_t budget_bytes, GError **error)
{
  if (!rg_topology_validate (topo, error))
    return NULL;
  uint32_t W = rg_topology_world (topo), T = profile->n_tables, P = topo->devices_per_node;
  Model    m = { cost, W, topo->n_nodes, P, MAX (1u, profile->n_batches), 1.0 };

  /* Row-wise's worst device: every table contributes ceil(rows / W) rows. */
  double rowwise = 0;
  for (uint32_t t = 0; t < T; t++)
    rowwise += ceil_div (profile->tables[t].rows, W) * (double) profile->tables[t].row_bytes;
  double budget = budget_bytes ? (double) budget_bytes : MIN (rowwise, (double) topo->fast_bytes);

  RgRuns         *runs = rg_runs_new (profile);
  g_autofree Tab *tab = g_new0 (Tab, T);
  g_autofree Tab *best = g_new0 (Tab, T);
  reset (tab, T, profile, runs);
  double base = 0;
  for (uint32_t t = 0; t < T; t++)
    base += usage (&m, &tab[t], 0, 0);
  if (base > budget)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                   "flexshard: the rows seen in the profile need %.0f bytes per device, the "
                   "budget is %.0f (short by %.0f bytes)",
                   base, budget, base - budget);
      rg_runs_free (runs, T);
      return NULL;
    }

  /* No replication is a candidate too; then one promotion per weight. */
  memcpy (best, tab, sizeof (Tab) * T);
  double best_est = estimate (&m, tab, T);
  static const double weights[] = { 1.0, 0.5, 0.25, 0.1, 0.03, 0.0 };
  for (guint k = 0; k < G_N_ELEMENTS (weights); k++)
    {
      m.w_intra = weights[k];
      reset (tab, T, profile, runs);
      promote (&m, tab, T, base, budget);
      double est = estimate (&m, tab, T);
      if (est < best_est)
        {
          best_est = est;
          memcpy (best, tab, sizeof (Tab) * T);
        }
    }

  /* Rows the profile never saw stay row-sharded with the rest of tier 2
   * in fast memory while the budget allows (then FlexShard holds nothing
   * more than row-wise does); tables whose cold rows no longer fit keep
   * them in the slow tier, which is what pays for the replicas. */
  g_autofree gboolean *cold_fast = g_new0 (gboolean, T);
  double               used = 0;
  for (uint32_t t = 0; t < T; t++)
    used += usage (&m, &best[t], best[t].a, best[t].b);
  for (uint32_t t = 0; t < T; t++)
    {
      const Tab *x = &best[t];
      double     rb = (double) x->p->row_bytes;
      double     hot = usage (&m, x, x->a, x->b);
      double     whole = rb * ((double) x->a + ceil_div (x->b - x->a, m.P)
                               + ceil_div (x->p->rows - x->b, m.W));
      if (used - hot + whole <= budget)
        {
          cold_fast[t] = TRUE;
          used += whole - hot;
        }
    }

  g_autofree uint32_t *all = g_new (uint32_t, W);
  RgShardPlan         *plan = rg_shard_plan_new ("flexshard", topo, tables, T);
  for (uint32_t t = 0; t < T; t++)
    {
      /* Rows are dealt hottest first; starting each table's deal on
       * another device (and another slot of each node) keeps the hottest
       * rows of different tables off the same device. */
      for (uint32_t d = 0; d < W; d++)
        all[d] = (d / P) * P + (d % P + t) % P;
      for (uint32_t d = 0; d < W && topo->n_nodes > 1; d++)
        all[d] = (all[d] + (t / P % topo->n_nodes) * P) % W;
      const Tab *x = &best[t];
      int64_t    u = x->p->unique_rows, n = x->p->rows;
      uint32_t   dim = tables[t].dim;
      rg_shard_plan_set_rank (plan, t, rg_table_profile_rank (x->p));
      if (x->a > 0)
        rg_shard_plan_add (plan, t, 0, x->a, 0, dim, RG_TIER_FAST, W, 1, all);
      if (x->b > x->a)
        rg_shard_plan_add (plan, t, x->a, x->b, 0, dim, RG_TIER_FAST, topo->n_nodes, P, all);
      if (cold_fast[t])
        {
          if (n > x->b)
            rg_shard_plan_add (plan, t, x->b, n, 0, dim, RG_TIER_FAST, 1, W, all);
          continue;
        }
      if (u > x->b)
        rg_shard_plan_add (plan, t, x->b, u, 0, dim, RG_TIER_FAST, 1, W, all);
      if (n > u)
        rg_shard_plan_add (plan, t, u, n, 0, dim, RG_TIER_SLOW, 1, W, all);
    }
  rg_runs_free (runs, T);
  return plan;
}
