/* rg-hash.h — content hashes: SHA-256 of files (project assets, model
 * provenance, checkpoints), streamed so a multi-gigabyte file never sits in
 * memory; and 64-bit FNV-1a of small in-memory records (weight names,
 * scene fingerprints), where speed matters and no adversary does. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Lower-case hex SHA-256 of the file's bytes; *size_out (may be NULL)
 * receives the byte count. NULL with a GError naming the file on failure. */
char *rg_file_sha256 (const char *path, goffset *size_out, GError **error);

/* The FNV-1a 64-bit offset basis: the hash of no bytes. */
#define RG_FNV1A64_INIT 0xcbf29ce484222325ull

/* h extended by n bytes of data: start from RG_FNV1A64_INIT, and chain calls
 * to hash a record field by field. */
static inline guint64
rg_fnv1a64 (guint64 h, const void *data, gsize n)
{
  const guchar *b = data;
  for (gsize i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

G_END_DECLS
