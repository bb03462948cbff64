/* test-model-grad.c — gradients of the text encoder → DiT training pass.
 *
 * A tiny model family (DiT width 64, 2 blocks of 2 heads, text width 32,
 * 2 blocks) from a seed; random token ids for B = 2 prompts, by default
 * of different lengths below max_len (so padding, kv_len masking and the
 * DiT's trimmed context are all exercised), a random latent on a 3×3×2 token
 * grid (smaller than the positional tables), two flow times and a fixed
 * random R. The loss is L = Σ v·R with v = DiT(x, t, text(ids)).
 *
 *  - forward: the training forwards give bit-identical outputs to the
 *    inference forwards; a second step on the same tapes accumulates
 *    twice the gradients (tapes are reusable, backwards add), and every
 *    text.* and dit.* weight gets a nonzero gradient.
 *  - finite differences: for a handful of weights of both models the
 *    analytic gradient of the weight's largest-gradient element matches a
 *    central difference of L through the inference forwards (f32, so the
 *    tolerance is loose). Runs without torch. Also for the edit model's
 *    task embedding and extra input channels.
 *  - torch: model_grad.py recomputes L with the models_ref.py forwards in
 *    float64 autograd; EVERY text.* and dit.* weight gradient must agree
 *    with NMSE ≤ 1e-6. Two configs: the context as wide as the DiT (the
 *    cross-attention's q/k/v weights are packed, as in nano-t2v) and a
 *    narrower one (separate weights) where one prompt fills max_len, so
 *    nothing is trimmed. Without torch the test skips locally and fails
 *    under CI=true. The same oracle checks the TAE's training passes
 *    (rg-tae-train.h): encode and decode gradients of every tae.* weight. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "core/rg-rng.h"
#include "core/rg-safetensors.h"
#include "models/rg-dit-train.h"
#include "models/rg-model.h"
#include "models/rg-tae-train.h"
#include "oracle-run.h"

#define NMSE_LIMIT 1e-6
#define BATCH 2

static void
tiny_config (RgModelConfig *c, int context_width, int n_tasks, int extra_in_channels)
{
  g_assert_true (rg_model_config_preset ("nano-t2v", c, NULL));
  g_strlcpy (c->name, "tiny-grad", sizeof c->name);
  c->video = (RgVideoConfig){ .frames = 8, .height = 16, .width = 16, .fps = 8 };
  c->text.max_len = 16;
  c->text.width = 32;
  c->text.layers = 2;
  c->text.heads = 2;
  c->text.ffn = 64;
  c->tae.latent_channels = 4;
  c->tae.levels = 2;
  c->tae.channels[0] = c->tae.channels[1] = 8;
  c->tae.temporal_down = 1;
  c->tae.groups = 4;
  c->dit.in_channels = 4;
  c->dit.width = 64;
  c->dit.layers = 2;
  c->dit.heads = 2;
  c->dit.ffn = 128;
  c->dit.context_width = context_width;
  c->dit.n_tasks = n_tasks;
  c->dit.extra_in_channels = extra_in_channels;
  c->dit.pos_t = c->dit.pos_h = c->dit.pos_w = 4;
  c->dit.freq_dim = 32;
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_model_config_validate (c, &error));
  g_assert_no_error (error);
}

static RgTensor *
noise (uint64_t seed, float scale, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  float *p = rg_tensor_f32 (t);
  rg_rng_normal (seed, 0, 0, p, rg_tensor_numel (t));
  for (int64_t i = 0; i < rg_tensor_numel (t); i++)
    p[i] *= scale;
  return t;
}

typedef struct {
  RgModelConfig config;
  RgModel      *model;
  RgTensor     *ids, *lens; /* [B, L] i32, [B] i32 */
  RgTensor     *x, *t, *r;  /* latent, flow time, the loss's weights */
  RgTensor     *context, *v;
  int32_t       task[BATCH];
  /* the TAE case: a clip, a latent, and the loss's weights of the
   * encoder's mean and logvar and of the decoded clip */
  RgTensor     *video, *latent, *rm, *rl, *rd;
} Fixture;

