/* rg-history.c — the persisted undo log.
 *
 * Every change a request makes goes through one of three primitives that
 * apply it and log it, in the request's transaction: set a clip row, set a
 * track row (each from a "before" image to an "after" image, absent meaning
 * no row), or shift a track's clips. Undo replays a group's steps backwards
 * from after to before; redo forwards. The log lives in the project file,
 * so it survives closing, and is exact: ids come back as they were. */
#include "rg-project-private.h"

#include "core/rg-error.h"

typedef enum
{
  ENTITY_TRACK = 1,
  ENTITY_CLIP = 2,
  ENTITY_SHIFT = 3,
} Entity;

void
rg_clip_image (const RgClip *c, RgRowImage *out)
{
  *out = (RgRowImage){ TRUE, { c->track_id, c->asset_id, c->start, c->src_in, c->src_out }, NULL };
}

void
rg_track_image (const RgTrack *t, RgRowImage *out)
{
  *out = (RgRowImage){ TRUE, { t->kind, t->position, t->muted, t->locked, 0 }, t->name };
}

/* Makes row `id` look like `to`, given that it looks like `from` now. */
static gboolean
apply_clip (RgProject *p, int64_t id, const RgRowImage *from, const RgRowImage *to, GError **error)
{
  sqlite3_stmt *st;
  if (!to->present)
    {
      st = rg_project_stmt (p, "DELETE FROM clips WHERE id = ?", error);
      if (!st)
        return FALSE;
      sqlite3_bind_int64 (st, 1, id);
      return rg_project_step_done (p, st, error);
    }
  st = from->present
           ? rg_project_stmt (p,
                              "UPDATE clips SET track_id = ?2, asset_id = ?3, start = ?4,"
                              " src_in = ?5, src_out = ?6 WHERE id = ?1",
                              error)
           : rg_project_stmt (p,
                              "INSERT INTO clips (id, track_id, asset_id, start, src_in, src_out)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                              error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  for (int i = 0; i < 5; i++)
    sqlite3_bind_int64 (st, 2 + i, to->v[i]);
  return rg_project_step_done (p, st, error);
}

static gboolean
apply_track (RgProject *p, int64_t id, const RgRowImage *from, const RgRowImage *to, GError **error)
{
  sqlite3_stmt *st;
  if (!to->present)
    {
      st = rg_project_stmt (p, "DELETE FROM tracks WHERE id = ?", error);
      if (!st)
        return FALSE;
      sqlite3_bind_int64 (st, 1, id);
      return rg_project_step_done (p, st, error);
    }
  st = from->present
           ? rg_project_stmt (p,
                              "UPDATE tracks SET kind = ?2, position = ?3, muted = ?4,"
                              " locked = ?5, name = ?6 WHERE id = ?1",
                              error)
           : rg_project_stmt (p,
                              "INSERT INTO tracks (id, kind, position, muted, locked, name)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                              error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, id);
  for (int i = 0; i < 4; i++)
    sqlite3_bind_int64 (st, 2 + i, to->v[i]);
  sqlite3_bind_text (st, 6, to->name ? to->name : "", -1, SQLITE_TRANSIENT);
  return rg_project_step_done (p, st, error);
}

static gboolean
apply_shift (RgProject *p, int64_t track_id, RgTime from, RgTime delta, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (p,
                                      "UPDATE clips SET start = start + ?3"
                                      " WHERE track_id = ?1 AND start >= ?2",
                                      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, track_id);
  sqlite3_bind_int64 (st, 2, from);
  sqlite3_bind_int64 (st, 3, delta);
  return rg_project_step_done (p, st, error);
}

gboolean
rg_history_truncate_redo (RgProject *p, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (p, "DELETE FROM history WHERE undone = 1", error);
  return st && rg_project_step_done (p, st, error);
}

/* Logs one step in the open request, opening its history group first. */
static gboolean
log_step (RgProject *p, Entity entity, int64_t row_id, const RgRowImage *before,
          const RgRowImage *after, GError **error)
{
  g_return_val_if_fail (p->label != NULL, FALSE);
  sqlite3_stmt *st;
  if (p->group == 0)
    {
      if (!rg_history_truncate_redo (p, error))
        return FALSE;
      st = rg_project_stmt (p, "INSERT INTO history (label) VALUES (?)", error);
      if (!st)
        return FALSE;
      sqlite3_bind_text (st, 1, p->label, -1, SQLITE_STATIC);
      if (!rg_project_step_done (p, st, error))
        return FALSE;
      p->group = sqlite3_last_insert_rowid (p->db);
    }
  st = rg_project_stmt (p,
                        "INSERT INTO history_ops (group_id, seq, entity, row_id,"
                        " b_ok, b0, b1, b2, b3, b4, b_name, a_ok, a0, a1, a2, a3, a4, a_name)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                        " ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                        error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, p->group);
  sqlite3_bind_int (st, 2, p->seq);
  sqlite3_bind_int (st, 3, entity);
  sqlite3_bind_int64 (st, 4, row_id);
  const RgRowImage *img[2] = { before, after };
  for (int k = 0; k < 2; k++)
    {
      int base = 5 + 7 * k;
      sqlite3_bind_int (st, base, img[k]->present);
      for (int i = 0; img[k]->present && i < 5; i++)
        sqlite3_bind_int64 (st, base + 1 + i, img[k]->v[i]);
      if (img[k]->name)
        sqlite3_bind_text (st, base + 6, img[k]->name, -1, SQLITE_STATIC);
    }
  if (!rg_project_step_done (p, st, error))
    return FALSE;
  p->seq++;
  return TRUE;
}

static gboolean
clip_track_unlocked (RgProject *p, const RgRowImage *img, GError **error)
{
  return !img->present || rg_timeline_check_track_unlocked (p, img->v[0], error);
}

gboolean
rg_history_set_clip (RgProject *p, int64_t id, const RgRowImage *before, const RgRowImage *after,
                     GError **error)
{
  if (!clip_track_unlocked (p, before, error) || !clip_track_unlocked (p, after, error))
    return FALSE;
  if (!apply_clip (p, id, before, after, error)
      || !log_step (p, ENTITY_CLIP, id, before, after, error))
    return FALSE;
  if (after->present)
    g_array_append_val (p->touched, id);
  return TRUE;
}

gboolean
rg_history_set_track (RgProject *p, int64_t id, const RgRowImage *before, const RgRowImage *after,
                      GError **error)
{
  return apply_track (p, id, before, after, error)
         && log_step (p, ENTITY_TRACK, id, before, after, error);
}

gboolean
rg_history_shift (RgProject *p, int64_t track_id, RgTime from, RgTime delta, GError **error)
{
  if (delta == 0)
    return TRUE;
  if (!rg_timeline_check_track_unlocked (p, track_id, error)
      || !apply_shift (p, track_id, from, delta, error))
    return FALSE;
  RgRowImage none = { FALSE, { 0 }, NULL };
  RgRowImage shift = { TRUE, { from, delta, 0, 0, 0 }, NULL };
  if (!log_step (p, ENTITY_SHIFT, track_id, &none, &shift, error))
    return FALSE;

  /* The shifted clips keep their spacing, so only the first of them can
   * collide (with the clip before it, or with time 0). */
  sqlite3_stmt *st = rg_project_stmt (p,
                                      "SELECT id FROM clips WHERE track_id = ? AND start >= ?"
                                      " ORDER BY start LIMIT 1",
                                      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, track_id);
  sqlite3_bind_int64 (st, 2, from + delta);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      int64_t first = sqlite3_column_int64 (st, 0);
      g_array_append_val (p->touched, first);
    }
  sqlite3_reset (st);
  return TRUE;
}

static void
read_image (sqlite3_stmt *st, int col, RgRowImage *img)
{
  img->present = sqlite3_column_int (st, col) != 0;
  for (int i = 0; i < 5; i++)
    img->v[i] = sqlite3_column_int64 (st, col + 1 + i);
  img->name = (const char *)sqlite3_column_text (st, col + 6);
}

typedef struct
{
  int entity;
  int64_t row_id;
  RgRowImage before, after;
  char *names[2]; /* owned copies of before/after name */
} Step;

static void
step_clear (gpointer data)
{
  Step *s = data;
  g_free (s->names[0]);
  g_free (s->names[1]);
}

static gboolean
load_steps (RgProject *p, int64_t group, GArray *steps, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (p,
                                      "SELECT entity, row_id, b_ok, b0, b1, b2, b3, b4, b_name,"
                                      " a_ok, a0, a1, a2, a3, a4, a_name FROM history_ops"
                                      " WHERE group_id = ? ORDER BY seq",
                                      error);
  if (!st)
    return FALSE;
  sqlite3_bind_int64 (st, 1, group);
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      Step s = { 0 };
      s.entity = sqlite3_column_int (st, 0);
      s.row_id = sqlite3_column_int64 (st, 1);
      read_image (st, 2, &s.before);
      read_image (st, 9, &s.after);
      s.names[0] = g_strdup (s.before.name);
      s.names[1] = g_strdup (s.after.name);
      s.before.name = s.names[0];
      s.after.name = s.names[1];
      g_array_append_val (steps, s);
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return rg_project_db_error (p, error, "reading the undo history");
  return TRUE;
}

static gboolean
replay_step (RgProject *p, const Step *s, gboolean forward, GError **error)
{
  const RgRowImage *from = forward ? &s->before : &s->after;
  const RgRowImage *to = forward ? &s->after : &s->before;
  switch (s->entity)
    {
    case ENTITY_CLIP:
      return apply_clip (p, s->row_id, from, to, error);
    case ENTITY_TRACK:
      return apply_track (p, s->row_id, from, to, error);
    case ENTITY_SHIFT:
      /* Backwards: the shifted clips now start at from + delta. */
      return forward
                 ? apply_shift (p, s->row_id, s->after.v[0], s->after.v[1], error)
                 : apply_shift (p, s->row_id, s->after.v[0] + s->after.v[1], -s->after.v[1], error);
    default:
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: unknown undo step kind %d", p->path,
                   s->entity);
      return FALSE;
    }
}

