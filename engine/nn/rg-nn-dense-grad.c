/* rg-nn-dense-grad.c — training passes of linear, the norms and SwiGLU. */
#include "nn/rg-nn-grad.h"

#include <math.h>

#include "core/rg-fast-exp.h"
#include "core/rg-parallel.h"
#include "ops/rg-ops-grad.h"

void
rg_linear_layer_backward (const RgLinear *l, RgGrads *g, const RgTensor *x, const RgTensor *dy,
                          RgTensor *dx)
{
  g_autoptr (RgTensor) dw = rg_grads_of (g, l->w);
  g_autoptr (RgTensor) db = rg_grads_of (g, l->b);
  rg_linear_backward (x, l->w, dy, dx, dw, db);
}

void
rg_rmsnorm_layer_backward (const RgRmsNorm *n, RgGrads *g, const RgTensor *x, const RgTensor *dy,
                           RgTensor *dx)
{
  g_autoptr (RgTensor) dw = rg_grads_of (g, n->w);
  rg_rmsnorm_backward (x, n->w, n->eps, dy, dx, dw);
}

void
rg_layernorm_layer_backward (const RgLayerNorm *n, RgGrads *g, const RgTensor *x,
                             const RgTensor *dy, RgTensor *dx)
{
  g_autoptr (RgTensor) dw = rg_grads_of (g, n->w);
  g_autoptr (RgTensor) db = rg_grads_of (g, n->b);
  rg_layernorm_backward (x, n->w, n->eps, dy, dx, dw, db);
}

typedef struct {
  const float *gu;   /* [rows, 2·hidden]: gate | up */
  const float *dact; /* [rows, hidden] */
  float       *dgu;  /* [rows, 2·hidden] */
  int64_t      hidden;
} SwigluRows;

/* d/dg silu(g)·u = u·σ(g)·(1 + g·(1 − σ(g))), d/du = silu(g); written
 * (not accumulated) into the packed gradient, which is fresh scratch. */
static void
swiglu_rows_backward (void *data, int64_t begin, int64_t end)
{
  const SwigluRows *c = data;
  int64_t h = c->hidden;
  const float *gu = c->gu, *dact = c->dact;
  float *dgu = c->dgu;
  for (int64_t r = begin; r < end; r++)
    {
      const float *restrict g = gu + r * 2 * h, *restrict u = g + h, *restrict dy = dact + r * h;
      float *restrict dg = dgu + r * 2 * h, *restrict du = dg + h;
      for (int64_t j = 0; j < h; j++)
        {
          float s = 1.0f / (1.0f + rg_fast_exp (-g[j]));
          dg[j] = dy[j] * u[j] * s * (1.0f + g[j] * (1.0f - s));
          du[j] = dy[j] * g[j] * s;
        }
    }
}

RgTensor *
rg_swiglu_forward_train (const RgSwiGLU *f, RgArena *arena, const RgTensor *x,
                         RgSwiGLUSaved *saved)
{
  /* the inference pass's own code: the training forward is bit-identical */
  RgTensor *act = rg_swiglu_hidden (f, arena, x, &saved->gu);
  saved->x = rg_tensor_ref ((RgTensor *) x);
  saved->act = act;
  return rg_linear_forward (&f->down, arena, act);
}

void
rg_swiglu_layer_backward (const RgSwiGLU *f, RgGrads *g, RgArena *arena,
                          const RgSwiGLUSaved *saved, const RgTensor *dy, RgTensor *dx)
{
  int64_t hidden = f->gate.w->shape[0];
  g_autoptr (RgTensor) dact = rg_nn_zeros_like (arena, saved->act);
  rg_linear_layer_backward (&f->down, g, saved->act, dy, dact);
  g_autoptr (RgTensor) dgu = rg_tensor_new_in (arena, RG_F32, saved->gu->ndim, saved->gu->shape);
  SwigluRows c = { rg_tensor_f32 (saved->gu), rg_tensor_f32 (dact), rg_tensor_f32 (dgu), hidden };
  rg_parallel_for (rg_tensor_numel (dact) / hidden, MAX ((int64_t) 1, 16384 / hidden),
                   swiglu_rows_backward, &c);
  g_autoptr (RgTensor) dw = rg_grads_of (g, f->gate_up);
  rg_linear_backward (saved->x, f->gate_up, dgu, dx, dw, NULL);
}

void
rg_swiglu_saved_clear (RgSwiGLUSaved *saved)
{
  g_clear_pointer (&saved->x, rg_tensor_unref);
  g_clear_pointer (&saved->gu, rg_tensor_unref);
  g_clear_pointer (&saved->act, rg_tensor_unref);
}
