/* rg-embed-optim.c — SGD and row-wise Adagrad on one embedding row. */
#include "rg-embed-optim.h"

#include <math.h>

const char *
rg_embed_optim_name (RgEmbedOptimKind kind)
{
  return kind == RG_EMBED_OPTIM_ADAGRAD ? "adagrad" : "sgd";
}

gboolean
rg_embed_optim_from_name (const char *name, RgEmbedOptimKind *out)
{
  if (g_ascii_strcasecmp (name, "sgd") == 0)
    *out = RG_EMBED_OPTIM_SGD;
  else if (g_ascii_strcasecmp (name, "adagrad") == 0)
    *out = RG_EMBED_OPTIM_ADAGRAD;
  else
    return FALSE;
  return TRUE;
}

int
rg_embed_optim_state_floats (RgEmbedOptimKind kind)
{
  return kind == RG_EMBED_OPTIM_ADAGRAD ? 1 : 0;
}

void
rg_embed_optim_step_row (const RgEmbedOptim *optim, RgDType dtype, int dim, void *weights,
                         float *state, const float *grad)
{
  float step = optim->lr;
  if (optim->kind == RG_EMBED_OPTIM_ADAGRAD)
    {
      double sq = 0.0;
      for (int i = 0; i < dim; i++)
        sq += (double)grad[i] * grad[i];
      state[0] += (float)(sq / dim);
      step = optim->lr / (sqrtf (state[0]) + optim->eps);
    }
  if (dtype == RG_BF16)
    {
      uint16_t *w = weights;
      for (int i = 0; i < dim; i++)
        w[i] = rg_f32_to_bf16 (rg_bf16_to_f32 (w[i]) - step * grad[i]);
    }
  else
    {
      float *w = weights;
      for (int i = 0; i < dim; i++)
        w[i] -= step * grad[i];
    }
}
