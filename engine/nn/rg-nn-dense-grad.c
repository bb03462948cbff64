/* rg-nn-dense-grad.c — training passes of linear, the norms and SwiGLU. */
#include "nn/rg-nn-grad.h"

#include <math.h>

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

/* A tensor shaped like x with the last dim replaced. */
static RgTensor *
like_last (RgArena *arena, const RgTensor *x, int64_t last)
{
  int64_t shape[RG_MAX_DIMS];
  for (int d = 0; d < x->ndim; d++)
    shape[d] = x->shape[d];
  shape[x->ndim - 1] = last;
  return rg_tensor_new_in (arena, RG_F32, x->ndim, shape);
}

typedef struct {
  const float *gu;   /* [rows, 2·hidden]: gate | up */
  const float *dact; /* backward: [rows, hidden] */
  float       *out;  /* forward: act [rows, hidden]; backward: dgu [rows, 2·hidden] */
  int64_t      hidden;
} SwigluRows;

/* The same expression as rg_swiglu_forward's row loop, so the training
 * forward is bit-identical to inference. */
static void
swiglu_rows (void *data, int64_t begin, int64_t end)
{
  const SwigluRows *c = data;
  int64_t h = c->hidden;
  for (int64_t r = begin; r < end; r++)
    {
      const float *g = c->gu + r * 2 * h, *u = g + h;
      float *y = c->out + r * h;
      for (int64_t j = 0; j < h; j++)
        y[j] = g[j] / (1.0f + expf (-g[j])) * u[j];
    }
}

/* d/dg silu(g)·u = u·σ(g)·(1 + g·(1 − σ(g))), d/du = silu(g); written
 * (not accumulated) into the packed gradient, which is fresh scratch. */
static void
swiglu_rows_backward (void *data, int64_t begin, int64_t end)
{
  const SwigluRows *c = data;
  int64_t h = c->hidden;
  for (int64_t r = begin; r < end; r++)
    {
      const float *g = c->gu + r * 2 * h, *u = g + h, *dy = c->dact + r * h;
      float *dg = c->out + r * 2 * h, *du = dg + h;
      for (int64_t j = 0; j < h; j++)
        {
          float s = 1.0f / (1.0f + expf (-g[j]));
          dg[j] = dy[j] * u[j] * s * (1.0f + g[j] * (1.0f - s));
          du[j] = dy[j] * g[j] * s;
        }
    }
}

RgTensor *
rg_swiglu_forward_train (const RgSwiGLU *f, RgArena *arena, const RgTensor *x,
                         RgSwiGLUSaved *saved)
{
  int64_t hidden = f->gate.w->shape[0];
  RgTensor *gu = like_last (arena, x, 2 * hidden);
  rg_linear (x, f->gate_up, NULL, gu);
  RgTensor *act = like_last (arena, x, hidden);
  SwigluRows c = { rg_tensor_f32 (gu), NULL, rg_tensor_f32 (act), hidden };
  rg_parallel_for (rg_tensor_numel (act) / hidden, MAX ((int64_t) 1, 16384 / hidden),
                   swiglu_rows, &c);
  saved->x = rg_tensor_ref ((RgTensor *) x);
  saved->gu = gu;
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
