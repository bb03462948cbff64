/* Crash safety: a child process edits in a burst and is SIGKILLed in the
 * middle of it. Every edit it reported committed must be in the project,
 * the file must pass integrity_check, and the project says it recovered. */
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "project-test-util.h"

#define REPORTS_BEFORE_KILL 40

/* The child: add clips (and split every third) as fast as it can, writing
 * each committed clip id to the pipe. Never returns. */
static void G_GNUC_NORETURN
child_burst (const char *path, int asset, int64_t track, int fd)
{
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_project_open (path, &error);
  if (!p)
    _exit (2);
  for (int i = 0; i < 100000; i++)
    {
      int64_t id = rg_project_add_clip (p, asset, track, SEC (2 * i), 0, SEC (1), &error);
      if (id && i % 3 == 0)
        {
          int64_t right = rg_project_split_clip (p, id, SEC (2 * i) + SEC (0.5), &error);
          if (right && write (fd, &right, sizeof right) != sizeof right)
            _exit (3);
        }
      if (!id || write (fd, &id, sizeof id) != sizeof id)
        _exit (3);
    }
  _exit (4); /* killed long before */
}

static void
test_sigkill (void)
{
  g_autofree char *dir = rg_test_tmpdir ();
  g_autoptr (GError) error = NULL;
  RgProject *p = rg_test_project (dir, "burst.reelgen");
  g_autofree char *path = g_strdup (rg_project_path (p));
  int64_t asset = rg_test_asset (p, RG_ASSET_VIDEO, SEC (5));
  int64_t track = rg_test_track_id (p, 0);
  rg_project_close (p);

  int fds[2];
  g_assert_cmpint (pipe (fds), ==, 0);
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (fds[0]);
      child_burst (path, asset, track, fds[1]);
    }
  close (fds[1]);

  GArray *reported = g_array_new (FALSE, FALSE, sizeof (int64_t));
  int64_t id;
  while (reported->len < REPORTS_BEFORE_KILL && read (fds[0], &id, sizeof id) == sizeof id)
    g_array_append_val (reported, id);
  kill (pid, SIGKILL);
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  /* Reports written before the kill are still in the pipe. */
  while (read (fds[0], &id, sizeof id) == sizeof id)
    g_array_append_val (reported, id);
  close (fds[0]);
  g_test_message ("child reported %u committed edits before SIGKILL", reported->len);
  g_assert_cmpuint (reported->len, >=, REPORTS_BEFORE_KILL);

  /* The file is whole … */
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_stmt *st = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *)sqlite3_column_text (st, 0), ==, "ok");
  sqlite3_finalize (st);
  sqlite3_close (db);

  /* … it opens, knows it was not closed, and holds every reported edit. */
  p = rg_project_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (rg_project_was_recovered (p));
  g_assert_true (rg_project_check_invariants (p, &error));
  for (guint i = 0; i < reported->len; i++)
    {
      RgClip c;
      g_assert_true (rg_project_get_clip (p, g_array_index (reported, int64_t, i), &c, &error));
      g_assert_no_error (error);
    }
  /* And its undo log is usable: the last committed edit undoes cleanly. */
  g_assert_true (rg_project_undo (p, &error));
  g_assert_no_error (error);
  rg_project_close (p);
  g_array_unref (reported);
  rg_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/crash/sigkill", test_sigkill);
  return g_test_run ();
}
