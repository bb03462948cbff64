/* rg-train-tae.c — the tae training task: reconstruction of random crops
 * of ShapesWorld clips through the 2.5D autoencoder.
 *
 * loss = MSE(x̂, x) + λ₁·L1(x̂, x) + λ_kl·KL(q(z|x) ‖ N(0, 1)) + λ_opl·OPL(μ)
 *
 * with z = μ + σ·ε sampled from the posterior (the reparameterisation
 * trick), means over elements, and Movie Gen's outlier-penalty loss
 * OPL = mean over (sample, channel, position) of max(|μ − mean| − r·std, 0),
 * r = 3, with mean and std taken per sample and channel over positions and
 * held constant in the gradient: it pushes the few latent values far out in
 * the tails back in (the decoder otherwise learns to paint with "spots" of
 * extreme latents) without pulling the bulk. */
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "models/rg-tae-train.h"
#include "train/rg-grade.h"
#include "train/rg-trainer-private.h"

#define OPL_R       3.0f
#define N_VAL_CLIPS 4

/* With freeze_encoder only the decoder learns: its latent space is then
 * fixed, so a DiT can train on it while the decoder keeps improving (as
 * Stable Diffusion's VAE decoder was fine-tuned after the fact). */
static gboolean
trains (const RgTrainConfig *config, const char *name)
{
  return g_str_has_prefix (name, config->freeze_encoder ? "tae.dec." : "tae.");
}

typedef struct {
  RgTaeTape *tape;
  RgTensor  *val[N_VAL_CLIPS]; /* held-out clips [1, 3, T, H, W] */
} TaeTask;

/* A crop origin along one axis of length n for a crop of size c: centred
 * on `at` give or take a quarter of the crop, inside the clip. */
static int
origin_near (RgRng *rng, float at, int c, int n)
{
  int o = (int) lroundf (at) - c / 2 + rg_rng_range (rng, -c / 4, c / 4 + 1);
  return CLAMP (o, 0, n - c);
}

static gboolean
prepare (RgTrainRun *run, GCancellable *cancellable, GError **error)
{
  (void) cancellable;
  TaeTask *t = g_new0 (TaeTask, 1);
  run->task_data = t;
  t->tape = rg_tae_tape_new (rg_model_get_tae (run->model));
  RgShapesConfig held = run->world;
  held.split = RG_SHAPES_SPLIT_HELDOUT;
  for (int i = 0; i < N_VAL_CLIPS; i++)
    {
      RgShapesScene scene;
      if (!rg_shapes_scene_sample (&held, 1000 + (uint64_t) i, &scene, error))
        return FALSE;
      g_autoptr (RgTensor) clip = rg_shapes_render (&scene);
      int64_t shape[5] = { 1, 3, clip->shape[1], clip->shape[2], clip->shape[3] };
      t->val[i] = rg_tensor_reshape (clip, 5, shape);
    }
  return TRUE;
}

