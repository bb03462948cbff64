/* rg-project-assets.c — the media a project uses, found by content.
 *
 * An asset is known by the SHA-256 of its bytes. Imported media stay where
 * the user keeps them (the recorded path is a hint: a moved file is found
 * again by hash); generated media are copied into <name>.assets/<hash>.<ext>
 * so the project folder alone carries everything the models made. */
#include "rg-project-private.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/rg-error.h"

#define ASSET_COLUMNS                                                                              \
  "id, kind, generated, path, hash, duration, fps_num, fps_den, width, height, sample_rate,"       \
  " channels, has_video, has_audio"

void
rg_asset_clear (RgAsset *asset)
{
  g_clear_pointer (&asset->path, g_free);
  g_clear_pointer (&asset->hash, g_free);
}

static void
asset_free (gpointer data)
{
  rg_asset_clear (data);
  g_free (data);
}

static void
read_asset (sqlite3_stmt *st, RgAsset *a)
{
  a->id = sqlite3_column_int64 (st, 0);
  a->info.kind = sqlite3_column_int (st, 1);
  a->generated = sqlite3_column_int (st, 2);
  a->path = g_strdup ((const char *)sqlite3_column_text (st, 3));
  a->hash = g_strdup ((const char *)sqlite3_column_text (st, 4));
  a->info.duration = sqlite3_column_int64 (st, 5);
  a->info.fps = (RgRational){ sqlite3_column_int64 (st, 6), sqlite3_column_int64 (st, 7) };
  a->info.width = sqlite3_column_int (st, 8);
  a->info.height = sqlite3_column_int (st, 9);
  a->info.sample_rate = sqlite3_column_int (st, 10);
  a->info.channels = sqlite3_column_int (st, 11);
  a->info.has_video = sqlite3_column_int (st, 12);
  a->info.has_audio = sqlite3_column_int (st, 13);
}

gboolean
rg_project_get_asset (RgProject *project, int64_t id, RgAsset *out, GError **error)
{
  sqlite3_stmt *st
      = rg_project_stmt (project, "SELECT " ASSET_COLUMNS " FROM assets WHERE id = ?", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  gboolean ok = sqlite3_step (st) == SQLITE_ROW;
  if (ok)
    read_asset (st, out);
  else
    g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "there is no asset %" G_GINT64_FORMAT, id);
  sqlite3_reset (st);
  return ok;
}

GPtrArray *
rg_project_list_assets (RgProject *project, GError **error)
{
  sqlite3_stmt *st
      = rg_project_stmt (project, "SELECT " ASSET_COLUMNS " FROM assets ORDER BY id", error);
  if (!st)
    return NULL;
  GPtrArray *assets = g_ptr_array_new_with_free_func (asset_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      RgAsset *a = g_new0 (RgAsset, 1);
      read_asset (st, a);
      g_ptr_array_add (assets, a);
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      rg_project_db_error (project, error, "reading assets");
      g_ptr_array_unref (assets);
      return NULL;
    }
  return assets;
}

int64_t
rg_project_find_asset (RgProject *p, const char *hash)
{
  sqlite3_stmt *st = rg_project_stmt (p, "SELECT id FROM assets WHERE hash = ?", NULL);
  if (!st)
    return 0;
  sqlite3_bind_text (st, 1, hash, -1, SQLITE_STATIC);
  int64_t id = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : 0;
  sqlite3_reset (st);
  return id;
}

gboolean
rg_asset_info_check (const RgAssetInfo *info, const char *path, GError **error)
{
  gboolean ok = info->kind <= RG_ASSET_IMAGE && info->duration >= 0
                && (info->kind == RG_ASSET_IMAGE || info->duration > 0)
                && (info->has_video || info->has_audio)
                && (info->kind != RG_ASSET_AUDIO || !info->has_video) && info->fps.num >= 0
                && info->fps.den > 0 && info->width >= 0 && info->height >= 0
                && info->sample_rate >= 0 && info->channels >= 0;
  if (!ok)
    g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                 "%s: inconsistent media description (kind %d, duration %" G_GINT64_FORMAT ")",
                 path, info->kind, info->duration);
  return ok;
}

