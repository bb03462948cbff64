/* test-checkpoint.c — exact resume, refusal of bad checkpoints, loss log.
 *
 * The model is least-squares linear regression, y ≈ x·w + b, with its
 * gradient written by hand: small enough to run 20 steps in milliseconds,
 * yet it uses every part a real run does — AdamW with a no-decay bias,
 * clipping, warmup + cosine LR, EMA, a sequential random stream choosing
 * the batch rows, a counter-based stream adding label noise, and the data
 * loader's position. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "core/rg-safetensors.h"
#include "train/rg-checkpoint.h"
#include "train/rg-train-log.h"

#define N_ROWS 64
#define BATCH 8
#define STEPS 20
#define CONFIG "model: linear-regression\ndim: %d\nbatch: 8\n"

typedef struct
{
  int dim;
  float *x; /* N_ROWS × dim */
  float *y;
  RgTensor *w, *gw, *b, *gb, *extra, *gextra;
  RgAdamW *opt;
  RgEma *ema;
  RgLrSchedule lr;
  RgRng rows, noise;
  RgCheckpointRng rngs[2];
  RgTrainState state;
  char *config;
  RgTrainLog *log;
} Run;

typedef struct
{
  gboolean extra_param; /* the run has one more parameter */
  gboolean drop_ema;    /* the run has no EMA */
  int64_t total_steps;  /* the LR schedule's length */
  uint64_t noise_seed;
} RunOptions;

static const RunOptions defaults = { FALSE, FALSE, STEPS, 77 };

/* A fresh run; init_seed only changes the initial weights, so a resumed
 * run can start from different ones and prove the checkpoint restores
 * them. */
static Run *
run_new (int dim, uint64_t init_seed, const RunOptions *o)
{
  Run *r = g_new0 (Run, 1);
  r->dim = dim;
  r->x = g_new (float, N_ROWS *dim);
  r->y = g_new (float, N_ROWS);
  rg_rng_normal (1, 0, 0, r->x, N_ROWS * dim);
  for (int i = 0; i < N_ROWS; i++)
    {
      double t = 0.5;
      for (int k = 0; k < dim; k++)
        t += r->x[i * dim + k] * (0.3 * (k + 1) - 1.0);
      r->y[i] = (float)t;
    }

  r->w = rg_tensor_f32_new (2, (int64_t)1, (int64_t)dim);
  r->gw = rg_tensor_f32_zeros (2, (int64_t)1, (int64_t)dim);
  r->b = rg_tensor_f32_zeros (1, (int64_t)1);
  r->gb = rg_tensor_f32_zeros (1, (int64_t)1);
  rg_rng_normal (init_seed, 0, 0, rg_tensor_f32 (r->w), dim);

  RgAdamWConfig c;
  rg_adamw_config_init (&c);
  c.weight_decay = 0.05;
  r->opt = rg_adamw_new (&c, NULL);
  g_assert_true (rg_adamw_add_param (r->opt, "head.weight", r->w, r->gw, NULL));
  g_assert_true (rg_adamw_add_param (r->opt, "head.bias", r->b, r->gb, NULL));
  if (o->extra_param)
    {
      r->extra = rg_tensor_f32_zeros (1, (int64_t)2);
      r->gextra = rg_tensor_f32_zeros (1, (int64_t)2);
      g_assert_true (rg_adamw_add_param (r->opt, "head.scale", r->extra, r->gextra, NULL));
    }
  if (!o->drop_ema)
    {
      r->ema = rg_ema_new (0.99, TRUE, NULL);
      for (guint i = 0; i < rg_adamw_get_n_params (r->opt); i++)
        g_assert_true (rg_ema_add (r->ema, rg_adamw_get_name (r->opt, i),
                                   rg_adamw_get_weight (r->opt, i), NULL));
    }
  r->lr = (RgLrSchedule){
    .base_lr = 0.05, .min_lr = 0.005, .warmup_steps = 3, .total_steps = o->total_steps
  };
  rg_rng_init (&r->rows, 3, 0);
  rg_rng_init (&r->noise, o->noise_seed, 7);
  r->rngs[0] = (RgCheckpointRng){ "rows", &r->rows };
  r->rngs[1] = (RgCheckpointRng){ "label-noise", &r->noise };
  r->config = g_strdup_printf (CONFIG, dim);
  r->state = (RgTrainState){ .config = r->config,
                             .optim = r->opt,
                             .ema = r->ema,
                             .lr = &r->lr,
                             .rngs = r->rngs,
                             .n_rngs = 2,
                             .data_position = 0 };
  return r;
}

