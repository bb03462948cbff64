/* rg-grade.h — ShapesBench graders: what a clip shows, from its pixels alone.
 *
 * The detectors are written for ShapesWorld (rg-shapes.h) and validated on
 * its ground truth (tests/train/test-grade.c, ≥ 98% per detector), so that a
 * bench score measures the model and not the grader. They know nothing of a
 * scene but the pixels; where a generation is graded against its prompt, the
 * prompt's intent comes from rg_grade_parse_prompt.
 *
 * How a video is read:
 *   backdrop  the outer columns are backdrop on every frame (world rule 1);
 *             their per-row median is matched against every backdrop;
 *   objects   pixels far from their row's backdrop, 8-connected per frame;
 *             colour from the component's interior, coverage of each pixel by
 *             projecting it on the (backdrop → object colour) segment;
 *   shape     from the coverage mask: a hole means ring, low solidity
 *             (area / hull area) means star, otherwise the area over the
 *             circumscribed disc separates circle (~1), square (2/π) and
 *             triangle (~0.41); voted over frames;
 *   count     the most frequent number of components per frame;
 *   motion    components tracked over frames by position and colour; a turn
 *             in height with a 3 px leg on each side within 4 frames is a
 *             bounce (a contact or an apex), the area trend is
 *             growing/shrinking, net centroid displacement gives the
 *             direction (and a diagonal's heading), a changing mask with a
 *             fixed centroid is rotation. */
#pragma once

#include <glib.h>

#include "core/rg-tensor.h"
#include "core/rg-time.h"
#include "train/rg-shapes.h"

G_BEGIN_DECLS

#define RG_GRADE_MAX_OBJECTS 8

typedef struct {
  RgColour    colour;
  RgShapeKind kind;
  RgMotion    motion;
  RgHeading   heading;  /* diagonal: which way; NONE otherwise */
  float       x, y;     /* centroid on the first frame the object is seen, px */
  float       area;     /* mean covered area, px² */
  int         frames;   /* frames the object was seen in */
  /* The shape features of its largest frame, for diagnostics. */
  float       solidity, compactness, hole_fraction;
} RgGradeObject;

typedef struct {
  RgBackdrop    backdrop;
  float         backdrop_rms; /* RGB distance (0–255) to the matched backdrop */
  int           n_objects;    /* the most frequent per-frame component count */
  int           n_tracks;     /* objects below, largest first */
  RgGradeObject objects[RG_GRADE_MAX_OBJECTS];
} RgGradeReport;

/* Grade a [3, T, H, W] (or [1, 3, T, H, W]) f32 video in [-1, 1]. Fails with
 * RG_ERROR_INVALID_ARGUMENT for other shapes or frames under 32 px. */
gboolean rg_grade_video (RgTensor *video, RgGradeReport *report, GError **error);

/* Personalization: how much the video's largest object looks like the
 * subject, in [0, 1]: 0.6 × the share of its interior in the subject's two
 * pattern colours (halved unless both show) + 0.4 × the share of frames,
 * by area, whose shape class is the subject's kind. */
gboolean rg_grade_subject (RgTensor *video, const RgShapesSubject *subject, double *similarity,
                           GError **error);

/* --- reconstruction metrics (rg-grade-metrics.c) ---
 * Both take two videos of the same shape in [-1, 1] and measure them on the
 * [0, 1] scale. PSNR is +∞ for identical videos. SSIM is the mean over
 * channels and frames of the standard single-scale SSIM (Gaussian window
 * 11×11, σ = 1.5, K1 = 0.01, K2 = 0.03, valid positions only). */
gboolean rg_grade_psnr (RgTensor *a, RgTensor *b, double *psnr, GError **error);
gboolean rg_grade_ssim (RgTensor *a, RgTensor *b, double *ssim, GError **error);
/* How much a video in [-1, 1] changes from frame to frame: the mean
 * absolute difference of consecutive frames on the [0, 1] scale, over
 * every pixel and channel (the last three dimensions are T, H, W). A
 * ShapesWorld scene, where only its few shapes move, stays near 0.01;
 * a flickering clip is many times that. 0 for a single frame. */
double   rg_grade_frame_change (RgTensor *video);

/* --- audio onsets (rg-grade-metrics.c) --- */
/* Onset times of clicks in a mono f32 waveform at `rate` Hz: where the
 * high-passed envelope jumps above a threshold set from the clip's own
 * level, at most one per 30 ms. Returns a GArray of RgTime. */
GArray *rg_grade_audio_onsets (RgTensor *audio, int rate);

typedef struct {
  int    n_events, n_onsets, matched;
  double precision, recall;     /* matched / onsets, matched / events (1 when none) */
  double mean_error_ms, max_error_ms; /* over matched pairs */
} RgGradeOnsetScore;

/* Match expected events to detected onsets (each used once, in time order,
 * within ± tolerance). */
void rg_grade_onset_alignment (const RgTime *events, int n_events, const RgTime *onsets,
                               int n_onsets, RgTime tolerance, RgGradeOnsetScore *score);

/* --- prompts (rg-grade-prompt.c) --- */
#define RG_GRADE_UNKNOWN (-1)

typedef struct {
  int count;  /* 1 … 3 */
  int colour; /* RgColour or RG_GRADE_UNKNOWN */
  int kind;   /* RgShapeKind */
  int size;   /* RgShapeSize or RG_GRADE_UNKNOWN */
  int motion; /* RgMotion or RG_GRADE_UNKNOWN */
  RgHeading heading; /* a diagonal's named heading, or NONE */
} RgPromptGroup;

typedef struct {
  int           n_groups;
  RgPromptGroup groups[RG_SHAPES_MAX_SHAPES];
  gboolean      has_backdrop;
  RgBackdrop    backdrop;
  double        fps; /* 0 when the prompt gives none */
} RgPromptIntent;

/* What a prompt asks for: shapes with their count, colour, size and motion,
 * the backdrop and the frame rate ("FPS-8"). Fails with
 * RG_ERROR_INVALID_ARGUMENT when it names no shape. */
gboolean rg_grade_parse_prompt (const char *prompt, RgPromptIntent *intent, GError **error);

/* A generation judged against its prompt: 1 right, 0 wrong, −1 not asked.
 * A diagonal motion is right when its heading is the one the prompt names
 * (any heading when it names none). */
typedef struct {
  int colour, shape, count, motion, backdrop;
} RgGradeVerdict;

void rg_grade_judge (const RgPromptIntent *intent, const RgGradeReport *report,
                     RgGradeVerdict *verdict);
/* The detected object a prompt group is judged on: the one that resembles
 * it most (colour first, then shape; objects are sorted largest first), or
 * NULL when nothing was detected. */
const RgGradeObject *rg_grade_match_group (const RgGradeReport *report,
                                           const RgPromptGroup *want);

G_END_DECLS
