/* bench-train.c — training throughput: the C trainer against a PyTorch
 * reference trainer on the nano-t2v config, the same threads on both sides.
 *
 * For each task (tae, t2v) the C side is the real trainer, rg_train_run,
 * with the task's default config (batch 4 crops [3, 8, 32, 32] for tae;
 * batch 16 latents [16, 4, 8, 8] with their captions for t2v), checkpoints
 * and samples pushed past the run, and for t2v a dataset of 16 clips so
 * that encoding it (outside the loop, in the task's prepare) stays short.
 * The progress callback stamps the end of every step; samples/s counts the
 * steps after WARMUP_STEPS, so initialisation, dataset building and the
 * final checkpoint are outside the timing, while everything a step does
 * (for tae this includes rendering the ShapesWorld clips the crops are cut
 * from; PyTorch draws random crops instead) is inside it.
 *
 * The PyTorch side is tests/bench/train_ref.py on the same model file (the
 * nano-t2v config written by rg_model_init + rg_model_save, read from the
 * file's metadata): the same shapes, losses, clipping, AdamW, LR schedule
 * and EMA, float32, timed over the same steps after the same warm-up.
 *
 * Both sides run --rounds times, alternating, and the best rate of each is
 * kept: the machine is shared, and a burst of load should not land on one
 * side only. The 1-minute load average is printed before and after, and
 * beside each rate the CPU time per sample, which depends less on how much
 * of the machine each side got. (The C trainer initialises its weights
 * from its own seed, PyTorch reads those of the model file: the same
 * config and initialisation scheme, not the same numbers.)
 *
 *   bench-train [--tae-steps N] [--t2v-steps N] [--rounds N]
 *   bench-train --profile [--tae-steps N]   where each side's step time goes
 *
 * RG_NUM_THREADS (default 2) sets the threads of both sides; PYTHON_ORACLE
 * the interpreter (default /usr/bin/python3); without torch the PyTorch
 * column is skipped with a message. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "core/rg-parallel.h"
#include "core/rg-rng.h"
#include "gen/rg-flow.h"
#include "models/rg-dit-train.h"
#include "models/rg-model.h"
#include "models/rg-tae-train.h"
#include "nn/rg-grads.h"
#include "rg-config.h"
#include "train/rg-ema.h"
#include "train/rg-optim.h"
#include "train/rg-shapes.h"
#include "train/rg-trainer.h"

#define WARMUP_STEPS 2
#define DEFAULT_THREADS 2
#define T2V_DATASET_CLIPS 16
#define EXIT_SKIP 77

/* CPU seconds of this process, all threads. On a machine shared with
 * other jobs the wall-clock rate depends on the share of the cores each
 * side got; the CPU time per sample depends much less on it (it still
 * counts OpenBLAS workers that spin while waiting), so both are printed. */
static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Stamps of the end of the warm-up and of the last step. */
typedef struct {
  int64_t warmup_step, last_step;
  gint64  t_warm, t_last;
  double  cpu_warm, cpu_last;
  double  loss_first, loss_last;
} Timing;

static void
on_progress (const RgTrainProgress *p, gpointer user_data)
{
  Timing *t = user_data;
  gint64 now = g_get_monotonic_time ();
  double cpu = cpu_seconds ();
  if (p->step == 1)
    t->loss_first = p->loss;
  if (p->step == t->warmup_step)
    {
      t->t_warm = now;
      t->cpu_warm = cpu;
    }
  t->last_step = p->step;
  t->t_last = now;
  t->cpu_last = cpu;
  t->loss_last = p->loss;
}

static void
on_message (const char *line, gpointer user_data)
{
  (void) line, (void) user_data; /* checkpoint and dataset notes: not timed, not shown */
}

/* Delete a run directory the trainer wrote (files and subdirectories). */
static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR)
              && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

typedef struct {
  double   samples_per_s;
  double   cpu_ms_per_sample;
  double   loss_first, loss_last;
  gboolean ok;
  gboolean skipped; /* the peer has no torch */
} Result;

