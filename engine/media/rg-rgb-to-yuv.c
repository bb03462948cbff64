/* rg-rgb-to-yuv.c — BT.601/709 limited-range conversion in 14-bit fixed
 * point, two rows (one chroma row) per work item. */
#include "media/rg-rgb-to-yuv.h"

#include "core/rg-parallel.h"

#define FIX 14

typedef struct
{
  int y[3], u[3], v[3];
} Coefs;

typedef struct
{
  const guint8 *rgb;
  gsize rgb_stride;
  int bpp;
  int width;
  Coefs c;
  guint8 *const *planes;
  const int *strides;
} Job;

static int
fix (double x)
{
  return (int)(x * (1 << FIX) + (x < 0 ? -0.5 : 0.5));
}

/* Y = 16 + 219·(Kr·R + Kg·G + Kb·B)/255, Cb/Cr = 128 + 224·(B−Y)/(2(1−Kb))/255 … */
static Coefs
coefs_for (RgYuvMatrix m)
{
  double kr = m == RG_YUV_BT709 ? 0.2126 : 0.299;
  double kb = m == RG_YUV_BT709 ? 0.0722 : 0.114;
  double kg = 1.0 - kr - kb;
  double ys = 219.0 / 255.0, cs = 224.0 / 255.0;
  Coefs c = {
    .y = { fix (ys * kr), fix (ys * kg), fix (ys * kb) },
    .u = { fix (-cs * kr / (2 * (1 - kb))), fix (-cs * kg / (2 * (1 - kb))), fix (cs * 0.5) },
    .v = { fix (cs * 0.5), fix (-cs * kg / (2 * (1 - kr))), fix (-cs * kb / (2 * (1 - kr))) },
  };
  return c;
}

static inline guint8
luma (const Coefs *c, const guint8 *p)
{
  int y
      = (c->y[0] * p[0] + c->y[1] * p[1] + c->y[2] * p[2] + (16 << FIX) + (1 << (FIX - 1))) >> FIX;
  return (guint8)y; /* 16 … 235 by construction */
}

static void
convert_rows (void *ctx, int64_t begin, int64_t end)
{
  const Job *j = ctx;
  const Coefs *c = &j->c;
  int bpp = j->bpp;
  for (int64_t cy = begin; cy < end; cy++)
    {
      const guint8 *r0 = j->rgb + (gsize)(2 * cy) * j->rgb_stride;
      const guint8 *r1 = r0 + j->rgb_stride;
      guint8 *y0 = j->planes[0] + (gsize)(2 * cy) * j->strides[0];
      guint8 *y1 = y0 + j->strides[0];
      guint8 *u = j->planes[1] + (gsize)cy * j->strides[1];
      guint8 *v = j->planes[2] + (gsize)cy * j->strides[2];
      for (int x = 0; x < j->width; x += 2)
        {
          const guint8 *a = r0 + x * bpp, *b = a + bpp, *d = r1 + x * bpp, *e = d + bpp;
          y0[x] = luma (c, a);
          y0[x + 1] = luma (c, b);
          y1[x] = luma (c, d);
          y1[x + 1] = luma (c, e);
          int R = a[0] + b[0] + d[0] + e[0];
          int G = a[1] + b[1] + d[1] + e[1];
          int B = a[2] + b[2] + d[2] + e[2];
          /* sums of 4: two more bits of shift */
          int round = 1 << (FIX + 1), bias = 128 << (FIX + 2);
          u[x / 2]
              = (guint8)((c->u[0] * R + c->u[1] * G + c->u[2] * B + bias + round) >> (FIX + 2));
          v[x / 2]
              = (guint8)((c->v[0] * R + c->v[1] * G + c->v[2] * B + bias + round) >> (FIX + 2));
        }
    }
}

void
rg_rgb_to_yuv420p (const guint8 *rgb, gsize rgb_stride, int bytes_per_pixel, int width, int height,
                   RgYuvMatrix matrix, guint8 *const planes[3], const int strides[3])
{
  g_return_if_fail (width % 2 == 0 && height % 2 == 0);
  Job j = { .rgb = rgb,
            .rgb_stride = rgb_stride,
            .bpp = bytes_per_pixel,
            .width = width,
            .c = coefs_for (matrix),
            .planes = planes,
            .strides = strides };
  /* 16 chroma rows (32 pixel rows) is about the least worth a thread. */
  rg_parallel_for (height / 2, 16, convert_rows, &j);
}
