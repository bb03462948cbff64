/* rg-fast-exp.h — a vectorisable e^x for the rooms' elementwise loops
 * (the CPU backend's softmax, attention and activations, and engine/nn's
 * fused SwiGLU), kept here so they share one definition. */
#pragma once

#include <stdint.h>
#include <string.h>

/* e^x within a few ulp of expf for x in [−87.3, 88.4]; inputs are clamped
 * to that range, so −inf gives ~1e-38 rather than 0 (callers that need an
 * exact 0 for masked entries skip them instead).
 * Cody–Waite reduction by ln 2, Cephes' degree-5 polynomial, exponent bits
 * put in by hand: all branch-free, so loops calling it vectorise, which
 * glibc's expf call does not (softmax and attention spend most of their
 * non-GEMM time here, SwiGLU and SiLU much of the rest). */
static inline float
rg_fast_exp (float x)
{
  x = x < -87.33654f ? -87.33654f : x;
  x = x > 88.37626f ? 88.37626f : x;
  /* round to nearest by the 1.5·2²³ trick: no SSE4.1 round instruction needed */
  float n = x * 1.44269504088896341f + 12582912.0f;
  n -= 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t e = ((int32_t) n + 127) << 23;
  float s;
  memcpy (&s, &e, sizeof s);
  return p * s;
}
