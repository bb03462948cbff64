/* rg-dit.h — the video diffusion transformer (flow-matching velocity).
 *
 * Llama-style blocks: RMSNorm → self-attention (full, bidirectional,
 * QK-norm) → RMSNorm → cross-attention to the text context → RMSNorm →
 * SwiGLU. The flow time t sets shift/scale/gate of the self-attention and
 * FFN branches (adaLN, one shared projection plus a learned per-block
 * table, as PixArt-α does, so the conditioning costs no per-block matrix).
 * The factorized positional embedding (T, H, W tables summed) is added to
 * the tokens at the start of every block. Tokens are 1×ph×pw patches. */
#pragma once

#include <gio/gio.h>

#include "core/rg-tensor.h"
#include "models/rg-model-config.h"

G_BEGIN_DECLS

typedef struct _RgDit RgDit;

typedef struct {
  /* [B, in_channels + extra_in_channels, T, H, W] latent at time t */
  const RgTensor *x;
  /* [B] flow time in [0, 1] (0 = noise, 1 = data) */
  const RgTensor *t;
  /* [B, L, context_width] text context and its valid lengths (NULL = all L) */
  const RgTensor *context;
  const int32_t  *context_len;
  /* [B] task ids when the config has n_tasks > 0, else NULL */
  const int32_t  *task;
} RgDitInput;

/* v = predicted velocity [B, in_channels, T, H, W]. Errors: shapes that do
 * not match the config or exceed the positional tables
 * (RG_ERROR_INVALID_ARGUMENT), cancellation (checked between blocks,
 * RG_ERROR_CANCELLED). Not reentrant (one arena per DiT). */
gboolean rg_dit_forward (RgDit *dit, const RgDitInput *input, RgTensor *v,
                         GCancellable *cancellable, GError **error);

/* Peak bytes of activations held by the DiT's arena so far. */
gsize rg_dit_get_arena_peak (RgDit *dit);

G_END_DECLS
