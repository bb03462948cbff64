/* test-profile.c — per-table statistics on a trace small enough to count by hand. */
#include <glib.h>
#include <string.h>

#include "embed/rg-profile.h"

/* One table of 6 rows, 3 samples per batch, 2 batches:
 *   batch 0: {2, 2, 4}  {}      {2}
 *   batch 1: {0}        {4, 2}  {}
 * counts: row 0 → 1, row 2 → 4, row 4 → 2; 7 lookups; 4 of 6 samples touch. */
static uint32_t off0[] = { 0, 3, 3, 4 };
static int64_t  ids0[] = { 2, 2, 4, 2 };
static uint32_t off1[] = { 0, 1, 3, 3 };
static int64_t  ids1[] = { 0, 4, 2 };

static RgTrace *
hand_trace (RgTableSpec *spec, RgTraceBag *bags)
{
  *spec = (RgTableSpec) { RG_TABLE_POOLED, 4, 4, 6, 6, 1.0, 0.0, 2.0, 1.0 };
  bags[0] = (RgTraceBag) { off0, ids0, 4 };
  bags[1] = (RgTraceBag) { off1, ids1, 3 };
  RgTrace *t = g_new0 (RgTrace, 1);
  *t = (RgTrace) { 1, spec, 3, 2, 0, bags };
  return t;
}

static void
test_by_hand (void)
{
  RgTableSpec spec;
  RgTraceBag  bags[2];
  g_autofree RgTrace *t = hand_trace (&spec, bags);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgProfile) prof = rg_profile_build (t, 0, 2, &error);
  g_assert_no_error (error);
  const RgTableProfile *p = &prof->tables[0];

  g_assert_cmpuint (p->accesses, ==, 7);
  g_assert_cmpuint (p->samples, ==, 6);
  g_assert_cmpuint (p->samples_touching, ==, 4);
  g_assert_cmpfloat_with_epsilon (p->coverage, 4.0 / 6.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (p->mean_pooling, 7.0 / 4.0, 1e-12);
  g_assert_cmpint (p->unique_rows, ==, 3);
  g_assert_cmpint (p->untouched_rows, ==, 3);
  g_assert_cmpuint (p->row_bytes, ==, 16);

  uint64_t counts[6] = { 1, 0, 4, 0, 2, 0 };
  int64_t  order[6] = { 2, 4, 0, 1, 3, 5 }; /* hot first, holes after in row order */
  uint64_t cum[7] = { 0, 4, 6, 7, 7, 7, 7 };
  g_assert_cmpmem (p->counts, sizeof counts, counts, sizeof counts);
  g_assert_cmpmem (p->order, sizeof order, order, sizeof order);
  g_assert_cmpmem (p->cum, sizeof cum, cum, sizeof cum);

  g_assert_cmpfloat_with_epsilon (rg_table_profile_cdf (p, 0), 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (rg_table_profile_cdf (p, 1), 4.0 / 7.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (rg_table_profile_cdf (p, 2), 6.0 / 7.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (rg_table_profile_cdf (p, 99), 1.0, 1e-12);
  g_assert_cmpint (rg_table_profile_rows_for_share (p, 0.5), ==, 1);
  g_assert_cmpint (rg_table_profile_rows_for_share (p, 4.0 / 7.0), ==, 1);
  g_assert_cmpint (rg_table_profile_rows_for_share (p, 0.6), ==, 2);
  g_assert_cmpint (rg_table_profile_rows_for_share (p, 1.0), ==, 3);
  g_assert_cmpfloat_with_epsilon (rg_table_profile_per_batch (p, prof), 3.5, 1e-12);

  g_autofree int64_t *rank = rg_table_profile_rank (p);
  int64_t             want[6] = { 2, 3, 0, 4, 1, 5 };
  g_assert_cmpmem (rank, sizeof want, want, sizeof want);
}

/* Profiling only the second batch sees only its lookups. */
static void
test_range (void)
{
  RgTableSpec spec;
  RgTraceBag  bags[2];
  g_autofree RgTrace *t = hand_trace (&spec, bags);
  g_autoptr (RgProfile) prof = rg_profile_build (t, 1, 1, NULL);
  const RgTableProfile *p = &prof->tables[0];
  g_assert_cmpuint (p->accesses, ==, 3);
  g_assert_cmpint (p->unique_rows, ==, 3);
  g_assert_cmpint (p->order[0], ==, 0); /* ties by row id: 0, 2, 4 */

  g_autoptr (GError) error = NULL;
  g_assert_null (rg_profile_build (t, 1, 2, &error));
  g_assert_nonnull (strstr (error->message, "not inside"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/embed/profile/by-hand", test_by_hand);
  g_test_add_func ("/embed/profile/range", test_range);
  return g_test_run ();
}