static RgTensor *
weight_by_name (RgModel *m, const char *name)
{
  RgTensor *w = rg_model_find_weight (m, name);
  if (w == NULL)
    g_error ("no weight %s", name);
  return w;
}

/* n_tasks, extra_in_channels: the edit model's task embedding and
 * source-latent channels (0: the t2v model). lens: the prompts' lengths
 * (NULL: 7 and 12, both shorter than max_len, and different: padding in
 * the text encoder, per-row kv_len in the DiT and a trimmed context). */
static void
fixture_init (Fixture *f, int context_width, int n_tasks, int extra_in_channels,
              const int32_t *lens)
{
  g_autoptr (GError) error = NULL;
  tiny_config (&f->config, context_width, n_tasks, extra_in_channels);
  f->model = rg_model_init (&f->config, 7, &error);
  g_assert_no_error (error);
  /* the pooled-text projection starts at zero, which would hide its
   * gradient into the context: give it values */
  if (f->config.dit.pooled_text)
    {
      RgTensor *w = weight_by_name (f->model, "dit.text_pool.weight");
      rg_rng_normal (11, 0, 0, rg_tensor_f32 (w), rg_tensor_numel (w));
      for (int64_t i = 0; i < rg_tensor_numel (w); i++)
        rg_tensor_f32 (w)[i] *= 0.1f;
    }
  int64_t l = f->config.text.max_len;
  int64_t id_shape[2] = { BATCH, l }, len_shape[1] = { BATCH };
  f->ids = rg_tensor_new (RG_I32, 2, id_shape);
  f->lens = rg_tensor_new (RG_I32, 1, len_shape);
  int32_t *ids = f->ids->data, *len = f->lens->data;
  static const int32_t default_lens[BATCH] = { 7, 12 };
  memcpy (len, lens != NULL ? lens : default_lens, sizeof default_lens);
  guint32 state = 12345;
  for (int64_t b = 0; b < BATCH; b++)
    for (int64_t i = 0; i < l; i++)
      {
        state = state * 1664525u + 1013904223u;
        ids[b * l + i] = i < len[b] - 1 ? RG_TEXT_BYTE_OFFSET + (int32_t) (state >> 24)
                         : i == len[b] - 1 ? RG_TEXT_EOS
                                          : RG_TEXT_PAD;
      }
  int64_t xshape[5] = { BATCH, f->config.dit.in_channels + extra_in_channels, 3, 6, 4 };
  int64_t vshape[5] = { BATCH, f->config.dit.in_channels, 3, 6, 4 };
  f->x = noise (1, 1.f, 5, xshape);
  f->r = noise (2, 1.f, 5, vshape);
  for (int b = 0; b < BATCH; b++)
    f->task[b] = n_tasks > 0 ? (2 * b + 1) % n_tasks : 0;
  f->t = rg_tensor_f32_new (1, (int64_t) BATCH);
  rg_tensor_f32 (f->t)[0] = 0.3f;
  rg_tensor_f32 (f->t)[1] = 0.8f;
  f->context = rg_tensor_f32_new (3, (int64_t) BATCH, l, (int64_t) context_width);
  f->v = rg_tensor_new (RG_F32, 5, vshape);
}

static void
fixture_clear (Fixture *f)
{
  g_clear_pointer (&f->model, rg_model_unref);
  RgTensor **ts[] = { &f->ids, &f->lens, &f->x, &f->t, &f->r, &f->context, &f->v,
                      &f->video, &f->latent, &f->rm, &f->rl, &f->rd };
  for (guint i = 0; i < G_N_ELEMENTS (ts); i++)
    g_clear_pointer (ts[i], rg_tensor_unref);
}

static RgDitInput
dit_input (const Fixture *f)
{
  return (RgDitInput){ .x = f->x, .t = f->t, .context = f->context,
                       .context_len = f->lens->data,
                       .task = f->config.dit.n_tasks > 0 ? f->task : NULL };
}

