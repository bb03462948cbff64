/* Seeded random edit sequences checked against a model of the history:
 * after every step the invariants hold, a refused request leaves the exact
 * same timeline, undo and redo walk through exactly the states seen, and
 * all of it still holds after closing and reopening halfway. */
#include "core/rg-error.h"
#include "project-test-util.h"

#define STEPS 400

typedef struct
{
  char *dir;
  char *path;
  RgProject *p;
  GRand *rand;
  int64_t assets[3];
  GPtrArray *states; /* dumps: states[0] initial, states[cur] now */
  guint cur;
  guint refused, applied, undos, redos;
} Run;

static int64_t
pick_clip (Run *r)
{
  g_autoptr (GArray) clips = rg_project_list_clips (r->p, 0, NULL);
  if (!clips || clips->len == 0)
    return g_rand_int_range (r->rand, 1, 5); /* probably not a clip: refused */
  return g_array_index (clips, RgClip, g_rand_int_range (r->rand, 0, clips->len)).id;
}

static int64_t
pick_track (Run *r)
{
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (r->p, NULL);
  if (!tracks || tracks->len == 0)
    return 1;
  return ((RgTrack *)tracks->pdata[g_rand_int_range (r->rand, 0, tracks->len)])->id;
}

/* A time in frames (mostly) or in raw ticks, within ~20 s. */
static RgTime
pick_time (Run *r, int max_frames)
{
  if (g_rand_int_range (r->rand, 0, 8) == 0)
    return g_rand_int_range (r->rand, 0, max_frames * 3750);
  return rg_time_from_frame (g_rand_int_range (r->rand, 0, max_frames), FPS);
}

/* One random request; TRUE when it was applied. */
static gboolean
random_request (Run *r, GError **error)
{
  int64_t clip = pick_clip (r), track = pick_track (r);
  gboolean ripple = g_rand_boolean (r->rand);
  switch (g_rand_int_range (r->rand, 0, 11))
    {
    case 0:
    case 1:
    case 2:
      {
        RgTime in = pick_time (r, 100);
        return rg_project_add_clip (r->p, r->assets[g_rand_int_range (r->rand, 0, 3)], track,
                                    pick_time (r, 480), in, in + pick_time (r, 72) + 1, error)
               != 0;
      }
    case 3:
      return rg_project_move_clip (r->p, clip, track, pick_time (r, 480), error);
    case 4:
      return rg_project_trim_clip (r->p, clip,
                                   g_rand_boolean (r->rand) ? RG_EDGE_START : RG_EDGE_END,
                                   pick_time (r, 200), ripple, error);
    case 5:
      return rg_project_split_clip (r->p, clip, pick_time (r, 480), error) != 0;
    case 6:
    case 7:
      return rg_project_delete_clip (r->p, clip, ripple, error);
    case 8:
      if (g_rand_int_range (r->rand, 0, 4) == 0)
        return rg_project_add_track (r->p,
                                     g_rand_boolean (r->rand) ? RG_TRACK_VIDEO : RG_TRACK_AUDIO,
                                     "T", g_rand_int_range (r->rand, -1, 4), error)
               != 0;
      return rg_project_move_track (r->p, track, g_rand_int_range (r->rand, 0, 4), error);
    case 9:
      if (g_rand_int_range (r->rand, 0, 6) == 0)
        return rg_project_remove_track (r->p, track, error);
      return rg_project_set_track_muted (r->p, track, g_rand_boolean (r->rand), error);
    default:
      return rg_project_set_track_locked (r->p, track, g_rand_int_range (r->rand, 0, 3) == 0,
                                          error);
    }
}

static void
assert_state (Run *r, guint index)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *now = rg_test_dump (r->p);
  g_assert_cmpstr (now, ==, r->states->pdata[index]);
  if (!rg_project_check_invariants (r->p, &error))
    g_error ("invariant broken: %s\n%s", error->message, now);
}