/* One C training run of `steps` steps into a fresh directory under `dir`. */
static Result
run_c (RgTrainTask task, const char *model_path, const char *dir, int round, int64_t steps)
{
  Result r = { 0 };
  RgTrainConfig config;
  rg_train_config_init (&config, task);
  /* past the run: the one checkpoint the loop always writes at its last
   * step comes after the last stamp */
  config.checkpoint_every = steps + 1;
  config.sample_every = 0;
  config.keep_checkpoints = 1;
  if (task == RG_TRAIN_T2V)
    {
      g_strlcpy (config.tae_path, model_path, sizeof config.tae_path);
      config.dataset_clips = T2V_DATASET_CLIPS;
    }
  g_autofree char *name = g_strdup_printf ("%s-c-%d", rg_train_task_name (task), round);
  g_autofree char *out = g_build_filename (dir, name, NULL);
  Timing t = { .warmup_step = WARMUP_STEPS };
  RgTrainCallbacks cb = { on_progress, on_message };
  g_autoptr (GError) error = NULL;
  gboolean ok = rg_train_run (&config, out, steps, FALSE, &cb, &t, NULL, &error);
  remove_tree (out);
  if (!ok)
    {
      g_printerr ("bench-train: C %s run failed: %s\n", rg_train_task_name (task),
                  error->message);
      return r;
    }
  double samples = (double) (t.last_step - WARMUP_STEPS) * config.batch;
  r.samples_per_s = samples / ((double) (t.t_last - t.t_warm) / 1e6);
  r.cpu_ms_per_sample = 1e3 * (t.cpu_last - t.cpu_warm) / samples;
  r.loss_first = t.loss_first;
  r.loss_last = t.loss_last;
  r.ok = TRUE;
  return r;
}

static GStrv
torch_environ (const char *threads)
{
  GStrv env = g_environ_setenv (g_get_environ (), "OMP_NUM_THREADS", threads, TRUE);
  /* as in bench-dit.c: torch's OpenMP workers otherwise spin while they
   * wait, which on this shared, oversubscribed machine slows torch down */
  return g_environ_setenv (env, "OMP_WAIT_POLICY", "PASSIVE", TRUE);
}

/* One PyTorch run: train_ref.py prints a JSON line. */
static Result
run_torch (const char *py, const char *script, const char *model_path, RgTrainTask task,
           int64_t steps, const char *threads)
{
  Result r = { 0 };
  g_autofree char *steps_s = g_strdup_printf ("%" G_GINT64_FORMAT, steps);
  const char *argv[] = { py, script, model_path, rg_train_task_name (task), steps_s, threads,
                         NULL };
  g_auto (GStrv) env = torch_environ (threads);
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;
  int status;
  g_autoptr (GError) error = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, &stdout_text,
                     &stderr_text, &status, &error))
    {
      g_printerr ("bench-train: cannot run %s: %s\n", py, error->message);
      return r;
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == EXIT_SKIP)
    {
      r.skipped = TRUE;
      return r;
    }
  if (!g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("bench-train: %s %s failed: %s\n%s", script, rg_train_task_name (task),
                  error->message, stderr_text ? stderr_text : "");
      return r;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  if (!json_parser_load_from_data (parser, stdout_text, -1, &error)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_printerr ("bench-train: unreadable result from %s: %s\n", script, stdout_text);
      return r;
    }
  JsonObject *o = json_node_get_object (root);
  r.samples_per_s = json_object_get_double_member_with_default (o, "samples_per_s", 0.0);
  if (r.samples_per_s > 0)
    r.cpu_ms_per_sample
        = 1e3 * json_object_get_double_member_with_default (o, "cpu_seconds", NAN)
          / (json_object_get_double_member_with_default (o, "seconds", NAN) * r.samples_per_s);
  r.loss_first = json_object_get_double_member_with_default (o, "loss_first", NAN);
  r.loss_last = json_object_get_double_member_with_default (o, "loss_last", NAN);
  r.ok = r.samples_per_s > 0;
  return r;
}

/* ---- --profile: where a C step spends its time ----
 *
 * The trainer has no phase timers, so this drives the pieces of one step
 * directly, as rg-train-tae.c / rg-train-t2v.c / rg-trainer.c do (the same
 * calls on the same shapes; the loss gradients are the trainer's), with a
 * clock between phases, and asks train_ref.py --profile for PyTorch's
 * split of the same step. */

#define MAX_PHASES 16

typedef struct {
  const char *name[MAX_PHASES];
  double      ms[MAX_PHASES], cpu_ms[MAX_PHASES];
  int         n;
  gint64      t;
  double      cpu;
  gboolean    on;
} Phases;

