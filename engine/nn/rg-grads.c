/* rg-grads.c — gradient blocks keyed by the weights' storage roots. */
#include "nn/rg-grads.h"

#include <string.h>

typedef struct {
  const RgTensor *root; /* the tensor that owns the storage */
  RgTensor       *grad; /* a flat f32 block of the root's element count */
} Block;

struct _RgGrads {
  GArray *blocks; /* Block, few dozen: a linear scan is cheaper than hashing */
};

/* Views hold a ref on their base tensor as owner; the root is the first
 * tensor whose owner is not another tensor. */
static const RgTensor *
storage_root (const RgTensor *t)
{
  while (t->owner_free == (GDestroyNotify) rg_tensor_unref)
    t = t->owner;
  return t;
}

static Block *
find_block (RgGrads *g, const RgTensor *root)
{
  for (guint i = 0; i < g->blocks->len; i++)
    if (g_array_index (g->blocks, Block, i).root == root)
      return &g_array_index (g->blocks, Block, i);
  return NULL;
}

RgGrads *
rg_grads_new (RgParams *p)
{
  RgGrads *g = g_new0 (RgGrads, 1);
  g->blocks = g_array_new (FALSE, FALSE, sizeof (Block));
  for (guint i = 0; i < rg_params_get_n (p); i++)
    {
      const RgTensor *root = storage_root (rg_params_get_tensor (p, i));
      if (find_block (g, root) != NULL)
        continue;
      g_return_val_if_fail (root->dtype == RG_F32 && rg_tensor_is_contiguous (root), g);
      int64_t n = rg_tensor_numel (root);
      Block b = { root, rg_tensor_zeros (RG_F32, 1, &n) };
      g_array_append_val (g->blocks, b);
    }
  return g;
}

void
rg_grads_free (RgGrads *g)
{
  if (g == NULL)
    return;
  for (guint i = 0; i < g->blocks->len; i++)
    rg_tensor_unref (g_array_index (g->blocks, Block, i).grad);
  g_array_unref (g->blocks);
  g_free (g);
}

RgTensor *
rg_grads_of (RgGrads *g, const RgTensor *w)
{
  if (w == NULL)
    return NULL;
  Block *b = find_block (g, storage_root (w));
  g_return_val_if_fail (b != NULL, NULL);
  g_return_val_if_fail (rg_tensor_is_contiguous (w), NULL);
  ptrdiff_t offset = (const float *) w->data - (const float *) b->root->data;
  g_return_val_if_fail (offset >= 0 && offset + rg_tensor_numel (w) <= rg_tensor_numel (b->grad),
                        NULL);
  g_autoptr (RgTensor) flat = rg_tensor_narrow (b->grad, 0, offset, rg_tensor_numel (w));
  return rg_tensor_reshape (flat, w->ndim, w->shape);
}

void
rg_grads_zero (RgGrads *g)
{
  for (guint i = 0; i < g->blocks->len; i++)
    {
      RgTensor *t = g_array_index (g->blocks, Block, i).grad;
      memset (t->data, 0, rg_tensor_nbytes (t));
    }
}

void
rg_grads_scale (RgGrads *g, float s)
{
  for (guint i = 0; i < g->blocks->len; i++)
    {
      RgTensor *t = g_array_index (g->blocks, Block, i).grad;
      float *d = rg_tensor_f32 (t);
      for (int64_t j = 0, n = rg_tensor_numel (t); j < n; j++)
        d[j] *= s;
    }
}
