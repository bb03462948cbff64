/* rg-safetensors.c — validated safetensors reading (mmap) and atomic writing.
 *
 * The header is parsed by a small JSON reader that knows the schema, so
 * that every rejection can say exactly what is wrong (and so that duplicate
 * names, which general JSON parsers silently collapse, are caught). */
#include "rg-safetensors.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rg-error.h"

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
#error "safetensors data is little-endian; a big-endian host needs byte swapping here"
#endif

#define JSON_MAX_DEPTH 64

/* Every dtype the format defines, so that files holding dtypes we do not
 * compute with still validate (their byte counts are checked all the same). */
static const struct {
  const char *name;
  gsize       size;
} format_dtypes[] = {
  { "BOOL", 1 }, { "U8", 1 },  { "I8", 1 },  { "F8_E5M2", 1 }, { "F8_E4M3", 1 },
  { "I16", 2 },  { "U16", 2 }, { "F16", 2 }, { "BF16", 2 },    { "I32", 4 },
  { "U32", 4 },  { "F32", 4 }, { "F64", 8 }, { "I64", 8 },     { "U64", 8 },
};

typedef struct {
  char     *name;
  char      dtype_name[12];
  gsize     dtype_size;
  gboolean  supported;
  RgDType   dtype;
  int       ndim;
  int64_t   shape[RG_MAX_DIMS];
  guint64   begin, end;
} Entry;

struct _RgSafetensors {
  gint        ref_count;
  char       *path;
  GBytes     *bytes;    /* the whole file (a mapping, or memory) */
  const guint8 *data;   /* start of the data buffer */
  GArray     *entries;  /* Entry, sorted by name */
  GHashTable *index;    /* name → Entry index + 1 */
  GHashTable *metadata; /* char * → char * */
};

static void
entry_clear (gpointer p)
{
  g_free (((Entry *) p)->name);
}

/* ---- the header reader ---- */

typedef struct {
  const char *p, *start, *end;
  const char *file;
  GError    **error;
} Json;

G_GNUC_PRINTF (2, 3) static gboolean
fail (Json *j, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (j->error, RG_ERROR, RG_ERROR_CORRUPT, "%s: %s", j->file, msg);
  return FALSE;
}

static gboolean
syntax (Json *j, const char *expected)
{
  return fail (j, "header is not valid JSON: expected %s at byte %" G_GSIZE_FORMAT, expected,
               (gsize) (j->p - j->start));
}