static void
run_free (Run *r)
{
  g_clear_pointer (&r->log, rg_train_log_close);
  rg_adamw_free (r->opt);
  rg_ema_free (r->ema);
  rg_tensor_unref (r->w);
  rg_tensor_unref (r->gw);
  rg_tensor_unref (r->b);
  rg_tensor_unref (r->gb);
  g_clear_pointer (&r->extra, rg_tensor_unref);
  g_clear_pointer (&r->gextra, rg_tensor_unref);
  g_free (r->x);
  g_free (r->y);
  g_free (r->config);
  g_free (r);
}

/* One update: loss = mean over the batch of (x·w + b − y − 0.1·noise)²,
 * gradient by hand. Returns the loss. */
static float
run_step (Run *r)
{
  const float *w = rg_tensor_f32 (r->w);
  float *gw = rg_tensor_f32 (r->gw), *gb = rg_tensor_f32 (r->gb);
  float noise[BATCH];

  /* label noise: counter-based, its offset kept in the stream's index */
  rg_rng_normal (r->noise.seed, r->noise.stream, r->noise.index, noise, BATCH);
  r->noise.index += BATCH;

  rg_adamw_zero_grad (r->opt);
  float loss = 0;
  for (int i = 0; i < BATCH; i++)
    {
      /* rows: shuffled by the sequential stream, counted by the loader */
      int row = rg_rng_range (&r->rows, 0, N_ROWS);
      r->state.data_position++;
      const float *x = r->x + row * r->dim;
      float pred = rg_tensor_f32 (r->b)[0];
      for (int k = 0; k < r->dim; k++)
        pred += x[k] * w[k];
      float res = pred - (r->y[row] + 0.1f * noise[i]);
      loss += res * res / BATCH;
      for (int k = 0; k < r->dim; k++)
        gw[k] += 2.f * res * x[k] / BATCH;
      gb[0] += 2.f * res / BATCH;
    }

  int64_t step = rg_adamw_get_step (r->opt);
  double lr = rg_lr_at (&r->lr, step);
  double norm = rg_adamw_clip_grad_norm (r->opt, 1.0);
  rg_adamw_step (r->opt, lr);
  if (r->ema)
    rg_ema_update (r->ema);
  if (r->log)
    g_assert_true (rg_train_log_append (r->log, step + 1, loss, lr, norm, 1000.0, NULL));
  return loss;
}

