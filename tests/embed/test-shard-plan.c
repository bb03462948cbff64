/* test-shard-plan.c — plan structure, memory accounting, the lookup rule, files. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "embed/rg-shard-plan.h"

/* 2 nodes × 2 devices; one table of 10 rows × 4 f32 (16 bytes a row). */
static const RgTopology topo = { 2, 2, 1000, 1000 };
static const RgTableSpec spec = { RG_TABLE_SEQUENCE, 4, 4, 10, 10, 1.0, 0.0, 1.0, 1.0 };
static const uint32_t    all[4] = { 0, 1, 2, 3 };

/* FlexShard's shape: [0, 2) on every device, [2, 6) once per node and
 * dealt over its two devices, [6, 10) dealt over all four in slow memory. */
static RgShardPlan *
tiered (void)
{
  RgShardPlan *p = rg_shard_plan_new ("tiered", &topo, &spec, 1);
  rg_shard_plan_add (p, 0, 0, 2, 0, 4, RG_TIER_FAST, 4, 1, all);
  rg_shard_plan_add (p, 0, 2, 6, 0, 4, RG_TIER_FAST, 2, 2, all);
  rg_shard_plan_add (p, 0, 6, 10, 0, 4, RG_TIER_SLOW, 1, 4, all);
  return p;
}

static void
test_bytes_and_owner (void)
{
  g_autoptr (RgShardPlan) rw = rg_shard_plan_new ("row-wise", &topo, &spec, 1);
  rg_shard_plan_add (rw, 0, 0, 10, 0, 4, RG_TIER_FAST, 1, 4, all);
  g_assert_true (rg_shard_plan_validate (rw, NULL));
  uint64_t fast[4], slow[4];
  rg_shard_plan_device_bytes (rw, fast, slow);
  /* 10 rows dealt over 4: 3, 3, 2, 2. */
  g_assert_cmpuint (fast[0], ==, 48);
  g_assert_cmpuint (fast[1], ==, 48);
  g_assert_cmpuint (fast[2], ==, 32);
  g_assert_cmpuint (fast[3], ==, 32);
  g_assert_cmpuint (slow[0], ==, 0);

  g_autoptr (RgShardPlan) p = tiered ();
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_shard_plan_validate (p, &error));
  g_assert_no_error (error);
  rg_shard_plan_device_bytes (p, fast, slow);
  for (int d = 0; d < 4; d++)
    {
      g_assert_cmpuint (fast[d], ==, 2 * 16 + 2 * 16); /* 2 replicated + 2 of the node's 4 */
      g_assert_cmpuint (slow[d], ==, 16);
    }

  const RgShardTable *t = &p->tables[0];
  uint32_t            first, n;
  rg_shard_table_find (t, 1, &first, &n);
  g_assert_cmpuint (first, ==, 0);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (rg_shard_segment_owner (&topo, &t->segments[0], 1, 3), ==, 3); /* local copy */
  rg_shard_table_find (t, 3, &first, &n);
  g_assert_cmpuint (first, ==, 1);
  /* Rank 3 is slot 1 of [2, 6): device 1 on node 0, device 3 on node 1. */
  g_assert_cmpuint (rg_shard_segment_owner (&topo, &t->segments[1], 3, 0), ==, 1);
  g_assert_cmpuint (rg_shard_segment_owner (&topo, &t->segments[1], 3, 3), ==, 3);
  g_assert_cmpuint (rg_shard_segment_owner (&topo, &t->segments[1], 3, 2), ==, 3);
  rg_shard_table_find (t, 7, &first, &n);
  g_assert_cmpuint (first, ==, 2);
  g_assert_cmpuint (rg_shard_segment_owner (&topo, &t->segments[2], 7, 2), ==, 1);
}

static void
test_column_split_find (void)
{
  g_autoptr (RgShardPlan) p = rg_shard_plan_new ("cw", &topo, &spec, 1);
  uint32_t d0 = 0, d1 = 1, d2 = 2;
  rg_shard_plan_add (p, 0, 0, 5, 0, 4, RG_TIER_FAST, 1, 1, &d2);
  rg_shard_plan_add (p, 0, 5, 10, 0, 1, RG_TIER_FAST, 1, 1, &d0);
  rg_shard_plan_add (p, 0, 5, 10, 1, 4, RG_TIER_FAST, 1, 1, &d1);
  g_assert_true (rg_shard_plan_validate (p, NULL));
  uint32_t first, n;
  rg_shard_table_find (&p->tables[0], 9, &first, &n);
  g_assert_cmpuint (first, ==, 1);
  g_assert_cmpuint (n, ==, 2);
  rg_shard_table_find (&p->tables[0], 4, &first, &n);
  g_assert_cmpuint (first, ==, 0);
  g_assert_cmpuint (n, ==, 1);
  uint64_t fast[4];
  rg_shard_plan_device_bytes (p, fast, NULL);
  g_assert_cmpuint (fast[0], ==, 5 * 4);
  g_assert_cmpuint (fast[1], ==, 5 * 12);
  g_assert_cmpuint (fast[2], ==, 5 * 16);
}

