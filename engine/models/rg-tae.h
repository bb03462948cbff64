/* rg-tae.h — the temporal autoencoder (TAE), 2.5D as in Movie Gen.
 *
 * Every convolution is a spatial 3×3 conv applied per frame followed by a
 * temporal conv of size 3 along T, both with replicate padding. The encoder
 * downsamples H, W with stride-2 spatial convs and T with stride-2 temporal
 * convs; the decoder mirrors it with nearest upsampling + conv. The encoder
 * predicts a Gaussian (mean, log-variance) with latent_channels channels.
 * Video is [B, 3, T, H, W] in [-1, 1]; latents are [B, C, T/ft, H/fs, W/fs]
 * (factors from rg_model_config_tae_*_factor). */
#pragma once

#include <gio/gio.h>

#include "core/rg-tensor.h"
#include "models/rg-model-config.h"

G_BEGIN_DECLS

typedef struct _RgTae RgTae;

/* logvar may be NULL. Errors: a clip not divisible by the TAE factors, or
 * outputs of the wrong shape (RG_ERROR_INVALID_ARGUMENT); cancellation. */
gboolean rg_tae_encode (RgTae *tae, const RgTensor *video, RgTensor *mean, RgTensor *logvar,
                        GCancellable *cancellable, GError **error);
gboolean rg_tae_decode (RgTae *tae, const RgTensor *latent, RgTensor *video,
                        GCancellable *cancellable, GError **error);

G_END_DECLS
