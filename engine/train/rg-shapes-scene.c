/* rg-shapes-scene.c — sampling scenes from a seed and planning their tracks.
 *
 * Sampling draws attributes first (backdrop, count, colour, shape, size,
 * motion), then motion parameters by rejection until the world rules of
 * rg-shapes.h hold on every frame. All draws come from one Philox stream of
 * the seed, so a scene is a pure function of (config, seed). */
#include "train/rg-shapes-private.h"

#include "core/rg-error.h"
#include "core/rg-hash.h"
#include "core/rg-rng.h"

#include <math.h>

#define SCENE_ATTEMPTS 64
#define PLACE_ATTEMPTS 64

/* Radius ranges in 64-px units. */
static const float size_lo[RG_SIZE_N] = { 7.f, 10.f, 13.5f };
static const float size_hi[RG_SIZE_N] = { 9.f, 12.5f, 16.f };

void
rg_shapes_config_init (RgShapesConfig *config)
{
  config->width = 64;
  config->height = 64;
  config->frames = 16;
  config->fps = (RgRational) { 8, 1 };
  config->split = RG_SHAPES_SPLIT_TRAIN;
}

gboolean
rg_shapes_config_check (const RgShapesConfig *config, GError **error)
{
  if (config->width < 32 || config->height < 32 || config->width > 4096 || config->height > 4096)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "ShapesWorld: frame size %d×%d is outside 32…4096 px", config->width,
                   config->height);
      return FALSE;
    }
  if (config->frames < 2 || config->frames > RG_SHAPES_MAX_FRAMES)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "ShapesWorld: %d frames is outside 2…%d", config->frames,
                   RG_SHAPES_MAX_FRAMES);
      return FALSE;
    }
  /* Divisions, not products: the fields may be anything up to INT64_MAX. */
  if (config->fps.num <= 0 || config->fps.den <= 0 || config->fps.num / config->fps.den > 1000
      || config->fps.den / config->fps.num > 10)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "ShapesWorld: frame rate %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                   " is outside 0.1…1000 fps",
                   config->fps.num, config->fps.den);
      return FALSE;
    }
  if (config->split != RG_SHAPES_SPLIT_TRAIN && config->split != RG_SHAPES_SPLIT_HELDOUT)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "ShapesWorld: unknown split %d",
                   (int) config->split);
      return FALSE;
    }
  return TRUE;
}

float
rg_shapes_scene_unit (const RgShapesScene *scene)
{
  return MIN (scene->width, scene->height) / 64.f;
}

uint64_t
rg_shapes_scene_fingerprint (const RgShapesScene *scene)
{
  /* Field by field, never the struct's bytes: padding is not content. */
#define MIX(v) (h = rg_fnv1a64 (h, &(v), sizeof (v)))
  guint64 h = RG_FNV1A64_INIT;
  int n = CLAMP (scene->n_shapes, 0, RG_SHAPES_MAX_SHAPES);
  int frames = CLAMP (scene->frames, 0, RG_SHAPES_MAX_FRAMES);
  MIX (scene->width), MIX (scene->height), MIX (scene->frames);
  MIX (scene->backdrop.kind), MIX (scene->backdrop.colour), MIX (scene->n_shapes);
  for (int s = 0; s < n; s++)
    {
      const RgShapesShape *sh = &scene->shapes[s];
      MIX (sh->kind), MIX (sh->colour), MIX (sh->radius);
      MIX (sh->pattern), MIX (sh->colour2), MIX (sh->pattern_period), MIX (sh->pattern_angle);
      h = rg_fnv1a64 (h, sh->x, frames * sizeof (float));
      h = rg_fnv1a64 (h, sh->y, frames * sizeof (float));
      h = rg_fnv1a64 (h, sh->scale, frames * sizeof (float));
      h = rg_fnv1a64 (h, sh->angle, frames * sizeof (float));
    }
#undef MIX
  return h;
}

gboolean
rg_shapes_motion_feasible (RgMotion motion, int frames)
{
  /* A bounce needs a contact with frames on both sides and a period ≥ 5. */
  return motion != RG_MOTION_BOUNCING || frames >= 7;
}

/* Floor contacts of a bouncing shape are the frames with τ = 0. */
static int
bounce_tau (const RgShapesShape *sh, int t)
{
  int p = sh->bounce_period;
  return (((t - sh->bounce_phase) % p) + p) % p;
}

