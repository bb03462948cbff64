/* rg-local-executor.c — run jobs on this machine.
 *
 * The last model used stays loaded: a creator iterating on prompts reuses
 * the same checkpoint job after job, and loading (mmap + validation +
 * hashing) should not be in every job. Only one is kept because a large
 * model's weights are gigabytes. All of this runs on the engine thread
 * only, so the cache needs no lock. */
#include <json-glib/json-glib.h>

#include "core/rg-error.h"
#include "core/rg-hash.h"
#include "core/rg-json.h"
#include "gen/rg-t2v.h"
#include "jobs/rg-engine.h"
#include "rg-config.h"

/* The shipped checkpoint, relative to the source tree (an installed data
 * directory comes with packaging). */
#define DEFAULT_MODEL_FILE "nano-t2v.safetensors"
#define DEFAULT_CONFIG "nano-t2v"
/* Seed of the stand-in model used while no checkpoint ships, fixed so that
 * even untrained output is reproducible. */
#define RANDOM_INIT_SEED 0

typedef struct {
  RgModel *model;
  char    *path;   /* NULL for the random-init stand-in */
  char    *sha256; /* of the file */
} CachedModel;

typedef struct {
  GHashTable *models; /* path ("" for the stand-in) → CachedModel; at most one */
} LocalExecutor;

static void
cached_model_free (CachedModel *cm)
{
  rg_model_unref (cm->model);
  g_free (cm->path);
  g_free (cm->sha256);
  g_free (cm);
}

static CachedModel *
load_model (LocalExecutor *self, RgJobContext *job, const char *requested, GError **error)
{
  g_autofree char *path = NULL;
  if (requested)
    path = g_strdup (requested);
  else
    {
      path = g_build_filename (RG_SOURCE_DIR, "resources", "models", DEFAULT_MODEL_FILE, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          rg_job_context_message (job,
                                  "no trained checkpoint at %s: using a randomly initialised %s "
                                  "model, so the output is noise until trained weights ship",
                                  path, DEFAULT_CONFIG);
          g_clear_pointer (&path, g_free);
        }
    }

  CachedModel *cm = g_hash_table_lookup (self->models, path ? path : "");
  if (cm)
    return cm;

  g_autoptr (RgModel) model = NULL;
  g_autofree char *sha256 = NULL;
  if (path)
    {
      model = rg_model_load (path, error);
      if (model == NULL || (sha256 = rg_file_sha256 (path, NULL, error)) == NULL)
        return NULL;
    }
  else
    {
      RgModelConfig config;
      if (!rg_model_config_preset (DEFAULT_CONFIG, &config, error))
        return NULL;
      if ((model = rg_model_init (&config, RANDOM_INIT_SEED, error)) == NULL)
        return NULL;
    }

  g_hash_table_remove_all (self->models);
  cm = g_new0 (CachedModel, 1);
  cm->model = g_steal_pointer (&model);
  cm->path = g_strdup (path);
  cm->sha256 = g_steal_pointer (&sha256);
  g_hash_table_insert (self->models, g_strdup (path ? path : ""), cm);
  return cm;
}

/* The record the project store keeps with the asset: enough to make the
 * same clip again (every resolved parameter and the exact weights). */
static char *
t2v_provenance (const RgJobSpec *spec, const RgT2VParams *p, const CachedModel *cm,
                GDateTime *started, double elapsed_s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, p->seed);
  g_autofree char *when = g_date_time_format_iso8601 (started);

  json_builder_begin_object (b);
  rg_json_add_string (b, "kind", rg_job_kind_to_string (spec->kind));
  rg_json_add_string (b, "prompt", p->prompt);
  rg_json_add_string (b, "negative_prompt", p->negative_prompt);
  rg_json_add_string (b, "seed", seed);
  rg_json_add_int (b, "steps", p->steps);
  json_builder_set_member_name (b, "guidance");
  json_builder_add_double_value (b, p->guidance);
  rg_json_add_string (b, "schedule", rg_schedule_kind_to_string (p->schedule));
  rg_json_add_int (b, "schedule_fine_steps", RG_SCHEDULE_FINE_STEPS);
  rg_json_add_int (b, "frames", p->frames);
  json_builder_set_member_name (b, "fps");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, p->fps.num);
  json_builder_add_int_value (b, p->fps.den);
  json_builder_end_array (b);
  rg_json_add_int (b, "width", p->width);
  rg_json_add_int (b, "height", p->height);

  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  rg_json_add_string (b, "config", rg_model_get_config (cm->model)->name);
  rg_json_add_string (b, "weights", cm->path ? "checkpoint" : "random-init");
  rg_json_add_string (b, "path", cm->path);
  rg_json_add_string (b, "sha256", cm->sha256);
  if (cm->path == NULL)
    rg_json_add_int (b, "init_seed", RANDOM_INIT_SEED);
  json_builder_end_object (b);

  rg_json_add_string (b, "output", spec->output_path);
  rg_json_add_string (b, "engine", "reelgen " RG_VERSION);
  /* the pipeline runs on the CPU reference ops for now */
  rg_json_add_string (b, "backend", "cpu");
  rg_json_add_string (b, "started", when);
  json_builder_set_member_name (b, "elapsed_s");
  json_builder_add_double_value (b, elapsed_s);
  json_builder_end_object (b);

  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, TRUE);
}

