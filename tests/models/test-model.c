/* test-model.c — model configs, seeded init, checkpoints and forward passes. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "core/rg-safetensors.h"
#include "models/rg-model.h"

/* nano-t2v shrunk so every forward pass here takes milliseconds. */
static void
tiny_config (RgModelConfig *c)
{
  g_assert_true (rg_model_config_preset ("nano-t2v", c, NULL));
  g_strlcpy (c->name, "tiny-test", sizeof c->name);
  c->video = (RgVideoConfig){ .frames = 8, .height = 32, .width = 32, .fps = 8 };
  c->text = (RgTextConfig){ .vocab = 259, .max_len = 24, .width = 32, .layers = 2, .heads = 2,
                            .ffn = 48 };
  c->tae = (RgTaeConfig){ .image_channels = 3, .latent_channels = 4, .levels = 3,
                          .channels = { 8, 16, 16 }, .temporal_down = 1, .groups = 4,
                          .latent_mean = 0.0f, .latent_std = 1.0f };
  c->dit = (RgDitConfig){ .in_channels = 4, .width = 32, .layers = 2, .heads = 2, .ffn = 64,
                          .context_width = 32, .patch_t = 1, .patch_h = 2, .patch_w = 2,
                          .pos_t = 8, .pos_h = 8, .pos_w = 8, .freq_dim = 16 };
  g_assert_true (rg_model_config_validate (c, NULL));
}

