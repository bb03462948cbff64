/* bench-timeline — edit latency on a 2,000-clip project, commit included.
 *
 * Each edit kind runs many times on a project of 4 tracks × 500 clips; we
 * print the median and 95th percentile of the whole request (validation,
 * history log, COMMIT with the store's fsync policy). The peer is the naive
 * way to get the same durability and undo: one transaction that rewrites the
 * edited track's rows and stores a snapshot of the track for undo. The
 * ratio is baseline median ÷ ours (> 1 = we are faster). */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>

#include "project/rg-project.h"

#define TRACKS 4
#define PER_TRACK 500
#define REPS 200
#define SEC(s) ((RgTime)((s)*RG_TIME_HZ))

typedef struct
{
  int64_t v[5]; /* id, asset, start, in, out */
} Row;

typedef struct
{
  const char *name;
  double samples[REPS];
  int n;
} Series;

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double
quantile (Series *s, double q)
{
  qsort (s->samples, s->n, sizeof (double), cmp_double);
  int i = (int)(q * (s->n - 1) + 0.5);
  return s->samples[i];
}

static void
check (gboolean ok, GError *error)
{
  if (!ok)
    g_error ("bench-timeline: %s", error ? error->message : "failed");
}

/* Start of clip k on a track: 1 s clips with 1 s gaps. */
static RgTime
slot (int k)
{
  return SEC (2 * k);
}

#define TIMED(series, expr)                                                                        \
  do                                                                                               \
    {                                                                                              \
      GError *error_ = NULL;                                                                       \
      gint64 t0_ = g_get_monotonic_time ();                                                        \
      gboolean ok_ = (expr);                                                                       \
      (series)->samples[(series)->n++] = (g_get_monotonic_time () - t0_) / 1000.0;                 \
      check (ok_, error_);                                                                         \
    }                                                                                              \
  while (0)
#define E (&error_)

/* The naive peer: rewrite every clip of the track in one transaction, after
 * saving the whole track as the undo snapshot. */
static gboolean
naive_rewrite_track (sqlite3 *db, int64_t track, int64_t moved_clip, RgTime new_start)
{
  sqlite3_stmt *sel = NULL, *del = NULL, *ins = NULL, *snap = NULL;
  gboolean ok = sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
  ok = ok
       && sqlite3_prepare_v2 (db,
                              "INSERT INTO bench_undo (track, rows) SELECT ?1, json_group_array"
                              " (json_array (id, asset_id, start, src_in, src_out)) FROM clips"
                              " WHERE track_id = ?1",
                              -1, &snap, NULL)
              == SQLITE_OK;
  if (ok)
    {
      sqlite3_bind_int64 (snap, 1, track);
      ok = sqlite3_step (snap) == SQLITE_DONE;
    }
  ok = ok
       && sqlite3_prepare_v2 (db,
                              "SELECT id, asset_id, start, src_in, src_out FROM clips"
                              " WHERE track_id = ? ORDER BY start",
                              -1, &sel, NULL)
              == SQLITE_OK;
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (Row));
  if (ok)
    {
      sqlite3_bind_int64 (sel, 1, track);
      while (sqlite3_step (sel) == SQLITE_ROW)
        {
          Row r;
          for (int i = 0; i < 5; i++)
            r.v[i] = sqlite3_column_int64 (sel, i);
          if (r.v[0] == moved_clip)
            r.v[2] = new_start;
          g_array_append_val (rows, r);
        }
    }
  ok = ok
       && sqlite3_prepare_v2 (db, "DELETE FROM clips WHERE track_id = ?", -1, &del, NULL)
              == SQLITE_OK;
  if (ok)
    {
      sqlite3_bind_int64 (del, 1, track);
      ok = sqlite3_step (del) == SQLITE_DONE;
    }
  ok = ok
       && sqlite3_prepare_v2 (db,
                              "INSERT INTO clips (id, track_id, asset_id, start, src_in, src_out)"
                              " VALUES (?, ?, ?, ?, ?, ?)",
                              -1, &ins, NULL)
              == SQLITE_OK;
  for (guint i = 0; ok && i < rows->len; i++)
    {
      int64_t *r = g_array_index (rows, Row, i).v;
      sqlite3_reset (ins);
      sqlite3_bind_int64 (ins, 1, r[0]);
      sqlite3_bind_int64 (ins, 2, track);
      for (int k = 1; k < 5; k++)
        sqlite3_bind_int64 (ins, 2 + k, r[k]);
      ok = sqlite3_step (ins) == SQLITE_DONE;
    }
  g_array_unref (rows);
  sqlite3_finalize (sel);
  sqlite3_finalize (del);
  sqlite3_finalize (ins);
  sqlite3_finalize (snap);
  ok = ok && sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
  if (!ok)
    {
      g_printerr ("baseline: %s\n", sqlite3_errmsg (db));
      sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
    }
  return ok;
}

