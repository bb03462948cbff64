/* rg-shapes.h — ShapesWorld: the procedural world the engine trains on.
 *
 * A scene is 1–3 coloured shapes moving over a backdrop. Everything in it
 * follows from a seed through Philox streams, so a (config, seed) pair names a
 * clip, its caption, its soundtrack and its edit pairs forever. The scene
 * description is public and complete: the renderer, the soundtrack, the
 * captions and the graders (rg-grade.h) all read the same struct.
 *
 * World rules that keep every scene gradable from pixels alone (the graders
 * are validated against them, see tests/train/test-grade.c):
 *   1. every shape's bounding circle stays ≥ RG_SHAPES_MARGIN px inside the
 *      frame on every frame, so the outer columns are pure backdrop;
 *   2. any two bounding circles stay ≥ RG_SHAPES_GAP px apart on every frame,
 *      so shapes never touch or occlude each other;
 *   3. a shape's colour is far (≥ RG_SHAPES_MIN_CONTRAST in 0–255 RGB) from
 *      every colour of the backdrop behind it;
 *   4. only shapes whose rotation is visible (square, triangle, star) rotate;
 *   5. shapes move only inside the frame: the floor is the one thing they hit,
 *      and each floor contact falls exactly on a frame (the click's frame).
 *
 * Video is [3, T, H, W] f32 in [-1, 1] (the models' convention) or packed
 * RGB24 frames for the video writer. Audio is mono f32 at 16 kHz. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/rg-tensor.h"
#include "core/rg-time.h"

G_BEGIN_DECLS

#define RG_SHAPES_MAX_SHAPES   3
#define RG_SHAPES_MAX_FRAMES   128
#define RG_SHAPES_MAX_EVENTS   (RG_SHAPES_MAX_SHAPES * RG_SHAPES_MAX_FRAMES / 4)
#define RG_SHAPES_AUDIO_RATE   16000
#define RG_SHAPES_MARGIN       2.0f  /* px, rule 1 (scaled with the frame size) */
#define RG_SHAPES_GAP          3.0f  /* px, rule 2 (scaled with the frame size) */
#define RG_SHAPES_MIN_CONTRAST 80.0f /* RGB distance, rule 3 */

typedef enum {
  RG_SHAPE_CIRCLE,
  RG_SHAPE_SQUARE,
  RG_SHAPE_TRIANGLE,
  RG_SHAPE_STAR,
  RG_SHAPE_RING,
  RG_SHAPE_N_KINDS
} RgShapeKind;

typedef enum {
  RG_COLOUR_RED,
  RG_COLOUR_GREEN,
  RG_COLOUR_BLUE,
  RG_COLOUR_YELLOW,
  RG_COLOUR_ORANGE,
  RG_COLOUR_PURPLE,
  RG_COLOUR_WHITE,
  RG_COLOUR_BLACK,
  RG_COLOUR_CYAN,
  RG_COLOUR_PINK,
  RG_COLOUR_N
} RgColour;

typedef enum {
  RG_MOTION_STILL,
  RG_MOTION_LEFT,
  RG_MOTION_RIGHT,
  RG_MOTION_UP,
  RG_MOTION_DOWN,
  RG_MOTION_DIAGONAL,
  RG_MOTION_BOUNCING, /* falls under gravity, bounces on the floor */
  RG_MOTION_GROWING,
  RG_MOTION_SHRINKING,
  RG_MOTION_ROTATING,
  RG_MOTION_N
} RgMotion;

/* Which way a diagonal motion goes (image rows grow downward). Captions name
 * it ("moving diagonally up and to the left"): a caption that leaves it out
 * asks for four different clips, and a small DiT answers with their average,
 * a blob that smears in place. */
typedef enum {
  RG_HEADING_NONE, /* not diagonal, or not named */
  RG_HEADING_UP_LEFT,
  RG_HEADING_UP_RIGHT,
  RG_HEADING_DOWN_LEFT,
  RG_HEADING_DOWN_RIGHT,
  RG_HEADING_N
} RgHeading;

typedef enum {
  RG_SIZE_SMALL,
  RG_SIZE_MEDIUM,
  RG_SIZE_LARGE,
  RG_SIZE_N
} RgShapeSize;

typedef enum {
  RG_BACKDROP_SOLID,  /* one colour of the palette */
  RG_BACKDROP_SKY,    /* vertical gradient, deep blue to pale blue */
  RG_BACKDROP_SUNSET, /* vertical gradient, violet to orange */
  RG_BACKDROP_HORIZON,/* sky over grass, the horizon at 5/8 of the height */
  RG_BACKDROP_N_KINDS
} RgBackdropKind;

typedef struct {
  RgBackdropKind kind;
  RgColour       colour; /* RG_BACKDROP_SOLID only */
} RgBackdrop;

/* Fill patterns, for personalization subjects; plain shapes use NONE. */
typedef enum {
  RG_PATTERN_NONE,
  RG_PATTERN_STRIPES,
  RG_PATTERN_DOTS,
  RG_PATTERN_CHECKS,
  RG_PATTERN_N
} RgPattern;

