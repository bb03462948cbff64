/* rg-rgb-to-yuv.h — packed RGB(A) → 8-bit limited-range YUV 4:2:0 (private).
 *
 * libswscale has no SIMD path from packed RGB to 4:2:0 and spends ~30–70 ms
 * on a 1080p frame, more than x264 "veryfast" itself; this fixed-point
 * converter runs rows in parallel on the engine's pool in a few ms. Chroma
 * is the mean of each 2×2 block. Width and height must be even. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RG_YUV_BT601,
  RG_YUV_BT709,
} RgYuvMatrix;

void rg_rgb_to_yuv420p (const guint8 *rgb, gsize rgb_stride, int bytes_per_pixel, /* 3 or 4 */
                        int width, int height, RgYuvMatrix matrix, guint8 *const planes[3],
                        const int strides[3]);

G_END_DECLS
