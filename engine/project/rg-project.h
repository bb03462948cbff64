/* rg-project.h — the project store: one SQLite file per project (DESIGN §5).
 *
 * A project is a `*.reelgen` SQLite database plus, beside it, the folder
 * `<name>.assets/` holding generated media by content hash. Everything the
 * creator does is a *request*: it validates, applies, records its inverse in
 * the persisted history and commits — all in one transaction — or it fails
 * with a GError and changes nothing (Kdenlive's timelinemodel contract).
 * Because each request is its own committed WAL transaction there is no
 * separate autosave: a crash loses nothing that was reported done.
 *
 * Times are RgTime ticks (1/90000 s), never float seconds. Ids are the
 * database row ids and stay stable across undo/redo and reopening. */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "core/rg-time.h"

G_BEGIN_DECLS

/* The schema version this build writes; files with a larger user_version
 * are refused with RG_ERROR_VERSION and never written to. */
#define RG_PROJECT_SCHEMA_VERSION 1

/* The largest time a project holds (about 350 years): far beyond any
 * timeline, and small enough that sums of times never overflow. */
#define RG_PROJECT_TIME_MAX ((RgTime)1000000000000000)

typedef struct _RgProject RgProject;

typedef enum
{
  RG_TRACK_VIDEO,
  RG_TRACK_AUDIO,
} RgTrackKind;

typedef enum
{
  RG_ASSET_VIDEO, /* has a picture stream (and maybe audio) */
  RG_ASSET_AUDIO, /* sound only */
  RG_ASSET_IMAGE, /* a still picture: any clip length is valid */
} RgAssetKind;

typedef enum
{
  RG_EDGE_START, /* the clip's source in-point (its left edge) */
  RG_EDGE_END,   /* the clip's source out-point (its right edge) */
} RgEdge;

typedef struct
{
  int64_t id;
  RgTrackKind kind;
  int position; /* 0 = top of the stack (the track that wins) */
  char *name;
  gboolean muted;
  gboolean locked;
} RgTrack;

typedef struct
{
  int64_t id;
  int64_t track_id;
  int64_t asset_id;
  RgTime start;   /* position on the timeline */
  RgTime src_in;  /* first tick of the source used */
  RgTime src_out; /* one past the last: duration = src_out - src_in */
} RgClip;

/* What the store needs to know about a media file; filled by the media
 * probe on import, or by the generator for generated media. */
typedef struct
{
  RgAssetKind kind;
  RgTime duration; /* 0 for a still image */
  RgRational fps;  /* {0, 1} when there is no picture */
  int width, height;
  int sample_rate, channels; /* 0 when there is no sound */
  gboolean has_video, has_audio;
} RgAssetInfo;

typedef struct
{
  int64_t id;
  char *path; /* where the file is (or was last seen) */
  char *hash; /* SHA-256, lowercase hex */
  gboolean generated;
  RgAssetInfo info;
} RgAsset;

/* How a generated asset was made: enough to regenerate it exactly. */
typedef struct
{
  const char *kind;   /* "t2v", "edit", "v2a", … */
  const char *prompt; /* may be NULL */
  uint64_t seed;
  const char *model_hash;  /* SHA-256 of the model file */
  const char *params_json; /* every other parameter, a JSON object */
} RgProvenance;

void rg_track_clear (RgTrack *track);
void rg_asset_clear (RgAsset *asset);

/* ---- open, create, close, copy (rg-project-store.c) ---- */

/* Creates a new project at path (which must not exist) with one video and
 * one audio track, at the given frame rate. */
RgProject *rg_project_create (const char *path, RgRational fps, GError **error);

/* Opens an existing project. The file is validated read-only first
 * (SQLite header, integrity, our application id, schema version), so a
 * corrupt or foreign file is reported and left byte-identical; an older
 * schema is migrated in one transaction. */
RgProject *rg_project_open (const char *path, GError **error);