typedef enum {
  RG_SHAPES_SPLIT_TRAIN,   /* never a held-out colour×shape×motion triple */
  RG_SHAPES_SPLIT_HELDOUT, /* every shape is a held-out triple */
} RgShapesSplit;

typedef struct {
  int           width, height; /* 64 by default; 128 and 256 work the same */
  int           frames;        /* 2 … RG_SHAPES_MAX_FRAMES, 16 by default */
  RgRational    fps;           /* 8/1 by default */
  RgShapesSplit split;
} RgShapesConfig;

typedef struct {
  RgShapeKind kind;
  RgColour    colour;
  RgShapeSize size;
  RgMotion    motion;
  float       radius; /* circumradius in px before any growth */

  /* Motion parameters, in px (or radians) per frame; rg_shapes_scene_plan
   * turns them into the per-frame track below. */
  float x0, y0;          /* centre on frame 0 (bouncing: x0 and the floor contact) */
  float vx, vy;          /* left/right/up/down/diagonal */
  float angle0, spin;    /* orientation on frame 0 and its change per frame */
  float scale0, scale1;  /* growing/shrinking: scale on the first and last frame */
  float bounce_height;   /* bouncing: apex height of the bounding circle's bottom */
  int   bounce_period;   /* bouncing: frames between floor contacts (≥ 4) */
  int   bounce_phase;    /* bouncing: the first contact frame */

  /* Subjects (personalization): a patterned fill; subject_id < 0 for none. */
  int       subject_id;
  RgPattern pattern;
  RgColour  colour2;
  float     pattern_period; /* in units of the radius */
  float     pattern_angle;

  /* The track, one entry per frame. */
  float x[RG_SHAPES_MAX_FRAMES], y[RG_SHAPES_MAX_FRAMES];
  float scale[RG_SHAPES_MAX_FRAMES], angle[RG_SHAPES_MAX_FRAMES];
} RgShapesShape;

/* A sound event: a bounce (floor contact) of shape `shape` on frame `frame`. */
typedef struct {
  int     frame;
  int     shape;
  RgTime  time;   /* exactly the frame's time */
  int64_t sample; /* index at RG_SHAPES_AUDIO_RATE */
} RgShapesEvent;

typedef struct {
  int           width, height, frames;
  RgRational    fps;
  uint64_t      seed;
  RgBackdrop    backdrop;
  int           n_shapes;
  RgShapesShape shapes[RG_SHAPES_MAX_SHAPES];
  int           n_events;
  RgShapesEvent events[RG_SHAPES_MAX_EVENTS];
} RgShapesScene;

/* --- names and the palette (rg-shapes-palette.c) --- */
const char *rg_shape_kind_name (RgShapeKind kind);   /* "circle" */
const char *rg_shape_kind_plural (RgShapeKind kind); /* "circles" */
const char *rg_colour_name (RgColour colour);        /* "red" */
const char *rg_motion_name (RgMotion motion);        /* "bouncing" */
const char *rg_shape_size_name (RgShapeSize size);   /* "small" */
const char *rg_backdrop_kind_name (RgBackdropKind kind);
const char *rg_heading_name (RgHeading heading);     /* "up-left"; "" for none */
/* The heading of a displacement (dx, dy) in px, rows growing downward:
 * NONE when either is 0. */
RgHeading   rg_heading_of (float dx, float dy);
/* The colour in 0–255 RGB. */
void        rg_colour_rgb (RgColour colour, float rgb[3]);
/* The palette colour nearest to rgb (0–255), and its distance. */
RgColour    rg_colour_nearest (const float rgb[3], float *distance);
/* The backdrop's colour (0–255 RGB) at vertical position v ∈ [0, 1]
 * (0 = top row); backdrops vary only with the row. */
void        rg_backdrop_rgb (const RgBackdrop *backdrop, float v, float rgb[3]);
/* Rule 3: whether a shape of this colour may sit on this backdrop. */
gboolean    rg_backdrop_allows_colour (const RgBackdrop *backdrop, RgColour colour);
gboolean    rg_backdrop_equal (const RgBackdrop *a, const RgBackdrop *b);

/* --- the held-out split (rg-shapes-palette.c) ---
 * A colour×shape×motion triple is held out when
 *   (colour + 3·kind + 7·motion) mod 11 == 5.
 * Because 7 is invertible mod 11 and there are 10 motions, each colour×shape
 * pair loses at most one motion, and likewise each colour×motion pair at most
 * one shape: training still sees every pair of attributes, only not these
 * triples together (about 1/11 of them). */
gboolean rg_shapes_triple_is_heldout (RgColour colour, RgShapeKind kind, RgMotion motion);
/* Rule 4: rotation is only a motion for shapes where it shows. */
gboolean rg_shapes_motion_allowed (RgShapeKind kind, RgMotion motion);

/* --- scenes (rg-shapes-scene.c) --- */
void     rg_shapes_config_init (RgShapesConfig *config);
gboolean rg_shapes_config_check (const RgShapesConfig *config, GError **error);
/* Sample the scene named by seed under the config's split. */
gboolean rg_shapes_scene_sample (const RgShapesConfig *config, uint64_t seed, RgShapesScene *scene,
                                 GError **error);