static void
step (Run *r)
{
  g_autoptr (GError) error = NULL;
  int dice = g_rand_int_range (r->rand, 0, 10);
  if (dice == 0 && r->cur > 0)
    {
      g_assert_true (rg_project_undo (r->p, &error));
      r->cur--;
      r->undos++;
    }
  else if (dice == 1 && r->cur + 1 < r->states->len)
    {
      g_assert_true (rg_project_redo (r->p, &error));
      r->cur++;
      r->redos++;
    }
  else if (random_request (r, &error))
    {
      g_assert_no_error (error);
      g_autofree char *now = rg_test_dump (r->p);
      if (g_strcmp0 (now, r->states->pdata[r->cur]) != 0) /* a no-op is no step */
        {
          g_ptr_array_set_size (r->states, r->cur + 1); /* the redo branch ends */
          g_ptr_array_add (r->states, g_steal_pointer (&now));
          r->cur++;
        }
      r->applied++;
    }
  else
    {
      /* Refused: it must say why, and must have changed nothing. */
      g_assert_nonnull (error);
      g_assert_true (error->code == RG_ERROR_INVALID_ARGUMENT || error->code == RG_ERROR_NOT_FOUND);
      r->refused++;
    }
  assert_state (r, r->cur);
}

static void
run_sequence (guint32 seed)
{
  Run r = { 0 };
  g_autoptr (GError) error = NULL;
  r.dir = rg_test_tmpdir ();
  r.p = rg_test_project (r.dir, "random.reelgen");
  r.path = g_strdup (rg_project_path (r.p));
  r.rand = g_rand_new_with_seed (seed);
  r.assets[0] = rg_test_asset (r.p, RG_ASSET_VIDEO, SEC (8));
  r.assets[1] = rg_test_asset (r.p, RG_ASSET_AUDIO, SEC (6));
  r.assets[2] = rg_test_asset (r.p, RG_ASSET_IMAGE, 0);
  r.states = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (r.states, rg_test_dump (r.p));
  g_assert_cmpint (rg_project_add_track (r.p, RG_TRACK_VIDEO, "V2", 0, &error), >, 0);
  g_ptr_array_add (r.states, rg_test_dump (r.p));
  r.cur = 1;

  for (int i = 0; i < STEPS; i++)
    {
      step (&r);
      if (i == STEPS / 2)
        {
          /* Close and reopen halfway: state and history come back. */
          rg_project_close (r.p);
          r.p = rg_project_open (r.path, &error);
          g_assert_no_error (error);
          assert_state (&r, r.cur);
        }
    }
  g_test_message ("seed %u: %u applied, %u refused, %u undos, %u redos, %u states", seed, r.applied,
                  r.refused, r.undos, r.redos, r.states->len);
  g_assert_cmpuint (r.applied, >, STEPS / 4);
  g_assert_cmpuint (r.refused, >, 0);

  /* Undo all the way back, through every state seen, then redo to the end. */
  while (r.cur > 0)
    {
      g_assert_true (rg_project_undo (r.p, &error));
      assert_state (&r, --r.cur);
    }
  g_assert_false (rg_project_undo (r.p, &error));
  g_clear_error (&error);
  rg_project_close (r.p);
  r.p = rg_project_open (r.path, &error);
  g_assert_no_error (error);
  while (r.cur + 1 < r.states->len)
    {
      g_assert_true (rg_project_redo (r.p, &error));
      assert_state (&r, ++r.cur);
    }
  g_assert_false (rg_project_redo (r.p, &error));

  rg_project_close (r.p);
  g_ptr_array_unref (r.states);
  g_rand_free (r.rand);
  rg_test_rmdir (r.dir);
  g_free (r.dir);
  g_free (r.path);
}

static void
test_sequences (void)
{
  for (guint32 seed = 1; seed <= 3; seed++)
    run_sequence (seed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/random/sequences", test_sequences);
  return g_test_run ();
}
