/* rg-ops-elementwise.c — activations and arithmetic over packed floats.
 *
 * One range function per op, each a plain loop the compiler vectorises;
 * the pool splits the flat index range, so any thread count gives
 * bit-identical results. The context's fields are copied to locals before
 * a loop: the engine builds with -fno-strict-aliasing, so a float store
 * could change c->x for all the compiler knows, and a loop reading c->x[i]
 * stays scalar. In-place calls (y aliasing an input) are fine: every element is
 * read before it is written, at the same index. */
#include "ops/rg-ops-cpu.h"

typedef struct {
  const float *a, *b;
  float       *y;
  float        alpha, beta;
  int64_t      d; /* add_bias: row length */
} Flat;

static void
flat_run (const RgTensor *y, RgRangeFunc fn, Flat *c)
{
  c->y = rg_tensor_f32 (y);
  rg_parallel_for (rg_tensor_numel (y), RG_CPU_GRAIN, fn, c);
}

static void
silu_range (void *data, int64_t begin, int64_t end)
{
  const Flat *c = data;
  const float *x = c->a;
  float *y = c->y;
  for (int64_t i = begin; i < end; i++)
    y[i] = x[i] / (1.0f + rg_fast_exp (-x[i]));
}

void
rg_cpu_silu (const RgTensor *x, RgTensor *y)
{
  Flat c = { .a = rg_tensor_f32 (x) };
  flat_run (y, silu_range, &c);
}

/* exact GELU, torch's default (approximate='none'). Written with erfc:
 * 1 + erf(z) = erfc(−z), which keeps its precision for very negative x
 * where 1 + erff(z) cancels to nothing. */
static void
gelu_range (void *data, int64_t begin, int64_t end)
{
  const Flat *c = data;
  const float *x = c->a;
  float *y = c->y;
  for (int64_t i = begin; i < end; i++)
    y[i] = 0.5f * x[i] * erfcf (-x[i] * (float) M_SQRT1_2);
}

void
rg_cpu_gelu (const RgTensor *x, RgTensor *y)
{
  Flat c = { .a = rg_tensor_f32 (x) };
  flat_run (y, gelu_range, &c);
}

static void
swiglu_range (void *data, int64_t begin, int64_t end)
{
  const Flat *c = data;
  const float *g = c->a, *u = c->b;
  float *y = c->y;
  for (int64_t i = begin; i < end; i++)
    y[i] = g[i] / (1.0f + rg_fast_exp (-g[i])) * u[i];
}

void
rg_cpu_swiglu (const RgTensor *gate, const RgTensor *up, RgTensor *y)
{
  Flat c = { .a = rg_tensor_f32 (gate), .b = rg_tensor_f32 (up) };
  flat_run (y, swiglu_range, &c);
}

static void
add_range (void *data, int64_t begin, int64_t end)
{
  const Flat *c = data;
  const float *a = c->a, *b = c->b;
  float *y = c->y;
  for (int64_t i = begin; i < end; i++)
    y[i] = a[i] + b[i];
}

void
rg_cpu_add (const RgTensor *a, const RgTensor *b, RgTensor *y)
{
  Flat c = { .a = rg_tensor_f32 (a), .b = rg_tensor_f32 (b) };
  flat_run (y, add_range, &c);
}

static void
mul_range (void *data, int64_t begin, int64_t end)
{
  const Flat *c = data;
  const float *a = c->a, *b = c->b;
  float *y = c->y;
  for (int64_t i = begin; i < end; i++)
    y[i] = a[i] * b[i];
}

void
rg_cpu_mul (const RgTensor *a, const RgTensor *b, RgTensor *y)
{
  Flat c = { .a = rg_tensor_f32 (a), .b = rg_tensor_f32 (b) };
  flat_run (y, mul_range, &c);
}

static void
axpby_range (void *data, int64_t begin, int64_t end)
{
  const Flat *c = data;
  float alpha = c->alpha, beta = c->beta;
  const float *a = c->a, *b = c->b;
  float *y = c->y;
  for (int64_t i = begin; i < end; i++)
    y[i] = alpha * a[i] + beta * b[i];
}

void
rg_cpu_axpby (float alpha, const RgTensor *a, float beta, const RgTensor *b, RgTensor *y)
{
  Flat c = { .a = rg_tensor_f32 (a), .b = rg_tensor_f32 (b), .alpha = alpha, .beta = beta };
  flat_run (y, axpby_range, &c);
}

static void
scale_range (void *data, int64_t begin, int64_t end)
{
  const Flat *c = data;
  float s = c->alpha;
  const float *a = c->a;
  float *y = c->y;
  for (int64_t i = begin; i < end; i++)
    y[i] = a[i] * s;
}

void
rg_cpu_scale (const RgTensor *x, float s, RgTensor *y)
{
  Flat c = { .a = rg_tensor_f32 (x), .alpha = s };
  flat_run (y, scale_range, &c);
}

static void
add_bias_rows (void *data, int64_t begin, int64_t end)
{
  const Flat *c = data;
  int64_t d = c->d;
  const float *b = c->b;
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->a + r * d;
      float *y = c->y + r * d;
      for (int64_t i = 0; i < d; i++)
        y[i] = x[i] + b[i];
    }
}

void
rg_cpu_add_bias (const RgTensor *x, const RgTensor *b, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  Flat c = { .a = rg_tensor_f32 (x), .b = rg_tensor_f32 (b), .y = rg_tensor_f32 (y), .d = d };
  rg_parallel_for (rg_tensor_numel (x) / d, rg_cpu_row_grain (d), add_bias_rows, &c);
}

/* ---- backward: every gradient accumulates (grad += …), see rg-ops-grad.h ---- */

