/* test-optim.c — AdamW, clipping, the LR schedule and EMA.
 *
 * AdamW is checked against a two-step example worked by hand and against
 * PyTorch's torch.optim.AdamW + clip_grad_norm_ over 20 steps with decay,
 * no-decay parameters, clipping and a warmup + cosine schedule. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "core/rg-error.h"
#include "core/rg-parallel.h"
#include "core/rg-rng.h"
#include "train/rg-ema.h"
#include "train/rg-lr.h"
#include "train/rg-optim.h"

static RgTensor *
scalar (float v)
{
  RgTensor *t = rg_tensor_f32_new (1, (int64_t)1);
  rg_tensor_f32 (t)[0] = v;
  return t;
}

/* lr 0.1, β 0.9/0.999, ε 1e-8, λ 0.1; w = 1, gradients 0.5 then −0.25.
 * Step 1: w = 1·(1 − 0.01) = 0.99; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25;
 *         w = 0.99 − 0.1·0.5/(0.5 + 1e-8) = 0.890000002.
 * Step 2: w = 0.890000002·0.99 = 0.88110000198; m = 0.045 − 0.025 = 0.02;
 *         v = 0.00024975 + 0.0000625 = 0.00031225; m̂ = 0.02/0.19 = 0.1052632,
 *         v̂ = 0.00031225/0.001999 = 0.1562031, √v̂ = 0.3952253;
 *         w = 0.88110000198 − 0.1·0.1052632/0.3952253 = 0.8544663.
 * The no-decay twin ("norm.weight") skips the 0.99 factors:
 *         w₁ = 1 − 0.1·(1 − 2e-8) = 0.900000002, w₂ = w₁ − 0.0266337 = 0.8733663. */
static void
test_adamw_by_hand (void)
{
  RgAdamWConfig c = { .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (RgAdamW) opt = rg_adamw_new (&c, &error);
  g_assert_no_error (error);

  g_autoptr (RgTensor) w = scalar (1.f), g = scalar (0.f);
  g_autoptr (RgTensor) wn = scalar (1.f), gn = scalar (0.f);
  g_assert_true (rg_adamw_add_param (opt, "proj.weight", w, g, &error));
  g_assert_true (rg_adamw_add_param (opt, "norm.weight", wn, gn, &error));
  g_assert_true (rg_adamw_get_decays (opt, 0));
  g_assert_false (rg_adamw_get_decays (opt, 1));

  rg_tensor_f32 (g)[0] = rg_tensor_f32 (gn)[0] = 0.5f;
  rg_adamw_step (opt, 0.1);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (w)[0], 0.890000002, 1e-6);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (wn)[0], 0.900000002, 1e-6);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (rg_adamw_get_m (opt, 0))[0], 0.05, 1e-8);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (rg_adamw_get_v (opt, 0))[0], 0.00025, 1e-10);

  rg_tensor_f32 (g)[0] = rg_tensor_f32 (gn)[0] = -0.25f;
  rg_adamw_step (opt, 0.1);
  g_assert_cmpint (rg_adamw_get_step (opt), ==, 2);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (w)[0], 0.8544663, 1e-6);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (wn)[0], 0.8733663, 1e-6);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (rg_adamw_get_v (opt, 0))[0], 0.00031225, 1e-10);
}

