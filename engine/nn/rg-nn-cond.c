/* rg-nn-cond.c — flow-time embedding and adaLN parameter split. */
#include "nn/rg-nn.h"

#include <string.h>

void
rg_time_embed_init (RgTimeEmbed *e, RgParams *p, const char *prefix, int freq_dim, int64_t dim)
{
  g_autofree char *n1 = g_strconcat (prefix, ".fc1", NULL);
  g_autofree char *n2 = g_strconcat (prefix, ".fc2", NULL);
  e->freq_dim = freq_dim;
  rg_linear_init (&e->fc1, p, n1, freq_dim, dim, TRUE);
  rg_linear_init (&e->fc2, p, n2, dim, dim, TRUE);
}

RgTensor *
rg_time_embed_forward (const RgTimeEmbed *e, RgArena *arena, const RgTensor *t)
{
  int64_t b = t->shape[0];
  /* flow time lives in [0, 1]; the sinusoids are tuned for 0..1000 */
  g_autoptr (RgTensor) ts = rg_nn_new (arena, 1, b);
  rg_scale (t, 1000.f, ts);
  g_autoptr (RgTensor) freq = rg_nn_new (arena, 2, b, (int64_t) e->freq_dim);
  rg_timestep_embedding (ts, 10000.f, freq);
  g_autoptr (RgTensor) h = rg_linear_forward (&e->fc1, arena, freq);
  rg_silu (h, h);
  return rg_linear_forward (&e->fc2, arena, h);
}

void
rg_adaln_split (RgArena *arena, const RgTensor *mod, const RgTensor *table, int n,
                RgTensor **out)
{
  int64_t b = mod->shape[0], d = mod->shape[1] / n;
  const float *m = rg_tensor_f32 (mod);
  const float *tab = table ? rg_tensor_f32 (table) : NULL;
  for (int k = 0; k < n; k++)
    {
      out[k] = rg_nn_new (arena, 2, b, d);
      float *o = rg_tensor_f32 (out[k]);
      for (int64_t i = 0; i < b; i++)
        for (int64_t j = 0; j < d; j++)
          o[i * d + j] = m[i * n * d + k * d + j] + (tab ? tab[k * d + j] : 0.f);
    }
}
