/* cmd-shard.c — `reelgen shard`: traces, profiles, placement plans, simulation.
 *
 *   reelgen shard profile  [trace options] [--json] [--png CDF.png] [--save-trace F]
 *   reelgen shard plan     [trace options] --scheme S [topology] -o PLAN.json
 *   reelgen shard simulate [trace options] (--plan PLAN.json | --scheme S …) [--png-load F]
 *   reelgen shard run      [trace options] (--plan PLAN.json | --scheme S …) --work-dir DIR
 *                          (under mpirun -np W: a real run on MPI ranks, measured
 *                          bytes against the simulator's)
 *   reelgen shard bench    [--json] [--png-dir DIR] [--tables N] …
 *
 * Trace options: --trace FILE replays a saved trace; otherwise one is
 * generated from --preset dlrm|sequence, --tables, --batch, --batches,
 * --seed, --rows-scale, --seq-len. The first --profile-batches batches are
 * the profile; the rest are what plans are evaluated on. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rg-error.h"
#include "dist/rg-comm.h"
#include "embed/rg-shard-bench.h"
#include "embed/rg-shard-run.h"
#include "embed/rg-shard-plot.h"
#include "rg-cli.h"

typedef struct {
  char    *trace_path;
  char    *save_trace;
  char    *preset;
  int      n_tables, batch, batches, profile_batches;
  gint64   seed;
  double   rows_scale, seq_len;
  gboolean json;
  /* topology */
  int      nodes, devices;
  double   fast_share, inter_ratio;
  gint64   fast_bytes, slow_bytes;
} Opts;

static void
opts_init (Opts *o)
{
  memset (o, 0, sizeof *o);
  o->n_tables = 16;
  o->batch = 512;
  o->batches = 8;
  o->profile_batches = 4;
  o->seed = 1;
  o->rows_scale = 1.0;
  o->seq_len = 32;
  o->nodes = 2;
  o->devices = 8;
  o->fast_share = 0.25;
  o->inter_ratio = 12.0;
  o->slow_bytes = G_GINT64_CONSTANT (128) << 30;
}

static void
opts_clear (Opts *o)
{
  g_free (o->trace_path);
  g_free (o->save_trace);
  g_free (o->preset);
}

