/* rg-optim.c — AdamW (PyTorch's operation order) and gradient clipping. */
#include "train/rg-optim.h"

#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-parallel.h"

/* Elements per task on the pool, and per partial sum of the gradient norm.
 * The norm's blocks are fixed-size so its rounding never depends on the
 * thread count. */
#define RG_OPTIM_GRAIN 16384
#define RG_OPTIM_NORM_BLOCK 4096

typedef struct
{
  char *name;
  RgTensor *weight;
  RgTensor *grad;
  RgTensor *m;
  RgTensor *v;
  gboolean decays;
} RgAdamWParam;

struct _RgAdamW
{
  RgAdamWConfig config;
  GPtrArray *params; /* RgAdamWParam * */
  int64_t step;
};

void
rg_adamw_config_init (RgAdamWConfig *config)
{
  config->beta1 = 0.9;
  config->beta2 = 0.999;
  config->eps = 1e-8;
  config->weight_decay = 0.01;
}

gboolean
rg_adamw_config_validate (const RgAdamWConfig *c, GError **error)
{
  if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "AdamW: betas must lie in [0, 1), got %g and %g", c->beta1, c->beta2);
      return FALSE;
    }
  if (!(c->eps > 0) || !isfinite (c->eps))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "AdamW: eps must be a positive number, got %g", c->eps);
      return FALSE;
    }
  if (!(c->weight_decay >= 0) || !isfinite (c->weight_decay))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "AdamW: weight decay must be finite and >= 0, got %g", c->weight_decay);
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_optim_name_decays (const char *name)
{
  if (g_str_has_suffix (name, ".bias") || strcmp (name, "bias") == 0)
    return FALSE;

  g_auto (GStrv) parts = g_strsplit (name, ".", -1);
  for (char **p = parts; *p; p++)
    {
      g_autofree char *low = g_ascii_strdown (*p, -1);
      if (strstr (low, "norm") || strstr (low, "embed") || g_str_has_prefix (low, "ln")
          || g_str_has_prefix (low, "pos"))
        return FALSE;
    }
  return TRUE;
}

static void
param_free (gpointer data)
{
  RgAdamWParam *p = data;

  g_free (p->name);
  rg_tensor_unref (p->weight);
  rg_tensor_unref (p->grad);
  rg_tensor_unref (p->m);
  rg_tensor_unref (p->v);
  g_free (p);
}

RgAdamW *
rg_adamw_new (const RgAdamWConfig *config, GError **error)
{
  if (!rg_adamw_config_validate (config, error))
    return NULL;

  RgAdamW *opt = g_new0 (RgAdamW, 1);
  opt->config = *config;
  opt->params = g_ptr_array_new_with_free_func (param_free);
  return opt;
}

void
rg_adamw_free (RgAdamW *opt)
{
  if (!opt)
    return;
  g_ptr_array_unref (opt->params);
  g_free (opt);
}

static gboolean
check_f32 (const char *name, const char *role, RgTensor *t, GError **error)
{
  if (t->dtype != RG_F32 || t->backend != RG_BACKEND_CPU || !rg_tensor_is_contiguous (t))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "AdamW: %s of parameter \"%s\" must be a contiguous f32 CPU tensor", role, name);
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_adamw_add_param (RgAdamW *opt, const char *name, RgTensor *weight, RgTensor *grad,
                    GError **error)
{
  if (rg_adamw_find (opt, name) >= 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "AdamW: parameter \"%s\" is registered twice", name);
      return FALSE;
    }
  if (!check_f32 (name, "weight", weight, error) || !check_f32 (name, "gradient", grad, error))
    return FALSE;
  if (!rg_tensor_same_shape (weight, grad))
    {
      g_autofree char *ws = rg_tensor_shape_string (weight);
      g_autofree char *gs = rg_tensor_shape_string (grad);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "AdamW: parameter \"%s\" has weight %s but gradient %s", name, ws, gs);
      return FALSE;
    }

  RgAdamWParam *p = g_new0 (RgAdamWParam, 1);
  p->name = g_strdup (name);
  p->weight = rg_tensor_ref (weight);
  p->grad = rg_tensor_ref (grad);
  p->m = rg_tensor_zeros (RG_F32, weight->ndim, weight->shape);
  p->v = rg_tensor_zeros (RG_F32, weight->ndim, weight->shape);
  p->decays = rg_optim_name_decays (name);
  g_ptr_array_add (opt->params, p);
  return TRUE;
}

