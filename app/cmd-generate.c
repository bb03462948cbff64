/* cmd-generate.c — `reelgen generate`: text to video from the command line.
 *
 * The job runs on an RgEngine, the same path the studio takes; this file
 * only turns options into an RgJobSpec and events into a progress bar.
 * Ctrl-C cancels the job (no partial file is left) and exits with 130. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "jobs/rg-engine.h"
#include "rg-cli.h"

#define BAR_WIDTH 24

typedef struct {
  GMainLoop  *loop;
  RgEngine   *engine;
  RgJobId     id;
  gboolean    tty;
  gboolean    cancel_sent;
  gboolean    bar_drawn;
  RgJobState  state;
  GError     *error;
  char       *provenance;
  char       *output;
} Run;

static void
clear_bar (Run *run)
{
  if (run->bar_drawn)
    g_printerr ("\r\033[K");
  run->bar_drawn = FALSE;
}

static void
format_duration (double s, char *buf, gsize size)
{
  int total = (int) (s + 0.5);
  if (total >= 3600)
    g_snprintf (buf, size, "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60);
  else
    g_snprintf (buf, size, "%d:%02d", total / 60, total % 60);
}

static void
show_progress (Run *run, const RgJobEvent *ev)
{
  char eta[32] = "?";
  if (ev->eta_s >= 0)
    format_duration (ev->eta_s, eta, sizeof eta);

  if (!run->tty)
    {
      g_printerr ("%s %d/%d  %.2f it/s  ETA %s\n", ev->stage, ev->step, ev->n_steps,
                  ev->it_per_s, eta);
      return;
    }
  char bar[BAR_WIDTH + 1];
  int filled = ev->n_steps > 0 ? ev->step * BAR_WIDTH / ev->n_steps : 0;
  for (int i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[BAR_WIDTH] = '\0';
  g_printerr ("\r\033[K%-13s [%s] %d/%d  %.2f it/s  ETA %s", ev->stage, bar, ev->step,
              ev->n_steps, ev->it_per_s, eta);
  run->bar_drawn = TRUE;
}

static void
on_event (const RgJobEvent *ev, gpointer data)
{
  Run *run = data;

  switch (ev->type)
    {
    case RG_JOB_EVENT_STAGE:
      if (run->tty)
        {
          clear_bar (run);
          g_printerr ("%s…", ev->stage);
          run->bar_drawn = TRUE;
        }
      else
        g_printerr ("%s\n", ev->stage);
      break;
    case RG_JOB_EVENT_PROGRESS:
      show_progress (run, ev);
      break;
    case RG_JOB_EVENT_MESSAGE:
      clear_bar (run);
      g_printerr ("reelgen generate: warning: %s\n", ev->message);
      break;
    case RG_JOB_EVENT_STATE:
      if (!RG_JOB_STATE_IS_FINAL (ev->state))
        break;
      clear_bar (run);
      run->state = ev->state;
      if (ev->error)
        run->error = g_error_copy (ev->error);
      if (ev->result)
        {
          run->provenance = g_strdup (ev->result->provenance_json);
          run->output = g_strdup (ev->result->output_path);
        }
      g_main_loop_quit (run->loop);
      break;
    case RG_JOB_EVENT_QUEUE_POSITION:
    case RG_JOB_EVENT_PREVIEW:
      break;
    }
}

/* Signal handlers cannot touch the engine; the flag they set is polled
 * here, on the main loop. */
static gboolean
poll_interrupt (gpointer data)
{
  Run *run = data;
  if (rg_cli_interrupted () && !run->cancel_sent)
    {
      run->cancel_sent = TRUE;
      clear_bar (run);
      g_printerr ("cancelling…\n");
      rg_engine_cancel (run->engine, run->id);
    }
  return G_SOURCE_CONTINUE;
}

/* "8", "24" or "30000/1001". */
static gboolean
parse_fps (const char *text, RgRational *fps, GError **error)
{
  char *end;
  errno = 0;
  gint64 num = g_ascii_strtoll (text, &end, 10), den = 1;
  if (*end == '/')
    den = g_ascii_strtoll (end + 1, &end, 10);
  if (errno || *end || num <= 0 || den <= 0 || num > G_MAXINT || den > G_MAXINT)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "--fps: “%s” is not a frame rate (e.g. 8, 24 or 30000/1001)", text);
      return FALSE;
    }
  *fps = (RgRational) { num, den };
  return TRUE;
}