static GOptionEntry *
trace_entries (Opts *o)
{
  GOptionEntry e[] = {
    { "trace", 't', 0, G_OPTION_ARG_FILENAME, &o->trace_path, "Replay this .rgtrace file", "FILE" },
    { "preset", 0, 0, G_OPTION_ARG_STRING, &o->preset, "Generate: dlrm (pooled) or sequence", "P" },
    { "tables", 0, 0, G_OPTION_ARG_INT, &o->n_tables, "Tables to generate (16)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &o->batch, "Samples per batch (512)", "B" },
    { "batches", 0, 0, G_OPTION_ARG_INT, &o->batches, "Batches to generate (8)", "N" },
    { "profile-batches", 0, 0, G_OPTION_ARG_INT, &o->profile_batches,
      "Leading batches to profile; plans are evaluated on the rest (4)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &o->seed, "Generator seed (1)", "S" },
    { "rows-scale", 0, 0, G_OPTION_ARG_DOUBLE, &o->rows_scale, "Scale every table's rows (1)", "X" },
    { "seq-len", 0, 0, G_OPTION_ARG_DOUBLE, &o->seq_len, "Sequence preset: mean length (32)", "L" },
    { "save-trace", 0, 0, G_OPTION_ARG_FILENAME, &o->save_trace, "Write the trace here", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "Print JSON", NULL },
    { NULL }
  };
  return g_memdup2 (e, sizeof e);
}

static GOptionEntry *
topo_entries (Opts *o)
{
  GOptionEntry e[] = {
    { "nodes", 0, 0, G_OPTION_ARG_INT, &o->nodes, "Nodes (2)", "N" },
    { "devices", 0, 0, G_OPTION_ARG_INT, &o->devices, "Devices per node (8)", "P" },
    { "fast-share", 0, 0, G_OPTION_ARG_DOUBLE, &o->fast_share,
      "Fast memory over all devices as a share of the table bytes (0.25)", "X" },
    { "fast-bytes", 0, 0, G_OPTION_ARG_INT64, &o->fast_bytes,
      "Fast memory per device in bytes (overrides --fast-share)", "B" },
    { "slow-bytes", 0, 0, G_OPTION_ARG_INT64, &o->slow_bytes, "Slow memory per device (128 GiB)", "B" },
    { "inter-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &o->inter_ratio,
      "Intra-node over inter-node bandwidth (12)", "R" },
    { NULL }
  };
  return g_memdup2 (e, sizeof e);
}

static RgTrace *
get_trace (const Opts *o, GError **error)
{
  RgTrace *trace;
  if (o->trace_path)
    trace = rg_trace_load (o->trace_path, error);
  else
    {
      const char *preset = o->preset ? o->preset : "dlrm";
      if (strcmp (preset, "dlrm") != 0 && strcmp (preset, "sequence") != 0)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "unknown preset \"%s\" (dlrm or sequence)", preset);
          return NULL;
        }
      if (o->n_tables < 1 || o->n_tables > RG_TRACE_MAX_TABLES || o->batch < 1 || o->batches < 1)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "--tables, --batch and --batches must be positive (tables <= %u)",
                       RG_TRACE_MAX_TABLES);
          return NULL;
        }
      if (!(o->rows_scale > 0 && o->rows_scale < 1e6) || !(o->seq_len >= 1))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "--rows-scale must be positive and --seq-len at least 1");
          return NULL;
        }
      g_autofree RgTableSpec *specs = g_new0 (RgTableSpec, o->n_tables);
      if (strcmp (preset, "dlrm") == 0)
        rg_trace_preset_dlrm (specs, (uint32_t) o->n_tables, o->rows_scale);
      else
        rg_trace_preset_sequence (specs, (uint32_t) o->n_tables, o->rows_scale, o->seq_len);
      RgTraceConfig tc = { (uint32_t) o->n_tables, specs, (uint32_t) o->batch,
                           (uint32_t) o->batches, (uint64_t) o->seed };
      trace = rg_trace_generate (&tc, error);
    }
  if (trace && o->save_trace && !rg_trace_save (trace, o->save_trace, error))
    {
      rg_trace_free (trace);
      return NULL;
    }
  return trace;
}

/* Profile and evaluation ranges: profile the leading batches, evaluate on
 * the rest (on all of them when the trace has only the profile). */
static gboolean
split (const Opts *o, const RgTrace *trace, uint32_t *prof_n, uint32_t *eval_first,
       uint32_t *eval_n, GError **error)
{
  if (o->profile_batches < 1)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "--profile-batches must be >= 1");
      return FALSE;
    }
  *prof_n = MIN ((uint32_t) o->profile_batches, trace->n_batches);
  *eval_first = *prof_n < trace->n_batches ? *prof_n : 0;
  *eval_n = trace->n_batches - *eval_first;
  return TRUE;
}

static gboolean
get_topology (const Opts *o, const RgTrace *trace, RgTopology *topo, RgShardCost *cost,
              GError **error)
{
  if (o->nodes < 1 || o->devices < 1 || !(o->inter_ratio > 0) || o->fast_bytes < 0
      || o->slow_bytes < 0 || !(o->fast_share >= 0))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "topology options must be positive");
      return FALSE;
    }
  *topo = (RgTopology) { (uint32_t) o->nodes, (uint32_t) o->devices, (uint64_t) o->fast_bytes,
                         (uint64_t) o->slow_bytes };
  if (!rg_topology_validate (topo, error))
    return FALSE;
  if (!o->fast_bytes)
    topo->fast_bytes = (uint64_t) (o->fast_share * (double) rg_trace_total_bytes (trace)
                                   / rg_topology_world (topo));
  rg_shard_cost_defaults (cost);
  cost->inter_bw = cost->intra_bw / o->inter_ratio;
  return TRUE;
}

