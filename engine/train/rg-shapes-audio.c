/* rg-shapes-audio.c — the soundtrack of a scene.
 *
 * Each shape hums a sine whose pitch says its kind (a note of a major chord
 * plus the octave) and its size (small an octave up, large an octave down).
 * Each floor contact adds a click: an impulse followed by 8 ms of decaying
 * Philox noise, starting on the exact sample of the contact frame's time, so
 * a video-to-audio model can be scored on onset alignment to the frame. */
#include "train/rg-shapes-private.h"

#include <math.h>

#define TONE_AMPLITUDE  0.12f
#define CLICK_AMPLITUDE 0.6f
#define CLICK_SAMPLES   128 /* 8 ms */
#define CLICK_DECAY     24.f /* samples, 1.5 ms */
#define FADE_SAMPLES    160 /* 10 ms in and out: no click at the clip's edges */

double
rg_shapes_tone_hz (RgShapeKind kind, RgShapeSize size)
{
  static const double base[RG_SHAPE_N_KINDS] = {
    [RG_SHAPE_CIRCLE] = 261.63, [RG_SHAPE_SQUARE] = 329.63, [RG_SHAPE_TRIANGLE] = 392.00,
    [RG_SHAPE_STAR] = 523.25,   [RG_SHAPE_RING] = 440.00,
  };
  static const double octave[RG_SIZE_N] = { 2.0, 1.0, 0.5 };
  g_return_val_if_fail ((unsigned) kind < RG_SHAPE_N_KINDS && (unsigned) size < RG_SIZE_N, 0.0);
  return base[kind] * octave[size];
}

RgTensor *
rg_shapes_soundtrack (const RgShapesScene *scene)
{
  g_return_val_if_fail (scene->fps.num > 0 && scene->fps.den > 0 && scene->frames >= 1
                            && scene->frames <= RG_SHAPES_MAX_FRAMES && scene->n_shapes >= 0
                            && scene->n_shapes <= RG_SHAPES_MAX_SHAPES && scene->n_events >= 0
                            && scene->n_events <= RG_SHAPES_MAX_EVENTS,
                        NULL);
  int64_t n = rg_time_to_samples (rg_time_from_frame (scene->frames, scene->fps),
                                  RG_SHAPES_AUDIO_RATE);
  RgTensor *audio = rg_tensor_f32_zeros (1, n);
  float *out = rg_tensor_f32 (audio);
  RgRng rng;
  rg_rng_init (&rng, scene->seed, RG_SHAPES_STREAM_AUDIO);

  for (int s = 0; s < scene->n_shapes; s++)
    {
      const RgShapesShape *sh = &scene->shapes[s];
      double w = 2.0 * G_PI * rg_shapes_tone_hz (sh->kind, sh->size) / RG_SHAPES_AUDIO_RATE;
      double phase = 2.0 * G_PI * rg_rng_double (&rng);
      for (int64_t i = 0; i < n; i++)
        {
          float fade = MIN (1.f, MIN ((float) i, (float) (n - 1 - i)) / FADE_SAMPLES);
          out[i] += TONE_AMPLITUDE * fade * (float) sin (w * (double) i + phase);
        }
    }

  for (int e = 0; e < scene->n_events; e++)
    {
      int64_t start = scene->events[e].sample;
      for (int64_t k = 0; k < CLICK_SAMPLES && start + k < n; k++)
        {
          if (start + k < 0)
            continue;
          /* The leading impulse makes the onset sample exact. */
          float noise = k == 0 ? 1.f : 2.f * (float) rg_rng_double (&rng) - 1.f;
          out[start + k] += CLICK_AMPLITUDE * expf (-(float) k / CLICK_DECAY) * noise;
        }
    }
  for (int64_t i = 0; i < n; i++)
    out[i] = CLAMP (out[i], -1.f, 1.f);
  return audio;
}
