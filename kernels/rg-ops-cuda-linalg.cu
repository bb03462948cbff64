/* rg-ops-cuda-linalg.cu — linear and matmul through cuBLAS (FP32 math; no
 * TF32, so results match the CPU column to float rounding).
 *
 * cuBLAS is column-major: a row-major [M, N] matrix is its [N, M]
 * transpose, so row-major C = op(A)·op(B) is computed as column-major
 * Cᵀ = op(B)ᵀ·op(A)ᵀ, i.e. the operands swap places and keep their flags. */
#include <cublas_v2.h>

#include "rg-cuda-ops.cuh"

static cublasHandle_t
handle_get (void)
{
  static gsize once = 0;
  static cublasHandle_t handle;
  if (g_once_init_enter (&once))
    {
      if (cublasCreate (&handle) != CUBLAS_STATUS_SUCCESS)
        g_critical ("cuBLAS: cannot create a handle");
      else
        cublasSetMathMode (handle, CUBLAS_PEDANTIC_MATH);
      g_once_init_leave (&once, 1);
    }
  return handle;
}

__global__ static void
bias_rows_kernel (const float *b, float *y, int64_t n, int64_t d)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    y[i] = b[i % d];
}

static void
check_status (cublasStatus_t status, const char *op)
{
  if (status != CUBLAS_STATUS_SUCCESS)
    g_critical ("%s: cuBLAS sgemm failed (status %d)", op, (int) status);
}

void
rg_cuda_linear (const RgTensor *x, const RgTensor *w, const RgTensor *b, RgTensor *y)
{
  int64_t n_in = w->shape[1], n_out = w->shape[0];
  int64_t rows = n_out ? rg_tensor_numel (y) / n_out : 0;
  float alpha = 1.0f, beta = 0.0f;
  if (rows == 0 || n_out == 0)
    return;
  if (b != NULL)
    {
      int64_t n = rows * n_out;
      bias_rows_kernel<<<rg_cuda_blocks (n, 256), 256>>> (rg_tensor_f32 (b), rg_tensor_f32 (y), n,
                                                          n_out);
      RG_CUDA_LAUNCH_CHECK ("rg_linear");
      beta = 1.0f;
    }
  else if (n_in == 0)
    {
      cudaMemset (y->data, 0, rg_tensor_nbytes (y));
      return;
    }
  if (n_in == 0)
    return;
  /* yᵀ[out, rows] = w[out, in] · xᵀ[in, rows], in column-major terms */
  check_status (cublasSgemm (handle_get (), CUBLAS_OP_T, CUBLAS_OP_N, (int) n_out, (int) rows,
                             (int) n_in, &alpha, rg_tensor_f32 (w), (int) n_in, rg_tensor_f32 (x),
                             (int) n_in, &beta, rg_tensor_f32 (y), (int) n_out),
                "rg_linear");
}

void
rg_cuda_matmul (const RgTensor *a, gboolean trans_a, const RgTensor *b, gboolean trans_b,
                float alpha, float beta, RgTensor *c)
{
  int64_t m = c->shape[0], n = c->shape[1];
  int64_t k = trans_a ? a->shape[0] : a->shape[1];
  if (m == 0 || n == 0)
    return;
  /* k = 0 is valid for cuBLAS too: c = beta·c */
  check_status (cublasSgemm (handle_get (), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                             trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, (int) n, (int) m, (int) k, &alpha,
                             rg_tensor_f32 (b), (int) b->shape[1], rg_tensor_f32 (a),
                             (int) a->shape[1], &beta, rg_tensor_f32 (c), (int) n),
                "rg_matmul");
}
