/* rg-embed-store.c — tables, placement across tiers, lookups, sparse
 * updates and flushing. The SQLite side is in rg-embed-store-db.c.
 *
 * Where a row's current bytes are, in the order reads look:
 *   tier_of[row] == DEVICE/HOST  → block[tier] + slot[row] × record bytes
 *   else (cold)                  → the table's cache, then `pending` (cold
 *                                  rows updated but not admitted to the
 *                                  cache), then SQLite.
 * Dirty state: dirty[row] for tier rows, the cache's own flags, and every
 * entry of `pending`. */
#include "rg-embed-store.h"

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "rg-embed-store-db.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct _Table Table;

struct _Table
{
  RgEmbedTableInfo info;
  char *name;
  RgEmbedStore *store;
  RgEmbedRecordLayout layout;
  guint8 *tier_of; /* [rows] RgEmbedTierKind, NULL = all cold */
  int64_t *slot;   /* [rows] index within its tier's block */
  void *block[2];  /* DEVICE, HOST */
  gsize block_bytes[2];
  guint8 *dirty; /* [rows] for tier-resident rows */
  int64_t n_dirty;
  RgEmbedCache *cache; /* may be NULL */
  GHashTable *pending; /* row → g_malloc'd record */
};

typedef enum
{
  FROM_TIER,
  FROM_CACHE,
  FROM_PENDING
} DirtySource;

typedef struct
{
  Table *table;
  int64_t row;
  DirtySource source;
} TxnRow;

struct _RgEmbedStore
{
  RgEmbedDb *db;
  RgEmbedStoreConfig config;
  RgEmbedTier *tiers[2];
  GPtrArray *tables; /* Table*, in id order */
  RgEmbedStoreStats stats;
  /* flush state */
  gboolean in_flush;
  gboolean in_txn;
  GArray *txn; /* TxnRow written in the open transaction */
  int64_t flush_written;
  int64_t flush_total;
  RgEmbedFlushProgress progress;
  void *progress_data;
};

RgEmbedStoreConfig
rg_embed_store_config_default (void)
{
  RgEmbedStoreConfig c = {
    .device_bytes = 64 << 20,
    .host_bytes = 256 << 20,
    .cache_rows = 0,
    .cache_policy = RG_EMBED_CACHE_LRU,
    .flush_batch_rows = 256,
    .device_tier = NULL,
  };
  return c;
}

/* ---- tables ---- */

static void
table_release_tiers (Table *t)
{
  for (int k = 0; k < 2; k++)
    {
      rg_embed_tier_release (t->store->tiers[k], t->block[k], t->block_bytes[k]);
      t->block[k] = NULL;
      t->block_bytes[k] = 0;
    }
  g_clear_pointer (&t->tier_of, g_free);
  g_clear_pointer (&t->slot, g_free);
  g_clear_pointer (&t->dirty, g_free);
  t->n_dirty = 0;
}

static void
table_free (Table *t)
{
  table_release_tiers (t);
  rg_embed_cache_free (t->cache);
  g_hash_table_unref (t->pending);
  g_free (t->name);
  g_free (t);
}

static Table *
find_table (const RgEmbedStore *s, uint32_t id)
{
  for (guint i = 0; i < s->tables->len; i++)
    {
      Table *t = g_ptr_array_index (s->tables, i);
      if (t->info.id == id)
        return t;
    }
  return NULL;
}

static Table *
get_table (RgEmbedStore *s, uint32_t id, GError **error)
{
  Table *t = find_table (s, id);
  if (t == NULL)
    g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "embedding store %s: no table with id %u",
                 rg_embed_db_path (s->db), id);
  return t;
}

static gboolean cache_writeback (void *user_data, uint32_t table, int64_t row, const void *bytes,
                                 GError **error);

static gboolean
table_make_cache (Table *t, GError **error)
{
  rg_embed_cache_free (t->cache);
  t->cache = NULL;
  if (t->store->config.cache_rows <= 0)
    return TRUE;
  t->cache = rg_embed_cache_new (t->store->config.cache_policy, t->store->config.cache_rows,
                                 t->layout.bytes, error);
  if (t->cache == NULL)
    return FALSE;
  rg_embed_cache_set_writeback (t->cache, cache_writeback, t);
  return TRUE;
}

static Table *
table_new (RgEmbedStore *s, uint32_t id, const char *name, int64_t rows, int dim, RgDType dtype,
           const RgEmbedOptim *optim, uint64_t seed, float init_std, gboolean lazy, GError **error)
{
  Table *t = g_new0 (Table, 1);
  t->store = s;
  t->name = g_strdup (name);
  t->info.id = id;
  t->info.name = t->name;
  t->info.rows = rows;
  t->info.dim = dim;
  t->info.dtype = dtype;
  t->info.optim = *optim;
  rg_embed_record_layout (&t->layout, dim, dtype, optim->kind);
  t->layout.table = id;
  t->layout.seed = seed;
  t->layout.init_std = init_std;
  t->layout.lazy = lazy;
  t->pending = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  if (!table_make_cache (t, error))
    {
      table_free (t);
      return NULL;
    }
  return t;
}

