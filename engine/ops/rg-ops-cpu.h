/* rg-ops-cpu.h — private to engine/ops: the CPU column, one family per file,
 * and the small inline kernels those files share.
 *
 * The kernels are plain loops over contiguous floats with several
 * independent accumulators, so the compiler can vectorise them without
 * -ffast-math (a single running sum is a serial dependency it must keep).
 * Every reduction runs inside one thread over one row, in a fixed order, so
 * results do not depend on the thread count. */
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/rg-fast-exp.h"
#include "core/rg-parallel.h"
#include "ops/rg-op-table.h"

G_BEGIN_DECLS

/* rg-ops-linalg.c */
void rg_cpu_linear (const RgTensor *x, const RgTensor *w, const RgTensor *b, RgTensor *y);
void rg_cpu_matmul (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b,
                    float alpha, float beta, RgTensor *c);

/* rg-ops-norm.c */
void rg_cpu_rmsnorm (const RgTensor *x, const RgTensor *w, float eps, RgTensor *y);
void rg_cpu_layernorm (const RgTensor *x, const RgTensor *w, const RgTensor *b, float eps,
                       RgTensor *y);
void rg_cpu_groupnorm (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                       float eps, RgTensor *y);
void rg_cpu_groupnorm_silu (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                            float eps, RgTensor *y);
void rg_cpu_softmax (const RgTensor *x, RgTensor *y);

/* rg-ops-elementwise.c */
void rg_cpu_silu (const RgTensor *x, RgTensor *y);
void rg_cpu_gelu (const RgTensor *x, RgTensor *y);
void rg_cpu_swiglu (const RgTensor *gate, const RgTensor *up, RgTensor *y);
void rg_cpu_add (const RgTensor *a, const RgTensor *b, RgTensor *y);
void rg_cpu_mul (const RgTensor *a, const RgTensor *b, RgTensor *y);
void rg_cpu_axpby (float alpha, const RgTensor *a, float beta, const RgTensor *b, RgTensor *y);
void rg_cpu_scale (const RgTensor *x, float s, RgTensor *y);
void rg_cpu_add_bias (const RgTensor *x, const RgTensor *b, RgTensor *y);

/* rg-ops-attention.c */
void rg_cpu_attention (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                       const RgAttentionParams *params, RgTensor *out);

/* rg-ops-cond.c */
void rg_cpu_modulate (const RgTensor *x, const RgTensor *shift, const RgTensor *scale,
                      RgTensor *y);
void rg_cpu_gate_add (RgTensor *x, const RgTensor *gate, const RgTensor *h);
void rg_cpu_timestep_embedding (const RgTensor *t, float max_period, RgTensor *y);

/* rg-ops-conv.c */
void rg_cpu_conv2d_frames (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                           RgPadMode pad, RgTensor *y);
void rg_cpu_conv1d_time (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                         RgPadMode pad, RgTensor *y);

/* rg-ops-video.c */
void rg_cpu_upsample_nearest (const RgTensor *x, int ft, int fh, int fw, RgTensor *y);
void rg_cpu_patchify (const RgTensor *x, int ph, int pw, RgTensor *y);
void rg_cpu_unpatchify (const RgTensor *x, int ph, int pw, RgTensor *y);

/* rg-ops-embed.c */
void rg_cpu_pos_emb_factorized (const RgTensor *tt, const RgTensor *th, const RgTensor *tw,
                                RgTensor *y);
void rg_cpu_embedding (const RgTensor *table, const RgTensor *ids, RgTensor *y);

/* backward passes, each beside its forward in the family's file */
void rg_cpu_linear_backward (const RgTensor *x, const RgTensor *w, const RgTensor *dy, RgTensor *dx,
                             RgTensor *dw, RgTensor *db);
void rg_cpu_matmul_backward (const RgTensor *a, gboolean trans_a, const RgTensor *b,
                             gboolean trans_b, float alpha, const RgTensor *dc, RgTensor *da,
                             RgTensor *db);
