/* rg-model.h — a text-to-video model family in one checkpoint.
 *
 * An RgModel holds a config and the weights of its text encoder, TAE and
 * DiT, under the tensor names "text.*", "tae.*" and "dit.*". Weights come
 * from a seeded random init (Philox: the same seed gives the same weights
 * everywhere) or from a safetensors file whose every tensor's name and
 * shape are checked against the config: a missing, extra or mis-shaped
 * tensor fails the load with a GError naming it. Loaded F32 weights are
 * borrowed from the file mapping; BF16/F16 ones are converted to f32. */
#pragma once

#include <gio/gio.h>

#include "core/rg-dtype.h"
#include "models/rg-dit.h"
#include "models/rg-model-config.h"
#include "models/rg-tae.h"
#include "models/rg-text-encoder.h"
#include "nn/rg-params.h"

G_BEGIN_DECLS

typedef struct _RgModel RgModel;

RgModel *rg_model_init (const RgModelConfig *config, guint64 seed, GError **error);
RgModel *rg_model_load (const char *path, GError **error);
/* As rg_model_load, but every weight is a private f32 copy that may be
 * written (training resumes from a checkpoint; the mapping is read-only). */
RgModel *rg_model_load_writable (const char *path, GError **error);
/* Copy every weight whose name starts with `prefix` (e.g. "tae.") from the
 * model file at path — a whole family or a part file written by
 * rg_model_save_part — into this model (whose weights must be writable):
 * training a DiT on a TAE trained before it. The file must hold each of
 * them with the same shape; nothing is changed when any is missing or
 * mis-shaped. The config (tae.latent_mean/std included) stays this
 * model's: latent statistics belong to whoever measured them. */
gboolean rg_model_load_part (RgModel *model, const char *path, const char *prefix,
                             GError **error);
/* Set tae.latent_mean/std (measured on encoded training clips). */
void     rg_model_set_latent_stats (RgModel *model, float mean, float std);

/* Store every weight in `dtype` (F32, BF16 or F16) with the config in the
 * metadata; atomic (temporary file + rename). */
gboolean rg_model_save (RgModel *model, const char *path, RgDType dtype, GError **error);

RgModel *rg_model_ref (RgModel *model);
void     rg_model_unref (RgModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgModel, rg_model_unref)

/* Store only the weights whose names start with prefix (a part file, e.g.
 * "tae." for a shipped autoencoder), with the whole config in the
 * metadata and "reelgen.part" naming the prefix. rg_model_load refuses a
 * part file (it lacks the other weights); rg_model_load_part reads it. */
gboolean rg_model_save_part (RgModel *model, const char *path, const char *prefix,
                             RgDType dtype, GError **error);

const RgModelConfig *rg_model_get_config (RgModel *model);
/* Borrowed; valid while the model lives. */
RgTextEncoder *rg_model_get_text_encoder (RgModel *model);
RgTae         *rg_model_get_tae (RgModel *model);
RgDit         *rg_model_get_dit (RgModel *model);

/* Parameters of the whole family, and of each part ("text", "tae", "dit"). */
int64_t rg_model_count_params (RgModel *model, const char *part);

/* The named weights, in declaration order (for optimisers and inspection):
 * n weights; name i and its f32 tensor (owned by the model). */
guint       rg_model_get_n_weights (RgModel *model);
const char *rg_model_get_weight_name (RgModel *model, guint i);
RgTensor   *rg_model_get_weight (RgModel *model, guint i);
/* The weight called name, or NULL when the model has none. */
RgTensor   *rg_model_find_weight (RgModel *model, const char *name);
/* The weight registry itself (training builds its gradient store from it,
 * rg-grads.h). Borrowed. */
RgParams   *rg_model_get_params (RgModel *model);

G_END_DECLS
