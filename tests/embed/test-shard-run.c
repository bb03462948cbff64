/* The real distributed run, on 4 MPI ranks (2 nodes × 2 devices): under
 * table-wise, row-wise, column-wise and a FlexShard-style replicated plan,
 * the bytes the ranks exchange match the simulator's prediction within 1%,
 * replicated rows stay identical on every copy, and a plan for another
 * world size is refused by every rank. */
#include "core/rg-error.h"
#include "dist/rg-comm.h"
#include "embed/rg-embed-store.h"
#include "embed/rg-shard-run.h"
#include "embed/rg-shard-sim.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static RgComm *comm;
static RgTrace *trace;
static char work_dir[256];

static const RgTopology topo = { 2, 2, G_MAXUINT64 / 4, G_MAXUINT64 / 4 };

static RgShardPlan *
plan_table_wise (void)
{
  RgShardPlan *p = rg_shard_plan_new ("table-wise", &topo, trace->tables, trace->n_tables);
  uint32_t d1 = 1, d2 = 2;
  rg_shard_plan_add (p, 0, 0, trace->tables[0].rows, 0, trace->tables[0].dim, RG_TIER_FAST, 1, 1,
                     &d1);
  rg_shard_plan_add (p, 1, 0, trace->tables[1].rows, 0, trace->tables[1].dim, RG_TIER_SLOW, 1, 1,
                     &d2);
  return p;
}

static const uint32_t all4[] = { 0, 1, 2, 3 };

static RgShardPlan *
plan_row_wise (void)
{
  RgShardPlan *p = rg_shard_plan_new ("row-wise", &topo, trace->tables, trace->n_tables);
  for (uint32_t t = 0; t < 2; t++)
    rg_shard_plan_add (p, t, 0, trace->tables[t].rows, 0, trace->tables[t].dim, RG_TIER_FAST, 1, 4,
                       all4);
  return p;
}

static RgShardPlan *
plan_column_wise (void)
{
  RgShardPlan *p = rg_shard_plan_new ("column-wise", &topo, trace->tables, trace->n_tables);
  uint32_t d0 = 0, d3 = 3;
  int64_t rows = trace->tables[0].rows;
  rg_shard_plan_add (p, 0, 0, rows, 0, 8, RG_TIER_FAST, 1, 1, &d0);
  rg_shard_plan_add (p, 0, 0, rows, 8, 16, RG_TIER_FAST, 1, 1, &d3);
  rg_shard_plan_add (p, 1, 0, trace->tables[1].rows, 0, trace->tables[1].dim, RG_TIER_FAST, 1, 4,
                     all4);
  return p;
}

/* Hottest rows (by this trace's counts, remapped to the front) on every
 * device, the next once per node, the rest row-wise: FlexShard's shape. */
static RgShardPlan *
plan_replicated (void)
{
  RgShardPlan *p = rg_shard_plan_new ("replicated", &topo, trace->tables, trace->n_tables);
  for (uint32_t t = 0; t < 2; t++)
    {
      int64_t rows = trace->tables[t].rows;
      uint32_t dim = trace->tables[t].dim;
      g_autofree uint64_t *count = g_new0 (uint64_t, rows);
      for (uint32_t b = 0; b < trace->n_batches; b++)
        {
          const RgTraceBag *bag = rg_trace_bag (trace, b, t);
          for (uint64_t j = 0; j < bag->n_ids; j++)
            count[bag->ids[j]]++;
        }
      /* rank by count, ties by row: a permutation */
      g_autofree int64_t *order = g_new (int64_t, rows);
      for (int64_t r = 0; r < rows; r++)
        order[r] = r;
      for (int64_t i = 1; i < rows; i++) /* insertion sort on a small table */
        {
          int64_t x = order[i], k = i;
          while (k > 0 && count[order[k - 1]] < count[x])
            {
              order[k] = order[k - 1];
              k--;
            }
          order[k] = x;
        }
      int64_t *rank = g_new (int64_t, rows);
      for (int64_t i = 0; i < rows; i++)
        rank[order[i]] = i;
      rg_shard_plan_set_rank (p, t, rank);
      int64_t hot = rows / 20, warm = rows / 5;
      rg_shard_plan_add (p, t, 0, hot, 0, dim, RG_TIER_FAST, 4, 1, all4);
      rg_shard_plan_add (p, t, hot, warm, 0, dim, RG_TIER_FAST, 2, 2, all4);
      rg_shard_plan_add (p, t, warm, rows, 0, dim, RG_TIER_SLOW, 1, 4, all4);
    }
  return p;
}

