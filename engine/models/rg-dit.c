/* rg-dit.c — the video DiT forward pass.
 *
 * Per block: x += pos; self-attention on RMSNorm(x) modulated by
 * (shift1, scale1), gated by gate1; cross-attention to the text on an
 * affine RMSNorm(x); SwiGLU on RMSNorm(x) modulated by (shift2, scale2),
 * gated by gate2. The six modulation vectors are the shared projection of
 * the time embedding plus the block's learned table. A final adaLN
 * (its own shift/scale from the time embedding) and a linear layer map
 * tokens back to patches.
 *
 * Two arenas: `pass` holds what lives through the whole pass (tokens,
 * positions, conditioning), `layer` one block's temporaries and is reset
 * after every block, so memory does not grow with depth. */
#include "models/rg-dit-private.h"

#include <string.h>

#include "core/rg-error.h"
#include "models/rg-model-private.h"

RgDit *
rg_dit_new (const RgModelConfig *config, RgParams *p)
{
  const RgDitConfig *c = &config->dit;
  RgDit *dit = g_new0 (RgDit, 1);
  float eps = config->norm_eps;
  int64_t patch = (int64_t) c->patch_h * c->patch_w;
  int64_t in_feat = (int64_t) (c->in_channels + c->extra_in_channels) * patch;
  dit->cfg = *c;

  rg_linear_init (&dit->patch_embed, p, "dit.patch_embed", in_feat, c->width, TRUE);
  /* the edit model's source-latent channels start silent (feature order is
   * (c, dh, dw), so they are the last columns) */
  rg_params_zero_columns (p, dit->patch_embed.w, (int64_t) c->in_channels * patch,
                          (int64_t) c->extra_in_channels * patch);
  rg_time_embed_init (&dit->time_embed, p, "dit.time_embed", c->freq_dim, c->width);
  if (c->n_tasks > 0)
    dit->task_embed = rg_params_take2 (p, "dit", "task_embed", RG_INIT_NORMAL, 0.02f, c->n_tasks,
                                       c->width);
  rg_linear_init (&dit->t_mod, p, "dit.t_mod", c->width, RG_DIT_N_MOD * (int64_t) c->width,
                  TRUE);
  rg_pos_emb3_init (&dit->pos, p, "dit.pos", c->pos_t, c->pos_h, c->pos_w, c->width);
  dit->blocks = g_new0 (RgDitBlock, c->layers);
  for (int i = 0; i < c->layers; i++)
    {
      RgDitBlock *b = &dit->blocks[i];
      g_autofree char *pre = g_strdup_printf ("dit.blocks.%d", i);
      g_autofree char *n2 = g_strconcat (pre, ".norm2", NULL);
      g_autofree char *sa = g_strconcat (pre, ".self_attn", NULL);
      g_autofree char *ca = g_strconcat (pre, ".cross_attn", NULL);
      g_autofree char *ff = g_strconcat (pre, ".ffn", NULL);
      b->mod_table = rg_params_take2 (p, pre, "mod_table", RG_INIT_NORMAL, 0.02f, RG_DIT_N_MOD,
                                      c->width);
      rg_rmsnorm_init (&b->norm1, p, NULL, c->width, FALSE, eps);
      rg_attention_layer_init (&b->self_attn, p, sa, c->width, c->width, c->heads, TRUE, eps);
      rg_rmsnorm_init (&b->norm2, p, n2, c->width, TRUE, eps);
      rg_attention_layer_init (&b->cross_attn, p, ca, c->width, c->context_width, c->heads, TRUE,
                               eps);
      rg_rmsnorm_init (&b->norm3, p, NULL, c->width, FALSE, eps);
      rg_swiglu_init (&b->ffn, p, ff, c->width, c->ffn);
    }
  rg_rmsnorm_init (&dit->final_norm, p, NULL, c->width, FALSE, eps);
  rg_linear_init (&dit->final_mod, p, "dit.final_mod", c->width, 2 * (int64_t) c->width, TRUE);
  rg_linear_init (&dit->final_proj, p, "dit.final_proj", c->width,
                  (int64_t) c->in_channels * patch, TRUE);
  /* last, so the other weights draw the same values as in a model without
   * it; starts silent, like the edit channels */
  if (c->pooled_text)
    {
      rg_linear_init (&dit->text_pool, p, "dit.text_pool", c->context_width, c->width, TRUE);
      rg_params_zero_columns (p, dit->text_pool.w, 0, c->context_width);
    }
  dit->pass = rg_arena_new (16 << 20);
  dit->layer = rg_arena_new (16 << 20);
  return dit;
}

void
rg_dit_free (RgDit *dit)
{
  if (dit == NULL)
    return;
  rg_arena_free (dit->pass);
  rg_arena_free (dit->layer);
  g_free (dit->blocks);
  g_free (dit);
}

