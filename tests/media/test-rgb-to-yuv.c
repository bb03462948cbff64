/* test-rgb-to-yuv.c — the writer's RGB → YUV 4:2:0 converter agrees with
 * libswscale (the reference) for both matrices and both input layouts. */
#include <libswscale/swscale.h>

#include "media/rg-rgb-to-yuv.h"

static void
check (RgYuvMatrix matrix, int bpp)
{
  enum
  {
    W = 96,
    H = 64
  };
  guint8 rgb[W * H * 4];
  GRand *rand = g_rand_new_with_seed (42);
  /* smooth gradients plus noise: realistic and covering the whole range */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < bpp; c++)
        rgb[(y * W + x) * bpp + c] = (guint8)CLAMP (
            (x * 255 / W) * (c == 0) + (y * 255 / H) * (c == 1)
                + ((x + y) * 255 / (W + H)) * (c == 2) + g_rand_int_range (rand, -8, 9),
            0, 255);
  g_rand_free (rand);

  guint8 ours[W * H * 3 / 2], ref[W * H * 3 / 2];
  guint8 *op[3] = { ours, ours + W * H, ours + W * H * 5 / 4 };
  guint8 *rp[3] = { ref, ref + W * H, ref + W * H * 5 / 4 };
  const int strides[3] = { W, W / 2, W / 2 };
  rg_rgb_to_yuv420p (rgb, (gsize)W * bpp, bpp, W, H, matrix, op, strides);

  /* swscale with a box (area) filter: chroma = mean of each 2×2 block */
  struct SwsContext *sws
      = sws_getContext (W, H, bpp == 4 ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24, W, H,
                        AV_PIX_FMT_YUV420P, SWS_AREA | SWS_ACCURATE_RND, NULL, NULL, NULL);
  const int *coefs = sws_getCoefficients (matrix == RG_YUV_BT709 ? SWS_CS_ITU709 : SWS_CS_ITU601);
  sws_setColorspaceDetails (sws, coefs, 1, coefs, 0, 0, 1 << 16, 1 << 16);
  const uint8_t *src[1] = { rgb };
  const int src_stride[1] = { W * bpp };
  sws_scale (sws, src, src_stride, 0, H, rp, strides);
  sws_freeContext (sws);

  int worst_y = 0, worst_c = 0;
  for (int i = 0; i < W * H; i++)
    worst_y = MAX (worst_y, ABS (ours[i] - ref[i]));
  for (int i = W * H; i < W * H * 3 / 2; i++)
    worst_c = MAX (worst_c, ABS (ours[i] - ref[i]));
  g_test_message ("matrix %d, %d bytes/pixel: max |ΔY| %d, max |ΔC| %d", matrix, bpp, worst_y,
                  worst_c);
  g_assert_cmpint (worst_y, <=, 1);
  g_assert_cmpint (worst_c, <=, 2);
}

static void
test_matches_swscale (void)
{
  check (RG_YUV_BT601, 4);
  check (RG_YUV_BT601, 3);
  check (RG_YUV_BT709, 4);
  check (RG_YUV_BT709, 3);
}

static void
test_extremes (void)
{
  /* black, white and the primaries land on the standard limited-range codes */
  const guint8 px[][3] = { { 0, 0, 0 }, { 255, 255, 255 }, { 255, 0, 0 }, { 0, 0, 255 } };
  const int want[][3] = { { 16, 128, 128 }, { 235, 128, 128 }, { 82, 90, 240 }, { 41, 240, 110 } };
  for (gsize k = 0; k < G_N_ELEMENTS (px); k++)
    {
      guint8 rgb[2 * 2 * 3], yuv[6];
      for (int i = 0; i < 4; i++)
        memcpy (rgb + 3 * i, px[k], 3);
      guint8 *planes[3] = { yuv, yuv + 4, yuv + 5 };
      const int strides[3] = { 2, 1, 1 };
      rg_rgb_to_yuv420p (rgb, 6, 3, 2, 2, RG_YUV_BT601, planes, strides);
      g_assert_cmpint (ABS (yuv[0] - want[k][0]), <=, 1);
      g_assert_cmpint (ABS (yuv[4] - want[k][1]), <=, 1);
      g_assert_cmpint (ABS (yuv[5] - want[k][2]), <=, 1);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media/rgb-to-yuv/matches-swscale", test_matches_swscale);
  g_test_add_func ("/media/rgb-to-yuv/extremes", test_extremes);
  return g_test_run ();
}
