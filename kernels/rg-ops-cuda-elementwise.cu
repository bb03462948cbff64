/* rg-ops-cuda-elementwise.cu — arithmetic and activations, grid-stride
 * loops over packed floats (in place is fine, as on the CPU). The CPU
 * column (engine/ops/rg-ops-elementwise.c) is the reference they are
 * tested against (tests/cuda/test-cuda-ops.c). */
#include "rg-cuda-ops.cuh"

#define THREADS 256

__global__ static void
add_kernel (const float *a, const float *b, float *y, int64_t n)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    y[i] = a[i] + b[i];
}

__global__ static void
mul_kernel (const float *a, const float *b, float *y, int64_t n)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    y[i] = a[i] * b[i];
}

__global__ static void
silu_kernel (const float *x, float *y, int64_t n)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    y[i] = x[i] / (1.0f + expf (-x[i]));
}

__global__ static void
swiglu_kernel (const float *g, const float *u, float *y, int64_t n)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    y[i] = g[i] / (1.0f + expf (-g[i])) * u[i];
}

__global__ static void
add_bias_kernel (const float *x, const float *b, float *y, int64_t n, int64_t d)
{
  for (int64_t i = blockIdx.x * (int64_t) blockDim.x + threadIdx.x; i < n;
       i += (int64_t) gridDim.x * blockDim.x)
    y[i] = x[i] + b[i % d];
}

void
rg_cuda_add (const RgTensor *a, const RgTensor *b, RgTensor *y)
{
  int64_t n = rg_tensor_numel (y);
  add_kernel<<<rg_cuda_blocks (n, THREADS), THREADS>>> (rg_tensor_f32 (a), rg_tensor_f32 (b),
                                                        rg_tensor_f32 (y), n);
  RG_CUDA_LAUNCH_CHECK ("rg_add");
}

void
rg_cuda_mul (const RgTensor *a, const RgTensor *b, RgTensor *y)
{
  int64_t n = rg_tensor_numel (y);
  mul_kernel<<<rg_cuda_blocks (n, THREADS), THREADS>>> (rg_tensor_f32 (a), rg_tensor_f32 (b),
                                                        rg_tensor_f32 (y), n);
  RG_CUDA_LAUNCH_CHECK ("rg_mul");
}

void
rg_cuda_silu (const RgTensor *x, RgTensor *y)
{
  int64_t n = rg_tensor_numel (y);
  silu_kernel<<<rg_cuda_blocks (n, THREADS), THREADS>>> (rg_tensor_f32 (x), rg_tensor_f32 (y), n);
  RG_CUDA_LAUNCH_CHECK ("rg_silu");
}

void
rg_cuda_swiglu (const RgTensor *gate, const RgTensor *up, RgTensor *y)
{
  int64_t n = rg_tensor_numel (y);
  swiglu_kernel<<<rg_cuda_blocks (n, THREADS), THREADS>>> (rg_tensor_f32 (gate),
                                                           rg_tensor_f32 (up), rg_tensor_f32 (y), n);
  RG_CUDA_LAUNCH_CHECK ("rg_swiglu");
}

void
rg_cuda_add_bias (const RgTensor *x, const RgTensor *b, RgTensor *y)
{
  int64_t n = rg_tensor_numel (y), d = x->shape[x->ndim - 1];
  if (n == 0)
    return;
  add_bias_kernel<<<rg_cuda_blocks (n, THREADS), THREADS>>> (rg_tensor_f32 (x), rg_tensor_f32 (b),
                                                             rg_tensor_f32 (y), n, d);
  RG_CUDA_LAUNCH_CHECK ("rg_add_bias");
}