static double
dot (const RgTensor *a, const RgTensor *b)
{
  g_assert_cmpint (rg_tensor_numel (a), ==, rg_tensor_numel (b));
  const float *x = rg_tensor_f32 (a), *y = rg_tensor_f32 (b);
  double s = 0;
  for (int64_t i = 0; i < rg_tensor_numel (a); i++)
    s += (double) x[i] * y[i];
  return s;
}

/* L through the inference forwards. */
static double
loss_inference (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_text_encoder_forward (rg_model_get_text_encoder (f->model), f->ids,
                                          f->lens->data, f->context, NULL, &error));
  RgDitInput in = dit_input (f);
  g_assert_true (rg_dit_forward (rg_model_get_dit (f->model), &in, f->v, NULL, &error));
  g_assert_no_error (error);
  return dot (f->v, f->r);
}

/* One training step: forwards on the tapes, L, and both backwards
 * (∂L/∂v = R) accumulating into g. */
static double
train_step (Fixture *f, RgTextEncoderTape *tt, RgDitTape *dt, RgGrads *g)
{
  g_autoptr (GError) error = NULL;
  RgTextEncoder *te = rg_model_get_text_encoder (f->model);
  RgDit *dit = rg_model_get_dit (f->model);
  g_assert_true (rg_text_encoder_forward_train (te, tt, f->ids, f->lens->data, f->context,
                                                &error));
  RgDitInput in = dit_input (f);
  g_assert_true (rg_dit_forward_train (dit, dt, &in, f->v, &error));
  g_assert_no_error (error);
  double loss = dot (f->v, f->r);
  g_autoptr (RgTensor) dcontext = rg_tensor_zeros (RG_F32, 3, f->context->shape);
  rg_dit_backward (dit, dt, g, f->r, dcontext);
  rg_text_encoder_backward (te, tt, g, dcontext);
  return loss;
}

/* The gradients of one training step on fresh tapes; *loss gets L. */
static RgGrads *
step_gradients (Fixture *f, double *loss)
{
  RgGrads *g = rg_grads_new (rg_model_get_params (f->model));
  RgTextEncoder *te = rg_model_get_text_encoder (f->model);
  g_autoptr (RgTextEncoderTape) tt = rg_text_encoder_tape_new (te);
  g_autoptr (RgDitTape) dt = rg_dit_tape_new (rg_model_get_dit (f->model));
  double l = train_step (f, tt, dt, g);
  if (loss != NULL)
    *loss = l;
  return g;
}

static gboolean
trained (const char *name)
{
  return g_str_has_prefix (name, "text.") || g_str_has_prefix (name, "dit.");
}

