/* rg-embed-store-db.c — the SQLite cold tier: schema, row records, batched
 * reads and writes. */
#include "rg-embed-store-db.h"

#include "core/rg-error.h"
#include "core/rg-rng.h"

#include <string.h>

#define RECORD_MAGIC 0x31524752u  /* "RGR1" little-endian */
#define APPLICATION_ID 0x52474553 /* "RGES" */

struct _RgEmbedDb
{
  sqlite3 *db;
  char *path;
  sqlite3_stmt *put;
  sqlite3_stmt *get; /* RG_EMBED_DB_READ_BATCH "?" parameters after tbl */
};

/* ---- records ---- */

void
rg_embed_record_layout (RgEmbedRecordLayout *l, int dim, RgDType dtype, RgEmbedOptimKind optim)
{
  l->dim = dim;
  l->weight_bytes = (gsize)dim * rg_dtype_size (dtype);
  /* keep the state floats 4-byte aligned after bf16 weights of odd dim */
  l->weight_bytes = (l->weight_bytes + 3) & ~(gsize)3;
  l->state_floats = rg_embed_optim_state_floats (optim);
  l->dtype = dtype;
  l->lazy = FALSE;
  l->table = 0;
  l->seed = 0;
  l->init_std = 0;
  l->bytes = RG_EMBED_RECORD_HEADER + l->weight_bytes + (gsize)l->state_floats * 4 + 8;
}

static uint64_t
fnv1a64 (const guint8 *p, gsize n)
{
  uint64_t h = UINT64_C (0xcbf29ce484222325);
  for (gsize i = 0; i < n; i++)
    {
      h ^= p[i];
      h *= UINT64_C (0x100000001b3);
    }
  return h;
}

void
rg_embed_record_init (const RgEmbedRecordLayout *l, guint8 *rec)
{
  uint32_t head[2] = { RECORD_MAGIC, (uint32_t)l->dim };
  uint64_t version = 0;
  memset (rec, 0, l->bytes);
  memcpy (rec, head, 8);
  memcpy (rec + 8, &version, 8);
}

void
rg_embed_record_make_initial (const RgEmbedRecordLayout *l, int64_t row, guint8 *rec)
{
  float small[256];
  float *v = l->dim <= 256 ? small : g_new (float, l->dim);
  rg_embed_record_init (l, rec);
  rg_rng_normal (l->seed, l->table, (uint64_t)row * (uint64_t)l->dim, v, l->dim);
  for (int i = 0; i < l->dim; i++)
    v[i] *= l->init_std;
  rg_convert_floats (v, RG_F32, rg_embed_record_weights (rec), l->dtype, l->dim);
  rg_embed_record_seal (l, rec);
  if (v != small)
    g_free (v);
}

uint64_t
rg_embed_record_version (const guint8 *rec)
{
  uint64_t v;
  memcpy (&v, rec + 8, 8);
  return v;
}

void
rg_embed_record_set_version (guint8 *rec, uint64_t version)
{
  memcpy (rec + 8, &version, 8);
}

void *
rg_embed_record_weights (guint8 *rec)
{
  return rec + RG_EMBED_RECORD_HEADER;
}

float *
rg_embed_record_state (const RgEmbedRecordLayout *l, guint8 *rec)
{
  return (float *)(void *)(rec + RG_EMBED_RECORD_HEADER + l->weight_bytes);
}

void
rg_embed_record_seal (const RgEmbedRecordLayout *l, guint8 *rec)
{
  uint64_t sum = fnv1a64 (rec, l->bytes - 8);
  memcpy (rec + l->bytes - 8, &sum, 8);
}

