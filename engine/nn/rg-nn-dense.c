/* rg-nn-dense.c — linear, SwiGLU and the normalisation layers. */
#include "nn/rg-nn.h"

#include <math.h>
#include <stdarg.h>

#include "core/rg-fast-exp.h"
#include "core/rg-parallel.h"

RgTensor *
rg_nn_new (RgArena *arena, int ndim, ...)
{
  int64_t shape[RG_MAX_DIMS];
  va_list ap;
  g_return_val_if_fail (ndim >= 1 && ndim <= RG_MAX_DIMS, NULL);
  va_start (ap, ndim);
  for (int d = 0; d < ndim; d++)
    shape[d] = va_arg (ap, int64_t);
  va_end (ap);
  return rg_tensor_new_in (arena, RG_F32, ndim, shape);
}

RgTensor *
rg_nn_like_last (RgArena *arena, const RgTensor *x, int64_t last)
{
  int64_t shape[RG_MAX_DIMS];
  for (int d = 0; d < x->ndim; d++)
    shape[d] = x->shape[d];
  shape[x->ndim - 1] = last;
  return rg_tensor_new_in (arena, RG_F32, x->ndim, shape);
}

void
rg_linear_init (RgLinear *l, RgParams *p, const char *prefix, int64_t in, int64_t out,
                gboolean bias)
{
  l->w = rg_params_take2 (p, prefix, "weight", RG_INIT_NORMAL, 1.f / sqrtf ((float) in), out,
                          in);
  l->b = bias ? rg_params_take1 (p, prefix, "bias", RG_INIT_NORMAL, 0.02f, out) : NULL;
}

RgTensor *
rg_linear_forward (const RgLinear *l, RgArena *arena, const RgTensor *x)
{
  RgTensor *y = rg_nn_like_last (arena, x, l->w->shape[0]);
  rg_linear (x, l->w, l->b, y);
  return y;
}

void
rg_swiglu_init (RgSwiGLU *f, RgParams *p, const char *prefix, int64_t dim, int64_t hidden)
{
  g_autofree char *g = g_strconcat (prefix, ".gate", NULL);
  g_autofree char *u = g_strconcat (prefix, ".up", NULL);
  g_autofree char *d = g_strconcat (prefix, ".down", NULL);
  rg_linear_init (&f->gate, p, g, dim, hidden, FALSE);
  rg_linear_init (&f->up, p, u, dim, hidden, FALSE);
  rg_linear_init (&f->down, p, d, hidden, dim, FALSE);
  RgTensor *parts[2] = { f->gate.w, f->up.w };
  f->gate_up = rg_params_pack_rows (p, parts, 2);
  f->gate.w = parts[0];
  f->up.w = parts[1];
}

typedef struct {
  const float *gu; /* [rows, 2·hidden]: gate | up */
  float       *y;  /* [rows, hidden] */
  int64_t      hidden;
} SwigluRows;

static void
swiglu_rows (void *data, int64_t begin, int64_t end)
{
  const SwigluRows *c = data;
  int64_t h = c->hidden;
  const float *gu = c->gu;
  float *out = c->y;
  for (int64_t r = begin; r < end; r++)
    {
      const float *restrict g = gu + r * 2 * h, *restrict u = g + h;
      float *restrict y = out + r * h;
      for (int64_t j = 0; j < h; j++)
        y[j] = g[j] / (1.0f + rg_fast_exp (-g[j])) * u[j];
    }
}

RgTensor *
rg_swiglu_hidden (const RgSwiGLU *f, RgArena *arena, const RgTensor *x, RgTensor **gu_out)
{
  int64_t hidden = f->gate.w->shape[0];
  /* one GEMM for gate and up: the input is packed once, not twice */
  RgTensor *gu = rg_nn_like_last (arena, x, 2 * hidden);
  rg_linear (x, f->gate_up, NULL, gu);
  RgTensor *act = rg_nn_like_last (arena, x, hidden);
  SwigluRows c = { rg_tensor_f32 (gu), rg_tensor_f32 (act), hidden };
  rg_parallel_for (rg_tensor_numel (act) / hidden, MAX ((int64_t) 1, 16384 / hidden),
                   swiglu_rows, &c);
  if (gu_out != NULL)
    *gu_out = gu;
  else
    rg_tensor_unref (gu);
  return act;
}

RgTensor *
rg_swiglu_forward (const RgSwiGLU *f, RgArena *arena, const RgTensor *x)
{
  g_autoptr (RgTensor) act = rg_swiglu_hidden (f, arena, x, NULL);
  return rg_linear_forward (&f->down, arena, act);
}

void
rg_rmsnorm_init (RgRmsNorm *n, RgParams *p, const char *prefix, int64_t dim, gboolean affine,
                 float eps)
{
  n->w = affine ? rg_params_take1 (p, prefix, "weight", RG_INIT_ONES, 0, dim) : NULL;
  n->eps = eps;
}

RgTensor *
rg_rmsnorm_forward (const RgRmsNorm *n, RgArena *arena, const RgTensor *x)
{
  RgTensor *y = rg_nn_like_last (arena, x, x->shape[x->ndim - 1]);
  rg_rmsnorm (x, n->w, n->eps, y);
  return y;
}

void
rg_layernorm_init (RgLayerNorm *n, RgParams *p, const char *prefix, int64_t dim, float eps)
{
  n->w = rg_params_take1 (p, prefix, "weight", RG_INIT_ONES, 0, dim);
  n->b = rg_params_take1 (p, prefix, "bias", RG_INIT_ZEROS, 0, dim);
  n->eps = eps;
}

RgTensor *
rg_layernorm_forward (const RgLayerNorm *n, RgArena *arena, const RgTensor *x)
{
  RgTensor *y = rg_nn_like_last (arena, x, x->shape[x->ndim - 1]);
  rg_layernorm (x, n->w, n->b, n->eps, y);
  return y;
}

void
rg_groupnorm_init (RgGroupNorm *n, RgParams *p, const char *prefix, int64_t channels, int groups,
                   float eps)
{
  n->w = rg_params_take1 (p, prefix, "weight", RG_INIT_ONES, 0, channels);
  n->b = rg_params_take1 (p, prefix, "bias", RG_INIT_ZEROS, 0, channels);
  n->groups = groups;
  n->eps = eps;
}

RgTensor *
rg_groupnorm_forward (const RgGroupNorm *n, RgArena *arena, const RgTensor *x)
{
  RgTensor *y = rg_tensor_new_in (arena, RG_F32, x->ndim, x->shape);
  rg_groupnorm (x, n->groups, n->w, n->b, n->eps, y);
  return y;
}

RgTensor *
rg_groupnorm_silu_forward (const RgGroupNorm *n, RgArena *arena, const RgTensor *x)
{
  RgTensor *y = rg_tensor_new_in (arena, RG_F32, x->ndim, x->shape);
  rg_groupnorm_silu (x, n->groups, n->w, n->b, n->eps, y);
  return y;
}
