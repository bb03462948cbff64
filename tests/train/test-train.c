/* test-train.c — `reelgen train` on tiny models: the loss goes down, a run
 * stopped and resumed gives the same losses as one that never stopped,
 * and the run directory is guarded (a fresh run refuses an existing one).
 *
 * The models are the nano family shrunk to a few thousand weights (32×32
 * clips of 8 frames, 8-channel TAE, width-32 DiT) so each run takes
 * seconds; the code path is the one the shipped models were trained with. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-safetensors.h"
#include "models/rg-model.h"
#include "rg-config.h"
#include "train/rg-train-data.h"
#include "train/rg-trainer.h"

static char *tmp_dir;

static void
tiny_model (RgModelConfig *m)
{
  g_assert_true (rg_model_config_preset ("nano-t2v", m, NULL));
  m->video = (RgVideoConfig){ .frames = 8, .height = 32, .width = 32, .fps = 8 };
  m->text = (RgTextConfig){ .vocab = 259, .max_len = 96, .width = 32, .layers = 1, .heads = 2,
                            .ffn = 64, .word_buckets = 256 };
  m->tae.levels = 3;
  m->tae.channels[0] = m->tae.channels[1] = m->tae.channels[2] = 8;
  m->tae.groups = 4;
  m->tae.latent_channels = 4;
  m->tae.temporal_down = 1;
  m->dit = (RgDitConfig){ .in_channels = 4, .width = 32, .layers = 2, .heads = 2, .ffn = 64,
                          .context_width = 32, .patch_t = 1, .patch_h = 2, .patch_w = 2,
                          .pos_t = 8, .pos_h = 8, .pos_w = 8, .freq_dim = 32,
                          .pooled_text = 1 };
  g_assert_true (rg_model_config_validate (m, NULL));
}

static void
tiny_config (RgTrainConfig *c, RgTrainTask task)
{
  rg_train_config_init (c, task);
  tiny_model (&c->model);
  c->batch = 2;
  c->lr = 3e-3;
  c->min_lr = 3e-4;
  c->warmup = 2;
  c->checkpoint_every = 100;
  c->sample_every = 0;
  if (task == RG_TRAIN_TAE)
    {
      c->crop_frames = 4;
      c->crop_size = 16;
    }
  else
    {
      c->dataset_clips = 8;
      c->sample_steps = 2;
      g_autofree char *tae = g_build_filename (tmp_dir, "tae", "model.safetensors", NULL);
      g_strlcpy (c->tae_path, tae, sizeof c->tae_path);
    }
}

/* Rows of DIR/train.csv without the it/s column (timing differs). */
static GPtrArray *
read_losses (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "train.csv", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *rows = g_ptr_array_new_with_free_func (g_free);
  for (int i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      char *last = strrchr (lines[i], ',');
      g_assert_nonnull (last);
      g_ptr_array_add (rows, g_strndup (lines[i], (gsize) (last - lines[i])));
    }
  return rows;
}

static double
mean_loss (GPtrArray *rows, guint from, guint to)
{
  double s = 0;
  for (guint i = from; i < to; i++)
    s += g_ascii_strtod (strchr (g_ptr_array_index (rows, i), ',') + 1, NULL);
  return s / (double) (to - from);
}

/* The loss of the first step of run `name`. */
static double
first_loss (const char *name)
{
  g_autofree char *dir = g_build_filename (tmp_dir, name, NULL);
  g_autoptr (GPtrArray) rows = read_losses (dir);
  return mean_loss (rows, 0, 1);
}

typedef struct {
  GCancellable *cancellable;
  int64_t       stop_at;
} Stopper;

static void
stop_at_step (const RgTrainProgress *p, gpointer data)
{
  Stopper *s = data;
  if (p->step == s->stop_at)
    g_cancellable_cancel (s->cancellable);
}

