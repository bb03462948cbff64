/* rg-shapes-render.c — drawing scenes into frames.
 *
 * Each pixel's colour is the backdrop blended with the mean of 4×4 sub-pixel
 * samples of the shapes over it: an anti-aliased edge holds the covered
 * fraction of the shape's colour, which the graders use to measure coverage.
 * Frames are independent, so they render in parallel on the pool. */
#include "train/rg-shapes-private.h"

#include "core/rg-parallel.h"

#include <math.h>

#define SS 4 /* sub-samples per axis */

static gboolean
inside_star (float u, float v)
{
  /* Crossing test against the 10-vertex star polygon, a point up. */
  static float vx[10], vy[10];
  static gsize init = 0;
  if (g_once_init_enter (&init))
    {
      for (int k = 0; k < 10; k++)
        {
          float r = (k % 2) ? RG_SHAPES_STAR_INNER : 1.f;
          float a = (float) (-G_PI / 2 + k * G_PI / 5);
          vx[k] = r * cosf (a);
          vy[k] = r * sinf (a);
        }
      g_once_init_leave (&init, 1);
    }
  gboolean in = FALSE;
  for (int i = 0, j = 9; i < 10; j = i++)
    if ((vy[i] > v) != (vy[j] > v)
        && u < (vx[j] - vx[i]) * (v - vy[i]) / (vy[j] - vy[i]) + vx[i])
      in = !in;
  return in;
}

gboolean
rg_shapes_inside (RgShapeKind kind, float u, float v)
{
  float r2 = u * u + v * v;
  if (r2 > 1.f)
    return FALSE;
  switch (kind)
    {
    case RG_SHAPE_CIRCLE:
      return TRUE;
    case RG_SHAPE_RING:
      return r2 >= RG_SHAPES_RING_INNER * RG_SHAPES_RING_INNER;
    case RG_SHAPE_SQUARE:
      return fabsf (u) <= (float) G_SQRT2 / 2 && fabsf (v) <= (float) G_SQRT2 / 2;
    case RG_SHAPE_TRIANGLE:
      /* Equilateral, a vertex up (−v in image rows); the inradius is 1/2. */
      return v <= 0.5f && 0.866025f * u - 0.5f * v <= 0.5f && -0.866025f * u - 0.5f * v <= 0.5f;
    case RG_SHAPE_STAR:
      return inside_star (u, v);
    default:
      return FALSE;
    }
}

/* The colour of a (patterned) shape at local point (u, v). */
static void
shape_colour_at (const RgShapesShape *sh, float u, float v, float rgb[3])
{
  RgColour c = sh->colour;
  if (sh->pattern != RG_PATTERN_NONE)
    {
      float ca = cosf (sh->pattern_angle), sa = sinf (sh->pattern_angle);
      float p = (ca * u - sa * v) / sh->pattern_period, q = (sa * u + ca * v) / sh->pattern_period;
      gboolean second = FALSE;
      switch (sh->pattern)
        {
        case RG_PATTERN_STRIPES:
          second = ((int) floorf (p)) & 1;
          break;
        case RG_PATTERN_DOTS:
          second = hypotf (p - floorf (p) - 0.5f, q - floorf (q) - 0.5f) < 0.3f;
          break;
        case RG_PATTERN_CHECKS:
          second = ((int) floorf (p) + (int) floorf (q)) & 1;
          break;
        default:
          break;
        }
      if (second)
        c = sh->colour2;
    }
  rg_colour_rgb (c, rgb);
}

/* Coverage and summed colour of shape sh on frame t over pixel (px, py). */
static int
pixel_samples (const RgShapesShape *sh, int t, int px, int py, float sum[3])
{
  float r = sh->radius * sh->scale[t];
  float ca = cosf (sh->angle[t]), sa = sinf (sh->angle[t]);
  int hits = 0;
  for (int j = 0; j < SS; j++)
    for (int i = 0; i < SS; i++)
      {
        float dx = px + (i + 0.5f) / SS - sh->x[t], dy = py + (j + 0.5f) / SS - sh->y[t];
        /* rotate into the shape's frame */
        float u = (ca * dx + sa * dy) / r, v = (-sa * dx + ca * dy) / r;
        if (!rg_shapes_inside (sh->kind, u, v))
          continue;
        hits++;
        if (sum)
          {
            float rgb[3];
            shape_colour_at (sh, u, v, rgb);
            sum[0] += rgb[0], sum[1] += rgb[1], sum[2] += rgb[2];
          }
      }
  return hits;
}

/* Whether all four corners of pixel (px, py) are inside the shape. */
static gboolean
corners_inside (const RgShapesShape *sh, int t, int px, int py)
{
  float r = sh->radius * sh->scale[t];
  float ca = cosf (sh->angle[t]), sa = sinf (sh->angle[t]);
  for (int j = 0; j <= 1; j++)
    for (int i = 0; i <= 1; i++)
      {
        float dx = px + i - sh->x[t], dy = py + j - sh->y[t];
        if (!rg_shapes_inside (sh->kind, (ca * dx + sa * dy) / r, (-sa * dx + ca * dy) / r))
          return FALSE;
      }
  return TRUE;
}