gboolean
rg_embed_record_check (const RgEmbedRecordLayout *l, const void *blob, gsize bytes,
                       const char *table, int64_t row, GError **error)
{
  const guint8 *p = blob;
  uint32_t head[2];
  uint64_t sum;
  if (bytes != l->bytes)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "embedding table “%s” row %" G_GINT64_FORMAT ": stored row is %" G_GSIZE_FORMAT
                   " bytes, a dim-%d row is %" G_GSIZE_FORMAT,
                   table, row, bytes, l->dim, l->bytes);
      return FALSE;
    }
  memcpy (head, p, 8);
  if (head[0] != RECORD_MAGIC || head[1] != (uint32_t)l->dim)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "embedding table “%s” row %" G_GINT64_FORMAT
                   ": bad row header (magic %08x, dim %u, expected dim %d)",
                   table, row, head[0], head[1], l->dim);
      return FALSE;
    }
  memcpy (&sum, p + l->bytes - 8, 8);
  if (sum != fnv1a64 (p, l->bytes - 8))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "embedding table “%s” row %" G_GINT64_FORMAT ": checksum mismatch", table, row);
      return FALSE;
    }
  return TRUE;
}

/* ---- database ---- */

static gboolean
db_fail (RgEmbedDb *db, const char *what, GError **error)
{
  int code = sqlite3_errcode (db->db);
  int rg = (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) ? RG_ERROR_CORRUPT : RG_ERROR_IO;
  g_set_error (error, RG_ERROR, rg, "embedding store %s: %s: %s", db->path, what,
               sqlite3_errmsg (db->db));
  return FALSE;
}

static gboolean
db_exec (RgEmbedDb *db, const char *sql, GError **error)
{
  if (sqlite3_exec (db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_fail (db, sql, error);
  return TRUE;
}

static gboolean
db_int (RgEmbedDb *db, const char *sql, int64_t *out, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db->db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail (db, sql, error);
  int rc = sqlite3_step (st);
  if (rc != SQLITE_ROW)
    {
      db_fail (db, sql, error);
      sqlite3_finalize (st);
      return FALSE;
    }
  *out = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return TRUE;
}

static const char schema_sql[] = "CREATE TABLE embed_tables ("
                                 "  id INTEGER PRIMARY KEY,"
                                 "  name TEXT NOT NULL UNIQUE,"
                                 "  rows INTEGER NOT NULL CHECK (rows > 0),"
                                 "  dim INTEGER NOT NULL CHECK (dim > 0),"
                                 "  dtype TEXT NOT NULL,"
                                 "  optim TEXT NOT NULL,"
                                 "  lr REAL NOT NULL,"
                                 "  eps REAL NOT NULL,"
                                 "  init_seed INTEGER NOT NULL DEFAULT 0,"
                                 "  init_std REAL NOT NULL DEFAULT 0,"
                                 "  lazy INTEGER NOT NULL DEFAULT 0);"
                                 "CREATE TABLE embed_rows ("
                                 "  tbl INTEGER NOT NULL REFERENCES embed_tables (id),"
                                 "  row INTEGER NOT NULL,"
                                 "  blob BLOB NOT NULL,"
                                 "  PRIMARY KEY (tbl, row)) WITHOUT ROWID;";

/* Creates the schema in an empty file, or checks an existing one is ours. */
static gboolean
db_prepare_schema (RgEmbedDb *db, GError **error)
{
  int64_t app = 0, version = 0, n_objects = 0;
  if (!db_int (db, "PRAGMA application_id", &app, error)
      || !db_int (db, "PRAGMA user_version", &version, error)
      || !db_int (db, "SELECT count(*) FROM sqlite_schema", &n_objects, error))
    return FALSE;
  if (n_objects == 0)
    {
      g_autofree char *sql = g_strdup_printf ("BEGIN; %s PRAGMA application_id = %d;"
                                              " PRAGMA user_version = %d; COMMIT;",
                                              schema_sql, APPLICATION_ID, RG_EMBED_DB_USER_VERSION);
      if (!db_exec (db, sql, error))
        {
          db_exec (db, "ROLLBACK", NULL);
          return FALSE;
        }
      return TRUE;
    }
  if (app != APPLICATION_ID)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s is an SQLite file but not a Reelgen embedding store", db->path);
      return FALSE;
    }
  if (version > RG_EMBED_DB_USER_VERSION)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_VERSION,
                   "embedding store %s has format %" G_GINT64_FORMAT
                   "; this Reelgen reads up to %d",
                   db->path, version, RG_EMBED_DB_USER_VERSION);
      return FALSE;
    }
  if (version < 2)
    {
      /* v1 → v2: tables learn how their rows were initialised (all v1
       * tables were written out eagerly, so lazy = 0 is true of them) */
      if (!db_exec (db,
                    "BEGIN;"
                    " ALTER TABLE embed_tables ADD COLUMN init_seed INTEGER NOT NULL DEFAULT 0;"
                    " ALTER TABLE embed_tables ADD COLUMN init_std REAL NOT NULL DEFAULT 0;"
                    " ALTER TABLE embed_tables ADD COLUMN lazy INTEGER NOT NULL DEFAULT 0;"
                    " PRAGMA user_version = 2; COMMIT;",
                    error))
        {
          db_exec (db, "ROLLBACK", NULL);
          return FALSE;
        }
    }
  return TRUE;
}

