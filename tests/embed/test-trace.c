/* test-trace.c — trace generator, locality statistics and the .rgtrace format. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "embed/rg-trace.h"

static RgTableSpec
small_spec (RgTableKind kind, int64_t rows)
{
  RgTableSpec s = { kind, 8, 4, rows, 1000, 1.1, 0.0, 4.0, 0.75 };
  return s;
}

static RgTrace *
small_trace (void)
{
  RgTableSpec   specs[2] = { small_spec (RG_TABLE_POOLED, 500), small_spec (RG_TABLE_SEQUENCE, 300) };
  RgTraceConfig c = { 2, specs, 64, 3, 42 };
  g_autoptr (GError) error = NULL;
  RgTrace *t = rg_trace_generate (&c, &error);
  g_assert_no_error (error);
  return t;
}

/* Zipf(q = 0, s = 1) over 1..4: P(k) = (1/k) / H_4, H_4 = 25/12. */
static void
test_zipf_frequencies (void)
{
  RgZipf z;
  rg_zipf_init (&z, 4, 1.0, 0.0);
  uint64_t state = 7, hits[5] = { 0 };
  const int n = 200000;
  for (int i = 0; i < n; i++)
    {
      int64_t k = rg_zipf_sample (&z, &state);
      g_assert_cmpint (k, >=, 1);
      g_assert_cmpint (k, <=, 4);
      hits[k]++;
    }
  for (int k = 1; k <= 4; k++)
    {
      double want = (1.0 / k) / (25.0 / 12.0);
      g_assert_cmpfloat_with_epsilon ((double) hits[k] / n, want, 0.005);
    }
  /* q flattens the head: P(1)/P(2) = ((2 + q)/(1 + q))^s = 1.5 for q = 1, s = 1. */
  rg_zipf_init (&z, 2, 1.0, 1.0);
  memset (hits, 0, sizeof hits);
  for (int i = 0; i < n; i++)
    hits[rg_zipf_sample (&z, &state)]++;
  g_assert_cmpfloat_with_epsilon ((double) hits[1] / hits[2], 1.5, 0.03);
}

static void
test_generate_shape_and_determinism (void)
{
  g_autoptr (RgTrace) a = small_trace ();
  g_autoptr (RgTrace) b = small_trace ();
  uint64_t touched = 0, samples = 0;
  for (uint32_t bi = 0; bi < a->n_batches; bi++)
    for (uint32_t t = 0; t < a->n_tables; t++)
      {
        const RgTraceBag *x = rg_trace_bag (a, bi, t), *y = rg_trace_bag (b, bi, t);
        g_assert_cmpuint (x->n_ids, ==, y->n_ids);
        g_assert_cmpmem (x->ids, x->n_ids * 8, y->ids, y->n_ids * 8);
        g_assert_cmpuint (x->offsets[0], ==, 0);
        g_assert_cmpuint (x->offsets[a->batch_size], ==, x->n_ids);
        for (uint32_t i = 0; i < a->batch_size; i++)
          {
            uint32_t len = x->offsets[i + 1] - x->offsets[i];
            g_assert_cmpuint (len, <=, 7); /* uniform on [1, 2·4 − 1] or empty */
            touched += len > 0;
            samples++;
          }
        for (uint64_t j = 0; j < x->n_ids; j++)
          g_assert_cmpint (x->ids[j], <, a->tables[t].rows);
      }
  /* Coverage 0.75 over 384 samples: well inside 0.6 .. 0.9. */
  g_assert_cmpfloat ((double) touched / samples, >, 0.6);
  g_assert_cmpfloat ((double) touched / samples, <, 0.9);

  /* Another seed, another trace. */
  RgTableSpec   specs[1] = { small_spec (RG_TABLE_POOLED, 500) };
  RgTraceConfig c = { 1, specs, 64, 1, 43 };
  g_autoptr (RgTrace) other = rg_trace_generate (&c, NULL);
  g_assert_false (other->bags[0].n_ids == a->bags[0].n_ids
                  && memcmp (other->bags[0].ids, a->bags[0].ids, a->bags[0].n_ids * 8) == 0);
}