/* Charge the wall and CPU time since the last mark to `name`. */
static void
mark (Phases *p, const char *name)
{
  gint64 now = g_get_monotonic_time ();
  double cpu = cpu_seconds ();
  if (p->on)
    {
      int i = 0;
      while (i < p->n && strcmp (p->name[i], name) != 0)
        i++;
      if (i == p->n && p->n < MAX_PHASES)
        p->name[p->n++] = name;
      if (i < MAX_PHASES)
        {
          p->ms[i] += (double) (now - p->t) / 1e3;
          p->cpu_ms[i] += (cpu - p->cpu) * 1e3;
        }
    }
  p->t = now;
  p->cpu = cpu;
}

/* AdamW and EMA over the weights under `prefixes`, as the trainer's set-up. */
static gboolean
optimizer_new (RgModel *model, RgGrads *grads, const RgTrainConfig *c,
               const char *const *prefixes, RgAdamW **opt, RgEma **ema, GError **error)
{
  RgAdamWConfig ac;
  rg_adamw_config_init (&ac);
  ac.weight_decay = c->weight_decay;
  *opt = rg_adamw_new (&ac, error);
  *ema = *opt ? rg_ema_new (c->ema_decay, TRUE, error) : NULL;
  if (*ema == NULL)
    return FALSE;
  for (guint i = 0; i < rg_model_get_n_weights (model); i++)
    {
      const char *name = rg_model_get_weight_name (model, i);
      gboolean trained = FALSE;
      for (const char *const *q = prefixes; *q != NULL; q++)
        trained |= g_str_has_prefix (name, *q);
      if (!trained)
        continue;
      RgTensor *w = rg_model_get_weight (model, i);
      g_autoptr (RgTensor) g = rg_grads_of (grads, w);
      if (!rg_adamw_add_param (*opt, name, w, g, error) || !rg_ema_add (*ema, name, w, error))
        return FALSE;
    }
  return TRUE;
}

static void
update (RgTrainConfig *c, RgAdamW *opt, RgEma *ema, Phases *ph)
{
  double norm = rg_adamw_clip_grad_norm (opt, c->clip_grad);
  mark (ph, "clip");
  if (isfinite (norm))
    {
      rg_adamw_step (opt, c->lr);
      mark (ph, "adamw");
      rg_ema_update (ema);
      mark (ph, "ema");
    }
}

static void
world_init (RgShapesConfig *world, const RgModelConfig *mc)
{
  rg_shapes_config_init (world);
  world->width = mc->video.width;
  world->height = mc->video.height;
  world->frames = mc->video.frames;
  world->fps = (RgRational){ mc->video.fps, 1 };
  world->split = RG_SHAPES_SPLIT_TRAIN;
}

