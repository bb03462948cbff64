/* rg-shard-planner.h — every way this project places embedding tables.
 *
 * All planners take the tables (trace specs), a profile of early batches
 * where they use statistics, and a topology; they return an RgShardPlan
 * (rg-shard-plan.h) that rg_shard_simulate() can evaluate on later batches.
 *
 * RecShard (Sethi et al., ASPLOS'22). Each table lives on one device; its
 * hottest h_t rows (after remapping rows hot-first) sit in fast memory, the
 * rest in slow memory. Per step, table t costs on its device
 *
 *     cost_t(h) = A_t · b_t · ( F_t(h) / BW_fast + (1 − F_t(h)) / BW_slow )
 *
 * with A_t lookups per step, b_t bytes per row and F_t the access CDF. The
 * planner minimises the slowest device's total cost under per-device fast
 * and slow capacities. Two solvers:
 *   - rg_recshard_plan_milp(): the exact MILP (GLPK): binary table→device
 *     x_td, continuous fast rows per CDF piece y_tdk ≤ len_k · x_td, load_d ≤
 *     z, minimise z. F_t is piecewise linear between "runs" of rows with
 *     equal counts, so the pieces are exact, not an approximation; tables
 *     with more than max_pieces runs are merged to chords (conservative).
 *   - rg_recshard_plan_greedy(): for hundreds of tables and tens of devices.
 *     For a fixed assignment the best fast allocation is exact and cheap:
 *     a row's saving per fast byte is its access rate × (1/BW_slow −
 *     1/BW_fast), whatever its width, so each device takes its hottest rows
 *     across all its tables (a k-way merge of the tables' count runs).
 *     Assignment: longest-processing-time first on costs estimated from a
 *     pooled allocation, then local search (move or swap a table off the
 *     slowest device) until no move lowers the maximum.
 *
 * FlexShard (Sethi et al., 2023), for sequence tables. Per table, rows
 * ranked hot-first fall into tiers: [0, a) replicated on every device,
 * [a, b) replicated once per node and row-sharded inside it, [b, N)
 * row-sharded over all devices. Promotions (row b → tier 1, row a → tier 0)
 * are taken greedily by modelled latency saving per byte of memory per
 * device, in count runs, until the per-device fast budget is spent; the
 * budget defaults to exactly what plain row-wise sharding uses per device
 * (capped by the devices' fast capacity).
 * Rows the profile never saw are row-sharded after the rest, in fast
 * memory while the budget allows; tables whose cold rows no longer fit
 * keep them in the slow tier (host memory), which is what pays for the
 * replicas at equal accelerator memory.
 *
 * Baselines: whole-table greedy by size, lookups or size × lookups (tables
 * sorted by the metric, each to the device with the least accumulated
 * metric, into fast memory while it fits whole, else slow); TorchRec's
 * table-wise, row-wise, table-row-wise, column-wise and data-parallel
 * (fast memory while whole segments fit, the coldest per byte spilled to
 * slow); LRU/LFU caches (rows row-sharded in slow memory with a per-device
 * rg-embed-cache of the fast capacity in front). */
#pragma once

#include <glib.h>

#include "embed/rg-profile.h"
#include "embed/rg-shard-plan.h"
#include "embed/rg-shard-sim.h"

G_BEGIN_DECLS

typedef enum {
  RG_GREEDY_SIZE,
  RG_GREEDY_LOOKUP,
  RG_GREEDY_SIZE_LOOKUP,
} RgGreedyMetric;

/* ---- RecShard ---- */

/* Modelled per-step cost (seconds) of table `p` with h rows in fast memory. */
double rg_recshard_table_cost (const RgTableProfile *p, const RgProfile *profile, int64_t h,
                               const RgShardCost *cost);

typedef struct {
  uint32_t max_moves;  /* local-search moves (0 = none) */
  uint32_t max_pieces; /* MILP: CDF pieces per table (runs beyond are merged) */
  double   time_limit; /* MILP: seconds; the best solution so far is used */
} RgRecShardOptions;

void rg_recshard_options_defaults (RgRecShardOptions *options);

RgShardPlan *rg_recshard_plan_greedy (const RgProfile *profile, const RgTableSpec *tables,
                                      const RgTopology *topo, const RgShardCost *cost,
                                      const RgRecShardOptions *options, GError **error);

/* RG_ERROR_UNSUPPORTED when built without GLPK. */
RgShardPlan *rg_recshard_plan_milp (const RgProfile *profile, const RgTableSpec *tables,
                                    const RgTopology *topo, const RgShardCost *cost,
                                    const RgRecShardOptions *options, GError **error);

/* The modelled maximum device cost of a RecShard-shaped plan (each table
 * on one device, a fast prefix): what both solvers minimise. */
double rg_recshard_plan_objective (const RgShardPlan *plan, const RgProfile *profile,
                                   const RgShardCost *cost);

/* ---- FlexShard ---- */

/* budget_bytes: per-device fast memory; 0 = what row-wise uses, or the
 * devices' fast capacity if that is smaller. */
RgShardPlan *rg_flexshard_plan (const RgProfile *profile, const RgTableSpec *tables,
                                const RgTopology *topo, const RgShardCost *cost,
                                uint64_t budget_bytes, GError **error);

/* ---- baselines ---- */

RgShardPlan *rg_shard_plan_greedy (RgGreedyMetric metric, const RgProfile *profile,
                                   const RgTableSpec *tables, const RgTopology *topo,
                                   GError **error);

/* scheme: "table-wise", "row-wise", "table-row-wise", "column-wise",
 * "data-parallel". `profile` (may be NULL) orders what spills to slow. */
RgShardPlan *rg_shard_plan_classic (const char *scheme, const RgProfile *profile,
                                    const RgTableSpec *tables, uint32_t n_tables,
                                    const RgTopology *topo, GError **error);

/* Rows row-wise in the slow tier, an LRU/LFU cache of the device's fast
 * capacity (in rows of the widest table) in front. */
RgShardPlan *rg_shard_plan_cache (RgShardCacheKind kind, const RgTableSpec *tables,
                                  uint32_t n_tables, const RgTopology *topo, GError **error);

/* Names every scheme rg_shard_plan_by_name() knows, NULL-terminated. */
extern const char *const rg_shard_scheme_names[];

/* One entry point for the CLI: recshard, recshard-milp, flexshard,
 * greedy-size, greedy-lookup, greedy-size-lookup, lru, lfu and the classic
 * names. The profile is required for the statistics-driven ones. */
RgShardPlan *rg_shard_plan_by_name (const char *scheme, const RgProfile *profile,
                                    const RgTableSpec *tables, uint32_t n_tables,
                                    const RgTopology *topo, const RgShardCost *cost,
                                    GError **error);

G_END_DECLS
