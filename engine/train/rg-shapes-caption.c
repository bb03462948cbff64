/* rg-shapes-caption.c — captions from varied templates.
 *
 * Identical shapes (same colour, kind, size, motion and heading) are described
 * together with a count word ("two small yellow stars drifting to the
 * left"); the frame rate ends the caption as Movie Gen conditions on it
 * ("… FPS-8"). Backdrop phrases avoid colour words, except for solid
 * backdrops ("a blue background"), so a caption never names a colour it does
 * not mean — rg-grade-prompt.c parses every template back. */
#include "train/rg-shapes-private.h"

#define N_VARIANTS 3

static const char *const motion_phrases[RG_MOTION_N][N_VARIANTS] = {
  [RG_MOTION_STILL] = { "resting", "sitting still", "standing still" },
  [RG_MOTION_LEFT] = { "moving left", "drifting to the left", "sliding left" },
  [RG_MOTION_RIGHT] = { "moving right", "drifting to the right", "sliding right" },
  [RG_MOTION_UP] = { "moving up", "rising", "floating upward" },
  [RG_MOTION_DOWN] = { "moving down", "sinking", "drifting downward" },
  [RG_MOTION_DIAGONAL] = { "moving diagonally", "drifting diagonally", "gliding diagonally" },
  [RG_MOTION_BOUNCING] = { "bouncing", "bouncing on the floor", "hopping" },
  [RG_MOTION_GROWING] = { "growing", "getting bigger", "expanding" },
  [RG_MOTION_SHRINKING] = { "shrinking", "getting smaller", "contracting" },
  [RG_MOTION_ROTATING] = { "rotating", "spinning", "turning in place" },
};

/* After a diagonal phrase, its heading: which way the shape goes (see
 * RgHeading). The words follow the phrase's variant and draw nothing of
 * their own, so no other caption changes. */
static const char *const heading_words[N_VARIANTS][RG_HEADING_N] = {
  { "", "up and to the left", "up and to the right", "down and to the left",
    "down and to the right" },
  { "", "up and left", "up and right", "down and left", "down and right" },
  { "", "toward the upper left", "toward the upper right", "toward the lower left",
    "toward the lower right" },
};

static RgHeading
shape_heading (const RgShapesShape *sh)
{
  return sh->motion == RG_MOTION_DIAGONAL ? rg_heading_of (sh->vx, sh->vy) : RG_HEADING_NONE;
}

static const char *const size_words[RG_SIZE_N][N_VARIANTS] = {
  [RG_SIZE_SMALL] = { "small", "tiny", "small" },
  [RG_SIZE_MEDIUM] = { "", "", "medium-sized" },
  [RG_SIZE_LARGE] = { "large", "big", "large" },
};

static const char *const pattern_adjectives[RG_PATTERN_N] = { "", "striped", "dotted", "checked" };

static const char *const count_words[RG_SHAPES_MAX_SHAPES + 1] = { "no", "a", "two", "three" };

static void
append_backdrop (GString *out, const RgBackdrop *bd, RgRng *rng)
{
  int v = rg_rng_range (rng, 0, N_VARIANTS);
  switch (bd->kind)
    {
    case RG_BACKDROP_SKY:
      g_string_append (out, (const char *[]) { "a gradient sky", "a sky gradient",
                                               "a fading gradient sky" }[v]);
      break;
    case RG_BACKDROP_SUNSET:
      g_string_append (out, (const char *[]) { "a sunset gradient", "a sunset sky",
                                               "an evening sunset" }[v]);
      break;
    case RG_BACKDROP_HORIZON:
      g_string_append (out, (const char *[]) { "a sky over grass", "a grassy field under the sky",
                                               "a meadow below the sky" }[v]);
      break;
    case RG_BACKDROP_SOLID:
    default:
      g_string_append_printf (out, "%s%s %s", (const char *[]) { "a ", "a plain ", "a solid " }[v],
                              rg_colour_name (bd->colour),
                              (const char *[]) { "background", "backdrop", "background" }[v]);
      break;
    }
}

