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
#include <string.h>

typedef struct {
  int backdrop, count, shapes, colour, kind, motion;
  int motion_n[RG_MOTION_N], motion_ok[RG_MOTION_N];
  int kind_n[RG_SHAPE_N_KINDS], kind_ok[RG_SHAPE_N_KINDS];
} Tally;

/* Grade one scene and tally every detector against the description. */
static void
grade_scene (const RgShapesScene *sc, float noise, Tally *tally)
{
  g_autoptr (RgTensor) video = rg_shapes_render (sc);
  if (noise > 0)
    {
      float *x = rg_tensor_f32 (video);
      int64_t n = rg_tensor_numel (video);
      g_autofree float *z = g_new (float, n);
      rg_rng_normal (sc->seed, 77, 0, z, n);
      for (int64_t i = 0; i < n; i++)
        x[i] = CLAMP (x[i] + noise * z[i], -1.f, 1.f);
    }
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
      /* a diagonal must also go the right way */
      RgHeading heading = sh->motion == RG_MOTION_DIAGONAL ? rg_heading_of (sh->vx, sh->vy)
                                                           : RG_HEADING_NONE;
      gboolean motion_ok = hit->motion == sh->motion && hit->heading == heading;
      tally->motion += motion_ok;
      tally->motion_ok[sh->motion] += motion_ok;
      if (g_test_verbose () && (hit->kind != sh->kind || !motion_ok))
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

/* noise: σ of Gaussian noise added to the render (in [−1, 1] units, then
 * clamped), standing in for a decoder's imperfect output. */
static void
validate (int width, int frames, RgShapesSplit split, int n, uint64_t first_seed, float noise,
          const char *what)
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
      grade_scene (&sc, noise, &tally);
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
  validate (64, 16, RG_SHAPES_SPLIT_TRAIN, validation_size (300), 1, 0.f, "64 px, train");
}

static void
test_ground_truth_heldout (void)
{
  validate (64, 16, RG_SHAPES_SPLIT_HELDOUT, validation_size (100), 100000, 0.f,
            "64 px, held-out");
}

static void
test_ground_truth_128 (void)
{
  validate (128, 16, RG_SHAPES_SPLIT_TRAIN, validation_size (300) / 6, 7000, 0.f,
            "128 px, train");
}

static void
test_noisy (void)
{
  /* σ = 0.05 is ~6/255 per channel: the detectors must not depend on
   * exact palette values. */
  validate (64, 16, RG_SHAPES_SPLIT_TRAIN, validation_size (300) / 3, 30000, 0.05f,
            "64 px, noise 0.05");
}

static RgTensor *
gray_video (int T, int H, int W)
{
  return rg_tensor_f32_zeros (4, (int64_t) 3, (int64_t) T, (int64_t) H, (int64_t) W);
}

/* Frame change: 0 for a still video and a single frame; black and white
 * frames alternating change by 1 (the whole [0, 1] scale) every frame;
 * a ShapesWorld scene, whose shapes move over a still backdrop, a little. */
static void
test_frame_change (void)
{
  g_autoptr (RgTensor) still = gray_video (4, 16, 16);
  g_assert_cmpfloat (rg_grade_frame_change (still), ==, 0.0);
  g_autoptr (RgTensor) one = gray_video (1, 16, 16);
  g_assert_cmpfloat (rg_grade_frame_change (one), ==, 0.0);
  g_autoptr (RgTensor) blink = gray_video (4, 16, 16);
  float *p = rg_tensor_f32 (blink);
  for (int64_t i = 0; i < rg_tensor_numel (blink); i++)
    p[i] = (i / (16 * 16)) % 2 ? 1.0f : -1.0f; /* frame index parity, per channel */
  g_assert_cmpfloat_with_epsilon (rg_grade_frame_change (blink), 1.0, 1e-12);

  RgShapesConfig cfg;
  rg_shapes_config_init (&cfg);
  RgShapesScene scene;
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_shapes_scene_sample (&cfg, 3, &scene, &error));
  g_autoptr (RgTensor) video = rg_shapes_render (&scene);
  double change = rg_grade_frame_change (video);
  g_test_message ("scene 3: frame change %.4f", change);
  g_assert_cmpfloat (change, >, 0.0);
  g_assert_cmpfloat (change, <, 0.05);
}

