/* reelgen.c — the command-line tool: one binary, one subcommand per job. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "rg-cli.h"
#include "rg-config.h"

static const RgCliCommand commands[] = {
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
