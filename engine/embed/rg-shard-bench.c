/* rg-shard-bench.c — the side-by-side comparison behind `reelgen shard bench`. */
#include "embed/rg-shard-bench.h"

#include <math.h>
#include <string.h>

#include "core/rg-error.h"

void
rg_shard_bench_config_defaults (RgShardBenchConfig *c)
{
  c->n_tables = 16;
  /* 256 samples per device on 16: TorchRec's planner assumes 512 a rank. */
  c->batch_size = 4096;
  c->profile_batches = 2;
  c->eval_batches = 2;
  c->seed = 1;
  c->rows_scale = 1.0;
  c->seq_len = 32;
  c->n_nodes = 2;
  c->devices_per_node = 8;
  c->fast_share = 0.25;
  c->inter_ratio = 12.0;
}

static void
row_free (gpointer p)
{
  RgShardBenchRow *row = p;
  g_free (row->scheme);
  g_free (row->fit_error);
  rg_shard_sim_result_free (row->sim);
  g_free (row);
}

void
rg_shard_bench_result_free (RgShardBenchResult *r)
{
  if (!r)
    return;
  if (r->memory)
    g_ptr_array_unref (r->memory);
  if (r->network)
    g_ptr_array_unref (r->network);
  g_free (r);
}

/* Plan, check the fit, simulate on profile and evaluation batches. */
static RgShardBenchRow *
evaluate (const char *scheme, const RgTrace *trace, const RgProfile *profile,
          const RgTopology *topo, const RgShardCost *cost, uint32_t eval_first,
          uint32_t eval_n, GError **error)
{
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (RgShardPlan) plan
      = rg_shard_plan_by_name (scheme, profile, trace->tables, trace->n_tables, topo, cost, error);
  if (!plan)
    return NULL;
  RgShardBenchRow *row = g_new0 (RgShardBenchRow, 1);
  row->scheme = g_strdup (scheme);
  row->plan_seconds = (double) (g_get_monotonic_time () - t0) / 1e6;
  uint32_t             W = rg_topology_world (topo);
  g_autofree uint64_t *fast = g_new0 (uint64_t, W);
  g_autofree uint64_t *slow = g_new0 (uint64_t, W);
  rg_shard_plan_device_bytes (plan, fast, slow);
  for (uint32_t d = 0; d < W; d++)
    {
      row->fast_bytes_max = MAX (row->fast_bytes_max, fast[d]);
      row->slow_bytes_max = MAX (row->slow_bytes_max, slow[d]);
    }
  g_autoptr (GError) fit = NULL;
  row->fits = rg_shard_plan_check_fit (plan, &fit);
  if (!row->fits)
    row->fit_error = g_strdup (fit->message);

  g_autoptr (RgShardSimResult) seen = rg_shard_simulate (plan, trace, profile->first_batch,
                                                         profile->n_batches, cost, error);
  row->sim = seen ? rg_shard_simulate (plan, trace, eval_first, eval_n, cost, error) : NULL;
  if (!row->sim)
    {
      row_free (row);
      return NULL;
    }
  row->drift = seen->step_time > 0 ? row->sim->step_time / seen->step_time - 1.0 : 0.0;
  return row;
}

static RgTrace *
make_trace (const RgShardBenchConfig *c, gboolean sequence, GError **error)
{
  g_autofree RgTableSpec *specs = g_new0 (RgTableSpec, c->n_tables);
  if (sequence)
    rg_trace_preset_sequence (specs, c->n_tables, c->rows_scale, c->seq_len);
  else
    rg_trace_preset_dlrm (specs, c->n_tables, c->rows_scale);
  RgTraceConfig tc = { c->n_tables, specs, c->batch_size, c->profile_batches + c->eval_batches,
                       c->seed + (sequence ? 1 : 0) };
  return rg_trace_generate (&tc, error);
}