int64_t
rg_project_insert_asset (RgProject *p, const char *path, const char *hash, goffset size,
                         gboolean generated, const RgAssetInfo *info, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (
      p,
      "INSERT INTO assets (kind, generated, path, hash, size, duration, fps_num, fps_den,"
      " width, height, sample_rate, channels, has_video, has_audio)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      error);
  if (!st)
    return 0;
  sqlite3_bind_int (st, 1, info->kind);
  sqlite3_bind_int (st, 2, generated != FALSE);
  sqlite3_bind_text (st, 3, path, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 4, hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 5, size);
  sqlite3_bind_int64 (st, 6, info->duration);
  sqlite3_bind_int64 (st, 7, info->fps.num);
  sqlite3_bind_int64 (st, 8, info->fps.den > 0 ? info->fps.den : 1);
  sqlite3_bind_int (st, 9, info->width);
  sqlite3_bind_int (st, 10, info->height);
  sqlite3_bind_int (st, 11, info->sample_rate);
  sqlite3_bind_int (st, 12, info->channels);
  sqlite3_bind_int (st, 13, info->has_video != FALSE);
  sqlite3_bind_int (st, 14, info->has_audio != FALSE);
  if (!rg_project_step_done (p, st, error))
    return 0;
  return sqlite3_last_insert_rowid (p->db);
}

/* Copies file into the assets folder as <hash><ext>, atomically: a
 * half-copied file never carries a hash name. */
static char *
store_generated (RgProject *p, const char *file, const char *hash, GError **error)
{
  const char *dot = strrchr (file, '.');
  const char *slash = strrchr (file, G_DIR_SEPARATOR);
  const char *ext = dot && (!slash || dot > slash) && strlen (dot) <= 8 ? dot : "";
  for (const char *c = ext + (*ext ? 1 : 0); *c; c++)
    if (!g_ascii_isalnum (*c))
      ext = ""; /* keep hostile names out of the folder */
  char *name = g_strconcat (hash, ext, NULL);
  g_autofree char *target = g_build_filename (p->assets_dir, name, NULL);
  if (g_file_test (target, G_FILE_TEST_IS_REGULAR))
    return name; /* same bytes already there */
  if (g_mkdir_with_parents (p->assets_dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot create: %s", p->assets_dir,
                   g_strerror (e));
      g_free (name);
      return NULL;
    }
  g_autofree char *partial = g_strconcat (target, ".partial", NULL);
  g_autoptr (GFile) src = g_file_new_for_path (file);
  g_autoptr (GFile) dst = g_file_new_for_path (partial);
  g_autoptr (GError) err = NULL;
  if (!g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &err)
      || g_rename (partial, target) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot copy into %s: %s", file, p->assets_dir,
                   err ? err->message : g_strerror (errno));
      g_unlink (partial);
      g_free (name);
      return NULL;
    }
  return name;
}

static gboolean
check_provenance (RgProject *p, const RgProvenance *prov, GError **error)
{
  if (!prov || !prov->kind || !*prov->kind || !prov->model_hash || !prov->params_json
      || prov->seed > (uint64_t)INT64_MAX)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "a generated asset needs its provenance: kind, seed < 2^63, model hash and"
                   " parameters");
      return FALSE;
    }
  sqlite3_stmt *st
      = rg_project_stmt (p, "SELECT json_valid (?1) AND json_type (?1) = 'object'", error);
  if (!st)
    return FALSE;
  sqlite3_bind_text (st, 1, prov->params_json, -1, SQLITE_STATIC);
  gboolean ok = sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int (st, 0) == 1;
  sqlite3_reset (st);
  if (!ok)
    g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                 "generation parameters must be a JSON object, not “%.40s”", prov->params_json);
  return ok;
}

