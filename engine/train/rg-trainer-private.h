/* rg-trainer-private.h — what the training loop (rg-trainer.c) shares with
 * its tasks (rg-train-tae.c, rg-train-t2v.c). */
#pragma once

#include "models/rg-model.h"
#include "nn/rg-grads.h"
#include "train/rg-ema.h"
#include "train/rg-lr.h"
#include "train/rg-optim.h"
#include "train/rg-shapes.h"
#include "train/rg-train-data.h"
#include "train/rg-trainer.h"

G_BEGIN_DECLS

typedef struct _RgTrainRun RgTrainRun;

struct _RgTrainRun {
  const RgTrainConfig *config;
  RgModel            *model;
  RgGrads            *grads;
  RgAdamW            *optim;
  RgEma              *ema;
  RgShapesConfig      world;         /* the clips' size and split */
  uint64_t            data_position; /* next training sample */
  int64_t             step;          /* updates done */
  char               *out_dir;
  GString            *detail;        /* the step's loss parts, for progress */
  const RgTrainCallbacks *callbacks;
  gpointer            user_data;
  gpointer            task_data;
};

typedef struct {
  /* Whether this run trains the parameter called `name`. */
  gboolean (*trains) (const RgTrainConfig *config, const char *name);
  /* Before the first step (after weights are initialised or resumed):
   * load frozen parts, build datasets. */
  gboolean (*prepare) (RgTrainRun *run, GCancellable *cancellable, GError **error);
  /* Forward + backward over one batch into run->grads (already zeroed);
   * returns the loss in *loss and its parts in run->detail. */
  gboolean (*step) (RgTrainRun *run, double *loss, GError **error);
  /* A sample clip from the current (EMA) weights at `path` (.mp4); may add
   * a line to *summary (e.g. a validation PSNR). */
  gboolean (*sample) (RgTrainRun *run, const char *path, GString *summary, GError **error);
  void (*finalize) (RgTrainRun *run);
} RgTrainTaskClass;

extern const RgTrainTaskClass rg_train_tae_task;
extern const RgTrainTaskClass rg_train_t2v_task;

/* A milestone line through the run's callbacks. */
void rg_train_message (RgTrainRun *run, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* Write T frames [3, T, H, W] in [-1, 1] (one or several clips side by
 * side: `clips` of them, each [3, T, H, W]) as an H.264 MP4. */
gboolean rg_train_write_clips (const char *path, RgTensor **clips, int n, int fps,
                               GError **error);

G_END_DECLS
