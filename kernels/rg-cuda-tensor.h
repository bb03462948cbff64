/* rg-cuda-tensor.h — tensors in CUDA device memory and the CUDA column of
 * the op table (C interface to kernels/).
 *
 * A CUDA tensor is an ordinary RgTensor whose backend is RG_BACKEND_CUDA
 * and whose data points to device memory (freed with cudaFree at the last
 * unref). The ops of rg-ops.h dispatch on that backend; the first CUDA
 * tensor made installs the CUDA op table, so callers never register
 * anything themselves. Ops with no CUDA kernel yet fail loudly
 * (g_critical from the dispatcher) rather than touching device memory
 * from the CPU. */
#pragma once

#include <glib.h>

#include "core/rg-tensor.h"

G_BEGIN_DECLS

/* A packed tensor on device 0, contents undefined; NULL and an RG_ERROR
 * (NO_MEMORY, or UNSUPPORTED without a device) on failure. */
RgTensor *rg_cuda_tensor_new (RgDType dtype, int ndim, const int64_t *shape, GError **error);
/* A device copy of a packed host tensor. */
RgTensor *rg_cuda_tensor_from_host (const RgTensor *host, GError **error);
/* Copy between packed tensors of the same shape and dtype, any direction
 * (host→device, device→host, device→device). */
gboolean  rg_cuda_tensor_copy (RgTensor *dst, const RgTensor *src, GError **error);

/* Install the CUDA op table (idempotent). rg_cuda_tensor_new calls it. */
void rg_cuda_ops_register (void);

G_END_DECLS
