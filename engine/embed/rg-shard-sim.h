/* rg-shard-sim.h — trace-driven simulation of a plan: bytes, slow accesses, load, time.
 *
 * The model (one training step = one trace batch):
 *
 *  - Samples are split over the W devices in contiguous blocks (data
 *    parallel: sample i runs on device i·W / batch_size, the requester).
 *  - Every lookup of (table, row) is served, for each column slice, by
 *    rg_shard_segment_owner(). Served elsewhere, it costs
 *      forward:  the id (cost.id_bytes) requester → owner, and the
 *                embedding owner → requester;
 *      backward: the gradient requester → owner.
 *    Sequence tables move one vector per id. Pooled tables are summed at the
 *    owner first (TorchRec's row-wise reduce-scatter), so they move one
 *    vector per (sample, owner, column slice) each way, plus the ids.
 *  - Memory time on the owner: each lookup reads its slice from the
 *    segment's tier (a cache hit counts as fast when the plan has a cache),
 *    bytes / tier bandwidth. Each distinct row touched in a step is then
 *    updated once on every device holding a copy (sparse optimizer):
 *    cost.update_factor × bytes / bandwidth (read and write back).
 *  - Replicated rows stay consistent by an all-reduce of their step
 *    gradients among their copies. When every node holding copies holds the
 *    same number q of them, it is hierarchical (NCCL's way): reduce-scatter
 *    and all-gather in a ring of q inside each node (2(q − 1)/q × bytes per
 *    copy, intra-node) and a ring across the nodes for each 1/q shard
 *    (2(N − 1)/N × bytes/q per copy, inter-node); otherwise one flat ring
 *    in device order (2(G − 1)/G × bytes per copy).
 *  - Plans with a cache: the caches are warmed on every batch before the
 *    measured ones, as a long-running job's would be.
 *  - Link classes: intra-node when both devices are on one node. A device's
 *    communication time is the larger of its intra-node and inter-node
 *    times (separate hardware), each the larger of bytes out and bytes in
 *    over that link's per-device bandwidth; the step waits for the slowest
 *    device, plus cost.collective_latency per collective phase.
 *  - Step time = slowest device's memory time + communication time;
 *    throughput = batch_size / step time.
 *
 * Everything is reported per step, averaged over the simulated batches. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "embed/rg-shard-plan.h"
#include "embed/rg-trace.h"

G_BEGIN_DECLS

/* Hardware constants, bytes/s and seconds. Defaults follow TorchRec's
 * planner (torchrec/distributed/planner/constants.py): HBM_MEM_BW 897 GB/s,
 * DDR_MEM_BW 51 GB/s, INTRA_NODE_BANDWIDTH 600 GB/s, CROSS_NODE_BANDWIDTH
 * 12.5 GB/s, BIGINT_DTYPE 8 bytes (ids are int64). The collective latency
 * (10 µs, NCCL's small-message all-to-all on NVLink) is ours. TorchRec
 * writes GB as 1024³ bytes; so do we. */
typedef struct {
  double fast_bw;            /* fast tier (HBM) */
  double slow_bw;            /* slow tier (host DDR reached over UVM) */
  double intra_bw;           /* per device, within a node (NVLink) */
  double inter_bw;           /* per device, across nodes (NIC) */
  double collective_latency; /* per collective phase */
  double id_bytes;           /* bytes per id sent to an owner */
  double update_factor;      /* memory passes of a sparse update, relative to one read */
} RgShardCost;

void rg_shard_cost_defaults (RgShardCost *cost);

typedef struct {
  uint32_t world;
  uint32_t n_steps;
  uint32_t batch_size;

  /* per step, averaged */
  double *traffic;        /* world × world bytes, traffic[src × world + dst] */
  double  bytes_intra;    /* sum of traffic between devices of one node */
  double  bytes_inter;    /* … of different nodes */
  double  bytes_a2a;      /* the all-to-all part (lookups and gradients) */
  double  bytes_a2a_inter; /* … of it between nodes */
  double  bytes_allreduce; /* the replica-sync part */
  double  lookups;        /* (row, column slice) reads */
  double  local_lookups;  /* … served on the requester itself */
  double  slow_accesses;  /* … that went to a slow tier */
  double  cache_hits;     /* … of slow-tier reads a cache served */
  double *device_load;    /* memory seconds per device */
  double  load_max, load_mean, load_imbalance; /* imbalance = max / mean (1 when idle) */
  double  mem_time;       /* load_max */
  double  comm_time;      /* seconds */
  double  step_time;      /* mem_time + comm_time */
  double  throughput;     /* samples per second */
} RgShardSimResult;

/* Simulates batches [first_batch, first_batch + n_batches). The plan must
 * match the trace's tables. */
RgShardSimResult *rg_shard_simulate (const RgShardPlan *plan, const RgTrace *trace,
                                     uint32_t first_batch, uint32_t n_batches,
                                     const RgShardCost *cost, GError **error);
void              rg_shard_sim_result_free (RgShardSimResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgShardSimResult, rg_shard_sim_result_free)

G_END_DECLS
