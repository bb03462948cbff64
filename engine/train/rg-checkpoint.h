/* rg-checkpoint.h — training checkpoints with exact resume.
 *
 * A checkpoint is everything a training run needs to continue as if it had
 * never stopped: the weights, the EMA shadows, AdamW's moments and step, the
 * learning-rate schedule (a pure function of the step, saved to check it is
 * unchanged), the position of every random stream and of the data loader,
 * and the run's config text. Resuming from it gives bit-identical losses
 * and weights to an uninterrupted run.
 *
 * On disk: DIR/step-NNNNNNNN.safetensors, one per save, and DIR/latest, a
 * one-line file naming the newest. Tensors are stored f32 under
 * "param/NAME", "adam_m/NAME", "adam_v/NAME" and "ema/NAME"; scalars live in
 * __metadata__ (doubles printed with 17 significant digits, so they
 * round-trip exactly), with a SHA-256 per tensor so that damaged data is
 * refused rather than trained on. Both files are replaced atomically
 * (written beside, then renamed): a crash mid-save leaves the previous
 * checkpoint in force.
 *
 * Loading validates everything before it changes anything: format and
 * version, config text, optimizer, EMA and schedule settings, the set of
 * parameter names and every shape, the random streams, and the checksums.
 * Any mismatch is a GError naming the file and the problem, and the run's
 * state is left untouched. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/rg-rng.h"
#include "train/rg-ema.h"
#include "train/rg-lr.h"
#include "train/rg-optim.h"

G_BEGIN_DECLS

#define RG_CHECKPOINT_FORMAT_VERSION 1

/* A named random stream of the run (noise, t sampling, text dropout …).
 * Counter-based users keep their next offset in rng->index. Names are
 * [A-Za-z0-9_-]. */
typedef struct
{
  const char *name;
  RgRng *rng;
} RgCheckpointRng;

/* The run as the checkpoint sees it. Saving reads it; loading validates
 * against it and then writes weights, moments, shadows, steps, the random
 * streams and data_position back into it. */
typedef struct
{
  const char *config;     /* canonical config text; must match on resume */
  RgAdamW *optim;         /* required: weights, m, v, step */
  RgEma *ema;             /* optional */
  const RgLrSchedule *lr; /* optional */
  RgCheckpointRng *rngs;
  guint n_rngs;
  uint64_t data_position; /* next sample the data loader hands out */
} RgTrainState;

/* Write a checkpoint for the optimizer's current step into dir (created if
 * needed), point DIR/latest at it, then delete older step files beyond the
 * newest `keep` (0 keeps all). Returns the new file's path. */
char *rg_checkpoint_save (const char *dir, const RgTrainState *state, guint keep, GError **error);

/* Path of the checkpoint DIR/latest names; RG_ERROR_NOT_FOUND when the
 * directory has no checkpoint. */
char *rg_checkpoint_latest (const char *dir, GError **error);

/* Validate the checkpoint at path against state, then restore state from
 * it. On failure state is unchanged. */
gboolean rg_checkpoint_load (const char *path, RgTrainState *state, GError **error);

/* rg_checkpoint_latest + rg_checkpoint_load. */
gboolean rg_checkpoint_resume (const char *dir, RgTrainState *state, GError **error);

/* Write the weights a sampler loads, as a plain model file: every
 * parameter under its own name, taken from its EMA shadow when the state
 * tracks one (sampling uses EMA weights) and from the raw weight otherwise,
 * stored as `dtype` (RG_BF16 for shipped models; RG_F32 keeps them exact),
 * with `metadata` (char * → char *, may be NULL: e.g. the model config the
 * loader needs) in __metadata__. Replaced atomically like a checkpoint. */
gboolean rg_checkpoint_export_weights (const RgTrainState *state, const char *path, RgDType dtype,
                                       GHashTable *metadata, GError **error);

G_END_DECLS
