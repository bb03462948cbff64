/* Importing real media made by ffmpeg's generators at test time: each file
 * imports with the right facts or is refused with a clear error that
 * changes nothing; a moved file is found again by its content. */
#include <glib/gstdio.h>

#include "core/rg-error.h"
#include "project-test-util.h"
#include "project/rg-project-previews.h"

static char *dir;

static char *
make_media (const char *name, const char *const *args)
{
  char *out = g_build_filename (dir, name, NULL);
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *)"ffmpeg");
  g_ptr_array_add (argv, (char *)"-nostdin");
  g_ptr_array_add (argv, (char *)"-loglevel");
  g_ptr_array_add (argv, (char *)"error");
  g_ptr_array_add (argv, (char *)"-y");
  for (; *args; args++)
    g_ptr_array_add (argv, (char *)*args);
  g_ptr_array_add (argv, out);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_ptr_array_unref (argv);
  return out;
}

static char *
state_of (RgProject *p)
{
  g_autoptr (GPtrArray) assets = rg_project_list_assets (p, NULL);
  g_autofree char *dump = rg_test_dump (p);
  g_autofree char *undo = rg_project_undo_label (p);
  return g_strdup_printf ("%u assets; undo=%s\n%s", assets->len, undo ? undo : "-", dump);
}

static void
test_import_kinds (void)
{
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_test_project (dir, "import.reelgen");
  const char *av[]
      = { "-f",        "lavfi",   "-i",   "testsrc2=size=96x64:rate=25:duration=2",
          "-f",        "lavfi",   "-i",   "sine=frequency=440:sample_rate=48000:duration=2",
          "-c:v",      "libx264", "-c:a", "aac",
          "-shortest", NULL };
  g_autofree char *mp4 = make_media ("av.mp4", av);
  const char *mono[]
      = { "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=8000:duration=1.5", NULL };
  g_autofree char *wav = make_media ("mono.wav", mono);
  const char *still[] = { "-f", "lavfi", "-i", "testsrc2=size=320x180", "-frames:v", "1", NULL };
  g_autofree char *png = make_media ("still.png", still);

  int64_t v = rg_project_import (p, mp4, &error);
  g_assert_no_error (error);
  RgAsset a = { 0 };
  g_assert_true (rg_project_get_asset (p, v, &a, &error));
  g_assert_cmpint (a.info.kind, ==, RG_ASSET_VIDEO);
  g_assert_true (a.info.has_video && a.info.has_audio);
  g_assert_cmpint (a.info.width, ==, 96);
  g_assert_cmpint (a.info.fps.num * 1, ==, 25 * a.info.fps.den);
  g_assert_cmpint (ABS (a.info.duration - SEC (2)), <=, SEC (0.05));
  g_assert_cmpuint (strlen (a.hash), ==, 64);
  g_assert_false (a.generated);
  rg_asset_clear (&a);

  int64_t s = rg_project_import (p, wav, &error);
  g_assert_no_error (error);
  g_assert_true (rg_project_get_asset (p, s, &a, &error));
  g_assert_cmpint (a.info.kind, ==, RG_ASSET_AUDIO);
  g_assert_cmpint (a.info.sample_rate, ==, 8000);
  g_assert_cmpint (a.info.channels, ==, 1);
  g_assert_cmpint (a.info.duration, ==, SEC (1.5));
  rg_asset_clear (&a);

  int64_t i = rg_project_import (p, png, &error);
  g_assert_no_error (error);
  g_assert_true (rg_project_get_asset (p, i, &a, &error));
  g_assert_cmpint (a.info.kind, ==, RG_ASSET_IMAGE);
  g_assert_cmpint (a.info.width, ==, 320);
  rg_asset_clear (&a);

  /* The same content again is the same asset. */
  g_assert_cmpint (rg_project_import (p, mp4, &error), ==, v);
  /* And it goes on the timeline within its real length. */
  g_assert_cmpint (rg_project_add_clip (p, v, rg_test_track_id (p, 0), 0, 0, SEC (1.96), &error), >,
                   0);
  g_assert_no_error (error);
  g_assert_cmpint (rg_project_add_clip (p, s, rg_test_track_id (p, 1), 0, 0, SEC (1.6), &error), ==,
                   0);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  rg_project_close (p);
}

