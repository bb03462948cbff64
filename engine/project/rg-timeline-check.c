/* rg-timeline-check.c — the timeline's invariants, checked on every request.
 *
 * A request applies its edits inside its transaction, then every clip it
 * touched is checked in the resulting state; any refusal rolls the whole
 * request back. Checking the result rather than predicting it keeps one
 * set of rules for every kind of edit. */
#include "rg-project-private.h"

#include "core/rg-error.h"

static RgTime
one_frame (RgProject *p)
{
  RgTime f = rg_time_from_frame (1, p->fps);
  return f > 0 ? f : 1;
}

gboolean
rg_timeline_check_image (RgProject *p, int64_t clip_id, const RgRowImage *img, GError **error)
{
  RgTime start = img->v[2], in = img->v[3], out = img->v[4];
  if (start > RG_PROJECT_TIME_MAX || in > RG_PROJECT_TIME_MAX || out > RG_PROJECT_TIME_MAX)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "clip %" G_GINT64_FORMAT ": a time is beyond the longest timeline", clip_id);
      return FALSE;
    }
  if (start < 0)
    {
      g_autofree char *t = rg_time_format (start);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "clip %" G_GINT64_FORMAT " would start at %s, before the timeline starts",
                   clip_id, t);
      return FALSE;
    }
  if (in < 0)
    {
      g_autofree char *t = rg_time_format (in);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "clip %" G_GINT64_FORMAT ": in-point %s is before the start of its source",
                   clip_id, t);
      return FALSE;
    }
  if (out - in < one_frame (p))
    {
      g_autofree char *t = rg_time_format (out - in);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "clip %" G_GINT64_FORMAT
                   " would last %s, less than one frame at %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                   " fps",
                   clip_id, t, p->fps.num, p->fps.den);
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_timeline_check_track_unlocked (RgProject *p, int64_t track_id, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (p, "SELECT locked, name FROM tracks WHERE id = ?", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, track_id);
  gboolean ok = FALSE;
  if (sqlite3_step (st) != SQLITE_ROW)
    g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "there is no track %" G_GINT64_FORMAT,
                 track_id);
  else if (sqlite3_column_int (st, 0))
    g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                 "track %" G_GINT64_FORMAT " (%s) is locked", track_id,
                 (const char *)sqlite3_column_text (st, 1));
  else
    ok = TRUE;
  sqlite3_reset (st);
  return ok;
}

static gboolean
check_overlap (RgProject *p, int64_t id, int64_t track, RgTime start, RgTime end, GError **error)
{
  /* Other clips on the track do not overlap each other (they were checked
   * when they last changed), so the latest one starting before our end is
   * the only one that can reach into us. */
  sqlite3_stmt *st = rg_project_stmt (p,
                                      "SELECT id, start, start + src_out - src_in FROM clips"
                                      " WHERE track_id = ?1 AND start < ?2 AND id <> ?3"
                                      " ORDER BY start DESC LIMIT 1",
                                      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, track);
  sqlite3_bind_int64 (st, 2, end);
  sqlite3_bind_int64 (st, 3, id);
  gboolean ok = TRUE;
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      int64_t other = sqlite3_column_int64 (st, 0);
      RgTime o_start = sqlite3_column_int64 (st, 1), o_end = sqlite3_column_int64 (st, 2);
      if (o_end > start)
        {
          g_autofree char *at = rg_time_format (MAX (start, o_start));
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "clip %" G_GINT64_FORMAT " would overlap clip %" G_GINT64_FORMAT
                       " on track %" G_GINT64_FORMAT " at %s",
                       id, other, track, at);
          ok = FALSE;
        }
    }
  sqlite3_reset (st);
  return ok;
}

