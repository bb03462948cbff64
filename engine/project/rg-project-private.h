/* rg-project-private.h — what the project room's files share: the handle,
 * the statement cache, the request (transaction + history group) helpers. */
#pragma once

#include <sqlite3.h>

#include "rg-project.h"
#include "core/rg-hash.h"

G_BEGIN_DECLS

struct _RgProject
{
  sqlite3 *db;
  char *path;
  char *dir;        /* the folder holding the project file */
  char *assets_dir; /* <dir>/<name>.assets */
  RgRational fps;
  GHashTable *stmts; /* SQL text → sqlite3_stmt*, prepared once */
  gboolean recovered;
  int session_fd;     /* holds our byte lock on <path>-session, -1 when none */
  int64_t session_id; /* our row in the sessions table */

  /* The request in progress (label NULL outside one). */
  char *label;   /* its undo label */
  int64_t group; /* its history id, once it has logged an edit */
  int seq;
  GArray *touched; /* clip ids to validate before committing */
};

/* Sessions (rg-project-session.c). begin: registers this session, removing
 * (and setting p->recovered for) sessions that died without closing. end:
 * unregisters it. Both run their own transaction. */
gboolean rg_project_session_begin (RgProject *p, GError **error);
void rg_project_session_end (RgProject *p);

/* SQLite → GError naming the project file. Returns FALSE for chaining. */
gboolean rg_project_db_error (RgProject *p, GError **error, const char *what);

/* A cached, reset statement for a static SQL string; NULL + error on failure. */
sqlite3_stmt *rg_project_stmt (RgProject *p, const char *sql, GError **error);
/* sqlite3_step to SQLITE_DONE, then reset; FALSE + error otherwise. */
gboolean rg_project_step_done (RgProject *p, sqlite3_stmt *st, GError **error);
gboolean rg_project_exec (RgProject *p, const char *sql, GError **error);

/* One user action = one request: BEGIN IMMEDIATE, drop the redo tail, open
 * a history group labelled `label`. rg_project_request_end validates the
 * touched clips and commits, or rolls everything back when ok is FALSE or
 * validation fails. A request that changed nothing leaves no undo step. */
gboolean rg_project_request_begin (RgProject *p, const char *label, GError **error);
gboolean rg_project_request_end (RgProject *p, gboolean ok, GError **error);

/* A non-history transaction (imports, relinks, cache writes). */
gboolean rg_project_tx_begin (RgProject *p, GError **error);
gboolean rg_project_tx_end (RgProject *p, gboolean ok, GError **error);

/* ---- the primitive, invertible edits (rg-history.c) ----
 * A row image is a whole clip or track row, or "absent". Setting a row
 * from one image to another records both in the open history group, so
 * undo sets it back and redo forward again. */
typedef struct
{
  gboolean present;
  int64_t v[5];     /* clip: track, asset, start, in, out; track: kind, position, muted, locked */
  const char *name; /* track name */
} RgRowImage;

void rg_clip_image (const RgClip *c, RgRowImage *out);
void rg_track_image (const RgTrack *t, RgRowImage *out);

gboolean rg_history_set_clip (RgProject *p, int64_t id, const RgRowImage *before,
                              const RgRowImage *after, GError **error);
gboolean rg_history_set_track (RgProject *p, int64_t id, const RgRowImage *before,
                               const RgRowImage *after, GError **error);
/* Moves every clip on track with start >= from by delta, as one logged
 * step (ripple edits touch many clips; logging one row keeps them O(1)). */
gboolean rg_history_shift (RgProject *p, int64_t track_id, RgTime from, RgTime delta,
                           GError **error);
/* Drops every undone step: a new edit after undo ends the redo branch. */
gboolean rg_history_truncate_redo (RgProject *p, GError **error);

/* Validation (rg-timeline-check.c): a clip row image before it is written
 * (times, length), one clip in its current post-edit state (bounds within
 * its asset, track kind, overlaps), and a track that must accept edits. */
gboolean rg_timeline_check_image (RgProject *p, int64_t clip_id, const RgRowImage *img,
                                  GError **error);
gboolean rg_timeline_check_clip (RgProject *p, int64_t clip_id, GError **error);
gboolean rg_timeline_check_track_unlocked (RgProject *p, int64_t track_id, GError **error);

/* The id the next row of `table` ("clips", "tracks") will get: ids are
 * never reused, so an id in an error message or a script stays unique. */
gboolean rg_project_next_id (RgProject *p, const char *table, int64_t *out, GError **error);

/* Assets (rg-project-assets.c, rg-project-import.c). */
int64_t rg_project_find_asset (RgProject *p, const char *hash); /* 0 = none */
gboolean rg_asset_info_check (const RgAssetInfo *info, const char *path, GError **error);
int64_t rg_project_insert_asset (RgProject *p, const char *path, const char *hash, goffset size,
                                 gboolean generated, const RgAssetInfo *info, GError **error);
/* The media probe's answer reduced to what the timeline needs. */
gboolean rg_project_probe_file (const char *path, RgAssetInfo *info, GError **error);

/* SHA-256 of a file: rg_file_sha256 in core/rg-hash.h. */

G_END_DECLS
