/* rg-tensor.h — n-dimensional arrays on a backend.
 *
 * A tensor is a refcounted header (shape, strides, dtype, backend) over a
 * storage it shares with its views. Storage comes from the heap, from an
 * arena (scratch activations, freed all at once by rg_arena_reset), or is
 * borrowed (an mmap'ed checkpoint), in which case the tensor holds a ref on
 * whatever owns the bytes. Shapes are outermost-first, up to 5-D
 * (B, C, T, H, W). Ops in engine/ops require contiguous f32 unless they say
 * otherwise; rg_tensor_contiguous() makes a packed copy when needed. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "rg-dtype.h"

G_BEGIN_DECLS

#define RG_MAX_DIMS 5

typedef enum {
  RG_BACKEND_CPU,
  RG_BACKEND_CUDA,
  RG_BACKEND_COUNT
} RgBackend;

typedef struct _RgArena RgArena;

typedef struct _RgTensor {
  RgDType   dtype;
  RgBackend backend;
  int       ndim;
  int64_t   shape[RG_MAX_DIMS];
  int64_t   stride[RG_MAX_DIMS]; /* in elements */
  void     *data;                /* first element of this view */
  /* private */
  gint      ref_count;
  void     *owner;               /* heap block, or a ref'd object for borrowed data */
  GDestroyNotify owner_free;
} RgTensor;

/* Allocation. New tensors are contiguous; rg_tensor_new leaves the contents
 * undefined, rg_tensor_zeros clears them. With an arena, data comes from the
 * arena and lives until its next reset (the header is still refcounted). */
RgTensor *rg_tensor_new   (RgDType dtype, int ndim, const int64_t *shape);
RgTensor *rg_tensor_zeros (RgDType dtype, int ndim, const int64_t *shape);
RgTensor *rg_tensor_new_in (RgArena *arena, RgDType dtype, int ndim, const int64_t *shape);
/* Convenience: f32, shape given as arguments, e.g. rg_tensor_f32_new (3, B, N, D). */
RgTensor *rg_tensor_f32_new   (int ndim, ...);
RgTensor *rg_tensor_f32_zeros (int ndim, ...);
/* Wrap bytes owned by someone else; owner_free(owner) runs at the last unref. */
RgTensor *rg_tensor_new_borrowed (RgDType dtype, int ndim, const int64_t *shape,
                                  void *data, void *owner, GDestroyNotify owner_free);

RgTensor *rg_tensor_ref   (RgTensor *t);
void      rg_tensor_unref (RgTensor *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgTensor, rg_tensor_unref)

int64_t  rg_tensor_numel  (const RgTensor *t);
gsize    rg_tensor_nbytes (const RgTensor *t);
gboolean rg_tensor_is_contiguous (const RgTensor *t);
gboolean rg_tensor_same_shape (const RgTensor *a, const RgTensor *b);
/* Shape as text, "[2, 16, 64]", for error messages; caller frees. */
char    *rg_tensor_shape_string (const RgTensor *t);

static inline float *
rg_tensor_f32 (const RgTensor *t)
{
  g_assert (t->dtype == RG_F32);
  return (float *) t->data;
}

/* Views share storage. reshape needs a contiguous tensor and equal numel (one
 * dim may be -1). narrow selects [start, start+len) along dim. permute and
 * transpose only change strides; call rg_tensor_contiguous to pack. */
RgTensor *rg_tensor_reshape (RgTensor *t, int ndim, const int64_t *shape);
RgTensor *rg_tensor_narrow  (RgTensor *t, int dim, int64_t start, int64_t len);
RgTensor *rg_tensor_permute (RgTensor *t, const int *perm);
/* A packed copy (or a new ref when already packed). */
RgTensor *rg_tensor_contiguous (RgTensor *t);
RgTensor *rg_tensor_clone (const RgTensor *t);
/* Copy src into dst (same shape; any strides; float dtypes converted). */
void      rg_tensor_copy (RgTensor *dst, const RgTensor *src);
/* A new contiguous tensor of another float dtype. */
RgTensor *rg_tensor_to_dtype (const RgTensor *t, RgDType dtype);
void      rg_tensor_fill (RgTensor *t, float value);
/* Mean and (population) standard deviation of a contiguous f32 tensor's
 * elements, in double, two passes; NaN for an empty tensor. */
void      rg_tensor_mean_std (const RgTensor *t, double *mean, double *std);

/* Arena: bump allocator for per-pass activations. 64-byte aligned blocks;
 * grows by chaining chunks; reset frees nothing to the OS but makes all of it
 * reusable. Tensors allocated in it must be unref'd before the reset. */
RgArena *rg_arena_new   (gsize chunk_bytes);
void    *rg_arena_alloc (RgArena *arena, gsize bytes);
void     rg_arena_reset (RgArena *arena);
gsize    rg_arena_peak  (const RgArena *arena); /* high-water mark in bytes */
void     rg_arena_free  (RgArena *arena);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgArena, rg_arena_free)

G_END_DECLS