static gboolean
profile_tae (RgModel *model, int64_t steps, Phases *ph, GError **error)
{
  static const char *const prefixes[] = { "tae.", NULL };
  RgTrainConfig c;
  rg_train_config_init (&c, RG_TRAIN_TAE);
  RgTae *tae = rg_model_get_tae (model);
  const RgModelConfig *mc = rg_model_get_config (model);
  RgShapesConfig world;
  world_init (&world, mc);
  g_autoptr (RgGrads) grads = rg_grads_new (rg_model_get_params (model));
  g_autoptr (RgAdamW) opt = NULL;
  g_autoptr (RgEma) ema = NULL;
  if (!optimizer_new (model, grads, &c, prefixes, &opt, &ema, error))
    return FALSE;
  g_autoptr (RgTaeTape) tape = rg_tae_tape_new (tae);
  int b = c.batch, cf = c.crop_frames, cs = c.crop_size;
  int ft = rg_model_config_tae_time_factor (mc), fs = rg_model_config_tae_space_factor (mc);
  int64_t xs[5] = { b, 3, cf, cs, cs };
  int64_t ls[5] = { b, mc->tae.latent_channels, cf / ft, cs / fs, cs / fs };
  g_autoptr (RgTensor) x = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) xhat = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) dxhat = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) mean = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) logvar = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) z = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) eps = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) dz = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) dmean = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) dlogvar = rg_tensor_new (RG_F32, 5, ls);
  int64_t n = rg_tensor_numel (x), nl = rg_tensor_numel (mean);
  for (int64_t step = 0; step < steps; step++)
    {
      ph->on = step >= WARMUP_STEPS;
      mark (ph, "other");
      rg_grads_zero (grads);
      mark (ph, "zero grads");
      /* the trainer renders a whole clip per sample and cuts a crop */
      for (int i = 0; i < b; i++)
        {
          RgShapesScene scene;
          if (!rg_shapes_scene_sample (&world, (uint64_t) (step * b + i), &scene, error))
            return FALSE;
          g_autoptr (RgTensor) clip = rg_shapes_render (&scene);
          const float *src = rg_tensor_f32 (clip);
          int64_t T = clip->shape[1], H = clip->shape[2], W = clip->shape[3];
          for (int k = 0; k < 3; k++)
            for (int f = 0; f < cf; f++)
              for (int y = 0; y < cs; y++)
                memcpy (rg_tensor_f32 (x) + ((((int64_t) i * 3 + k) * cf + f) * cs + y) * cs,
                        src + ((k * T + f) * H + y) * W, (gsize) cs * sizeof (float));
        }
      mark (ph, "data");
      rg_tae_tape_reset (tape);
      if (!rg_tae_encode_train (tae, tape, x, mean, logvar, error))
        return FALSE;
      mark (ph, "encode forward");
      rg_rng_normal (1, 2, (uint64_t) (step * nl), rg_tensor_f32 (eps), nl);
      const float *mu = rg_tensor_f32 (mean), *lv = rg_tensor_f32 (logvar);
      const float *e = rg_tensor_f32 (eps);
      for (int64_t i = 0; i < nl; i++)
        rg_tensor_f32 (z)[i] = mu[i] + expf (0.5f * CLAMP (lv[i], -30.0f, 20.0f)) * e[i];
      mark (ph, "loss");
      if (!rg_tae_decode_train (tae, tape, z, xhat, error))
        return FALSE;
      mark (ph, "decode forward");
      for (int64_t i = 0; i < n; i++)
        {
          float r = rg_tensor_f32 (xhat)[i] - rg_tensor_f32 (x)[i];
          rg_tensor_f32 (dxhat)[i]
              = (2.0f * r + (float) c.l1_weight * (r > 0 ? 1.0f : r < 0 ? -1.0f : 0.0f)) / n;
        }
      memset (rg_tensor_f32 (dz), 0, (gsize) nl * sizeof (float));
      mark (ph, "loss");
      rg_tae_decode_backward (tae, tape, grads, dxhat, dz);
      mark (ph, "decode backward");
      for (int64_t i = 0; i < nl; i++)
        {
          float l = CLAMP (lv[i], -30.0f, 20.0f), sd = expf (0.5f * l);
          float g = rg_tensor_f32 (dz)[i];
          rg_tensor_f32 (dmean)[i] = g + (float) c.kl_weight * mu[i] / (float) nl;
          rg_tensor_f32 (dlogvar)[i] = g * e[i] * 0.5f * sd
                                       + (float) c.kl_weight * 0.5f * (sd * sd - 1.0f) / nl;
        }
      mark (ph, "loss");
      rg_tae_encode_backward (tae, tape, grads, dmean, dlogvar);
      mark (ph, "encode backward");
      rg_tae_tape_reset (tape);
      update (&c, opt, ema, ph);
    }
  return TRUE;
}

