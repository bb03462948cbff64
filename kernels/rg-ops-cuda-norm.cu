/* rg-ops-cuda-norm.cu — RMSNorm and softmax over the last dim: one block
 * of 256 threads per row, warp-shuffle reductions, two passes over the row
 * (statistics, then output), so any row length works. In place is fine:
 * each row's statistics are complete before any of it is written. */
#include "rg-cuda-ops.cuh"

#define THREADS 256

/* Sum (or max) over the block; every thread gets the result. */
template <bool IsMax>
__device__ static float
block_reduce (float v, float *shared)
{
  for (int o = 16; o > 0; o >>= 1)
    {
      float other = __shfl_xor_sync (0xffffffffu, v, o);
      v = IsMax ? fmaxf (v, other) : v + other;
    }
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0)
    shared[warp] = v;
  __syncthreads ();
  v = shared[lane < blockDim.x / 32 ? lane : 0];
  if (lane >= blockDim.x / 32)
    v = IsMax ? -INFINITY : 0.0f;
  for (int o = 16; o > 0; o >>= 1)
    {
      float other = __shfl_xor_sync (0xffffffffu, v, o);
      v = IsMax ? fmaxf (v, other) : v + other;
    }
  __syncthreads (); /* shared is reused by the next reduction */
  return v;
}

__global__ static void
rmsnorm_kernel (const float *x, const float *w, float *y, int64_t d, float eps)
{
  __shared__ float shared[32];
  const float *xr = x + blockIdx.x * d;
  float *yr = y + blockIdx.x * d;
  float ss = 0.0f;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x)
    ss += xr[i] * xr[i];
  ss = block_reduce<false> (ss, shared);
  float inv = rsqrtf (ss / (float) d + eps);
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x)
    yr[i] = xr[i] * inv * (w ? w[i] : 1.0f);
}

__global__ static void
softmax_kernel (const float *x, float *y, int64_t d)
{
  __shared__ float shared[32];
  const float *xr = x + blockIdx.x * d;
  float *yr = y + blockIdx.x * d;
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x)
    m = fmaxf (m, xr[i]);
  m = block_reduce<true> (m, shared);
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x)
    s += expf (xr[i] - m);
  s = block_reduce<false> (s, shared);
  float inv = 1.0f / s;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x)
    yr[i] = expf (xr[i] - m) * inv;
}

/* Rows go on grid.x, which allows 2³¹ − 1 blocks: far beyond any model. */
void
rg_cuda_rmsnorm (const RgTensor *x, const RgTensor *w, float eps, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1], rows = d ? rg_tensor_numel (x) / d : 0;
  if (rows == 0)
    return;
  rmsnorm_kernel<<<(unsigned) rows, THREADS>>> (rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL,
                                                rg_tensor_f32 (y), d, eps);
  RG_CUDA_LAUNCH_CHECK ("rg_rmsnorm");
}

void
rg_cuda_softmax (const RgTensor *x, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1], rows = d ? rg_tensor_numel (x) / d : 0;
  if (rows == 0)
    return;
  softmax_kernel<<<(unsigned) rows, THREADS>>> (rg_tensor_f32 (x), rg_tensor_f32 (y), d);
  RG_CUDA_LAUNCH_CHECK ("rg_softmax");
}
