/* rg-train-data.h — where a training run's data comes from: the Philox
 * streams of a run and the ShapesWorld scene at each data position. Below
 * the training loop (librg-train), so tools that only need the data (the
 * GPU trainers' shapes-dump) do not link the models. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "train/rg-shapes.h"

G_BEGIN_DECLS

/* Philox streams of a run (seed = the config's seed). */
enum {
  RG_TRAIN_STREAM_SCENE = 0x5C0000, /* + position: the scene's seed */
  RG_TRAIN_STREAM_CROP,             /* crop offsets, at position */
  RG_TRAIN_STREAM_POSTERIOR,        /* TAE posterior noise, at step */
  RG_TRAIN_STREAM_FLOW_T,           /* logit-normal t, at step */
  RG_TRAIN_STREAM_FLOW_NOISE,       /* flow-matching x₀, at step */
  RG_TRAIN_STREAM_DROPOUT,          /* caption dropout, at position */
  RG_TRAIN_STREAM_INIT,             /* weight init */
  RG_TRAIN_STREAM_LATENT_NOISE,     /* the decoder's extra latent noise, at step */
  RG_TRAIN_STREAM_BOUNCE_PICK,      /* whether a sample is drawn from the bouncing clips, at position */
};

/* The ShapesWorld seed of the training scene at a data position. */
uint64_t rg_train_scene_seed (uint64_t seed, uint64_t position);

/* Whether a scene holds a shape with this motion. */
gboolean rg_train_scene_has_motion (const RgShapesScene *scene, RgMotion motion);
/* Whether a scene holds a bouncing shape. */
gboolean rg_train_scene_bounces (const RgShapesScene *scene);

/* Where a scene's shapes pass, on a rows × cols grid of equal cells over
 * the frame (a latent's grid), as a weight per cell: a shape's path is the
 * cells that its circumcircle, grown by its anti-aliasing pixel, touches on
 * some frame, and each of the n shapes spreads rows · cols / n evenly over
 * its path's cells (a cell on two paths gets both shares). The weights sum
 * to rows · cols, so their mean is 1, and a small shape's few cells weigh
 * as much in all as a large shape's many. The t2v trainer adds them to the
 * loss's weight (object_loss): a small shape covers one or two of a frame's
 * 64 cells, and the backdrop's error and a large shape's would otherwise
 * outweigh it. */
void rg_train_scene_object_cells (const RgShapesScene *scene, int rows, int cols, float *mask);

/* The scene at the run's next data position (*next_position, advanced
 * past what it takes), and that position. A share bounce_share of the
 * draws skips ahead to the next scene with a bouncing shape: a bounce's
 * turn is what a 4× temporal TAE rounds off, and only about one train
 * scene in ten shows one. Every choice follows from the seed and the
 * positions, so a resumed run takes the same scenes. */
gboolean rg_train_next_scene (const RgShapesConfig *world, uint64_t seed, double bounce_share,
                              uint64_t *next_position, uint64_t *position, RgShapesScene *scene,
                              GError **error);

G_END_DECLS
