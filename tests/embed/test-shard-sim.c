/* test-shard-sim.c — the simulator on cases small enough to add up by hand. */
#include <glib.h>
#include <string.h>

#include "embed/rg-shard-sim.h"

/* Round numbers so every figure below can be checked on paper. */
static const RgShardCost cost = {
  .fast_bw = 1.0, .slow_bw = 0.5, .intra_bw = 100.0, .inter_bw = 4.0,
  .collective_latency = 1.0, .id_bytes = 8.0, .update_factor = 2.0,
};

/* 2 nodes × 1 device; one table of 4 rows × 2 f32 (8 bytes a row). */
static const RgTopology topo = { 2, 1, 1 << 20, 1 << 20 };
static const uint32_t    both[2] = { 0, 1 };

/* One batch of two samples: sample 0 runs on device 0, sample 1 on device 1. */
static uint32_t offsets[3];
static int64_t  ids[8];

static RgTrace *
trace_of (RgTableSpec *spec, RgTraceBag *bag, RgTableKind kind, const int64_t *s0, int n0,
          const int64_t *s1, int n1)
{
  *spec = (RgTableSpec) { kind, 2, 4, 4, 4, 1.0, 0.0, 1.0, 1.0 };
  offsets[0] = 0;
  offsets[1] = (uint32_t) n0;
  offsets[2] = (uint32_t) (n0 + n1);
  memcpy (ids, s0, sizeof (int64_t) * n0);
  memcpy (ids + n0, s1, sizeof (int64_t) * n1);
  *bag = (RgTraceBag) { offsets, ids, (uint64_t) (n0 + n1) };
  RgTrace *t = g_new0 (RgTrace, 1);
  *t = (RgTrace) { 1, spec, 2, 1, 0, bag };
  return t;
}

static RgShardPlan *
row_wise (const RgTableSpec *spec, RgTier tier)
{
  RgShardPlan *p = rg_shard_plan_new ("row-wise", &topo, spec, 1);
  rg_shard_plan_add (p, 0, 0, 4, 0, 2, tier, 1, 2, both); /* row r on device r mod 2 */
  return p;
}

/* Sequence table, row-wise. Device 0 reads rows 1 (remote) and 2 (local);
 * device 1 reads row 1 (local).
 *   0 → 1: id 8 + gradient 8 = 16;  1 → 0: embedding 8.   All inter-node.
 *   memory: device 0 reads 8 and updates row 2 once (2 × 8) = 24;
 *           device 1 reads 8 twice and updates row 1 once = 32   (÷ fast_bw 1)
 *   comm: both devices move max(16 out, 8 in) = 16 inter bytes / 4 = 4,
 *         plus 2 all-to-all phases × latency 1 = 6.  Step 38, 2 samples. */
static void
test_sequence_row_wise (void)
{
  RgTableSpec spec;
  RgTraceBag  bag;
  int64_t     a[] = { 1, 2 }, b[] = { 1 };
  g_autofree RgTrace *t = trace_of (&spec, &bag, RG_TABLE_SEQUENCE, a, 2, b, 1);
  g_autoptr (RgShardPlan) p = row_wise (&spec, RG_TIER_FAST);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgShardSimResult) r = rg_shard_simulate (p, t, 0, 1, &cost, &error);
  g_assert_no_error (error);

  g_assert_cmpfloat (r->traffic[0 * 2 + 1], ==, 16.0);
  g_assert_cmpfloat (r->traffic[1 * 2 + 0], ==, 8.0);
  g_assert_cmpfloat (r->traffic[0], ==, 0.0);
  g_assert_cmpfloat (r->bytes_inter, ==, 24.0);
  g_assert_cmpfloat (r->bytes_intra, ==, 0.0);
  g_assert_cmpfloat (r->bytes_a2a, ==, 24.0);
  g_assert_cmpfloat (r->bytes_a2a_inter, ==, 24.0); /* the two devices are on two nodes */
  g_assert_cmpfloat (r->bytes_allreduce, ==, 0.0);
  g_assert_cmpfloat (r->lookups, ==, 3.0);
  g_assert_cmpfloat (r->local_lookups, ==, 2.0);
  g_assert_cmpfloat (r->slow_accesses, ==, 0.0);
  g_assert_cmpfloat (r->device_load[0], ==, 24.0);
  g_assert_cmpfloat (r->device_load[1], ==, 32.0);
  g_assert_cmpfloat_with_epsilon (r->load_imbalance, 32.0 / 28.0, 1e-12);
  g_assert_cmpfloat (r->comm_time, ==, 6.0);
  g_assert_cmpfloat (r->step_time, ==, 38.0);
  g_assert_cmpfloat_with_epsilon (r->throughput, 2.0 / 38.0, 1e-12);
}

/* The same reads from the slow tier: three slow accesses, memory time
 * doubles (slow_bw 0.5). */
