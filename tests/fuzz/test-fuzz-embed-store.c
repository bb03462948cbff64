/* test-fuzz-embed-store.c — mutated embedding store files (SQLite) against
 * rg_embed_store_open() and row reads.
 *
 * The valid input is a real store: an eager f32 table and a bf16 table with
 * Adagrad state whose rows were updated and flushed, then closed. Each case
 * mutates the file's bytes, opens the copy and reads every row of every
 * table. The contract from rg-embed-store.h: a damaged row is an
 * RG_ERROR_CORRUPT, never silent garbage — so when a table still looks
 * like the original (same name, size and type), every row it does return
 * must be the original row, bit for bit. */
#include <glib/gstdio.h>
#include <string.h>

#include "embed/rg-embed-store.h"
#include "fuzz-mutate.h"

#define ROWS_A 40
#define DIM_A 8
#define ROWS_B 24
#define DIM_B 4

static RgEmbedStoreConfig
small_config (void)
{
  RgEmbedStoreConfig cfg = rg_embed_store_config_default ();
  cfg.host_bytes = 1 << 20;
  cfg.device_bytes = 1 << 20;
  return cfg;
}

static void
make_store (const char *path, float *rows_a, float *rows_b)
{
  GError *error = NULL;
  RgEmbedStoreConfig cfg = small_config ();
  RgEmbedStore *s = rg_embed_store_open (path, &cfg, &error);
  g_assert_no_error (error);
  RgEmbedOptim sgd = { RG_EMBED_OPTIM_SGD, 0.1f, 0 };
  RgEmbedOptim ada = { RG_EMBED_OPTIM_ADAGRAD, 0.05f, 1e-8f };
  uint32_t a = 0, b = 0;
  g_assert_true (
      rg_embed_store_create_table (s, "items", ROWS_A, DIM_A, RG_F32, &sgd, 7, 0.1f, &a, &error));
  g_assert_true (
      rg_embed_store_create_table (s, "users", ROWS_B, DIM_B, RG_BF16, &ada, 8, 0.1f, &b, &error));
  int64_t touched[3] = { 0, 5, ROWS_B - 1 };
  float grads[3 * DIM_B];
  for (int i = 0; i < 3 * DIM_B; i++)
    grads[i] = 0.125f * (float)(i + 1);
  g_assert_true (rg_embed_store_apply_gradients (s, b, touched, 3, grads, &error));
  g_assert_true (rg_embed_store_flush (s, &error));
  int64_t ids[ROWS_A];
  for (int i = 0; i < ROWS_A; i++)
    ids[i] = i;
  g_assert_true (rg_embed_store_read_rows (s, a, ids, ROWS_A, rows_a, &error));
  g_assert_true (rg_embed_store_read_rows (s, b, ids, ROWS_B, rows_b, &error));
  g_assert_true (rg_embed_store_close (s, &error));
  g_assert_no_error (error);
}

static void
read_table (RgFuzz *fz, RgEmbedStore *s, const RgEmbedTableInfo *t, const float *expect,
            int64_t rows, int dim, RgDType dtype, const char *name)
{
  gboolean same
      = t->rows == rows && t->dim == dim && t->dtype == dtype && g_strcmp0 (t->name, name) == 0;
  int64_t n = MIN (t->rows, 64);
  g_autofree float *out = g_new (float, (gsize)t->dim);
  for (int64_t r = 0; r < n; r++)
    {
      GError *error = NULL;
      gboolean ok = rg_embed_store_read_rows (s, t->id, &r, 1, out, &error);
      if (ok && same && memcmp (out, expect + r * dim, (gsize)dim * sizeof (float)) != 0)
        g_error ("fuzz %s seed %" G_GUINT64_FORMAT " iteration %u: table %s row %" G_GINT64_FORMAT
                 " read back different values without an error",
                 fz->target, fz->seed, fz->iteration, name, r);
      rg_fuzz_check (fz, ok, error);
    }
}

static void
test_store_mutations (void)
{
  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-fuzz-embed-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *valid = g_build_filename (dir, "valid.rgemb", NULL);
  float rows_a[ROWS_A * DIM_A], rows_b[ROWS_B * DIM_B];
  make_store (valid, rows_a, rows_b);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (valid, &data, &len, &error));

  RgFuzz fz;
  rg_fuzz_init (&fz, "embed-store", 0x656d6200, 1500);
  guint opened = 0;
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      /* A fresh name per case: no -wal or -shm of an earlier one applies. */
      g_autofree char *path = g_strdup_printf ("%s/case-%u.rgemb", dir, i);
      g_autoptr (GByteArray) m = rg_fuzz_mutate (&fz, (const guint8 *)data, len, 3, NULL, 0, FALSE);
      rg_fuzz_write (path, m->data, m->len);
      RgEmbedStoreConfig cfg = small_config ();
      RgEmbedStore *s = rg_embed_store_open (path, &cfg, &error);
      if (s != NULL)
        {
          opened++;
          for (guint k = 0; k < rg_embed_store_n_tables (s); k++)
            {
              const RgEmbedTableInfo *t = rg_embed_store_table (s, k);
              if (t == NULL)
                continue;
              if (k == 0)
                read_table (&fz, s, t, rows_a, ROWS_A, DIM_A, RG_F32, "items");
              else
                read_table (&fz, s, t, rows_b, ROWS_B, DIM_B, RG_BF16, "users");
            }
          GError *cerr = NULL;
          gboolean ok = rg_embed_store_close (s, &cerr);
          rg_fuzz_check (&fz, ok, cerr);
        }
      rg_fuzz_check (&fz, s != NULL, g_steal_pointer (&error));
      g_autofree char *wal = g_strconcat (path, "-wal", NULL);
      g_autofree char *shm = g_strconcat (path, "-shm", NULL);
      g_unlink (wal);
      g_unlink (shm);
      g_unlink (path);
    }
  g_test_message ("%u of %u mutated stores opened", opened, fz.iterations);
  g_unlink (valid);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/embed-store", test_store_mutations);
  return g_test_run ();
}