void
rg_shapes_shape_plan (RgShapesShape *sh, int frames)
{
  float last = (float) MAX (frames - 1, 1);
  for (int t = 0; t < frames; t++)
    {
      float u = t / last;
      sh->scale[t] = sh->scale0 + (sh->scale1 - sh->scale0) * u;
      sh->angle[t] = sh->angle0 + sh->spin * t;
      sh->x[t] = sh->x0 + sh->vx * t;
      if (sh->motion == RG_MOTION_BOUNCING && sh->bounce_period >= 4
          && sh->bounce_period <= 4 * RG_SHAPES_MAX_FRAMES
          && sh->bounce_phase >= -4 * RG_SHAPES_MAX_FRAMES
          && sh->bounce_phase <= 4 * RG_SHAPES_MAX_FRAMES) /* else refused by the rules */
        {
          /* Parabolic arcs between contacts: the height above the floor is
           * 4h·τ(p−τ)/p², zero exactly on the contact frames. */
          float p = (float) sh->bounce_period, tau = (float) bounce_tau (sh, t);
          sh->y[t] = sh->y0 - 4.f * sh->bounce_height * tau * (p - tau) / (p * p);
        }
      else
        sh->y[t] = sh->y0 + sh->vy * t;
    }
}

/* Rules 1, 3 and 4 for one shape, on every frame. */
static gboolean
shape_fits (const RgShapesScene *scene, const RgShapesShape *sh, const char **why)
{
  float u = rg_shapes_scene_unit (scene), m = RG_SHAPES_MARGIN * u;
  if (!rg_shapes_motion_allowed (sh->kind, sh->motion))
    return (*why = "rotation of a shape that looks the same rotated"), FALSE;
  if (!rg_shapes_motion_feasible (sh->motion, scene->frames))
    return (*why = "a bounce in a clip too short to show one"), FALSE;
  if (sh->motion == RG_MOTION_BOUNCING && sh->bounce_period < 4)
    return (*why = "a bounce period under 4 frames"), FALSE;
  if (!rg_backdrop_allows_colour (&scene->backdrop, sh->colour)
      || (sh->pattern != RG_PATTERN_NONE
          && !rg_backdrop_allows_colour (&scene->backdrop, sh->colour2)))
    return (*why = "a colour too close to the backdrop"), FALSE;
  if (!(sh->radius >= 2.f * u) || !(sh->radius <= 0.5f * MIN (scene->width, scene->height)))
    return (*why = "a radius outside the frame's range"), FALSE;
  if (!(sh->scale0 >= 0.25f && sh->scale0 <= 4.f) || !(sh->scale1 >= 0.25f && sh->scale1 <= 4.f))
    return (*why = "a scale outside 0.25…4"), FALSE;
  if (!isfinite (sh->angle0) || !isfinite (sh->spin))
    return (*why = "an orientation that is not a number"), FALSE;
  if (sh->pattern != RG_PATTERN_NONE
      && (!(sh->pattern_period >= 0.05f && sh->pattern_period <= 10.f)
          || !isfinite (sh->pattern_angle)))
    return (*why = "a pattern period outside 0.05…10"), FALSE;
  if (sh->motion == RG_MOTION_BOUNCING
      && (sh->bounce_period > 4 * RG_SHAPES_MAX_FRAMES
          || sh->bounce_phase < -4 * RG_SHAPES_MAX_FRAMES
          || sh->bounce_phase > 4 * RG_SHAPES_MAX_FRAMES))
    return (*why = "a bounce period or phase beyond any clip"), FALSE;
  for (int t = 0; t < scene->frames; t++)
    {
      float r = sh->radius * sh->scale[t];
      if (!(sh->x[t] - r >= m - 1e-3f) || !(sh->x[t] + r <= scene->width - m + 1e-3f)
          || !(sh->y[t] - r >= m - 1e-3f) || !(sh->y[t] + r <= scene->height - m + 1e-3f))
        return (*why = "a shape leaving the frame"), FALSE;
    }
  return TRUE;
}

/* Rule 2 between two shapes. */
static gboolean
shapes_apart (const RgShapesScene *scene, const RgShapesShape *a, const RgShapesShape *b)
{
  float gap = RG_SHAPES_GAP * rg_shapes_scene_unit (scene);
  for (int t = 0; t < scene->frames; t++)
    {
      float need = a->radius * a->scale[t] + b->radius * b->scale[t] + gap;
      if (hypotf (a->x[t] - b->x[t], a->y[t] - b->y[t]) < need)
        return FALSE;
    }
  return TRUE;
}

