/* rg-cuda-tensor.cu — device allocation and host↔device copies. */
#include "rg-cuda-tensor.h"

#include <cuda_runtime.h>

#include "core/rg-error.h"

static void
device_free (gpointer p)
{
  cudaFree (p);
}

extern "C" RgTensor *
rg_cuda_tensor_new (RgDType dtype, int ndim, const int64_t *shape, GError **error)
{
  g_return_val_if_fail (ndim >= 0 && ndim <= RG_MAX_DIMS, NULL);
  int devices = 0;
  if (cudaGetDeviceCount (&devices) != cudaSuccess || devices == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "no CUDA device for a tensor");
      return NULL;
    }
  guint64 n = 1;
  for (int d = 0; d < ndim; d++)
    {
      if (shape[d] < 0 || (shape[d] != 0 && n > G_MAXUINT64 / (guint64) shape[d] / 8))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "CUDA tensor shape overflows (dim %d = %" G_GINT64_FORMAT ")", d, shape[d]);
          return NULL;
        }
      n *= (guint64) shape[d];
    }
  gsize bytes = (gsize) n * rg_dtype_size (dtype);
  void *data = NULL;
  cudaError_t err = cudaMalloc (&data, MAX (bytes, (gsize) 1));
  if (err != cudaSuccess)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "cannot allocate %zu bytes on the GPU: %s",
                   bytes, cudaGetErrorString (err));
      return NULL;
    }
  rg_cuda_ops_register ();
  RgTensor *t = rg_tensor_new_borrowed (dtype, ndim, shape, data, data, device_free);
  t->backend = RG_BACKEND_CUDA;
  return t;
}

extern "C" gboolean
rg_cuda_tensor_copy (RgTensor *dst, const RgTensor *src, GError **error)
{
  g_return_val_if_fail (rg_tensor_same_shape (dst, src) && dst->dtype == src->dtype, FALSE);
  g_return_val_if_fail (rg_tensor_is_contiguous (dst) && rg_tensor_is_contiguous (src), FALSE);
  cudaMemcpyKind kind;
  if (src->backend == RG_BACKEND_CPU)
    kind = dst->backend == RG_BACKEND_CPU ? cudaMemcpyHostToHost : cudaMemcpyHostToDevice;
  else
    kind = dst->backend == RG_BACKEND_CPU ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
  cudaError_t err = cudaMemcpy (dst->data, src->data, rg_tensor_nbytes (src), kind);
  if (err != cudaSuccess)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "copying %zu bytes to/from the GPU failed: %s",
                   rg_tensor_nbytes (src), cudaGetErrorString (err));
      return FALSE;
    }
  return TRUE;
}

extern "C" RgTensor *
rg_cuda_tensor_from_host (const RgTensor *host, GError **error)
{
  g_return_val_if_fail (host->backend == RG_BACKEND_CPU, NULL);
  RgTensor *t = rg_cuda_tensor_new (host->dtype, host->ndim, host->shape, error);
  if (t != NULL && !rg_cuda_tensor_copy (t, host, error))
    g_clear_pointer (&t, rg_tensor_unref);
  return t;
}
