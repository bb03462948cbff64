/* rg-dit-train.c — the DiT's training passes: the stages of rg-dit.c,
 * with every value the backward needs kept in the tape's arena instead of
 * being overwritten in place (the inference pass updates the residual
 * stream in place; here each stage of it is a tensor of its own).
 *
 * The backward walks the blocks in reverse with one running gradient of
 * the residual stream: each residual branch reads it as its upstream
 * gradient, and the branch's input gradient (through the branch's norm)
 * accumulates back into it, which is exactly ∂L/∂(the branch's input).
 * Per-block scratch comes from a second arena that is reset after every
 * block, so backward memory does not grow with depth. */
#include "models/rg-dit-train.h"

#include <string.h>

#include "models/rg-dit-private.h"
#include "nn/rg-nn-grad.h"
#include "ops/rg-ops-grad.h"

typedef struct {
  RgTensor        *m[RG_DIT_N_MOD]; /* shift1, scale1, gate1, shift2, scale2, gate2 */
  RgTensor        *x0; /* block input + positions: norm1's input */
  RgTensor        *n1; /* norm1's output before modulation */
  RgTensor        *a1; /* self-attention's output (gated) */
  RgTensor        *x1; /* after the self-attention branch: norm2's input */
  RgTensor        *x2; /* after cross-attention: norm3's input */
  RgTensor        *n3; /* norm3's output before modulation */
  RgTensor        *f;  /* the FFN's output (gated) */
  RgAttentionSaved self_attn, cross_attn;
  RgSwiGLUSaved    ffn;
} BlockTape;

struct _RgDitTape {
  RgArena         *arena;   /* the pass: activations and whole-pass gradients */
  RgArena         *scratch; /* one block's backward temporaries */
  int              n_blocks;
  BlockTape       *blocks;
  RgTensor        *patches; /* patch_embed's input */
  RgTensor        *temb;    /* time (+ task) embedding, SiLU's input */
  RgTensor        *cond;    /* SiLU(temb): t_mod's and final_mod's input */
  RgTensor        *pooled;  /* text_pool's input (pooled_text), else NULL */
  const int32_t   *context_len; /* the caller's, for the pooled gradient */
  RgTimeEmbedSaved time;
  int32_t         *task;    /* arena copy of the task ids, or NULL */
  RgTensor        *fm[2];   /* final shift, scale */
  RgTensor        *xf;      /* the last block's output: final_norm's input */
  RgTensor        *nf;      /* final_norm's output before modulation */
  RgTensor        *hf;      /* final_proj's input */
  int64_t          t, gh, gw;
  int64_t          context_shape[3]; /* what dcontext must be */
  gboolean         done;
};

RgDitTape *
rg_dit_tape_new (const RgDit *dit)
{
  RgDitTape *tape = g_new0 (RgDitTape, 1);
  tape->arena = rg_arena_new (16 << 20);
  tape->scratch = rg_arena_new (16 << 20);
  tape->n_blocks = dit->cfg.layers;
  tape->blocks = g_new0 (BlockTape, tape->n_blocks);
  return tape;
}

static void
clear_block (BlockTape *bt)
{
  for (int k = 0; k < RG_DIT_N_MOD; k++)
    g_clear_pointer (&bt->m[k], rg_tensor_unref);
  RgTensor **acts[] = { &bt->x0, &bt->n1, &bt->a1, &bt->x1, &bt->x2, &bt->n3, &bt->f };
  for (guint i = 0; i < G_N_ELEMENTS (acts); i++)
    g_clear_pointer (acts[i], rg_tensor_unref);
  rg_attention_saved_clear (&bt->self_attn);
  rg_attention_saved_clear (&bt->cross_attn);
  rg_swiglu_saved_clear (&bt->ffn);
}

