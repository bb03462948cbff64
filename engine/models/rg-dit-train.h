/* rg-dit-train.h — training passes of the DiT and the text encoder.
 *
 * A tape keeps what one training pass needs for its backward
 * (rg-nn-grad.h): the forward functions here give the same outputs as
 * rg_dit_forward / rg_text_encoder_forward and record into the tape; the
 * backwards accumulate weight gradients into an RgGrads (rg-grads.h) and
 * the input gradient into the tensor given. A tape holds one pass: every
 * _forward_train starts by resetting its tape, so one tape per model
 * serves every step (rg_*_tape_reset drops a pass early, e.g. to release
 * the activations before a checkpoint is written).
 *
 * The usual text-to-video step is
 *   text forward_train → DiT forward_train → loss → DiT backward (with a
 *   dcontext) → text backward (from that dcontext),
 * with both tapes alive until the text backward has run: the DiT tape
 * holds a ref on the context it attended to. */
#pragma once

#include <glib.h>

#include "core/rg-tensor.h"
#include "models/rg-dit.h"
#include "models/rg-text-encoder.h"
#include "nn/rg-grads.h"

G_BEGIN_DECLS

/* ---- DiT ---- */

typedef struct _RgDitTape RgDitTape;

RgDitTape *rg_dit_tape_new (const RgDit *dit);
void       rg_dit_tape_free (RgDitTape *tape);
void       rg_dit_tape_reset (RgDitTape *tape);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgDitTape, rg_dit_tape_free)

/* As rg_dit_forward (same checks and errors, except that there is no
 * cancellation point), recording into the tape. */
gboolean rg_dit_forward_train (RgDit *dit, RgDitTape *tape, const RgDitInput *in, RgTensor *v,
                               GError **error);
/* dv: ∂L/∂v, v's shape. Weight gradients accumulate into g; dcontext
 * [B, L, context_width] accumulates ∂L/∂context (may be NULL; positions at
 * or past context_len get nothing, they are masked). The latent x, the
 * flow time t and the task ids are data and get no gradient. */
void     rg_dit_backward (RgDit *dit, RgDitTape *tape, RgGrads *g, const RgTensor *dv,
                          RgTensor *dcontext);

/* ---- text encoder ---- */

typedef struct _RgTextEncoderTape RgTextEncoderTape;

RgTextEncoderTape *rg_text_encoder_tape_new (const RgTextEncoder *te);
void               rg_text_encoder_tape_free (RgTextEncoderTape *tape);
void               rg_text_encoder_tape_reset (RgTextEncoderTape *tape);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgTextEncoderTape, rg_text_encoder_tape_free)

/* As rg_text_encoder_forward (without a cancellation point). */
gboolean rg_text_encoder_forward_train (RgTextEncoder *te, RgTextEncoderTape *tape,
                                        const RgTensor *ids, const int32_t *len,
                                        RgTensor *context, GError **error);
/* dcontext: ∂L/∂context. Padding positions of the context are zeros
 * written by the forward, not functions of the weights, so their
 * gradient is dropped. Token ids are data: no input gradient. */
void     rg_text_encoder_backward (RgTextEncoder *te, RgTextEncoderTape *tape, RgGrads *g,
                                   const RgTensor *dcontext);

G_END_DECLS
