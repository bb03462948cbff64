/* test-fuzz-trace.c — mutated .rgtrace files against rg_trace_load().
 *
 * The valid input is a small generated trace saved by rg_trace_save(); the
 * integer fields the loader must distrust (counts, sizes, rows, n_ids,
 * offsets, ids) are listed from the format in rg-trace.h so mutations hit
 * them with huge and negative values, not only random bytes. A trace that
 * loads must satisfy the format's rules, so a "success" that hands back
 * out-of-range ids is caught too. */
#include <glib/gstdio.h>

#include "embed/rg-trace.h"
#include "fuzz-mutate.h"

#define HEADER_BYTES 32
#define TABLE_BYTES 64

static void
check_loaded (RgFuzz *fz, const RgTrace *t)
{
  for (uint32_t b = 0; b < t->n_batches; b++)
    for (uint32_t k = 0; k < t->n_tables; k++)
      {
        const RgTraceBag *bag = rg_trace_bag (t, b, k);
        if (bag->offsets[0] != 0 || bag->offsets[t->batch_size] != bag->n_ids)
          g_error ("fuzz %s iteration %u: loaded bag (%u, %u) has bad offsets", fz->target,
                   fz->iteration, b, k);
        for (uint32_t i = 0; i < t->batch_size; i++)
          if (bag->offsets[i] > bag->offsets[i + 1])
            g_error ("fuzz %s iteration %u: loaded offsets decrease", fz->target, fz->iteration);
        for (uint64_t i = 0; i < bag->n_ids; i++)
          if (bag->ids[i] < 0 || bag->ids[i] >= t->tables[k].rows)
            g_error ("fuzz %s iteration %u: loaded id %" G_GINT64_FORMAT " out of range",
                     fz->target, fz->iteration, bag->ids[i]);
      }
}

static void
test_trace_mutations (void)
{
  RgTableSpec specs[2];
  rg_trace_preset_dlrm (specs, 2, 0.0001);
  specs[1].kind = RG_TABLE_SEQUENCE;
  RgTraceConfig cfg = { 2, specs, 5, 3, 42 };
  GError *error = NULL;
  g_autoptr (RgTrace) trace = rg_trace_generate (&cfg, &error);
  g_assert_no_error (error);

  g_autofree char *dir = g_dir_make_tmp ("rg-fuzz-trace-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *valid = g_build_filename (dir, "valid.rgtrace", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.rgtrace", NULL);
  g_assert_true (rg_trace_save (trace, valid, &error));
  g_assert_no_error (error);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (valid, &data, &len, &error));

  /* The fields, from the layout in rg-trace.h. */
  g_autoptr (GArray) fields = g_array_new (FALSE, FALSE, sizeof (RgFuzzField));
#define FIELD(off, sz)                                                                             \
  do                                                                                               \
    {                                                                                              \
      RgFuzzField f_ = { (off), (sz) };                                                            \
      g_array_append_val (fields, f_);                                                             \
    }                                                                                              \
  while (0)
  FIELD (8, 4);
  FIELD (12, 4);
  FIELD (16, 4);
  FIELD (20, 4);
  for (uint32_t k = 0; k < trace->n_tables; k++)
    for (gsize o = 0; o < TABLE_BYTES; o += o < 16 ? 4 : 8)
      FIELD (HEADER_BYTES + k * TABLE_BYTES + o, o < 16 ? 4 : 8);
  gsize at = HEADER_BYTES + (gsize)trace->n_tables * TABLE_BYTES;
  for (uint32_t b = 0; b < trace->n_batches; b++)
    for (uint32_t k = 0; k < trace->n_tables; k++)
      {
        const RgTraceBag *bag = rg_trace_bag (trace, b, k);
        FIELD (at, 4);
        FIELD (at + 8, 8);
        at += 16;
        for (uint32_t i = 0; i <= trace->batch_size; i++, at += 4)
          FIELD (at, 4);
        for (uint64_t i = 0; i < bag->n_ids; i++, at += 8)
          if (i < 4 || i + 1 == bag->n_ids)
            FIELD (at, 8);
      }
#undef FIELD
  g_assert_cmpuint (at, ==, len); /* the layout above is the file's */

  RgFuzz fz;
  rg_fuzz_init (&fz, "rgtrace", 0x7261636500, 3000);
  guint loaded = 0;
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      g_autoptr (GByteArray) m = rg_fuzz_mutate (
          &fz, (const guint8 *)data, len, 4, (const RgFuzzField *)fields->data, fields->len, FALSE);
      rg_fuzz_write (bad, m->data, m->len);
      RgTrace *t = rg_trace_load (bad, &error);
      if (t != NULL)
        {
          check_loaded (&fz, t);
          loaded++;
          rg_trace_free (t);
        }
      rg_fuzz_check (&fz, t != NULL, g_steal_pointer (&error));
    }
  g_test_message ("%u of %u mutated traces loaded (the rest refused)", loaded, fz.iterations);

  g_unlink (bad);
  g_unlink (valid);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/trace", test_trace_mutations);
  return g_test_run ();
}
