/* Set-associative LRU/LFU caches: hand-made id streams whose hits and
 * evictions can be worked out by hand. */
#include "core/rg-error.h"
#include "embed/rg-embed-cache.h"

#include <string.h>

/* n distinct rows of table 0 that all map to the same set as `anchor`. */
static int64_t *
colliding_rows (const RgEmbedCache *c, int n)
{
  int64_t *rows = g_new (int64_t, n);
  int64_t set = rg_embed_cache_set_of (c, 0, 0);
  int k = 0;
  for (int64_t r = 0; k < n; r++)
    if (rg_embed_cache_set_of (c, 0, r) == set)
      rows[k++] = r;
  return rows;
}

static void
test_geometry (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (rg_embed_cache_rows_for_load_factor (10000, 0.2), ==, 2000);
  g_assert_cmpint (rg_embed_cache_rows_for_load_factor (10, 0.2), ==, RG_EMBED_CACHE_WAYS);

  g_autoptr (RgEmbedCache) c = rg_embed_cache_new (RG_EMBED_CACHE_LRU, 100, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rg_embed_cache_n_sets (c), ==, 4); /* 100 rows → 4 sets of 32 */
  g_assert_cmpint (rg_embed_cache_capacity (c), ==, 128);

  RgEmbedCache *bad = rg_embed_cache_new (RG_EMBED_CACHE_LFU, 0, 16, &error);
  g_assert_null (bad);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

/* 33 rows into one 32-way set: the 33rd evicts the least recently used. */
static void
test_lru_evicts_least_recent (void)
{
  g_autoptr (RgEmbedCache) c = rg_embed_cache_new (RG_EMBED_CACHE_LRU, 64, 0, NULL);
  g_autofree int64_t *rows = colliding_rows (c, 33);

  for (int i = 0; i < 32; i++)
    g_assert_false (rg_embed_cache_access (c, 0, rows[i]));
  /* refresh row 0, so row 1 becomes the least recent */
  g_assert_true (rg_embed_cache_access (c, 0, rows[0]));
  g_assert_false (rg_embed_cache_access (c, 0, rows[32]));
  g_assert_true (rg_embed_cache_contains (c, 0, rows[0]));
  g_assert_false (rg_embed_cache_contains (c, 0, rows[1]));
  g_assert_true (rg_embed_cache_contains (c, 0, rows[32]));

  RgEmbedCacheStats s;
  rg_embed_cache_get_stats (c, &s);
  g_assert_cmpuint (s.accesses, ==, 34);
  g_assert_cmpuint (s.hits, ==, 1);
  g_assert_cmpuint (s.misses, ==, 33);
  g_assert_cmpuint (s.evictions, ==, 1);
  g_assert_cmpint (rg_embed_cache_resident (c), ==, 32);
}

/* LFU keeps the frequently used rows even when they are not the recent ones,
 * and only admits a newcomer once it has been seen more often than the
 * coldest resident. */
static void
test_lfu_evicts_least_frequent (void)
{
  g_autoptr (RgEmbedCache) c = rg_embed_cache_new (RG_EMBED_CACHE_LFU, 32, 0, NULL);
  g_autofree int64_t *rows = colliding_rows (c, 34);

  for (int i = 0; i < 32; i++)
    rg_embed_cache_access (c, 0, rows[i]);
  /* every row but rows[5] gets a second access: rows[5] is the coldest even
   * though rows[0] is older */
  for (int i = 0; i < 32; i++)
    if (i != 5)
      g_assert_true (rg_embed_cache_access (c, 0, rows[i]));

  /* one access of a newcomer (count 1) does not beat rows[5] (count 1) */
  g_assert_false (rg_embed_cache_access (c, 0, rows[32]));
  g_assert_false (rg_embed_cache_contains (c, 0, rows[32]));
  /* the second does (2 > 1): rows[5] goes, rows[0] stays */
  g_assert_false (rg_embed_cache_access (c, 0, rows[32]));
  g_assert_true (rg_embed_cache_contains (c, 0, rows[32]));
  g_assert_false (rg_embed_cache_contains (c, 0, rows[5]));
  g_assert_true (rg_embed_cache_contains (c, 0, rows[0]));

  RgEmbedCacheStats s;
  rg_embed_cache_get_stats (c, &s);
  g_assert_cmpuint (s.rejected, ==, 1);
  g_assert_cmpuint (s.evictions, ==, 1);
  g_assert_cmpuint (s.hits, ==, 31);

  /* LRU, by contrast, admits the newcomer at its first access and evicts
   * the oldest row, rows[0] */
  g_autoptr (RgEmbedCache) lru = rg_embed_cache_new (RG_EMBED_CACHE_LRU, 32, 0, NULL);
  for (int i = 0; i < 32; i++)
    rg_embed_cache_access (lru, 0, rows[i]);
  g_assert_false (rg_embed_cache_access (lru, 0, rows[32]));
  g_assert_true (rg_embed_cache_contains (lru, 0, rows[32]));
  g_assert_false (rg_embed_cache_contains (lru, 0, rows[0]));
}

/* A cyclic scan one row larger than the cache: LRU misses every time,
 * LFU keeps 31 of the rows and hits on them. */
static void
test_scan_hit_rates (void)
{
  g_autoptr (RgEmbedCache) lru = rg_embed_cache_new (RG_EMBED_CACHE_LRU, 32, 0, NULL);
  g_autoptr (RgEmbedCache) lfu = rg_embed_cache_new (RG_EMBED_CACHE_LFU, 32, 0, NULL);
  g_autofree int64_t *rows = colliding_rows (lru, 33);
  for (int pass = 0; pass < 10; pass++)
    {
      rg_embed_cache_access_batch (lru, 0, rows, 33);
      rg_embed_cache_access_batch (lfu, 0, rows, 33);
    }
  g_assert_cmpfloat (rg_embed_cache_hit_rate (lru), ==, 0.0);
  /* LFU: first pass 0 hits; later passes hit the 32 resident rows except the
   * one row that keeps losing the admission race */
  g_assert_cmpfloat (rg_embed_cache_hit_rate (lfu), >, 0.85);
}

/* Two tables with the same row ids are different rows. */
static void
test_tables_are_distinct (void)
{
  g_autoptr (RgEmbedCache) c = rg_embed_cache_new (RG_EMBED_CACHE_LRU, 256, 0, NULL);
  rg_embed_cache_access (c, 1, 7);
  g_assert_true (rg_embed_cache_contains (c, 1, 7));
  g_assert_false (rg_embed_cache_contains (c, 2, 7));
  g_assert_false (rg_embed_cache_access (c, 2, 7));
}

typedef struct
{
  int n;
  int64_t rows[64];
  float first[64];
} Written;

static gboolean
record_writeback (void *user_data, uint32_t table, int64_t row, const void *bytes, GError **error)
{
  Written *w = user_data;
  w->rows[w->n] = row;
  memcpy (&w->first[w->n], bytes, sizeof (float));
  w->n++;
  return TRUE;
}

static gboolean
failing_writeback (void *user_data, uint32_t table, int64_t row, const void *bytes, GError **error)
{
  g_set_error (error, RG_ERROR, RG_ERROR_IO, "disk full");
  return FALSE;
}

/* Data mode: bytes survive, a dirty victim is written back before its way is
 * reused, flush writes the rest and leaves them clean. */
static void
test_data_writeback (void)
{
  g_autoptr (GError) error = NULL;
  const gsize row_bytes = 4 * sizeof (float);
  g_autoptr (RgEmbedCache) c = rg_embed_cache_new (RG_EMBED_CACHE_LRU, 32, row_bytes, &error);
  g_assert_no_error (error);
  Written w = { 0 };
  rg_embed_cache_set_writeback (c, record_writeback, &w);
  g_autofree int64_t *rows = colliding_rows (c, 33);

  for (int i = 0; i < 32; i++)
    {
      float v[4] = { (float)i, 1, 2, 3 };
      g_assert_null (rg_embed_cache_lookup (c, 0, rows[i]));
      void *slot = NULL;
      g_assert_true (rg_embed_cache_insert (c, 0, rows[i], v, FALSE, &slot, &error));
      g_assert_nonnull (slot);
    }
  float *r3 = rg_embed_cache_lookup (c, 0, rows[3]);
  g_assert_nonnull (r3);
  g_assert_cmpfloat (r3[0], ==, 3.0f);
  g_assert_cmpfloat (r3[3], ==, 3.0f);

  /* update rows[0] in place and mark it dirty; then make it the LRU victim
   * by touching everything else */
  float *r0 = rg_embed_cache_lookup (c, 0, rows[0]);
  r0[0] = 100.0f;
  g_assert_true (rg_embed_cache_mark_dirty (c, 0, rows[0]));
  for (int i = 1; i < 32; i++)
    g_assert_nonnull (rg_embed_cache_lookup (c, 0, rows[i]));
  float v[4] = { 32, 0, 0, 0 };
  g_assert_true (rg_embed_cache_insert (c, 0, rows[32], v, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (w.n, ==, 1);
  g_assert_cmpint (w.rows[0], ==, rows[0]);
  g_assert_cmpfloat (w.first[0], ==, 100.0f);

  /* the newcomer was inserted dirty: flush writes it, and only it */
  g_assert_cmpint (rg_embed_cache_n_dirty (c), ==, 1);
  g_assert_true (rg_embed_cache_flush (c, &error));
  g_assert_cmpint (w.n, ==, 2);
  g_assert_cmpint (w.rows[1], ==, rows[32]);
  g_assert_cmpint (rg_embed_cache_n_dirty (c), ==, 0);
  g_assert_true (rg_embed_cache_flush (c, &error));
  g_assert_cmpint (w.n, ==, 2);

  /* a failing write-back keeps the row dirty and reports why */
  rg_embed_cache_mark_dirty (c, 0, rows[32]);
  rg_embed_cache_set_writeback (c, failing_writeback, NULL);
  g_assert_false (rg_embed_cache_flush (c, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_IO);
  g_assert_cmpint (rg_embed_cache_n_dirty (c), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/embed-cache/geometry", test_geometry);
  g_test_add_func ("/embed-cache/lru-evicts-least-recent", test_lru_evicts_least_recent);
  g_test_add_func ("/embed-cache/lfu-evicts-least-frequent", test_lfu_evicts_least_frequent);
  g_test_add_func ("/embed-cache/scan-hit-rates", test_scan_hit_rates);
  g_test_add_func ("/embed-cache/tables-are-distinct", test_tables_are_distinct);
  g_test_add_func ("/embed-cache/data-writeback", test_data_writeback);
  return g_test_run ();
}