static void
skip_ws (Json *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static gboolean
expect (Json *j, char c)
{
  skip_ws (j);
  if (j->p >= j->end || *j->p != c)
    {
      char what[4] = { '\'', c, '\'', 0 };
      return syntax (j, what);
    }
  j->p++;
  return TRUE;
}

/* Peek the next non-space character (0 at the end). */
static char
peek (Json *j)
{
  skip_ws (j);
  return j->p < j->end ? *j->p : 0;
}

static int
hex4 (const char *s)
{
  int v = 0;
  for (int i = 0; i < 4; i++)
    {
      int c = s[i], d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* A JSON string, unescaped into UTF-8 (the header was validated as UTF-8
 * before parsing, so raw bytes can be copied). NUL is refused: names and
 * metadata are C strings. */
static gboolean
read_string (Json *j, char **out)
{
  if (!expect (j, '"'))
    return FALSE;
  GString *s = g_string_new (NULL);
  while (TRUE)
    {
      if (j->p >= j->end)
        {
          g_string_free (s, TRUE);
          return syntax (j, "a closing quote");
        }
      unsigned char c = (unsigned char) *j->p++;
      if (c == '"')
        break;
      if (c < 0x20)
        {
          g_string_free (s, TRUE);
          return syntax (j, "no control characters inside a string");
        }
      if (c != '\\')
        {
          g_string_append_c (s, (char) c);
          continue;
        }
      if (j->p >= j->end)
        {
          g_string_free (s, TRUE);
          return syntax (j, "an escape sequence");
        }
      char e = *j->p++;
      switch (e)
        {
        case '"': g_string_append_c (s, '"'); break;
        case '\\': g_string_append_c (s, '\\'); break;
        case '/': g_string_append_c (s, '/'); break;
        case 'b': g_string_append_c (s, '\b'); break;
        case 'f': g_string_append_c (s, '\f'); break;
        case 'n': g_string_append_c (s, '\n'); break;
        case 'r': g_string_append_c (s, '\r'); break;
        case 't': g_string_append_c (s, '\t'); break;
        case 'u':
          {
            int u = j->end - j->p >= 4 ? hex4 (j->p) : -1;
            if (u < 0)
              {
                g_string_free (s, TRUE);
                return syntax (j, "four hex digits after \\u");
              }
            j->p += 4;
            gunichar ch = (gunichar) u;
            if (u >= 0xD800 && u <= 0xDBFF)
              {
                int lo = (j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u')
                             ? hex4 (j->p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                  {
                    g_string_free (s, TRUE);
                    return syntax (j, "a low surrogate after a high one");
                  }
                j->p += 6;
                ch = 0x10000 + (((gunichar) u - 0xD800) << 10) + ((gunichar) lo - 0xDC00);
              }
            else if (u >= 0xDC00 && u <= 0xDFFF)
              {
                g_string_free (s, TRUE);
                return syntax (j, "no lone low surrogate");
              }
            if (ch == 0)
              {
                g_string_free (s, TRUE);
                return fail (j, "header string contains a NUL character");
              }
            g_string_append_unichar (s, ch);
            break;
          }
        default:
          g_string_free (s, TRUE);
          return syntax (j, "a valid escape sequence");
        }
    }
  *out = g_string_free (s, FALSE);
  return TRUE;
}

/* A non-negative JSON integer that fits in 64 bits. Returns FALSE without
 * an error set when the next value is some other kind of JSON (the caller
 * says what it wanted). */
static gboolean
read_uint (Json *j, guint64 *out, gboolean *overflow)
{
  skip_ws (j);
  const char *q = j->p;
  guint64 v = 0;
  *overflow = FALSE;
  if (q >= j->end || *q < '0' || *q > '9' || (*q == '0' && q + 1 < j->end && q[1] >= '0'
                                               && q[1] <= '9'))
    return FALSE;
  while (q < j->end && *q >= '0' && *q <= '9')
    {
      guint d = (guint) (*q - '0');
      if (v > (G_MAXUINT64 - d) / 10)
        *overflow = TRUE;
      v = v * 10 + d;
      q++;
    }
  /* 3.0 and 1e3 are numbers, but not integers */
  if (q < j->end && (*q == '.' || *q == 'e' || *q == 'E'))
    return FALSE;
  j->p = q;
  *out = v;
  return !*overflow;
}

static gboolean skip_value (Json *j, int depth);

static gboolean
skip_container (Json *j, char close, gboolean object, int depth)
{
  j->p++;
  if (peek (j) == close)
    {
      j->p++;
      return TRUE;
    }
  while (TRUE)
    {
      if (object)
        {
          g_autofree char *key = NULL;
          if (!read_string (j, &key) || !expect (j, ':'))
            return FALSE;
        }
      if (!skip_value (j, depth + 1))
        return FALSE;
      char c = peek (j);
      if (c == close)
        {
          j->p++;
          return TRUE;
        }
      if (!expect (j, ','))
        return FALSE;
    }
}

/* Any JSON value, discarded (fields of a tensor entry we do not use). */
static gboolean
skip_value (Json *j, int depth)
{
  if (depth > JSON_MAX_DEPTH)
    return fail (j, "header nests deeper than %d levels", JSON_MAX_DEPTH);
  char c = peek (j);
  if (c == '{')
    return skip_container (j, '}', TRUE, depth);
  if (c == '[')
    return skip_container (j, ']', FALSE, depth);
  if (c == '"')
    {
      g_autofree char *s = NULL;
      return read_string (j, &s);
    }
  static const char *const words[] = { "true", "false", "null" };
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    {
      gsize n = strlen (words[i]);
      if ((gsize) (j->end - j->p) >= n && memcmp (j->p, words[i], n) == 0)
        {
          j->p += n;
          return TRUE;
        }
    }
  /* number: -?digits(.digits)?([eE][+-]?digits)? */
  const char *q = j->p;
  if (q < j->end && *q == '-')
    q++;
  const char *digits = q;
  while (q < j->end && g_ascii_isdigit (*q))
    q++;
  if (q == digits)
    return syntax (j, "a value");
  if (q < j->end && *q == '.')
    {
      q++;
      const char *f = q;
      while (q < j->end && g_ascii_isdigit (*q))
        q++;
      if (q == f)
        return syntax (j, "digits after '.'");
    }
  if (q < j->end && (*q == 'e' || *q == 'E'))
    {
      q++;
      if (q < j->end && (*q == '+' || *q == '-'))
        q++;
      const char *f = q;
      while (q < j->end && g_ascii_isdigit (*q))
        q++;
      if (q == f)
        return syntax (j, "digits in the exponent");
    }
  j->p = q;
  return TRUE;
}

static gboolean
read_shape (Json *j, Entry *e)
{
  if (!expect (j, '['))
    return FALSE;
  e->ndim = 0;
  if (peek (j) == ']')
    {
      j->p++;
      return TRUE;
    }
  while (TRUE)
    {
      guint64 d;
      gboolean overflow;
      if (!read_uint (j, &d, &overflow) || d > G_MAXINT64)
        return fail (j, "tensor '%s': shape must be a list of non-negative integers", e->name);
      if (e->ndim == RG_MAX_DIMS)
        {
          g_set_error (j->error, RG_ERROR, RG_ERROR_UNSUPPORTED,
                       "%s: tensor '%s' has more than %d dimensions", j->file, e->name,
                       RG_MAX_DIMS);
          return FALSE;
        }
      e->shape[e->ndim++] = (int64_t) d;
      char c = peek (j);
      if (c == ']')
        {
          j->p++;
          return TRUE;
        }
      if (c != ',')
        return fail (j, "tensor '%s': shape must be a list of non-negative integers", e->name);
      j->p++;
    }
}

static gboolean
read_offsets (Json *j, Entry *e)
{
  gboolean overflow;
  if (!expect (j, '[') || !read_uint (j, &e->begin, &overflow) || !expect (j, ',')
      || !read_uint (j, &e->end, &overflow) || !expect (j, ']'))
    {
      g_clear_error (j->error);
      return fail (j, "tensor '%s': data_offsets must be [begin, end] of non-negative integers",
                   e->name);
    }
  if (e->begin > e->end)
    return fail (j, "tensor '%s': data_offsets begin %" G_GUINT64_FORMAT
                    " is after end %" G_GUINT64_FORMAT, e->name, e->begin, e->end);
  return TRUE;
}

static gboolean
read_entry (Json *j, Entry *e)
{
  gboolean have_dtype = FALSE, have_shape = FALSE, have_offsets = FALSE;
  if (!expect (j, '{'))
    {
      g_clear_error (j->error);
      return fail (j, "tensor '%s': entry is not an object", e->name);
    }
  if (peek (j) == '}')
    j->p++;
  else
    while (TRUE)
      {
        g_autofree char *key = NULL;
        if (!read_string (j, &key) || !expect (j, ':'))
          return FALSE;
        if (peek (j) == 0)
          return syntax (j, "a value");
        gboolean *seen = NULL;
        if (strcmp (key, "dtype") == 0)
          {
            g_autofree char *dt = NULL;
            if (peek (j) != '"')
              return fail (j, "tensor '%s': dtype is not a string", e->name);
            if (!read_string (j, &dt))
              return FALSE;
            guint k;
            for (k = 0; k < G_N_ELEMENTS (format_dtypes); k++)
              if (strcmp (dt, format_dtypes[k].name) == 0)
                break;
            if (k == G_N_ELEMENTS (format_dtypes))
              return fail (j, "tensor '%s': unknown dtype '%s'", e->name, dt);
            g_strlcpy (e->dtype_name, dt, sizeof e->dtype_name);
            e->dtype_size = format_dtypes[k].size;
            e->supported = rg_dtype_from_name (dt, &e->dtype);
            seen = &have_dtype;
          }
        else if (strcmp (key, "shape") == 0)
          {
            if (!read_shape (j, e))
              return FALSE;
            seen = &have_shape;
          }
        else if (strcmp (key, "data_offsets") == 0)
          {
            if (!read_offsets (j, e))
              return FALSE;
            seen = &have_offsets;
          }
        else if (!skip_value (j, 2))
          return FALSE;
        if (seen != NULL)
          {
            if (*seen)
              return fail (j, "tensor '%s': duplicate field '%s'", e->name, key);
            *seen = TRUE;
          }
        char c = peek (j);
        if (c == '}')
          {
            j->p++;
            break;
          }
        if (!expect (j, ','))
          return FALSE;
      }
  if (!have_dtype || !have_shape || !have_offsets)
    return fail (j, "tensor '%s': missing %s", e->name,
                 !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
  return TRUE;
}

static gboolean
read_metadata (Json *j, GHashTable *metadata)
{
  if (peek (j) != '{')
    return fail (j, "__metadata__ is not an object");
  j->p++;
  if (peek (j) == '}')
    {
      j->p++;
      return TRUE;
    }
  while (TRUE)
    {
      char *key = NULL, *value = NULL;
      if (!read_string (j, &key))
        return FALSE;
      if (!expect (j, ':'))
        {
          g_free (key);
          return FALSE;
        }
      if (peek (j) == 0)
        {
          g_free (key);
          return syntax (j, "a value");
        }
      if (peek (j) != '"')
        {
          gboolean ok = fail (j, "__metadata__ value for '%s' is not a string", key);
          g_free (key);
          return ok;
        }
      if (!read_string (j, &value))
        {
          g_free (key);
          return FALSE;
        }
      if (g_hash_table_contains (metadata, key))
        {
          fail (j, "duplicate __metadata__ key '%s'", key);
          g_free (key);
          g_free (value);
          return FALSE;
        }
      g_hash_table_insert (metadata, key, value);
      char c = peek (j);
      if (c == '}')
        {
          j->p++;
          return TRUE;
        }
      if (!expect (j, ','))
        return FALSE;
    }
}

static gboolean
parse_header (RgSafetensors *st, const char *header, gsize n, GError **error)
{
  Json j = { header, header, header + n, st->path, error };
  gboolean have_metadata = FALSE;

  if (peek (&j) != '{')
    return fail (&j, "header is not a JSON object");
  j.p++;
  if (peek (&j) == '}')
    j.p++;
  else
    while (TRUE)
      {
        Entry e = { 0 };
        if (peek (&j) != '"')
          return syntax (&j, "a tensor name");
        if (!read_string (&j, &e.name))
          return FALSE;
        if (!expect (&j, ':'))
          {
            g_free (e.name);
            return FALSE;
          }
        if (strcmp (e.name, "__metadata__") == 0)
          {
            gboolean dup = have_metadata;
            g_free (e.name);
            if (dup)
              return fail (&j, "duplicate __metadata__ entry");
            have_metadata = TRUE;
            if (!read_metadata (&j, st->metadata))
              return FALSE;
          }
        else
          {
            if (g_hash_table_contains (st->index, e.name))
              {
                fail (&j, "duplicate tensor name '%s'", e.name);
                g_free (e.name);
                return FALSE;
              }
            if (!read_entry (&j, &e))
              {
                g_free (e.name);
                return FALSE;
              }
            g_array_append_val (st->entries, e);
            g_hash_table_insert (st->index, e.name, GUINT_TO_POINTER (st->entries->len));
          }
        char c = peek (&j);
        if (c == '}')
          {
            j.p++;
            break;
          }
        if (!expect (&j, ','))
          return FALSE;
      }
  /* writers pad the header with spaces; anything else after it is garbage */
  skip_ws (&j);
  if (j.p != j.end)
    return fail (&j, "unexpected bytes after the header object (at byte %" G_GSIZE_FORMAT ")",
                 (gsize) (j.p - j.start));
  return TRUE;
}

/* ---- layout checks ---- */

static gint
cmp_by_offset (gconstpointer a, gconstpointer b)
{
  const Entry *x = *(const Entry *const *) a, *y = *(const Entry *const *) b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return strcmp (x->name, y->name);
}

static gint
cmp_by_name (gconstpointer a, gconstpointer b)
{
  return strcmp (((const Entry *) a)->name, ((const Entry *) b)->name);
}

static gboolean
check_layout (RgSafetensors *st, guint64 buffer_len, GError **error)
{
  g_autoptr (GPtrArray) order = g_ptr_array_sized_new (st->entries->len);
  for (guint i = 0; i < st->entries->len; i++)
    g_ptr_array_add (order, &g_array_index (st->entries, Entry, i));
  g_ptr_array_sort (order, cmp_by_offset);

  guint64 expected = 0;
  for (guint i = 0; i < order->len; i++)
    {
      const Entry *e = order->pdata[i];
      guint64 numel = 1;
      gboolean overflow = FALSE;
      for (int d = 0; d < e->ndim; d++)
        {
          guint64 s = (guint64) e->shape[d];
          if (s != 0 && numel > G_MAXUINT64 / s)
            overflow = TRUE;
          numel *= s;
        }
      if (overflow || numel > G_MAXUINT64 / e->dtype_size)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: tensor '%s': element count times dtype size overflows 64 bits",
                       st->path, e->name);
          return FALSE;
        }
      if (e->begin != expected)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: tensor '%s' starts at byte %" G_GUINT64_FORMAT
                       " of the data buffer, expected %" G_GUINT64_FORMAT
                       " (tensors must be contiguous, without gaps or overlaps)",
                       st->path, e->name, e->begin, expected);
          return FALSE;
        }
      guint64 need = numel * e->dtype_size;
      if (e->end - e->begin != need)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: tensor '%s' has %" G_GUINT64_FORMAT " bytes but its shape and %s "
                       "dtype need %" G_GUINT64_FORMAT,
                       st->path, e->name, e->end - e->begin, e->dtype_name, need);
          return FALSE;
        }
      expected = e->end;
    }
  if (expected != buffer_len)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: the data buffer has %" G_GUINT64_FORMAT " bytes but the tensors cover %"
                   G_GUINT64_FORMAT " (truncated file or trailing bytes)",
                   st->path, buffer_len, expected);
      return FALSE;
    }
  return TRUE;
}

