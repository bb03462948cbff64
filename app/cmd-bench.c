/* cmd-bench.c — `reelgen bench`: benchmarks that grade a model.
 *
 *   reelgen bench shapes   ShapesBench (engine/train/rg-shapesbench.h):
 *                          generate clips for ShapesWorld prompts and grade
 *                          colour, shape, count, motion and background, plus
 *                          the TAE's PSNR/SSIM on held-out scenes.
 *
 * The table goes to stdout, progress to stderr; Ctrl-C stops at the next
 * denoising step and exits with 130. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "rg-cli.h"
#include "train/rg-shapesbench.h"

typedef struct
{
  GCancellable *cancellable;
  gboolean tty;
  int item, n_items; /* the clip being generated, 1-based */
} Progress;

static void
check_interrupt (Progress *p)
{
  if (rg_cli_interrupted () && !g_cancellable_is_cancelled (p->cancellable))
    {
      g_printerr ("%scancelling…\n", p->tty ? "\r\033[K" : "");
      g_cancellable_cancel (p->cancellable);
    }
}

static void
on_progress (const char *what, int done, int total, const char *detail, gpointer data)
{
  Progress *p = data;
  check_interrupt (p);
  p->item = done + 1, p->n_items = total;
  if (p->tty)
    g_printerr ("\r\033[K");
  if (done == 0)
    g_printerr ("%s %d…%s", what, total, p->tty ? "" : "\n");
  else if (detail)
    g_printerr ("%s %d/%d: %s\n", what, done, total, detail);
  else
    g_printerr ("%s %d/%d done\n", what, done, total);
}

static void
on_step (int step, int n_steps, gpointer data)
{
  Progress *p = data;
  check_interrupt (p);
  if (p->tty)
    g_printerr ("\r\033[Kclip %d/%d  step %d/%d", p->item, p->n_items, step, n_steps);
}

static gboolean
write_text (const char *path, const char *text, GError **error)
{
  if (strcmp (path, "-") == 0)
    {
      fputs (text, stdout);
      fputc ('\n', stdout);
      return TRUE;
    }
  return g_file_set_contents (path, text, -1, error);
}