static RgShardRunConfig
run_config (const RgShardPlan *plan)
{
  RgShardRunConfig cfg = rg_shard_run_config_default ();
  cfg.plan = plan;
  cfg.trace = trace;
  cfg.first_batch = 0;
  cfg.n_batches = trace->n_batches;
  cfg.work_dir = work_dir;
  cfg.max_len = 16;
  return cfg;
}

static void
check_plan (RgShardPlan *plan, double *step_time, double *comm_time)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_shard_plan_validate (plan, &error));
  g_assert_no_error (error);
  RgShardRunConfig cfg = run_config (plan);
  g_autoptr (RgShardRunResult) run = rg_shard_run (comm, &cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (run);

  RgShardCost cost;
  rg_shard_cost_defaults (&cost);
  g_autoptr (RgShardSimResult) sim
      = rg_shard_simulate (plan, trace, 0, trace->n_batches, &cost, &error);
  g_assert_no_error (error);
  double sim_total = 0;
  for (uint32_t k = 0; k < 16; k++)
    sim_total += sim->traffic[k];
  double err = rg_shard_run_traffic_error (run, sim->traffic);
  if (rg_comm_rank (comm) == 0)
    g_test_message ("%-12s measured %10.0f B/step (ring %8.0f), simulated %10.0f B/step, "
                    "worst link error %.4f%%, step %.2f ms, loss %.3f → %.3f",
                    plan->scheme, run->bytes_total, run->bytes_allreduce, sim_total, 100 * err,
                    1e3 * run->step_time, run->loss_first, run->loss_last);
  if (rg_comm_rank (comm) == 0 && err >= 0.01)
    for (uint32_t k = 0; k < 16; k++)
      g_test_message ("link %u→%u: measured %.1f, simulated %.1f", k / 4, k % 4, run->traffic[k],
                      sim->traffic[k]);
  g_assert_cmpfloat (sim_total, >, 0);
  g_assert_cmpfloat (err, <, 0.01);
  g_assert_cmpfloat (fabs (run->bytes_allreduce - sim->bytes_allreduce), <=,
                     0.01 * MAX (sim->bytes_allreduce, 1.0));
  g_assert_true (isfinite (run->loss_first) && isfinite (run->loss_last));
  g_assert_cmpfloat (run->loss_first, >, 0);
  g_assert_cmpfloat (run->comm_time, >, 0);
  g_assert_cmpfloat (run->comm_time, <=, run->step_time * 1.0001);
  *step_time = run->step_time;
  *comm_time = run->comm_time;
}

static void
test_traffic_matches_simulator (void)
{
  double t_table, t_row, t_col, t_rep, c_table, c_row, c_col, c_rep;
  g_autoptr (RgShardPlan) a = plan_table_wise ();
  g_autoptr (RgShardPlan) b = plan_row_wise ();
  g_autoptr (RgShardPlan) c = plan_column_wise ();
  g_autoptr (RgShardPlan) d = plan_replicated ();
  check_plan (a, &t_table, &c_table);
  check_plan (b, &t_row, &c_row);
  check_plan (c, &t_col, &c_col);
  check_plan (d, &t_rep, &c_rep);
  if (rg_comm_rank (comm) == 0)
    g_test_message ("measured vs row-wise — step time: table-wise %.2f×, column-wise %.2f×, "
                    "replicated %.2f×; time in collectives: %.2f×, %.2f×, %.2f×",
                    t_table / t_row, t_col / t_row, t_rep / t_row, c_table / c_row, c_col / c_row,
                    c_rep / c_row);
}

/* After a run with replication, every copy of a replicated row holds the
 * same bytes: the ring all-reduce kept them in step. */
