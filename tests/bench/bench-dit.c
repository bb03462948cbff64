/* bench-dit.c — DiT forward: the C engine against PyTorch eager on the CPU.
 *
 * For each model (nano-t2v; the Movie Gen 1B block shape with fewer layers,
 * since 28 layers of width 1536 at 4096 tokens take minutes per forward
 * on a 2-core machine) and each token count (256, 1024, 4096), one checkpoint
 * is written and two child processes time a forward pass on it: this
 * program with --run-c, and tests/reference/models_ref.py, run in turn
 * ROUNDS times. Each child reports its best time over its repeats and its
 * own peak resident memory, so neither side's memory is counted against
 * the other. Both use the same
 * thread count (RG_NUM_THREADS for C, torch.set_num_threads for PyTorch).
 *
 *   bench-dit [--quick]        the table (--quick: 256 and 1024 tokens only)
 *   bench-dit --run-c MODEL T H W THREADS REPEATS   one timed C child */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/rg-parallel.h"
#include "core/rg-rng.h"
#include "models/rg-model.h"
#include "rg-config.h"

#define ROUNDS 2 /* child processes per side at 4096 tokens; twice that below */
/* Each child repeats the forward up to REPEATS times, stopping once this
 * much time is spent: small sizes get enough runs for a stable best time,
 * big ones are not repeated for minutes. models_ref.py does the same. */
#define REPEATS 10
#define TIME_BUDGET_S 3.0

static int
run_c (char **argv)
{
  const char *path = argv[0];
  int tt = atoi (argv[1]), th = atoi (argv[2]), tw = atoi (argv[3]);
  int threads = atoi (argv[4]), repeats = atoi (argv[5]);
  rg_parallel_set_threads (threads);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgModel) model = rg_model_load (path, &error);
  if (model == NULL)
    {
      g_printerr ("bench-dit: %s\n", error->message);
      return 1;
    }
  const RgModelConfig *c = rg_model_get_config (model);
  const RgDitConfig *d = &c->dit;
  int64_t l = c->text.max_len;
  g_autoptr (RgTensor) x = rg_tensor_f32_new (5, (int64_t) 1, (int64_t) d->in_channels,
                                              (int64_t) tt, (int64_t) th * d->patch_h,
                                              (int64_t) tw * d->patch_w);
  g_autoptr (RgTensor) v = rg_tensor_new (RG_F32, 5, x->shape);
  g_autoptr (RgTensor) ctx = rg_tensor_f32_new (3, (int64_t) 1, l, (int64_t) d->context_width);
  g_autoptr (RgTensor) t = rg_tensor_f32_new (1, (int64_t) 1);
  rg_rng_normal (0, 0, 0, rg_tensor_f32 (x), rg_tensor_numel (x));
  rg_rng_normal (0, 1, 0, rg_tensor_f32 (ctx), rg_tensor_numel (ctx));
  rg_tensor_f32 (t)[0] = 0.5f;
  int32_t len[1] = { (int32_t) (l / 2) };
  RgDitInput in = { .x = x, .t = t, .context = ctx, .context_len = len };
  double best = G_MAXDOUBLE;
  gint64 begin = g_get_monotonic_time ();
  for (int r = 0; r < repeats; r++)
    {
      gint64 start = g_get_monotonic_time ();
      if (!rg_dit_forward (rg_model_get_dit (model), &in, v, NULL, &error))
        {
          g_printerr ("bench-dit: %s\n", error->message);
          return 1;
        }
      best = MIN (best, (g_get_monotonic_time () - start) / 1e6);
      if ((g_get_monotonic_time () - begin) / 1e6 > TIME_BUDGET_S)
        break;
    }
  double sum = 0;
  for (int64_t i = 0; i < rg_tensor_numel (v); i++)
    sum += fabs (rg_tensor_f32 (v)[i]);
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf ("{\"seconds\": %.6f, \"peak_rss_kb\": %ld, \"v_sum\": %.6g, \"arena_mb\": %.1f}\n",
          best, ru.ru_maxrss, sum, rg_dit_get_arena_peak (rg_model_get_dit (model)) / 1e6);
  return 0;
}

/* The 1-minute load average: on a shared machine the timings mean little
 * without it, so the table prints it before and after. */
static void
print_load (const char *when)
{
  g_autofree char *text = NULL;
  if (g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    printf ("load average %s: %.*s\n", when, (int) strcspn (text, " "), text);
}

typedef struct {
  double seconds, peak_mb;
  gboolean ok;
} Result;

static Result
run_child (const char *const *argv, const char *threads)
{
  Result r = { 0 };
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "RG_NUM_THREADS", threads, TRUE);
  env = g_environ_setenv (env, "OMP_NUM_THREADS", threads, TRUE);
  /* torch's OpenMP workers spin while waiting; on a shared, oversubscribed
   * machine that made 2-thread PyTorch 15× slower than 1-thread in our
   * runs, so they are told to sleep instead (the fair setting for torch) */
  env = g_environ_setenv (env, "OMP_WAIT_POLICY", "PASSIVE", TRUE);
  g_autofree char *out = NULL, *err = NULL;
  int status;
  g_autoptr (GError) error = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      g_printerr ("bench-dit: %s failed: %s\n%s", argv[0], error->message, err ? err : "");
      return r;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, out, -1, &error))
    {
      g_printerr ("bench-dit: unreadable result from %s: %s\n", argv[0], out);
      return r;
    }
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  r.seconds = json_object_get_double_member (o, "seconds");
  r.peak_mb = json_object_get_int_member (o, "peak_rss_kb") / 1024.0;
  r.ok = TRUE;
  return r;
}