static void
test_psnr_ssim (void)
{
  g_autoptr (GError) error = NULL;
  double psnr, ssim;
  g_autoptr (RgTensor) a = gray_video (4, 32, 32);
  g_autoptr (RgTensor) b = gray_video (4, 32, 32);

  /* Identical: +∞ and 1. */
  g_assert_true (rg_grade_psnr (a, b, &psnr, &error));
  g_assert_true (isinf (psnr) && psnr > 0);
  g_assert_true (rg_grade_ssim (a, b, &ssim, &error));
  g_assert_cmpfloat_with_epsilon (ssim, 1.0, 1e-12);

  /* Black against white: MSE 1 on the [0, 1] scale, 0 dB. */
  g_autoptr (RgTensor) black = gray_video (4, 32, 32), white = gray_video (4, 32, 32);
  rg_tensor_fill (black, -1.f);
  rg_tensor_fill (white, 1.f);
  g_assert_true (rg_grade_psnr (black, white, &psnr, &error));
  g_assert_cmpfloat_with_epsilon (psnr, 0.0, 1e-9);

  /* Gaussian noise of σ = 0.05 in [−1, 1] (0.025 on [0, 1]) on mid grey:
   * PSNR = 10·log10(1/σ²) = 32.04 dB; on a flat image SSIM reduces to
   * C2 / (σ_local² + C2) with σ_local² = σ²·(1 − Σw²) for the Gaussian window. */
  float *x = rg_tensor_f32 (b);
  int64_t n = rg_tensor_numel (b);
  rg_rng_normal (1234, 0, 0, x, n);
  for (int64_t i = 0; i < n; i++)
    x[i] *= 0.05f;
  g_assert_true (rg_grade_psnr (a, b, &psnr, &error));
  g_assert_cmpfloat (fabs (psnr - 10.0 * log10 (1.0 / (0.025 * 0.025))), <, 0.15);
  g_assert_true (rg_grade_ssim (a, b, &ssim, &error));
  double sw2 = 1.0 / (4.0 * G_PI * 1.5 * 1.5), C2 = 0.03 * 0.03;
  double expect = C2 / (0.025 * 0.025 * (1.0 - sw2) + C2);
  g_assert_cmpfloat (fabs (ssim - expect), <, 0.03);

  /* Mismatched videos are refused. */
  g_autoptr (RgTensor) small = gray_video (4, 32, 16);
  g_assert_false (rg_grade_psnr (a, small, &psnr, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_autoptr (RgTensor) tiny = gray_video (1, 8, 8);
  g_assert_false (rg_grade_ssim (tiny, tiny, &ssim, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

static void
test_onset_alignment (void)
{
  /* 90 ticks = 1 ms. */
  const RgTime events[] = { 0, 9000, 18000 }, onsets[] = { 90, 9000, 30000 };
  RgGradeOnsetScore score;
  rg_grade_onset_alignment (events, 3, onsets, 3, 900, &score);
  g_assert_cmpint (score.matched, ==, 2);
  g_assert_cmpfloat_with_epsilon (score.precision, 2.0 / 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (score.recall, 2.0 / 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (score.mean_error_ms, 0.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (score.max_error_ms, 1.0, 1e-9);

  /* A real soundtrack: its onsets match its bounces, and not the bounces
   * one frame later (the detector is not fooled into matching anything). */
  RgShapesConfig cfg;
  rg_shapes_config_init (&cfg);
  int checked = 0;
  for (uint64_t seed = 1; checked < 5; seed++)
    {
      RgShapesScene sc;
      g_assert_true (rg_shapes_scene_sample (&cfg, seed, &sc, NULL));
      if (sc.n_events == 0)
        continue;
      RgTime ev[RG_SHAPES_MAX_EVENTS], late[RG_SHAPES_MAX_EVENTS];
      int n = 0;
      for (int e = 0; e < sc.n_events; e++)
        if (n == 0 || ev[n - 1] != sc.events[e].time)
          {
            ev[n] = sc.events[e].time;
            late[n] = ev[n] + RG_TIME_HZ / 8;
            n++;
          }
      g_autoptr (RgTensor) audio = rg_shapes_soundtrack (&sc);
      g_autoptr (GArray) on = rg_grade_audio_onsets (audio, RG_SHAPES_AUDIO_RATE);
      rg_grade_onset_alignment (ev, n, (RgTime *) on->data, on->len, RG_TIME_HZ / 50, &score);
      g_assert_cmpfloat (score.recall, ==, 1.0);
      g_assert_cmpfloat (score.precision, ==, 1.0);
      g_assert_cmpfloat (score.max_error_ms, <, 0.1);
      rg_grade_onset_alignment (late, n, (RgTime *) on->data, on->len, RG_TIME_HZ / 50, &score);
      g_assert_cmpint (score.matched, <, n);
      checked++;
    }
}

static void
test_prompts (void)
{
  g_autoptr (GError) error = NULL;
  RgPromptIntent in;

  g_assert_true (rg_grade_parse_prompt ("a red circle bouncing on a blue background", &in, &error));
  g_assert_cmpint (in.n_groups, ==, 1);
  g_assert_cmpint (in.groups[0].count, ==, 1);
  g_assert_cmpint (in.groups[0].colour, ==, RG_COLOUR_RED);
  g_assert_cmpint (in.groups[0].kind, ==, RG_SHAPE_CIRCLE);
  g_assert_cmpint (in.groups[0].motion, ==, RG_MOTION_BOUNCING);
  g_assert_true (in.has_backdrop);
  g_assert_cmpint (in.backdrop.kind, ==, RG_BACKDROP_SOLID);
  g_assert_cmpint (in.backdrop.colour, ==, RG_COLOUR_BLUE);
  g_assert_cmpfloat (in.fps, ==, 0.0);

  g_assert_true (rg_grade_parse_prompt ("Two small yellow stars drift left over a gradient sky",
                                        &in, &error));
  g_assert_cmpint (in.groups[0].count, ==, 2);
  g_assert_cmpint (in.groups[0].size, ==, RG_SIZE_SMALL);
  g_assert_cmpint (in.groups[0].colour, ==, RG_COLOUR_YELLOW);
  g_assert_cmpint (in.groups[0].kind, ==, RG_SHAPE_STAR);
  g_assert_cmpint (in.groups[0].motion, ==, RG_MOTION_LEFT);
  g_assert_cmpint (in.backdrop.kind, ==, RG_BACKDROP_SKY);

  g_assert_true (rg_grade_parse_prompt ("A big green square spinning and a white ring moving "
                                        "diagonally up in front of a sunset. FPS-16",
                                        &in, &error));
  g_assert_cmpint (in.n_groups, ==, 2);
  g_assert_cmpint (in.groups[0].size, ==, RG_SIZE_LARGE);
  g_assert_cmpint (in.groups[0].motion, ==, RG_MOTION_ROTATING);
  g_assert_cmpint (in.groups[1].colour, ==, RG_COLOUR_WHITE);
  g_assert_cmpint (in.groups[1].kind, ==, RG_SHAPE_RING);
  g_assert_cmpint (in.groups[1].motion, ==, RG_MOTION_DIAGONAL);
  g_assert_cmpint (in.groups[1].heading, ==, RG_HEADING_NONE); /* "up" alone is half of one */
  g_assert_cmpint (in.groups[0].heading, ==, RG_HEADING_NONE);
  g_assert_cmpint (in.backdrop.kind, ==, RG_BACKDROP_SUNSET);
  g_assert_cmpfloat (in.fps, ==, 16.0);

  /* A diagonal's heading, in each caption variant's words; direction words
   * stay with their own group, and a non-diagonal motion has none. */
  static const struct { const char *prompt; RgHeading heading; } headings[] = {
    { "a red circle moving diagonally up and to the left on a blue background", RG_HEADING_UP_LEFT },
    { "two pink stars drifting diagonally down and right", RG_HEADING_DOWN_RIGHT },
    { "a ring gliding diagonally toward the lower left", RG_HEADING_DOWN_LEFT },
    { "a green square sliding left and a ring gliding diagonally toward the upper right",
      RG_HEADING_UP_RIGHT },
  };
  for (guint i = 0; i < G_N_ELEMENTS (headings); i++)
    {
      g_assert_true (rg_grade_parse_prompt (headings[i].prompt, &in, &error));
      const RgPromptGroup *last = &in.groups[in.n_groups - 1];
      g_assert_cmpint (last->motion, ==, RG_MOTION_DIAGONAL);
      g_assert_cmpint (last->heading, ==, headings[i].heading);
      g_assert_cmpint (in.groups[0].heading, ==, in.n_groups == 1 ? headings[i].heading
                                                                   : RG_HEADING_NONE);
    }

  g_assert_true (rg_grade_parse_prompt ("purple triangles", &in, &error));
  g_assert_cmpint (in.groups[0].count, ==, 2); /* a bare plural is more than one */
  g_assert_cmpint (in.groups[0].motion, ==, RG_GRADE_UNKNOWN);
  g_assert_false (in.has_backdrop);

  g_assert_false (rg_grade_parse_prompt ("a sunset over the sea", &in, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rg_grade_parse_prompt ("", &in, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

static void
test_judge (void)
{
  /* A clip judged against its own caption passes everything; against the
   * caption of a clip with other colours, colour fails. */
  RgShapesConfig cfg;
  rg_shapes_config_init (&cfg);
  RgShapesScene a, b;
  g_assert_true (rg_shapes_scene_sample (&cfg, 11, &a, NULL));
  uint64_t seed = 12;
  do
    g_assert_true (rg_shapes_scene_sample (&cfg, seed++, &b, NULL));
  while (b.n_shapes != 1 || a.n_shapes != 1 || b.shapes[0].colour == a.shapes[0].colour);

  g_autoptr (RgTensor) video = rg_shapes_render (&a);
  RgGradeReport rep;
  g_assert_true (rg_grade_video (video, &rep, NULL));
  g_autofree char *own = rg_shapes_caption (&a, 0);
  g_autofree char *other = rg_shapes_caption (&b, 0);
  RgPromptIntent in;
  RgGradeVerdict v;
  g_assert_true (rg_grade_parse_prompt (own, &in, NULL));
  rg_grade_judge (&in, &rep, &v);
  g_assert_cmpint (v.colour, ==, 1);
  g_assert_cmpint (v.shape, ==, 1);
  g_assert_cmpint (v.count, ==, 1);
  g_assert_cmpint (v.motion, ==, 1);
  g_assert_cmpint (v.backdrop, ==, 1);
  g_assert_true (rg_grade_parse_prompt (other, &in, NULL));
  rg_grade_judge (&in, &rep, &v);
  g_assert_cmpint (v.colour, ==, 0);

  /* A diagonal clip judged against its caption: right; against the same
   * caption with the opposite heading: the motion is wrong. */
  seed = 100;
  do
    g_assert_true (rg_shapes_scene_sample (&cfg, seed++, &a, NULL));
  while (a.n_shapes != 1 || a.shapes[0].motion != RG_MOTION_DIAGONAL);
  g_autoptr (RgTensor) diagonal = rg_shapes_render (&a);
  g_assert_true (rg_grade_video (diagonal, &rep, NULL));
  for (uint64_t variant = 0; variant < 6; variant++)
    {
      g_autofree char *caption = rg_shapes_caption (&a, variant);
      g_assert_nonnull (strstr (caption, "diagonally "));
      g_assert_true (rg_grade_parse_prompt (caption, &in, NULL));
      g_assert_cmpint (in.groups[0].heading, ==, rg_heading_of (a.shapes[0].vx, a.shapes[0].vy));
      rg_grade_judge (&in, &rep, &v);
      g_assert_cmpint (v.motion, ==, 1);
      in.groups[0].heading = rg_heading_of (-a.shapes[0].vx, -a.shapes[0].vy);
      rg_grade_judge (&in, &rep, &v);
      g_assert_cmpint (v.motion, ==, 0);
      in.groups[0].heading = RG_HEADING_NONE; /* "moving diagonally", any way */
      rg_grade_judge (&in, &rep, &v);
      g_assert_cmpint (v.motion, ==, 1);
    }
}

static void
test_subject_similarity (void)
{
  /* A subject's own clips look like it; a subject of another kind and
   * other colours does not. */
  RgShapesConfig cfg;
  rg_shapes_config_init (&cfg);
  double own_min = 1, other_max = 0;
  for (int id = 0; id < 30; id++)
    {
      RgShapesSubject s, o;
      rg_shapes_subject_get (id, &s);
      int j = 1000 + id;
      do
        rg_shapes_subject_get (j++, &o);
      while (o.kind == s.kind || o.colour == s.colour || o.colour == s.colour2
             || o.colour2 == s.colour || o.colour2 == s.colour2);
      RgShapesScene sc;
      g_assert_true (rg_shapes_subject_scene (&cfg, &s, 5, &sc, NULL));
      g_autoptr (RgTensor) video = rg_shapes_render (&sc);
      double own, other;
      g_autoptr (GError) error = NULL;
      g_assert_true (rg_grade_subject (video, &s, &own, &error));
      g_assert_true (rg_grade_subject (video, &o, &other, &error));
      own_min = MIN (own_min, own);
      other_max = MAX (other_max, other);
    }
  g_print ("# subject similarity: own clips >= %.2f, other subjects <= %.2f\n", own_min, other_max);
  g_assert_cmpfloat (own_min, >=, 0.85);
  g_assert_cmpfloat (other_max, <=, 0.5);
}

static void
test_refusals (void)
{
  g_autoptr (GError) error = NULL;
  RgGradeReport rep;
  g_autoptr (RgTensor) four = rg_tensor_f32_zeros (4, (int64_t) 4, (int64_t) 2, (int64_t) 64,
                                                   (int64_t) 64);
  g_assert_false (rg_grade_video (four, &rep, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_autoptr (RgTensor) tiny = gray_video (2, 8, 8);
  g_assert_false (rg_grade_video (tiny, &rep, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* NaN pixels from a broken generation are read, not crashed on. */
  g_autoptr (RgTensor) broken = gray_video (4, 64, 64);
  rg_tensor_fill (broken, NAN);
  g_assert_true (rg_grade_video (broken, &rep, &error));
  g_assert_cmpint (rep.backdrop.kind, ==, RG_BACKDROP_SOLID);
  g_assert_cmpint (rep.backdrop.colour, ==, RG_COLOUR_BLACK);

  /* Pure noise (a diverged model) is read without overflowing anything. */
  g_autoptr (RgTensor) noise = gray_video (16, 64, 64);
  rg_rng_uniform (99, 0, 0, rg_tensor_f32 (noise), rg_tensor_numel (noise));
  for (int64_t i = 0; i < rg_tensor_numel (noise); i++)
    rg_tensor_f32 (noise)[i] = 2.f * rg_tensor_f32 (noise)[i] - 1.f;
  g_assert_true (rg_grade_video (noise, &rep, &error));
  g_assert_cmpint (rep.n_tracks, <=, RG_GRADE_MAX_OBJECTS);

  /* An empty clip is read as no objects, not as garbage. */
  g_autoptr (RgTensor) empty = gray_video (4, 64, 64);
  g_assert_true (rg_grade_video (empty, &rep, &error));
  g_assert_cmpint (rep.n_objects, ==, 0);
  g_assert_cmpint (rep.n_tracks, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/grade/ground-truth/64", test_ground_truth_64);
  g_test_add_func ("/grade/ground-truth/heldout", test_ground_truth_heldout);
  g_test_add_func ("/grade/ground-truth/128", test_ground_truth_128);
  g_test_add_func ("/grade/ground-truth/noisy", test_noisy);
  g_test_add_func ("/grade/psnr-ssim", test_psnr_ssim);
  g_test_add_func ("/grade/frame-change", test_frame_change);
  g_test_add_func ("/grade/onset-alignment", test_onset_alignment);
  g_test_add_func ("/grade/prompts", test_prompts);
  g_test_add_func ("/grade/judge", test_judge);
  g_test_add_func ("/grade/subject-similarity", test_subject_similarity);
  g_test_add_func ("/grade/refusals", test_refusals);
  return g_test_run ();
}
