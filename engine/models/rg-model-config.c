/* rg-model-config.c — presets, validation and the JSON form of model configs.
 *
 * The JSON mirrors the structs: {"name", "norm_eps", "video": {…},
 * "text": {…}, "tae": {…}, "dit": {…}}. A table of (key, offset) per
 * section drives both directions so the two can never disagree. */
#include "models/rg-model-config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "models/rg-text-encoder.h"

/* Any size above this is a hostile or mistyped config, not a model. */
#define MAX_SIZE (1 << 20)

typedef struct {
  const char *key;
  gsize       offset;
  gboolean    optional; /* defaults to 0 when absent */
} IntField;

#define F(type, field) { #field, G_STRUCT_OFFSET (type, field), FALSE }
#define F_OPT(type, field) { #field, G_STRUCT_OFFSET (type, field), TRUE }

static const IntField video_fields[] = {
  F (RgVideoConfig, frames), F (RgVideoConfig, height), F (RgVideoConfig, width),
  F (RgVideoConfig, fps),
};
static const IntField text_fields[] = {
  F (RgTextConfig, vocab),  F (RgTextConfig, max_len), F (RgTextConfig, width),
  F (RgTextConfig, layers), F (RgTextConfig, heads),   F (RgTextConfig, ffn),
  F_OPT (RgTextConfig, word_buckets),
};
static const IntField tae_fields[] = {
  F (RgTaeConfig, image_channels), F (RgTaeConfig, latent_channels),
  F (RgTaeConfig, temporal_down),  F (RgTaeConfig, groups),
};
static const IntField dit_fields[] = {
  F (RgDitConfig, in_channels), F_OPT (RgDitConfig, extra_in_channels),
  F_OPT (RgDitConfig, n_tasks), F_OPT (RgDitConfig, pooled_text),
  F (RgDitConfig, width),
  F (RgDitConfig, layers),      F (RgDitConfig, heads),
  F (RgDitConfig, ffn),         F (RgDitConfig, context_width),
  F (RgDitConfig, patch_t),     F (RgDitConfig, patch_h),
  F (RgDitConfig, patch_w),     F (RgDitConfig, pos_t),
  F (RgDitConfig, pos_h),       F (RgDitConfig, pos_w),
  F (RgDitConfig, freq_dim),
};

#undef F
#undef F_OPT

static int *
field_ptr (void *base, const IntField *f)
{
  return (int *) ((char *) base + f->offset);
}

/* ---- presets ---- */

static void
nano_parts (RgModelConfig *c)
{
  c->norm_eps = 1e-6f;
  c->video = (RgVideoConfig){ .frames = 16, .height = 64, .width = 64, .fps = 8 };
  c->text = (RgTextConfig){ .vocab = 259, .max_len = 128, .width = 128, .layers = 4,
                            .heads = 4, .ffn = 384 };
  c->tae = (RgTaeConfig){ .image_channels = 3, .latent_channels = 16, .levels = 4,
                          .channels = { 32, 64, 128, 128 }, .temporal_down = 2, .groups = 8,
                          .latent_mean = 0.0f, .latent_std = 1.0f };
}

/* A Movie Gen transformer shape: head_dim 128 and FFN ≈ 8/3 · width as in
 * the 30B model (48 layers, width 6144, 48 heads, FFN 16384); the text
 * encoder and TAE stay nano since only the DiT is benchmarked at scale. */
static void
moviegen (RgModelConfig *c, const char *name, int width, int layers, int ffn)
{
  nano_parts (c);
  g_strlcpy (c->name, name, sizeof c->name);
  c->dit = (RgDitConfig){ .in_channels = 16, .width = width, .layers = layers,
                          .heads = width / 128, .ffn = ffn, .context_width = width,
                          .patch_t = 1, .patch_h = 2, .patch_w = 2,
                          .pos_t = 32, .pos_h = 64, .pos_w = 64, .freq_dim = 256 };
}

static const char *const preset_names[] = {
  "nano-t2v", "moviegen-1b", "moviegen-5b", "moviegen-30b", NULL
};

const char *const *
rg_model_config_preset_names (void)
{
  return preset_names;
}

