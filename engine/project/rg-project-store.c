/* rg-project-store.c — opening, creating, closing and copying project files.
 *
 * Durability: WAL with synchronous=NORMAL by default. Every request is a
 * committed WAL transaction, so a crash or kill of the application loses
 * nothing that was reported done, and a power cut or OS crash cannot
 * corrupt the file — it may only roll back the last few edits, because
 * NORMAL fsyncs at checkpoints rather than at each commit. FULL (an fsync
 * per edit) is a per-project choice (rg_project_set_full_sync): on the
 * disk bench-timeline ran on it multiplied an edit's latency several times. */
#include "rg-project-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "rg-project-schema.h"

gboolean
rg_project_db_error (RgProject *p, GError **error, const char *what)
{
  int code = sqlite3_errcode (p->db);
  RgError e = RG_ERROR_IO;
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
    e = RG_ERROR_CORRUPT;
  else if (code == SQLITE_CONSTRAINT)
    e = RG_ERROR_INVALID_ARGUMENT;
  g_set_error (error, RG_ERROR, e, "%s: %s: %s", p->path, what, sqlite3_errmsg (p->db));
  return FALSE;
}

sqlite3_stmt *
rg_project_stmt (RgProject *p, const char *sql, GError **error)
{
  sqlite3_stmt *st = g_hash_table_lookup (p->stmts, sql);
  if (st)
    {
      sqlite3_reset (st);
      sqlite3_clear_bindings (st);
      return st;
    }
  if (sqlite3_prepare_v3 (p->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
    {
      rg_project_db_error (p, error, "preparing a statement");
      return NULL;
    }
  g_hash_table_insert (p->stmts, (gpointer)sql, st);
  return st;
}

gboolean
rg_project_step_done (RgProject *p, sqlite3_stmt *st, GError **error)
{
  int rc = sqlite3_step (st);
  if (rc != SQLITE_DONE)
    {
      rg_project_db_error (p, error, "writing");
      sqlite3_reset (st);
      return FALSE;
    }
  sqlite3_reset (st);
  return TRUE;
}

gboolean
rg_project_exec (RgProject *p, const char *sql, GError **error)
{
  if (sqlite3_exec (p->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return rg_project_db_error (p, error, sql);
  return TRUE;
}

gboolean
rg_project_tx_begin (RgProject *p, GError **error)
{
  /* IMMEDIATE takes the write lock now, so a second writer fails here
   * rather than halfway through the action. */
  return rg_project_exec (p, "BEGIN IMMEDIATE", error);
}

gboolean
rg_project_tx_end (RgProject *p, gboolean ok, GError **error)
{
  if (ok && rg_project_exec (p, "COMMIT", error))
    return TRUE;
  sqlite3_exec (p->db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

gboolean
rg_project_request_begin (RgProject *p, const char *label, GError **error)
{
  g_return_val_if_fail (p->label == NULL, FALSE);
  if (!rg_project_tx_begin (p, error))
    return FALSE;
  p->label = g_strdup (label);
  p->group = 0;
  p->seq = 0;
  g_array_set_size (p->touched, 0);
  return TRUE;
}

gboolean
rg_project_request_end (RgProject *p, gboolean ok, GError **error)
{
  for (guint i = 0; ok && i < p->touched->len; i++)
    ok = rg_timeline_check_clip (p, g_array_index (p->touched, int64_t, i), error);

  gboolean changed = p->seq > 0;
  g_clear_pointer (&p->label, g_free);
  p->group = 0;
  p->seq = 0;
  g_array_set_size (p->touched, 0);
  if (ok && !changed)
    {
      /* Nothing moved: no empty undo step, and the redo branch survives. */
      sqlite3_exec (p->db, "ROLLBACK", NULL, NULL, NULL);
      return TRUE;
    }
  return rg_project_tx_end (p, ok, error);
}

static char *
assets_dir_for (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_str_has_suffix (base, ".reelgen"))
    base[strlen (base) - strlen (".reelgen")] = '\0';
  g_autofree char *name = g_strconcat (base, ".assets", NULL);
  return g_build_filename (dir, name, NULL);
}

static RgProject *
project_new (const char *path)
{
  RgProject *p = g_new0 (RgProject, 1);
  p->path = g_canonicalize_filename (path, NULL);
  p->dir = g_path_get_dirname (p->path);
  p->assets_dir = assets_dir_for (p->path);
  p->fps = (RgRational){ 30, 1 };
  p->stmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                    (GDestroyNotify)sqlite3_finalize);
  p->touched = g_array_new (FALSE, FALSE, sizeof (int64_t));
  p->session_fd = -1;
  return p;
}

static void
project_free (RgProject *p)
{
  rg_project_session_end (p);
  g_hash_table_destroy (p->stmts);
  if (p->db)
    sqlite3_close (p->db);
  g_array_unref (p->touched);
  g_free (p->label);
  g_free (p->path);
  g_free (p->dir);
  g_free (p->assets_dir);
  g_free (p);
}

static gboolean
pragma_int (sqlite3 *db, const char *sql, int *out)
{
  sqlite3_stmt *st = NULL;
  gboolean ok
      = sqlite3_prepare_v2 (db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW;
  if (ok)
    *out = sqlite3_column_int (st, 0);
  sqlite3_finalize (st);
  return ok;
}

/* Times beyond RG_PROJECT_TIME_MAX, and negative asset lengths, are no
 * edit's doing (the schema's CHECKs guard writes, not damaged bytes):
 * refusing them here lets the rest of the code add times without overflow
 * checks. */
static gboolean
times_in_range (sqlite3 *db, const char *path, GError **error)
{
  sqlite3_stmt *st = NULL;
  gboolean ok = sqlite3_prepare_v2 (db,
                                    "SELECT (SELECT count (*) FROM clips WHERE abs (start) > ?1"
                                    "        OR abs (src_in) > ?1 OR abs (src_out) > ?1)"
                                    " + (SELECT count (*) FROM assets"
                                    "    WHERE duration < 0 OR duration > ?1)",
                                    -1, &st, NULL)
                == SQLITE_OK;
  if (ok)
    {
      sqlite3_bind_int64 (st, 1, RG_PROJECT_TIME_MAX);
      ok = sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int64 (st, 0) == 0;
    }
  sqlite3_finalize (st);
  if (!ok)
    g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                 "%s: the project file is damaged (clip or asset times"
                 " out of range)",
                 path);
  return ok;
}

/* Reads the file without any right to write it: a file we refuse must come
 * out of this byte-identical. */
static gboolean
validate_read_only (const char *path, int *version, GError **error)
{
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot open: %s", path,
                   db ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close (db);
      return FALSE;
    }
  int app_id = 0;
  gboolean ok = FALSE;
  if (!pragma_int (db, "PRAGMA application_id", &app_id)
      || !pragma_int (db, "PRAGMA user_version", version))
    g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                 sqlite3_errcode (db) == SQLITE_NOTADB
                     ? "%s: not a Reelgen project (not an SQLite database: %s)"
                     : "%s: the project file is damaged (%s)",
                 path, sqlite3_errmsg (db));
  else if (app_id != RG_PROJECT_APPLICATION_ID)
    g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                 "%s: not a Reelgen project (SQLite application id 0x%08x)", path,
                 (unsigned)app_id);
  else if (*version > RG_PROJECT_SCHEMA_VERSION)
    g_set_error (error, RG_ERROR, RG_ERROR_VERSION,
                 "%s: made by a newer Reelgen (schema version %d; this build reads up to %d)", path,
                 *version, RG_PROJECT_SCHEMA_VERSION);
  else
    {
      sqlite3_stmt *st = NULL;
      const char *verdict = NULL;
      if (sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK
          && sqlite3_step (st) == SQLITE_ROW)
        verdict = (const char *)sqlite3_column_text (st, 0);
      if (!verdict || strcmp (verdict, "ok") != 0)
        g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: the project file is damaged (%s)",
                     path, verdict ? verdict : sqlite3_errmsg (db));
      else
        ok = *version < 1
             || (rg_project_schema_check (db, path, error) && times_in_range (db, path, error));
      sqlite3_finalize (st);
    }
  sqlite3_close (db);
  return ok;
}