static void
expect_invalid (RgShardPlan *p, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (rg_shard_plan_validate (p, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  if (!strstr (error->message, needle))
    g_error ("\"%s\" does not mention \"%s\"", error->message, needle);
  rg_shard_plan_free (p);
}

static void
test_validation (void)
{
  RgShardPlan *p = rg_shard_plan_new ("gap", &topo, &spec, 1);
  rg_shard_plan_add (p, 0, 0, 4, 0, 4, RG_TIER_FAST, 1, 4, all);
  rg_shard_plan_add (p, 0, 5, 10, 0, 4, RG_TIER_FAST, 1, 4, all);
  expect_invalid (p, "do not continue from row 4");

  p = rg_shard_plan_new ("short", &topo, &spec, 1);
  rg_shard_plan_add (p, 0, 0, 8, 0, 4, RG_TIER_FAST, 1, 4, all);
  expect_invalid (p, "cover 8 of 10 rows");

  p = rg_shard_plan_new ("cols", &topo, &spec, 1);
  rg_shard_plan_add (p, 0, 0, 10, 0, 3, RG_TIER_FAST, 1, 4, all);
  expect_invalid (p, "cover 3 of 4 columns");

  uint32_t bad = 4;
  p = rg_shard_plan_new ("device", &topo, &spec, 1);
  rg_shard_plan_add (p, 0, 0, 10, 0, 4, RG_TIER_FAST, 1, 1, &bad);
  expect_invalid (p, "device 4 does not exist");

  p = tiered ();
  int64_t *rank = g_new (int64_t, 10);
  for (int i = 0; i < 10; i++)
    rank[i] = i == 9 ? 0 : i; /* 0 twice */
  rg_shard_plan_set_rank (p, 0, rank);
  expect_invalid (p, "not a permutation");
}

/* A plan that does not fit names the device, the tier and the shortfall. */
static void
test_fit (void)
{
  g_autoptr (RgShardPlan) p = tiered ();
  g_assert_true (rg_shard_plan_check_fit (p, NULL));
  p->topo.fast_bytes = 60; /* each device needs 64 */
  g_autoptr (GError) error = NULL;
  g_assert_false (rg_shard_plan_check_fit (p, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "device 0 (node 0) fast tier needs 64 bytes"));
  g_assert_nonnull (strstr (error->message, "short by 4 bytes"));
  g_clear_error (&error);
  p->topo.fast_bytes = 64;
  p->topo.slow_bytes = 10;
  g_assert_false (rg_shard_plan_check_fit (p, &error));
  g_assert_nonnull (strstr (error->message, "slow tier needs 16 bytes"));
  g_assert_nonnull (strstr (error->message, "short by 6 bytes"));
}

static char *
tmp (const char *name)
{
  return g_strdup_printf ("%s/%d-%s", g_get_tmp_dir (), getpid (), name);
}

static void
test_json_round_trip (void)
{
  g_autoptr (RgShardPlan) p = tiered ();
  /* A remap whose tail is not in row order (stored as a 9-row prefix) … */
  int64_t *rank = g_new (int64_t, 10);
  for (int i = 0; i < 10; i++)
    rank[i] = 9 - i;
  rg_shard_plan_set_rank (p, 0, rank);
  p->cache = RG_SHARD_CACHE_LFU;
  p->cache_rows = 64;
  g_autofree char *path = tmp ("plan.json");
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_shard_plan_save (p, path, &error));
  g_autoptr (RgShardPlan) q = rg_shard_plan_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (q->scheme, ==, "tiered");
  g_assert_cmpuint (q->topo.n_nodes, ==, 2);
  g_assert_cmpuint (q->topo.fast_bytes, ==, 1000);
  g_assert_cmpint (q->cache, ==, RG_SHARD_CACHE_LFU);
  g_assert_cmpint (q->cache_rows, ==, 64);
  g_assert_cmpuint (q->tables[0].n_segments, ==, 3);
  g_assert_cmpmem (q->tables[0].rank, 80, rank, 80);
  for (int s = 0; s < 3; s++)
    {
      const RgShardSegment *a = &p->tables[0].segments[s], *b = &q->tables[0].segments[s];
      g_assert_cmpint (a->row_begin, ==, b->row_begin);
      g_assert_cmpint (a->row_end, ==, b->row_end);
      g_assert_cmpint (a->tier, ==, b->tier);
      g_assert_cmpuint (a->n_groups, ==, b->n_groups);
      g_assert_cmpmem (a->devices, 4 * a->n_groups * a->group_size, b->devices,
                       4 * b->n_groups * b->group_size);
    }
  g_unlink (path);
}

/* … and a profile-shaped remap (hot rows first, the rest in row order)
 * is stored as just its hot rows. */
static void
test_json_compact_remap (void)
{
  RgTableSpec big = spec;
  big.rows = 100000;
  g_autoptr (RgShardPlan) p = rg_shard_plan_new ("hot", &topo, &big, 1);
  rg_shard_plan_add (p, 0, 0, big.rows, 0, 4, RG_TIER_FAST, 1, 4, all);
  int64_t *rank = g_new (int64_t, big.rows);
  for (int64_t r = 0, next = 2; r < big.rows; r++)
    rank[r] = r == 70000 ? 0 : r == 30 ? 1 : next++;
  rg_shard_plan_set_rank (p, 0, rank);
  g_autofree char *path = tmp ("hot-plan.json");
  g_assert_true (rg_shard_plan_save (p, path, NULL));
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_size, <, 2000);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgShardPlan) q = rg_shard_plan_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (q->tables[0].rank, 8 * big.rows, rank, 8 * big.rows);
  g_unlink (path);
}

