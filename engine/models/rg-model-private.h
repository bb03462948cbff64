/* rg-model-private.h — how RgModel builds its parts (not installed API).
 *
 * Each part declares its weights through an RgParams under its own prefix
 * ("text", "tae", "dit"); the RgParams owns them, the part borrows them. */
#pragma once

#include "models/rg-model.h"
#include "nn/rg-params.h"

G_BEGIN_DECLS

RgTextEncoder *rg_text_encoder_new (const RgModelConfig *config, RgParams *params);
void           rg_text_encoder_free (RgTextEncoder *te);
RgTae         *rg_tae_new (const RgModelConfig *config, RgParams *params);
void           rg_tae_free (RgTae *tae);
RgDit         *rg_dit_new (const RgModelConfig *config, RgParams *params);
void           rg_dit_free (RgDit *dit);

/* RG_ERROR_CANCELLED naming what was interrupted, when c is cancelled. */
gboolean rg_model_check_cancel (GCancellable *c, const char *what, GError **error);

G_END_DECLS
