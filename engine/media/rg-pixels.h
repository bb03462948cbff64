/* rg-pixels.h — the pixel layouts the media room exchanges with its callers.
 *
 * Packed layouts are top row first, `stride` bytes per row. The planar
 * layouts hold their planes one after the other at tight width strides. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RG_PIXEL_RGBA = 0, /* 4 bytes per pixel, R G B A, alpha 255 */
  RG_PIXEL_RGB24,    /* 3 bytes per pixel */
  RG_PIXEL_YUV420P,  /* 8-bit Y (w×h), U, V (⌈w/2⌉×⌈h/2⌉), limited range */
  RG_PIXEL_RGB_F32,  /* planar float R, G, B planes, each w×h, in [0, 1] */
} RgPixelFormat;

/* Bytes needed for one w×h image in `format` with tight rows. */
gsize rg_pixel_image_size (RgPixelFormat format, int width, int height);

G_END_DECLS
