/* rg-params.c — declaring, initialising, loading and saving named weights. */
#include "nn/rg-params.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "core/rg-hash.h"
#include "core/rg-rng.h"

typedef struct {
  char     *name;
  RgTensor *tensor;
} Param;

struct _RgParams {
  gboolean       loading;
  gboolean       writable; /* load private copies, not views of the mapping */
  guint64        seed;
  RgSafetensors *st;
  GArray        *params; /* Param, in declaration order */
  GHashTable    *names;
  GPtrArray     *packs;  /* RgTensor: storage shared by packed weights */
  GError        *error;  /* the first failure */
};

static void
param_clear (gpointer data)
{
  Param *p = data;
  g_free (p->name);
  rg_tensor_unref (p->tensor);
}

static RgParams *
params_new (void)
{
  RgParams *p = g_new0 (RgParams, 1);
  p->params = g_array_new (FALSE, TRUE, sizeof (Param));
  g_array_set_clear_func (p->params, param_clear);
  p->names = g_hash_table_new (g_str_hash, g_str_equal);
  p->packs = g_ptr_array_new_with_free_func ((GDestroyNotify) rg_tensor_unref);
  return p;
}

RgParams *
rg_params_new_init (guint64 seed)
{
  RgParams *p = params_new ();
  p->seed = seed;
  return p;
}

RgParams *
rg_params_new_load (RgSafetensors *st, gboolean writable)
{
  RgParams *p = params_new ();
  p->loading = TRUE;
  p->writable = writable;
  p->st = rg_safetensors_ref (st);
  return p;
}

void
rg_params_free (RgParams *p)
{
  if (p == NULL)
    return;
  g_hash_table_unref (p->names);
  g_array_unref (p->params);
  g_ptr_array_unref (p->packs);
  g_clear_pointer (&p->st, rg_safetensors_unref);
  g_clear_error (&p->error);
  g_free (p);
}

/* 64-bit FNV-1a: the Philox stream of a weight is a function of its name. */
static guint64
name_stream (const char *name)
{
  return rg_fnv1a64 (RG_FNV1A64_INIT, name, strlen (name));
}