/* The batch of crops [B, 3, cf, cs, cs] for this step. */
static RgTensor *
crop_batch (RgTrainRun *run, GError **error)
{
  const RgTrainConfig *c = run->config;
  int cf = c->crop_frames ? c->crop_frames : run->world.frames;
  int cw = c->crop_size ? c->crop_size : run->world.width;
  int ch = c->crop_size ? c->crop_size : run->world.height;
  g_autoptr (RgTensor) batch = rg_tensor_f32_new (5, (int64_t) c->batch, (int64_t) 3,
                                                  (int64_t) cf, (int64_t) ch, (int64_t) cw);
  float *out = rg_tensor_f32 (batch);
  for (int b = 0; b < c->batch; b++)
    {
      uint64_t position;
      RgShapesScene scene;
      if (!rg_train_next_scene (&run->world, c->seed, c->bounce_clips, &run->data_position,
                                &position, &scene, error))
        return NULL;
      g_autoptr (RgTensor) clip = rg_shapes_render (&scene);
      RgRng rng;
      rg_rng_init (&rng, c->seed, RG_TRAIN_STREAM_CROP + (position << 8));
      int T = (int) clip->shape[1], H = (int) clip->shape[2], W = (int) clip->shape[3];
      int t0 = rg_rng_range (&rng, 0, T - cf + 1);
      int y0, x0;
      /* Most of a random crop is backdrop, which the TAE learns first;
       * the shapes' edges and colours are what it gets wrong, so a share
       * of the crops follows a shape (at the crop's middle frame). */
      if (c->shape_crops > 0 && scene.n_shapes > 0 && rg_rng_double (&rng) < c->shape_crops)
        {
          const RgShapesShape *s = &scene.shapes[rg_rng_range (&rng, 0, scene.n_shapes)];
          int mid = t0 + cf / 2;
          y0 = origin_near (&rng, s->y[mid], ch, H);
          x0 = origin_near (&rng, s->x[mid], cw, W);
        }
      else
        {
          y0 = rg_rng_range (&rng, 0, H - ch + 1);
          x0 = rg_rng_range (&rng, 0, W - cw + 1);
        }
      const float *src = rg_tensor_f32 (clip);
      for (int k = 0; k < 3; k++)
        for (int f = 0; f < cf; f++)
          for (int y = 0; y < ch; y++)
            memcpy (out + ((((int64_t) b * 3 + k) * cf + f) * ch + y) * cw,
                    src + (((int64_t) k * T + t0 + f) * H + y0 + y) * W + x0,
                    (gsize) cw * sizeof (float));
    }
  return g_steal_pointer (&batch);
}

/* OPL's value and its gradient (added into dmean), per sample and channel. */
static double
outlier_penalty (const RgTensor *mean, float weight, RgTensor *dmean)
{
  int64_t bc = mean->shape[0] * mean->shape[1];
  int64_t p = rg_tensor_numel (mean) / bc;
  const float *m = rg_tensor_f32 (mean);
  float *d = rg_tensor_f32 (dmean);
  double total = 0.0;
  for (int64_t i = 0; i < bc; i++)
    {
      const float *x = m + i * p;
      double mu = 0.0, var = 0.0;
      for (int64_t j = 0; j < p; j++)
        mu += x[j];
      mu /= (double) p;
      for (int64_t j = 0; j < p; j++)
        var += (x[j] - mu) * (x[j] - mu);
      double bound = OPL_R * sqrt (var / (double) p);
      for (int64_t j = 0; j < p; j++)
        {
          double excess = fabs (x[j] - mu) - bound;
          if (excess > 0)
            {
              total += excess;
              d[i * p + j] += weight * (float) ((x[j] > mu ? 1.0 : -1.0) / (double) (p * bc));
            }
        }
    }
  return total / (double) (p * bc);
}

/* A DiT's latents are never exactly the encoder's, and a decoder that
 * only ever saw the encoder's posterior can turn the difference into
 * flicker: under noise of 10 % of the latents' spread, a decoder
 * fine-tuned that way stayed at 26 dB PSNR against its own clean output,
 * where the jointly trained one it started from stayed at 43.7 dB (see
 * nano-tae.md).
 * With latent_noise > 0 each sample's z gets extra Gaussian noise of std
 * u · latent_noise · spread, u uniform in [0, 1) per sample and spread
 * the std of the batch's posterior means, so the decoder learns from clean
 * and perturbed latents alike. The noise only shifts z: the gradient
 * to the posterior is unchanged, and the spread is held constant. */
static void
add_latent_noise (const RgTrainRun *run, const RgTensor *mean, RgTensor *z)
{
  const RgTrainConfig *c = run->config;
  int64_t nl = rg_tensor_numel (mean), batch = mean->shape[0], per = nl / batch;
  double centre, spread;
  rg_tensor_mean_std (mean, &centre, &spread);
  g_autofree float *noise = g_new (float, nl);
  rg_rng_normal (c->seed, RG_TRAIN_STREAM_LATENT_NOISE, (uint64_t) run->step * (uint64_t) nl, noise,
                 nl);
  RgRng rng;
  rg_rng_init (&rng, c->seed, RG_TRAIN_STREAM_LATENT_NOISE + ((uint64_t) run->step << 8));
  float *zz = rg_tensor_f32 (z);
  for (int64_t b = 0; b < batch; b++)
    {
      float sd = (float) (rg_rng_double (&rng) * c->latent_noise * spread);
      for (int64_t i = b * per; i < (b + 1) * per; i++)
        zz[i] += sd * noise[i];
    }
}

