/* rg-cfg.c — classifier-free guidance: mixing the conditional and
 * unconditional velocities. */
#include "rg-flow.h"
#include "rg-gen-private.h"

#include <string.h>

void
rg_cfg_combine (const RgTensor *v_cond, const RgTensor *v_uncond, float guidance, RgTensor *out)
{
  g_return_if_fail (rg_gen_same_f32_layout (v_cond, v_uncond)
                    && rg_gen_same_f32_layout (v_cond, out));

  const float *c = rg_tensor_f32 (v_cond), *u = rg_tensor_f32 (v_uncond);
  float *y = rg_tensor_f32 (out);
  int64_t n = rg_tensor_numel (v_cond);
  /* g = 1 is "no guidance": copy so the result is the conditional velocity
   * exactly, not u + (c − u) with its rounding. */
  if (guidance == 1.0f)
    {
      if (y != c)
        memcpy (y, c, (gsize) n * sizeof (float));
      return;
    }
  for (int64_t i = 0; i < n; i++)
    y[i] = u[i] + guidance * (c[i] - u[i]);
}

void
rg_cfg_combine_batched (const RgTensor *v2, float guidance, RgTensor *out)
{
  g_return_if_fail (v2->ndim >= 1 && v2->shape[0] == 2 && out->ndim == v2->ndim
                    && out->shape[0] == 1);

  g_autoptr (RgTensor) cond = rg_tensor_narrow ((RgTensor *) v2, 0, 0, 1);
  g_autoptr (RgTensor) uncond = rg_tensor_narrow ((RgTensor *) v2, 0, 1, 1);
  rg_cfg_combine (cond, uncond, guidance, out);
}
