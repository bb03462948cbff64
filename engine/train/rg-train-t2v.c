/* rg-train-t2v.c — the t2v training task: the text encoder and the DiT
 * learn flow matching on latents of a frozen, already trained TAE.
 *
 * The TAE is frozen, so each training clip is encoded once: `dataset_clips`
 * scenes of the train split are rendered and encoded (posterior means) at
 * the start and cached in DIR/dataset.safetensors with their scene seeds
 * and fingerprints (a resumed run reuses the cache when the TAE file is
 * the same; a run with more clips than the cache encodes only the new ones,
 * and a world that now draws some scenes differently re-encodes those). Their
 * overall mean and standard deviation become tae.latent_mean/std, and the
 * DiT sees (z − mean) / std: data at the noise's unit scale.
 *
 * Each sample of a step: a latent of the cached set (one shuffled pass per
 * epoch), a caption of its scene in a template chosen by the data position
 * (a clip is described differently each epoch), dropped to the empty
 * prompt with probability text_dropout, t = sigmoid(N(t_mean, t_std)),
 * x₀ ~ N(0, I), and the loss ‖DiT(x_t, t, text) − (x₁ − (1 − σ_min)·x₀)‖²
 * (mean over elements), plus motion_loss times the mean square of the
 * error's deviation from its mean over the frames (rg_flow_loss). With
 * object_loss, both terms count 1 + object_loss · w times in a latent cell,
 * w being the cell's share of the clip's shapes (rg_train_scene_object_cells:
 * each shape spreads an equal share over the cells it passes through): a
 * small shape covers one or two of a frame's 64 cells, and the backdrop's
 * and a large shape's error would otherwise outweigh it. */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-hash.h"
#include "core/rg-rng.h"
#include "core/rg-safetensors.h"
#include "gen/rg-flow.h"
#include "gen/rg-t2v.h"
#include "models/rg-dit-train.h"
#include "train/rg-trainer-private.h"

static gboolean
trains (const RgTrainConfig *config, const char *name)
{
  (void) config;
  return g_str_has_prefix (name, "text.") || g_str_has_prefix (name, "dit.");
}

/* The fixed prompts of the periodic samples: held-out combinations. */
static const char *const sample_prompts[] = {
  "a red circle bouncing on a blue background FPS-8",
  "a yellow star moving left over a sky gradient FPS-8",
};

/* Dataset indices of the clips that show one motion. */
typedef struct {
  uint32_t *index;
  int64_t   n;
} ClipList;

typedef struct {
  RgTextEncoderTape *text_tape;
  RgDitTape         *dit_tape;
  RgTensor          *latents;      /* [N, C, T, H, W], normalised */
  uint64_t          *scene_seeds;  /* N */
  int64_t            n;
  uint32_t          *order;        /* this epoch's shuffled indices */
  int64_t            order_epoch;
  ClipList           bouncing;     /* the clips with a bouncing shape, for bounce_clips */
  ClipList           diagonal;     /* … with a diagonal one, for diagonal_clips */
  float             *object_cells; /* [N, H, W] path weights, for object_loss */
} T2vTask;

/* What the cached latents were encoded with. The digest of the encoder's
 * weights is the key: a TAE file whose decoder alone changed encodes the
 * same latents bit for bit. The file's SHA-256 is the key of caches written
 * before the digest, and is still accepted. */
typedef struct {
  const char *file_sha;    /* "tae.sha256" */
  const char *encoder_sha; /* "tae.encoder.sha256": rg_params_digest of tae.enc.* */
} CacheKey;

static char *
dataset_path (RgTrainRun *run)
{
  return g_build_filename (run->out_dir, "dataset.safetensors", NULL);
}

/* The cached latents, if this TAE's encoder made them: all `dataset_clips`
 * of them, or a prefix of the set (scene seeds are a pure function of the
 * seed and the index, so a run with more clips encodes only the new ones).
 * Their count goes to *cached (0 without a usable cache), the file's own
 * count to *stored, and their scenes' fingerprints to *prints: NULL for a
 * cache written before fingerprints, whose scenes are taken to be this
 * world's, as they were then. *keyed says whether the cache carries the
 * encoder digest (one without it is written again with it). */