int
rg_cmd_generate_main (int argc, char **argv)
{
  g_autofree char *prompt = NULL, *negative = NULL, *model = NULL, *output = NULL;
  g_autofree char *schedule = NULL, *fps = NULL;
  gint64 seed = 0;
  int steps = 50, frames = 0, width = 0, height = 0;
  double guidance = 6.0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt, "What the clip shows", "TEXT" },
    { "negative", 0, 0, G_OPTION_ARG_STRING, &negative, "What it should not show", "TEXT" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Noise seed (same seed, same clip; 0)", "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Denoising steps (50)", "N" },
    { "guidance", 'g', 0, G_OPTION_ARG_DOUBLE, &guidance,
      "Classifier-free guidance scale, 1 = none (6)", "G" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule,
      "linear or linear-quadratic (linear-quadratic)", "NAME" },
    { "frames", 'n', 0, G_OPTION_ARG_INT, &frames, "Frames (the model's clip length)", "N" },
    { "fps", 0, 0, G_OPTION_ARG_STRING, &fps, "Frame rate, e.g. 8 or 30000/1001 (the model's)",
      "RATE" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Width in pixels (the model's)", "W" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Height in pixels (the model's)", "H" },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
      "Checkpoint (the shipped nano-t2v model)", "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Where to write the clip (.mp4 …)",
      "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the clip's provenance as JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— generate a video clip from text");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "generate"))
    return 2;
  if (prompt == NULL || output == NULL)
    {
      g_printerr ("reelgen generate: --prompt and -o are required\n"
                  "(see reelgen generate --help)\n");
      return 2;
    }

  if (seed < 0)
    {
      g_printerr ("reelgen generate: --seed must be ≥ 0, not %" G_GINT64_FORMAT "\n", seed);
      return 2;
    }

  GError *error = NULL;
  g_autoptr (RgJobSpec) spec = rg_job_spec_new (RG_JOB_TEXT_TO_VIDEO);
  spec->prompt = g_strdup (prompt);
  spec->negative_prompt = g_strdup (negative);
  spec->seed = (guint64) seed;
  spec->steps = steps;
  spec->guidance = (float) guidance;
  spec->frames = frames;
  spec->width = width;
  spec->height = height;
  spec->model_path = g_strdup (model);
  spec->output_path = g_strdup (output);
  if ((schedule && !rg_schedule_kind_from_string (schedule, &spec->schedule, &error))
      || (fps && !parse_fps (fps, &spec->fps, &error)))
    {
      rg_cli_fail ("generate", error);
      return 2;
    }

  Run run = {
    .loop = g_main_loop_new (NULL, FALSE),
    .engine = rg_engine_new (),
    .tty = isatty (STDERR_FILENO),
  };
  rg_cli_install_sigint ();
  run.id = rg_engine_submit (run.engine, spec, on_event, &run, NULL, &error);
  int status = 1;
  if (run.id != 0)
    {
      guint poll = g_timeout_add (50, poll_interrupt, &run);
      g_main_loop_run (run.loop);
      g_source_remove (poll);
      switch (run.state)
        {
        case RG_JOB_DONE:
          if (json)
            printf ("%s\n", run.provenance);
          else
            g_printerr ("wrote %s\n", run.output);
          status = 0;
          break;
        case RG_JOB_CANCELLED:
          g_printerr ("reelgen generate: cancelled; no file written\n");
          status = 130;
          break;
        default:
          rg_cli_fail ("generate", g_steal_pointer (&run.error));
          status = 1;
          break;
        }
    }
  else
    status = rg_cli_fail ("generate", g_steal_pointer (&error));

  rg_engine_free (run.engine);
  /* deliver what the engine posted last so nothing is left holding refs */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_main_loop_unref (run.loop);
  g_clear_error (&run.error);
  g_free (run.provenance);
  g_free (run.output);
  return status;
}
