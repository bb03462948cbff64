/* rg-trace-io.c — the .rgtrace file format (documented in rg-trace.h).
 *
 * Writing is plain little-endian records. Reading trusts nothing: every
 * count is checked against the bytes left in the file before anything is
 * allocated, and every id against its table's rows. */
#include "embed/rg-trace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rg-error.h"

static const char trace_magic[8] = { 'R', 'G', 'T', 'R', 'A', 'C', 'E', '\0' };

#define HEADER_BYTES 32
#define SPEC_BYTES   64
#define BLOCK_BYTES  16

/* ---- little-endian helpers ---- */

static void
put_u32 (guint8 *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (guint8) (v >> (8 * i));
}

static void
put_u64 (guint8 *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8) (v >> (8 * i));
}

static void
put_f64 (guint8 *p, double d)
{
  uint64_t v;
  memcpy (&v, &d, 8);
  put_u64 (p, v);
}

static uint32_t
get_u32 (const guint8 *p)
{
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static uint64_t
get_u64 (const guint8 *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static double
get_f64 (const guint8 *p)
{
  uint64_t v = get_u64 (p);
  double   d;
  memcpy (&d, &v, 8);
  return d;
}

/* ---- save ---- */

static gboolean
write_all (FILE *f, const void *data, gsize n, const char *path, GError **error)
{
  if (n && fwrite (data, 1, n, f) != n)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: write failed: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_trace_save (const RgTrace *trace, const char *path, GError **error)
{
  /* Written to a temporary name and renamed, so a crash never leaves a
   * half-written trace under the real name. */
  g_autofree char *tmp = g_strdup_printf ("%s.tmp", path);
  FILE            *f = fopen (tmp, "wb");
  if (!f)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot create: %s", path,
                   g_strerror (errno));
      return FALSE;
    }

  guint8 head[HEADER_BYTES] = { 0 };
  memcpy (head, trace_magic, 8);
  put_u32 (head + 8, RG_TRACE_VERSION);
  put_u32 (head + 12, trace->n_tables);
  put_u32 (head + 16, trace->batch_size);
  put_u32 (head + 20, trace->n_batches);
  put_u64 (head + 24, trace->seed);
  gboolean ok = write_all (f, head, sizeof head, path, error);

  for (uint32_t t = 0; ok && t < trace->n_tables; t++)
    {
      const RgTableSpec *s = &trace->tables[t];
      guint8             rec[SPEC_BYTES] = { 0 };
      put_u32 (rec + 0, (uint32_t) s->kind);
      put_u32 (rec + 4, s->dim);
      put_u32 (rec + 8, s->elem_bytes);
      put_u64 (rec + 16, (uint64_t) s->rows);
      put_u64 (rec + 24, (uint64_t) s->id_space);
      put_f64 (rec + 32, s->zipf_s);
      put_f64 (rec + 40, s->zipf_q);
      put_f64 (rec + 48, s->pooling);
      put_f64 (rec + 56, s->coverage);
      ok = write_all (f, rec, sizeof rec, path, error);
    }

  g_autofree guint8 *buf = NULL;
  gsize              cap = 0;
  for (uint32_t b = 0; ok && b < trace->n_batches; b++)
    for (uint32_t t = 0; ok && t < trace->n_tables; t++)
      {
        const RgTraceBag *bag = rg_trace_bag (trace, b, t);
        gsize need = BLOCK_BYTES + 4 * ((gsize) trace->batch_size + 1) + 8 * bag->n_ids;
        if (need > cap)
          {
            g_free (buf);
            cap = need;
            buf = g_malloc (cap);
          }
        put_u32 (buf, t);
        put_u32 (buf + 4, 0);
        put_u64 (buf + 8, bag->n_ids);
        guint8 *p = buf + BLOCK_BYTES;
        for (uint32_t i = 0; i <= trace->batch_size; i++, p += 4)
          put_u32 (p, bag->offsets[i]);
        for (uint64_t i = 0; i < bag->n_ids; i++, p += 8)
          put_u64 (p, (uint64_t) bag->ids[i]);
        ok = write_all (f, buf, need, path, error);
      }

  if (fclose (f) != 0 && ok)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: close failed: %s", path,
                   g_strerror (errno));
      ok = FALSE;
    }
  if (ok && rename (tmp, path) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: rename failed: %s", path,
                   g_strerror (errno));
      ok = FALSE;
    }
  if (!ok)
    remove (tmp);
  return ok;
}

