/* rg-hash.h — content hashes of files (project assets, model provenance,
 * checkpoints). Streamed, so a multi-gigabyte file never sits in memory. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Lower-case hex SHA-256 of the file's bytes; *size_out (may be NULL)
 * receives the byte count. NULL with a GError naming the file on failure. */
char *rg_file_sha256 (const char *path, goffset *size_out, GError **error);

G_END_DECLS