static void
train (const RgTrainConfig *c, const char *name, int64_t steps, gboolean resume)
{
  g_autofree char *dir = g_build_filename (tmp_dir, name, NULL);
  g_autoptr (GError) error = NULL;
  gboolean ok = rg_train_run (c, dir, steps, resume, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* Over a run the loss of the last steps is well below that of the first. */
static void
check_learns (const char *name, double factor)
{
  g_autofree char *dir = g_build_filename (tmp_dir, name, NULL);
  g_autoptr (GPtrArray) rows = read_losses (dir);
  guint n = rows->len;
  double first = mean_loss (rows, 0, 10), last = mean_loss (rows, n - 10, n);
  g_test_message ("%s: mean loss of steps 1-10 %.5f, of the last 10 %.5f", name, first, last);
  g_assert_cmpfloat (last, <, factor * first);
}

/* Steps 1..n straight, and 1..k then --resume to n: identical rows. */
static void
check_resume (const RgTrainConfig *c, const char *name, int64_t n, int64_t k)
{
  g_autofree char *straight = g_strconcat (name, "-straight", NULL);
  g_autofree char *split = g_strconcat (name, "-split", NULL);
  g_autofree char *split_dir = g_build_filename (tmp_dir, split, NULL);
  train (c, straight, n, FALSE);

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Stopper s = { cancellable, k };
  RgTrainCallbacks cb = { stop_at_step, NULL };
  g_autoptr (GError) error = NULL;
  g_assert_false (rg_train_run (c, split_dir, n, FALSE, &cb, &s, cancellable, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CANCELLED);
  g_clear_error (&error);
  /* without --resume the directory is refused, and left as it is */
  g_assert_false (rg_train_run (c, split_dir, n, FALSE, NULL, NULL, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "--resume"));
  g_clear_error (&error);
  train (c, split, n, TRUE);

  g_autofree char *straight_dir = g_build_filename (tmp_dir, straight, NULL);
  g_autoptr (GPtrArray) a = read_losses (straight_dir);
  g_autoptr (GPtrArray) b = read_losses (split_dir);
  g_assert_cmpuint (a->len, ==, (guint) n);
  g_assert_cmpuint (b->len, ==, (guint) n);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a, i), ==, g_ptr_array_index (b, i));
}

static void
test_tae (void)
{
  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_TAE);
  train (&c, "tae", 100, FALSE);
  check_learns ("tae", 0.8);
  c.sample_every = 3;
  check_resume (&c, "tae-resume", 6, 3);
  /* a sample is a playable clip of sources beside reconstructions */
  g_autofree char *sample = g_build_filename (tmp_dir, "tae-resume-straight", "samples",
                                              "step-00000006.mp4", NULL);
  g_assert_true (g_file_test (sample, G_FILE_TEST_IS_REGULAR));
}

/* A decoder fine-tune of the tiny TAE trained by /train/tae. */
static void
decoder_config (RgTrainConfig *c)
{
  tiny_config (c, RG_TRAIN_TAE);
  g_autofree char *init = g_build_filename (tmp_dir, "tae", "model.safetensors", NULL);
  g_strlcpy (c->init_path, init, sizeof c->init_path);
  c->freeze_encoder = 1;
}

/* Decoder fine-tuning: the encoder stays bit-identical to the init file,
 * the decoder moves. */