static char *
tmp_path (const char *name)
{
  g_autofree char *dir = g_dir_make_tmp ("rg-model-XXXXXX", NULL);
  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
remove_tmp (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_unlink (path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* json with the first `from` replaced by `to`. */
static char *
json_with (const char *json, const char *from, const char *to)
{
  const char *at = strstr (json, from);
  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - json), json, to, at + strlen (from));
}

static void
test_presets (void)
{
  for (const char *const *n = rg_model_config_preset_names (); *n; n++)
    {
      RgModelConfig c, back;
      g_autoptr (GError) error = NULL;
      g_assert_true (rg_model_config_preset (*n, &c, &error));
      g_assert_no_error (error);
      g_autofree char *json = rg_model_config_to_json (&c);
      g_assert_true (rg_model_config_from_json (json, &back, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (&c, sizeof c, &back, sizeof back);
    }
  RgModelConfig c;
  g_assert_true (rg_model_config_preset ("nano-t2v", &c, NULL));
  int64_t lat[4];
  g_assert_true (rg_model_config_latent_shape (&c, 16, 64, 64, lat, NULL));
  /* 16 channels × 4 × 8 × 8 → 64 tokens of 1×2×2 patches */
  g_assert_cmpint (lat[0], ==, 16);
  g_assert_cmpint (lat[1], ==, 4);
  g_assert_cmpint (lat[2], ==, 8);
  g_assert_cmpint (lat[3], ==, 8);
  g_assert_cmpint (c.dit.pooled_text, ==, 1);
  /* files written before pooled_text existed load with it off */
  {
    g_autofree char *json = rg_model_config_to_json (&c);
    g_autofree char *old = json_with (json, "\"pooled_text\" : 1,", "");
    RgModelConfig back;
    g_autoptr (GError) error = NULL;
    g_assert_true (rg_model_config_from_json (old, &back, &error));
    g_assert_no_error (error);
    g_assert_cmpint (back.dit.pooled_text, ==, 0);
  }
  g_assert_true (rg_model_config_preset ("moviegen-30b", &c, NULL));
  g_assert_cmpint (c.dit.layers, ==, 48);
  g_assert_cmpint (c.dit.width, ==, 6144);
  g_assert_cmpint (c.dit.heads, ==, 48);

  g_autoptr (GError) error = NULL;
  g_assert_false (rg_model_config_preset ("nano-t3v", &c, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
}

static void
expect_invalid_json (const char *json, const char *message)
{
  RgModelConfig c;
  g_autoptr (GError) error = NULL;
  g_assert_false (rg_model_config_from_json (json, &c, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  if (strstr (error->message, message) == NULL)
    g_error ("expected \"%s\" in \"%s\"", message, error->message);
}

/* Replace the first `from` in the nano config's JSON with `to`. */
static char *
nano_json_with (const char *from, const char *to)
{
  RgModelConfig c;
  g_assert_true (rg_model_config_preset ("nano-t2v", &c, NULL));
  g_autofree char *json = rg_model_config_to_json (&c);
  return json_with (json, from, to);
}

static void
test_config_errors (void)
{
  struct {
    const char *from, *to, *message;
  } cases[] = {
    { "\"heads\" : 4,\n    \"ffn\" : 512", "\"heads\" : 3,\n    \"ffn\" : 512",
      "dit.width 256 is not divisible by dit.heads 3" },
    { "\"frames\" : 16", "\"frames\" : 18", "not divisible by the TAE" },
    { "\"groups\" : 8", "\"groups\" : 7", "not divisible by tae.groups 7" },
    { "\"layers\" : 6", "\"layers\" : 0", "dit.layers is 0" },
    { "\"layers\" : 6", "\"layers\" : 6.5", "\"dit.layers\" is not an integer" },
    { "\"layers\" : 6", "\"layerz\" : 6", "unknown key \"dit.layerz\"" },
    { "\"fps\" : 8", "\"fps\" : -8", "\"video.fps\" is -8, out of range" },
    { "\"pos_t\" : 16", "\"pos_t\" : 2", "exceeds the positional tables" },
    { "\"in_channels\" : 16", "\"in_channels\" : 8", "differs from tae.latent_channels" },
    { "\"name\" : \"nano-t2v\",", "", "\"name\" is missing" },
    { "\"pooled_text\" : 1", "\"pooled_text\" : 2", "dit.pooled_text is 2, expected 0 or 1" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = nano_json_with (cases[i].from, cases[i].to);
      expect_invalid_json (json, cases[i].message);
    }
  expect_invalid_json ("[1]", "not a JSON object");
  expect_invalid_json ("{\"name\": ", "not valid JSON");
}

static void
test_init_deterministic (void)
{
  RgModelConfig c;
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_model_config_preset ("nano-t2v", &c, NULL));
  g_autoptr (RgModel) a = rg_model_init (&c, 7, &error);
  g_assert_no_error (error);
  /* DiT ≈ 6M parameters, as the nano design says */
  int64_t dit = rg_model_count_params (a, "dit");
  g_test_message ("nano-t2v: text %" G_GINT64_FORMAT ", tae %" G_GINT64_FORMAT ", dit %"
                  G_GINT64_FORMAT " parameters", rg_model_count_params (a, "text"),
                  rg_model_count_params (a, "tae"), dit);
  g_assert_cmpint (dit, >, 5000000);
  g_assert_cmpint (dit, <, 7000000);
  g_assert_cmpint (rg_model_count_params (a, NULL), ==,
                   dit + rg_model_count_params (a, "text") + rg_model_count_params (a, "tae"));

  RgModelConfig t;
  tiny_config (&t);
  g_autoptr (RgModel) x = rg_model_init (&t, 7, NULL);
  g_autoptr (RgModel) y = rg_model_init (&t, 7, NULL);
  g_autoptr (RgModel) z = rg_model_init (&t, 8, NULL);
  g_autofree char *px = tmp_path ("x.safetensors");
  g_autofree char *py = tmp_path ("y.safetensors");
  g_autofree char *pz = tmp_path ("z.safetensors");
  g_assert_true (rg_model_save (x, px, RG_F32, NULL));
  g_assert_true (rg_model_save (y, py, RG_F32, NULL));
  g_assert_true (rg_model_save (z, pz, RG_F32, NULL));
  g_autofree char *bx = NULL, *by = NULL, *bz = NULL;
  gsize nx, ny, nz;
  g_assert_true (g_file_get_contents (px, &bx, &nx, NULL));
  g_assert_true (g_file_get_contents (py, &by, &ny, NULL));
  g_assert_true (g_file_get_contents (pz, &bz, &nz, NULL));
  g_assert_cmpmem (bx, nx, by, ny);
  g_assert_cmpuint (nx, ==, nz);
  g_assert_true (memcmp (bx, bz, nx) != 0);
  remove_tmp (px);
  remove_tmp (py);
  remove_tmp (pz);
}

typedef struct {
  RgTensor *context, *latent, *video, *v;
  int32_t   len[2];
} Outputs;

static void
outputs_clear (Outputs *o)
{
  g_clear_pointer (&o->context, rg_tensor_unref);
  g_clear_pointer (&o->latent, rg_tensor_unref);
  g_clear_pointer (&o->video, rg_tensor_unref);
  g_clear_pointer (&o->v, rg_tensor_unref);
}

static RgTensor *
noise (uint64_t seed, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  rg_rng_normal (seed, 0, 0, rg_tensor_f32 (t), rg_tensor_numel (t));
  return t;
}

/* Run every part of the model on fixed inputs. */
static void
run_all (RgModel *m, Outputs *o)
{
  const RgModelConfig *c = rg_model_get_config (m);
  g_autoptr (GError) error = NULL;
  const char *prompts[] = { "a red circle bounces", "" };
  o->context = rg_text_encoder_encode (rg_model_get_text_encoder (m), prompts, 2, o->len, NULL,
                                       &error);
  g_assert_no_error (error);

  int64_t vshape[5] = { 1, 3, c->video.frames, c->video.height, c->video.width };
  g_autoptr (RgTensor) video = noise (1, 5, vshape);
  int64_t lat[4];
  g_assert_true (rg_model_config_latent_shape (c, c->video.frames, c->video.height,
                                               c->video.width, lat, NULL));
  int64_t lshape[5] = { 1, lat[0], lat[1], lat[2], lat[3] };
  o->latent = rg_tensor_new (RG_F32, 5, lshape);
  g_assert_true (rg_tae_encode (rg_model_get_tae (m), video, o->latent, NULL, NULL, &error));
  g_assert_no_error (error);
  o->video = rg_tensor_new (RG_F32, 5, vshape);
  g_assert_true (rg_tae_decode (rg_model_get_tae (m), o->latent, o->video, NULL, &error));
  g_assert_no_error (error);

  int64_t xshape[5] = { 2, lat[0], lat[1], lat[2], lat[3] };
  g_autoptr (RgTensor) x = noise (2, 5, xshape);
  g_autoptr (RgTensor) t = rg_tensor_f32_new (1, (int64_t) 2);
  rg_tensor_f32 (t)[0] = 0.25f;
  rg_tensor_f32 (t)[1] = 0.75f;
  RgDitInput in = { .x = x, .t = t, .context = o->context, .context_len = o->len };
  o->v = rg_tensor_new (RG_F32, 5, xshape);
  g_assert_true (rg_dit_forward (rg_model_get_dit (m), &in, o->v, NULL, &error));
  g_assert_no_error (error);
}

static void
assert_same (const RgTensor *a, const RgTensor *b)
{
  g_assert_true (rg_tensor_same_shape (a, b));
  g_assert_cmpmem (a->data, rg_tensor_nbytes (a), b->data, rg_tensor_nbytes (b));
}

static double
rel_err (const RgTensor *a, const RgTensor *b)
{
  const float *x = rg_tensor_f32 (a), *y = rg_tensor_f32 (b);
  double num = 0, den = 0;
  for (int64_t i = 0; i < rg_tensor_numel (a); i++)
    {
      num += (x[i] - y[i]) * (double) (x[i] - y[i]);
      den += y[i] * (double) y[i];
    }
  return num / den;
}

static void
test_save_load_forward (void)
{
  RgModelConfig c;
  tiny_config (&c);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgModel) m = rg_model_init (&c, 42, &error);
  g_assert_no_error (error);
  g_autofree char *path = tmp_path ("m.safetensors");
  g_assert_true (rg_model_save (m, path, RG_F32, &error));
  g_autoptr (RgModel) back = rg_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (rg_model_get_config (m), sizeof (RgModelConfig), rg_model_get_config (back),
                   sizeof (RgModelConfig));

  Outputs a = { 0 }, b = { 0 };
  run_all (m, &a);
  run_all (back, &b);
  assert_same (a.context, b.context);
  assert_same (a.latent, b.latent);
  assert_same (a.video, b.video);
  assert_same (a.v, b.v);
  /* a writable load holds private copies with the same values */
  g_autoptr (RgModel) rw = rg_model_load_writable (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rg_model_get_n_weights (rw), ==, rg_model_get_n_weights (back));
  for (guint i = 0; i < rg_model_get_n_weights (rw); i++)
    {
      RgTensor *w = rg_model_get_weight (rw, i);
      g_assert_cmpstr (rg_model_get_weight_name (rw, i), ==, rg_model_get_weight_name (back, i));
      assert_same (w, rg_model_get_weight (back, i));
      g_assert_true (w->data != rg_model_get_weight (back, i)->data);
    }
  rg_tensor_f32 (rg_model_get_weight (rw, 0))[0] += 1.f; /* writable: no fault */

  /* a second pass through the same (arena-backed) model gives the same */
  Outputs again = { 0 };
  run_all (back, &again);
  assert_same (again.v, b.v);
  outputs_clear (&again);

  /* the outputs are real numbers that depend on the input */
  float *v = rg_tensor_f32 (a.v);
  int64_t half = rg_tensor_numel (a.v) / 2;
  double diff = 0;
  for (int64_t i = 0; i < half; i++)
    {
      g_assert_true (isfinite (v[i]));
      diff += fabs (v[i] - v[half + i]);
    }
  g_assert_cmpfloat (diff, >, 1e-3);
  /* prompt lengths: bytes + end-of-text; padding rows of the context are 0 */
  g_assert_cmpint (a.len[0], ==, (int) strlen ("a red circle bounces") + 1);
  g_assert_cmpint (a.len[1], ==, 1);
  const float *ctx = rg_tensor_f32 (a.context);
  for (int64_t i = (int64_t) c.text.max_len + 1; i < 2 * c.text.max_len; i++)
    for (int j = 0; j < c.dit.context_width; j++)
      g_assert_cmpfloat (ctx[i * c.dit.context_width + j], ==, 0.f);

  /* bf16 storage loads as f32 and stays close */
  g_assert_true (rg_model_save (m, path, RG_BF16, &error));
  g_autoptr (RgModel) half_model = rg_model_load (path, &error);
  g_assert_no_error (error);
  Outputs h = { 0 };
  run_all (half_model, &h);
  g_test_message ("bf16 checkpoint: DiT output relative squared error %.3g", rel_err (h.v, a.v));
  g_assert_cmpfloat (rel_err (h.v, a.v), <, 1e-3);
  g_assert_cmpfloat (rel_err (h.v, a.v), >, 0);
  outputs_clear (&h);

  outputs_clear (&a);
  outputs_clear (&b);
  remove_tmp (path);
}

/* A prompt's context does not depend on what else is in the batch. */
static void
test_text_batch_independent (void)
{
  RgModelConfig c;
  tiny_config (&c);
  g_autoptr (RgModel) m = rg_model_init (&c, 3, NULL);
  RgTextEncoder *te = rg_model_get_text_encoder (m);
  const char *both[] = { "blue square", "a much longer prompt about a green triangle" };
  int32_t len2[2], len1[1];
  g_autoptr (RgTensor) c2 = rg_text_encoder_encode (te, both, 2, len2, NULL, NULL);
  g_autoptr (RgTensor) c1 = rg_text_encoder_encode (te, both, 1, len1, NULL, NULL);
  g_assert_cmpint (len1[0], ==, len2[0]);
  const float *a = rg_tensor_f32 (c1), *b = rg_tensor_f32 (c2);
  for (int64_t i = 0; i < rg_tensor_numel (c1); i++)
    g_assert_cmpfloat (fabsf (a[i] - b[i]), <=, 1e-5f);

  int32_t ids[24];
  g_assert_cmpint (rg_text_tokenize (&c.text, "h\xc3\xa9", ids), ==, 4);
  g_assert_cmpint (ids[0], ==, 'h' + RG_TEXT_BYTE_OFFSET);
  g_assert_cmpint (ids[1], ==, 0xc3 + RG_TEXT_BYTE_OFFSET);
  g_assert_cmpint (ids[3], ==, RG_TEXT_EOS);
  g_assert_cmpint (ids[4], ==, RG_TEXT_PAD);
  /* a prompt longer than max_len is cut, keeping end-of-text */
  g_assert_cmpint (rg_text_tokenize (&c.text, "0123456789012345678901234567890123", ids), ==, 24);
  g_assert_cmpint (ids[23], ==, RG_TEXT_EOS);
}

/* Rewrite `src` with tensor `name` replaced by `replacement` (NULL: drop
 * it) and optionally an extra tensor. */
static void
rewrite (const char *src, const char *dst, const char *name, RgTensor *replacement,
         const char *extra)
{
  g_autoptr (RgSafetensors) st = rg_safetensors_open (src, NULL);
  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  for (guint i = 0; i < rg_safetensors_get_n_tensors (st); i++)
    {
      const char *n = rg_safetensors_get_name (st, i);
      g_autoptr (RgTensor) t = rg_safetensors_get (st, n, NULL);
      if (g_strcmp0 (n, name) == 0)
        {
          if (replacement != NULL)
            g_assert_true (rg_safetensors_writer_add (w, n, replacement, RG_F32, NULL));
          continue;
        }
      g_assert_true (rg_safetensors_writer_add (w, n, t, t->dtype, NULL));
    }
  if (extra != NULL)
    {
      g_autoptr (RgTensor) e = rg_tensor_f32_zeros (1, (int64_t) 3);
      g_assert_true (rg_safetensors_writer_add (w, extra, e, RG_F32, NULL));
    }
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, rg_safetensors_get_metadata_table (st));
  while (g_hash_table_iter_next (&it, &k, &v))
    rg_safetensors_writer_set_metadata (w, k, v);
  g_assert_true (rg_safetensors_writer_save (w, dst, NULL));
}

static void
expect_load_error (const char *path, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgModel) m = rg_model_load (path, &error);
  g_assert_null (m);
  g_assert_error (error, RG_ERROR, RG_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  if (strstr (error->message, message) == NULL || strstr (error->message, path) == NULL)
    g_error ("expected \"%s\" and the path in \"%s\"", message, error->message);
}

static void
test_load_errors (void)
{
  RgModelConfig c;
  tiny_config (&c);
  g_autoptr (RgModel) m = rg_model_init (&c, 1, NULL);
  g_autofree char *good = tmp_path ("good.safetensors");
  g_autofree char *bad = tmp_path ("bad.safetensors");
  g_assert_true (rg_model_save (m, good, RG_F32, NULL));

  g_autoptr (RgTensor) wrong = rg_tensor_f32_zeros (2, (int64_t) 32, (int64_t) 31);
  rewrite (good, bad, "dit.blocks.1.self_attn.q.weight", wrong, NULL);
  expect_load_error (bad, "tensor 'dit.blocks.1.self_attn.q.weight' has shape [32, 31], but "
                          "the model config needs [32, 32]");
  rewrite (good, bad, "tae.dec.conv_out.temporal.bias", NULL, NULL);
  expect_load_error (bad, "tensor 'tae.dec.conv_out.temporal.bias' is missing");
  rewrite (good, bad, NULL, NULL, "dit.blocks.9.extra");
  expect_load_error (bad, "unexpected tensor 'dit.blocks.9.extra'");

  /* a plain safetensors file without our config */
  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  g_assert_true (rg_safetensors_writer_add (w, "x", wrong, RG_F32, NULL));
  g_assert_true (rg_safetensors_writer_save (w, bad, NULL));
  expect_load_error (bad, "not a Reelgen model checkpoint");
  /* a config that does not validate */
  rg_safetensors_writer_set_metadata (w, RG_MODEL_CONFIG_KEY, "{\"name\": \"x\"}");
  g_assert_true (rg_safetensors_writer_save (w, bad, NULL));
  expect_load_error (bad, "model config:");

  g_autoptr (GError) error = NULL;
  g_autoptr (RgModel) none = rg_model_load ("/nonexistent/m.safetensors", &error);
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  remove_tmp (good);
  remove_tmp (bad);
}

static void
test_forward_errors (void)
{
  RgModelConfig c;
  tiny_config (&c);
  g_autoptr (RgModel) m = rg_model_init (&c, 1, NULL);
  g_autoptr (GError) error = NULL;
  const char *p[] = { "x" };
  int32_t len[1];
  g_autoptr (RgTensor) ctx = rg_text_encoder_encode (rg_model_get_text_encoder (m), p, 1, len,
                                                     NULL, NULL);
  g_autoptr (RgTensor) t = rg_tensor_f32_zeros (1, (int64_t) 1);

  /* a token grid larger than the positional tables (8×8×8) */
  g_autoptr (RgTensor) big = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 4, (int64_t) 2,
                                                  (int64_t) 18, (int64_t) 4);
  g_autoptr (RgTensor) vbig = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 4, (int64_t) 2,
                                                   (int64_t) 18, (int64_t) 4);
  RgDitInput in = { .x = big, .t = t, .context = ctx, .context_len = len };
  g_assert_false (rg_dit_forward (rg_model_get_dit (m), &in, vbig, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "exceeds the positional tables"));
  g_clear_error (&error);

  /* cancellation is reported, not ignored */
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  g_autoptr (RgTensor) x = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 4, (int64_t) 2,
                                                (int64_t) 4, (int64_t) 4);
  g_autoptr (RgTensor) v = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 4, (int64_t) 2,
                                                (int64_t) 4, (int64_t) 4);
  in.x = x;
  g_assert_false (rg_dit_forward (rg_model_get_dit (m), &in, v, cancel, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CANCELLED);
  g_clear_error (&error);
  g_autoptr (RgTensor) video = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 3, (int64_t) 4,
                                                    (int64_t) 16, (int64_t) 16);
  g_assert_false (rg_tae_decode (rg_model_get_tae (m), x, video, cancel, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CANCELLED);
  g_clear_error (&error);

  /* a clip the TAE cannot compress evenly */
  g_autoptr (RgTensor) odd = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 3, (int64_t) 7,
                                                  (int64_t) 32, (int64_t) 32);
  g_assert_false (rg_tae_encode (rg_model_get_tae (m), odd, x, NULL, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

/* Word features: the tokens of a word share its bucket whatever its case,
 * its bigram names the word before, and tokens outside words get none. */
static void
test_text_word_buckets (void)
{
  RgModelConfig c;
  g_assert_true (rg_model_config_preset ("nano-t2v", &c, NULL));
  g_assert_cmpint (c.text.word_buckets, ==, 4096);
  int32_t a[128], b[128], ua[128], ba[128], ub[128], bb[128];
  int na = rg_text_tokenize (&c.text, "a red circle, on RED", a);
  g_assert_cmpint (rg_text_tokenize (&c.text, "two red circles", b), ==, 16);
  rg_text_word_buckets (&c.text, a, c.text.max_len, ua, ba);
  rg_text_word_buckets (&c.text, b, c.text.max_len, ub, bb);
  /* "a red circle, on RED": a=0, red=2..4, circle=6..11, ','=12, on=14..15, RED=17..19 */
  g_assert_cmpint (na, ==, 21);
  g_assert_cmpint (ua[0], >=, 0);
  g_assert_cmpint (ba[0], ==, -1); /* the first word has no bigram */
  g_assert_cmpint (ua[1], ==, -1); /* space */
  g_assert_cmpint (ua[2], ==, ua[4]);
  g_assert_cmpint (ba[2], ==, ba[3]);
  g_assert_cmpint (ua[12], ==, -1); /* comma */
  g_assert_cmpint (ua[17], ==, ua[2]); /* RED is red */
  g_assert_cmpint (ba[17], !=, ba[2]); /* "on red" is not "a red" */
  g_assert_cmpint (ub[4], ==, ua[2]);  /* red in another prompt */
  g_assert_cmpint (bb[4], !=, ba[2]);  /* "two red" */
  g_assert_cmpint (ua[6], !=, ub[8]);  /* circle is not circles */
  for (int i = na - 1; i < c.text.max_len; i++) /* end-of-text and padding */
    g_assert_cmpint (ua[i], ==, -1);
  for (int i = 0; i < c.text.max_len; i++)
    g_assert_cmpint (MAX (ua[i], ba[i]), <, 4096);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/config/presets", test_presets);
  g_test_add_func ("/model/config/errors", test_config_errors);
  g_test_add_func ("/model/init-deterministic", test_init_deterministic);
  g_test_add_func ("/model/save-load-forward", test_save_load_forward);
  g_test_add_func ("/model/text/batch-independent", test_text_batch_independent);
  g_test_add_func ("/model/text/word-buckets", test_text_word_buckets);
  g_test_add_func ("/model/load-errors", test_load_errors);
  g_test_add_func ("/model/forward-errors", test_forward_errors);
  return g_test_run ();
}