gboolean
rg_model_config_preset (const char *name, RgModelConfig *out, GError **error)
{
  memset (out, 0, sizeof *out);
  if (g_strcmp0 (name, "nano-t2v") == 0)
    {
      nano_parts (out);
      g_strlcpy (out->name, name, sizeof out->name);
      /* 4096 word/bigram buckets (0.5M weights): ShapesWorld's captions
       * have a few hundred distinct words and pairs */
      out->text.word_buckets = 4096;
      /* ≈ 6M parameters: 6 blocks of width 256 (4 heads of 64) see only
       * 4×4×4 = 64 tokens, so depth buys little; a 2× SwiGLU keeps CPU
       * training steps short. */
      out->dit = (RgDitConfig){ .in_channels = 16, .width = 256, .layers = 6, .heads = 4,
                                .ffn = 512, .context_width = 256, .patch_t = 1, .patch_h = 2,
                                .patch_w = 2, .pos_t = 16, .pos_h = 16, .pos_w = 16,
                                .freq_dim = 256, .pooled_text = 1 };
    }
  else if (g_strcmp0 (name, "moviegen-1b") == 0)
    moviegen (out, name, 1536, 28, 4096);
  else if (g_strcmp0 (name, "moviegen-5b") == 0)
    moviegen (out, name, 3072, 32, 8192);
  else if (g_strcmp0 (name, "moviegen-30b") == 0)
    moviegen (out, name, 6144, 48, 16384);
  else
    {
      g_autofree char *list = g_strjoinv (", ", (char **) preset_names);
      g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "no model preset named '%s' (known: %s)",
                   name, list);
      return FALSE;
    }
  return rg_model_config_validate (out, error);
}

/* ---- validation ---- */

int
rg_model_config_tae_time_factor (const RgModelConfig *c)
{
  return 1 << c->tae.temporal_down;
}

int
rg_model_config_tae_space_factor (const RgModelConfig *c)
{
  return 1 << (c->tae.levels - 1);
}

G_GNUC_PRINTF (2, 3) static gboolean
invalid (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "model config: %s", msg);
  return FALSE;
}

static gboolean
check_range (const char *section, const IntField *fields, guint n, const void *base,
             GError **error)
{
  for (guint i = 0; i < n; i++)
    {
      int v = *field_ptr ((void *) base, &fields[i]);
      int lo = fields[i].optional ? 0 : 1;
      if (strcmp (fields[i].key, "temporal_down") == 0)
        lo = 0;
      if (v < lo || v > MAX_SIZE)
        return invalid (error, "%s.%s is %d, expected %d..%d", section, fields[i].key, v, lo,
                        MAX_SIZE);
    }
  return TRUE;
}

gboolean
rg_model_config_validate (const RgModelConfig *c, GError **error)
{
  const RgTextConfig *t = &c->text;
  const RgTaeConfig *a = &c->tae;
  const RgDitConfig *d = &c->dit;

  if (c->name[0] == '\0')
    return invalid (error, "name is empty");
  if (!(c->norm_eps > 0 && c->norm_eps < 1))
    return invalid (error, "norm_eps is %g, expected a small positive number", c->norm_eps);
  if (!check_range ("video", video_fields, G_N_ELEMENTS (video_fields), &c->video, error)
      || !check_range ("text", text_fields, G_N_ELEMENTS (text_fields), t, error)
      || !check_range ("tae", tae_fields, G_N_ELEMENTS (tae_fields), a, error)
      || !check_range ("dit", dit_fields, G_N_ELEMENTS (dit_fields), d, error))
    return FALSE;

  if (t->vocab < 256 + RG_TEXT_BYTE_OFFSET)
    return invalid (error, "text.vocab is %d, but byte tokens need at least %d", t->vocab,
                    256 + RG_TEXT_BYTE_OFFSET);
  if (t->width % t->heads != 0)
    return invalid (error, "text.width %d is not divisible by text.heads %d", t->width,
                    t->heads);

  if (a->levels < 1 || a->levels > RG_TAE_MAX_LEVELS)
    return invalid (error, "tae.channels has %d levels, expected 1..%d", a->levels,
                    RG_TAE_MAX_LEVELS);
  if (!(a->latent_std > 0.0f) || !isfinite (a->latent_std) || !isfinite (a->latent_mean))
    return invalid (error, "tae.latent_std %g must be positive and tae.latent_mean %g finite",
                    a->latent_std, a->latent_mean);
  if (a->temporal_down > a->levels - 1)
    return invalid (error, "tae.temporal_down %d exceeds the %d level transitions",
                    a->temporal_down, a->levels - 1);
  for (int i = 0; i < a->levels; i++)
    {
      if (a->channels[i] < 1 || a->channels[i] > MAX_SIZE)
        return invalid (error, "tae.channels[%d] is %d", i, a->channels[i]);
      if (a->channels[i] % a->groups != 0)
        return invalid (error, "tae.channels[%d] = %d is not divisible by tae.groups %d", i,
                        a->channels[i], a->groups);
    }

  if (d->width % d->heads != 0)
    return invalid (error, "dit.width %d is not divisible by dit.heads %d (heads × head_dim "
                           "must equal width)", d->width, d->heads);
  if (d->in_channels != a->latent_channels)
    return invalid (error, "dit.in_channels %d differs from tae.latent_channels %d",
                    d->in_channels, a->latent_channels);
  if (d->pooled_text > 1)
    return invalid (error, "dit.pooled_text is %d, expected 0 or 1", d->pooled_text);
  if (d->patch_t != 1)
    return invalid (error, "dit.patch_t is %d; only 1×ph×pw patches are supported",
                    d->patch_t);
  if (d->freq_dim % 2 != 0)
    return invalid (error, "dit.freq_dim %d is odd (sin/cos pairs)", d->freq_dim);

  int64_t shape[4];
  if (!rg_model_config_latent_shape (c, c->video.frames, c->video.height, c->video.width, shape,
                                     error))
    return FALSE;
  if (shape[2] % d->patch_h != 0 || shape[3] % d->patch_w != 0)
    return invalid (error, "the latent %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                           " is not divisible by the %d×%d patch", shape[2], shape[3],
                    d->patch_h, d->patch_w);
  if (shape[1] > d->pos_t || shape[2] / d->patch_h > d->pos_h || shape[3] / d->patch_w > d->pos_w)
    return invalid (error, "the video's token grid exceeds the positional tables "
                           "(dit.pos_t/pos_h/pos_w)");
  return TRUE;
}

