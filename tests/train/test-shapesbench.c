/* ShapesBench: its grading path gives 100% on ground-truth renders, and
 * `reelgen bench shapes` reports a random model honestly and grades a given
 * clip against a given prompt. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "core/rg-error.h"
#include "train/rg-shapesbench.h"

/* The bench's own grading (parse the caption, detect, judge, tally) on
 * ground-truth renders of the split's scenes, generation bypassed. */
static void
grade_ground_truth (RgShapesSplit split, guint64 seed, int n)
{
  RgShapesConfig cfg;
  rg_shapes_config_init (&cfg);
  cfg.split = split;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) prompts = rg_shapesbench_default_prompts (&cfg, seed, n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (prompts), ==, n);

  RgShapesBenchResult result = { 0 };
  for (int i = 0; i < n; i++)
    {
      RgShapesScene scene;
      g_assert_true (rg_shapes_scene_sample (&cfg, seed + i, &scene, &error));
      g_autoptr (RgTensor) video = rg_shapes_render (&scene);
      RgGradeReport report;
      RgGradeVerdict v;
      RgPromptIntent intent;
      g_assert_true (rg_shapesbench_grade (video, prompts[i], &intent, &report, &v, &error));
      g_assert_no_error (error);
      if (v.colour == 0 || v.shape == 0 || v.count == 0 || v.motion == 0 || v.backdrop == 0)
        g_test_message ("seed %" G_GUINT64_FORMAT " “%s”: colour %d shape %d count %d motion %d "
                        "background %d",
                        seed + i, prompts[i], v.colour, v.shape, v.count, v.motion, v.backdrop);
      rg_shapesbench_tally (&result, &intent, &report, &v);
    }
  const RgShapesBenchScore *scores[]
      = { &result.colour, &result.shape, &result.count, &result.motion, &result.backdrop };
  g_print ("# ground truth (%s, %d scenes): colour %d/%d shape %d/%d count %d/%d motion %d/%d "
           "background %d/%d\n",
           split == RG_SHAPES_SPLIT_HELDOUT ? "held-out" : "train", n, result.colour.right,
           result.colour.asked, result.shape.right, result.shape.asked, result.count.right,
           result.count.asked, result.motion.right, result.motion.asked, result.backdrop.right,
           result.backdrop.asked);
  for (guint i = 0; i < G_N_ELEMENTS (scores); i++)
    {
      /* Every caption names colour, shape and count; some skip the rest. */
      g_assert_cmpint (scores[i]->asked, >, i < 3 ? n - 1 : 0);
      g_assert_cmpint (scores[i]->right, ==, scores[i]->asked);
    }
  /* Per class: every shape group is counted once, and on ground truth each
   * class is seen as itself and nothing else. */
  int shape_groups = 0;
  for (int k = 0; k < RG_SHAPE_N_KINDS; k++)
    {
      const RgShapesBenchClass *c = &result.by_shape[k];
      shape_groups += c->asked;
      g_assert_cmpint (c->right, ==, c->asked);
      g_assert_cmpint (c->seen[k], ==, c->asked);
      g_assert_cmpint (c->none, ==, 0);
    }
  g_assert_cmpint (shape_groups, >=, n);
  int motion_classes = 0;
  for (int k = 0; k < RG_MOTION_N; k++)
    {
      g_assert_cmpint (result.by_motion[k].right, ==, result.by_motion[k].asked);
      motion_classes += result.by_motion[k].asked > 0;
    }
  g_assert_cmpint (motion_classes, >=, 5);
}

static void
test_ground_truth_heldout (void)
{
  grade_ground_truth (RG_SHAPES_SPLIT_HELDOUT, 0, 60);
}

static void
test_ground_truth_train (void)
{
  grade_ground_truth (RG_SHAPES_SPLIT_TRAIN, 500, 40);
}

/* Pipeline frames → [-1, 1] video: the inverse of the pipeline's own
 * quantisation, channel-planar. */
