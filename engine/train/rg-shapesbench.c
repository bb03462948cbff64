/* rg-shapesbench.c — ShapesBench: generate, grade against the prompt, and
 * measure the TAE on held-out ground truth. */
#include "train/rg-shapesbench.h"

#include <errno.h>
#include <math.h>

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "rg-config.h"

/* The shipped checkpoint, relative to the source tree, and the stand-in
 * used without one: the same file and seed `reelgen generate` uses
 * (engine/jobs/rg-local-executor.c), so the bench grades what users get. */
#define DEFAULT_MODEL_FILE "nano-t2v.safetensors"
#define DEFAULT_CONFIG "nano-t2v"
#define RANDOM_INIT_SEED 0

void
rg_shapesbench_params_init (RgShapesBenchParams *params)
{
  *params = (RgShapesBenchParams){
    .split = RG_SHAPES_SPLIT_HELDOUT,
    .n_prompts = 16,
    .steps = 50,
    .schedule = RG_SCHEDULE_LINEAR_QUADRATIC,
    .guidance = 6.0f,
    .n_recon = 8,
  };
}

static gboolean
load_model (const char *path, RgShapesBenchModel *out, gboolean writable, GError **error)
{
  g_autofree char *file = NULL;
  if (path)
    file = g_strdup (path);
  else
    {
      file = g_build_filename (RG_SOURCE_DIR, "resources", "models", DEFAULT_MODEL_FILE, NULL);
      if (!g_file_test (file, G_FILE_TEST_EXISTS))
        g_clear_pointer (&file, g_free);
    }

  if (file)
    {
      out->model = writable ? rg_model_load_writable (file, error) : rg_model_load (file, error);
      if (out->model == NULL)
        return FALSE;
      out->path = g_steal_pointer (&file);
      out->description
          = g_strdup_printf ("%s from %s", rg_model_get_config (out->model)->name, out->path);
      return TRUE;
    }

  RgModelConfig config;
  if (!rg_model_config_preset (DEFAULT_CONFIG, &config, error)
      || (out->model = rg_model_init (&config, RANDOM_INIT_SEED, error)) == NULL)
    return FALSE;
  out->description = g_strdup_printf ("%s, random init (seed %d): UNTRAINED, no checkpoint at "
                                      "resources/models/%s",
                                      DEFAULT_CONFIG, RANDOM_INIT_SEED, DEFAULT_MODEL_FILE);
  out->random_init = TRUE;
  return TRUE;
}

gboolean
rg_shapesbench_model_load (const char *path, const char *tae_path, RgShapesBenchModel *out,
                           GError **error)
{
  *out = (RgShapesBenchModel){ 0 };
  if (!load_model (path, out, tae_path != NULL, error))
    {
      rg_shapesbench_model_clear (out);
      return FALSE;
    }
  if (tae_path == NULL)
    return TRUE;
  if (!rg_model_load_part (out->model, tae_path, "tae.", error))
    {
      rg_shapesbench_model_clear (out);
      return FALSE;
    }
  out->tae_path = g_strdup (tae_path);
  char *description = g_strdup_printf ("%s, TAE from %s", out->description, tae_path);
  g_free (out->description);
  out->description = description;
  return TRUE;
}

void
rg_shapesbench_model_clear (RgShapesBenchModel *m)
{
  g_clear_pointer (&m->model, rg_model_unref);
  g_clear_pointer (&m->path, g_free);
  g_clear_pointer (&m->tae_path, g_free);
  g_clear_pointer (&m->description, g_free);
}

static void
item_free (RgShapesBenchItem *item)
{
  g_free (item->prompt);
  g_free (item->clip);
  g_free (item);
}

void
rg_shapesbench_result_clear (RgShapesBenchResult *result)
{
  g_clear_pointer (&result->items, g_ptr_array_unref);
}

double
rg_shapesbench_score_accuracy (const RgShapesBenchScore *score)
{
  return score->asked > 0 ? (double)score->right / score->asked : NAN;
}

