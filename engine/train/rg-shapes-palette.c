/* rg-shapes-palette.c — ShapesWorld's names, colours, backdrops and split. */
#include "train/rg-shapes.h"

#include <math.h>

/* Picked far apart in RGB so that a detector can name a colour from its
 * nearest palette entry; the closest pair (yellow, orange) is ~90 apart. */
static const float palette[RG_COLOUR_N][3] = {
  [RG_COLOUR_RED] = { 220, 30, 30 },     [RG_COLOUR_GREEN] = { 30, 170, 50 },
  [RG_COLOUR_BLUE] = { 30, 70, 220 },    [RG_COLOUR_YELLOW] = { 250, 220, 30 },
  [RG_COLOUR_ORANGE] = { 250, 130, 20 }, [RG_COLOUR_PURPLE] = { 130, 40, 170 },
  [RG_COLOUR_WHITE] = { 245, 245, 245 }, [RG_COLOUR_BLACK] = { 15, 15, 15 },
  [RG_COLOUR_CYAN] = { 30, 210, 220 },   [RG_COLOUR_PINK] = { 250, 110, 190 },
};

static const char *const colour_names[RG_COLOUR_N] = {
  "red", "green", "blue", "yellow", "orange", "purple", "white", "black", "cyan", "pink",
};
static const char *const kind_names[RG_SHAPE_N_KINDS] = {
  "circle", "square", "triangle", "star", "ring",
};
static const char *const kind_plurals[RG_SHAPE_N_KINDS] = {
  "circles", "squares", "triangles", "stars", "rings",
};
static const char *const motion_names[RG_MOTION_N] = {
  "still", "left", "right", "up", "down", "diagonal", "bouncing", "growing", "shrinking",
  "rotating",
};
static const char *const heading_names[RG_HEADING_N] = {
  "", "up-left", "up-right", "down-left", "down-right",
};
static const char *const size_names[RG_SIZE_N] = { "small", "medium", "large" };
static const char *const backdrop_names[RG_BACKDROP_N_KINDS] = {
  "solid", "sky", "sunset", "horizon",
};

/* Gradient ends (top, bottom) and the horizon's sky/grass colours. */
static const float sky_top[3] = { 40, 90, 200 }, sky_bottom[3] = { 175, 210, 245 };
static const float sunset_top[3] = { 70, 30, 110 }, sunset_bottom[3] = { 245, 150, 70 };
static const float horizon_sky_top[3] = { 90, 150, 230 }, horizon_sky_low[3] = { 160, 200, 240 };
static const float grass_top[3] = { 70, 140, 40 }, grass_bottom[3] = { 40, 100, 25 };
#define HORIZON_V 0.625f

const char *
rg_shape_kind_name (RgShapeKind kind)
{
  return (unsigned) kind < RG_SHAPE_N_KINDS ? kind_names[kind] : "?";
}

const char *
rg_shape_kind_plural (RgShapeKind kind)
{
  return (unsigned) kind < RG_SHAPE_N_KINDS ? kind_plurals[kind] : "?";
}

const char *
rg_colour_name (RgColour colour)
{
  return (unsigned) colour < RG_COLOUR_N ? colour_names[colour] : "?";
}

const char *
rg_motion_name (RgMotion motion)
{
  return (unsigned) motion < RG_MOTION_N ? motion_names[motion] : "?";
}

const char *
rg_heading_name (RgHeading heading)
{
  return (unsigned) heading < RG_HEADING_N ? heading_names[heading] : "?";
}

RgHeading
rg_heading_of (float dx, float dy)
{
  if (dx == 0.f || dy == 0.f)
    return RG_HEADING_NONE;
  return dy < 0.f ? (dx < 0.f ? RG_HEADING_UP_LEFT : RG_HEADING_UP_RIGHT)
                  : (dx < 0.f ? RG_HEADING_DOWN_LEFT : RG_HEADING_DOWN_RIGHT);
}

const char *
rg_shape_size_name (RgShapeSize size)
{
  return (unsigned) size < RG_SIZE_N ? size_names[size] : "?";
}

const char *
rg_backdrop_kind_name (RgBackdropKind kind)
{
  return (unsigned) kind < RG_BACKDROP_N_KINDS ? backdrop_names[kind] : "?";
}

void
rg_colour_rgb (RgColour colour, float rgb[3])
{
  g_return_if_fail ((unsigned) colour < RG_COLOUR_N);
  for (int c = 0; c < 3; c++)
    rgb[c] = palette[colour][c];
}

static float
rgb_distance (const float a[3], const float b[3])
{
  float d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
  return sqrtf (d0 * d0 + d1 * d1 + d2 * d2);
}

RgColour
rg_colour_nearest (const float rgb[3], float *distance)
{
  RgColour best = 0;
  float best_d = INFINITY;
  for (int c = 0; c < RG_COLOUR_N; c++)
    {
      float d = rgb_distance (rgb, palette[c]);
      if (d < best_d)
        best_d = d, best = c;
    }
  if (distance)
    *distance = best_d;
  return best;
}

static void
lerp3 (const float a[3], const float b[3], float t, float out[3])
{
  for (int c = 0; c < 3; c++)
    out[c] = a[c] + (b[c] - a[c]) * t;
}

void
rg_backdrop_rgb (const RgBackdrop *backdrop, float v, float rgb[3])
{
  v = CLAMP (v, 0.f, 1.f);
  switch (backdrop->kind)
    {
    case RG_BACKDROP_SKY:
      lerp3 (sky_top, sky_bottom, v, rgb);
      break;
    case RG_BACKDROP_SUNSET:
      lerp3 (sunset_top, sunset_bottom, v, rgb);
      break;
    case RG_BACKDROP_HORIZON:
      if (v < HORIZON_V)
        lerp3 (horizon_sky_top, horizon_sky_low, v / HORIZON_V, rgb);
      else
        lerp3 (grass_top, grass_bottom, (v - HORIZON_V) / (1.f - HORIZON_V), rgb);
      break;
    case RG_BACKDROP_SOLID:
    default:
      rg_colour_rgb ((unsigned) backdrop->colour < RG_COLOUR_N ? backdrop->colour : 0, rgb);
      break;
    }
}

gboolean
rg_backdrop_allows_colour (const RgBackdrop *backdrop, RgColour colour)
{
  /* Sampling the backdrop's rows densely covers both gradient ends and both
   * sides of the horizon. */
  for (int i = 0; i <= 64; i++)
    {
      float bg[3];
      rg_backdrop_rgb (backdrop, i / 64.f, bg);
      if (rgb_distance (bg, palette[colour]) < RG_SHAPES_MIN_CONTRAST)
        return FALSE;
    }
  return TRUE;
}

gboolean
rg_backdrop_equal (const RgBackdrop *a, const RgBackdrop *b)
{
  if (a->kind != b->kind)
    return FALSE;
  return a->kind != RG_BACKDROP_SOLID || a->colour == b->colour;
}

gboolean
rg_shapes_triple_is_heldout (RgColour colour, RgShapeKind kind, RgMotion motion)
{
  return ((int) colour + 3 * (int) kind + 7 * (int) motion) % 11 == 5;
}

gboolean
rg_shapes_motion_allowed (RgShapeKind kind, RgMotion motion)
{
  /* A spinning circle or ring looks exactly like a still one. */
  if (motion == RG_MOTION_ROTATING)
    return kind != RG_SHAPE_CIRCLE && kind != RG_SHAPE_RING;
  return TRUE;
}