void
rg_dit_tape_reset (RgDitTape *tape)
{
  for (int i = 0; i < tape->n_blocks; i++)
    clear_block (&tape->blocks[i]);
  RgTensor **acts[] = { &tape->patches, &tape->temb, &tape->cond, &tape->pooled, &tape->fm[0],
                        &tape->fm[1], &tape->xf, &tape->nf, &tape->hf };
  for (guint i = 0; i < G_N_ELEMENTS (acts); i++)
    g_clear_pointer (acts[i], rg_tensor_unref);
  rg_time_embed_saved_clear (&tape->time);
  tape->task = NULL;
  tape->done = FALSE;
  rg_arena_reset (tape->scratch);
  rg_arena_reset (tape->arena);
}

void
rg_dit_tape_free (RgDitTape *tape)
{
  if (tape == NULL)
    return;
  rg_dit_tape_reset (tape);
  g_free (tape->blocks);
  rg_arena_free (tape->scratch);
  rg_arena_free (tape->arena);
  g_free (tape);
}

/* One block, as run_block in rg-dit.c (same ops in the same order, so the
 * output is bit-identical), returning the block's output. */
static RgTensor *
block_forward (const RgDitBlock *blk, BlockTape *bt, RgArena *a, const RgTensor *x,
               const RgTensor *pos, const RgTensor *mod, const RgDitInput *in)
{
  bt->x0 = rg_nn_new_like (a, x);
  rg_add_rows (x, pos, bt->x0);
  rg_adaln_split (a, mod, blk->mod_table, RG_DIT_N_MOD, bt->m);

  bt->n1 = rg_rmsnorm_forward (&blk->norm1, a, bt->x0);
  g_autoptr (RgTensor) h1 = rg_nn_new_like (a, bt->n1);
  rg_modulate (bt->n1, bt->m[0], bt->m[1], h1);
  bt->a1 = rg_attention_layer_forward_train (&blk->self_attn, a, h1, NULL, NULL, &bt->self_attn);
  bt->x1 = rg_nn_new_like (a, bt->x0);
  rg_tensor_copy (bt->x1, bt->x0);
  rg_gate_add (bt->x1, bt->m[2], bt->a1);

  g_autoptr (RgTensor) n2 = rg_rmsnorm_forward (&blk->norm2, a, bt->x1);
  g_autoptr (RgTensor) a2 = rg_attention_layer_forward_train (&blk->cross_attn, a, n2,
                                                              in->context, in->context_len,
                                                              &bt->cross_attn);
  bt->x2 = rg_nn_new_like (a, bt->x1);
  rg_add (bt->x1, a2, bt->x2);

  bt->n3 = rg_rmsnorm_forward (&blk->norm3, a, bt->x2);
  g_autoptr (RgTensor) h3 = rg_nn_new_like (a, bt->n3);
  rg_modulate (bt->n3, bt->m[3], bt->m[4], h3);
  bt->f = rg_swiglu_forward_train (&blk->ffn, a, h3, &bt->ffn);
  RgTensor *y = rg_nn_new_like (a, bt->x2);
  rg_tensor_copy (y, bt->x2);
  rg_gate_add (y, bt->m[5], bt->f);
  return y;
}

