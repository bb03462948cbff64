/* test-tae-grad.c — the TAE's backward against central finite differences.
 *
 * A tiny TAE (3 levels of 8 channels) sees a random 4-frame 16×16 clip; the
 * loss is a fixed random projection of its outputs, so every output
 * element gets a different weight in the gradient. For a sample of weights
 * in every kind of layer (convs, their biases, GroupNorm gains) and for the
 * latent itself, the analytic gradient must match (L(w+h) − L(w−h)) / 2h. */
#include <math.h>

#include "core/rg-rng.h"
#include "models/rg-model.h"
#include "models/rg-tae-train.h"
#include "nn/rg-grads.h"

static RgModelConfig
tiny_config (void)
{
  RgModelConfig c;
  g_assert_true (rg_model_config_preset ("nano-t2v", &c, NULL));
  c.tae.levels = 3;
  c.tae.channels[0] = c.tae.channels[1] = c.tae.channels[2] = 8;
  c.tae.groups = 4;
  c.tae.latent_channels = 4;
  c.dit.in_channels = 4;
  c.tae.temporal_down = 1;
  return c;
}

static RgTensor *
randn (guint64 stream, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  rg_rng_normal (7, stream, 0, rg_tensor_f32 (t), rg_tensor_numel (t));
  return t;
}

static double
dot (const RgTensor *a, const RgTensor *b)
{
  double s = 0;
  for (int64_t i = 0; i < rg_tensor_numel (a); i++)
    s += (double) rg_tensor_f32 (a)[i] * rg_tensor_f32 (b)[i];
  return s;
}

typedef struct {
  RgTae    *tae;
  RgTensor *video, *latent;            /* inputs */
  RgTensor *mean, *logvar, *decoded;   /* outputs */
  RgTensor *rm, *rl, *rv;              /* loss projections */
} Case;

/* L = Σ rm·mean + Σ rl·logvar + Σ rv·decode(latent). */
static double
loss (Case *k)
{
  g_assert_true (rg_tae_encode (k->tae, k->video, k->mean, k->logvar, NULL, NULL));
  g_assert_true (rg_tae_decode (k->tae, k->latent, k->decoded, NULL, NULL));
  return dot (k->rm, k->mean) + dot (k->rl, k->logvar) + dot (k->rv, k->decoded);
}

static void
check (const char *what, float analytic, double numeric, double scale)
{
  double err = fabs (analytic - numeric) / (fabs (numeric) + 1e-2 * scale);
  if (err > 2e-2)
    g_error ("%s: analytic %.6g vs finite difference %.6g", what, analytic, numeric);
}

static void
test_tae_grad (void)
{
  RgModelConfig config = tiny_config ();
  g_autoptr (GError) error = NULL;
  g_autoptr (RgModel) model = rg_model_init (&config, 3, &error);
  g_assert_no_error (error);
  RgParams *params = rg_model_get_params (model);
  Case k = { rg_model_get_tae (model) };
  int64_t vs[5] = { 1, 3, 4, 16, 16 }, ls[5] = { 1, 4, 2, 4, 4 };
  k.video = randn (1, 5, vs);
  k.latent = randn (2, 5, ls);
  k.mean = rg_tensor_new (RG_F32, 5, ls);
  k.logvar = rg_tensor_new (RG_F32, 5, ls);
  k.decoded = rg_tensor_new (RG_F32, 5, vs);
  k.rm = randn (3, 5, ls);
  k.rl = randn (4, 5, ls);
  k.rv = randn (5, 5, vs);

  g_autoptr (RgGrads) grads = rg_grads_new (params);
  g_autoptr (RgTaeTape) tape = rg_tae_tape_new (k.tae);
  g_autoptr (RgTensor) m = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) lv = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) dec = rg_tensor_new (RG_F32, 5, vs);
  g_autoptr (RgTensor) dlatent = rg_tensor_zeros (RG_F32, 5, ls);
  g_assert_true (rg_tae_encode_train (k.tae, tape, k.video, m, lv, &error));
  g_assert_true (rg_tae_decode_train (k.tae, tape, k.latent, dec, &error));
  g_assert_no_error (error);
  /* the training forward gives the inference forward's outputs */
  loss (&k);
  for (int64_t i = 0; i < rg_tensor_numel (m); i++)
    g_assert_cmpfloat (rg_tensor_f32 (m)[i], ==, rg_tensor_f32 (k.mean)[i]);
  for (int64_t i = 0; i < rg_tensor_numel (dec); i++)
    g_assert_cmpfloat (rg_tensor_f32 (dec)[i], ==, rg_tensor_f32 (k.decoded)[i]);
  rg_tae_decode_backward (k.tae, tape, grads, k.rv, dlatent);
  rg_tae_encode_backward (k.tae, tape, grads, k.rm, k.rl);

  /* weights: every 97th element of every TAE weight, a few hundred in all */
  int checked = 0;
  for (guint i = 0; i < rg_params_get_n (params); i++)
    {
      const char *name = rg_params_get_name (params, i);
      if (!g_str_has_prefix (name, "tae."))
        continue;
      RgTensor *w = rg_params_get_tensor (params, i);
      g_autoptr (RgTensor) g = rg_grads_of (grads, w);
      float *wd = rg_tensor_f32 (w);
      for (int64_t j = i % 7; j < rg_tensor_numel (w); j += 97)
        {
          float keep = wd[j], h = 1e-2f;
          wd[j] = keep + h;
          double up = loss (&k);
          wd[j] = keep - h;
          double down = loss (&k);
          wd[j] = keep;
          g_autofree char *what = g_strdup_printf ("%s[%" G_GINT64_FORMAT "]", name, j);
          check (what, rg_tensor_f32 (g)[j], (up - down) / (2.0 * h), 10.0);
          checked++;
        }
    }
  /* the latent's gradient through the decoder */
  float *ld = rg_tensor_f32 (k.latent);
  for (int64_t j = 0; j < rg_tensor_numel (k.latent); j += 5)
    {
      float keep = ld[j], h = 1e-2f;
      ld[j] = keep + h;
      double up = loss (&k);
      ld[j] = keep - h;
      double down = loss (&k);
      ld[j] = keep;
      check ("latent", rg_tensor_f32 (dlatent)[j], (up - down) / (2.0 * h), 10.0);
      checked++;
    }
  g_test_message ("%d gradients match finite differences", checked);
  g_assert_cmpint (checked, >, 200);
  RgTensor **all[] = { &k.video, &k.latent, &k.mean, &k.logvar, &k.decoded, &k.rm, &k.rl, &k.rv };
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    g_clear_pointer (all[i], rg_tensor_unref);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/models/tae/grad", test_tae_grad);
  return g_test_run ();
}