/* Metadata from the file is input like any other: check it. */
static Table *
table_from_row (RgEmbedStore *s, sqlite3_stmt *st, GError **error)
{
  int64_t id = sqlite3_column_int64 (st, 0);
  const char *name = (const char *)sqlite3_column_text (st, 1);
  int64_t rows = sqlite3_column_int64 (st, 2);
  int64_t dim = sqlite3_column_int64 (st, 3);
  const char *dtype_name = (const char *)sqlite3_column_text (st, 4);
  const char *optim_name = (const char *)sqlite3_column_text (st, 5);
  RgEmbedOptim optim
      = { .lr = (float)sqlite3_column_double (st, 6), .eps = (float)sqlite3_column_double (st, 7) };
  uint64_t seed = (uint64_t)sqlite3_column_int64 (st, 8);
  float init_std = (float)sqlite3_column_double (st, 9);
  int64_t lazy = sqlite3_column_int64 (st, 10);
  RgDType dtype;
  if (name == NULL || dtype_name == NULL || optim_name == NULL || id <= 0
      || id > RG_EMBED_CACHE_MAX_TABLE || rows <= 0 || rows > RG_EMBED_CACHE_MAX_ROW || dim <= 0
      || dim > RG_EMBED_STORE_MAX_DIM || !rg_dtype_from_name (dtype_name, &dtype)
      || (dtype != RG_F32 && dtype != RG_BF16)
      || !rg_embed_optim_from_name (optim_name, &optim.kind) || !isfinite (optim.lr)
      || !isfinite (optim.eps) || !isfinite (init_std) || (lazy != 0 && lazy != 1))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "embedding store %s: table %" G_GINT64_FORMAT " (“%s”) has invalid metadata "
                   "(rows %" G_GINT64_FORMAT ", dim %" G_GINT64_FORMAT ", dtype %s, optimizer %s)",
                   rg_embed_db_path (s->db), id, name ? name : "?", rows, dim,
                   dtype_name ? dtype_name : "?", optim_name ? optim_name : "?");
      return NULL;
    }
  return table_new (s, (uint32_t)id, name, rows, (int)dim, dtype, &optim, seed, init_std, lazy == 1,
                    error);
}

static gboolean
load_tables (RgEmbedStore *s, GError **error)
{
  sqlite3 *db = rg_embed_db_handle (s->db);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (
          db,
          "SELECT id, name, rows, dim, dtype, optim, lr, eps, init_seed, init_std, lazy"
          " FROM embed_tables "
          "ORDER BY id",
          -1, &st, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "embedding store %s: %s",
                   rg_embed_db_path (s->db), sqlite3_errmsg (db));
      return FALSE;
    }
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      Table *t = table_from_row (s, st, error);
      if (t == NULL)
        {
          sqlite3_finalize (st);
          return FALSE;
        }
      g_ptr_array_add (s->tables, t);
    }
  sqlite3_finalize (st);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "embedding store %s: %s",
                   rg_embed_db_path (s->db), sqlite3_errmsg (db));
      return FALSE;
    }
  return TRUE;
}

RgEmbedStore *
rg_embed_store_open (const char *path, const RgEmbedStoreConfig *config, GError **error)
{
  RgEmbedStoreConfig cfg = config ? *config : rg_embed_store_config_default ();
  if (cfg.flush_batch_rows <= 0)
    cfg.flush_batch_rows = 256;
  RgEmbedDb *db = rg_embed_db_open (path, error);
  if (db == NULL)
    {
      rg_embed_tier_free (cfg.device_tier); /* ours from the call on */
      return NULL;
    }
  RgEmbedStore *s = g_new0 (RgEmbedStore, 1);
  s->db = db;
  s->config = cfg;
  s->tiers[RG_EMBED_TIER_DEVICE]
      = cfg.device_tier ? cfg.device_tier : rg_embed_tier_new_device_stand_in (cfg.device_bytes);
  s->tiers[RG_EMBED_TIER_HOST] = rg_embed_tier_new_host (cfg.host_bytes);
  s->tables = g_ptr_array_new_with_free_func ((GDestroyNotify)table_free);
  s->txn = g_array_new (FALSE, FALSE, sizeof (TxnRow));
  if (!load_tables (s, error))
    {
      rg_embed_store_free (s);
      return NULL;
    }
  return s;
}

void
rg_embed_store_free (RgEmbedStore *store)
{
  if (store == NULL)
    return;
  g_ptr_array_unref (store->tables); /* releases tier blocks */
  rg_embed_tier_free (store->tiers[0]);
  rg_embed_tier_free (store->tiers[1]);
  g_array_unref (store->txn);
  rg_embed_db_close (store->db);
  g_free (store);
}

gboolean
rg_embed_store_close (RgEmbedStore *store, GError **error)
{
  gboolean ok = rg_embed_store_flush (store, error);
  rg_embed_store_free (store);
  return ok;
}

guint
rg_embed_store_n_tables (const RgEmbedStore *store)
{
  return store->tables->len;
}

