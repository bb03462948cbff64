/* rg-tensor.c — tensor headers, storage ownership and views. */
#include "rg-tensor.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define RG_ALIGN 64

static void
set_contiguous_strides (RgTensor *t)
{
  int64_t s = 1;
  for (int d = t->ndim - 1; d >= 0; d--)
    {
      t->stride[d] = s;
      s *= t->shape[d];
    }
}

static RgTensor *
header_new (RgDType dtype, int ndim, const int64_t *shape)
{
  g_return_val_if_fail (ndim >= 0 && ndim <= RG_MAX_DIMS, NULL);
  RgTensor *t = g_new0 (RgTensor, 1);
  t->dtype = dtype;
  t->backend = RG_BACKEND_CPU;
  t->ndim = ndim;
  t->ref_count = 1;
  for (int d = 0; d < ndim; d++)
    {
      g_return_val_if_fail (shape[d] >= 0, NULL);
      t->shape[d] = shape[d];
    }
  set_contiguous_strides (t);
  return t;
}

/* Bytes for numel elements, or 0 with *ok = FALSE on overflow. */
static gsize
checked_bytes (RgDType dtype, int ndim, const int64_t *shape, gboolean *ok)
{
  guint64 n = 1;
  *ok = TRUE;
  for (int d = 0; d < ndim; d++)
    if (shape[d] != 0 && n > G_MAXUINT64 / (guint64) shape[d])
      *ok = FALSE;
    else
      n *= (guint64) shape[d];
  guint64 esz = rg_dtype_size (dtype);
  if (n > (G_MAXSIZE - RG_ALIGN) / esz)
    *ok = FALSE;
  return *ok ? (gsize) (n * esz) : 0;
}

RgTensor *
rg_tensor_new (RgDType dtype, int ndim, const int64_t *shape)
{
  gboolean ok;
  gsize bytes = checked_bytes (dtype, ndim, shape, &ok);
  g_return_val_if_fail (ok, NULL);
  RgTensor *t = header_new (dtype, ndim, shape);
  t->owner = g_aligned_alloc (MAX (bytes, 1), 1, RG_ALIGN);
  t->owner_free = g_aligned_free;
  t->data = t->owner;
  return t;
}

RgTensor *
rg_tensor_zeros (RgDType dtype, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (dtype, ndim, shape);
  memset (t->data, 0, rg_tensor_nbytes (t));
  return t;
}

RgTensor *
rg_tensor_new_in (RgArena *arena, RgDType dtype, int ndim, const int64_t *shape)
{
  if (arena == NULL)
    return rg_tensor_new (dtype, ndim, shape);
  gboolean ok;
  gsize bytes = checked_bytes (dtype, ndim, shape, &ok);
  g_return_val_if_fail (ok, NULL);
  RgTensor *t = header_new (dtype, ndim, shape);
  t->data = rg_arena_alloc (arena, bytes);
  return t;
}

static void
shape_from_va (int ndim, va_list ap, int64_t *shape)
{
  for (int d = 0; d < ndim; d++)
    shape[d] = va_arg (ap, int64_t);
}

RgTensor *
rg_tensor_f32_new (int ndim, ...)
{
  int64_t shape[RG_MAX_DIMS];
  va_list ap;
  g_return_val_if_fail (ndim <= RG_MAX_DIMS, NULL);
  va_start (ap, ndim);
  shape_from_va (ndim, ap, shape);
  va_end (ap);
  return rg_tensor_new (RG_F32, ndim, shape);
}

RgTensor *
rg_tensor_f32_zeros (int ndim, ...)
{
  int64_t shape[RG_MAX_DIMS];
  va_list ap;
  g_return_val_if_fail (ndim <= RG_MAX_DIMS, NULL);
  va_start (ap, ndim);
  shape_from_va (ndim, ap, shape);
  va_end (ap);
  return rg_tensor_zeros (RG_F32, ndim, shape);
}

RgTensor *
rg_tensor_new_borrowed (RgDType dtype, int ndim, const int64_t *shape,
                        void *data, void *owner, GDestroyNotify owner_free)
{
  RgTensor *t = header_new (dtype, ndim, shape);
  t->data = data;
  t->owner = owner;
  t->owner_free = owner_free;
  return t;
}

RgTensor *
rg_tensor_ref (RgTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);
  g_atomic_int_inc (&t->ref_count);
  return t;
}

void
rg_tensor_unref (RgTensor *t)
{
  if (t == NULL)
    return;
  if (!g_atomic_int_dec_and_test (&t->ref_count))
    return;
  if (t->owner_free != NULL)
    t->owner_free (t->owner);
  g_free (t);
}