static void
expect_bad_file (const char *json, int code, const char *needle)
{
  g_autofree char *path = tmp ("bad-plan.json");
  g_assert_true (g_file_set_contents (path, json, -1, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (RgShardPlan) p = rg_shard_plan_load (path, &error);
  g_assert_null (p);
  g_assert_error (error, RG_ERROR, code);
  if (!strstr (error->message, needle))
    g_error ("\"%s\" does not mention \"%s\"", error->message, needle);
  g_unlink (path);
}

#define HEAD                                                                                       \
  "{\"format\": \"reelgen-shard-plan\", \"version\": 1, \"scheme\": \"x\", "                       \
  "\"topology\": {\"nodes\": 1, \"devices_per_node\": 2, \"fast_bytes\": 100, \"slow_bytes\": "   \
  "100}, \"cache\": {\"policy\": \"none\", \"rows\": 0}, "

static void
test_corrupt_files (void)
{
  expect_bad_file ("not json", RG_ERROR_CORRUPT, "cannot read plan");
  expect_bad_file ("{\"format\": \"something\"}", RG_ERROR_CORRUPT, "not a Reelgen shard plan");
  expect_bad_file ("{\"format\": \"reelgen-shard-plan\", \"version\": 7}", RG_ERROR_VERSION,
                   "version 7");
  expect_bad_file (HEAD "\"tables\": [{\"rows\": 4, \"dim\": 2, \"elem_bytes\": 4, \"hot_rows\": null, "
                        "\"segments\": [{\"rows\": [0, 4], \"cols\": [0, 2], \"tier\": \"fast\", "
                        "\"groups\": [[0, 9]]}]}]}",
                   RG_ERROR_CORRUPT, "device 9 does not exist");
  expect_bad_file (HEAD "\"tables\": [{\"rows\": 4, \"dim\": 2, \"elem_bytes\": 4, \"hot_rows\": null, "
                        "\"segments\": [{\"rows\": [0, 3], \"cols\": [0, 2], \"tier\": \"fast\", "
                        "\"groups\": [[0, 1]]}]}]}",
                   RG_ERROR_CORRUPT, "cover 3 of 4 rows");
  expect_bad_file (HEAD "\"tables\": [{\"rows\": 4, \"dim\": 2, \"elem_bytes\": 4, \"hot_rows\": \"AAAA\", "
                        "\"segments\": [{\"rows\": [0, 4], \"cols\": [0, 2], \"tier\": \"fast\", "
                        "\"groups\": [[0, 1]]}]}]}",
                   RG_ERROR_CORRUPT, "8-byte row ids");
  /* Row 0 listed twice. */
  expect_bad_file (HEAD "\"tables\": [{\"rows\": 4, \"dim\": 2, \"elem_bytes\": 4, "
                        "\"hot_rows\": \"AAAAAAAAAAAAAAAAAAAAAA==\", "
                        "\"segments\": [{\"rows\": [0, 4], \"cols\": [0, 2], \"tier\": \"fast\", "
                        "\"groups\": [[0, 1]]}]}]}",
                   RG_ERROR_CORRUPT, "hot row 0 is out of range or repeated");
  expect_bad_file (HEAD "\"tables\": [{\"rows\": 4, \"dim\": 2, \"elem_bytes\": 4, \"hot_rows\": null, "
                        "\"segments\": [{\"rows\": [0, 4], \"cols\": [0, 2], \"tier\": \"warm\", "
                        "\"groups\": [[0, 1]]}]}]}",
                   RG_ERROR_CORRUPT, "tier \"warm\"");
  expect_bad_file (HEAD "\"tables\": [{\"dim\": 2}]}", RG_ERROR_CORRUPT, "\"rows\" is missing");
  g_autoptr (GError) error = NULL;
  g_assert_null (rg_shard_plan_load ("/nonexistent/plan.json", &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/embed/shard-plan/bytes-owner", test_bytes_and_owner);
  g_test_add_func ("/embed/shard-plan/column-split", test_column_split_find);
  g_test_add_func ("/embed/shard-plan/validation", test_validation);
  g_test_add_func ("/embed/shard-plan/fit", test_fit);
  g_test_add_func ("/embed/shard-plan/json", test_json_round_trip);
  g_test_add_func ("/embed/shard-plan/json-compact-remap", test_json_compact_remap);
  g_test_add_func ("/embed/shard-plan/corrupt", test_corrupt_files);
  return g_test_run ();
}
