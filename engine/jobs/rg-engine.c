/* rg-engine.c — the engine thread, its FIFO, and event delivery.
 *
 * Locking: engine->lock guards the queue, the job table, every job's state
 * and result, and `running`. Each job's event queue has its own lock so
 * posting never waits on a submitter's main loop. The executor runs with no
 * lock held. */
#include "rg-engine.h"

#include "core/rg-error.h"

/* One job; also the RgJobContext its executor sees. */
struct _RgJobContext {
  gint           ref_count;
  RgJobId        id;
  RgJobSpec     *spec;
  GCancellable  *cancellable;

  /* under engine->lock */
  RgJobState     state;
  RgJobResult   *result;

  /* delivery to the submitter's context; callback and destroy are only
   * touched there once the job is queued */
  GMainContext  *target;
  RgJobEventFunc callback;
  gpointer       user_data;
  GDestroyNotify destroy;
  GMutex         events_lock;
  GQueue         events;
  gboolean       delivery_scheduled;

  /* engine thread only */
  char          *stage;
  gint64         stage_start_us;
};

typedef struct _RgJobContext Job;

struct _RgEngine {
  GMutex        lock;
  GQueue        queue;    /* Job *, waiting, FIFO; holds a ref */
  GHashTable   *jobs;     /* id → Job *, every job submitted; holds a ref */
  Job          *running;
  RgJobId       last_id;
  gboolean      closing;

  RgExecutor   *executor;
  GMainContext *context;  /* the engine thread's */
  GMainLoop    *loop;
  GThread      *thread;
};

/* An event and the copies its pointers point into. */
typedef struct {
  RgJobEvent   ev;
  char        *stage;
  char        *message;
  guint8      *preview;
  GError      *error;
  RgJobResult *result;
} PendingEvent;

static void
pending_event_free (PendingEvent *pe)
{
  g_free (pe->stage);
  g_free (pe->message);
  g_free (pe->preview);
  g_clear_error (&pe->error);
  rg_job_result_free (pe->result);
  g_free (pe);
}

/* ---- jobs ---- */

static Job *
job_ref (Job *job)
{
  g_atomic_int_inc (&job->ref_count);
  return job;
}

static void
job_unref (Job *job)
{
  if (!g_atomic_int_dec_and_test (&job->ref_count))
    return;
  rg_job_spec_free (job->spec);
  g_clear_object (&job->cancellable);
  rg_job_result_free (job->result);
  g_main_context_unref (job->target);
  g_queue_clear_full (&job->events, (GDestroyNotify) pending_event_free);
  g_mutex_clear (&job->events_lock);
  g_free (job->stage);
  g_free (job);
}

static PendingEvent *
event_new (Job *job, RgJobEventType type, RgJobState state)
{
  PendingEvent *pe = g_new0 (PendingEvent, 1);
  pe->ev.type = type;
  pe->ev.job = job->id;
  pe->ev.state = state;
  pe->ev.queue_position = -1;
  pe->ev.eta_s = -1.0;
  return pe;
}

/* Runs on the submitter's context: hand every waiting event to the
 * callback, in order; after the final one, release the user data. */
static gboolean
deliver_events (gpointer data)
{
  Job *job = data;
  GQueue batch = G_QUEUE_INIT;

  g_mutex_lock (&job->events_lock);
  batch = job->events;
  g_queue_init (&job->events);
  job->delivery_scheduled = FALSE;
  g_mutex_unlock (&job->events_lock);

  PendingEvent *pe;
  while ((pe = g_queue_pop_head (&batch)))
    {
      if (job->callback)
        job->callback (&pe->ev, job->user_data);
      if (pe->ev.type == RG_JOB_EVENT_STATE && RG_JOB_STATE_IS_FINAL (pe->ev.state))
        {
          if (job->destroy)
            job->destroy (job->user_data);
          job->callback = NULL;
          job->destroy = NULL;
        }
      pending_event_free (pe);
    }
  return G_SOURCE_REMOVE;
}

