/* rg-recshard-private.h — what RecShard's two solvers share (not public). */
#pragma once

#include "embed/rg-shard-planner.h"

G_BEGIN_DECLS

/* A run: `rows` consecutive ranked rows of `table` read `count` times each.
 * The access CDF is linear inside a run, so runs are its exact pieces. */
typedef struct {
  uint32_t table;
  uint64_t count;
  int64_t  rows;
} RgRun;

typedef struct {
  gsize  n;
  RgRun *runs; /* hottest first; rows never read are not listed */
} RgRuns;

RgRuns *rg_runs_new (const RgProfile *profile);
void    rg_runs_free (RgRuns *runs, uint32_t n_tables);

uint64_t rg_recshard_allocate (const RgProfile *profile, const RgRuns *runs,
                               const uint32_t *members, uint32_t n_members, uint64_t fast_bytes,
                               int64_t *h);

RgShardPlan *rg_recshard_build_plan (const char *scheme, const RgProfile *profile,
                                     const RgTableSpec *tables, const RgTopology *topo,
                                     const uint32_t *device, const int64_t *h);

G_END_DECLS
