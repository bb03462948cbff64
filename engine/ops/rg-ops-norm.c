/* rg-ops-norm.c — RMSNorm, LayerNorm, GroupNorm and softmax on the CPU.
 *
 * Each normalised unit (a row, or a group of one sample) is done by one
 * thread in a fixed order, so results do not depend on the thread count.
 * Statistics are two-pass (mean first, then squared deviations): one-pass
 * E[x²] − E[x]² loses everything when the mean is large. */
#include "ops/rg-ops-cpu.h"

typedef struct {
  const float *x, *w, *b;
  float       *y;
  int64_t      d;
  float        eps;
} RowNorm;

static void
rmsnorm_rows (void *data, int64_t begin, int64_t end)
{
  const RowNorm *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->x + r * d;
      float *y = c->y + r * d;
      float inv = 1.0f / sqrtf (rg_cpu_sum_sq (x, d) / (float) d + c->eps);
      if (c->w != NULL)
        for (int64_t i = 0; i < d; i++)
          y[i] = x[i] * inv * c->w[i];
      else
        for (int64_t i = 0; i < d; i++)
          y[i] = x[i] * inv;
    }
}

void
rg_cpu_rmsnorm (const RgTensor *x, const RgTensor *w, float eps, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  RowNorm c = { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL, NULL, rg_tensor_f32 (y), d, eps };
  rg_parallel_for (rg_tensor_numel (x) / d, rg_cpu_row_grain (d), rmsnorm_rows, &c);
}

/* Mean and 1/std of n floats, two-pass. */
static void
mean_inv_std (const float *x, int64_t n, float eps, float *mean, float *inv_std)
{
  float m = rg_cpu_sum (x, n) / (float) n;
  float acc[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++)
      acc[j] += (x[i + j] - m) * (x[i + j] - m);
  float v = 0.0f;
  for (; i < n; i++)
    v += (x[i] - m) * (x[i] - m);
  for (int j = 0; j < 16; j++)
    v += acc[j];
  *mean = m;
  *inv_std = 1.0f / sqrtf (v / (float) n + eps);
}

static void
layernorm_rows (void *data, int64_t begin, int64_t end)
{
  const RowNorm *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->x + r * d;
      float *y = c->y + r * d;
      float mean, inv;
      mean_inv_std (x, d, c->eps, &mean, &inv);
      for (int64_t i = 0; i < d; i++)
        y[i] = (x[i] - mean) * inv;
      if (c->w != NULL)
        for (int64_t i = 0; i < d; i++)
          y[i] *= c->w[i];
      if (c->b != NULL)
        for (int64_t i = 0; i < d; i++)
          y[i] += c->b[i];
    }
}

void
rg_cpu_layernorm (const RgTensor *x, const RgTensor *w, const RgTensor *b, float eps, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  RowNorm c = { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL, b ? rg_tensor_f32 (b) : NULL,
                rg_tensor_f32 (y), d, eps };
  rg_parallel_for (rg_tensor_numel (x) / d, rg_cpu_row_grain (d), layernorm_rows, &c);
}

typedef struct {
  const float *x, *w, *b;
  float       *y;
  int64_t      channels, group_channels, spatial;
  int          groups;
  float        eps;
} GroupNorm;

/* One (sample, group) per index: its channels are contiguous in memory.
 * Groups can hold a whole video's worth of values, so the statistics are
 * accumulated in double to keep float rounding out of the mean. */
static void
groupnorm_units (void *data, int64_t begin, int64_t end)
{
  const GroupNorm *c = data;
  int64_t n = c->group_channels * c->spatial;
  for (int64_t u = begin; u < end; u++)
    {
      const float *x = c->x + u * n;
      float *y = c->y + u * n;
      double acc[8] = { 0 }, sum = 0.0;
      int64_t i = 0;
      for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
          acc[j] += x[i + j];
      for (; i < n; i++)
        sum += x[i];
      for (int j = 0; j < 8; j++)
        sum += acc[j];
      double mean = sum / (double) n, var = 0.0;
      for (int j = 0; j < 8; j++)
        acc[j] = 0.0;
      for (i = 0; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
          acc[j] += (x[i + j] - mean) * (x[i + j] - mean);
      for (; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
      for (int j = 0; j < 8; j++)
        var += acc[j];
      float inv = (float) (1.0 / sqrt (var / (double) n + c->eps));
      float fmean = (float) mean;
      int64_t c0 = (u % c->groups) * c->group_channels;
      for (int64_t ch = 0; ch < c->group_channels; ch++)
        {
          float wv = c->w ? c->w[c0 + ch] : 1.0f, bv = c->b ? c->b[c0 + ch] : 0.0f;
          float a = inv * wv, off = bv - fmean * a;
          const float *xs = x + ch * c->spatial;
          float *ys = y + ch * c->spatial;
          for (int64_t s = 0; s < c->spatial; s++)
            ys[s] = xs[s] * a + off;
        }
    }
}

void
rg_cpu_groupnorm (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b, float eps,
                  RgTensor *y)
{
  int64_t batch = x->shape[0], channels = x->shape[1];
  int64_t spatial = channels ? rg_tensor_numel (x) / (batch * channels) : 0;
  if (batch == 0 || channels == 0 || spatial == 0)
    return;
  GroupNorm c = { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL, b ? rg_tensor_f32 (b) : NULL,
                  rg_tensor_f32 (y), channels, channels / groups, spatial, groups, eps };
  rg_parallel_for (batch * groups, rg_cpu_row_grain (c.group_channels * spatial),
                   groupnorm_units, &c);
}

typedef struct {
  const float *x;
  float       *y;
  int64_t      d;
} Rows;

static void
softmax_rows (void *data, int64_t begin, int64_t end)
{
  const Rows *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->x + r * d;
      float *y = c->y + r * d;
      float m = rg_cpu_max (x, d);
      for (int64_t i = 0; i < d; i++)
        y[i] = rg_cpu_exp (x[i] - m);
      float inv = 1.0f / rg_cpu_sum (y, d);
      for (int64_t i = 0; i < d; i++)
        y[i] *= inv;
    }
}

void
rg_cpu_softmax (const RgTensor *x, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  Rows c = { rg_tensor_f32 (x), rg_tensor_f32 (y), d };
  rg_parallel_for (rg_tensor_numel (x) / d, rg_cpu_row_grain (d), softmax_rows, &c);
}