static void
post (Job *job, PendingEvent *pe)
{
  g_mutex_lock (&job->events_lock);
  g_queue_push_tail (&job->events, pe);
  if (!job->delivery_scheduled)
    {
      /* One idle per batch: events posted before it runs ride along, so
       * they arrive in order whatever GLib does with equal priorities. */
      GSource *source = g_idle_source_new ();
      g_source_set_name (source, "[reelgen] job events");
      g_source_set_callback (source, deliver_events, job_ref (job), (GDestroyNotify) job_unref);
      g_source_attach (source, job->target);
      g_source_unref (source);
      job->delivery_scheduled = TRUE;
    }
  g_mutex_unlock (&job->events_lock);
}

static void
post_state (Job *job, RgJobState state, int queue_position, const GError *error)
{
  PendingEvent *pe = event_new (job, RG_JOB_EVENT_STATE, state);
  pe->ev.queue_position = queue_position;
  if (error)
    pe->ev.error = pe->error = g_error_copy (error);
  if (state == RG_JOB_DONE && job->result)
    pe->ev.result = pe->result = rg_job_result_copy (job->result);
  post (job, pe);
}

/* Jobs from index `from` on moved up one place. Engine lock held. */
static void
post_positions_locked (RgEngine *engine, guint from)
{
  guint i = 0;
  for (GList *l = engine->queue.head; l; l = l->next, i++)
    if (i >= from)
      {
        PendingEvent *pe = event_new (l->data, RG_JOB_EVENT_QUEUE_POSITION, RG_JOB_QUEUED);
        pe->ev.queue_position = (int) i;
        post (l->data, pe);
      }
}

/* Engine lock held; the queue's ref on job is dropped. */
static void
cancel_queued_locked (RgEngine *engine, Job *job, const char *why)
{
  int index = g_queue_index (&engine->queue, job);
  g_assert (index >= 0);
  g_queue_remove (&engine->queue, job);
  job->state = RG_JOB_CANCELLED;
  g_autoptr (GError) error = g_error_new (RG_ERROR, RG_ERROR_CANCELLED, "job %" G_GUINT64_FORMAT
                                          " %s", job->id, why);
  post_state (job, RG_JOB_CANCELLED, -1, error);
  post_positions_locked (engine, (guint) index);
  job_unref (job);
}

/* ---- the engine thread ---- */

static RgJobState
final_state (Job *job, gboolean ok, GError **error)
{
  if (ok && job->result == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_FAILED,
                   "job %" G_GUINT64_FORMAT ": the executor finished without a result", job->id);
      ok = FALSE;
    }
  if (ok)
    return RG_JOB_DONE;
  if (g_cancellable_is_cancelled (job->cancellable)
      || g_error_matches (*error, RG_ERROR, RG_ERROR_CANCELLED)
      || g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (*error == NULL)
        g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "job %" G_GUINT64_FORMAT " cancelled",
                     job->id);
      return RG_JOB_CANCELLED;
    }
  if (*error == NULL)
    g_set_error (error, RG_ERROR, RG_ERROR_FAILED,
                 "job %" G_GUINT64_FORMAT " failed without saying why", job->id);
  return RG_JOB_FAILED;
}

static gboolean
run_queue (gpointer data)
{
  RgEngine *engine = data;

  for (;;)
    {
      g_mutex_lock (&engine->lock);
      Job *job = engine->closing ? NULL : g_queue_pop_head (&engine->queue);
      if (job == NULL)
        {
          g_mutex_unlock (&engine->lock);
          break;
        }
      job->state = RG_JOB_RUNNING;
      engine->running = job;
      post_state (job, RG_JOB_RUNNING, -1, NULL);
      post_positions_locked (engine, 0);
      g_mutex_unlock (&engine->lock);

      /* progress reported before any stage is timed from the job's start */
      job->stage_start_us = g_get_monotonic_time ();
      GError *error = NULL;
      gboolean ok = engine->executor->execute (job, engine->executor->data, &error);
      RgJobState state = final_state (job, ok, &error);

      g_mutex_lock (&engine->lock);
      job->state = state;
      engine->running = NULL;
      post_state (job, state, -1, error);
      g_mutex_unlock (&engine->lock);

      g_clear_error (&error);
      job_unref (job);
    }
  return G_SOURCE_REMOVE;
}