static gboolean
profile_t2v (RgModel *model, int64_t steps, Phases *ph, GError **error)
{
  static const char *const prefixes[] = { "text.", "dit.", NULL };
  RgTrainConfig c;
  rg_train_config_init (&c, RG_TRAIN_T2V);
  RgTextEncoder *te = rg_model_get_text_encoder (model);
  RgDit *dit = rg_model_get_dit (model);
  const RgModelConfig *mc = rg_model_get_config (model);
  RgShapesConfig world;
  world_init (&world, mc);
  g_autoptr (RgGrads) grads = rg_grads_new (rg_model_get_params (model));
  g_autoptr (RgAdamW) opt = NULL;
  g_autoptr (RgEma) ema = NULL;
  if (!optimizer_new (model, grads, &c, prefixes, &opt, &ema, error))
    return FALSE;
  g_autoptr (RgTextEncoderTape) text_tape = rg_text_encoder_tape_new (te);
  g_autoptr (RgDitTape) dit_tape = rg_dit_tape_new (dit);
  int64_t b = c.batch, l = mc->text.max_len, lshape[4];
  if (!rg_model_config_latent_shape (mc, mc->video.frames, mc->video.height, mc->video.width,
                                     lshape, error))
    return FALSE;
  int64_t xs[5] = { b, lshape[0], lshape[1], lshape[2], lshape[3] };
  int64_t ids_shape[2] = { b, l };
  g_autoptr (RgTensor) x1 = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) x0 = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) xt = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) target = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) v = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) dv = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) ids = rg_tensor_new (RG_I32, 2, ids_shape);
  g_autoptr (RgTensor) context = rg_tensor_f32_new (3, b, l, (int64_t) mc->dit.context_width);
  g_autoptr (RgTensor) dcontext = rg_tensor_new (RG_F32, 3, context->shape);
  g_autofree int32_t *len = g_new (int32_t, b);
  g_autofree float *tt = g_new (float, b);
  g_autoptr (RgTensor) t_tensor = rg_tensor_new_borrowed (RG_F32, 1, &b, tt, NULL, NULL);
  int64_t nx = rg_tensor_numel (x1);
  rg_rng_normal (1, 3, 0, rg_tensor_f32 (x1), nx);
  for (int64_t step = 0; step < steps; step++)
    {
      ph->on = step >= WARMUP_STEPS;
      mark (ph, "other");
      rg_grads_zero (grads);
      mark (ph, "zero grads");
      for (int64_t i = 0; i < b; i++)
        {
          RgShapesScene scene;
          if (!rg_shapes_scene_sample (&world, (uint64_t) (step * b + i), &scene, error))
            return FALSE;
          g_autofree char *caption = rg_shapes_caption (&scene, (uint64_t) (step * b + i));
          len[i] = rg_text_tokenize (&mc->text, caption, (int32_t *) ids->data + i * l);
        }
      rg_flow_sample_t_logit_normal (1, 4, (uint64_t) (step * b), 0.0f, 1.0f, tt, b);
      rg_rng_normal (1, 5, (uint64_t) (step * nx), rg_tensor_f32 (x0), nx);
      rg_flow_interpolate (x0, x1, tt, RG_FLOW_SIGMA_MIN, xt);
      rg_flow_target (x0, x1, RG_FLOW_SIGMA_MIN, target);
      mark (ph, "data");
      if (!rg_text_encoder_forward_train (te, text_tape, ids, len, context, error))
        return FALSE;
      mark (ph, "text forward");
      RgDitInput in = { .x = xt, .t = t_tensor, .context = context, .context_len = len };
      if (!rg_dit_forward_train (dit, dit_tape, &in, v, error))
        return FALSE;
      mark (ph, "dit forward");
      for (int64_t i = 0; i < nx; i++)
        rg_tensor_f32 (dv)[i] = 2.0f * (rg_tensor_f32 (v)[i] - rg_tensor_f32 (target)[i]) / nx;
      memset (rg_tensor_f32 (dcontext), 0, (gsize) rg_tensor_numel (dcontext) * sizeof (float));
      mark (ph, "loss");
      rg_dit_backward (dit, dit_tape, grads, dv, dcontext);
      mark (ph, "dit backward");
      rg_text_encoder_backward (te, text_tape, grads, dcontext);
      mark (ph, "text backward");
      rg_dit_tape_reset (dit_tape);
      rg_text_encoder_tape_reset (text_tape);
      update (&c, opt, ema, ph);
    }
  return TRUE;
}