static void
test_bad_specs (void)
{
  RgTableSpec   s = small_spec (RG_TABLE_POOLED, 0);
  RgTraceConfig c = { 1, &s, 8, 1, 1 };
  g_autoptr (GError) error = NULL;
  g_assert_null (rg_trace_generate (&c, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "table 0"));
  g_assert_nonnull (strstr (error->message, "rows"));
  g_clear_error (&error);
  s = small_spec (RG_TABLE_POOLED, 10);
  s.coverage = 0;
  g_assert_null (rg_trace_generate (&c, &error));
  g_assert_nonnull (strstr (error->message, "coverage"));
}

/* Hand-made batch: ids 5,5,5,7 | 5,9 → per-row counts 5:4, 7:1, 9:1. */
static void
test_reuse_by_hand (void)
{
  RgTableSpec spec = small_spec (RG_TABLE_POOLED, 10);
  uint32_t    offsets[3] = { 0, 4, 6 };
  int64_t     ids[6] = { 5, 5, 5, 7, 5, 9 };
  RgTraceBag  bag = { offsets, ids, 6 };
  RgTrace     t = { 1, &spec, 2, 1, 0, &bag };
  double      rows, lookups;
  rg_trace_reuse (&t, 0, 1, 3, &rows, &lookups); /* > 3: only row 5 */
  g_assert_cmpfloat_with_epsilon (rows, 1.0 / 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (lookups, 4.0 / 6.0, 1e-12);
  rg_trace_reuse (&t, 0, 1, 0, &rows, &lookups);
  g_assert_cmpfloat_with_epsilon (rows, 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (lookups, 1.0, 1e-12);
}

/* The dlrm preset sits near the published locality (see rg-trace-preset.c). */
static void
test_preset_locality (void)
{
  RgTableSpec specs[14];
  rg_trace_preset_dlrm (specs, 14, 0.2);
  RgTraceConfig c = { 14, specs, 512, 2, 5 };
  g_autoptr (RgTrace) t = rg_trace_generate (&c, NULL);
  double r64, l64, r16, l16;
  rg_trace_reuse (t, 0, 2, 64, &r64, &l64);
  rg_trace_reuse (t, 0, 2, 16, &r16, &l16);
  g_test_message ("reuse>64: %.4f rows %.3f lookups; reuse>16: %.4f rows %.3f lookups", r64, l64,
                  r16, l16);
  g_assert_cmpfloat (fabs (r64 - RG_DLRM_REUSE64_ROWS), <, 0.01);
  g_assert_cmpfloat (fabs (l64 - RG_DLRM_REUSE64_LOOKUPS), <, 0.08);
  g_assert_cmpfloat (fabs (r16 - RG_DLRM_REUSE16_ROWS), <, 0.06);
  g_assert_cmpfloat (fabs (l16 - RG_DLRM_REUSE16_LOOKUPS), <, 0.12);
  /* Hashing ids into many more rows leaves most rows untouched. */
  g_assert_cmpint (specs[0].id_space, <, specs[0].rows);
}

static char *
tmp_path (const char *name)
{
  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static void
test_round_trip (void)
{
  g_autoptr (RgTrace) a = small_trace ();
  g_autofree char *path = g_strdup_printf ("%s/rg-trace-%d.rgtrace", g_get_tmp_dir (), getpid ());
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_trace_save (a, path, &error));
  g_assert_no_error (error);
  g_autoptr (RgTrace) b = rg_trace_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (b->n_tables, ==, a->n_tables);
  g_assert_cmpuint (b->batch_size, ==, a->batch_size);
  g_assert_cmpuint (b->n_batches, ==, a->n_batches);
  for (uint32_t t = 0; t < a->n_tables; t++)
    {
      const RgTableSpec *x = &a->tables[t], *y = &b->tables[t];
      g_assert_true (x->kind == y->kind && x->dim == y->dim && x->elem_bytes == y->elem_bytes
                     && x->rows == y->rows && x->id_space == y->id_space
                     && x->zipf_s == y->zipf_s && x->zipf_q == y->zipf_q
                     && x->pooling == y->pooling && x->coverage == y->coverage);
    }
  for (gsize i = 0; i < (gsize) a->n_batches * a->n_tables; i++)
    {
      g_assert_cmpmem (b->bags[i].offsets, 4 * (a->batch_size + 1), a->bags[i].offsets,
                       4 * (a->batch_size + 1));
      g_assert_cmpmem (b->bags[i].ids, 8 * b->bags[i].n_ids, a->bags[i].ids, 8 * a->bags[i].n_ids);
    }
  g_unlink (path);
}

/* Writes `data` (len bytes) and expects rg_trace_load to fail with `code`
 * and a message containing `needle`. */
static void
expect_corrupt (const guint8 *data, gsize len, int code, const char *needle)
{
  g_autofree char *path = g_strdup_printf ("%s/rg-bad-%d.rgtrace", g_get_tmp_dir (), getpid ());
  g_assert_true (g_file_set_contents (path, (const char *) data, (gssize) len, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTrace) t = rg_trace_load (path, &error);
  g_assert_null (t);
  g_assert_error (error, RG_ERROR, code);
  if (!strstr (error->message, needle))
    g_error ("\"%s\" does not mention \"%s\"", error->message, needle);
  g_assert_nonnull (strstr (error->message, path));
  g_unlink (path);
}

static void
put64 (guint8 *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8) (v >> (8 * i));
}

static void
test_corrupt_files (void)
{
  g_autoptr (RgTrace) a = small_trace ();
  g_autofree char *path = tmp_path ("rg-good.rgtrace");
  g_assert_true (rg_trace_save (a, path, NULL));
  gchar *raw = NULL;
  gsize  len = 0;
  g_assert_true (g_file_get_contents (path, &raw, &len, NULL));
  g_unlink (path);
  g_autofree guint8 *good = (guint8 *) raw;
  g_autofree guint8 *buf = g_malloc (len + 64);
  const gsize        first_block = 32 + 2 * 64; /* header + 2 table specs */

  /* Truncated anywhere: header, specs, the middle of a block, the last byte. */
  gsize cuts[] = { 0, 20, 100, first_block + 10, first_block + 16 + 40, len - 1 };
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    expect_corrupt (good, cuts[i], RG_ERROR_CORRUPT, cuts[i] == 0 ? "truncated" : "");

  memcpy (buf, good, len);
  buf[0] = 'X';
  expect_corrupt (buf, len, RG_ERROR_CORRUPT, "bad magic");

  memcpy (buf, good, len);
  buf[8] = 99;
  expect_corrupt (buf, len, RG_ERROR_VERSION, "version 99");

  /* The first id of batch 0, table 0 becomes 500 (the table has 500 rows). */
  memcpy (buf, good, len);
  put64 (buf + first_block + 16 + 4 * 65, 500);
  if (a->bags[0].n_ids > 0)
    expect_corrupt (buf, len, RG_ERROR_CORRUPT, "not below the table's 500 rows");

  /* A hostile id count: 2^60 ids must not be allocated. */
  memcpy (buf, good, len);
  put64 (buf + first_block + 8, UINT64_C (1) << 60);
  expect_corrupt (buf, len, RG_ERROR_CORRUPT, "ids claimed");

  /* A hostile batch count in the header. */
  memcpy (buf, good, len);
  buf[20] = 0xff;
  buf[21] = 0xff;
  buf[22] = 0xff;
  expect_corrupt (buf, len, RG_ERROR_CORRUPT, "batches claimed");

  /* Offsets that go backwards. */
  memcpy (buf, good, len);
  guint8 *off = buf + first_block + 16;
  off[4] = 0xff;
  off[5] = 0xff;
  expect_corrupt (buf, len, RG_ERROR_CORRUPT, "CSR");

  /* A bad table spec (dim 0). */
  memcpy (buf, good, len);
  memset (buf + 32 + 4, 0, 4);
  expect_corrupt (buf, len, RG_ERROR_CORRUPT, "dim");

  /* Trailing garbage. */
  memcpy (buf, good, len);
  memset (buf + len, 0, 64);
  expect_corrupt (buf, len + 3, RG_ERROR_CORRUPT, "unexpected bytes");

  g_autoptr (GError) error = NULL;
  g_assert_null (rg_trace_load ("/nonexistent/x.rgtrace", &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/embed/trace/zipf", test_zipf_frequencies);
  g_test_add_func ("/embed/trace/generate", test_generate_shape_and_determinism);
  g_test_add_func ("/embed/trace/bad-specs", test_bad_specs);
  g_test_add_func ("/embed/trace/reuse", test_reuse_by_hand);
  g_test_add_func ("/embed/trace/preset-locality", test_preset_locality);
  g_test_add_func ("/embed/trace/round-trip", test_round_trip);
  g_test_add_func ("/embed/trace/corrupt", test_corrupt_files);
  return g_test_run ();
}
