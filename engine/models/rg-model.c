/* rg-model.c — the model family: build from a config, init, load, save. */
#include "models/rg-model.h"

#include <string.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "core/rg-safetensors.h"
#include "models/rg-model-private.h"
#include "rg-config.h"

struct _RgModel {
  gint           ref_count;
  RgModelConfig  config;
  RgParams      *params;
  RgTextEncoder *text;
  RgTae         *tae;
  RgDit         *dit;
};

gboolean
rg_model_check_cancel (GCancellable *c, const char *what, GError **error)
{
  if (c == NULL || !g_cancellable_is_cancelled (c))
    return TRUE;
  g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "%s cancelled", what);
  return FALSE;
}

static void
model_free (RgModel *m)
{
  rg_text_encoder_free (m->text);
  rg_tae_free (m->tae);
  rg_dit_free (m->dit);
  rg_params_free (m->params);
  g_free (m);
}

/* Declare every weight of the family through `params` (init or load). */
static RgModel *
build (const RgModelConfig *config, RgParams *params, GError **error)
{
  RgModel *m = g_new0 (RgModel, 1);
  m->ref_count = 1;
  m->config = *config;
  m->params = params;
  m->text = rg_text_encoder_new (config, params);
  m->tae = rg_tae_new (config, params);
  m->dit = rg_dit_new (config, params);
  if (!rg_params_finish (params, error))
    {
      model_free (m);
      return NULL;
    }
  return m;
}

/* Parameters of the family, from the config alone (within a few percent:
 * norms and biases are left out), so that an init that cannot fit in memory
 * is refused instead of failing inside an allocation. */
static double
params_estimate (const RgModelConfig *config)
{
  const RgDitConfig *c = &config->dit;
  const RgTextConfig *t = &config->text;
  const RgTaeConfig *a = &config->tae;
  double d = c->width, k = c->context_width, w = t->width;
  double dit = c->layers * (6 * d + 4 * d * d + 2 * d * d + 2 * d * k + 3 * d * c->ffn)
               + 8 * d * d + (c->pos_t + c->pos_h + c->pos_w) * d;
  double text = ((double) t->vocab + t->max_len) * w
                + t->layers * (4 * w * w + 3 * w * t->ffn) + w * k;
  double tae = 0;
  for (int l = 0; l < a->levels; l++)
    {
      double ch = a->channels[l], next = l + 1 < a->levels ? a->channels[l + 1] : ch;
      /* encoder and decoder: a residual block (two conv25) and a transition */
      tae += 2 * (2 * 12 * ch * ch + 9 * ch * next + 3 * next * next);
    }
  return dit + text + tae;
}

RgModel *
rg_model_init (const RgModelConfig *config, guint64 seed, GError **error)
{
  if (!rg_model_config_validate (config, error))
    return NULL;
  double bytes = params_estimate (config) * sizeof (float);
  double ram = (double) sysconf (_SC_PHYS_PAGES) * (double) sysconf (_SC_PAGESIZE);
  if (ram > 0 && bytes > 0.8 * ram)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                   "model '%s' needs about %.1f GB of f32 weights; this machine has %.1f GB",
                   config->name, bytes / 1e9, ram / 1e9);
      return NULL;
    }
  return build (config, rg_params_new_init (seed), error);
}

static RgModel *
load (const char *path, gboolean writable, GError **error)
{
  g_autoptr (RgSafetensors) st = rg_safetensors_open (path, error);
  if (st == NULL)
    return NULL;
  const char *json = rg_safetensors_get_metadata (st, RG_MODEL_CONFIG_KEY);
  if (json == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s: no \"%s\" in __metadata__ (not a Reelgen model checkpoint)", path,
                   RG_MODEL_CONFIG_KEY);
      return NULL;
    }
  const char *part = rg_safetensors_get_metadata (st, "reelgen.part");
  if (part != NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s holds only the \"%s\" weights of a model (a part file), not a whole "
                   "model", path, part);
      return NULL;
    }
  RgModelConfig config;
  g_autoptr (GError) local = NULL;
  if (!rg_model_config_from_json (json, &config, &local))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: %s", path, local->message);
      return NULL;
    }
  return build (&config, rg_params_new_load (st, writable), error);
}

RgModel *
rg_model_load (const char *path, GError **error)
{
  return load (path, FALSE, error);
}

RgModel *
rg_model_load_writable (const char *path, GError **error)
{
  return load (path, TRUE, error);
}

gboolean
rg_model_save (RgModel *m, const char *path, RgDType dtype, GError **error)
{
  return rg_model_save_part (m, path, NULL, dtype, error);
}