gsize
rg_dit_get_arena_peak (RgDit *dit)
{
  return dit->peak;
}

G_GNUC_PRINTF (2, 3) static gboolean
bad_input (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "DiT: %s", msg);
  return FALSE;
}

gboolean
rg_dit_check_input (const RgDit *dit, const RgDitInput *in, const RgTensor *v, GError **error)
{
  const RgDitConfig *c = &dit->cfg;
  const RgTensor *x = in->x;
  if (x == NULL || in->t == NULL || in->context == NULL)
    return bad_input (error, "x, t and context are required");
  int64_t cin = c->in_channels + c->extra_in_channels;
  if (x->dtype != RG_F32 || x->ndim != 5 || x->shape[1] != cin || !rg_tensor_is_contiguous (x))
    return bad_input (error, "x must be contiguous f32 [B, %" G_GINT64_FORMAT ", T, H, W]", cin);
  int64_t b = x->shape[0], t = x->shape[2], h = x->shape[3], w = x->shape[4];
  if (h % c->patch_h != 0 || w % c->patch_w != 0)
    return bad_input (error, "a %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " latent is not "
                             "divisible by the %d×%d patch", h, w, c->patch_h, c->patch_w);
  if (t > c->pos_t || h / c->patch_h > c->pos_h || w / c->patch_w > c->pos_w)
    return bad_input (error, "a %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                             " token grid exceeds the positional tables (%d×%d×%d)",
                      t, h / c->patch_h, w / c->patch_w, c->pos_t, c->pos_h, c->pos_w);
  if (in->t->dtype != RG_F32 || in->t->ndim != 1 || in->t->shape[0] != b)
    return bad_input (error, "t must be f32 [%" G_GINT64_FORMAT "]", b);
  const RgTensor *ctx = in->context;
  if (ctx->dtype != RG_F32 || ctx->ndim != 3 || ctx->shape[0] != b
      || ctx->shape[2] != c->context_width || !rg_tensor_is_contiguous (ctx))
    return bad_input (error, "context must be contiguous f32 [%" G_GINT64_FORMAT ", L, %d]", b,
                      c->context_width);
  for (int64_t i = 0; in->context_len != NULL && i < b; i++)
    if (in->context_len[i] < 0 || in->context_len[i] > ctx->shape[1])
      return bad_input (error, "context length %d is outside 0..%" G_GINT64_FORMAT,
                        in->context_len[i], ctx->shape[1]);
  if (c->n_tasks > 0 && in->task == NULL)
    return bad_input (error, "this model needs a task id per sample");
  for (int64_t i = 0; c->n_tasks > 0 && i < b; i++)
    if (in->task[i] < 0 || in->task[i] >= c->n_tasks)
      return bad_input (error, "task id %d is outside 0..%d", in->task[i], c->n_tasks - 1);
  if (v->dtype != RG_F32 || v->ndim != 5 || v->shape[0] != b || v->shape[1] != c->in_channels
      || v->shape[2] != t || v->shape[3] != h || v->shape[4] != w || !rg_tensor_is_contiguous (v))
    return bad_input (error, "the output must be contiguous f32 [%" G_GINT64_FORMAT ", %d, %"
                             G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                      b, c->in_channels, t, h, w);
  return TRUE;
}

RgTensor *
rg_dit_add_pooled_text (const RgDit *dit, RgArena *arena, const RgDitInput *in, RgTensor *temb)
{
  if (!dit->cfg.pooled_text)
    return NULL;
  const RgTensor *ctx = in->context;
  int64_t b = ctx->shape[0], l = ctx->shape[1], w = ctx->shape[2];
  RgTensor *pooled = rg_nn_new (arena, 2, b, w);
  const float *src = rg_tensor_f32 ((RgTensor *) ctx);
  float *dst = rg_tensor_f32 (pooled);
  for (int64_t i = 0; i < b; i++)
    {
      int64_t len = in->context_len ? in->context_len[i] : l;
      float *row = dst + i * w;
      memset (row, 0, (gsize) w * sizeof (float));
      for (int64_t k = 0; k < len; k++)
        for (int64_t j = 0; j < w; j++)
          row[j] += src[(i * l + k) * w + j];
      float inv = len > 0 ? 1.0f / (float) len : 0.0f;
      for (int64_t j = 0; j < w; j++)
        row[j] *= inv;
    }
  g_autoptr (RgTensor) projected = rg_linear_forward (&dit->text_pool, arena, pooled);
  rg_add (temb, projected, temb);
  return pooled;
}