static RgTensor *
load_cache (RgTrainRun *run, const CacheKey *key, const int64_t *lshape, int64_t *cached,
            int64_t *stored, RgTensor **prints, gboolean *keyed)
{
  *cached = *stored = 0;
  *prints = NULL;
  *keyed = FALSE;
  g_autofree char *path = dataset_path (run);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RgSafetensors) st = rg_safetensors_open (path, &error);
  const char *enc = st ? rg_safetensors_get_metadata (st, "tae.encoder.sha256") : NULL;
  const char *sha = st ? rg_safetensors_get_metadata (st, "tae.sha256") : NULL;
  if (st == NULL
      || !(g_strcmp0 (enc, key->encoder_sha) == 0 || g_strcmp0 (sha, key->file_sha) == 0))
    {
      rg_train_message (run, "rebuilding %s: %s", path,
                        st == NULL ? error->message : "it was encoded by another TAE encoder");
      return NULL;
    }
  *keyed = enc != NULL;
  g_autoptr (RgTensor) lat = rg_safetensors_get_f32 (st, "latents", &error);
  g_autoptr (RgTensor) seeds = lat ? rg_safetensors_get (st, "scene_seeds", &error) : NULL;
  g_autoptr (RgTensor) fp = NULL;
  if (seeds != NULL && rg_safetensors_describe (st, "scene_fingerprints", NULL, NULL, NULL, NULL,
                                                NULL))
    fp = rg_safetensors_get (st, "scene_fingerprints", &error);
  int64_t n = lat ? lat->shape[0] : 0;
  gboolean ok = seeds != NULL && lat->ndim == 5 && seeds->dtype == RG_I64 && seeds->ndim == 1
                && seeds->shape[0] == n && memcmp (lat->shape + 1, lshape, 4 * sizeof (int64_t)) == 0
                && error == NULL
                && (fp == NULL || (fp->dtype == RG_I64 && fp->ndim == 1 && fp->shape[0] == n));
  for (int64_t i = 0; ok && i < n; i++)
    ok = ((const uint64_t *) seeds->data)[i] == rg_train_scene_seed (run->config->seed, (uint64_t) i);
  if (!ok)
    {
      rg_train_message (run, "rebuilding %s: %s", path,
                        error ? error->message : "its latents or scenes do not match this config");
      return NULL;
    }
  *cached = MIN (n, run->config->dataset_clips);
  *stored = n;
  *prints = g_steal_pointer (&fp);
  rg_train_message (run, "dataset: %" G_GINT64_FORMAT " cached latents from %s%s", *cached, path,
                    *prints ? "" : " (written before scene fingerprints: taken as this world's)");
  return g_steal_pointer (&lat);
}

/* The dataset: cached latents where their scene is unchanged, the rest
 * (new clips, and cached ones whose scene the world now draws differently)
 * encoded now, and the whole set cached again when anything was new (and
 * the cache held no more clips than the set). */