/* Marks the session as cleanly closed and frees the handle. */
void rg_project_close (RgProject *project);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgProject, rg_project_close)

const char *rg_project_path (RgProject *project);
const char *rg_project_assets_dir (RgProject *project);
RgRational rg_project_fps (RgProject *project);
/* TRUE when a session of this project ended without closing (a crash, a
 * kill, a power cut) and this open found it: the project holds every
 * committed action, and the UI should say it recovered. A second window
 * or CLI call on a project that is open elsewhere is not a crash. */
gboolean rg_project_was_recovered (RgProject *project);

/* Durability of each edit. Default (FALSE): WAL + synchronous=NORMAL — an
 * application crash loses nothing committed, a power cut may drop the last
 * edits but never corrupts. TRUE: synchronous=FULL, an fsync per edit, so
 * even a power cut keeps every edit the UI showed as done. */
gboolean rg_project_set_full_sync (RgProject *project, gboolean full, GError **error);

/* "Save As": a consistent copy of the database (VACUUM INTO) and of the
 * assets folder at dest, which must not exist. The open project is not
 * touched; dest is left complete or not at all. */
gboolean rg_project_save_as (RgProject *project, const char *dest, GError **error);

/* ---- assets (rg-project-assets.c) ---- */

/* Hashes and probes path, then records it. Re-importing the same content
 * returns the existing id. Not-media or truncated files are refused and
 * nothing is written. */
int64_t rg_project_import (RgProject *project, const char *path, GError **error);

/* Copies a generated file into <name>.assets/<hash>.<ext> and records it
 * with its provenance, in one transaction. info NULL = probe the file. */
int64_t rg_project_add_generated (RgProject *project, const char *file, const RgAssetInfo *info,
                                  const RgProvenance *prov, GError **error);

gboolean rg_project_get_asset (RgProject *project, int64_t id, RgAsset *out, GError **error);
GPtrArray *rg_project_list_assets (RgProject *project, GError **error); /* of RgAsset* */
/* The provenance of a generated asset as a JSON object (kind, prompt, seed,
 * model_hash, params). */
char *rg_project_get_provenance (RgProject *project, int64_t asset_id, GError **error);

/* Where the asset's file is now. If it is not at its recorded path, files
 * of the same size in the project folder and the assets folder are hashed
 * and a match is taken (and remembered); otherwise RG_ERROR_NOT_FOUND
 * saying the asset is missing and needs relinking. */
char *rg_project_locate_asset (RgProject *project, int64_t id, GError **error);
/* Points a missing asset at path, which must have the same content hash. */
gboolean rg_project_relink_asset (RgProject *project, int64_t id, const char *path, GError **error);

/* Cached derived data (thumbnail strips, waveform peaks) keyed by asset
 * hash, a kind ("thumbs", "peaks") and a parameter string. */
gboolean rg_project_cache_put (RgProject *project, const char *asset_hash, const char *kind,
                               const char *params, GBytes *data, GError **error);
GBytes *rg_project_cache_get (RgProject *project, const char *asset_hash, const char *kind,
                              const char *params); /* NULL = not cached */

/* ---- timeline requests (rg-timeline.c, rg-timeline-tracks.c) ----
 * Each is one undo step and one transaction. Refusals use
 * RG_ERROR_INVALID_ARGUMENT (overlap, bounds, locked, too short) or
 * RG_ERROR_NOT_FOUND (no such clip/track/asset). */

/* position -1 = below all tracks. Returns the new track id, 0 on error. */
int64_t rg_project_add_track (RgProject *project, RgTrackKind kind, const char *name, int position,
                              GError **error);
/* Removes the track and every clip on it. */
gboolean rg_project_remove_track (RgProject *project, int64_t track_id, GError **error);
gboolean rg_project_move_track (RgProject *project, int64_t track_id, int position, GError **error);
gboolean rg_project_set_track_muted (RgProject *project, int64_t track_id, gboolean muted,
                                     GError **error);
