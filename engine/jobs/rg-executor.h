/* rg-executor.h — how the engine thread runs one job, and how a running
 * job reports back.
 *
 * An executor's execute() runs on the engine thread, one job at a time. It
 * reads the spec, checks the cancellable between units of work (steps,
 * blocks, tiles, frames), reports through rg_job_context_*() and, on
 * success, sets the result. It returns FALSE with an error on failure; an
 * RG_ERROR_CANCELLED error (or a cancelled cancellable) makes the job
 * CANCELLED rather than FAILED, and it is the executor's duty to leave no
 * partial output behind in either case. */
#pragma once

#include <gio/gio.h>

#include "jobs/rg-job.h"

G_BEGIN_DECLS

typedef struct _RgJobContext RgJobContext;

typedef struct {
  gboolean (*execute) (RgJobContext *job, gpointer data, GError **error);
  gpointer       data;
  GDestroyNotify destroy; /* frees data when the engine is freed */
} RgExecutor;

const RgJobSpec *rg_job_context_get_spec (RgJobContext *job);
GCancellable    *rg_job_context_get_cancellable (RgJobContext *job);

/* Start a named stage ("encoding text", "denoising", "decoding",
 * "writing"); it/s and ETA of later progress are measured from here. */
void rg_job_context_stage (RgJobContext *job, const char *stage);
/* step of n_steps of the current stage are done. */
void rg_job_context_progress (RgJobContext *job, int step, int n_steps);
/* A width × height RGB24 picture (tight rows) of the work so far. */
void rg_job_context_preview (RgJobContext *job, const guint8 *rgb, int width, int height);
/* A warning for the user, e.g. that a model is untrained. */
void rg_job_context_message (RgJobContext *job, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* What the job made; required before a successful return. */
void rg_job_context_set_result (RgJobContext *job, const char *output_path,
                                const char *provenance_json);

/* The executor that runs pipelines here, on this machine's backend, with
 * loaded models cached across jobs. */
RgExecutor *rg_local_executor_new (void);
void        rg_executor_free (RgExecutor *executor);

G_END_DECLS