static gboolean
configure_connection (RgProject *p, GError **error)
{
  sqlite3_busy_timeout (p->db, 2000);
  return rg_project_exec (p, "PRAGMA foreign_keys = ON", error)
         && rg_project_exec (p, "PRAGMA journal_mode = WAL", error)
         && rg_project_exec (p, "PRAGMA synchronous = NORMAL", error);
}

static gboolean
read_meta_int (RgProject *p, const char *key, int64_t *out, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (p, "SELECT value FROM meta WHERE key = ?", error);
  if (!st)
    return FALSE;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  gboolean ok = sqlite3_step (st) == SQLITE_ROW && sqlite3_column_type (st, 0) == SQLITE_INTEGER;
  if (ok)
    *out = sqlite3_column_int64 (st, 0);
  else
    g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: project setting “%s” is missing", p->path,
                 key);
  sqlite3_reset (st);
  return ok;
}

static gboolean
write_meta_int (RgProject *p, const char *key, int64_t value, GError **error)
{
  sqlite3_stmt *st
      = rg_project_stmt (p, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", error);
  if (!st)
    return FALSE;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, value);
  return rg_project_step_done (p, st, error);
}

/* Reads the settings and registers this session (which notices whether an
 * earlier one died without closing). */
static gboolean
start_session (RgProject *p, GError **error)
{
  int64_t num = 0, den = 0;
  if (!read_meta_int (p, "fps_num", &num, error) || !read_meta_int (p, "fps_den", &den, error))
    return FALSE;
  if (num <= 0 || den <= 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: invalid frame rate %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, p->path, num,
                   den);
      return FALSE;
    }
  p->fps = (RgRational){ num, den };
  return rg_project_session_begin (p, error);
}

