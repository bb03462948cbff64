/* rg-tiled-decode.h — decode a long latent in overlapping time tiles.
 *
 * A TAE is trained on clips of a fixed length and its activations grow with
 * T, so a long latent is decoded as tiles of `tile` latent frames that
 * overlap by `overlap` latent frames; in the overlap the two decodes are
 * cross-faded with linear weights (DESIGN §4), which hides the seams the
 * replicate padding at tile edges would otherwise leave. The last tile is
 * aligned to the end of the latent so every tile has the full length. */
#pragma once

#include <gio/gio.h>

#include "core/rg-tensor.h"

G_BEGIN_DECLS

/* Decode latent [B, C, t, h, w] into video [B, 3, t·time_factor, H, W]. */
typedef gboolean (*RgTileDecodeFunc) (const RgTensor *latent, RgTensor *video,
                                      gpointer user_data, GCancellable *cancellable,
                                      GError **error);

/* latent [B, C, T', h, w] → video [B, Cv, T'·time_factor, H, W] (the
 * caller allocates video). A latent of at most `tile` frames is decoded in
 * one call. Requires 0 ≤ overlap < tile. */
gboolean rg_tiled_decode (const RgTensor *latent, int tile, int overlap, int time_factor,
                          RgTileDecodeFunc decode, gpointer user_data, RgTensor *video,
                          GCancellable *cancellable, GError **error);

G_END_DECLS