/* ---- opening ---- */

static RgSafetensors *
wrap (GBytes *bytes, const char *name, GError **error)
{
  gsize size;
  const guint8 *base = g_bytes_get_data (bytes, &size);
  g_autoptr (RgSafetensors) st = g_new0 (RgSafetensors, 1);
  st->ref_count = 1;
  st->path = g_strdup (name);
  st->bytes = g_bytes_ref (bytes);
  st->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_array_set_clear_func (st->entries, entry_clear);
  st->index = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (size < 8)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: file has %" G_GSIZE_FORMAT " bytes, too few for the 8-byte header length",
                   name, size);
      return NULL;
    }
  guint64 n;
  memcpy (&n, base, 8);
  n = GUINT64_FROM_LE (n);
  if (n > RG_SAFETENSORS_MAX_HEADER)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: header length %" G_GUINT64_FORMAT " exceeds the limit of %d bytes",
                   name, n, RG_SAFETENSORS_MAX_HEADER);
      return NULL;
    }
  if (n > size - 8)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: header length %" G_GUINT64_FORMAT " runs past the end of the file (%"
                   G_GSIZE_FORMAT " bytes)", name, n, size);
      return NULL;
    }
  const char *header = (const char *) base + 8;
  if (!g_utf8_validate_len (header, n, NULL))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: header is not valid UTF-8", name);
      return NULL;
    }
  if (!parse_header (st, header, n, error) || !check_layout (st, size - 8 - n, error))
    return NULL;

  /* sorted by name for listing; the index is rebuilt after the sort */
  g_array_sort (st->entries, cmp_by_name);
  g_hash_table_remove_all (st->index);
  for (guint i = 0; i < st->entries->len; i++)
    g_hash_table_insert (st->index, g_array_index (st->entries, Entry, i).name,
                         GUINT_TO_POINTER (i + 1));
  st->data = base + 8 + n;
  return g_steal_pointer (&st);
}