static void
test_freeze_encoder (void)
{
  RgTrainConfig c;
  decoder_config (&c);
  c.shape_crops = 0.5; /* as nano-tae-decoder-shapes.json: half the crops follow a shape */
  /* a TAE run takes only the TAE from its init file: a DiT of another
   * layout there (here: without the pooled-text projection) is no matter */
  c.model.dit.pooled_text = 0;
  train (&c, "tae-decoder", 5, FALSE);
  g_autofree char *out = g_build_filename (tmp_dir, "tae-decoder", "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgModel) before = rg_model_load (c.init_path, &error);
  g_autoptr (RgModel) after = rg_model_load (out, &error);
  g_assert_no_error (error);
  int enc_same = 0, dec_moved = 0;
  for (guint i = 0; i < rg_model_get_n_weights (before); i++)
    {
      const char *name = rg_model_get_weight_name (before, i);
      if (!g_str_has_prefix (name, "tae."))
        continue;
      RgTensor *a = rg_model_get_weight (before, i), *b = rg_model_find_weight (after, name);
      g_assert_nonnull (b);
      gboolean same = memcmp (a->data, b->data, rg_tensor_nbytes (a)) == 0;
      if (g_str_has_prefix (name, "tae.enc."))
        {
          g_assert_true (same);
          enc_same++;
        }
      else if (g_str_has_prefix (name, "tae.dec.") && !same)
        dec_moved++;
    }
  g_assert_cmpint (enc_same, >, 10);
  g_assert_cmpint (dec_moved, >, 10);
}

/* latent_noise reaches the decoder: the same decoder run with and without
 * it decodes other latents, so its first loss differs; the noise derives
 * from the step, so a stopped and resumed run still matches a straight one. */
static void
test_latent_noise (void)
{
  RgTrainConfig c;
  decoder_config (&c);
  train (&c, "tae-clean-latents", 2, FALSE);
  c.latent_noise = 1.0;
  train (&c, "tae-noisy-latents", 2, FALSE);
  double l_clean = first_loss ("tae-clean-latents"), l_noisy = first_loss ("tae-noisy-latents");
  g_test_message ("first decoder loss: clean latents %.6f, noisy %.6f", l_clean, l_noisy);
  g_assert_cmpfloat (fabs (l_clean - l_noisy), >, 1e-6);
  check_resume (&c, "tae-noisy-resume", 6, 3);
}

/* bounce_clips: that share of a TAE run's clips comes from the next scene
 * with a bouncing shape, the same ones on every run; a world that cannot
 * bounce is a clear error, not an endless search. */
static void
test_bounce_clips (void)
{
  RgShapesConfig world;
  rg_shapes_config_init (&world);
  g_autoptr (GError) error = NULL;
  RgShapesScene scene;
  uint64_t next = 0, at;
  for (uint64_t i = 0; i < 20; i++) /* no share: one position after another */
    {
      g_assert_true (rg_train_next_scene (&world, 21, 0.0, &next, &at, &scene, &error));
      g_assert_cmpuint (at, ==, i);
    }
  g_assert_cmpuint (next, ==, 20);

  next = 0;
  uint64_t last = 0;
  for (int i = 0; i < 40; i++) /* all: each the first bouncing scene after the last */
    {
      g_assert_true (rg_train_next_scene (&world, 21, 1.0, &next, &at, &scene, &error));
      g_assert_no_error (error);
      g_assert_true (rg_train_scene_bounces (&scene));
      g_assert_cmpuint (next, ==, at + 1);
      for (uint64_t p = i ? last + 1 : 0; p < at; p++)
        {
          RgShapesScene skipped;
          g_assert_true (rg_shapes_scene_sample (&world, rg_train_scene_seed (21, p), &skipped, &error));
          g_assert_false (rg_train_scene_bounces (&skipped));
        }
      last = at;
    }

  /* half: about half the draws plus the natural share; the same each time */
  uint64_t first_pass[200];
  int bouncing = 0;
  for (int pass = 0; pass < 2; pass++)
    {
      next = 0;
      for (int i = 0; i < 200; i++)
        {
          g_assert_true (rg_train_next_scene (&world, 21, 0.5, &next, &at, &scene, &error));
          if (pass == 0)
            first_pass[i] = at, bouncing += rg_train_scene_bounces (&scene);
          else
            g_assert_cmpuint (at, ==, first_pass[i]);
        }
    }
  g_test_message ("bounce_clips 0.5: %d of 200 clips bounce", bouncing);
  g_assert_cmpint (bouncing, >=, 90);
  g_assert_cmpint (bouncing, <=, 145);

  world.frames = 6; /* too short for a bounce */
  next = 0;
  gboolean ok = TRUE;
  for (int i = 0; i < 8 && ok; i++)
    ok = rg_train_next_scene (&world, 21, 1.0, &next, &at, &scene, &error);
  g_assert_false (ok);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "bounce_clips"));
  g_clear_error (&error);

  /* a decoder run on them still resumes exactly */
  RgTrainConfig c;
  decoder_config (&c);
  c.bounce_clips = 0.5;
  check_resume (&c, "tae-bounce-resume", 6, 3);
}

