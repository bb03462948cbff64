/* rg-shapesbench.h — ShapesBench: does a model draw what the prompt asks?
 *
 * For each prompt a clip is generated in memory with the t2v pipeline
 * (rg_t2v_sample, then rg_t2v_decode: no file unless one is asked for) and
 * graded by the ShapesWorld detectors (rg-grade.h) against the prompt's
 * parsed intent: object colour, shape class, object count, motion and
 * backdrop. The detectors are validated on ground truth first (≥ 98%,
 * tests/train/test-grade.c), so the score measures the model, not the grader.
 *
 * The default prompts are captions of ShapesWorld scenes of the chosen split
 * (held-out by default: colour×shape×motion triples training never sees),
 * one scene per seed from `seed` on. Separately, the model's TAE is measured
 * on held-out ground-truth scenes: encoded (the latent mean, no sampling),
 * decoded and compared with the original by PSNR and SSIM.
 *
 * A clip may also be given as a file instead of being generated (`clips`):
 * the same grading then judges any video against its prompt. With
 * `tae_roundtrip` each default prompt's own scene is encoded and decoded by
 * the model's TAE and graded: the score of a DiT that sampled its training
 * latents perfectly, so a table shows how much of a gap is the TAE's. */
#pragma once

#include <gio/gio.h>

#include "gen/rg-schedule.h"
#include "gen/rg-t2v.h"
#include "models/rg-model.h"
#include "train/rg-grade.h"
#include "train/rg-shapes.h"

G_BEGIN_DECLS

typedef struct
{
  RgShapesSplit split;        /* where the default prompts come from */
  int n_prompts;              /* default prompts, used when prompts == NULL */
  const char *const *prompts; /* NULL-terminated, or NULL */
  const char *const *clips;   /* NULL, or one video file per prompt to grade
                               * instead of generating */
  guint64 seed;               /* first scene seed and first noise seed */
  int steps;                  /* Euler steps */
  RgScheduleKind schedule;    /* where they fall (the pipeline's default) */
  float guidance;
  int n_recon;          /* held-out scenes for the TAE metrics; 0 skips */
  gboolean tae_roundtrip; /* grade the TAE's reconstruction of each default
                           * prompt's own scene instead of a generation: the
                           * ceiling the TAE sets for any DiT */
  const char *keep_dir; /* NULL, or where each generated clip is kept as MP4 */
} RgShapesBenchParams;

/* 16 held-out prompts, seed 0, 50 steps on the linear-quadratic schedule,
 * guidance 6, 8 TAE scenes. */
void rg_shapesbench_params_init (RgShapesBenchParams *params);

/* The model graded: a checkpoint, or (with no path and none shipped) the
 * randomly initialised nano-t2v stand-in, which the bench labels untrained. */
typedef struct
{
  RgModel *model;
  char *path;           /* NULL for the stand-in */
  char *tae_path;       /* the file its TAE came from, or NULL (the model's own) */
  char *description;    /* "nano-t2v from FILE" / "nano-t2v, random init …" */
  gboolean random_init; /* the stand-in: untrained weights */
} RgShapesBenchModel;

/* path NULL: the shipped resources/models/nano-t2v.safetensors when it
 * exists, otherwise the stand-in (seed 0, as `reelgen generate` uses).
 * tae_path, if not NULL: the tae.* weights of that file (a TAE part file
 * such as nano-tae, or a `reelgen train tae` run's model.safetensors)
 * replace the model's, to grade a TAE (--recon, --tae-roundtrip) without
 * converting it into a whole model first. */
gboolean rg_shapesbench_model_load (const char *path, const char *tae_path,
                                    RgShapesBenchModel *out, GError **error);
void rg_shapesbench_model_clear (RgShapesBenchModel *m);

typedef struct
{
  char *prompt;
  char *clip;     /* the file graded or kept, or NULL */
  guint64 seed;   /* noise seed of the generation */
  double seconds; /* generation (or loading) time */
  double frame_change;       /* rg_grade_frame_change of the clip */
  double truth_frame_change; /* of the prompt's own scene; NaN for given prompts */
  RgPromptIntent asked;      /* what the prompt asks for */
  RgGradeReport report;
  RgGradeVerdict verdict;
} RgShapesBenchItem;

typedef struct
{
  int right, asked; /* a prompt that does not ask (verdict −1) is not counted */
} RgShapesBenchScore;

/* One asked class (a shape kind, or a motion) over every prompt group that
 * asked for it: how often the object the group was judged on showed it,
 * and what the detectors saw there instead. A total hides which classes a
 * model never draws; this shows them (and whether the TAE's round trip can
 * show them at all). */