GStrv
rg_shapesbench_default_prompts (const RgShapesConfig *config, guint64 seed, int n, GError **error)
{
  GStrv prompts = g_new0 (char *, n + 1);
  for (int i = 0; i < n; i++)
    {
      RgShapesScene scene;
      if (!rg_shapes_scene_sample (config, seed + i, &scene, error))
        {
          g_strfreev (prompts);
          return NULL;
        }
      prompts[i] = rg_shapes_caption (&scene, seed + i);
    }
  return prompts;
}

gboolean
rg_shapesbench_grade (RgTensor *video, const char *prompt, RgPromptIntent *intent_out,
                      RgGradeReport *report, RgGradeVerdict *verdict, GError **error)
{
  RgPromptIntent intent;
  if (!rg_grade_parse_prompt (prompt, &intent, error))
    {
      g_prefix_error (error, "ShapesBench: ");
      return FALSE;
    }
  if (!rg_grade_video (video, report, error))
    return FALSE;
  rg_grade_judge (&intent, report, verdict);
  if (intent_out != NULL)
    *intent_out = intent;
  return TRUE;
}

static void
tally_one (RgShapesBenchScore *score, int verdict)
{
  if (verdict < 0)
    return;
  score->asked++;
  score->right += verdict > 0;
}

G_STATIC_ASSERT ((int) RG_SHAPE_N_KINDS <= (int) RG_SHAPESBENCH_MAX_CLASSES);

/* One group's asked class against what its matched object showed. */
static void
tally_class (RgShapesBenchClass *table, int asked, const RgGradeObject *seen, int seen_class)
{
  RgShapesBenchClass *c = &table[asked];
  c->asked++;
  if (seen == NULL)
    {
      c->none++;
      return;
    }
  c->seen[seen_class]++;
  c->right += seen_class == asked;
}

void
rg_shapesbench_tally (RgShapesBenchResult *result, const RgPromptIntent *intent,
                      const RgGradeReport *report, const RgGradeVerdict *verdict)
{
  tally_one (&result->colour, verdict->colour);
  tally_one (&result->shape, verdict->shape);
  tally_one (&result->count, verdict->count);
  tally_one (&result->motion, verdict->motion);
  tally_one (&result->backdrop, verdict->backdrop);
  for (int g = 0; g < intent->n_groups; g++)
    {
      const RgPromptGroup *want = &intent->groups[g];
      const RgGradeObject *obj = rg_grade_match_group (report, want);
      if (want->kind >= 0 && want->kind < RG_SHAPE_N_KINDS)
        tally_class (result->by_shape, want->kind, obj, obj ? (int) obj->kind : -1);
      if (want->motion >= 0 && want->motion < RG_MOTION_N)
        tally_class (result->by_motion, want->motion, obj, obj ? (int) obj->motion : -1);
    }
}

/* The model's clip as a ShapesWorld config (held-out scenes). */
static gboolean
model_shapes_config (RgModel *model, RgShapesSplit split, RgShapesConfig *cfg, GError **error)
{
  const RgModelConfig *mc = rg_model_get_config (model);
  rg_shapes_config_init (cfg);
  cfg->width = mc->video.width;
  cfg->height = mc->video.height;
  cfg->frames = mc->video.frames;
  cfg->fps = (RgRational){ mc->video.fps, 1 };
  cfg->split = split;
  if (!rg_shapes_config_check (cfg, error))
    {
      g_prefix_error (error, "model %s's clip is not a ShapesWorld clip: ", mc->name);
      return FALSE;
    }
  return TRUE;
}

/* Scene `seed` of cfg rendered, and its TAE reconstruction from the
 * posterior mean (both [1, 3, T, H, W] in [-1, 1]); mean_out (may be NULL)
 * gets that latent. */