static void
test_t2v (void)
{
  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_T2V);
  train (&c, "t2v", 60, FALSE);
  check_learns ("t2v", 0.8);
  c.sample_every = 3;
  check_resume (&c, "t2v-resume", 6, 4);

  /* a missing TAE is a clear error before any step */
  g_autofree char *dir0 = g_build_filename (tmp_dir, "t2v-no-tae-given", NULL);
  RgTrainConfig none = c;
  none.tae_path[0] = '\0';
  g_autoptr (GError) error0 = NULL;
  g_assert_false (rg_train_run (&none, dir0, 4, FALSE, NULL, NULL, NULL, &error0));
  g_assert_error (error0, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error0->message, "TAE"));
  g_strlcpy (c.tae_path, "/nonexistent/tae.safetensors", sizeof c.tae_path);
  g_autofree char *dir = g_build_filename (tmp_dir, "t2v-no-tae", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (rg_train_run (&c, dir, 4, FALSE, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/tae.safetensors"));
}

/* The first loss of the tiny t2v run with neither motion_loss nor
 * object_loss, which those settings' tests compare against: trained once. */
static double
plain_t2v_first_loss (void)
{
  g_autofree char *dir = g_build_filename (tmp_dir, "t2v-plain-loss", NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      RgTrainConfig c;
      tiny_config (&c, RG_TRAIN_T2V);
      train (&c, "t2v-plain-loss", 2, FALSE);
    }
  return first_loss ("t2v-plain-loss");
}

/* motion_loss adds the part of the error that changes over the frames:
 * the first step (same seed, so the same prediction and target) costs more
 * than with the plain MSE; the run still learns and resumes exactly. */
static void
test_t2v_motion_loss (void)
{
  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_T2V);
  c.motion_loss = 2.0;
  train (&c, "t2v-motion-loss", 40, FALSE);
  double l_plain = plain_t2v_first_loss (), l_motion = first_loss ("t2v-motion-loss");
  g_test_message ("first t2v loss: plain %.5f, with motion_loss 2 %.5f", l_plain, l_motion);
  /* the untrained DiT's error holds the unit-variance noise x₀, ¾ of whose
   * variance changes over the 4 latent frames: motion_loss 2 adds about
   * 2 · ¾ = 1.5 to the loss. (A ratio to the plain loss would also depend
   * on the latents' scale, which the tiny TAE trained above sets, and it
   * differs with the CPU's arithmetic: 1.39 on one machine, above 1.4 on
   * the machines where this test passed before.) */
  g_assert_cmpfloat (l_motion - l_plain, >, 1.0);
  check_learns ("t2v-motion-loss", 0.8);
  check_resume (&c, "t2v-motion-resume", 5, 3);
}

/* A run's world, as rg_train_run sets it up from the config. */
static void
run_world (const RgTrainConfig *c, RgShapesConfig *world)
{
  rg_shapes_config_init (world);
  world->width = c->model.video.width, world->height = c->model.video.height;
  world->frames = c->model.video.frames;
}

/* bounce_clips in a t2v run: it reaches the sampler, resumes exactly,
 * and a cached set without a bouncing clip is a clear error. */
static void
test_t2v_bounce_clips (void)
{
  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_T2V);
  RgShapesConfig world;
  run_world (&c, &world);
  g_autoptr (GError) error = NULL;
  int bouncing = 0;
  RgShapesScene scene;
  for (int n = 0; n < 32; n++)
    {
      g_assert_true (rg_shapes_scene_sample (&world, rg_train_scene_seed (c.seed, n), &scene, &error));
      bouncing += rg_train_scene_bounces (&scene);
    }
  g_test_message ("%d of the first 32 clips bounce", bouncing);
  g_assert_cmpint (bouncing, >, 0);
  uint64_t quiet_seed = c.seed; /* a run whose first clip does not bounce */
  do
    g_assert_true (rg_shapes_scene_sample (&world, rg_train_scene_seed (++quiet_seed, 0), &scene, &error));
  while (rg_train_scene_bounces (&scene));

  c.dataset_clips = 32;
  train (&c, "t2v-bounce-none", 2, FALSE);
  c.bounce_clips = 1.0;
  train (&c, "t2v-bounce-all", 2, FALSE);
  g_assert_cmpfloat (fabs (first_loss ("t2v-bounce-none") - first_loss ("t2v-bounce-all")), >, 1e-6);
  c.bounce_clips = 0.5;
  check_resume (&c, "t2v-bounce-resume", 5, 3);

  c.dataset_clips = 1;
  c.seed = quiet_seed;
  g_autofree char *dir = g_build_filename (tmp_dir, "t2v-bounce-nothing", NULL);
  g_assert_false (rg_train_run (&c, dir, 2, FALSE, NULL, NULL, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "bounce_clips"));
}

/* diagonal_clips beside bounce_clips: it changes what a run samples,
 * resumes exactly when both draw, and the two shares may not pass 1. */
static void
test_t2v_diagonal_clips (void)
{
  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_T2V);
  RgShapesConfig world;
  run_world (&c, &world);
  int diagonal = 0;
  RgShapesScene scene;
  for (int n = 0; n < 32; n++)
    {
      g_assert_true (rg_shapes_scene_sample (&world, rg_train_scene_seed (c.seed, n), &scene, NULL));
      diagonal += rg_train_scene_has_motion (&scene, RG_MOTION_DIAGONAL);
    }
  g_test_message ("%d of the first 32 clips move diagonally", diagonal);
  g_assert_cmpint (diagonal, >, 0);
  g_assert_cmpint (diagonal, <, 32);

  c.dataset_clips = 32;
  train (&c, "t2v-diagonal-none", 2, FALSE);
  c.diagonal_clips = 1.0;
  train (&c, "t2v-diagonal-all", 2, FALSE);
  g_assert_cmpfloat (fabs (first_loss ("t2v-diagonal-none") - first_loss ("t2v-diagonal-all")), >,
                     1e-6);
  c.diagonal_clips = 0.4, c.bounce_clips = 0.4;
  check_resume (&c, "t2v-diagonal-resume", 5, 3);

  c.bounce_clips = 0.7;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (tmp_dir, "t2v-shares-over-one", NULL);
  g_assert_false (rg_train_run (&c, dir, 2, FALSE, NULL, NULL, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "diagonal_clips"));
}