void rg_cpu_rmsnorm_backward (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                              RgTensor *dx, RgTensor *dw);
void rg_cpu_layernorm_backward (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                                RgTensor *dx, RgTensor *dw, RgTensor *db);
void rg_cpu_groupnorm_backward (const RgTensor *x, int groups, const RgTensor *w, float eps,
                                const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
void rg_cpu_groupnorm_silu_backward (const RgTensor *x, int groups, const RgTensor *w,
                                     const RgTensor *b, float eps, const RgTensor *dy,
                                     RgTensor *dx, RgTensor *dw, RgTensor *db);
void rg_cpu_softmax_backward (const RgTensor *y, const RgTensor *dy, RgTensor *dx);
void rg_cpu_silu_backward (const RgTensor *x, const RgTensor *dy, RgTensor *dx);
void rg_cpu_gelu_backward (const RgTensor *x, const RgTensor *dy, RgTensor *dx);
void rg_cpu_swiglu_backward (const RgTensor *gate, const RgTensor *up, const RgTensor *dy,
                             RgTensor *dgate, RgTensor *dup);
void rg_cpu_mul_backward (const RgTensor *a, const RgTensor *b, const RgTensor *dy, RgTensor *da,
                          RgTensor *db);
void rg_cpu_axpby_backward (float alpha, float beta, const RgTensor *dy, RgTensor *da,
                            RgTensor *db);
void rg_cpu_add_bias_backward (const RgTensor *dy, RgTensor *dx, RgTensor *db);
void rg_cpu_attention_lse (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                           const RgAttentionParams *params, RgTensor *out, RgTensor *lse);
void rg_cpu_attention_backward (const RgTensor *q, const RgTensor *k, const RgTensor *v,
                                const RgTensor *out, const RgTensor *lse, const RgTensor *dout,
                                const RgAttentionParams *params, RgTensor *dq, RgTensor *dk,
                                RgTensor *dv);
void rg_cpu_modulate_backward (const RgTensor *x, const RgTensor *scale, const RgTensor *dy,
                               RgTensor *dx, RgTensor *dshift, RgTensor *dscale);
void rg_cpu_gate_add_backward (const RgTensor *gate, const RgTensor *h, const RgTensor *dx,
                               RgTensor *dgate, RgTensor *dh);
void rg_cpu_conv2d_frames_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                                    const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
void rg_cpu_conv1d_time_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                                  const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db);
void rg_cpu_upsample_nearest_backward (const RgTensor *dy, int ft, int fh, int fw, RgTensor *dx);
void rg_cpu_patchify_backward (const RgTensor *dy, int ph, int pw, RgTensor *dx);
void rg_cpu_unpatchify_backward (const RgTensor *dy, int ph, int pw, RgTensor *dx);
void rg_cpu_pos_emb_factorized_backward (const RgTensor *dy, RgTensor *dtt, RgTensor *dth,
                                         RgTensor *dtw);
void rg_cpu_embedding_backward (const RgTensor *ids, const RgTensor *dy, RgTensor *dtable);

/* rg-ops-reduce.c: acc[d] += Σ_r a[r, d] · ((b[r, d] − mu[r]) · rs[r]) over
 * packed [rows, cols] arrays, rows in order, column-parallel (thread-count
 * independent). b NULL: plain column sums; mu NULL: 0; rs NULL: 1. */
void rg_cpu_colsum (int64_t rows, int64_t cols, const float *a, const float *b, const float *mu,
                    const float *rs, float *acc);

/* ---- shared kernels ---- */

/* For a compute-bound loop that is not a GEMM (GroupNorm → SiLU's exp and
 * division): compiled twice, for AVX2 and for the baseline x86-64 the
 * distribution builds for (SSE2), and the AVX2 copy picked at load time
 * where the CPU has it (GCC's target_clones, an ifunc). FMA stays off in
 * the AVX2 copy on purpose, since contracting a·b + c would change the last
 * bits from machine to machine; every loop's summation order is fixed by
 * its code, not by the vector width, so both copies give the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RG_CPU_CLONES __attribute__ ((target_clones ("avx2", "default")))
#else
#define RG_CPU_CLONES
#endif

/* Elements per parallel_for range for cheap elementwise work: small enough
 * to spread a 1 MB tensor over the pool, large enough to amortise a wake-up. */
#define RG_CPU_GRAIN 16384

/* Rows per range so that a range holds about RG_CPU_GRAIN elements. */
static inline int64_t
rg_cpu_row_grain (int64_t row_len)
{
  return MAX ((int64_t) 1, RG_CPU_GRAIN / MAX (row_len, (int64_t) 1));
}

/* Σ x[i]² with 16 partial sums (vectorisable, order fixed by n). */
static inline float
rg_cpu_sum_sq (const float *x, int64_t n)
{
  float acc[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++)
      acc[j] += x[i + j] * x[i + j];
  float s = 0.0f;
  for (; i < n; i++)
    s += x[i] * x[i];
  for (int j = 0; j < 16; j++)
    s += acc[j];
  return s;
}

static inline float
rg_cpu_sum (const float *x, int64_t n)
{
  float acc[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++)
      acc[j] += x[i + j];
  float s = 0.0f;
  for (; i < n; i++)
    s += x[i];
  for (int j = 0; j < 16; j++)
    s += acc[j];
  return s;
}

static inline float
rg_cpu_max (const float *x, int64_t n)
{
  float acc[16];
  for (int j = 0; j < 16; j++)
    acc[j] = -INFINITY;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++)
      acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
  float m = -INFINITY;
  for (; i < n; i++)
    m = x[i] > m ? x[i] : m;
  for (int j = 0; j < 16; j++)
    m = acc[j] > m ? acc[j] : m;
  return m;
}

G_END_DECLS
