/* rg-shard-run.h — a real distributed run of a shard plan on W ranks.
 *
 * Each rank of the communicator plays device d of the plan's topology
 * (world size must equal the plan's W). Every rank owns a real embedding
 * store (rg-embed-store.h, one SQLite file per rank in work_dir) holding the
 * rows the plan gives it — fast-tier rows in the device tier, slow-tier rows
 * in the host tier — and replays the trace's batches as training steps of
 * the SASRec recommender (rg-sasrec.h) on the sequence tables (pooled
 * tables use the loss ½‖pooled‖², so their gradient is the pooled vector).
 * The item rows get SASRec's full gradient; its dense weights stay frozen,
 * as updating them would need a data-parallel all-reduce that the
 * simulator does not model:
 *
 *   1. sample i of a batch runs on rank i·W / batch_size (as the simulator);
 *   2. ids go to the rank that serves them (rg_shard_segment_owner), one
 *      alltoallv; owners look the rows up in their stores and send back
 *      slices (sequence tables: one per id; pooled tables: one partial sum
 *      per (sample, owner, column slice)), one alltoallv;
 *   3. the requester runs SASRec and sends each remote slice's gradient
 *      back, one alltoallv; owners apply the sparse optimizer in their
 *      stores;
 *   4. rows replicated over G copies stay identical: every copy joins a
 *      ring all-reduce of the step's gradients of its touched rows (2(G−1)
 *      alltoallv phases, each copy sending 2(G−1)/G of the bytes), then
 *      applies the sum.
 * Payload bytes therefore follow rg-shard-sim.h's model one for one; the
 * layouts of requests travel beside them as control bytes, counted apart
 * (rg_comm_alltoallv_control). Every rank reads the same trace, so each
 * knows the step's touched rows without asking.
 *
 * Usage (what `reelgen shard run` does; launch with mpirun -np W):
 *
 *     g_autoptr (RgComm) comm = rg_comm_new_auto (&argc, &argv, &error);
 *     RgShardRunConfig cfg = rg_shard_run_config_default ();
 *     cfg.plan = plan;            // rg_shard_plan_load (…)
 *     cfg.trace = trace;          // rg_trace_load (…)
 *     cfg.first_batch = 0; cfg.n_batches = 8;
 *     cfg.work_dir = "/tmp/run";  // rank-<r>.rgemb files are made here
 *     g_autoptr (RgShardRunResult) r = rg_shard_run (comm, &cfg, &error);
 *     // every rank gets the same result: measured traffic matrix, step times
 *
 * Errors on one rank (a store that cannot be written, …) do not hang the
 * others: ranks keep joining the step's collectives and agree on failure at
 * the end of the step; then every rank returns an error. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "dist/rg-comm.h"
#include "embed/rg-embed-optim.h"
#include "embed/rg-shard-plan.h"
#include "embed/rg-trace.h"

G_BEGIN_DECLS

typedef struct
{
  const RgShardPlan *plan;
  const RgTrace *trace;
  uint32_t first_batch;
  uint32_t n_batches;
  const char *work_dir; /* must exist; per-rank store files are (re)created */
  RgEmbedOptim optim;   /* for every table */
  uint64_t seed;        /* table initialisation and SASRec weights */
  int max_len;          /* SASRec positions */
  int n_negatives;
} RgShardRunConfig;

typedef struct
{
  uint32_t world;
  uint32_t n_steps;
  /* measured, per step (averaged over the steps), identical on every rank */
  double *traffic;        /* world × world payload bytes, [src × world + dst] */
  double bytes_total;     /* Σ traffic */
  double bytes_allreduce; /* the replica rings' part of it */
  double control_bytes;   /* request layouts, not payload */
  double step_time;       /* seconds: slowest rank per step, mean over steps */
  double step_time_min;   /* fastest step (slowest rank) */
  double comm_time;       /* seconds per step inside collectives, slowest rank, mean */
  double lookups_remote;  /* (id, slice) lookups served by another rank */
  double lookups_local;
  float loss_first; /* SASRec loss, mean over ranks: first and last step */
  float loss_last;
} RgShardRunResult;

RgShardRunConfig rg_shard_run_config_default (void); /* Adagrad lr 0.05, max_len 50, K = 8 */

RgShardRunResult *rg_shard_run (RgComm *comm, const RgShardRunConfig *config, GError **error);
void rg_shard_run_result_free (RgShardRunResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgShardRunResult, rg_shard_run_result_free)

/* Largest relative difference between the measured traffic and a predicted
 * matrix (world × world, bytes per step), over the total and every link
 * that carries at least 1% of the total. */
double rg_shard_run_traffic_error (const RgShardRunResult *result, const double *predicted);

G_END_DECLS
