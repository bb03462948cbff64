/* rg-grade-video.c — objects tracked over frames, their motion, and the
 * reports built from them (the method is described in rg-grade.h). */
#include "train/rg-grade-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- tracks --- */

typedef struct {
  int   comp[RG_SHAPES_MAX_FRAMES]; /* component per frame, −1 when unseen */
  int   first, last, seen;
  float px, py, vx, vy;             /* last position and velocity */
} Track;

static float
rotation_change (const RgGrader *g, const Track *tr)
{
  /* 1 − IoU of the coverage against the first frame's, worst over frames;
   * only meaningful while the centroid stays put. */
  int64_t plane = (int64_t) g->H * g->W;
  const float *c0 = g->cov + tr->first * plane;
  const gint16 *l0 = g->label + tr->first * plane;
  float worst = 0.f;
  for (int t = tr->first + 1; t <= tr->last; t++)
    {
      if (tr->comp[t] < 0)
        continue;
      const float *ct = g->cov + t * plane;
      const gint16 *lt = g->label + t * plane;
      double inter = 0, uni = 0;
      for (int64_t i = 0; i < plane; i++)
        {
          float a = l0[i] == tr->comp[tr->first] ? c0[i] : 0.f;
          float b = lt[i] == tr->comp[t] ? ct[i] : 0.f;
          inter += MIN (a, b);
          uni += MAX (a, b);
        }
      if (uni > 0)
        worst = MAX (worst, (float) (1.0 - inter / uni));
    }
  return worst;
}

/* The bounce rule's legs: in px at 64 px, and within how many frames. */
#define BOUNCE_LEG    3.f
#define BOUNCE_WINDOW 4

static RgMotion
classify_motion (const RgGrader *g, const Track *tr, RgHeading *heading)
{
  *heading = RG_HEADING_NONE;
  float u = g->unit;
  int idx[RG_SHAPES_MAX_FRAMES], n = 0;
  for (int t = tr->first; t <= tr->last; t++)
    if (tr->comp[t] >= 0)
      idx[n++] = t;
  if (n < 2)
    return RG_MOTION_STILL;
#define C(k) (&g->comps[(int64_t) idx[k] * RG_GRADE_MAX_COMPS + tr->comp[idx[k]]])
  /* A bounce: the height turns, with a leg of at least 3 px on each side
   * within 4 frames — a fall onto the floor and the rise after it, or a
   * rise to the apex and the fall after it. Only a bounce turns in
   * ShapesWorld; the window lets a contact that a decoder rounds off
   * count as one. */
  for (int k = 1; k + 1 < n; k++)
    {
      float lo_before = C (k)->cy, hi_before = C (k)->cy, lo_after = C (k)->cy, hi_after = C (k)->cy;
      for (int j = MAX (0, k - BOUNCE_WINDOW); j < k; j++)
        lo_before = MIN (lo_before, C (j)->cy), hi_before = MAX (hi_before, C (j)->cy);
      for (int j = k + 1; j < n && j <= k + BOUNCE_WINDOW; j++)
        lo_after = MIN (lo_after, C (j)->cy), hi_after = MAX (hi_after, C (j)->cy);
      float leg = BOUNCE_LEG * u, y = C (k)->cy;
      if ((y - lo_before >= leg && y - lo_after >= leg)
          || (hi_before - y >= leg && hi_after - y >= leg))
        return RG_MOTION_BOUNCING;
    }
  int e = MIN (2, n / 2);
  float a0 = 0, a1 = 0;
  for (int k = 0; k < e; k++)
    a0 += C (k)->area, a1 += C (n - 1 - k)->area;
  if (a1 > 1.5f * a0)
    return RG_MOTION_GROWING;
  if (a0 > 1.5f * a1)
    return RG_MOTION_SHRINKING;
  float dx = C (n - 1)->cx - C (0)->cx, dy = C (n - 1)->cy - C (0)->cy;
#undef C
  if (hypotf (dx, dy) > 4.f * u)
    {
      if (fabsf (dy) < 0.4f * fabsf (dx))
        return dx < 0 ? RG_MOTION_LEFT : RG_MOTION_RIGHT;
      if (fabsf (dx) < 0.4f * fabsf (dy))
        return dy < 0 ? RG_MOTION_UP : RG_MOTION_DOWN;
      *heading = rg_heading_of (dx, dy);
      return RG_MOTION_DIAGONAL;
    }
  if (rotation_change (g, tr) > 0.12f)
    return RG_MOTION_ROTATING;
  return RG_MOTION_STILL;
}