int64_t
rg_tensor_numel (const RgTensor *t)
{
  int64_t n = 1;
  for (int d = 0; d < t->ndim; d++)
    n *= t->shape[d];
  return n;
}

gsize
rg_tensor_nbytes (const RgTensor *t)
{
  return (gsize) rg_tensor_numel (t) * rg_dtype_size (t->dtype);
}

gboolean
rg_tensor_is_contiguous (const RgTensor *t)
{
  int64_t s = 1;
  for (int d = t->ndim - 1; d >= 0; d--)
    {
      if (t->shape[d] != 1 && t->stride[d] != s)
        return FALSE;
      s *= t->shape[d];
    }
  return TRUE;
}

gboolean
rg_tensor_same_shape (const RgTensor *a, const RgTensor *b)
{
  if (a->ndim != b->ndim)
    return FALSE;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] != b->shape[d])
      return FALSE;
  return TRUE;
}

char *
rg_tensor_shape_string (const RgTensor *t)
{
  GString *s = g_string_new ("[");
  for (int d = 0; d < t->ndim; d++)
    g_string_append_printf (s, d ? ", %" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, t->shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* A view holds a ref on its base tensor, which keeps the storage alive. */
static RgTensor *
view_new (RgTensor *base)
{
  RgTensor *v = g_new0 (RgTensor, 1);
  *v = *base;
  v->ref_count = 1;
  v->owner = rg_tensor_ref (base);
  v->owner_free = (GDestroyNotify) rg_tensor_unref;
  return v;
}

RgTensor *
rg_tensor_reshape (RgTensor *t, int ndim, const int64_t *shape)
{
  g_return_val_if_fail (rg_tensor_is_contiguous (t), NULL);
  g_return_val_if_fail (ndim >= 0 && ndim <= RG_MAX_DIMS, NULL);
  int64_t numel = rg_tensor_numel (t), known = 1;
  int infer = -1;
  for (int d = 0; d < ndim; d++)
    if (shape[d] == -1)
      {
        g_return_val_if_fail (infer < 0, NULL);
        infer = d;
      }
    else
      known *= shape[d];
  RgTensor *v = view_new (t);
  v->ndim = ndim;
  for (int d = 0; d < ndim; d++)
    v->shape[d] = shape[d];
  if (infer >= 0)
    v->shape[infer] = known ? numel / known : 0;
  if (rg_tensor_numel (v) != numel)
    {
      rg_tensor_unref (v);
      g_return_val_if_reached (NULL);
    }
  set_contiguous_strides (v);
  return v;
}

RgTensor *
rg_tensor_narrow (RgTensor *t, int dim, int64_t start, int64_t len)
{
  g_return_val_if_fail (dim >= 0 && dim < t->ndim, NULL);
  g_return_val_if_fail (start >= 0 && len >= 0 && start + len <= t->shape[dim], NULL);
  RgTensor *v = view_new (t);
  v->shape[dim] = len;
  v->data = (char *) t->data + start * t->stride[dim] * (int64_t) rg_dtype_size (t->dtype);
  return v;
}

RgTensor *
rg_tensor_permute (RgTensor *t, const int *perm)
{
  RgTensor *v = view_new (t);
  for (int d = 0; d < t->ndim; d++)
    {
      g_return_val_if_fail (perm[d] >= 0 && perm[d] < t->ndim, v);
      v->shape[d] = t->shape[perm[d]];
      v->stride[d] = t->stride[perm[d]];
    }
  return v;
}

/* Walk every element of a strided tensor in row-major order. */
static void
strided_copy (RgTensor *dst, const RgTensor *src)
{
  int64_t n = rg_tensor_numel (src);
  int64_t idx[RG_MAX_DIMS] = { 0 };
  gsize ssz = rg_dtype_size (src->dtype), dsz = rg_dtype_size (dst->dtype);
  gboolean same = src->dtype == dst->dtype;
  for (int64_t i = 0; i < n; i++)
    {
      int64_t so = 0, doff = 0;
      for (int d = 0; d < src->ndim; d++)
        {
          so += idx[d] * src->stride[d];
          doff += idx[d] * dst->stride[d];
        }
      const char *sp = (const char *) src->data + so * (int64_t) ssz;
      char *dp = (char *) dst->data + doff * (int64_t) dsz;
      if (same)
        memcpy (dp, sp, ssz);
      else
        rg_convert_floats (sp, src->dtype, dp, dst->dtype, 1);
      for (int d = src->ndim - 1; d >= 0; d--)
        {
          if (++idx[d] < src->shape[d])
            break;
          idx[d] = 0;
        }
    }
}

void
rg_tensor_copy (RgTensor *dst, const RgTensor *src)
{
  g_return_if_fail (rg_tensor_same_shape (dst, src));
  if (rg_tensor_is_contiguous (dst) && rg_tensor_is_contiguous (src))
    {
      if (src->dtype == dst->dtype)
        memmove (dst->data, src->data, rg_tensor_nbytes (src));
      else
        rg_convert_floats (src->data, src->dtype, dst->data, dst->dtype,
                           (gsize) rg_tensor_numel (src));
      return;
    }
  strided_copy (dst, src);
}

RgTensor *
rg_tensor_contiguous (RgTensor *t)
{
  if (rg_tensor_is_contiguous (t))
    return rg_tensor_ref (t);
  return rg_tensor_clone (t);
}

RgTensor *
rg_tensor_clone (const RgTensor *t)
{
  RgTensor *c = rg_tensor_new (t->dtype, t->ndim, t->shape);
  rg_tensor_copy (c, t);
  return c;
}

RgTensor *
rg_tensor_to_dtype (const RgTensor *t, RgDType dtype)
{
  RgTensor *c = rg_tensor_new (dtype, t->ndim, t->shape);
  rg_tensor_copy (c, t);
  return c;
}

void
rg_tensor_fill (RgTensor *t, float value)
{
  g_return_if_fail (t->dtype == RG_F32 && rg_tensor_is_contiguous (t));
  float *p = t->data;
  int64_t n = rg_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    p[i] = value;
}

void
rg_tensor_mean_std (const RgTensor *t, double *mean, double *std)
{
  g_return_if_fail (t->dtype == RG_F32 && rg_tensor_is_contiguous (t));
  const float *p = t->data;
  int64_t n = rg_tensor_numel (t);
  double sum = 0.0, sq = 0.0;
  for (int64_t i = 0; i < n; i++)
    sum += p[i];
  double m = n > 0 ? sum / (double) n : NAN;
  for (int64_t i = 0; i < n; i++)
    sq += (p[i] - m) * (p[i] - m);
  *mean = m;
  *std = n > 0 ? sqrt (sq / (double) n) : NAN;
}

/* ---- arena ---- */

typedef struct {
  char *base;
  gsize size;
  gsize used;
} ArenaChunk;

struct _RgArena {
  GArray *chunks; /* ArenaChunk */
  guint   current;
  gsize   chunk_bytes;
  gsize   in_use;
  gsize   peak;
};

RgArena *
rg_arena_new (gsize chunk_bytes)
{
  RgArena *a = g_new0 (RgArena, 1);
  a->chunks = g_array_new (FALSE, TRUE, sizeof (ArenaChunk));
  a->chunk_bytes = MAX (chunk_bytes, (gsize) 1 << 16);
  return a;
}

void *
rg_arena_alloc (RgArena *a, gsize bytes)
{
  bytes = (MAX (bytes, 1) + RG_ALIGN - 1) & ~(gsize) (RG_ALIGN - 1);
  while (a->current < a->chunks->len)
    {
      ArenaChunk *c = &g_array_index (a->chunks, ArenaChunk, a->current);
      if (c->size - c->used >= bytes)
        {
          void *p = c->base + c->used;
          c->used += bytes;
          a->in_use += bytes;
          a->peak = MAX (a->peak, a->in_use);
          return p;
        }
      a->current++;
    }
  ArenaChunk c = { 0 };
  c.size = MAX (a->chunk_bytes, bytes);
  c.base = g_aligned_alloc (c.size, 1, RG_ALIGN);
  c.used = bytes;
  g_array_append_val (a->chunks, c);
  a->current = a->chunks->len - 1;
  a->in_use += bytes;
  a->peak = MAX (a->peak, a->in_use);
  return c.base;
}

void
rg_arena_reset (RgArena *a)
{
  for (guint i = 0; i < a->chunks->len; i++)
    g_array_index (a->chunks, ArenaChunk, i).used = 0;
  a->current = 0;
  a->in_use = 0;
}

gsize
rg_arena_peak (const RgArena *a)
{
  return a->peak;
}

void
rg_arena_free (RgArena *a)
{
  if (a == NULL)
    return;
  for (guint i = 0; i < a->chunks->len; i++)
    g_aligned_free (g_array_index (a->chunks, ArenaChunk, i).base);
  g_array_free (a->chunks, TRUE);
  g_free (a);
}