RgSafetensors *
rg_safetensors_new_from_bytes (GBytes *bytes, const char *name, GError **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  return wrap (bytes, name != NULL ? name : "(memory)", error);
}

RgSafetensors *
rg_safetensors_open (const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GMappedFile) mf = g_mapped_file_new (path, FALSE, &local);
  if (mf == NULL)
    {
      g_set_error (error, RG_ERROR, g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                                        ? RG_ERROR_NOT_FOUND : RG_ERROR_IO,
                   "%s", local->message);
      return NULL;
    }
  g_autoptr (GBytes) bytes = g_mapped_file_get_bytes (mf);
  return wrap (bytes, path, error);
}

RgSafetensors *
rg_safetensors_ref (RgSafetensors *st)
{
  g_return_val_if_fail (st != NULL, NULL);
  g_atomic_int_inc (&st->ref_count);
  return st;
}

void
rg_safetensors_unref (RgSafetensors *st)
{
  if (st == NULL || !g_atomic_int_dec_and_test (&st->ref_count))
    return;
  g_hash_table_unref (st->index);
  g_hash_table_unref (st->metadata);
  g_array_unref (st->entries);
  g_bytes_unref (st->bytes);
  g_free (st->path);
  g_free (st);
}

const char *
rg_safetensors_get_path (RgSafetensors *st)
{
  return st->path;
}

