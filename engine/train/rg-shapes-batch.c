/* rg-shapes-batch.c — a batch of training clips and their captions.
 *
 * Sample i of a batch is the scene of seed first_seed + i, so a trainer that
 * numbers its samples gets the same data on any machine and after a resume.
 * Clips render in parallel, one per pool thread. */
#include "train/rg-shapes-private.h"

#include "core/rg-error.h"
#include "core/rg-parallel.h"

typedef struct {
  const RgShapesConfig *config;
  uint64_t              first_seed;
  float                *out;   /* [B, 3, T, H, W] */
  char                **captions;
  GError              **errors; /* one slot per sample */
} BatchJob;

static void
batch_range (void *ctx, int64_t begin, int64_t end)
{
  BatchJob *job = ctx;
  const RgShapesConfig *cfg = job->config;
  int64_t clip = (int64_t) 3 * cfg->frames * cfg->height * cfg->width;
  for (int64_t i = begin; i < end; i++)
    {
      RgShapesScene scene;
      uint64_t seed = job->first_seed + (uint64_t) i;
      if (!rg_shapes_scene_sample (cfg, seed, &scene, &job->errors[i]))
        continue;
      g_autoptr (RgTensor) video = rg_shapes_render (&scene);
      memcpy (job->out + i * clip, rg_tensor_f32 (video), clip * sizeof (float));
      if (job->captions)
        job->captions[i] = rg_shapes_caption (&scene, seed);
    }
}

RgTensor *
rg_shapes_batch (const RgShapesConfig *config, uint64_t first_seed, int batch, GStrv *captions,
                 GError **error)
{
  if (!rg_shapes_config_check (config, error))
    return NULL;
  if (batch < 1 || batch > 4096)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "ShapesWorld: a batch of %d clips is outside 1…4096", batch);
      return NULL;
    }
  int64_t numel = (int64_t) batch * 3 * config->frames * config->height * config->width;
  if (numel > (G_GINT64_CONSTANT (1) << 31))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                   "ShapesWorld: a batch of %d clips of %d×%d×%d would take %" G_GINT64_FORMAT
                   " MiB (limit 8 GiB)",
                   batch, config->frames, config->width, config->height, numel * 4 >> 20);
      return NULL;
    }
  RgTensor *videos = rg_tensor_f32_new (5, (int64_t) batch, (int64_t) 3, (int64_t) config->frames,
                                        (int64_t) config->height, (int64_t) config->width);
  g_autofree GError **errors = g_new0 (GError *, batch);
  char **caps = captions ? g_new0 (char *, batch + 1) : NULL;
  BatchJob job = { config, first_seed, rg_tensor_f32 (videos), caps, errors };
  rg_parallel_for (batch, 1, batch_range, &job);

  GError *first = NULL;
  for (int i = 0; i < batch; i++)
    if (errors[i] && !first)
      first = errors[i];
    else if (errors[i])
      g_error_free (errors[i]);
  if (first)
    {
      g_propagate_error (error, first);
      g_strfreev (caps);
      rg_tensor_unref (videos);
      return NULL;
    }
  if (captions)
    *captions = caps;
  return videos;
}
