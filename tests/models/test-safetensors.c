/* test-safetensors.c — the safetensors reader rejects every broken file
 * with a message naming the defect, and what the writer writes reads back. */
#include <glib/gstdio.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-safetensors.h"

/* 8-byte little-endian length + header + data_len bytes of data. */
static GBytes *
make_file (guint64 header_len, const char *header, gsize header_bytes, gsize data_len)
{
  GByteArray *a = g_byte_array_new ();
  guint64 le = GUINT64_TO_LE (header_len);
  g_byte_array_append (a, (const guint8 *) &le, 8);
  g_byte_array_append (a, (const guint8 *) header, (guint) header_bytes);
  for (gsize i = 0; i < data_len; i++)
    {
      guint8 b = (guint8) i;
      g_byte_array_append (a, &b, 1);
    }
  return g_byte_array_free_to_bytes (a);
}

static GBytes *
make_json (const char *header, gsize data_len)
{
  return make_file (strlen (header), header, strlen (header), data_len);
}

typedef struct {
  const char *what;
  GBytes     *bytes;
  const char *message;
} BrokenCase;

static void
test_broken_corpus (void)
{
  const char big_shape[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                           "\"data_offsets\":[0,4]}}";
  BrokenCase cases[] = {
    { "truncated length", g_bytes_new ("\x10\x00\x00\x00", 4), "too few for the 8-byte header length" },
    { "length past the file", make_file (1000, "{}", 2, 4), "runs past the end of the file" },
    { "length bound", make_file (200000000, "{}", 2, 0), "exceeds the limit" },
    { "not UTF-8", make_json ("{\"\xff\xfe\":1}", 0), "not valid UTF-8" },
    { "not JSON", make_json ("{\"a\":{\"dtype\":", 0), "not valid JSON" },
    { "not an object", make_json ("[1, 2]", 0), "not a JSON object" },
    { "unknown dtype",
      make_json ("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
      "tensor 'a': unknown dtype 'F33'" },
    { "negative shape",
      make_json ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
      "tensor 'a': shape must be a list of non-negative integers" },
    { "float shape",
      make_json ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", 4),
      "tensor 'a': shape must be a list of non-negative integers" },
    { "overlapping offsets",
      make_json ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
      "tensor 'b' starts at byte 4 of the data buffer, expected 8" },
    { "gap between tensors",
      make_json ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12),
      "tensor 'b' starts at byte 8 of the data buffer, expected 4" },
    { "not starting at 0",
      make_json ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
      "tensor 'a' starts at byte 4 of the data buffer, expected 0" },
    { "trailing bytes",
      make_json ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8),
      "the data buffer has 8 bytes but the tensors cover 4" },
    { "truncated data",
      make_json ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 10),
      "the data buffer has 10 bytes but the tensors cover 16" },
    { "byte count",
      make_json ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4),
      "tensor 'a' has 4 bytes but its shape and F32 dtype need 8" },
    { "numel overflow", make_json (big_shape, 4), "tensor 'a': element count times dtype size overflows" },
    { "duplicate name",
      make_json ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                 "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2),
      "duplicate tensor name 'a'" },
    { "metadata not strings", make_json ("{\"__metadata__\":{\"k\":1}}", 0),
      "__metadata__ value for 'k' is not a string" },
    { "begin after end",
      make_json ("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,4]}}", 0),
      "tensor 'a': data_offsets begin 8 is after end 4" },
    { "offsets not a pair",
      make_json ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1),
      "tensor 'a': data_offsets must be [begin, end]" },
    { "missing field", make_json ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1),
      "tensor 'a': missing data_offsets" },
    { "garbage after the header", make_json ("{} x", 0), "unexpected bytes after the header" },
    { "lone surrogate", make_json ("{\"\\udc00\":1}", 0), "not valid JSON" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("broken-%02u.safetensors", i);
      g_autoptr (RgSafetensors) st = rg_safetensors_new_from_bytes (cases[i].bytes, name, &error);
      g_test_message ("%s: %s", cases[i].what, error ? error->message : "(accepted)");
      g_assert_null (st);
      g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
      /* the message names the file and the defect */
      g_assert_true (g_str_has_prefix (error->message, name));
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("%s: expected \"%s\" in \"%s\"", cases[i].what, cases[i].message,
                 error->message);
      g_bytes_unref (cases[i].bytes);
    }
}

