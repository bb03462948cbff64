/* test-fuzz-shard-plan.c — mutated shard plan JSON against rg_shard_plan_load().
 *
 * The valid input is a FlexShard-shaped plan (replicated hot rows, groups
 * dealt over nodes, a slow tail, a column split, a rank permutation and a
 * cache) saved by rg_shard_plan_save(). Text mutations replace numbers with
 * huge/negative/fractional ones and drop quotes and brackets. A plan that
 * loads must pass rg_shard_plan_validate() and answer lookups for every row
 * without leaving its segments, so the loader cannot hand back a plan the
 * rest of the store would index out of bounds with. */
#include <glib/gstdio.h>
#include <string.h>

#include "core/rg-error.h"
#include "embed/rg-shard-plan.h"
#include "fuzz-mutate.h"

static const RgTopology topo = { 2, 2, 1000, 1000 };

static void
check_loaded (RgFuzz *fz, const RgShardPlan *p)
{
  GError *error = NULL;
  if (!rg_shard_plan_validate (p, &error))
    g_error ("fuzz %s iteration %u: a loaded plan does not validate: %s", fz->target, fz->iteration,
             error->message);
  uint32_t w = rg_topology_world (&p->topo);
  g_autofree uint64_t *fast = g_new0 (uint64_t, w);
  g_autofree uint64_t *slow = g_new0 (uint64_t, w);
  rg_shard_plan_device_bytes (p, fast, slow);
  for (uint32_t t = 0; t < p->n_tables; t++)
    {
      const RgShardTable *tab = &p->tables[t];
      for (int64_t row = 0; row < MIN (tab->rows, 64); row++)
        {
          uint32_t first = 0, n = 0;
          rg_shard_table_find (tab, rg_shard_table_rank (tab, row), &first, &n);
          if (n == 0 || first + n > tab->n_segments)
            g_error ("fuzz %s iteration %u: row %" G_GINT64_FORMAT " of table %u has no segment",
                     fz->target, fz->iteration, row, t);
          for (uint32_t s = first; s < first + n; s++)
            if (rg_shard_segment_owner (&p->topo, &tab->segments[s], row, 0) >= w)
              g_error ("fuzz %s iteration %u: owner out of the world", fz->target, fz->iteration);
        }
    }
}

static void
test_plan_mutations (void)
{
  RgTableSpec specs[2] = {
    { RG_TABLE_SEQUENCE, 4, 4, 10, 10, 1.0, 0.0, 1.0, 1.0 },
    { RG_TABLE_POOLED, 8, 2, 6, 100, 1.1, 2.0, 3.0, 0.5 },
  };
  static const uint32_t all[4] = { 0, 1, 2, 3 };
  static const uint32_t d0 = 0, d3 = 3;
  g_autoptr (RgShardPlan) plan = rg_shard_plan_new ("flexshard", &topo, specs, 2);
  rg_shard_plan_add (plan, 0, 0, 2, 0, 4, RG_TIER_FAST, 4, 1, all);
  rg_shard_plan_add (plan, 0, 2, 6, 0, 4, RG_TIER_FAST, 2, 2, all);
  rg_shard_plan_add (plan, 0, 6, 10, 0, 4, RG_TIER_SLOW, 1, 4, all);
  rg_shard_plan_add (plan, 1, 0, 6, 0, 5, RG_TIER_FAST, 1, 1, &d0);
  rg_shard_plan_add (plan, 1, 0, 6, 5, 8, RG_TIER_SLOW, 1, 1, &d3);
  int64_t *rank = g_new (int64_t, 6);
  for (int i = 0; i < 6; i++)
    rank[i] = (i * 5 + 1) % 6; /* a permutation of 0..5 */
  rg_shard_plan_set_rank (plan, 1, rank);
  plan->cache = RG_SHARD_CACHE_LFU;
  plan->cache_rows = 2;
  GError *error = NULL;
  g_assert_true (rg_shard_plan_validate (plan, &error));

  g_autofree char *dir = g_dir_make_tmp ("rg-fuzz-plan-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *valid = g_build_filename (dir, "valid.json", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.json", NULL);
  g_assert_true (rg_shard_plan_save (plan, valid, &error));
  g_assert_no_error (error);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (valid, &data, &len, &error));
  {
    /* The writer's file must load as it is: otherwise every case below
     * would test only the refusal path. */
    g_autoptr (RgShardPlan) back = rg_shard_plan_load (valid, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (back->tables[1].n_segments, ==, 2);
  }

  {
    /* Regression (found by this harness, seed 482854661632 iteration 1036):
     * a table claiming 2^32 rows with a hot_rows remap made the loader
     * allocate 32 GiB for the remap before checking that the segments cover
     * those rows — an abort in g_new instead of an error. */
    const char *from = "\"rows\":6,\"dim\":8";
    char *at = strstr (data, from);
    g_assert_nonnull (at);
    g_autofree char *head = g_strndup (data, (gsize)(at - data));
    g_autofree char *huge
        = g_strconcat (head, "\"rows\":4294967296,\"dim\":8", at + strlen (from), NULL);
    rg_fuzz_write (bad, (const guint8 *)huge, strlen (huge));
    g_autoptr (RgShardPlan) p = rg_shard_plan_load (bad, &error);
    g_assert_null (p);
    g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
    g_test_message ("huge rows refused: %s", error->message);
    g_clear_error (&error);
  }

  RgFuzz fz;
  rg_fuzz_init (&fz, "shard-plan", 0x706c616e00, 2000);
  guint loaded = 0;
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      g_autoptr (GByteArray) m = rg_fuzz_mutate (&fz, (const guint8 *)data, len, 3, NULL, 0, TRUE);
      rg_fuzz_write (bad, m->data, m->len);
      RgShardPlan *p = rg_shard_plan_load (bad, &error);
      if (p != NULL)
        {
          check_loaded (&fz, p);
          loaded++;
          rg_shard_plan_free (p);
        }
      rg_fuzz_check (&fz, p != NULL, g_steal_pointer (&error));
    }
  g_test_message ("%u of %u mutated plans loaded (the rest refused)", loaded, fz.iterations);

  g_unlink (bad);
  g_unlink (valid);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/shard-plan", test_plan_mutations);
  return g_test_run ();
}
