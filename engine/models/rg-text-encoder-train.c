/* rg-text-encoder-train.c — the text encoder's training passes: the
 * stages of rg-text-encoder.c with the residual stream kept at every step
 * (the inference pass adds in place), and a backward that walks the blocks
 * in reverse with one running gradient of that stream (see
 * rg-dit-train.c). */
#include "models/rg-dit-train.h"

#include <string.h>

#include "models/rg-text-encoder-private.h"
#include "nn/rg-nn-grad.h"
#include "ops/rg-ops-grad.h"

typedef struct {
  RgTensor        *x;  /* the block's input: attn_norm's input */
  RgTensor        *x1; /* after attention: ffn_norm's input */
  RgAttentionSaved attn;
  RgSwiGLUSaved    ffn;
} BlockTape;

struct _RgTextEncoderTape {
  RgArena   *arena;   /* the pass */
  RgArena   *scratch; /* one block's backward temporaries */
  int        n_blocks;
  BlockTape *blocks;
  RgTensor  *ids;     /* the token ids the blocks saw, [B, keep] */
  RgTensor  *words;   /* their word/bigram buckets [B, keep, 2], or NULL */
  int32_t   *len;     /* arena copy of the lengths */
  int64_t    max_len; /* the context's length (positions past keep are zeros) */
  RgTensor  *xf;      /* the last block's output: norm's input */
  RgTensor  *h;       /* proj's input */
  RgTensor  *p;       /* out_norm's input */
  gboolean   done;
};

RgTextEncoderTape *
rg_text_encoder_tape_new (const RgTextEncoder *te)
{
  RgTextEncoderTape *tape = g_new0 (RgTextEncoderTape, 1);
  tape->arena = rg_arena_new (4 << 20);
  tape->scratch = rg_arena_new (4 << 20);
  tape->n_blocks = te->cfg.layers;
  tape->blocks = g_new0 (BlockTape, tape->n_blocks);
  return tape;
}

void
rg_text_encoder_tape_reset (RgTextEncoderTape *tape)
{
  for (int i = 0; i < tape->n_blocks; i++)
    {
      BlockTape *bt = &tape->blocks[i];
      g_clear_pointer (&bt->x, rg_tensor_unref);
      g_clear_pointer (&bt->x1, rg_tensor_unref);
      rg_attention_saved_clear (&bt->attn);
      rg_swiglu_saved_clear (&bt->ffn);
    }
  g_clear_pointer (&tape->ids, rg_tensor_unref);
  g_clear_pointer (&tape->words, rg_tensor_unref);
  g_clear_pointer (&tape->xf, rg_tensor_unref);
  g_clear_pointer (&tape->h, rg_tensor_unref);
  g_clear_pointer (&tape->p, rg_tensor_unref);
  tape->len = NULL;
  tape->done = FALSE;
  rg_arena_reset (tape->scratch);
  rg_arena_reset (tape->arena);
}

void
rg_text_encoder_tape_free (RgTextEncoderTape *tape)
{
  if (tape == NULL)
    return;
  rg_text_encoder_tape_reset (tape);
  g_free (tape->blocks);
  rg_arena_free (tape->scratch);
  rg_arena_free (tape->arena);
  g_free (tape);
}

gboolean
rg_text_encoder_forward_train (RgTextEncoder *te, RgTextEncoderTape *tape, const RgTensor *ids,
                               const int32_t *len, RgTensor *context, GError **error)
{
  const RgTextConfig *c = &te->cfg;
  g_return_val_if_fail (tape->n_blocks == c->layers, FALSE);
  if (!rg_text_encoder_check_input (te, ids, len, context, error))
    return FALSE;
  rg_text_encoder_tape_reset (tape);
  RgArena *a = tape->arena;
  int64_t b = ids->shape[0];
  tape->len = rg_arena_alloc (a, (gsize) b * sizeof (int32_t));
  memcpy (tape->len, len, (gsize) b * sizeof (int32_t));
  tape->max_len = c->max_len;

  /* the first keep = max(len) positions, as the inference pass */
  RgTensor *x = rg_text_encoder_embed (te, a, ids, rg_text_encoder_keep (len, b), &tape->ids,
                                        &tape->words);
  for (int i = 0; i < c->layers; i++)
    {
      const RgTextBlock *blk = &te->blocks[i];
      BlockTape *bt = &tape->blocks[i];
      bt->x = x;
      g_autoptr (RgTensor) h = rg_rmsnorm_forward (&blk->attn_norm, a, x);
      g_autoptr (RgTensor) at = rg_attention_layer_forward_train (&blk->attn, a, h, NULL,
                                                                  tape->len, &bt->attn);
      bt->x1 = rg_nn_new_like (a, x);
      rg_add (x, at, bt->x1);
      g_autoptr (RgTensor) h2 = rg_rmsnorm_forward (&blk->ffn_norm, a, bt->x1);
      g_autoptr (RgTensor) f = rg_swiglu_forward_train (&blk->ffn, a, h2, &bt->ffn);
      x = rg_nn_new_like (a, x);
      rg_add (bt->x1, f, x);
    }
  tape->xf = x;
  tape->h = rg_rmsnorm_forward (&te->norm, a, x);
  tape->p = rg_linear_forward (&te->proj, a, tape->h);
  rg_text_encoder_write_context (te, a, tape->p, len, context);
  tape->done = TRUE;
  return TRUE;
}

