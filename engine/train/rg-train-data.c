/* rg-train-data.c — the scene at each data position of a training run. */
#include "train/rg-train-data.h"

#include "core/rg-error.h"
#include "core/rg-rng.h"

uint64_t
rg_train_scene_seed (uint64_t seed, uint64_t position)
{
  RgRng rng;
  rg_rng_init (&rng, seed, RG_TRAIN_STREAM_SCENE + (position << 8));
  return ((uint64_t) rg_rng_u32 (&rng) << 32) | rg_rng_u32 (&rng);
}

gboolean
rg_train_scene_has_motion (const RgShapesScene *scene, RgMotion motion)
{
  for (int i = 0; i < scene->n_shapes; i++)
    if (scene->shapes[i].motion == motion)
      return TRUE;
  return FALSE;
}

gboolean
rg_train_scene_bounces (const RgShapesScene *scene)
{
  return rg_train_scene_has_motion (scene, RG_MOTION_BOUNCING);
}

void
rg_train_scene_object_cells (const RgShapesScene *scene, int rows, int cols, float *mask)
{
  g_return_if_fail (rows > 0 && cols > 0 && mask != NULL);
  float cell_w = (float) scene->width / (float) cols, cell_h = (float) scene->height / (float) rows;
  g_autofree gboolean *path = g_new (gboolean, rows * cols);
  for (int i = 0; i < rows * cols; i++)
    mask[i] = 0.f;
  for (int s = 0; s < scene->n_shapes; s++)
    {
      const RgShapesShape *sh = &scene->shapes[s];
      int n = 0;
      for (int row = 0; row < rows; row++)
        for (int col = 0; col < cols; col++)
          {
            gboolean touched = FALSE;
            for (int t = 0; t < scene->frames && !touched; t++)
              {
                float r = sh->radius * sh->scale[t] + 1.f, x = sh->x[t], y = sh->y[t];
                /* the cell's nearest point to the centre */
                float nx = CLAMP (x, col * cell_w, (col + 1) * cell_w);
                float ny = CLAMP (y, row * cell_h, (row + 1) * cell_h);
                touched = (nx - x) * (nx - x) + (ny - y) * (ny - y) < r * r;
              }
            path[row * cols + col] = touched;
            n += touched;
          }
      /* a shape wholly outside the frame has no path and no share */
      for (int i = 0; n > 0 && i < rows * cols; i++)
        if (path[i])
          mask[i] += (float) (rows * cols) / (float) (n * scene->n_shapes);
    }
}

/* How far a bounce-seeking draw looks ahead (about one train scene in ten
 * has a bouncing shape). */
#define BOUNCE_SEARCH 256

gboolean
rg_train_next_scene (const RgShapesConfig *world, uint64_t seed, double bounce_share,
                     uint64_t *next_position, uint64_t *position, RgShapesScene *scene,
                     GError **error)
{
  *position = (*next_position)++;
  if (!rg_shapes_scene_sample (world, rg_train_scene_seed (seed, *position), scene, error))
    return FALSE;
  if (bounce_share <= 0)
    return TRUE;
  RgRng rng;
  rg_rng_init (&rng, seed, RG_TRAIN_STREAM_BOUNCE_PICK + (*position << 8));
  if (rg_rng_double (&rng) >= bounce_share)
    return TRUE;
  for (int tries = 1; !rg_train_scene_bounces (scene); tries++)
    {
      if (tries >= BOUNCE_SEARCH)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "bounce_clips: no bouncing shape in %d scenes of this world "
                       "(a bounce needs clips of 7 frames or more)", BOUNCE_SEARCH);
          return FALSE;
        }
      *position = (*next_position)++;
      if (!rg_shapes_scene_sample (world, rg_train_scene_seed (seed, *position), scene, error))
        return FALSE;
    }
  return TRUE;
}