gboolean
rg_timeline_check_clip (RgProject *p, int64_t id, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (
      p,
      "SELECT c.track_id, c.start, c.src_in, c.src_out, a.kind, a.duration, a.has_video,"
      " a.has_audio, t.kind, a.id FROM clips c JOIN assets a ON a.id = c.asset_id"
      " JOIN tracks t ON t.id = c.track_id WHERE c.id = ?",
      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      /* Deleted later in the same request: nothing left to check. */
      sqlite3_reset (st);
      return TRUE;
    }
  int64_t track = sqlite3_column_int64 (st, 0);
  RgTime start = sqlite3_column_int64 (st, 1);
  RgTime in = sqlite3_column_int64 (st, 2), out = sqlite3_column_int64 (st, 3);
  RgAssetKind akind = sqlite3_column_int (st, 4);
  RgTime duration = sqlite3_column_int64 (st, 5);
  gboolean has_video = sqlite3_column_int (st, 6), has_audio = sqlite3_column_int (st, 7);
  RgTrackKind tkind = sqlite3_column_int (st, 8);
  int64_t asset = sqlite3_column_int64 (st, 9);
  sqlite3_reset (st);

  if (akind != RG_ASSET_IMAGE && out > duration)
    {
      g_autofree char *o = rg_time_format (out);
      g_autofree char *d = rg_time_format (duration);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "clip %" G_GINT64_FORMAT " would end at %s of its source, past the end of"
                   " asset %" G_GINT64_FORMAT " (%s long)",
                   id, o, asset, d);
      return FALSE;
    }
  if (tkind == RG_TRACK_VIDEO && !has_video)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "asset %" G_GINT64_FORMAT " has no picture; clip %" G_GINT64_FORMAT
                   " cannot go on video track %" G_GINT64_FORMAT,
                   asset, id, track);
      return FALSE;
    }
  if (tkind == RG_TRACK_AUDIO && !has_audio)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "asset %" G_GINT64_FORMAT " has no sound; clip %" G_GINT64_FORMAT
                   " cannot go on audio track %" G_GINT64_FORMAT,
                   asset, id, track);
      return FALSE;
    }
  return check_overlap (p, id, track, start, start + (out - in), error);
}

gboolean
rg_project_check_invariants (RgProject *project, GError **error)
{
  g_autoptr (GArray) clips = rg_project_list_clips (project, 0, error);
  if (!clips)
    return FALSE;
  for (guint i = 0; i < clips->len; i++)
    {
      RgClip *c = &g_array_index (clips, RgClip, i);
      RgRowImage img;
      rg_clip_image (c, &img);
      if (!rg_timeline_check_image (project, c->id, &img, error)
          || !rg_timeline_check_clip (project, c->id, error))
        return FALSE;
      /* Clips come sorted by track then start: neighbours must not meet. */
      if (i > 0)
        {
          RgClip *prev = &g_array_index (clips, RgClip, i - 1);
          if (prev->track_id == c->track_id
              && prev->start + prev->src_out - prev->src_in > c->start)
            {
              g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                           "clips %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " overlap", prev->id,
                           c->id);
              return FALSE;
            }
        }
    }
  /* Track positions are dense, 0 … n-1, top first. */
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (project, error);
  if (!tracks)
    return FALSE;
  for (guint i = 0; i < tracks->len; i++)
    if (((RgTrack *)tracks->pdata[i])->position != (int)i)
      {
        g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                     "%s: track %" G_GINT64_FORMAT " is at position %d, expected %u", project->path,
                     ((RgTrack *)tracks->pdata[i])->id, ((RgTrack *)tracks->pdata[i])->position, i);
        return FALSE;
      }
  /* A clip whose track or asset is gone: the joins above would skip it. */
  sqlite3_stmt *st = rg_project_stmt (project,
                                      "SELECT count (*) FROM clips c WHERE NOT EXISTS"
                                      " (SELECT 1 FROM tracks t WHERE t.id = c.track_id)"
                                      " OR NOT EXISTS (SELECT 1 FROM assets a"
                                      " WHERE a.id = c.asset_id)",
                                      error);
  if (!st)
    return FALSE;
  gboolean ok = sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int (st, 0) == 0;
  sqlite3_reset (st);
  if (!ok)
    g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: a clip refers to a missing track or asset",
                 project->path);
  return ok;
}