static gboolean
tae_roundtrip (RgModel *model, const RgShapesConfig *cfg, guint64 seed, RgTensor **truth_out,
               RgTensor **decoded_out, RgTensor **mean_out, GCancellable *cancellable,
               GError **error)
{
  const RgModelConfig *mc = rg_model_get_config (model);
  int64_t lat[5] = { 1 };
  if (!rg_model_config_latent_shape (mc, cfg->frames, cfg->height, cfg->width, lat + 1, error))
    return FALSE;
  int64_t vid[5] = { 1, 3, cfg->frames, cfg->height, cfg->width };
  RgShapesScene scene;
  if (!rg_shapes_scene_sample (cfg, seed, &scene, error))
    return FALSE;
  g_autoptr (RgTensor) rendered = rg_shapes_render (&scene);
  g_autoptr (RgTensor) truth = rg_tensor_reshape (rendered, 5, vid);
  g_autoptr (RgTensor) mean = rg_tensor_new (RG_F32, 5, lat);
  g_autoptr (RgTensor) decoded = rg_tensor_new (RG_F32, 5, vid);
  RgTae *tae = rg_model_get_tae (model);
  if (!rg_tae_encode (tae, truth, mean, NULL, cancellable, error)
      || !rg_tae_decode (tae, mean, decoded, cancellable, error))
    return FALSE;
  if (truth_out)
    *truth_out = g_steal_pointer (&truth);
  if (mean_out)
    *mean_out = g_steal_pointer (&mean);
  *decoded_out = g_steal_pointer (&decoded);
  return TRUE;
}

/* The decoder's stability: PSNR of decode(z + noise) against decode(z),
 * the noise Gaussian with 10 % of z's own spread. A DiT never lands
 * exactly on the encoder's latents; a decoder that amplifies small
 * differences turns every generated clip into flicker, whatever its
 * reconstruction PSNR. */
#define STABILITY_NOISE 0.1
#define STABILITY_STREAM 0x5B0001

static gboolean
decoder_stability (RgModel *model, const RgTensor *mean, RgTensor *decoded, guint64 seed,
                   double *psnr, GCancellable *cancellable, GError **error)
{
  int64_t n = rg_tensor_numel (mean);
  const float *mu = rg_tensor_f32 (mean);
  double centre, spread;
  rg_tensor_mean_std (mean, &centre, &spread);
  g_autoptr (RgTensor) noisy = rg_tensor_new (RG_F32, mean->ndim, mean->shape);
  float *z = rg_tensor_f32 (noisy);
  rg_rng_normal (seed, STABILITY_STREAM, 0, z, n);
  for (int64_t i = 0; i < n; i++)
    z[i] = mu[i] + (float) (STABILITY_NOISE * spread) * z[i];
  g_autoptr (RgTensor) again = rg_tensor_new (RG_F32, decoded->ndim, decoded->shape);
  return rg_tae_decode (rg_model_get_tae (model), noisy, again, cancellable, error)
         && rg_grade_psnr (decoded, again, psnr, error);
}

gboolean
rg_shapesbench_tae (RgModel *model, guint64 seed, int n, double *psnr_mean, double *psnr_min,
                    double *ssim_mean, double *stability_psnr, GCancellable *cancellable,
                    GError **error)
{
  RgShapesConfig cfg;
  if (!model_shapes_config (model, RG_SHAPES_SPLIT_HELDOUT, &cfg, error))
    return FALSE;
  double psnr_sum = 0, ssim_sum = 0, stability_sum = 0, worst = INFINITY;
  for (int i = 0; i < n; i++)
    {
      g_autoptr (RgTensor) truth = NULL;
      g_autoptr (RgTensor) decoded = NULL;
      g_autoptr (RgTensor) mean = NULL;
      double psnr, ssim, stability;
      if (!tae_roundtrip (model, &cfg, seed + i, &truth, &decoded, &mean, cancellable, error)
          || !rg_grade_psnr (truth, decoded, &psnr, error)
          || !rg_grade_ssim (truth, decoded, &ssim, error)
          || !decoder_stability (model, mean, decoded, seed + i, &stability, cancellable, error))
        return FALSE;
      psnr_sum += psnr;
      ssim_sum += ssim;
      stability_sum += stability;
      worst = MIN (worst, psnr);
    }
  *psnr_mean = n > 0 ? psnr_sum / n : NAN;
  *ssim_mean = n > 0 ? ssim_sum / n : NAN;
  *psnr_min = n > 0 ? worst : NAN;
  *stability_psnr = n > 0 ? stability_sum / n : NAN;
  return TRUE;
}

