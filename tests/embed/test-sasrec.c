/* SASRec: the embedding gradient against finite differences, causality,
 * and training through the store lowering the loss on sequences with a
 * pattern. */
#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "embed/rg-embed-store.h"
#include "embed/rg-sasrec.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static const uint32_t offsets[] = { 0, 4, 9, 11 };
static const int64_t ids[] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5 };
#define N_IDS 11
#define DIM 8

static RgSasrec *
small_model (void)
{
  g_autoptr (GError) error = NULL;
  RgSasrecConfig cfg = rg_sasrec_config_default (DIM);
  cfg.max_len = 6;
  cfg.n_heads = 2;
  cfg.n_negatives = 3;
  RgSasrec *m = rg_sasrec_new (&cfg, &error);
  g_assert_no_error (error);
  return m;
}

/* Central differences of the loss, in double-checked f32 with a step large
 * enough to beat rounding. */
static float
loss_of (RgSasrec *m, const float *emb_in, const float *emb_out)
{
  float loss = 0;
  g_assert_true (
      rg_sasrec_step_split (m, offsets, 3, ids, emb_in, emb_out, 1, NULL, NULL, &loss, NULL));
  return loss;
}

static void
check_fd (RgSasrec *m, float *x, gsize n, const float *grad, const float *emb_in,
          const float *emb_out, const char *what)
{
  double max_err = 0, max_grad = 0;
  for (gsize i = 0; i < n; i++)
    {
      const float h = 1e-2f;
      float keep = x[i];
      x[i] = keep + h;
      float lp = loss_of (m, emb_in, emb_out);
      x[i] = keep - h;
      float lm = loss_of (m, emb_in, emb_out);
      x[i] = keep;
      double fd = ((double)lp - lm) / (2 * h);
      max_err = MAX (max_err, fabs (fd - grad[i]));
      max_grad = MAX (max_grad, fabs (grad[i]));
    }
  g_test_message ("%s: largest gradient %.4g, largest error vs finite differences %.3g", what,
                  max_grad, max_err);
  g_assert_cmpfloat (max_grad, >, 1e-3); /* the check is not vacuous */
  g_assert_cmpfloat (max_err, <, 0.02 * max_grad + 1e-4);
}

/* Every gradient the step computes — both roles of the item rows, the
 * position embeddings and each block's weights — against central
 * differences of the loss. */
static void
test_gradient (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgSasrec) m = small_model ();
  float emb_in[N_IDS * DIM], emb_out[N_IDS * DIM];
  float grad_in[N_IDS * DIM], grad_out[N_IDS * DIM];
  rg_rng_normal (5, 0, 0, emb_in, N_IDS * DIM);
  rg_rng_normal (5, 1, 0, emb_out, N_IDS * DIM);
  float loss = 0;
  g_assert_true (rg_sasrec_step_split (m, offsets, 3, ids, emb_in, emb_out, 1, grad_in, grad_out,
                                       &loss, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (loss, >, 0.0f);
  check_fd (m, emb_out, N_IDS * DIM, grad_out, emb_in, emb_out, "item rows as targets");
  check_fd (m, emb_in, N_IDS * DIM, grad_in, emb_in, emb_out, "item rows as inputs");

  const char *names[]
      = { "pos", "block0.wq", "block0.wk", "block0.wv", "block0.wo", "block1.wq", "block1.wo" };
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      /* the gradient of this very point: recompute, then copy it out */
      g_assert_true (
          rg_sasrec_step_split (m, offsets, 3, ids, emb_in, emb_out, 1, NULL, NULL, &loss, NULL));
      gsize n = 0;
      float *p = rg_sasrec_param (m, names[i], &n);
      g_autofree float *g = g_memdup2 (rg_sasrec_param_grad (m, names[i], &n), n * sizeof (float));
      g_assert_nonnull (p);
      check_fd (m, p, MIN (n, (gsize)6 * DIM), g, emb_in, emb_out, names[i]);
    }
  gsize n = 0;
  g_assert_null (rg_sasrec_param (m, "block7.wq", &n));

  /* step() adds the two roles when one set of rows plays both */
  float emb[N_IDS * DIM], grad[N_IDS * DIM];
  memcpy (emb, emb_in, sizeof emb);
  g_assert_true (
      rg_sasrec_step_split (m, offsets, 3, ids, emb, emb, 1, grad_in, grad_out, &loss, NULL));
  g_assert_true (rg_sasrec_step (m, offsets, 3, ids, emb, 1, grad, &loss, NULL));
  for (int i = 0; i < N_IDS * DIM; i++)
    g_assert_cmpfloat_with_epsilon (grad[i], grad_in[i] + grad_out[i], 1e-6);
}