gboolean
rg_dit_forward_train (RgDit *dit, RgDitTape *tape, const RgDitInput *in, RgTensor *v,
                      GError **error)
{
  const RgDitConfig *c = &dit->cfg;
  g_return_val_if_fail (tape->n_blocks == c->layers, FALSE);
  if (!rg_dit_check_input (dit, in, v, error))
    return FALSE;
  rg_dit_tape_reset (tape);
  RgArena *a = tape->arena;
  const RgTensor *x_in = in->x;
  int64_t b = x_in->shape[0], t = x_in->shape[2];
  int64_t gh = x_in->shape[3] / c->patch_h, gw = x_in->shape[4] / c->patch_w;
  int64_t n = t * gh * gw, d = c->width;
  int64_t cin = c->in_channels + c->extra_in_channels;
  tape->t = t;
  tape->gh = gh;
  tape->gw = gw;
  memcpy (tape->context_shape, in->context->shape, sizeof tape->context_shape);

  tape->patches = rg_nn_new (a, 3, b, n, cin * c->patch_h * c->patch_w);
  rg_patchify (x_in, c->patch_h, c->patch_w, tape->patches);
  RgTensor *x = rg_linear_forward (&dit->patch_embed, a, tape->patches);
  g_autoptr (RgTensor) pos = rg_pos_emb3_forward (&dit->pos, a, t, gh, gw);

  tape->temb = rg_time_embed_forward_train (&dit->time_embed, a, in->t, &tape->time);
  if (dit->task_embed != NULL)
    {
      tape->task = rg_arena_alloc (a, (gsize) b * sizeof (int32_t));
      memcpy (tape->task, in->task, (gsize) b * sizeof (int32_t));
      float *te = rg_tensor_f32 (tape->temb);
      const float *tab = rg_tensor_f32 (dit->task_embed);
      for (int64_t i = 0; i < b; i++)
        for (int64_t j = 0; j < d; j++)
          te[i * d + j] += tab[in->task[i] * d + j];
    }
  tape->pooled = rg_dit_add_pooled_text (dit, a, in, tape->temb);
  if (tape->pooled)
    {
      if (in->context_len)
        {
          int32_t *len = rg_arena_alloc (a, (gsize) b * sizeof (int32_t));
          memcpy (len, in->context_len, (gsize) b * sizeof (int32_t));
          tape->context_len = len;
        }
      else
        tape->context_len = NULL;
    }
  tape->cond = rg_nn_new (a, 2, b, d);
  rg_silu (tape->temb, tape->cond);
  g_autoptr (RgTensor) mod = rg_linear_forward (&dit->t_mod, a, tape->cond);

  for (int i = 0; i < c->layers; i++)
    {
      RgTensor *y = block_forward (&dit->blocks[i], &tape->blocks[i], a, x, pos, mod, in);
      rg_tensor_unref (x);
      x = y;
    }

  g_autoptr (RgTensor) final_mod = rg_linear_forward (&dit->final_mod, a, tape->cond);
  rg_adaln_split (a, final_mod, NULL, 2, tape->fm);
  tape->xf = x;
  tape->nf = rg_rmsnorm_forward (&dit->final_norm, a, x);
  tape->hf = rg_nn_new_like (a, tape->nf);
  rg_modulate (tape->nf, tape->fm[0], tape->fm[1], tape->hf);
  g_autoptr (RgTensor) out = rg_linear_forward (&dit->final_proj, a, tape->hf);
  rg_unpatchify (out, c->patch_h, c->patch_w, v);
  tape->done = TRUE;
  return TRUE;
}

static RgTensor *
zeros2 (RgArena *arena, int64_t rows, int64_t cols)
{
  int64_t shape[2] = { rows, cols };
  RgTensor *z = rg_tensor_new_in (arena, RG_F32, 2, shape);
  memset (z->data, 0, rg_tensor_nbytes (z));
  return z;
}

/* dx: on entry ∂L/∂(block output), on return ∂L/∂(block input). dmod and
 * dpos accumulate the gradients of the shared modulation and positions. */
