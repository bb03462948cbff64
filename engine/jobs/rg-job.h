/* rg-job.h — what a job asks for, the states it goes through and what it
 * leaves behind. Plain data: the studio's prompt panel, the CLI and a remote
 * client all build the same RgJobSpec and get the same RgJobResult. */
#pragma once

#include <glib.h>

#include "core/rg-time.h"
#include "gen/rg-schedule.h"

G_BEGIN_DECLS

typedef enum {
  RG_JOB_TEXT_TO_VIDEO,
  RG_JOB_EDIT,           /* instruction edit of a clip (video → video) */
  RG_JOB_PERSONALIZE,    /* reference image → subject in a video */
  RG_JOB_VIDEO_TO_AUDIO,
  RG_JOB_TEXT_TO_AUDIO,
} RgJobKind;

/* "t2v", "edit", "personalize", "v2a", "t2a". */
const char *rg_job_kind_to_string (RgJobKind kind);
gboolean    rg_job_kind_from_string (const char *name, RgJobKind *kind, GError **error);

typedef enum {
  RG_JOB_QUEUED,
  RG_JOB_RUNNING,
  RG_JOB_DONE,      /* final: the result is there */
  RG_JOB_FAILED,    /* final: an error says why */
  RG_JOB_CANCELLED, /* final: nothing left behind */
} RgJobState;

#define RG_JOB_STATE_IS_FINAL(s) ((s) >= RG_JOB_DONE)

/* "queued", "running", "done", "failed", "cancelled". */
const char *rg_job_state_to_string (RgJobState state);

/* A request. Sizes of 0 mean "the model's own" (its trained clip length,
 * size and frame rate), so a spec does not depend on which model runs it. */
typedef struct {
  RgJobKind      kind;
  char          *prompt;
  char          *negative_prompt; /* NULL: the empty prompt */
  guint64        seed;
  int            steps;
  float          guidance;        /* classifier-free guidance scale; 1 = none */
  RgScheduleKind schedule;
  int            frames;
  RgRational     fps;
  int            width;
  int            height;
  char          *model_path;      /* NULL: the shipped default model */
  char          *output_path;
} RgJobSpec;

/* Movie Gen's sampling defaults: 50 steps, guidance 6, linear-quadratic,
 * seed 0, everything else from the model. */
RgJobSpec *rg_job_spec_new (RgJobKind kind);
RgJobSpec *rg_job_spec_copy (const RgJobSpec *spec);
void       rg_job_spec_free (RgJobSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgJobSpec, rg_job_spec_free)

/* What can be checked without a model: a prompt and an output path where
 * the kind needs them, steps ≥ 1, guidance finite and ≥ 0, sizes ≥ 0 and a
 * frame rate that is either 0/0 (the model's) or positive. Errors are
 * RG_ERROR_INVALID_ARGUMENT naming the field. */
gboolean rg_job_spec_validate (const RgJobSpec *spec, GError **error);

/* Every field as a JSON object (caller frees), the form provenance records
 * and remote workers exchange. */
char *rg_job_spec_to_json (const RgJobSpec *spec);
/* The inverse, for requests from elsewhere: members missing from the object
 * keep rg_job_spec_new()'s defaults; an unknown member, a member of the
 * wrong type or a value out of range is refused (RG_ERROR_CORRUPT for a
 * malformed request, RG_ERROR_INVALID_ARGUMENT from rg_job_spec_validate)
 * with a message naming the member. */
RgJobSpec *rg_job_spec_from_json (const char *json, gssize length, GError **error);

typedef struct {
  char *output_path;
  /* JSON object: the request with every default resolved, the model (path,
   * SHA-256 of its file, config name), the engine version and timings —
   * what the project store keeps beside the asset. */
  char *provenance_json;
} RgJobResult;

RgJobResult *rg_job_result_new (const char *output_path, const char *provenance_json);
RgJobResult *rg_job_result_copy (const RgJobResult *result);
void         rg_job_result_free (RgJobResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgJobResult, rg_job_result_free)

G_END_DECLS
