/* rg-cuda-ops.cuh — private to kernels/: the CUDA op entries, one family
 * per .cu file, and the launch check they share. Ops return void (the op
 * contract), so a failed launch is reported with g_critical naming the op,
 * file and line: loud, never silent. */
#pragma once

#include <cuda_runtime.h>
#include <glib.h>

#include "ops/rg-op-table.h"

#define RG_CUDA_LAUNCH_CHECK(op)                                                            \
  G_STMT_START                                                                              \
  {                                                                                         \
    cudaError_t rg_err_ = cudaGetLastError ();                                              \
    if (rg_err_ != cudaSuccess)                                                             \
      g_critical ("%s: CUDA launch failed at %s:%d: %s", op, __FILE__, __LINE__,            \
                  cudaGetErrorString (rg_err_));                                            \
  }                                                                                         \
  G_STMT_END

/* Blocks for a grid-stride loop over n elements. */
static inline unsigned
rg_cuda_blocks (int64_t n, int threads)
{
  int64_t b = (n + threads - 1) / threads;
  return (unsigned) CLAMP (b, (int64_t) 1, (int64_t) 65535);
}

/* rg-ops-cuda-elementwise.cu */
void rg_cuda_add (const RgTensor *a, const RgTensor *b, RgTensor *y);
void rg_cuda_mul (const RgTensor *a, const RgTensor *b, RgTensor *y);
void rg_cuda_silu (const RgTensor *x, RgTensor *y);
void rg_cuda_swiglu (const RgTensor *gate, const RgTensor *up, RgTensor *y);
void rg_cuda_add_bias (const RgTensor *x, const RgTensor *b, RgTensor *y);

/* rg-ops-cuda-norm.cu */
void rg_cuda_rmsnorm (const RgTensor *x, const RgTensor *w, float eps, RgTensor *y);
void rg_cuda_softmax (const RgTensor *x, RgTensor *y);

/* rg-ops-cuda-linalg.cu */
void rg_cuda_linear (const RgTensor *x, const RgTensor *w, const RgTensor *b, RgTensor *y);
void rg_cuda_matmul (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b,
                     float alpha, float beta, RgTensor *c);