static void
test_forward (void)
{
  Fixture f = { 0 };
  fixture_init (&f, 64, 0, 0, NULL);
  double l_ref = loss_inference (&f);
  g_autoptr (RgTensor) ctx_ref = rg_tensor_clone (f.context);
  g_autoptr (RgTensor) v_ref = rg_tensor_clone (f.v);

  g_autoptr (RgGrads) g = rg_grads_new (rg_model_get_params (f.model));
  g_autoptr (RgTextEncoderTape) tt = rg_text_encoder_tape_new (rg_model_get_text_encoder (f.model));
  g_autoptr (RgDitTape) dt = rg_dit_tape_new (rg_model_get_dit (f.model));
  double l1 = train_step (&f, tt, dt, g);
  g_assert_cmpmem (f.context->data, rg_tensor_nbytes (f.context), ctx_ref->data,
                   rg_tensor_nbytes (ctx_ref));
  g_assert_cmpmem (f.v->data, rg_tensor_nbytes (f.v), v_ref->data, rg_tensor_nbytes (v_ref));
  g_assert_cmpfloat (l1, ==, l_ref);

  /* keep the first step's gradients; a second step on the same tapes adds
   * the same values again */
  RgModel *m = f.model;
  guint n = rg_model_get_n_weights (m);
  GPtrArray *first = g_ptr_array_new_with_free_func ((GDestroyNotify) rg_tensor_unref);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (RgTensor) gi = rg_grads_of (g, rg_model_get_weight (m, i));
      g_ptr_array_add (first, rg_tensor_clone (gi));
    }
  double l2 = train_step (&f, tt, dt, g);
  g_assert_cmpfloat (l2, ==, l1);
  int nonzero = 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (RgTensor) gi = rg_grads_of (g, rg_model_get_weight (m, i));
      const float *a = rg_tensor_f32 (g_ptr_array_index (first, i)), *b = rg_tensor_f32 (gi);
      const char *name = rg_model_get_weight_name (m, i);
      float scale = 0.f;
      for (int64_t j = 0; j < rg_tensor_numel (gi); j++)
        scale = MAX (scale, fabsf (a[j]));
      /* not bit-exact: a gradient summed from several terms in one step
       * (embedding rows, the batch, blocks) is then added term by term */
      for (int64_t j = 0; j < rg_tensor_numel (gi); j++)
        if (fabsf (b[j] - 2.f * a[j]) > 1e-5f * scale)
          g_error ("%s[%" G_GINT64_FORMAT "]: second step gives %.9g, expected 2 × %.9g", name,
                   j, b[j], a[j]);
      gboolean any = scale > 0.f;
      /* every weight of the two models takes part in the loss */
      if (trained (name))
        {
          if (!any)
            g_error ("%s has an all-zero gradient", name);
          nonzero++;
        }
      else
        g_assert_false (any);
    }
  g_assert_cmpint (nonzero, >, 40);
  g_ptr_array_unref (first);
  fixture_clear (&f);
}

/* Central differences of L through the inference forwards against the
 * analytic gradient, at the largest-gradient element of each named weight. */
static void
check_finite_differences (Fixture *f, const char *const *names, guint n)
{
  g_autoptr (RgGrads) g = step_gradients (f, NULL);

  double worst = 0;
  const char *worst_name = NULL;
  for (guint k = 0; k < n; k++)
    {
      RgTensor *w = weight_by_name (f->model, names[k]);
      g_autoptr (RgTensor) gw = rg_grads_of (g, w);
      const float *ga = rg_tensor_f32 (gw);
      int64_t at = 0;
      for (int64_t j = 1; j < rg_tensor_numel (gw); j++)
        if (fabsf (ga[j]) > fabsf (ga[at]))
          at = j;
      float *p = rg_tensor_f32 (w) + at;
      float saved = *p;
      /* a step relative to the weight's size; the difference actually
       * taken (after rounding to f32) is the denominator */
      float eps = 3e-3f * MAX (1.f, fabsf (saved));
      float up = saved + eps, down = saved - eps;
      *p = up;
      double lu = loss_inference (f);
      *p = down;
      double ld = loss_inference (f);
      *p = saved;
      double fd = (lu - ld) / ((double) up - (double) down);
      double an = ga[at];
      /* f32 forwards: L carries ~1e-6 relative noise, the step's truncation
       * error is O(eps²); measured errors stay below 1e-3 */
      double err = fabs (fd - an) / (fabs (an) + 1e-2);
      g_test_message ("%-40s [%5" G_GINT64_FORMAT "] analytic %+.6e  central %+.6e  rel %.2e",
                      names[k], at, an, fd, err);
      if (err > worst)
        {
          worst = err;
          worst_name = names[k];
        }
      if (err > 1e-2)
        g_error ("%s[%" G_GINT64_FORMAT "]: analytic %g, central difference %g", names[k], at,
                 an, fd);
    }
  g_printerr ("finite differences: worst relative error %.2e (%s)\n", worst, worst_name);
}