/* No prediction is made from a sequence's last position, so with causal
 * attention its input row cannot change the loss; any leak from the future
 * would. Earlier rows do change it. */
static void
test_causal (void)
{
  g_autoptr (RgSasrec) m = small_model ();
  float emb[N_IDS * DIM], out[N_IDS * DIM], grad[N_IDS * DIM];
  rg_rng_normal (6, 0, 0, emb, N_IDS * DIM);
  memcpy (out, emb, sizeof emb);
  float base = 0, moved = 0;
  g_assert_true (rg_sasrec_step_split (m, offsets, 3, ids, emb, out, 2, grad, NULL, &base, NULL));
  /* and so its input-side gradient is exactly zero */
  for (int d = 0; d < DIM; d++)
    g_assert_cmpfloat (grad[8 * DIM + d], ==, 0.0f);
  float in2[N_IDS * DIM];
  memcpy (in2, emb, sizeof emb);
  for (int d = 0; d < DIM; d++)
    in2[8 * DIM + d] += 3.0f; /* last item of sample 1 */
  g_assert_true (rg_sasrec_step_split (m, offsets, 3, ids, in2, out, 2, NULL, NULL, &moved, NULL));
  g_assert_cmpfloat (moved, ==, base);
  memcpy (in2, emb, sizeof emb);
  for (int d = 0; d < DIM; d++)
    in2[5 * DIM + d] += 3.0f; /* second item of sample 1 */
  g_assert_true (rg_sasrec_step_split (m, offsets, 3, ids, in2, out, 2, NULL, NULL, &moved, NULL));
  g_assert_cmpfloat (moved, !=, base);
}

