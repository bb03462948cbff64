/* rg-ema.c — exponential moving average of weights. */
#include "train/rg-ema.h"

#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-parallel.h"

#define RG_EMA_GRAIN 16384

typedef struct
{
  char *name;
  RgTensor *weight;
  RgTensor *shadow;
} RgEmaEntry;

struct _RgEma
{
  double decay;
  gboolean warmup;
  int64_t updates;
  GPtrArray *entries; /* RgEmaEntry * */
};

static void
entry_free (gpointer data)
{
  RgEmaEntry *e = data;

  g_free (e->name);
  rg_tensor_unref (e->weight);
  rg_tensor_unref (e->shadow);
  g_free (e);
}

RgEma *
rg_ema_new (double decay, gboolean warmup, GError **error)
{
  if (!(decay >= 0 && decay < 1))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "EMA: decay must lie in [0, 1), got %g", decay);
      return NULL;
    }

  RgEma *ema = g_new0 (RgEma, 1);
  ema->decay = decay;
  ema->warmup = warmup;
  ema->entries = g_ptr_array_new_with_free_func (entry_free);
  return ema;
}

void
rg_ema_free (RgEma *ema)
{
  if (!ema)
    return;
  g_ptr_array_unref (ema->entries);
  g_free (ema);
}

gboolean
rg_ema_add (RgEma *ema, const char *name, RgTensor *weight, GError **error)
{
  if (weight->dtype != RG_F32 || weight->backend != RG_BACKEND_CPU
      || !rg_tensor_is_contiguous (weight))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "EMA: weight \"%s\" must be a contiguous f32 CPU tensor", name);
      return FALSE;
    }
  if (rg_ema_lookup (ema, name))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "EMA: weight \"%s\" is tracked twice", name);
      return FALSE;
    }

  RgEmaEntry *e = g_new0 (RgEmaEntry, 1);
  e->name = g_strdup (name);
  e->weight = rg_tensor_ref (weight);
  e->shadow = rg_tensor_clone (weight);
  g_ptr_array_add (ema->entries, e);
  return TRUE;
}

double
rg_ema_get_decay (RgEma *ema)
{
  return ema->decay;
}

gboolean
rg_ema_get_warmup (RgEma *ema)
{
  return ema->warmup;
}

double
rg_ema_decay_at (RgEma *ema, int64_t n)
{
  if (!ema->warmup)
    return ema->decay;
  return MIN (ema->decay, (1.0 + (double)n) / (10.0 + (double)n));
}

typedef struct
{
  const float *w;
  float *s;
  float one_minus_d;
} EmaTask;

static void
ema_range (void *ctx, int64_t begin, int64_t end)
{
  const EmaTask *k = ctx;
  /* locals, so the loop vectorises (see rg-ops-elementwise.c) */
  const float *w = k->w;
  float *s = k->s, one_minus_d = k->one_minus_d;

  for (int64_t i = begin; i < end; i++)
    s[i] += one_minus_d * (w[i] - s[i]);
}

void
rg_ema_update (RgEma *ema)
{
  ema->updates++;
  EmaTask k = { .one_minus_d = (float)(1.0 - rg_ema_decay_at (ema, ema->updates)) };

  for (guint i = 0; i < ema->entries->len; i++)
    {
      RgEmaEntry *e = g_ptr_array_index (ema->entries, i);
      k.w = rg_tensor_f32 (e->weight);
      k.s = rg_tensor_f32 (e->shadow);
      rg_parallel_for (rg_tensor_numel (e->weight), RG_EMA_GRAIN, ema_range, &k);
    }
}

guint
rg_ema_get_n (RgEma *ema)
{
  return ema->entries->len;
}

const char *
rg_ema_get_name (RgEma *ema, guint i)
{
  return ((RgEmaEntry *)g_ptr_array_index (ema->entries, i))->name;
}

RgTensor *
rg_ema_get_weight (RgEma *ema, guint i)
{
  return ((RgEmaEntry *)g_ptr_array_index (ema->entries, i))->weight;
}

RgTensor *
rg_ema_get_shadow (RgEma *ema, guint i)
{
  return ((RgEmaEntry *)g_ptr_array_index (ema->entries, i))->shadow;
}

RgTensor *
rg_ema_lookup (RgEma *ema, const char *name)
{
  for (guint i = 0; i < ema->entries->len; i++)
    {
      RgEmaEntry *e = g_ptr_array_index (ema->entries, i);
      if (strcmp (e->name, name) == 0)
        return e->shadow;
    }
  return NULL;
}

int64_t
rg_ema_get_updates (RgEma *ema)
{
  return ema->updates;
}

void
rg_ema_set_updates (RgEma *ema, int64_t n)
{
  ema->updates = MAX (n, 0);
}
