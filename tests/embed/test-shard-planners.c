/* test-shard-planners.c — RecShard (cost, greedy vs MILP), FlexShard, baselines. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include <json-glib/json-glib.h>

#include "embed/rg-shard-bench.h"
#include "embed/rg-shard-planner.h"
#include "rg-config.h"

static RgShardCost
unit_cost (void)
{
  RgShardCost c;
  rg_shard_cost_defaults (&c);
  c.fast_bw = 1.0;
  c.slow_bw = 0.5;
  return c;
}

/* 7 lookups over 2 batches (3.5 per step) of 16-byte rows, counts 4, 2, 1:
 *   cost(h = 1) = 3.5 · 16 · (4/7 / 1 + 3/7 / 0.5) = 56 · 10/7 = 80
 *   cost(h = 0) = 56 / 0.5 = 112;  cost(h = 3) = 56. */
static void
test_cost_formula (void)
{
  uint64_t       counts[6] = { 1, 0, 4, 0, 2, 0 };
  int64_t        order[6] = { 2, 4, 0, 1, 3, 5 };
  uint64_t       cum[7] = { 0, 4, 6, 7, 7, 7, 7 };
  RgTableProfile p = { 6, 16, 7, 6, 4, 3, 3, 4.0 / 6, 7.0 / 4, counts, order, cum };
  RgProfile      prof = { 1, 0, 2, 3, &p };
  RgShardCost    c = unit_cost ();
  g_assert_cmpfloat_with_epsilon (rg_recshard_table_cost (&p, &prof, 1, &c), 80.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (rg_recshard_table_cost (&p, &prof, 0, &c), 112.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (rg_recshard_table_cost (&p, &prof, 3, &c), 56.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (rg_recshard_table_cost (&p, &prof, 6, &c), 56.0, 1e-9);
}

static RgTrace *
make_trace (uint32_t n_tables, double rows_scale, gboolean sequence, uint32_t batches,
            uint64_t seed)
{
  g_autofree RgTableSpec *specs = g_new0 (RgTableSpec, n_tables);
  if (sequence)
    rg_trace_preset_sequence (specs, n_tables, rows_scale, 16);
  else
    rg_trace_preset_dlrm (specs, n_tables, rows_scale);
  RgTraceConfig tc = { n_tables, specs, 256, batches, seed };
  return rg_trace_generate (&tc, NULL);
}

/* The greedy must come within 2 % of the exact MILP optimum (the x of the
 * brief) on small instances; on these it usually matches exactly. */
#define GREEDY_MILP_TOLERANCE 0.02

static void
test_greedy_vs_milp (void)
{
#if RG_HAVE_GLPK
  RgShardCost c;
  rg_shard_cost_defaults (&c);
  for (uint64_t seed = 1; seed <= 4; seed++)
    {
      g_autoptr (RgTrace) t = make_trace (5, 0.02, FALSE, 2, seed);
      g_autoptr (RgProfile) prof = rg_profile_build (t, 0, 2, NULL);
      /* Fast memory for about half the rows the profile touched, so the
       * breakpoints matter and not every hot row fits. */
      uint64_t hot = 0;
      for (uint32_t i = 0; i < t->n_tables; i++)
        hot += (uint64_t) prof->tables[i].unique_rows * prof->tables[i].row_bytes;
      RgTopology topo = { 1, 3, hot / 6, 1 << 30 };
      RgRecShardOptions o;
      rg_recshard_options_defaults (&o);
      o.max_pieces = 100000; /* every run its own piece: the MILP is exact */
      g_autoptr (GError) error = NULL;
      g_autoptr (RgShardPlan) g = rg_recshard_plan_greedy (prof, t->tables, &topo, &c, &o, &error);
      g_assert_no_error (error);
      g_autoptr (RgShardPlan) m = rg_recshard_plan_milp (prof, t->tables, &topo, &c, &o, &error);
      g_assert_no_error (error);
      g_assert_true (rg_shard_plan_check_fit (g, NULL));
      g_assert_true (rg_shard_plan_check_fit (m, NULL));
      double og = rg_recshard_plan_objective (g, prof, &c);
      double om = rg_recshard_plan_objective (m, prof, &c);
      g_test_message ("seed %" G_GUINT64_FORMAT ": greedy %.4g s, MILP %.4g s (%+.3f%%)", seed, og,
                      om, 100 * (og / om - 1));
      g_assert_cmpfloat (og, <=, om * (1 + GREEDY_MILP_TOLERANCE));
      /* The MILP is optimal up to rounding rows down. */
      g_assert_cmpfloat (om, <=, og * (1 + 1e-3));
    }
#else
  g_test_skip ("built without GLPK");
#endif
}

/* RecShard keeps every table's hottest rows in fast memory: on a
 * capacity-constrained machine it reads the slow tier far less than any
 * whole-table greedy, and every plan fits. */
static void
test_recshard_beats_greedy (void)
{
  g_autoptr (RgTrace) t = make_trace (24, 0.1, FALSE, 4, 9);
  g_autoptr (RgProfile) prof = rg_profile_build (t, 0, 2, NULL);
  RgShardCost c;
  rg_shard_cost_defaults (&c);
  RgTopology topo = { 1, 4, (uint64_t) (0.25 * rg_trace_total_bytes (t) / 4), 1ull << 30 };
  RgRecShardOptions o;
  rg_recshard_options_defaults (&o);
  g_autoptr (RgShardPlan) rec = rg_recshard_plan_greedy (prof, t->tables, &topo, &c, &o, NULL);
  g_assert_true (rg_shard_plan_check_fit (rec, NULL));
  g_autoptr (RgShardSimResult) rs = rg_shard_simulate (rec, t, 2, 2, &c, NULL);
  for (int m = RG_GREEDY_SIZE; m <= RG_GREEDY_SIZE_LOOKUP; m++)
    {
      g_autoptr (RgShardPlan) g = rg_shard_plan_greedy (m, prof, t->tables, &topo, NULL);
      g_assert_true (rg_shard_plan_check_fit (g, NULL));
      g_autoptr (RgShardSimResult) gs = rg_shard_simulate (g, t, 2, 2, &c, NULL);
      g_test_message ("%s: %.0f slow reads vs recshard %.0f", g->scheme, gs->slow_accesses,
                      rs->slow_accesses);
      g_assert_cmpfloat (rs->slow_accesses * 20, <, gs->slow_accesses);
      g_assert_cmpfloat (rs->throughput, >, gs->throughput);
    }
  /* Hot rows first: rank 0 of every table is its most read row. */
  for (uint32_t i = 0; i < t->n_tables; i++)
    g_assert_cmpint (rec->tables[i].rank[prof->tables[i].order[0]], ==, 0);
}

/* Hundreds of tables, tens of devices: the greedy stays quick. */
static void
test_recshard_scales (void)
{
  g_autoptr (RgTrace) t = make_trace (200, 0.02, FALSE, 1, 3);
  g_autoptr (RgProfile) prof = rg_profile_build (t, 0, 1, NULL);
  RgShardCost c;
  rg_shard_cost_defaults (&c);
  RgTopology topo = { 4, 8, (uint64_t) (0.2 * rg_trace_total_bytes (t) / 32), 1ull << 30 };
  RgRecShardOptions o;
  rg_recshard_options_defaults (&o);
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (RgShardPlan) p = rg_recshard_plan_greedy (prof, t->tables, &topo, &c, &o, NULL);
  double secs = (g_get_monotonic_time () - t0) / 1e6;
  g_test_message ("200 tables on 32 devices planned in %.2f s", secs);
  g_assert_nonnull (p);
  g_assert_true (rg_shard_plan_check_fit (p, NULL));
  g_assert_cmpfloat (secs, <, 20.0);
}

/* FlexShard never uses more accelerator memory per device than row-wise,
 * never communicates longer, and moves far fewer all-to-all bytes on a
 * skewed sequence trace. */
static void
test_flexshard (void)
{
  g_autoptr (RgTrace) t = make_trace (6, 0.1, TRUE, 4, 5);
  g_autoptr (RgProfile) prof = rg_profile_build (t, 0, 2, NULL);
  RgShardCost c;
  rg_shard_cost_defaults (&c);
  c.inter_bw = c.intra_bw / 12;
  RgTopology shapes[] = { { 2, 4, 0, 1ull << 30 }, { 2, 8, 0, 1ull << 30 }, { 1, 8, 0, 1ull << 30 },
                          { 4, 2, 0, 1ull << 30 } };
  for (guint k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      RgTopology topo = shapes[k];
      uint32_t   W = rg_topology_world (&topo);
      topo.fast_bytes = 1ull << 40; /* measure row-wise unconstrained */
      g_autoptr (GError) error = NULL;
      g_autoptr (RgShardPlan) rw = rg_shard_plan_classic ("row-wise", prof, t->tables,
                                                          t->n_tables, &topo, &error);
      g_autofree uint64_t *rw_fast = g_new0 (uint64_t, W), *fx_fast = g_new0 (uint64_t, W);
      rg_shard_plan_device_bytes (rw, rw_fast, NULL);
      uint64_t rw_max = 0;
      for (uint32_t d = 0; d < W; d++)
        rw_max = MAX (rw_max, rw_fast[d]);
      topo.fast_bytes = rw_max; /* equal memory */
      g_autoptr (RgShardPlan) fx = rg_flexshard_plan (prof, t->tables, &topo, &c, 0, &error);
      g_assert_no_error (error);
      g_assert_true (rg_shard_plan_validate (fx, NULL));
      rg_shard_plan_device_bytes (fx, fx_fast, NULL);
      for (uint32_t d = 0; d < W; d++)
        g_assert_cmpuint (fx_fast[d], <=, rw_max);
      g_assert_true (rg_shard_plan_check_fit (fx, NULL));

      rw->topo.fast_bytes = rw_max;
      g_autoptr (RgShardSimResult) a = rg_shard_simulate (rw, t, 2, 2, &c, NULL);
      g_autoptr (RgShardSimResult) b = rg_shard_simulate (fx, t, 2, 2, &c, NULL);
      g_test_message ("%u×%u: a2a %.0f → %.0f bytes, comm %.3g → %.3g s", topo.n_nodes,
                      topo.devices_per_node, a->bytes_a2a, b->bytes_a2a, a->comm_time,
                      b->comm_time);
      /* Never worse than row-wise; where replication pays for its
       * all-reduce and extra collective (across nodes, in small worlds:
       * batch 256 leaves 16 samples a device on 16), far fewer all-to-all
       * bytes. */
      g_assert_cmpfloat (b->bytes_a2a, <=, a->bytes_a2a);
      g_assert_cmpfloat (b->comm_time, <, a->comm_time);
      if (topo.n_nodes > 1 && W <= 8)
        g_assert_cmpfloat (b->bytes_a2a, <, 0.5 * a->bytes_a2a);
    }

  /* A budget below what the profiled rows need is refused with the shortfall. */
  RgTopology topo = { 2, 4, 0, 1ull << 30 };
  g_autoptr (GError) error = NULL;
  g_assert_null (rg_flexshard_plan (prof, t->tables, &topo, &c, 100, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "short by"));
}

/* Whole-table greedy by hand: tables of 300, 200 and 100 bytes read 10,
 * 20 and 30 times, 2 devices of 250 fast bytes. By size: 300 → device 0
 * (does not fit fast: slow), 200 → device 1 (fast), 100 → device 1 (its
 * 200 < 300 accumulated; 200 + 100 > 250: slow). */
static void
test_greedy_by_hand (void)
{
  RgTableSpec specs[3];
  int64_t     rows[3] = { 75, 50, 25 }; /* 4-byte rows: 300, 200, 100 bytes */
  for (int i = 0; i < 3; i++)
    specs[i] = (RgTableSpec) { RG_TABLE_POOLED, 1, 4, rows[i], 10, 1.0, 0.0, 1.0, 1.0 };
  RgTableProfile tp[3] = { { 0 } };
  for (int i = 0; i < 3; i++)
    tp[i].accesses = (uint64_t) (10 * (i + 1)); /* lookups 10, 20, 30 */
  RgProfile  prof = { 3, 0, 1, 1, tp };
  RgTopology topo = { 1, 2, 250, 1000 };
  g_autoptr (RgShardPlan) p = rg_shard_plan_greedy (RG_GREEDY_SIZE, &prof, specs, &topo, NULL);
  g_assert_cmpuint (p->tables[0].segments[0].devices[0], ==, 0);
  g_assert_cmpint (p->tables[0].segments[0].tier, ==, RG_TIER_SLOW);
  g_assert_cmpuint (p->tables[1].segments[0].devices[0], ==, 1);
  g_assert_cmpint (p->tables[1].segments[0].tier, ==, RG_TIER_FAST);
  g_assert_cmpuint (p->tables[2].segments[0].devices[0], ==, 1);
  g_assert_cmpint (p->tables[2].segments[0].tier, ==, RG_TIER_SLOW);
  /* By lookups the order flips: 30 (100 B) → dev 0 fast, 20 (200 B) → dev 1
   * fast, 10 (300 B) → dev 1 (20 < 30) slow. */
  g_autoptr (RgShardPlan) q = rg_shard_plan_greedy (RG_GREEDY_LOOKUP, &prof, specs, &topo, NULL);
  g_assert_cmpuint (q->tables[2].segments[0].devices[0], ==, 0);
  g_assert_cmpint (q->tables[2].segments[0].tier, ==, RG_TIER_FAST);
  g_assert_cmpuint (q->tables[1].segments[0].devices[0], ==, 1);
  g_assert_cmpint (q->tables[1].segments[0].tier, ==, RG_TIER_FAST);
  g_assert_cmpuint (q->tables[0].segments[0].devices[0], ==, 1);
  g_assert_cmpint (q->tables[0].segments[0].tier, ==, RG_TIER_SLOW);
}

static void
test_classic_shapes (void)
{
  RgTableSpec specs[2] = { { RG_TABLE_POOLED, 64, 4, 100, 10, 1.0, 0.0, 1.0, 1.0 },
                           { RG_TABLE_POOLED, 16, 4, 40, 10, 1.0, 0.0, 1.0, 1.0 } };
  RgTopology  topo = { 2, 2, 1 << 20, 1 << 20 };
  g_autoptr (RgShardPlan) cw = rg_shard_plan_classic ("column-wise", NULL, specs, 2, &topo, NULL);
  g_assert_true (rg_shard_plan_validate (cw, NULL));
  g_assert_cmpuint (cw->tables[0].n_segments, ==, 2); /* 64 columns in 32-wide slices */
  g_assert_cmpuint (cw->tables[1].n_segments, ==, 1);
  g_autoptr (RgShardPlan) trw = rg_shard_plan_classic ("table-row-wise", NULL, specs, 2, &topo, NULL);
  g_assert_cmpuint (trw->tables[0].segments[0].group_size, ==, 2);
  g_assert_cmpuint (trw->tables[0].segments[0].devices[0] / 2, !=,
                    trw->tables[1].segments[0].devices[0] / 2); /* different nodes */
  g_autoptr (RgShardPlan) dp = rg_shard_plan_classic ("data-parallel", NULL, specs, 2, &topo, NULL);
  g_assert_cmpuint (dp->tables[0].segments[0].n_groups, ==, 4);

  /* Not enough fast memory: whole segments spill to slow, so the plan fits. */
  topo.fast_bytes = 1000;
  g_autoptr (RgShardPlan) tw = rg_shard_plan_classic ("table-wise", NULL, specs, 2, &topo, NULL);
  g_assert_true (rg_shard_plan_check_fit (tw, NULL));
  g_assert_cmpint (tw->tables[0].segments[0].tier, ==, RG_TIER_SLOW);

  g_autoptr (GError) error = NULL;
  g_assert_null (rg_shard_plan_classic ("diagonal", NULL, specs, 2, &topo, &error));
  g_assert_nonnull (strstr (error->message, "diagonal"));
}

/* LRU/LFU at the same fast memory: the cache counts as fast bytes and its
 * hits are not slow-tier reads. */
static void
test_cache_baseline (void)
{
  g_autoptr (RgTrace) t = make_trace (4, 0.05, FALSE, 4, 2);
  RgTopology topo = { 1, 2, 64 * 1024, 1ull << 30 };
  RgShardCost c;
  rg_shard_cost_defaults (&c);
  g_autoptr (RgShardPlan) lru = rg_shard_plan_cache (RG_SHARD_CACHE_LRU, t->tables, 4, &topo, NULL);
  g_assert_true (rg_shard_plan_check_fit (lru, NULL));
  g_autoptr (RgShardSimResult) r = rg_shard_simulate (lru, t, 2, 2, &c, NULL);
  g_assert_cmpfloat (r->cache_hits, >, 0);
  g_assert_cmpfloat_with_epsilon (r->cache_hits + r->slow_accesses, r->lookups, 1e-9);
}

/* The side-by-side bench on a toy instance: every scheme evaluated, the
 * ratios computed from those rows, and the JSON well formed. */
static void
test_bench_small (void)
{
  RgShardBenchConfig c;
  rg_shard_bench_config_defaults (&c);
  c.n_tables = 4;
  c.batch_size = 256;
  c.profile_batches = 1;
  c.eval_batches = 1;
  c.rows_scale = 0.05;
  c.n_nodes = 2;
  c.devices_per_node = 2;
  g_autoptr (GError) error = NULL;
  g_autoptr (RgShardBenchResult) r = rg_shard_bench_run (&c, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->memory->len, ==, 9);
  g_assert_cmpuint (r->network->len, ==, 6);
  const RgShardBenchRow *rec = g_ptr_array_index (r->memory, 0);
  g_assert_cmpstr (rec->scheme, ==, "recshard");
  g_assert_true (rec->fits);
  g_assert_cmpfloat (r->throughput_ratio, >, 1.0);
  g_assert_cmpfloat (r->slow_ratio, >, 1.0);
  g_assert_cmpfloat (r->comm_ratio, >=, 1.0);
  g_autofree char *js = rg_shard_bench_to_json (r);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, js, -1, NULL));
  JsonObject *net = json_object_get_object_member (json_node_get_object (json_parser_get_root (p)),
                                                   "network");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (net, "comm_ratio"), r->comm_ratio,
                                  1e-3 * r->comm_ratio);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/embed/planners/cost-formula", test_cost_formula);
  g_test_add_func ("/embed/planners/greedy-vs-milp", test_greedy_vs_milp);
  g_test_add_func ("/embed/planners/recshard-vs-greedy", test_recshard_beats_greedy);
  g_test_add_func ("/embed/planners/recshard-scales", test_recshard_scales);
  g_test_add_func ("/embed/planners/flexshard", test_flexshard);
  g_test_add_func ("/embed/planners/greedy-by-hand", test_greedy_by_hand);
  g_test_add_func ("/embed/planners/classic", test_classic_shapes);
  g_test_add_func ("/embed/planners/cache", test_cache_baseline);
  g_test_add_func ("/embed/planners/bench-small", test_bench_small);
  return g_test_run ();
}