const RgEmbedTableInfo *
rg_embed_store_table (const RgEmbedStore *store, uint32_t id)
{
  Table *t = find_table (store, id);
  return t ? &t->info : NULL;
}

const RgEmbedTableInfo *
rg_embed_store_find_table (const RgEmbedStore *store, const char *name)
{
  for (guint i = 0; i < store->tables->len; i++)
    {
      Table *t = g_ptr_array_index (store->tables, i);
      if (g_strcmp0 (t->name, name) == 0)
        return &t->info;
    }
  return NULL;
}

/* Every row of a new table, N(0, init_std²) from (seed, stream = id). */
static gboolean
write_initial_rows (RgEmbedStore *store, Table *t, GError **error)
{
  g_autofree guint8 *rec = g_malloc (t->layout.bytes);
  for (int64_t r = 0; r < t->info.rows; r++)
    {
      rg_embed_record_make_initial (&t->layout, r, rec);
      if (!rg_embed_db_put (store->db, t->info.id, t->name, r, rec, t->layout.bytes, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
create_table (RgEmbedStore *store, const char *name, int64_t rows, int dim, RgDType dtype,
              const RgEmbedOptim *optim, uint64_t seed, float init_std, gboolean lazy,
              uint32_t *id_out, GError **error)
{
  const char *path = rg_embed_db_path (store->db);
  if (name == NULL || *name == '\0' || rows <= 0 || rows > RG_EMBED_CACHE_MAX_ROW || dim <= 0
      || dim > RG_EMBED_STORE_MAX_DIM || (dtype != RG_F32 && dtype != RG_BF16)
      || !isfinite (optim->lr) || !isfinite (optim->eps) || !isfinite (init_std))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "embedding store %s: cannot create table “%s” with %" G_GINT64_FORMAT
                   " rows of dim %d (%s); rows must be 1..2^40, dim 1..%d, dtype F32 or BF16",
                   path, name ? name : "", rows, dim, rg_dtype_name (dtype),
                   RG_EMBED_STORE_MAX_DIM);
      return FALSE;
    }
  if (rg_embed_store_find_table (store, name) != NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "embedding store %s: a table named “%s” exists already", path, name);
      return FALSE;
    }

  sqlite3 *db = rg_embed_db_handle (store->db);
  sqlite3_stmt *st = NULL;
  if (!rg_embed_db_begin (store->db, error))
    return FALSE;
  /* one transaction for metadata and every row: a table is there whole or
   * not at all */
  if (sqlite3_prepare_v2 (db,
                          "INSERT INTO embed_tables (name, rows, dim, dtype, optim, lr, eps, "
                          "init_seed, init_std, lazy) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                          -1, &st, NULL)
      != SQLITE_OK)
    goto sql_fail;
  sqlite3_bind_text (st, 1, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 2, rows);
  sqlite3_bind_int (st, 3, dim);
  sqlite3_bind_text (st, 4, rg_dtype_name (dtype), -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 5, rg_embed_optim_name (optim->kind), -1, SQLITE_STATIC);
  sqlite3_bind_double (st, 6, optim->lr);
  sqlite3_bind_double (st, 7, optim->eps);
  sqlite3_bind_int64 (st, 8, (int64_t)seed);
  sqlite3_bind_double (st, 9, init_std);
  sqlite3_bind_int (st, 10, lazy ? 1 : 0);
  if (sqlite3_step (st) != SQLITE_DONE)
    goto sql_fail;
  sqlite3_finalize (st);
  st = NULL;
  int64_t id = sqlite3_last_insert_rowid (db);
  if (id > RG_EMBED_CACHE_MAX_TABLE)
    {
      rg_embed_db_rollback (store->db);
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "embedding store %s: too many tables",
                   path);
      return FALSE;
    }

  Table *t
      = table_new (store, (uint32_t)id, name, rows, dim, dtype, optim, seed, init_std, lazy, error);
  if (t == NULL)
    {
      rg_embed_db_rollback (store->db);
      return FALSE;
    }
  if ((!lazy && !write_initial_rows (store, t, error)) || !rg_embed_db_commit (store->db, error))
    {
      table_free (t);
      rg_embed_db_rollback (store->db);
      return FALSE;
    }
  g_ptr_array_add (store->tables, t);
  if (id_out)
    *id_out = (uint32_t)id;
  return TRUE;

sql_fail:
  g_set_error (error, RG_ERROR, RG_ERROR_IO, "embedding store %s: creating table “%s”: %s", path,
               name, sqlite3_errmsg (db));
  sqlite3_finalize (st);
  rg_embed_db_rollback (store->db);
  return FALSE;
}

gboolean
rg_embed_store_create_table (RgEmbedStore *store, const char *name, int64_t rows, int dim,
                             RgDType dtype, const RgEmbedOptim *optim, uint64_t seed,
                             float init_std, uint32_t *id_out, GError **error)
{
  return create_table (store, name, rows, dim, dtype, optim, seed, init_std, FALSE, id_out, error);
}

gboolean
rg_embed_store_create_table_lazy (RgEmbedStore *store, const char *name, int64_t rows, int dim,
                                  RgDType dtype, const RgEmbedOptim *optim, uint64_t seed,
                                  float init_std, uint32_t *id_out, GError **error)
{
  return create_table (store, name, rows, dim, dtype, optim, seed, init_std, TRUE, id_out, error);
}

/* ---- where a row is ---- */

static inline RgEmbedTierKind
tier_of (const Table *t, int64_t row)
{
  return t->tier_of ? (RgEmbedTierKind)t->tier_of[row] : RG_EMBED_TIER_COLD;
}

RgEmbedTierKind
rg_embed_store_tier_of (const RgEmbedStore *store, uint32_t table, int64_t row)
{
  Table *t = find_table (store, table);
  g_return_val_if_fail (t != NULL && row >= 0 && row < t->info.rows, RG_EMBED_TIER_COLD);
  return tier_of (t, row);
}

/* A tier-resident row's record: in place when the tier is host-addressable,
 * else downloaded into scratch (layout.bytes). NULL with error on failure. */
static guint8 *
tier_fetch (Table *t, int64_t row, guint8 *scratch, GError **error)
{
  RgEmbedTierKind k = tier_of (t, row);
  RgEmbedTier *tier = t->store->tiers[k];
  gsize offset = (gsize)t->slot[row] * t->layout.bytes;
  guint8 *base = tier->backend->map (tier, t->block[k]);
  if (base != NULL)
    return base + offset;
  if (!tier->backend->download (tier, t->block[k], offset, scratch, t->layout.bytes, error))
    return NULL;
  return scratch;
}

/* After changing a fetched record: uploads it unless it was changed in place. */
static gboolean
tier_put_back (Table *t, int64_t row, const guint8 *rec, GError **error)
{
  RgEmbedTierKind k = tier_of (t, row);
  RgEmbedTier *tier = t->store->tiers[k];
  if (tier->backend->map (tier, t->block[k]) != NULL)
    return TRUE;
  return tier->backend->upload (tier, t->block[k], (gsize)t->slot[row] * t->layout.bytes, rec,
                                t->layout.bytes, error);
}

static gboolean
check_rows (Table *t, const int64_t *rows, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (rows[i] >= t->info.rows)
      {
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "embedding table “%s”: row %" G_GINT64_FORMAT
                     " is out of range (%" G_GINT64_FORMAT " rows)",
                     t->name, rows[i], t->info.rows);
        return FALSE;
      }
  return TRUE;
}