/* object_loss: a shape's path is the cells it touches (a radius-3 shape
 * sliding right from x = 10 to 20 at y = 40 on an 8×8 grid of 8-px cells
 * touches rows 4–5, columns 0–2: its circumcircle and the anti-aliasing
 * pixel reach 6 to 24 px across and 36 to 44 down), and spreads its share
 * of the grid's 64 over them; a small shape's cells weigh more than a large
 * one's; the weight changes a run's loss, and a run resumes exactly with it. */
static void
test_t2v_object_loss (void)
{
  RgShapesScene scene = { .width = 64, .height = 64, .frames = 11, .n_shapes = 1 };
  RgShapesShape *sh = &scene.shapes[0];
  sh->radius = 3.f;
  for (int t = 0; t < scene.frames; t++)
    sh->x[t] = 10.f + (float) t, sh->y[t] = 40.f, sh->scale[t] = 1.f;
  float cells[64];
  rg_train_scene_object_cells (&scene, 8, 8, cells);
  for (int row = 0; row < 8; row++)
    for (int col = 0; col < 8; col++)
      g_assert_cmpfloat_with_epsilon (cells[row * 8 + col],
                                      (row == 4 || row == 5) && col <= 2 ? 64.f / 6.f : 0.f, 1e-5);
  /* growth counts: the same shape at 3× its size on the last frame */
  sh->scale[scene.frames - 1] = 3.f;
  rg_train_scene_object_cells (&scene, 8, 8, cells);
  g_assert_cmpfloat (cells[3 * 8 + 3], >, 0.f);

  /* a still radius-2 shape in one cell beside a still radius-20 one: the
   * small one's cell holds half the grid's weight, and all sum to 64 */
  RgShapesShape *big = &scene.shapes[1];
  scene.n_shapes = 2;
  for (int t = 0; t < scene.frames; t++)
    {
      sh->x[t] = 52.f, sh->y[t] = 12.f, sh->scale[t] = 1.f;
      big->x[t] = 24.f, big->y[t] = 40.f, big->scale[t] = 1.f;
    }
  sh->radius = 2.f, big->radius = 20.f;
  rg_train_scene_object_cells (&scene, 8, 8, cells);
  double sum = 0.0;
  for (int i = 0; i < 64; i++)
    sum += cells[i];
  g_assert_cmpfloat_with_epsilon (sum, 64.0, 1e-4);
  g_assert_cmpfloat_with_epsilon (cells[1 * 8 + 6], 32.f, 1e-5);
  g_assert_cmpfloat (cells[5 * 8 + 3], >, 0.f);
  g_assert_cmpfloat (cells[5 * 8 + 3], <, 4.f);

  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_T2V);
  c.object_loss = 4.0;
  train (&c, "t2v-object-weighted", 2, FALSE);
  double plain = plain_t2v_first_loss (), weighted = first_loss ("t2v-object-weighted");
  g_test_message ("first loss %.5f plain, %.5f with object_loss 4", plain, weighted);
  g_assert_cmpfloat (weighted, >, plain * 1.01);
  check_resume (&c, "t2v-object-resume", 5, 3);
}

