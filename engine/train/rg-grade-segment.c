/* rg-grade-segment.c — a video's backdrop and, per frame, its objects:
 * coverage, colour and shape class (the method is described in rg-grade.h). */
#include "train/rg-grade-private.h"

#include "core/rg-error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FG_THRESHOLD  40.f /* RGB distance from the row's backdrop */
/* Shape thresholds sit midway between the classes' extremes measured on
 * 1000 ground-truth scenes at 64 px (largest frame of each shape):
 *   solidity     star 0.54–0.69 | triangle ≥ 0.82, square/circle/ring ≥ 0.88
 *   compactness  circle ≥ 0.86 | square 0.59–0.73 | triangle ≤ 0.49
 *   hole         ring 0.23–0.26 | others 0
 * and the margins widen with the frame size (at 256 px: star ≤ 0.55,
 * triangle ≥ 0.95). */
#define HOLE_FRACTION  0.06f
#define STAR_SOLIDITY  0.755f
#define CIRCLE_COMPACT 0.795f
#define SQUARE_COMPACT 0.54f

static inline float
dist3 (const float a[3], const float b[3])
{
  float d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
  return sqrtf (d0 * d0 + d1 * d1 + d2 * d2);
}

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* Per-row backdrop: the median of the two outermost columns on each side
 * over all frames. */
static void
estimate_backdrop (RgGrader *g)
{
  int n = 4 * g->T;
  g_autofree float *vals = g_new (float, n);
  const int cols[4] = { 0, 1, g->W - 2, g->W - 1 };
  for (int y = 0; y < g->H; y++)
    for (int c = 0; c < 3; c++)
      {
        int k = 0;
        for (int t = 0; t < g->T; t++)
          for (int j = 0; j < 4; j++)
            {
              float rgb[3];
              pixel_rgb (g, t, y, cols[j], rgb);
              vals[k++] = rgb[c];
            }
        qsort (vals, n, sizeof (float), cmp_float);
        g->bg[y * 3 + c] = 0.5f * (vals[(n - 1) / 2] + vals[n / 2]);
      }
}

void
rg_grade_classify_backdrop (const RgGrader *g, RgGradeReport *report)
{
  double best = INFINITY;
  for (int k = 0; k < RG_BACKDROP_N_KINDS; k++)
    for (int c = 0; c < (k == RG_BACKDROP_SOLID ? RG_COLOUR_N : 1); c++)
      {
        RgBackdrop cand = { k, c };
        double err = 0;
        for (int y = 0; y < g->H; y++)
          {
            float rgb[3];
            rg_backdrop_rgb (&cand, (y + 0.5f) / g->H, rgb);
            float d = dist3 (rgb, g->bg + y * 3);
            err += d * d;
          }
        if (err < best)
          {
            best = err;
            report->backdrop = cand;
          }
      }
  if (report->backdrop.kind != RG_BACKDROP_SOLID)
    report->backdrop.colour = 0;
  report->backdrop_rms = (float) sqrt (best / g->H);
}

/* --- per-frame components --- */

static float
fg_distance (const RgGrader *g, int t, int y, int x)
{
  float rgb[3];
  pixel_rgb (g, t, y, x, rgb);
  return dist3 (rgb, g->bg + y * 3);
}

/* Convex hull area and perimeter of points (monotone chain). */
static int
cmp_point (const void *a, const void *b)
{
  const float *p = a, *q = b;
  if (p[0] != q[0])
    return p[0] < q[0] ? -1 : 1;
  return (p[1] > q[1]) - (p[1] < q[1]);
}