static gpointer
engine_thread (gpointer data)
{
  RgEngine *engine = data;
  g_main_context_push_thread_default (engine->context);
  g_main_loop_run (engine->loop);
  g_main_context_pop_thread_default (engine->context);
  return NULL;
}

static void
invoke_on_engine (RgEngine *engine, GSourceFunc func, gpointer data)
{
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, engine->context);
  g_source_unref (source);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* ---- public ---- */

RgEngine *
rg_engine_new_with_executor (RgExecutor *executor)
{
  g_return_val_if_fail (executor != NULL && executor->execute != NULL, NULL);

  RgEngine *engine = g_new0 (RgEngine, 1);
  g_mutex_init (&engine->lock);
  g_queue_init (&engine->queue);
  engine->jobs = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                        (GDestroyNotify) job_unref);
  engine->executor = executor;
  engine->context = g_main_context_new ();
  engine->loop = g_main_loop_new (engine->context, FALSE);
  engine->thread = g_thread_new ("rg-engine", engine_thread, engine);
  return engine;
}

void
rg_engine_free (RgEngine *engine)
{
  if (engine == NULL)
    return;

  g_mutex_lock (&engine->lock);
  engine->closing = TRUE;
  while (engine->queue.head)
    cancel_queued_locked (engine, engine->queue.head->data, "cancelled: the engine shut down");
  Job *running = engine->running ? job_ref (engine->running) : NULL;
  g_mutex_unlock (&engine->lock);

  /* outside the lock: "cancelled" handlers may call back into us */
  if (running)
    {
      g_cancellable_cancel (running->cancellable);
      job_unref (running);
    }

  invoke_on_engine (engine, quit_loop, engine->loop);
  g_thread_join (engine->thread);

  g_main_loop_unref (engine->loop);
  g_main_context_unref (engine->context);
  g_hash_table_destroy (engine->jobs);
  rg_executor_free (engine->executor);
  g_mutex_clear (&engine->lock);
  g_free (engine);
}

RgJobId
rg_engine_submit (RgEngine *engine, const RgJobSpec *spec, RgJobEventFunc callback,
                  gpointer user_data, GDestroyNotify destroy, GError **error)
{
  g_return_val_if_fail (engine != NULL && spec != NULL, 0);

  if (!rg_job_spec_validate (spec, error))
    return 0;

  Job *job = g_new0 (Job, 1);
  job->ref_count = 1;
  job->spec = rg_job_spec_copy (spec);
  job->cancellable = g_cancellable_new ();
  job->state = RG_JOB_QUEUED;
  job->target = g_main_context_ref_thread_default ();
  g_mutex_init (&job->events_lock);
  g_queue_init (&job->events);

  g_mutex_lock (&engine->lock);
  if (engine->closing)
    {
      g_mutex_unlock (&engine->lock);
      job_unref (job);
      g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "the engine is shutting down");
      return 0;
    }
  job->callback = callback;
  job->user_data = user_data;
  job->destroy = destroy;
  job->id = ++engine->last_id;
  g_hash_table_insert (engine->jobs, &job->id, job);
  g_queue_push_tail (&engine->queue, job_ref (job));
  post_state (job, RG_JOB_QUEUED, (int) engine->queue.length - 1, NULL);
  g_mutex_unlock (&engine->lock);

  invoke_on_engine (engine, run_queue, engine);
  return job->id;
}

