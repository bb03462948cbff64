/* The engine thread: FIFO order, queue positions, events on the
 * submitter's context in order, cancellation of queued and running jobs,
 * failures, and shutdown. The jobs run through a small executor defined
 * here (the executor interface is how remote workers plug in too), so these
 * tests need no model; test-t2v-job runs the real local executor. */
#include "core/rg-error.h"
#include "jobs/rg-engine.h"

/* ---- an executor whose work is steps of a few milliseconds ---- */

typedef struct {
  GMutex  lock;
  GCond   cond;
  gboolean gate_open;
  GArray *order; /* seeds, in the order their jobs started */
} TestExecutor;

static gboolean
wait_for_gate (TestExecutor *te, GCancellable *cancellable)
{
  g_mutex_lock (&te->lock);
  while (!te->gate_open && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait_until (&te->cond, &te->lock, g_get_monotonic_time () + 1000);
  g_mutex_unlock (&te->lock);
  return !g_cancellable_is_cancelled (cancellable);
}

static gboolean
test_execute (RgJobContext *job, gpointer data, GError **error)
{
  TestExecutor *te = data;
  const RgJobSpec *spec = rg_job_context_get_spec (job);
  GCancellable *cancellable = rg_job_context_get_cancellable (job);

  g_mutex_lock (&te->lock);
  g_array_append_val (te->order, spec->seed);
  g_mutex_unlock (&te->lock);

  if (g_str_equal (spec->prompt, "fail"))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "disk on fire");
      return FALSE;
    }
  if (g_str_has_prefix (spec->prompt, "gate") && !wait_for_gate (te, cancellable))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "cancelled at the gate");
      return FALSE;
    }

  rg_job_context_stage (job, "denoising");
  for (int i = 1; i <= spec->steps; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "cancelled at step %d", i);
          return FALSE;
        }
      g_usleep (2000);
      rg_job_context_progress (job, i, spec->steps);
      if (i == 2)
        {
          const guint8 rgb[12] = { 255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9 };
          rg_job_context_preview (job, rgb, 2, 2);
        }
    }
  rg_job_context_message (job, "seed %" G_GUINT64_FORMAT " done", spec->seed);
  rg_job_context_set_result (job, spec->output_path, "{}");
  return TRUE;
}

static void
test_executor_free (gpointer data)
{
  TestExecutor *te = data;
  g_array_unref (te->order);
  g_mutex_clear (&te->lock);
  g_cond_clear (&te->cond);
  g_free (te);
}

static RgEngine *
engine_new (TestExecutor **te_out)
{
  TestExecutor *te = g_new0 (TestExecutor, 1);
  g_mutex_init (&te->lock);
  g_cond_init (&te->cond);
  te->order = g_array_new (FALSE, FALSE, sizeof (guint64));
  RgExecutor *executor = g_new0 (RgExecutor, 1);
  executor->execute = test_execute;
  executor->data = te;
  executor->destroy = test_executor_free;
  *te_out = te;
  return rg_engine_new_with_executor (executor);
}

static void
open_gate (TestExecutor *te)
{
  g_mutex_lock (&te->lock);
  te->gate_open = TRUE;
  g_cond_broadcast (&te->cond);
  g_mutex_unlock (&te->lock);
}

/* ---- recording events ---- */

typedef struct {
  RgJobEventType type;
  RgJobState     state;
  int            queue_position;
  int            step, n_steps;
  double         it_per_s, eta_s;
  int            error_code;
  char          *text; /* stage, message, error message or output path */
} Seen;

typedef struct {
  RgJobId  id;
  GArray  *events; /* Seen */
  GThread *thread; /* where the callback must run */
  gboolean final;
  int      destroyed;
} Recorder;

static void
seen_clear (gpointer p)
{
  g_free (((Seen *) p)->text);
}