static RgTensor *
dataset_tensor (const char *run, const char *name)
{
  g_autofree char *path = g_build_filename (tmp_dir, run, "dataset.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgSafetensors) st = rg_safetensors_open (path, &error);
  g_assert_no_error (error);
  RgTensor *t = rg_safetensors_get (st, name, &error); /* holds the mapping */
  g_assert_no_error (error);
  return t;
}

static void
copy_dataset (const char *from, const char *to)
{
  g_autofree char *src = g_build_filename (tmp_dir, from, "dataset.safetensors", NULL);
  g_autofree char *dir = g_build_filename (tmp_dir, to, NULL);
  g_autofree char *dst = g_build_filename (dir, "dataset.safetensors", NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (dst, data, (gssize) len, NULL));
}

/* A run with more clips than its cached dataset encodes only the new ones:
 * the cached latents are kept bit for bit and the new set is cached; one
 * with fewer uses a prefix. */
static void
test_t2v_dataset_grows (void)
{
  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_T2V);
  train (&c, "t2v-small-set", 2, FALSE);
  copy_dataset ("t2v-small-set", "t2v-larger-set");
  copy_dataset ("t2v-small-set", "t2v-fewer");
  c.dataset_clips = 12;
  train (&c, "t2v-larger-set", 2, FALSE);
  g_autoptr (RgTensor) small = dataset_tensor ("t2v-small-set", "latents");
  g_autoptr (RgTensor) large = dataset_tensor ("t2v-larger-set", "latents");
  g_autoptr (RgTensor) small_seeds = dataset_tensor ("t2v-small-set", "scene_seeds");
  g_autoptr (RgTensor) large_seeds = dataset_tensor ("t2v-larger-set", "scene_seeds");
  g_assert_cmpint (small->shape[0], ==, 8);
  g_assert_cmpint (large->shape[0], ==, 12);
  g_assert_cmpmem (small->data, rg_tensor_nbytes (small), large->data, rg_tensor_nbytes (small));
  g_assert_cmpmem (small_seeds->data, rg_tensor_nbytes (small_seeds), large_seeds->data,
                   rg_tensor_nbytes (small_seeds));
  /* the new clips are other scenes, really encoded */
  int64_t per = rg_tensor_numel (small) / 8;
  const float *l = rg_tensor_f32 (large);
  double diff = 0;
  for (int64_t i = 0; i < per; i++)
    diff += fabsf (l[8 * per + i] - l[7 * per + i]);
  g_assert_cmpfloat (diff, >, 0);

  c.dataset_clips = 4;
  train (&c, "t2v-fewer", 2, FALSE);
  g_autoptr (RgTensor) kept = dataset_tensor ("t2v-fewer", "latents");
  g_assert_cmpint (kept->shape[0], ==, 8);
}

/* Write run `to`'s dataset: run `from`'s, with clips `zeroed` set to zero
 * latents and, with `forget` set, the fingerprint of clip `forget` spoiled
 * (the scene the world drew for it has changed), or, with `legacy`, no
 * fingerprints at all (a cache written before them). */
static void
write_dataset (const char *from, const char *to, const int *zeroed, int n_zeroed, int forget,
               gboolean legacy)
{
  g_autofree char *src = g_build_filename (tmp_dir, from, "dataset.safetensors", NULL);
  g_autofree char *dir = g_build_filename (tmp_dir, to, NULL);
  g_autofree char *dst = g_build_filename (dir, "dataset.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgSafetensors) st = rg_safetensors_open (src, &error);
  g_assert_no_error (error);
  g_autoptr (RgTensor) mapped_lat = dataset_tensor (from, "latents");
  g_autoptr (RgTensor) mapped_prints = dataset_tensor (from, "scene_fingerprints");
  g_autoptr (RgTensor) lat = rg_tensor_clone (mapped_lat);
  g_autoptr (RgTensor) prints = rg_tensor_clone (mapped_prints);
  g_autoptr (RgTensor) seeds = dataset_tensor (from, "scene_seeds");
  int64_t per = rg_tensor_numel (lat) / lat->shape[0];
  for (int k = 0; k < n_zeroed; k++)
    memset (rg_tensor_f32 (lat) + zeroed[k] * per, 0, (gsize) per * sizeof (float));
  if (forget >= 0)
    ((uint64_t *) prints->data)[forget] ^= 1;
  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  g_assert_true (rg_safetensors_writer_add (w, "latents", lat, RG_F32, NULL));
  g_assert_true (rg_safetensors_writer_add (w, "scene_seeds", seeds, RG_I64, NULL));
  if (!legacy)
    g_assert_true (rg_safetensors_writer_add (w, "scene_fingerprints", prints, RG_I64, NULL));
  rg_safetensors_writer_set_metadata (w, "tae.sha256", rg_safetensors_get_metadata (st, "tae.sha256"));
  if (!legacy)
    rg_safetensors_writer_set_metadata (w, "tae.encoder.sha256",
                                        rg_safetensors_get_metadata (st, "tae.encoder.sha256"));
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (rg_safetensors_writer_save (w, dst, &error));
  g_assert_no_error (error);
}

static gboolean
clip_is_zero (const RgTensor *lat, int k)
{
  int64_t per = rg_tensor_numel (lat) / lat->shape[0];
  for (int64_t i = 0; i < per; i++)
    if (rg_tensor_f32 (lat)[k * per + i] != 0.f)
      return FALSE;
  return TRUE;
}

/* The cache is keyed by the TAE's encoder, not its file: a TAE whose
 * decoder alone was trained again (/train/tae/freeze-encoder's) reuses it —
 * clip 3, zeroed behind its back, stays zero — while a TAE with another
 * encoder encodes the whole set again. */
static void
test_t2v_dataset_same_encoder (void)
{
  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_T2V);
  train (&c, "t2v-encoder", 2, FALSE);
  g_autoptr (RgTensor) orig = dataset_tensor ("t2v-encoder", "latents");
  const int zeroed[] = { 3 };

  write_dataset ("t2v-encoder", "t2v-new-decoder", zeroed, 1, -1, FALSE);
  g_autofree char *decoder = g_build_filename (tmp_dir, "tae-decoder", "model.safetensors", NULL);
  g_strlcpy (c.tae_path, decoder, sizeof c.tae_path);
  train (&c, "t2v-new-decoder", 2, FALSE);
  g_autoptr (RgTensor) kept = dataset_tensor ("t2v-new-decoder", "latents");
  g_assert_true (clip_is_zero (kept, 3));

  write_dataset ("t2v-encoder", "t2v-new-encoder", zeroed, 1, -1, FALSE);
  g_autofree char *other = g_build_filename (tmp_dir, "tae-resume-straight", "model.safetensors",
                                             NULL);
  g_strlcpy (c.tae_path, other, sizeof c.tae_path);
  train (&c, "t2v-new-encoder", 2, FALSE);
  g_autoptr (RgTensor) fresh = dataset_tensor ("t2v-new-encoder", "latents");
  g_assert_false (clip_is_zero (fresh, 3));
  g_assert_cmpint (memcmp (fresh->data, orig->data, rg_tensor_nbytes (orig)), !=, 0);
}