static int
build_tracks (RgGrader *g, Track *tracks, int max_tracks)
{
  int n_tracks = 0;
  for (int t = 0; t < g->T; t++)
    {
      const RgGradeComp *comps = g->comps + (int64_t) t * RG_GRADE_MAX_COMPS;
      int nc = g->n_comps[t];
      gboolean used_c[RG_GRADE_MAX_COMPS] = { 0 }, used_t[64] = { 0 };
      /* Greedy matching by cost: distance to the last or the predicted
       * position, plus a penalty for a colour change. */
      for (;;)
        {
          float best = 24.f * g->unit;
          int bt = -1, bc = -1;
          for (int k = 0; k < n_tracks; k++)
            {
              if (used_t[k])
                continue;
              const Track *tr = &tracks[k];
              const RgGradeComp *lastc = &g->comps[(int64_t) tr->last * RG_GRADE_MAX_COMPS + tr->comp[tr->last]];
              for (int c = 0; c < nc; c++)
                {
                  if (used_c[c])
                    continue;
                  float d1 = hypotf (comps[c].cx - tr->px, comps[c].cy - tr->py);
                  float d2 = hypotf (comps[c].cx - tr->px - tr->vx, comps[c].cy - tr->py - tr->vy);
                  float cost = MIN (d1, d2) + (comps[c].colour != lastc->colour ? 8.f * g->unit : 0.f);
                  if (cost < best)
                    best = cost, bt = k, bc = c;
                }
            }
          if (bt < 0)
            break;
          Track *tr = &tracks[bt];
          used_t[bt] = used_c[bc] = TRUE;
          tr->comp[t] = bc;
          tr->vx = (comps[bc].cx - tr->px) / (t - tr->last);
          tr->vy = (comps[bc].cy - tr->py) / (t - tr->last);
          tr->px = comps[bc].cx, tr->py = comps[bc].cy;
          tr->last = t;
          tr->seen++;
        }
      for (int c = 0; c < nc && n_tracks < max_tracks; c++)
        if (!used_c[c])
          {
            Track *tr = &tracks[n_tracks++];
            for (int k = 0; k < RG_SHAPES_MAX_FRAMES; k++)
              tr->comp[k] = -1;
            tr->comp[t] = c;
            tr->first = tr->last = t;
            tr->seen = 1;
            tr->px = comps[c].cx, tr->py = comps[c].cy;
            tr->vx = tr->vy = 0.f;
          }
    }
  return n_tracks;
}

static void
summarize_track (const RgGrader *g, const Track *tr, RgGradeObject *obj)
{
  float colour_votes[RG_COLOUR_N] = { 0 }, kind_votes[RG_SHAPE_N_KINDS] = { 0 }, area = 0.f;
  const RgGradeComp *largest = NULL, *first = NULL;
  for (int t = tr->first; t <= tr->last; t++)
    {
      if (tr->comp[t] < 0)
        continue;
      const RgGradeComp *c = &g->comps[(int64_t) t * RG_GRADE_MAX_COMPS + tr->comp[t]];
      if (!first)
        first = c;
      /* Votes weighted by area: bigger views are more reliable. */
      colour_votes[c->colour] += c->area;
      kind_votes[c->kind] += c->area;
      area += c->area;
      if (!largest || c->area > largest->area)
        largest = c;
    }
  int bc = 0, bk = 0;
  for (int k = 1; k < RG_COLOUR_N; k++)
    if (colour_votes[k] > colour_votes[bc])
      bc = k;
  for (int k = 1; k < RG_SHAPE_N_KINDS; k++)
    if (kind_votes[k] > kind_votes[bk])
      bk = k;
  obj->colour = bc;
  obj->kind = bk;
  obj->motion = classify_motion (g, tr, &obj->heading);
  obj->x = first->cx;
  obj->y = first->cy;
  obj->frames = tr->seen;
  obj->area = area / tr->seen;
  obj->solidity = largest->solidity;
  obj->compactness = largest->compactness;
  obj->hole_fraction = largest->hole_fraction;
}