static void
on_event (const RgJobEvent *ev, gpointer data)
{
  Recorder *r = data;
  Seen s = {
    .type = ev->type,
    .state = ev->state,
    .queue_position = ev->queue_position,
    .step = ev->step,
    .n_steps = ev->n_steps,
    .it_per_s = ev->it_per_s,
    .eta_s = ev->eta_s,
    .error_code = ev->error ? ev->error->code : -1,
  };
  g_assert_true (g_thread_self () == r->thread);
  g_assert_false (r->final);
  g_assert_cmpuint (ev->job, ==, r->id);
  if (ev->error)
    s.text = g_strdup (ev->error->message);
  else if (ev->result)
    s.text = g_strdup (ev->result->output_path);
  else if (ev->message)
    s.text = g_strdup (ev->message);
  else if (ev->stage)
    s.text = g_strdup (ev->stage);
  if (ev->type == RG_JOB_EVENT_PREVIEW)
    {
      g_assert_cmpint (ev->preview_width, ==, 2);
      g_assert_cmpint (ev->preview[11], ==, 9);
    }
  if (ev->type == RG_JOB_EVENT_STATE && RG_JOB_STATE_IS_FINAL (ev->state))
    r->final = TRUE;
  g_array_append_val (r->events, s);
}

static void
on_destroy (gpointer data)
{
  Recorder *r = data;
  g_assert_true (r->final);
  r->destroyed++;
}

static Recorder *
recorder_new (void)
{
  Recorder *r = g_new0 (Recorder, 1);
  r->events = g_array_new (FALSE, TRUE, sizeof (Seen));
  g_array_set_clear_func (r->events, seen_clear);
  r->thread = g_thread_self ();
  return r;
}

static void
recorder_free (Recorder *r)
{
  g_array_unref (r->events);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Recorder, recorder_free)

static const Seen *
last_event (Recorder *r)
{
  g_assert_cmpuint (r->events->len, >, 0);
  return &g_array_index (r->events, Seen, r->events->len - 1);
}

static gboolean
has_state (Recorder *r, RgJobState state)
{
  for (guint i = 0; i < r->events->len; i++)
    {
      const Seen *s = &g_array_index (r->events, Seen, i);
      if (s->type == RG_JOB_EVENT_STATE && s->state == state)
        return TRUE;
    }
  return FALSE;
}

static RgJobId
submit (RgEngine *engine, Recorder *r, const char *prompt, guint64 seed, int steps)
{
  g_autoptr (RgJobSpec) spec = rg_job_spec_new (RG_JOB_TEXT_TO_VIDEO);
  g_autoptr (GError) error = NULL;
  spec->prompt = g_strdup (prompt);
  spec->output_path = g_strdup_printf ("clip-%" G_GUINT64_FORMAT ".mp4", seed);
  spec->seed = seed;
  spec->steps = steps;
  r->id = rg_engine_submit (engine, spec, on_event, r, on_destroy, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->id, >, 0);
  return r->id;
}

/* Iterate the test's context until cond(r) holds, failing after 20 s
 * rather than hanging (Nautilus' bounded wait). */
static void
spin_until (gboolean (*cond) (Recorder *r, gpointer data), Recorder *r, gpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!cond (r, data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (g_main_context_get_thread_default (), FALSE);
      g_usleep (500);
    }
}

static gboolean
is_final (Recorder *r, gpointer data)
{
  return r->final;
}

static gboolean
is_running (Recorder *r, gpointer data)
{
  return has_state (r, RG_JOB_RUNNING);
}

/* Each test runs with its own thread-default context, as a UI thread or a
 * CLI main loop would. */
typedef struct {
  GMainContext *context;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
}

/* ---- tests ---- */

