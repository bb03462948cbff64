/* rg-tae-train.h — the TAE's training passes.
 *
 * A tape keeps what one training pass through the encoder and the decoder
 * needs for its backward (rg-nn-grad.h): the forward functions here give
 * the same outputs as rg_tae_encode/rg_tae_decode and record into the
 * tape; the backwards accumulate weight gradients into an RgGrads and the
 * input gradient into the tensor given. Encoder and decoder have separate
 * halves of the tape so a trainer can run encode → (sample) → decode and
 * then decode-backward → encode-backward. rg_tae_tape_reset drops a pass
 * (call it once per step, before the next forward). */
#pragma once

#include <glib.h>

#include "core/rg-tensor.h"
#include "models/rg-tae.h"
#include "nn/rg-grads.h"

G_BEGIN_DECLS

typedef struct _RgTaeTape RgTaeTape;

RgTaeTape *rg_tae_tape_new (const RgTae *tae);
void       rg_tae_tape_free (RgTaeTape *tape);
void       rg_tae_tape_reset (RgTaeTape *tape);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgTaeTape, rg_tae_tape_free)

/* As rg_tae_encode (both outputs required). */
gboolean rg_tae_encode_train (RgTae *tae, RgTaeTape *tape, const RgTensor *video, RgTensor *mean,
                              RgTensor *logvar, GError **error);
/* dmean, dlogvar: gradients of the loss w.r.t. the encode's outputs. */
void     rg_tae_encode_backward (RgTae *tae, RgTaeTape *tape, RgGrads *g, const RgTensor *dmean,
                                 const RgTensor *dlogvar);

/* As rg_tae_decode. */
gboolean rg_tae_decode_train (RgTae *tae, RgTaeTape *tape, const RgTensor *latent,
                              RgTensor *video, GError **error);
/* dlatent (the latent's shape) accumulates; may be NULL. */
void     rg_tae_decode_backward (RgTae *tae, RgTaeTape *tape, RgGrads *g, const RgTensor *dvideo,
                                 RgTensor *dlatent);

G_END_DECLS
