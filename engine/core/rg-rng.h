/* rg-rng.h — counter-based random numbers (Philox4x32-10).
 *
 * Output i of a stream depends only on (seed, stream, i), never on thread
 * count or backend, so the same seed gives the same noise on CPU and GPU and
 * any slice of a stream can be generated independently. Normals use
 * Box–Muller on uniform pairs; rg-rng.c documents the exact element →
 * counter mapping that the CUDA side must reproduce. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* One Philox4x32-10 block: 4 words of output for a 128-bit counter and a
 * 64-bit key. */
void rg_philox4x32_10 (const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/* Fill out[0..n) with elements [offset, offset+n) of stream `stream` under
 * `seed`. Uniform is in (0, 1]; normal is N(0, 1). Parallel over the pool. */
void rg_rng_uniform (uint64_t seed, uint64_t stream, uint64_t offset, float *out, int64_t n);
void rg_rng_normal  (uint64_t seed, uint64_t stream, uint64_t offset, float *out, int64_t n);

/* A small sequential generator for non-tensor choices (shuffles, scene
 * layouts): the same Philox stream read one word at a time. */
typedef struct {
  uint64_t seed;
  uint64_t stream;
  uint64_t index; /* next 32-bit word */
} RgRng;

void     rg_rng_init (RgRng *rng, uint64_t seed, uint64_t stream);
uint32_t rg_rng_u32 (RgRng *rng);
double   rg_rng_double (RgRng *rng);           /* [0, 1) */
int      rg_rng_range (RgRng *rng, int lo, int hi); /* [lo, hi) */
float    rg_rng_gauss (RgRng *rng);

G_END_DECLS