void
rg_text_encoder_backward (RgTextEncoder *te, RgTextEncoderTape *tape, RgGrads *g,
                          const RgTensor *dcontext)
{
  const RgTextConfig *c = &te->cfg;
  g_return_if_fail (tape->done);
  int64_t b = tape->p->shape[0], keep = tape->p->shape[1], cw = tape->p->shape[2];
  g_return_if_fail (dcontext->dtype == RG_F32 && rg_tensor_is_contiguous (dcontext)
                    && dcontext->ndim == 3 && dcontext->shape[0] == b
                    && dcontext->shape[1] == tape->max_len && dcontext->shape[2] == cw);
  RgArena *a = tape->arena, *s = tape->scratch;

  /* the gradient of out_norm's output: the zeroed padding positions do
   * not depend on the weights, and positions past keep were never computed */
  g_autoptr (RgTensor) dctx = rg_nn_new_like (a, tape->p);
  const float *src = rg_tensor_f32 (dcontext);
  float *dc = rg_tensor_f32 (dctx);
  for (int64_t i = 0; i < b; i++)
    {
      int64_t valid = tape->len[i];
      memcpy (dc + i * keep * cw, src + i * tape->max_len * cw,
              (gsize) (valid * cw) * sizeof (float));
      memset (dc + (i * keep + valid) * cw, 0, (gsize) ((keep - valid) * cw) * sizeof (float));
    }

  g_autoptr (RgTensor) dp = rg_nn_zeros_like (a, tape->p);
  rg_layernorm_layer_backward (&te->out_norm, g, tape->p, dctx, dp);
  g_autoptr (RgTensor) dh = rg_nn_zeros_like (a, tape->h);
  rg_linear_layer_backward (&te->proj, g, tape->h, dp, dh);
  g_autoptr (RgTensor) dx = rg_nn_zeros_like (a, tape->xf);
  rg_rmsnorm_layer_backward (&te->norm, g, tape->xf, dh, dx);

  for (int i = c->layers - 1; i >= 0; i--)
    {
      const RgTextBlock *blk = &te->blocks[i];
      const BlockTape *bt = &tape->blocks[i];
      {
        /* x2 = x1 + ffn(ffn_norm(x1)) */
        g_autoptr (RgTensor) dh2 = rg_nn_zeros_like (s, bt->ffn.x);
        rg_swiglu_layer_backward (&blk->ffn, g, s, &bt->ffn, dx, dh2);
        rg_rmsnorm_layer_backward (&blk->ffn_norm, g, bt->x1, dh2, dx);
        /* x1 = x + attn(attn_norm(x)) */
        g_autoptr (RgTensor) dh1 = rg_nn_zeros_like (s, bt->attn.x);
        rg_attention_layer_backward (&blk->attn, g, s, &bt->attn, dx, dh1, NULL);
        rg_rmsnorm_layer_backward (&blk->attn_norm, g, bt->x, dh1, dx);
      }
      rg_arena_reset (s);
    }

  /* x = embed[ids] + pos[:keep]; the ids are data */
  g_autoptr (RgTensor) dpos_all = rg_grads_of (g, te->pos);
  g_autoptr (RgTensor) dpos = rg_tensor_narrow (dpos_all, 0, 0, keep);
  rg_add_rows_backward (dx, NULL, dpos);
  int64_t flat_shape[1] = { b * keep }, emb_shape[2] = { b * keep, c->width };
  g_autoptr (RgTensor) flat = rg_tensor_reshape (tape->ids, 1, flat_shape);
  g_autoptr (RgTensor) demb = rg_tensor_reshape (dx, 2, emb_shape);
  g_autoptr (RgTensor) dembed = rg_grads_of (g, te->embed);
  rg_embedding_backward (flat, demb, dembed);
  if (te->word_embed != NULL)
    {
      /* each token's word and bigram rows get its gradient */
      g_autoptr (RgTensor) dword = rg_grads_of (g, te->word_embed);
      float *dw = rg_tensor_f32 (dword);
      const float *dxp = rg_tensor_f32 (dx);
      const int32_t *wd = tape->words->data;
      for (int64_t i = 0; i < b * keep; i++)
        for (int f = 0; f < 2; f++)
          {
            int32_t bucket = wd[i * 2 + f];
            if (bucket < 0)
              continue;
            float *row = dw + (int64_t) bucket * c->width;
            for (int64_t j = 0; j < c->width; j++)
              row[j] += dxp[i * c->width + j];
          }
    }
}