static void
test_adamw_refuses (void)
{
  RgAdamWConfig c;
  g_autoptr (GError) error = NULL;

  rg_adamw_config_init (&c);
  c.beta2 = 1.0;
  g_assert_null (rg_adamw_new (&c, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  rg_adamw_config_init (&c);
  g_autoptr (RgAdamW) opt = rg_adamw_new (&c, &error);
  g_autoptr (RgTensor) w = rg_tensor_f32_zeros (2, (int64_t)3, (int64_t)4);
  g_autoptr (RgTensor) g = rg_tensor_f32_zeros (2, (int64_t)4, (int64_t)3);
  g_assert_false (rg_adamw_add_param (opt, "a.weight", w, g, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "a.weight"));
  g_clear_error (&error);

  g_assert_true (rg_adamw_add_param (opt, "a.weight", w, w, &error));
  g_assert_false (rg_adamw_add_param (opt, "a.weight", w, w, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

static void
test_decay_names (void)
{
  g_assert_true (rg_optim_name_decays ("blocks.0.attn.qkv.weight"));
  g_assert_true (rg_optim_name_decays ("decoder.conv_out.weight"));
  g_assert_false (rg_optim_name_decays ("blocks.0.attn.qkv.bias"));
  g_assert_false (rg_optim_name_decays ("blocks.3.norm1.weight"));
  g_assert_false (rg_optim_name_decays ("final_norm.weight"));
  g_assert_false (rg_optim_name_decays ("text.embed.weight"));
  g_assert_false (rg_optim_name_decays ("task_embed"));
  g_assert_false (rg_optim_name_decays ("ln_f.weight"));
  g_assert_false (rg_optim_name_decays ("pos.spatial"));
}

static void
test_clip (void)
{
  RgAdamWConfig c;
  rg_adamw_config_init (&c);
  g_autoptr (RgAdamW) opt = rg_adamw_new (&c, NULL);
  g_autoptr (RgTensor) w = rg_tensor_f32_zeros (1, (int64_t)2);
  g_autoptr (RgTensor) g = rg_tensor_f32_new (1, (int64_t)2);
  g_assert_true (rg_adamw_add_param (opt, "w", w, g, NULL));
  float *gd = rg_tensor_f32 (g);

  gd[0] = 3.f, gd[1] = 4.f;
  g_assert_cmpfloat (rg_adamw_clip_grad_norm (opt, 10.0), ==, 5.0);
  g_assert_cmpfloat (gd[0], ==, 3.f); /* under the bound: untouched */
  g_assert_cmpfloat (rg_adamw_clip_grad_norm (opt, 1.0), ==, 5.0);
  g_assert_cmpfloat_with_epsilon (gd[0], 0.6, 1e-6);
  g_assert_cmpfloat_with_epsilon (gd[1], 0.8, 1e-6);
  g_assert_cmpfloat_with_epsilon (rg_adamw_grad_norm (opt), 1.0, 1e-6);

  float before = gd[1];
  gd[0] = NAN;
  g_assert_true (isnan (rg_adamw_clip_grad_norm (opt, 1.0)));
  g_assert_cmpfloat (gd[1], ==, before); /* a NaN norm scales nothing */
}

/* Elementwise updates and the blocked norm must not depend on how the pool
 * splits the work: otherwise a resumed run on another machine diverges. */
static void
test_thread_count_invariance (void)
{
  const int64_t n = 100003;
  float *out[2];
  double norm[2];

  for (int r = 0; r < 2; r++)
    {
      rg_parallel_set_threads (r == 0 ? 1 : 2);
      RgAdamWConfig c;
      rg_adamw_config_init (&c);
      g_autoptr (RgAdamW) opt = rg_adamw_new (&c, NULL);
      g_autoptr (RgTensor) w = rg_tensor_f32_new (1, n);
      g_autoptr (RgTensor) g = rg_tensor_f32_new (1, n);
      rg_rng_normal (5, 0, 0, rg_tensor_f32 (w), n);
      g_assert_true (rg_adamw_add_param (opt, "big.weight", w, g, NULL));
      for (int s = 0; s < 3; s++)
        {
          rg_rng_normal (5, 1 + s, 0, rg_tensor_f32 (g), n);
          norm[r] = rg_adamw_clip_grad_norm (opt, 100.0);
          rg_adamw_step (opt, 1e-2);
        }
      out[r] = g_memdup2 (w->data, n * sizeof (float));
    }
  g_assert_cmpfloat (norm[0], ==, norm[1]);
  g_assert_cmpmem (out[0], n * sizeof (float), out[1], n * sizeof (float));
  g_free (out[0]);
  g_free (out[1]);
  rg_parallel_set_threads (2);
}

static void
test_lr_schedule (void)
{
  RgLrSchedule s = { .base_lr = 1.0, .min_lr = 0.1, .warmup_steps = 4, .total_steps = 14 };
  g_autoptr (GError) error = NULL;

  g_assert_true (rg_lr_schedule_validate (&s, &error));
  g_assert_cmpfloat (rg_lr_at (&s, 0), ==, 0.25);
  g_assert_cmpfloat (rg_lr_at (&s, 1), ==, 0.5);
  g_assert_cmpfloat (rg_lr_at (&s, 3), ==, 1.0);
  g_assert_cmpfloat (rg_lr_at (&s, 4), ==, 1.0);                  /* cosine starts at the top */
  g_assert_cmpfloat_with_epsilon (rg_lr_at (&s, 9), 0.55, 1e-12); /* halfway */
  g_assert_cmpfloat_with_epsilon (rg_lr_at (&s, 6), 0.1 + 0.9 * 0.5 * (1 + cos (G_PI * 0.2)),
                                  1e-12);
  g_assert_cmpfloat (rg_lr_at (&s, 14), ==, 0.1);
  g_assert_cmpfloat (rg_lr_at (&s, 1000), ==, 0.1);
  for (int64_t i = 4; i < 14; i++)
    g_assert_cmpfloat (rg_lr_at (&s, i + 1), <, rg_lr_at (&s, i));

  RgLrSchedule none = { .base_lr = 3e-4, .min_lr = 3e-4, .warmup_steps = 0, .total_steps = 1 };
  g_assert_true (rg_lr_schedule_validate (&none, NULL));
  g_assert_cmpfloat (rg_lr_at (&none, 0), ==, 3e-4);

  RgLrSchedule bad = { .base_lr = 1e-3, .min_lr = 1e-2, .warmup_steps = 0, .total_steps = 10 };
  g_assert_false (rg_lr_schedule_validate (&bad, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bad = (RgLrSchedule){ .base_lr = 1e-3, .min_lr = 0, .warmup_steps = 10, .total_steps = 10 };
  g_assert_false (rg_lr_schedule_validate (&bad, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

static void
test_ema (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTensor) w = rg_tensor_f32_zeros (1, (int64_t)3);

  g_assert_null (rg_ema_new (1.0, FALSE, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* no warm-up: s = 0 then follows w = 1 at rate 0.1 per update */
  g_autoptr (RgEma) ema = rg_ema_new (0.9, FALSE, &error);
  g_assert_true (rg_ema_add (ema, "w", w, &error));
  rg_tensor_fill (w, 1.f);
  RgTensor *s = rg_ema_lookup (ema, "w");
  g_assert_cmpfloat (rg_tensor_f32 (s)[2], ==, 0.f);
  rg_ema_update (ema);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (s)[0], 0.1, 1e-7);
  rg_ema_update (ema);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (s)[2], 0.19, 1e-7);
  g_assert_cmpint (rg_ema_get_updates (ema), ==, 2);
  g_assert_false (rg_ema_add (ema, "w", w, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);

  /* warm-up: decay (1 + n) / (10 + n) until it reaches the configured one */
  g_autoptr (RgEma) warm = rg_ema_new (0.999, TRUE, NULL);
  g_assert_cmpfloat_with_epsilon (rg_ema_decay_at (warm, 1), 2.0 / 11.0, 1e-15);
  g_assert_cmpfloat_with_epsilon (rg_ema_decay_at (warm, 90), 91.0 / 100.0, 1e-15);
  g_assert_cmpfloat (rg_ema_decay_at (warm, 100000), ==, 0.999);
  g_autoptr (RgTensor) w2 = rg_tensor_f32_zeros (1, (int64_t)1);
  g_assert_true (rg_ema_add (warm, "w2", w2, NULL));
  rg_tensor_fill (w2, 1.f);
  rg_ema_update (warm);
  g_assert_cmpfloat_with_epsilon (rg_tensor_f32 (rg_ema_get_shadow (warm, 0))[0], 9.0 / 11.0, 1e-6);
}

/* ---- PyTorch oracle ---------------------------------------------------- */

typedef struct
{
  const char *name;
  int64_t numel;
} OracleParam;

static gboolean
write_raw (const char *dir, const char *file, const void *data, gsize n)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  return g_file_set_contents (path, data, (gssize)n, NULL);
}

static double
nmse (const float *a, const float *b, int64_t n)
{
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; i++)
    {
      double d = (double)a[i] - (double)b[i];
      num += d * d;
      den += (double)b[i] * (double)b[i];
    }
  return den > 0 ? num / den : num;
}

static void
test_adamw_vs_torch (void)
{
  const char *python = g_getenv ("PYTHON_ORACLE");
  gboolean ci = g_strcmp0 (g_getenv ("CI"), "true") == 0;
  if (!python || !*python)
    {
      if (ci)
        g_error ("PYTHON_ORACLE is not set but CI=true");
      g_test_skip ("PYTHON_ORACLE not set");
      return;
    }

  /* a 2-D decayed weight, a norm gain and a bias (no decay), and one large
   * enough to be split over the pool */
  static const OracleParam params[] = {
    { "blocks.0.attn.weight", 7 * 33 },
    { "blocks.0.norm1.weight", 33 },
    { "blocks.0.attn.bias", 7 },
    { "proj.weight", 200 * 200 },
  };
  const int steps = 20, np = G_N_ELEMENTS (params);
  const double max_norm = 50.0;
  RgAdamWConfig c = { .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1 };
  RgLrSchedule lr = { .base_lr = 1e-2, .min_lr = 1e-3, .warmup_steps = 5, .total_steps = 20 };

  g_autoptr (GError) error = NULL;
  g_autoptr (RgAdamW) opt = rg_adamw_new (&c, &error);
  g_assert_no_error (error);
  RgTensor *w[G_N_ELEMENTS (params)], *g[G_N_ELEMENTS (params)];
  int64_t total = 0;
  for (int i = 0; i < np; i++)
    {
      w[i] = rg_tensor_f32_new (1, params[i].numel);
      g[i] = rg_tensor_f32_new (1, params[i].numel);
      rg_rng_normal (11, i, 0, rg_tensor_f32 (w[i]), params[i].numel);
      g_assert_true (rg_adamw_add_param (opt, params[i].name, w[i], g[i], &error));
      total += params[i].numel;
    }

  g_autofree float *init = g_new (float, total);
  g_autofree float *grads = g_new (float, total *steps);
  g_autofree double *lrs = g_new (double, steps);
  g_autofree double *norms = g_new (double, steps);
  for (int64_t i = 0, off = 0; i < np; off += params[i].numel, i++)
    memcpy (init + off, w[i]->data, params[i].numel * sizeof (float));

  for (int s = 0; s < steps; s++)
    {
      /* alternate small gradients (norm ≈ 20, kept) and large ones
       * (norm ≈ 200, clipped to 50) */
      float scale = s % 2 ? 1.f : 0.1f;
      for (int64_t i = 0, off = 0; i < np; off += params[i].numel, i++)
        {
          float *gd = rg_tensor_f32 (g[i]);
          rg_rng_normal (12, (uint64_t)s, (uint64_t)off, gd, params[i].numel);
          for (int64_t k = 0; k < params[i].numel; k++)
            gd[k] *= scale;
          memcpy (grads + (int64_t)s * total + off, gd, params[i].numel * sizeof (float));
        }
      lrs[s] = rg_lr_at (&lr, s);
      norms[s] = rg_adamw_clip_grad_norm (opt, max_norm);
      rg_adamw_step (opt, lrs[s]);
    }

  g_autofree char *dir = g_dir_make_tmp ("rg-optim-XXXXXX", &error);
  g_assert_no_error (error);
  g_autoptr (GString) json = g_string_new ("{\"params\": [");
  for (int i = 0; i < np; i++)
    g_string_append_printf (json,
                            "%s{\"name\": \"%s\", \"numel\": %" G_GINT64_FORMAT ", \"decays\": %s}",
                            i ? ", " : "", params[i].name, params[i].numel,
                            rg_adamw_get_decays (opt, i) ? "true" : "false");
  g_string_append_printf (json,
                          "], \"steps\": %d, \"beta1\": 0.9, \"beta2\": 0.95, \"eps\": 1e-8, "
                          "\"weight_decay\": 0.1, \"max_norm\": 50.0}",
                          steps);
  g_assert_true (write_raw (dir, "case.json", json->str, json->len));
  g_assert_true (write_raw (dir, "init.f32", init, total * sizeof (float)));
  g_assert_true (write_raw (dir, "grads.f32", grads, total * steps * sizeof (float)));
  g_assert_true (write_raw (dir, "lr.f64", lrs, steps * sizeof (double)));

  g_autofree char *script
      = g_test_build_filename (G_TEST_DIST, "train", "test-optim-adamw.py", NULL);
  const char *argv[] = { python, script, dir, NULL };
  g_autofree char *err_text = NULL;
  int status = 0;
  g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                               &err_text, &status, &error));
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      if (ci)
        g_error ("PyTorch is not installed for %s but CI=true", python);
      g_test_skip ("PyTorch not installed");
    }
  else
    {
      if (!g_spawn_check_wait_status (status, &error))
        g_error ("oracle failed: %s\n%s", error->message, err_text);

      g_autofree char *out_path = g_build_filename (dir, "out.f32", NULL);
      g_autofree char *norm_path = g_build_filename (dir, "norms.f64", NULL);
      g_autofree char *out = NULL, *tnorms = NULL;
      gsize out_len, norm_len;
      g_assert_true (g_file_get_contents (out_path, &out, &out_len, NULL));
      g_assert_true (g_file_get_contents (norm_path, &tnorms, &norm_len, NULL));
      g_assert_cmpuint (out_len, ==, 3 * total * sizeof (float));
      g_assert_cmpuint (norm_len, ==, steps * sizeof (double));

      const float *ref = (const float *)out;
      for (int part = 0; part < 3; part++)
        for (int64_t i = 0, off = 0; i < np; off += params[i].numel, i++)
          {
            RgTensor *mine = part == 0   ? w[i]
                             : part == 1 ? rg_adamw_get_m (opt, i)
                                         : rg_adamw_get_v (opt, i);
            double e = nmse (rg_tensor_f32 (mine), ref + part * total + off, params[i].numel);
            g_test_message ("%s %s: NMSE %.3g", params[i].name,
                            part == 0   ? "weight"
                            : part == 1 ? "m"
                                        : "v",
                            e);
            g_assert_cmpfloat (e, <=, 1e-12);
          }

      /* the update itself (w − w₀), which the NMSE of the weights could
       * hide under their size */
      g_autofree float *dmine = g_new (float, total);
      g_autofree float *dref = g_new (float, total);
      for (int64_t i = 0, off = 0; i < np; off += params[i].numel, i++)
        for (int64_t k = 0; k < params[i].numel; k++)
          {
            dmine[off + k] = rg_tensor_f32 (w[i])[k] - init[off + k];
            dref[off + k] = ref[off + k] - init[off + k];
          }
      double ed = nmse (dmine, dref, total);
      g_test_message ("update (w - w0): NMSE %.3g", ed);
      g_assert_cmpfloat (ed, <=, 1e-11);

      const double *tn = (const double *)tnorms;
      int clipped = 0;
      for (int s = 0; s < steps; s++)
        {
          g_assert_cmpfloat (fabs (norms[s] - tn[s]), <=, 1e-5 * tn[s]);
          clipped += norms[s] > max_norm;
        }
      g_assert_cmpint (clipped, ==, steps / 2);
    }

  for (int i = 0; i < np; i++)
    {
      rg_tensor_unref (w[i]);
      rg_tensor_unref (g[i]);
    }
  const char *files[] = { "case.json", "init.f32", "grads.f32", "lr.f64", "out.f32", "norms.f64" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (dir, files[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/optim/adamw-by-hand", test_adamw_by_hand);
  g_test_add_func ("/optim/adamw-refuses", test_adamw_refuses);
  g_test_add_func ("/optim/decay-names", test_decay_names);
  g_test_add_func ("/optim/clip", test_clip);
  g_test_add_func ("/optim/thread-count-invariance", test_thread_count_invariance);
  g_test_add_func ("/optim/adamw-vs-torch", test_adamw_vs_torch);
  g_test_add_func ("/lr/warmup-cosine", test_lr_schedule);
  g_test_add_func ("/ema/arithmetic", test_ema);
  return g_test_run ();
}