static gboolean
memory_experiment (const RgShardBenchConfig *c, RgShardBenchResult *res, GError **error)
{
  static const char *schemes[] = { "recshard", "greedy-size", "greedy-lookup",
                                   "greedy-size-lookup", "lru", "lfu", "table-wise",
                                   "row-wise", "column-wise", NULL };
  g_autoptr (RgTrace) trace = make_trace (c, FALSE, error);
  if (!trace)
    return FALSE;
  g_autoptr (RgProfile) profile = rg_profile_build (trace, 0, c->profile_batches, error);
  if (!profile)
    return FALSE;
  RgShardCost cost;
  rg_shard_cost_defaults (&cost);
  /* One box of all the devices (a DGX-2-like NVSwitch node): RecShard is
   * about memory tiers, not the network. */
  RgTopology topo = { 1, c->n_nodes * c->devices_per_node, 0, 128ull << 30 };
  uint32_t   W = rg_topology_world (&topo);
  res->table_bytes = rg_trace_total_bytes (trace);
  topo.fast_bytes = (uint64_t) (c->fast_share * (double) res->table_bytes / W);
  res->fast_bytes = topo.fast_bytes;

  for (int i = 0; schemes[i]; i++)
    {
      RgShardBenchRow *row = evaluate (schemes[i], trace, profile, &topo, &cost,
                                       c->profile_batches, c->eval_batches, error);
      if (!row)
        return FALSE;
      g_ptr_array_add (res->memory, row);
    }
  /* schemes[0] is recshard, [1..3] the whole-table greedy heuristics. */
  RgShardBenchRow *rec = g_ptr_array_index (res->memory, 0), *best = NULL;
  for (guint i = 1; i <= 3; i++)
    {
      RgShardBenchRow *g = g_ptr_array_index (res->memory, i);
      if (!best || g->sim->throughput > best->sim->throughput)
        best = g;
    }
  res->best_greedy = best->scheme;
  /* RecShard can read the slow tier zero times per step; the ratio then
   * counts it as one read, a lower bound. */
  res->slow_ratio = best->sim->slow_accesses / MAX (rec->sim->slow_accesses, 1.0);
  res->balance_ratio = best->sim->load_imbalance / rec->sim->load_imbalance;
  res->throughput_ratio = rec->sim->throughput / best->sim->throughput;

  /* MILP cross-check on a small slice of the same problem: 6 tables on 3
   * devices with the same fast share. */
  res->milp_gap = NAN;
  {
    RgTraceConfig tc = { MIN (6u, c->n_tables), trace->tables, c->batch_size,
                         c->profile_batches, c->seed };
    g_autoptr (RgTrace) small = rg_trace_generate (&tc, error);
    if (!small)
      return FALSE;
    g_autoptr (RgProfile) sp = rg_profile_build (small, 0, c->profile_batches, error);
    if (!sp)
      return FALSE;
    RgTopology st = { 1, 3, (uint64_t) (c->fast_share * rg_trace_total_bytes (small) / 3),
                      128ull << 30 };
    RgRecShardOptions o;
    rg_recshard_options_defaults (&o);
    o.time_limit = 10.0;
    g_autoptr (RgShardPlan) gp = rg_recshard_plan_greedy (sp, small->tables, &st, &cost, &o, error);
    if (!gp)
      return FALSE;
    g_autoptr (GError) local = NULL;
    g_autoptr (RgShardPlan) mp = rg_recshard_plan_milp (sp, small->tables, &st, &cost, &o, &local);
    if (mp)
      res->milp_gap = rg_recshard_plan_objective (gp, sp, &cost)
                          / rg_recshard_plan_objective (mp, sp, &cost)
                      - 1.0;
  }
  return TRUE;
}