gsize
rg_safetensors_get_file_size (RgSafetensors *st)
{
  return g_bytes_get_size (st->bytes);
}

guint
rg_safetensors_get_n_tensors (RgSafetensors *st)
{
  return st->entries->len;
}

const char *
rg_safetensors_get_name (RgSafetensors *st, guint i)
{
  g_return_val_if_fail (i < st->entries->len, NULL);
  return g_array_index (st->entries, Entry, i).name;
}

static const Entry *
lookup (RgSafetensors *st, const char *name)
{
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (st->index, name));
  return i == 0 ? NULL : &g_array_index (st->entries, Entry, i - 1);
}

gboolean
rg_safetensors_contains (RgSafetensors *st, const char *name)
{
  return lookup (st, name) != NULL;
}

gboolean
rg_safetensors_describe (RgSafetensors *st, const char *name, const char **dtype_name,
                         int *ndim, int64_t shape[RG_MAX_DIMS], gboolean *supported,
                         RgDType *dtype)
{
  const Entry *e = lookup (st, name);
  if (e == NULL)
    return FALSE;
  if (dtype_name)
    *dtype_name = e->dtype_name;
  if (ndim)
    *ndim = e->ndim;
  if (shape)
    memcpy (shape, e->shape, sizeof e->shape);
  if (supported)
    *supported = e->supported;
  if (dtype && e->supported)
    *dtype = e->dtype;
  return TRUE;
}

