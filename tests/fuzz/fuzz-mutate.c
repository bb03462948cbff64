/* fuzz-mutate.c — see fuzz-mutate.h. */
#include "fuzz-mutate.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What the crash reporter prints: kept preformatted because a signal
 * handler may only call async-signal-safe functions (write). */
static char crash_note[256];
static gsize crash_note_len;

static void
crash_report (int sig)
{
  if (crash_note_len > 0)
    {
      ssize_t r = write (STDERR_FILENO, crash_note, crash_note_len);
      (void)r;
    }
  signal (sig, SIG_DFL);
  raise (sig);
}

void
rg_fuzz_init (RgFuzz *fz, const char *target, guint64 default_seed, guint iterations)
{
  const char *s = g_getenv ("RG_FUZZ_SEED");
  const char *n = g_getenv ("RG_FUZZ_ITERS");
  const char *only = g_getenv ("RG_FUZZ_ONLY");

  memset (fz, 0, sizeof *fz);
  fz->target = target;
  fz->seed = s ? g_ascii_strtoull (s, NULL, 0) : default_seed;
  fz->iterations = n ? (guint)g_ascii_strtoull (n, NULL, 0) : iterations;
  fz->only = only ? (gint64)g_ascii_strtoll (only, NULL, 0) : -1;
  g_test_message ("fuzz %s: seed %" G_GUINT64_FORMAT ", %u iterations", target, fz->seed,
                  fz->iterations);
  signal (SIGSEGV, crash_report);
  signal (SIGBUS, crash_report);
  signal (SIGFPE, crash_report);
  signal (SIGABRT, crash_report);
  signal (SIGTRAP, crash_report); /* g_error() */
}

gboolean
rg_fuzz_case (RgFuzz *fz, guint i)
{
  if (fz->only >= 0 && (gint64)i != fz->only)
    return FALSE;
  fz->iteration = i;
  /* The stream is the iteration, so case i never depends on cases < i. */
  rg_rng_init (&fz->rng, fz->seed, i);
  crash_note_len = (gsize)g_snprintf (crash_note, sizeof crash_note,
                                      "\nfuzz %s: died at seed %" G_GUINT64_FORMAT
                                      " iteration %u (replay: RG_FUZZ_SEED=%" G_GUINT64_FORMAT
                                      " RG_FUZZ_ONLY=%u)\n",
                                      fz->target, fz->seed, i, fz->seed, i);
  crash_note_len = MIN (crash_note_len, sizeof crash_note - 1);
  return TRUE;
}

static gsize
pick (RgFuzz *fz, gsize n)
{
  /* 64 random bits: rg_rng_range() stops at int, and files may not. */
  return n == 0 ? 0 : (gsize)(((guint64)rg_rng_u32 (&fz->rng) << 32 | rg_rng_u32 (&fz->rng)) % n);
}

static const guint64 hostile_ints[] = {
  0,
  1,
  0x7f,
  0xff,
  0x7fffffffu,
  0x80000000u,
  0xffffffffu,
  G_GUINT64_CONSTANT (0x100000000),
  G_GUINT64_CONSTANT (0x7fffffffffffffff),
  G_GUINT64_CONSTANT (0x8000000000000000),
  G_GUINT64_CONSTANT (0xffffffffffffffff),
  G_GUINT64_CONSTANT (1) << 40,
};

static const char *const hostile_numbers[] = {
  "-1",
  "0",
  "-0",
  "1e308",
  "-1e308",
  "1e999",
  "4294967296",
  "2147483648",
  "-2147483649",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775809",
  "18446744073709551616",
  "0.5",
  "1e-320",
  "123456789012345678901234567890",
};

static void
replace_number (RgFuzz *fz, GByteArray *b)
{
  /* Find the start of a digit run at or after a random point. */
  gsize start = pick (fz, b->len), i;
  for (i = start; i < b->len; i++)
    if (g_ascii_isdigit (b->data[i]))
      break;
  if (i >= b->len)
    return;
  gsize s = i;
  if (s > 0 && b->data[s - 1] == '-')
    s--;
  gsize e = i;
  while (e < b->len
         && (g_ascii_isdigit (b->data[e]) || b->data[e] == '.' || b->data[e] == 'e'
             || b->data[e] == 'E' || b->data[e] == '+' || b->data[e] == '-'))
    e++;
  const char *rep = hostile_numbers[pick (fz, G_N_ELEMENTS (hostile_numbers))];
  g_byte_array_remove_range (b, (guint)s, (guint)(e - s));
  /* GByteArray has no insert; splice through a temporary. */
  GByteArray *tail = g_byte_array_new ();
  g_byte_array_append (tail, b->data + s, b->len - (guint)s);
  g_byte_array_set_size (b, (guint)s);
  g_byte_array_append (b, (const guint8 *)rep, (guint)strlen (rep));
  g_byte_array_append (b, tail->data, tail->len);
  g_byte_array_unref (tail);
}

static void
drop_structural (RgFuzz *fz, GByteArray *b)
{
  gsize start = pick (fz, b->len);
  for (gsize i = start; i < b->len; i++)
    if (strchr ("\"{}[]:,", b->data[i]) != NULL)
      {
        g_byte_array_remove_index (b, (guint)i);
        return;
      }
}

static const char *const hostile_values[] = {
  "null", "true", "[]", "{}", "\"\"", "\"x\"", "[1,2]", "{\"a\":1}", "-1", "1e999", "0.5",
};