static void
test_accepts_edge_cases (void)
{
  g_autoptr (GError) error = NULL;
  /* empty header, scalar, zero-size tensor, unused fields, escapes, spaces */
  g_autoptr (GBytes) empty = make_json ("{}", 0);
  g_autoptr (RgSafetensors) st0 = rg_safetensors_new_from_bytes (empty, "empty", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rg_safetensors_get_n_tensors (st0), ==, 0);

  g_autoptr (GBytes) b = make_json (
      "{ \"s\\u00e9\" : {\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":[{}]},"
      "\"z\":{\"dtype\":\"F64\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
      "\"__metadata__\":{\"k\":\"v\\\"\"}}   ", 4);
  g_autoptr (RgSafetensors) st = rg_safetensors_new_from_bytes (b, "edge", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rg_safetensors_get_n_tensors (st), ==, 2);
  g_assert_cmpstr (rg_safetensors_get_name (st, 0), ==, "s\xc3\xa9");
  g_assert_cmpstr (rg_safetensors_get_metadata (st, "k"), ==, "v\"");
  /* the data starts at byte 8 + strlen(header), which need not be aligned
   * for F32 (get then copies); either way it reads the right bytes */
  g_autoptr (RgTensor) s = rg_safetensors_get (st, "s\xc3\xa9", &error);
  g_assert_no_error (error);
  g_assert_cmpint (s->ndim, ==, 0);
  guint8 expect_bytes[4] = { 0, 1, 2, 3 };
  g_assert_cmpmem (s->data, 4, expect_bytes, 4);
  /* F64 validates but is not something the engine computes with */
  g_autoptr (RgTensor) z = rg_safetensors_get (st, "z", &error);
  g_assert_null (z);
  g_assert_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_autoptr (RgTensor) missing = rg_safetensors_get (st, "nope", &error);
  g_assert_null (missing);
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
}

static RgTensor *
ramp (int64_t n0, int64_t n1)
{
  g_autoptr (RgTensor) t = rg_tensor_f32_new (2, n0, n1);
  float *p = rg_tensor_f32 (t);
  for (int64_t i = 0; i < n0 * n1; i++)
    p[i] = (float) (i - 7) * 0.25f; /* exact in bf16 and f16 */
  return g_steal_pointer (&t);
}

