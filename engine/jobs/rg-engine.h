/* rg-engine.h — the engine thread that runs jobs for the CLI and the studio
 * (DESIGN §3.1).
 *
 * An RgEngine owns one worker thread with its own GMainContext (as
 * Clapper's threaded objects do) and a FIFO of jobs. rg_engine_submit()
 * queues a job and returns its id at once; the worker runs jobs one at a
 * time through an executor (the local one runs the pipelines on this
 * machine; a remote one can forward them to `reelgen serve`).
 *
 * Everything a job reports — state changes, queue position, stage, step
 * i/N with it/s and ETA, latent previews, warnings — comes back as
 * RgJobEvents posted to the GMainContext that was thread-default where the
 * job was submitted, each job's events in the order they happened, so
 * widgets update on the UI thread and never see a cross-thread signal. The last event of every
 * job is a STATE event with a final state; the callback's destroy notify
 * runs right after it, on that same context.
 *
 * rg_engine_cancel() stops a queued job at once and a running one at the
 * next check (between Euler steps and between DiT blocks); a cancelled job
 * leaves no output file. rg_engine_free() cancels whatever runs or waits,
 * lets the worker finish, and joins it. */
#pragma once

#include <gio/gio.h>

#include "jobs/rg-executor.h"
#include "jobs/rg-job.h"

G_BEGIN_DECLS

typedef struct _RgEngine RgEngine;

/* Ids count from 1; 0 is "no job". */
typedef guint64 RgJobId;

typedef enum {
  RG_JOB_EVENT_STATE,          /* state (+ queue_position, error, result) */
  RG_JOB_EVENT_QUEUE_POSITION, /* a job ahead finished or left the queue */
  RG_JOB_EVENT_STAGE,          /* stage: "encoding text", "denoising" … */
  RG_JOB_EVENT_PROGRESS,       /* step of n_steps in the current stage */
  RG_JOB_EVENT_PREVIEW,        /* a small RGB24 picture of the latent */
  RG_JOB_EVENT_MESSAGE,        /* a warning the user should read */
} RgJobEventType;

/* Valid during the callback only; copy what you keep. */
typedef struct {
  RgJobEventType     type;
  RgJobId            job;
  RgJobState         state;          /* the job's state when the event was posted */
  int                queue_position; /* QUEUED: jobs ahead of this one (0 = next) */
  const char        *stage;          /* STAGE, PROGRESS */
  int                step;           /* PROGRESS: steps done, 1 … n_steps */
  int                n_steps;
  double             it_per_s;       /* PROGRESS: steps per second in this stage */
  double             eta_s;          /* PROGRESS: seconds left in this stage */
  const guint8      *preview;        /* PREVIEW: width × height × 3 bytes */
  int                preview_width;
  int                preview_height;
  const char        *message;        /* MESSAGE */
  const GError      *error;          /* STATE FAILED or CANCELLED: why */
  const RgJobResult *result;         /* STATE DONE */
} RgJobEvent;

typedef void (*RgJobEventFunc) (const RgJobEvent *event, gpointer user_data);

/* An engine with the local executor (rg_local_executor_new). */
RgEngine *rg_engine_new (void);
/* An engine that runs jobs through `executor`; the engine owns it. */
RgEngine *rg_engine_new_with_executor (RgExecutor *executor);
/* Cancel the running and queued jobs, wait for the worker, free. Events
 * already posted are still delivered when their context next iterates. */
void      rg_engine_free (RgEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgEngine, rg_engine_free)

/* Validate and queue a copy of spec; returns the job id, or 0 with an
 * RG_ERROR_INVALID_ARGUMENT error (nothing queued, destroy not called). */
RgJobId rg_engine_submit (RgEngine *engine, const RgJobSpec *spec, RgJobEventFunc callback,
                          gpointer user_data, GDestroyNotify destroy, GError **error);

/* FALSE when the id is unknown or the job has already ended. */
gboolean rg_engine_cancel (RgEngine *engine, RgJobId id);

/* The state as the engine sees it now (events may still be in flight);
 * FALSE for an unknown id. queue_position and result may be NULL; result
 * is a copy, set for DONE jobs only. */
gboolean rg_engine_get_job (RgEngine *engine, RgJobId id, RgJobState *state,
                            int *queue_position, RgJobResult **result);

G_END_DECLS
