/* rg-text-encoder.c — byte-level bidirectional transformer encoder. */
#include "models/rg-text-encoder-private.h"

#include <string.h>

#include "core/rg-error.h"
#include "models/rg-model-private.h"

RgTextEncoder *
rg_text_encoder_new (const RgModelConfig *config, RgParams *p)
{
  const RgTextConfig *c = &config->text;
  RgTextEncoder *te = g_new0 (RgTextEncoder, 1);
  te->cfg = *c;
  te->context_width = config->dit.context_width;
  te->embed = rg_params_take2 (p, "text", "embed", RG_INIT_NORMAL, 1.f, c->vocab, c->width);
  te->pos = rg_params_take2 (p, "text", "pos", RG_INIT_NORMAL, 0.02f, c->max_len, c->width);
  te->blocks = g_new0 (RgTextBlock, c->layers);
  for (int i = 0; i < c->layers; i++)
    {
      RgTextBlock *b = &te->blocks[i];
      g_autofree char *pre = g_strdup_printf ("text.blocks.%d", i);
      g_autofree char *an = g_strconcat (pre, ".attn_norm", NULL);
      g_autofree char *at = g_strconcat (pre, ".attn", NULL);
      g_autofree char *fn = g_strconcat (pre, ".ffn_norm", NULL);
      g_autofree char *ff = g_strconcat (pre, ".ffn", NULL);
      rg_rmsnorm_init (&b->attn_norm, p, an, c->width, TRUE, config->norm_eps);
      rg_attention_layer_init (&b->attn, p, at, c->width, c->width, c->heads, FALSE,
                               config->norm_eps);
      rg_rmsnorm_init (&b->ffn_norm, p, fn, c->width, TRUE, config->norm_eps);
      rg_swiglu_init (&b->ffn, p, ff, c->width, c->ffn);
    }
  rg_rmsnorm_init (&te->norm, p, "text.norm", c->width, TRUE, config->norm_eps);
  rg_linear_init (&te->proj, p, "text.proj", c->width, te->context_width, TRUE);
  rg_layernorm_init (&te->out_norm, p, "text.out_norm", te->context_width, 1e-5f);
  /* last, so the other weights draw the values they draw without it */
  if (c->word_buckets > 0)
    te->word_embed = rg_params_take2 (p, "text", "word_embed", RG_INIT_NORMAL, 1.f,
                                      c->word_buckets, c->width);
  te->arena = rg_arena_new (4 << 20);
  return te;
}

void
rg_text_encoder_free (RgTextEncoder *te)
{
  if (te == NULL)
    return;
  rg_arena_free (te->arena);
  g_free (te->blocks);
  g_free (te);
}

int
rg_text_tokenize (const RgTextConfig *config, const char *utf8, int32_t *ids)
{
  int n = 0;
  /* leave room for end-of-text; a long prompt is cut at max_len − 1 bytes */
  for (const unsigned char *s = (const unsigned char *) utf8; *s && n < config->max_len - 1; s++)
    ids[n++] = (int32_t) *s + RG_TEXT_BYTE_OFFSET;
  ids[n++] = RG_TEXT_EOS;
  for (int i = n; i < config->max_len; i++)
    ids[i] = RG_TEXT_PAD;
  return n;
}

gboolean
rg_text_encoder_check_input (const RgTextEncoder *te, const RgTensor *ids, const int32_t *len,
                             const RgTensor *context, GError **error)
{
  const RgTextConfig *c = &te->cfg;
  if (ids->dtype != RG_I32 || ids->ndim != 2 || ids->shape[1] != c->max_len
      || !rg_tensor_is_contiguous (ids) || context->ndim != 3
      || context->shape[0] != ids->shape[0] || context->shape[1] != c->max_len
      || context->shape[2] != te->context_width)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "text encoder: expected int32 ids [B, %d] and a context [B, %d, %d]",
                   c->max_len, c->max_len, te->context_width);
      return FALSE;
    }
  int64_t b = ids->shape[0], l = c->max_len;
  const int32_t *id = ids->data;
  for (int64_t i = 0; i < b * l; i++)
    if (id[i] < 0 || id[i] >= c->vocab)
      {
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "text encoder: token id %d is outside the vocabulary of %d", id[i],
                     c->vocab);
        return FALSE;
      }
  for (int64_t i = 0; i < b; i++)
    if (len[i] < 1 || len[i] > l)
      {
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "text encoder: length %d of prompt %" G_GINT64_FORMAT " is not in 1..%"
                     G_GINT64_FORMAT, len[i], i, l);
        return FALSE;
      }
  return TRUE;
}

