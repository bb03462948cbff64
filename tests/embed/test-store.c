/* The tiered embedding store: persistence, lookups against a naive
 * reference, hand-computed optimizer steps, flushing, crash safety under
 * SIGKILL, and clear errors for corrupt files and bad requests. */
#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "embed/rg-embed-store.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEED 1234
#define STD 0.1f

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("rg-test-store-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "store.rgemb", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  const char *suffixes[] = { "", "-wal", "-shm" };
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *p = g_strconcat (f->path, suffixes[i], NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

/* What row r of table `id` must hold right after creation (f32). */
static void
initial_row (uint32_t id, int64_t r, int dim, float *out)
{
  rg_rng_normal (SEED, id, (uint64_t)r * dim, out, dim);
  for (int i = 0; i < dim; i++)
    out[i] *= STD;
}

static RgEmbedStore *
open_store (const char *path, const RgEmbedStoreConfig *cfg)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStore *s = rg_embed_store_open (path, cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

static uint32_t
make_table (RgEmbedStore *s, const char *name, int64_t rows, int dim, RgDType dtype,
            RgEmbedOptimKind kind, float lr)
{
  g_autoptr (GError) error = NULL;
  RgEmbedOptim optim = { kind, lr, 1e-8f };
  uint32_t id = 0;
  g_assert_true (
      rg_embed_store_create_table (s, name, rows, dim, dtype, &optim, SEED, STD, &id, &error));
  g_assert_no_error (error);
  return id;
}

/* Write, close, reopen: the same tables, the same bytes. */
static void
test_persistence (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStore *s = open_store (f->path, NULL);
  uint32_t a = make_table (s, "items", 300, 8, RG_F32, RG_EMBED_OPTIM_ADAGRAD, 0.1f);
  uint32_t b = make_table (s, "creators", 50, 5, RG_BF16, RG_EMBED_OPTIM_SGD, 0.5f);
  g_assert_cmpuint (a, !=, b);
  g_autofree int64_t *rows = g_new (int64_t, 300);
  for (int i = 0; i < 300; i++)
    rows[i] = i;
  g_autofree float *before_a = g_new (float, 300 * 8), *before_b = g_new (float, 50 * 5);
  g_assert_true (rg_embed_store_read_rows (s, a, rows, 300, before_a, &error));
  g_assert_true (rg_embed_store_read_rows (s, b, rows, 50, before_b, &error));
  /* f32 rows are exactly the generator's numbers */
  float want[8];
  initial_row (a, 123, 8, want);
  g_assert_cmpmem (before_a + 123 * 8, sizeof want, want, sizeof want);
  g_assert_true (rg_embed_store_close (s, &error));

  s = open_store (f->path, NULL);
  g_assert_cmpuint (rg_embed_store_n_tables (s), ==, 2);
  const RgEmbedTableInfo *ia = rg_embed_store_find_table (s, "items");
  const RgEmbedTableInfo *ib = rg_embed_store_find_table (s, "creators");
  g_assert_nonnull (ia);
  g_assert_nonnull (ib);
  g_assert_cmpint (ia->rows, ==, 300);
  g_assert_cmpint (ia->dim, ==, 8);
  g_assert_cmpint (ia->optim.kind, ==, RG_EMBED_OPTIM_ADAGRAD);
  g_assert_cmpint (ib->dtype, ==, RG_BF16);
  g_assert_cmpint (ib->dim, ==, 5);
  g_autofree float *after_a = g_new (float, 300 * 8), *after_b = g_new (float, 50 * 5);
  g_assert_true (rg_embed_store_read_rows (s, ia->id, rows, 300, after_a, &error));
  g_assert_true (rg_embed_store_read_rows (s, ib->id, rows, 50, after_b, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (before_a, 300 * 8 * sizeof (float), after_a, 300 * 8 * sizeof (float));
  g_assert_cmpmem (before_b, 50 * 5 * sizeof (float), after_b, 50 * 5 * sizeof (float));

  /* a second table of the same name is refused */
  RgEmbedOptim sgd = { RG_EMBED_OPTIM_SGD, 0.1f, 0 };
  g_assert_false (
      rg_embed_store_create_table (s, "items", 10, 4, RG_F32, &sgd, 1, 1, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  rg_embed_store_free (s);
}

/* Rows 0..19 on the device, 20..59 in host memory, the rest cold. */
static guint8 *
three_tier_placement (int64_t rows)
{
  guint8 *p = g_new (guint8, rows);
  for (int64_t r = 0; r < rows; r++)
    p[r] = r < 20 ? RG_EMBED_TIER_DEVICE : r < 60 ? RG_EMBED_TIER_HOST : RG_EMBED_TIER_COLD;
  return p;
}

/* Pooled and sequence lookups through every tier (and the cold cache)
 * against sums of the generator's rows computed here. */
static void
test_lookups (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStoreConfig cfg = rg_embed_store_config_default ();
  cfg.cache_rows = 64;
  RgEmbedStore *s = open_store (f->path, &cfg);
  const int dim = 6;
  const int64_t n_rows = 200;
  uint32_t id = make_table (s, "t", n_rows, dim, RG_F32, RG_EMBED_OPTIM_SGD, 0.1f);
  g_autofree guint8 *place = three_tier_placement (n_rows);
  g_assert_true (rg_embed_store_set_placement (s, id, place, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rg_embed_store_tier_of (s, id, 5), ==, RG_EMBED_TIER_DEVICE);
  g_assert_cmpint (rg_embed_store_tier_of (s, id, 30), ==, RG_EMBED_TIER_HOST);
  g_assert_cmpint (rg_embed_store_tier_of (s, id, 150), ==, RG_EMBED_TIER_COLD);
  rg_embed_store_reset_stats (s); /* placement itself read 60 rows */

  /* 4 bags mixing tiers, one empty bag, duplicates */
  const int64_t offsets[] = { 0, 3, 3, 7, 9 };
  const int64_t indices[] = { 1, 30, 150, 199, 199, 0, 45, 61, 62 };
  const float weights[] = { 1, 2, 0.5f, 1, 1, -1, 3, 1, 0.25f };
  float got_sum[4 * 6], got_mean[4 * 6], got_w[4 * 6], want_sum[4 * 6] = { 0 },
                                                                    want_w[4 * 6] = { 0 };
  for (int b = 0; b < 4; b++)
    for (int64_t i = offsets[b]; i < offsets[b + 1]; i++)
      {
        float row[6];
        initial_row (id, indices[i], dim, row);
        for (int d = 0; d < dim; d++)
          {
            want_sum[b * dim + d] += row[d];
            want_w[b * dim + d] += weights[i] * row[d];
          }
      }
  /* twice: the second pass hits the cache for the cold rows */
  for (int pass = 0; pass < 2; pass++)
    {
      g_assert_true (rg_embed_store_lookup_pooled (s, id, offsets, 4, indices, NULL,
                                                   RG_EMBED_POOL_SUM, got_sum, &error));
      g_assert_true (rg_embed_store_lookup_pooled (s, id, offsets, 4, indices, NULL,
                                                   RG_EMBED_POOL_MEAN, got_mean, &error));
      g_assert_true (rg_embed_store_lookup_pooled (s, id, offsets, 4, indices, weights,
                                                   RG_EMBED_POOL_SUM, got_w, &error));
      g_assert_no_error (error);
      for (int b = 0; b < 4; b++)
        {
          int64_t len = offsets[b + 1] - offsets[b];
          for (int d = 0; d < dim; d++)
            {
              g_assert_cmpfloat_with_epsilon (got_sum[b * dim + d], want_sum[b * dim + d], 1e-6);
              g_assert_cmpfloat_with_epsilon (got_w[b * dim + d], want_w[b * dim + d], 1e-6);
              g_assert_cmpfloat_with_epsilon (got_mean[b * dim + d],
                                              len ? want_sum[b * dim + d] / len : 0.0f, 1e-6);
            }
        }
    }
  RgEmbedStoreStats st;
  rg_embed_store_get_stats (s, &st);
  g_assert_cmpuint (st.reads[RG_EMBED_TIER_DEVICE], ==, 2 * 3 * 2); /* rows 1, 0 per lookup */
  g_assert_cmpuint (st.reads[RG_EMBED_TIER_HOST], ==, 2 * 3 * 2);   /* rows 30, 45 */
  g_assert_cmpuint (st.cache_hits, >, 0);
  g_assert_cmpuint (st.sqlite_rows_read, ==, 4); /* 150, 199, 61, 62 once each */

  /* sequence lookup: [2 × 3] with padding (-1) reading as zeros */
  const int64_t seq[] = { 10, 100, -1, 55, 55, 199 };
  float out[6 * 6];
  g_assert_true (rg_embed_store_lookup_sequence (s, id, seq, 2, 3, out, &error));
  for (int i = 0; i < 6; i++)
    {
      float want[6] = { 0 };
      if (seq[i] >= 0)
        initial_row (id, seq[i], dim, want);
      g_assert_cmpmem (out + i * dim, sizeof want, want, sizeof want);
    }

  /* bad requests: a row past the end, offsets that go backwards */
  const int64_t bad_row[] = { 3, 200 };
  g_assert_false (rg_embed_store_read_rows (s, id, bad_row, 2, out, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "200"));
  g_clear_error (&error);
  const int64_t bad_offsets[] = { 0, 2, 1 };
  g_assert_false (rg_embed_store_lookup_pooled (s, id, bad_offsets, 2, indices, NULL,
                                                RG_EMBED_POOL_SUM, out, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rg_embed_store_read_rows (s, 999, seq, 1, out, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  rg_embed_store_free (s);
}

/* Hand-computed steps. SGD, lr 0.5: row 3 gets (1, 2) twice in one batch,
 * summed to (2, 4): w − (1, 2). Row-wise Adagrad, lr 0.1: g = (3, 4) →
 * s = (9 + 16)/2 = 12.5, w − 0.1·g/√12.5; a second g = (0, 1) → s = 13. */
static void
check_optimizers_in (Fixture *f, const RgEmbedStoreConfig *cfg, gboolean tiers)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStore *s = open_store (f->path, cfg);
  uint32_t sgd = make_table (s, "sgd", 100, 2, RG_F32, RG_EMBED_OPTIM_SGD, 0.5f);
  uint32_t ada = make_table (s, "ada", 100, 2, RG_F32, RG_EMBED_OPTIM_ADAGRAD, 0.1f);
  if (tiers)
    {
      g_autofree guint8 *place = three_tier_placement (100);
      g_assert_true (rg_embed_store_set_placement (s, sgd, place, &error));
      g_assert_true (rg_embed_store_set_placement (s, ada, place, &error));
      g_assert_no_error (error);
    }
  /* rows 3 (device), 33 (host), 83 (cold) each get the same treatment */
  const int64_t test_rows[] = { 3, 33, 83 };
  for (int k = 0; k < 3; k++)
    {
      int64_t r = test_rows[k];
      float w0[2], w[2];
      initial_row (sgd, r, 2, w0);
      const int64_t rows[] = { r, 7, r };
      const float g[] = { 1, 2, 0, 0, 1, 2 };
      g_assert_true (rg_embed_store_apply_gradients (s, sgd, rows, 3, g, &error));
      g_assert_no_error (error);
      g_assert_true (rg_embed_store_read_rows (s, sgd, &r, 1, w, &error));
      g_assert_cmpfloat_with_epsilon (w[0], w0[0] - 1.0f, 1e-6);
      g_assert_cmpfloat_with_epsilon (w[1], w0[1] - 2.0f, 1e-6);
      uint64_t version = 0;
      g_assert_true (rg_embed_store_row_meta (s, sgd, r, &version, NULL, &error));
      g_assert_cmpuint (version, ==, 1); /* one step, not two */

      initial_row (ada, r, 2, w0);
      const float g1[] = { 3, 4 };
      g_assert_true (rg_embed_store_apply_gradients (s, ada, &r, 1, g1, &error));
      g_assert_true (rg_embed_store_read_rows (s, ada, &r, 1, w, &error));
      float step = 0.1f / (sqrtf (12.5f) + 1e-8f);
      g_assert_cmpfloat_with_epsilon (w[0], w0[0] - 3 * step, 1e-6);
      g_assert_cmpfloat_with_epsilon (w[1], w0[1] - 4 * step, 1e-6);
      float state = 0;
      g_assert_true (rg_embed_store_row_meta (s, ada, r, &version, &state, &error));
      g_assert_cmpfloat_with_epsilon (state, 12.5f, 1e-6);
      const float g2[] = { 0, 1 };
      g_assert_true (rg_embed_store_apply_gradients (s, ada, &r, 1, g2, &error));
      float w1[2] = { w[0], w[1] };
      g_assert_true (rg_embed_store_read_rows (s, ada, &r, 1, w, &error));
      g_assert_cmpfloat_with_epsilon (w[0], w1[0], 1e-7);
      g_assert_cmpfloat_with_epsilon (w[1], w1[1] - 0.1f / (sqrtf (13.0f) + 1e-8f), 1e-6);
      g_assert_true (rg_embed_store_row_meta (s, ada, r, &version, &state, &error));
      g_assert_cmpfloat_with_epsilon (state, 13.0f, 1e-6);
      g_assert_cmpuint (version, ==, 2);
    }
  g_assert_no_error (error);

  /* dirty rows: flushed by close, present after reopen */
  g_assert_cmpint (rg_embed_store_n_dirty (s), ==, 3 + 1 + 3); /* sgd 3,33,83,7; ada 3,33,83 */
  g_assert_true (rg_embed_store_close (s, &error));
  g_assert_no_error (error);
  s = open_store (f->path, NULL);
  for (int k = 0; k < 3; k++)
    {
      uint64_t version = 0;
      float state = 0;
      g_assert_true (rg_embed_store_row_meta (s, ada, test_rows[k], &version, &state, &error));
      g_assert_cmpuint (version, ==, 2);
      g_assert_cmpfloat_with_epsilon (state, 13.0f, 1e-6);
    }
  rg_embed_store_free (s);
}

static void
test_optimizers (Fixture *f, gconstpointer data)
{
  RgEmbedStoreConfig cfg = rg_embed_store_config_default ();
  check_optimizers_in (f, &cfg, FALSE); /* everything in SQLite */
  fixture_teardown (f, NULL);
  fixture_setup (f, NULL);
  check_optimizers_in (f, &cfg, TRUE); /* device, host, cold */
  fixture_teardown (f, NULL);
  fixture_setup (f, NULL);
  cfg.cache_rows = 32;
  cfg.cache_policy = RG_EMBED_CACHE_LFU;
  check_optimizers_in (f, &cfg, TRUE); /* cold rows through an LFU cache */
}

/* Updates that are not flushed are gone after a crash-like free; flushed
 * ones persist; flush leaves nothing dirty; evictions write back. */
static void
test_flush (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStoreConfig cfg = rg_embed_store_config_default ();
  cfg.flush_batch_rows = 16;
  RgEmbedStore *s = open_store (f->path, &cfg);
  uint32_t id = make_table (s, "t", 1000, 4, RG_F32, RG_EMBED_OPTIM_SGD, 1.0f);
  g_autofree int64_t *rows = g_new (int64_t, 40);
  g_autofree float *g = g_new (float, 40 * 4);
  for (int i = 0; i < 40; i++)
    rows[i] = i * 25;
  for (int i = 0; i < 40 * 4; i++)
    g[i] = 0.25f;
  g_assert_true (rg_embed_store_apply_gradients (s, id, rows, 40, g, &error));
  g_assert_cmpint (rg_embed_store_n_dirty (s), ==, 40);
  rg_embed_store_free (s); /* no flush: as if the process died */

  /* now through a one-set cache: 40 dirty rows cannot all stay, the 8
   * evicted ones are written back at once, flush writes the other 32 */
  cfg.cache_rows = 32;
  s = open_store (f->path, &cfg);
  uint64_t v = 99;
  g_assert_true (rg_embed_store_row_meta (s, id, 25, &v, NULL, &error));
  g_assert_cmpuint (v, ==, 0);
  g_assert_true (rg_embed_store_apply_gradients (s, id, rows, 40, g, &error));
  RgEmbedStoreStats st;
  rg_embed_store_get_stats (s, &st);
  g_assert_cmpuint (st.rows_flushed, ==, 8);
  g_assert_cmpint (rg_embed_store_n_dirty (s), ==, 32);
  g_assert_true (rg_embed_store_flush (s, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rg_embed_store_n_dirty (s), ==, 0);
  rg_embed_store_get_stats (s, &st);
  g_assert_cmpuint (st.rows_flushed, ==, 40);
  g_assert_cmpuint (st.flush_transactions, >=, 8 + 2); /* 8 evictions, 32 rows by 16 */
  rg_embed_store_free (s);

  s = open_store (f->path, &cfg);
  for (int i = 0; i < 40; i++)
    {
      float w[4], w0[4];
      initial_row (id, rows[i], 4, w0);
      g_assert_true (rg_embed_store_read_rows (s, id, &rows[i], 1, w, &error));
      for (int d = 0; d < 4; d++)
        g_assert_cmpfloat_with_epsilon (w[d], w0[d] - 0.25f, 1e-6);
    }
  g_autofree char *info = rg_embed_store_describe (s);
  g_assert_nonnull (strstr (info, "STAND-IN"));
  rg_embed_store_free (s);
}

/* ---- crash safety ---- */

#define CRASH_ROWS 3000
#define CRASH_DIM 16

static int crash_pipe = -1;

static void
crash_progress (void *user_data, int64_t written, int64_t total)
{
  /* tell the parent we are inside the flush, then keep it slow enough to
   * be killed in the middle */
  if (crash_pipe >= 0)
    {
      char c = 'x';
      if (write (crash_pipe, &c, 1) != 1)
        _exit (3);
      close (crash_pipe);
      crash_pipe = -1;
    }
  g_usleep (2000);
}

static float
crash_grad (int64_t r, int d)
{
  return (float)((r % 7) + 1) * 0.01f * (float)(d + 1);
}

static void
test_crash_mid_flush (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStoreConfig cfg = rg_embed_store_config_default ();
  cfg.flush_batch_rows = 32;
  RgEmbedStore *s = open_store (f->path, &cfg);
  uint32_t id = make_table (s, "t", CRASH_ROWS, CRASH_DIM, RG_F32, RG_EMBED_OPTIM_SGD, 0.5f);
  rg_embed_store_free (s);

  int fds[2];
  g_assert_cmpint (pipe (fds), ==, 0);
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (fds[0]);
      crash_pipe = fds[1];
      RgEmbedStore *cs = rg_embed_store_open (f->path, &cfg, NULL);
      if (cs == NULL)
        _exit (2);
      g_autofree int64_t *rows = g_new (int64_t, CRASH_ROWS);
      g_autofree float *g = g_new (float, CRASH_ROWS *CRASH_DIM);
      for (int64_t r = 0; r < CRASH_ROWS; r++)
        {
          rows[r] = r;
          for (int d = 0; d < CRASH_DIM; d++)
            g[r * CRASH_DIM + d] = crash_grad (r, d);
        }
      if (!rg_embed_store_apply_gradients (cs, id, rows, CRASH_ROWS, g, NULL))
        _exit (2);
      rg_embed_store_set_flush_progress (cs, crash_progress, NULL);
      rg_embed_store_flush (cs, NULL);
      _exit (0); /* not reached in time: the parent kills us first */
    }
  close (fds[1]);
  char c;
  g_assert_cmpint (read (fds[0], &c, 1), ==, 1);
  close (fds[0]);
  kill (pid, SIGKILL);
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);

  /* every row is entirely old (version 0) or entirely new (version 1) */
  s = open_store (f->path, &cfg);
  int64_t n_new = 0;
  for (int64_t r = 0; r < CRASH_ROWS; r++)
    {
      float w[CRASH_DIM], w0[CRASH_DIM];
      uint64_t version = 0;
      g_assert_true (rg_embed_store_row_meta (s, id, r, &version, NULL, &error));
      g_assert_true (rg_embed_store_read_rows (s, id, &r, 1, w, &error));
      g_assert_no_error (error);
      initial_row (id, r, CRASH_DIM, w0);
      g_assert_cmpuint (version, <=, 1);
      for (int d = 0; d < CRASH_DIM; d++)
        {
          float want = version == 0 ? w0[d] : w0[d] - 0.5f * crash_grad (r, d);
          g_assert_cmpfloat (w[d], ==, want);
        }
      n_new += version == 1;
    }
  /* the kill landed inside the flush: some batches committed, not all */
  g_assert_cmpint (n_new, >, 0);
  g_assert_cmpint (n_new, <, CRASH_ROWS);
  g_assert_cmpint (n_new % 32, ==, 0); /* whole transactions only */
  rg_embed_store_free (s);
}

/* ---- bad files ---- */

static void
exec_sql (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

static void
test_corrupt (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  float out[8];
  int64_t row = 7;

  /* not a database at all */
  g_assert_true (g_file_set_contents (f->path,
                                      "this is not sqlite, just some text padding it "
                                      "out to look like a header…………………………………………",
                                      -1, NULL));
  g_assert_null (rg_embed_store_open (f->path, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, f->path));
  g_clear_error (&error);
  g_unlink (f->path);

  /* somebody else's SQLite file */
  exec_sql (f->path, "CREATE TABLE notes (x TEXT)");
  g_assert_null (rg_embed_store_open (f->path, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "not a Reelgen embedding store"));
  g_clear_error (&error);
  fixture_teardown (f, NULL);
  fixture_setup (f, NULL);

  RgEmbedStore *s = open_store (f->path, NULL);
  uint32_t id = make_table (s, "items", 20, 8, RG_F32, RG_EMBED_OPTIM_SGD, 0.1f);
  rg_embed_store_free (s);

  /* one flipped byte inside row 7's weights */
  g_autofree char *flip = g_strdup_printf (
      "UPDATE embed_rows SET blob = substr(blob, 1, 20) || x'ff' || substr(blob, 22) "
      "WHERE tbl = %u AND row = 7",
      id);
  exec_sql (f->path, flip);
  s = open_store (f->path, NULL);
  g_assert_false (rg_embed_store_read_rows (s, id, &row, 1, out, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "row 7"));
  g_assert_nonnull (strstr (error->message, "checksum"));
  g_clear_error (&error);
  /* other rows still read */
  row = 6;
  g_assert_true (rg_embed_store_read_rows (s, id, &row, 1, out, &error));
  rg_embed_store_free (s);

  /* metadata that disagrees with the rows: wrong dim */
  exec_sql (f->path, "UPDATE embed_tables SET dim = 9");
  s = open_store (f->path, NULL);
  g_assert_false (rg_embed_store_read_rows (s, id, &row, 1, out, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "dim-9"));
  g_clear_error (&error);
  rg_embed_store_free (s);

  /* metadata that is nonsense */
  exec_sql (f->path, "UPDATE embed_tables SET dim = 8, dtype = 'Q7'");
  g_assert_null (rg_embed_store_open (f->path, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "items"));
  g_clear_error (&error);

  /* a row missing from the file */
  exec_sql (f->path, "UPDATE embed_tables SET dtype = 'F32'; DELETE FROM embed_rows WHERE row = 3");
  s = open_store (f->path, NULL);
  row = 3;
  g_assert_false (rg_embed_store_read_rows (s, id, &row, 1, out, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "row 3 is missing"));
  g_clear_error (&error);

  /* a placement that does not fit the device tier names the shortfall */
  rg_embed_store_free (s);
  RgEmbedStoreConfig small = rg_embed_store_config_default ();
  small.device_bytes = 100;
  s = open_store (f->path, &small);
  guint8 place[20];
  memset (place, RG_EMBED_TIER_DEVICE, sizeof place);
  place[3] = RG_EMBED_TIER_COLD;
  g_assert_false (rg_embed_store_set_placement (s, id, place, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NO_MEMORY);
  g_assert_nonnull (strstr (error->message, "short by"));
  g_clear_error (&error);
  /* the table is still usable, all cold */
  row = 5;
  g_assert_true (rg_embed_store_read_rows (s, id, &row, 1, out, &error));
  g_assert_cmpint (rg_embed_store_tier_of (s, id, 5), ==, RG_EMBED_TIER_COLD);
  rg_embed_store_free (s);

  /* written by a newer Reelgen */
  exec_sql (f->path, "PRAGMA user_version = 99");
  g_assert_null (rg_embed_store_open (f->path, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_VERSION);
}

/* ---- a device tier that is not host-addressable ---- */

/* Like a GPU: map() gives nothing, bytes move only by upload/download. */
static int opaque_downloads, opaque_uploads;

static void *
opaque_alloc (RgEmbedTier *tier, gsize bytes, GError **error)
{
  return g_byte_array_sized_new ((guint)bytes);
}

static void
opaque_release (RgEmbedTier *tier, void *block)
{
  g_byte_array_unref (block);
}

static void *
opaque_map (RgEmbedTier *tier, void *block)
{
  return NULL;
}

static gboolean
opaque_upload (RgEmbedTier *tier, void *block, gsize offset, const void *src, gsize bytes,
               GError **error)
{
  GByteArray *a = block;
  if (a->len < offset + bytes)
    g_byte_array_set_size (a, (guint)(offset + bytes));
  memcpy (a->data + offset, src, bytes);
  opaque_uploads++;
  return TRUE;
}

static gboolean
opaque_download (RgEmbedTier *tier, void *block, gsize offset, void *dst, gsize bytes,
                 GError **error)
{
  GByteArray *a = block;
  g_assert_cmpuint (offset + bytes, <=, a->len);
  memcpy (dst, a->data + offset, bytes);
  opaque_downloads++;
  return TRUE;
}

static const RgEmbedTierBackend opaque_backend = {
  .name = "opaque test device",
  .alloc = opaque_alloc,
  .release = opaque_release,
  .map = opaque_map,
  .upload = opaque_upload,
  .download = opaque_download,
};

/* The same lookups, updates and flush through a device tier reached only
 * by copies, as a CUDA tier will be. */
static void
test_opaque_device_tier (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStoreConfig cfg = rg_embed_store_config_default ();
  cfg.device_tier = rg_embed_tier_new (&opaque_backend, RG_EMBED_TIER_DEVICE, 1 << 20);
  RgEmbedStore *s = open_store (f->path, &cfg);
  uint32_t id = make_table (s, "t", 100, 4, RG_F32, RG_EMBED_OPTIM_ADAGRAD, 0.1f);
  g_autofree guint8 *place = three_tier_placement (100);
  g_assert_true (rg_embed_store_set_placement (s, id, place, &error));
  g_assert_no_error (error);
  g_assert_cmpint (opaque_uploads, >, 0);

  int64_t row = 7; /* on the device */
  float w0[4], w[4];
  initial_row (id, row, 4, w0);
  int before = opaque_downloads;
  g_assert_true (rg_embed_store_read_rows (s, id, &row, 1, w, &error));
  g_assert_cmpmem (w, sizeof w, w0, sizeof w0);
  g_assert_cmpint (opaque_downloads, >, before);

  const float g[4] = { 3, 4, 0, 0 }; /* s = 25/4, step 0.1·g/2.5 */
  g_assert_true (rg_embed_store_apply_gradients (s, id, &row, 1, g, &error));
  g_assert_true (rg_embed_store_read_rows (s, id, &row, 1, w, &error));
  g_assert_cmpfloat_with_epsilon (w[0], w0[0] - 0.12f, 1e-6);
  g_assert_cmpfloat_with_epsilon (w[1], w0[1] - 0.16f, 1e-6);
  g_assert_true (rg_embed_store_close (s, &error));
  g_assert_no_error (error);

  /* the update reached SQLite through the flush */
  s = open_store (f->path, NULL);
  uint64_t version = 0;
  float state = 0;
  g_assert_true (rg_embed_store_row_meta (s, id, row, &version, &state, &error));
  g_assert_cmpuint (version, ==, 1);
  g_assert_cmpfloat_with_epsilon (state, 6.25f, 1e-6);
  rg_embed_store_free (s);
}

/* ---- lazy tables and format migration ---- */

static int64_t
count_sql (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  int64_t n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return n;
}

/* A million-row lazy table costs nothing until rows are written; its
 * untouched rows read as their initial values, before and after reopening. */
static void
test_lazy_table (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStore *s = open_store (f->path, NULL);
  RgEmbedOptim sgd = { RG_EMBED_OPTIM_SGD, 1.0f, 0 };
  uint32_t id = 0;
  g_assert_true (rg_embed_store_create_table_lazy (s, "big", 1000000, 8, RG_F32, &sgd, SEED, STD,
                                                   &id, &error));
  g_assert_no_error (error);
  const int64_t rows[] = { 0, 123456, 999999 };
  float w[3 * 8], want[8];
  g_assert_true (rg_embed_store_read_rows (s, id, rows, 3, w, &error));
  for (int i = 0; i < 3; i++)
    {
      initial_row (id, rows[i], 8, want);
      g_assert_cmpmem (w + i * 8, sizeof want, want, sizeof want);
    }
  float g[3 * 8];
  for (int i = 0; i < 3 * 8; i++)
    g[i] = 0.5f;
  g_assert_true (rg_embed_store_apply_gradients (s, id, rows, 2, g, &error));
  g_assert_true (rg_embed_store_close (s, &error));
  g_assert_no_error (error);
  /* only the two updated rows were ever stored */
  g_assert_cmpint (count_sql (f->path, "SELECT count(*) FROM embed_rows"), ==, 2);

  s = open_store (f->path, NULL);
  g_assert_true (rg_embed_store_read_rows (s, id, rows, 3, w, &error));
  for (int i = 0; i < 3; i++)
    {
      initial_row (id, rows[i], 8, want);
      for (int d = 0; d < 8; d++)
        g_assert_cmpfloat_with_epsilon (w[i * 8 + d], want[d] - (i < 2 ? 0.5f : 0.0f), 1e-6);
    }
  rg_embed_store_free (s);

  /* a stored row that is damaged is still an error, lazy or not */
  exec_sql (f->path, "UPDATE embed_rows SET blob = substr(blob, 1, 30) WHERE row = 0");
  s = open_store (f->path, NULL);
  g_assert_false (rg_embed_store_read_rows (s, id, rows, 1, w, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  rg_embed_store_free (s);
}

/* A store written in format 1 (before tables recorded their initialisation)
 * opens, is migrated to format 2, and reads the same. */
static void
test_migrates_v1 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RgEmbedStore *s = open_store (f->path, NULL);
  uint32_t id = make_table (s, "old", 30, 4, RG_F32, RG_EMBED_OPTIM_SGD, 0.1f);
  rg_embed_store_free (s);
  exec_sql (f->path, "ALTER TABLE embed_tables DROP COLUMN lazy;"
                     " ALTER TABLE embed_tables DROP COLUMN init_std;"
                     " ALTER TABLE embed_tables DROP COLUMN init_seed;"
                     " PRAGMA user_version = 1");
  g_assert_cmpint (count_sql (f->path, "PRAGMA user_version"), ==, 1);

  s = open_store (f->path, NULL);
  g_assert_cmpint (count_sql (f->path, "PRAGMA user_version"), ==, 2);
  int64_t row = 17;
  float w[4], want[4];
  g_assert_true (rg_embed_store_read_rows (s, id, &row, 1, w, &error));
  g_assert_no_error (error);
  initial_row (id, row, 4, want);
  g_assert_cmpmem (w, sizeof w, want, sizeof want);
  rg_embed_store_free (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/embed-store/persistence", Fixture, NULL, fixture_setup, test_persistence,
              fixture_teardown);
  g_test_add ("/embed-store/lookups", Fixture, NULL, fixture_setup, test_lookups, fixture_teardown);
  g_test_add ("/embed-store/optimizers", Fixture, NULL, fixture_setup, test_optimizers,
              fixture_teardown);
  g_test_add ("/embed-store/flush", Fixture, NULL, fixture_setup, test_flush, fixture_teardown);
  g_test_add ("/embed-store/crash-mid-flush", Fixture, NULL, fixture_setup, test_crash_mid_flush,
              fixture_teardown);
  g_test_add ("/embed-store/corrupt", Fixture, NULL, fixture_setup, test_corrupt, fixture_teardown);
  g_test_add ("/embed-store/opaque-device-tier", Fixture, NULL, fixture_setup,
              test_opaque_device_tier, fixture_teardown);
  g_test_add ("/embed-store/lazy-table", Fixture, NULL, fixture_setup, test_lazy_table,
              fixture_teardown);
  g_test_add ("/embed-store/migrates-v1", Fixture, NULL, fixture_setup, test_migrates_v1,
              fixture_teardown);
  return g_test_run ();
}