static void
test_replicas_agree (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgShardPlan) plan = plan_replicated ();
  RgShardRunConfig cfg = run_config (plan);
  g_autoptr (RgShardRunResult) run = rg_shard_run (comm, &cfg, &error);
  g_assert_no_error (error);

  /* the hottest ranked row of table 0 is on all 4 devices */
  const RgShardTable *tab = &plan->tables[0];
  int64_t hottest = -1;
  for (int64_t r = 0; r < tab->rows; r++)
    if (rg_shard_table_rank (tab, r) == 0)
      hottest = r;
  g_autofree char *path = g_strdup_printf ("%s/rank-%d.rgemb", work_dir, rg_comm_rank (comm));
  RgEmbedStore *store = rg_embed_store_open (path, NULL, &error);
  g_assert_no_error (error);
  float mine[16], all[4 * 16];
  uint64_t version = 0;
  g_assert_true (rg_embed_store_read_rows (store, rg_embed_store_find_table (store, "table-0")->id,
                                           &hottest, 1, mine, &error));
  g_assert_true (rg_embed_store_row_meta (store, rg_embed_store_find_table (store, "table-0")->id,
                                          hottest, &version, NULL, &error));
  rg_embed_store_free (store);
  g_assert_cmpuint (version, ==, trace->n_batches); /* updated every step, on every copy */
  g_assert_true (rg_comm_allgather (comm, mine, sizeof mine, all, &error));
  for (int p = 1; p < 4; p++)
    g_assert_cmpmem (all, sizeof mine, all + p * 16, sizeof mine);
}

static void
test_wrong_world (void)
{
  g_autoptr (GError) error = NULL;
  RgTopology big = { 2, 4, G_MAXUINT64 / 4, G_MAXUINT64 / 4 };
  g_autoptr (RgShardPlan) plan
      = rg_shard_plan_new ("row-wise", &big, trace->tables, trace->n_tables);
  const uint32_t all8[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
  for (uint32_t t = 0; t < 2; t++)
    rg_shard_plan_add (plan, t, 0, trace->tables[t].rows, 0, trace->tables[t].dim, RG_TIER_FAST, 1,
                       8, all8);
  RgShardRunConfig cfg = run_config (plan);
  g_assert_null (rg_shard_run (comm, &cfg, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "mpirun -np 8"));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  comm = rg_comm_new_auto (&argc, &argv, &error);
  if (comm == NULL)
    g_error ("cannot start the communicator: %s", error->message);
  g_test_init (&argc, &argv, NULL);
  if (rg_comm_size (comm) != 4)
    {
      g_test_skip ("needs 4 ranks: run under mpirun -np 4");
      rg_comm_free (comm);
      return g_test_run ();
    }

  /* one sequence table (f32) and one pooled table (bf16) */
  RgTableSpec specs[2] = {
    { RG_TABLE_SEQUENCE, 16, 4, 2000, 20000, 1.05, 2.0, 12.0, 1.0 },
    { RG_TABLE_POOLED, 8, 2, 1000, 10000, 1.1, 1.0, 4.0, 0.8 },
  };
  RgTraceConfig tc = { 2, specs, 32, 3, 99 };
  trace = rg_trace_generate (&tc, &error);
  g_assert_no_error (error);

  /* one shared scratch directory, named by rank 0 */
  memset (work_dir, 0, sizeof work_dir);
  if (rg_comm_rank (comm) == 0)
    {
      g_autofree char *dir = g_dir_make_tmp ("rg-test-shard-run-XXXXXX", NULL);
      g_strlcpy (work_dir, dir, sizeof work_dir);
    }
  if (!rg_comm_broadcast (comm, work_dir, sizeof work_dir, 0, &error))
    g_error ("%s", error->message);

  g_test_add_func ("/shard-run/traffic-matches-simulator", test_traffic_matches_simulator);
  g_test_add_func ("/shard-run/replicas-agree", test_replicas_agree);
  g_test_add_func ("/shard-run/wrong-world", test_wrong_world);
  int rc = g_test_run ();

  rg_comm_barrier (comm, NULL);
  if (rg_comm_rank (comm) == 0)
    {
      g_autoptr (GDir) dir = g_dir_open (work_dir, 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *p = g_build_filename (work_dir, name, NULL);
          g_unlink (p);
        }
      g_rmdir (work_dir);
    }
  rg_trace_free (trace);
  rg_comm_free (comm);
  return rc;
}
