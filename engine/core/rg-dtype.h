/* rg-dtype.h — element types and their conversions.
 *
 * Compute is f32; bf16 and f16 are storage formats converted on load/save.
 * i32/i64 hold ids (token bytes, embedding rows). u8 holds pixels. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  RG_F32,
  RG_BF16,
  RG_F16,
  RG_I32,
  RG_I64,
  RG_U8,
  RG_DTYPE_COUNT
} RgDType;

gsize        rg_dtype_size (RgDType dtype);
const char  *rg_dtype_name (RgDType dtype);   /* "F32", "BF16" … as safetensors spells them */
gboolean     rg_dtype_from_name (const char *name, RgDType *out);

/* Round-to-nearest-even conversions; NaN stays NaN, overflow goes to inf. */
uint16_t rg_f32_to_bf16 (float f);
float    rg_bf16_to_f32 (uint16_t h);
uint16_t rg_f32_to_f16 (float f);
float    rg_f16_to_f32 (uint16_t h);

/* Convert n elements between any two float dtypes (f32/bf16/f16). */
void rg_convert_floats (const void *src, RgDType src_dtype,
                        void *dst, RgDType dst_dtype, gsize n);

G_END_DECLS