float
rg_shapes_coverage (const RgShapesScene *scene, int s, int t, int px, int py)
{
  g_return_val_if_fail (s >= 0 && s < scene->n_shapes && t >= 0 && t < scene->frames, 0.f);
  return pixel_samples (&scene->shapes[s], t, px, py, NULL) / (float) (SS * SS);
}

/* Scenes come from rg_shapes_scene_sample or rg_shapes_scene_plan, which
 * check everything; this guards the sizes the buffers depend on. */
static gboolean
renderable (const RgShapesScene *sc)
{
  return sc->frames >= 1 && sc->frames <= RG_SHAPES_MAX_FRAMES && sc->width > 0
         && sc->width <= 4096 && sc->height > 0 && sc->height <= 4096 && sc->n_shapes >= 0
         && sc->n_shapes <= RG_SHAPES_MAX_SHAPES;
}

typedef struct {
  const RgShapesScene *scene;
  float               *rgb; /* T × H × W × 3, 0–255 */
} RenderJob;

static void
render_frames (void *ctx, int64_t begin, int64_t end)
{
  RenderJob *job = ctx;
  const RgShapesScene *sc = job->scene;
  int W = sc->width, H = sc->height;
  for (int64_t t = begin; t < end; t++)
    {
      float *frame = job->rgb + t * (int64_t) H * W * 3;
      for (int y = 0; y < H; y++)
        {
          float bg[3];
          rg_backdrop_rgb (&sc->backdrop, (y + 0.5f) / H, bg);
          for (int x = 0; x < W; x++)
            memcpy (frame + ((int64_t) y * W + x) * 3, bg, sizeof bg);
        }
      for (int s = 0; s < sc->n_shapes; s++)
        {
          const RgShapesShape *sh = &sc->shapes[s];
          gboolean plain_convex = sh->pattern == RG_PATTERN_NONE
                                  && (sh->kind == RG_SHAPE_CIRCLE || sh->kind == RG_SHAPE_SQUARE
                                      || sh->kind == RG_SHAPE_TRIANGLE);
          float r = sh->radius * sh->scale[t] + 1.f;
          if (!isfinite (r) || !isfinite (sh->x[t]) || !isfinite (sh->y[t]))
            continue;
          /* Clamped as floats first: the cast of an out-of-range float is
           * undefined. */
          int x0 = (int) floorf (CLAMP (sh->x[t] - r, 0.f, (float) W));
          int x1 = (int) ceilf (CLAMP (sh->x[t] + r, -1.f, (float) (W - 1)));
          int y0 = (int) floorf (CLAMP (sh->y[t] - r, 0.f, (float) H));
          int y1 = (int) ceilf (CLAMP (sh->y[t] + r, -1.f, (float) (H - 1)));
          float rs = sh->radius * sh->scale[t];
          for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
              {
                float sum[3] = { 0, 0, 0 };
                int hits;
                /* Shortcuts that give the same bytes as sampling: a pixel
                 * beyond the bounding circle is empty, and a pixel whose
                 * corners are inside a plain convex shape is full. */
                float nx = CLAMP (sh->x[t], (float) x, x + 1.f) - sh->x[t];
                float ny = CLAMP (sh->y[t], (float) y, y + 1.f) - sh->y[t];
                if (nx * nx + ny * ny > rs * rs)
                  continue;
                if (plain_convex && corners_inside (sh, (int) t, x, y))
                  {
                    float rgb[3];
                    rg_colour_rgb (sh->colour, rgb);
                    hits = SS * SS;
                    for (int c = 0; c < 3; c++)
                      sum[c] = rgb[c] * (SS * SS);
                  }
                else
                  hits = pixel_samples (sh, (int) t, x, y, sum);
                if (hits == 0)
                  continue;
                float *p = frame + ((int64_t) y * W + x) * 3, keep = 1.f - hits / (float) (SS * SS);
                for (int c = 0; c < 3; c++)
                  p[c] = p[c] * keep + sum[c] / (SS * SS);
              }
        }
    }
}

static float *
render_rgb (const RgShapesScene *scene)
{
  RenderJob job = { scene, g_new (float, (gsize) scene->frames * scene->height * scene->width * 3) };
  rg_parallel_for (scene->frames, 1, render_frames, &job);
  return job.rgb;
}

RgTensor *
rg_shapes_render (const RgShapesScene *scene)
{
  int T = scene->frames, H = scene->height, W = scene->width;
  g_return_val_if_fail (renderable (scene), NULL);
  g_autofree float *rgb = render_rgb (scene);
  RgTensor *video = rg_tensor_f32_new (4, (int64_t) 3, (int64_t) T, (int64_t) H, (int64_t) W);
  float *out = rg_tensor_f32 (video);
  int64_t plane = (int64_t) T * H * W;
  for (int64_t i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      out[c * plane + i] = rgb[i * 3 + c] / 127.5f - 1.f;
  return video;
}

guint8 *
rg_shapes_render_rgb24 (const RgShapesScene *scene, gsize *n_bytes)
{
  int T = scene->frames, H = scene->height, W = scene->width;
  g_return_val_if_fail (renderable (scene), NULL);
  g_autofree float *rgb = render_rgb (scene);
  gsize n = (gsize) T * H * W * 3;
  guint8 *out = g_malloc (n);
  for (gsize i = 0; i < n; i++)
    out[i] = (guint8) CLAMP (lrintf (rgb[i]), 0, 255);
  if (n_bytes)
    *n_bytes = n;
  return out;
}