static gboolean
network_experiment (const RgShardBenchConfig *c, RgShardBenchResult *res, GError **error)
{
  static const char *schemes[] = { "flexshard", "row-wise", "table-row-wise", "table-wise",
                                   "column-wise", "data-parallel", NULL };
  g_autoptr (RgTrace) trace = make_trace (c, TRUE, error);
  if (!trace)
    return FALSE;
  g_autoptr (RgProfile) profile = rg_profile_build (trace, 0, c->profile_batches, error);
  if (!profile)
    return FALSE;
  RgShardCost cost;
  rg_shard_cost_defaults (&cost);
  cost.inter_bw = cost.intra_bw / c->inter_ratio;
  RgTopology topo = { c->n_nodes, c->devices_per_node, 0, 128ull << 30 };
  uint32_t   W = rg_topology_world (&topo);
  /* Equal accelerator memory: exactly what row-wise needs on its worst device. */
  for (uint32_t t = 0; t < trace->n_tables; t++)
    topo.fast_bytes += (uint64_t) ((trace->tables[t].rows + W - 1) / W)
                       * rg_table_row_bytes (&trace->tables[t]);
  for (int i = 0; schemes[i]; i++)
    {
      RgShardBenchRow *row = evaluate (schemes[i], trace, profile, &topo, &cost,
                                       c->profile_batches, c->eval_batches, error);
      if (!row)
        return FALSE;
      g_ptr_array_add (res->network, row);
    }
  RgShardBenchRow *flex = g_ptr_array_index (res->network, 0);
  RgShardBenchRow *rw = g_ptr_array_index (res->network, 1);
  double fa = flex->sim->bytes_a2a, ra = rw->sim->bytes_a2a;
  double ft = fa + flex->sim->bytes_allreduce, rt = ra + rw->sim->bytes_allreduce;
  res->bytes_saved = ra > 0 ? 1.0 - fa / ra : 0.0;
  res->inter_a2a_saved = rw->sim->bytes_a2a_inter > 0
                             ? 1.0 - flex->sim->bytes_a2a_inter / rw->sim->bytes_a2a_inter
                             : 0.0;
  res->total_bytes_saved = rt > 0 ? 1.0 - ft / rt : 0.0;
  res->comm_ratio = rw->sim->comm_time / MAX (flex->sim->comm_time, 1e-12);
  return TRUE;
}

RgShardBenchResult *
rg_shard_bench_run (const RgShardBenchConfig *config, GError **error)
{
  if (config->profile_batches < 1 || config->eval_batches < 1)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "shard bench: needs at least one profile and one evaluation batch");
      return NULL;
    }
  g_autoptr (RgShardBenchResult) res = g_new0 (RgShardBenchResult, 1);
  res->memory = g_ptr_array_new_with_free_func (row_free);
  res->network = g_ptr_array_new_with_free_func (row_free);
  if (!memory_experiment (config, res, error) || !network_experiment (config, res, error))
    return NULL;
  return g_steal_pointer (&res);
}

/* ---- output ---- */

static void
print_rows (GPtrArray *rows, FILE *out)
{
  fprintf (out, "  %-19s %4s %9s %9s %12s %8s %10s %10s %10s %9s %7s\n", "scheme", "fits",
           "fast MiB", "slow/step", "imbalance", "step ms", "samples/s", "intra MB", "inter MB",
           "comm ms", "drift");
  for (guint i = 0; i < rows->len; i++)
    {
      const RgShardBenchRow  *r = g_ptr_array_index (rows, i);
      const RgShardSimResult *s = r->sim;
      fprintf (out, "  %-19s %4s %9.1f %9.0f %12.2f %8.3f %10.0f %10.2f %10.2f %9.4f %+6.1f%%\n",
               r->scheme, r->fits ? "yes" : "NO", r->fast_bytes_max / 1048576.0,
               s->slow_accesses, s->load_imbalance, s->step_time * 1e3, s->throughput,
               s->bytes_intra / 1e6, s->bytes_inter / 1e6, s->comm_time * 1e3, r->drift * 100);
    }
}

static void
target (FILE *out, const char *what, double got, double want, const char *unit)
{
  fprintf (out, "  %-46s %10.2f%s  (target >= %.2f%s) %s\n", what, got, unit, want, unit,
           got >= want ? "met" : "NOT met");
}

void
rg_shard_bench_print (const RgShardBenchResult *r, FILE *out)
{
  fprintf (out, "Memory tiers: %.1f MiB of tables, %.2f MiB fast memory per device\n",
           r->table_bytes / 1048576.0, r->fast_bytes / 1048576.0);
  print_rows (r->memory, out);
  fprintf (out, "RecShard vs the best whole-table greedy (%s):\n", r->best_greedy);
  target (out, "fewer slow-tier accesses", r->slow_ratio, 87, "x");
  if (((RgShardBenchRow *) g_ptr_array_index (r->memory, 0))->sim->slow_accesses < 1.0)
    fprintf (out, "  (RecShard read the slow tier %.2f times a step; counted as 1)\n",
             ((RgShardBenchRow *) g_ptr_array_index (r->memory, 0))->sim->slow_accesses);
  target (out, "better load balance (max/mean)", r->balance_ratio, 12, "x");
  target (out, "modelled throughput", r->throughput_ratio, 6, "x");
  if (!isnan (r->milp_gap))
    fprintf (out, "  greedy vs exact MILP (6 tables, 3 devices): %+.2f%% max device cost\n",
             r->milp_gap * 100);
  fprintf (out, "\nNetwork: sequence tables, equal accelerator memory per device\n");
  print_rows (r->network, out);
  fprintf (out, "FlexShard vs row-wise:\n");
  target (out, "less all-to-all bytes", r->bytes_saved * 100, 85, "%");
  fprintf (out, "  %-46s %10.2f%%\n", "less inter-node all-to-all bytes",
           r->inter_a2a_saved * 100);
  fprintf (out, "  %-46s %10.2f%%  (replica gradient all-reduce included)\n",
           "less bytes in all", r->total_bytes_saved * 100);
  target (out, "lower modelled communication latency", r->comm_ratio, 5, "x");
}