int
rg_adamw_find (RgAdamW *opt, const char *name)
{
  for (guint i = 0; i < opt->params->len; i++)
    if (strcmp (((RgAdamWParam *)opt->params->pdata[i])->name, name) == 0)
      return (int)i;
  return -1;
}

gboolean
rg_adamw_set_decay (RgAdamW *opt, const char *name, gboolean decay, GError **error)
{
  int i = rg_adamw_find (opt, name);
  if (i < 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "AdamW: no parameter \"%s\"", name);
      return FALSE;
    }
  ((RgAdamWParam *)opt->params->pdata[i])->decays = decay;
  return TRUE;
}

#define PARAM(opt, i) ((RgAdamWParam *)g_ptr_array_index ((opt)->params, (i)))

const RgAdamWConfig *
rg_adamw_get_config (RgAdamW *opt)
{
  return &opt->config;
}

guint
rg_adamw_get_n_params (RgAdamW *opt)
{
  return opt->params->len;
}

const char *
rg_adamw_get_name (RgAdamW *opt, guint i)
{
  return PARAM (opt, i)->name;
}

RgTensor *
rg_adamw_get_weight (RgAdamW *opt, guint i)
{
  return PARAM (opt, i)->weight;
}

RgTensor *
rg_adamw_get_grad (RgAdamW *opt, guint i)
{
  return PARAM (opt, i)->grad;
}

RgTensor *
rg_adamw_get_m (RgAdamW *opt, guint i)
{
  return PARAM (opt, i)->m;
}

RgTensor *
rg_adamw_get_v (RgAdamW *opt, guint i)
{
  return PARAM (opt, i)->v;
}

gboolean
rg_adamw_get_decays (RgAdamW *opt, guint i)
{
  return PARAM (opt, i)->decays;
}

int64_t
rg_adamw_get_step (RgAdamW *opt)
{
  return opt->step;
}

void
rg_adamw_set_step (RgAdamW *opt, int64_t step)
{
  opt->step = MAX (step, 0);
}

/* The scalars of one update, already rounded to f32 as PyTorch rounds its
 * Python-float arguments for an f32 tensor. */
typedef struct
{
  float *w, *g, *m, *v;
  float decay_mul; /* 1 − lr·λ */
  gboolean decays;
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float bc2_sqrt; /* √(1 − β₂ᵗ) */
  float eps;
  float neg_step; /* −lr / (1 − β₁ᵗ) */
} AdamWTask;

/* Elements [0, n) of one tensor. The four arrays are separate buffers, and
 * restrict says so: the loop vectorises without run-time overlap checks
 * between every pair of them. The scalars are read into locals first (the
 * engine builds with -fno-strict-aliasing, so a float store could change
 * k's fields for all the compiler knows). */
static void
adamw_update (const AdamWTask *k, float *restrict ws, float *restrict ms, float *restrict vs,
              const float *restrict gs, int64_t n)
{
  float decay_mul = k->decays ? k->decay_mul : 1.0f, beta1 = k->beta1, beta2 = k->beta2;
  float one_minus_beta1 = k->one_minus_beta1, one_minus_beta2 = k->one_minus_beta2;
  float bc2_sqrt = k->bc2_sqrt, eps = k->eps, neg_step = k->neg_step;

  for (int64_t i = 0; i < n; i++)
    {
      float w = ws[i] * decay_mul, g = gs[i];
      float m = ms[i] * beta1 + one_minus_beta1 * g;
      float v = vs[i] * beta2 + one_minus_beta2 * (g * g);
      float denom = sqrtf (v) / bc2_sqrt + eps;
      ms[i] = m;
      vs[i] = v;
      ws[i] = w + neg_step * (m / denom);
    }
}

