/* rg-project-schema.c — the schema as a list of migrations.
 *
 * migrations[i] takes a file from user_version i to i + 1. A released step
 * is never edited: a change is a new step appended here, so every project
 * ever written can be brought forward. */
#include "rg-project-schema.h"

#include "core/rg-error.h"
#include "rg-project.h"

static const char *const migrations[] = {
  /* 0 → 1: the first schema. */
  "CREATE TABLE meta ("
  "  key   TEXT PRIMARY KEY,"
  "  value ANY"
  ") STRICT, WITHOUT ROWID;"

  "CREATE TABLE assets ("
  "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  kind        INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 2),"
  "  generated   INTEGER NOT NULL CHECK (generated IN (0, 1)),"
  "  path        TEXT NOT NULL,"
  "  hash        TEXT NOT NULL CHECK (length (hash) = 64),"
  "  size        INTEGER NOT NULL CHECK (size >= 0),"
  "  duration    INTEGER NOT NULL CHECK (duration >= 0),"
  "  fps_num     INTEGER NOT NULL,"
  "  fps_den     INTEGER NOT NULL CHECK (fps_den > 0),"
  "  width       INTEGER NOT NULL,"
  "  height      INTEGER NOT NULL,"
  "  sample_rate INTEGER NOT NULL,"
  "  channels    INTEGER NOT NULL,"
  "  has_video   INTEGER NOT NULL,"
  "  has_audio   INTEGER NOT NULL"
  ") STRICT;"
  "CREATE UNIQUE INDEX assets_by_hash ON assets (hash);"

  "CREATE TABLE provenance ("
  "  asset_id   INTEGER PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,"
  "  kind       TEXT NOT NULL,"
  "  prompt     TEXT,"
  "  seed       INTEGER NOT NULL,"
  "  model_hash TEXT NOT NULL,"
  "  params     TEXT NOT NULL CHECK (json_valid (params))"
  ") STRICT;"

  "CREATE TABLE media_cache ("
  "  asset_hash TEXT NOT NULL,"
  "  kind       TEXT NOT NULL,"
  "  params     TEXT NOT NULL,"
  "  data       BLOB NOT NULL,"
  "  PRIMARY KEY (asset_hash, kind, params)"
  ") STRICT, WITHOUT ROWID;"

  "CREATE TABLE tracks ("
  "  id       INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  kind     INTEGER NOT NULL CHECK (kind IN (0, 1)),"
  "  position INTEGER NOT NULL CHECK (position >= 0),"
  "  name     TEXT NOT NULL,"
  "  muted    INTEGER NOT NULL CHECK (muted IN (0, 1)),"
  "  locked   INTEGER NOT NULL CHECK (locked IN (0, 1))"
  ") STRICT;"

  "CREATE TABLE clips ("
  "  id       INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  track_id INTEGER NOT NULL REFERENCES tracks (id),"
  "  asset_id INTEGER NOT NULL REFERENCES assets (id),"
  "  start    INTEGER NOT NULL CHECK (start >= 0),"
  "  src_in   INTEGER NOT NULL CHECK (src_in >= 0),"
  "  src_out  INTEGER NOT NULL CHECK (src_out > src_in)"
  ") STRICT;"
  "CREATE INDEX clips_by_track ON clips (track_id, start);"
  "CREATE INDEX clips_by_asset ON clips (asset_id);"

  /* The undo log: one history row per request, its primitive edits in
   * history_ops with the row images before and after (entity 1 = track,
   * 2 = clip, 3 = shift of a track's clips from a0 by a1). */
  /* Open sessions; see rg-project-session.c. */
  "CREATE TABLE sessions ("
  "  id      INTEGER PRIMARY KEY,"
  "  pid     INTEGER NOT NULL,"
  "  started INTEGER NOT NULL"
  ") STRICT;"

  "CREATE TABLE history ("
  "  id     INTEGER PRIMARY KEY,"
  "  label  TEXT NOT NULL,"
  "  undone INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1))"
  ") STRICT;"
  /* Redo and "drop the redo branch" look for undone steps; without this
   * every edit would scan the whole history. */
  "CREATE INDEX history_redo ON history (id) WHERE undone = 1;"
  "CREATE TABLE history_ops ("
  "  group_id INTEGER NOT NULL REFERENCES history (id) ON DELETE CASCADE,"
  "  seq      INTEGER NOT NULL,"
  "  entity   INTEGER NOT NULL CHECK (entity BETWEEN 1 AND 3),"
  "  row_id   INTEGER NOT NULL,"
  "  b_ok INTEGER NOT NULL, b0 INTEGER, b1 INTEGER, b2 INTEGER, b3 INTEGER, b4 INTEGER,"
  "  b_name TEXT,"
  "  a_ok INTEGER NOT NULL, a0 INTEGER, a1 INTEGER, a2 INTEGER, a3 INTEGER, a4 INTEGER,"
  "  a_name TEXT,"
  "  PRIMARY KEY (group_id, seq)"
  ") STRICT, WITHOUT ROWID;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == RG_PROJECT_SCHEMA_VERSION);

/* Tables a file of each version must have; checked before trusting it. */
static const char *const required_tables[] = {
  "meta",  "assets",   "provenance", "media_cache", "tracks",
  "clips", "sessions", "history",    "history_ops",
};

gboolean
rg_project_schema_migrate (sqlite3 *db, int from, const char *path, GError **error)
{
  for (int v = from; v < RG_PROJECT_SCHEMA_VERSION; v++)
    {
      char *msg = NULL;
      if (sqlite3_exec (db, migrations[v], NULL, NULL, &msg) != SQLITE_OK)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_FAILED,
                       "%s: migrating the schema from version %d to %d failed: %s", path, v, v + 1,
                       msg ? msg : sqlite3_errmsg (db));
          sqlite3_free (msg);
          return FALSE;
        }
    }
  char *sql = g_strdup_printf ("PRAGMA user_version = %d; PRAGMA application_id = %d;",
                               RG_PROJECT_SCHEMA_VERSION, RG_PROJECT_APPLICATION_ID);
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
  g_free (sql);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot record the schema version: %s", path,
                   sqlite3_errmsg (db));
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_project_schema_check (sqlite3 *db, const char *path, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", -1,
                          &st, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: cannot read the schema: %s", path,
                   sqlite3_errmsg (db));
      return FALSE;
    }
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < G_N_ELEMENTS (required_tables); i++)
    {
      sqlite3_bind_text (st, 1, required_tables[i], -1, SQLITE_STATIC);
      if (sqlite3_step (st) != SQLITE_ROW)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: not a valid Reelgen project (table “%s” is missing)", path,
                       required_tables[i]);
          ok = FALSE;
        }
      sqlite3_reset (st);
    }
  sqlite3_finalize (st);
  return ok;
}