static gboolean
step (RgTrainRun *run, double *loss, GError **error)
{
  const RgTrainConfig *c = run->config;
  TaeTask *t = run->task_data;
  RgTae *tae = rg_model_get_tae (run->model);
  const RgModelConfig *mc = rg_model_get_config (run->model);
  g_autoptr (RgTensor) x = crop_batch (run, error);
  if (x == NULL)
    return FALSE;
  int ft = rg_model_config_tae_time_factor (mc), fs = rg_model_config_tae_space_factor (mc);
  int64_t ls[5] = { x->shape[0], mc->tae.latent_channels, x->shape[2] / ft, x->shape[3] / fs,
                    x->shape[4] / fs };
  g_autoptr (RgTensor) mean = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) logvar = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) z = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) eps = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) xhat = rg_tensor_new (RG_F32, 5, x->shape);

  rg_tae_tape_reset (t->tape);
  if (c->freeze_encoder ? !rg_tae_encode (tae, x, mean, logvar, NULL, error)
                        : !rg_tae_encode_train (tae, t->tape, x, mean, logvar, error))
    return FALSE;
  int64_t nl = rg_tensor_numel (mean);
  rg_rng_normal (c->seed, RG_TRAIN_STREAM_POSTERIOR, (uint64_t) run->step * (uint64_t) nl,
                 rg_tensor_f32 (eps), nl);
  float *mu = rg_tensor_f32 (mean), *lv = rg_tensor_f32 (logvar), *zz = rg_tensor_f32 (z);
  const float *e = rg_tensor_f32 (eps);
  for (int64_t i = 0; i < nl; i++)
    zz[i] = mu[i] + expf (0.5f * CLAMP (lv[i], -30.0f, 20.0f)) * e[i];
  if (c->latent_noise > 0)
    add_latent_noise (run, mean, z);
  if (!rg_tae_decode_train (tae, t->tape, z, xhat, error))
    return FALSE;

  /* reconstruction */
  int64_t n = rg_tensor_numel (x);
  g_autoptr (RgTensor) dxhat = rg_tensor_new (RG_F32, 5, x->shape);
  const float *xs = rg_tensor_f32 (x), *xh = rg_tensor_f32 (xhat);
  float *dx = rg_tensor_f32 (dxhat);
  double mse = 0.0, l1 = 0.0;
  float l1w = (float) c->l1_weight;
  for (int64_t i = 0; i < n; i++)
    {
      float r = xh[i] - xs[i];
      mse += (double) r * r;
      l1 += fabsf (r);
      dx[i] = (2.0f * r + l1w * (r > 0 ? 1.0f : r < 0 ? -1.0f : 0.0f)) / (float) n;
    }
  mse /= (double) n;
  l1 /= (double) n;

  g_autoptr (RgTensor) dz = rg_tensor_zeros (RG_F32, 5, ls);
  rg_tae_decode_backward (tae, t->tape, run->grads, dxhat, dz);

  /* through the sample to the posterior, plus KL */
  g_autoptr (RgTensor) dmean = rg_tensor_new (RG_F32, 5, ls);
  g_autoptr (RgTensor) dlogvar = rg_tensor_new (RG_F32, 5, ls);
  float *dm = rg_tensor_f32 (dmean), *dl = rg_tensor_f32 (dlogvar);
  const float *dzz = rg_tensor_f32 (dz);
  float klw = (float) c->kl_weight;
  double kl = 0.0;
  for (int64_t i = 0; i < nl; i++)
    {
      float l = CLAMP (lv[i], -30.0f, 20.0f), sd = expf (0.5f * l), var = sd * sd;
      kl += 0.5 * ((double) mu[i] * mu[i] + var - 1.0 - l);
      dm[i] = dzz[i] + klw * mu[i] / (float) nl;
      dl[i] = dzz[i] * e[i] * 0.5f * sd + klw * 0.5f * (var - 1.0f) / (float) nl;
    }
  kl /= (double) nl;
  double opl = outlier_penalty (mean, (float) c->opl_weight, dmean);
  if (!c->freeze_encoder)
    rg_tae_encode_backward (tae, t->tape, run->grads, dmean, dlogvar);
  rg_tae_tape_reset (t->tape);

  *loss = mse + c->l1_weight * l1 + c->kl_weight * kl + c->opl_weight * opl;
  g_string_printf (run->detail, "mse %.5f (%.1f dB) kl %.2f opl %.4f", mse,
                   10.0 * log10 (4.0 / MAX (mse, 1e-12)), kl, opl);
  return TRUE;
}

