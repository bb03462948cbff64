/* rg-train-data.c — the scene at each data position of a training run. */
#include "train/rg-train-data.h"

#include "core/rg-rng.h"

uint64_t
rg_train_scene_seed (uint64_t seed, uint64_t position)
{
  RgRng rng;
  rg_rng_init (&rng, seed, RG_TRAIN_STREAM_SCENE + (position << 8));
  return ((uint64_t) rg_rng_u32 (&rng) << 32) | rg_rng_u32 (&rng);
}