typedef struct {
  const float *x, *u, *dy;
  float       *dx, *du;
  float        alpha, beta;
} FlatGrad;

/* silu'(x) = s·(1 + x·(1 − s)), s = sigmoid(x) */
static void
silu_backward_range (void *data, int64_t begin, int64_t end)
{
  const FlatGrad *c = data;
  const float *x = c->x, *dy = c->dy;
  float *dx = c->dx;
  for (int64_t i = begin; i < end; i++)
    {
      float s = 1.0f / (1.0f + rg_fast_exp (-x[i]));
      dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

void
rg_cpu_silu_backward (const RgTensor *x, const RgTensor *dy, RgTensor *dx)
{
  FlatGrad c = { .x = rg_tensor_f32 (x), .dy = rg_tensor_f32 (dy), .dx = rg_tensor_f32 (dx) };
  rg_parallel_for (rg_tensor_numel (x), RG_CPU_GRAIN, silu_backward_range, &c);
}

/* gelu'(x) = Φ(x) + x·φ(x) */
static void
gelu_backward_range (void *data, int64_t begin, int64_t end)
{
  const FlatGrad *c = data;
  const float inv_sqrt_2pi = 0.3989422804014327f;
  const float *xs = c->x, *dy = c->dy;
  float *dx = c->dx;
  for (int64_t i = begin; i < end; i++)
    {
      float x = xs[i];
      float cdf = 0.5f * erfcf (-x * (float) M_SQRT1_2);
      float pdf = inv_sqrt_2pi * rg_fast_exp (-0.5f * x * x);
      dx[i] += dy[i] * (cdf + x * pdf);
    }
}

void
rg_cpu_gelu_backward (const RgTensor *x, const RgTensor *dy, RgTensor *dx)
{
  FlatGrad c = { .x = rg_tensor_f32 (x), .dy = rg_tensor_f32 (dy), .dx = rg_tensor_f32 (dx) };
  rg_parallel_for (rg_tensor_numel (x), RG_CPU_GRAIN, gelu_backward_range, &c);
}

static void
swiglu_backward_range (void *data, int64_t begin, int64_t end)
{
  const FlatGrad *c = data;
  const float *x = c->x, *u = c->u, *dy = c->dy;
  float *dx = c->dx, *du = c->du;
  for (int64_t i = begin; i < end; i++)
    {
      float g = x[i], s = 1.0f / (1.0f + rg_fast_exp (-g));
      if (dx != NULL)
        dx[i] += dy[i] * u[i] * s * (1.0f + g * (1.0f - s));
      if (du != NULL)
        du[i] += dy[i] * g * s;
    }
}

void
rg_cpu_swiglu_backward (const RgTensor *gate, const RgTensor *up, const RgTensor *dy,
                        RgTensor *dgate, RgTensor *dup)
{
  FlatGrad c = { .x = rg_tensor_f32 (gate), .u = rg_tensor_f32 (up), .dy = rg_tensor_f32 (dy),
                 .dx = dgate ? rg_tensor_f32 (dgate) : NULL,
                 .du = dup ? rg_tensor_f32 (dup) : NULL };
  rg_parallel_for (rg_tensor_numel (dy), RG_CPU_GRAIN, swiglu_backward_range, &c);
}

static void
mul_backward_range (void *data, int64_t begin, int64_t end)
{
  const FlatGrad *c = data;
  const float *x = c->x, *u = c->u, *dy = c->dy;
  float *dx = c->dx, *du = c->du;
  if (dx != NULL)
    for (int64_t i = begin; i < end; i++)
      dx[i] += dy[i] * u[i];
  if (du != NULL)
    for (int64_t i = begin; i < end; i++)
      du[i] += dy[i] * x[i];
}

void
rg_cpu_mul_backward (const RgTensor *a, const RgTensor *b, const RgTensor *dy, RgTensor *da,
                     RgTensor *db)
{
  FlatGrad c = { .x = rg_tensor_f32 (a), .u = rg_tensor_f32 (b), .dy = rg_tensor_f32 (dy),
                 .dx = da ? rg_tensor_f32 (da) : NULL, .du = db ? rg_tensor_f32 (db) : NULL };
  rg_parallel_for (rg_tensor_numel (dy), RG_CPU_GRAIN, mul_backward_range, &c);
}

static void
axpby_backward_range (void *data, int64_t begin, int64_t end)
{
  const FlatGrad *c = data;
  const float *dy = c->dy;
  float alpha = c->alpha, beta = c->beta;
  float *dx = c->dx, *du = c->du;
  if (dx != NULL)
    for (int64_t i = begin; i < end; i++)
      dx[i] += alpha * dy[i];
  if (du != NULL)
    for (int64_t i = begin; i < end; i++)
      du[i] += beta * dy[i];
}

void
rg_cpu_axpby_backward (float alpha, float beta, const RgTensor *dy, RgTensor *da, RgTensor *db)
{
  FlatGrad c = { .dy = rg_tensor_f32 (dy), .dx = da ? rg_tensor_f32 (da) : NULL,
                 .du = db ? rg_tensor_f32 (db) : NULL, .alpha = alpha, .beta = beta };
  rg_parallel_for (rg_tensor_numel (dy), RG_CPU_GRAIN, axpby_backward_range, &c);
}

void
rg_cpu_add_bias_backward (const RgTensor *dy, RgTensor *dx, RgTensor *db)
{
  int64_t d = dy->shape[dy->ndim - 1];
  if (dx != NULL)
    rg_cpu_axpby_backward (1.0f, 0.0f, dy, dx, NULL);
  if (db != NULL && d > 0)
    rg_cpu_colsum (rg_tensor_numel (dy) / d, d, rg_tensor_f32 (dy), NULL, NULL, NULL,
                   rg_tensor_f32 (db));
}