static const Entry *
lookup_or_fail (RgSafetensors *st, const char *name, GError **error)
{
  const Entry *e = lookup (st, name);
  if (e == NULL)
    g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "%s: no tensor named '%s'", st->path,
                 name);
  else if (!e->supported)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
                   "%s: tensor '%s' has dtype %s, which Reelgen does not handle", st->path,
                   name, e->dtype_name);
      return NULL;
    }
  return e;
}

RgTensor *
rg_safetensors_get (RgSafetensors *st, const char *name, GError **error)
{
  const Entry *e = lookup_or_fail (st, name, error);
  if (e == NULL)
    return NULL;
  const guint8 *p = st->data + e->begin;
  if (((guintptr) p % e->dtype_size) == 0)
    return rg_tensor_new_borrowed (e->dtype, e->ndim, e->shape, (void *) p,
                                   g_bytes_ref (st->bytes), (GDestroyNotify) g_bytes_unref);
  /* legal but unaligned: a copy keeps typed loads well-defined */
  RgTensor *t = rg_tensor_new (e->dtype, e->ndim, e->shape);
  memcpy (t->data, p, e->end - e->begin);
  return t;
}

RgTensor *
rg_safetensors_get_f32 (RgSafetensors *st, const char *name, GError **error)
{
  const Entry *e = lookup_or_fail (st, name, error);
  if (e == NULL)
    return NULL;
  if (e->dtype != RG_F32 && e->dtype != RG_BF16 && e->dtype != RG_F16)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
                   "%s: tensor '%s' has dtype %s, not a float dtype", st->path, name,
                   e->dtype_name);
      return NULL;
    }
  g_autoptr (RgTensor) raw = rg_safetensors_get (st, name, error);
  if (raw == NULL)
    return NULL;
  if (raw->dtype == RG_F32)
    return g_steal_pointer (&raw);
  return rg_tensor_to_dtype (raw, RG_F32);
}

const char *
rg_safetensors_get_metadata (RgSafetensors *st, const char *key)
{
  return g_hash_table_lookup (st->metadata, key);
}

GHashTable *
rg_safetensors_get_metadata_table (RgSafetensors *st)
{
  return st->metadata;
}

