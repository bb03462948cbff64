/* rg-parallel.h — the engine's thread pool.
 *
 * One process-wide pool of worker threads, sized from the machine
 * (g_get_num_processors) unless RG_NUM_THREADS or rg_parallel_set_threads
 * says otherwise. rg_parallel_for splits [0, n) into contiguous ranges and
 * runs them on the pool plus the calling thread; it returns when all are
 * done. Nested calls from inside a worker run serially (no deadlock).
 * OpenBLAS is kept single-threaded: large GEMMs are split over this pool
 * by rg_sgemm (rg-gemm.h), so one set of threads serves both. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef void (*RgRangeFunc) (void *ctx, int64_t begin, int64_t end);

int  rg_parallel_threads (void);
void rg_parallel_set_threads (int n);
/* grain: the smallest range worth a thread (>= 1). */
void rg_parallel_for (int64_t n, int64_t grain, RgRangeFunc fn, void *ctx);
/* Index of the calling thread within the current parallel_for: 0 for the
 * caller, 1..threads-1 for workers. Lets ops use per-thread scratch. */
int  rg_parallel_thread_index (void);
/* TRUE inside a parallel_for's range function (on the caller or a worker),
 * where a nested parallel_for runs serially on that thread. */
gboolean rg_parallel_in_pool (void);

G_END_DECLS