static gboolean
build_dataset (RgTrainRun *run, T2vTask *t, const CacheKey *key, const int64_t *lshape,
               GCancellable *cancellable, GError **error)
{
  const RgTrainConfig *c = run->config;
  RgTae *tae = rg_model_get_tae (run->model);
  int64_t n = c->dataset_clips, per = lshape[0] * lshape[1] * lshape[2] * lshape[3];
  int64_t shape[5] = { n, lshape[0], lshape[1], lshape[2], lshape[3] };
  g_autoptr (RgTensor) latents = rg_tensor_new (RG_F32, 5, shape);
  g_autofree uint64_t *seeds = g_new (uint64_t, n);
  g_autofree uint64_t *prints = g_new (uint64_t, n);
  g_autofree int64_t *todo = g_new (int64_t, n);
  int64_t cached, stored, n_todo = 0, changed = 0;
  g_autoptr (RgTensor) cached_prints = NULL;
  gboolean keyed;
  g_autoptr (RgTensor) cache = load_cache (run, key, lshape, &cached, &stored, &cached_prints,
                                           &keyed);
  if (cached > 0)
    memcpy (rg_tensor_f32 (latents), rg_tensor_f32 (cache), (gsize) (cached * per) * sizeof (float));
  for (int64_t i = 0; i < n; i++)
    {
      seeds[i] = rg_train_scene_seed (c->seed, (uint64_t) i);
      RgShapesScene scene;
      if (!rg_shapes_scene_sample (&run->world, seeds[i], &scene, error))
        return FALSE;
      prints[i] = rg_shapes_scene_fingerprint (&scene);
      gboolean same = i < cached && (cached_prints == NULL
                                     || ((const uint64_t *) cached_prints->data)[i] == prints[i]);
      if (!same)
        todo[n_todo++] = i;
      changed += i < cached && !same;
    }
  if (changed > 0)
    rg_train_message (run, "dataset: the world draws %" G_GINT64_FORMAT " of the %" G_GINT64_FORMAT
                      " cached scenes differently now; encoding them again", changed, cached);

  int64_t one[5] = { 1, lshape[0], lshape[1], lshape[2], lshape[3] };
  gint64 start = g_get_monotonic_time ();
  for (int64_t k = 0; k < n_todo; k++)
    {
      int64_t i = todo[k];
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED,
                       "stopped while encoding the dataset (%" G_GINT64_FORMAT " of %"
                       G_GINT64_FORMAT " clips; no step was taken)", k, n_todo);
          return FALSE;
        }
      RgShapesScene scene;
      if (!rg_shapes_scene_sample (&run->world, seeds[i], &scene, error))
        return FALSE;
      g_autoptr (RgTensor) clip = rg_shapes_render (&scene);
      int64_t vs[5] = { 1, 3, clip->shape[1], clip->shape[2], clip->shape[3] };
      g_autoptr (RgTensor) video = rg_tensor_reshape (clip, 5, vs);
      g_autoptr (RgTensor) mean = rg_tensor_new_borrowed (
          RG_F32, 5, one, rg_tensor_f32 (latents) + i * per, NULL, NULL);
      if (!rg_tae_encode (tae, video, mean, NULL, cancellable, error))
        return FALSE;
      if ((k + 1) % 64 == 0 || k + 1 == n_todo)
        {
          double el = (double) (g_get_monotonic_time () - start) / 1e6;
          rg_train_message (run, "encoding the dataset: %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                            " clips, ETA %.0f s", k + 1, n_todo,
                            el / (double) (k + 1) * (double) (n_todo - k - 1));
        }
    }
  /* A cache of more clips than this run uses is left whole: writing this
   * run's set over it would throw away encoded clips. */
  if ((n_todo > 0 || cached_prints == NULL || !keyed) && n >= stored)
    {
      g_autoptr (RgTensor) seed_t = rg_tensor_new_borrowed (RG_I64, 1, &n, seeds, NULL, NULL);
      g_autoptr (RgTensor) print_t = rg_tensor_new_borrowed (RG_I64, 1, &n, prints, NULL, NULL);
      g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
      g_autofree char *path = dataset_path (run);
      if (!rg_safetensors_writer_add (w, "latents", latents, RG_F32, error)
          || !rg_safetensors_writer_add (w, "scene_seeds", seed_t, RG_I64, error)
          || !rg_safetensors_writer_add (w, "scene_fingerprints", print_t, RG_I64, error))
        return FALSE;
      rg_safetensors_writer_set_metadata (w, "tae.encoder.sha256", key->encoder_sha);
      rg_safetensors_writer_set_metadata (w, "tae.sha256", key->file_sha);
      if (!rg_safetensors_writer_save (w, path, error))
        return FALSE;
    }
  t->latents = g_steal_pointer (&latents);
  t->scene_seeds = g_steal_pointer (&seeds);
  t->n = n;
  return TRUE;
}

/* Measure the latents' mean and std, store them in the model's config and
 * normalise the set in place. */
static void
normalise (RgTrainRun *run, T2vTask *t)
{
  float *d = rg_tensor_f32 (t->latents);
  int64_t n = rg_tensor_numel (t->latents);
  double mean, std;
  rg_tensor_mean_std (t->latents, &mean, &std);
  if (!(std > 1e-6))
    std = 1.0;
  rg_model_set_latent_stats (run->model, (float) mean, (float) std);
  for (int64_t i = 0; i < n; i++)
    d[i] = (float) ((d[i] - mean) / std);
  rg_train_message (run, "latents: mean %.4f, std %.4f (the DiT sees them normalised)", mean,
                    std);
}

/* Each clip's weights of the latent cells its shapes pass through, for
 * object_loss. */
static gboolean
find_object_cells (RgTrainRun *run, T2vTask *t, GError **error)
{
  int rows = (int) t->latents->shape[3], cols = (int) t->latents->shape[4];
  t->object_cells = g_new (float, t->n * rows * cols);
  double marked = 0.0, peak = 0.0;
  for (int64_t k = 0; k < t->n; k++)
    {
      RgShapesScene scene;
      if (!rg_shapes_scene_sample (&run->world, t->scene_seeds[k], &scene, error))
        return FALSE;
      float *cells = t->object_cells + k * rows * cols;
      rg_train_scene_object_cells (&scene, rows, cols, cells);
      for (int i = 0; i < rows * cols; i++)
        marked += cells[i] > 0.f, peak = MAX (peak, cells[i]);
    }
  rg_train_message (run,
                    "dataset: the shapes pass through %.1f %% of the latent cells; object_loss "
                    "counts their error up to %.0f times",
                    100.0 * marked / (double) (t->n * rows * cols),
                    1.0 + run->config->object_loss * peak);
  return TRUE;
}

