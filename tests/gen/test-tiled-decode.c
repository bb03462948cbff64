/* Tiled temporal decoding: tiles of the right length, a linear cross-fade
 * in the overlaps, and an untiled call when the latent fits in one tile. */
#include "core/rg-error.h"
#include "gen/rg-tiled-decode.h"

typedef struct {
  int calls;
  int frames_seen;
} Decoder;

/* Every pixel of every channel of tile k is k, and each latent frame
 * becomes `time_factor` frames: the blend is visible as values between
 * consecutive tile numbers. */
static gboolean
decode_tile_index (const RgTensor *latent, RgTensor *video, gpointer user_data,
                   GCancellable *cancellable, GError **error)
{
  Decoder *d = user_data;
  d->frames_seen = (int) latent->shape[2];
  rg_tensor_fill (video, (float) d->calls++);
  return TRUE;
}

static RgTensor *
video_for (int64_t frames)
{
  return rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 3, frames, (int64_t) 2, (int64_t) 2);
}

static float
frame_value (const RgTensor *video, int64_t frame, int channel)
{
  int64_t t = video->shape[2];
  return rg_tensor_f32 (video)[(channel * t + frame) * 4];
}

static void
test_crossfade (void)
{
  /* 7 latent frames, tiles of 4 overlapping by 1, ×2 in time: tile 0 covers
   * frames 0–7, tile 1 (aligned to the end) frames 6–13. */
  g_autoptr (RgTensor) latent = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 16, (int64_t) 7,
                                                     (int64_t) 2, (int64_t) 2);
  g_autoptr (RgTensor) video = video_for (14);
  g_autoptr (GError) error = NULL;
  Decoder d = { 0 };

  g_assert_true (rg_tiled_decode (latent, 4, 1, 2, decode_tile_index, &d, video, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (d.calls, ==, 2);
  g_assert_cmpint (d.frames_seen, ==, 4);

  const float want[14] = { 0, 0, 0, 0, 0, 0, 1.0f / 3, 2.0f / 3, 1, 1, 1, 1, 1, 1 };
  for (int c = 0; c < 3; c++)
    for (int f = 0; f < 14; f++)
      g_assert_cmpfloat_with_epsilon (frame_value (video, f, c), want[f], 1e-6);
}

/* Tiles spread evenly share the slack: 8 latent frames in tiles of 4 are
 * three tiles at 0, 2 and 4, each overlap 2 frames wide and cross-faded
 * with weights 2/3, 1/3 → 1/3, 2/3. */
static void
test_even_spread (void)
{
  g_autoptr (RgTensor) latent = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 4, (int64_t) 8,
                                                     (int64_t) 2, (int64_t) 2);
  g_autoptr (RgTensor) video = video_for (8);
  Decoder d = { 0 };

  g_assert_true (rg_tiled_decode (latent, 4, 1, 1, decode_tile_index, &d, video, NULL, NULL));
  g_assert_cmpint (d.calls, ==, 3);
  const float want[8] = { 0, 0, 1.0f / 3, 2.0f / 3, 4.0f / 3, 5.0f / 3, 2, 2 };
  for (int f = 0; f < 8; f++)
    g_assert_cmpfloat_with_epsilon (frame_value (video, f, 0), want[f], 1e-6);
}

static void
test_many_tiles_monotone (void)
{
  /* 20 latent frames, tiles of 6 overlapping by 2: the values climb from
   * tile to tile and never step back, and every tile has the full length. */
  g_autoptr (RgTensor) latent = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 4, (int64_t) 20,
                                                     (int64_t) 2, (int64_t) 2);
  g_autoptr (RgTensor) video = video_for (80);
  Decoder d = { 0 };

  g_assert_true (rg_tiled_decode (latent, 6, 2, 4, decode_tile_index, &d, video, NULL, NULL));
  /* five tiles spread evenly: starts 0, 4, 7, 11, 14 */
  g_assert_cmpint (d.calls, ==, 5);
  g_assert_cmpint (d.frames_seen, ==, 6);
  g_assert_cmpfloat (frame_value (video, 0, 0), ==, 0.0f);
  g_assert_cmpfloat (frame_value (video, 79, 0), ==, 4.0f);
  for (int f = 1; f < 80; f++)
    g_assert_cmpfloat (frame_value (video, f, 1), >=, frame_value (video, f - 1, 1));
}

static void
test_single_tile_untouched (void)
{
  g_autoptr (RgTensor) latent = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 4, (int64_t) 4,
                                                     (int64_t) 2, (int64_t) 2);
  g_autoptr (RgTensor) video = video_for (16);
  Decoder d = { .calls = 5 };

  g_assert_true (rg_tiled_decode (latent, 4, 1, 4, decode_tile_index, &d, video, NULL, NULL));
  g_assert_cmpint (d.calls, ==, 6);
  for (int f = 0; f < 16; f++)
    g_assert_cmpfloat (frame_value (video, f, 2), ==, 5.0f);
}

static void
test_bad_arguments (void)
{
  g_autoptr (RgTensor) latent = rg_tensor_f32_zeros (5, (int64_t) 1, (int64_t) 4, (int64_t) 8,
                                                     (int64_t) 2, (int64_t) 2);
  g_autoptr (RgTensor) video = video_for (32);
  g_autoptr (RgTensor) short_video = video_for (31);
  Decoder d = { 0 };
  GError *error = NULL;

  g_assert_false (rg_tiled_decode (latent, 4, 4, 4, decode_tile_index, &d, video, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (
      rg_tiled_decode (latent, 4, 1, 4, decode_tile_index, &d, short_video, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (d.calls, ==, 0);

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  g_assert_false (
      rg_tiled_decode (latent, 4, 1, 4, decode_tile_index, &d, video, cancellable, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_CANCELLED);
  g_clear_error (&error);
}

static void
test_tile_count (void)
{
  /* agrees with the decode calls counted above */
  g_assert_cmpint (rg_tiled_decode_n_tiles (7, 4, 1), ==, 2);
  g_assert_cmpint (rg_tiled_decode_n_tiles (20, 6, 2), ==, 5);
  g_assert_cmpint (rg_tiled_decode_n_tiles (4, 4, 1), ==, 1);
  g_assert_cmpint (rg_tiled_decode_n_tiles (1, 4, 1), ==, 1);
  g_assert_cmpint (rg_tiled_decode_n_tiles (8, 4, 1), ==, 3);
  g_assert_cmpint (rg_tiled_decode_n_tiles (10, 4, 1), ==, 3);
  g_assert_cmpint (rg_tiled_decode_n_tiles (11, 4, 1), ==, 4);
  g_assert_cmpint (rg_tiled_decode_n_tiles (8, 4, 4), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tiled-decode/crossfade", test_crossfade);
  g_test_add_func ("/tiled-decode/even-spread", test_even_spread);
  g_test_add_func ("/tiled-decode/many-tiles", test_many_tiles_monotone);
  g_test_add_func ("/tiled-decode/single-tile", test_single_tile_untouched);
  g_test_add_func ("/tiled-decode/bad-arguments", test_bad_arguments);
  g_test_add_func ("/tiled-decode/tile-count", test_tile_count);
  return g_test_run ();
}