static void
collect_events (RgShapesScene *scene)
{
  scene->n_events = 0;
  for (int t = 0; t < scene->frames; t++)
    for (int s = 0; s < scene->n_shapes; s++)
      {
        const RgShapesShape *sh = &scene->shapes[s];
        if (sh->motion != RG_MOTION_BOUNCING || bounce_tau (sh, t) != 0
            || scene->n_events >= RG_SHAPES_MAX_EVENTS)
          continue;
        RgShapesEvent *ev = &scene->events[scene->n_events++];
        ev->frame = t;
        ev->shape = s;
        ev->time = rg_time_from_frame (t, scene->fps);
        ev->sample = rg_time_to_samples (ev->time, RG_SHAPES_AUDIO_RATE);
      }
}

static gboolean
enums_valid (const RgShapesShape *sh)
{
  return (unsigned) sh->kind < RG_SHAPE_N_KINDS && (unsigned) sh->colour < RG_COLOUR_N
         && (unsigned) sh->size < RG_SIZE_N && (unsigned) sh->motion < RG_MOTION_N
         && (unsigned) sh->pattern < RG_PATTERN_N
         && (sh->pattern == RG_PATTERN_NONE || (unsigned) sh->colour2 < RG_COLOUR_N);
}

gboolean
rg_shapes_scene_plan (RgShapesScene *scene, GError **error)
{
  RgShapesConfig cfg = { scene->width, scene->height, scene->frames, scene->fps,
                         RG_SHAPES_SPLIT_TRAIN };
  if (!rg_shapes_config_check (&cfg, error))
    return FALSE;
  if (scene->n_shapes < 1 || scene->n_shapes > RG_SHAPES_MAX_SHAPES)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "ShapesWorld scene %" G_GUINT64_FORMAT ": %d shapes is outside 1…%d",
                   scene->seed, scene->n_shapes, RG_SHAPES_MAX_SHAPES);
      return FALSE;
    }
  if ((unsigned) scene->backdrop.kind >= RG_BACKDROP_N_KINDS
      || (unsigned) scene->backdrop.colour >= RG_COLOUR_N)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "ShapesWorld scene %" G_GUINT64_FORMAT ": unknown backdrop", scene->seed);
      return FALSE;
    }
  for (int s = 0; s < scene->n_shapes; s++)
    {
      RgShapesShape *sh = &scene->shapes[s];
      const char *why = NULL;
      if (!enums_valid (sh))
        why = "an unknown kind, colour, size, motion or pattern";
      else
        {
          rg_shapes_shape_plan (sh, scene->frames);
          shape_fits (scene, sh, &why);
        }
      for (int o = 0; why == NULL && o < s; o++)
        if (!shapes_apart (scene, sh, &scene->shapes[o]))
          why = "two shapes closer than the gap";
      if (why)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "ShapesWorld scene %" G_GUINT64_FORMAT ", shape %d (%s %s): %s",
                       scene->seed, s, rg_colour_name (sh->colour), rg_shape_kind_name (sh->kind),
                       why);
          return FALSE;
        }
    }
  collect_events (scene);
  return TRUE;
}

static float
uniform (RgRng *rng, float lo, float hi)
{
  return lo + (hi - lo) * (float) rg_rng_double (rng);
}

/* Draw motion parameters and a position for shape s; TRUE when it obeys the
 * rules against the scene's other shapes (0…n_shapes−1 except s). */