/* ---- writing ---- */

typedef struct {
  char     *name;
  RgTensor *tensor;
  RgDType   dtype;
} WEntry;

struct _RgSafetensorsWriter {
  GArray     *entries; /* WEntry */
  GHashTable *names;
  GHashTable *metadata;
};

static void
wentry_clear (gpointer p)
{
  WEntry *e = p;
  g_free (e->name);
  rg_tensor_unref (e->tensor);
}

RgSafetensorsWriter *
rg_safetensors_writer_new (void)
{
  RgSafetensorsWriter *w = g_new0 (RgSafetensorsWriter, 1);
  w->entries = g_array_new (FALSE, TRUE, sizeof (WEntry));
  g_array_set_clear_func (w->entries, wentry_clear);
  w->names = g_hash_table_new (g_str_hash, g_str_equal);
  w->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return w;
}

void
rg_safetensors_writer_free (RgSafetensorsWriter *w)
{
  if (w == NULL)
    return;
  g_hash_table_unref (w->names);
  g_hash_table_unref (w->metadata);
  g_array_unref (w->entries);
  g_free (w);
}

static gboolean
is_float (RgDType d)
{
  return d == RG_F32 || d == RG_BF16 || d == RG_F16;
}

gboolean
rg_safetensors_writer_add (RgSafetensorsWriter *w, const char *name, RgTensor *t,
                           RgDType store_dtype, GError **error)
{
  g_return_val_if_fail (name != NULL && t != NULL, FALSE);
  if (g_str_has_prefix (name, "__metadata__") || g_hash_table_contains (w->names, name))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "tensor name '%s' is reserved or already added", name);
      return FALSE;
    }
  if (store_dtype != t->dtype && !(is_float (store_dtype) && is_float (t->dtype)))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "tensor '%s': cannot store %s data as %s", name, rg_dtype_name (t->dtype),
                   rg_dtype_name (store_dtype));
      return FALSE;
    }
  WEntry e = { g_strdup (name), rg_tensor_ref (t), store_dtype };
  g_array_append_val (w->entries, e);
  g_hash_table_add (w->names, e.name);
  return TRUE;
}

void
rg_safetensors_writer_set_metadata (RgSafetensorsWriter *w, const char *key, const char *value)
{
  g_hash_table_replace (w->metadata, g_strdup (key), g_strdup (value));
}

static void
append_json_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const unsigned char *p = (const unsigned char *) str; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (s, "\\%c", *p);
      else if (*p < 0x20)
        g_string_append_printf (s, "\\u%04x", *p);
      else
        g_string_append_c (s, (char) *p);
    }
  g_string_append_c (s, '"');
}

static gint
cmp_wentry (gconstpointer a, gconstpointer b)
{
  return strcmp (((const WEntry *) a)->name, ((const WEntry *) b)->name);
}

/* The 8-byte length + padded header. */
static GString *
build_header (RgSafetensorsWriter *w)
{
  g_array_sort (w->entries, cmp_wentry);
  GString *s = g_string_new ("{");
  if (g_hash_table_size (w->metadata) > 0)
    {
      g_autoptr (GList) keys = g_hash_table_get_keys (w->metadata);
      keys = g_list_sort (keys, (GCompareFunc) strcmp);
      g_string_append (s, "\"__metadata__\":{");
      for (GList *l = keys; l; l = l->next)
        {
          append_json_string (s, l->data);
          g_string_append_c (s, ':');
          append_json_string (s, g_hash_table_lookup (w->metadata, l->data));
          if (l->next)
            g_string_append_c (s, ',');
        }
      g_string_append_c (s, '}');
      if (w->entries->len > 0)
        g_string_append_c (s, ',');
    }
  guint64 offset = 0;
  for (guint i = 0; i < w->entries->len; i++)
    {
      const WEntry *e = &g_array_index (w->entries, WEntry, i);
      guint64 bytes = (guint64) rg_tensor_numel (e->tensor) * rg_dtype_size (e->dtype);
      append_json_string (s, e->name);
      g_string_append_printf (s, ":{\"dtype\":\"%s\",\"shape\":[", rg_dtype_name (e->dtype));
      for (int d = 0; d < e->tensor->ndim; d++)
        g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? "," : "", e->tensor->shape[d]);
      g_string_append_printf (s, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
                                 "]}%s", offset, offset + bytes,
                              i + 1 < w->entries->len ? "," : "");
      offset += bytes;
    }
  g_string_append_c (s, '}');
  while (s->len % 8 != 0)
    g_string_append_c (s, ' ');
  guint64 n = GUINT64_TO_LE ((guint64) s->len);
  g_string_prepend_len (s, (const char *) &n, 8);
  return s;
}