static void
test_finite_differences (void)
{
  /* one weight per kind of layer and path: embeddings and positions,
   * packed and separate projections, QK-norm, the norms' affine weights,
   * the adaLN table and shared projection, the time MLP, the heads */
  static const char *const names[] = {
    "text.embed", "text.pos", "text.blocks.0.attn.q.weight", "text.blocks.0.attn.v.weight",
    "text.blocks.1.attn_norm.weight", "text.blocks.1.ffn.gate.weight", "text.proj.weight",
    "text.out_norm.bias", "dit.patch_embed.weight", "dit.time_embed.fc1.weight",
    "dit.time_embed.fc2.bias", "dit.t_mod.weight", "dit.pos.h", "dit.pos.w",
    "dit.blocks.0.mod_table", "dit.blocks.0.self_attn.k.weight",
    "dit.blocks.0.self_attn.q_norm.weight", "dit.blocks.1.cross_attn.k.weight",
    "dit.blocks.1.cross_attn.k_norm.weight", "dit.blocks.1.norm2.weight",
    "dit.blocks.1.ffn.up.weight", "dit.blocks.1.ffn.down.weight", "dit.final_mod.weight",
    "dit.final_proj.bias", "dit.text_pool.weight", "dit.text_pool.bias", "text.word_embed",
  };
  Fixture f = { 0 };
  fixture_init (&f, 48, 0, 0, NULL);
  check_finite_differences (&f, names, G_N_ELEMENTS (names));
  fixture_clear (&f);
}

/* The edit model's extras, which models_ref.py does not implement: the
 * task embedding (added to the time embedding) and extra input channels
 * (their patch_embed columns start at zero but still learn). */
static void
test_finite_differences_edit (void)
{
  static const char *const names[] = {
    "dit.task_embed", "dit.patch_embed.weight", "dit.time_embed.fc2.weight", "text.proj.bias",
  };
  Fixture f = { 0 };
  fixture_init (&f, 64, 3, 4, NULL);
  check_finite_differences (&f, names, G_N_ELEMENTS (names));
  /* the silent columns: gradient nonzero, so training can wake them */
  RgTensor *w = weight_by_name (f.model, "dit.patch_embed.weight");
  g_autoptr (RgGrads) g = step_gradients (&f, NULL);
  g_autoptr (RgTensor) gw = rg_grads_of (g, w);
  int64_t cols = w->shape[1], first_extra = (int64_t) f.config.dit.in_channels * 4;
  double extra = 0;
  for (int64_t r = 0; r < w->shape[0]; r++)
    for (int64_t c = first_extra; c < cols; c++)
      {
        g_assert_cmpfloat (rg_tensor_f32 (w)[r * cols + c], ==, 0.f);
        extra += fabsf (rg_tensor_f32 (gw)[r * cols + c]);
      }
  g_assert_cmpfloat (extra, >, 0);
  fixture_clear (&f);
}

/* The TAE case's inputs: a 4-frame 16×16 clip and a latent of its shape. */
static void
tae_inputs (Fixture *f)
{
  int64_t lat[4];
  g_assert_true (rg_model_config_latent_shape (&f->config, 4, 16, 16, lat, NULL));
  int64_t vshape[5] = { 1, 3, 4, 16, 16 }, zshape[5] = { 1, lat[0], lat[1], lat[2], lat[3] };
  f->video = noise (3, 0.5f, 5, vshape);
  f->latent = noise (4, 1.f, 5, zshape);
  f->rm = noise (5, 1.f, 5, zshape);
  f->rl = noise (6, 1.f, 5, zshape);
  f->rd = noise (7, 1.f, 5, vshape);
}

/* L = Σ mean·rm + Σ logvar·rl + Σ decode(latent)·rd through the TAE's
 * training passes (rg-tae-train.h); returns the gradients. */
static RgGrads *
tae_gradients (Fixture *f, double *loss)
{
  g_autoptr (GError) error = NULL;
  RgTae *tae = rg_model_get_tae (f->model);
  RgGrads *g = rg_grads_new (rg_model_get_params (f->model));
  g_autoptr (RgTaeTape) tape = rg_tae_tape_new (tae);
  g_autoptr (RgTensor) mean = rg_tensor_new (RG_F32, 5, f->latent->shape);
  g_autoptr (RgTensor) logvar = rg_tensor_new (RG_F32, 5, f->latent->shape);
  g_autoptr (RgTensor) decoded = rg_tensor_new (RG_F32, 5, f->video->shape);
  g_assert_true (rg_tae_encode_train (tae, tape, f->video, mean, logvar, &error));
  rg_tae_encode_backward (tae, tape, g, f->rm, f->rl);
  g_assert_true (rg_tae_decode_train (tae, tape, f->latent, decoded, &error));
  g_assert_no_error (error);
  rg_tae_decode_backward (tae, tape, g, f->rd, NULL);
  *loss = dot (mean, f->rm) + dot (logvar, f->rl) + dot (decoded, f->rd);
  return g;
}

