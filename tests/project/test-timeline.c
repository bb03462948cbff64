/* Every timeline request: check the result, undo, check, redo, check
 * (Kdenlive's pattern); refusals change nothing; history survives reopen. */
#include <glib/gstdio.h>

#include "core/rg-error.h"
#include "project-test-util.h"

typedef struct
{
  char *dir;
  RgProject *p;
  int64_t video;  /* a 10 s video asset (with sound) */
  int64_t sound;  /* a 4 s audio-only asset */
  int64_t still;  /* an image */
  int64_t v1, a1; /* the default tracks */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = rg_test_tmpdir ();
  f->p = rg_test_project (f->dir, "edit.reelgen");
  f->video = rg_test_asset (f->p, RG_ASSET_VIDEO, SEC (10));
  f->sound = rg_test_asset (f->p, RG_ASSET_AUDIO, SEC (4));
  f->still = rg_test_asset (f->p, RG_ASSET_IMAGE, 0);
  f->v1 = rg_test_track_id (f->p, 0);
  f->a1 = rg_test_track_id (f->p, 1);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  rg_project_close (f->p);
  rg_test_rmdir (f->dir);
  g_free (f->dir);
}

/* The request just made turned `before` into the current state: undo must
 * give `before` back exactly, redo the current state again. */
static void
assert_undo_redo (RgProject *p, const char *before)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *after = rg_test_dump (p);
  g_assert_cmpstr (after, !=, before);
  g_assert_true (rg_project_check_invariants (p, &error));
  g_assert_true (rg_project_undo (p, &error));
  g_assert_no_error (error);
  g_autofree char *undone = rg_test_dump (p);
  g_assert_cmpstr (undone, ==, before);
  g_assert_true (rg_project_redo (p, &error));
  g_assert_no_error (error);
  g_autofree char *redone = rg_test_dump (p);
  g_assert_cmpstr (redone, ==, after);
  g_assert_true (rg_project_check_invariants (p, &error));
  g_assert_no_error (error);
}