static void
test_slow_tier (void)
{
  RgTableSpec spec;
  RgTraceBag  bag;
  int64_t     a[] = { 1, 2 }, b[] = { 1 };
  g_autofree RgTrace *t = trace_of (&spec, &bag, RG_TABLE_SEQUENCE, a, 2, b, 1);
  g_autoptr (RgShardPlan) p = row_wise (&spec, RG_TIER_SLOW);
  g_autoptr (RgShardSimResult) r = rg_shard_simulate (p, t, 0, 1, &cost, NULL);
  g_assert_cmpfloat (r->slow_accesses, ==, 3.0);
  g_assert_cmpfloat (r->device_load[0], ==, 48.0);
  g_assert_cmpfloat (r->device_load[1], ==, 64.0);
}

/* Pooled: device 0's bag {1, 3} lives wholly on device 1, so it costs two
 * ids (16) and one partial sum each way (8 + 8): 0 → 1 carries 24, 1 → 0
 * carries 8 — not 2 × 8 as unpooled rows would. Device 1 reads its own row. */
static void
test_pooled (void)
{
  RgTableSpec spec;
  RgTraceBag  bag;
  int64_t     a[] = { 1, 3 }, b[] = { 1 };
  g_autofree RgTrace *t = trace_of (&spec, &bag, RG_TABLE_POOLED, a, 2, b, 1);
  g_autoptr (RgShardPlan) p = row_wise (&spec, RG_TIER_FAST);
  g_autoptr (RgShardSimResult) r = rg_shard_simulate (p, t, 0, 1, &cost, NULL);
  g_assert_cmpfloat (r->traffic[0 * 2 + 1], ==, 24.0);
  g_assert_cmpfloat (r->traffic[1 * 2 + 0], ==, 8.0);
  g_assert_cmpfloat (r->bytes_a2a, ==, 32.0);
  g_assert_cmpfloat (r->local_lookups, ==, 1.0); /* device 1 reads its own row 1 */
}

/* Data-parallel: every read is local, but the copies of row 1 exchange
 * gradients: an all-reduce of 2 copies on 2 nodes sends 2(2 − 1)/2 × 8 = 8
 * bytes each way across the nodes. One collective phase: comm = 8/4 + 1. */
static void
test_replicas_all_reduce (void)
{
  RgTableSpec spec;
  RgTraceBag  bag;
  int64_t     a[] = { 1 }, b[] = { 1 };
  g_autofree RgTrace *t = trace_of (&spec, &bag, RG_TABLE_SEQUENCE, a, 1, b, 1);
  g_autoptr (RgShardPlan) p = rg_shard_plan_new ("data-parallel", &topo, &spec, 1);
  rg_shard_plan_add (p, 0, 0, 4, 0, 2, RG_TIER_FAST, 2, 1, both);
  g_autoptr (RgShardSimResult) r = rg_shard_simulate (p, t, 0, 1, &cost, NULL);
  g_assert_cmpfloat (r->local_lookups, ==, 2.0);
  g_assert_cmpfloat (r->bytes_a2a, ==, 0.0);
  g_assert_cmpfloat (r->bytes_a2a_inter, ==, 0.0);
  g_assert_cmpfloat (r->traffic[0 * 2 + 1], ==, 8.0);
  g_assert_cmpfloat (r->traffic[1 * 2 + 0], ==, 8.0);
  g_assert_cmpfloat (r->bytes_allreduce, ==, 16.0);
  g_assert_cmpfloat (r->comm_time, ==, 3.0);
  /* Each copy reads once (8) and applies the update once (16). */
  g_assert_cmpfloat (r->device_load[0], ==, 24.0);
  g_assert_cmpfloat (r->device_load[1], ==, 24.0);
}

/* A plan for other tables is refused with a message, not simulated. */
static void
test_mismatch (void)
{
  RgTableSpec spec;
  RgTraceBag  bag;
  int64_t     a[] = { 1 }, b[] = { 1 };
  g_autofree RgTrace *t = trace_of (&spec, &bag, RG_TABLE_SEQUENCE, a, 1, b, 1);
  RgTableSpec other = spec;
  other.rows = 5;
  g_autoptr (RgShardPlan) p = rg_shard_plan_new ("x", &topo, &other, 1);
  rg_shard_plan_add (p, 0, 0, 5, 0, 2, RG_TIER_FAST, 1, 2, both);
  g_autoptr (GError) error = NULL;
  g_assert_null (rg_shard_simulate (p, t, 0, 1, &cost, &error));
  g_assert_nonnull (strstr (error->message, "table 0"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/embed/shard-sim/sequence-row-wise", test_sequence_row_wise);
  g_test_add_func ("/embed/shard-sim/slow-tier", test_slow_tier);
  g_test_add_func ("/embed/shard-sim/pooled", test_pooled);
  g_test_add_func ("/embed/shard-sim/all-reduce", test_replicas_all_reduce);
  g_test_add_func ("/embed/shard-sim/mismatch", test_mismatch);
  return g_test_run ();
}
