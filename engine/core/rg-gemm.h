/* rg-gemm.h — single-precision GEMM spread over the engine's pool.
 *
 * OpenBLAS runs single-threaded (rg-parallel tells it so) and every large
 * GEMM of the engine comes through here instead, cut into one slab of rows
 * (or of columns) per pool thread, each slab one cblas_sgemm. Why not let
 * OpenBLAS thread it: its idle threads spin (sched_yield) for about 2²⁸
 * cycles after each GEMM, and between GEMMs our pool needs those cores for
 * the norms, activations and optimiser: on 2 cores a fifth of the DiT
 * trainer's CPU time went to that spinning, and our worker got less than
 * a sixth of the machine. One set of threads avoids it.
 *
 * Row slabs gave the whole GEMM's results bit for bit here, column slabs
 * differ in the last bits (other edge tiles of the kernel): the same
 * tolerance as OpenBLAS's own threading. The split depends only on the
 * thread count, so a run is reproducible at a given RG_NUM_THREADS. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Row-major c[m, n] = alpha · op(a) · op(b) + beta · c, op(a) [m, k] (a
 * stored [k, m] when trans_a), op(b) [k, n] (b stored [n, k] when trans_b),
 * with leading dimensions lda, ldb, ldc: cblas_sgemm's contract. Called
 * from inside a parallel_for's range it runs whole on that thread. */
void rg_sgemm (gboolean trans_a, gboolean trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
               int64_t ldc);

G_END_DECLS
