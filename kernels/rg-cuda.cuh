/* rg-cuda.cuh — checks shared by every kernel file (llm.c's utils.h way):
 * each CUDA/cuBLAS call is checked and a failure reports file and line. */
#pragma once

#include <cuda_runtime.h>
#include <stdio.h>

#define RG_CUDA_CHECK(call)                                                  \
  do {                                                                       \
    cudaError_t rg_err_ = (call);                                            \
    if (rg_err_ != cudaSuccess) {                                            \
      fprintf (stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString (rg_err_), \
               __FILE__, __LINE__);                                          \
      return -1;                                                             \
    }                                                                        \
  } while (0)
