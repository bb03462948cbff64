/* Attention at 1k, 4k and 16k tokens: the engine's blockwise CPU attention
 * against PyTorch eager on the same shapes and thread count, run from this
 * binary through /usr/bin/python3 (PYTHON_ORACLE). Shapes: B = 1, H = 8
 * heads of Dh = 64 (a Movie Gen-style head width), full bidirectional
 * attention, scale 1/√Dh.
 *
 * PyTorch uses F.scaled_dot_product_attention where it exists (torch ≥ 2);
 * Debian's 1.13 lacks it, so the peer is the eager math form softmax(q·kᵀ)·v,
 * with heads batched as far as a 2 GiB score tensor allows (16k tokens need
 * 1 GiB of scores per head).
 *
 * Printed per size: best wall time of each and its ratio, the mean CPU
 * time per run of each and its ratio (on a shared machine the CPU-time
 * ratio is the steadier one: waiting for a core costs wall time only), the C op's
 * peak-RSS growth while it runs (inputs already resident), the size of one
 * N² score matrix for scale, and the PyTorch process's peak RSS.
 * Then the backward (rg_attention_backward, FlashAttention-2 style from the
 * saved logsumexp) against autograd's backward of the same PyTorch
 * forward, at 1k and 4k tokens, timed without the forward.
 * An optional argument caps the token count (e.g. 4096 for a quick run). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/rg-parallel.h"
#include "ops/rg-ops-grad.h"
#include "ops/rg-ops.h"

#define HEADS 8
#define DH    64

static const char *torch_script =
  "import resource, sys, time, math\n"
  "import torch\n"
  "import torch.nn.functional as F\n"
  "n, heads, dh, threads, reps, backward = map(int, sys.argv[1:7])\n"
  "torch.set_num_threads(threads)\n"
  "torch.manual_seed(0)\n"
  "q, k, v = (torch.randn(1, heads, n, dh, requires_grad=bool(backward)) for _ in range(3))\n"
  "dout = torch.randn(1, heads, n, dh)\n"
  "scale = 1.0 / math.sqrt(dh)\n"
  "sdpa = getattr(F, 'scaled_dot_product_attention', None)\n"
  "group = max(1, min(heads, (2 << 30) // (n * n * 4)))\n"
  "def attend():\n"
  "    if sdpa is not None:\n"
  "        return sdpa(q, k, v)\n"
  "    outs = []\n"
  "    for h in range(0, heads, group):\n"
  "        s = torch.matmul(q[:, h:h+group], k[:, h:h+group].transpose(-1, -2)) * scale\n"
  "        outs.append(torch.matmul(torch.softmax(s, -1), v[:, h:h+group]))\n"
  "        del s\n"
  "    return torch.cat(outs, 1)\n"
  "cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])\n"
  "def run():\n"
  "    # the timed part: the forward, or (backward) autograd's backward alone\n"
  "    if not backward:\n"
  "        with torch.no_grad():\n"
  "            t0, c0 = time.perf_counter(), cpu(); attend()\n"
  "            return time.perf_counter() - t0, cpu() - c0\n"
  "    out = attend()\n"
  "    t0, c0 = time.perf_counter(), cpu(); out.backward(dout)\n"
  "    r = time.perf_counter() - t0, cpu() - c0\n"
  "    q.grad = k.grad = v.grad = None\n"
  "    return r\n"
  "run()\n"
  "times = [run() for _ in range(reps)]\n"
  "best = min(t for t, _ in times)\n"
  "cpu_s = sum(c for _, c in times) / reps\n"
  "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
  "print(best, rss, 'sdpa' if sdpa is not None else 'math', torch.__version__, cpu_s)\n";

static gsize
peak_rss (void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  const char *line = strstr (status, "VmHWM:");
  return line ? (gsize) g_ascii_strtoull (line + 6, NULL, 10) * 1024 : 0;
}

/* User + system CPU seconds of this process, every thread included. */
static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double) ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec * 1e-6;
}

static RgTensor *
random_tensor (GRand *rng, int64_t n)
{
  RgTensor *t = rg_tensor_f32_new (3, (int64_t) 1, n, (int64_t) HEADS * DH);
  float *p = rg_tensor_f32 (t);
  for (int64_t i = 0; i < n * HEADS * DH; i++)
    p[i] = (float) g_rand_double_range (rng, -1.7, 1.7);
  return t;
}

/* Best wall time of the C op over reps runs; its mean CPU time and the
 * peak-RSS growth of the first run. */
