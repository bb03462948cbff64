/* rg-shard-bench.h — RecShard and FlexShard side by side with the classic schemes.
 *
 * Two experiments on one generated trace each, profiled on the first
 * batches and evaluated on the rest (the drift is reported):
 *
 *  memory tiers (RecShard's setting): the dlrm preset's pooled tables on
 *    one node of all n_nodes × devices_per_node devices (RecShard is about
 *    tiers, not the network), fast memory per device = fast_share × total
 *    table bytes / W. RecShard
 *    against the whole-table greedy heuristics, LRU/LFU caches of the same
 *    fast bytes and the classic schemes (spilled to slow where they do not
 *    fit). Ratios: slow-tier accesses, load imbalance (max/mean) and
 *    modelled throughput, RecShard vs the best whole-table greedy (the one
 *    with the highest modelled throughput).
 *
 *  network (FlexShard's setting): the sequence preset on n_nodes ×
 *    devices_per_node devices, inter-node bandwidth = intra / inter_ratio,
 *    fast memory per device = what row-wise uses. FlexShard against
 *    row-wise, table-row-wise, table-wise, column-wise and data-parallel.
 *    Ratios: all-to-all bytes (the metric FlexShard reports; the replicas'
 *    gradient all-reduce is shown beside it) and modelled communication
 *    time (which includes it), FlexShard vs row-wise.
 *
 * Defaults: 16 tables, a global batch of 4096 (256 samples a device on
 * 16 devices; TorchRec's planner assumes 512 a rank), 2 profile and 2
 * evaluation batches. The dlrm preset's locality is fitted at batch 512, so
 * at 4096 its per-batch reuse is higher than the published figures; at 512
 * the ratios are lower (tests/bench/bench-shard prints both). */
#pragma once

#include <glib.h>
#include <stdio.h>

#include "embed/rg-shard-planner.h"

G_BEGIN_DECLS

typedef struct {
  uint32_t n_tables;
  uint32_t batch_size;
  uint32_t profile_batches;
  uint32_t eval_batches;
  uint64_t seed;
  double   rows_scale;
  double   seq_len;
  uint32_t n_nodes;
  uint32_t devices_per_node;
  double   fast_share;  /* memory experiment: fast bytes over all devices / table bytes */
  double   inter_ratio; /* network experiment: intra / inter bandwidth */
} RgShardBenchConfig;

void rg_shard_bench_config_defaults (RgShardBenchConfig *config);

typedef struct {
  char             *scheme;
  gboolean          fits;
  char             *fit_error; /* why it does not fit, or NULL */
  uint64_t          fast_bytes_max; /* worst device */
  uint64_t          slow_bytes_max;
  double            plan_seconds;   /* wall time to plan */
  RgShardSimResult *sim;       /* evaluation batches */
  double            drift;     /* step time on evaluation / on profile batches − 1 */
} RgShardBenchRow;

typedef struct {
  uint64_t         table_bytes; /* memory experiment */
  uint64_t         fast_bytes;  /* per device, memory experiment */
  GPtrArray       *memory;      /* RgShardBenchRow*, recshard first */
  GPtrArray       *network;     /* RgShardBenchRow*, flexshard first */
  const char      *best_greedy;
  double           slow_ratio, balance_ratio, throughput_ratio;
  double           bytes_saved;       /* 1 − flex/row-wise all-to-all bytes */
  double           inter_a2a_saved;   /* … counting only bytes between nodes */
  double           total_bytes_saved; /* … with the replicas' gradient all-reduce */
  double           comm_ratio;        /* row-wise / flex modelled communication time */
  double           milp_gap;    /* recshard greedy vs MILP objective − 1 on a small instance, or NaN */
} RgShardBenchResult;

RgShardBenchResult *rg_shard_bench_run (const RgShardBenchConfig *config, GError **error);
void                rg_shard_bench_result_free (RgShardBenchResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgShardBenchResult, rg_shard_bench_result_free)

/* Human tables with the targets (≥ 87×, ≥ 12×, ≥ 6×; ≥ 85 %, ≥ 5×) and
 * whether each is met. */
void  rg_shard_bench_print (const RgShardBenchResult *result, FILE *out);
char *rg_shard_bench_to_json (const RgShardBenchResult *result);

/* A row's summary as a JSON object (also used by `reelgen shard simulate`). */
void rg_shard_sim_result_to_json (const RgShardSimResult *sim, GString *out);

G_END_DECLS
