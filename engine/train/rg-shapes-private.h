/* rg-shapes-private.h — what the ShapesWorld files share among themselves. */
#pragma once

#include <string.h>

#include "core/rg-rng.h"
#include "train/rg-shapes.h"

G_BEGIN_DECLS

/* Philox streams of a seed, one per purpose, so that e.g. a caption variant
 * never shifts the scene's draws. */
#define RG_SHAPES_STREAM_SCENE   0x53434e45ull /* "SCNE" */
#define RG_SHAPES_STREAM_AUDIO   0x41554449ull /* "AUDI" */
#define RG_SHAPES_STREAM_CAPTION 0x43415054ull /* "CAPT" */
#define RG_SHAPES_STREAM_EDIT    0x45444954ull /* "EDIT" */
#define RG_SHAPES_STREAM_SUBJECT 0x5355424aull /* "SUBJ" */

/* The star's inner radius as a fraction of its outer radius, and the ring's
 * hole; the graders' features depend on both. */
#define RG_SHAPES_STAR_INNER 0.42f
#define RG_SHAPES_RING_INNER 0.5f

/* A plain, unplaced shape: no pattern, no subject, scale 1. */
void     rg_shapes_shape_defaults (RgShapesShape *sh);
gboolean rg_shapes_motion_feasible (RgMotion motion, int frames);
/* Fill sh's per-frame track from its motion parameters. */
void     rg_shapes_shape_plan (RgShapesShape *sh, int frames);
/* Draw motion parameters and a start for shape s that keep the world rules
 * against the scene's other shapes (0…n_shapes−1 except s). */
gboolean rg_shapes_place (RgShapesScene *scene, int s, RgRng *rng);
float    rg_shapes_draw_radius (const RgShapesScene *scene, RgShapeSize size, RgRng *rng);
/* Colour, kind and motion of an admissible triple for the split and the
 * scene's backdrop; FALSE if there is none. */
gboolean rg_shapes_draw_attributes (const RgShapesScene *scene, RgShapesSplit split, RgRng *rng,
                                    RgShapesShape *sh);
void     rg_shapes_draw_backdrop (RgRng *rng, RgBackdrop *backdrop);
/* Whether point (u, v), in the shape's own frame (unrotated, radius 1), is
 * inside a shape of this kind. */
gboolean rg_shapes_inside (RgShapeKind kind, float u, float v);

G_END_DECLS
