/* ShapesBench graders: validated on ground-truth ShapesWorld renders (each
 * detector ≥ 98% right), PSNR/SSIM on known cases, click onsets, prompts.
 *
 * RG_SHAPES_VALIDATE_N=5000 runs a larger validation than the default. */
#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "train/rg-grade.h"
#include "train/rg-shapes.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
  int backdrop, count, shapes, colour, kind, motion;
  int motion_n[RG_MOTION_N], motion_ok[RG_MOTION_N];
  int kind_n[RG_SHAPE_N_KINDS], kind_ok[RG_SHAPE_N_KINDS];
} Tally;

/* Grade one scene and tally every detector against the description. */
static void
grade_scene (const RgShapesScene *sc, Tally *tally)
{
  g_autoptr (RgTensor) video = rg_shapes_render (sc);
  g_autoptr (GError) error = NULL;
  RgGradeReport rep;
  g_assert_true (rg_grade_video (video, &rep, &error));
  g_assert_no_error (error);

  tally->backdrop += rg_backdrop_equal (&rep.backdrop, &sc->backdrop);
  tally->count += rep.n_objects == sc->n_shapes;
  float u = rg_shapes_scene_unit (sc);
  for (int s = 0; s < sc->n_shapes; s++)
    {
      const RgShapesShape *sh = &sc->shapes[s];
      const RgGradeObject *hit = NULL;
      for (int o = 0; o < rep.n_tracks; o++)
        if (hypotf (rep.objects[o].x - sh->x[0], rep.objects[o].y - sh->y[0]) < 3.f * u)
          hit = &rep.objects[o];
      tally->shapes++;
      tally->motion_n[sh->motion]++;
      tally->kind_n[sh->kind]++;
      if (!hit)
        continue;
      tally->colour += hit->colour == sh->colour;
      tally->kind += hit->kind == sh->kind;
      tally->kind_ok[sh->kind] += hit->kind == sh->kind;
      tally->motion += hit->motion == sh->motion;
      tally->motion_ok[sh->motion] += hit->motion == sh->motion;
      if (g_test_verbose () && (hit->kind != sh->kind || hit->motion != sh->motion))
        g_test_message ("seed %" G_GUINT64_FORMAT " shape %d: %s %s %s (r %.1f) read as %s %s "
                        "(solidity %.2f compactness %.2f hole %.2f)",
                        sc->seed, s, rg_colour_name (sh->colour), rg_shape_kind_name (sh->kind),
                        rg_motion_name (sh->motion), sh->radius, rg_shape_kind_name (hit->kind),
                        rg_motion_name (hit->motion), hit->solidity, hit->compactness,
                        hit->hole_fraction);
    }
}

static void
check_tally (const char *what, const Tally *t, int scenes)
{
  double acc[5] = { (double) t->backdrop / scenes, (double) t->count / scenes,
                    (double) t->colour / t->shapes, (double) t->kind / t->shapes,
                    (double) t->motion / t->shapes };
  g_print ("# %s: %d scenes, %d shapes: backdrop %.1f%%, count %.1f%%, colour %.1f%%, "
           "shape %.1f%%, motion %.1f%%\n",
           what, scenes, t->shapes, 100 * acc[0], 100 * acc[1], 100 * acc[2], 100 * acc[3],
           100 * acc[4]);
  for (int m = 0; m < RG_MOTION_N; m++)
    if (t->motion_n[m])
      g_print ("#   motion %-9s %5.1f%% of %d\n", rg_motion_name (m),
               100.0 * t->motion_ok[m] / t->motion_n[m], t->motion_n[m]);
  for (int k = 0; k < RG_SHAPE_N_KINDS; k++)
    if (t->kind_n[k])
      g_print ("#   shape  %-9s %5.1f%% of %d\n", rg_shape_kind_name (k),
               100.0 * t->kind_ok[k] / t->kind_n[k], t->kind_n[k]);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (acc[i], >=, 0.98);
}

static void
validate (int width, int frames, RgShapesSplit split, int n, uint64_t first_seed, const char *what)
{
  RgShapesConfig cfg;
  rg_shapes_config_init (&cfg);
  cfg.width = cfg.height = width;
  cfg.frames = frames;
  cfg.split = split;
  Tally tally = { 0 };
  for (int i = 0; i < n; i++)
    {
      RgShapesScene sc;
      g_autoptr (GError) error = NULL;
      g_assert_true (rg_shapes_scene_sample (&cfg, first_seed + i, &sc, &error));
      grade_scene (&sc, &tally);
    }
  check_tally (what, &tally, n);
}

static int
validation_size (int fallback)
{
  const char *env = g_getenv ("RG_SHAPES_VALIDATE_N");
  return env ? MAX (1, atoi (env)) : fallback;
}

static void
test_ground_truth_64 (void)
{
  validate (64, 16, RG_SHAPES_SPLIT_TRAIN, validation_size (300), 1, "64 px, train");
}

static void
test_ground_truth_heldout (void)
{
  validate (64, 16, RG_SHAPES_SPLIT_HELDOUT, validation_size (100), 100000, "64 px, held-out");
}

static void
test_ground_truth_128 (void)
{
  validate (128, 16, RG_SHAPES_SPLIT_TRAIN, validation_size (300) / 6, 7000, "128 px, train");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/grade/ground-truth/64", test_ground_truth_64);
  g_test_add_func ("/grade/ground-truth/heldout", test_ground_truth_heldout);
  g_test_add_func ("/grade/ground-truth/128", test_ground_truth_128);
  return g_test_run ();
}