/* The start that plan, simulate and run share: the trace split into the
 * profiled and the evaluated batches, the topology and costs the options
 * describe, and the profile of the first part. NULL (with error set) when
 * any step fails; trace may be NULL from a failed load. */
static RgProfile *
profile_for_plans (const Opts *o, const RgTrace *trace, RgTopology *topo, RgShardCost *cost,
                   uint32_t *prof_n, uint32_t *eval_first, uint32_t *eval_n, GError **error)
{
  if (trace == NULL || !split (o, trace, prof_n, eval_first, eval_n, error)
      || !get_topology (o, trace, topo, cost, error))
    return NULL;
  return rg_profile_build (trace, 0, *prof_n, error);
}

/* ---- profile ---- */

static int
cmd_profile (int argc, char **argv)
{
  Opts o;
  opts_init (&o);
  g_autofree char *png = NULL;
  g_autofree GOptionEntry *te = trace_entries (&o);
  GOptionEntry             extra[] = {
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png, "Draw the access CDFs here", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— per-table access statistics");
  g_option_context_add_main_entries (ctx, te, NULL);
  g_option_context_add_main_entries (ctx, extra, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "shard profile"))
    {
      opts_clear (&o);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTrace) trace = get_trace (&o, &error);
  uint32_t pn = 0, ef = 0, en = 0;
  g_autoptr (RgProfile) prof = trace && split (&o, trace, &pn, &ef, &en, &error)
                                   ? rg_profile_build (trace, 0, pn, &error)
                                   : NULL;
  opts_clear (&o);
  if (!prof)
    return rg_cli_fail ("shard profile", error);

  double r64, l64, r16, l16;
  rg_trace_reuse (trace, 0, pn, 64, &r64, &l64);
  rg_trace_reuse (trace, 0, pn, 16, &r16, &l16);
  if (o.json)
    {
      printf ("{\"batches\": %u, \"batch_size\": %u, \"reuse\": {\"gt64_rows\": %.5f, "
              "\"gt64_lookups\": %.5f, \"gt16_rows\": %.5f, \"gt16_lookups\": %.5f}, \"tables\": [",
              pn, trace->batch_size, r64, l64, r16, l16);
      for (uint32_t t = 0; t < prof->n_tables; t++)
        {
          const RgTableProfile *p = &prof->tables[t];
          printf ("%s{\"rows\": %" G_GINT64_FORMAT ", \"row_bytes\": %" G_GUINT64_FORMAT
                  ", \"accesses\": %" G_GUINT64_FORMAT ", \"unique_rows\": %" G_GINT64_FORMAT
                  ", \"untouched_rows\": %" G_GINT64_FORMAT ", \"coverage\": %.4f, "
                  "\"mean_pooling\": %.3f, \"cdf_1pct_rows\": %.4f}",
                  t ? ", " : "", p->rows, p->row_bytes, p->accesses, p->unique_rows,
                  p->untouched_rows, p->coverage, p->mean_pooling,
                  rg_table_profile_cdf (p, (p->rows + 99) / 100));
        }
      printf ("]}\n");
    }
  else
    {
      printf ("Profile of batches 0..%u (batch size %u)\n", pn - 1, trace->batch_size);
      printf ("%5s %5s %10s %6s %10s %10s %10s %8s %8s %10s\n", "table", "kind", "rows", "dim",
              "lookups", "unique", "untouched", "coverage", "pooling", "F(1% rows)");
      for (uint32_t t = 0; t < prof->n_tables; t++)
        {
          const RgTableProfile *p = &prof->tables[t];
          printf ("%5u %5s %10" G_GINT64_FORMAT " %6u %10" G_GUINT64_FORMAT " %10" G_GINT64_FORMAT
                  " %10" G_GINT64_FORMAT " %8.3f %8.2f %9.1f%%\n",
                  t, trace->tables[t].kind == RG_TABLE_POOLED ? "pool" : "seq", p->rows,
                  trace->tables[t].dim, p->accesses, p->unique_rows, p->untouched_rows,
                  p->coverage, p->mean_pooling,
                  100 * rg_table_profile_cdf (p, (p->rows + 99) / 100));
        }
      printf ("\nLocality per batch (Meta dlrm_datasets published → this trace):\n");
      printf ("  reused > 64 times: %5.2f%% of touched rows (1.8%%), %5.1f%% of lookups (52%%)\n",
              100 * r64, 100 * l64);
      printf ("  reused > 16 times: %5.2f%% of touched rows (11%%),  %5.1f%% of lookups (74%%)\n",
              100 * r16, 100 * l16);
    }
  if (png && !rg_shard_plot_cdf (prof, png, &error))
    return rg_cli_fail ("shard profile", error);
  return 0;
}

