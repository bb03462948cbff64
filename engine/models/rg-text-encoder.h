/* rg-text-encoder.h — the byte-level (ByT5-style) text encoder.
 *
 * A prompt is its UTF-8 bytes (id = byte + 3) followed by end-of-text, cut
 * to max_len; a bidirectional transformer reads it and its output is
 * projected and layer-normed to the DiT's context width. Padding positions
 * are masked out of attention and their outputs are zero, so a context and
 * its per-prompt length are all the DiT needs. */
#pragma once

#include <gio/gio.h>

#include "core/rg-tensor.h"
#include "models/rg-model-config.h"

G_BEGIN_DECLS

#define RG_TEXT_PAD 0
#define RG_TEXT_EOS 1
#define RG_TEXT_UNK 2
#define RG_TEXT_BYTE_OFFSET 3

typedef struct _RgTextEncoder RgTextEncoder;

/* Write the token ids of `utf8` into ids[0..max_len) (padding with
 * RG_TEXT_PAD) and return how many are valid (≥ 1: end-of-text). Invalid
 * UTF-8 is not an error here: each byte is still a token. */
int rg_text_tokenize (const RgTextConfig *config, const char *utf8, int32_t *ids);

/* Word features (config->word_buckets > 0): for each of the n token ids,
 * the bucket of the word the token belongs to (uni) and of that word
 * together with the word before it (bi), or -1 where there is none: tokens
 * outside words (spaces, punctuation, end-of-text, padding) and the first
 * word's bigram. A word is a run of ASCII letters and digits, '-' and
 * non-ASCII bytes, lowercased; buckets are FNV-1a hashes modulo
 * word_buckets. tests/reference/models_ref.py computes the same. */
void rg_text_word_buckets (const RgTextConfig *config, const int32_t *ids, int64_t n,
                           int32_t *uni, int32_t *bi);

/* ids [B, max_len] int32 with per-row lengths len[B] → context
 * [B, max_len, dit.context_width]. Not reentrant (one arena per encoder). */
gboolean rg_text_encoder_forward (RgTextEncoder *te, const RgTensor *ids, const int32_t *len,
                                  RgTensor *context, GCancellable *cancellable,
                                  GError **error);

/* Convenience: tokenize n prompts and encode them. Returns the context
 * [n, max_len, context_width] and fills len_out[n]. */
RgTensor *rg_text_encoder_encode (RgTextEncoder *te, const char *const *prompts, int n,
                                  int32_t *len_out, GCancellable *cancellable, GError **error);

G_END_DECLS