gboolean
rg_shapes_place (RgShapesScene *scene, int s, RgRng *rng)
{
  RgShapesShape *sh = &scene->shapes[s];
  float u = rg_shapes_scene_unit (scene), m = RG_SHAPES_MARGIN * u;
  float W = scene->width, H = scene->height, last = scene->frames - 1;

  for (int attempt = 0; attempt < PLACE_ATTEMPTS; attempt++)
    {
      float R = sh->radius;
      sh->vx = sh->vy = sh->spin = 0.f;
      sh->scale0 = sh->scale1 = 1.f;
      sh->bounce_height = 0.f;
      sh->bounce_period = sh->bounce_phase = 0;
      sh->angle0 = uniform (rng, 0.f, 2.f * (float) G_PI);
      if (sh->motion == RG_MOTION_GROWING)
        sh->scale0 = 0.7f, sh->scale1 = 1.3f;
      else if (sh->motion == RG_MOTION_SHRINKING)
        sh->scale0 = 1.3f, sh->scale1 = 0.7f;
      float rr = R * MAX (sh->scale0, sh->scale1);
      /* The box the centre may start in, shrunk below by the travel. */
      float xlo = m + rr, xhi = W - m - rr, ylo = m + rr, yhi = H - m - rr;
      float dx = 0.f, dy = 0.f;

      switch (sh->motion)
        {
        case RG_MOTION_LEFT:
        case RG_MOTION_RIGHT:
          dx = uniform (rng, 0.25f, 0.45f) * W * (sh->motion == RG_MOTION_LEFT ? -1.f : 1.f);
          break;
        case RG_MOTION_UP:
        case RG_MOTION_DOWN:
          dy = uniform (rng, 0.25f, 0.45f) * H * (sh->motion == RG_MOTION_UP ? -1.f : 1.f);
          break;
        case RG_MOTION_DIAGONAL:
          dx = uniform (rng, 0.2f, 0.35f) * W * (rg_rng_range (rng, 0, 2) ? 1.f : -1.f);
          dy = uniform (rng, 0.2f, 0.35f) * H * (rg_rng_range (rng, 0, 2) ? 1.f : -1.f);
          break;
        case RG_MOTION_ROTATING:
          sh->spin = uniform (rng, 0.6f, 1.2f) * (float) G_PI / last
                     * (rg_rng_range (rng, 0, 2) ? 1.f : -1.f);
          break;
        case RG_MOTION_BOUNCING:
          {
            /* 1.25–1.75 s between contacts at 8 fps: a 4× temporal TAE
             * keeps 2.5 or more latent frames of each hop, where the 5–10
             * frames drawn before left it one or two, and its round trip
             * smoothed every bounce away. Short clips fit what they can. */
            int pmax = MIN (14, scene->frames - 2), pmin = MIN (10, pmax);
            sh->bounce_period = rg_rng_range (rng, pmin, pmax + 1);
            /* Dropped from rest: the clip opens at the apex (or one frame
             * past it) and the first contact comes half a period in. A
             * phase drawn anywhere in the period made "bouncing" a
             * caption with a dozen different trajectories, and a small
             * DiT answered it with their average, a still blob stretched
             * over the whole hop. */
            sh->bounce_phase = MAX (1, sh->bounce_period / 2 - rg_rng_range (rng, 0, 2));
            float room = yhi - ylo;
            sh->bounce_height = MIN (uniform (rng, 0.25f, 0.45f) * H, room);
            if (sh->bounce_height < 0.2f * H)
              continue;
            ylo = yhi; /* the contact height is the floor */
          }
          break;
        default:
          break;
        }
      sh->vx = dx / last;
      sh->vy = dy / last;
      /* Start so that the whole travel stays in the box. */
      float sxlo = dx < 0 ? xlo - dx : xlo, sxhi = dx > 0 ? xhi - dx : xhi;
      float sylo = dy < 0 ? ylo - dy : ylo, syhi = dy > 0 ? yhi - dy : yhi;
      if (sxhi < sxlo || syhi < sylo)
        continue;
      sh->x0 = uniform (rng, sxlo, sxhi);
      sh->y0 = uniform (rng, sylo, syhi);
      rg_shapes_shape_plan (sh, scene->frames);

      const char *why = NULL;
      if (!shape_fits (scene, sh, &why))
        continue;
      gboolean apart = TRUE;
      for (int o = 0; apart && o < scene->n_shapes; o++)
        apart = o == s || shapes_apart (scene, sh, &scene->shapes[o]);
      if (apart)
        return TRUE;
    }
  return FALSE;
}

float
rg_shapes_draw_radius (const RgShapesScene *scene, RgShapeSize size, RgRng *rng)
{
  return uniform (rng, size_lo[size], size_hi[size]) * rg_shapes_scene_unit (scene);
}

static gboolean
triple_ok (const RgShapesScene *scene, RgShapesSplit split, RgColour c, RgShapeKind k, RgMotion m)
{
  if (!rg_shapes_motion_allowed (k, m) || !rg_shapes_motion_feasible (m, scene->frames)
      || !rg_backdrop_allows_colour (&scene->backdrop, c))
    return FALSE;
  return rg_shapes_triple_is_heldout (c, k, m) == (split == RG_SHAPES_SPLIT_HELDOUT);
}