int
main (int argc, char **argv)
{
  if (argc == 8 && strcmp (argv[1], "--run-c") == 0)
    return run_c (argv + 2);
  gboolean quick = argc > 1 && strcmp (argv[1], "--quick") == 0;

  const char *py = g_getenv ("PYTHON_ORACLE");
  if (py == NULL || *py == '\0')
    py = "/usr/bin/python3";
  const char *src = g_getenv ("RG_SOURCE_DIR");
  g_autofree char *script = g_build_filename (src ? src : RG_SOURCE_DIR, "tests", "reference",
                                              "models_ref.py", NULL);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *threads = g_strdup_printf ("%d", rg_parallel_threads ());
  /* checkpoints go in the build tree: they are large, and /tmp is shared */
  g_autofree char *dir = g_build_filename (RG_BUILD_DIR, "bench-dit-XXXXXX", NULL);
  if (g_mkdtemp (dir) == NULL)
    {
      g_printerr ("bench-dit: cannot create %s\n", dir);
      return 1;
    }
  int failures = 0;

  struct {
    const char *preset;
    int         layers; /* 0: as in the preset */
    int         repeats;
  } models[] = { { "nano-t2v", 0, REPEATS }, { "moviegen-1b", 2, REPEATS } };
  /* token grids (T, H, W) for 256, 1024 and 4096 tokens */
  const int grids[3][3] = { { 4, 8, 8 }, { 4, 16, 16 }, { 16, 16, 16 } };

  printf ("DiT forward: best time of %d (4096 tokens) or %d alternating processes per side "
          "(each up to %d forwards within %.0f s), %s threads each;\nratio = PyTorch time / C "
          "time (> 1: the engine is faster)\n", ROUNDS, 2 * ROUNDS, REPEATS, TIME_BUDGET_S,
          threads);
  print_load ("at the start");
  printf ("%-22s %6s %10s %10s %7s %12s %12s\n", "model", "tokens", "C s", "torch s", "ratio",
          "C peak MB", "torch peak MB");
  for (guint m = 0; m < G_N_ELEMENTS (models); m++)
    {
      RgModelConfig config;
      g_autoptr (GError) error = NULL;
      g_assert_true (rg_model_config_preset (models[m].preset, &config, NULL));
      int full_layers = config.dit.layers;
      if (models[m].layers > 0)
        {
          config.dit.layers = models[m].layers;
          g_snprintf (config.name, sizeof config.name, "%s-%dlayers", models[m].preset,
                      models[m].layers);
        }
      g_autofree char *path = g_build_filename (dir, "model.safetensors", NULL);
      {
        g_autoptr (RgModel) model = rg_model_init (&config, 1, &error);
        if (model == NULL || !rg_model_save (model, path, RG_F32, &error))
          {
            g_printerr ("bench-dit: %s\n", error->message);
            return 1;
          }
      }
      for (guint g = 0; g < G_N_ELEMENTS (grids) - (quick ? 1 : 0); g++)
        {
          char tt[16], th[16], tw[16], reps[16];
          g_snprintf (tt, sizeof tt, "%d", grids[g][0]);
          g_snprintf (th, sizeof th, "%d", grids[g][1]);
          g_snprintf (tw, sizeof tw, "%d", grids[g][2]);
          g_snprintf (reps, sizeof reps, "%d", models[m].repeats);
          const char *c_argv[] = { self, "--run-c", path, tt, th, tw, threads, reps, NULL };
          const char *py_argv[] = { py, script, "bench", path, tt, th, tw, threads, reps, NULL };
          /* alternate the two sides so that a burst of load from other
           * processes on a shared machine does not land on one side only */
          Result c = { G_MAXDOUBLE, 0, TRUE }, p = { G_MAXDOUBLE, 0, TRUE };
          int tokens = grids[g][0] * grids[g][1] * grids[g][2];
          /* small sizes are cheap and the noisiest: more rounds */
          int rounds = tokens >= 4096 ? ROUNDS : 2 * ROUNDS;
          for (int round = 0; round < rounds; round++)
            {
              Result rc = run_child (c_argv, threads), rp = run_child (py_argv, threads);
              c.ok &= rc.ok, p.ok &= rp.ok;
              c.seconds = MIN (c.seconds, rc.seconds), p.seconds = MIN (p.seconds, rp.seconds);
              c.peak_mb = MAX (c.peak_mb, rc.peak_mb), p.peak_mb = MAX (p.peak_mb, rp.peak_mb);
            }
          if (!c.ok || !p.ok)
            {
              printf ("%-22s %6d   (failed)\n", config.name, tokens);
              failures++;
              continue;
            }
          printf ("%-22s %6d %10.4f %10.4f %7.2f %12.0f %12.0f\n", config.name, tokens,
                  c.seconds, p.seconds, p.seconds / c.seconds, c.peak_mb, p.peak_mb);
          if (models[m].layers > 0)
            printf ("%-22s %6s %10.4f %10.4f   per layer (the full model has %d layers)\n", "",
                    "", c.seconds / config.dit.layers, p.seconds / config.dit.layers,
                    full_layers);
          fflush (stdout);
        }
      g_unlink (path);
    }
  g_rmdir (dir);
  print_load ("at the end");
  return failures > 0 ? 1 : 0;
}
