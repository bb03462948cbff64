/* The TAE's building blocks, one at a time: the engine's CPU ops against
 * PyTorch eager (oneDNN convolutions) on the same shapes and thread count,
 * run from this binary through /usr/bin/python3 (PYTHON_ORACLE).
 *
 * Per shape, three timed parts, forward and backward each:
 *   conv  the 2.5D conv of a resblock: 3×3 spatial conv on every frame, then
 *         a size-3 temporal conv, both replicate-padded, with biases
 *         (PyTorch: models_ref.conv25's two conv3d with F.pad);
 *   norm  GroupNorm(8) then SiLU (rg_groupnorm_silu and its fused
 *         backward; PyTorch: F.silu(F.group_norm(...))).
 * A backward is timed alone (gradients of the input, weights and biases,
 * from a fixed upstream gradient), as autograd's backward of the forward.
 * Shapes: the TAE training step's levels (batch 4 of 8×32×32 crops, 32/64/
 * 128/128 channels as the nano TAE halves space and time), and a whole
 * 64×64, 16-frame clip at the first level (what generation decodes).
 *
 * Printed: the best of REPS runs of each side in ms, and the ratio PyTorch ÷
 * C (> 1: the engine is faster). An optional argument sets REPS (20). */
#include <stdio.h>
#include <stdlib.h>

#include "core/rg-parallel.h"
#include "ops/rg-ops-grad.h"
#include "ops/rg-ops.h"

typedef struct {
  const char *name;
  int64_t     b, c, t, h;
} Shape;

static const Shape shapes[] = {
  { "train level 0", 4, 32, 8, 32 },
  { "train level 1", 4, 64, 4, 16 },
  { "train level 2", 4, 128, 2, 8 },
  { "train level 3", 4, 128, 2, 4 },
  { "64x64 clip, level 0", 1, 32, 16, 64 },
};

static const char *torch_script =
  "import sys, time\n"
  "import torch\n"
  "import torch.nn.functional as F\n"
  "b, c, t, h, threads, reps = map(int, sys.argv[1:7])\n"
  "torch.set_num_threads(threads)\n"
  "torch.manual_seed(0)\n"
  "x = torch.randn(b, c, t, h, h, requires_grad=True)\n"
  "ws = (torch.randn(c, c, 3, 3) * 0.05).requires_grad_()\n"
  "wt = (torch.randn(c, c, 3) * 0.05).requires_grad_()\n"
  "bs, bt = torch.zeros(c, requires_grad=True), torch.zeros(c, requires_grad=True)\n"
  "gw, gb = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)\n"
  "dy = torch.randn(b, c, t, h, h)\n"
  "def conv():\n"
  "    y = F.conv3d(F.pad(x, (1, 1, 1, 1, 0, 0), mode='replicate'), ws.unsqueeze(2), bs)\n"
  "    return F.conv3d(F.pad(y, (0, 0, 0, 0, 1, 1), mode='replicate'), wt[..., None, None], bt)\n"
  "def norm():\n"
  "    return F.silu(F.group_norm(x, 8, gw, gb, 1e-5))\n"
  "def best(f, backward):\n"
  "    times = []\n"
  "    for _ in range(reps + 1):\n"
  "        if backward:\n"
  "            y = f()\n"
  "            t0 = time.perf_counter(); y.backward(dy); times.append(time.perf_counter() - t0)\n"
  "            for p in (x, ws, wt, bs, bt, gw, gb): p.grad = None\n"
  "        else:\n"
  "            with torch.no_grad():\n"
  "                t0 = time.perf_counter(); f(); times.append(time.perf_counter() - t0)\n"
  "    return min(times[1:]) * 1e3\n"
  "print(best(conv, 0), best(conv, 1), best(norm, 0), best(norm, 1))\n";

static double
now_ms (void)
{
  return (double) g_get_monotonic_time () / 1e3;
}

static RgTensor *
random_tensor (GRand *rng, double scale, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  float *p = rg_tensor_f32 (t);
  for (int64_t i = 0; i < rg_tensor_numel (t); i++)
    p[i] = (float) (scale * g_rand_double_range (rng, -1.7, 1.7));
  return t;
}

typedef struct {
  RgTensor *x, *ws, *wt, *bs, *bt, *gw, *gb, *dy;
  RgTensor *s, *y, *dx, *ds, *dws, *dwt, *dbs, *dbt, *dgw, *dgb;
} Buffers;

static void
conv_forward (Buffers *u)
{
  rg_conv2d_frames (u->x, u->ws, u->bs, 1, RG_PAD_REPLICATE, u->s);
  rg_conv1d_time (u->s, u->wt, u->bt, 1, RG_PAD_REPLICATE, u->y);
}

static void
conv_backward (Buffers *u)
{
  rg_conv1d_time_backward (u->s, u->wt, 1, RG_PAD_REPLICATE, u->dy, u->ds, u->dwt, u->dbt);
  rg_conv2d_frames_backward (u->x, u->ws, 1, RG_PAD_REPLICATE, u->ds, u->dx, u->dws, u->dbs);
}

static void
norm_forward (Buffers *u)
{
  rg_groupnorm_silu (u->x, 8, u->gw, u->gb, 1e-5f, u->y);
}

static void
norm_backward (Buffers *u)
{
  rg_groupnorm_silu_backward (u->x, 8, u->gw, u->gb, 1e-5f, u->dy, u->dx, u->dgw, u->dgb);
}