/* When the world now draws some cached scenes differently (a changed
 * fingerprint), exactly those clips are encoded again: here clip 2 comes
 * back as the first run encoded it, while clip 5, zeroed behind the
 * cache's back but with its scene unchanged, is trusted and kept. A run of
 * fewer clips never shrinks the cache. A cache from before fingerprints is
 * taken as it is and gains them. */
static void
test_t2v_dataset_world_changed (void)
{
  RgTrainConfig c;
  tiny_config (&c, RG_TRAIN_T2V);
  train (&c, "t2v-world", 2, FALSE);
  g_autoptr (RgTensor) orig = dataset_tensor ("t2v-world", "latents");
  g_autoptr (RgTensor) orig_prints = dataset_tensor ("t2v-world", "scene_fingerprints");
  g_assert_cmpint (orig_prints->shape[0], ==, 8);
  /* eight scenes of a varied world: their fingerprints differ */
  for (int i = 1; i < 8; i++)
    g_assert_cmpuint (((uint64_t *) orig_prints->data)[i], !=, ((uint64_t *) orig_prints->data)[0]);

  const int zeroed[] = { 2, 5 };
  write_dataset ("t2v-world", "t2v-world-changed", zeroed, 2, 2, FALSE);
  train (&c, "t2v-world-changed", 2, FALSE);
  g_autoptr (RgTensor) lat = dataset_tensor ("t2v-world-changed", "latents");
  g_autoptr (RgTensor) prints = dataset_tensor ("t2v-world-changed", "scene_fingerprints");
  int64_t per = rg_tensor_numel (lat) / 8;
  g_assert_cmpmem (rg_tensor_f32 (lat) + 2 * per, per * sizeof (float),
                   rg_tensor_f32 (orig) + 2 * per, per * sizeof (float));
  g_assert_true (clip_is_zero (lat, 5));
  g_assert_cmpmem (prints->data, rg_tensor_nbytes (prints), orig_prints->data,
                   rg_tensor_nbytes (orig_prints));

  /* a run of fewer clips than its cache re-encodes the changed one for
   * itself but leaves the larger cache whole */
  write_dataset ("t2v-world", "t2v-world-fewer", zeroed, 1, 2, FALSE);
  c.dataset_clips = 4;
  train (&c, "t2v-world-fewer", 2, FALSE);
  g_autoptr (RgTensor) fewer = dataset_tensor ("t2v-world-fewer", "latents");
  g_assert_cmpint (fewer->shape[0], ==, 8);
  g_assert_true (clip_is_zero (fewer, 2));
  c.dataset_clips = 8;

  write_dataset ("t2v-world", "t2v-world-legacy", zeroed, 1, -1, TRUE);
  train (&c, "t2v-world-legacy", 2, FALSE);
  g_autoptr (RgTensor) legacy = dataset_tensor ("t2v-world-legacy", "latents");
  g_autoptr (RgTensor) legacy_prints = dataset_tensor ("t2v-world-legacy", "scene_fingerprints");
  g_assert_true (clip_is_zero (legacy, 2));
  g_assert_cmpmem (legacy_prints->data, rg_tensor_nbytes (legacy_prints), orig_prints->data,
                   rg_tensor_nbytes (orig_prints));
}

