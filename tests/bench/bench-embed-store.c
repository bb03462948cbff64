/* bench-embed-store — pooled lookups per second through the store's tiers,
 * against the baseline of reading every looked-up row from SQLite with its
 * own query, and the LRU/LFU cache hit rates at a few load factors.
 *
 * Workload: one table (ROWS × DIM f32), batches of BAGS bags of POOL ids
 * drawn Zipf(s = 1.05) and hashed into rows (as rg-trace does), so hot rows
 * are scattered over the table and the caches' sets. Placement for the
 * tiered runs comes from the access counts of the first WARM batches (a
 * profile), and is then measured on later batches.
 *
 * Prints lookups/s per configuration and the ratio to the baseline. Run:
 *   build/tests/bench/bench-embed-store [--quick] */
#include "core/rg-error.h"
#include "embed/rg-embed-store.h"
#include "embed/rg-trace.h"

#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t ROWS = 100000;
static int DIM = 32;
static int BAGS = 256;
static int POOL = 16;
static int WARM = 8;
static int MEASURE = 16;

typedef struct
{
  int64_t *indices; /* batches × BAGS × POOL */
  int64_t *offsets; /* BAGS + 1, the same for every batch */
  int batches;
} Workload;

static void
make_workload (Workload *w)
{
  RgZipf z;
  rg_zipf_init (&z, ROWS * 10, 1.05, 0.0);
  uint64_t state = 42;
  w->batches = WARM + MEASURE;
  gsize n = (gsize)w->batches * BAGS * POOL;
  w->indices = g_new (int64_t, n);
  for (gsize i = 0; i < n; i++)
    w->indices[i] = rg_trace_hash_row (0, rg_zipf_sample (&z, &state), ROWS);
  w->offsets = g_new (int64_t, BAGS + 1);
  for (int b = 0; b <= BAGS; b++)
    w->offsets[b] = (int64_t)b * POOL;
}

static const int64_t *
batch_ids (const Workload *w, int b)
{
  return w->indices + (gsize)b * BAGS * POOL;
}

/* Baseline: every looked-up row is its own SELECT (the cold tier with no
 * batching, no memory tier, no cache); pooled sum as the store does. */
static double
run_baseline (const char *path, uint32_t table, const Workload *w, float *out)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (db, "SELECT blob FROM embed_rows WHERE tbl = ?1 AND row = ?2", -1, &st,
                             NULL)
             != SQLITE_OK)
    g_error ("baseline: %s", sqlite3_errmsg (db));
  gint64 t0 = g_get_monotonic_time ();
  for (int b = WARM; b < w->batches; b++)
    {
      const int64_t *ids = batch_ids (w, b);
      for (int bag = 0; bag < BAGS; bag++)
        {
          float *dst = out + (gsize)bag * DIM;
          memset (dst, 0, DIM * sizeof (float));
          for (int k = 0; k < POOL; k++)
            {
              sqlite3_reset (st);
              sqlite3_bind_int64 (st, 1, table);
              sqlite3_bind_int64 (st, 2, ids[bag * POOL + k]);
              if (sqlite3_step (st) != SQLITE_ROW)
                g_error ("baseline: row %" G_GINT64_FORMAT " missing", ids[bag * POOL + k]);
              const guint8 *blob = sqlite3_column_blob (st, 0);
              float v[512];
              memcpy (v, blob + 16, DIM * sizeof (float)); /* weights follow the 16-byte header */
              for (int d = 0; d < DIM; d++)
                dst[d] += v[d];
            }
        }
    }
  double secs = (double)(g_get_monotonic_time () - t0) / 1e6;
  sqlite3_finalize (st);
  sqlite3_close (db);
  return (double)MEASURE * BAGS * POOL / secs;
}

typedef struct
{
  const char *name;
  int64_t cache_rows;
  RgEmbedCachePolicy policy;
  double device_share; /* of rows, hottest first */
  double host_share;
} Config;

