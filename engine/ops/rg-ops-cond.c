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

/* ---- backward ---- */

/* dx += dy·(1 + scale[b]) row by row; the [B, D] gradients are sums over
 * the N tokens of each sample, reduced column-parallel per sample. */
static void
modulate_backward_rows (void *data, int64_t begin, int64_t end)
{
  const Mod *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *dy = c->x + r * d, *sc = c->scale + (r / c->n) * d;
      float *dx = c->y + r * d;
      for (int64_t i = 0; i < d; i++)
        dx[i] += dy[i] * (1.0f + sc[i]);
    }
}

void
rg_cpu_modulate_backward (const RgTensor *x, const RgTensor *scale, const RgTensor *dy,
                          RgTensor *dx, RgTensor *dshift, RgTensor *dscale)
{
  int64_t batch = x->shape[0], n = x->shape[1], d = x->shape[2];
  if (n == 0 || d == 0)
    return;
  const float *xp = rg_tensor_f32 (x), *dyp = rg_tensor_f32 (dy);
  if (dx != NULL)
    {
      Mod c = { dyp, NULL, rg_tensor_f32 (scale), NULL, rg_tensor_f32 (dx), n, d };
      rg_parallel_for (batch * n, rg_cpu_row_grain (d), modulate_backward_rows, &c);
    }
  for (int64_t b = 0; b < batch; b++)
    {
      if (dshift != NULL)
        rg_cpu_colsum (n, d, dyp + b * n * d, NULL, NULL, NULL, rg_tensor_f32 (dshift) + b * d);
      if (dscale != NULL)
        rg_cpu_colsum (n, d, dyp + b * n * d, xp + b * n * d, NULL, NULL,
                       rg_tensor_f32 (dscale) + b * d);
    }
}

void
rg_cpu_gate_add_backward (const RgTensor *gate, const RgTensor *h, const RgTensor *dx,
                          RgTensor *dgate, RgTensor *dh)
{
  int64_t batch = dx->shape[0], n = dx->shape[1], d = dx->shape[2];
  if (n == 0 || d == 0)
    return;
  const float *dxp = rg_tensor_f32 (dx);
  /* dh += gate · dx is gate_add's own loop with dh as the target */
  if (dh != NULL)
    {
      Mod c = { NULL, NULL, rg_tensor_f32 (gate), dxp, rg_tensor_f32 (dh), n, d };
      rg_parallel_for (batch * n, rg_cpu_row_grain (d), gate_add_rows, &c);
    }
  if (dgate != NULL)
    for (int64_t b = 0; b < batch; b++)
      rg_cpu_colsum (n, d, dxp + b * n * d, rg_tensor_f32 (h) + b * n * d, NULL, NULL,
                     rg_tensor_f32 (dgate) + b * d);
}