/* The clips whose scene has a shape with this motion, for the setting
 * `name` that draws `share` of the samples from them. */
static gboolean
find_clips (RgTrainRun *run, T2vTask *t, RgMotion motion, const char *name, double share,
            ClipList *list, GError **error)
{
  list->index = g_new (uint32_t, t->n);
  list->n = 0;
  for (int64_t k = 0; k < t->n; k++)
    {
      RgShapesScene scene;
      if (!rg_shapes_scene_sample (&run->world, t->scene_seeds[k], &scene, error))
        return FALSE;
      if (rg_train_scene_has_motion (&scene, motion))
        list->index[list->n++] = (uint32_t) k;
    }
  if (list->n == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: none of the %" G_GINT64_FORMAT " clips has a %s shape%s", name, t->n,
                   rg_motion_name (motion),
                   motion == RG_MOTION_BOUNCING ? " (a bounce needs clips of 7 frames or more)" : "");
      return FALSE;
    }
  rg_train_message (run,
                    "dataset: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " clips show %s motion; "
                    "%s draws %.0f %% of the samples from them", list->n, t->n,
                    rg_motion_name (motion), name, 100.0 * share);
  return TRUE;
}

static gboolean
prepare (RgTrainRun *run, GCancellable *cancellable, GError **error)
{
  const RgTrainConfig *c = run->config;
  T2vTask *t = g_new0 (T2vTask, 1);
  run->task_data = t;
  t->order_epoch = -1;
  if (c->tae_path[0] == '\0')
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "a t2v run needs a trained TAE (\"tae\" in the config, or --tae)");
      return FALSE;
    }
  if (!rg_model_load_part (run->model, c->tae_path, "tae.", error))
    return FALSE;
  g_autofree char *sha = rg_file_sha256 (c->tae_path, NULL, error);
  if (sha == NULL)
    return FALSE;
  g_autofree char *encoder_sha = rg_params_digest (rg_model_get_params (run->model), "tae.enc.");
  CacheKey key = { sha, encoder_sha };
  int64_t lshape[4];
  if (!rg_model_config_latent_shape (&c->model, c->model.video.frames, c->model.video.height,
                                     c->model.video.width, lshape, error))
    return FALSE;
  if (!build_dataset (run, t, &key, lshape, cancellable, error))
    return FALSE;
  normalise (run, t);
  if (c->bounce_clips + c->diagonal_clips > 1.0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "bounce_clips (%g) and diagonal_clips (%g) add up to more than 1",
                   c->bounce_clips, c->diagonal_clips);
      return FALSE;
    }
  if (c->bounce_clips > 0
      && !find_clips (run, t, RG_MOTION_BOUNCING, "bounce_clips", c->bounce_clips, &t->bouncing,
                      error))
    return FALSE;
  if (c->diagonal_clips > 0
      && !find_clips (run, t, RG_MOTION_DIAGONAL, "diagonal_clips", c->diagonal_clips,
                      &t->diagonal, error))
    return FALSE;
  if (c->object_loss > 0 && !find_object_cells (run, t, error))
    return FALSE;
  t->text_tape = rg_text_encoder_tape_new (rg_model_get_text_encoder (run->model));
  t->dit_tape = rg_dit_tape_new (rg_model_get_dit (run->model));
  return TRUE;
}

/* The dataset index at a data position: a fresh shuffle every epoch. */
static int64_t
index_at (RgTrainRun *run, T2vTask *t, uint64_t position)
{
  int64_t epoch = (int64_t) (position / (uint64_t) t->n);
  if (epoch != t->order_epoch)
    {
      if (t->order == NULL)
        t->order = g_new (uint32_t, t->n);
      for (int64_t i = 0; i < t->n; i++)
        t->order[i] = (uint32_t) i;
      RgRng rng;
      rg_rng_init (&rng, run->config->seed, RG_TRAIN_STREAM_DROPOUT ^ ((uint64_t) epoch << 32));
      for (int64_t i = t->n - 1; i > 0; i--)
        {
          int64_t j = (int64_t) (rg_rng_double (&rng) * (double) (i + 1));
          uint32_t tmp = t->order[i];
          t->order[i] = t->order[j];
          t->order[j] = tmp;
        }
      t->order_epoch = epoch;
    }
  return t->order[position % (uint64_t) t->n];
}

