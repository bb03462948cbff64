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
  RgTensor    *word_embed;  /* [word_buckets, W], or NULL */
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

/* The stages both passes share. Keys past a prompt's length are masked
 * and every other stage works token by token, so positions past the
 * longest prompt of a batch never reach a valid output: the passes run on
 * the first keep = max(len) positions only (prompts are usually far
 * shorter than max_len, and the encoder's cost is linear to quadratic in
 * its length). */
int64_t   rg_text_encoder_keep (const int32_t *len, int64_t batch);
/* Token embedding plus positions (plus word features) of ids[:, :keep] →
 * x [B, keep, W]; *ids_out (may be NULL) gets those ids packed, [B, keep]
 * i32, and *words_out (may be NULL; NULL without word features) their word
 * and bigram buckets, [B, keep, 2] i32, for a backward. */
RgTensor *rg_text_encoder_embed (const RgTextEncoder *te, RgArena *arena, const RgTensor *ids,
                                 int64_t keep, RgTensor **ids_out, RgTensor **words_out);
/* context [B, max_len, C] = out_norm(p [B, keep, C]) at the valid
 * positions of each prompt, zeros elsewhere. */
void      rg_text_encoder_write_context (const RgTextEncoder *te, RgArena *arena,
                                         const RgTensor *p, const int32_t *len,
                                         RgTensor *context);

G_END_DECLS