void
rg_shard_sim_result_to_json (const RgShardSimResult *s, GString *o)
{
  g_string_append_printf (o,
                          "{\"steps\": %u, \"lookups\": %.1f, \"local_lookups\": %.1f, "
                          "\"slow_accesses\": %.1f, \"cache_hits\": %.1f, \"bytes_intra\": %.1f, "
                          "\"bytes_inter\": %.1f, \"bytes_a2a\": %.1f, \"bytes_a2a_inter\": %.1f, "
                          "\"bytes_allreduce\": %.1f, \"load_max_s\": %.9g, \"load_mean_s\": %.9g, \"load_imbalance\": %.4f, "
                          "\"comm_s\": %.9g, \"step_s\": %.9g, \"samples_per_s\": %.1f, "
                          "\"device_load_s\": [",
                          s->n_steps, s->lookups, s->local_lookups, s->slow_accesses,
                          s->cache_hits, s->bytes_intra, s->bytes_inter, s->bytes_a2a,
                          s->bytes_a2a_inter, s->bytes_allreduce, s->load_max, s->load_mean,
                          s->load_imbalance, s->comm_time, s->step_time, s->throughput);
  for (uint32_t d = 0; d < s->world; d++)
    g_string_append_printf (o, "%s%.9g", d ? ", " : "", s->device_load[d]);
  g_string_append (o, "]}");
}

static void
rows_json (GPtrArray *rows, GString *o)
{
  g_string_append (o, "[");
  for (guint i = 0; i < rows->len; i++)
    {
      const RgShardBenchRow *r = g_ptr_array_index (rows, i);
      g_string_append_printf (o,
                              "%s{\"scheme\": \"%s\", \"fits\": %s, \"fast_bytes_max\": %" G_GUINT64_FORMAT
                              ", \"slow_bytes_max\": %" G_GUINT64_FORMAT
                              ", \"plan_s\": %.4f, \"drift\": %.4f, \"sim\": ",
                              i ? ", " : "", r->scheme, r->fits ? "true" : "false",
                              r->fast_bytes_max, r->slow_bytes_max, r->plan_seconds, r->drift);
      rg_shard_sim_result_to_json (r->sim, o);
      g_string_append (o, "}");
    }
  g_string_append (o, "]");
}

char *
rg_shard_bench_to_json (const RgShardBenchResult *r)
{
  GString *o = g_string_new ("{\"memory\": {\"table_bytes\": ");
  g_string_append_printf (o, "%" G_GUINT64_FORMAT ", \"fast_bytes\": %" G_GUINT64_FORMAT ", \"rows\": ",
                          r->table_bytes, r->fast_bytes);
  rows_json (r->memory, o);
  g_autofree char *gap = isnan (r->milp_gap) ? g_strdup ("null")
                                              : g_strdup_printf ("%.6f", r->milp_gap);
  g_string_append_printf (o,
                          ", \"best_greedy\": \"%s\", \"slow_ratio\": %.4f, \"balance_ratio\": %.4f, "
                          "\"throughput_ratio\": %.4f, \"milp_gap\": %s}, \"network\": {\"rows\": ",
                          r->best_greedy, r->slow_ratio, r->balance_ratio, r->throughput_ratio, gap);
  rows_json (r->network, o);
  g_string_append_printf (o,
                          ", \"a2a_bytes_saved\": %.4f, \"inter_a2a_bytes_saved\": %.4f, "
                          "\"total_bytes_saved\": %.4f, \"comm_ratio\": %.4f}}\n",
                          r->bytes_saved, r->inter_a2a_saved, r->total_bytes_saved, r->comm_ratio);
  return g_string_free (o, FALSE);
}