RgProject *
rg_project_open (const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "%s: no such project file", path);
      return NULL;
    }
  int version = 0;
  if (!validate_read_only (path, &version, error))
    return NULL;
  if (version < 1)
    {
      /* Our application id on an empty schema: a creation that never
       * committed. There is nothing of the user's in it to migrate. */
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: the project file is empty", path);
      return NULL;
    }

  RgProject *p = project_new (path);
  gboolean ok = sqlite3_open_v2 (p->path, &p->db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK;
  if (!ok)
    rg_project_db_error (p, error, "cannot open for writing");
  ok = ok && configure_connection (p, error);
  if (ok && version < RG_PROJECT_SCHEMA_VERSION)
    ok = rg_project_tx_begin (p, error)
         && rg_project_tx_end (p, rg_project_schema_migrate (p->db, version, p->path, error),
                               error);
  ok = ok && start_session (p, error);
  if (!ok)
    {
      project_free (p);
      return NULL;
    }
  return p;
}

static gboolean
add_initial_track (RgProject *p, int kind, int position, const char *name, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (p,
                                      "INSERT INTO tracks (kind, position, name, muted, locked)"
                                      " VALUES (?, ?, ?, 0, 0)",
                                      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int (st, 1, kind);
  sqlite3_bind_int (st, 2, position);
  sqlite3_bind_text (st, 3, name, -1, SQLITE_STATIC);
  return rg_project_step_done (p, st, error);
}

RgProject *
rg_project_create (const char *path, RgRational fps, GError **error)
{
  if (fps.num <= 0 || fps.den <= 0 || fps.num > 1000 * fps.den)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: invalid frame rate %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, path, fps.num,
                   fps.den);
      return NULL;
    }
  /* O_EXCL: never overwrite whatever is there, even if it appeared since. */
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, e == EEXIST ? RG_ERROR_INVALID_ARGUMENT : RG_ERROR_IO,
                   "%s: cannot create the project: %s", path, g_strerror (e));
      return NULL;
    }
  close (fd);

  RgProject *p = project_new (path);
  p->fps = fps;
  gboolean ok = sqlite3_open_v2 (p->path, &p->db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK;
  if (!ok)
    rg_project_db_error (p, error, "cannot open for writing");
  ok = ok && configure_connection (p, error) && rg_project_tx_begin (p, error);
  if (ok)
    {
      gboolean built = rg_project_schema_migrate (p->db, 0, p->path, error)
                       && write_meta_int (p, "fps_num", fps.num, error)
                       && write_meta_int (p, "fps_den", fps.den, error)
                       && add_initial_track (p, RG_TRACK_VIDEO, 0, "V1", error)
                       && add_initial_track (p, RG_TRACK_AUDIO, 1, "A1", error);
      ok = rg_project_tx_end (p, built, error) && rg_project_session_begin (p, error);
    }
  if (!ok)
    {
      g_autofree char *file = g_strdup (p->path);
      project_free (p);
      g_unlink (file); /* ours: created above, holds nothing yet */
      g_autofree char *wal = g_strconcat (file, "-wal", NULL);
      g_autofree char *shm = g_strconcat (file, "-shm", NULL);
      g_unlink (wal);
      g_unlink (shm);
      return NULL;
    }
  return p;
}

