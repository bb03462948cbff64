/* test-fuzz-project.c — mutated .reelgen (SQLite) files against rg_project_open().
 *
 * The valid input is a real project: created, given generated assets,
 * clips on two tracks, a split and a trim (so the undo history has rows),
 * then closed. Each case mutates its bytes and opens the copy. The
 * contract from rg-project.h: a file the open refuses is left
 * byte-identical (validation is read-only), and a file it accepts is
 * usable — every read (timeline dump, asset list, invariant check, undo)
 * ends in a result or a GError, never a crash. */
#include <glib/gstdio.h>
#include <string.h>

#include "project-test-util.h"
#include "fuzz-mutate.h"

static GBytes *
make_project (const char *dir)
{
  GError *error = NULL;
  RgProject *p = rg_test_project (dir, "valid.reelgen");
  int64_t v = rg_test_asset (p, RG_ASSET_VIDEO, SEC (4));
  int64_t a = rg_test_asset (p, RG_ASSET_AUDIO, SEC (3));
  int64_t vt = rg_test_track_id (p, 0), at = rg_test_track_id (p, 1);
  int64_t c1 = rg_project_add_clip (p, v, vt, 0, 0, SEC (4), &error);
  g_assert_no_error (error);
  g_assert_cmpint (rg_project_add_clip (p, v, vt, SEC (5), SEC (1), SEC (2), &error), >, 0);
  g_assert_cmpint (rg_project_add_clip (p, a, at, SEC (1), 0, SEC (3), &error), >, 0);
  g_assert_cmpint (rg_project_split_clip (p, c1, SEC (2), &error), >, 0);
  g_assert_true (rg_project_trim_clip (p, c1, RG_EDGE_START, SEC (1), FALSE, &error));
  g_assert_no_error (error);
  g_autofree char *path = g_strdup (rg_project_path (p));
  rg_project_close (p);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  g_assert_cmpuint (len, >, 0);
  return g_bytes_new (data, len);
}

static void
exercise (RgFuzz *fz, RgProject *p, guint *inconsistent)
{
  GError *error = NULL;
  char *dump = rg_project_dump_timeline (p, &error);
  rg_fuzz_check (fz, dump != NULL, g_steal_pointer (&error));
  g_free (dump);
  GPtrArray *assets = rg_project_list_assets (p, &error);
  rg_fuzz_check (fz, assets != NULL, g_steal_pointer (&error));
  if (assets)
    g_ptr_array_unref (assets);
  gboolean ok = rg_project_check_invariants (p, &error);
  if (!ok && error != NULL)
    {
      /* Allowed (the open checks the file, not the timeline), but worth
       * seeing: this is what the UI's invariant check would then report. */
      (*inconsistent)++;
      g_test_message ("iteration %u: opened, but %s", fz->iteration, error->message);
    }
  rg_fuzz_check (fz, ok, g_steal_pointer (&error));
  ok = rg_project_undo (p, &error);
  rg_fuzz_check (fz, ok, g_steal_pointer (&error));
}

static void
test_project_mutations (void)
{
  g_autofree char *src = rg_test_tmpdir ();
  g_autoptr (GBytes) valid = make_project (src);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (valid, &len);

  RgFuzz fz;
  rg_fuzz_init (&fz, "project", 0x70726f6a00, 600);
  guint opened = 0, inconsistent = 0;
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      /* A fresh folder per case: no -wal, -shm or .assets left by the last. */
      g_autofree char *dir = rg_test_tmpdir ();
      g_autofree char *path = g_build_filename (dir, "case.reelgen", NULL);
      g_autoptr (GByteArray) m = rg_fuzz_mutate (&fz, data, len, 3, NULL, 0, FALSE);
      rg_fuzz_write (path, m->data, m->len);

      GError *error = NULL;
      RgProject *p = rg_project_open (path, &error);
      if (p != NULL)
        {
          opened++;
          exercise (&fz, p, &inconsistent);
          rg_project_close (p);
        }
      else
        {
          g_autofree char *after = NULL;
          gsize after_len = 0;
          g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
          if (after_len != m->len || memcmp (after, m->data, m->len) != 0)
            g_error ("fuzz %s seed %" G_GUINT64_FORMAT " iteration %u: a refused open "
                     "modified the file (%s)",
                     fz.target, fz.seed, i, error ? error->message : "no error");
        }
      rg_fuzz_check (&fz, p != NULL, g_steal_pointer (&error));
      rg_test_rmdir (dir);
    }
  g_test_message ("%u of %u mutated projects opened (%u of them failed the invariant check "
                  "with an error); the rest refused, untouched",
                  opened, fz.iterations, inconsistent);
  rg_test_rmdir (src);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/project", test_project_mutations);
  return g_test_run ();
}
