/* rg-shapes-edit.c — instruction edit pairs (source, instruction, target).
 *
 * An edit acts on one colour×kind group of the source ("the red circle",
 * "the yellow stars"; captions keep such groups unambiguous) or on the
 * backdrop, and the target is the source with exactly that attribute changed:
 * same seed, same other shapes and tracks. Only a motion edit redraws the
 * edited shapes' tracks, because the track is what a motion is. Targets obey
 * the world rules and the config's split like any sampled scene. */
#include "train/rg-shapes-private.h"

#include "core/rg-error.h"

#define EDIT_ATTEMPTS 48

static const char *const edit_names[RG_SHAPES_EDIT_N_KINDS] = {
  "recolour", "replace", "remove", "add", "background", "motion",
};

static const char *const motion_verbs[RG_MOTION_N] = {
  "stay still", "move left", "move right", "move up", "move down", "move diagonally",
  "bounce", "grow", "shrink", "spin",
};

static const char *const motion_phrases[RG_MOTION_N] = {
  "resting", "moving left", "moving right", "moving up", "moving down", "moving diagonally",
  "bouncing", "growing", "shrinking", "rotating",
};

const char *
rg_shapes_edit_kind_name (RgShapesEditKind kind)
{
  return (unsigned) kind < RG_SHAPES_EDIT_N_KINDS ? edit_names[kind] : "?";
}

void
rg_shapes_edit_clear (RgShapesEdit *edit)
{
  g_clear_pointer (&edit->instruction, g_free);
}

static guint
group_of (const RgShapesScene *sc, int s)
{
  guint mask = 0;
  for (int o = 0; o < sc->n_shapes; o++)
    if (sc->shapes[o].colour == sc->shapes[s].colour && sc->shapes[o].kind == sc->shapes[s].kind)
      mask |= 1u << o;
  return mask;
}

/* "the red circle" or "the red circles". */
static char *
group_name (const RgShapesScene *sc, guint group)
{
  int first = g_bit_nth_lsf (group, -1);
  const RgShapesShape *sh = &sc->shapes[first];
  gboolean plural = (group & (group - 1)) != 0;
  return g_strdup_printf ("the %s %s", rg_colour_name (sh->colour),
                          plural ? rg_shape_kind_plural (sh->kind) : rg_shape_kind_name (sh->kind));
}

/* Whether shapes outside `group` already use colour×kind (ambiguous names). */
static gboolean
pair_taken (const RgShapesScene *sc, guint group, RgColour colour, RgShapeKind kind)
{
  for (int o = 0; o < sc->n_shapes; o++)
    if (!(group & (1u << o)) && sc->shapes[o].colour == colour && sc->shapes[o].kind == kind)
      return TRUE;
  return FALSE;
}

static gboolean
split_ok (RgShapesSplit split, RgColour c, RgShapeKind k, RgMotion m)
{
  return rg_shapes_triple_is_heldout (c, k, m) == (split == RG_SHAPES_SPLIT_HELDOUT);
}

static char *
backdrop_phrase (const RgBackdrop *bd)
{
  switch (bd->kind)
    {
    case RG_BACKDROP_SKY:
      return g_strdup ("a gradient sky");
    case RG_BACKDROP_SUNSET:
      return g_strdup ("a sunset");
    case RG_BACKDROP_HORIZON:
      return g_strdup ("a sky over grass");
    default:
      return g_strdup_printf ("%s", rg_colour_name (bd->colour));
    }
}

/* One try at turning target (a copy of the source) into the edit; FALSE
 * when this source does not admit it. */