/* (Re)compute every shape's track and the bounce events from the motion
 * parameters, then check the world rules; RG_ERROR_INVALID_ARGUMENT names the
 * broken rule. Used after a scene is edited by hand. */
gboolean rg_shapes_scene_plan (RgShapesScene *scene, GError **error);
/* Radius in px of the frame-size unit: sizes are designed at 64 px. */
float    rg_shapes_scene_unit (const RgShapesScene *scene);
/* A 64-bit fingerprint of everything rg_shapes_render draws from (frame
 * size, backdrop, each shape's look and its track): two scenes with the same
 * fingerprint render the same clip. A training run's cached latents keep
 * it, so a change to the world re-encodes exactly the clips it changed. */
uint64_t rg_shapes_scene_fingerprint (const RgShapesScene *scene);

/* --- training batches (rg-shapes-batch.c) --- */
/* Clips of seeds first_seed … first_seed + batch − 1 as [B, 3, T, H, W] in
 * [-1, 1]; with captions, also their captions (variant = the seed), a
 * NULL-terminated array the caller frees with g_strfreev. */
RgTensor *rg_shapes_batch (const RgShapesConfig *config, uint64_t first_seed, int batch,
                           GStrv *captions, GError **error);

/* --- rendering (rg-shapes-render.c) --- */
/* [3, T, H, W] f32 in [-1, 1], anti-aliased by 4×4 supersampling. */
RgTensor *rg_shapes_render (const RgShapesScene *scene);
/* T frames of H×W packed RGB24, row-major, for the video writer. */
guint8   *rg_shapes_render_rgb24 (const RgShapesScene *scene, gsize *n_bytes);
/* Coverage in [0, 1] of shape s on frame t at pixel (px, py), 4×4 supersampled;
 * the graders' tests use it as ground-truth masks. */
float     rg_shapes_coverage (const RgShapesScene *scene, int s, int t, int px, int py);

/* --- captions (rg-shapes-caption.c) --- */
/* One of several templates, picked by `variant`; ends with " FPS-<n>". */
char *rg_shapes_caption (const RgShapesScene *scene, uint64_t variant);

/* --- soundtrack (rg-shapes-audio.c) --- */
/* Mono f32 in [-1, 1] at RG_SHAPES_AUDIO_RATE lasting the clip: a tone per
 * shape (pitch from kind and size) and a click starting at each event's
 * sample; the events are scene->events. Returns [N]. */
RgTensor *rg_shapes_soundtrack (const RgShapesScene *scene);
/* The tone's frequency in Hz for a shape kind and size. */
double    rg_shapes_tone_hz (RgShapeKind kind, RgShapeSize size);

/* --- edit pairs (rg-shapes-edit.c) --- */
typedef enum {
  RG_SHAPES_EDIT_RECOLOUR,   /* "make the red circle blue" */
  RG_SHAPES_EDIT_REPLACE,    /* "turn the red circle into a square" */
  RG_SHAPES_EDIT_REMOVE,     /* "remove the red circle" */
  RG_SHAPES_EDIT_ADD,        /* "add a green star moving left" */
  RG_SHAPES_EDIT_BACKGROUND, /* "change the background to a sunset" */
  RG_SHAPES_EDIT_MOTION,     /* "make the red circle bounce instead" */
  RG_SHAPES_EDIT_N_KINDS
} RgShapesEditKind;

typedef struct {
  RgShapesEditKind kind;
  RgShapesScene    source;
  RgShapesScene    target;
  char            *instruction;
  /* The edited shapes (a colour×kind group) in the source scene, as a bit
   * set; for ADD, the bit of the new shape in the target; 0 for BACKGROUND. */
  guint            edited;
} RgShapesEdit;

gboolean    rg_shapes_edit_sample (const RgShapesConfig *config, uint64_t seed, RgShapesEditKind kind,
                                   RgShapesEdit *edit, GError **error);
void        rg_shapes_edit_clear (RgShapesEdit *edit);
const char *rg_shapes_edit_kind_name (RgShapesEditKind kind);

/* --- subjects (rg-shapes-subject.c) --- */
typedef struct {
  int         id;
  RgShapeKind kind;
  RgPattern   pattern;
  RgColour    colour, colour2;
  float       period; /* pattern period in units of the radius */
  float       angle;  /* pattern orientation */
} RgShapesSubject;

/* Subject `id` (≥ 0): a fixed function of the id, distinct ids differ in at
 * least one of kind, pattern, colours, period or angle. */
void        rg_shapes_subject_get (int id, RgShapesSubject *subject);
const char *rg_pattern_name (RgPattern pattern);
/* A scene starring the subject (alone, moving) sampled from seed. */
gboolean    rg_shapes_subject_scene (const RgShapesConfig *config, const RgShapesSubject *subject,
                                     uint64_t seed, RgShapesScene *scene, GError **error);
/* The reference image: the subject centred and still on a plain backdrop both
 * of its colours stand out from, [3, 1, size, size]. */
RgTensor   *rg_shapes_subject_reference (const RgShapesSubject *subject, int size);

G_END_DECLS
