/* project-test-util.c — see project-test-util.h. */
#include "project-test-util.h"

#include <glib/gstdio.h>

char *
rg_test_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("rg-project-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

void
rg_test_rmdir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        rg_test_rmdir (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

RgProject *
rg_test_project (const char *dir, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  RgProject *p = rg_project_create (path, FPS, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  return p;
}

int64_t
rg_test_asset (RgProject *p, RgAssetKind kind, RgTime duration)
{
  static int serial;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (rg_project_path (p));
  g_autofree char *file = g_strdup_printf ("%s/gen-%d.bin", dir, ++serial);
  g_autofree char *bytes = g_strdup_printf ("generated media #%d of kind %d", serial, kind);
  g_assert_true (g_file_set_contents (file, bytes, -1, NULL));
  RgAssetInfo info = { kind,
                       kind == RG_ASSET_IMAGE ? 0 : duration,
                       { 24, 1 },
                       64,
                       48,
                       kind == RG_ASSET_IMAGE ? 0 : 48000,
                       kind == RG_ASSET_IMAGE ? 0 : 2,
                       kind != RG_ASSET_AUDIO,
                       kind != RG_ASSET_IMAGE };
  if (kind == RG_ASSET_AUDIO)
    info.fps = (RgRational){ 0, 1 };
  RgProvenance prov = { "t2v", "a red circle bouncing", 42 + serial,
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                        "{\"steps\": 20, \"guidance\": 7.5}" };
  int64_t id = rg_project_add_generated (p, file, &info, &prov, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_unlink (file);
  return id;
}

char *
rg_test_dump (RgProject *p)
{
  g_autoptr (GError) error = NULL;
  char *dump = rg_project_dump_timeline (p, &error);
  g_assert_no_error (error);
  return dump;
}

int64_t
rg_test_track_id (RgProject *p, int position)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (p, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (position, <, tracks->len);
  return ((RgTrack *)tracks->pdata[position])->id;
}
