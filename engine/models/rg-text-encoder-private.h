/* rg-text-encoder-private.h — the text encoder's layers, shared by its
 * inference pass (rg-text-encoder.c) and its training passes
 * (rg-text-encoder-train.c). */
#pragma once

#include "models/rg-text-encoder.h"
#include "nn/rg-nn.h"

G_BEGIN_DECLS

typedef struct {
  RgRmsNorm        attn_norm, ffn_norm;
  RgAttentionLayer attn;
  RgSwiGLU         ffn;
} RgTextBlock;

struct _RgTextEncoder {
  RgTextConfig cfg;
  int          context_width;
  RgTensor    *embed, *pos; /* [vocab, W], [max_len, W] */
  RgTextBlock *blocks;
  RgRmsNorm    norm;
  RgLinear     proj;
  RgLayerNorm  out_norm;
  RgArena     *arena;
};

/* The input and output checks of rg_text_encoder_forward
 * (RG_ERROR_INVALID_ARGUMENT). */
gboolean rg_text_encoder_check_input (const RgTextEncoder *te, const RgTensor *ids,
                                      const int32_t *len, const RgTensor *context,
                                      GError **error);

G_END_DECLS