/* The group undo (forward FALSE) or redo would act on: the newest done
 * one, or the oldest undone one. */
static gboolean
find_group (RgProject *p, gboolean forward, int64_t *group, char **label)
{
  const char *sql = forward
                        ? "SELECT id, label FROM history WHERE undone = 1 ORDER BY id LIMIT 1"
                        : "SELECT id, label FROM history WHERE undone = 0 ORDER BY id DESC LIMIT 1";
  sqlite3_stmt *st = rg_project_stmt (p, sql, NULL);
  if (!st)
    return FALSE;
  gboolean found = sqlite3_step (st) == SQLITE_ROW;
  if (found)
    {
      *group = sqlite3_column_int64 (st, 0);
      if (label)
        *label = g_strdup ((const char *)sqlite3_column_text (st, 1));
    }
  sqlite3_reset (st);
  return found;
}

static gboolean
replay (RgProject *p, gboolean forward, GError **error)
{
  if (!rg_project_tx_begin (p, error))
    return FALSE;
  int64_t group = 0;
  g_autofree char *label = NULL;
  if (!find_group (p, forward, &group, &label))
    {
      rg_project_tx_end (p, FALSE, NULL);
      g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "%s: nothing to %s", p->path,
                   forward ? "redo" : "undo");
      return FALSE;
    }
  g_autoptr (GArray) steps = g_array_new (FALSE, TRUE, sizeof (Step));
  g_array_set_clear_func (steps, step_clear);
  gboolean ok = load_steps (p, group, steps, error);
  for (guint i = 0; ok && i < steps->len; i++)
    {
      guint k = forward ? i : steps->len - 1 - i;
      ok = replay_step (p, &g_array_index (steps, Step, k), forward, error);
    }
  if (ok)
    {
      sqlite3_stmt *st = rg_project_stmt (p, "UPDATE history SET undone = ? WHERE id = ?", error);
      ok = st != NULL;
      if (ok)
        {
          sqlite3_bind_int (st, 1, forward ? 0 : 1);
          sqlite3_bind_int64 (st, 2, group);
          ok = rg_project_step_done (p, st, error);
        }
    }
  if (!ok)
    g_prefix_error (error, "%s “%s”: ", forward ? "redo of" : "undo of", label);
  return rg_project_tx_end (p, ok, error);
}

gboolean
rg_project_undo (RgProject *project, GError **error)
{
  return replay (project, FALSE, error);
}

gboolean
rg_project_redo (RgProject *project, GError **error)
{
  return replay (project, TRUE, error);
}

char *
rg_project_undo_label (RgProject *project)
{
  int64_t group;
  char *label = NULL;
  return find_group (project, FALSE, &group, &label) ? label : NULL;
}

char *
rg_project_redo_label (RgProject *project)
{
  int64_t group;
  char *label = NULL;
  return find_group (project, TRUE, &group, &label) ? label : NULL;
}