/* ---- plan ---- */

static int
cmd_plan (int argc, char **argv)
{
  Opts o;
  opts_init (&o);
  g_autofree char *scheme = NULL, *out = NULL;
  g_autofree GOptionEntry *te = trace_entries (&o);
  g_autofree GOptionEntry *tp = topo_entries (&o);
  GOptionEntry             extra[] = {
    { "scheme", 's', 0, G_OPTION_ARG_STRING, &scheme, "recshard, flexshard, row-wise, … (see --list)", "S" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the plan (JSON) here", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— place tables on devices and tiers");
  g_option_context_add_main_entries (ctx, te, NULL);
  g_option_context_add_main_entries (ctx, tp, NULL);
  g_option_context_add_main_entries (ctx, extra, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "shard plan"))
    {
      opts_clear (&o);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  if (!scheme)
    {
      g_autoptr (GString) names = g_string_new (NULL);
      for (int i = 0; rg_shard_scheme_names[i]; i++)
        g_string_append_printf (names, "%s%s", i ? ", " : "", rg_shard_scheme_names[i]);
      g_set_error (&error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "--scheme is required: one of %s",
                   names->str);
      opts_clear (&o);
      return rg_cli_fail ("shard plan", error);
    }
  g_autoptr (RgTrace) trace = get_trace (&o, &error);
  RgTopology  topo;
  RgShardCost cost;
  uint32_t    pn = 0, ef = 0, en = 0;
  g_autoptr (RgProfile) prof = profile_for_plans (&o, trace, &topo, &cost, &pn, &ef, &en, &error);
  gboolean json = o.json;
  opts_clear (&o);
  g_autoptr (RgShardPlan) plan
      = prof ? rg_shard_plan_by_name (scheme, prof, trace->tables, trace->n_tables, &topo, &cost,
                                      &error)
             : NULL;
  if (!plan)
    return rg_cli_fail ("shard plan", error);

  uint32_t             W = rg_topology_world (&topo);
  g_autofree uint64_t *fast = g_new0 (uint64_t, W);
  g_autofree uint64_t *slow = g_new0 (uint64_t, W);
  rg_shard_plan_device_bytes (plan, fast, slow);
  g_autoptr (GError) fit = NULL;
  gboolean fits = rg_shard_plan_check_fit (plan, &fit);
  if (json)
    {
      printf ("{\"scheme\": \"%s\", \"fits\": %s, \"devices\": [", scheme, fits ? "true" : "false");
      for (uint32_t d = 0; d < W; d++)
        printf ("%s{\"fast_bytes\": %" G_GUINT64_FORMAT ", \"slow_bytes\": %" G_GUINT64_FORMAT "}",
                d ? ", " : "", fast[d], slow[d]);
      printf ("]}\n");
    }
  else
    {
      printf ("Plan %s: %u nodes × %u devices, %.2f MiB fast / %.2f GiB slow per device\n",
              scheme, topo.n_nodes, topo.devices_per_node, topo.fast_bytes / 1048576.0,
              topo.slow_bytes / 1073741824.0);
      printf ("%6s %5s %12s %12s\n", "device", "node", "fast MiB", "slow MiB");
      for (uint32_t d = 0; d < W; d++)
        printf ("%6u %5u %12.2f %12.2f\n", d, rg_topology_node (&topo, d), fast[d] / 1048576.0,
                slow[d] / 1048576.0);
      printf ("%s\n", fits ? "fits" : fit->message);
    }
  if (out && !rg_shard_plan_save (plan, out, &error))
    return rg_cli_fail ("shard plan", error);
  if (!fits)
    return rg_cli_fail ("shard plan", g_steal_pointer (&fit));
  return 0;
}

/* ---- simulate ---- */

static int
cmd_simulate (int argc, char **argv)
{
  Opts o;
  opts_init (&o);
  g_autofree char *plan_path = NULL, *png = NULL;
  g_auto (GStrv) schemes = NULL;
  g_autofree GOptionEntry *te = trace_entries (&o);
  g_autofree GOptionEntry *tp = topo_entries (&o);
  GOptionEntry             extra[] = {
    { "plan", 'p', 0, G_OPTION_ARG_FILENAME, &plan_path, "Evaluate this plan file", "FILE" },
    { "scheme", 's', 0, G_OPTION_ARG_STRING_ARRAY, &schemes, "Plan with this scheme (repeatable)", "S" },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png, "Draw per-device load and traffic here", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— replay the trace against plans");
  g_option_context_add_main_entries (ctx, te, NULL);
  g_option_context_add_main_entries (ctx, tp, NULL);
  g_option_context_add_main_entries (ctx, extra, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "shard simulate"))
    {
      opts_clear (&o);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  if (!plan_path && !schemes)
    {
      g_set_error (&error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "give --plan FILE or --scheme S");
      opts_clear (&o);
      return rg_cli_fail ("shard simulate", error);
    }
  g_autoptr (RgTrace) trace = get_trace (&o, &error);
  RgTopology  topo;
  RgShardCost cost;
  uint32_t    pn = 0, ef = 0, en = 0;
  g_autoptr (RgProfile) prof = profile_for_plans (&o, trace, &topo, &cost, &pn, &ef, &en, &error);
  gboolean json = o.json;
  opts_clear (&o);
  if (!prof)
    return rg_cli_fail ("shard simulate", error);

  g_autoptr (GPtrArray) plans = g_ptr_array_new_with_free_func ((GDestroyNotify) rg_shard_plan_free);
  if (plan_path)
    {
      RgShardPlan *p = rg_shard_plan_load (plan_path, &error);
      if (!p)
        return rg_cli_fail ("shard simulate", error);
      g_ptr_array_add (plans, p);
    }
  for (int i = 0; schemes && schemes[i]; i++)
    {
      RgShardPlan *p = rg_shard_plan_by_name (schemes[i], prof, trace->tables, trace->n_tables,
                                              &topo, &cost, &error);
      if (!p)
        return rg_cli_fail ("shard simulate", error);
      g_ptr_array_add (plans, p);
    }
  g_autoptr (GPtrArray) sims
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rg_shard_sim_result_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  if (json)
    printf ("[");
  else
    printf ("Evaluated on batches %u..%u (profiled on 0..%u)\n%-19s %10s %10s %12s %9s %10s %10s "
            "%10s %7s\n",
            ef, ef + en - 1, pn - 1, "scheme", "slow/step", "local", "imbalance", "step ms",
            "intra MB", "inter MB", "comm ms", "drift");
  for (guint i = 0; i < plans->len; i++)
    {
      RgShardPlan *p = g_ptr_array_index (plans, i);
      g_autoptr (GError) fit = NULL;
      if (!rg_shard_plan_check_fit (p, &fit))
        g_printerr ("reelgen shard simulate: warning: %s\n", fit->message);
      RgShardSimResult *s = rg_shard_simulate (p, trace, ef, en, &cost, &error);
      if (!s)
        return rg_cli_fail ("shard simulate", error);
      g_ptr_array_add (sims, s);
      g_ptr_array_add (names, p->scheme);
      /* Drift: how much slower the plan runs on batches it was not
       * planned from than on those it was. */
      g_autoptr (RgShardSimResult) seen = rg_shard_simulate (p, trace, 0, pn, &cost, &error);
      if (!seen)
        return rg_cli_fail ("shard simulate", error);
      double drift = seen->step_time > 0 ? s->step_time / seen->step_time - 1.0 : 0.0;
      if (json)
        {
          g_autoptr (GString) js = g_string_new (NULL);
          rg_shard_sim_result_to_json (s, js);
          printf ("%s{\"scheme\": \"%s\", \"drift\": %.5f, \"sim\": %s}", i ? ", " : "",
                  p->scheme, drift, js->str);
        }
      else
        printf ("%-19s %10.0f %9.1f%% %12.2f %9.3f %10.2f %10.2f %10.4f %+6.1f%%\n", p->scheme,
                s->slow_accesses, 100 * s->local_lookups / MAX (s->lookups, 1), s->load_imbalance,
                s->step_time * 1e3, s->bytes_intra / 1e6, s->bytes_inter / 1e6, s->comm_time * 1e3,
                100 * drift);
    }
  if (json)
    printf ("]\n");
  if (png
      && !rg_shard_plot_schemes ((const char *const *) names->pdata,
                                 (const RgShardSimResult *const *) sims->pdata, sims->len, png,
                                 &error))
    return rg_cli_fail ("shard simulate", error);
  return 0;
}

/* ---- run ---- */

static int
cmd_run (int argc, char **argv)
{
  Opts o;
  opts_init (&o);
  g_autofree char *plan_path = NULL, *scheme = NULL, *work_dir = NULL;
  g_autofree GOptionEntry *te = trace_entries (&o);
  g_autofree GOptionEntry *tp = topo_entries (&o);
  GOptionEntry             extra[] = {
    { "plan", 'p', 0, G_OPTION_ARG_FILENAME, &plan_path, "Run this plan file", "FILE" },
    { "scheme", 's', 0, G_OPTION_ARG_STRING, &scheme, "Or plan with this scheme first", "S" },
    { "work-dir", 'w', 0, G_OPTION_ARG_FILENAME, &work_dir,
      "Existing directory for the per-rank stores (rank-R.rgemb)", "DIR" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("— execute a plan on MPI ranks (launch with mpirun -np W)");
  g_option_context_add_main_entries (ctx, te, NULL);
  g_option_context_add_main_entries (ctx, tp, NULL);
  g_option_context_add_main_entries (ctx, extra, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "shard run"))
    {
      opts_clear (&o);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  if ((!plan_path && !scheme) || !work_dir || !g_file_test (work_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (&error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "give --plan FILE or --scheme S, and --work-dir of an existing directory");
      opts_clear (&o);
      return rg_cli_fail ("shard run", error);
    }
  g_autoptr (RgComm) comm = rg_comm_new_auto (&argc, &argv, &error);
  g_autoptr (RgTrace) trace = comm ? get_trace (&o, &error) : NULL;
  RgTopology  topo;
  RgShardCost cost;
  uint32_t    pn = 0, ef = 0, en = 0;
  g_autoptr (RgProfile) prof = profile_for_plans (&o, trace, &topo, &cost, &pn, &ef, &en, &error);
  gboolean json = o.json;
  opts_clear (&o);
  g_autoptr (RgShardPlan) plan = NULL;
  if (prof)
    plan = plan_path ? rg_shard_plan_load (plan_path, &error)
                     : rg_shard_plan_by_name (scheme, prof, trace->tables, trace->n_tables, &topo,
                                              &cost, &error);
  g_autoptr (RgShardSimResult) sim
      = plan ? rg_shard_simulate (plan, trace, ef, en, &cost, &error) : NULL;
  if (!sim)
    return rg_cli_fail ("shard run", error);

  RgShardRunConfig cfg = rg_shard_run_config_default ();
  cfg.plan = plan;
  cfg.trace = trace;
  cfg.first_batch = ef;
  cfg.n_batches = en;
  cfg.work_dir = work_dir;
  g_autoptr (RgShardRunResult) run = rg_shard_run (comm, &cfg, &error);
  if (!run)
    return rg_cli_fail ("shard run", error);
  if (rg_comm_rank (comm) != 0)
    return 0;

  double predicted = 0;
  for (gsize k = 0; k < (gsize) sim->world * sim->world; k++)
    predicted += sim->traffic[k];
  double err = rg_shard_run_traffic_error (run, sim->traffic);
  if (json)
    printf ("{\"scheme\": \"%s\", \"ranks\": %u, \"steps\": %u, \"bytes_measured\": %.1f, "
            "\"bytes_predicted\": %.1f, \"traffic_error\": %.6f, \"allreduce_bytes\": %.1f, "
            "\"control_bytes\": %.1f, \"step_s\": %.6f, \"step_min_s\": %.6f, "
            "\"loss_first\": %.5f, \"loss_last\": %.5f}\n",
            plan->scheme, run->world, run->n_steps, run->bytes_total, predicted, err,
            run->bytes_allreduce, run->control_bytes, run->step_time, run->step_time_min,
            run->loss_first, run->loss_last);
  else
    printf ("Plan %s on %u %s ranks, batches %u..%u:\n"
            "  payload bytes per step   measured %.0f, simulated %.0f (largest link error %.3f%%)\n"
            "  replica all-reduce       %.0f bytes; request layouts (control) %.0f bytes\n"
            "  step time                %.3f ms (fastest %.3f ms)\n"
            "  SASRec loss              %.4f → %.4f\n",
            plan->scheme, run->world, rg_comm_backend_name (comm), ef, ef + en - 1,
            run->bytes_total, predicted, 100 * err, run->bytes_allreduce, run->control_bytes,
            run->step_time * 1e3, run->step_time_min * 1e3, run->loss_first, run->loss_last);
  return 0;
}

/* ---- bench ---- */

static int
cmd_bench (int argc, char **argv)
{
  RgShardBenchConfig c;
  rg_shard_bench_config_defaults (&c);
  gboolean         json = FALSE;
  g_autofree char *png_dir = NULL;
  int              tables = (int) c.n_tables, batch = (int) c.batch_size, pb = (int) c.profile_batches,
      eb = (int) c.eval_batches, nodes = (int) c.n_nodes, devs = (int) c.devices_per_node;
  gint64       seed = (gint64) c.seed;
  GOptionEntry e[] = {
    { "tables", 0, 0, G_OPTION_ARG_INT, &tables, "Tables per experiment (16)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Global batch size (4096)", "B" },
    { "profile-batches", 0, 0, G_OPTION_ARG_INT, &pb, "Batches profiled (2)", "N" },
    { "eval-batches", 0, 0, G_OPTION_ARG_INT, &eb, "Batches evaluated (2)", "N" },
    { "rows-scale", 0, 0, G_OPTION_ARG_DOUBLE, &c.rows_scale, "Scale table rows (1)", "X" },
    { "seq-len", 0, 0, G_OPTION_ARG_DOUBLE, &c.seq_len, "Sequence length (32)", "L" },
    { "nodes", 0, 0, G_OPTION_ARG_INT, &nodes, "Nodes (2)", "N" },
    { "devices", 0, 0, G_OPTION_ARG_INT, &devs, "Devices per node (8)", "P" },
    { "fast-share", 0, 0, G_OPTION_ARG_DOUBLE, &c.fast_share, "Fast share of table bytes (0.25)", "X" },
    { "inter-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &c.inter_ratio, "Intra/inter bandwidth (12)", "R" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Trace seed (1)", "S" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "png-dir", 0, 0, G_OPTION_ARG_FILENAME, &png_dir, "Write load and traffic plots here", "DIR" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— RecShard and FlexShard vs the classic schemes");
  g_option_context_add_main_entries (ctx, e, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "shard bench"))
    return 2;
  g_autoptr (GError) error = NULL;
  if (tables < 1 || tables > (int) RG_TRACE_MAX_TABLES || batch < 1 || pb < 1 || eb < 1 || nodes < 1
      || devs < 1 || !(c.fast_share > 0) || !(c.inter_ratio > 0) || !(c.rows_scale > 0))
    {
      g_set_error (&error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "bench options must be positive");
      return rg_cli_fail ("shard bench", error);
    }
  c.n_tables = (uint32_t) tables;
  c.batch_size = (uint32_t) batch;
  c.profile_batches = (uint32_t) pb;
  c.eval_batches = (uint32_t) eb;
  c.n_nodes = (uint32_t) nodes;
  c.devices_per_node = (uint32_t) devs;
  c.seed = (uint64_t) seed;
  g_autoptr (RgShardBenchResult) r = rg_shard_bench_run (&c, &error);
  if (!r)
    return rg_cli_fail ("shard bench", error);
  if (json)
    {
      g_autofree char *js = rg_shard_bench_to_json (r);
      fputs (js, stdout);
    }
  else
    rg_shard_bench_print (r, stdout);
  if (png_dir)
    {
      struct {
        const char *file;
        GPtrArray  *rows;
      } sets[] = { { "memory.png", r->memory }, { "network.png", r->network } };
      if (g_mkdir_with_parents (png_dir, 0755) != 0)
        {
          g_set_error (&error, RG_ERROR, RG_ERROR_IO, "%s: cannot create directory", png_dir);
          return rg_cli_fail ("shard bench", error);
        }
      for (guint k = 0; k < G_N_ELEMENTS (sets); k++)
        {
          guint                    n = sets[k].rows->len;
          g_autofree const char  **names = g_new (const char *, n);
          g_autofree const RgShardSimResult **sims = g_new (const RgShardSimResult *, n);
          for (guint i = 0; i < n; i++)
            {
              const RgShardBenchRow *row = g_ptr_array_index (sets[k].rows, i);
              names[i] = row->scheme;
              sims[i] = row->sim;
            }
          g_autofree char *path = g_build_filename (png_dir, sets[k].file, NULL);
          if (!rg_shard_plot_schemes (names, sims, n, path, &error))
            return rg_cli_fail ("shard bench", error);
        }
    }
  return 0;
}

int
rg_cmd_shard_main (int argc, char **argv)
{
  static const struct {
    const char *name;
    int (*main) (int, char **);
    const char *summary;
  } subs[] = {
    { "profile", cmd_profile, "per-table access statistics and locality" },
    { "plan", cmd_plan, "place tables on devices and memory tiers" },
    { "simulate", cmd_simulate, "replay the trace against plans: bytes, slow accesses, load" },
    { "run", cmd_run, "execute a plan on MPI ranks: measured bytes and step times" },
    { "bench", cmd_bench, "RecShard and FlexShard side by side with the classic schemes" },
  };
  if (argc >= 2)
    for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
      if (strcmp (argv[1], subs[i].name) == 0)
        return subs[i].main (argc - 1, argv + 1);
  fprintf (stderr, "usage: reelgen shard COMMAND [options]\n");
  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    fprintf (stderr, "  %-9s %s\n", subs[i].name, subs[i].summary);
  return 2;
}
