/* rg-ops-check.h — private to engine/ops: the argument checks and the
 * dispatch macro shared by the forward (rg-ops.c) and backward
 * (rg-ops-grad.c) entry points. */
#pragma once

#include "ops/rg-op-table.h"

G_BEGIN_DECLS

static inline const char *
rg_ops_backend_name (RgBackend backend)
{
  return backend == RG_BACKEND_CPU ? "CPU" : backend == RG_BACKEND_CUDA ? "CUDA" : "unknown";
}

/* Look up `op` for `backend` and call it, or say loudly that it is missing. */
#define DISPATCH(backend, op, ...)                                                       \
  G_STMT_START                                                                           \
  {                                                                                      \
    const RgOpTable *table_ = rg_op_table_get (backend);                                 \
    if (table_ == NULL || table_->op == NULL)                                            \
      {                                                                                  \
        g_critical ("rg_" #op ": no implementation on the %s backend%s",                 \
                    rg_ops_backend_name (backend), table_ ? "" : " (backend not registered)");  \
        return;                                                                          \
      }                                                                                  \
    table_->op (__VA_ARGS__);                                                            \
  }                                                                                      \
  G_STMT_END

/* A packed f32 tensor. */
static inline gboolean
is_f32 (const RgTensor *t)
{
  return t != NULL && t->dtype == RG_F32 && rg_tensor_is_contiguous (t);
}

/* NULL, or a packed f32 tensor on `backend`. */
static inline gboolean
is_opt_f32_on (const RgTensor *t, RgBackend backend)
{
  return t == NULL || (is_f32 (t) && t->backend == backend);
}

static inline gboolean
is_vec (const RgTensor *t, int64_t n)
{
  return t->ndim == 1 && t->shape[0] == n;
}

/* BLAS (and cuBLAS) take int dimensions and leading dimensions. */
static inline gboolean
fits_int (int64_t n)
{
  return n >= 0 && n <= G_MAXINT;
}

static inline int64_t
last_dim (const RgTensor *t)
{
  return t->ndim > 0 ? t->shape[t->ndim - 1] : 1;
}

/* Same numel and backend, both packed f32: the elementwise contract. */
static inline gboolean
same_elems (const RgTensor *a, const RgTensor *b)
{
  return is_f32 (a) && is_f32 (b) && a->backend == b->backend
         && rg_tensor_numel (a) == rg_tensor_numel (b);
}

/* x [B, N, D] with a per-batch row mod [B, D]. */
static inline gboolean
is_row_mod (const RgTensor *x, const RgTensor *mod)
{
  return is_f32 (mod) && mod->backend == x->backend && mod->ndim == 2
         && mod->shape[0] == x->shape[0] && mod->shape[1] == x->shape[2];
}

static inline int64_t
conv_out (int64_t in, int64_t k, int64_t stride)
{
  return (in + 2 * (k / 2) - k) / stride + 1;
}

/* video [B, C, T, H, W] ↔ tokens [B, T·(H/ph)·(W/pw), C·ph·pw] */
static inline gboolean
patch_shapes_match (const RgTensor *video, const RgTensor *tokens, int ph, int pw)
{
  if (video->ndim != 5 || tokens->ndim != 3 || ph < 1 || pw < 1)
    return FALSE;
  const int64_t *s = video->shape;
  return s[3] % ph == 0 && s[4] % pw == 0 && tokens->shape[0] == s[0]
         && tokens->shape[1] == s[2] * (s[3] / ph) * (s[4] / pw)
         && tokens->shape[2] == s[1] * ph * pw;
}

G_END_DECLS