/* Phase table of each task: C (driven here) beside PyTorch (train_ref.py). */
static int
profile (const RgModelConfig *config, const char *model_path, const char *py,
         const char *script, const char *threads, int64_t steps)
{
  g_autoptr (GError) error = NULL;
  for (int k = 0; k < 2; k++)
    {
      RgTrainTask task = k == 0 ? RG_TRAIN_TAE : RG_TRAIN_T2V;
      /* a fresh model per task, built as the one in model_path was: a
       * loaded model maps its weights read-only, the optimizer writes them */
      g_autoptr (RgModel) model = rg_model_init (config, 1, &error);
      if (model == NULL)
        {
          g_printerr ("bench-train: %s\n", error->message);
          return 1;
        }
      Phases ph = { .t = g_get_monotonic_time (), .cpu = cpu_seconds () };
      gboolean ok = task == RG_TRAIN_TAE ? profile_tae (model, steps, &ph, &error)
                                         : profile_t2v (model, steps, &ph, &error);
      if (!ok)
        {
          g_printerr ("bench-train: profiling %s: %s\n", rg_train_task_name (task),
                      error->message);
          return 1;
        }
      int64_t timed = steps - WARMUP_STEPS;
      double total = 0, cpu_total = 0;
      printf ("\n%s, C (per step, %s threads, mean of %" G_GINT64_FORMAT " steps):\n"
              "  %-16s %9s %6s %9s\n", rg_train_task_name (task), threads, timed, "phase",
              "wall ms", "", "cpu ms");
      for (int i = 0; i < ph.n; i++)
        total += ph.ms[i], cpu_total += ph.cpu_ms[i];
      for (int i = 0; i < ph.n; i++)
        printf ("  %-16s %9.1f %5.1f%% %9.1f\n", ph.name[i], ph.ms[i] / timed,
                100.0 * ph.ms[i] / total, ph.cpu_ms[i] / timed);
      printf ("  %-16s %9.1f %6s %9.1f\n", "total", total / timed, "", cpu_total / timed);
      g_autofree char *steps_s = g_strdup_printf ("%" G_GINT64_FORMAT, steps);
      const char *argv[] = { py, script, model_path, rg_train_task_name (task), steps_s,
                             threads, "--profile", NULL };
      g_autofree char *out = NULL;
      g_auto (GStrv) env = torch_environ (threads);
      int status;
      if (g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                        &status, NULL)
          && g_spawn_check_wait_status (status, NULL))
        printf ("%s, PyTorch: %s", rg_train_task_name (task), out);
      else
        printf ("%s, PyTorch: (no result)\n", rg_train_task_name (task));
      fflush (stdout);
    }
  return 0;
}

/* Fold one run into the best so far: the highest rate with its losses,
 * and the lowest CPU time per sample. */
static void
keep_best (Result *best, const Result *r)
{
  best->ok &= r->ok;
  if (!r->ok)
    return;
  if (r->samples_per_s > best->samples_per_s)
    {
      best->samples_per_s = r->samples_per_s;
      best->loss_first = r->loss_first;
      best->loss_last = r->loss_last;
    }
  best->cpu_ms_per_sample = MIN (best->cpu_ms_per_sample, r->cpu_ms_per_sample);
}

/* The 1-minute load average: on a shared machine the rates mean little
 * without it. */
