/* The local executor end to end: a real nano checkpoint on disk, a t2v job
 * on the engine thread, its events on this thread's context, the MP4 and
 * the provenance record; cancellation mid-run leaves no file; a bad model
 * path or an unavailable kind fails with a message that says so. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "core/rg-error.h"
#include "jobs/rg-engine.h"
#include "models/rg-model.h"

static char *dir;
static char *model_path;

typedef struct {
  GString   *stages;
  int        last_step;
  int        previews;
  int        decoded_tiles;
  gboolean   cancel_on_progress;
  RgEngine  *engine;
  RgJobId    id;
  gboolean   final;
  RgJobState state;
  GError    *error;
  char      *provenance;
} Watch;

static void
on_event (const RgJobEvent *ev, gpointer data)
{
  Watch *w = data;
  switch (ev->type)
    {
    case RG_JOB_EVENT_STAGE:
      g_string_append_printf (w->stages, "%s;", ev->stage);
      break;
    case RG_JOB_EVENT_PROGRESS:
      /* one 16-frame tile to decode; the rest is denoising */
      if (g_str_equal (ev->stage, "decoding"))
        {
          g_assert_cmpint (ev->step, ==, 1);
          g_assert_cmpint (ev->n_steps, ==, 1);
          w->decoded_tiles++;
          break;
        }
      g_assert_cmpstr (ev->stage, ==, "denoising");
      g_assert_cmpint (ev->step, ==, w->last_step + 1);
      g_assert_cmpfloat (ev->it_per_s, >, 0.0);
      g_assert_cmpfloat (ev->eta_s, >=, 0.0);
      w->last_step = ev->step;
      if (w->cancel_on_progress)
        rg_engine_cancel (w->engine, w->id);
      break;
    case RG_JOB_EVENT_PREVIEW:
      g_assert_cmpint (ev->preview_width, ==, 8);
      g_assert_cmpint (ev->preview_height, ==, 8);
      w->previews++;
      break;
    case RG_JOB_EVENT_STATE:
      if (RG_JOB_STATE_IS_FINAL (ev->state))
        {
          w->final = TRUE;
          w->state = ev->state;
          if (ev->error)
            w->error = g_error_copy (ev->error);
          if (ev->result)
            w->provenance = g_strdup (ev->result->provenance_json);
        }
      break;
    case RG_JOB_EVENT_QUEUE_POSITION:
    case RG_JOB_EVENT_MESSAGE:
      break;
    }
}

static void
watch_clear (Watch *w)
{
  g_string_free (w->stages, TRUE);
  g_clear_error (&w->error);
  g_free (w->provenance);
}

static void
run_job (RgEngine *engine, RgJobSpec *spec, Watch *w)
{
  g_autoptr (GError) error = NULL;
  w->stages = g_string_new (NULL);
  w->engine = engine;
  w->id = rg_engine_submit (engine, spec, on_event, w, NULL, &error);
  g_assert_no_error (error);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!w->final)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static RgJobSpec *
spec_new (const char *output_name, int steps)
{
  RgJobSpec *spec = rg_job_spec_new (RG_JOB_TEXT_TO_VIDEO);
  spec->prompt = g_strdup ("two green triangles drifting right");
  spec->seed = 9;
  spec->steps = steps;
  spec->guidance = 3.0f;
  spec->model_path = g_strdup (model_path);
  spec->output_path = g_build_filename (dir, output_name, NULL);
  return spec;
}

static char *
sha256_of (const char *path)
{
  g_autofree char *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &bytes, &len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) bytes, len);
}