int64_t
rg_project_add_generated (RgProject *project, const char *file, const RgAssetInfo *info,
                          const RgProvenance *prov, GError **error)
{
  RgAssetInfo probed;
  if (!check_provenance (project, prov, error))
    return 0;
  if (!info)
    {
      if (!rg_project_probe_file (file, &probed, error))
        return 0;
      info = &probed;
    }
  if (!rg_asset_info_check (info, file, error))
    return 0;
  goffset size = 0;
  g_autofree char *hash = rg_file_sha256 (file, &size, error);
  if (!hash)
    return 0;
  int64_t existing = rg_project_find_asset (project, hash);
  if (existing)
    return existing;
  g_autofree char *name = store_generated (project, file, hash, error);
  if (!name || !rg_project_tx_begin (project, error))
    return 0;
  int64_t id = rg_project_insert_asset (project, name, hash, size, TRUE, info, error);
  gboolean ok = id != 0;
  if (ok)
    {
      sqlite3_stmt *st = rg_project_stmt (project,
                                          "INSERT INTO provenance (asset_id, kind, prompt, seed,"
                                          " model_hash, params) VALUES (?, ?, ?, ?, ?, ?)",
                                          error);
      ok = st != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (st, 1, id);
          sqlite3_bind_text (st, 2, prov->kind, -1, SQLITE_STATIC);
          sqlite3_bind_text (st, 3, prov->prompt, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (st, 4, (int64_t)prov->seed);
          sqlite3_bind_text (st, 5, prov->model_hash, -1, SQLITE_STATIC);
          sqlite3_bind_text (st, 6, prov->params_json, -1, SQLITE_STATIC);
          ok = rg_project_step_done (project, st, error);
        }
    }
  return rg_project_tx_end (project, ok, error) ? id : 0;
}

char *
rg_project_get_provenance (RgProject *project, int64_t asset_id, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (project,
                                      "SELECT json_object ('kind', kind, 'prompt', prompt,"
                                      " 'seed', seed, 'model_hash', model_hash,"
                                      " 'params', json (params))"
                                      " FROM provenance WHERE asset_id = ?",
                                      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, asset_id);
  char *json = NULL;
  if (sqlite3_step (st) == SQLITE_ROW)
    json = g_strdup ((const char *)sqlite3_column_text (st, 0));
  else
    g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND,
                 "asset %" G_GINT64_FORMAT " has no provenance (it was imported, not generated)",
                 asset_id);
  sqlite3_reset (st);
  return json;
}

static gboolean
set_asset_path (RgProject *p, int64_t id, const char *path, GError **error)
{
  if (!rg_project_tx_begin (p, error))
    return FALSE;
  sqlite3_stmt *st = rg_project_stmt (p, "UPDATE assets SET path = ? WHERE id = ?", error);
  gboolean ok = st != NULL;
  if (ok)
    {
      sqlite3_bind_text (st, 1, path, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 2, id);
      ok = rg_project_step_done (p, st, error);
    }
  return rg_project_tx_end (p, ok, error);
}

static goffset
file_size (const char *path)
{
  GStatBuf sb;
  if (g_stat (path, &sb) != 0 || !S_ISREG (sb.st_mode))
    return -1;
  return sb.st_size;
}

static goffset
asset_size (RgProject *p, int64_t id)
{
  sqlite3_stmt *st = rg_project_stmt (p, "SELECT size FROM assets WHERE id = ?", NULL);
  if (!st)
    return -1;
  sqlite3_bind_int64 (st, 1, id);
  goffset size = sqlite3_step (st) == SQLITE_ROW ? sqlite3_column_int64 (st, 0) : -1;
  sqlite3_reset (st);
  return size;
}

/* Looks through dir for a file of the asset's size and hash. */
static char *
search_dir (const char *dir, goffset size, const char *hash)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (file_size (path) != size)
        continue;
      g_autofree char *h = rg_file_sha256 (path, NULL, NULL);
      if (h && strcmp (h, hash) == 0)
        return g_steal_pointer (&path);
    }
  return NULL;
}