static float
cross (const float *o, const float *a, const float *b)
{
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

static void
hull_measure (float *pts, int n, float *area, float *perimeter)
{
  *area = *perimeter = 0.f;
  if (n < 3)
    return;
  qsort (pts, n, 2 * sizeof (float), cmp_point);
  g_autofree float *h = g_new (float, 4 * n + 4);
  int k = 0;
  for (int i = 0; i < n; i++)
    {
      while (k >= 2 && cross (h + 2 * (k - 2), h + 2 * (k - 1), pts + 2 * i) <= 0)
        k--;
      memcpy (h + 2 * k++, pts + 2 * i, 2 * sizeof (float));
    }
  for (int i = n - 2, lo = k + 1; i >= 0; i--)
    {
      while (k >= lo && cross (h + 2 * (k - 2), h + 2 * (k - 1), pts + 2 * i) <= 0)
        k--;
      memcpy (h + 2 * k++, pts + 2 * i, 2 * sizeof (float));
    }
  k--; /* the last point repeats the first */
  for (int i = 0; i < k; i++)
    {
      const float *p = h + 2 * i, *q = h + 2 * ((i + 1) % k);
      *area += p[0] * q[1] - q[0] * p[1];
      *perimeter += hypotf (q[0] - p[0], q[1] - p[1]);
    }
  *area = fabsf (*area) * 0.5f;
}

/* Shape features of component `ci` of frame t from its coverage. */
static void
shape_features (RgGrader *g, int t, int ci, RgGradeComp *c)
{
  int bx0 = MAX (0, c->x0 - 1), by0 = MAX (0, c->y0 - 1);
  int bx1 = MIN (g->W - 1, c->x1 + 1), by1 = MIN (g->H - 1, c->y1 + 1);
  int bw = bx1 - bx0 + 1, bh = by1 - by0 + 1;
  const float *cov = g->cov + (int64_t) t * g->H * g->W;
  const gint16 *lab = g->label + (int64_t) t * g->H * g->W;
  g_autofree guint8 *fg = g_new0 (guint8, bw * bh);
  g_autofree float *pts = g_new (float, 2 * bw * bh);
  int n_pts = 0;
  float rmax = 0.f;

  for (int y = by0; y <= by1; y++)
    for (int x = bx0; x <= bx1; x++)
      {
        int64_t i = (int64_t) y * g->W + x;
        if (lab[i] != ci || cov[i] < 0.5f)
          continue;
        fg[(y - by0) * bw + (x - bx0)] = 1;
        pts[2 * n_pts] = x + 0.5f;
        pts[2 * n_pts + 1] = y + 0.5f;
        n_pts++;
        rmax = MAX (rmax, hypotf (x + 0.5f - c->cx, y + 0.5f - c->cy));
      }

  /* Holes: background not 4-connected to the box's border. */
  g_autofree int *stack = g_new (int, bw * bh);
  g_autofree guint8 *outside = g_new0 (guint8, bw * bh);
  int sp = 0;
  for (int y = 0; y < bh; y++)
    for (int x = 0; x < bw; x++)
      if ((y == 0 || x == 0 || y == bh - 1 || x == bw - 1) && !fg[y * bw + x]
          && !outside[y * bw + x])
        {
          outside[y * bw + x] = 1;
          stack[sp++] = y * bw + x;
          while (sp > 0)
            {
              int p = stack[--sp], px = p % bw, py = p / bw;
              const int nb[4][2] = { { 1, 0 }, { -1, 0 }, { 0, 1 }, { 0, -1 } };
              for (int k = 0; k < 4; k++)
                {
                  int qx = px + nb[k][0], qy = py + nb[k][1];
                  if (qx < 0 || qy < 0 || qx >= bw || qy >= bh)
                    continue;
                  int q = qy * bw + qx;
                  if (!fg[q] && !outside[q])
                    outside[q] = 1, stack[sp++] = q;
                }
            }
        }
  int holes = 0;
  for (int i = 0; i < bw * bh; i++)
    holes += !fg[i] && !outside[i];

  float hull_area, hull_perimeter;
  hull_measure (pts, n_pts, &hull_area, &hull_perimeter);
  /* The hull runs through pixel centres; growing it by half a pixel (the
   * Minkowski sum with a disc of radius 1/2) makes it comparable with the
   * coverage area. */
  float hull = hull_area + 0.5f * hull_perimeter + (float) G_PI / 4.f;
  float filled = c->area + holes;
  rmax += 0.5f;
  c->hole_fraction = filled > 0 ? holes / filled : 0.f;
  c->solidity = hull > 0 ? filled / hull : 0.f;
  c->compactness = rmax > 0 ? filled / ((float) G_PI * rmax * rmax) : 0.f;

  if (holes >= 2 && c->hole_fraction >= HOLE_FRACTION)
    c->kind = RG_SHAPE_RING;
  else if (c->solidity < STAR_SOLIDITY)
    c->kind = RG_SHAPE_STAR;
  else if (c->compactness > CIRCLE_COMPACT)
    c->kind = RG_SHAPE_CIRCLE;
  else if (c->compactness > SQUARE_COMPACT)
    c->kind = RG_SHAPE_SQUARE;
  else
    c->kind = RG_SHAPE_TRIANGLE;
}

/* Where rgb lies on the segment from the backdrop to the object colour. */
static float
coverage (const float rgb[3], const float bg[3], const float obj[3])
{
  float num = 0.f, den = 0.f;
  for (int k = 0; k < 3; k++)
    {
      float e = obj[k] - bg[k];
      num += (rgb[k] - bg[k]) * e;
      den += e * e;
    }
  return den > 0 ? CLAMP (num / den, 0.f, 1.f) : 1.f;
}

/* Coverage by a blend of two inks: p − bg = α(A − bg) + β(B − bg) with
 * α, β ≥ 0 by least squares, coverage α + β. Anti-aliased pattern edges
 * inside a subject are such blends, not holes. */
static float
coverage_blend (const float rgb[3], const float bg[3], const float A[3], const float B[3])
{
  double aa = 0, ab = 0, bb = 0, pa = 0, pb = 0;
  for (int k = 0; k < 3; k++)
    {
      double a = A[k] - bg[k], b = B[k] - bg[k], p = rgb[k] - bg[k];
      aa += a * a, ab += a * b, bb += b * b, pa += p * a, pb += p * b;
    }
  double det = aa * bb - ab * ab;
  if (det <= 1e-6 * aa * bb)
    return 0.f; /* parallel inks: the single projections cover it */
  double alpha = (pa * bb - pb * ab) / det, beta = (pb * aa - pa * ab) / det;
  if (alpha < 0 || beta < 0)
    return 0.f;
  return (float) CLAMP (alpha + beta, 0.0, 1.0);
}

/* Label frame t's foreground and measure each component. */
static void
segment_frame (RgGrader *g, int t)
{
  int H = g->H, W = g->W;
  int64_t off = (int64_t) t * H * W;
  gint16 *lab = g->label + off;
  float *cov = g->cov + off;
  g_autofree guint8 *fg = g_new (guint8, (gsize) H * W);
  g_autofree int *stack = g_new (int, (gsize) H * W);
  g_autofree int *members = g_new (int, (gsize) H * W);
  float min_area = 10.f * g->unit * g->unit;
  RgGradeComp *comps = g->comps + (int64_t) t * RG_GRADE_MAX_COMPS;
  int n = 0;

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      fg[y * W + x] = fg_distance (g, t, y, x) > FG_THRESHOLD;
  for (int64_t i = 0; i < (int64_t) H * W; i++)
    lab[i] = -1, cov[i] = 0.f;

  for (int start = 0; start < H * W; start++)
    {
      if (!fg[start] || lab[start] != -1)
        continue;
      /* Flood the 8-connected component, provisionally labelled 'n' (or a
       * scratch label when the table is full). */
      gint16 id = (gint16) (n < RG_GRADE_MAX_COMPS ? n : RG_GRADE_MAX_COMPS);
      int sp = 0, m = 0;
      stack[sp++] = start;
      lab[start] = id;
      while (sp > 0)
        {
          int p = stack[--sp];
          members[m++] = p;
          int px = p % W, py = p / W;
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
              {
                int qx = px + dx, qy = py + dy;
                if (qx < 0 || qy < 0 || qx >= W || qy >= H)
                  continue;
                int q = qy * W + qx;
                if (fg[q] && lab[q] == -1)
                  lab[q] = id, stack[sp++] = q;
              }
        }
      if (id == RG_GRADE_MAX_COMPS || m < min_area)
        {
          for (int k = 0; k < m; k++)
            lab[members[k]] = (gint16) RG_GRADE_MAX_COMPS; /* seen, not an object */
          continue;
        }

      /* Colour from the interior: members whose 4 neighbours are members. */
      RgGradeComp *c = &comps[n];
      float sum[3] = { 0, 0, 0 }, best_d = -1.f, best_rgb[3] = { 0, 0, 0 };
      int core = 0;
      c->x0 = W, c->y0 = H, c->x1 = -1, c->y1 = -1;
      for (int k = 0; k < m; k++)
        {
          int p = members[k], px = p % W, py = p / W;
          c->x0 = MIN (c->x0, px), c->x1 = MAX (c->x1, px);
          c->y0 = MIN (c->y0, py), c->y1 = MAX (c->y1, py);
          float rgb[3];
          pixel_rgb (g, t, py, px, rgb);
          float d = dist3 (rgb, g->bg + py * 3);
          if (d > best_d)
            best_d = d, memcpy (best_rgb, rgb, sizeof rgb);
          if (px > 0 && py > 0 && px < W - 1 && py < H - 1 && lab[p - 1] == id && lab[p + 1] == id
              && lab[p - W] == id && lab[p + W] == id)
            {
              sum[0] += rgb[0], sum[1] += rgb[1], sum[2] += rgb[2];
              core++;
            }
        }
      float obj[3];
      for (int k = 0; k < 3; k++)
        obj[k] = core > 0 ? sum[k] / core : best_rgb[k];
      c->colour = rg_colour_nearest (obj, NULL);

      /* Coverage: the pixel's position on the backdrop → object segment.
       * The anti-aliased fringe under the threshold joins too, as long as
       * it touches this component and no other. */
      float area = 0.f, mx = 0.f, my = 0.f;
      int gx0 = MAX (0, c->x0 - 1), gx1 = MIN (W - 1, c->x1 + 1);
      int gy0 = MAX (0, c->y0 - 1), gy1 = MIN (H - 1, c->y1 + 1);
      for (int y = gy0; y <= gy1; y++)
        for (int x = gx0; x <= gx1; x++)
          {
            int p = y * W + x;
            if (lab[p] != id)
              {
                if (lab[p] != -1)
                  continue;
                gboolean touches = FALSE;
                for (int dy = -1; dy <= 1 && !touches; dy++)
                  for (int dx = -1; dx <= 1; dx++)
                    {
                      int qx = x + dx, qy = y + dy;
                      if (qx >= 0 && qy >= 0 && qx < W && qy < H && lab[qy * W + qx] == id
                          && fg[qy * W + qx])
                        touches = TRUE;
                    }
                if (!touches)
                  continue;
              }
            float rgb[3];
            pixel_rgb (g, t, y, x, rgb);
            float a = coverage (rgb, g->bg + y * 3, obj);
            for (int k = 0; k < g->n_inks; k++)
              a = MAX (a, coverage (rgb, g->bg + y * 3, g->inks[k]));
            if (g->n_inks == 2)
              a = MAX (a, coverage_blend (rgb, g->bg + y * 3, g->inks[0], g->inks[1]));
            if (lab[p] == -1 && a <= 0.f)
              continue;
            lab[p] = id;
            cov[p] = a;
            area += a;
            mx += a * (x + 0.5f);
            my += a * (y + 0.5f);
          }
      c->area = area;
      c->cx = area > 0 ? mx / area : (c->x0 + c->x1 + 1) * 0.5f;
      c->cy = area > 0 ? my / area : (c->y0 + c->y1 + 1) * 0.5f;
      shape_features (g, t, id, c);
      n++;
    }
  /* The scratch label marks rejected pixels; they are not objects. */
  for (int64_t i = 0; i < (int64_t) H * W; i++)
    if (lab[i] == RG_GRADE_MAX_COMPS)
      lab[i] = -1;
  g->n_comps[t] = n;
}

gboolean
rg_grade_open (RgGrader *g, RgTensor *video, const RgShapesSubject *subject, RgTensor **packed,
               GError **error)
{
  int off = video->ndim == 5 ? 1 : 0;
  if (video->dtype != RG_F32 || (video->ndim != 4 && video->ndim != 5)
      || (off && video->shape[0] != 1) || video->shape[off] != 3)
    {
      g_autofree char *s = rg_tensor_shape_string (video);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "grade: expected an f32 video [3, T, H, W], got %s", s);
      return FALSE;
    }
  int64_t T = video->shape[off + 1], H = video->shape[off + 2], W = video->shape[off + 3];
  if (T < 1 || T > RG_SHAPES_MAX_FRAMES || H < 32 || W < 32 || H > 4096 || W > 4096)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "grade: a %" G_GINT64_FORMAT "-frame %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                   " video is outside 1…%d frames of 32…4096 px",
                   T, W, H, RG_SHAPES_MAX_FRAMES);
      return FALSE;
    }
  *packed = rg_tensor_contiguous (video);
  *g = (RgGrader) { (int) T, (int) H, (int) W, MIN (H, W) / 64.f, rg_tensor_f32 (*packed) };
  g->bg = g_new (float, H * 3);
  g->cov = g_new (float, T * H * W);
  g->label = g_new (gint16, T * H * W);
  g->n_comps = g_new0 (int, T);
  g->comps = g_new0 (RgGradeComp, T * RG_GRADE_MAX_COMPS);
  if (subject)
    {
      g->n_inks = 2;
      rg_colour_rgb (subject->colour, g->inks[0]);
      rg_colour_rgb (subject->colour2, g->inks[1]);
    }
  estimate_backdrop (g);
  for (int t = 0; t < g->T; t++)
    segment_frame (g, t);
  return TRUE;
}

void
rg_grade_close (RgGrader *g, RgTensor *packed)
{
  g_free (g->bg);
  g_free (g->cov);
  g_free (g->label);
  g_free (g->n_comps);
  g_free (g->comps);
  rg_tensor_unref (packed);
}