/* rg-rng.c — Philox4x32-10 (Salmon et al., SC'11), as in curand and PyTorch.
 *
 * Mapping used everywhere (CPU now, kernels/ later):
 *   counter = { block_lo, block_hi, stream_lo, stream_hi }, key = seed.
 *   uniform element i = word (i % 4) of block i / 4, as (u + 1) * 2^-32.
 *   normal element i: pair p = i / 2 uses words 2(p%2), 2(p%2)+1 of block
 *   p / 2; r = sqrt(-2 ln u0), θ = 2π u1; even i → r cos θ, odd i → r sin θ. */
#include "rg-rng.h"

#include <math.h>

#include "rg-parallel.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline uint32_t
mulhilo (uint32_t a, uint32_t b, uint32_t *hi)
{
  uint64_t p = (uint64_t) a * b;
  *hi = (uint32_t) (p >> 32);
  return (uint32_t) p;
}

void
rg_philox4x32_10 (const uint32_t counter[4], const uint32_t key[2], uint32_t out[4])
{
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++)
    {
      uint32_t hi0, hi1;
      uint32_t lo0 = mulhilo (PHILOX_M0, c0, &hi0);
      uint32_t lo1 = mulhilo (PHILOX_M1, c2, &hi1);
      uint32_t n0 = hi1 ^ c1 ^ k0;
      uint32_t n2 = hi0 ^ c3 ^ k1;
      c0 = n0;
      c1 = lo1;
      c2 = n2;
      c3 = lo0;
      k0 += PHILOX_W0;
      k1 += PHILOX_W1;
    }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

static inline void
block (uint64_t seed, uint64_t stream, uint64_t b, uint32_t out[4])
{
  uint32_t ctr[4] = { (uint32_t) b, (uint32_t) (b >> 32), (uint32_t) stream,
                      (uint32_t) (stream >> 32) };
  uint32_t key[2] = { (uint32_t) seed, (uint32_t) (seed >> 32) };
  rg_philox4x32_10 (ctr, key, out);
}

static inline float
to_unit (uint32_t u)
{
  /* (u + 1) / 2^32 in double then rounded: strictly positive, at most 1 */
  return (float) (((double) u + 1.0) * (1.0 / 4294967296.0));
}

typedef struct {
  uint64_t seed, stream, offset;
  float   *out;
  gboolean normal;
} FillCtx;

static void
fill_range (void *data, int64_t begin, int64_t end)
{
  FillCtx *c = data;
  for (int64_t j = begin; j < end; j++)
    {
      uint64_t i = c->offset + (uint64_t) j;
      uint32_t w[4];
      if (!c->normal)
        {
          block (c->seed, c->stream, i / 4, w);
          c->out[j] = to_unit (w[i % 4]);
          continue;
        }
      uint64_t pair = i / 2;
      block (c->seed, c->stream, pair / 2, w);
      int k = (int) (pair % 2) * 2;
      double u0 = ((double) w[k] + 1.0) * (1.0 / 4294967296.0);
      double u1 = ((double) w[k + 1] + 1.0) * (1.0 / 4294967296.0);
      double r = sqrt (-2.0 * log (u0));
      double th = 2.0 * G_PI * u1;
      c->out[j] = (float) ((i % 2) ? r * sin (th) : r * cos (th));
    }
}

void
rg_rng_uniform (uint64_t seed, uint64_t stream, uint64_t offset, float *out, int64_t n)
{
  FillCtx c = { seed, stream, offset, out, FALSE };
  rg_parallel_for (n, 4096, fill_range, &c);
}

void
rg_rng_normal (uint64_t seed, uint64_t stream, uint64_t offset, float *out, int64_t n)
{
  FillCtx c = { seed, stream, offset, out, TRUE };
  rg_parallel_for (n, 4096, fill_range, &c);
}

void
rg_rng_init (RgRng *rng, uint64_t seed, uint64_t stream)
{
  rng->seed = seed;
  rng->stream = stream;
  rng->index = 0;
}

uint32_t
rg_rng_u32 (RgRng *rng)
{
  uint32_t w[4];
  uint64_t i = rng->index++;
  block (rng->seed, rng->stream, i / 4, w);
  return w[i % 4];
}

double
rg_rng_double (RgRng *rng)
{
  uint64_t hi = rg_rng_u32 (rng) >> 5, lo = rg_rng_u32 (rng) >> 6;
  return (double) (hi * 67108864u + lo) * (1.0 / 9007199254740992.0);
}

int
rg_rng_range (RgRng *rng, int lo, int hi)
{
  g_return_val_if_fail (hi > lo, lo);
  return lo + (int) (rg_rng_double (rng) * (double) (hi - lo));
}

float
rg_rng_gauss (RgRng *rng)
{
  double u0 = 1.0 - rg_rng_double (rng), u1 = rg_rng_double (rng);
  return (float) (sqrt (-2.0 * log (u0)) * cos (2.0 * G_PI * u1));
}