/* ---- load ---- */

typedef struct {
  FILE       *f;
  const char *path;
  uint64_t    left; /* bytes not yet read */
} Reader;

static gboolean
read_exact (Reader *r, void *dst, gsize n, const char *what, GError **error)
{
  if (n > r->left || fread (dst, 1, n, r->f) != n)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: truncated: %s needs %" G_GSIZE_FORMAT " bytes, %" G_GUINT64_FORMAT
                   " left",
                   r->path, what, n, r->left);
      return FALSE;
    }
  r->left -= n;
  return TRUE;
}

static gboolean
read_spec (Reader *r, uint32_t t, RgTableSpec *s, GError **error)
{
  guint8 rec[SPEC_BYTES];
  if (!read_exact (r, rec, sizeof rec, "a table spec", error))
    return FALSE;
  s->kind = (RgTableKind) get_u32 (rec);
  s->dim = get_u32 (rec + 4);
  s->elem_bytes = get_u32 (rec + 8);
  uint64_t rows = get_u64 (rec + 16), ids = get_u64 (rec + 24);
  /* Keep oversized values oversized (not negative) so validation names them. */
  s->rows = rows > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) rows;
  s->id_space = ids > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) ids;
  s->zipf_s = get_f64 (rec + 32);
  s->zipf_q = get_f64 (rec + 40);
  s->pooling = get_f64 (rec + 48);
  s->coverage = get_f64 (rec + 56);
  g_autoptr (GError) local = NULL;
  if (get_u32 (rec + 12) != 0 || !rg_table_spec_validate (s, t, &local))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: bad table spec: %s", r->path,
                   local ? local->message : "reserved field is not zero");
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_bag (Reader *r, const RgTrace *trace, uint32_t b, uint32_t t, RgTraceBag *bag,
          GError **error)
{
  guint8 head[BLOCK_BYTES];
  if (!read_exact (r, head, sizeof head, "a batch block header", error))
    return FALSE;
  uint32_t table = get_u32 (head);
  uint64_t n_ids = get_u64 (head + 8);
  if (table != t || get_u32 (head + 4) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: batch %u: block %u claims table %u (blocks must be in table order)",
                   r->path, b, t, table);
      return FALSE;
    }
  gsize n_off = (gsize) trace->batch_size + 1;
  /* Both arrays must be present in full before either is allocated. */
  if (n_ids > (r->left - MIN (r->left, 4 * n_off)) / 8)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: batch %u table %u: %" G_GUINT64_FORMAT
                   " ids claimed but only %" G_GUINT64_FORMAT " bytes left",
                   r->path, b, t, n_ids, r->left);
      return FALSE;
    }
  if (n_ids > UINT32_MAX)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: batch %u table %u: %" G_GUINT64_FORMAT " ids exceed the u32 offsets",
                   r->path, b, t, n_ids);
      return FALSE;
    }

  g_autofree guint8 *raw = g_malloc (4 * n_off + 8 * n_ids);
  if (!read_exact (r, raw, 4 * n_off + 8 * n_ids, "a batch block", error))
    return FALSE;

  bag->offsets = g_new (uint32_t, n_off);
  bag->ids = g_new (int64_t, n_ids ? n_ids : 1);
  bag->n_ids = n_ids;
  for (gsize i = 0; i < n_off; i++)
    {
      bag->offsets[i] = get_u32 (raw + 4 * i);
      gboolean bad = (i == 0 && bag->offsets[0] != 0)
                     || (i > 0 && bag->offsets[i] < bag->offsets[i - 1])
                     || bag->offsets[i] > n_ids || (i == n_off - 1 && bag->offsets[i] != n_ids);
      if (bad)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: batch %u table %u: offset %" G_GSIZE_FORMAT
                       " = %u breaks the CSR rules (start 0, non-decreasing, end %" G_GUINT64_FORMAT
                       ")",
                       r->path, b, t, i, bag->offsets[i], n_ids);
          return FALSE;
        }
    }
  const guint8 *p = raw + 4 * n_off;
  for (uint64_t i = 0; i < n_ids; i++, p += 8)
    {
      uint64_t id = get_u64 (p);
      if (id >= (uint64_t) trace->tables[t].rows)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: batch %u table %u: id %" G_GUINT64_FORMAT
                       " is not below the table's %" G_GINT64_FORMAT " rows",
                       r->path, b, t, id, trace->tables[t].rows);
          return FALSE;
        }
      bag->ids[i] = (int64_t) id;
    }
  return TRUE;
}