gboolean
rg_model_config_latent_shape (const RgModelConfig *c, int frames, int height, int width,
                              int64_t shape[4], GError **error)
{
  int ft = rg_model_config_tae_time_factor (c), fs = rg_model_config_tae_space_factor (c);
  if (frames <= 0 || height <= 0 || width <= 0 || frames % ft != 0 || height % fs != 0
      || width % fs != 0)
    return invalid (error, "a %d-frame %d×%d clip is not divisible by the TAE's %d× time and "
                           "%d× space compression", frames, width, height, ft, fs);
  shape[0] = c->tae.latent_channels;
  shape[1] = frames / ft;
  shape[2] = height / fs;
  shape[3] = width / fs;
  return TRUE;
}

/* ---- JSON ---- */

static gboolean
read_section (JsonObject *root, const char *section, const IntField *fields, guint n,
              void *base, GError **error)
{
  JsonNode *node = json_object_get_member (root, section);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "\"%s\" is missing or not an object", section);
  JsonObject *obj = json_node_get_object (node);
  g_autoptr (GList) members = json_object_get_members (obj);
  for (GList *l = members; l; l = l->next)
    {
      const char *key = l->data;
      guint i;
      for (i = 0; i < n; i++)
        if (strcmp (key, fields[i].key) == 0)
          break;
      /* tae.channels (a list) and the latent statistics (floats) are read
       * by the caller */
      if (i == n
          && !(strcmp (section, "tae") == 0
               && (strcmp (key, "channels") == 0 || strcmp (key, "latent_mean") == 0
                   || strcmp (key, "latent_std") == 0)))
        return invalid (error, "unknown key \"%s.%s\"", section, key);
    }
  for (guint i = 0; i < n; i++)
    {
      JsonNode *v = json_object_get_member (obj, fields[i].key);
      if (v == NULL)
        {
          if (!fields[i].optional)
            return invalid (error, "\"%s.%s\" is missing", section, fields[i].key);
          *field_ptr (base, &fields[i]) = 0;
          continue;
        }
      if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_INT64)
        return invalid (error, "\"%s.%s\" is not an integer", section, fields[i].key);
      gint64 x = json_node_get_int (v);
      if (x < 0 || x > MAX_SIZE)
        return invalid (error, "\"%s.%s\" is %" G_GINT64_FORMAT ", out of range", section,
                        fields[i].key, x);
      *field_ptr (base, &fields[i]) = (int) x;
    }
  return TRUE;
}

