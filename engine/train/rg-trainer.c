/* rg-trainer.c — the training loop shared by the tae and t2v tasks:
 * set-up and resume, the optimizer step, logging, checkpoints, samples. */
#include "train/rg-trainer-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "gen/rg-t2v.h"
#include "train/rg-checkpoint.h"
#include "train/rg-train-log.h"

void
rg_train_message (RgTrainRun *run, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (run->callbacks != NULL && run->callbacks->message != NULL)
    run->callbacks->message (line, run->user_data);
}

static guint8
to_u8 (float v)
{
  float x = (v + 1.0f) * 127.5f;
  return (guint8) (x <= 0.0f ? 0 : x >= 255.0f ? 255 : lrintf (x));
}

gboolean
rg_train_write_clips (const char *path, RgTensor **clips, int n, int fps, GError **error)
{
  int64_t t = clips[0]->shape[1], h = clips[0]->shape[2], w = clips[0]->shape[3];
  int64_t shape[4] = { t, h, w * n, 3 };
  g_autoptr (RgTensor) frames = rg_tensor_new (RG_U8, 4, shape);
  guint8 *out = frames->data;
  for (int k = 0; k < n; k++)
    {
      const float *c = rg_tensor_f32 (clips[k]);
      for (int64_t f = 0; f < t; f++)
        for (int64_t y = 0; y < h; y++)
          for (int64_t x = 0; x < w; x++)
            for (int ch = 0; ch < 3; ch++)
              out[((f * h + y) * w * n + k * w + x) * 3 + ch]
                  = to_u8 (c[((ch * t + f) * h + y) * w + x]);
    }
  RgRational rate = { fps, 1 };
  return rg_t2v_write (frames, rate, path, NULL, error);
}

static const RgTrainTaskClass *
task_class (RgTrainTask task)
{
  return task == RG_TRAIN_TAE ? &rg_train_tae_task : &rg_train_t2v_task;
}

/* Swap every trained weight with its EMA shadow (twice restores). */
static void
swap_ema (RgTrainRun *run)
{
  for (guint i = 0; i < rg_ema_get_n (run->ema); i++)
    {
      float *a = rg_tensor_f32 (rg_ema_get_weight (run->ema, i));
      float *b = rg_tensor_f32 (rg_ema_get_shadow (run->ema, i));
      for (int64_t j = 0, n = rg_tensor_numel (rg_ema_get_weight (run->ema, i)); j < n; j++)
        {
          float tmp = a[j];
          a[j] = b[j];
          b[j] = tmp;
        }
    }
}

/* The whole family with EMA weights, f32: what sampling and export read. */
static gboolean
save_model (RgTrainRun *run, GError **error)
{
  g_autofree char *path = g_build_filename (run->out_dir, "model.safetensors", NULL);
  swap_ema (run);
  gboolean ok = rg_model_save (run->model, path, RG_F32, error);
  swap_ema (run);
  return ok;
}

static gboolean
write_sample (RgTrainRun *run, const RgTrainTaskClass *k, GError **error)
{
  g_autofree char *dir = g_build_filename (run->out_dir, "samples", NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "cannot create %s: %s", dir, g_strerror (errno));
      return FALSE;
    }
  g_autofree char *name = g_strdup_printf ("step-%08" G_GINT64_FORMAT ".mp4", run->step);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GString) summary = g_string_new (NULL);
  swap_ema (run);
  gboolean ok = k->sample (run, path, summary, error);
  swap_ema (run);
  if (ok)
    rg_train_message (run, "sample %s%s%s", path, summary->len ? ": " : "", summary->str);
  return ok;
}

typedef struct {
  RgTrainState state;
  RgLrSchedule lr;
  char        *ckpt_dir;
  char        *config_text;
} Saver;

