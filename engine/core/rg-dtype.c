/* rg-dtype.c — element type sizes, names and float conversions. */
#include "rg-dtype.h"

#include <math.h>
#include <string.h>

static const struct {
  const char *name;
  gsize       size;
} dtype_info[RG_DTYPE_COUNT] = {
  [RG_F32] = { "F32", 4 },  [RG_BF16] = { "BF16", 2 }, [RG_F16] = { "F16", 2 },
  [RG_I32] = { "I32", 4 },  [RG_I64] = { "I64", 8 },   [RG_U8] = { "U8", 1 },
};

gsize
rg_dtype_size (RgDType dtype)
{
  g_return_val_if_fail (dtype < RG_DTYPE_COUNT, 0);
  return dtype_info[dtype].size;
}

const char *
rg_dtype_name (RgDType dtype)
{
  g_return_val_if_fail (dtype < RG_DTYPE_COUNT, "?");
  return dtype_info[dtype].name;
}

gboolean
rg_dtype_from_name (const char *name, RgDType *out)
{
  for (int i = 0; i < RG_DTYPE_COUNT; i++)
    if (g_strcmp0 (name, dtype_info[i].name) == 0)
      {
        *out = (RgDType) i;
        return TRUE;
      }
  return FALSE;
}

static inline uint32_t
f32_bits (float f)
{
  uint32_t u;
  memcpy (&u, &f, 4);
  return u;
}

static inline float
bits_f32 (uint32_t u)
{
  float f;
  memcpy (&f, &u, 4);
  return f;
}

uint16_t
rg_f32_to_bf16 (float f)
{
  uint32_t u = f32_bits (f);
  if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet NaN */
    return (uint16_t) ((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
  return (uint16_t) (u >> 16);
}

float
rg_bf16_to_f32 (uint16_t h)
{
  return bits_f32 ((uint32_t) h << 16);
}

uint16_t
rg_f32_to_f16 (float f)
{
  uint32_t u = f32_bits (f);
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t absu = u & 0x7fffffffu;

  if (absu > 0x7f800000u)
    return (uint16_t) (sign | 0x7e00u);
  if (absu >= 0x477ff000u) /* rounds to >= 65520: inf */
    return (uint16_t) (sign | 0x7c00u);
  if (absu < 0x38800000u) /* subnormal or zero in f16 */
    {
      /* add 0.5 in the magic position so the FPU rounds to nearest even */
      float r = bits_f32 (absu) + 0.5f;
      return (uint16_t) (sign | (f32_bits (r) - f32_bits (0.5f)));
    }
  uint32_t mant_odd = (absu >> 13) & 1u;
  absu += ((uint32_t) (15 - 127) << 23) + 0xfffu + mant_odd;
  return (uint16_t) (sign | (absu >> 13));
}

float
rg_f16_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;

  if (exp == 0)
    {
      float v = ldexpf ((float) mant, -24);
      return sign ? -v : v;
    }
  if (exp == 31)
    return bits_f32 (sign | 0x7f800000u | (mant << 13));
  return bits_f32 (sign | ((exp + 112) << 23) | (mant << 13));
}

void
rg_convert_floats (const void *src, RgDType src_dtype,
                   void *dst, RgDType dst_dtype, gsize n)
{
  if (src_dtype == dst_dtype)
    {
      memmove (dst, src, n * rg_dtype_size (src_dtype));
      return;
    }
  for (gsize i = 0; i < n; i++)
    {
      float v;
      switch (src_dtype)
        {
        case RG_F32: v = ((const float *) src)[i]; break;
        case RG_BF16: v = rg_bf16_to_f32 (((const uint16_t *) src)[i]); break;
        case RG_F16: v = rg_f16_to_f32 (((const uint16_t *) src)[i]); break;
        default: g_return_if_reached ();
        }
      switch (dst_dtype)
        {
        case RG_F32: ((float *) dst)[i] = v; break;
        case RG_BF16: ((uint16_t *) dst)[i] = rg_f32_to_bf16 (v); break;
        case RG_F16: ((uint16_t *) dst)[i] = rg_f32_to_f16 (v); break;
        default: g_return_if_reached ();
        }
    }
}
