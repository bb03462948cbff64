/* rg-flow.c — the flow-matching path, its target, noise and training times. */
#include "rg-flow.h"
#include "rg-gen-private.h"

#include <math.h>

#include "core/rg-rng.h"

RgTensor *
rg_flow_noise (uint64_t seed, uint64_t stream, int ndim, const int64_t *shape)
{
  RgTensor *x = rg_tensor_new (RG_F32, ndim, shape);
  g_return_val_if_fail (x != NULL, NULL);
  rg_rng_normal (seed, stream, 0, rg_tensor_f32 (x), rg_tensor_numel (x));
  return x;
}

void
rg_flow_interpolate (const RgTensor *x0, const RgTensor *x1, const float *t, float sigma_min,
                     RgTensor *xt)
{
  g_return_if_fail (rg_gen_same_f32_layout (x0, x1) && rg_gen_same_f32_layout (x0, xt));
  g_return_if_fail (x0->ndim >= 1 && t != NULL);

  const float *a = rg_tensor_f32 (x0), *b = rg_tensor_f32 (x1);
  float *y = rg_tensor_f32 (xt);
  int64_t per_item = x0->shape[0] ? rg_tensor_numel (x0) / x0->shape[0] : 0;
  for (int64_t n = 0; n < x0->shape[0]; n++)
    {
      float tn = t[n], keep = 1.0f - (1.0f - sigma_min) * tn;
      for (int64_t i = n * per_item; i < (n + 1) * per_item; i++)
        y[i] = tn * b[i] + keep * a[i];
    }
}

void
rg_flow_target (const RgTensor *x0, const RgTensor *x1, float sigma_min, RgTensor *v)
{
  g_return_if_fail (rg_gen_same_f32_layout (x0, x1) && rg_gen_same_f32_layout (x0, v));

  const float *a = rg_tensor_f32 (x0), *b = rg_tensor_f32 (x1);
  float *y = rg_tensor_f32 (v);
  float c = 1.0f - sigma_min;
  for (int64_t i = 0, n = rg_tensor_numel (x0); i < n; i++)
    y[i] = b[i] - c * a[i];
}

double
rg_flow_loss (const RgTensor *v, const RgTensor *target, double motion_weight,
              const float *cell_weight, RgTensor *dv)
{
  g_return_val_if_fail (v->ndim == 5 && rg_gen_same_f32_layout (v, target)
                          && rg_gen_same_f32_layout (v, dv) && motion_weight >= 0.0, NAN);

  const float *vp = rg_tensor_f32 (v), *tp = rg_tensor_f32 (target);
  float *dp = rg_tensor_f32 (dv);
  int64_t n = rg_tensor_numel (v), channels = v->shape[1], frames = v->shape[2];
  int64_t hw = v->shape[3] * v->shape[4], planes = v->shape[0] * channels;
  /* the weight of element i: its item's cell, whatever the channel and frame */
#define WEIGHT(i) (cell_weight ? cell_weight[(i) / (channels * frames * hw) * hw + (i) % hw] : 1.0f)
  double sum = 0.0;
  for (int64_t i = 0; i < n; i++)
    {
      float r = vp[i] - tp[i], w = WEIGHT (i);
      sum += (double) w * r * r;
      dp[i] = 2.0f * w * r / (float) n;
    }
  double loss = sum / (double) n;
  if (motion_weight == 0.0 || frames < 2)
    return loss;

  /* the gradient of Σ_f (r_f − r̄)² in r_f is 2 (r_f − r̄): the terms
   * through r̄ sum to zero (and a weight constant over f keeps that so) */
  float g = (float) (2.0 * motion_weight / (double) n);
  double msum = 0.0;
  for (int64_t p = 0; p < planes; p++)
    for (int64_t i = 0; i < hw; i++)
      {
        int64_t at = p * frames * hw + i;
        float mean = 0.0f, w = WEIGHT (at);
        for (int64_t f = 0; f < frames; f++)
          mean += vp[at + f * hw] - tp[at + f * hw];
        mean /= (float) frames;
        for (int64_t f = 0; f < frames; f++)
          {
            float d = vp[at + f * hw] - tp[at + f * hw] - mean;
            msum += (double) w * d * d;
            dp[at + f * hw] += g * w * d;
          }
      }
#undef WEIGHT
  return loss + motion_weight * msum / (double) n;
}

void
rg_flow_sample_t_logit_normal (uint64_t seed, uint64_t stream, uint64_t offset, float mean,
                               float std, float *t, int64_t n)
{
  g_return_if_fail (n >= 0 && (t != NULL || n == 0) && std >= 0.0f);

  rg_rng_normal (seed, stream, offset, t, n);
  for (int64_t i = 0; i < n; i++)
    t[i] = (float) (1.0 / (1.0 + exp (-((double) mean + (double) std * t[i]))));
}