static int
bench_shapes (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *tae_path = NULL, *split = NULL, *out = NULL,
                  *json = NULL, *schedule = NULL;
  g_auto (GStrv) prompts = NULL, clips = NULL;
  RgShapesBenchParams params;
  rg_shapesbench_params_init (&params);
  int n_prompts = params.n_prompts, steps = params.steps, n_recon = params.n_recon;
  double guidance = params.guidance;
  gint64 seed = 0;
  gboolean keep = FALSE, roundtrip = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
      "Checkpoint (the shipped nano-t2v model, else a random untrained one)", "FILE" },
    { "tae", 0, 0, G_OPTION_ARG_FILENAME, &tae_path,
      "Take the TAE's weights from this file (a TAE part file, or a `reelgen train tae` run's "
      "model.safetensors)", "FILE" },
    { "prompts", 'n', 0, G_OPTION_ARG_INT, &n_prompts,
      "How many captions of the split's scenes (16)", "N" },
    { "prompt", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &prompts,
      "Grade this prompt instead (repeatable)", "TEXT" },
    { "clip", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &clips,
      "Grade this video file against the matching --prompt instead of generating (repeatable)",
      "FILE" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "heldout or train (heldout)", "SPLIT" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "First scene and noise seed (0)", "S" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Denoising steps (50)", "N" },
    { "guidance", 'g', 0, G_OPTION_ARG_DOUBLE, &guidance, "Classifier-free guidance (6)", "G" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule,
      "linear or linear-quadratic (linear-quadratic)", "NAME" },
    { "recon", 0, 0, G_OPTION_ARG_INT, &n_recon,
      "Held-out scenes for the TAE's PSNR/SSIM, 0 = skip (8)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "Write shapesbench.txt and shapesbench.json (and kept clips) here", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write the JSON here (- for stdout)", "FILE" },
    { "keep-clips", 0, 0, G_OPTION_ARG_NONE, &keep, "Keep the generated clips (in --out)", NULL },
    { "tae-roundtrip", 0, 0, G_OPTION_ARG_NONE, &roundtrip,
      "Grade the TAE's reconstruction of each prompt's own scene instead of generating (the "
      "ceiling the TAE sets)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("— ShapesBench: generate ShapesWorld prompts and grade the clips");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "bench shapes"))
    return 2;

  const char *usage = NULL;
  if (argc > 1)
    usage = "unexpected argument";
  else if (split && strcmp (split, "heldout") != 0 && strcmp (split, "train") != 0)
    usage = "--split is heldout or train";
  else if (n_prompts < 1 || steps < 1 || n_recon < 0 || seed < 0)
    usage = "--prompts and --steps must be ≥ 1, --recon and --seed ≥ 0";
  else if (clips && (!prompts || g_strv_length (clips) != g_strv_length (prompts)))
    usage = "give one --prompt for each --clip";
  else if (keep && !out)
    usage = "--keep-clips needs --out DIR";
  else if (roundtrip && (prompts || clips || keep))
    usage = "--tae-roundtrip grades the split's own scenes: no --prompt, --clip or --keep-clips";
  if (usage)
    {
      g_printerr ("reelgen bench shapes: %s (see reelgen bench shapes --help)\n", usage);
      return 2;
    }
  GError *error = NULL;
  if (schedule && !rg_schedule_kind_from_string (schedule, &params.schedule, &error))
    return rg_cli_fail ("bench shapes", error);

  params.split
      = split && strcmp (split, "train") == 0 ? RG_SHAPES_SPLIT_TRAIN : RG_SHAPES_SPLIT_HELDOUT;
  params.n_prompts = n_prompts;
  params.prompts = (const char *const *)prompts;
  params.clips = (const char *const *)clips;
  params.seed = (guint64)seed;
  params.steps = steps;
  params.guidance = (float)guidance;
  params.n_recon = n_recon;
  params.keep_dir = keep ? out : NULL;
  params.tae_roundtrip = roundtrip;

  RgShapesBenchModel model;
  if (!rg_shapesbench_model_load (model_path, tae_path, &model, &error))
    return rg_cli_fail ("bench shapes", error);
  g_printerr ("model: %s\n", model.description);
  if (model.random_init)
    g_printerr ("reelgen bench shapes: warning: grading an UNTRAINED random model; the scores "
                "measure noise\n");

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Progress progress = { .cancellable = cancellable, .tty = isatty (STDERR_FILENO) };
  RgGenCallbacks callbacks = { .step = on_step };
  rg_cli_install_sigint ();
  RgShapesBenchResult result;
  int status = 0;
  if (!rg_shapesbench_run (&model, &params, on_progress, &callbacks, &progress, cancellable,
                           &result, &error))
    {
      if (progress.tty)
        g_printerr ("\r\033[K");
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_error_matches (error, RG_ERROR, RG_ERROR_CANCELLED))
        {
          g_printerr ("reelgen bench shapes: cancelled\n");
          g_error_free (error);
          status = 130;
        }
      else
        status = rg_cli_fail ("bench shapes", error);
      rg_shapesbench_model_clear (&model);
      return status;
    }

  g_autofree char *table = rg_shapesbench_result_table (&result, &model);
  g_autofree char *text = rg_shapesbench_result_to_json (&result, &model);
  printf ("%s", table);
  fflush (stdout);
  if (out)
    {
      g_autofree char *table_path = g_build_filename (out, "shapesbench.txt", NULL);
      g_autofree char *json_path = g_build_filename (out, "shapesbench.json", NULL);
      if (g_mkdir_with_parents (out, 0755) != 0)
        g_set_error (&error, RG_ERROR, RG_ERROR_IO, "cannot create %s: %s", out,
                     g_strerror (errno));
      else if (write_text (table_path, table, &error) && !json)
        write_text (json_path, text, &error);
    }
  if (error == NULL && json)
    write_text (json, text, &error);
  if (error)
    status = rg_cli_fail ("bench shapes", error);

  rg_shapesbench_result_clear (&result);
  rg_shapesbench_model_clear (&model);
  return status;
}

int
rg_cmd_bench_main (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      g_printerr ("usage: reelgen bench shapes [OPTION…]\n"
                  "  shapes   ShapesBench: grade a model's clips of ShapesWorld prompts\n"
                  "(see reelgen bench shapes --help)\n");
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "shapes") == 0)
    {
      /* GOption names the program after argv[0] in --help's usage line. */
      argv[1] = (char *)"bench shapes";
      return bench_shapes (argc - 1, argv + 1);
    }
  g_printerr ("reelgen bench: unknown benchmark “%s” (known: shapes)\n", argv[1]);
  return 2;
}
