/* rg-cli.c — helpers shared by the `reelgen` subcommands. */
#include "rg-cli.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile gint interrupted;

int
rg_cli_fail (const char *command, GError *error)
{
  g_printerr ("reelgen %s: %s\n", command, error ? error->message : "failed");
  g_clear_error (&error);
  return 1;
}

gboolean
rg_cli_parse (GOptionContext *ctx, int *argc, char ***argv, const char *command)
{
  GError *error = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("reelgen %s: %s\n(see reelgen %s --help)\n", command,
                  error->message, command);
      g_error_free (error);
      return FALSE;
    }
  return TRUE;
}

static void
on_sigint (int sig)
{
  if (g_atomic_int_get (&interrupted))
    _exit (130);
  g_atomic_int_set (&interrupted, 1);
  (void) sig;
}

void
rg_cli_install_sigint (void)
{
  struct sigaction sa = { 0 };
  sa.sa_handler = on_sigint;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
}

gboolean
rg_cli_interrupted (void)
{
  return g_atomic_int_get (&interrupted) != 0;
}

volatile gint *
rg_cli_interrupt_flag (void)
{
  return &interrupted;
}
