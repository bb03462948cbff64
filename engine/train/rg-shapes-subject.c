/* rg-shapes-subject.c — textured "subjects" for personalization.
 *
 * A subject is a shape with a two-colour pattern (stripes, dots or checks)
 * drawn from its id alone, so a reference image and any number of videos of
 * the same subject agree without storing anything. */
#include "train/rg-shapes-private.h"

#include "core/rg-error.h"

#include <math.h>

static const char *const pattern_names[RG_PATTERN_N] = { "plain", "stripes", "dots", "checks" };

const char *
rg_pattern_name (RgPattern pattern)
{
  return (unsigned) pattern < RG_PATTERN_N ? pattern_names[pattern] : "?";
}

static float
colour_distance (RgColour a, RgColour b)
{
  float x[3], y[3];
  rg_colour_rgb (a, x);
  rg_colour_rgb (b, y);
  return sqrtf ((x[0] - y[0]) * (x[0] - y[0]) + (x[1] - y[1]) * (x[1] - y[1])
                + (x[2] - y[2]) * (x[2] - y[2]));
}

void
rg_shapes_subject_get (int id, RgShapesSubject *subject)
{
  g_return_if_fail (id >= 0);
  RgRng rng;
  rg_rng_init (&rng, (uint64_t) id, RG_SHAPES_STREAM_SUBJECT);
  subject->id = id;
  /* Rings are too thin to show a pattern; the other kinds carry one. */
  subject->kind = rg_rng_range (&rng, 0, RG_SHAPE_RING);
  subject->pattern = rg_rng_range (&rng, RG_PATTERN_STRIPES, RG_PATTERN_N);
  subject->colour = rg_rng_range (&rng, 0, RG_COLOUR_N);
  /* The second colour must stand out from the first, or the pattern vanishes. */
  do
    subject->colour2 = rg_rng_range (&rng, 0, RG_COLOUR_N);
  while (colour_distance (subject->colour, subject->colour2) < 120.f);
  subject->period = 0.35f + 0.35f * (float) rg_rng_double (&rng);
  subject->angle = (float) (G_PI * rg_rng_double (&rng));
}

static void
dress (RgShapesShape *sh, const RgShapesSubject *subject)
{
  sh->kind = subject->kind;
  sh->colour = subject->colour;
  sh->colour2 = subject->colour2;
  sh->pattern = subject->pattern;
  sh->pattern_period = subject->period;
  sh->pattern_angle = subject->angle;
  sh->subject_id = subject->id;
}

gboolean
rg_shapes_subject_scene (const RgShapesConfig *config, const RgShapesSubject *subject,
                         uint64_t seed, RgShapesScene *scene, GError **error)
{
  if (!rg_shapes_config_check (config, error))
    return FALSE;
  RgRng rng;
  rg_rng_init (&rng, seed, RG_SHAPES_STREAM_SUBJECT ^ ((uint64_t) subject->id << 32));
  for (int attempt = 0; attempt < 64; attempt++)
    {
      memset (scene, 0, sizeof *scene);
      scene->width = config->width;
      scene->height = config->height;
      scene->frames = config->frames;
      scene->fps = config->fps;
      scene->seed = seed;
      scene->n_shapes = 0;
      rg_shapes_draw_backdrop (&rng, &scene->backdrop);
      RgShapesShape *sh = &scene->shapes[0];
      rg_shapes_shape_defaults (sh);
      dress (sh, subject);
      sh->motion = rg_rng_range (&rng, 0, RG_MOTION_N);
      /* Medium or large, so the pattern has room. */
      sh->size = rg_rng_range (&rng, RG_SIZE_MEDIUM, RG_SIZE_N);
      sh->radius = rg_shapes_draw_radius (scene, sh->size, &rng);
      if (rg_shapes_place (scene, 0, &rng))
        {
          scene->n_shapes = 1;
          if (rg_shapes_scene_plan (scene, NULL))
            return TRUE;
        }
    }
  g_set_error (error, RG_ERROR, RG_ERROR_FAILED,
               "ShapesWorld: no scene for subject %d and seed %" G_GUINT64_FORMAT, subject->id,
               seed);
  return FALSE;
}

RgTensor *
rg_shapes_subject_reference (const RgShapesSubject *subject, int size)
{
  g_return_val_if_fail (size >= 16 && size <= 4096, NULL);
  RgShapesScene scene = { 0 };
  scene.width = scene.height = size;
  scene.frames = 1;
  scene.fps = (RgRational) { 1, 1 };
  scene.seed = (uint64_t) subject->id;
  /* The backdrop: the first of these plain colours that both pattern
   * colours stand out from (rule 3). */
  static const RgColour plain[] = { RG_COLOUR_WHITE, RG_COLOUR_BLACK, RG_COLOUR_BLUE,
                                    RG_COLOUR_YELLOW, RG_COLOUR_GREEN };
  scene.backdrop.kind = RG_BACKDROP_SOLID;
  scene.backdrop.colour = plain[0];
  for (guint i = 0; i < G_N_ELEMENTS (plain); i++)
    {
      RgBackdrop bd = { RG_BACKDROP_SOLID, plain[i] };
      if (rg_backdrop_allows_colour (&bd, subject->colour)
          && rg_backdrop_allows_colour (&bd, subject->colour2))
        {
          scene.backdrop = bd;
          break;
        }
    }
  scene.n_shapes = 1;
  RgShapesShape *sh = &scene.shapes[0];
  rg_shapes_shape_defaults (sh);
  dress (sh, subject);
  sh->size = RG_SIZE_LARGE;
  sh->radius = 0.38f * size;
  sh->x0 = sh->y0 = 0.5f * size;
  rg_shapes_shape_plan (sh, 1);
  return rg_shapes_render (&scene);
}
