/* rg-timeline-tracks.c — track requests: add, remove, reorder, mute, lock.
 *
 * Track positions are kept dense (0 … n-1, top first); every request that
 * changes the stack rewrites the positions that moved, each one logged, so
 * undo restores the exact order. */
#include "rg-project-private.h"

#include <string.h>

#include "core/rg-error.h"

/* Gives tracks[i] position i, logging each track whose position changes
 * (except `fresh`, a track not written yet). */
static gboolean
renumber (RgProject *p, GPtrArray *tracks, int64_t fresh, GError **error)
{
  for (guint i = 0; i < tracks->len; i++)
    {
      RgTrack *t = tracks->pdata[i];
      if (t->position == (int)i || t->id == fresh)
        continue;
      RgRowImage before, after;
      rg_track_image (t, &before);
      t->position = i;
      rg_track_image (t, &after);
      if (!rg_history_set_track (p, t->id, &before, &after, error))
        return FALSE;
    }
  return TRUE;
}

static int
find_track (GPtrArray *tracks, int64_t id)
{
  for (guint i = 0; i < tracks->len; i++)
    if (((RgTrack *)tracks->pdata[i])->id == id)
      return i;
  return -1;
}

static gboolean
check_name (const char *name, GError **error)
{
  if (!name || !*name || !g_utf8_validate (name, -1, NULL) || strlen (name) > 200)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "a track name must be 1 to 200 bytes of UTF-8");
      return FALSE;
    }
  return TRUE;
}

int64_t
rg_project_add_track (RgProject *project, RgTrackKind kind, const char *name, int position,
                      GError **error)
{
  if (kind != RG_TRACK_VIDEO && kind != RG_TRACK_AUDIO)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "unknown track kind %d", kind);
      return 0;
    }
  if (!check_name (name, error) || !rg_project_request_begin (project, "Add track", error))
    return 0;
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (project, error);
  int64_t id = 0;
  gboolean ok = tracks && rg_project_next_id (project, "tracks", &id, error);
  if (ok)
    {
      guint at = position < 0 || (guint)position > tracks->len ? tracks->len : (guint)position;
      RgTrack *t = g_new0 (RgTrack, 1);
      *t = (RgTrack){ id, kind, at, g_strdup (name), FALSE, FALSE };
      g_ptr_array_insert (tracks, at, t);
      RgRowImage none = { FALSE, { 0 }, NULL }, img;
      /* Make room first, then insert at the freed position. */
      ok = renumber (project, tracks, id, error);
      rg_track_image (t, &img);
      ok = ok && rg_history_set_track (project, id, &none, &img, error);
    }
  return rg_project_request_end (project, ok, error) ? id : 0;
}

gboolean
rg_project_remove_track (RgProject *project, int64_t track_id, GError **error)
{
  if (!rg_timeline_check_track_unlocked (project, track_id, error))
    return FALSE;
  if (!rg_project_request_begin (project, "Remove track", error))
    return FALSE;
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (project, error);
  g_autoptr (GArray) clips = tracks ? rg_project_list_clips (project, track_id, error) : NULL;
  gboolean ok = clips != NULL;
  RgRowImage none = { FALSE, { 0 }, NULL }, img;
  for (guint i = 0; ok && i < clips->len; i++)
    {
      RgClip *c = &g_array_index (clips, RgClip, i);
      rg_clip_image (c, &img);
      ok = rg_history_set_clip (project, c->id, &img, &none, error);
    }
  if (ok)
    {
      int at = find_track (tracks, track_id);
      rg_track_image (tracks->pdata[at], &img);
      ok = rg_history_set_track (project, track_id, &img, &none, error);
      g_ptr_array_remove_index (tracks, at);
      ok = ok && renumber (project, tracks, 0, error);
    }
  return rg_project_request_end (project, ok, error);
}

gboolean
rg_project_move_track (RgProject *project, int64_t track_id, int position, GError **error)
{
  if (!rg_project_request_begin (project, "Move track", error))
    return FALSE;
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (project, error);
  gboolean ok = tracks != NULL;
  int from = ok ? find_track (tracks, track_id) : -1;
  if (ok && from < 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "there is no track %" G_GINT64_FORMAT,
                   track_id);
      ok = FALSE;
    }
  if (ok)
    {
      guint to = position < 0 || (guint)position >= tracks->len ? tracks->len - 1 : (guint)position;
      RgTrack *t = g_ptr_array_steal_index (tracks, from);
      g_ptr_array_insert (tracks, to, t);
      ok = renumber (project, tracks, 0, error);
    }
  return rg_project_request_end (project, ok, error);
}

static gboolean
set_flag (RgProject *project, int64_t track_id, gboolean locked_flag, gboolean value,
          GError **error)
{
  RgTrack t = { 0 };
  if (!rg_project_get_track (project, track_id, &t, error))
    return FALSE;
  const char *label = locked_flag ? (value ? "Lock track" : "Unlock track")
                                  : (value ? "Mute track" : "Unmute track");
  RgRowImage before, after;
  rg_track_image (&t, &before);
  if (locked_flag)
    t.locked = value != FALSE;
  else
    t.muted = value != FALSE;
  rg_track_image (&t, &after);
  gboolean ok = rg_project_request_begin (project, label, error);
  if (ok)
    {
      gboolean changed = before.v[2] != after.v[2] || before.v[3] != after.v[3];
      ok = !changed || rg_history_set_track (project, track_id, &before, &after, error);
      ok = rg_project_request_end (project, ok, error);
    }
  rg_track_clear (&t);
  return ok;
}

gboolean
rg_project_set_track_muted (RgProject *project, int64_t track_id, gboolean muted, GError **error)
{
  return set_flag (project, track_id, FALSE, muted, error);
}

gboolean
rg_project_set_track_locked (RgProject *project, int64_t track_id, gboolean locked, GError **error)
{
  return set_flag (project, track_id, TRUE, locked, error);
}