/* ---- pipeline callbacks → job events ---- */

static void
on_stage (RgGenStage stage, gpointer data)
{
  rg_job_context_stage (data, rg_gen_stage_name (stage));
}

static void
on_step (int step, int n_steps, gpointer data)
{
  rg_job_context_progress (data, step, n_steps);
}

static void
on_preview (const guint8 *rgb, int width, int height, gpointer data)
{
  rg_job_context_preview (data, rgb, width, height);
}

static gboolean
run_t2v (LocalExecutor *self, RgJobContext *job, GError **error)
{
  const RgJobSpec *spec = rg_job_context_get_spec (job);
  g_autoptr (GDateTime) started = g_date_time_new_now_utc ();
  gint64 t0 = g_get_monotonic_time ();

  rg_job_context_stage (job, "loading model");
  CachedModel *cm = load_model (self, job, spec->model_path, error);
  if (cm == NULL)
    return FALSE;

  /* the spec's zeros mean "the model's own" */
  RgT2VParams p;
  rg_t2v_params_init (&p, rg_model_get_config (cm->model));
  p.prompt = spec->prompt;
  p.negative_prompt = spec->negative_prompt;
  p.seed = spec->seed;
  p.steps = spec->steps;
  p.guidance = spec->guidance;
  p.schedule = spec->schedule;
  if (spec->frames)
    p.frames = spec->frames;
  if (spec->width)
    p.width = spec->width;
  if (spec->height)
    p.height = spec->height;
  if (spec->fps.num)
    p.fps = spec->fps;

  RgGenCallbacks callbacks = {
    .stage = on_stage,
    .step = on_step,
    .preview = on_preview,
    .preview_every = MAX (1, p.steps / 10),
  };
  if (!rg_t2v_run (cm->model, &p, spec->output_path, &callbacks, job,
                   rg_job_context_get_cancellable (job), error))
    return FALSE;

  g_autofree char *provenance
      = t2v_provenance (spec, &p, cm, started, (g_get_monotonic_time () - t0) / 1e6);
  rg_job_context_set_result (job, spec->output_path, provenance);
  return TRUE;
}

static gboolean
local_execute (RgJobContext *job, gpointer data, GError **error)
{
  const RgJobSpec *spec = rg_job_context_get_spec (job);
  switch (spec->kind)
    {
    case RG_JOB_TEXT_TO_VIDEO:
      return run_t2v (data, job, error);
    case RG_JOB_EDIT:
    case RG_JOB_PERSONALIZE:
    case RG_JOB_VIDEO_TO_AUDIO:
    case RG_JOB_TEXT_TO_AUDIO:
      break;
    }
  g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
               "%s jobs are not available in this version of the engine",
               rg_job_kind_to_string (spec->kind));
  return FALSE;
}

static void
local_executor_free (gpointer data)
{
  LocalExecutor *self = data;
  g_hash_table_destroy (self->models);
  g_free (self);
}

RgExecutor *
rg_local_executor_new (void)
{
  LocalExecutor *self = g_new0 (LocalExecutor, 1);
  self->models = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) cached_model_free);

  RgExecutor *executor = g_new0 (RgExecutor, 1);
  executor->execute = local_execute;
  executor->data = self;
  executor->destroy = local_executor_free;
  return executor;
}

RgEngine *
rg_engine_new (void)
{
  return rg_engine_new_with_executor (rg_local_executor_new ());
}