/* The dataset index at a data position: a fresh shuffle every epoch, and
 * with bounce_clips (diagonal_clips) that share of the positions drawn from
 * the bouncing (diagonal) clips instead, from the position alone, so a
 * resumed run matches. One draw picks the list: a run without
 * diagonal_clips draws exactly what it drew before the setting existed. */
static int64_t
sample_index (RgTrainRun *run, T2vTask *t, uint64_t position)
{
  if (t->bouncing.n > 0 || t->diagonal.n > 0)
    {
      RgRng rng;
      rg_rng_init (&rng, run->config->seed, RG_TRAIN_STREAM_BOUNCE_PICK + (position << 8));
      double u = rg_rng_double (&rng), bounce = run->config->bounce_clips;
      if (u < bounce && t->bouncing.n > 0)
        return t->bouncing.index[rg_rng_range (&rng, 0, (int) t->bouncing.n)];
      if (u >= bounce && u < bounce + run->config->diagonal_clips)
        return t->diagonal.index[rg_rng_range (&rng, 0, (int) t->diagonal.n)];
    }
  return index_at (run, t, position);
}

static gboolean
step (RgTrainRun *run, double *loss, GError **error)
{
  const RgTrainConfig *c = run->config;
  T2vTask *t = run->task_data;
  RgTextEncoder *te = rg_model_get_text_encoder (run->model);
  RgDit *dit = rg_model_get_dit (run->model);
  const RgModelConfig *mc = rg_model_get_config (run->model);
  int64_t b = c->batch, l = mc->text.max_len, per = rg_tensor_numel (t->latents) / t->n;
  int64_t xs[5] = { b, t->latents->shape[1], t->latents->shape[2], t->latents->shape[3],
                    t->latents->shape[4] };
  g_autoptr (RgTensor) x1 = rg_tensor_new (RG_F32, 5, xs);
  int64_t ids_shape[2] = { b, l };
  g_autoptr (RgTensor) ids = rg_tensor_new (RG_I32, 2, ids_shape);
  g_autofree int32_t *len = g_new (int32_t, b);
  int64_t cells = t->latents->shape[3] * t->latents->shape[4];
  g_autofree float *weight = t->object_cells ? g_new (float, b * cells) : NULL;
  int dropped = 0;
  for (int64_t i = 0; i < b; i++)
    {
      uint64_t position = run->data_position++;
      int64_t k = sample_index (run, t, position);
      memcpy (rg_tensor_f32 (x1) + i * per, rg_tensor_f32 (t->latents) + k * per,
              (gsize) per * sizeof (float));
      for (int64_t j = 0; weight != NULL && j < cells; j++)
        weight[i * cells + j] = 1.0f + (float) c->object_loss * t->object_cells[k * cells + j];
      RgRng rng;
      rg_rng_init (&rng, c->seed, RG_TRAIN_STREAM_DROPOUT + (position << 8));
      g_autofree char *caption = NULL;
      if (rg_rng_double (&rng) >= c->text_dropout)
        {
          RgShapesScene scene;
          if (!rg_shapes_scene_sample (&run->world, t->scene_seeds[k], &scene, error))
            return FALSE;
          caption = rg_shapes_caption (&scene, position);
        }
      else
        dropped++;
      len[i] = rg_text_tokenize (&mc->text, caption ? caption : "",
                                 (int32_t *) ids->data + i * l);
    }

  /* the flow: t, x₀, x_t and the target velocity */
  g_autofree float *tt = g_new (float, b);
  rg_flow_sample_t_logit_normal (c->seed, RG_TRAIN_STREAM_FLOW_T, (uint64_t) run->step * b,
                                 (float) c->t_mean, (float) c->t_std, tt, b);
  g_autoptr (RgTensor) x0 = rg_tensor_new (RG_F32, 5, xs);
  int64_t nx = rg_tensor_numel (x0);
  rg_rng_normal (c->seed, RG_TRAIN_STREAM_FLOW_NOISE, (uint64_t) run->step * (uint64_t) nx,
                 rg_tensor_f32 (x0), nx);
  g_autoptr (RgTensor) xt = rg_tensor_new (RG_F32, 5, xs);
  g_autoptr (RgTensor) target = rg_tensor_new (RG_F32, 5, xs);
  rg_flow_interpolate (x0, x1, tt, RG_FLOW_SIGMA_MIN, xt);
  rg_flow_target (x0, x1, RG_FLOW_SIGMA_MIN, target);
  g_autoptr (RgTensor) t_tensor = rg_tensor_new_borrowed (RG_F32, 1, &b, tt, NULL, NULL);

  g_autoptr (RgTensor) context = rg_tensor_f32_new (3, b, l, (int64_t) mc->dit.context_width);
  if (!rg_text_encoder_forward_train (te, t->text_tape, ids, len, context, error))
    return FALSE;
  RgDitInput in = { .x = xt, .t = t_tensor, .context = context, .context_len = len };
  g_autoptr (RgTensor) v = rg_tensor_new (RG_F32, 5, xs);
  if (!rg_dit_forward_train (dit, t->dit_tape, &in, v, error))
    return FALSE;

  g_autoptr (RgTensor) dv = rg_tensor_new (RG_F32, 5, xs);
  *loss = rg_flow_loss (v, target, c->motion_loss, weight, dv);
  g_autoptr (RgTensor) dcontext = rg_tensor_zeros (RG_F32, 3, context->shape);
  rg_dit_backward (dit, t->dit_tape, run->grads, dv, dcontext);
  rg_text_encoder_backward (te, t->text_tape, run->grads, dcontext);
  rg_dit_tape_reset (t->dit_tape);
  rg_text_encoder_tape_reset (t->text_tape);
  g_string_printf (run->detail, "epoch %.2f, %d/%" G_GINT64_FORMAT " captions dropped",
                   (double) run->data_position / (double) t->n, dropped, b);
  return TRUE;
}