static void
test_frames_to_video (void)
{
  g_autoptr (RgTensor) frames = rg_tensor_new (RG_U8, 4, (int64_t[]){ 2, 1, 2, 3 });
  guint8 *px = frames->data;
  for (int i = 0; i < 12; i++)
    px[i] = (guint8)(i == 0 ? 0 : i == 1 ? 255 : 10 * i);
  g_autoptr (RgTensor) video = rg_shapesbench_frames_to_video (frames);
  g_assert_cmpint (video->shape[0], ==, 3);
  g_assert_cmpint (video->shape[1], ==, 2);
  const float *x = rg_tensor_f32 (video);
  g_assert_cmpfloat (x[0], ==, -1.f);                              /* R of (t0, 0, 0) */
  g_assert_cmpfloat (x[4], ==, 1.f);                               /* G of (t0, 0, 0) */
  g_assert_cmpfloat_with_epsilon (x[4 + 1], 40 / 127.5 - 1, 1e-6); /* G of (t0, 0, 1) */
}

/* A clip far larger than any ShapesWorld frame is refused before its
 * frames are gathered, not decoded into gigabytes. */
static void
test_large_clip_refused (void)
{
  g_autofree char *dir = g_dir_make_tmp ("shapesbench-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "large.mp4", NULL);
  g_autoptr (RgTensor) frames = rg_tensor_zeros (RG_U8, 4, (int64_t[]){ 2, 1024, 1040, 3 });
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_t2v_write (frames, (RgRational){ 8, 1 }, path, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (RgTensor) video = rg_shapesbench_load_clip (path, &error);
  g_assert_null (video);
  g_assert_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "too large"));
  g_unlink (path);
  g_rmdir (dir);
}

static char *
run_cli_full (const char *const *args, int *status, char **stderr_text)
{
  const char *reelgen = g_getenv ("REELGEN");
  g_assert_nonnull (reelgen);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer)reelgen);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  g_autofree char *err = NULL;
  char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               &err, status, &error));
  g_assert_no_error (error);
  if (g_test_verbose () || !g_spawn_check_wait_status (*status, NULL))
    g_test_message ("stdout:\n%s\nstderr:\n%s", out, err);
  if (stderr_text)
    *stderr_text = g_steal_pointer (&err);
  return out;
}

static char *
run_cli (const char *const *args, int *status)
{
  return run_cli_full (args, status, NULL);
}