static char *
make_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("rg-ckpt-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
assert_same_tensor (RgTensor *a, RgTensor *b)
{
  g_assert_true (rg_tensor_same_shape (a, b));
  g_assert_cmpmem (a->data, rg_tensor_nbytes (a), b->data, rg_tensor_nbytes (b));
}

/* The CSV without its it/s column, which is a measurement. */
static char *
log_without_speed (const char *path)
{
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);
  for (char **l = lines; *l && **l; l++)
    {
      char *comma = strrchr (*l, ',');
      g_string_append_len (out, *l, comma ? comma - *l : (gssize)strlen (*l));
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static void
test_exact_resume (void)
{
  g_autofree char *dir_a = make_dir ();
  g_autofree char *dir_b = make_dir ();
  g_autofree char *log_a = g_build_filename (dir_a, "loss.csv", NULL);
  g_autofree char *log_b = g_build_filename (dir_b, "loss.csv", NULL);
  g_autoptr (GError) error = NULL;
  float straight[STEPS], resumed[STEPS];

  /* A: 20 steps without a break */
  Run *a = run_new (8, 42, &defaults);
  a->log = rg_train_log_open (log_a, -1, &error);
  g_assert_no_error (error);
  for (int s = 0; s < STEPS; s++)
    straight[s] = run_step (a);
  g_assert_cmpfloat (straight[STEPS - 1], <, 0.5f * straight[0]); /* it learns */

  /* B: 10 steps, checkpoint, 3 more steps that a crash then loses */
  Run *b = run_new (8, 42, &defaults);
  b->log = rg_train_log_open (log_b, -1, &error);
  for (int s = 0; s < STEPS / 2; s++)
    resumed[s] = run_step (b);
  g_autofree char *path = rg_checkpoint_save (dir_b, &b->state, 2, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (path, "step-00000010.safetensors"));
  for (int s = 0; s < 3; s++)
    run_step (b);
  run_free (b);

  /* C: a new process in all but name — different initial weights, fresh
   * streams — resumes from B's checkpoint */
  Run *c = run_new (8, 4242, &defaults);
  g_assert_true (rg_checkpoint_resume (dir_b, &c->state, &error));
  g_assert_no_error (error);
  g_assert_cmpint (rg_adamw_get_step (c->opt), ==, STEPS / 2);
  g_assert_cmpuint (c->state.data_position, ==, STEPS / 2 * BATCH);
  c->log = rg_train_log_open (log_b, rg_adamw_get_step (c->opt), &error);
  g_assert_no_error (error);
  g_assert_cmpint (rg_train_log_get_last_step (c->log), ==, STEPS / 2);
  for (int s = STEPS / 2; s < STEPS; s++)
    resumed[s] = run_step (c);

  g_assert_cmpmem (straight, sizeof straight, resumed, sizeof resumed);
  for (guint i = 0; i < rg_adamw_get_n_params (a->opt); i++)
    {
      assert_same_tensor (rg_adamw_get_weight (a->opt, i), rg_adamw_get_weight (c->opt, i));
      assert_same_tensor (rg_adamw_get_m (a->opt, i), rg_adamw_get_m (c->opt, i));
      assert_same_tensor (rg_adamw_get_v (a->opt, i), rg_adamw_get_v (c->opt, i));
      assert_same_tensor (rg_ema_get_shadow (a->ema, i), rg_ema_get_shadow (c->ema, i));
    }
  g_assert_cmpuint (a->rows.index, ==, c->rows.index);
  g_assert_cmpuint (a->noise.index, ==, c->noise.index);

  /* the log of the interrupted run reads like the straight one: rows 11–13
   * of the lost steps were dropped and rewritten */
  g_clear_pointer (&a->log, rg_train_log_close);
  g_clear_pointer (&c->log, rg_train_log_close);
  g_autofree char *text_a = log_without_speed (log_a);
  g_autofree char *text_b = log_without_speed (log_b);
  g_assert_cmpstr (text_a, ==, text_b);

  /* a second checkpoint prunes beyond keep = 1 and moves `latest` */
  g_autofree char *path2 = rg_checkpoint_save (dir_b, &c->state, 1, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_autofree char *latest = rg_checkpoint_latest (dir_b, &error);
  g_assert_cmpstr (latest, ==, path2);

  run_free (a);
  run_free (c);
  remove_dir (dir_a);
  remove_dir (dir_b);
}

/* Save a 10-step checkpoint of the default run into a new directory. */
static char *
saved_dir (char **file)
{
  char *dir = make_dir ();
  Run *r = run_new (8, 42, &defaults);
  for (int s = 0; s < 10; s++)
    run_step (r);
  GError *error = NULL;
  *file = rg_checkpoint_save (dir, &r->state, 0, &error);
  g_assert_no_error (error);
  run_free (r);
  return dir;
}

/* Resume a run into dir and expect a refusal whose message contains
 * `needle`; the run's weights must be untouched. */
static void
expect_refusal (const char *dir, Run *r, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTensor) before = rg_tensor_clone (r->w);

  g_assert_false (rg_checkpoint_resume (dir, &r->state, &error));
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_assert_error (error, RG_ERROR, code);
  if (!strstr (error->message, needle))
    g_error ("message \"%s\" does not mention \"%s\"", error->message, needle);
  assert_same_tensor (before, r->w);
  g_assert_cmpint (rg_adamw_get_step (r->opt), ==, 0);
  g_assert_cmpuint (r->state.data_position, ==, 0);
}

static void
test_mismatch_refused (void)
{
  g_autofree char *file = NULL;
  g_autofree char *dir = saved_dir (&file);
  Run *r;

  r = run_new (9, 1, &defaults); /* other config and shapes */
  r->state.config = "model: linear-regression\ndim: 8\nbatch: 8\n";
  expect_refusal (dir, r, RG_ERROR_INVALID_ARGUMENT,
                  "param/head.weight\" is [1, 8], the run's is [1, 9]");
  r->state.config = r->config;
  expect_refusal (dir, r, RG_ERROR_INVALID_ARGUMENT,
                  "different config (first difference on line 2)");
  run_free (r);

  RunOptions o = defaults;
  o.extra_param = TRUE;
  r = run_new (8, 1, &o);
  rg_adamw_set_decay (r->opt, "head.scale", FALSE, NULL);
  expect_refusal (dir, r, RG_ERROR_INVALID_ARGUMENT, "adamw.no_decay");
  rg_adamw_set_decay (r->opt, "head.scale", TRUE, NULL);
  expect_refusal (dir, r, RG_ERROR_INVALID_ARGUMENT, "no tensor \"param/head.scale\"");
  run_free (r);

  o = defaults;
  o.drop_ema = TRUE;
  r = run_new (8, 1, &o);
  expect_refusal (dir, r, RG_ERROR_INVALID_ARGUMENT, "the run has no EMA");
  run_free (r);

  o = defaults;
  o.total_steps = 30;
  r = run_new (8, 1, &o);
  expect_refusal (dir, r, RG_ERROR_INVALID_ARGUMENT, "lr.total_steps = 20, the run has 30");
  run_free (r);

  o = defaults;
  o.noise_seed = 78;
  r = run_new (8, 1, &o);
  expect_refusal (dir, r, RG_ERROR_INVALID_ARGUMENT, "rng.label-noise.seed");
  run_free (r);

  /* the unchanged run still resumes */
  r = run_new (8, 1, &defaults);
  g_assert_true (rg_checkpoint_resume (dir, &r->state, NULL));
  g_assert_cmpint (rg_adamw_get_step (r->opt), ==, 10);
  run_free (r);
  remove_dir (dir);
}

static void
test_corrupt_refused (void)
{
  g_autofree char *file = NULL;
  g_autofree char *dir = saved_dir (&file);
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (file, &bytes, &len, NULL));
  g_autofree char *latest = g_build_filename (dir, "latest", NULL);
  Run *r = run_new (8, 1, &defaults);

  /* one flipped bit in the last tensor's data */
  bytes[len - 1] ^= 0x10;
  g_assert_true (g_file_set_contents (file, bytes, len, NULL));
  expect_refusal (dir, r, RG_ERROR_CORRUPT, "is damaged");
  bytes[len - 1] ^= 0x10;

  /* cut short */
  g_assert_true (g_file_set_contents (file, bytes, len - 100, NULL));
  expect_refusal (dir, r, RG_ERROR_CORRUPT, file);
  g_assert_true (g_file_set_contents (file, bytes, len, NULL));

  /* `latest` pointing out of the directory, or at nothing */
  g_assert_true (g_file_set_contents (latest, "../../etc/passwd\n", -1, NULL));
  expect_refusal (dir, r, RG_ERROR_CORRUPT, "does not name a checkpoint");
  g_assert_true (g_file_set_contents (latest, "step-00000099.safetensors\n", -1, NULL));
  expect_refusal (dir, r, RG_ERROR_NOT_FOUND, "does not exist");
  g_unlink (latest);
  expect_refusal (dir, r, RG_ERROR_NOT_FOUND, "no checkpoint in");

  /* a safetensors file that is not a checkpoint, and one from the future */
  g_autofree char *base = g_path_get_basename (file);
  g_assert_true (g_file_set_contents (latest, base, -1, NULL));
  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  g_autoptr (RgTensor) t = rg_tensor_f32_zeros (1, (int64_t)4);
  g_assert_true (rg_safetensors_writer_add (w, "weight", t, RG_F32, NULL));
  g_assert_true (rg_safetensors_writer_save (w, file, NULL));
  expect_refusal (dir, r, RG_ERROR_CORRUPT, "not a Reelgen training checkpoint");
  rg_safetensors_writer_set_metadata (w, "format", "reelgen-train-checkpoint");
  rg_safetensors_writer_set_metadata (w, "format_version", "2");
  g_assert_true (rg_safetensors_writer_save (w, file, NULL));
  expect_refusal (dir, r, RG_ERROR_VERSION, "format version 2");

  g_assert_true (g_file_set_contents (file, bytes, len, NULL));
  g_assert_true (rg_checkpoint_resume (dir, &r->state, NULL));
  run_free (r);
  remove_dir (dir);
}

/* Pruning keeps the newest `keep` files but never the one just written,
 * even when an earlier run left higher step numbers in the directory. */
static void
test_prune_keeps_current (void)
{
  g_autofree char *file = NULL;
  g_autofree char *dir = saved_dir (&file);
  g_autofree char *stale = g_build_filename (dir, "step-00009999.safetensors", NULL);
  g_autofree char *older = g_build_filename (dir, "step-00000003.safetensors", NULL);
  g_assert_true (g_file_set_contents (stale, "stale", -1, NULL));
  g_assert_true (g_file_set_contents (older, "older", -1, NULL));

  Run *r = run_new (8, 42, &defaults);
  g_assert_true (rg_checkpoint_resume (dir, &r->state, NULL));
  run_step (r);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = rg_checkpoint_save (dir, &r->state, 2, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (path, "step-00000011.safetensors"));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (stale, G_FILE_TEST_EXISTS)); /* the one other kept */
  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (older, G_FILE_TEST_EXISTS));
  g_autofree char *latest = rg_checkpoint_latest (dir, NULL);
  g_assert_cmpstr (latest, ==, path);
  run_free (r);
  remove_dir (dir);
}