/* Best of reps runs after one warm-up. Backward runs accumulate into the
 * same gradients each time, as a training step's do. */
static double
best_ms (void (*fn) (Buffers *), Buffers *u, int reps)
{
  double best = G_MAXDOUBLE;
  for (int r = 0; r <= reps; r++)
    {
      double t0 = now_ms ();
      fn (u);
      if (r > 0)
        best = MIN (best, now_ms () - t0);
    }
  return best;
}

static gboolean
run_torch (const char *py, const Shape *s, int threads, int reps, double out[4])
{
  char *a[6];
  int64_t v[6] = { s->b, s->c, s->t, s->h, threads, reps };
  for (int i = 0; i < 6; i++)
    a[i] = g_strdup_printf ("%" G_GINT64_FORMAT, v[i]);
  const char *argv[] = { py, "-c", torch_script, a[0], a[1], a[2], a[3], a[4], a[5], NULL };
  g_autofree char *stdout_text = NULL, *stderr_text = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  gboolean ok = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                              &stdout_text, &stderr_text, &status, &error)
                && g_spawn_check_wait_status (status, &error)
                && sscanf (stdout_text, "%lf %lf %lf %lf", &out[0], &out[1], &out[2], &out[3]) == 4;
  for (int i = 0; i < 6; i++)
    g_free (a[i]);
  if (!ok)
    g_printerr ("bench-conv: PyTorch peer failed: %s\n",
                error ? error->message : (stderr_text ? stderr_text : "no output"));
  return ok;
}

int
main (int argc, char **argv)
{
  int reps = argc > 1 ? atoi (argv[1]) : 20;
  if (reps < 1)
    {
      g_printerr ("usage: bench-conv [REPS]\n");
      return 2;
    }
  const char *py = g_getenv ("PYTHON_ORACLE");
  if (py == NULL || *py == '\0')
    py = "/usr/bin/python3";
  int threads = rg_parallel_threads ();
  g_print ("TAE ops, %d threads, best of %d runs; ratio = PyTorch ms / C ms (> 1: C faster)\n",
           threads, reps);
  g_print ("%-22s %-9s %9s %9s %7s\n", "shape [B,C,T,H,H]", "part", "C ms", "torch ms", "ratio");

  g_autoptr (GRand) rng = g_rand_new_with_seed (1);
  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      const Shape *s = &shapes[i];
      int64_t xs[5] = { s->b, s->c, s->t, s->h, s->h };
      int64_t w2[4] = { s->c, s->c, 3, 3 }, w1[3] = { s->c, s->c, 3 }, vs[1] = { s->c };
      Buffers u = { 0 };
      u.x = random_tensor (rng, 1.0, 5, xs);
      u.ws = random_tensor (rng, 0.05, 4, w2);
      u.wt = random_tensor (rng, 0.05, 3, w1);
      u.bs = rg_tensor_zeros (RG_F32, 1, vs);
      u.bt = rg_tensor_zeros (RG_F32, 1, vs);
      u.gw = rg_tensor_new (RG_F32, 1, vs);
      rg_tensor_fill (u.gw, 1.0f);
      u.gb = rg_tensor_zeros (RG_F32, 1, vs);
      u.dy = random_tensor (rng, 1.0, 5, xs);
      u.s = rg_tensor_new (RG_F32, 5, xs);
      u.y = rg_tensor_new (RG_F32, 5, xs);
      u.dx = rg_tensor_zeros (RG_F32, 5, xs);
      u.ds = rg_tensor_zeros (RG_F32, 5, xs);
      u.dws = rg_tensor_zeros (RG_F32, 4, w2);
      u.dwt = rg_tensor_zeros (RG_F32, 3, w1);
      u.dbs = rg_tensor_zeros (RG_F32, 1, vs);
      u.dbt = rg_tensor_zeros (RG_F32, 1, vs);
      u.dgw = rg_tensor_zeros (RG_F32, 1, vs);
      u.dgb = rg_tensor_zeros (RG_F32, 1, vs);

      double c_ms[4];
      conv_forward (&u); /* the conv backward reads s */
      c_ms[0] = best_ms (conv_forward, &u, reps);
      c_ms[1] = best_ms (conv_backward, &u, reps);
      c_ms[2] = best_ms (norm_forward, &u, reps);
      c_ms[3] = best_ms (norm_backward, &u, reps);
      double t_ms[4];
      gboolean have_torch = run_torch (py, s, threads, reps, t_ms);

      static const char *const parts[4] = { "conv fwd", "conv bwd", "norm fwd", "norm bwd" };
      g_autofree char *label = g_strdup_printf ("%s [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                                                ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]",
                                                s->name, s->b, s->c, s->t, s->h);
      g_print ("%s\n", label);
      for (int p = 0; p < 4; p++)
        {
          if (have_torch)
            g_print ("%-22s %-9s %9.2f %9.2f %7.2f\n", "", parts[p], c_ms[p], t_ms[p],
                     t_ms[p] / c_ms[p]);
          else
            g_print ("%-22s %-9s %9.2f %9s %7s\n", "", parts[p], c_ms[p], "-", "-");
        }

      RgTensor *all[] = { u.x, u.ws, u.wt, u.bs, u.bt, u.gw, u.gb, u.dy, u.s, u.y, u.dx,
                          u.ds, u.dws, u.dwt, u.dbs, u.dbt, u.dgw, u.dgb };
      for (gsize k = 0; k < G_N_ELEMENTS (all); k++)
        rg_tensor_unref (all[k]);
    }
  return 0;
}