static JsonObject *
load_json (JsonParser *parser, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static const char *const ATTRIBUTES[] = { "colour", "shape", "count", "motion", "background" };

/* Two held-out prompts, two steps, on the random stand-in (no checkpoint
 * ships yet; with one, the bench grades it and says so). */
static void
test_cli_default_prompts (void)
{
  g_autofree char *dir = g_dir_make_tmp ("shapesbench-XXXXXX", NULL);
  g_autofree char *json = g_build_filename (dir, "bench.json", NULL);
  int status;
  g_autofree char *out
      = run_cli ((const char *const[]){ "bench", "shapes", "--prompts", "2", "--steps", "2",
                                        "--schedule", "linear", "--recon", "1", "--json", json,
                                        NULL },
                 &status);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "ShapesBench — model: nano-t2v"));
  for (guint i = 0; i < G_N_ELEMENTS (ATTRIBUTES); i++)
    g_assert_nonnull (strstr (out, ATTRIBUTES[i]));

  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = load_json (parser, json);
  JsonObject *model = json_object_get_object_member (root, "model");
  g_assert_cmpstr (json_object_get_string_member (model, "config"), ==, "nano-t2v");
  gboolean random_init = json_object_get_boolean_member (model, "random_init");
  if (random_init)
    g_assert_nonnull (strstr (out, "WARNING: untrained"));
  g_assert_cmpstr (json_object_get_string_member (root, "prompts"), ==, "heldout");
  g_assert_cmpint (json_object_get_int_member (root, "n"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (root, "steps"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (root, "schedule"), ==, "linear");

  /* Accuracy is right/asked of the per-item verdicts, and random weights
   * do not draw ShapesWorld: they must not score everything right. */
  JsonObject *acc = json_object_get_object_member (root, "accuracy");
  JsonObject *scores = json_object_get_object_member (root, "scores");
  JsonArray *items = json_object_get_array_member (root, "items");
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  double sum = 0;
  int n_acc = 0;
  for (guint i = 0; i < G_N_ELEMENTS (ATTRIBUTES); i++)
    {
      JsonObject *sc = json_object_get_object_member (scores, ATTRIBUTES[i]);
      gint64 right = json_object_get_int_member (sc, "right");
      gint64 asked = json_object_get_int_member (sc, "asked");
      gint64 right_items = 0, asked_items = 0;
      for (guint k = 0; k < 2; k++)
        {
          JsonObject *correct
              = json_object_get_object_member (json_array_get_object_element (items, k), "correct");
          JsonNode *v = json_object_get_member (correct, ATTRIBUTES[i]);
          if (JSON_NODE_HOLDS_NULL (v))
            continue;
          asked_items++;
          right_items += json_node_get_boolean (v);
        }
      g_assert_cmpint (right, ==, right_items);
      g_assert_cmpint (asked, ==, asked_items);
      if (asked > 0)
        {
          double a = json_object_get_double_member (acc, ATTRIBUTES[i]);
          g_assert_cmpfloat_with_epsilon (a, (double)right / asked, 1e-9);
          sum += a, n_acc++;
        }
      else
        g_assert_true (json_object_get_null_member (acc, ATTRIBUTES[i]));
    }
  g_assert_cmpint (n_acc, >=, 3);
  if (random_init)
    g_assert_cmpfloat (sum / n_acc, <, 1.0);

  /* each item says what its prompt asked for, in words the prompt holds */
  for (guint k = 0; k < 2; k++)
    {
      JsonObject *item = json_array_get_object_element (items, k);
      const char *prompt = json_object_get_string_member (item, "prompt");
      JsonObject *asked = json_object_get_object_member (item, "asked");
      JsonArray *groups = json_object_get_array_member (asked, "groups");
      g_assert_cmpuint (json_array_get_length (groups), >=, 1);
      JsonObject *g0 = json_array_get_object_element (groups, 0);
      g_assert_nonnull (strstr (prompt, json_object_get_string_member (g0, "shape")));
      g_assert_nonnull (strstr (prompt, json_object_get_string_member (g0, "colour")));
      g_assert_cmpint (json_object_get_int_member (g0, "count"), >=, 1);
      g_assert_true (json_object_has_member (g0, "motion"));
    }

  /* the per-class tables count each item's first group under its asked
   * shape and motion, with what was seen there */
  JsonObject *by_shape = json_object_get_object_member (root, "by_shape");
  JsonObject *by_motion = json_object_get_object_member (root, "by_motion");
  for (guint k = 0; k < 2; k++)
    {
      JsonObject *item = json_array_get_object_element (items, k);
      JsonObject *g0 = json_array_get_object_element (
          json_object_get_array_member (json_object_get_object_member (item, "asked"), "groups"),
          0);
      JsonObject *cls = json_object_get_object_member (by_shape,
                                                       json_object_get_string_member (g0, "shape"));
      g_assert_nonnull (cls);
      gint64 asked = json_object_get_int_member (cls, "asked");
      gint64 right = json_object_get_int_member (cls, "right");
      gint64 seen_sum = json_object_get_int_member (cls, "none");
      JsonObject *seen = json_object_get_object_member (cls, "seen");
      g_autoptr (GList) names = json_object_get_members (seen);
      for (GList *l = names; l; l = l->next)
        seen_sum += json_object_get_int_member (seen, l->data);
      g_assert_cmpint (asked, >=, 1);
      g_assert_cmpint (seen_sum, ==, asked);
      g_assert_cmpint (right, <=, asked);
      const char *motion = json_object_get_string_member (g0, "motion");
      if (motion != NULL)
        g_assert_true (json_object_has_member (by_motion, motion));
    }

  JsonObject *tae = json_object_get_object_member (root, "tae");
  g_assert_cmpint (json_object_get_int_member (tae, "scenes"), ==, 1);
  double psnr = json_object_get_double_member (tae, "psnr_mean");
  double ssim = json_object_get_double_member (tae, "ssim_mean");
  g_assert_true (isfinite (psnr) && psnr > 0);
  g_assert_cmpfloat (ssim, <=, 1.0);
  double stability = json_object_get_double_member (tae, "stability_psnr");
  g_assert_true (isfinite (stability) && stability > 0);
  /* the split's own prompts: the clips' and their scenes' frame change */
  JsonObject *change = json_object_get_object_member (root, "frame_change");
  g_assert_false (json_object_get_null_member (change, "clips")); /* measured, not NaN */
  g_assert_cmpfloat (json_object_get_double_member (change, "clips"), >=, 0.0);
  g_assert_cmpfloat (json_object_get_double_member (change, "scenes"), >, 0.0);
  if (random_init)
    g_assert_cmpfloat (psnr, <, 25.0); /* a random TAE does not reconstruct */

  g_unlink (json);
  g_rmdir (dir);
}

/* A ground-truth render written as H.264 and graded through the CLI against
 * its own caption passes every attribute; against another scene's caption
 * colour fails; a file that is not a video is a clear error. */
static void
test_cli_clip (void)
{
  RgShapesConfig cfg;
  rg_shapes_config_init (&cfg);
  cfg.split = RG_SHAPES_SPLIT_HELDOUT;
  RgShapesScene scene, other;
  g_autoptr (GError) error = NULL;
  /* The first one-shape scene from seed 3 on, and the next one-shape
   * scene of another colour (the world's rules decide which seeds). */
  guint64 s = 3;
  do
    g_assert_true (rg_shapes_scene_sample (&cfg, s++, &scene, &error));
  while (scene.n_shapes != 1);
  guint64 scene_seed = s - 1;
  do
    g_assert_true (rg_shapes_scene_sample (&cfg, s++, &other, &error));
  while (other.n_shapes != 1 || other.shapes[0].colour == scene.shapes[0].colour);
  g_autofree char *caption = rg_shapes_caption (&scene, scene_seed);
  g_autofree char *wrong = rg_shapes_caption (&other, 0);

  g_autofree char *dir = g_dir_make_tmp ("shapesbench-XXXXXX", NULL);
  g_autofree char *clip = g_build_filename (dir, "truth.mp4", NULL);
  g_autofree char *bogus = g_build_filename (dir, "bogus.mp4", NULL);
  gsize n_bytes;
  guint8 *rgb = rg_shapes_render_rgb24 (&scene, &n_bytes);
  int64_t shape[4] = { scene.frames, scene.height, scene.width, 3 };
  g_autoptr (RgTensor) frames = rg_tensor_new_borrowed (RG_U8, 4, shape, rgb, rgb, g_free);
  g_assert_true (rg_t2v_write (frames, scene.fps, clip, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (bogus, "not a video", -1, &error));

  int status;
  g_autofree char *out = run_cli (
      (const char *const[]){ "bench", "shapes", "--prompt", caption, "--clip", clip, "--prompt",
                             wrong, "--clip", clip, "--recon", "0", "--json", "-", NULL },
      &status);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  const char *brace = strchr (out, '{');
  g_assert_nonnull (brace);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, brace, -1, &error));
  g_assert_no_error (error);
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "prompts"), ==, "given");
  JsonArray *items = json_object_get_array_member (root, "items");
  g_assert_cmpuint (json_array_get_length (items), ==, 2);

  JsonObject *own = json_array_get_object_element (items, 0);
  g_assert_cmpstr (json_object_get_string_member (own, "prompt"), ==, caption);
  g_assert_cmpstr (json_object_get_string_member (own, "clip"), ==, clip);
  JsonObject *correct = json_object_get_object_member (own, "correct");
  for (guint i = 0; i < G_N_ELEMENTS (ATTRIBUTES); i++)
    {
      JsonNode *v = json_object_get_member (correct, ATTRIBUTES[i]);
      if (!JSON_NODE_HOLDS_NULL (v))
        g_assert_true (json_node_get_boolean (v));
      else
        g_assert_cmpuint (i, >=, 3); /* captions always name colour, shape, count */
    }
  JsonObject *detected = json_object_get_object_member (own, "detected");
  g_assert_cmpint (json_object_get_int_member (detected, "count"), ==, 1);
  JsonObject *obj
      = json_array_get_object_element (json_object_get_array_member (detected, "objects"), 0);
  g_assert_cmpstr (json_object_get_string_member (obj, "colour"), ==,
                   rg_colour_name (scene.shapes[0].colour));
  g_assert_cmpstr (json_object_get_string_member (obj, "shape"), ==,
                   rg_shape_kind_name (scene.shapes[0].kind));

  JsonObject *mismatch
      = json_object_get_object_member (json_array_get_object_element (items, 1), "correct");
  g_assert_false (json_object_get_boolean_member (mismatch, "colour"));
  JsonObject *acc = json_object_get_object_member (root, "accuracy");
  g_assert_cmpfloat (json_object_get_double_member (acc, "colour"), ==, 0.5);

  g_autofree char *out2 = run_cli ((const char *const[]){ "bench", "shapes", "--prompt", caption,
                                                          "--clip", bogus, "--recon", "0", NULL },
                                   &status);
  g_assert_false (g_spawn_check_wait_status (status, NULL));

  g_unlink (clip);
  g_unlink (bogus);
  g_rmdir (dir);
}