/* Replaces the JSON value after a random ':' (up to the next ',', '}' or
 * ']' outside a string) with one of another type: type confusion is where
 * readers that trust a member's type go wrong. */
static void
swap_value (RgFuzz *fz, GByteArray *b)
{
  gsize i = pick (fz, b->len);
  while (i < b->len && b->data[i] != ':')
    i++;
  if (i >= b->len)
    return;
  gsize s = i + 1, e = s;
  gboolean in_string = FALSE;
  int depth = 0;
  for (; e < b->len; e++)
    {
      guint8 c = b->data[e];
      if (in_string)
        {
          if (c == '\\')
            e++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        depth++;
      else if ((c == ']' || c == '}') && depth-- == 0)
        break;
      else if (c == ',' && depth == 0)
        break;
    }
  const char *rep = hostile_values[pick (fz, G_N_ELEMENTS (hostile_values))];
  GByteArray *tail = g_byte_array_new ();
  g_byte_array_append (tail, b->data + e, b->len - (guint)e);
  g_byte_array_set_size (b, (guint)s);
  g_byte_array_append (b, (const guint8 *)rep, (guint)strlen (rep));
  g_byte_array_append (b, tail->data, tail->len);
  g_byte_array_unref (tail);
}

GByteArray *
rg_fuzz_mutate (RgFuzz *fz, const guint8 *in, gsize len, guint max_mutations,
                const RgFuzzField *fields, guint n_fields, gboolean text)
{
  static const guint8 bytes[] = { 0x00, 0xff, 0x7f, 0x80 };
  GByteArray *b = g_byte_array_sized_new ((guint)len);
  g_byte_array_append (b, in, (guint)len);

  guint n = 1 + (guint)pick (fz, max_mutations);
  for (guint m = 0; m < n && b->len > 0; m++)
    {
      guint kind = (guint)pick (fz, text ? 10 : 6);
      switch (kind)
        {
        case 0: /* bit flip */
          {
            gsize at = pick (fz, b->len);
            b->data[at] ^= (guint8)(1u << pick (fz, 8));
            break;
          }
        case 1: /* interesting byte */
          b->data[pick (fz, b->len)] = bytes[pick (fz, G_N_ELEMENTS (bytes))];
          break;
        case 2: /* truncation: only once, and it ends the mutations */
          g_byte_array_set_size (b, (guint)pick (fz, b->len));
          m = n;
          break;
        case 3: /* chunk duplication */
          {
            gsize at = pick (fz, b->len);
            gsize sz = 1 + pick (fz, MIN ((gsize)64, b->len - at));
            GByteArray *tail = g_byte_array_new ();
            g_byte_array_append (tail, b->data + at, b->len - (guint)at);
            g_byte_array_set_size (b, (guint)(at + sz));
            g_byte_array_append (b, tail->data, tail->len);
            g_byte_array_unref (tail);
            break;
          }
        case 4: /* chunk deletion */
          {
            gsize at = pick (fz, b->len);
            gsize sz = 1 + pick (fz, MIN ((gsize)64, b->len - at));
            g_byte_array_remove_range (b, (guint)at, (guint)sz);
            break;
          }
        case 5: /* hostile integer field (falls back to a byte set) */
          if (n_fields > 0)
            {
              const RgFuzzField *f = &fields[pick (fz, n_fields)];
              guint64 v = hostile_ints[pick (fz, G_N_ELEMENTS (hostile_ints))];
              if (pick (fz, 4) == 0)
                v = ~v + 1; /* negative */
              if (f->offset + f->size <= b->len)
                for (guint k = 0; k < f->size; k++)
                  b->data[f->offset + k] = (guint8)(v >> (8 * k));
            }
          else
            b->data[pick (fz, b->len)] = (guint8)rg_rng_u32 (&fz->rng);
          break;
        case 6:
          replace_number (fz, b);
          break;
        case 7:
          drop_structural (fz, b);
          break;
        default: /* twice as likely: the most productive text mutation */
          swap_value (fz, b);
          break;
        }
    }
  return b;
}

void
rg_fuzz_check (RgFuzz *fz, gboolean ok, GError *error)
{
  if (ok && error != NULL)
    g_error ("fuzz %s seed %" G_GUINT64_FORMAT " iteration %u: success with an error set (%s)",
             fz->target, fz->seed, fz->iteration, error->message);
  if (!ok && error == NULL)
    g_error ("fuzz %s seed %" G_GUINT64_FORMAT " iteration %u: failure without a GError",
             fz->target, fz->seed, fz->iteration);
  if (!ok && (error->message == NULL || error->message[0] == '\0'))
    g_error ("fuzz %s seed %" G_GUINT64_FORMAT " iteration %u: GError with an empty message",
             fz->target, fz->seed, fz->iteration);
  g_clear_error (&error);
}

void
rg_fuzz_write (const char *path, const guint8 *data, gsize len)
{
  /* Plain stdio: g_file_set_contents() fsyncs, which makes thousands of
   * cases take seconds of disk waits and tells the parser nothing more. */
  FILE *f = fopen (path, "wb");
  g_assert_nonnull (f);
  g_assert_cmpuint (fwrite (data, 1, len, f), ==, len);
  g_assert_cmpint (fclose (f), ==, 0);
}
