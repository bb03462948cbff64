/* rg-tiled-decode.h — decode a long latent in overlapping time tiles.
 *
 * A TAE is trained on clips of a fixed length and its activations grow with
 * T, so a long latent is decoded as tiles of `tile` latent frames that
 * overlap by `overlap` latent frames; in the overlap the two decodes are
 * cross-faded with linear weights (DESIGN §4), which hides the seams the
 * replicate padding at tile edges would otherwise leave. Tiles always have
 * the full length: the fewest tiles that overlap by at least `overlap` are
 * spread evenly from the start to the end of the latent. */
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

/* How many decode calls rg_tiled_decode makes for `frames` latent frames
 * (for progress reports); 0 for arguments it would refuse. */
int rg_tiled_decode_n_tiles (int64_t frames, int tile, int overlap);

G_END_DECLS
