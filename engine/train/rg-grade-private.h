/* rg-grade-private.h — what the grader files share: a video being read.
 *
 * rg_grade_open checks a video, estimates its backdrop and segments every
 * frame into components with coverage, colour and shape class
 * (rg-grade-segment.c); rg-grade-video.c tracks them and names motions. */
#pragma once

#include <math.h>

#include "train/rg-grade.h"

G_BEGIN_DECLS

#define RG_GRADE_MAX_COMPS 16 /* per frame; more is noise and is cut */

typedef struct {
  float       cx, cy, area;
  RgColour    colour;
  RgShapeKind kind;
  float       solidity, compactness, hole_fraction;
  int         x0, y0, x1, y1; /* bbox, inclusive */
} RgGradeComp;

typedef struct {
  int          T, H, W;
  float        unit;     /* px per 64-px design unit */
  const float *v;        /* [3, T, H, W] in [-1, 1] */
  float       *bg;       /* [H][3], 0–255 */
  /* per frame scratch */
  float       *cov;      /* [T][H][W] coverage of the pixel's component */
  gint16      *label;    /* [T][H][W] component index or −1 */
  int         *n_comps;  /* [T] */
  RgGradeComp        *comps;    /* [T][RG_GRADE_MAX_COMPS] */
  /* Known colours of a patterned object (a subject): a pixel's coverage is
   * its best fit to the object's mean colour or to any of these. */
  int          n_inks;
  float        inks[2][3];
} RgGrader;

static inline void
pixel_rgb (const RgGrader *g, int t, int y, int x, float rgb[3])
{
  int64_t plane = (int64_t) g->T * g->H * g->W;
  int64_t i = ((int64_t) t * g->H + y) * g->W + x;
  for (int c = 0; c < 3; c++)
    {
      float v = g->v[c * plane + i];
      /* NaN or ±∞ from a broken generation reads as black, not as garbage. */
      rgb[c] = isfinite (v) ? (CLAMP (v, -1.f, 1.f) + 1.f) * 127.5f : 0.f;
    }
}

/* Check the video, estimate the backdrop and segment every frame; with a
 * subject, its pattern colours count as the object's (coverage of blends).
 * On success the caller ends with rg_grade_close. */
gboolean rg_grade_open (RgGrader *g, RgTensor *video, const RgShapesSubject *subject,
                        RgTensor **packed, GError **error);
void     rg_grade_close (RgGrader *g, RgTensor *packed);
/* The backdrop nearest to the estimated per-row backdrop. */
void     rg_grade_classify_backdrop (const RgGrader *g, RgGradeReport *report);

G_END_DECLS