RgTrace *
rg_trace_load (const char *path, GError **error)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    {
      g_set_error (error, RG_ERROR, errno == ENOENT ? RG_ERROR_NOT_FOUND : RG_ERROR_IO,
                   "%s: cannot open: %s", path, g_strerror (errno));
      return NULL;
    }
  struct stat st;
  if (fstat (fileno (f), &st) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot stat: %s", path,
                   g_strerror (errno));
      fclose (f);
      return NULL;
    }
  Reader   r = { f, path, (uint64_t) st.st_size };
  RgTrace *trace = g_new0 (RgTrace, 1);
  guint8   head[HEADER_BYTES];
  gboolean ok = read_exact (&r, head, sizeof head, "the header", error);

  if (ok && memcmp (head, trace_magic, 8) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: not a Reelgen trace (bad magic)",
                   path);
      ok = FALSE;
    }
  if (ok && get_u32 (head + 8) != RG_TRACE_VERSION)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_VERSION,
                   "%s: trace version %u; this build reads version %u", path,
                   get_u32 (head + 8), RG_TRACE_VERSION);
      ok = FALSE;
    }
  if (ok)
    {
      trace->n_tables = get_u32 (head + 12);
      trace->batch_size = get_u32 (head + 16);
      trace->n_batches = get_u32 (head + 20);
      trace->seed = get_u64 (head + 24);
      if (trace->n_tables < 1 || trace->n_tables > RG_TRACE_MAX_TABLES
          || trace->batch_size < 1 || trace->batch_size > RG_TRACE_MAX_BATCH)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: header out of bounds (%u tables, batch size %u)", path,
                       trace->n_tables, trace->batch_size);
          ok = FALSE;
        }
    }
  if (ok)
    {
      /* Each block holds at least its header and offsets: bound n_batches
       * by the file size before allocating the block array. */
      uint64_t min_block = BLOCK_BYTES + 4 * ((uint64_t) trace->batch_size + 1);
      uint64_t left = r.left - MIN (r.left, (uint64_t) SPEC_BYTES * trace->n_tables);
      if ((uint64_t) trace->n_batches > left / (min_block * trace->n_tables))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: %u batches claimed but the file holds at most %" G_GUINT64_FORMAT,
                       path, trace->n_batches, left / (min_block * trace->n_tables));
          ok = FALSE;
        }
    }
  if (ok)
    {
      trace->tables = g_new0 (RgTableSpec, trace->n_tables);
      for (uint32_t t = 0; ok && t < trace->n_tables; t++)
        ok = read_spec (&r, t, &trace->tables[t], error);
    }
  if (ok)
    {
      trace->bags = g_new0 (RgTraceBag, (gsize) trace->n_batches * trace->n_tables);
      for (uint32_t b = 0; ok && b < trace->n_batches; b++)
        for (uint32_t t = 0; ok && t < trace->n_tables; t++)
          ok = read_bag (&r, trace, b, t, &trace->bags[(gsize) b * trace->n_tables + t], error);
    }
  if (ok && r.left != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: %" G_GUINT64_FORMAT " unexpected bytes after the last batch", path,
                   r.left);
      ok = FALSE;
    }
  fclose (f);
  if (!ok)
    {
      rg_trace_free (trace);
      return NULL;
    }
  return trace;
}
