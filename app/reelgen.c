/* reelgen.c — the command-line tool: one binary, one subcommand per job. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "rg-cli.h"
#include "rg-config.h"
#include "rg-cli-commands.h"

/* A row appears when its cmd-*.c exists (app/meson.build sets RG_CMD_*). */
static const RgCliCommand commands[] = {
#if RG_CMD_GENERATE
  { "generate", "generate a clip from a prompt (text-to-video)", rg_cmd_generate_main },
#endif
#if RG_CMD_MODEL
  { "model", "create and inspect model files (init, info)", rg_cmd_model_main },
#endif
#if RG_CMD_PROJECT
  { "project", "create and edit projects, import media, export", rg_cmd_project_main },
#endif
#if RG_CMD_MEDIA
  { "media", "probe, decode and inspect media files", rg_cmd_media_main },
#endif
#if RG_CMD_TRAIN
  { "train", "train the models on ShapesWorld", rg_cmd_train_main },
#endif
#if RG_CMD_BENCH
  { "bench", "grade generations (ShapesBench)", rg_cmd_bench_main },
#endif
#if RG_CMD_SHARD
  { "shard", "embedding store: profile, plan, simulate, run, bench", rg_cmd_shard_main },
#endif
#if RG_CMD_SERVE
  { "serve", "run a headless worker (HTTP + WebSocket)", rg_cmd_serve_main },
#endif
  { "info", "what this build and machine offer (backends, threads)", rg_cmd_info_main },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: reelgen COMMAND [OPTIONS…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nreelgen COMMAND --help shows a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("reelgen %s\n", RG_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].main (argc - 1, argv + 1);
  fprintf (stderr, "reelgen: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