static void
run_block (const RgDitBlock *blk, RgArena *arena, RgTensor *x, const RgTensor *pos,
           const RgTensor *mod, const RgDitInput *in)
{
  RgTensor *m[RG_DIT_N_MOD]; /* shift1, scale1, gate1, shift2, scale2, gate2 */
  rg_add_rows (x, pos, x);
  rg_adaln_split (arena, mod, blk->mod_table, RG_DIT_N_MOD, m);

  g_autoptr (RgTensor) h1 = rg_rmsnorm_forward (&blk->norm1, arena, x);
  rg_modulate (h1, m[0], m[1], h1);
  g_autoptr (RgTensor) a1 = rg_attention_layer_forward (&blk->self_attn, arena, h1, NULL, NULL);
  rg_gate_add (x, m[2], a1);

  g_autoptr (RgTensor) h2 = rg_rmsnorm_forward (&blk->norm2, arena, x);
  g_autoptr (RgTensor) a2 = rg_attention_layer_forward (&blk->cross_attn, arena, h2, in->context,
                                                        in->context_len);
  rg_add (x, a2, x);

  g_autoptr (RgTensor) h3 = rg_rmsnorm_forward (&blk->norm3, arena, x);
  rg_modulate (h3, m[3], m[4], h3);
  g_autoptr (RgTensor) f = rg_swiglu_forward (&blk->ffn, arena, h3);
  rg_gate_add (x, m[5], f);
  for (int k = 0; k < RG_DIT_N_MOD; k++)
    rg_tensor_unref (m[k]);
}

gboolean
rg_dit_forward (RgDit *dit, const RgDitInput *in, RgTensor *v, GCancellable *cancellable,
                GError **error)
{
  const RgDitConfig *c = &dit->cfg;
  if (!rg_dit_check_input (dit, in, v, error))
    return FALSE;
  const RgTensor *x_in = in->x;
  int64_t b = x_in->shape[0], t = x_in->shape[2];
  int64_t gh = x_in->shape[3] / c->patch_h, gw = x_in->shape[4] / c->patch_w;
  int64_t n = t * gh * gw, d = c->width;
  int64_t cin = c->in_channels + c->extra_in_channels;
  RgArena *pass = dit->pass, *layer = dit->layer;
  rg_arena_reset (pass);
  rg_arena_reset (layer);

  /* tokens */
  g_autoptr (RgTensor) patches = rg_nn_new (pass, 3, b, n, cin * c->patch_h * c->patch_w);
  rg_patchify (x_in, c->patch_h, c->patch_w, patches);
  g_autoptr (RgTensor) x = rg_linear_forward (&dit->patch_embed, pass, patches);
  g_autoptr (RgTensor) pos = rg_pos_emb3_forward (&dit->pos, pass, t, gh, gw);

  /* conditioning: time (+ task) embedding → shared adaLN projection */
  g_autoptr (RgTensor) temb = rg_time_embed_forward (&dit->time_embed, pass, in->t);
  if (dit->task_embed != NULL)
    {
      float *te = rg_tensor_f32 (temb);
      const float *tab = rg_tensor_f32 (dit->task_embed);
      for (int64_t i = 0; i < b; i++)
        for (int64_t j = 0; j < d; j++)
          te[i * d + j] += tab[in->task[i] * d + j];
    }
  g_autoptr (RgTensor) pooled = rg_dit_add_pooled_text (dit, pass, in, temb);
  g_autoptr (RgTensor) cond = rg_nn_new (pass, 2, b, d);
  rg_silu (temb, cond);
  g_autoptr (RgTensor) mod = rg_linear_forward (&dit->t_mod, pass, cond);

  for (int i = 0; i < c->layers; i++)
    {
      if (!rg_model_check_cancel (cancellable, "DiT forward", error))
        return FALSE;
      run_block (&dit->blocks[i], layer, x, pos, mod, in);
      dit->peak = MAX (dit->peak, rg_arena_peak (pass) + rg_arena_peak (layer));
      rg_arena_reset (layer);
    }

  RgTensor *fm[2];
  g_autoptr (RgTensor) final_mod = rg_linear_forward (&dit->final_mod, pass, cond);
  rg_adaln_split (pass, final_mod, NULL, 2, fm);
  g_autoptr (RgTensor) h = rg_rmsnorm_forward (&dit->final_norm, pass, x);
  rg_modulate (h, fm[0], fm[1], h);
  rg_tensor_unref (fm[0]);
  rg_tensor_unref (fm[1]);
  g_autoptr (RgTensor) out = rg_linear_forward (&dit->final_proj, pass, h);
  rg_unpatchify (out, c->patch_h, c->patch_w, v);
  dit->peak = MAX (dit->peak, rg_arena_peak (pass) + rg_arena_peak (layer));
  return TRUE;
}