static void
report (Series *s, double baseline_median)
{
  double med = quantile (s, 0.5), p95 = quantile (s, 0.95);
  if (baseline_median > 0)
    printf ("%-22s %5d %9.3f %9.3f %12.3f %8.1fx\n", s->name, s->n, med, p95, baseline_median,
            baseline_median / med);
  else
    printf ("%-22s %5d %9.3f %9.3f %12s %9s\n", s->name, s->n, med, p95, "", "");
}

typedef struct
{
  Series ours[9]; /* add, move, trim, ripple trim, split, delete, ripple delete, undo, redo */
  Series baseline;
} Suite;

static void
run_edits (RgProject *p, sqlite3 *db, int64_t asset, const int64_t *tracks,
           int64_t clip_id[][PER_TRACK], int run, Suite *s)
{
  Series *add = &s->ours[0], *move = &s->ours[1], *trim = &s->ours[2], *rtrim = &s->ours[3],
         *split = &s->ours[4], *del = &s->ours[5], *rdel = &s->ours[6], *undo = &s->ours[7],
         *redo = &s->ours[8];
  GError *error = NULL;
  for (int i = 0; i < REPS; i++)
    {
      /* Moves and trims toggle inside a clip's 1 s gap, so each is a real
       * change. Trims use even clips: the first run splits odd ones. */
      int k = (i * 7) % PER_TRACK, even = (i * 14) % PER_TRACK;
      RgClip m, t, r;
      check (rg_project_get_clip (p, clip_id[0][k], &m, &error)
                 && rg_project_get_clip (p, clip_id[1][even], &t, &error)
                 && rg_project_get_clip (p, clip_id[2][even], &r, &error),
             error);
      RgTime move_to = m.start == slot (k) ? slot (k) + SEC (0.25) : slot (k);
      RgTime trim_to = t.src_out == SEC (1) ? SEC (1.25) : SEC (1);
      RgTime rtrim_to = r.src_out == SEC (1) ? SEC (1.25) : SEC (1);
      TIMED (move, rg_project_move_clip (p, clip_id[0][k], tracks[0], move_to, E));
      TIMED (trim, rg_project_trim_clip (p, clip_id[1][even], RG_EDGE_END, trim_to, FALSE, E));
      TIMED (rtrim, rg_project_trim_clip (p, clip_id[2][even], RG_EDGE_END, rtrim_to, TRUE, E));
      TIMED (add, rg_project_add_clip (p, asset, tracks[3], slot (PER_TRACK + run * REPS + i), 0,
                                       SEC (1), E)
                      != 0);
    }
  /* Undo and redo the last REPS edits (a mix of the kinds above). */
  for (int i = 0; i < REPS; i++)
    TIMED (undo, rg_project_undo (p, E));
  for (int i = 0; i < REPS; i++)
    TIMED (redo, rg_project_redo (p, E));
  for (int i = 0; i < REPS; i++)
    {
      RgClip c;
      int k = 1 - run + i * 2;
      check (rg_project_get_clip (p, clip_id[1][k], &c, &error), error);
      TIMED (split, rg_project_split_clip (p, clip_id[1][k], c.start + SEC (0.5), E) != 0);
      TIMED (del, rg_project_delete_clip (p, clip_id[3][k], FALSE, E));
      TIMED (rdel, rg_project_delete_clip (p, clip_id[2][k], TRUE, E));
    }
  for (int i = 0; i < REPS; i++)
    {
      RgClip c;
      int k = (i * 7) % PER_TRACK;
      check (rg_project_get_clip (p, clip_id[0][k], &c, &error), error);
      RgTime to = c.start == slot (k) ? slot (k) + SEC (0.25) : slot (k);
      gint64 b0 = g_get_monotonic_time ();
      gboolean ok = naive_rewrite_track (db, tracks[0], clip_id[0][k], to);
      s->baseline.samples[s->baseline.n++] = (g_get_monotonic_time () - b0) / 1000.0;
      check (ok, NULL);
    }
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bench-timeline-XXXXXX", &error);
  check (dir != NULL, error);
  g_autofree char *path = g_build_filename (dir, "bench.reelgen", NULL);
  g_autofree char *media = g_build_filename (dir, "media.bin", NULL);
  RgProject *p = rg_project_create (path, (RgRational){ 24, 1 }, &error);
  check (p != NULL, error);
  g_file_set_contents (media, "bench media", -1, NULL);
  RgAssetInfo info = { RG_ASSET_VIDEO, SEC (3600), { 24, 1 }, 64, 48, 48000, 2, TRUE, TRUE };
  RgProvenance prov = { "t2v", "bench", 1, "00", "{}" };
  int64_t asset = rg_project_add_generated (p, media, &info, &prov, &error);
  check (asset != 0, error);

  int64_t tracks[TRACKS];
  tracks[0] = 1;
  for (int t = 1; t < TRACKS; t++)
    {
      tracks[t] = rg_project_add_track (p, RG_TRACK_VIDEO, "V", -1, &error);
      check (tracks[t] != 0, error);
    }
  /* Track 2 (the default audio track) is left empty; clips go on video ones. */
  int64_t clip_id[TRACKS][PER_TRACK];
  gint64 t0 = g_get_monotonic_time ();
  for (int k = 0; k < PER_TRACK; k++)
    for (int t = 0; t < TRACKS; t++)
      {
        clip_id[t][k] = rg_project_add_clip (p, asset, tracks[t], slot (k), 0, SEC (1), &error);
        check (clip_id[t][k] != 0, error);
      }
  double build_s = (g_get_monotonic_time () - t0) / 1e6;

  printf ("bench-timeline: %d clips on %d tracks (built in %.2f s), WAL, %d repetitions per"
          " edit\n",
          TRACKS * PER_TRACK, TRACKS, build_s, REPS);

  /* The baseline, on the same file through its own connection. */
  sqlite3 *db = NULL;
  check (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK, NULL);
  sqlite3_exec (db, "PRAGMA foreign_keys = ON; CREATE TABLE bench_undo (track INTEGER, rows TEXT);",
                NULL, NULL, NULL);

  /* Odd clips are used up (split, deleted) by the first run, even ones by
   * the second. */
  for (int run = 0; run < 2; run++)
    {
      gboolean full = run == 1;
      check (rg_project_set_full_sync (p, full, &error), error);
      sqlite3_exec (db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", NULL,
                    NULL, NULL);
      Suite s = { { { "add clip" },
                    { "move clip" },
                    { "trim (end)" },
                    { "ripple trim (end)" },
                    { "split" },
                    { "delete" },
                    { "ripple delete" },
                    { "undo" },
                    { "redo" } },
                  { "baseline: rewrite track" } };
      run_edits (p, db, asset, tracks, clip_id, run, &s);
      printf ("\nsynchronous=%s\n", full ? "FULL (fsync per edit)" : "NORMAL (the default)");
      printf ("%-22s %5s %9s %9s %12s %9s\n", "edit (incl. commit)", "n", "median ms", "p95 ms",
              "baseline ms", "ratio");
      double base_med = quantile (&s.baseline, 0.5);
      for (guint i = 0; i < G_N_ELEMENTS (s.ours); i++)
        report (&s.ours[i], base_med);
      report (&s.baseline, 0);
    }
  check (rg_project_check_invariants (p, &error), error);
  sqlite3_close (db);
  printf ("\nratio = baseline median / ours; the naive peer moves one clip by rewriting its"
          " %d-clip track in one transaction and snapshotting the track for undo\n",
          PER_TRACK);

  rg_project_close (p);
  g_autofree char *assets = g_build_filename (dir, "bench.assets", NULL);
  g_autoptr (GDir) d = g_dir_open (assets, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name (d));)
    {
      g_autofree char *f = g_build_filename (assets, n, NULL);
      g_unlink (f);
    }
  g_rmdir (assets);
  g_unlink (path);
  g_unlink (media);
  g_rmdir (dir);
  return 0;
}