static gboolean
checkpoint (RgTrainRun *run, Saver *s, GError **error)
{
  s->state.data_position = run->data_position;
  g_autofree char *path = rg_checkpoint_save (s->ckpt_dir, &s->state,
                                              (guint) run->config->keep_checkpoints, error);
  if (path == NULL || !save_model (run, error))
    return FALSE;
  rg_train_message (run, "checkpoint %s", path);
  return TRUE;
}

static gboolean
set_up (RgTrainRun *run, const RgTrainTaskClass *k, Saver *s, gboolean resume, int64_t steps,
        GError **error)
{
  const RgTrainConfig *c = run->config;
  run->model = rg_model_init (&c->model, c->seed ^ RG_TRAIN_STREAM_INIT, error);
  if (run->model == NULL)
    return FALSE;
  /* before any checkpoint: a checkpoint holds only the trained weights,
   * the frozen ones always come from here. A TAE run takes only the TAE
   * from the file, so any model file holding one will do (also one of an
   * older layout of the text encoder or DiT). */
  if (c->init_path[0] != '\0'
      && !rg_model_load_part (run->model, c->init_path, c->task == RG_TRAIN_TAE ? "tae." : "",
                              error))
    return FALSE;
  run->grads = rg_grads_new (rg_model_get_params (run->model));
  RgAdamWConfig ac;
  rg_adamw_config_init (&ac);
  ac.weight_decay = c->weight_decay;
  run->optim = rg_adamw_new (&ac, error);
  if (run->optim == NULL)
    return FALSE;
  run->ema = rg_ema_new (c->ema_decay, TRUE, error);
  if (run->ema == NULL)
    return FALSE;
  for (guint i = 0; i < rg_model_get_n_weights (run->model); i++)
    {
      const char *name = rg_model_get_weight_name (run->model, i);
      if (!k->trains (c, name))
        continue;
      RgTensor *w = rg_model_get_weight (run->model, i);
      g_autoptr (RgTensor) g = rg_grads_of (run->grads, w);
      if (!rg_adamw_add_param (run->optim, name, w, g, error)
          || !rg_ema_add (run->ema, name, w, error))
        return FALSE;
    }

  s->lr = (RgLrSchedule){ c->lr, c->min_lr, MIN (c->warmup, steps - 1), steps };
  if (!rg_lr_schedule_validate (&s->lr, error))
    return FALSE;
  s->config_text = rg_train_config_to_json (c);
  s->ckpt_dir = g_build_filename (run->out_dir, "checkpoints", NULL);
  s->state = (RgTrainState){ .config = s->config_text, .optim = run->optim, .ema = run->ema,
                             .lr = &s->lr };

  g_autoptr (GError) local = NULL;
  g_autofree char *latest = rg_checkpoint_latest (s->ckpt_dir, &local);
  if (latest != NULL && !resume)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s already holds a training run (%s): pass --resume to continue it, or "
                   "choose another directory", run->out_dir, latest);
      return FALSE;
    }
  if (latest == NULL && !g_error_matches (local, RG_ERROR, RG_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (g_mkdir_with_parents (run->out_dir, 0755) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "cannot create %s: %s", run->out_dir,
                   g_strerror (errno));
      return FALSE;
    }
  if (latest != NULL)
    {
      if (!rg_checkpoint_load (latest, &s->state, error))
        return FALSE;
      run->step = rg_adamw_get_step (run->optim);
      run->data_position = s->state.data_position;
      rg_train_message (run, "resumed from %s at step %" G_GINT64_FORMAT, latest, run->step);
    }
  else if (resume)
    rg_train_message (run, "no checkpoint in %s yet: starting a fresh run", s->ckpt_dir);
  g_autofree char *cfg_path = g_build_filename (run->out_dir, "config.json", NULL);
  return g_file_set_contents (cfg_path, s->config_text, -1, error);
}