static void
test_events_in_order (Fixture *f, gconstpointer data)
{
  TestExecutor *te;
  g_autoptr (RgEngine) engine = engine_new (&te);
  g_autoptr (Recorder) r = recorder_new ();

  submit (engine, r, "a red circle", 7, 10);
  spin_until (is_final, r, NULL);
  g_assert_cmpint (r->destroyed, ==, 1);

  /* queued → running → stage → progress 1…10 (with a preview) → message → done */
  const Seen *first = &g_array_index (r->events, Seen, 0);
  g_assert_cmpint (first->type, ==, RG_JOB_EVENT_STATE);
  g_assert_cmpint (first->state, ==, RG_JOB_QUEUED);
  g_assert_cmpint (first->queue_position, ==, 0);
  int last_step = 0, previews = 0, messages = 0;
  gboolean stage_seen = FALSE;
  for (guint i = 1; i < r->events->len; i++)
    {
      const Seen *s = &g_array_index (r->events, Seen, i);
      switch (s->type)
        {
        case RG_JOB_EVENT_STAGE:
          g_assert_cmpstr (s->text, ==, "denoising");
          stage_seen = TRUE;
          break;
        case RG_JOB_EVENT_PROGRESS:
          g_assert_true (stage_seen);
          g_assert_cmpstr (s->text, ==, "denoising");
          g_assert_cmpint (s->step, ==, last_step + 1);
          g_assert_cmpint (s->n_steps, ==, 10);
          /* ~2 ms a step: a rate well above 1/s and an ETA of the steps left */
          g_assert_cmpfloat (s->it_per_s, >, 1.0);
          g_assert_cmpfloat (s->eta_s, >=, 0.0);
          g_assert_cmpfloat (s->eta_s, <=, (10 - s->step) / s->it_per_s + 1e-9);
          last_step = s->step;
          break;
        case RG_JOB_EVENT_PREVIEW:
          g_assert_cmpint (last_step, ==, 2);
          previews++;
          break;
        case RG_JOB_EVENT_MESSAGE:
          g_assert_cmpstr (s->text, ==, "seed 7 done");
          messages++;
          break;
        case RG_JOB_EVENT_STATE:
          g_assert_true (s->state == RG_JOB_RUNNING || s->state == RG_JOB_DONE);
          break;
        case RG_JOB_EVENT_QUEUE_POSITION:
          g_assert_not_reached ();
        }
    }
  g_assert_cmpint (last_step, ==, 10);
  g_assert_cmpint (previews, ==, 1);
  g_assert_cmpint (messages, ==, 1);
  g_assert_cmpint (last_event (r)->state, ==, RG_JOB_DONE);
  g_assert_cmpstr (last_event (r)->text, ==, "clip-7.mp4");
  g_assert_cmpfloat (g_array_index (r->events, Seen, r->events->len - 3).eta_s, ==, 0.0);

  RgJobState state;
  g_autoptr (RgJobResult) result = NULL;
  g_assert_true (rg_engine_get_job (engine, r->id, &state, NULL, &result));
  g_assert_cmpint (state, ==, RG_JOB_DONE);
  g_assert_cmpstr (result->output_path, ==, "clip-7.mp4");
}