static void
assert_refused (RgProject *p, const char *file, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = state_of (p);
  g_assert_cmpint (rg_project_import (p, file, &error), ==, 0);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, file));
  g_assert_nonnull (strstr (error->message, words));
  g_autofree char *after = state_of (p);
  g_assert_cmpstr (after, ==, before);
}

static void
test_refused (void)
{
  RgProject *p = rg_test_project (dir, "refuse.reelgen");
  const char *av[]
      = { "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=25:duration=2", "-c:v", "libx264", NULL };
  g_autofree char *mp4 = make_media ("whole.mp4", av);
  g_assert_cmpint (rg_project_import (p, mp4, NULL), >, 0);

  g_autofree char *text = g_build_filename (dir, "notes.mp4", NULL);
  g_file_set_contents (text, "shopping list: eggs, milk\n", -1, NULL);
  assert_refused (p, text, "");
  gchar *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (mp4, &bytes, &len, NULL));
  g_autofree char *cut = g_build_filename (dir, "cut.mp4", NULL);
  g_file_set_contents (cut, bytes, len / 3, NULL);
  g_free (bytes);
  assert_refused (p, cut, "");
  g_autofree char *missing = g_build_filename (dir, "nothing-here.mp4", NULL);
  assert_refused (p, missing, "");
  rg_project_close (p);
}

static void
test_moved (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sub = g_build_filename (dir, "moved", NULL);
  g_mkdir (sub, 0755);
  g_autofree char *elsewhere = g_dir_make_tmp ("rg-elsewhere-XXXXXX", NULL);
  RgProject *p = rg_test_project (sub, "moved.reelgen");
  const char *av[]
      = { "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=24:duration=1", "-c:v", "libx264", NULL };
  g_autofree char *orig = make_media ("to-move.mp4", av);
  int64_t id = rg_project_import (p, orig, &error);
  g_assert_no_error (error);

  /* Moved into the project folder: found by hash and remembered. */
  g_autofree char *in_project = g_build_filename (sub, "renamed.mp4", NULL);
  g_assert_cmpint (g_rename (orig, in_project), ==, 0);
  g_autofree char *found = rg_project_locate_asset (p, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, in_project);
  RgAsset a = { 0 };
  g_assert_true (rg_project_get_asset (p, id, &a, NULL));
  g_assert_cmpstr (a.path, ==, in_project);
  rg_asset_clear (&a);

  /* Moved away: reported missing, relinked only to the same content. */
  g_autofree char *away = g_build_filename (elsewhere, "far.mp4", NULL);
  g_assert_cmpint (g_rename (in_project, away), ==, 0);
  g_assert_null (rg_project_locate_asset (p, id, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "missing"));
  g_clear_error (&error);
  const char *other_args[]
      = { "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=24:duration=2", "-c:v", "libx264", NULL };
  g_autofree char *other = make_media ("other.mp4", other_args);
  g_assert_false (rg_project_relink_asset (p, id, other, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "different content"));
  g_clear_error (&error);
  g_assert_true (rg_project_relink_asset (p, id, away, &error));
  g_assert_no_error (error);
  g_autofree char *now = rg_project_locate_asset (p, id, &error);
  g_assert_cmpstr (now, ==, away);

  /* Lost again, then imported again from yet another place: same asset,
   * now found there. */
  g_autofree char *again = g_build_filename (elsewhere, "again.mp4", NULL);
  g_assert_cmpint (g_rename (away, again), ==, 0);
  g_assert_cmpint (rg_project_import (p, again, &error), ==, id);
  g_assert_no_error (error);
  g_autofree char *last = rg_project_locate_asset (p, id, &error);
  g_assert_cmpstr (last, ==, again);
  rg_project_close (p);
  rg_test_rmdir (elsewhere);
}

/* Peaks and thumbnails come from engine/media once, then from the project
 * database: with the source gone they are still served, identical. */
