/* rg-cuda-device.cu — device discovery and a launch smoke test. */
#include "rg-cuda-device.h"
#include "rg-cuda.cuh"

extern "C" int
rg_cuda_device_count (void)
{
  int n = 0;
  if (cudaGetDeviceCount (&n) != cudaSuccess)
    return 0;
  return n;
}

__global__ static void
fill_kernel (float *p, int n, float v)
{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    p[i] = v;
}

extern "C" int
rg_cuda_fill_roundtrip (float *out, int n, float value)
{
  float *d = NULL;
  RG_CUDA_CHECK (cudaMalloc (&d, (size_t) n * sizeof (float)));
  fill_kernel<<<(n + 255) / 256, 256>>> (d, n, value);
  cudaError_t launch = cudaGetLastError ();
  cudaError_t copy = cudaMemcpy (out, d, (size_t) n * sizeof (float), cudaMemcpyDeviceToHost);
  cudaFree (d);
  RG_CUDA_CHECK (launch);
  RG_CUDA_CHECK (copy);
  return 0;
}