static void
test_round_trip (gconstpointer data)
{
  RgDType dtype = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-st-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "m.safetensors", NULL);

  g_autoptr (RgTensor) a = ramp (3, 5);
  g_autoptr (RgTensor) b = ramp (1, 7);
  int64_t ishape[1] = { 3 };
  g_autoptr (RgTensor) ids = rg_tensor_new (RG_I32, 1, ishape);
  int32_t *ip = ids->data;
  ip[0] = -1, ip[1] = 0, ip[2] = 1 << 30;

  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  /* added out of order: the file lists them sorted */
  g_assert_true (rg_safetensors_writer_add (w, "z.weight", a, dtype, &error));
  g_assert_true (rg_safetensors_writer_add (w, "a.bias", b, dtype, &error));
  g_assert_true (rg_safetensors_writer_add (w, "ids", ids, RG_I32, &error));
  g_assert_false (rg_safetensors_writer_add (w, "ids", ids, RG_I32, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rg_safetensors_writer_add (w, "bad", ids, RG_F32, &error));
  g_clear_error (&error);
  rg_safetensors_writer_set_metadata (w, "reelgen.config", "{\"name\": \"x\\ny\"}");
  g_assert_true (rg_safetensors_writer_save (w, path, &error));
  g_assert_no_error (error);

  /* no temporary file is left beside it */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  int files = 0;
  while (g_dir_read_name (d))
    files++;
  g_assert_cmpint (files, ==, 1);

  g_autoptr (RgSafetensors) st = rg_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rg_safetensors_get_n_tensors (st), ==, 3);
  g_assert_cmpstr (rg_safetensors_get_name (st, 0), ==, "a.bias");
  g_assert_cmpstr (rg_safetensors_get_name (st, 2), ==, "z.weight");
  g_assert_cmpstr (rg_safetensors_get_metadata (st, "reelgen.config"), ==,
                   "{\"name\": \"x\\ny\"}");

  /* header padded to 8 bytes so data is aligned */
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  guint64 n;
  memcpy (&n, contents, 8);
  g_assert_cmpuint (GUINT64_FROM_LE (n) % 8, ==, 0);
  g_assert_cmpuint (len, ==, rg_safetensors_get_file_size (st));

  const char *dname;
  int ndim;
  int64_t shape[RG_MAX_DIMS];
  gboolean supported;
  RgDType got;
  g_assert_true (rg_safetensors_describe (st, "z.weight", &dname, &ndim, shape, &supported, &got));
  g_assert_cmpstr (dname, ==, rg_dtype_name (dtype));
  g_assert_cmpint (ndim, ==, 2);
  g_assert_cmpint (shape[0], ==, 3);
  g_assert_cmpint (shape[1], ==, 5);
  g_assert_true (supported && got == dtype);

  RgTensor *za = rg_safetensors_get_f32 (st, "z.weight", &error);
  g_assert_no_error (error);
  g_autoptr (RgTensor) i2 = rg_safetensors_get (st, "ids", &error);
  g_assert_no_error (error);
  /* tensors keep the mapping alive after the file object is gone */
  g_clear_pointer (&st, rg_safetensors_unref);
  g_assert_true (rg_tensor_same_shape (za, a));
  g_assert_cmpmem (za->data, rg_tensor_nbytes (za), a->data, rg_tensor_nbytes (a));
  g_assert_cmpmem (i2->data, 12, ids->data, 12);
  rg_tensor_unref (za);

  /* saving over an existing file replaces it; saving into a missing
   * directory fails with an IO error naming the path */
  g_assert_true (rg_safetensors_writer_save (w, path, &error));
  g_autofree char *bad = g_build_filename (dir, "no", "such", "m.safetensors", NULL);
  g_assert_false (rg_safetensors_writer_save (w, bad, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_IO);
  g_assert_nonnull (strstr (error->message, bad));
  g_clear_error (&error);

  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* Random byte damage to a valid file never crashes the reader: every
 * result is either a clean open or a CORRUPT/UNSUPPORTED error. */
static void
test_mutations (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTensor) a = ramp (4, 4);
  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  g_assert_true (rg_safetensors_writer_add (w, "layer.0.weight", a, RG_F32, &error));
  g_assert_true (rg_safetensors_writer_add (w, "layer.1.weight", a, RG_BF16, &error));
  rg_safetensors_writer_set_metadata (w, "k", "v");
  g_autoptr (GBytes) good = rg_safetensors_writer_to_bytes (w, &error);
  g_assert_no_error (error);
  gsize size;
  const guint8 *src = g_bytes_get_data (good, &size);
  GRand *rand = g_rand_new_with_seed (1234);
  int rejected = 0;
  for (int iter = 0; iter < 3000; iter++)
    {
      guint8 *copy = g_memdup2 (src, size);
      gsize n = size;
      int edits = g_rand_int_range (rand, 1, 4);
      for (int e = 0; e < edits; e++)
        copy[g_rand_int_range (rand, 0, (gint32) MIN (n, 200))] = (guint8) g_rand_int (rand);
      if (g_rand_boolean (rand))
        n = (gsize) g_rand_int_range (rand, 0, (gint32) n + 1);
      g_autoptr (GBytes) bytes = g_bytes_new_take (copy, n);
      g_autoptr (RgSafetensors) st = rg_safetensors_new_from_bytes (bytes, "mutant", &error);
      if (st == NULL)
        {
          g_assert_true (g_error_matches (error, RG_ERROR, RG_ERROR_CORRUPT)
                         || g_error_matches (error, RG_ERROR, RG_ERROR_UNSUPPORTED));
          g_clear_error (&error);
          rejected++;
          continue;
        }
      for (guint i = 0; i < rg_safetensors_get_n_tensors (st); i++)
        {
          RgTensor *t = rg_safetensors_get (st, rg_safetensors_get_name (st, i), NULL);
          if (t != NULL)
            rg_tensor_unref (t);
        }
    }
  g_rand_free (rand);
  g_assert_cmpint (rejected, >, 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/safetensors/broken-corpus", test_broken_corpus);
  g_test_add_func ("/safetensors/edge-cases", test_accepts_edge_cases);
  g_test_add_data_func ("/safetensors/round-trip/f32", GINT_TO_POINTER (RG_F32), test_round_trip);
  g_test_add_data_func ("/safetensors/round-trip/bf16", GINT_TO_POINTER (RG_BF16), test_round_trip);
  g_test_add_data_func ("/safetensors/round-trip/f16", GINT_TO_POINTER (RG_F16), test_round_trip);
  g_test_add_func ("/safetensors/mutations", test_mutations);
  return g_test_run ();
}