static RgTensor *
load_one (RgParams *p, const char *name, int ndim, const int64_t *shape)
{
  const char *path = rg_safetensors_get_path (p->st);
  int fndim;
  int64_t fshape[RG_MAX_DIMS];
  if (!rg_safetensors_describe (p->st, name, NULL, &fndim, fshape, NULL, NULL))
    {
      g_set_error (&p->error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: tensor '%s' is missing (the model config requires it)", path, name);
      return NULL;
    }
  gboolean same = fndim == ndim;
  for (int d = 0; same && d < ndim; d++)
    same = fshape[d] == shape[d];
  if (!same)
    {
      g_autoptr (RgTensor) want = rg_tensor_new_borrowed (RG_F32, ndim, shape, NULL, NULL, NULL);
      g_autoptr (RgTensor) got = rg_tensor_new_borrowed (RG_F32, fndim, fshape, NULL, NULL, NULL);
      g_autofree char *ws = rg_tensor_shape_string (want);
      g_autofree char *gs = rg_tensor_shape_string (got);
      g_set_error (&p->error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: tensor '%s' has shape %s, but the model config needs %s", path, name, gs,
                   ws);
      return NULL;
    }
  g_autoptr (RgTensor) t = rg_safetensors_get_f32 (p->st, name, &p->error);
  if (t == NULL || !p->writable)
    return g_steal_pointer (&t);
  /* F32 weights are views of the read-only mapping: copy them */
  return rg_tensor_clone (t);
}

static RgTensor *
init_one (RgParams *p, const char *name, RgInit init, float std, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  float *x = rg_tensor_f32 (t);
  int64_t n = rg_tensor_numel (t);
  switch (init)
    {
    case RG_INIT_ZEROS:
      rg_tensor_fill (t, 0.f);
      break;
    case RG_INIT_ONES:
      rg_tensor_fill (t, 1.f);
      break;
    case RG_INIT_NORMAL:
      rg_rng_normal (p->seed, name_stream (name), 0, x, n);
      for (int64_t i = 0; i < n; i++)
        x[i] *= std;
      break;
    }
  return t;
}

RgTensor *
rg_params_take (RgParams *p, const char *name, RgInit init, float std, int ndim,
                const int64_t *shape)
{
  if (p->error != NULL)
    return NULL;
  if (g_hash_table_contains (p->names, name))
    {
      /* a model-construction bug, but reported rather than asserted */
      g_set_error (&p->error, RG_ERROR, RG_ERROR_FAILED, "weight '%s' declared twice", name);
      return NULL;
    }
  RgTensor *t = p->loading ? load_one (p, name, ndim, shape)
                           : init_one (p, name, init, std, ndim, shape);
  if (t == NULL)
    return NULL;
  Param param = { g_strdup (name), t };
  g_array_append_val (p->params, param);
  g_hash_table_add (p->names, param.name);
  return t;
}

RgTensor *
rg_params_take1 (RgParams *p, const char *prefix, const char *leaf, RgInit init, float std,
                 int64_t d0)
{
  g_autofree char *name = g_strconcat (prefix, ".", leaf, NULL);
  int64_t shape[1] = { d0 };
  return rg_params_take (p, name, init, std, 1, shape);
}

RgTensor *
rg_params_take2 (RgParams *p, const char *prefix, const char *leaf, RgInit init, float std,
                 int64_t d0, int64_t d1)
{
  g_autofree char *name = g_strconcat (prefix, ".", leaf, NULL);
  int64_t shape[2] = { d0, d1 };
  return rg_params_take (p, name, init, std, 2, shape);
}

void
rg_params_zero_columns (RgParams *p, RgTensor *w, int64_t col, int64_t n)
{
  if (p->loading || w == NULL)
    return;
  g_return_if_fail (w->ndim == 2 && col >= 0 && col + n <= w->shape[1]);
  float *x = rg_tensor_f32 (w);
  for (int64_t r = 0; r < w->shape[0]; r++)
    memset (x + r * w->shape[1] + col, 0, (gsize) n * sizeof (float));
}

void
rg_params_fill (RgParams *p, RgTensor *w, int64_t start, int64_t n, float value)
{
  if (p->loading || w == NULL)
    return;
  g_return_if_fail (start >= 0 && start + n <= rg_tensor_numel (w));
  float *x = rg_tensor_f32 (w);
  for (int64_t i = start; i < start + n; i++)
    x[i] = value;
}

/* A packed copy replaces a view of the checkpoint's read-only mapping: hand
 * back the pages lying wholly inside the view, so that those weights are
 * not resident twice (they are clean file pages, re-read if ever touched
 * again). Heap tensors (writable loads, converted bf16/f16) are simply
 * freed by the caller. */
static void
release_mapped (RgParams *p, const Param *param)
{
  RgDType dtype;
  gboolean supported = FALSE;
  if (!p->loading || p->writable
      || !rg_safetensors_describe (p->st, param->name, NULL, NULL, NULL, &supported, &dtype)
      || !supported || dtype != RG_F32)
    return;
  uintptr_t page = (uintptr_t) sysconf (_SC_PAGESIZE);
  uintptr_t begin = (uintptr_t) param->tensor->data;
  uintptr_t end = begin + rg_tensor_nbytes (param->tensor);
  begin = (begin + page - 1) & ~(page - 1);
  end &= ~(page - 1);
  /* advice only: when refused, the pages just stay resident */
  if (end > begin)
    (void) madvise ((void *) begin, end - begin, MADV_DONTNEED);
}

RgTensor *
rg_params_pack_rows (RgParams *p, RgTensor **parts, int n)
{
  Param *slot[8];
  int64_t rows = 0;
  g_return_val_if_fail (n >= 1 && n <= (int) G_N_ELEMENTS (slot), NULL);
  for (int i = 0; i < n; i++)
    {
      if (parts[i] == NULL)
        return NULL;
      g_return_val_if_fail (parts[i]->ndim == 2 && parts[i]->shape[1] == parts[0]->shape[1],
                            NULL);
      slot[i] = NULL;
      for (guint j = 0; j < p->params->len && slot[i] == NULL; j++)
        if (g_array_index (p->params, Param, j).tensor == parts[i])
          slot[i] = &g_array_index (p->params, Param, j);
      g_return_val_if_fail (slot[i] != NULL, NULL);
      rows += parts[i]->shape[0];
    }
  int64_t shape[2] = { rows, parts[0]->shape[1] };
  RgTensor *packed = rg_tensor_new (RG_F32, 2, shape);
  for (int i = 0, row = 0; i < n; row += (int) parts[i]->shape[0], i++)
    {
      /* whole rows of a row-major matrix: each view is contiguous */
      RgTensor *view = rg_tensor_narrow (packed, 0, row, parts[i]->shape[0]);
      rg_tensor_copy (view, parts[i]);
      release_mapped (p, slot[i]);
      rg_tensor_unref (slot[i]->tensor);
      slot[i]->tensor = parts[i] = view;
    }
  g_ptr_array_add (p->packs, packed);
  return packed;
}

gboolean
rg_params_finish (RgParams *p, GError **error)
{
  if (p->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&p->error));
      return FALSE;
    }
  if (p->loading)
    for (guint i = 0; i < rg_safetensors_get_n_tensors (p->st); i++)
      {
        const char *name = rg_safetensors_get_name (p->st, i);
        if (!g_hash_table_contains (p->names, name))
          {
            g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                         "%s: unexpected tensor '%s' (not part of the model config)",
                         rg_safetensors_get_path (p->st), name);
            return FALSE;
          }
      }
  return TRUE;
}

