/* rg-trainer.h — `reelgen train`: the training loop for the nano models.
 *
 * A run trains one part of the model family on ShapesWorld clips drawn
 * from the train split:
 *   tae — the temporal autoencoder: reconstruction (MSE + λ₁·L1) of random
 *         crops, a small KL term on the posterior, and Movie Gen's
 *         outlier-penalty loss (r = 3) on the latent means;
 *   t2v — the text encoder and the DiT together, on latents of a frozen
 *         TAE, with the flow-matching loss at logit-normal t and the caption
 *         dropped (empty prompt) for 10 % of samples so CFG has an
 *         unconditional model to extrapolate from.
 * Every step: zero gradients, forward + backward over the batch, global-norm
 * clipping, warmup + cosine LR, AdamW, EMA of the weights.
 *
 * Everything random — scenes, crops, posterior noise, t, flow noise, text
 * dropout — is a pure function of (seed, sample position or step) through
 * Philox streams, so a checkpoint holds no RNG state beyond the data
 * position, and a run stopped and resumed gives the same losses as one
 * that never stopped (with the same thread count: OpenBLAS's GEMMs round
 * differently per thread count).
 *
 * The output directory holds: config.json (the run's config, refused on
 * resume if it changed), train.csv (step, loss, lr, grad_norm, it/s),
 * checkpoints/ (the last few, rg-checkpoint.h), samples/ (periodic clips
 * from the EMA weights: TAE reconstructions beside their source, or
 * generations for fixed prompts), and at the end model.safetensors (the EMA
 * weights in f32; `reelgen train export` writes any dtype). */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "core/rg-dtype.h"
#include "models/rg-model-config.h"

G_BEGIN_DECLS

typedef enum {
  RG_TRAIN_TAE,
  RG_TRAIN_T2V,
} RgTrainTask;

typedef struct {
  RgTrainTask   task;
  RgModelConfig model;          /* "model": a preset name or a config object */
  uint64_t      seed;           /* scenes, init and noise all derive from it */
  int           batch;          /* samples per step */
  /* optimisation */
  double        lr, min_lr;
  int64_t       warmup;
  double        weight_decay, clip_grad, ema_decay;
  int64_t       checkpoint_every, sample_every;
  int           keep_checkpoints;
  char          init_path[1024]; /* "init": start from these weights ("" = seeded init) */
  double        bounce_clips;    /* the share of samples taken from clips with a bounce */
  double        diagonal_clips;  /* t2v: the share taken from clips with a diagonal motion */
  /* tae */
  int           crop_frames, crop_size; /* random crops; 0: whole clips */
  double        shape_crops;     /* the share of crops centred (±¼ crop) on a shape */
  double        l1_weight, kl_weight, opl_weight;
  int           freeze_encoder;  /* 1: train the decoder alone (its latent space is fixed) */
  double        latent_noise;    /* max extra noise on z, in units of the latents' spread */
  /* t2v */
  char          tae_path[1024];  /* TAE weights (tae.*) from a tae run */
  double        text_dropout;
  int           dataset_clips;   /* clips encoded once and cycled through */
  double        t_mean, t_std;   /* logit-normal t */
  double        motion_loss;     /* weight of the error's change over the frames (rg_flow_loss) */
  double        object_loss;     /* extra weight of the latent cells the shapes pass through,
                                    each shape's share spread over its path */
  int           sample_steps;    /* Euler steps of the periodic samples */
} RgTrainConfig;

/* Defaults for a task (the nano model). */
void     rg_train_config_init (RgTrainConfig *config, RgTrainTask task);
/* Parse a JSON config file over the task's defaults; unknown keys and
 * out-of-range values are refused with an error naming them. */
gboolean rg_train_config_load (const char *path, RgTrainConfig *config, GError **error);
/* Canonical JSON of every setting (the run's identity on resume). */
char    *rg_train_config_to_json (const RgTrainConfig *config);
const char *rg_train_task_name (RgTrainTask task);
gboolean rg_train_task_from_name (const char *name, RgTrainTask *task, GError **error);

typedef struct {
  int64_t step, total;
  double  loss;       /* this step's loss */
  double  it_per_s;   /* steps per second, smoothed */
  double  eta_s;
  const char *detail; /* the loss's parts, e.g. "mse 0.0123 kl 1.2 opl 0" */
} RgTrainProgress;

typedef struct {
  void (*progress) (const RgTrainProgress *p, gpointer user_data);
  /* Milestones: resumed, checkpoint written, sample written, done. */
  void (*message) (const char *line, gpointer user_data);
} RgTrainCallbacks;

/* Train `steps` steps in total (a resumed run continues to that count)
 * into out_dir. A fresh run refuses a directory that already holds a
 * checkpoint (pass resume). Cancelling writes a checkpoint first, then
 * fails with RG_ERROR_CANCELLED. */
gboolean rg_train_run (const RgTrainConfig *config, const char *out_dir, int64_t steps,
                       gboolean resume, const RgTrainCallbacks *callbacks, gpointer user_data,
                       GCancellable *cancellable, GError **error);

G_END_DECLS