gboolean
rg_model_config_from_json (const char *json, RgModelConfig *out, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  memset (out, 0, sizeof *out);
  if (!json_parser_load_from_data (parser, json, -1, &local))
    return invalid (error, "not valid JSON: %s", local->message);
  JsonNode *root_node = json_parser_get_root (parser);
  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    return invalid (error, "not a JSON object");
  JsonObject *root = json_node_get_object (root_node);

  static const char *const top[] = { "name", "norm_eps", "video", "text", "tae", "dit" };
  g_autoptr (GList) members = json_object_get_members (root);
  for (GList *l = members; l; l = l->next)
    {
      guint i;
      for (i = 0; i < G_N_ELEMENTS (top); i++)
        if (strcmp (l->data, top[i]) == 0)
          break;
      if (i == G_N_ELEMENTS (top))
        return invalid (error, "unknown key \"%s\"", (const char *) l->data);
    }

  JsonNode *name = json_object_get_member (root, "name");
  if (name == NULL || json_node_get_value_type (name) != G_TYPE_STRING)
    return invalid (error, "\"name\" is missing or not a string");
  if (strlen (json_node_get_string (name)) >= RG_MODEL_NAME_MAX)
    return invalid (error, "\"name\" is longer than %d bytes", RG_MODEL_NAME_MAX - 1);
  g_strlcpy (out->name, json_node_get_string (name), sizeof out->name);

  JsonNode *eps = json_object_get_member (root, "norm_eps");
  if (eps == NULL || !JSON_NODE_HOLDS_VALUE (eps)
      || (json_node_get_value_type (eps) != G_TYPE_DOUBLE
          && json_node_get_value_type (eps) != G_TYPE_INT64))
    return invalid (error, "\"norm_eps\" is missing or not a number");
  out->norm_eps = (float) json_node_get_double (eps);

  if (!read_section (root, "video", video_fields, G_N_ELEMENTS (video_fields), &out->video,
                     error)
      || !read_section (root, "text", text_fields, G_N_ELEMENTS (text_fields), &out->text, error)
      || !read_section (root, "tae", tae_fields, G_N_ELEMENTS (tae_fields), &out->tae, error)
      || !read_section (root, "dit", dit_fields, G_N_ELEMENTS (dit_fields), &out->dit, error))
    return FALSE;

  JsonObject *tae = json_object_get_object_member (root, "tae");
  JsonNode *ch = json_object_get_member (tae, "channels");
  if (ch == NULL || !JSON_NODE_HOLDS_ARRAY (ch))
    return invalid (error, "\"tae.channels\" is missing or not a list");
  JsonArray *arr = json_node_get_array (ch);
  guint levels = json_array_get_length (arr);
  if (levels < 1 || levels > RG_TAE_MAX_LEVELS)
    return invalid (error, "\"tae.channels\" has %u entries, expected 1..%d", levels,
                    RG_TAE_MAX_LEVELS);
  out->tae.levels = (int) levels;
  for (guint i = 0; i < levels; i++)
    {
      JsonNode *v = json_array_get_element (arr, i);
      if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_INT64
          || json_node_get_int (v) < 1 || json_node_get_int (v) > MAX_SIZE)
        return invalid (error, "\"tae.channels\"[%u] is not a positive integer", i);
      out->tae.channels[i] = (int) json_node_get_int (v);
    }
  /* optional: files written before the TAE was trained lack them */
  out->tae.latent_mean = 0.0f;
  out->tae.latent_std = 1.0f;
  const char *stat_keys[2] = { "latent_mean", "latent_std" };
  float *stats[2] = { &out->tae.latent_mean, &out->tae.latent_std };
  for (int i = 0; i < 2; i++)
    {
      JsonNode *v = json_object_get_member (tae, stat_keys[i]);
      if (v == NULL)
        continue;
      if (!JSON_NODE_HOLDS_VALUE (v)
          || (json_node_get_value_type (v) != G_TYPE_DOUBLE
              && json_node_get_value_type (v) != G_TYPE_INT64))
        return invalid (error, "\"tae.%s\" is not a number", stat_keys[i]);
      *stats[i] = (float) json_node_get_double (v);
    }
  return rg_model_config_validate (out, error);
}

static void
write_section (JsonBuilder *b, const char *section, const IntField *fields, guint n,
               const void *base)
{
  json_builder_set_member_name (b, section);
  json_builder_begin_object (b);
  for (guint i = 0; i < n; i++)
    {
      json_builder_set_member_name (b, fields[i].key);
      json_builder_add_int_value (b, *field_ptr ((void *) base, &fields[i]));
    }
}

char *
rg_model_config_to_json (const RgModelConfig *c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, c->name);
  json_builder_set_member_name (b, "norm_eps");
  json_builder_add_double_value (b, c->norm_eps);
  write_section (b, "video", video_fields, G_N_ELEMENTS (video_fields), &c->video);
  json_builder_end_object (b);
  write_section (b, "text", text_fields, G_N_ELEMENTS (text_fields), &c->text);
  json_builder_end_object (b);
  write_section (b, "tae", tae_fields, G_N_ELEMENTS (tae_fields), &c->tae);
  json_builder_set_member_name (b, "channels");
  json_builder_begin_array (b);
  for (int i = 0; i < c->tae.levels; i++)
    json_builder_add_int_value (b, c->tae.channels[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "latent_mean");
  json_builder_add_double_value (b, c->tae.latent_mean);
  json_builder_set_member_name (b, "latent_std");
  json_builder_add_double_value (b, c->tae.latent_std);
  json_builder_end_object (b);
  write_section (b, "dit", dit_fields, G_N_ELEMENTS (dit_fields), &c->dit);
  json_builder_end_object (b);
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, NULL);
}
