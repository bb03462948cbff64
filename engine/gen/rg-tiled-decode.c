/* rg-tiled-decode.c — overlapping time tiles, linearly cross-faded. */
#include "rg-tiled-decode.h"

#include "core/rg-error.h"

/* Weight of output frame j of a tile of n frames whose first/last p frames
 * overlap a neighbour: a ramp that never reaches 0, so every frame has some
 * weight and the normalisation below never divides by zero. */
static float
tile_weight (int64_t j, int64_t n, int64_t p, gboolean has_prev, gboolean has_next)
{
  float w = 1.0f;
  if (has_prev && j < p)
    w = (float) (j + 1) / (float) (p + 1);
  if (has_next && j >= n - p)
    w = MIN (w, (float) (n - j) / (float) (p + 1));
  return w;
}

/* acc[:, :, at + j] += w_j · tile[:, :, j] for every frame j of the tile. */
static void
accumulate (RgTensor *acc, float *weight_sum, const RgTensor *tile, int64_t at,
            gboolean has_prev, gboolean has_next, int64_t p)
{
  int64_t planes = tile->shape[0] * tile->shape[1];
  int64_t n = tile->shape[2], frame = tile->shape[3] * tile->shape[4];
  int64_t total = acc->shape[2];
  const float *src = rg_tensor_f32 (tile);
  float *dst = rg_tensor_f32 (acc);

  for (int64_t j = 0; j < n; j++)
    {
      float w = tile_weight (j, n, p, has_prev, has_next);
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
  int64_t p = (int64_t) overlap * time_factor;

  for (int64_t start = 0;; start += tile - overlap)
    {
      if (start + tile > t_lat)
        start = t_lat - tile;
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CANCELLED, "cancelled while decoding");
          return FALSE;
        }

      g_autoptr (RgTensor) view = rg_tensor_narrow ((RgTensor *) latent, 2, start, tile);
      g_autoptr (RgTensor) part = rg_tensor_contiguous (view);
      if (!decode (part, tile_video, user_data, cancellable, error))
        return FALSE;

      gboolean last = start + tile == t_lat;
      accumulate (acc, weight_sum, tile_video, start * time_factor, start > 0, !last, p);
      if (last)
        break;
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