/* The TAE's reconstruction of the prompt's own scene, as [3, T, H, W]:
 * what a DiT that sampled the training distribution exactly would show. */
static RgTensor *
roundtrip_clip (const RgShapesBenchModel *model, const RgShapesConfig *cfg, guint64 seed,
                GCancellable *cancellable, GError **error)
{
  g_autoptr (RgTensor) decoded = NULL;
  if (!tae_roundtrip (model->model, cfg, seed, NULL, &decoded, NULL, cancellable, error))
    return NULL;
  int64_t vid[4] = { 3, decoded->shape[2], decoded->shape[3], decoded->shape[4] };
  RgTensor *video = rg_tensor_reshape (decoded, 4, vid);
  float *p = rg_tensor_f32 (video);
  for (int64_t i = 0; i < rg_tensor_numel (video); i++)
    p[i] = CLAMP (p[i], -1.0f, 1.0f);
  return video;
}

/* One prompt's clip: generated in memory (and kept as MP4 when asked). */
static RgTensor *
generate (const RgShapesBenchModel *model, const RgShapesBenchParams *params, const char *prompt,
          guint64 seed, const RgGenCallbacks *gen_callbacks, gpointer user_data,
          GCancellable *cancellable, char **kept, GError **error)
{
  const RgModelConfig *mc = rg_model_get_config (model->model);
  RgT2VParams p;
  rg_t2v_params_init (&p, mc);
  p.prompt = prompt;
  p.seed = seed;
  p.steps = params->steps;
  p.schedule = params->schedule;
  p.guidance = params->guidance;
  if (!rg_t2v_params_validate (&p, mc, error))
    return NULL;
  g_autoptr (RgTensor) latent
      = rg_t2v_sample (model->model, &p, gen_callbacks, user_data, cancellable, error);
  if (latent == NULL)
    return NULL;
  g_autoptr (RgTensor) frames
      = rg_t2v_decode (model->model, latent, NULL, NULL, cancellable, error);
  if (frames == NULL)
    return NULL;
  if (params->keep_dir)
    {
      g_autofree char *name = g_strdup_printf ("shapesbench-%04" G_GUINT64_FORMAT ".mp4", seed);
      g_autofree char *path = g_build_filename (params->keep_dir, name, NULL);
      if (!rg_t2v_write (frames, p.fps, path, cancellable, error))
        return NULL;
      *kept = g_steal_pointer (&path);
    }
  return rg_shapesbench_frames_to_video (frames);
}

static void
report (RgShapesBenchProgress progress, gpointer user_data, const char *what, int done, int total,
        const char *detail)
{
  if (progress)
    progress (what, done, total, detail, user_data);
}

/* The clip's frame-to-frame change, and, for the split's own prompts, that
 * of the scene the prompt describes (scene seed = the item's seed, as
 * rg_shapesbench_default_prompts captions them). */
static gboolean
frame_changes (const RgShapesBenchResult *result, const RgShapesConfig *cfg, RgTensor *video,
               RgShapesBenchItem *item, GError **error)
{
  item->frame_change = rg_grade_frame_change (video);
  item->truth_frame_change = NAN;
  if (!result->default_prompts)
    return TRUE;
  RgShapesScene scene;
  if (!rg_shapes_scene_sample (cfg, item->seed, &scene, error))
    return FALSE;
  g_autoptr (RgTensor) truth = rg_shapes_render (&scene);
  item->truth_frame_change = rg_grade_frame_change (truth);
  return TRUE;
}