static void
test_generate (void)
{
  g_autoptr (RgEngine) engine = rg_engine_new ();
  g_autoptr (RgJobSpec) spec = spec_new ("clip.mp4", 4);
  Watch w = { 0 };

  run_job (engine, spec, &w);
  g_assert_no_error (w.error);
  g_assert_cmpint (w.state, ==, RG_JOB_DONE);
  g_assert_cmpstr (w.stages->str, ==,
                   "loading model;encoding text;denoising;decoding;writing;");
  g_assert_cmpint (w.last_step, ==, 4);
  g_assert_cmpint (w.previews, ==, 4);
  g_assert_cmpint (w.decoded_tiles, ==, 1);
  g_assert_true (g_file_test (spec->output_path, G_FILE_TEST_IS_REGULAR));

  /* the provenance names every resolved parameter and the exact weights */
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, w.provenance, -1, NULL));
  JsonObject *p = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (p, "kind"), ==, "t2v");
  g_assert_cmpstr (json_object_get_string_member (p, "prompt"), ==, spec->prompt);
  g_assert_cmpstr (json_object_get_string_member (p, "seed"), ==, "9");
  g_assert_cmpint (json_object_get_int_member (p, "steps"), ==, 4);
  g_assert_cmpfloat (json_object_get_double_member (p, "guidance"), ==, 3.0);
  g_assert_cmpstr (json_object_get_string_member (p, "schedule"), ==, "linear-quadratic");
  g_assert_cmpint (json_object_get_int_member (p, "frames"), ==, 16);
  g_assert_cmpint (json_object_get_int_member (p, "width"), ==, 64);
  JsonArray *fps = json_object_get_array_member (p, "fps");
  g_assert_cmpint (json_array_get_int_element (fps, 0), ==, 8);
  g_assert_cmpint (json_array_get_int_element (fps, 1), ==, 1);
  JsonObject *m = json_object_get_object_member (p, "model");
  g_autofree char *sha = sha256_of (model_path);
  g_assert_cmpstr (json_object_get_string_member (m, "sha256"), ==, sha);
  g_assert_cmpstr (json_object_get_string_member (m, "weights"), ==, "checkpoint");
  g_assert_cmpstr (json_object_get_string_member (m, "config"), ==, "nano-t2v");

  /* the same request again (model now cached) makes the same file */
  g_autoptr (RgJobSpec) again = spec_new ("again.mp4", 4);
  Watch w2 = { 0 };
  run_job (engine, again, &w2);
  g_assert_cmpint (w2.state, ==, RG_JOB_DONE);
  g_autofree char *sha_a = sha256_of (spec->output_path);
  g_autofree char *sha_b = sha256_of (again->output_path);
  g_assert_cmpstr (sha_a, ==, sha_b);

  g_unlink (spec->output_path);
  g_unlink (again->output_path);
  watch_clear (&w);
  watch_clear (&w2);
}

static void
test_cancel_mid_run (void)
{
  g_autoptr (RgEngine) engine = rg_engine_new ();
  g_autoptr (RgJobSpec) spec = spec_new ("cancelled.mp4", 200);
  Watch w = { .cancel_on_progress = TRUE };

  run_job (engine, spec, &w);
  g_assert_cmpint (w.state, ==, RG_JOB_CANCELLED);
  g_assert_error (w.error, RG_ERROR, RG_ERROR_CANCELLED);
  /* it stopped within a step or two of the request, not after 200 */
  g_assert_cmpint (w.last_step, <, 10);
  g_assert_false (g_file_test (spec->output_path, G_FILE_TEST_EXISTS));

  RgJobState state;
  g_assert_true (rg_engine_get_job (engine, w.id, &state, NULL, NULL));
  g_assert_cmpint (state, ==, RG_JOB_CANCELLED);
  watch_clear (&w);
}

static void
test_failures (void)
{
  g_autoptr (RgEngine) engine = rg_engine_new ();

  g_autoptr (RgJobSpec) missing = spec_new ("missing.mp4", 2);
  g_free (missing->model_path);
  missing->model_path = g_build_filename (dir, "no-such-model.safetensors", NULL);
  Watch w = { 0 };
  run_job (engine, missing, &w);
  g_assert_cmpint (w.state, ==, RG_JOB_FAILED);
  g_assert_nonnull (strstr (w.error->message, "no-such-model.safetensors"));
  watch_clear (&w);

  /* a clip length the model cannot make */
  g_autoptr (RgJobSpec) odd = spec_new ("odd.mp4", 2);
  odd->frames = 15;
  Watch w2 = { 0 };
  run_job (engine, odd, &w2);
  g_assert_cmpint (w2.state, ==, RG_JOB_FAILED);
  g_assert_error (w2.error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  watch_clear (&w2);

  g_autoptr (RgJobSpec) t2a = spec_new ("sound.m4a", 2);
  t2a->kind = RG_JOB_TEXT_TO_AUDIO;
  Watch w3 = { 0 };
  run_job (engine, t2a, &w3);
  g_assert_cmpint (w3.state, ==, RG_JOB_FAILED);
  g_assert_error (w3.error, RG_ERROR, RG_ERROR_UNSUPPORTED);
  watch_clear (&w3);

  /* nothing written for any of them */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)))
    g_assert_cmpstr (name, ==, "nano.safetensors");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  RgModelConfig config;
  g_autoptr (GError) error = NULL;
  dir = g_dir_make_tmp ("rg-t2v-job-XXXXXX", &error);
  model_path = g_build_filename (dir, "nano.safetensors", NULL);
  g_autoptr (RgModel) model = NULL;
  if (!rg_model_config_preset ("nano-t2v", &config, &error)
      || (model = rg_model_init (&config, 2, &error)) == NULL
      || !rg_model_save (model, model_path, RG_F32, &error))
    g_error ("nano checkpoint: %s", error->message);

  g_test_add_func ("/t2v-job/generate", test_generate);
  g_test_add_func ("/t2v-job/cancel-mid-run", test_cancel_mid_run);
  g_test_add_func ("/t2v-job/failures", test_failures);
  int status = g_test_run ();

  g_unlink (model_path);
  g_rmdir (dir);
  g_free (model_path);
  g_free (dir);
  return status;
}