/* The sampling file holds the EMA weights under plain names, narrowed to
 * BF16 as shipped models are, with the caller's metadata. */
static void
test_export_weights (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "nano-test.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  Run *r = run_new (8, 42, &defaults);
  for (int s = 0; s < 5; s++)
    run_step (r);

  g_autoptr (GHashTable) meta = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (meta, "config", r->config);
  g_assert_true (rg_checkpoint_export_weights (&r->state, path, RG_BF16, meta, &error));
  g_assert_no_error (error);

  g_autoptr (RgSafetensors) st = rg_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rg_safetensors_get_n_tensors (st), ==, 2);
  g_assert_cmpstr (rg_safetensors_get_metadata (st, "config"), ==, r->config);
  g_autoptr (RgTensor) stored = rg_safetensors_get (st, "head.weight", &error);
  g_assert_no_error (error);
  g_assert_cmpint (stored->dtype, ==, RG_BF16);

  RgTensor *shadow = rg_ema_lookup (r->ema, "head.weight");
  g_autoptr (RgTensor) want = rg_tensor_to_dtype (shadow, RG_BF16);
  assert_same_tensor (want, stored);
  /* five updates in, the shadow still lags the weights: exporting the raw
   * weights instead would be caught */
  g_assert_true (memcmp (shadow->data, r->w->data, rg_tensor_nbytes (shadow)) != 0);

  g_assert_false (rg_checkpoint_export_weights (&r->state, path, RG_I32, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  run_free (r);
  remove_dir (dir);
}

static void
test_log_refuses_and_drops_torn_row (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "loss.csv", NULL);
  g_autoptr (GError) error = NULL;

  /* a crash mid-row leaves a line without its newline */
  g_assert_true (g_file_set_contents (
      path, RG_TRAIN_LOG_HEADER "\n1,2.5,0.1,3,10\n2,2.25,0.1,3,10\n3,2.", -1, NULL));
  RgTrainLog *log = rg_train_log_open (path, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rg_train_log_get_last_step (log), ==, 2);
  g_assert_false (rg_train_log_append (log, 2, 1, 1, 1, 1, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (rg_train_log_append (log, 3, 0.125, 1e-4, 0.5, 12.5, &error));
  rg_train_log_close (log);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==,
                   RG_TRAIN_LOG_HEADER "\n1,2.5,0.1,3,10\n2,2.25,0.1,3,10\n"
                                       "3,0.125,0.0001,0.5,12.5\n");

  /* files that are not this log are left alone */
  const char *bad[] = { "step,loss\n1,2\n", RG_TRAIN_LOG_HEADER "\n2,1,1,1,1\n1,1,1,1,1\n",
                        RG_TRAIN_LOG_HEADER "\n1,abc,1,1,1\n" };
  const char *needle[]
      = { "is not a loss log", "line 3: step 1 does not follow step 2", "line 2: expected" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_true (g_file_set_contents (path, bad[i], -1, NULL));
      g_assert_null (rg_train_log_open (path, 1, &error));
      g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
      g_assert_nonnull (strstr (error->message, needle[i]));
      g_clear_error (&error);
      g_autofree char *after = NULL;
      g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
      g_assert_cmpstr (after, ==, bad[i]);
    }
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/checkpoint/exact-resume", test_exact_resume);
  g_test_add_func ("/checkpoint/mismatch-refused", test_mismatch_refused);
  g_test_add_func ("/checkpoint/corrupt-refused", test_corrupt_refused);
  g_test_add_func ("/checkpoint/prune-keeps-current", test_prune_keeps_current);
  g_test_add_func ("/checkpoint/export-weights", test_export_weights);
  g_test_add_func ("/checkpoint/loss-log", test_log_refuses_and_drops_torn_row);
  return g_test_run ();
}