gboolean rg_project_set_track_locked (RgProject *project, int64_t track_id, gboolean locked,
                                      GError **error);

/* Returns the new clip id, 0 on error. */
int64_t rg_project_add_clip (RgProject *project, int64_t asset_id, int64_t track_id, RgTime start,
                             RgTime src_in, RgTime src_out, GError **error);
gboolean rg_project_move_clip (RgProject *project, int64_t clip_id, int64_t track_id, RgTime start,
                               GError **error);
/* Sets the clip's source in-point (edge START) or out-point (edge END) to
 * src_time. Non-ripple: the other edge stays where it is on the timeline.
 * Ripple: the clip's start stays and every later clip on its track moves
 * by the change in length. */
gboolean rg_project_trim_clip (RgProject *project, int64_t clip_id, RgEdge edge, RgTime src_time,
                               gboolean ripple, GError **error);
/* Cuts the clip at timeline time `at`; returns the id of the right part. */
int64_t rg_project_split_clip (RgProject *project, int64_t clip_id, RgTime at, GError **error);
/* ripple: later clips on the track close the gap. */
gboolean rg_project_delete_clip (RgProject *project, int64_t clip_id, gboolean ripple,
                                 GError **error);

gboolean rg_project_get_clip (RgProject *project, int64_t clip_id, RgClip *out, GError **error);
gboolean rg_project_get_track (RgProject *project, int64_t track_id, RgTrack *out, GError **error);
GPtrArray *rg_project_list_tracks (RgProject *project,
                                   GError **error); /* of RgTrack*, by position */
/* Clips by track position then start; track_id 0 = all tracks. */
GArray *rg_project_list_clips (RgProject *project, int64_t track_id,
                               GError **error); /* of RgClip */

/* A canonical text image of tracks and clips (ids included), for tests and
 * diagnostics: two equal dumps are two equal timelines. */
char *rg_project_dump_timeline (RgProject *project, GError **error);

/* Checks the timeline invariants (no overlap on a track, 0 <= in < out
 * within the asset, at least one frame long, every clip's asset and track
 * exist, track positions 0 … n-1); FALSE with a message naming the first
 * violation. */
gboolean rg_project_check_invariants (RgProject *project, GError **error);

/* ---- undo / redo (rg-history.c) ---- */

/* Reverts (re-applies) the last undone (undoable) request as one step.
 * RG_ERROR_NOT_FOUND "nothing to undo/redo" when the log is exhausted. */
gboolean rg_project_undo (RgProject *project, GError **error);
gboolean rg_project_redo (RgProject *project, GError **error);
/* The label of the step undo/redo would act on, NULL when there is none. */
char *rg_project_undo_label (RgProject *project);
char *rg_project_redo_label (RgProject *project);

/* ---- export (rg-project-export.c) ---- */

typedef struct
{
  int width, height; /* canvas; 0 = the largest picture on the video tracks */
  int sample_rate;   /* 0 = 48000 when there is sound */
  int speed;         /* an RgEncodeSpeed (media/rg-video-writer.h); 0 = balanced */
  int quality;       /* codec constant quality; 0 = visually lossless default */
  int threads;       /* 0 = automatic */
} RgProjectExportOptions;

/* fraction done in [0, 1], estimated seconds left (< 0 while unknown). */
typedef void (*RgProjectExportProgress) (double fraction, double eta_seconds, gpointer user_data);

/* Renders the timeline to path (container by extension: .mp4, .webm, .mkv)
 * through engine/media: video tracks give the picture (top track wins,
 * black where empty) and their clips' own sound; audio tracks are mixed in;
 * a muted track gives neither picture nor sound.
 * Every source is located first (RG_ERROR_NOT_FOUND names a missing one).
 * Cancelled or failed exports leave no file. options may be NULL. */
gboolean rg_project_export (RgProject *project, const char *path,
                            const RgProjectExportOptions *options, RgProjectExportProgress progress,
                            gpointer user_data, GCancellable *cancellable, GError **error);

G_END_DECLS