gboolean
rg_shapes_draw_attributes (const RgShapesScene *scene, RgShapesSplit split, RgRng *rng,
                           RgShapesShape *sh)
{
  /* Held-out triples are rare (1/11), so list the admissible ones and pick;
   * the same list works for the training split. */
  int n = 0;
  guint16 list[RG_COLOUR_N * RG_SHAPE_N_KINDS * RG_MOTION_N];
  for (int c = 0; c < RG_COLOUR_N; c++)
    for (int k = 0; k < RG_SHAPE_N_KINDS; k++)
      for (int m = 0; m < RG_MOTION_N; m++)
        if (triple_ok (scene, split, c, k, m))
          list[n++] = (guint16) ((c * RG_SHAPE_N_KINDS + k) * RG_MOTION_N + m);
  if (n == 0)
    return FALSE;
  int pick = list[rg_rng_range (rng, 0, n)];
  sh->motion = pick % RG_MOTION_N;
  sh->kind = (pick / RG_MOTION_N) % RG_SHAPE_N_KINDS;
  sh->colour = pick / (RG_MOTION_N * RG_SHAPE_N_KINDS);
  return TRUE;
}

void
rg_shapes_draw_backdrop (RgRng *rng, RgBackdrop *backdrop)
{
  int r = rg_rng_range (rng, 0, 6);
  backdrop->kind = r < 3 ? RG_BACKDROP_SOLID : (RgBackdropKind) (r - 2);
  backdrop->colour = rg_rng_range (rng, 0, RG_COLOUR_N);
}

void
rg_shapes_shape_defaults (RgShapesShape *sh)
{
  memset (sh, 0, sizeof *sh);
  sh->subject_id = -1;
  sh->pattern = RG_PATTERN_NONE;
  sh->scale0 = sh->scale1 = 1.f;
}

gboolean
rg_shapes_scene_sample (const RgShapesConfig *config, uint64_t seed, RgShapesScene *scene,
                        GError **error)
{
  if (!rg_shapes_config_check (config, error))
    return FALSE;
  RgRng rng;
  rg_rng_init (&rng, seed, RG_SHAPES_STREAM_SCENE);

  for (int attempt = 0; attempt < SCENE_ATTEMPTS; attempt++)
    {
      memset (scene, 0, sizeof *scene);
      scene->width = config->width;
      scene->height = config->height;
      scene->frames = config->frames;
      scene->fps = config->fps;
      scene->seed = seed;
      rg_shapes_draw_backdrop (&rng, &scene->backdrop);
      int r = rg_rng_range (&rng, 0, 10);
      int n = r < 5 ? 1 : r < 8 ? 2 : 3;
      gboolean group = n > 1 && rg_rng_range (&rng, 0, 2) == 0;
      gboolean ok = TRUE;

      for (int s = 0; ok && s < n; s++)
        {
          RgShapesShape *sh = &scene->shapes[s];
          rg_shapes_shape_defaults (sh);
          if (group && s > 0)
            {
              sh->colour = scene->shapes[0].colour;
              sh->kind = scene->shapes[0].kind;
              sh->motion = scene->shapes[0].motion;
              sh->size = scene->shapes[0].size;
            }
          else
            {
              /* Distinct colour×kind per shape keeps captions and edit
               * instructions unambiguous ("the red circle"). */
              gboolean distinct = FALSE;
              for (int tries = 0; !distinct && tries < 16; tries++)
                {
                  if (!rg_shapes_draw_attributes (scene, config->split, &rng, sh))
                    break;
                  distinct = TRUE;
                  for (int o = 0; o < s; o++)
                    if (scene->shapes[o].colour == sh->colour && scene->shapes[o].kind == sh->kind)
                      distinct = FALSE;
                }
              if (!distinct)
                {
                  ok = FALSE;
                  break;
                }
              sh->size = rg_rng_range (&rng, 0, n == 3 ? 2 : 3);
            }
          sh->radius = rg_shapes_draw_radius (scene, sh->size, &rng);
          scene->n_shapes = s; /* place against the shapes before it */
          ok = rg_shapes_place (scene, s, &rng);
          scene->n_shapes = s + 1;
        }
      if (ok && rg_shapes_scene_plan (scene, NULL))
        return TRUE;
    }
  g_set_error (error, RG_ERROR, RG_ERROR_FAILED,
               "ShapesWorld: no scene for seed %" G_GUINT64_FORMAT " fits a %d×%d frame", seed,
               config->width, config->height);
  return FALSE;
}