/* Generate the fixed prompts with the current (EMA) weights. */
static gboolean
sample (RgTrainRun *run, const char *path, GString *summary, GError **error)
{
  const RgTrainConfig *c = run->config;
  const RgModelConfig *mc = rg_model_get_config (run->model);
  int n = G_N_ELEMENTS (sample_prompts);
  RgTensor *clips[G_N_ELEMENTS (sample_prompts)] = { NULL };
  gboolean ok = TRUE;
  for (int i = 0; i < n && ok; i++)
    {
      RgT2VParams p;
      rg_t2v_params_init (&p, mc);
      p.prompt = sample_prompts[i];
      p.seed = 7;
      p.steps = c->sample_steps;
      g_autoptr (RgTensor) latent = rg_t2v_sample (run->model, &p, NULL, NULL, NULL, error);
      g_autoptr (RgTensor) rgb = latent ? rg_t2v_decode (run->model, latent, NULL, NULL, NULL,
                                                         error)
                                        : NULL;
      ok = rgb != NULL;
      if (!ok)
        break;
      /* frames [T, H, W, 3] u8 → [3, T, H, W] in [-1, 1] for the writer */
      int64_t tn = rgb->shape[0], h = rgb->shape[1], w = rgb->shape[2];
      clips[i] = rg_tensor_f32_new (4, (int64_t) 3, tn, h, w);
      const guint8 *src = rgb->data;
      float *dst = rg_tensor_f32 (clips[i]);
      for (int64_t f = 0; f < tn; f++)
        for (int64_t y = 0; y < h; y++)
          for (int64_t x = 0; x < w; x++)
            for (int ch = 0; ch < 3; ch++)
              dst[((ch * tn + f) * h + y) * w + x]
                  = src[((f * h + y) * w + x) * 3 + ch] / 127.5f - 1.0f;
    }
  if (ok)
    {
      ok = rg_train_write_clips (path, clips, n, mc->video.fps, error);
      g_string_append_printf (summary, "\"%s\" | \"%s\"", sample_prompts[0], sample_prompts[1]);
    }
  for (int i = 0; i < n; i++)
    g_clear_pointer (&clips[i], rg_tensor_unref);
  return ok;
}

static void
finalize (RgTrainRun *run)
{
  T2vTask *t = run->task_data;
  if (t == NULL)
    return;
  g_clear_pointer (&t->text_tape, rg_text_encoder_tape_free);
  g_clear_pointer (&t->dit_tape, rg_dit_tape_free);
  g_clear_pointer (&t->latents, rg_tensor_unref);
  g_free (t->scene_seeds);
  g_free (t->order);
  g_free (t->bouncing.index);
  g_free (t->diagonal.index);
  g_free (t->object_cells);
  g_free (t);
  run->task_data = NULL;
}

const RgTrainTaskClass rg_train_t2v_task = { trains, prepare, step, sample, finalize };