static int
cmp_count_desc (const void *a, const void *b, void *counts)
{
  const uint32_t *c = counts;
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  if (c[x] != c[y])
    return c[x] < c[y] ? 1 : -1;
  return (x > y) - (x < y);
}

static double
run_store (const char *path, uint32_t table, const Workload *w, const Config *cfg,
           const int64_t *by_heat, float *out, double *hit_rate, double *sqlite_share, float *check)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStoreConfig scfg = rg_embed_store_config_default ();
  scfg.cache_rows = cfg->cache_rows;
  scfg.cache_policy = cfg->policy;
  scfg.device_bytes = (gsize)1 << 32;
  scfg.host_bytes = (gsize)1 << 32;
  RgEmbedStore *s = rg_embed_store_open (path, &scfg, &error);
  if (s == NULL)
    g_error ("%s", error->message);
  if (cfg->device_share > 0 || cfg->host_share > 0)
    {
      g_autofree guint8 *place = g_new (guint8, ROWS);
      int64_t n_dev = (int64_t)(cfg->device_share * ROWS);
      int64_t n_host = (int64_t)(cfg->host_share * ROWS);
      for (int64_t i = 0; i < ROWS; i++)
        place[by_heat[i]] = i < n_dev            ? RG_EMBED_TIER_DEVICE
                            : i < n_dev + n_host ? RG_EMBED_TIER_HOST
                                                 : RG_EMBED_TIER_COLD;
      if (!rg_embed_store_set_placement (s, table, place, &error))
        g_error ("%s", error->message);
    }
  /* warm the cache on the profile batches, as a training run would */
  for (int b = 0; b < WARM; b++)
    if (!rg_embed_store_lookup_pooled (s, table, w->offsets, BAGS, batch_ids (w, b), NULL,
                                       RG_EMBED_POOL_SUM, out, &error))
      g_error ("%s", error->message);
  rg_embed_store_reset_stats (s);
  gint64 t0 = g_get_monotonic_time ();
  for (int b = WARM; b < w->batches; b++)
    if (!rg_embed_store_lookup_pooled (s, table, w->offsets, BAGS, batch_ids (w, b), NULL,
                                       RG_EMBED_POOL_SUM, out, &error))
      g_error ("%s", error->message);
  double secs = (double)(g_get_monotonic_time () - t0) / 1e6;
  RgEmbedStoreStats st;
  rg_embed_store_get_stats (s, &st);
  uint64_t cold = st.reads[RG_EMBED_TIER_COLD];
  uint64_t all = st.reads[0] + st.reads[1] + cold;
  /* the cache's hit rate over the lookups that reached the cold tier, and
   * the rows fetched from SQLite per lookup (a batch fetches a row once) */
  *hit_rate = cold ? (double)st.cache_hits / (double)cold : 0.0;
  *sqlite_share = all ? (double)st.sqlite_rows_read / (double)all : 0.0;
  /* the last batch must pool to what the baseline computed */
  for (int i = 0; i < BAGS * DIM; i++)
    if (fabsf (out[i] - check[i]) > 1e-4f * (1.0f + fabsf (check[i])))
      g_error ("%s: pooled result differs from the baseline at %d", cfg->name, i);
  rg_embed_store_free (s);
  return (double)MEASURE * BAGS * POOL / secs;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  if (argc > 1 && strcmp (argv[1], "--quick") == 0)
    {
      ROWS = 20000;
      MEASURE = 4;
    }
  g_autofree char *dir = g_dir_make_tmp ("rg-bench-embed-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "bench.rgemb", NULL);
  RgEmbedStore *s = rg_embed_store_open (path, NULL, &error);
  if (s == NULL)
    g_error ("%s", error->message);
  RgEmbedOptim sgd = { RG_EMBED_OPTIM_SGD, 0.1f, 0 };
  uint32_t table = 0;
  gint64 t0 = g_get_monotonic_time ();
  if (!rg_embed_store_create_table (s, "items", ROWS, DIM, RG_F32, &sgd, 1, 0.1f, &table, &error))
    g_error ("%s", error->message);
  printf ("bench-embed-store: %" G_GINT64_FORMAT " rows × %d f32, %d bags × %d ids per batch, "
          "%d profile + %d measured batches (table written in %.2f s)\n",
          ROWS, DIM, BAGS, POOL, WARM, MEASURE, (double)(g_get_monotonic_time () - t0) / 1e6);
  rg_embed_store_free (s);

  Workload w;
  make_workload (&w);
  /* profile: hottest rows of the warm-up batches first */
  g_autofree uint32_t *counts = g_new0 (uint32_t, ROWS);
  for (gsize i = 0; i < (gsize)WARM * BAGS * POOL; i++)
    counts[w.indices[i]]++;
  g_autofree int64_t *by_heat = g_new (int64_t, ROWS);
  for (int64_t r = 0; r < ROWS; r++)
    by_heat[r] = r;
  g_qsort_with_data (by_heat, (gint)ROWS, sizeof (int64_t), cmp_count_desc, counts);

  g_autofree float *out = g_new (float, BAGS *DIM), *check = g_new (float, BAGS *DIM);
  double base = run_baseline (path, table, &w, check);
  printf ("%-46s %10.0f lookups/s   1.00×\n", "baseline: one SQLite query per row", base);

  int64_t lf_rows[3] = { rg_embed_cache_rows_for_load_factor (ROWS, 0.05),
                         rg_embed_cache_rows_for_load_factor (ROWS, 0.1),
                         rg_embed_cache_rows_for_load_factor (ROWS, 0.2) };
  const double lf[3] = { 0.05, 0.1, 0.2 };
  Config configs[] = {
    { "store, SQLite only (batched IN reads)", 0, RG_EMBED_CACHE_LRU, 0, 0 },
    { NULL, lf_rows[0], RG_EMBED_CACHE_LRU, 0, 0 },
    { NULL, lf_rows[1], RG_EMBED_CACHE_LRU, 0, 0 },
    { NULL, lf_rows[2], RG_EMBED_CACHE_LRU, 0, 0 },
    { NULL, lf_rows[0], RG_EMBED_CACHE_LFU, 0, 0 },
    { NULL, lf_rows[1], RG_EMBED_CACHE_LFU, 0, 0 },
    { NULL, lf_rows[2], RG_EMBED_CACHE_LFU, 0, 0 },
    { "tiers: hot 5% device*, next 15% host, LRU 5%", lf_rows[0], RG_EMBED_CACHE_LRU, 0.05, 0.15 },
    { "tiers: all rows in host memory", 0, RG_EMBED_CACHE_LRU, 0, 1.0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (configs); i++)
    {
      g_autofree char *name = NULL;
      if (configs[i].name == NULL)
        name = g_strdup_printf ("SQLite + %s cache, load factor %.2f",
                                rg_embed_cache_policy_name (configs[i].policy), lf[(i - 1) % 3]);
      else
        name = g_strdup (configs[i].name);
      configs[i].name = name;
      double hit = 0, from_sqlite = 0;
      double rate
          = run_store (path, table, &w, &configs[i], by_heat, out, &hit, &from_sqlite, check);
      printf ("%-46s %10.0f lookups/s %6.2f×   cache hit rate %5.1f%%   SQLite rows/lookup %.3f\n",
              name, rate, rate / base, 100 * hit, from_sqlite);
      configs[i].name = NULL;
    }
  printf ("* the device tier is the host-memory stand-in until the CUDA tier exists\n");

  const char *suffixes[] = { "", "-wal", "-shm" };
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *p = g_strconcat (path, suffixes[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
  g_free (w.indices);
  g_free (w.offsets);
  return 0;
}