static void
adamw_range (void *ctx, int64_t begin, int64_t end)
{
  const AdamWTask *k = ctx;
  adamw_update (k, k->w + begin, k->m + begin, k->v + begin, k->g + begin, end - begin);
}

void
rg_adamw_step (RgAdamW *opt, double lr)
{
  const RgAdamWConfig *c = &opt->config;

  opt->step++;
  double t = (double)opt->step;
  double bc1 = 1.0 - pow (c->beta1, t);
  double bc2 = 1.0 - pow (c->beta2, t);

  AdamWTask k = {
    .decay_mul = (float)(1.0 - lr * c->weight_decay),
    .beta1 = (float)c->beta1,
    .one_minus_beta1 = (float)(1.0 - c->beta1),
    .beta2 = (float)c->beta2,
    .one_minus_beta2 = (float)(1.0 - c->beta2),
    .bc2_sqrt = (float)sqrt (bc2),
    .eps = (float)c->eps,
    .neg_step = (float)(-(lr / bc1)),
  };
  for (guint i = 0; i < opt->params->len; i++)
    {
      RgAdamWParam *p = PARAM (opt, i);
      k.w = rg_tensor_f32 (p->weight);
      k.g = rg_tensor_f32 (p->grad);
      k.m = rg_tensor_f32 (p->m);
      k.v = rg_tensor_f32 (p->v);
      k.decays = p->decays && c->weight_decay != 0;
      rg_parallel_for (rg_tensor_numel (p->weight), RG_OPTIM_GRAIN, adamw_range, &k);
    }
}

void
rg_adamw_zero_grad (RgAdamW *opt)
{
  for (guint i = 0; i < opt->params->len; i++)
    rg_tensor_fill (PARAM (opt, i)->grad, 0.f);
}

typedef struct
{
  const float *g;
  int64_t n;
  double *partial; /* one sum of squares per block */
} NormTask;

static void
norm_range (void *ctx, int64_t begin, int64_t end)
{
  const NormTask *k = ctx;

  for (int64_t b = begin; b < end; b++)
    {
      int64_t lo = b * RG_OPTIM_NORM_BLOCK, hi = MIN (lo + RG_OPTIM_NORM_BLOCK, k->n);
      double s = 0;
      for (int64_t i = lo; i < hi; i++)
        s += (double)k->g[i] * (double)k->g[i];
      k->partial[b] = s;
    }
}

double
rg_adamw_grad_norm (RgAdamW *opt)
{
  double total = 0;

  for (guint i = 0; i < opt->params->len; i++)
    {
      RgAdamWParam *p = PARAM (opt, i);
      int64_t n = rg_tensor_numel (p->grad);
      int64_t blocks = (n + RG_OPTIM_NORM_BLOCK - 1) / RG_OPTIM_NORM_BLOCK;
      if (blocks == 0)
        continue;
      g_autofree double *partial = g_new (double, blocks);
      NormTask k = { rg_tensor_f32 (p->grad), n, partial };
      rg_parallel_for (blocks, 4, norm_range, &k);
      for (int64_t b = 0; b < blocks; b++)
        total += partial[b];
    }
  return sqrt (total);
}

typedef struct
{
  float *g;
  float scale;
} ScaleTask;

static void
scale_range (void *ctx, int64_t begin, int64_t end)
{
  const ScaleTask *k = ctx;

  for (int64_t i = begin; i < end; i++)
    k->g[i] *= k->scale;
}

double
rg_adamw_clip_grad_norm (RgAdamW *opt, double max_norm)
{
  double norm = rg_adamw_grad_norm (opt);
  if (!isfinite (norm))
    return norm;

  double coef = max_norm / (norm + 1e-6);
  if (coef >= 1.0)
    return norm;

  for (guint i = 0; i < opt->params->len; i++)
    {
      RgAdamWParam *p = PARAM (opt, i);
      ScaleTask k = { rg_tensor_f32 (p->grad), (float)coef };
      rg_parallel_for (rg_tensor_numel (p->grad), RG_OPTIM_GRAIN, scale_range, &k);
    }
  return norm;
}