guint
rg_params_get_n (RgParams *p)
{
  return p->params->len;
}

const char *
rg_params_get_name (RgParams *p, guint i)
{
  g_return_val_if_fail (i < p->params->len, NULL);
  return g_array_index (p->params, Param, i).name;
}

RgTensor *
rg_params_get_tensor (RgParams *p, guint i)
{
  g_return_val_if_fail (i < p->params->len, NULL);
  return g_array_index (p->params, Param, i).tensor;
}

int64_t
rg_params_count (RgParams *p, const char *prefix)
{
  int64_t n = 0;
  for (guint i = 0; i < p->params->len; i++)
    {
      const Param *q = &g_array_index (p->params, Param, i);
      if (prefix == NULL || g_str_has_prefix (q->name, prefix))
        n += rg_tensor_numel (q->tensor);
    }
  return n;
}

char *
rg_params_digest (RgParams *p, const char *prefix)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  for (guint i = 0; i < p->params->len; i++)
    {
      const Param *q = &g_array_index (p->params, Param, i);
      if (prefix != NULL && !g_str_has_prefix (q->name, prefix))
        continue;
      const RgTensor *t = q->tensor;
      g_checksum_update (sum, (const guchar *) q->name, (gssize) strlen (q->name) + 1);
      g_checksum_update (sum, (const guchar *) t->shape, (gssize) (t->ndim * sizeof (int64_t)));
      g_checksum_update (sum, (const guchar *) rg_tensor_f32 (t),
                         (gssize) (rg_tensor_numel (t) * (int64_t) sizeof (float)));
    }
  char *hex = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return hex;
}

gboolean
rg_params_save (RgParams *p, const char *path, const char *prefix, RgDType dtype,
                const char *const *metadata, GError **error)
{
  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  for (guint i = 0; i < p->params->len; i++)
    {
      const Param *q = &g_array_index (p->params, Param, i);
      if (prefix != NULL && !g_str_has_prefix (q->name, prefix))
        continue;
      if (!rg_safetensors_writer_add (w, q->name, q->tensor, dtype, error))
        return FALSE;
    }
  for (int i = 0; metadata != NULL && metadata[i] != NULL && metadata[i + 1] != NULL; i += 2)
    rg_safetensors_writer_set_metadata (w, metadata[i], metadata[i + 1]);
  return rg_safetensors_writer_save (w, path, error);
}