gboolean
rg_engine_cancel (RgEngine *engine, RgJobId id)
{
  g_return_val_if_fail (engine != NULL, FALSE);

  g_mutex_lock (&engine->lock);
  Job *job = g_hash_table_lookup (engine->jobs, &id);
  Job *running = NULL;
  gboolean known = job != NULL && !RG_JOB_STATE_IS_FINAL (job->state);
  if (known && job->state == RG_JOB_QUEUED)
    cancel_queued_locked (engine, job, "cancelled before it started");
  else if (known)
    running = job_ref (job);
  g_mutex_unlock (&engine->lock);

  if (running)
    {
      g_cancellable_cancel (running->cancellable);
      job_unref (running);
    }
  return known;
}

gboolean
rg_engine_get_job (RgEngine *engine, RgJobId id, RgJobState *state, int *queue_position,
                   RgJobResult **result)
{
  g_return_val_if_fail (engine != NULL, FALSE);

  g_mutex_lock (&engine->lock);
  Job *job = g_hash_table_lookup (engine->jobs, &id);
  if (job)
    {
      if (state)
        *state = job->state;
      if (queue_position)
        *queue_position = job->state == RG_JOB_QUEUED ? g_queue_index (&engine->queue, job) : -1;
      if (result)
        *result = job->state == RG_JOB_DONE ? rg_job_result_copy (job->result) : NULL;
    }
  g_mutex_unlock (&engine->lock);
  return job != NULL;
}

/* ---- the job context, for executors (engine thread) ---- */

const RgJobSpec *
rg_job_context_get_spec (RgJobContext *job)
{
  return job->spec;
}

GCancellable *
rg_job_context_get_cancellable (RgJobContext *job)
{
  return job->cancellable;
}

void
rg_job_context_stage (RgJobContext *job, const char *stage)
{
  g_free (job->stage);
  job->stage = g_strdup (stage);
  job->stage_start_us = g_get_monotonic_time ();

  PendingEvent *pe = event_new (job, RG_JOB_EVENT_STAGE, RG_JOB_RUNNING);
  pe->ev.stage = pe->stage = g_strdup (stage);
  post (job, pe);
}

void
rg_job_context_progress (RgJobContext *job, int step, int n_steps)
{
  PendingEvent *pe = event_new (job, RG_JOB_EVENT_PROGRESS, RG_JOB_RUNNING);
  double elapsed = (g_get_monotonic_time () - job->stage_start_us) / 1e6;

  pe->ev.stage = pe->stage = g_strdup (job->stage);
  pe->ev.step = step;
  pe->ev.n_steps = n_steps;
  /* the rate so far in this stage; the ETA assumes it holds */
  if (elapsed > 0.0 && step > 0)
    {
      pe->ev.it_per_s = step / elapsed;
      pe->ev.eta_s = MAX (0, n_steps - step) / pe->ev.it_per_s;
    }
  post (job, pe);
}

void
rg_job_context_preview (RgJobContext *job, const guint8 *rgb, int width, int height)
{
  g_return_if_fail (rgb != NULL && width > 0 && height > 0);

  PendingEvent *pe = event_new (job, RG_JOB_EVENT_PREVIEW, RG_JOB_RUNNING);
  pe->ev.preview = pe->preview = g_memdup2 (rgb, (gsize) width * height * 3);
  pe->ev.preview_width = width;
  pe->ev.preview_height = height;
  post (job, pe);
}

void
rg_job_context_message (RgJobContext *job, const char *format, ...)
{
  PendingEvent *pe = event_new (job, RG_JOB_EVENT_MESSAGE, RG_JOB_RUNNING);
  va_list ap;
  va_start (ap, format);
  pe->ev.message = pe->message = g_strdup_vprintf (format, ap);
  va_end (ap);
  post (job, pe);
}

void
rg_job_context_set_result (RgJobContext *job, const char *output_path,
                           const char *provenance_json)
{
  rg_job_result_free (job->result);
  job->result = rg_job_result_new (output_path, provenance_json);
}

void
rg_executor_free (RgExecutor *executor)
{
  if (executor == NULL)
    return;
  if (executor->destroy)
    executor->destroy (executor->data);
  g_free (executor);
}