typedef struct {
  const char *tag;
  const char *mode;   /* model_grad.py's: what the loss runs through */
  const char *prefix; /* the weights it trains */
  int         context_width;
  int32_t     lens[BATCH];
} TorchCase;

static const TorchCase torch_cases[] = {
  /* context as wide as the DiT: cross-attn q/k/v packed (as nano-t2v);
   * both prompts padded, so the DiT attends to a trimmed context */
  { "packed", "t2v", "text. dit.", 64, { 7, 12 } },
  /* separate cross-attn weights; one prompt fills max_len (the text
   * encoder and the DiT run on every position) */
  { "narrow", "t2v", "text. dit.", 48, { 16, 5 } },
  /* the TAE's encoder and decoder */
  { "tae", "tae", "tae.", 64, { 7, 12 } },
};

static gboolean
case_trains (const TorchCase *tc, const char *name)
{
  g_auto (GStrv) prefixes = g_strsplit (tc->prefix, " ", -1);
  for (int i = 0; prefixes[i] != NULL; i++)
    if (g_str_has_prefix (name, prefixes[i]))
      return TRUE;
  return FALSE;
}

static void
write_case (const char *dir, const TorchCase *tc, Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *model_file = g_strdup_printf ("%s-model.safetensors", tc->tag);
  g_autofree char *io_file = g_strdup_printf ("%s-io.safetensors", tc->tag);
  g_autofree char *model_path = g_build_filename (dir, model_file, NULL);
  g_autofree char *io_path = g_build_filename (dir, io_file, NULL);
  fixture_init (f, tc->context_width, 0, 0, tc->lens);
  tae_inputs (f);
  g_assert_true (rg_model_save (f->model, model_path, RG_F32, &error));
  g_assert_no_error (error);
  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  struct {
    const char *name;
    RgTensor   *t;
  } io[] = {
    /* t2v */
    { "ids", f->ids }, { "len", f->lens }, { "x", f->x }, { "t", f->t }, { "r", f->r },
    /* tae */
    { "video", f->video }, { "latent", f->latent }, { "rm", f->rm }, { "rl", f->rl },
    { "rd", f->rd },
  };
  for (guint i = 0; i < G_N_ELEMENTS (io); i++)
    g_assert_true (rg_safetensors_writer_add (w, io[i].name, io[i].t, io[i].t->dtype, NULL));
  g_assert_true (rg_safetensors_writer_save (w, io_path, &error));
  g_assert_no_error (error);
}

