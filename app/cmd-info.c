/* cmd-info.c — `reelgen info`: what this build and this machine offer. */
#include <stdio.h>

#include "core/rg-parallel.h"
#include "rg-cli.h"
#include "rg-config.h"
#if RG_HAVE_CUDA
#include "rg-cuda-device.h"
#endif

int
rg_cmd_info_main (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— show build and machine facts");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "info"))
    return 2;

  int threads = rg_parallel_threads ();
#if RG_HAVE_CUDA
  int gpus = rg_cuda_device_count ();
#else
  int gpus = 0;
#endif
  if (json)
    printf ("{\"version\": \"%s\", \"threads\": %d, \"cuda\": %s, \"gpus\": %d, \"mpi\": %s}\n",
            RG_VERSION, threads, RG_HAVE_CUDA ? "true" : "false", gpus,
            RG_HAVE_MPI ? "true" : "false");
  else
    printf ("reelgen %s\nthreads: %d (RG_NUM_THREADS overrides)\n"
            "CUDA kernels: %s (%d GPU%s visible)\nMPI: %s\n",
            RG_VERSION, threads, RG_HAVE_CUDA ? "built" : "not built", gpus, gpus == 1 ? "" : "s",
            RG_HAVE_MPI ? "yes" : "no");
  return 0;
}