static int64_t
add (Fixture *f, int64_t asset, int64_t track, double at, double in, double out)
{
  g_autoptr (GError) error = NULL;
  int64_t id = rg_project_add_clip (f->p, asset, track, SEC (at), SEC (in), SEC (out), &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static RgClip
clip (Fixture *f, int64_t id)
{
  g_autoptr (GError) error = NULL;
  RgClip c;
  g_assert_true (rg_project_get_clip (f->p, id, &c, &error));
  g_assert_no_error (error);
  return c;
}

static void
test_add (Fixture *f, gconstpointer data)
{
  g_autofree char *before = rg_test_dump (f->p);
  int64_t id = add (f, f->video, f->v1, 1, 2, 5);
  RgClip c = clip (f, id);
  g_assert_cmpint (c.start, ==, SEC (1));
  g_assert_cmpint (c.src_in, ==, SEC (2));
  g_assert_cmpint (c.src_out, ==, SEC (5));
  g_assert_cmpint (c.track_id, ==, f->v1);
  assert_undo_redo (f->p, before);
  /* A still image may last any time; a sound goes on an audio track. */
  g_autofree char *before2 = rg_test_dump (f->p);
  /* Exactly one frame (1/24 s = 3750 ticks) is the shortest clip. */
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (rg_project_add_clip (f->p, f->video, f->v1, SEC (8), 0, 3750, &error), >, 0);
  g_assert_true (rg_project_undo (f->p, NULL));
  add (f, f->still, f->v1, 10, 0, 30);
  add (f, f->sound, f->a1, 0, 0, 4);
  add (f, f->video, f->a1, 4, 0, 1); /* a video's sound */
  g_assert_true (rg_project_undo (f->p, NULL) && rg_project_undo (f->p, NULL));
  assert_undo_redo (f->p, before2);
}

static void
test_move (Fixture *f, gconstpointer data)
{
  int64_t a = add (f, f->video, f->v1, 0, 0, 2);
  int64_t v2 = rg_project_add_track (f->p, RG_TRACK_VIDEO, "V2", -1, NULL);
  g_assert_cmpint (v2, >, 0);
  g_autofree char *before = rg_test_dump (f->p);
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_project_move_clip (f->p, a, f->v1, SEC (3), &error));
  g_assert_cmpint (clip (f, a).start, ==, SEC (3));
  assert_undo_redo (f->p, before);

  g_autofree char *before2 = rg_test_dump (f->p);
  g_assert_true (rg_project_move_clip (f->p, a, v2, SEC (1.5), &error));
  g_assert_no_error (error);
  g_assert_cmpint (clip (f, a).track_id, ==, v2);
  g_assert_cmpint (clip (f, a).start, ==, SEC (1.5));
  assert_undo_redo (f->p, before2);
}

static void
test_trim (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int64_t a = add (f, f->video, f->v1, 1, 2, 4); /* 1 … 3 */
  int64_t b = add (f, f->video, f->v1, 5, 0, 1); /* 5 … 6 */

  /* Non-ripple start trim: the right edge stays at 3 s. */
  g_autofree char *s0 = rg_test_dump (f->p);
  g_assert_true (rg_project_trim_clip (f->p, a, RG_EDGE_START, SEC (2.5), FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (clip (f, a).start, ==, SEC (1.5));
  g_assert_cmpint (clip (f, b).start, ==, SEC (5));
  assert_undo_redo (f->p, s0);

  /* Non-ripple end trim, longer: the next clip does not move. */
  g_autofree char *s1 = rg_test_dump (f->p);
  g_assert_true (rg_project_trim_clip (f->p, a, RG_EDGE_END, SEC (5), FALSE, &error));
  g_assert_cmpint (clip (f, a).src_out, ==, SEC (5));
  g_assert_cmpint (clip (f, b).start, ==, SEC (5));
  assert_undo_redo (f->p, s1);

  /* Ripple end trim: 1 s shorter, and b follows 1 s earlier. */
  g_autofree char *s2 = rg_test_dump (f->p);
  g_assert_true (rg_project_trim_clip (f->p, a, RG_EDGE_END, SEC (4), TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (clip (f, b).start, ==, SEC (4));
  assert_undo_redo (f->p, s2);

  /* Ripple start trim, longer at the head: a keeps its start, b moves on. */
  g_autofree char *s3 = rg_test_dump (f->p);
  g_assert_true (rg_project_trim_clip (f->p, a, RG_EDGE_START, SEC (1), TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (clip (f, a).start, ==, SEC (1.5));
  g_assert_cmpint (clip (f, a).src_in, ==, SEC (1));
  g_assert_cmpint (clip (f, b).start, ==, SEC (5.5));
  assert_undo_redo (f->p, s3);
}

static void
test_split (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int64_t a = add (f, f->video, f->v1, 1, 2, 6); /* 1 … 5 */
  g_autofree char *before = rg_test_dump (f->p);
  int64_t b = rg_project_split_clip (f->p, a, SEC (2.5), &error);
  g_assert_no_error (error);
  g_assert_cmpint (b, >, a);
  RgClip l = clip (f, a), r = clip (f, b);
  g_assert_cmpint (l.src_out, ==, SEC (3.5));
  g_assert_cmpint (r.start, ==, SEC (2.5));
  g_assert_cmpint (r.src_in, ==, SEC (3.5));
  g_assert_cmpint (r.src_out, ==, SEC (6));
  assert_undo_redo (f->p, before);

  /* Outside the clip, or leaving a part shorter than a frame: refused. */
  g_assert_cmpint (rg_project_split_clip (f->p, a, SEC (1), &error), ==, 0);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (rg_project_split_clip (f->p, b, SEC (2.5) + 100, &error), ==, 0);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "less than one frame"));
}

static void
test_delete (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int64_t a = add (f, f->video, f->v1, 0, 0, 1);
  int64_t b = add (f, f->video, f->v1, 2, 0, 2); /* 2 … 4 */
  int64_t c = add (f, f->video, f->v1, 5, 0, 1);
  int64_t d = add (f, f->video, f->v1, 7, 0, 1);
  g_autofree char *s0 = rg_test_dump (f->p);
  g_assert_true (rg_project_delete_clip (f->p, a, FALSE, &error));
  g_assert_false (rg_project_get_clip (f->p, a, &(RgClip){ 0 }, NULL));
  assert_undo_redo (f->p, s0);

  /* Ripple delete: everything after closes the 2 s gap, as one undo step. */
  g_autofree char *s1 = rg_test_dump (f->p);
  g_assert_true (rg_project_delete_clip (f->p, b, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (clip (f, c).start, ==, SEC (3));
  g_assert_cmpint (clip (f, d).start, ==, SEC (5));
  g_autofree char *label = rg_project_undo_label (f->p);
  g_assert_cmpstr (label, ==, "Ripple delete clip");
  assert_undo_redo (f->p, s1);
}

static void
test_tracks (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int64_t a = add (f, f->video, f->v1, 0, 0, 1);
  g_autofree char *s0 = rg_test_dump (f->p);
  int64_t v2 = rg_project_add_track (f->p, RG_TRACK_VIDEO, "V2", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rg_test_track_id (f->p, 0), ==, v2);
  g_assert_cmpint (rg_test_track_id (f->p, 1), ==, f->v1);
  assert_undo_redo (f->p, s0);

  g_autofree char *s1 = rg_test_dump (f->p);
  g_assert_true (rg_project_move_track (f->p, v2, 2, &error));
  g_assert_cmpint (rg_test_track_id (f->p, 2), ==, v2);
  g_assert_cmpint (rg_test_track_id (f->p, 0), ==, f->v1);
  assert_undo_redo (f->p, s1);

  g_autofree char *s2 = rg_test_dump (f->p);
  g_assert_true (rg_project_set_track_muted (f->p, f->a1, TRUE, &error));
  assert_undo_redo (f->p, s2);

  /* Removing a track takes its clips with it; undo brings both back. */
  g_autofree char *s3 = rg_test_dump (f->p);
  g_assert_true (rg_project_remove_track (f->p, f->v1, &error));
  g_assert_no_error (error);
  g_assert_false (rg_project_get_clip (f->p, a, &(RgClip){ 0 }, NULL));
  g_assert_cmpint (rg_test_track_id (f->p, 0), ==, f->a1);
  assert_undo_redo (f->p, s3);
}

static void
test_locked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int64_t a = add (f, f->video, f->v1, 0, 0, 1);
  g_autofree char *s0 = rg_test_dump (f->p);
  g_assert_true (rg_project_set_track_locked (f->p, f->v1, TRUE, &error));
  assert_undo_redo (f->p, s0);
  g_autofree char *locked = rg_test_dump (f->p);

  g_assert_false (rg_project_move_clip (f->p, a, f->v1, SEC (3), &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "is locked"));
  g_clear_error (&error);
  g_assert_cmpint (rg_project_add_clip (f->p, f->video, f->v1, SEC (5), 0, SEC (1), &error), ==, 0);
  g_clear_error (&error);
  g_assert_false (rg_project_delete_clip (f->p, a, TRUE, &error));
  g_clear_error (&error);
  g_assert_false (rg_project_remove_track (f->p, f->v1, &error));
  g_clear_error (&error);
  g_autofree char *after = rg_test_dump (f->p);
  g_assert_cmpstr (after, ==, locked);
}

/* Each refusal names the problem and leaves the project as it was, redo
 * branch included. */
static void
test_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int64_t a = add (f, f->video, f->v1, 1, 0, 2); /* 1 … 3 */
  int64_t b = add (f, f->video, f->v1, 4, 0, 1);
  g_assert_true (rg_project_undo (f->p, NULL)); /* b is on the redo branch */
  g_autofree char *s0 = rg_test_dump (f->p);

  int64_t c = rg_project_add_clip (f->p, f->video, f->v1, SEC (2), 0, SEC (2), &error);
  g_assert_cmpint (c, ==, 0);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_autofree char *want = g_strdup_printf ("would overlap clip %" G_GINT64_FORMAT
                                           " on track %" G_GINT64_FORMAT " at 00:00:02.000",
                                           a, f->v1);
  g_assert_nonnull (strstr (error->message, want));
  g_clear_error (&error);

  /* Past the end of the 10 s source. */
  g_assert_cmpint (rg_project_add_clip (f->p, f->video, f->v1, SEC (5), SEC (9), SEC (11), &error),
                   ==, 0);
  g_assert_nonnull (strstr (error->message, "past the end of asset"));
  g_clear_error (&error);
  /* Shorter than a frame (1/24 s = 3750 ticks). */
  g_assert_cmpint (rg_project_add_clip (f->p, f->video, f->v1, SEC (5), 0, 3749, &error), ==, 0);
  g_assert_nonnull (strstr (error->message, "less than one frame"));
  g_clear_error (&error);
  /* Sound on a video track, a still on an audio track. */
  g_assert_cmpint (rg_project_add_clip (f->p, f->sound, f->v1, SEC (5), 0, SEC (1), &error), ==, 0);
  g_assert_nonnull (strstr (error->message, "has no picture"));
  g_clear_error (&error);
  g_assert_cmpint (rg_project_add_clip (f->p, f->still, f->a1, SEC (5), 0, SEC (1), &error), ==, 0);
  g_assert_nonnull (strstr (error->message, "has no sound"));
  g_clear_error (&error);
  /* Before time 0, unknown ids. */
  g_assert_false (rg_project_move_clip (f->p, a, f->v1, -1, &error));
  g_clear_error (&error);
  g_assert_false (rg_project_move_clip (f->p, 999, f->v1, 0, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (rg_project_move_clip (f->p, a, 999, 0, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (rg_project_add_clip (f->p, 999, f->v1, SEC (5), 0, SEC (1), &error), ==, 0);
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* A ripple trim that would push into nothing is fine; one whose ripple
   * would pull the next clip over this one cannot happen, but a non-ripple
   * extension onto the next clip is refused. */
  g_assert_true (rg_project_redo (f->p, &error)); /* b back: refusals kept the redo branch */
  g_assert_false (rg_project_trim_clip (f->p, a, RG_EDGE_END, SEC (4), FALSE, &error));
  g_assert_nonnull (strstr (error->message, "would overlap"));
  g_clear_error (&error);
  g_assert_true (rg_project_trim_clip (f->p, a, RG_EDGE_END, SEC (4), TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (clip (f, b).start, ==, SEC (6));
  g_assert_true (rg_project_undo (f->p, NULL) && rg_project_undo (f->p, NULL));
  g_autofree char *s1 = rg_test_dump (f->p);
  g_assert_cmpstr (s1, ==, s0);
}

static void
test_redo_branch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  add (f, f->video, f->v1, 0, 0, 1);
  add (f, f->video, f->v1, 2, 0, 1);
  g_assert_true (rg_project_undo (f->p, &error));
  g_autofree char *label = rg_project_redo_label (f->p);
  g_assert_cmpstr (label, ==, "Add clip");
  /* A new edit after undo ends the redo branch. */
  add (f, f->video, f->v1, 4, 0, 1);
  g_assert_null (rg_project_redo_label (f->p));
  g_assert_false (rg_project_redo (f->p, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (rg_project_undo (f->p, NULL) && rg_project_undo (f->p, NULL));
  g_assert_false (rg_project_undo (f->p, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  /* A request that changes nothing is no undo step. */
  g_clear_error (&error);
  g_assert_true (rg_project_set_track_muted (f->p, f->v1, FALSE, &error));
  g_assert_null (rg_project_undo_label (f->p));
}

static void
test_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *empty = rg_test_dump (f->p);
  int64_t a = add (f, f->video, f->v1, 0, 0, 3);
  int64_t b = rg_project_split_clip (f->p, a, SEC (1), &error);
  g_assert_cmpint (b, >, 0);
  g_assert_true (rg_project_delete_clip (f->p, a, TRUE, &error));
  g_autofree char *final = rg_test_dump (f->p);
  g_assert_true (rg_project_undo (f->p, &error));
  g_autofree char *mid = rg_test_dump (f->p);
  g_autofree char *path = g_strdup (rg_project_path (f->p));
  rg_project_close (f->p);

  f->p = rg_project_open (path, &error);
  g_assert_no_error (error);
  g_assert_false (rg_project_was_recovered (f->p));
  g_autofree char *reopened = rg_test_dump (f->p);
  g_assert_cmpstr (reopened, ==, mid);
  g_assert_true (rg_project_redo (f->p, &error));
  g_autofree char *redone = rg_test_dump (f->p);
  g_assert_cmpstr (redone, ==, final);
  while (rg_project_undo (f->p, NULL))
    ;
  g_autofree char *undone = rg_test_dump (f->p);
  g_assert_cmpstr (undone, ==, empty);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn)                                                                              \
  g_test_add ("/timeline/" name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("add", test_add);
  ADD ("move", test_move);
  ADD ("trim", test_trim);
  ADD ("split", test_split);
  ADD ("delete", test_delete);
  ADD ("tracks", test_tracks);
  ADD ("locked", test_locked);
  ADD ("refusals", test_refusals);
  ADD ("redo-branch", test_redo_branch);
  ADD ("reopen", test_reopen);
  return g_test_run ();
}