static double
bench_c (int64_t n, int reps, double *cpu_s, gsize *growth)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (1);
  g_autoptr (RgTensor) q = random_tensor (rng, n);
  g_autoptr (RgTensor) k = random_tensor (rng, n);
  g_autoptr (RgTensor) v = random_tensor (rng, n);
  g_autoptr (RgTensor) out = rg_tensor_f32_zeros (3, (int64_t) 1, n, (int64_t) HEADS * DH);
  RgAttentionParams p = { HEADS, 1.0f / sqrtf ((float) DH), FALSE, NULL };
  double best = G_MAXDOUBLE, c0 = cpu_seconds ();
  for (int r = 0; r < reps; r++)
    {
      gsize before = peak_rss ();
      gint64 t0 = g_get_monotonic_time ();
      rg_attention (q, k, v, &p, out);
      best = MIN (best, (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
      if (r == 0)
        *growth = peak_rss () - before;
    }
  *cpu_s = (cpu_seconds () - c0) / reps;
  return best;
}

/* The backward alone (rg_attention_lse ran before the clock starts), as
 * bench_c: best wall time, mean CPU time, first run's peak-RSS growth. */
static double
bench_c_backward (int64_t n, int reps, double *cpu_s, gsize *growth)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (1);
  g_autoptr (RgTensor) q = random_tensor (rng, n);
  g_autoptr (RgTensor) k = random_tensor (rng, n);
  g_autoptr (RgTensor) v = random_tensor (rng, n);
  g_autoptr (RgTensor) dout = random_tensor (rng, n);
  int64_t row = (int64_t) HEADS * DH;
  g_autoptr (RgTensor) out = rg_tensor_f32_zeros (3, (int64_t) 1, n, row);
  g_autoptr (RgTensor) lse = rg_tensor_f32_zeros (3, (int64_t) 1, (int64_t) HEADS, n);
  g_autoptr (RgTensor) dq = rg_tensor_f32_zeros (3, (int64_t) 1, n, row);
  g_autoptr (RgTensor) dk = rg_tensor_f32_zeros (3, (int64_t) 1, n, row);
  g_autoptr (RgTensor) dv = rg_tensor_f32_zeros (3, (int64_t) 1, n, row);
  RgAttentionParams p = { HEADS, 1.0f / sqrtf ((float) DH), FALSE, NULL };
  rg_attention_lse (q, k, v, &p, out, lse);
  double best = G_MAXDOUBLE, c0 = cpu_seconds ();
  for (int r = 0; r < reps; r++)
    {
      gsize before = peak_rss ();
      gint64 t0 = g_get_monotonic_time ();
      rg_attention_backward (q, k, v, out, lse, dout, &p, dq, dk, dv);
      best = MIN (best, (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
      if (r == 0)
        *growth = peak_rss () - before;
    }
  *cpu_s = (cpu_seconds () - c0) / reps;
  return best;
}

/* Runs the PyTorch peer (forward, or with `backward` autograd's backward
 * of the same attention); FALSE with a message when it cannot. */
static gboolean
bench_torch (int64_t n, int threads, int reps, gboolean backward, double *seconds, double *cpu_s,
             gsize *rss, char **variant)
{
  const char *python = g_getenv ("PYTHON_ORACLE");
  if (python == NULL || *python == '\0')
    python = "/usr/bin/python3";
  g_autofree char *a_n = g_strdup_printf ("%" G_GINT64_FORMAT, n);
  g_autofree char *a_h = g_strdup_printf ("%d", HEADS);
  g_autofree char *a_d = g_strdup_printf ("%d", DH);
  g_autofree char *a_t = g_strdup_printf ("%d", threads);
  g_autofree char *a_r = g_strdup_printf ("%d", reps);
  const char *argv[] = { python, "-c", torch_script, a_n, a_h, a_d, a_t, a_r,
                         backward ? "1" : "0", NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  int status;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      fprintf (stderr, "PyTorch peer failed: %s\n%s", error->message, err ? err : "");
      return FALSE;
    }
  g_auto (GStrv) fields = g_strsplit (g_strstrip (out), " ", -1);
  if (g_strv_length (fields) < 5)
    {
      fprintf (stderr, "PyTorch peer printed \"%s\"\n", out);
      return FALSE;
    }
  *seconds = g_ascii_strtod (fields[0], NULL);
  *rss = (gsize) g_ascii_strtoull (fields[1], NULL, 10);
  *cpu_s = g_ascii_strtod (fields[4], NULL);
  *variant = g_strdup_printf ("torch %s, %s", fields[3], fields[2]);
  return TRUE;
}

int
main (int argc, char **argv)
{
  static const int64_t sizes[] = { 1024, 4096, 16384 };
  static const int reps[] = { 5, 2, 1 };
  /* backward: PyTorch eager keeps the N² probabilities of every head for
   * autograd (8 GiB at 16k), so the comparison stops at 4k */
  static const int64_t bw_sizes[] = { 1024, 4096 };
  static const int bw_reps[] = { 3, 1 };
  int threads = rg_parallel_threads ();
  int failures = 0;
  int64_t max_tokens = argc > 1 ? g_ascii_strtoll (argv[1], NULL, 10) : G_MAXINT64;

  printf ("attention B=1 H=%d Dh=%d, full (not causal), %d threads for both; times in s, "
          "ratio = C/torch (< 1: C faster)\n",
          HEADS, DH, threads);
  printf ("%7s %8s %8s %7s %8s %8s %7s %14s %12s %14s\n", "tokens", "C wall", "torch", "ratio",
          "C cpu", "torch", "ratio", "C RSS growth", "one N^2 f32", "torch peak RSS");
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int64_t n = sizes[i];
      if (n > max_tokens)
        break;
      gsize growth = 0, torch_rss = 0;
      double c_cpu = 0, t_s = 0, t_cpu = 0;
      double c_s = bench_c (n, reps[i], &c_cpu, &growth);
      g_autofree char *variant = NULL;
      gboolean have_torch
        = bench_torch (n, threads, reps[i], FALSE, &t_s, &t_cpu, &torch_rss, &variant);
      double n2_mib = (double) n * n * 4 / (1 << 20);
      if (have_torch)
        printf ("%7" G_GINT64_FORMAT " %8.3f %8.3f %7.2f %8.3f %8.3f %7.2f %10.1f MiB %8.0f MiB "
                "%10.0f MiB  (%s)\n",
                n, c_s, t_s, c_s / t_s, c_cpu, t_cpu, c_cpu / t_cpu, growth / 1048576.0, n2_mib,
                torch_rss / 1048576.0, variant);
      else
        {
          printf ("%7" G_GINT64_FORMAT " %8.3f %8s %7s %8.3f %8s %7s %10.1f MiB %8.0f MiB\n", n,
                  c_s, "-", "-", c_cpu, "-", "-", growth / 1048576.0, n2_mib);
          failures++;
        }
      fflush (stdout);
    }

  printf ("\nbackward (dq, dk, dv from the saved logsumexp; torch: autograd backward of the "
          "same forward), times exclude the forward\n");
  printf ("%7s %8s %8s %7s %8s %8s %7s %14s %12s %14s\n", "tokens", "C wall", "torch", "ratio",
          "C cpu", "torch", "ratio", "C RSS growth", "one N^2 f32", "torch peak RSS");
  for (guint i = 0; i < G_N_ELEMENTS (bw_sizes); i++)
    {
      int64_t n = bw_sizes[i];
      if (n > max_tokens)
        break;
      gsize growth = 0, torch_rss = 0;
      double c_cpu = 0, t_s = 0, t_cpu = 0;
      double c_s = bench_c_backward (n, bw_reps[i], &c_cpu, &growth);
      g_autofree char *variant = NULL;
      gboolean have_torch
        = bench_torch (n, threads, bw_reps[i], TRUE, &t_s, &t_cpu, &torch_rss, &variant);
      double n2_mib = (double) n * n * 4 / (1 << 20);
      if (have_torch)
        printf ("%7" G_GINT64_FORMAT " %8.3f %8.3f %7.2f %8.3f %8.3f %7.2f %10.1f MiB %8.0f MiB "
                "%10.0f MiB  (%s)\n",
                n, c_s, t_s, c_s / t_s, c_cpu, t_cpu, c_cpu / t_cpu, growth / 1048576.0, n2_mib,
                torch_rss / 1048576.0, variant);
      else
        {
          printf ("%7" G_GINT64_FORMAT " %8.3f %8s %7s %8.3f %8s %7s %10.1f MiB %8.0f MiB\n", n,
                  c_s, "-", "-", c_cpu, "-", "-", growth / 1048576.0, n2_mib);
          failures++;
        }
      fflush (stdout);
    }
  printf ("C process peak RSS %.0f MiB\n", peak_rss () / 1048576.0);
  return failures ? 1 : 0;
}