/* Reconstruct the held-out clips (posterior means, the inference path),
 * report PSNR/SSIM, write the first two beside their sources. */
static gboolean
sample (RgTrainRun *run, const char *path, GString *summary, GError **error)
{
  TaeTask *t = run->task_data;
  RgTae *tae = rg_model_get_tae (run->model);
  const RgModelConfig *mc = rg_model_get_config (run->model);
  RgTensor *pairs[4] = { NULL };
  RgTensor *recs[N_VAL_CLIPS] = { NULL };
  double psnr_sum = 0.0, ssim_sum = 0.0;
  gboolean ok = TRUE;
  for (int i = 0; i < N_VAL_CLIPS && ok; i++)
    {
      int64_t ls[5];
      int64_t shape4[4];
      ok = rg_model_config_latent_shape (mc, (int) t->val[i]->shape[2],
                                         (int) t->val[i]->shape[3], (int) t->val[i]->shape[4],
                                         shape4, error);
      if (!ok)
        break;
      ls[0] = 1;
      memcpy (ls + 1, shape4, sizeof shape4);
      g_autoptr (RgTensor) mean = rg_tensor_new (RG_F32, 5, ls);
      recs[i] = rg_tensor_new (RG_F32, 5, t->val[i]->shape);
      ok = rg_tae_encode (tae, t->val[i], mean, NULL, NULL, error)
           && rg_tae_decode (tae, mean, recs[i], NULL, error);
      double psnr = 0, ssim = 0;
      int64_t s4[4] = { 3, t->val[i]->shape[2], t->val[i]->shape[3], t->val[i]->shape[4] };
      g_autoptr (RgTensor) a = rg_tensor_reshape (t->val[i], 4, s4);
      g_autoptr (RgTensor) b = rg_tensor_reshape (recs[i], 4, s4);
      ok = ok && rg_grade_psnr (a, b, &psnr, error) && rg_grade_ssim (a, b, &ssim, error);
      psnr_sum += MIN (psnr, 99.0);
      ssim_sum += ssim;
      if (ok && i < 2)
        {
          pairs[2 * i] = rg_tensor_ref (a);
          pairs[2 * i + 1] = rg_tensor_ref (b);
        }
    }
  if (ok)
    {
      g_string_append_printf (summary, "held-out PSNR %.2f dB, SSIM %.4f",
                              psnr_sum / N_VAL_CLIPS, ssim_sum / N_VAL_CLIPS);
      ok = rg_train_write_clips (path, pairs, 4, mc->video.fps, error);
    }
  for (int i = 0; i < 4; i++)
    g_clear_pointer (&pairs[i], rg_tensor_unref);
  for (int i = 0; i < N_VAL_CLIPS; i++)
    g_clear_pointer (&recs[i], rg_tensor_unref);
  return ok;
}

static void
finalize (RgTrainRun *run)
{
  TaeTask *t = run->task_data;
  if (t == NULL)
    return;
  rg_tae_tape_free (t->tape);
  for (int i = 0; i < N_VAL_CLIPS; i++)
    g_clear_pointer (&t->val[i], rg_tensor_unref);
  g_free (t);
  run->task_data = NULL;
}

const RgTrainTaskClass rg_train_tae_task = { trains, prepare, step, sample, finalize };