static void
test_previews (void)
{
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_test_project (dir, "previews.reelgen");
  const char *av[]
      = { "-f",        "lavfi",   "-i",   "testsrc2=size=96x64:rate=24:duration=2",
          "-f",        "lavfi",   "-i",   "sine=frequency=440:sample_rate=48000:duration=2",
          "-c:v",      "libx264", "-c:a", "aac",
          "-shortest", NULL };
  g_autofree char *mp4 = make_media ("previews.mp4", av);
  int64_t id = rg_project_import (p, mp4, &error);
  g_assert_no_error (error);

  g_autoptr (RgWaveform) w = rg_project_waveform (p, id, 0, SEC (1), 50, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w->buckets, ==, 50);
  g_assert_cmpfloat (w->max[20], >, 0.05); /* ffmpeg's sine peaks at 1/8 */
  g_assert_cmpfloat (w->min[20], <, -0.05);
  g_autoptr (RgThumbnailStrip) s = rg_project_thumbnails (p, id, 0, SEC (2), 4, 32, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->count, ==, 4);
  g_assert_cmpint (s->width, ==, 32);

  g_assert_cmpint (g_unlink (mp4), ==, 0);
  g_autoptr (RgWaveform) w2 = rg_project_waveform (p, id, 0, SEC (1), 50, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (w2->max, 50 * w2->channels * sizeof (float), w->max,
                   50 * w->channels * sizeof (float));
  g_autoptr (RgThumbnailStrip) s2 = rg_project_thumbnails (p, id, 0, SEC (2), 4, 32, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (s2->rgba, (gsize)4 * s2->width * s2->height * 4, s->rgba,
                   (gsize)4 * s->width * s->height * 4);
  /* Other parameters are not cached, and the source is gone: said so. */
  g_assert_null (rg_project_waveform (p, id, 0, SEC (1), 60, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  rg_project_close (p);
}

/* A generator's output: probed, copied into <name>.assets/<hash>.<ext>,
 * found there even after the generator's own file is gone. */
static void
test_generated (void)
{
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_test_project (dir, "gen.reelgen");
  const char *av[]
      = { "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=24:duration=1", "-c:v", "libx264", NULL };
  g_autofree char *out = make_media ("t2v-output.mp4", av);
  RgProvenance prov = { "t2v", "a blue square", 7, "ab", "{\"steps\": 8}" };
  int64_t id = rg_project_add_generated (p, out, NULL, &prov, &error);
  g_assert_no_error (error);
  RgAsset a = { 0 };
  g_assert_true (rg_project_get_asset (p, id, &a, &error));
  g_assert_true (a.generated);
  g_assert_cmpint (a.info.kind, ==, RG_ASSET_VIDEO);
  g_autofree char *name = g_strconcat (a.hash, ".mp4", NULL);
  g_assert_cmpstr (a.path, ==, name);
  g_autofree char *stored = g_build_filename (rg_project_assets_dir (p), name, NULL);
  g_assert_true (g_file_test (stored, G_FILE_TEST_IS_REGULAR));
  rg_asset_clear (&a);
  g_unlink (out);
  g_autofree char *found = rg_project_locate_asset (p, id, &error);
  g_assert_cmpstr (found, ==, stored);
  /* Not media: refused before anything is copied or recorded. */
  g_autofree char *junk = g_build_filename (dir, "junk.mp4", NULL);
  g_file_set_contents (junk, "not a video", -1, NULL);
  g_assert_cmpint (rg_project_add_generated (p, junk, NULL, &prov, &error), ==, 0);
  g_assert_nonnull (error);
  g_autoptr (GPtrArray) assets = rg_project_list_assets (p, NULL);
  g_assert_cmpuint (assets->len, ==, 1);
  rg_project_close (p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = rg_test_tmpdir ();
  g_test_add_func ("/import/kinds", test_import_kinds);
  g_test_add_func ("/import/refused", test_refused);
  g_test_add_func ("/import/moved", test_moved);
  g_test_add_func ("/import/previews", test_previews);
  g_test_add_func ("/import/generated", test_generated);
  int rc = g_test_run ();
  rg_test_rmdir (dir);
  g_free (dir);
  return rc;
}
