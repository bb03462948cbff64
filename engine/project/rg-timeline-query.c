/* rg-timeline-query.c — reading tracks and clips, and the canonical dump. */
#include "rg-project-private.h"

#include "core/rg-error.h"

void
rg_track_clear (RgTrack *track)
{
  g_clear_pointer (&track->name, g_free);
}

static void
track_free (gpointer data)
{
  rg_track_clear (data);
  g_free (data);
}

gboolean
rg_project_next_id (RgProject *p, const char *table, int64_t *out, GError **error)
{
  /* AUTOINCREMENT keeps the largest id ever used in sqlite_sequence. */
  sqlite3_stmt *st = rg_project_stmt (p,
                                      "SELECT coalesce ((SELECT seq FROM sqlite_sequence"
                                      " WHERE name = ?), 0) + 1",
                                      error);
  if (!st)
    return FALSE;
  sqlite3_bind_text (st, 1, table, -1, SQLITE_STATIC);
  gboolean ok = sqlite3_step (st) == SQLITE_ROW;
  if (ok)
    *out = sqlite3_column_int64 (st, 0);
  else
    rg_project_db_error (p, error, "reading ids");
  sqlite3_reset (st);
  return ok;
}

static void
read_clip (sqlite3_stmt *st, RgClip *c)
{
  c->id = sqlite3_column_int64 (st, 0);
  c->track_id = sqlite3_column_int64 (st, 1);
  c->asset_id = sqlite3_column_int64 (st, 2);
  c->start = sqlite3_column_int64 (st, 3);
  c->src_in = sqlite3_column_int64 (st, 4);
  c->src_out = sqlite3_column_int64 (st, 5);
}

static void
read_track (sqlite3_stmt *st, RgTrack *t)
{
  t->id = sqlite3_column_int64 (st, 0);
  t->kind = sqlite3_column_int (st, 1);
  t->position = sqlite3_column_int (st, 2);
  t->name = g_strdup ((const char *)sqlite3_column_text (st, 3));
  t->muted = sqlite3_column_int (st, 4);
  t->locked = sqlite3_column_int (st, 5);
}

gboolean
rg_project_get_clip (RgProject *project, int64_t clip_id, RgClip *out, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (project,
                                      "SELECT id, track_id, asset_id, start, src_in, src_out"
                                      " FROM clips WHERE id = ?",
                                      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, clip_id);
  gboolean ok = sqlite3_step (st) == SQLITE_ROW;
  if (ok)
    read_clip (st, out);
  else
    g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "there is no clip %" G_GINT64_FORMAT,
                 clip_id);
  sqlite3_reset (st);
  return ok;
}

gboolean
rg_project_get_track (RgProject *project, int64_t track_id, RgTrack *out, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (project,
                                      "SELECT id, kind, position, name, muted, locked"
                                      " FROM tracks WHERE id = ?",
                                      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, track_id);
  gboolean ok = sqlite3_step (st) == SQLITE_ROW;
  if (ok)
    read_track (st, out);
  else
    g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "there is no track %" G_GINT64_FORMAT,
                 track_id);
  sqlite3_reset (st);
  return ok;
}

GPtrArray *
rg_project_list_tracks (RgProject *project, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (project,
                                      "SELECT id, kind, position, name, muted, locked"
                                      " FROM tracks ORDER BY position, id",
                                      error);
  if (!st)
    return NULL;
  GPtrArray *tracks = g_ptr_array_new_with_free_func (track_free);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      RgTrack *t = g_new0 (RgTrack, 1);
      read_track (st, t);
      g_ptr_array_add (tracks, t);
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      rg_project_db_error (project, error, "reading tracks");
      g_ptr_array_unref (tracks);
      return NULL;
    }
  return tracks;
}

GArray *
rg_project_list_clips (RgProject *project, int64_t track_id, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (project,
                                      "SELECT c.id, c.track_id, c.asset_id, c.start, c.src_in,"
                                      " c.src_out FROM clips c JOIN tracks t ON t.id = c.track_id"
                                      " WHERE ?1 = 0 OR c.track_id = ?1"
                                      " ORDER BY t.position, t.id, c.start",
                                      error);
  if (!st)
    return NULL;
  sqlite3_bind_int64 (st, 1, track_id);
  GArray *clips = g_array_new (FALSE, FALSE, sizeof (RgClip));
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      RgClip c;
      read_clip (st, &c);
      g_array_append_val (clips, c);
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      rg_project_db_error (project, error, "reading clips");
      g_array_unref (clips);
      return NULL;
    }
  return clips;
}

char *
rg_project_dump_timeline (RgProject *project, GError **error)
{
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (project, error);
  if (!tracks)
    return NULL;
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < tracks->len; i++)
    {
      RgTrack *t = tracks->pdata[i];
      g_string_append_printf (s, "track %" G_GINT64_FORMAT " %s pos=%d name=%s%s%s\n", t->id,
                              t->kind == RG_TRACK_VIDEO ? "video" : "audio", t->position, t->name,
                              t->muted ? " muted" : "", t->locked ? " locked" : "");
      g_autoptr (GArray) clips = rg_project_list_clips (project, t->id, error);
      if (!clips)
        {
          g_string_free (s, TRUE);
          return NULL;
        }
      for (guint k = 0; k < clips->len; k++)
        {
          RgClip *c = &g_array_index (clips, RgClip, k);
          g_string_append_printf (s,
                                  "  clip %" G_GINT64_FORMAT " asset=%" G_GINT64_FORMAT
                                  " start=%" G_GINT64_FORMAT " in=%" G_GINT64_FORMAT
                                  " out=%" G_GINT64_FORMAT "\n",
                                  c->id, c->asset_id, c->start, c->src_in, c->src_out);
        }
    }
  return g_string_free (s, FALSE);
}
