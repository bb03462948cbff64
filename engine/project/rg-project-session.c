/* rg-project-session.c — telling a crashed session from a running one.
 *
 * Every open session has a row in the `sessions` table and holds an
 * exclusive lock on byte <row id> of the sidecar file `<project>-session`.
 * The kernel drops that lock when the process dies, however it dies, while
 * a clean close deletes the row. So an opener that finds a row whose byte
 * nobody holds has found a session that crashed: it reports the project as
 * recovered and removes the row. Second windows or CLI calls on a running
 * project are live rows and are left alone. Rows change only under the
 * database write lock, and the sidecar is opened (and unlinked by the last
 * session) under it too, so every session locks bytes of the same file.
 * Open file description locks keep two sessions of one process apart. */
#define _GNU_SOURCE
#include "rg-project-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "core/rg-error.h"

static char *
sidecar_path (RgProject *p)
{
  return g_strconcat (p->path, "-session", NULL);
}

/* cmd F_OFD_SETLK: take (type F_WRLCK) or drop (F_UNLCK) byte `slot`;
 * F_OFD_GETLK: ask whether anyone else holds it. */
static gboolean
byte_lock (int fd, int64_t slot, int cmd, short type, gboolean *held)
{
  struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = slot, .l_len = 1 };
  if (fcntl (fd, cmd, &fl) != 0)
    return FALSE;
  if (held)
    *held = fl.l_type != F_UNLCK;
  return TRUE;
}

/* Removes the rows of sessions that died; TRUE in *found if there were. */
static gboolean
reap_dead (RgProject *p, int fd, gboolean *found, GError **error)
{
  sqlite3_stmt *st = rg_project_stmt (p, "SELECT id FROM sessions", error);
  if (!st)
    return FALSE;
  g_autoptr (GArray) dead = g_array_new (FALSE, FALSE, sizeof (int64_t));
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      int64_t id = sqlite3_column_int64 (st, 0);
      gboolean held = TRUE;
      if (byte_lock (fd, id, F_OFD_GETLK, F_WRLCK, &held) && !held)
        g_array_append_val (dead, id);
    }
  sqlite3_reset (st);
  *found = dead->len > 0;
  for (guint i = 0; i < dead->len; i++)
    {
      st = rg_project_stmt (p, "DELETE FROM sessions WHERE id = ?", error);
      if (!st)
        return FALSE;
      sqlite3_bind_int64 (st, 1, g_array_index (dead, int64_t, i));
      if (!rg_project_step_done (p, st, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
session_begin (RgProject *p, GError **error)
{
  g_autofree char *path = sidecar_path (p);
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot open the session lock: %s", path,
                   g_strerror (e));
      return FALSE;
    }
  gboolean ok = reap_dead (p, fd, &p->recovered, error);
  sqlite3_stmt *st = ok ? rg_project_stmt (p,
                                           "INSERT INTO sessions (pid, started)"
                                           " VALUES (?, strftime ('%s', 'now'))",
                                           error)
                        : NULL;
  ok = st != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (st, 1, getpid ());
      ok = rg_project_step_done (p, st, error);
    }
  if (ok)
    {
      p->session_id = sqlite3_last_insert_rowid (p->db);
      if (!byte_lock (fd, p->session_id, F_OFD_SETLK, F_WRLCK, NULL))
        {
          int e = errno;
          g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot lock: %s", path, g_strerror (e));
          ok = FALSE;
        }
    }
  if (!ok)
    {
      close (fd);
      p->session_id = 0;
      return FALSE;
    }
  p->session_fd = fd;
  return TRUE;
}

gboolean
rg_project_session_begin (RgProject *p, GError **error)
{
  return rg_project_tx_begin (p, error) && rg_project_tx_end (p, session_begin (p, error), error);
}

void
rg_project_session_end (RgProject *p)
{
  if (p->session_fd < 0)
    return;
  /* Best effort: a row left behind reads as a crash next time, which is
   * the safe side to err on. */
  if (rg_project_tx_begin (p, NULL))
    {
      sqlite3_stmt *st = rg_project_stmt (p, "DELETE FROM sessions WHERE id = ?", NULL);
      gboolean ok = st != NULL;
      if (ok)
        {
          sqlite3_bind_int64 (st, 1, p->session_id);
          ok = rg_project_step_done (p, st, NULL);
        }
      st = ok ? rg_project_stmt (p, "SELECT count (*) FROM sessions", NULL) : NULL;
      if (st && sqlite3_step (st) == SQLITE_ROW && sqlite3_column_int64 (st, 0) == 0)
        {
          g_autofree char *path = sidecar_path (p);
          g_unlink (path); /* the last session out tidies up */
        }
      if (st)
        sqlite3_reset (st);
      rg_project_tx_end (p, ok, NULL);
    }
  close (p->session_fd); /* drops our lock */
  p->session_fd = -1;
}