typedef gboolean (*SinkFunc) (void *sink, const void *data, gsize n, GError **error);

/* Header, then each tensor converted to its stored dtype in chunks, so a
 * multi-GB checkpoint never needs a second full copy in memory. */
static gboolean
write_all (RgSafetensorsWriter *w, SinkFunc sink, void *ctx, GError **error)
{
  g_autoptr (GString) header = build_header (w);
  if (!sink (ctx, header->str, header->len, error))
    return FALSE;
  for (guint i = 0; i < w->entries->len; i++)
    {
      const WEntry *e = &g_array_index (w->entries, WEntry, i);
      g_autoptr (RgTensor) packed = rg_tensor_contiguous (e->tensor);
      gsize n = (gsize) rg_tensor_numel (packed);
      gsize in_size = rg_dtype_size (packed->dtype), out_size = rg_dtype_size (e->dtype);
      if (packed->dtype == e->dtype)
        {
          if (!sink (ctx, packed->data, n * in_size, error))
            return FALSE;
          continue;
        }
      enum { CHUNK = 1 << 16 };
      g_autofree guint8 *buf = g_malloc (CHUNK * out_size);
      for (gsize at = 0; at < n; at += CHUNK)
        {
          gsize m = MIN ((gsize) CHUNK, n - at);
          rg_convert_floats ((const guint8 *) packed->data + at * in_size, packed->dtype, buf,
                             e->dtype, m);
          if (!sink (ctx, buf, m * out_size, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
sink_bytes (void *ctx, const void *data, gsize n, GError **error)
{
  /* GByteArray lengths are guint: append in pieces that fit */
  for (gsize at = 0; at < n; at += G_MAXINT32)
    g_byte_array_append (ctx, (const guint8 *) data + at, (guint) MIN (n - at, G_MAXINT32));
  return TRUE;
}

GBytes *
rg_safetensors_writer_to_bytes (RgSafetensorsWriter *w, GError **error)
{
  GByteArray *a = g_byte_array_new ();
  if (!write_all (w, sink_bytes, a, error))
    {
      g_byte_array_unref (a);
      return NULL;
    }
  return g_byte_array_free_to_bytes (a);
}

typedef struct {
  FILE       *f;
  const char *path;
} FileSink;

static gboolean
sink_file (void *ctx, const void *data, gsize n, GError **error)
{
  FileSink *fs = ctx;
  if (n > 0 && fwrite (data, 1, n, fs->f) != n)
    {
      int err = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: write failed: %s", fs->path,
                   g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_safetensors_writer_save (RgSafetensorsWriter *w, const char *path, GError **error)
{
  g_autofree char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  int fd = g_mkstemp (tmp);
  if (fd < 0)
    {
      int err = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot create a temporary file: %s", path,
                   g_strerror (err));
      return FALSE;
    }
  FILE *f = fdopen (fd, "wb");
  if (f == NULL)
    {
      int err = errno;
      close (fd);
      g_unlink (tmp);
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: %s", path, g_strerror (err));
      return FALSE;
    }
  FileSink fs = { f, path };
  gboolean ok = write_all (w, sink_file, &fs, error);
  if (ok && (fflush (f) != 0 || fsync (fileno (f)) != 0))
    {
      int err = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: flushing failed: %s", path,
                   g_strerror (err));
      ok = FALSE;
    }
  if (fclose (f) != 0 && ok)
    {
      int err = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: closing failed: %s", path,
                   g_strerror (err));
      ok = FALSE;
    }
  /* mkstemp makes the file 0600; a checkpoint is an ordinary file */
  if (ok)
    (void) g_chmod (tmp, 0644);
  if (ok && g_rename (tmp, path) != 0)
    {
      int err = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot replace the file: %s", path,
                   g_strerror (err));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  return ok;
}