void
rg_project_close (RgProject *project)
{
  if (!project)
    return;
  project_free (project); /* ends the session cleanly */
}

const char *
rg_project_path (RgProject *project)
{
  return project->path;
}

const char *
rg_project_assets_dir (RgProject *project)
{
  return project->assets_dir;
}

RgRational
rg_project_fps (RgProject *project)
{
  return project->fps;
}

gboolean
rg_project_set_full_sync (RgProject *project, gboolean full, GError **error)
{
  return rg_project_exec (
      project, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", error);
}

gboolean
rg_project_was_recovered (RgProject *project)
{
  return project->recovered;
}

static gboolean
copy_dir_flat (const char *from, const char *to, GError **error)
{
  if (g_mkdir (to, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot create: %s", to, g_strerror (e));
      return FALSE;
    }
  g_autoptr (GDir) dir = g_dir_open (from, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *src = g_build_filename (from, name, NULL);
      g_autofree char *dst = g_build_filename (to, name, NULL);
      if (!g_file_test (src, G_FILE_TEST_IS_REGULAR))
        continue;
      g_autoptr (GFile) fsrc = g_file_new_for_path (src);
      g_autoptr (GFile) fdst = g_file_new_for_path (dst);
      g_autoptr (GError) err = NULL;
      if (!g_file_copy (fsrc, fdst, G_FILE_COPY_NONE, NULL, NULL, NULL, &err))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot copy: %s", src, err->message);
          return FALSE;
        }
    }
  return TRUE;
}

static void
remove_dir_flat (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *f = g_build_filename (path, name, NULL);
      g_unlink (f);
    }
  g_rmdir (path);
}

/* The copy is written under temporary names and renamed into place last,
 * so an interrupted Save As leaves no half project under the new name. */
gboolean
rg_project_save_as (RgProject *project, const char *dest, GError **error)
{
  g_autofree char *dest_abs = g_canonicalize_filename (dest, NULL);
  g_autofree char *dest_assets = assets_dir_for (dest_abs);
  if (g_file_test (dest_abs, G_FILE_TEST_EXISTS) || g_file_test (dest_assets, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: already exists; Save As never overwrites", dest);
      return FALSE;
    }
  g_autofree char *tmp_db = g_strconcat (dest_abs, ".partial", NULL);
  g_autofree char *tmp_assets = g_strconcat (dest_assets, ".partial", NULL);
  g_unlink (tmp_db);
  remove_dir_flat (tmp_assets);

  gboolean have_assets = g_file_test (project->assets_dir, G_FILE_TEST_IS_DIR);
  if (have_assets && !copy_dir_flat (project->assets_dir, tmp_assets, error))
    {
      remove_dir_flat (tmp_assets);
      return FALSE;
    }

  /* VACUUM INTO reads one consistent snapshot of the database. */
  sqlite3_stmt *st = NULL;
  gboolean ok = sqlite3_prepare_v2 (project->db, "VACUUM INTO ?", -1, &st, NULL) == SQLITE_OK;
  if (ok)
    {
      sqlite3_bind_text (st, 1, tmp_db, -1, SQLITE_STATIC);
      ok = sqlite3_step (st) == SQLITE_DONE;
    }
  if (!ok)
    rg_project_db_error (project, error, "copying the project");
  sqlite3_finalize (st);

  /* The copy is a closed project: drop the sessions it took from us, and
   * put it in WAL like every project. */
  if (ok)
    {
      sqlite3 *db = NULL;
      ok = sqlite3_open_v2 (tmp_db, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK
           && sqlite3_exec (db,
                            "PRAGMA journal_mode = WAL;"
                            "DELETE FROM sessions;",
                            NULL, NULL, NULL)
                  == SQLITE_OK;
      if (!ok)
        g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot finish the copy: %s", dest,
                     db ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close (db);
    }
  if (ok && have_assets && g_rename (tmp_assets, dest_assets) != 0)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot create: %s", dest_assets,
                   g_strerror (e));
      ok = FALSE;
    }
  if (ok && g_rename (tmp_db, dest_abs) != 0)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot create: %s", dest, g_strerror (e));
      if (have_assets)
        remove_dir_flat (dest_assets);
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (tmp_db);
      remove_dir_flat (tmp_assets);
    }
  return ok;
}
