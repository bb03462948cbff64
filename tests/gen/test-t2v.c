/* The text-to-video pipeline on a seeded random-init nano model (the
 * shipped config, few steps): determinism, guidance and negative prompts,
 * progress callbacks, request validation, tiled decoding through the real
 * TAE, and the MP4 decoded back by ffprobe. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>

#include "core/rg-error.h"
#include "gen/rg-flow.h"
#include "gen/rg-t2v.h"

static RgModel *nano;

static void
params_for_test (RgT2VParams *p, guint64 seed)
{
  rg_t2v_params_init (p, rg_model_get_config (nano));
  p->prompt = "a red circle bouncing on grass";
  p->seed = seed;
  p->steps = 3;
  p->guidance = 4.0f;
}

static RgTensor *
sample (const RgT2VParams *p)
{
  g_autoptr (GError) error = NULL;
  RgTensor *latent = rg_t2v_sample (nano, p, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (latent);
  return latent;
}

static gboolean
same_bytes (const RgTensor *a, const RgTensor *b)
{
  return rg_tensor_nbytes (a) == rg_tensor_nbytes (b)
         && memcmp (a->data, b->data, rg_tensor_nbytes (a)) == 0;
}

static void
test_determinism (void)
{
  RgT2VParams p;
  params_for_test (&p, 11);
  g_autoptr (RgTensor) a = sample (&p);
  g_autoptr (RgTensor) b = sample (&p);
  p.seed = 12;
  g_autoptr (RgTensor) c = sample (&p);

  /* [1, 16, 16/4, 64/8, 64/8] */
  g_assert_cmpint (a->ndim, ==, 5);
  g_assert_cmpint (a->shape[1], ==, 16);
  g_assert_cmpint (a->shape[2], ==, 4);
  g_assert_cmpint (a->shape[3], ==, 8);
  g_assert_true (same_bytes (a, b));
  g_assert_false (same_bytes (a, c));
  for (int64_t i = 0; i < rg_tensor_numel (a); i++)
    g_assert_true (isfinite (rg_tensor_f32 (a)[i]));

  /* the denoiser moved the latent away from its starting noise */
  int64_t shape[5] = { 1, 16, 4, 8, 8 };
  g_autoptr (RgTensor) x0 = rg_flow_noise (11, RG_FLOW_STREAM_LATENT, 5, shape);
  g_assert_false (same_bytes (a, x0));

  g_autoptr (GError) error = NULL;
  g_autoptr (RgTensor) fa = rg_t2v_decode (nano, a, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (RgTensor) fb = rg_t2v_decode (nano, b, NULL, NULL, NULL, &error);
  g_assert_cmpint (fa->dtype, ==, RG_U8);
  g_assert_cmpint (fa->shape[0], ==, 16);
  g_assert_cmpint (fa->shape[1], ==, 64);
  g_assert_cmpint (fa->shape[2], ==, 64);
  g_assert_cmpint (fa->shape[3], ==, 3);
  g_assert_true (same_bytes (fa, fb));
}

static void
test_guidance_and_negative_prompt (void)
{
  RgT2VParams p;
  params_for_test (&p, 3);

  /* g = 1 runs the conditional pass only: a negative prompt cannot matter */
  p.guidance = 1.0f;
  g_autoptr (RgTensor) plain = sample (&p);
  p.negative_prompt = "blurry, dark";
  g_autoptr (RgTensor) plain_neg = sample (&p);
  g_assert_true (same_bytes (plain, plain_neg));

  /* with guidance the unconditional pass reads the negative prompt */
  p.guidance = 5.0f;
  p.negative_prompt = NULL;
  g_autoptr (RgTensor) guided = sample (&p);
  p.negative_prompt = "blurry, dark";
  g_autoptr (RgTensor) guided_neg = sample (&p);
  g_assert_false (same_bytes (guided, guided_neg));
  g_assert_false (same_bytes (guided, plain));

  /* and a different prompt is a different clip */
  p.negative_prompt = NULL;
  p.prompt = "a blue square sliding left";
  g_autoptr (RgTensor) other = sample (&p);
  g_assert_false (same_bytes (guided, other));
}

typedef struct {
  GString   *stages;
  RgGenStage stage;
  int        last_step;
  int        n_steps;
  int        denoising_steps;
  int        previews;
} Progress;

static void
on_stage (RgGenStage stage, gpointer data)
{
  Progress *pr = data;
  g_string_append_printf (pr->stages, "%s;", rg_gen_stage_name (stage));
  if (pr->stage == RG_GEN_STAGE_DENOISING)
    pr->denoising_steps = pr->last_step;
  pr->stage = stage;
  pr->last_step = 0;
}

