/* rg-timeline.c — clip requests: add, move, trim, split, delete.
 *
 * Each request reads what it needs, opens a request (one transaction, one
 * undo step), expresses its change as logged primitives, and ends the
 * request, which checks every touched clip and commits or rolls back. */
#include "rg-project-private.h"

#include "core/rg-error.h"

/* Writes a clip row image after checking its times. */
static gboolean
set_clip (RgProject *p, int64_t id, const RgRowImage *before, const RgRowImage *after,
          GError **error)
{
  if (after->present && !rg_timeline_check_image (p, id, after, error))
    return FALSE;
  return rg_history_set_clip (p, id, before, after, error);
}

static gboolean
asset_exists (RgProject *p, int64_t asset_id, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (p, "SELECT 1 FROM assets WHERE id = ?", error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, asset_id);
  gboolean ok = sqlite3_step (st) == SQLITE_ROW;
  sqlite3_reset (st);
  if (!ok)
    g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "there is no asset %" G_GINT64_FORMAT,
                 asset_id);
  return ok;
}

int64_t
rg_project_add_clip (RgProject *project, int64_t asset_id, int64_t track_id, RgTime start,
                     RgTime src_in, RgTime src_out, GError **error)
{
  int64_t id = 0;
  if (!asset_exists (project, asset_id, error)
      || !rg_project_request_begin (project, "Add clip", error))
    return 0;
  RgClip c = { 0, track_id, asset_id, start, src_in, src_out };
  RgRowImage none = { FALSE, { 0 }, NULL }, img;
  rg_clip_image (&c, &img);
  gboolean ok = rg_project_next_id (project, "clips", &id, error)
                && set_clip (project, id, &none, &img, error);
  return rg_project_request_end (project, ok, error) ? id : 0;
}

gboolean
rg_project_move_clip (RgProject *project, int64_t clip_id, int64_t track_id, RgTime start,
                      GError **error)
{
  RgClip c;
  if (!rg_project_get_clip (project, clip_id, &c, error))
    return FALSE;
  RgRowImage before, after;
  rg_clip_image (&c, &before);
  c.track_id = track_id;
  c.start = start;
  rg_clip_image (&c, &after);
  if (!rg_project_request_begin (project, "Move clip", error))
    return FALSE;
  gboolean ok = set_clip (project, clip_id, &before, &after, error);
  return rg_project_request_end (project, ok, error);
}

gboolean
rg_project_trim_clip (RgProject *project, int64_t clip_id, RgEdge edge, RgTime src_time,
                      gboolean ripple, GError **error)
{
  RgClip c;
  if (!rg_project_get_clip (project, clip_id, &c, error))
    return FALSE;
  RgTime old_end = c.start + (c.src_out - c.src_in);
  RgTime growth; /* change of the clip's length */
  RgRowImage before, after;
  rg_clip_image (&c, &before);
  if (edge == RG_EDGE_START)
    {
      growth = c.src_in - src_time;
      if (!ripple)
        c.start -= growth; /* the right edge stays put */
      c.src_in = src_time;
    }
  else
    {
      growth = src_time - c.src_out;
      c.src_out = src_time;
    }
  rg_clip_image (&c, &after);

  if (!rg_project_request_begin (project, ripple ? "Ripple trim clip" : "Trim clip", error))
    return FALSE;
  gboolean ok = set_clip (project, clip_id, &before, &after, error);
  /* Later clips follow the clip's new end. With a non-ripple END trim the
   * end moves too, but nothing else does: that is the point of non-ripple. */
  if (ok && ripple)
    ok = rg_history_shift (project, c.track_id, old_end, growth, error);
  return rg_project_request_end (project, ok, error);
}

int64_t
rg_project_split_clip (RgProject *project, int64_t clip_id, RgTime at, GError **error)
{
  RgClip c;
  if (!rg_project_get_clip (project, clip_id, &c, error))
    return 0;
  RgTime end = c.start + (c.src_out - c.src_in);
  if (at <= c.start || at >= end)
    {
      g_autofree char *t = rg_time_format (at);
      g_autofree char *s = rg_time_format (c.start);
      g_autofree char *e = rg_time_format (end);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "cannot split clip %" G_GINT64_FORMAT " at %s: it spans %s to %s", clip_id, t, s,
                   e);
      return 0;
    }
  RgClip left = c, right = c;
  left.src_out = c.src_in + (at - c.start);
  right.start = at;
  right.src_in = left.src_out;
  RgRowImage before, l_img, r_img, none = { FALSE, { 0 }, NULL };
  rg_clip_image (&c, &before);
  rg_clip_image (&left, &l_img);
  rg_clip_image (&right, &r_img);

  int64_t right_id = 0;
  if (!rg_project_request_begin (project, "Split clip", error))
    return 0;
  gboolean ok = rg_project_next_id (project, "clips", &right_id, error)
                && set_clip (project, clip_id, &before, &l_img, error)
                && set_clip (project, right_id, &none, &r_img, error);
  return rg_project_request_end (project, ok, error) ? right_id : 0;
}

gboolean
rg_project_delete_clip (RgProject *project, int64_t clip_id, gboolean ripple, GError **error)
{
  RgClip c;
  if (!rg_project_get_clip (project, clip_id, &c, error))
    return FALSE;
  RgTime length = c.src_out - c.src_in;
  RgRowImage before, none = { FALSE, { 0 }, NULL };
  rg_clip_image (&c, &before);
  if (!rg_project_request_begin (project, ripple ? "Ripple delete clip" : "Delete clip", error))
    return FALSE;
  gboolean ok = set_clip (project, clip_id, &before, &none, error);
  if (ok && ripple)
    ok = rg_history_shift (project, c.track_id, c.start + length, -length, error);
  return rg_project_request_end (project, ok, error);
}