#define RG_SHAPESBENCH_MAX_CLASSES RG_MOTION_N
typedef struct
{
  int right, asked;
  int seen[RG_SHAPESBENCH_MAX_CLASSES]; /* detected class of the matched object */
  int none;                             /* groups with no object detected */
} RgShapesBenchClass;

typedef struct
{
  RgShapesBenchParams params; /* as run; prompts, clips and keep_dir not kept */
  gboolean default_prompts;   /* captions of the split's scenes */
  gboolean from_files;        /* the clips were given, not generated */
  gboolean tae_roundtrip;     /* the clips are TAE reconstructions of the scenes */
  GPtrArray *items;           /* RgShapesBenchItem * */
  RgShapesBenchScore colour, shape, count, motion, backdrop;
  RgShapesBenchClass by_shape[RG_SHAPE_N_KINDS], by_motion[RG_MOTION_N];
  int n_recon;
  double psnr_mean, psnr_min, ssim_mean;
  double stability_psnr; /* decode(z + 10 % noise) against decode(z), dB */
  /* mean frame-to-frame change of the clips, and of their scenes (NaN for
   * given prompts): a clip that shimmers where its scene holds still
   * shows here whatever its detectors say */
  double frame_change, truth_frame_change;
  double seconds;
} RgShapesBenchResult;

void rg_shapesbench_result_clear (RgShapesBenchResult *result);
/* right / asked, or NaN when no prompt asked. */
double rg_shapesbench_score_accuracy (const RgShapesBenchScore *score);

/* Progress: `what` ("generating", "grading", "tae") item `done` of `total`
 * has finished (done = 0 when the phase starts). */
typedef void (*RgShapesBenchProgress) (const char *what, int done, int total, const char *detail,
                                       gpointer user_data);

/* The whole bench. gen_callbacks (may be NULL) are passed to the pipeline
 * for step progress; cancellation stops at the next step or clip. */
gboolean rg_shapesbench_run (const RgShapesBenchModel *model, const RgShapesBenchParams *params,
                             RgShapesBenchProgress progress, const RgGenCallbacks *gen_callbacks,
                             gpointer user_data, GCancellable *cancellable,
                             RgShapesBenchResult *result, GError **error);

/* --- the pieces, also used on their own (tests, other benches) --- */

/* Captions of the scenes of seeds seed … seed + n − 1 under config (caption
 * variant = the seed); NULL-terminated, g_strfreev. */
GStrv rg_shapesbench_default_prompts (const RgShapesConfig *config, guint64 seed, int n,
                                      GError **error);

/* Grade one [3, T, H, W] video in [-1, 1] against a prompt: detect, then
 * judge against the parsed intent (stored in *intent unless NULL). Fails
 * when the prompt names no shape. */
gboolean rg_shapesbench_grade (RgTensor *video, const char *prompt, RgPromptIntent *intent,
                               RgGradeReport *report, RgGradeVerdict *verdict, GError **error);
/* Count a graded clip into the result's scores and per-class tables. */
void rg_shapesbench_tally (RgShapesBenchResult *result, const RgPromptIntent *intent,
                           const RgGradeReport *report, const RgGradeVerdict *verdict);

/* TAE reconstruction of held-out scenes seed … seed + n − 1 at the model's
 * clip size: the mean PSNR (dB) and SSIM, and the worst PSNR; and the
 * decoder's stability, the mean PSNR of decoding each latent with noise of
 * 10 % of its spread against decoding it clean (low: generated clips
 * flicker). */
gboolean rg_shapesbench_tae (RgModel *model, guint64 seed, int n, double *psnr_mean,
                             double *psnr_min, double *ssim_mean, double *stability_psnr,
                             GCancellable *cancellable, GError **error);

/* --- clips and reports (rg-shapesbench-io.c) --- */

/* Frames [T, H, W, 3] u8 (the pipeline's output) → [3, T, H, W] f32 in [-1, 1]. */
RgTensor *rg_shapesbench_frames_to_video (const RgTensor *frames);
/* A video file decoded to [3, T, H, W] f32 in [-1, 1]; at most
 * RG_SHAPES_MAX_FRAMES frames are read, and frames over 1024² pixels are
 * refused (RG_ERROR_UNSUPPORTED). */
RgTensor *rg_shapesbench_load_clip (const char *path, GError **error);

/* The table: one row per attribute (right/asked, accuracy), the TAE means,
 * and the model graded. */
char *rg_shapesbench_result_table (const RgShapesBenchResult *result,
                                   const RgShapesBenchModel *model);
/* Everything as JSON (NaN and ∞ as null). */
char *rg_shapesbench_result_to_json (const RgShapesBenchResult *result,
                                     const RgShapesBenchModel *model);

G_END_DECLS