static void
block_backward (const RgDitBlock *blk, const BlockTape *bt, RgGrads *g, RgArena *s,
                RgTensor *dx, RgTensor *dmod, RgTensor *dpos, RgTensor *dcontext)
{
  int64_t b = bt->x0->shape[0], d = bt->x0->shape[2];
  RgTensor *dm[RG_DIT_N_MOD];
  for (int k = 0; k < RG_DIT_N_MOD; k++)
    dm[k] = zeros2 (s, b, d);

  /* y = x2 + gate2 · ffn(modulate(norm3(x2))) */
  g_autoptr (RgTensor) df = rg_nn_zeros_like (s, bt->f);
  rg_gate_add_backward (bt->m[5], bt->f, dx, dm[5], df);
  g_autoptr (RgTensor) dh3 = rg_nn_zeros_like (s, bt->ffn.x);
  rg_swiglu_layer_backward (&blk->ffn, g, s, &bt->ffn, df, dh3);
  g_autoptr (RgTensor) dn3 = rg_nn_zeros_like (s, bt->n3);
  rg_modulate_backward (bt->n3, bt->m[4], dh3, dn3, dm[3], dm[4]);
  rg_rmsnorm_layer_backward (&blk->norm3, g, bt->x2, dn3, dx);

  /* x2 = x1 + cross_attn(norm2(x1), context) */
  g_autoptr (RgTensor) dn2 = rg_nn_zeros_like (s, bt->cross_attn.x);
  rg_attention_layer_backward (&blk->cross_attn, g, s, &bt->cross_attn, dx, dn2, dcontext);
  rg_rmsnorm_layer_backward (&blk->norm2, g, bt->x1, dn2, dx);

  /* x1 = x0 + gate1 · self_attn(modulate(norm1(x0))) */
  g_autoptr (RgTensor) da1 = rg_nn_zeros_like (s, bt->a1);
  rg_gate_add_backward (bt->m[2], bt->a1, dx, dm[2], da1);
  g_autoptr (RgTensor) dh1 = rg_nn_zeros_like (s, bt->self_attn.x);
  rg_attention_layer_backward (&blk->self_attn, g, s, &bt->self_attn, da1, dh1, NULL);
  g_autoptr (RgTensor) dn1 = rg_nn_zeros_like (s, bt->n1);
  rg_modulate_backward (bt->n1, bt->m[1], dh1, dn1, dm[0], dm[1]);
  rg_rmsnorm_layer_backward (&blk->norm1, g, bt->x0, dn1, dx);

  /* x0 = x + pos: dx passes through unchanged */
  rg_add_rows_backward (dx, NULL, dpos);
  g_autoptr (RgTensor) dtable = rg_grads_of (g, blk->mod_table);
  rg_adaln_split_backward ((const RgTensor *const *) dm, RG_DIT_N_MOD, dmod, dtable);
  for (int k = 0; k < RG_DIT_N_MOD; k++)
    rg_tensor_unref (dm[k]);
}

/* temb += text_pool(mean of the valid context tokens): each valid token
 * gets 1/len of the pooled vector's gradient. */
static void
pooled_backward (RgDit *dit, RgDitTape *tape, RgGrads *g, const RgTensor *dtemb,
                 RgTensor *dcontext)
{
  RgArena *a = tape->arena;
  g_autoptr (RgTensor) dpooled = dcontext ? rg_nn_zeros_like (a, tape->pooled) : NULL;
  rg_linear_layer_backward (&dit->text_pool, g, tape->pooled, dtemb, dpooled);
  if (dcontext == NULL)
    return;
  int64_t b = dcontext->shape[0], l = dcontext->shape[1], w = dcontext->shape[2];
  const float *dp = rg_tensor_f32 (dpooled);
  float *dc = rg_tensor_f32 (dcontext);
  for (int64_t i = 0; i < b; i++)
    {
      int64_t len = tape->context_len ? tape->context_len[i] : l;
      if (len == 0)
        continue;
      float inv = 1.0f / (float) len;
      for (int64_t k = 0; k < len; k++)
        for (int64_t j = 0; j < w; j++)
          dc[(i * l + k) * w + j] += dp[i * w + j] * inv;
    }
}