/* --model grades that checkpoint and names it in the table and the JSON. */
static void
test_cli_model_file (void)
{
  RgModelConfig config;
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_model_config_preset ("nano-t2v", &config, &error));
  g_autoptr (RgModel) model = rg_model_init (&config, 7, &error);
  g_assert_no_error (error);
  g_autofree char *dir = g_dir_make_tmp ("shapesbench-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "nano.safetensors", NULL);
  g_assert_true (rg_model_save (model, path, RG_BF16, &error));
  g_assert_no_error (error);

  int status;
  g_autofree char *out
      = run_cli ((const char *const[]){ "bench", "shapes", "--model", path, "--prompts", "1",
                                        "--steps", "1", "--recon", "0", "--json", "-", NULL },
                 &status);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, path));
  g_assert_null (strstr (out, "WARNING: untrained"));
  const char *brace = strchr (out, '{');
  g_assert_nonnull (brace);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, brace, -1, &error));
  JsonObject *m = json_object_get_object_member (
      json_node_get_object (json_parser_get_root (parser)), "model");
  g_assert_cmpstr (json_object_get_string_member (m, "path"), ==, path);
  g_assert_false (json_object_get_boolean_member (m, "random_init"));

  g_unlink (path);
  g_rmdir (dir);
}

/* The "tae" object's PSNR and the "model" object of a --json - run. */
static double
tae_psnr_of_run (const char *const *args, char **tae_path, char **description)
{
  int status;
  g_autofree char *out = run_cli (args, &status);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  const char *brace = strchr (out, '{');
  g_assert_nonnull (brace);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, brace, -1, &error));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *m = json_object_get_object_member (root, "model");
  JsonNode *tae = json_object_get_member (m, "tae_path");
  *tae_path = JSON_NODE_HOLDS_NULL (tae) ? NULL : g_strdup (json_node_get_string (tae));
  *description = g_strdup (json_object_get_string_member (m, "description"));
  return json_object_get_double_member (json_object_get_object_member (root, "tae"), "psnr_mean");
}