gboolean
rg_train_run (const RgTrainConfig *config, const char *out_dir, int64_t steps, gboolean resume,
              const RgTrainCallbacks *callbacks, gpointer user_data, GCancellable *cancellable,
              GError **error)
{
  const RgTrainTaskClass *k = task_class (config->task);
  RgTrainRun run = { .config = config, .out_dir = g_strdup (out_dir),
                     .detail = g_string_new (NULL), .callbacks = callbacks,
                     .user_data = user_data };
  rg_shapes_config_init (&run.world);
  run.world.width = config->model.video.width;
  run.world.height = config->model.video.height;
  run.world.frames = config->model.video.frames;
  run.world.fps = (RgRational){ config->model.video.fps, 1 };
  run.world.split = RG_SHAPES_SPLIT_TRAIN;
  Saver s = { 0 };
  g_autoptr (RgTrainLog) log = NULL;
  g_autofree char *log_path = g_build_filename (out_dir, "train.csv", NULL);
  gboolean ok = FALSE;
  double rate;
  gint64 t_prev;

  if (steps < 2)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "train for at least 2 steps");
      goto out;
    }
  if (!set_up (&run, k, &s, resume, steps, error))
    goto out;
  log = rg_train_log_open (log_path, run.step > 0 || resume ? run.step : -1, error);
  if (log == NULL || !k->prepare (&run, cancellable, error))
    goto out;

  rate = 0.0;
  t_prev = g_get_monotonic_time ();
  while (run.step < steps)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_autoptr (GError) ckpt_error = NULL;
          if (!checkpoint (&run, &s, &ckpt_error))
            rg_train_message (&run, "could not save a checkpoint: %s", ckpt_error->message);
          g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED,
                       "training stopped at step %" G_GINT64_FORMAT " (checkpoint saved; "
                       "continue with --resume)", run.step);
          goto out;
        }
      rg_grads_zero (run.grads);
      g_string_truncate (run.detail, 0);
      double loss = 0.0;
      if (!k->step (&run, &loss, error))
        goto out;
      if (!isfinite (loss))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "the loss became %g at step %" G_GINT64_FORMAT
                       "; the last checkpoint is intact (lower lr and --resume)",
                       loss, run.step + 1);
          goto out;
        }
      double norm = rg_adamw_clip_grad_norm (run.optim, config->clip_grad > 0 ? config->clip_grad
                                                                               : INFINITY);
      double lr = rg_lr_at (&s.lr, run.step);
      if (isfinite (norm))
        {
          rg_adamw_step (run.optim, lr);
          rg_ema_update (run.ema);
        }
      run.step++;

      gint64 now = g_get_monotonic_time ();
      double inst = 1e6 / (double) MAX (now - t_prev, 1);
      t_prev = now;
      rate = rate == 0.0 ? inst : 0.9 * rate + 0.1 * inst;
      if (!rg_train_log_append (log, run.step, loss, lr, norm, rate, error))
        goto out;
      if (callbacks != NULL && callbacks->progress != NULL)
        {
          RgTrainProgress p = { run.step, steps, loss, rate, (double) (steps - run.step) / rate,
                                run.detail->str };
          callbacks->progress (&p, user_data);
        }
      if ((run.step % config->checkpoint_every == 0 || run.step == steps)
          && !checkpoint (&run, &s, error))
        goto out;
      if (config->sample_every > 0 && (run.step % config->sample_every == 0 || run.step == steps)
          && !write_sample (&run, k, error))
        goto out;
    }
  rg_train_message (&run, "done: %" G_GINT64_FORMAT " steps, weights in %s/model.safetensors",
                    run.step, out_dir);
  ok = TRUE;
out:
  if (k->finalize != NULL)
    k->finalize (&run);
  g_free (s.ckpt_dir);
  g_free (s.config_text);
  g_clear_pointer (&run.ema, rg_ema_free);
  g_clear_pointer (&run.optim, rg_adamw_free);
  g_clear_pointer (&run.grads, rg_grads_free);
  g_clear_pointer (&run.model, rg_model_unref);
  g_string_free (run.detail, TRUE);
  g_free (run.out_dir);
  return ok;
}
