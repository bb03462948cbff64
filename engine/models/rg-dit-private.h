/* rg-dit-private.h — the DiT's layers, shared by its inference pass
 * (rg-dit.c) and its training passes (rg-dit-train.c). */
#pragma once

#include "models/rg-dit.h"
#include "nn/rg-nn.h"

G_BEGIN_DECLS

/* adaLN vectors per block: shift1, scale1, gate1, shift2, scale2, gate2 */
#define RG_DIT_N_MOD 6

typedef struct {
  RgTensor        *mod_table; /* [6, D] */
  RgRmsNorm        norm1, norm2, norm3;
  RgAttentionLayer self_attn, cross_attn;
  RgSwiGLU         ffn;
} RgDitBlock;

struct _RgDit {
  RgDitConfig cfg;
  RgLinear    patch_embed;
  RgTimeEmbed time_embed;
  RgTensor   *task_embed; /* [n_tasks, D] or NULL */
  RgLinear    t_mod;      /* D → 6D, shared by all blocks */
  RgPosEmb3   pos;
  RgDitBlock *blocks;
  RgRmsNorm   final_norm;
  RgLinear    final_mod;  /* D → 2D */
  RgLinear    final_proj;
  RgLinear    text_pool;  /* context_width → D when cfg.pooled_text, else unset */
  RgArena    *pass, *layer;
  gsize       peak;
};

/* With cfg.pooled_text: temb [B, D] += text_pool(the mean of each
 * context row over its valid tokens: all of them when context_len is NULL,
 * zeros for an empty one), and the pooled [B, context_width] (text_pool's
 * input, in arena) is returned. NULL, and temb untouched, without it. */
RgTensor *rg_dit_add_pooled_text (const RgDit *dit, RgArena *arena, const RgDitInput *in,
                                  RgTensor *temb);

/* The input and output checks of rg_dit_forward (RG_ERROR_INVALID_ARGUMENT). */
gboolean rg_dit_check_input (const RgDit *dit, const RgDitInput *in, const RgTensor *v,
                             GError **error);

G_END_DECLS