/* --tae grades the model with another file's TAE: the reconstruction
 * changes with it, the JSON and the table name the file, and a file that
 * is not a model is refused by name. */
static void
test_cli_tae_file (void)
{
  RgModelConfig config;
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_model_config_preset ("nano-t2v", &config, &error));
  g_autofree char *dir = g_dir_make_tmp ("shapesbench-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (dir, "a.safetensors", NULL);
  g_autofree char *b = g_build_filename (dir, "b.safetensors", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.safetensors", NULL);
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (RgModel) model = rg_model_init (&config, 7 + i, &error);
      g_assert_no_error (error);
      g_assert_true (rg_model_save (model, i ? b : a, RG_BF16, &error));
      g_assert_no_error (error);
    }
  g_assert_true (g_file_set_contents (junk, "not a model", -1, NULL));

  const char *base[] = { "bench", "shapes", "--model", a, "--recon", "1", "--prompts", "1",
                         "--steps", "1", "--json", "-", NULL, NULL, NULL };
  g_autofree char *tae0 = NULL, *desc0 = NULL, *tae1 = NULL, *desc1 = NULL, *tae2 = NULL,
                  *desc2 = NULL;
  double own = tae_psnr_of_run (base, &tae0, &desc0);
  g_assert_null (tae0);
  base[12] = "--tae", base[13] = b;
  double other = tae_psnr_of_run (base, &tae1, &desc1);
  g_assert_cmpstr (tae1, ==, b);
  g_assert_nonnull (strstr (desc1, "TAE from"));
  g_assert_nonnull (strstr (desc1, b));
  g_assert_cmpfloat (fabs (own - other), >, 1e-3);
  base[13] = a; /* its own TAE again: the same reconstruction */
  double same = tae_psnr_of_run (base, &tae2, &desc2);
  g_assert_cmpfloat (fabs (own - same), <, 1e-6);

  int status;
  g_autofree char *err = NULL;
  g_autofree char *out = run_cli_full (
      (const char *const[]){ "bench", "shapes", "--model", a, "--tae", junk, "--recon", "1",
                             "--prompts", "1", "--steps", "1", NULL },
      &status, &err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_nonnull (strstr (err, junk));
  g_assert_null (strstr (err, "generating 1/"));

  g_unlink (a);
  g_unlink (b);
  g_unlink (junk);
  g_rmdir (dir);
}

/* Bad requests fail before any clip is generated, with a clear message. */
static void
test_cli_refusals (void)
{
  int status;
  g_autofree char *err = NULL;
  g_autofree char *out = run_cli_full (
      (const char *const[]){ "bench", "shapes", "--prompt", "a red circle bouncing", "--prompt",
                             "a sunset over the sea", "--recon", "0", NULL },
      &status, &err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_nonnull (strstr (err, "names no shape"));
  g_assert_null (strstr (err, "generating 1/"));

  g_autofree char *err2 = NULL;
  g_autofree char *out2 = run_cli_full (
      (const char *const[]){ "bench", "shapes", "--clip", "a.mp4", "--recon", "0", NULL }, &status,
      &err2);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_nonnull (strstr (err2, "--prompt"));

  g_autofree char *err3 = NULL;
  g_autofree char *out3 = run_cli_full (
      (const char *const[]){ "bench", "shapes", "--tae-roundtrip", "--prompt", "a red circle",
                             NULL },
      &status, &err3);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 2);
  g_assert_nonnull (strstr (err3, "--tae-roundtrip"));

  g_autofree char *err4 = NULL;
  g_autofree char *out4 = run_cli_full (
      (const char *const[]){ "bench", "shapes", "--schedule", "cubic", "--recon", "0", NULL },
      &status, &err4);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_nonnull (strstr (err4, "cubic"));
  g_assert_null (strstr (err4, "generating 1/"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shapesbench/ground-truth/heldout", test_ground_truth_heldout);
  g_test_add_func ("/shapesbench/ground-truth/train", test_ground_truth_train);
  g_test_add_func ("/shapesbench/frames-to-video", test_frames_to_video);
  g_test_add_func ("/shapesbench/large-clip-refused", test_large_clip_refused);
  g_test_add_func ("/shapesbench/cli/default-prompts", test_cli_default_prompts);
  g_test_add_func ("/shapesbench/cli/clip", test_cli_clip);
  g_test_add_func ("/shapesbench/cli/model-file", test_cli_model_file);
  g_test_add_func ("/shapesbench/cli/tae-file", test_cli_tae_file);
  g_test_add_func ("/shapesbench/cli/refusals", test_cli_refusals);
  return g_test_run ();
}