static void
print_load (const char *when)
{
  g_autofree char *text = NULL;
  if (g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    printf ("load average %s: %.*s\n", when, (int) strcspn (text, " "), text);
}

static int
thread_count (void)
{
  const char *env = g_getenv ("RG_NUM_THREADS");
  int n = env != NULL ? atoi (env) : 0;
  return n > 0 ? n : DEFAULT_THREADS;
}

int
main (int argc, char **argv)
{
  gint64 tae_steps = 6, t2v_steps = 6;
  int rounds = 2;
  gboolean profile_only = FALSE;
  GOptionEntry entries[] = {
    { "tae-steps", 0, 0, G_OPTION_ARG_INT64, &tae_steps, "tae steps per run (default 6)", "N" },
    { "t2v-steps", 0, 0, G_OPTION_ARG_INT64, &t2v_steps, "t2v steps per run (default 6)", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "alternating runs per side (default 2)", "N" },
    { "profile", 0, 0, G_OPTION_ARG_NONE, &profile_only,
      "instead: time the phases of a step on both sides (--tae-steps steps each)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) octx = g_option_context_new ("— C trainer vs PyTorch trainer");
  g_option_context_add_main_entries (octx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      g_printerr ("bench-train: %s\n", error->message);
      return 2;
    }
  if (tae_steps <= WARMUP_STEPS || t2v_steps <= WARMUP_STEPS || rounds < 1)
    {
      g_printerr ("bench-train: steps must exceed the %d warm-up steps, rounds be >= 1\n",
                  WARMUP_STEPS);
      return 2;
    }

  int n_threads = thread_count ();
  g_autofree char *threads = g_strdup_printf ("%d", n_threads);
  rg_parallel_set_threads (n_threads);
  const char *py = g_getenv ("PYTHON_ORACLE");
  if (py == NULL || *py == '\0')
    py = "/usr/bin/python3";
  const char *src = g_getenv ("RG_SOURCE_DIR");
  g_autofree char *script = g_build_filename (src ? src : RG_SOURCE_DIR, "tests", "bench",
                                              "train_ref.py", NULL);

  /* run directories and the model go in the build tree, not the shared /tmp */
  g_autofree char *dir = g_build_filename (RG_BUILD_DIR, "bench-train-XXXXXX", NULL);
  if (g_mkdtemp (dir) == NULL)
    {
      g_printerr ("bench-train: cannot create %s\n", dir);
      return 1;
    }
  g_autofree char *model_path = g_build_filename (dir, "model.safetensors", NULL);
  RgModelConfig config;
  g_assert_true (rg_model_config_preset ("nano-t2v", &config, NULL));
  {
    g_autoptr (RgModel) model = rg_model_init (&config, 1, &error);
    if (model == NULL || !rg_model_save (model, model_path, RG_F32, &error))
      {
        g_printerr ("bench-train: %s\n", error->message);
        remove_tree (dir);
        return 1;
      }
  }

  if (profile_only)
    {
      print_load ("at the start");
      int rc = profile (&config, model_path, py, script, threads, tae_steps);
      print_load ("at the end");
      remove_tree (dir);
      return rc;
    }

  printf ("Training throughput, nano-t2v: best of %d alternating runs per side, %s threads each,"
          "\nsamples/s over the steps after %d warm-up steps; ratio = C / PyTorch "
          "(> 1: the C trainer is faster);\ncpu ms/sample: CPU time of all the process's "
          "threads per sample (less sensitive to other load), cpu ratio = PyTorch / C\n",
          rounds, threads, WARMUP_STEPS);
  print_load ("at the start");
  printf ("%-5s %5s %5s %9s %12s %6s %8s %12s %9s %7s\n", "task", "batch", "steps", "C samp/s",
          "torch samp/s", "ratio", "C cpu ms", "torch cpu ms", "cpu ratio", "threads");
  fflush (stdout);

  int failures = 0;
  gboolean torch_missing = FALSE;
  const struct {
    RgTrainTask task;
    int64_t     steps;
    int         batch;
  } tasks[] = { { RG_TRAIN_TAE, tae_steps, 4 }, { RG_TRAIN_T2V, t2v_steps, 16 } };
  for (guint k = 0; k < G_N_ELEMENTS (tasks); k++)
    {
      Result c = { .ok = TRUE, .cpu_ms_per_sample = INFINITY };
      Result p = { .ok = TRUE, .cpu_ms_per_sample = INFINITY };
      for (int round = 0; round < rounds; round++)
        {
          Result rc = run_c (tasks[k].task, model_path, dir, round, tasks[k].steps);
          keep_best (&c, &rc);
          if (torch_missing)
            continue;
          Result rp = run_torch (py, script, model_path, tasks[k].task, tasks[k].steps, threads);
          if (rp.skipped)
            {
              torch_missing = TRUE;
              printf ("(PyTorch peer skipped: %s has no torch)\n", py);
              continue;
            }
          keep_best (&p, &rp);
        }
      const char *name = rg_train_task_name (tasks[k].task);
      if (!c.ok || (!torch_missing && !p.ok))
        {
          printf ("%-5s %5d %5" G_GINT64_FORMAT "   (failed)\n", name, tasks[k].batch,
                  tasks[k].steps);
          failures++;
        }
      else if (torch_missing)
        printf ("%-5s %5d %5" G_GINT64_FORMAT " %9.2f %12s %6s %8.1f %12s %9s %7s\n"
                "      loss first → last: C %.4f → %.4f\n", name, tasks[k].batch,
                tasks[k].steps, c.samples_per_s, "-", "-", c.cpu_ms_per_sample, "-", "-",
                threads, c.loss_first, c.loss_last);
      else
        printf ("%-5s %5d %5" G_GINT64_FORMAT " %9.2f %12.2f %6.2f %8.1f %12.1f %9.2f %7s\n"
                "      loss first → last: C %.4f → %.4f, PyTorch %.4f → %.4f\n", name,
                tasks[k].batch, tasks[k].steps, c.samples_per_s, p.samples_per_s,
                c.samples_per_s / p.samples_per_s, c.cpu_ms_per_sample, p.cpu_ms_per_sample,
                p.cpu_ms_per_sample / c.cpu_ms_per_sample, threads, c.loss_first, c.loss_last,
                p.loss_first, p.loss_last);
      fflush (stdout);
    }
  print_load ("at the end");
  remove_tree (dir);
  return failures > 0 ? 1 : 0;
}