gboolean
rg_shapesbench_run (const RgShapesBenchModel *model, const RgShapesBenchParams *params,
                    RgShapesBenchProgress progress, const RgGenCallbacks *gen_callbacks,
                    gpointer user_data, GCancellable *cancellable, RgShapesBenchResult *result,
                    GError **error)
{
  *result = (RgShapesBenchResult){
    .params = *params, .psnr_mean = NAN, .psnr_min = NAN, .ssim_mean = NAN,
    .stability_psnr = NAN, .frame_change = NAN, .truth_frame_change = NAN
  };
  result->from_files = params->clips != NULL;
  result->tae_roundtrip = params->tae_roundtrip;
  result->params.prompts = result->params.clips = NULL;
  result->params.keep_dir = NULL;
  result->items = g_ptr_array_new_with_free_func ((GDestroyNotify)item_free);
  gint64 start = g_get_monotonic_time ();

  g_auto (GStrv) defaults = NULL;
  const char *const *prompts = params->prompts;
  RgShapesConfig cfg;
  if (params->tae_roundtrip && (prompts != NULL || params->clips != NULL))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "ShapesBench: the TAE round trip grades the split's own scenes, not given "
                   "prompts or clips");
      goto fail;
    }
  if (prompts == NULL)
    {
      if (!model_shapes_config (model->model, params->split, &cfg, error)
          || (defaults
              = rg_shapesbench_default_prompts (&cfg, params->seed, params->n_prompts, error))
                 == NULL)
        goto fail;
      prompts = (const char *const *)defaults;
      result->default_prompts = TRUE;
    }
  int n = (int)g_strv_length ((GStrv)prompts);
  if (params->clips && g_strv_length ((GStrv)params->clips) != (guint)n)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "ShapesBench: %u clips for %d prompts (give one clip per prompt)",
                   g_strv_length ((GStrv)params->clips), n);
      goto fail;
    }
  if (params->keep_dir && g_mkdir_with_parents (params->keep_dir, 0755) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "ShapesBench: cannot create %s: %s",
                   params->keep_dir, g_strerror (errno));
      goto fail;
    }

  /* A prompt the graders cannot read fails now, not after minutes of
   * generating the ones before it. */
  for (int i = 0; i < n; i++)
    {
      RgPromptIntent intent;
      if (!rg_grade_parse_prompt (prompts[i], &intent, error))
        {
          g_prefix_error (error, "ShapesBench: ");
          goto fail;
        }
    }

  const char *what = params->clips ? "grading" : params->tae_roundtrip ? "reconstructing"
                                                                      : "generating";
  report (progress, user_data, what, 0, n, NULL);
  for (int i = 0; i < n; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto fail;
      RgShapesBenchItem *item = g_new0 (RgShapesBenchItem, 1);
      g_ptr_array_add (result->items, item);
      item->prompt = g_strdup (prompts[i]);
      item->seed = params->seed + i;
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (RgTensor) video = NULL;
      if (params->clips)
        {
          item->clip = g_strdup (params->clips[i]);
          video = rg_shapesbench_load_clip (item->clip, error);
        }
      else if (params->tae_roundtrip)
        video = roundtrip_clip (model, &cfg, item->seed, cancellable, error);
      else
        video = generate (model, params, item->prompt, item->seed, gen_callbacks, user_data,
                          cancellable, &item->clip, error);
      item->seconds = (g_get_monotonic_time () - t0) / 1e6;
      if (video == NULL
          || !rg_shapesbench_grade (video, item->prompt, &item->asked, &item->report,
                                    &item->verdict, error)
          || !frame_changes (result, &cfg, video, item, error))
        goto fail;
      rg_shapesbench_tally (result, &item->asked, &item->report, &item->verdict);
      report (progress, user_data, what, i + 1, n, item->prompt);
    }

  if (n > 0)
    result->frame_change = result->truth_frame_change = 0.0;
  for (int i = 0; i < n; i++)
    {
      const RgShapesBenchItem *item = g_ptr_array_index (result->items, i);
      result->frame_change += item->frame_change / n;
      result->truth_frame_change += item->truth_frame_change / n; /* NaN stays NaN */
    }

  if (params->n_recon > 0)
    {
      report (progress, user_data, "tae", 0, params->n_recon, NULL);
      if (!rg_shapesbench_tae (model->model, params->seed, params->n_recon, &result->psnr_mean,
                               &result->psnr_min, &result->ssim_mean, &result->stability_psnr,
                               cancellable, error))
        goto fail;
      result->n_recon = params->n_recon;
      report (progress, user_data, "tae", params->n_recon, params->n_recon, NULL);
    }
  result->seconds = (g_get_monotonic_time () - start) / 1e6;
  return TRUE;

fail:
  rg_shapesbench_result_clear (result);
  return FALSE;
}