typedef struct {
  int                  count;
  const RgShapesShape *shape;
} Group;

static int
group_shapes (const RgShapesScene *scene, Group groups[RG_SHAPES_MAX_SHAPES])
{
  int n = 0;
  for (int s = 0; s < scene->n_shapes; s++)
    {
      const RgShapesShape *sh = &scene->shapes[s];
      int g = 0;
      for (; g < n; g++)
        {
          const RgShapesShape *o = groups[g].shape;
          if (o->colour == sh->colour && o->kind == sh->kind && o->size == sh->size
              && o->motion == sh->motion && shape_heading (o) == shape_heading (sh))
            break;
        }
      if (g == n)
        groups[n++] = (Group) { 0, sh };
      groups[g].count++;
    }
  return n;
}

static void
append_group (GString *out, const Group *g, RgRng *rng)
{
  const RgShapesShape *sh = g->shape;
  const char *size = size_words[sh->size][rg_rng_range (rng, 0, N_VARIANTS)];
  g_autofree char *colour = NULL;
  if (sh->pattern != RG_PATTERN_NONE) /* a subject: "red and white striped" */
    colour = g_strdup_printf ("%s and %s %s", rg_colour_name (sh->colour),
                              rg_colour_name (sh->colour2), pattern_adjectives[sh->pattern]);
  else
    colour = g_strdup (rg_colour_name (sh->colour));
  int v = rg_rng_range (rng, 0, N_VARIANTS);
  RgHeading heading = shape_heading (sh);
  g_string_append_printf (out, "%s %s%s%s %s %s%s%s", count_words[g->count], size,
                          *size ? " " : "", colour,
                          g->count > 1 ? rg_shape_kind_plural (sh->kind) : rg_shape_kind_name (sh->kind),
                          motion_phrases[sh->motion][v], heading ? " " : "",
                          heading_words[v][heading]);
}

static void
append_subjects (GString *out, const Group *groups, int n, RgRng *rng)
{
  for (int g = 0; g < n; g++)
    {
      if (g > 0)
        g_string_append (out, g == n - 1 ? " and " : ", ");
      append_group (out, &groups[g], rng);
    }
}

char *
rg_shapes_caption (const RgShapesScene *scene, uint64_t variant)
{
  g_return_val_if_fail (scene->n_shapes >= 1 && scene->n_shapes <= RG_SHAPES_MAX_SHAPES, NULL);
  RgRng rng;
  rg_rng_init (&rng, scene->seed, RG_SHAPES_STREAM_CAPTION ^ (variant << 32));
  Group groups[RG_SHAPES_MAX_SHAPES];
  int n = group_shapes (scene, groups);
  GString *out = g_string_new (NULL);

  switch (rg_rng_range (&rng, 0, 5))
    {
    case 0:
      append_subjects (out, groups, n, &rng);
      g_string_append (out, " on ");
      append_backdrop (out, &scene->backdrop, &rng);
      break;
    case 1:
      append_subjects (out, groups, n, &rng);
      g_string_append (out, " over ");
      append_backdrop (out, &scene->backdrop, &rng);
      break;
    case 2:
      g_string_append (out, "a video of ");
      append_subjects (out, groups, n, &rng);
      g_string_append (out, " against ");
      append_backdrop (out, &scene->backdrop, &rng);
      break;
    case 3:
      append_backdrop (out, &scene->backdrop, &rng);
      g_string_append (out, ", with ");
      append_subjects (out, groups, n, &rng);
      break;
    default:
      g_string_append (out, "close-up of ");
      append_subjects (out, groups, n, &rng);
      g_string_append (out, " in front of ");
      append_backdrop (out, &scene->backdrop, &rng);
      break;
    }
  if (scene->fps.den == 1)
    g_string_append_printf (out, ". FPS-%" G_GINT64_FORMAT, scene->fps.num);
  else
    g_string_append_printf (out, ". FPS-%.3g", (double) scene->fps.num / scene->fps.den);
  return g_string_free (out, FALSE);
}