static gboolean
try_edit (const RgShapesConfig *cfg, RgShapesEditKind kind, RgRng *rng, RgShapesEdit *edit)
{
  RgShapesScene *src = &edit->source, *dst = &edit->target;
  int pick = rg_rng_range (rng, 0, src->n_shapes);
  guint group = group_of (src, pick);
  const RgShapesShape *ref = &src->shapes[pick];
  g_autofree char *name = group_name (src, group);

  *dst = *src;
  edit->edited = group;
  switch (kind)
    {
    case RG_SHAPES_EDIT_RECOLOUR:
      {
        RgColour c = rg_rng_range (rng, 0, RG_COLOUR_N);
        if (c == ref->colour || pair_taken (src, group, c, ref->kind)
            || !rg_backdrop_allows_colour (&src->backdrop, c)
            || !split_ok (cfg->split, c, ref->kind, ref->motion))
          return FALSE;
        for (int s = 0; s < dst->n_shapes; s++)
          if (group & (1u << s))
            dst->shapes[s].colour = c;
        edit->instruction = g_strdup_printf ("make %s %s", name, rg_colour_name (c));
      }
      break;
    case RG_SHAPES_EDIT_REPLACE:
      {
        RgShapeKind k = rg_rng_range (rng, 0, RG_SHAPE_N_KINDS);
        if (k == ref->kind || pair_taken (src, group, ref->colour, k)
            || !rg_shapes_motion_allowed (k, ref->motion)
            || !split_ok (cfg->split, ref->colour, k, ref->motion))
          return FALSE;
        for (int s = 0; s < dst->n_shapes; s++)
          if (group & (1u << s))
            dst->shapes[s].kind = k;
        gboolean plural = (group & (group - 1)) != 0;
        edit->instruction = g_strdup_printf ("turn %s into %s%s", name, plural ? "" : "a ",
                                             plural ? rg_shape_kind_plural (k)
                                                    : rg_shape_kind_name (k));
      }
      break;
    case RG_SHAPES_EDIT_REMOVE:
      {
        if (group == (1u << src->n_shapes) - 1)
          return FALSE; /* removing every shape leaves no scene */
        int n = 0;
        for (int s = 0; s < src->n_shapes; s++)
          if (!(group & (1u << s)))
            dst->shapes[n++] = src->shapes[s];
        dst->n_shapes = n;
        edit->instruction = g_strdup_printf ("remove %s", name);
      }
      break;
    case RG_SHAPES_EDIT_ADD:
      {
        if (src->n_shapes >= RG_SHAPES_MAX_SHAPES)
          return FALSE;
        int s = dst->n_shapes;
        RgShapesShape *sh = &dst->shapes[s];
        rg_shapes_shape_defaults (sh);
        if (!rg_shapes_draw_attributes (dst, cfg->split, rng, sh)
            || pair_taken (dst, 0, sh->colour, sh->kind))
          return FALSE;
        sh->size = rg_rng_range (rng, 0, 2);
        sh->radius = rg_shapes_draw_radius (dst, sh->size, rng);
        if (!rg_shapes_place (dst, s, rng))
          return FALSE;
        dst->n_shapes = s + 1;
        edit->edited = 1u << s;
        edit->instruction = g_strdup_printf ("add a %s%s %s %s",
                                             sh->size == RG_SIZE_SMALL ? "small " : "",
                                             rg_colour_name (sh->colour),
                                             rg_shape_kind_name (sh->kind),
                                             motion_phrases[sh->motion]);
      }
      break;
    case RG_SHAPES_EDIT_BACKGROUND:
      {
        rg_shapes_draw_backdrop (rng, &dst->backdrop);
        if (rg_backdrop_equal (&dst->backdrop, &src->backdrop))
          return FALSE;
        edit->edited = 0;
        g_autofree char *bd = backdrop_phrase (&dst->backdrop);
        edit->instruction = g_strdup_printf ("change the background to %s", bd);
      }
      break;
    case RG_SHAPES_EDIT_MOTION:
      {
        RgMotion m = rg_rng_range (rng, 0, RG_MOTION_N);
        if (m == ref->motion || !rg_shapes_motion_allowed (ref->kind, m)
            || !rg_shapes_motion_feasible (m, src->frames)
            || !split_ok (cfg->split, ref->colour, ref->kind, m))
          return FALSE;
        for (int s = 0; s < dst->n_shapes; s++)
          if (group & (1u << s))
            {
              dst->shapes[s].motion = m;
              if (!rg_shapes_place (dst, s, rng))
                return FALSE;
            }
        edit->instruction = g_strdup_printf ("make %s %s instead", name, motion_verbs[m]);
      }
      break;
    default:
      return FALSE;
    }
  if (!rg_shapes_scene_plan (dst, NULL))
    {
      g_clear_pointer (&edit->instruction, g_free);
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_shapes_edit_sample (const RgShapesConfig *config, uint64_t seed, RgShapesEditKind kind,
                       RgShapesEdit *edit, GError **error)
{
  memset (edit, 0, sizeof *edit);
  if ((unsigned) kind >= RG_SHAPES_EDIT_N_KINDS)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "ShapesWorld: unknown edit kind %d",
                   (int) kind);
      return FALSE;
    }
  RgRng rng;
  rg_rng_init (&rng, seed, RG_SHAPES_STREAM_EDIT + (uint64_t) kind);
  for (int attempt = 0; attempt < EDIT_ATTEMPTS; attempt++)
    {
      /* Each attempt looks at another source scene of the same seed family. */
      uint64_t scene_seed = seed * 0x9E3779B97F4A7C15ull + (uint64_t) attempt;
      if (!rg_shapes_scene_sample (config, scene_seed, &edit->source, error))
        return FALSE;
      edit->kind = kind;
      if (try_edit (config, kind, &rng, edit))
        return TRUE;
    }
  g_set_error (error, RG_ERROR, RG_ERROR_FAILED,
               "ShapesWorld: no %s edit found for seed %" G_GUINT64_FORMAT,
               rg_shapes_edit_kind_name (kind), seed);
  return FALSE;
}