gboolean
rg_model_save_part (RgModel *m, const char *path, const char *prefix, RgDType dtype,
                    GError **error)
{
  if (dtype != RG_F32 && dtype != RG_BF16 && dtype != RG_F16)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: weights can be stored as F32, BF16 or F16, not %s", path,
                   rg_dtype_name (dtype));
      return FALSE;
    }
  g_autofree char *json = rg_model_config_to_json (&m->config);
  const char *metadata[] = { RG_MODEL_CONFIG_KEY, json, "format", "pt",
                             "reelgen.version", RG_VERSION, NULL };
  const char *part[] = { RG_MODEL_CONFIG_KEY, json, "format", "pt", "reelgen.version",
                         RG_VERSION, "reelgen.part", prefix, NULL };
  return rg_params_save (m->params, path, prefix, dtype, prefix ? part : metadata, error);
}

RgModel *
rg_model_ref (RgModel *m)
{
  g_return_val_if_fail (m != NULL, NULL);
  g_atomic_int_inc (&m->ref_count);
  return m;
}

void
rg_model_unref (RgModel *m)
{
  if (m != NULL && g_atomic_int_dec_and_test (&m->ref_count))
    model_free (m);
}

const RgModelConfig *
rg_model_get_config (RgModel *m)
{
  return &m->config;
}

RgTextEncoder *
rg_model_get_text_encoder (RgModel *m)
{
  return m->text;
}

RgTae *
rg_model_get_tae (RgModel *m)
{
  return m->tae;
}

RgDit *
rg_model_get_dit (RgModel *m)
{
  return m->dit;
}

int64_t
rg_model_count_params (RgModel *m, const char *part)
{
  if (part == NULL)
    return rg_params_count (m->params, NULL);
  g_autofree char *prefix = g_strconcat (part, ".", NULL);
  return rg_params_count (m->params, prefix);
}

guint
rg_model_get_n_weights (RgModel *m)
{
  return rg_params_get_n (m->params);
}

const char *
rg_model_get_weight_name (RgModel *m, guint i)
{
  return rg_params_get_name (m->params, i);
}

RgTensor *
rg_model_find_weight (RgModel *m, const char *name)
{
  for (guint i = 0; i < rg_model_get_n_weights (m); i++)
    if (strcmp (rg_model_get_weight_name (m, i), name) == 0)
      return rg_model_get_weight (m, i);
  return NULL;
}

RgTensor *
rg_model_get_weight (RgModel *m, guint i)
{
  return rg_params_get_tensor (m->params, i);
}

RgParams *
rg_model_get_params (RgModel *m)
{
  return m->params;
}

gboolean
rg_model_load_part (RgModel *m, const char *path, const char *prefix, GError **error)
{
  g_autoptr (RgSafetensors) st = rg_safetensors_open (path, error);
  if (st == NULL)
    return FALSE;
  RgModelConfig config;
  const char *json = rg_safetensors_get_metadata (st, RG_MODEL_CONFIG_KEY);
  g_autoptr (GError) local = NULL;
  if (json == NULL || !rg_model_config_from_json (json, &config, &local))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: %s", path,
                   json == NULL ? "no model config in __metadata__ (not a Reelgen model file)"
                                : local->message);
      return FALSE;
    }
  /* read and check everything first: a partial copy would leave a mixed model */
  guint n = rg_params_get_n (m->params);
  g_autoptr (GPtrArray) from = g_ptr_array_new_with_free_func ((GDestroyNotify) rg_tensor_unref);
  for (guint i = 0; i < n; i++)
    {
      const char *name = rg_params_get_name (m->params, i);
      if (!g_str_has_prefix (name, prefix))
        continue;
      RgTensor *dst = rg_params_get_tensor (m->params, i);
      if (!rg_safetensors_contains (st, name))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: %s is missing", path,
                       name);
          return FALSE;
        }
      RgTensor *t = rg_safetensors_get_f32 (st, name, error);
      if (t == NULL)
        return FALSE;
      g_ptr_array_add (from, t);
      if (!rg_tensor_same_shape (t, dst))
        {
          g_autofree char *a = rg_tensor_shape_string (t);
          g_autofree char *b = rg_tensor_shape_string (dst);
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "%s: %s is %s, this model's is %s", path, name, a, b);
          return FALSE;
        }
    }
  if (from->len == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "no weight of this model starts with \"%s\"", prefix);
      return FALSE;
    }
  for (guint i = 0, k = 0; i < n; i++)
    if (g_str_has_prefix (rg_params_get_name (m->params, i), prefix))
      rg_tensor_copy (rg_params_get_tensor (m->params, i), g_ptr_array_index (from, k++));
  return TRUE;
}

void
rg_model_set_latent_stats (RgModel *m, float mean, float std)
{
  m->config.tae.latent_mean = mean;
  m->config.tae.latent_std = std;
}