static int
cmp_object_area (const void *a, const void *b)
{
  const RgGradeObject *x = a, *y = b;
  return (y->area > x->area) - (y->area < x->area);
}

gboolean
rg_grade_video (RgTensor *video, RgGradeReport *report, GError **error)
{
  memset (report, 0, sizeof *report);
  RgGrader g;
  RgTensor *packed = NULL;
  if (!rg_grade_open (&g, video, NULL, &packed, error))
    return FALSE;
  rg_grade_classify_backdrop (&g, report);

  /* Count: the most frequent per-frame number of components. */
  int hist[RG_GRADE_MAX_COMPS + 1] = { 0 };
  for (int t = 0; t < g.T; t++)
    hist[g.n_comps[t]]++;
  for (int k = 1; k <= RG_GRADE_MAX_COMPS; k++)
    if (hist[k] > hist[report->n_objects])
      report->n_objects = k;

  Track *tracks = g_new0 (Track, 64);
  int n_tracks = build_tracks (&g, tracks, 64);
  RgGradeObject all[64];
  int n_all = 0;
  for (int k = 0; k < n_tracks; k++)
    if (2 * tracks[k].seen >= g.T) /* flickers are noise, not objects */
      summarize_track (&g, &tracks[k], &all[n_all++]);
  qsort (all, n_all, sizeof all[0], cmp_object_area);
  report->n_tracks = MIN (n_all, RG_GRADE_MAX_OBJECTS);
  memcpy (report->objects, all, report->n_tracks * sizeof all[0]);

  g_free (tracks);
  rg_grade_close (&g, packed);
  return TRUE;
}

gboolean
rg_grade_subject (RgTensor *video, const RgShapesSubject *subject, double *similarity,
                  GError **error)
{
  RgGrader g;
  RgTensor *packed = NULL;
  if (!rg_grade_open (&g, video, subject, &packed, error))
    return FALSE;

  /* The largest object of each frame: the palette colours of its interior
   * (pixels whose 8 neighbours are the object too, so no edge blends) and
   * its shape class, weighted by area. */
  double colours[RG_COLOUR_N] = { 0 }, interior = 0, kind_hit = 0, kind_all = 0;
  for (int t = 0; t < g.T; t++)
    {
      const RgGradeComp *comps = g.comps + (int64_t) t * RG_GRADE_MAX_COMPS;
      int best = -1;
      for (int c = 0; c < g.n_comps[t]; c++)
        if (best < 0 || comps[c].area > comps[best].area)
          best = c;
      if (best < 0)
        continue;
      const gint16 *lab = g.label + (int64_t) t * g.H * g.W;
      for (int y = MAX (1, comps[best].y0); y <= MIN (g.H - 2, comps[best].y1); y++)
        for (int x = MAX (1, comps[best].x0); x <= MIN (g.W - 2, comps[best].x1); x++)
          {
            gboolean inner = TRUE;
            for (int dy = -1; dy <= 1 && inner; dy++)
              for (int dx = -1; dx <= 1; dx++)
                inner &= lab[(y + dy) * g.W + x + dx] == best;
            if (!inner)
              continue;
            float rgb[3];
            pixel_rgb (&g, t, y, x, rgb);
            colours[rg_colour_nearest (rgb, NULL)] += 1;
            interior += 1;
          }
      kind_all += comps[best].area;
      kind_hit += comps[best].kind == subject->kind ? comps[best].area : 0;
    }
  rg_grade_close (&g, packed);

  double a = interior > 0 ? colours[subject->colour] / interior : 0;
  double b = interior > 0 ? colours[subject->colour2] / interior : 0;
  /* Both pattern colours must show; one alone is half a likeness. */
  double colour_score = MIN (a, b) >= 0.05 ? a + b : 0.5 * (a + b);
  double kind_score = kind_all > 0 ? kind_hit / kind_all : 0;
  *similarity = 0.6 * colour_score + 0.4 * kind_score;
  return TRUE;
}