void
rg_dit_backward (RgDit *dit, RgDitTape *tape, RgGrads *g, const RgTensor *dv, RgTensor *dcontext)
{
  const RgDitConfig *c = &dit->cfg;
  g_return_if_fail (tape->done);
  g_return_if_fail (dv->dtype == RG_F32 && rg_tensor_is_contiguous (dv));
  g_return_if_fail (dcontext == NULL
                    || (dcontext->dtype == RG_F32 && rg_tensor_is_contiguous (dcontext)
                        && dcontext->ndim == 3
                        && memcmp (dcontext->shape, tape->context_shape,
                                   sizeof tape->context_shape) == 0));
  RgArena *a = tape->arena, *s = tape->scratch;
  int64_t b = tape->xf->shape[0], n = tape->xf->shape[1], d = c->width;

  /* head: v = unpatchify(final_proj(modulate(final_norm(x), shift, scale))) */
  int64_t out_shape[3] = { b, n, (int64_t) c->in_channels * c->patch_h * c->patch_w };
  g_autoptr (RgTensor) dout = rg_tensor_new_in (a, RG_F32, 3, out_shape);
  memset (dout->data, 0, rg_tensor_nbytes (dout));
  rg_unpatchify_backward (dv, c->patch_h, c->patch_w, dout);
  g_autoptr (RgTensor) dhf = rg_nn_zeros_like (a, tape->hf);
  rg_linear_layer_backward (&dit->final_proj, g, tape->hf, dout, dhf);
  g_autoptr (RgTensor) dnf = rg_nn_zeros_like (a, tape->nf);
  RgTensor *dfm[2] = { zeros2 (a, b, d), zeros2 (a, b, d) };
  rg_modulate_backward (tape->nf, tape->fm[1], dhf, dnf, dfm[0], dfm[1]);
  g_autoptr (RgTensor) dx = rg_nn_zeros_like (a, tape->xf);
  rg_rmsnorm_layer_backward (&dit->final_norm, g, tape->xf, dnf, dx);
  g_autoptr (RgTensor) dfinal_mod = zeros2 (a, b, 2 * d);
  rg_adaln_split_backward ((const RgTensor *const *) dfm, 2, dfinal_mod, NULL);
  rg_tensor_unref (dfm[0]);
  rg_tensor_unref (dfm[1]);
  g_autoptr (RgTensor) dcond = zeros2 (a, b, d);
  rg_linear_layer_backward (&dit->final_mod, g, tape->cond, dfinal_mod, dcond);

  /* blocks */
  g_autoptr (RgTensor) dmod = zeros2 (a, b, RG_DIT_N_MOD * d);
  g_autoptr (RgTensor) dpos = zeros2 (a, n, d);
  for (int i = c->layers - 1; i >= 0; i--)
    {
      block_backward (&dit->blocks[i], &tape->blocks[i], g, s, dx, dmod, dpos, dcontext);
      rg_arena_reset (s);
    }

  /* tokens and positions; the latent itself is data */
  rg_linear_layer_backward (&dit->patch_embed, g, tape->patches, dx, NULL);
  rg_pos_emb3_backward (&dit->pos, g, dpos, tape->t, tape->gh, tape->gw);

  /* conditioning: mod = t_mod(cond), cond = SiLU(time_embed(t) + task) */
  rg_linear_layer_backward (&dit->t_mod, g, tape->cond, dmod, dcond);
  g_autoptr (RgTensor) dtemb = rg_nn_zeros_like (a, tape->temb);
  rg_silu_backward (tape->temb, dcond, dtemb);
  if (dit->task_embed != NULL)
    {
      g_autoptr (RgTensor) dtask = rg_grads_of (g, dit->task_embed);
      float *dt = rg_tensor_f32 (dtask);
      const float *src = rg_tensor_f32 (dtemb);
      for (int64_t i = 0; i < b; i++)
        for (int64_t j = 0; j < d; j++)
          dt[tape->task[i] * d + j] += src[i * d + j];
    }
  if (c->pooled_text)
    pooled_backward (dit, tape, g, dtemb, dcontext);
  rg_time_embed_backward (&dit->time_embed, g, a, &tape->time, dtemb);
}