static int
cmp_i64 (const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Sorts and dedups rows in place; returns the unique count. */
static gsize
sort_unique (int64_t *rows, gsize n)
{
  if (n == 0)
    return 0;
  qsort (rows, n, sizeof (int64_t), cmp_i64);
  gsize u = 1;
  for (gsize i = 1; i < n; i++)
    if (rows[i] != rows[u - 1])
      rows[u++] = rows[i];
  return u;
}

static gsize
index_of (const int64_t *sorted, gsize n, int64_t row)
{
  gsize lo = 0, hi = n;
  while (lo < hi)
    {
      gsize mid = (lo + hi) / 2;
      if (sorted[mid] < row)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static inline void
record_to_f32 (const Table *t, guint8 *rec, float *out)
{
  rg_convert_floats (rg_embed_record_weights (rec), t->info.dtype, out, RG_F32, t->info.dim);
}

/* ---- lookups ---- */

gboolean
rg_embed_store_read_rows (RgEmbedStore *store, uint32_t table, const int64_t *rows, gsize n,
                          float *out, GError **error)
{
  Table *t = get_table (store, table, error);
  if (t == NULL || !check_rows (t, rows, n, error))
    return FALSE;
  const int dim = t->info.dim;
  g_autofree guint8 *scratch = g_malloc (t->layout.bytes);
  g_autoptr (GArray) miss_at = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr (GArray) miss_rows = g_array_new (FALSE, FALSE, sizeof (int64_t));

  for (gsize i = 0; i < n; i++)
    {
      int64_t row = rows[i];
      float *dst = out + i * dim;
      if (row < 0)
        {
          memset (dst, 0, dim * sizeof (float));
          continue;
        }
      RgEmbedTierKind k = tier_of (t, row);
      guint8 *rec = NULL;
      if (k != RG_EMBED_TIER_COLD)
        {
          if ((rec = tier_fetch (t, row, scratch, error)) == NULL)
            return FALSE;
        }
      else if (t->cache && (rec = rg_embed_cache_lookup (t->cache, table, row)) != NULL)
        store->stats.cache_hits++;
      else
        rec = g_hash_table_lookup (t->pending, GSIZE_TO_POINTER ((gsize)row));
      if (rec == NULL)
        {
          g_array_append_val (miss_at, i);
          g_array_append_val (miss_rows, row);
          continue;
        }
      store->stats.reads[k]++;
      record_to_f32 (t, rec, dst);
    }
  if (miss_rows->len == 0)
    return TRUE;

  gsize n_unique = sort_unique ((int64_t *)(void *)miss_rows->data, miss_rows->len);
  const int64_t *unique = (const int64_t *)(void *)miss_rows->data;
  g_autofree guint8 *recs = g_malloc ((n_unique ? n_unique : 1) * t->layout.bytes);
  if (!rg_embed_db_get_many (store->db, table, t->name, &t->layout, unique, n_unique, recs,
                             &store->stats, error))
    return FALSE;
  for (guint m = 0; m < miss_at->len; m++)
    {
      gsize i = g_array_index (miss_at, gsize, m);
      gsize u = index_of (unique, n_unique, rows[i]);
      record_to_f32 (t, recs + u * t->layout.bytes, out + i * dim);
      store->stats.reads[RG_EMBED_TIER_COLD]++;
    }
  if (t->cache)
    for (gsize u = 0; u < n_unique; u++)
      if (!rg_embed_cache_insert (t->cache, table, unique[u], recs + u * t->layout.bytes, FALSE,
                                  NULL, error))
        return FALSE;
  return TRUE;
}

gboolean
rg_embed_store_lookup_pooled (RgEmbedStore *store, uint32_t table, const int64_t *offsets,
                              gsize n_bags, const int64_t *indices, const float *weights,
                              RgEmbedPool pool, float *out, GError **error)
{
  Table *t = get_table (store, table, error);
  if (t == NULL)
    return FALSE;
  const int dim = t->info.dim;
  /* offsets come from callers' batches: monotone from 0 or refused */
  gboolean monotone = offsets[0] == 0;
  for (gsize b = 0; monotone && b < n_bags; b++)
    monotone = offsets[b + 1] >= offsets[b];
  if (!monotone)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "embedding table “%s”: bag offsets must start at 0 and never decrease", t->name);
      return FALSE;
    }
  gsize n = (gsize)offsets[n_bags];
  g_autofree float *rows = g_new (float, MAX (n, 1) * dim);
  if (!rg_embed_store_read_rows (store, table, indices, n, rows, error))
    return FALSE;
  for (gsize b = 0; b < n_bags; b++)
    {
      float *dst = out + b * dim;
      memset (dst, 0, dim * sizeof (float));
      for (int64_t i = offsets[b]; i < offsets[b + 1]; i++)
        {
          float w = weights ? weights[i] : 1.0f;
          const float *src = rows + (gsize)i * dim;
          for (int d = 0; d < dim; d++)
            dst[d] += w * src[d];
        }
      int64_t len = offsets[b + 1] - offsets[b];
      if (pool == RG_EMBED_POOL_MEAN && len > 0)
        for (int d = 0; d < dim; d++)
          dst[d] /= (float)len;
    }
  return TRUE;
}

gboolean
rg_embed_store_lookup_sequence (RgEmbedStore *store, uint32_t table, const int64_t *indices,
                                gsize batch, gsize length, float *out, GError **error)
{
  return rg_embed_store_read_rows (store, table, indices, batch * length, out, error);
}

/* ---- updates ---- */

typedef struct
{
  int64_t row;
  gsize at;
} RowAt;

static int
cmp_row_at (const void *a, const void *b)
{
  const RowAt *x = a, *y = b;
  if (x->row != y->row)
    return (x->row > y->row) - (x->row < y->row);
  return (x->at > y->at) - (x->at < y->at);
}

static void
step_record (Table *t, guint8 *rec, const float *grad)
{
  rg_embed_optim_step_row (&t->info.optim, t->info.dtype, t->info.dim,
                           rg_embed_record_weights (rec), rg_embed_record_state (&t->layout, rec),
                           grad);
  rg_embed_record_set_version (rec, rg_embed_record_version (rec) + 1);
}

gboolean
rg_embed_store_apply_gradients (RgEmbedStore *store, uint32_t table, const int64_t *rows, gsize n,
                                const float *grads, GError **error)
{
  Table *t = get_table (store, table, error);
  if (t == NULL || !check_rows (t, rows, n, error))
    return FALSE;
  const int dim = t->info.dim;

  /* sum the gradients of duplicate ids (TBE's backward does the same) */
  g_autofree RowAt *order = g_new (RowAt, MAX (n, 1));
  gsize m = 0;
  for (gsize i = 0; i < n; i++)
    if (rows[i] >= 0)
      order[m++] = (RowAt){ rows[i], i };
  qsort (order, m, sizeof (RowAt), cmp_row_at);
  g_autofree int64_t *unique = g_new (int64_t, MAX (m, 1));
  g_autofree float *sum = g_new0 (float, MAX (m, 1) * dim);
  gsize n_unique = 0;
  for (gsize i = 0; i < m; i++)
    {
      if (n_unique == 0 || unique[n_unique - 1] != order[i].row)
        unique[n_unique++] = order[i].row;
      float *dst = sum + (n_unique - 1) * dim;
      const float *g = grads + order[i].at * dim;
      for (int d = 0; d < dim; d++)
        dst[d] += g[d];
    }

  g_autoptr (GArray) miss = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autofree guint8 *scratch = g_malloc (t->layout.bytes);
  for (gsize u = 0; u < n_unique; u++)
    {
      int64_t row = unique[u];
      const float *g = sum + u * dim;
      if (tier_of (t, row) != RG_EMBED_TIER_COLD)
        {
          guint8 *rec = tier_fetch (t, row, scratch, error);
          if (rec == NULL)
            return FALSE;
          step_record (t, rec, g);
          if (!tier_put_back (t, row, rec, error))
            return FALSE;
          if (!t->dirty[row])
            {
              t->dirty[row] = 1;
              t->n_dirty++;
            }
        }
      else
        {
          guint8 *rec = t->cache ? rg_embed_cache_lookup (t->cache, table, row) : NULL;
          if (rec != NULL)
            {
              step_record (t, rec, g);
              rg_embed_cache_mark_dirty (t->cache, table, row);
            }
          else if ((rec = g_hash_table_lookup (t->pending, GSIZE_TO_POINTER ((gsize)row))))
            step_record (t, rec, g);
          else
            {
              g_array_append_val (miss, u);
              continue;
            }
        }
      store->stats.rows_updated++;
    }
  if (miss->len == 0)
    return TRUE;

  g_autofree int64_t *miss_rows = g_new (int64_t, miss->len);
  for (guint i = 0; i < miss->len; i++)
    miss_rows[i] = unique[g_array_index (miss, gsize, i)]; /* sorted: unique is */
  g_autofree guint8 *recs = g_malloc ((gsize)miss->len * t->layout.bytes);
  if (!rg_embed_db_get_many (store->db, table, t->name, &t->layout, miss_rows, miss->len, recs,
                             &store->stats, error))
    return FALSE;
  for (guint i = 0; i < miss->len; i++)
    {
      gsize u = g_array_index (miss, gsize, i);
      guint8 *rec = recs + (gsize)i * t->layout.bytes;
      step_record (t, rec, sum + u * dim);
      store->stats.rows_updated++;
      void *slot = NULL;
      if (t->cache
          && !rg_embed_cache_insert (t->cache, table, miss_rows[i], rec, TRUE, &slot, error))
        return FALSE;
      if (slot == NULL)
        g_hash_table_insert (t->pending, GSIZE_TO_POINTER ((gsize)miss_rows[i]),
                             g_memdup2 (rec, t->layout.bytes));
    }
  return TRUE;
}

/* ---- write-back and flush ---- */

static gboolean
txn_commit (RgEmbedStore *s, GError **error)
{
  if (!s->in_txn)
    return TRUE;
  s->in_txn = FALSE;
  if (!rg_embed_db_commit (s->db, error))
    {
      rg_embed_db_rollback (s->db);
      /* nothing of this transaction reached the file: re-dirty cache rows
       * (tier flags and pending entries are only cleared after a commit) */
      for (guint i = 0; i < s->txn->len; i++)
        {
          TxnRow *r = &g_array_index (s->txn, TxnRow, i);
          if (r->source == FROM_CACHE)
            rg_embed_cache_mark_dirty (r->table->cache, r->table->info.id, r->row);
        }
      g_array_set_size (s->txn, 0);
      return FALSE;
    }
  for (guint i = 0; i < s->txn->len; i++)
    {
      TxnRow *r = &g_array_index (s->txn, TxnRow, i);
      if (r->source == FROM_TIER && r->table->dirty[r->row])
        {
          r->table->dirty[r->row] = 0;
          r->table->n_dirty--;
        }
      else if (r->source == FROM_PENDING)
        g_hash_table_remove (r->table->pending, GSIZE_TO_POINTER ((gsize)r->row));
    }
  s->stats.rows_flushed += s->txn->len;
  s->stats.flush_transactions++;
  s->flush_written += s->txn->len;
  g_array_set_size (s->txn, 0);
  if (s->progress)
    s->progress (s->progress_data, s->flush_written, s->flush_total);
  return TRUE;
}

static gboolean
txn_put (RgEmbedStore *s, Table *t, int64_t row, guint8 *rec, DirtySource source, GError **error)
{
  if (!s->in_txn)
    {
      if (!rg_embed_db_begin (s->db, error))
        return FALSE;
      s->in_txn = TRUE;
    }
  rg_embed_record_seal (&t->layout, rec);
  if (!rg_embed_db_put (s->db, t->info.id, t->name, row, rec, t->layout.bytes, error))
    return FALSE;
  TxnRow r = { t, row, source };
  g_array_append_val (s->txn, r);
  if ((int)s->txn->len >= s->config.flush_batch_rows)
    return txn_commit (s, error);
  return TRUE;
}

/* A dirty row leaving the cache: inside a flush it joins the flush's
 * transaction; otherwise (an eviction) it is written on its own, which
 * SQLite makes one atomic transaction. */
static gboolean
cache_writeback (void *user_data, uint32_t table, int64_t row, const void *bytes, GError **error)
{
  Table *t = user_data;
  RgEmbedStore *s = t->store;
  guint8 *rec = (guint8 *)bytes; /* the cache's own slot: sealing it is fine */
  if (s->in_flush)
    return txn_put (s, t, row, rec, FROM_CACHE, error);
  rg_embed_record_seal (&t->layout, rec);
  if (!rg_embed_db_put (s->db, table, t->name, row, rec, t->layout.bytes, error))
    return FALSE;
  s->stats.rows_flushed++;
  s->stats.flush_transactions++;
  return TRUE;
}

int64_t
rg_embed_store_n_dirty (const RgEmbedStore *store)
{
  int64_t n = 0;
  for (guint i = 0; i < store->tables->len; i++)
    {
      Table *t = g_ptr_array_index (store->tables, i);
      n += t->n_dirty + g_hash_table_size (t->pending);
      if (t->cache)
        n += rg_embed_cache_n_dirty (t->cache);
    }
  return n;
}

static gboolean
flush_table (RgEmbedStore *s, Table *t, GError **error)
{
  if (t->n_dirty > 0)
    {
      /* sealing writes the checksum into the record: in the tier itself when
       * it is host-addressable, else into this copy */
      g_autofree guint8 *scratch = g_malloc (t->layout.bytes);
      for (int64_t row = 0; row < t->info.rows; row++)
        {
          if (!t->dirty[row])
            continue;
          guint8 *rec = tier_fetch (t, row, scratch, error);
          if (rec == NULL || !txn_put (s, t, row, rec, FROM_TIER, error))
            return FALSE;
        }
    }
  if (t->cache && !rg_embed_cache_flush (t->cache, error))
    return FALSE;
  if (g_hash_table_size (t->pending) > 0)
    {
      /* entries leave the hash at commit time, so walk a snapshot */
      guint n_keys = 0;
      g_autofree gpointer *keys = g_hash_table_get_keys_as_array (t->pending, &n_keys);
      for (guint i = 0; i < n_keys; i++)
        {
          guint8 *rec = g_hash_table_lookup (t->pending, keys[i]);
          if (rec && !txn_put (s, t, (int64_t)GPOINTER_TO_SIZE (keys[i]), rec, FROM_PENDING, error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
rg_embed_store_flush (RgEmbedStore *store, GError **error)
{
  store->flush_total = rg_embed_store_n_dirty (store);
  store->flush_written = 0;
  if (store->flush_total == 0)
    return TRUE;
  store->in_flush = TRUE;
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < store->tables->len; i++)
    ok = flush_table (store, g_ptr_array_index (store->tables, i), error);
  if (ok)
    ok = txn_commit (store, error);
  else if (store->in_txn)
    {
      /* roll back the partial batch; its rows are still dirty (see txn_commit) */
      store->in_txn = FALSE;
      rg_embed_db_rollback (store->db);
      for (guint i = 0; i < store->txn->len; i++)
        {
          TxnRow *r = &g_array_index (store->txn, TxnRow, i);
          if (r->source == FROM_CACHE)
            rg_embed_cache_mark_dirty (r->table->cache, r->table->info.id, r->row);
        }
      g_array_set_size (store->txn, 0);
    }
  store->in_flush = FALSE;
  return ok;
}

void
rg_embed_store_set_flush_progress (RgEmbedStore *store, RgEmbedFlushProgress func, void *user_data)
{
  store->progress = func;
  store->progress_data = user_data;
}

/* ---- placement ---- */

static gboolean
load_tier_rows (RgEmbedStore *s, Table *t, RgEmbedTierKind k, const int64_t *rows, gsize n,
                GError **error)
{
  const gsize chunk = 4096;
  RgEmbedTier *tier = s->tiers[k];
  g_autofree guint8 *recs = g_malloc (MIN (n, chunk) * t->layout.bytes + 1);
  for (gsize start = 0; start < n; start += chunk)
    {
      gsize count = MIN (chunk, n - start);
      if (!rg_embed_db_get_many (s->db, t->info.id, t->name, &t->layout, rows + start, count, recs,
                                 &s->stats, error)
          || !tier->backend->upload (tier, t->block[k], start * t->layout.bytes, recs,
                                     count * t->layout.bytes, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
rg_embed_store_set_placement (RgEmbedStore *store, uint32_t table, const guint8 *tier_of_row,
                              GError **error)
{
  Table *t = get_table (store, table, error);
  if (t == NULL)
    return FALSE;
  int64_t rows = t->info.rows;
  if (tier_of_row)
    for (int64_t r = 0; r < rows; r++)
      if (tier_of_row[r] >= RG_EMBED_TIER_COUNT)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "embedding table “%s”: placement puts row %" G_GINT64_FORMAT
                       " in unknown tier %u",
                       t->name, r, tier_of_row[r]);
          return FALSE;
        }
  /* the rows are about to move: everything current goes to SQLite first,
   * and the cache is emptied so no stale copy of a row outlives its move */
  if (!rg_embed_store_flush (store, error))
    return FALSE;
  table_release_tiers (t);
  if (!table_make_cache (t, error))
    return FALSE;
  if (tier_of_row == NULL)
    return TRUE;

  g_autoptr (GArray) device_rows = g_array_new (FALSE, FALSE, sizeof (int64_t));
  g_autoptr (GArray) host_rows = g_array_new (FALSE, FALSE, sizeof (int64_t));
  GArray *members[2] = { device_rows, host_rows };
  t->slot = g_new (int64_t, rows);
  for (int64_t r = 0; r < rows; r++)
    {
      int k = tier_of_row[r];
      t->slot[r] = -1;
      if (k < RG_EMBED_TIER_COLD)
        {
          t->slot[r] = members[k]->len;
          g_array_append_val (members[k], r);
        }
    }
  for (int k = 0; k < 2; k++)
    {
      gsize n = members[k]->len;
      if (n == 0)
        continue;
      g_autofree char *what = g_strdup_printf ("table “%s” (%" G_GSIZE_FORMAT " rows)", t->name, n);
      t->block_bytes[k] = n * t->layout.bytes;
      t->block[k] = rg_embed_tier_alloc (store->tiers[k], t->block_bytes[k], what, error);
      if (t->block[k] == NULL)
        {
          t->block_bytes[k] = 0;
          goto fail;
        }
      if (!load_tier_rows (store, t, k, (const int64_t *)(void *)members[k]->data, n, error))
        goto fail;
    }
  t->tier_of = g_memdup2 (tier_of_row, rows);
  t->dirty = g_new0 (guint8, rows);
  return TRUE;

fail:
  /* the table stays usable, all cold */
  table_release_tiers (t);
  return FALSE;
}

/* ---- inspection ---- */

gboolean
rg_embed_store_row_meta (RgEmbedStore *store, uint32_t table, int64_t row, uint64_t *version,
                         float *state, GError **error)
{
  Table *t = get_table (store, table, error);
  if (t == NULL)
    return FALSE;
  if (row < 0 || !check_rows (t, &row, 1, error))
    {
      if (row < 0)
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "embedding table “%s”: row %" G_GINT64_FORMAT " is out of range", t->name,
                     row);
      return FALSE;
    }
  g_autofree guint8 *fetched = NULL;
  guint8 *rec = NULL;
  if (tier_of (t, row) != RG_EMBED_TIER_COLD)
    {
      fetched = g_malloc (t->layout.bytes);
      if ((rec = tier_fetch (t, row, fetched, error)) == NULL)
        return FALSE;
    }
  else if (t->cache && rg_embed_cache_contains (t->cache, table, row))
    rec = rg_embed_cache_lookup (t->cache, table, row);
  else
    rec = g_hash_table_lookup (t->pending, GSIZE_TO_POINTER ((gsize)row));
  if (rec == NULL)
    {
      g_free (fetched);
      fetched = g_malloc (t->layout.bytes);
      if (!rg_embed_db_get_many (store->db, table, t->name, &t->layout, &row, 1, fetched,
                                 &store->stats, error))
        return FALSE;
      rec = fetched;
    }
  if (version)
    *version = rg_embed_record_version (rec);
  if (state)
    memcpy (state, rg_embed_record_state (&t->layout, rec), t->layout.state_floats * 4);
  return TRUE;
}

void
rg_embed_store_get_stats (const RgEmbedStore *store, RgEmbedStoreStats *out)
{
  *out = store->stats;
}

void
rg_embed_store_reset_stats (RgEmbedStore *store)
{
  memset (&store->stats, 0, sizeof store->stats);
}

char *
rg_embed_store_describe (const RgEmbedStore *store)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "embedding store %s\n", rg_embed_db_path (store->db));
  for (int k = 0; k < 2; k++)
    {
      const RgEmbedTier *tier = store->tiers[k];
      g_string_append_printf (
          s, "  tier %-6s %s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes used%s\n",
          rg_embed_tier_kind_name (tier->kind), rg_embed_tier_name (tier), tier->used,
          tier->capacity,
          rg_embed_tier_is_stand_in (tier) ? " — STAND-IN: rows are in host RAM, not on a GPU"
                                           : "");
    }
  g_string_append_printf (s, "  tier cold   SQLite (WAL), flushed in transactions of %d rows\n",
                          store->config.flush_batch_rows);
  if (store->config.cache_rows > 0)
    g_string_append_printf (s, "  cache       %s, 32-way, %" G_GINT64_FORMAT " rows per table\n",
                            rg_embed_cache_policy_name (store->config.cache_policy),
                            store->config.cache_rows);
  for (guint i = 0; i < store->tables->len; i++)
    {
      const Table *t = g_ptr_array_index (store->tables, i);
      int64_t in_tier[RG_EMBED_TIER_COUNT] = { 0 };
      for (int64_t r = 0; r < t->info.rows; r++)
        in_tier[tier_of (t, r)]++;
      g_string_append_printf (
          s,
          "  table %u “%s”: %" G_GINT64_FORMAT " × %d %s, %s (lr %g); rows "
          "device %" G_GINT64_FORMAT ", host %" G_GINT64_FORMAT ", cold %" G_GINT64_FORMAT "\n",
          t->info.id, t->name, t->info.rows, t->info.dim, rg_dtype_name (t->info.dtype),
          rg_embed_optim_name (t->info.optim.kind), t->info.optim.lr, in_tier[0], in_tier[1],
          in_tier[2]);
    }
  g_string_append_printf (s, "  dirty rows: %" G_GINT64_FORMAT "\n",
                          rg_embed_store_n_dirty (store));
  return g_string_free (s, FALSE);
}
