/* rg-op-table.h — one column of op implementations per backend.
 *
 * rg-ops.c validates arguments and then calls the entry of the table that
 * belongs to the inputs' backend. The CPU table is always present and is the
 * reference for every op; kernels/ registers a CUDA table at start-up when
 * it is built (rg_op_table_register), so callers never change. An entry left
 * NULL means "not on this backend": the call fails loudly with g_critical
 * rather than silently doing nothing.
 *
 * Entries take the same arguments as the public functions in rg-ops.h and
 * may assume they were validated (shapes, dtypes, contiguity, backend). */
#pragma once

#include "ops/rg-ops-grad.h"
#include "ops/rg-ops.h"

G_BEGIN_DECLS

typedef struct {
  const char *name; /* "cpu", "cuda": for messages */

  /* linear algebra */
  void (*linear) (const RgTensor *x, const RgTensor *w, const RgTensor *b, RgTensor *y);
  void (*matmul) (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b,
                  float alpha, float beta, RgTensor *c);

  /* normalisation */
  void (*rmsnorm) (const RgTensor *x, const RgTensor *w, float eps, RgTensor *y);
  void (*layernorm) (const RgTensor *x, const RgTensor *w, const RgTensor *b, float eps,
                     RgTensor *y);
  void (*groupnorm) (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                     float eps, RgTensor *y);
  void (*groupnorm_silu) (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                          float eps, RgTensor *y);
  void (*softmax) (const RgTensor *x, RgTensor *y);

  /* elementwise */
  void (*silu) (const RgTensor *x, RgTensor *y);
  void (*gelu) (const RgTensor *x, RgTensor *y);
  void (*swiglu) (const RgTensor *gate, const RgTensor *up, RgTensor *y);
  void (*add) (const RgTensor *a, const RgTensor *b, RgTensor *y);
  void (*mul) (const RgTensor *a, const RgTensor *b, RgTensor *y);
  void (*axpby) (float alpha, const RgTensor *a, float beta, const RgTensor *b, RgTensor *y);
  void (*scale) (const RgTensor *x, float s, RgTensor *y);
  void (*add_bias) (const RgTensor *x, const RgTensor *b, RgTensor *y);

  /* attention */
  void (*attention) (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                     const RgAttentionParams *params, RgTensor *out);

  /* DiT conditioning */
  void (*modulate) (const RgTensor *x, const RgTensor *shift, const RgTensor *scale,
                    RgTensor *y);
  void (*gate_add) (RgTensor *x, const RgTensor *gate, const RgTensor *h);
  void (*timestep_embedding) (const RgTensor *t, float max_period, RgTensor *y);

  /* video layout */
  void (*conv2d_frames) (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                         RgPadMode pad, RgTensor *y);
  void (*conv1d_time) (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                       RgPadMode pad, RgTensor *y);
  void (*upsample_nearest) (const RgTensor *x, int ft, int fh, int fw, RgTensor *y);
  void (*patchify) (const RgTensor *x, int ph, int pw, RgTensor *y);
  void (*unpatchify) (const RgTensor *x, int ph, int pw, RgTensor *y);
  void (*pos_emb_factorized) (const RgTensor *tt, const RgTensor *th, const RgTensor *tw,
                              RgTensor *y);
  void (*embedding) (const RgTensor *table, const RgTensor *ids, RgTensor *y);

  /* backward passes (rg-ops-grad.h): same arguments as the public calls */
  void (*linear_backward) (const RgTensor *x, const RgTensor *w, const RgTensor *dy,
                           RgTensor *dx, RgTensor *dw, RgTensor *db);
  void (*matmul_backward) (const RgTensor *a, gboolean trans_a, const RgTensor *b,
                           gboolean trans_b, float alpha, const RgTensor *dc, RgTensor *da,
                           RgTensor *db);
  void (*rmsnorm_backward) (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                            RgTensor *dx, RgTensor *dw);
  void (*layernorm_backward) (const RgTensor *x, const RgTensor *w, float eps,
                              const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
  void (*groupnorm_backward) (const RgTensor *x, int groups, const RgTensor *w, float eps,
                              const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
  void (*groupnorm_silu_backward) (const RgTensor *x, int groups, const RgTensor *w,
                                   const RgTensor *b, float eps, const RgTensor *dy,
                                   RgTensor *dx, RgTensor *dw, RgTensor *db);
  void (*softmax_backward) (const RgTensor *y, const RgTensor *dy, RgTensor *dx);
  void (*silu_backward) (const RgTensor *x, const RgTensor *dy, RgTensor *dx);
  void (*gelu_backward) (const RgTensor *x, const RgTensor *dy, RgTensor *dx);
  void (*swiglu_backward) (const RgTensor *gate, const RgTensor *up, const RgTensor *dy,
                           RgTensor *dgate, RgTensor *dup);
  void (*mul_backward) (const RgTensor *a, const RgTensor *b, const RgTensor *dy, RgTensor *da,
                        RgTensor *db);
  /* serves add (1, 1), scale (s, 0) and axpby */
  void (*axpby_backward) (float alpha, float beta, const RgTensor *dy, RgTensor *da,
                          RgTensor *db);
  void (*add_bias_backward) (const RgTensor *dy, RgTensor *dx, RgTensor *db);
  void (*attention_lse) (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                         const RgAttentionParams *params, RgTensor *out, RgTensor *lse);
  void (*attention_backward) (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                              const RgTensor *out, const RgTensor *lse, const RgTensor *dout,
                              const RgAttentionParams *params, RgTensor *dq, RgTensor *dk,
                              RgTensor *dv);
  void (*modulate_backward) (const RgTensor *x, const RgTensor *scale, const RgTensor *dy,
                             RgTensor *dx, RgTensor *dshift, RgTensor *dscale);
  void (*gate_add_backward) (const RgTensor *gate, const RgTensor *h, const RgTensor *dx,
                             RgTensor *dgate, RgTensor *dh);
  void (*conv2d_frames_backward) (const RgTensor *x, const RgTensor *w, int stride,
                                  RgPadMode pad, const RgTensor *dy, RgTensor *dx,
                                  RgTensor *dw, RgTensor *db);
  void (*conv1d_time_backward) (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                                const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
  void (*upsample_nearest_backward) (const RgTensor *dy, int ft, int fh, int fw, RgTensor *dx);
  void (*patchify_backward) (const RgTensor *dy, int ph, int pw, RgTensor *dx);
  void (*unpatchify_backward) (const RgTensor *dy, int ph, int pw, RgTensor *dx);
  void (*pos_emb_factorized_backward) (const RgTensor *dy, RgTensor *dtt, RgTensor *dth,
                                       RgTensor *dtw);
  void (*embedding_backward) (const RgTensor *ids, const RgTensor *dy, RgTensor *dtable);
} RgOpTable;

/* The table for a backend, or NULL when nothing is registered for it. */
const RgOpTable *rg_op_table_get (RgBackend backend);
/* Install (or, with NULL, remove) the table of a non-CPU backend. The table
 * must outlive every op call; call before the first op runs on that backend.
 * The macro passes sizeof (RgOpTable) as the registrant was compiled: a
 * table built against another layout of this struct (a stale kernel object)
 * is refused with a critical that says so, instead of being dispatched
 * through the wrong slots. */
void rg_op_table_register_sized (RgBackend backend, const RgOpTable *table, gsize table_size);
#define rg_op_table_register(backend, table) \
  rg_op_table_register_sized ((backend), (table), sizeof (RgOpTable))
/* The built-in CPU column (rg-ops-cpu.c). */
const RgOpTable *rg_op_table_cpu (void);

G_END_DECLS
