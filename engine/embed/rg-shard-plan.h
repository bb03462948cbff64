/* rg-shard-plan.h — where every embedding row lives: one structure for all schemes.
 *
 * A plan places each table's rows on devices and memory tiers. Whatever the
 * scheme — table-wise, row-wise, column-wise, data-parallel, RecShard's
 * per-row fast/slow split, FlexShard's replicated tiers — it is written as
 * *segments*:
 *
 *   segment = rows [row_begin, row_end) × columns [col_begin, col_end)
 *             of the table's *ranked* row space, kept in one tier (fast or
 *             slow) by n_groups replica groups of group_size devices each.
 *
 * Inside a group the rows are dealt cyclically: ranked row r sits on
 * devices[g × group_size + (r − row_begin) mod group_size]. Every group
 * holds a full copy of the segment, so
 *
 *   table-wise      1 segment, 1 group of 1 device
 *   row-wise        1 segment, 1 group of W devices
 *   column-wise     k segments over the same rows, each 1 group of 1 device
 *   data-parallel   1 segment, W groups of 1 device
 *   RecShard        2 segments (hot prefix fast, rest slow), 1 device each
 *   FlexShard       3 segments: hottest W groups of 1 (everywhere), next
 *                   N groups of the N nodes' devices, rest 1 group of W.
 *
 * Ranked row space: `rank[row]` (NULL = identity) renumbers physical rows so
 * hot rows are contiguous — RecShard's row remapping. Segments of a table
 * must tile [0, rows) × [0, dim) exactly: row ranges ascending and
 * contiguous, and the segments sharing one row range tile the columns in
 * order.
 *
 * A request for a row from device q is served by a replica on q itself if
 * there is one, else by a replica on q's node, else by group q mod n_groups
 * (so remote load spreads over the copies). rg_shard_segment_owner() is the
 * one implementation of that rule; the simulator and the real MPI run must
 * both use it.
 *
 * Plans optionally put a software cache (LRU/LFU, rg-embed-cache.h) in
 * front of each device's slow tier: that is how the cache baselines are
 * expressed at equal memory.
 *
 * Files: JSON (rg_shard_plan_save/load), validated on load: devices < W,
 * tiling as above, rank a permutation, sizes matching the trace's tables
 * when checked with rg_shard_plan_check_tables(). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "embed/rg-trace.h"

G_BEGIN_DECLS

#define RG_SHARD_MAX_DEVICES 1024

typedef enum {
  RG_TIER_FAST = 0, /* accelerator memory (HBM) */
  RG_TIER_SLOW = 1, /* host memory reached over PCIe / UVM */
} RgTier;

const char *rg_tier_name (RgTier tier); /* "fast", "slow" */

/* Machines: n_nodes × devices_per_node devices; device d is on node
 * d / devices_per_node. Capacities are per device, in bytes. */
typedef struct {
  uint32_t n_nodes;
  uint32_t devices_per_node;
  uint64_t fast_bytes;
  uint64_t slow_bytes;
} RgTopology;

static inline uint32_t
rg_topology_world (const RgTopology *topo)
{
  return topo->n_nodes * topo->devices_per_node;
}

static inline uint32_t
rg_topology_node (const RgTopology *topo, uint32_t device)
{
  return device / topo->devices_per_node;
}

gboolean rg_topology_validate (const RgTopology *topo, GError **error);

/* How the G replicas of a row (devices sorted ascending) sit on the nodes:
 * *nodes distinct nodes, and TRUE with *per_node = q when every one of them
 * holds exactly q copies (a hierarchical all-reduce applies: rings of q
 * inside each node, then rings of the j-th copies across nodes); FALSE when
 * the counts differ (one flat ring). The simulator and the real run both
 * follow this rule, so their byte counts agree. */
gboolean rg_shard_ring_layout (const RgTopology *topo, const uint32_t *sorted_devices,
                               uint32_t n, uint32_t *nodes, uint32_t *per_node);

typedef struct {
  int64_t   row_begin, row_end; /* ranked rows */
  uint32_t  col_begin, col_end;
  RgTier    tier;
  uint32_t  n_groups;
  uint32_t  group_size;
  uint32_t *devices; /* n_groups × group_size */
} RgShardSegment;

typedef struct {
  int64_t         rows;
  uint32_t        dim;
  uint32_t        elem_bytes;
  int64_t        *rank; /* physical row → ranked row; NULL = identity */
  uint32_t        n_segments;
  RgShardSegment *segments;
} RgShardTable;

typedef enum {
  RG_SHARD_CACHE_NONE = 0,
  RG_SHARD_CACHE_LRU,
  RG_SHARD_CACHE_LFU,
} RgShardCacheKind;

typedef struct {
  char            *scheme; /* "recshard", "flexshard", "row-wise", … */
  RgTopology       topo;
  RgShardCacheKind cache;      /* in front of each device's slow tier */
  int64_t          cache_rows; /* per device, when cache != NONE */
  uint32_t         n_tables;
  RgShardTable    *tables;
} RgShardPlan;

/* An empty plan (no segments) for the trace's tables on `topo`. */
RgShardPlan *rg_shard_plan_new (const char *scheme, const RgTopology *topo,
                                const RgTableSpec *tables, uint32_t n_tables);
void         rg_shard_plan_free (RgShardPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgShardPlan, rg_shard_plan_free)

/* Appends a segment to table t; `devices` (n_groups × group_size) is copied. */
void rg_shard_plan_add (RgShardPlan *plan, uint32_t t, int64_t row_begin, int64_t row_end,
                        uint32_t col_begin, uint32_t col_end, RgTier tier, uint32_t n_groups,
                        uint32_t group_size, const uint32_t *devices);

/* Takes ownership of `rank` (physical row → ranked row, a permutation). */
void rg_shard_plan_set_rank (RgShardPlan *plan, uint32_t t, int64_t *rank);

static inline int64_t
rg_shard_table_rank (const RgShardTable *t, int64_t row)
{
  return t->rank ? t->rank[row] : row;
}

/* Structure: devices in range, groups non-empty, segments tile the table,
 * rank a permutation. The error names the table and segment. */
gboolean rg_shard_plan_validate (const RgShardPlan *plan, GError **error);

/* The plan's tables match these specs (same count, rows, dim, elem size). */
gboolean rg_shard_plan_check_tables (const RgShardPlan *plan, const RgTableSpec *tables,
                                     uint32_t n_tables, GError **error);

/* Bytes each device holds in each tier (arrays of W entries; either may be
 * NULL). The slow-tier cache, if any, counts as fast memory. */
void rg_shard_plan_device_bytes (const RgShardPlan *plan, uint64_t *fast, uint64_t *slow);

/* Every device within its fast and slow capacity; otherwise
 * RG_ERROR_NO_MEMORY naming the first device that does not fit, the tier,
 * what it needs, what it has and the shortfall in bytes. */
gboolean rg_shard_plan_check_fit (const RgShardPlan *plan, GError **error);

/* Segments covering ranked row `rank` of table t: [*first, *first + *n)
 * (n > 1 only for column splits). Binary search. */
void rg_shard_table_find (const RgShardTable *t, int64_t rank, uint32_t *first, uint32_t *n);

/* The device that serves ranked row `rank` of `seg` to `requester`. */
uint32_t rg_shard_segment_owner (const RgTopology *topo, const RgShardSegment *seg,
                                 int64_t rank, uint32_t requester);

gboolean     rg_shard_plan_save (const RgShardPlan *plan, const char *path, GError **error);
RgShardPlan *rg_shard_plan_load (const char *path, GError **error);

G_END_DECLS
