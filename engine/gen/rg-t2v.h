/* rg-t2v.h — the text-to-video pipeline (DESIGN §3.1, §4).
 *
 *   prompt ─ text encoder ─┐  (+ negative/empty prompt for CFG, batch 2)
 *   seed ─ Philox noise x₀ ─┴─ N Euler steps of the DiT along the schedule
 *        ─ TAE decode, tiled in time ─ RGB frames ─ H.264 MP4
 *
 * Each stage is its own call so tests and other pipelines (extend, edit)
 * can stop or start anywhere; rg_t2v_run chains them and reports stages,
 * steps and latent previews through RgGenCallbacks. A seed gives the same
 * latent, frames and file bit for bit on the same build. */
#pragma once

#include <gio/gio.h>

#include "core/rg-time.h"
#include "gen/rg-schedule.h"
#include "models/rg-model.h"

G_BEGIN_DECLS

typedef enum {
  RG_GEN_STAGE_ENCODING_TEXT,
  RG_GEN_STAGE_DENOISING,
  RG_GEN_STAGE_DECODING,
  RG_GEN_STAGE_WRITING,
} RgGenStage;

/* "encoding text", "denoising", "decoding", "writing". */
const char *rg_gen_stage_name (RgGenStage stage);

/* Called on the thread that runs the pipeline; any may be NULL. */
typedef struct {
  void (*stage) (RgGenStage stage, gpointer user_data);
  /* `step` (1-based) of the current stage's n_steps are done: Euler
   * steps while denoising, time tiles while decoding */
  void (*step) (int step, int n_steps, gpointer user_data);
  /* the predicted clean latent of the middle latent frame as RGB24
   * (width × height × 3, tight rows), every preview_every steps and after
   * the last */
  void (*preview) (const guint8 *rgb, int width, int height, gpointer user_data);
  int preview_every;
} RgGenCallbacks;

typedef struct {
  const char     *prompt;
  const char     *negative_prompt; /* NULL or "": the empty prompt */
  guint64         seed;
  int             steps;
  float           guidance;        /* 1 = no guidance (one pass per step) */
  RgScheduleKind  schedule;
  int             frames;
  int             width;
  int             height;
  RgRational      fps;
} RgT2VParams;

/* Movie Gen's defaults scaled to the model's clip: 50 steps (nano: fewer
 * would do, but the schedule is defined for 50), guidance 6, linear-
 * quadratic, the config's frames/size/fps. */
void rg_t2v_params_init (RgT2VParams *params, const RgModelConfig *config);

/* Checks the request against the model (sizes divisible by the TAE and
 * patch factors, latent within the DiT's positional tables, steps ≥ 1,
 * guidance finite and ≥ 0). */
gboolean rg_t2v_params_validate (const RgT2VParams *params, const RgModelConfig *config,
                                 GError **error);

/* Text → denoised latent [1, C, T', H', W']. */
RgTensor *rg_t2v_sample (RgModel *model, const RgT2VParams *params,
                         const RgGenCallbacks *callbacks, gpointer user_data,
                         GCancellable *cancellable, GError **error);

/* Latent [1, C, T', H', W'] on the DiT's normalised scale (undone here
 * with tae.latent_mean/std) → frames [T, H, W, 3] u8 (RGB24, pixels from
 * the TAE's [-1, 1]), decoding in overlapping time tiles of the model's
 * trained clip length (rg-tiled-decode.h); callbacks may be NULL. */
RgTensor *rg_t2v_decode (RgModel *model, const RgTensor *latent, const RgGenCallbacks *callbacks,
                         gpointer user_data, GCancellable *cancellable, GError **error);

/* Frames [T, H, W, 3] u8 → an H.264/yuv420p file at `fps` (container from
 * the extension). Nothing is left at `path` on failure or cancellation. */
gboolean rg_t2v_write (const RgTensor *frames, RgRational fps, const char *path,
                       GCancellable *cancellable, GError **error);

/* The whole pipeline. */
gboolean rg_t2v_run (RgModel *model, const RgT2VParams *params, const char *output_path,
                     const RgGenCallbacks *callbacks, gpointer user_data,
                     GCancellable *cancellable, GError **error);

G_END_DECLS