RgEmbedDb *
rg_embed_db_open (const char *path, GError **error)
{
  RgEmbedDb *db = g_new0 (RgEmbedDb, 1);
  db->path = g_strdup (path);
  if (sqlite3_open_v2 (path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)
      != SQLITE_OK)
    {
      db_fail (db, "open", error);
      rg_embed_db_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db->db, 5000);
  sqlite3_extended_result_codes (db->db, 0);
  /* WAL: a killed writer leaves uncommitted frames that the next open
   * ignores. synchronous=NORMAL keeps every commit across a process crash
   * (only a power cut may lose the last few, never tear one). */
  if (!db_exec (db, "PRAGMA journal_mode = WAL", error)
      || !db_exec (db, "PRAGMA synchronous = NORMAL", error)
      || !db_exec (db, "PRAGMA foreign_keys = ON", error) || !db_prepare_schema (db, error))
    {
      rg_embed_db_close (db);
      return NULL;
    }

  GString *sql = g_string_new ("SELECT row, blob FROM embed_rows WHERE tbl = ?1 AND row IN (");
  for (int i = 0; i < RG_EMBED_DB_READ_BATCH; i++)
    g_string_append_printf (sql, i ? ",?%d" : "?%d", i + 2);
  g_string_append (sql, ")");
  if (sqlite3_prepare_v3 (db->db, sql->str, -1, SQLITE_PREPARE_PERSISTENT, &db->get, NULL)
          != SQLITE_OK
      || sqlite3_prepare_v3 (
             db->db, "INSERT OR REPLACE INTO embed_rows (tbl, row, blob) VALUES (?1, ?2, ?3)", -1,
             SQLITE_PREPARE_PERSISTENT, &db->put, NULL)
             != SQLITE_OK)
    {
      db_fail (db, "prepare", error);
      g_string_free (sql, TRUE);
      rg_embed_db_close (db);
      return NULL;
    }
  g_string_free (sql, TRUE);
  return db;
}

void
rg_embed_db_close (RgEmbedDb *db)
{
  if (db == NULL)
    return;
  sqlite3_finalize (db->get);
  sqlite3_finalize (db->put);
  sqlite3_close (db->db);
  g_free (db->path);
  g_free (db);
}

sqlite3 *
rg_embed_db_handle (RgEmbedDb *db)
{
  return db->db;
}

const char *
rg_embed_db_path (RgEmbedDb *db)
{
  return db->path;
}

gboolean
rg_embed_db_begin (RgEmbedDb *db, GError **error)
{
  return db_exec (db, "BEGIN IMMEDIATE", error);
}

gboolean
rg_embed_db_commit (RgEmbedDb *db, GError **error)
{
  return db_exec (db, "COMMIT", error);
}

