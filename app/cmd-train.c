/* cmd-train.c — `reelgen train`: train the nano models on ShapesWorld.
 *
 *   reelgen train tae|t2v [--config FILE] --steps N --out DIR [--resume]
 *                         [--init FILE] [--tae FILE]
 *
 * The loop lives in engine/train/rg-trainer.h; this file turns options into
 * a config and progress into a status line (step, loss, it/s, ETA) on a
 * terminal, or plain lines every 10 steps otherwise. Ctrl-C writes a
 * checkpoint and exits with 130; --resume continues from it. */
#include <stdio.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "rg-cli.h"
#include "train/rg-trainer.h"

typedef struct {
  GCancellable *cancellable;
  gboolean      tty;
  gboolean      line_open;
} Status;

static void
format_eta (double s, char *buf, gsize n)
{
  if (!(s >= 0 && s < 1e7))
    {
      g_strlcpy (buf, "?", n);
      return;
    }
  long v = (long) (s + 0.5);
  g_snprintf (buf, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
}

/* Ctrl-C reaches the run through its cancellable, checked at each step
 * and between the clips of a dataset being encoded. */
static void
check_interrupt (Status *st)
{
  if (rg_cli_interrupted () && !g_cancellable_is_cancelled (st->cancellable))
    {
      g_printerr ("%sstopping…\n", st->line_open ? "\n" : "");
      st->line_open = FALSE;
      g_cancellable_cancel (st->cancellable);
    }
}

static void
on_progress (const RgTrainProgress *p, gpointer data)
{
  Status *st = data;
  check_interrupt (st);
  char eta[32];
  format_eta (p->eta_s, eta, sizeof eta);
  if (st->tty)
    {
      g_printerr ("\r\033[Kstep %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "  loss %.5f  %.2f it/s  "
                  "ETA %s  %s", p->step, p->total, p->loss, p->it_per_s, eta, p->detail);
      st->line_open = TRUE;
    }
  else if (p->step % 10 == 0 || p->step == p->total || p->step == 1)
    g_printerr ("step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " loss %.5f %.2f it/s ETA %s %s\n",
                p->step, p->total, p->loss, p->it_per_s, eta, p->detail);
}

static void
on_message (const char *line, gpointer data)
{
  Status *st = data;
  check_interrupt (st);
  g_printerr ("%s%s\n", st->line_open ? "\r\033[K" : "", line);
  st->line_open = FALSE;
}

int
rg_cmd_train_main (int argc, char **argv)
{
  g_autofree char *config_path = NULL, *out = NULL, *init = NULL, *tae = NULL;
  gint64 steps = 0;
  gboolean resume = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Training config (JSON); defaults to the task's nano settings", "FILE" },
    { "steps", 's', 0, G_OPTION_ARG_INT64, &steps, "Optimizer steps in total", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "Run directory: log, checkpoints, samples, model", "DIR" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue the run in DIR", NULL },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &init,
      "Start from the weights of this model file (overrides the config's \"init\")", "FILE" },
    { "tae", 0, 0, G_OPTION_ARG_FILENAME, &tae,
      "t2v: the trained TAE (a tae run's model.safetensors or a TAE part file; overrides the "
      "config's \"tae\")", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("tae|t2v — train a model");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (
      ctx, "Trains on ShapesWorld clips (train split). Ctrl-C saves a checkpoint;\n"
           "--resume continues exactly where it stopped (same thread count for\n"
           "bit-identical losses). RG_NUM_THREADS sets the threads.");
  if (!rg_cli_parse (ctx, &argc, &argv, "train"))
    return 2;
  g_autoptr (GError) error = NULL;
  RgTrainTask task;
  if (argc != 2)
    {
      g_printerr ("reelgen train: name the task: tae or t2v\n");
      return 2;
    }
  if (!rg_train_task_from_name (argv[1], &task, &error))
    return rg_cli_fail ("train", g_steal_pointer (&error));
  if (steps <= 0 || out == NULL)
    {
      g_printerr ("reelgen train: --steps N (> 0) and --out DIR are required\n");
      return 2;
    }
  RgTrainConfig config;
  rg_train_config_init (&config, task);
  if (config_path != NULL && !rg_train_config_load (config_path, &config, &error))
    return rg_cli_fail ("train", g_steal_pointer (&error));
  if (init != NULL)
    g_strlcpy (config.init_path, init, sizeof config.init_path);
  if (tae != NULL)
    g_strlcpy (config.tae_path, tae, sizeof config.tae_path);
  if (config.task != task)
    {
      g_printerr ("reelgen train: %s is a %s config, not %s\n", config_path,
                  rg_train_task_name (config.task), rg_train_task_name (task));
      return 2;
    }
  if (task == RG_TRAIN_T2V && config.tae_path[0] == '\0')
    {
      g_printerr ("reelgen train t2v: name the trained TAE (--tae FILE or \"tae\" in the "
                  "config)\n");
      return 2;
    }

  rg_cli_install_sigint ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Status st = { cancellable, isatty (STDERR_FILENO), FALSE };
  RgTrainCallbacks cb = { on_progress, on_message };
  gboolean ok = rg_train_run (&config, out, steps, resume, &cb, &st, cancellable, &error);
  if (st.line_open)
    g_printerr ("\n");
  if (!ok && g_error_matches (error, RG_ERROR, RG_ERROR_CANCELLED))
    {
      g_printerr ("reelgen train: %s\n", error->message);
      return 130;
    }
  if (!ok)
    return rg_cli_fail ("train", g_steal_pointer (&error));
  return 0;
}
