/* rg-cli.h — the `reelgen` command's subcommands and their shared helpers.
 *
 * Each subcommand lives in its own cmd-*.c and is listed once in reelgen.c.
 * A subcommand gets argv with argv[0] = its own name, prints its results
 * (JSON with --json where it offers it) and returns a process exit code. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef int (*RgCliMain) (int argc, char **argv);

typedef struct {
  const char *name;
  const char *summary;
  RgCliMain   main;
} RgCliCommand;

/* Print "reelgen NAME: message" to stderr for a failed call; returns 1. */
int rg_cli_fail (const char *command, GError *error);

/* Parse argv with a GOptionContext; prints usage errors itself. */
gboolean rg_cli_parse (GOptionContext *ctx, int *argc, char ***argv, const char *command);

/* Ctrl-C: the first SIGINT sets the flag that jobs poll; a second one ends
 * the process at once. rg_cli_interrupted() reads the flag. */
void     rg_cli_install_sigint (void);
gboolean rg_cli_interrupted (void);
/* The address of that flag, for engine calls that poll a gint cancel flag. */
volatile gint *rg_cli_interrupt_flag (void);

/* One entry point per subcommand, each in app/cmd-NAME.c. */
int rg_cmd_info_main (int argc, char **argv);
int rg_cmd_generate_main (int argc, char **argv);
int rg_cmd_model_main (int argc, char **argv);
int rg_cmd_project_main (int argc, char **argv);
int rg_cmd_media_main (int argc, char **argv);
int rg_cmd_train_main (int argc, char **argv);
int rg_cmd_bench_main (int argc, char **argv);
int rg_cmd_shard_main (int argc, char **argv);
int rg_cmd_serve_main (int argc, char **argv);

G_END_DECLS