int64_t
rg_text_encoder_keep (const int32_t *len, int64_t batch)
{
  int64_t keep = 1;
  for (int64_t i = 0; i < batch; i++)
    keep = MAX (keep, len[i]);
  return keep;
}

static gboolean
is_word_byte (int byte)
{
  return (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z')
         || (byte >= 'A' && byte <= 'Z') || byte == '-' || byte >= 0x80;
}

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

static guint32
fnv1a (guint32 h, const int32_t *ids, int64_t from, int64_t to)
{
  for (int64_t i = from; i < to; i++)
    {
      int byte = ids[i] - RG_TEXT_BYTE_OFFSET; /* 0..255: ASCII-lowercased */
      h = (h ^ (guint32) (byte >= 'A' && byte <= 'Z' ? byte + 32 : byte)) * FNV_PRIME;
    }
  return h;
}

void
rg_text_word_buckets (const RgTextConfig *config, const int32_t *ids, int64_t n, int32_t *uni,
                      int32_t *bi)
{
  guint32 buckets = (guint32) config->word_buckets;
  int64_t prev_from = -1, prev_to = -1;
  for (int64_t i = 0; i < n;)
    {
      int byte = ids[i] >= RG_TEXT_BYTE_OFFSET ? ids[i] - RG_TEXT_BYTE_OFFSET : -1;
      if (byte < 0 || !is_word_byte (byte))
        {
          uni[i] = bi[i] = -1;
          i++;
          continue;
        }
      int64_t end = i;
      while (end < n && ids[end] >= RG_TEXT_BYTE_OFFSET
             && is_word_byte (ids[end] - RG_TEXT_BYTE_OFFSET))
        end++;
      int32_t u = (int32_t) (fnv1a (FNV_OFFSET, ids, i, end) % buckets), b = -1;
      if (prev_from >= 0)
        {
          guint32 h = fnv1a (FNV_OFFSET, ids, prev_from, prev_to);
          h = (h ^ (guint32) ' ') * FNV_PRIME;
          b = (int32_t) (fnv1a (h, ids, i, end) % buckets);
        }
      for (int64_t k = i; k < end; k++)
        {
          uni[k] = u;
          bi[k] = b;
        }
      prev_from = i;
      prev_to = end;
      i = end;
    }
}

RgTensor *
rg_text_encoder_embed (const RgTextEncoder *te, RgArena *arena, const RgTensor *ids,
                       int64_t keep, RgTensor **ids_out, RgTensor **words_out)
{
  int64_t b = ids->shape[0], l = ids->shape[1], w = te->cfg.width;
  int64_t kept_shape[2] = { b, keep };
  g_autoptr (RgTensor) kept = rg_tensor_new_in (arena, RG_I32, 2, kept_shape);
  for (int64_t i = 0; i < b; i++)
    memcpy ((int32_t *) kept->data + i * keep, (const int32_t *) ids->data + i * l,
            (gsize) keep * sizeof (int32_t));
  RgTensor *x = rg_nn_new (arena, 3, b, keep, w);
  int64_t flat_shape[1] = { b * keep }, emb_shape[2] = { b * keep, w };
  g_autoptr (RgTensor) flat = rg_tensor_reshape (kept, 1, flat_shape);
  g_autoptr (RgTensor) emb = rg_tensor_reshape (x, 2, emb_shape);
  rg_embedding (te->embed, flat, emb);
  g_autoptr (RgTensor) pos = rg_tensor_narrow (te->pos, 0, 0, keep);
  rg_add_rows (x, pos, x);
  if (te->word_embed != NULL)
    {
      int64_t words_shape[3] = { b, keep, 2 };
      g_autoptr (RgTensor) words = rg_tensor_new_in (arena, RG_I32, 3, words_shape);
      int32_t *wd = words->data;
      g_autofree int32_t *uni = g_new (int32_t, keep);
      g_autofree int32_t *bi = g_new (int32_t, keep);
      const float *table = rg_tensor_f32 (te->word_embed);
      float *xp = rg_tensor_f32 (x);
      for (int64_t i = 0; i < b; i++)
        {
          rg_text_word_buckets (&te->cfg, (const int32_t *) kept->data + i * keep, keep, uni, bi);
          for (int64_t k = 0; k < keep; k++)
            {
              wd[(i * keep + k) * 2] = uni[k];
              wd[(i * keep + k) * 2 + 1] = bi[k];
              float *row = xp + (i * keep + k) * w;
              for (int f = 0; f < 2; f++)
                {
                  int32_t bucket = f == 0 ? uni[k] : bi[k];
                  if (bucket < 0)
                    continue;
                  const float *e = table + (int64_t) bucket * w;
                  for (int64_t j = 0; j < w; j++)
                    row[j] += e[j];
                }
            }
        }
      if (words_out != NULL)
        *words_out = g_steal_pointer (&words);
    }
  if (ids_out != NULL)
    *ids_out = g_steal_pointer (&kept);
  return x;
}

void
rg_text_encoder_write_context (const RgTextEncoder *te, RgArena *arena, const RgTensor *p,
                               const int32_t *len, RgTensor *context)
{
  int64_t b = p->shape[0], keep = p->shape[1], l = context->shape[1], cw = te->context_width;
  g_autoptr (RgTensor) y = rg_tensor_new_in (arena, RG_F32, 3, p->shape);
  rg_layernorm (p, te->out_norm.w, te->out_norm.b, te->out_norm.eps, y);
  /* padding positions carry nothing: cross-attention masks them anyway,
   * and zeros make contexts of different lengths comparable */
  float *out = rg_tensor_f32 (context);
  const float *src = rg_tensor_f32 (y);
  for (int64_t i = 0; i < b; i++)
    {
      memcpy (out + i * l * cw, src + i * keep * cw, (gsize) (len[i] * cw) * sizeof (float));
      memset (out + (i * l + len[i]) * cw, 0, (gsize) ((l - len[i]) * cw) * sizeof (float));
    }
}

gboolean
rg_text_encoder_forward (RgTextEncoder *te, const RgTensor *ids, const int32_t *len,
                         RgTensor *context, GCancellable *cancellable, GError **error)
{
  const RgTextConfig *c = &te->cfg;
  if (!rg_text_encoder_check_input (te, ids, len, context, error))
    return FALSE;
  RgArena *arena = te->arena;
  rg_arena_reset (arena);
  g_autoptr (RgTensor) x = rg_text_encoder_embed (te, arena, ids,
                                                  rg_text_encoder_keep (len, ids->shape[0]),
                                                  NULL, NULL);
  for (int i = 0; i < c->layers; i++)
    {
      if (!rg_model_check_cancel (cancellable, "text encoder", error))
        return FALSE;
      const RgTextBlock *blk = &te->blocks[i];
      g_autoptr (RgTensor) h = rg_rmsnorm_forward (&blk->attn_norm, arena, x);
      g_autoptr (RgTensor) a = rg_attention_layer_forward (&blk->attn, arena, h, NULL, len);
      rg_add (x, a, x);
      g_autoptr (RgTensor) h2 = rg_rmsnorm_forward (&blk->ffn_norm, arena, x);
      g_autoptr (RgTensor) f = rg_swiglu_forward (&blk->ffn, arena, h2);
      rg_add (x, f, x);
    }
  g_autoptr (RgTensor) h = rg_rmsnorm_forward (&te->norm, arena, x);
  g_autoptr (RgTensor) p = rg_linear_forward (&te->proj, arena, h);
  rg_text_encoder_write_context (te, arena, p, len, context);
  return TRUE;
}

RgTensor *
rg_text_encoder_encode (RgTextEncoder *te, const char *const *prompts, int n, int32_t *len_out,
                        GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (n >= 1, NULL);
  int64_t l = te->cfg.max_len;
  int64_t shape[2] = { n, l };
  g_autoptr (RgTensor) ids = rg_tensor_new (RG_I32, 2, shape);
  for (int i = 0; i < n; i++)
    len_out[i] = rg_text_tokenize (&te->cfg, prompts[i], (int32_t *) ids->data + i * l);
  g_autoptr (RgTensor) context = rg_tensor_f32_new (3, (int64_t) n, l,
                                                    (int64_t) te->context_width);
  if (!rg_text_encoder_forward (te, ids, len_out, context, cancellable, error))
    return NULL;
  return g_steal_pointer (&context);
}
