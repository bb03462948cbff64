/* rg-ops-elementwise.c — activations and arithmetic over packed floats.
 *
 * One range function per op, each a plain loop the compiler vectorises; the
 * pool splits the flat index range, so any thread count gives bit-identical
 * results. In-place calls (y aliasing an input) are fine: every element is
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
    y[i] = x[i] / (1.0f + rg_cpu_exp (-x[i]));
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
    y[i] = g[i] / (1.0f + rg_cpu_exp (-g[i])) * u[i];
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
  for (int64_t i = begin; i < end; i++)
    c->y[i] = c->a[i] + c->b[i];
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
  for (int64_t i = begin; i < end; i++)
    c->y[i] = c->a[i] * c->b[i];
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
  for (int64_t i = begin; i < end; i++)
    c->y[i] = alpha * c->a[i] + beta * c->b[i];
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
  for (int64_t i = begin; i < end; i++)
    c->y[i] = c->a[i] * s;
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
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->a + r * d;
      float *y = c->y + r * d;
      for (int64_t i = 0; i < d; i++)
        y[i] = x[i] + c->b[i];
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