static void
test_fifo_and_positions (Fixture *f, gconstpointer data)
{
  TestExecutor *te;
  g_autoptr (RgEngine) engine = engine_new (&te);
  g_autoptr (Recorder) a = recorder_new ();
  g_autoptr (Recorder) b = recorder_new ();
  g_autoptr (Recorder) c = recorder_new ();

  submit (engine, a, "gate", 1, 2);
  spin_until (is_running, a, NULL);
  submit (engine, b, "b", 2, 2);
  submit (engine, c, "c", 3, 2);

  int position = -2;
  RgJobState state;
  g_assert_true (rg_engine_get_job (engine, c->id, &state, &position, NULL));
  g_assert_cmpint (state, ==, RG_JOB_QUEUED);
  g_assert_cmpint (position, ==, 1);

  open_gate (te);
  spin_until (is_final, c, NULL);
  spin_until (is_final, a, NULL);
  spin_until (is_final, b, NULL);

  g_assert_cmpuint (te->order->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (g_array_index (te->order, guint64, i), ==, i + 1);

  /* b was next in line at once; c was second, then moved up to first */
  g_assert_cmpint (g_array_index (b->events, Seen, 0).queue_position, ==, 0);
  g_assert_cmpint (g_array_index (c->events, Seen, 0).queue_position, ==, 1);
  gboolean moved_up = FALSE;
  for (guint i = 0; i < c->events->len; i++)
    {
      const Seen *s = &g_array_index (c->events, Seen, i);
      if (s->type == RG_JOB_EVENT_QUEUE_POSITION)
        {
          g_assert_cmpint (s->queue_position, ==, 0);
          moved_up = TRUE;
        }
    }
  g_assert_true (moved_up);
  g_assert_cmpint (last_event (a)->state, ==, RG_JOB_DONE);
  g_assert_cmpint (last_event (b)->state, ==, RG_JOB_DONE);
  g_assert_cmpint (last_event (c)->state, ==, RG_JOB_DONE);
}

static void
test_cancel_running (Fixture *f, gconstpointer data)
{
  TestExecutor *te;
  g_autoptr (RgEngine) engine = engine_new (&te);
  g_autoptr (Recorder) r = recorder_new ();

  submit (engine, r, "gate", 1, 3);
  spin_until (is_running, r, NULL);
  g_assert_true (rg_engine_cancel (engine, r->id));
  spin_until (is_final, r, NULL);

  g_assert_cmpint (last_event (r)->state, ==, RG_JOB_CANCELLED);
  g_assert_cmpint (last_event (r)->error_code, ==, RG_ERROR_CANCELLED);
  g_assert_false (has_state (r, RG_JOB_DONE));
  RgJobState state;
  g_autoptr (RgJobResult) result = NULL;
  g_assert_true (rg_engine_get_job (engine, r->id, &state, NULL, &result));
  g_assert_cmpint (state, ==, RG_JOB_CANCELLED);
  g_assert_null (result);
  /* a finished job cannot be cancelled again */
  g_assert_false (rg_engine_cancel (engine, r->id));
  g_assert_cmpint (r->destroyed, ==, 1);
}

static void
test_cancel_queued (Fixture *f, gconstpointer data)
{
  TestExecutor *te;
  g_autoptr (RgEngine) engine = engine_new (&te);
  g_autoptr (Recorder) a = recorder_new ();
  g_autoptr (Recorder) b = recorder_new ();
  g_autoptr (Recorder) c = recorder_new ();

  submit (engine, a, "gate", 1, 1);
  spin_until (is_running, a, NULL);
  submit (engine, b, "b", 2, 1);
  submit (engine, c, "c", 3, 1);
  g_assert_true (rg_engine_cancel (engine, b->id));
  spin_until (is_final, b, NULL);
  g_assert_cmpint (last_event (b)->state, ==, RG_JOB_CANCELLED);
  g_assert_false (has_state (b, RG_JOB_RUNNING));

  int position = -2;
  g_assert_true (rg_engine_get_job (engine, c->id, NULL, &position, NULL));
  g_assert_cmpint (position, ==, 0);

  open_gate (te);
  spin_until (is_final, c, NULL);
  spin_until (is_final, a, NULL);
  /* b never ran */
  g_assert_cmpuint (te->order->len, ==, 2);
  g_assert_cmpuint (g_array_index (te->order, guint64, 1), ==, 3);
  g_assert_cmpint (last_event (c)->state, ==, RG_JOB_DONE);
}

static void
test_failure_then_next (Fixture *f, gconstpointer data)
{
  TestExecutor *te;
  g_autoptr (RgEngine) engine = engine_new (&te);
  g_autoptr (Recorder) bad = recorder_new ();
  g_autoptr (Recorder) good = recorder_new ();

  submit (engine, bad, "fail", 1, 1);
  submit (engine, good, "fine", 2, 1);
  spin_until (is_final, bad, NULL);
  spin_until (is_final, good, NULL);

  g_assert_cmpint (last_event (bad)->state, ==, RG_JOB_FAILED);
  g_assert_cmpint (last_event (bad)->error_code, ==, RG_ERROR_IO);
  g_assert_cmpstr (last_event (bad)->text, ==, "disk on fire");
  g_assert_cmpint (last_event (good)->state, ==, RG_JOB_DONE);
}

static void
test_bad_requests (Fixture *f, gconstpointer data)
{
  TestExecutor *te;
  g_autoptr (RgEngine) engine = engine_new (&te);
  g_autoptr (RgJobSpec) spec = rg_job_spec_new (RG_JOB_TEXT_TO_VIDEO);
  GError *error = NULL;
  int destroyed = 0;

  /* no prompt */
  spec->output_path = g_strdup ("x.mp4");
  g_assert_cmpuint (rg_engine_submit (engine, spec, NULL, &destroyed, NULL, &error), ==, 0);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "prompt"));
  g_clear_error (&error);

  /* zero steps */
  spec->prompt = g_strdup ("ok");
  spec->steps = 0;
  g_assert_cmpuint (rg_engine_submit (engine, spec, NULL, NULL, NULL, &error), ==, 0);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "steps"));
  g_clear_error (&error);

  /* a negative frame rate */
  spec->steps = 4;
  spec->fps = (RgRational) { -8, 1 };
  g_assert_cmpuint (rg_engine_submit (engine, spec, NULL, NULL, NULL, &error), ==, 0);
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (rg_engine_cancel (engine, 12345));
  g_assert_false (rg_engine_get_job (engine, 12345, NULL, NULL, NULL));
  g_assert_cmpuint (te->order->len, ==, 0);
}