/* Every config in resources/train (the README's training commands) loads,
 * with the keys it names, for the task it says. */
static void
test_shipped_configs (void)
{
  g_autofree char *dir_path = g_build_filename (RG_SOURCE_DIR, "resources", "train", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  int n = 0;
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    {
      if (!g_str_has_suffix (name, ".json"))
        continue;
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      RgTrainConfig c;
      rg_train_config_init (&c, RG_TRAIN_TAE);
      gboolean ok = rg_train_config_load (path, &c, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_true (c.task == (strstr (name, "tae") ? RG_TRAIN_TAE : RG_TRAIN_T2V));
      if (strstr (name, "decoder-stable"))
        g_assert_cmpfloat (c.latent_noise, >, 0.0);
      if (strstr (name, "t2v-motion"))
        g_assert_cmpfloat (c.motion_loss, >, 0.0);
      n++;
    }
  g_assert_cmpint (n, >=, 5);
}

static void
test_config_file (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "bad.json", NULL);
  RgTrainConfig c;
  g_autoptr (GError) error = NULL;
  const char *cases[][2] = {
    { "{\"task\": \"tae\", \"batch\": 0}", "batch" },
    { "{\"task\": \"tae\", \"lr\": \"fast\"}", "lr" },
    { "{\"task\": \"tae\", \"learning_rate\": 0.1}", "learning_rate" },
    { "{\"task\": \"tae\", \"crop_size\": 12}", "crop_size" },
    { "{\"task\": \"tae\", \"shape_crops\": 1.5}", "shape_crops" },
    { "{\"task\": \"tae\", \"bounce_clips\": -0.5}", "bounce_clips" },
    { "{\"task\": \"t2v\", \"bounce_clips\": 1.5}", "bounce_clips" },
    { "{\"task\": \"tae\", \"latent_noise\": -0.1}", "latent_noise" },
    { "{\"task\": \"t2v\", \"motion_loss\": -1}", "motion_loss" },
    { "{\"task\": \"tae\", \"motion_loss\": 1}", "motion_loss" },
    { "{\"task\": \"video\"}", "video" },
    { "[1, 2]", "object" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_true (g_file_set_contents (path, cases[i][0], -1, NULL));
      rg_train_config_init (&c, RG_TRAIN_TAE);
      g_assert_false (rg_train_config_load (path, &c, &error));
      g_assert_nonnull (error);
      if (strstr (error->message, cases[i][1]) == NULL)
        g_error ("config %s: error \"%s\" does not name %s", cases[i][0], error->message,
                 cases[i][1]);
      g_clear_error (&error);
    }
  g_assert_true (g_file_set_contents (path, "{\"task\": \"tae\", \"batch\": 3, \"model\": "
                                            "\"nano-t2v\", \"seed\": 9}", -1, NULL));
  g_assert_true (rg_train_config_load (path, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c.batch, ==, 3);
  g_assert_cmpuint (c.seed, ==, 9);
  g_assert_cmpint (c.model.dit.width, ==, 256);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("rg-train-XXXXXX", NULL);
  g_test_add_func ("/train/config-file", test_config_file);
  g_test_add_func ("/train/shipped-configs", test_shipped_configs);
  g_test_add_func ("/train/tae", test_tae);
  g_test_add_func ("/train/tae/freeze-encoder", test_freeze_encoder);
  g_test_add_func ("/train/tae/latent-noise", test_latent_noise);
  g_test_add_func ("/train/tae/bounce-clips", test_bounce_clips);
  g_test_add_func ("/train/t2v", test_t2v);
  g_test_add_func ("/train/t2v/dataset-grows", test_t2v_dataset_grows);
  g_test_add_func ("/train/t2v/dataset-world-changed", test_t2v_dataset_world_changed);
  g_test_add_func ("/train/t2v/dataset-same-encoder", test_t2v_dataset_same_encoder);
  g_test_add_func ("/train/t2v/motion-loss", test_t2v_motion_loss);
  g_test_add_func ("/train/t2v/bounce-clips", test_t2v_bounce_clips);
  g_test_add_func ("/train/t2v/diagonal-clips", test_t2v_diagonal_clips);
  g_test_add_func ("/train/t2v/object-loss", test_t2v_object_loss);
  int rc = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp_dir);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", tmp_dir);
  g_free (tmp_dir);
  return rc;
}
