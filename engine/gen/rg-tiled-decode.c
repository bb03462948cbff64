/* rg-tiled-decode.c — overlapping time tiles, linearly cross-faded. */
#include "rg-tiled-decode.h"

#include "core/rg-error.h"

/* Weight of frame j of a tile of n frames whose first p_prev frames are
 * shared with the previous tile and last p_next with the next: ramps of
 * (j+1)/(p+1) up and (n−j)/(p+1) down, so in an overlap the two tiles'
 * weights sum to exactly 1 (a linear cross-fade) and no frame has weight
 * 0 (the normalisation below never divides by zero). */
static float
tile_weight (int64_t j, int64_t n, int64_t p_prev, int64_t p_next)
{
  float w = 1.0f;
  if (j < p_prev)
    w = (float) (j + 1) / (float) (p_prev + 1);
  if (j >= n - p_next)
    w = MIN (w, (float) (n - j) / (float) (p_next + 1));
  return w;
}

/* acc[:, :, at + j] += w_j · tile[:, :, j] for every frame j of the tile. */
static void
accumulate (RgTensor *acc, float *weight_sum, const RgTensor *tile, int64_t at, int64_t p_prev,
            int64_t p_next)
{
  int64_t planes = tile->shape[0] * tile->shape[1];
  int64_t n = tile->shape[2], frame = tile->shape[3] * tile->shape[4];
  int64_t total = acc->shape[2];
  const float *src = rg_tensor_f32 (tile);
  float *dst = rg_tensor_f32 (acc);

  for (int64_t j = 0; j < n; j++)
    {
      float w = tile_weight (j, n, p_prev, p_next);
      weight_sum[at + j] += w;
      for (int64_t pl = 0; pl < planes; pl++)
        {
          const float *s = src + (pl * n + j) * frame;
          float *d = dst + (pl * total + at + j) * frame;
          for (int64_t k = 0; k < frame; k++)
            d[k] += w * s[k];
        }
    }
}

int
rg_tiled_decode_n_tiles (int64_t frames, int tile, int overlap)
{
  if (frames < 1 || tile < 1 || overlap < 0 || overlap >= tile)
    return 0;
  if (frames <= tile)
    return 1;
  /* the fewest tiles whose overlaps are all at least `overlap` */
  int64_t stride = tile - overlap;
  return (int) ((frames - overlap + stride - 1) / stride);
}

/* Start of tile i of n: spread evenly from 0 to frames − tile, so the
 * overlaps differ by at most one frame instead of the last being huge. */
static int64_t
tile_start (int i, int n, int64_t frames, int tile)
{
  if (n == 1)
    return 0;
  return (i * (frames - tile) + (n - 1) / 2) / (n - 1);
}

gboolean
rg_tiled_decode (const RgTensor *latent, int tile, int overlap, int time_factor,
                 RgTileDecodeFunc decode, gpointer user_data, RgTensor *video,
                 GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (latent->ndim == 5 && video->ndim == 5, FALSE);
  g_return_val_if_fail (rg_tensor_is_contiguous (latent) && rg_tensor_is_contiguous (video), FALSE);
  g_return_val_if_fail (latent->dtype == RG_F32 && video->dtype == RG_F32, FALSE);
  g_return_val_if_fail (decode != NULL, FALSE);

  int64_t t_lat = latent->shape[2];
  if (tile < 1 || overlap < 0 || overlap >= tile || time_factor < 1)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "tiled decode: tile %d, overlap %d, time factor %d (need 0 ≤ overlap < tile, "
                   "factor ≥ 1)",
                   tile, overlap, time_factor);
      return FALSE;
    }
  if (video->shape[0] != latent->shape[0] || video->shape[2] != t_lat * time_factor)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "tiled decode: %" G_GINT64_FORMAT " latent frames decode to %" G_GINT64_FORMAT
                   " frames, not %" G_GINT64_FORMAT,
                   t_lat, t_lat * time_factor, video->shape[2]);
      return FALSE;
    }
  if (t_lat <= tile)
    return decode (latent, video, user_data, cancellable, error);

  g_autoptr (RgTensor) acc = rg_tensor_zeros (RG_F32, 5, video->shape);
  g_autofree float *weight_sum = g_new0 (float, video->shape[2]);
  int64_t tile_shape[5] = { video->shape[0], video->shape[1], (int64_t) tile * time_factor,
                            video->shape[3], video->shape[4] };
  g_autoptr (RgTensor) tile_video = rg_tensor_new (RG_F32, 5, tile_shape);
  int n = rg_tiled_decode_n_tiles (t_lat, tile, overlap);

  for (int i = 0; i < n; i++)
    {
      int64_t start = tile_start (i, n, t_lat, tile);
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "cancelled while decoding");
          return FALSE;
        }

      g_autoptr (RgTensor) view = rg_tensor_narrow ((RgTensor *) latent, 2, start, tile);
      g_autoptr (RgTensor) part = rg_tensor_contiguous (view);
      if (!decode (part, tile_video, user_data, cancellable, error))
        return FALSE;

      /* frames shared with the neighbours, which fade in and out */
      int64_t p_prev = i > 0 ? tile_start (i - 1, n, t_lat, tile) + tile - start : 0;
      int64_t p_next = i + 1 < n ? start + tile - tile_start (i + 1, n, t_lat, tile) : 0;
      accumulate (acc, weight_sum, tile_video, start * time_factor, p_prev * time_factor,
                  p_next * time_factor);
    }

  /* normalise: a convex combination of the tiles at every frame */
  int64_t planes = video->shape[0] * video->shape[1], total = video->shape[2];
  int64_t frame = video->shape[3] * video->shape[4];
  const float *a = rg_tensor_f32 (acc);
  float *out = rg_tensor_f32 (video);
  for (int64_t pl = 0; pl < planes; pl++)
    for (int64_t j = 0; j < total; j++)
      for (int64_t k = 0; k < frame; k++)
        {
          int64_t i = (pl * total + j) * frame + k;
          out[i] = a[i] / weight_sum[j];
        }
  return TRUE;
}