void
rg_embed_db_rollback (RgEmbedDb *db)
{
  if (!sqlite3_get_autocommit (db->db))
    sqlite3_exec (db->db, "ROLLBACK", NULL, NULL, NULL);
}

gboolean
rg_embed_db_put (RgEmbedDb *db, uint32_t table, const char *name, int64_t row, const guint8 *rec,
                 gsize bytes, GError **error)
{
  sqlite3_reset (db->put);
  sqlite3_bind_int64 (db->put, 1, table);
  sqlite3_bind_int64 (db->put, 2, row);
  sqlite3_bind_blob (db->put, 3, rec, (int)bytes, SQLITE_STATIC);
  int rc = sqlite3_step (db->put);
  sqlite3_reset (db->put);
  if (rc != SQLITE_DONE)
    {
      g_autofree char *what
          = g_strdup_printf ("writing table “%s” row %" G_GINT64_FORMAT, name, row);
      return db_fail (db, what, error);
    }
  return TRUE;
}

static gsize
find_sorted (const int64_t *rows, gsize n, int64_t row)
{
  gsize lo = 0, hi = n;
  while (lo < hi)
    {
      gsize mid = (lo + hi) / 2;
      if (rows[mid] < row)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo < n && rows[lo] == row ? lo : G_MAXSIZE;
}

gboolean
rg_embed_db_get_many (RgEmbedDb *db, uint32_t table, const char *name,
                      const RgEmbedRecordLayout *layout, const int64_t *rows, gsize n, guint8 *recs,
                      RgEmbedStoreStats *stats, GError **error)
{
  /* zeroed records have no magic: that is how a missing row shows below */
  memset (recs, 0, n * layout->bytes);
  for (gsize start = 0; start < n; start += RG_EMBED_DB_READ_BATCH)
    {
      gsize count = MIN (n - start, (gsize)RG_EMBED_DB_READ_BATCH);
      const int64_t *batch = rows + start;
      sqlite3_reset (db->get);
      sqlite3_bind_int64 (db->get, 1, table);
      /* unused "?" parameters repeat the first id: IN is a set, so no extra rows */
      for (int i = 0; i < RG_EMBED_DB_READ_BATCH; i++)
        sqlite3_bind_int64 (db->get, i + 2, batch[(gsize)i < count ? (gsize)i : 0]);
      gsize found = 0;
      int rc;
      while ((rc = sqlite3_step (db->get)) == SQLITE_ROW)
        {
          int64_t row = sqlite3_column_int64 (db->get, 0);
          const void *blob = sqlite3_column_blob (db->get, 1);
          gsize bytes = (gsize)sqlite3_column_bytes (db->get, 1);
          gsize at = find_sorted (batch, count, row);
          if (at == G_MAXSIZE)
            continue;
          if (!rg_embed_record_check (layout, blob, bytes, name, row, error))
            {
              sqlite3_reset (db->get);
              return FALSE;
            }
          memcpy (recs + (start + at) * layout->bytes, blob, layout->bytes);
          found++;
        }
      sqlite3_reset (db->get);
      if (rc != SQLITE_DONE)
        {
          g_autofree char *what = g_strdup_printf ("reading table “%s”", name);
          return db_fail (db, what, error);
        }
      stats->sqlite_queries++;
      stats->sqlite_rows_read += found;
      if (found != count)
        {
          /* rows never written: initial values in a lazy table, else the
           * file lost them */
          for (gsize i = 0; i < count; i++)
            {
              guint8 *rec = recs + (start + i) * layout->bytes;
              uint32_t magic;
              memcpy (&magic, rec, 4);
              if (magic == RECORD_MAGIC)
                continue;
              if (!layout->lazy)
                {
                  g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                               "embedding store %s: table “%s” row %" G_GINT64_FORMAT
                               " is missing from the file",
                               db->path, name, batch[i]);
                  return FALSE;
                }
              rg_embed_record_make_initial (layout, batch[i], rec);
            }
        }
    }
  return TRUE;
}
