/* media-test-util.c — scratch folders and the ffmpeg/ffprobe CLIs for tests. */
#include "media-test-util.h"

#include <glib/gstdio.h>
#include <math.h>

char *
media_test_dir_new (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("rg-media-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

guint
media_test_dir_count (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

void
media_test_dir_free (char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
  g_free (dir);
}

static void
run (GPtrArray *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", (char *)argv->pdata[0], err);
}

void
media_test_ffmpeg (const char *out, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, "ffmpeg");
  g_ptr_array_add (argv, "-nostdin");
  g_ptr_array_add (argv, "-y");
  g_ptr_array_add (argv, "-v");
  g_ptr_array_add (argv, "error");
  va_list args;
  va_start (args, out);
  const char *a;
  while ((a = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *)a);
  va_end (args);
  g_ptr_array_add (argv, (char *)out);
  run (argv);
}

GHashTable *
media_test_ffprobe (const char *path, const char *select, const char *entries, gboolean count)
{
  const char *argv[] = { "ffprobe",      "-v",
                         "error",        "-select_streams",
                         select,         "-show_entries",
                         entries,        "-of",
                         "default=nw=1", count ? "-count_frames" : "-hide_banner",
                         path,           NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("ffprobe %s failed: %s", path, err);

  GHashTable *kv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (char **l = lines; *l != NULL; l++)
    {
      char *eq = strchr (*l, '=');
      if (eq != NULL)
        g_hash_table_insert (kv, g_strndup (*l, eq - *l), g_strdup (eq + 1));
    }
  return kv;
}

char *
media_test_counter_source (int w, int h, const char *rate, double seconds)
{
  char d[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup_printf ("nullsrc=s=%dx%d:r=%s:d=%s,format=gbrp,"
                          "geq=r='8+16*mod(N\\,16)':g='128':b='8+16*floor(N/16)'",
                          w, h, rate, g_ascii_dtostr (d, sizeof d, seconds));
}

int
media_test_frame_number (const guint8 *rgba, int width, int height)
{
  const guint8 *p = rgba + ((gsize)(height / 2) * width + width / 2) * 4;
  int lo = (int)lround ((p[0] - 8) / 16.0), hi = (int)lround ((p[2] - 8) / 16.0);
  if (ABS (p[0] - (8 + 16 * lo)) > 6 || ABS (p[2] - (8 + 16 * hi)) > 6)
    return -1;
  return lo + 16 * hi;
}