/* steps count from 1 in each stage that has them */
static void
on_step (int step, int n_steps, gpointer data)
{
  Progress *pr = data;
  g_assert_true (pr->stage == RG_GEN_STAGE_DENOISING || pr->stage == RG_GEN_STAGE_DECODING);
  g_assert_cmpint (step, ==, pr->last_step + 1);
  pr->last_step = step;
  pr->n_steps = n_steps;
}

static void
on_preview (const guint8 *rgb, int width, int height, gpointer data)
{
  Progress *pr = data;
  /* the middle latent frame, 8×8 for nano, stretched to the full range */
  g_assert_cmpint (width, ==, 8);
  g_assert_cmpint (height, ==, 8);
  guint8 lo = 255, hi = 0;
  for (int i = 0; i < width * height * 3; i++)
    {
      lo = MIN (lo, rgb[i]);
      hi = MAX (hi, rgb[i]);
    }
  g_assert_cmpint (lo, ==, 0);
  g_assert_cmpint (hi, ==, 255);
  pr->previews++;
}

static void
test_run_reports_progress (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rg-t2v-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "clip.mp4", NULL);
  RgT2VParams p;
  params_for_test (&p, 5);
  p.steps = 5;
  Progress pr = { .stages = g_string_new (NULL) };
  RgGenCallbacks cb = { on_stage, on_step, on_preview, 2 };
  g_autoptr (GError) error = NULL;

  g_assert_true (rg_t2v_run (nano, &p, path, &cb, &pr, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pr.stages->str, ==, "encoding text;denoising;decoding;writing;");
  g_assert_cmpint (pr.denoising_steps, ==, 5);
  /* after steps 2 and 4, and after the last */
  g_assert_cmpint (pr.previews, ==, 3);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  g_string_free (pr.stages, TRUE);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_validation (void)
{
  const RgModelConfig *config = rg_model_get_config (nano);
  RgT2VParams p;
  GError *error = NULL;

  params_for_test (&p, 0);
  g_assert_true (rg_t2v_params_validate (&p, config, &error));
  g_assert_no_error (error);

  /* 15 frames do not divide by the TAE's 4× in time */
  p.frames = 15;
  g_assert_false (rg_t2v_params_validate (&p, config, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* beyond the DiT's positional tables (16 latent frames = 64 frames) */
  p.frames = 128;
  g_assert_false (rg_t2v_params_validate (&p, config, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "at most 64 frames"));
  g_clear_error (&error);

  params_for_test (&p, 0);
  p.steps = 0;
  g_assert_false (rg_t2v_params_validate (&p, config, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  params_for_test (&p, 0);
  p.guidance = NAN;
  g_assert_false (rg_t2v_params_validate (&p, config, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* 72×64 is not a whole number of 16-pixel patches */
  params_for_test (&p, 0);
  p.width = 72;
  g_assert_false (rg_t2v_params_validate (&p, config, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* sampling refuses before doing any work */
  params_for_test (&p, 0);
  p.frames = 15;
  g_assert_null (rg_t2v_sample (nano, &p, NULL, NULL, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static guint8
to_byte (float x)
{
  float p = (x + 1.0f) * 127.5f;
  return (guint8) (p > 0.0f ? (p < 255.0f ? lrintf (p) : 255) : 0);
}

/* 32 frames (8 latent frames) is three TAE tiles of 4 latent frames,
 * starting at 0, 2 and 4: the 8 frames before the first overlap are
 * exactly the first tile's own decode.
 * (16×16 pixels: the TAE is convolutional, and small is fast.) */
static void
test_tiled_decode_long_clip (void)
{
  int64_t shape[5] = { 1, 16, 8, 2, 2 };
  g_autoptr (RgTensor) latent = rg_flow_noise (21, 0, 5, shape);
  g_autoptr (GError) error = NULL;

  Progress pr = { .stage = RG_GEN_STAGE_DECODING };
  RgGenCallbacks cb = { .step = on_step };
  g_autoptr (RgTensor) frames = rg_t2v_decode (nano, latent, &cb, &pr, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (frames->shape[0], ==, 32);
  /* three tiles, reported as decoding progress */
  g_assert_cmpint (pr.last_step, ==, 3);
  g_assert_cmpint (pr.n_steps, ==, 3);

  g_autoptr (RgTensor) view = rg_tensor_narrow (latent, 2, 0, 4);
  g_autoptr (RgTensor) first = rg_tensor_contiguous (view);
  g_autoptr (RgTensor) video = rg_tensor_f32_new (5, (int64_t) 1, (int64_t) 3, (int64_t) 16,
                                                  (int64_t) 16, (int64_t) 16);
  g_assert_true (rg_tae_decode (rg_model_get_tae (nano), first, video, NULL, &error));
  g_assert_no_error (error);

  const guint8 *got = frames->data;
  const float *ref = rg_tensor_f32 (video);
  int64_t hw = 16 * 16;
  g_assert_cmpint (frames->shape[1], ==, 16);
  for (int64_t f = 0; f < 8; f++)
    for (int c = 0; c < 3; c++)
      for (int64_t i = 0; i < hw; i++)
        g_assert_cmpint (got[(f * hw + i) * 3 + c], ==, to_byte (ref[(c * 16 + f) * hw + i]));
}

/* ffprobe decodes every frame (-count_frames) and reports the stream. */
static JsonObject *
probe (const char *path, JsonParser *parser)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                         "-show_entries",
                         "stream=codec_name,width,height,r_frame_rate,nb_read_frames,pix_fmt",
                         "-of", "json", path, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonArray *streams = json_object_get_array_member (root, "streams");
  g_assert_cmpuint (json_array_get_length (streams), ==, 1);
  return json_array_get_object_element (streams, 0);
}

static void
test_write_and_decode_back (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rg-t2v-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "clip.mp4", NULL);
  g_autofree char *ntsc = g_build_filename (dir, "ntsc.mp4", NULL);
  RgT2VParams p;
  params_for_test (&p, 8);
  p.steps = 2;
  g_autoptr (RgTensor) latent = sample (&p);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTensor) frames = rg_t2v_decode (nano, latent, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (rg_t2v_write (frames, (RgRational) { 8, 1 }, path, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *s = probe (path, parser);
  g_assert_cmpstr (json_object_get_string_member (s, "codec_name"), ==, "h264");
  g_assert_cmpstr (json_object_get_string_member (s, "pix_fmt"), ==, "yuv420p");
  g_assert_cmpint (json_object_get_int_member (s, "width"), ==, 64);
  g_assert_cmpint (json_object_get_int_member (s, "height"), ==, 64);
  g_assert_cmpstr (json_object_get_string_member (s, "r_frame_rate"), ==, "8/1");
  g_assert_cmpstr (json_object_get_string_member (s, "nb_read_frames"), ==, "16");

  /* a rational rate stays exact */
  g_assert_true (rg_t2v_write (frames, (RgRational) { 30000, 1001 }, ntsc, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (JsonParser) parser2 = json_parser_new ();
  s = probe (ntsc, parser2);
  g_assert_cmpstr (json_object_get_string_member (s, "r_frame_rate"), ==, "30000/1001");
  g_assert_cmpstr (json_object_get_string_member (s, "nb_read_frames"), ==, "16");

  g_unlink (path);
  g_unlink (ntsc);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_cancel_leaves_nothing (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rg-t2v-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "clip.mp4", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (RgTensor) frames = rg_tensor_zeros (RG_U8, 4, (int64_t[]) { 4, 64, 64, 3 });
  GError *error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_false (rg_t2v_write (frames, (RgRational) { 8, 1 }, path, cancellable, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CANCELLED);
  g_clear_error (&error);

  RgT2VParams p;
  params_for_test (&p, 1);
  g_assert_false (rg_t2v_run (nano, &p, path, NULL, NULL, cancellable, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CANCELLED);
  g_clear_error (&error);

  /* neither the clip nor a hidden temporary beside it */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_assert_null (g_dir_read_name (d));
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  RgModelConfig config;
  g_autoptr (GError) error = NULL;
  if (!rg_model_config_preset ("nano-t2v", &config, &error)
      || (nano = rg_model_init (&config, 1, &error)) == NULL)
    g_error ("nano-t2v: %s", error->message);

  g_test_add_func ("/t2v/determinism", test_determinism);
  g_test_add_func ("/t2v/guidance-and-negative-prompt", test_guidance_and_negative_prompt);
  g_test_add_func ("/t2v/run-reports-progress", test_run_reports_progress);
  g_test_add_func ("/t2v/validation", test_validation);
  g_test_add_func ("/t2v/tiled-decode-long-clip", test_tiled_decode_long_clip);
  g_test_add_func ("/t2v/write-and-decode-back", test_write_and_decode_back);
  g_test_add_func ("/t2v/cancel-leaves-nothing", test_cancel_leaves_nothing);
  int status = g_test_run ();
  rg_model_unref (nano);
  return status;
}
