/* rg-parallel.c — a fixed pool of workers fed one range-split task at a time.
 *
 * A parallel_for publishes a task (fn, ctx, n, chunk) and a generation
 * number; workers grab chunk indices with an atomic counter, so uneven
 * chunks balance themselves. The caller works too; when it runs out of
 * chunks it withdraws the task and waits only for the workers that joined
 * it. A worker the scheduler wakes late (a busy machine) then finds no task
 * and goes back to sleep instead of making the caller wait for its wake-up:
 * small parallel_fors cost no more than running alone. Which thread runs a
 * chunk never changes its result. Only one parallel_for runs on the pool at
 * a time (a mutex); a second caller thread simply waits its turn.
 *
 * Ranges run with subnormal floats flushed to zero (x86 MXCSR FTZ and DAZ)
 * on every thread, the caller's own mode restored after. The kernels'
 * vectorised exp clamps its input, and GCC evaluates what follows for the
 * clamped value in every lane before blending: x / (1 + e^88) is
 * subnormal for any ordinary x, and each subnormal result costs a
 * microcode assist — SiLU ran 3.5× slower for values it then threw away.
 * Flushing changes a result only where a value would fall below 2^−126
 * (1.2e−38; the engine's exp already clamps there): zero for any model. */
#include "rg-parallel.h"

#include <cblas.h>
#include <stdlib.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

/* MXCSR: flush-to-zero (bit 15) and denormals-are-zero (bit 6). */
#define FLUSH_SUBNORMALS 0x8040u

static inline unsigned int
subnormals_off (void)
{
#if defined(__SSE__)
  unsigned int old = _mm_getcsr ();
  _mm_setcsr (old | FLUSH_SUBNORMALS);
  return old;
#else
  return 0;
#endif
}

static inline void
subnormals_restore (unsigned int old)
{
#if defined(__SSE__)
  _mm_setcsr (old);
#else
  (void) old;
#endif
}

/* OpenBLAS's own setter; not in every cblas.h, so declared here. */
extern void openblas_set_num_threads (int num_threads);

typedef struct {
  RgRangeFunc fn;
  void       *ctx;
  int64_t     n;
  int64_t     chunk;
  int64_t     n_chunks;
  gint64      next;      /* atomic: next chunk index */
  gint        active;    /* workers inside run_chunks (under pool_lock) */
} Task;

static GMutex   pool_lock;   /* protects generation/task/pool setup */
static GCond    pool_wake;
static GCond    pool_done;
static GMutex   run_lock;    /* serialises parallel_for callers */
static guint64  generation;
static Task    *current_task;
static int      n_threads;   /* including the caller */
static int      n_workers_started;
static gboolean pool_ready;
static GPrivate thread_index_key;
static GPrivate in_pool_key;
/* generation current when each worker was created: it must not run a task
 * published before it existed (that task's done count does not include it) */
static guint64  worker_start_gen[257];

static void
run_chunks (Task *t)
{
  for (;;)
    {
      gint64 c = __atomic_fetch_add (&t->next, 1, __ATOMIC_RELAXED);
      if (c >= t->n_chunks)
        break;
      int64_t b = c * t->chunk;
      int64_t e = MIN (t->n, b + t->chunk);
      t->fn (t->ctx, b, e);
    }
}

static gpointer
worker_main (gpointer data)
{
  int index = GPOINTER_TO_INT (data);
  guint64 seen;
  g_private_set (&thread_index_key, GINT_TO_POINTER (index));
  g_private_set (&in_pool_key, GINT_TO_POINTER (1));
  (void) subnormals_off (); /* a worker runs nothing but ranges */
  g_mutex_lock (&pool_lock);
  seen = worker_start_gen[index];
  for (;;)
    {
      while (generation == seen || index >= n_threads)
        {
          if (index >= n_threads)
            seen = generation; /* pool shrank: stay parked */
          g_cond_wait (&pool_wake, &pool_lock);
        }
      seen = generation;
      Task *t = current_task;
      if (t == NULL)
        continue; /* woke after the caller finished it alone */
      t->active++;
      g_mutex_unlock (&pool_lock);
      run_chunks (t);
      g_mutex_lock (&pool_lock);
      if (--t->active == 0)
        g_cond_signal (&pool_done);
    }
  return NULL;
}

static void
ensure_pool_locked (void)
{
  if (!pool_ready)
    {
      const char *env = g_getenv ("RG_NUM_THREADS");
      int n = env ? atoi (env) : 0;
      if (n <= 0)
        n = (int) g_get_num_processors ();
      n_threads = CLAMP (n, 1, 256);
      openblas_set_num_threads (1);
      pool_ready = TRUE;
    }
  while (n_workers_started < n_threads - 1)
    {
      n_workers_started++;
      worker_start_gen[n_workers_started] = generation;
      GThread *th = g_thread_new ("rg-worker", worker_main,
                                  GINT_TO_POINTER (n_workers_started));
      g_thread_unref (th);
    }
}

int
rg_parallel_threads (void)
{
  g_mutex_lock (&pool_lock);
  ensure_pool_locked ();
  int n = n_threads;
  g_mutex_unlock (&pool_lock);
  return n;
}

void
rg_parallel_set_threads (int n)
{
  g_mutex_lock (&run_lock);
  g_mutex_lock (&pool_lock);
  pool_ready = TRUE;
  n_threads = CLAMP (n, 1, 256);
  openblas_set_num_threads (1);
  ensure_pool_locked ();
  g_mutex_unlock (&pool_lock);
  g_mutex_unlock (&run_lock);
}

gboolean
rg_parallel_in_pool (void)
{
  return g_private_get (&in_pool_key) != NULL;
}

int
rg_parallel_thread_index (void)
{
  return GPOINTER_TO_INT (g_private_get (&thread_index_key));
}

void
rg_parallel_for (int64_t n, int64_t grain, RgRangeFunc fn, void *ctx)
{
  if (n <= 0)
    return;
  grain = MAX (grain, 1);
  int threads = rg_parallel_threads ();
  if (threads == 1 || n <= grain || g_private_get (&in_pool_key) != NULL)
    {
      unsigned int mode = subnormals_off ();
      fn (ctx, 0, n);
      subnormals_restore (mode);
      return;
    }

  g_mutex_lock (&run_lock);
  Task t = { 0 };
  t.fn = fn;
  t.ctx = ctx;
  t.n = n;
  /* about 4 chunks per thread for balance, never below the grain */
  int64_t want = MAX ((int64_t) threads * 4, 1);
  t.chunk = MAX (grain, (n + want - 1) / want);
  t.n_chunks = (n + t.chunk - 1) / t.chunk;

  g_mutex_lock (&pool_lock);
  current_task = &t;
  generation++;
  g_cond_broadcast (&pool_wake);
  g_mutex_unlock (&pool_lock);

  g_private_set (&in_pool_key, GINT_TO_POINTER (1));
  unsigned int mode = subnormals_off ();
  run_chunks (&t);
  subnormals_restore (mode);
  g_private_set (&in_pool_key, NULL);

  /* every chunk is claimed: withdraw the task, then wait for the workers
   * still running one */
  g_mutex_lock (&pool_lock);
  current_task = NULL;
  while (t.active > 0)
    g_cond_wait (&pool_done, &pool_lock);
  g_mutex_unlock (&pool_lock);
  g_mutex_unlock (&run_lock);
}