/* Every trained weight's gradient in g against the reference file. */
static void
compare_case (const TorchCase *tc, Fixture *f, RgGrads *g, double loss, const char *out_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgSafetensors) ref = rg_safetensors_open (out_path, &error);
  g_assert_no_error (error);
  g_autoptr (RgTensor) ref_loss = rg_safetensors_get_f32 (ref, "loss", &error);
  g_assert_no_error (error);
  double want_loss = rg_tensor_f32 (ref_loss)[0];
  g_test_message ("%s: loss %.9g, reference %.9g", tc->tag, loss, want_loss);
  g_assert_cmpfloat (fabs (loss - want_loss), <=, 1e-4 * MAX (1.0, fabs (want_loss)));

  /* the worst per model part (text, dit, tae) */
  static const char *const parts[] = { "text.", "dit.", "tae." };
  double worst[G_N_ELEMENTS (parts)] = { 0 };
  const char *worst_name[G_N_ELEMENTS (parts)] = { NULL };
  int compared = 0;
  RgModel *m = f->model;
  for (guint i = 0; i < rg_model_get_n_weights (m); i++)
    {
      const char *name = rg_model_get_weight_name (m, i);
      if (!case_trains (tc, name))
        continue;
      g_autoptr (RgTensor) got = rg_grads_of (g, rg_model_get_weight (m, i));
      g_autoptr (RgTensor) want = rg_safetensors_get_f32 (ref, name, &error);
      g_assert_no_error (error);
      double e = rg_oracle_nmse (got, want);
      g_test_message ("%s %-40s NMSE %.3e", tc->tag, name, e);
      for (guint k = 0; k < G_N_ELEMENTS (parts); k++)
        if (g_str_has_prefix (name, parts[k]) && !(e <= worst[k]))
          {
            worst[k] = e;
            worst_name[k] = name;
          }
      if (!(e <= NMSE_LIMIT))
        g_error ("%s: gradient of %s has NMSE %.3e > %.0e", tc->tag, name, e, NMSE_LIMIT);
      compared++;
    }
  g_autoptr (GString) line = g_string_new (NULL);
  for (guint k = 0; k < G_N_ELEMENTS (parts); k++)
    if (worst_name[k] != NULL)
      g_string_append_printf (line, "; worst %s %.3e (%s)", parts[k], worst[k], worst_name[k]);
  g_printerr ("model-grad %s: %d gradients%s\n", tc->tag, compared, line->str);
  g_assert_cmpint (compared, >, 10);
}

static void
test_torch (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-model-grad-XXXXXX", &error);
  g_assert_no_error (error);
  Fixture fx[G_N_ELEMENTS (torch_cases)] = { 0 };
  GString *manifest = g_string_new ("{\"cases\": [");
  for (guint c = 0; c < G_N_ELEMENTS (torch_cases); c++)
    {
      const TorchCase *tc = &torch_cases[c];
      write_case (dir, tc, &fx[c]);
      g_string_append_printf (manifest,
                              "%s{\"mode\": \"%s\", \"model\": \"%s-model.safetensors\", "
                              "\"io\": \"%s-io.safetensors\", \"out\": \"%s-grad.safetensors\"}",
                              c > 0 ? ", " : "", tc->mode, tc->tag, tc->tag, tc->tag);
    }
  g_string_append (manifest, "]}\n");
  g_autofree char *manifest_path = g_build_filename (dir, "manifest.json", NULL);
  g_assert_true (g_file_set_contents (manifest_path, manifest->str, -1, &error));
  g_string_free (manifest, TRUE);

  gboolean ran = rg_oracle_run ("model_grad.py", dir);
  for (guint c = 0; c < G_N_ELEMENTS (torch_cases); c++)
    {
      const TorchCase *tc = &torch_cases[c];
      g_autofree char *out_file = g_strdup_printf ("%s-grad.safetensors", tc->tag);
      g_autofree char *out_path = g_build_filename (dir, out_file, NULL);
      if (ran)
        {
          double loss;
          g_autoptr (RgGrads) g = strcmp (tc->mode, "tae") == 0 ? tae_gradients (&fx[c], &loss)
                                                                 : step_gradients (&fx[c], &loss);
          compare_case (tc, &fx[c], g, loss, out_path);
        }
      const char *files[] = { "model", "io" };
      for (guint k = 0; k < G_N_ELEMENTS (files); k++)
        {
          g_autofree char *file = g_strdup_printf ("%s-%s.safetensors", tc->tag, files[k]);
          g_autofree char *path = g_build_filename (dir, file, NULL);
          g_unlink (path);
        }
      g_unlink (out_path);
      fixture_clear (&fx[c]);
    }
  g_unlink (manifest_path);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reference/model-grad/forward", test_forward);
  g_test_add_func ("/reference/model-grad/finite-differences", test_finite_differences);
  g_test_add_func ("/reference/model-grad/finite-differences-edit", test_finite_differences_edit);
  g_test_add_func ("/reference/model-grad/torch", test_torch);
  return g_test_run ();
}