char *
rg_project_locate_asset (RgProject *project, int64_t id, GError **error)
{
  RgAsset a = { 0 };
  if (!rg_project_get_asset (project, id, &a, error))
    return NULL;
  goffset size = asset_size (project, id);
  char *found = NULL;
  if (a.generated && (strchr (a.path, G_DIR_SEPARATOR) || a.path[0] == '.'))
    {
      /* Generated media are bare <hash>.<ext> names inside the assets
       * folder; anything else in a project file is hostile. */
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: asset %" G_GINT64_FORMAT " has an invalid name “%s”", project->path, id,
                   a.path);
      rg_asset_clear (&a);
      return NULL;
    }
  if (a.generated)
    found = g_build_filename (project->assets_dir, a.path, NULL);
  else
    found = g_strdup (a.path);
  /* Same size at the recorded place: trust it without rehashing. */
  if (file_size (found) != size)
    {
      g_clear_pointer (&found, g_free);
      found = search_dir (project->dir, size, a.hash);
      if (!found)
        found = search_dir (project->assets_dir, size, a.hash);
      if (found && !a.generated && !set_asset_path (project, id, found, error))
        g_clear_pointer (&found, g_free);
      else if (!found)
        g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND,
                     "asset %" G_GINT64_FORMAT " is missing: %s is gone and no file with its"
                     " content is in %s; relink it to the moved file",
                     id, a.path, project->dir);
    }
  rg_asset_clear (&a);
  return found;
}

gboolean
rg_project_relink_asset (RgProject *project, int64_t id, const char *path, GError **error)
{
  RgAsset a = { 0 };
  if (!rg_project_get_asset (project, id, &a, error))
    return FALSE;
  g_autofree char *hash = rg_file_sha256 (path, NULL, error);
  gboolean ok = hash != NULL;
  if (ok && strcmp (hash, a.hash) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s has different content than asset %" G_GINT64_FORMAT
                   " (SHA-256 %.12s…, expected %.12s…)",
                   path, id, hash, a.hash);
      ok = FALSE;
    }
  if (ok && a.generated)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "asset %" G_GINT64_FORMAT " is generated media; it lives in %s", id,
                   project->assets_dir);
      ok = FALSE;
    }
  if (ok)
    {
      g_autofree char *abs = g_canonicalize_filename (path, NULL);
      ok = set_asset_path (project, id, abs, error);
    }
  rg_asset_clear (&a);
  return ok;
}

gboolean
rg_project_cache_put (RgProject *project, const char *asset_hash, const char *kind,
                      const char *params, GBytes *data, GError **error)
{
  if (!rg_project_tx_begin (project, error))
    return FALSE;
  sqlite3_stmt *st = rg_project_stmt (project,
                                      "INSERT OR REPLACE INTO media_cache (asset_hash, kind,"
                                      " params, data) VALUES (?, ?, ?, ?)",
                                      error);
  gboolean ok = st != NULL;
  if (ok)
    {
      gsize n = 0;
      const void *bytes = g_bytes_get_data (data, &n);
      sqlite3_bind_text (st, 1, asset_hash, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, kind, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 3, params, -1, SQLITE_STATIC);
      sqlite3_bind_blob64 (st, 4, n ? bytes : "", n, SQLITE_STATIC);
      ok = rg_project_step_done (project, st, error);
    }
  return rg_project_tx_end (project, ok, error);
}

GBytes *
rg_project_cache_get (RgProject *project, const char *asset_hash, const char *kind,
                      const char *params)
{
  sqlite3_stmt *st = rg_project_stmt (project,
                                      "SELECT data FROM media_cache WHERE asset_hash = ?"
                                      " AND kind = ? AND params = ?",
                                      NULL);
  if (!st)
    return NULL;
  sqlite3_bind_text (st, 1, asset_hash, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, params, -1, SQLITE_STATIC);
  GBytes *bytes = NULL;
  if (sqlite3_step (st) == SQLITE_ROW)
    bytes = g_bytes_new (sqlite3_column_blob (st, 0), sqlite3_column_bytes (st, 0));
  sqlite3_reset (st);
  return bytes;
}