static void
test_bad_config (void)
{
  g_autoptr (GError) error = NULL;
  RgSasrecConfig cfg = rg_sasrec_config_default (10);
  cfg.n_heads = 3;
  g_assert_null (rg_sasrec_new (&cfg, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

/* Histories where the next item is usually (prev + 37) mod 200 — one cycle
 * through all 200 items, so a history never already holds what comes next.
 * Training the item rows in the store must bring the loss well down, and
 * the recommender must then name the pattern's next item. */
#define ITEMS 200
#define BATCH 32
#define LEN 10

static void
make_batch (RgRng *rng, int64_t *seq, uint32_t *offs)
{
  for (int b = 0; b < BATCH; b++)
    {
      offs[b] = b * LEN;
      int64_t item = rg_rng_range (rng, 0, ITEMS);
      for (int t = 0; t < LEN; t++)
        {
          seq[b * LEN + t] = item;
          item = rg_rng_double (rng) < 0.9 ? (item + 37) % ITEMS : rg_rng_range (rng, 0, ITEMS);
        }
    }
  offs[BATCH] = BATCH * LEN;
}

static void
test_training_through_store (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-test-sasrec-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "items.rgemb", NULL);
  RgEmbedStoreConfig scfg = rg_embed_store_config_default ();
  scfg.cache_rows = 64;
  RgEmbedStore *store = rg_embed_store_open (path, &scfg, &error);
  g_assert_no_error (error);
  RgEmbedOptim optim = { RG_EMBED_OPTIM_ADAGRAD, 0.2f, 1e-8f };
  uint32_t table = 0;
  g_assert_true (rg_embed_store_create_table (store, "items", ITEMS, 16, RG_F32, &optim, 3, 0.1f,
                                              &table, &error));
  /* the 50 most popular rows in host memory, the rest cold behind the cache */
  guint8 place[ITEMS];
  for (int r = 0; r < ITEMS; r++)
    place[r] = r < 50 ? RG_EMBED_TIER_HOST : RG_EMBED_TIER_COLD;
  g_assert_true (rg_embed_store_set_placement (store, table, place, &error));

  RgSasrecConfig cfg = rg_sasrec_config_default (16);
  cfg.max_len = LEN;
  cfg.train_dense = TRUE;
  g_autoptr (RgSasrec) m = rg_sasrec_new (&cfg, &error);
  g_assert_no_error (error);
  RgRng rng;
  rg_rng_init (&rng, 11, 0);
  int64_t seq[BATCH * LEN];
  uint32_t offs[BATCH + 1];
  g_autofree float *emb = g_new (float, BATCH *LEN * 16);
  g_autofree float *grad = g_new (float, BATCH *LEN * 16);
  double first = 0, last = 0, step0 = 0;
  const int steps = 150;
  for (int s = 0; s < steps; s++)
    {
      make_batch (&rng, seq, offs);
      float loss = 0;
      g_assert_true (rg_embed_store_lookup_sequence (store, table, seq, BATCH, LEN, emb, &error));
      g_assert_true (rg_sasrec_step (m, offs, BATCH, seq, emb, s, grad, &loss, &error));
      g_assert_true (rg_embed_store_apply_gradients (store, table, seq, BATCH * LEN, grad, &error));
      g_assert_no_error (error);
      if (s == 0)
        step0 = loss;
      if (s < 10)
        first += loss / 10;
      if (s >= steps - 10)
        last += loss / 10;
    }
  g_test_message ("sampled-softmax loss: step 0 %.3f, first 10 steps %.3f, last 10 steps %.3f",
                  step0, first, last);
  /* ln(9) ≈ 2.2 is chance with 8 negatives: small rows start there */
  g_assert_cmpfloat (step0, >, 1.8);
  g_assert_cmpfloat (last, <, 0.6 * first);

  /* what a creator sees: after a history following the pattern, the
   * pattern's next item is among the top suggestions out of all 200 */
  int top1 = 0, top5 = 0;
  for (int trial = 0; trial < 50; trial++)
    {
      int64_t history[LEN];
      int64_t item = rg_rng_range (&rng, 0, ITEMS);
      for (int t = 0; t < LEN; t++)
        {
          history[t] = item;
          item = (item + 37) % ITEMS;
        }
      int64_t items[5];
      float scores[5];
      int found = 0;
      g_assert_true (rg_sasrec_recommend (m, store, table, history, LEN, TRUE, 5, items, scores,
                                          &found, &error));
      g_assert_no_error (error);
      g_assert_cmpint (found, ==, 5);
      g_assert_cmpfloat (scores[0], >=, scores[4]);
      top1 += items[0] == item;
      for (int j = 0; j < 5; j++)
        top5 += items[j] == item;
    }
  g_test_message ("next item of the pattern: top-1 %d/50, top-5 %d/50 (chance 0.25 and 1.25)", top1,
                  top5);
  g_assert_cmpint (top1, >=, 40);
  g_assert_cmpint (top5, >=, 45);
  int64_t none = 0;
  int found = 0;
  int64_t out[1];
  g_assert_false (
      rg_sasrec_recommend (m, store, table, &none, 0, FALSE, 1, out, NULL, &found, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (rg_embed_store_close (store, &error));
  g_assert_no_error (error);
  const char *suffixes[] = { "", "-wal", "-shm" };
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *p = g_strconcat (path, suffixes[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sasrec/gradient", test_gradient);
  g_test_add_func ("/sasrec/causal", test_causal);
  g_test_add_func ("/sasrec/bad-config", test_bad_config);
  g_test_add_func ("/sasrec/training-through-store", test_training_through_store);
  return g_test_run ();
}
