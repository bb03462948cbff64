/* The project file: creation, refusing damaged and foreign files without
 * touching them, newer versions, the recovered flag, Save As, provenance,
 * moved and relinked assets, the media cache. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "project-test-util.h"

static char *
read_file (const char *path, gsize *len)
{
  char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, len, NULL));
  return data;
}

/* Opening `path` fails with `code` and leaves the file byte-identical. */
static void
assert_refused (const char *path, int code, const char *words)
{
  gsize len_before, len_after;
  g_autofree char *before = read_file (path, &len_before);
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_project_open (path, &error);
  g_assert_null (p);
  g_assert_error (error, RG_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, words));
  g_autofree char *after = read_file (path, &len_after);
  g_assert_cmpmem (before, len_before, after, len_after);
}

static char *
make_project_file (const char *dir, const char *name)
{
  RgProject *p = rg_test_project (dir, name);
  int64_t asset = rg_test_asset (p, RG_ASSET_VIDEO, SEC (5));
  g_assert_cmpint (rg_project_add_clip (p, asset, rg_test_track_id (p, 0), 0, 0, SEC (2), NULL), >,
                   0);
  char *path = g_strdup (rg_project_path (p));
  rg_project_close (p);
  return path;
}

static void
test_create_open (void)
{
  g_autofree char *dir = rg_test_tmpdir ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = make_project_file (dir, "a.reelgen");
  /* Never created over an existing file. */
  g_assert_null (rg_project_create (path, FPS, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  RgProject *p = rg_project_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rg_project_fps (p).num, ==, 24);
  g_assert_false (rg_project_was_recovered (p));
  g_autoptr (GArray) clips = rg_project_list_clips (p, 0, &error);
  g_assert_cmpuint (clips->len, ==, 1);
  rg_project_close (p);

  /* The file is what DESIGN §5 promises: WAL, our id, version 1. */
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2 (db, "SELECT * FROM pragma_journal_mode, pragma_user_version", -1, &st, NULL);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *)sqlite3_column_text (st, 0), ==, "wal");
  g_assert_cmpint (sqlite3_column_int (st, 1), ==, RG_PROJECT_SCHEMA_VERSION);
  sqlite3_finalize (st);
  sqlite3_close (db);

  g_assert_null (rg_project_open ("/nonexistent/x.reelgen", &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  rg_test_rmdir (dir);
}

static void
test_corrupt (void)
{
  g_autofree char *dir = rg_test_tmpdir ();
  g_autofree char *good = make_project_file (dir, "good.reelgen");
  gsize len;
  g_autofree char *bytes = read_file (good, &len);
  g_assert_cmpuint (len, >, 8192);

  /* Truncated: cut in the middle of the pages. */
  g_autofree char *trunc = g_build_filename (dir, "truncated.reelgen", NULL);
  g_assert_true (g_file_set_contents (trunc, bytes, len / 2 + 100, NULL));
  assert_refused (trunc, RG_ERROR_CORRUPT, "damaged");

  /* Random bytes, and random bytes after a valid SQLite header. */
  GRand *rand = g_rand_new_with_seed (7);
  g_autofree char *noise = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    noise[i] = g_rand_int (rand);
  g_autofree char *random = g_build_filename (dir, "random.reelgen", NULL);
  g_assert_true (g_file_set_contents (random, noise, len, NULL));
  assert_refused (random, RG_ERROR_CORRUPT, "not a Reelgen project");
  memcpy (noise, bytes, 100);
  g_autofree char *header = g_build_filename (dir, "header.reelgen", NULL);
  g_assert_true (g_file_set_contents (header, noise, len, NULL));
  assert_refused (header, RG_ERROR_CORRUPT, "");
  g_rand_free (rand);

  /* Text, an empty file, and somebody else's SQLite database. */
  g_autofree char *text = g_build_filename (dir, "text.reelgen", NULL);
  g_assert_true (g_file_set_contents (text, "hello, this is not a project\n", -1, NULL));
  assert_refused (text, RG_ERROR_CORRUPT, "not a Reelgen project");
  g_autofree char *empty = g_build_filename (dir, "empty.reelgen", NULL);
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  assert_refused (empty, RG_ERROR_CORRUPT, "not a Reelgen project");
  g_autofree char *other = g_build_filename (dir, "other.reelgen", NULL);
  sqlite3 *db = NULL;
  sqlite3_open (other, &db);
  sqlite3_exec (db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL, NULL);
  sqlite3_close (db);
  assert_refused (other, RG_ERROR_CORRUPT, "application id");

  /* Ours, but a table gone. */
  g_autofree char *gutted = g_build_filename (dir, "gutted.reelgen", NULL);
  g_assert_true (g_file_set_contents (gutted, bytes, len, NULL));
  sqlite3_open (gutted, &db);
  g_assert_cmpint (sqlite3_exec (db, "DROP TABLE media_cache", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  assert_refused (gutted, RG_ERROR_CORRUPT, "media_cache");

  /* Ours and well-formed, but with values no edit makes. */
  g_autofree char *hostile = g_build_filename (dir, "hostile.reelgen", NULL);
  g_assert_true (g_file_set_contents (hostile, bytes, len, NULL));
  sqlite3_open (hostile, &db);
  g_assert_cmpint (
      sqlite3_exec (db, "UPDATE clips SET start = 9000000000000000000", NULL, NULL, NULL), ==,
      SQLITE_OK);
  sqlite3_close (db);
  assert_refused (hostile, RG_ERROR_CORRUPT, "out of range");

  /* An asset of negative length (found by tests/fuzz: CHECK constraints
   * guard writes, not damaged bytes, so the damage is made with them off). */
  g_autofree char *negative = g_build_filename (dir, "negative.reelgen", NULL);
  g_assert_true (g_file_set_contents (negative, bytes, len, NULL));
  sqlite3_open (negative, &db);
  g_assert_cmpint (sqlite3_exec (db,
                                 "PRAGMA ignore_check_constraints = ON;"
                                 "UPDATE assets SET duration = -8118630",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (db);
  assert_refused (negative, RG_ERROR_CORRUPT, "out of range");

  /* A generated asset whose name points out of the assets folder. */
  g_autofree char *escape = g_build_filename (dir, "escape.reelgen", NULL);
  g_assert_true (g_file_set_contents (escape, bytes, len, NULL));
  sqlite3_open (escape, &db);
  g_assert_cmpint (
      sqlite3_exec (db, "UPDATE assets SET path = '../../etc/passwd'", NULL, NULL, NULL), ==,
      SQLITE_OK);
  sqlite3_close (db);
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_project_open (escape, &error);
  g_assert_no_error (error);
  g_assert_null (rg_project_locate_asset (p, 1, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  rg_project_close (p);
  rg_test_rmdir (dir);
}

static void
test_newer_version (void)
{
  g_autofree char *dir = rg_test_tmpdir ();
  g_autofree char *path = make_project_file (dir, "future.reelgen");
  sqlite3 *db = NULL;
  sqlite3_open (path, &db);
  g_assert_cmpint (
      sqlite3_exec (db, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99", NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close (db);
  assert_refused (path, RG_ERROR_VERSION, "newer Reelgen (schema version 99");
  rg_test_rmdir (dir);
}

static void
test_recovered (void)
{
  g_autofree char *dir = rg_test_tmpdir ();
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_test_project (dir, "crash.reelgen");
  g_autofree char *path = g_strdup (rg_project_path (p));
  int64_t asset = rg_test_asset (p, RG_ASSET_VIDEO, SEC (5));
  g_assert_cmpint (rg_project_add_clip (p, asset, rg_test_track_id (p, 0), 0, 0, SEC (1), NULL), >,
                   0);
  g_autofree char *dump = rg_test_dump (p);

  /* A second session while the first is running is not a crash, and the
   * first one closing does not hide a later crash of the second. */
  RgProject *again = rg_project_open (path, &error);
  g_assert_no_error (error);
  g_assert_false (rg_project_was_recovered (again));
  g_autofree char *seen = rg_test_dump (again);
  g_assert_cmpstr (seen, ==, dump);
  rg_project_close (p);

  /* A session that ends without closing (here: a child process that
   * exits at once) leaves the project marked as recovered. */
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (rg_project_open (path, NULL) ? 0 : 1);
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  rg_project_close (again); /* the child's marker survives this close … */
  p = rg_project_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (rg_project_was_recovered (p)); /* … and is seen here */
  g_autofree char *after = rg_test_dump (p);
  g_assert_cmpstr (after, ==, dump);
  rg_project_close (p);

  /* A clean close leaves nothing to recover, nor a lock file behind. */
  p = rg_project_open (path, &error);
  g_assert_false (rg_project_was_recovered (p));
  rg_project_close (p);
  g_autofree char *lock = g_strconcat (path, "-session", NULL);
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));
  rg_test_rmdir (dir);
}

static void
test_save_as (void)
{
  g_autofree char *dir = rg_test_tmpdir ();
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_test_project (dir, "orig.reelgen");
  int64_t asset = rg_test_asset (p, RG_ASSET_VIDEO, SEC (5));
  g_assert_cmpint (rg_project_add_clip (p, asset, rg_test_track_id (p, 0), 0, 0, SEC (1), NULL), >,
                   0);
  g_autofree char *dump = rg_test_dump (p);
  g_autofree char *copy = g_build_filename (dir, "copy.reelgen", NULL);
  g_assert_true (rg_project_save_as (p, copy, &error));
  g_assert_no_error (error);
  /* Never over an existing project. */
  g_assert_false (rg_project_save_as (p, copy, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* The original goes on; the copy is its own project with its own assets
   * and its own undo history. */
  g_assert_true (rg_project_undo (p, &error));

  RgProject *c = rg_project_open (copy, &error);
  g_assert_no_error (error);
  g_assert_false (rg_project_was_recovered (c));
  g_autofree char *cdump = rg_test_dump (c);
  g_assert_cmpstr (cdump, ==, dump);
  g_autofree char *located = rg_project_locate_asset (c, asset, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (located, rg_project_assets_dir (c)));
  g_autofree char *orig_asset = rg_project_locate_asset (p, asset, &error);
  gsize l1, l2;
  g_autofree char *b1 = read_file (located, &l1), *b2 = read_file (orig_asset, &l2);
  g_assert_cmpmem (b1, l1, b2, l2);
  g_assert_true (rg_project_undo (c, &error));
  g_assert_true (rg_project_redo (c, &error));
  rg_project_close (c);
  rg_project_close (p);
  rg_test_rmdir (dir);
}

static void
test_provenance_and_cache (void)
{
  g_autofree char *dir = rg_test_tmpdir ();
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_test_project (dir, "gen.reelgen");
  int64_t asset = rg_test_asset (p, RG_ASSET_VIDEO, SEC (5));
  g_autofree char *prov = rg_project_get_provenance (p, asset, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (prov, "\"prompt\":\"a red circle bouncing\""));
  g_assert_nonnull (strstr (prov, "\"params\":{\"steps\":20,\"guidance\":7.5}"));

  /* Provenance that cannot regenerate anything is refused, writing nothing. */
  g_autofree char *file = g_build_filename (dir, "x.mp4", NULL);
  g_file_set_contents (file, "bytes", -1, NULL);
  RgAssetInfo info = { RG_ASSET_VIDEO, SEC (1), { 24, 1 }, 8, 8, 0, 0, TRUE, FALSE };
  RgProvenance bad = { "t2v", "x", 1, "00", "[1, 2]" };
  g_assert_cmpint (rg_project_add_generated (p, file, &info, &bad, &error), ==, 0);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_autoptr (GPtrArray) assets = rg_project_list_assets (p, &error);
  g_assert_cmpuint (assets->len, ==, 1);

  RgAsset a = { 0 };
  g_assert_true (rg_project_get_asset (p, asset, &a, &error));
  g_assert_null (rg_project_cache_get (p, a.hash, "peaks", "w=100"));
  g_autoptr (GBytes) peaks = g_bytes_new_static ("\x01\x02\x03", 3);
  g_assert_true (rg_project_cache_put (p, a.hash, "peaks", "w=100", peaks, &error));
  g_autoptr (GBytes) back = rg_project_cache_get (p, a.hash, "peaks", "w=100");
  g_assert_true (g_bytes_equal (back, peaks));
  g_assert_null (rg_project_cache_get (p, a.hash, "peaks", "w=200"));
  rg_asset_clear (&a);
  rg_project_close (p);
  rg_test_rmdir (dir);
}

static void
test_time_text (void)
{
  RgRational ntsc = { 30000, 1001 };
  RgTime t = 0;
  g_assert_true (rg_time_parse ("1.5", FPS, &t, NULL));
  g_assert_cmpint (t, ==, 135000);
  g_assert_true (rg_time_parse ("36f", FPS, &t, NULL));
  g_assert_cmpint (t, ==, SEC (1.5));
  g_assert_true (rg_time_parse ("1f", ntsc, &t, NULL));
  g_assert_cmpint (t, ==, 3003);
  g_assert_true (rg_time_parse ("135001t", FPS, &t, NULL));
  g_assert_cmpint (t, ==, 135001);
  g_assert_true (rg_time_parse ("0.00001", FPS, &t, NULL));
  g_assert_cmpint (t, ==, 1);
  const char *bad[] = { "", "f", "1.5f", "abc", "1e3", "12x", "--1", "99999999999999999999" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (rg_time_parse (bad[i], FPS, &t, &error));
      g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
    }
  g_autofree char *s = rg_time_format (SEC (3725.5));
  g_assert_cmpstr (s, ==, "01:02:05.500");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/create-open", test_create_open);
  g_test_add_func ("/store/corrupt", test_corrupt);
  g_test_add_func ("/store/newer-version", test_newer_version);
  g_test_add_func ("/store/recovered", test_recovered);
  g_test_add_func ("/store/save-as", test_save_as);
  g_test_add_func ("/store/provenance-cache", test_provenance_and_cache);
  g_test_add_func ("/store/time-text", test_time_text);
  return g_test_run ();
}