static void
test_shutdown_cancels (Fixture *f, gconstpointer data)
{
  TestExecutor *te;
  RgEngine *engine = engine_new (&te);
  g_autoptr (Recorder) a = recorder_new ();
  g_autoptr (Recorder) b = recorder_new ();

  submit (engine, a, "gate", 1, 1);
  spin_until (is_running, a, NULL);
  submit (engine, b, "b", 2, 1);
  rg_engine_free (engine);

  /* the events were posted before the engine went; they still arrive */
  spin_until (is_final, a, NULL);
  spin_until (is_final, b, NULL);
  g_assert_cmpint (last_event (a)->state, ==, RG_JOB_CANCELLED);
  g_assert_cmpint (last_event (b)->state, ==, RG_JOB_CANCELLED);
  g_assert_cmpint (a->destroyed, ==, 1);
  g_assert_cmpint (b->destroyed, ==, 1);
}

/* A second submitter thread with its own context gets its job's events
 * there, while this thread gets its own job's events here. */
typedef struct {
  RgEngine *engine;
  Recorder *recorder;
} Submitter;

static gpointer
submitter_thread (gpointer data)
{
  Submitter *sub = data;
  GMainContext *context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  sub->recorder->thread = g_thread_self ();
  submit (sub->engine, sub->recorder, "from a worker thread", 2, 5);
  spin_until (is_final, sub->recorder, NULL);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_events_go_to_each_submitter (Fixture *f, gconstpointer data)
{
  TestExecutor *te;
  g_autoptr (RgEngine) engine = engine_new (&te);
  g_autoptr (Recorder) mine = recorder_new ();
  g_autoptr (Recorder) theirs = recorder_new ();
  Submitter sub = { engine, theirs };

  GThread *thread = g_thread_new ("submitter", submitter_thread, &sub);
  submit (engine, mine, "from the test thread", 1, 5);
  spin_until (is_final, mine, NULL);
  g_thread_join (thread);

  /* on_event asserted each callback ran on its recorder's thread */
  g_assert_cmpint (last_event (mine)->state, ==, RG_JOB_DONE);
  g_assert_cmpint (last_event (theirs)->state, ==, RG_JOB_DONE);
  g_assert_cmpint (mine->destroyed, ==, 1);
  g_assert_cmpint (theirs->destroyed, ==, 1);
}

static void
test_spec_json (void)
{
  g_autoptr (RgJobSpec) spec = rg_job_spec_new (RG_JOB_TEXT_TO_VIDEO);
  spec->prompt = g_strdup ("a \"quoted\" prompt");
  spec->seed = G_MAXUINT64;
  spec->output_path = g_strdup ("out.mp4");
  g_autofree char *json = rg_job_spec_to_json (spec);
  g_assert_nonnull (strstr (json, "\"kind\" : \"t2v\""));
  g_assert_nonnull (strstr (json, "\"seed\" : \"18446744073709551615\""));
  g_assert_nonnull (strstr (json, "a \\\"quoted\\\" prompt"));
  g_assert_nonnull (strstr (json, "\"negative_prompt\" : null"));
  g_assert_nonnull (strstr (json, "\"schedule\" : \"linear-quadratic\""));

  RgJobKind kind;
  g_assert_true (rg_job_kind_from_string ("v2a", &kind, NULL));
  g_assert_cmpint (kind, ==, RG_JOB_VIDEO_TO_AUDIO);
  g_assert_false (rg_job_kind_from_string ("t3v", &kind, NULL));
}

static void
test_spec_json_round_trip (void)
{
  g_autoptr (RgJobSpec) spec = rg_job_spec_new (RG_JOB_TEXT_TO_VIDEO);
  spec->prompt = g_strdup ("un chat qui saute, 跳跃的猫");
  spec->negative_prompt = g_strdup ("blur");
  spec->seed = G_MAXUINT64 - 1;
  spec->steps = 24;
  spec->guidance = 7.5f;
  spec->schedule = RG_SCHEDULE_LINEAR;
  spec->frames = 32;
  spec->fps = (RgRational) { 30000, 1001 };
  spec->width = 128;
  spec->height = 64;
  spec->model_path = g_strdup ("/models/nano.safetensors");
  spec->output_path = g_strdup ("out.mp4");

  g_autofree char *json = rg_job_spec_to_json (spec);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgJobSpec) back = rg_job_spec_from_json (json, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->prompt, ==, spec->prompt);
  g_assert_cmpstr (back->negative_prompt, ==, "blur");
  g_assert_cmpuint (back->seed, ==, spec->seed);
  g_assert_cmpint (back->steps, ==, 24);
  g_assert_cmpfloat (back->guidance, ==, 7.5f);
  g_assert_cmpint (back->schedule, ==, RG_SCHEDULE_LINEAR);
  g_assert_cmpint (back->frames, ==, 32);
  g_assert_cmpint (back->fps.num, ==, 30000);
  g_assert_cmpint (back->fps.den, ==, 1001);
  g_assert_cmpint (back->width, ==, 128);
  g_assert_cmpint (back->height, ==, 64);
  g_assert_cmpstr (back->model_path, ==, spec->model_path);
  g_assert_cmpstr (back->output_path, ==, "out.mp4");

  /* a minimal request takes the defaults */
  g_autoptr (RgJobSpec) small
      = rg_job_spec_from_json ("{\"prompt\": \"a dog\", \"output\": \"d.mp4\", \"seed\": 3}",
                               -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (small->kind, ==, RG_JOB_TEXT_TO_VIDEO);
  g_assert_cmpint (small->steps, ==, 50);
  g_assert_cmpuint (small->seed, ==, 3);
  g_assert_null (small->model_path);
}

static void
test_spec_json_hostile (void)
{
  static const struct {
    const char *json;
    int         code;
    const char *says;
  } cases[] = {
    { "", RG_ERROR_CORRUPT, "not a JSON object" },
    { "{\"prompt\": \"x\"", RG_ERROR_CORRUPT, "not JSON" },
    { "[1, 2]", RG_ERROR_CORRUPT, "not a JSON object" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"stepz\": 4}", RG_ERROR_CORRUPT, "stepz" },
    { "{\"prompt\": 7, \"output\": \"o.mp4\"}", RG_ERROR_CORRUPT, "prompt" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"steps\": \"9\"}", RG_ERROR_CORRUPT,
      "steps" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"steps\": 99999999999}",
      RG_ERROR_CORRUPT, "steps" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"seed\": -1}", RG_ERROR_CORRUPT, "seed" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"seed\": \"18446744073709551616\"}",
      RG_ERROR_CORRUPT, "seed" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"fps\": [8]}", RG_ERROR_CORRUPT, "fps" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"guidance\": \"high\"}",
      RG_ERROR_CORRUPT, "guidance" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"kind\": \"t3v\"}",
      RG_ERROR_INVALID_ARGUMENT, "t3v" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"schedule\": \"cosine\"}",
      RG_ERROR_INVALID_ARGUMENT, "cosine" },
    { "{\"prompt\": \"x\", \"output\": \"o.mp4\", \"steps\": 0}", RG_ERROR_INVALID_ARGUMENT,
      "steps" },
    { "{\"prompt\": \"x\"}", RG_ERROR_INVALID_ARGUMENT, "output" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GError *error = NULL;
      RgJobSpec *spec = rg_job_spec_from_json (cases[i].json, -1, &error);
      g_assert_null (spec);
      g_assert_error (error, RG_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("case %u: “%s” does not mention “%s”", i, error->message, cases[i].says);
      g_clear_error (&error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/engine/events-in-order", test_events_in_order);
  ADD ("/engine/fifo-and-positions", test_fifo_and_positions);
  ADD ("/engine/cancel-running", test_cancel_running);
  ADD ("/engine/cancel-queued", test_cancel_queued);
  ADD ("/engine/failure-then-next", test_failure_then_next);
  ADD ("/engine/bad-requests", test_bad_requests);
  ADD ("/engine/shutdown-cancels", test_shutdown_cancels);
  ADD ("/engine/events-go-to-each-submitter", test_events_go_to_each_submitter);
#undef ADD
  g_test_add_func ("/job/spec-json", test_spec_json);
  g_test_add_func ("/job/spec-json-round-trip", test_spec_json_round_trip);
  g_test_add_func ("/job/spec-json-hostile", test_spec_json_hostile);
  return g_test_run ();
}
