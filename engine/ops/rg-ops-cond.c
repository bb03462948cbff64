/* rg-ops-cond.c — DiT conditioning: adaLN modulate and gate, and the
 * sinusoidal embedding of the flow time. */
#include "ops/rg-ops-cpu.h"

/* x, y [B, N, D]; shift/scale/gate [B, D]: one row of x per index. */
typedef struct {
  const float *x, *shift, *scale, *h;
  float       *y;
  int64_t      n, d;
} Mod;

static void
modulate_rows (void *data, int64_t begin, int64_t end)
{
  const Mod *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      int64_t b = r / c->n;
      const float *x = c->x + r * d, *sh = c->shift + b * d, *sc = c->scale + b * d;
      float *y = c->y + r * d;
      for (int64_t i = 0; i < d; i++)
        y[i] = x[i] * (1.0f + sc[i]) + sh[i];
    }
}

void
rg_cpu_modulate (const RgTensor *x, const RgTensor *shift, const RgTensor *scale, RgTensor *y)
{
  Mod c = { rg_tensor_f32 (x), rg_tensor_f32 (shift), rg_tensor_f32 (scale), NULL,
            rg_tensor_f32 (y), x->shape[1], x->shape[2] };
  if (c.n == 0 || c.d == 0)
    return;
  rg_parallel_for (x->shape[0] * c.n, rg_cpu_row_grain (c.d), modulate_rows, &c);
}

static void
gate_add_rows (void *data, int64_t begin, int64_t end)
{
  const Mod *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *g = c->scale + (r / c->n) * d, *h = c->h + r * d;
      float *x = c->y + r * d;
      for (int64_t i = 0; i < d; i++)
        x[i] += g[i] * h[i];
    }
}

void
rg_cpu_gate_add (RgTensor *x, const RgTensor *gate, const RgTensor *h)
{
  Mod c = { NULL, NULL, rg_tensor_f32 (gate), rg_tensor_f32 (h), rg_tensor_f32 (x), x->shape[1],
            x->shape[2] };
  if (c.n == 0 || c.d == 0)
    return;
  rg_parallel_for (x->shape[0] * c.n, rg_cpu_row_grain (c.d), gate_add_rows, &c);
}

/* Angles are formed and evaluated in double so every entry is the exact
 * value rounded once to float: t reaches 1000, where a float product t·f
 * is already off by ~1e-4 rad. B·D is tiny, so the cost does not matter. */
void
rg_cpu_timestep_embedding (const RgTensor *t, float max_period, RgTensor *y)
{
  int64_t batch = y->shape[0], half = y->shape[1] / 2;
  const float *tp = rg_tensor_f32 (t);
  float *yp = rg_tensor_f32 (y);
  double log_period = log ((double) max_period);
  for (int64_t b = 0; b < batch; b++)
    for (int64_t i = 0; i < half; i++)
      {
        double f = exp (-log_period * (double) i / (double) half);
        double a = (double) tp[b] * f;
        yp[b * 2 * half + i] = (float) cos (a);
        yp[b * 2 * half + half + i] = (float) sin (a);
      }
}
