/* rg-hash.c — streamed SHA-256 of files. */
#include "rg-hash.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "rg-error.h"

char *
rg_file_sha256 (const char *path, goffset *size_out, GError **error)
{
  FILE *f = g_fopen (path, "rb");
  if (!f)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, e == ENOENT ? RG_ERROR_NOT_FOUND : RG_ERROR_IO,
                   "%s: cannot read: %s", path, g_strerror (e));
      return NULL;
    }
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guchar *buf = g_malloc (1 << 20);
  goffset total = 0;
  size_t n;
  while ((n = fread (buf, 1, 1 << 20, f)) > 0)
    {
      g_checksum_update (sum, buf, n);
      total += n;
    }
  gboolean failed = ferror (f);
  int e = errno;
  g_free (buf);
  fclose (f);
  if (failed)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: read error: %s", path, g_strerror (e));
      return NULL;
    }
  if (size_out)
    *size_out = total;
  return g_strdup (g_checksum_get_string (sum));
}
