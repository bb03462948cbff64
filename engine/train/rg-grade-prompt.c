/* rg-grade-prompt.c — what a prompt asks for, and whether a clip delivered it.
 *
 * The parser reads words, not templates, so it also understands prompts a
 * person typed: a shape noun closes a group with the count, size and colour
 * words before it; motion words after it (until the next shape noun) give
 * its motion; a colour next to "background"/"backdrop" or after
 * "plain"/"solid" is the backdrop's, and sky, sunset and grass words name the
 * gradient backdrops. */
#include "train/rg-grade.h"

#include "core/rg-error.h"

#include <stdlib.h>
#include <string.h>

static int
lookup (const char *word, const char *const *names, int n)
{
  for (int i = 0; i < n; i++)
    if (g_str_equal (word, names[i]))
      return i;
  return -1;
}

static int
colour_word (const char *w)
{
  for (int c = 0; c < RG_COLOUR_N; c++)
    if (g_str_equal (w, rg_colour_name (c)))
      return c;
  return -1;
}

static int
kind_word (const char *w)
{
  for (int k = 0; k < RG_SHAPE_N_KINDS; k++)
    if (g_str_equal (w, rg_shape_kind_name (k)) || g_str_equal (w, rg_shape_kind_plural (k)))
      return k;
  return -1;
}

static int
count_word (const char *w)
{
  static const char *const words[] = { "a", "an", "one", "1", "two", "2", "three", "3" };
  static const int counts[] = { 1, 1, 1, 1, 2, 2, 3, 3 };
  int i = lookup (w, words, G_N_ELEMENTS (words));
  return i < 0 ? -1 : counts[i];
}

static int
size_word (const char *w)
{
  static const char *const words[] = { "small", "tiny", "little", "medium", "large", "big", "huge" };
  static const int sizes[] = { RG_SIZE_SMALL, RG_SIZE_SMALL, RG_SIZE_SMALL, RG_SIZE_MEDIUM,
                               RG_SIZE_LARGE, RG_SIZE_LARGE, RG_SIZE_LARGE };
  int i = lookup (w, words, G_N_ELEMENTS (words));
  return i < 0 ? -1 : sizes[i];
}

/* Where a word points: *hx −1 (left) or +1 (right), *hy −1 (up) or +1
 * (down); any other word leaves both. */
static void
heading_word (const char *w, int *hx, int *hy)
{
  if (g_str_equal (w, "left"))
    *hx = -1;
  else if (g_str_equal (w, "right"))
    *hx = 1;
  else if (g_str_equal (w, "up") || g_str_equal (w, "upper") || g_str_has_prefix (w, "upward"))
    *hy = -1;
  else if (g_str_equal (w, "down") || g_str_equal (w, "lower") || g_str_has_prefix (w, "downward"))
    *hy = 1;
}

/* Motion cues, strongest first: "bouncing up and down" is a bounce, "moving
 * diagonally up" is diagonal. */
static const struct {
  const char *prefix;
  RgMotion    motion;
  int         rank;
} motion_cues[] = {
  { "diagonal", RG_MOTION_DIAGONAL, 6 },  { "bounc", RG_MOTION_BOUNCING, 6 },
  { "hop", RG_MOTION_BOUNCING, 6 },       { "grow", RG_MOTION_GROWING, 5 },
  { "expand", RG_MOTION_GROWING, 5 },     { "bigger", RG_MOTION_GROWING, 5 },
  { "shrink", RG_MOTION_SHRINKING, 5 },   { "contract", RG_MOTION_SHRINKING, 5 },
  { "smaller", RG_MOTION_SHRINKING, 5 },  { "rotat", RG_MOTION_ROTATING, 4 },
  { "spin", RG_MOTION_ROTATING, 4 },      { "turning", RG_MOTION_ROTATING, 4 },
  { "still", RG_MOTION_STILL, 3 },        { "resting", RG_MOTION_STILL, 3 },
  { "stationary", RG_MOTION_STILL, 3 },   { "left", RG_MOTION_LEFT, 2 },
  { "right", RG_MOTION_RIGHT, 2 },        { "upward", RG_MOTION_UP, 2 },
  { "rising", RG_MOTION_UP, 2 },          { "up", RG_MOTION_UP, 1 },
  { "downward", RG_MOTION_DOWN, 2 },      { "sinking", RG_MOTION_DOWN, 2 },
  { "falling", RG_MOTION_DOWN, 2 },       { "down", RG_MOTION_DOWN, 1 },
};

static int
motion_word (const char *w, int *rank)
{
  for (guint i = 0; i < G_N_ELEMENTS (motion_cues); i++)
    {
      const char *p = motion_cues[i].prefix;
      /* whole words for the short ones, prefixes for stems like "bounc" */
      gboolean hit = motion_cues[i].rank <= 2 && strlen (p) <= 5 ? g_str_equal (w, p)
                                                                  : g_str_has_prefix (w, p);
      if (hit)
        {
          *rank = motion_cues[i].rank;
          return motion_cues[i].motion;
        }
    }
  return -1;
}

gboolean
rg_grade_parse_prompt (const char *prompt, RgPromptIntent *intent, GError **error)
{
  memset (intent, 0, sizeof *intent);
  g_autofree char *lower = g_utf8_strdown (prompt ? prompt : "", -1);
  /* Words are runs of letters and digits (and '.' inside numbers). */
  for (char *p = lower; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.')
      *p = ' ';
  g_auto (GStrv) raw = g_strsplit (lower, " ", -1);
  GPtrArray *words = g_ptr_array_new ();
  for (char **w = raw; *w; w++)
    {
      char *t = *w;
      gsize len = strlen (t);
      while (len > 0 && t[len - 1] == '.')
        t[--len] = '\0'; /* sentence full stops */
      if (len > 0)
        g_ptr_array_add (words, t);
    }

  int pend_count = -1, pend_colour = -1, pend_size = -1;
  int cur = -1, cur_rank = 0;
  /* the direction words of each group, for a diagonal's heading */
  int hx[RG_SHAPES_MAX_SHAPES] = { 0 }, hy[RG_SHAPES_MAX_SHAPES] = { 0 };
  gboolean grass = FALSE, sunset = FALSE, sky = FALSE;
  for (guint i = 0; i < words->len; i++)
    {
      const char *w = words->pdata[i];
      const char *next = i + 1 < words->len ? words->pdata[i + 1] : "";
      const char *prev = i > 0 ? words->pdata[i - 1] : "";
      int v, rank;

      if (g_str_equal (w, "fps") && *next)
        {
          intent->fps = g_ascii_strtod (next, NULL);
          i++;
          continue;
        }
      if ((v = colour_word (w)) >= 0)
        {
          if (g_str_equal (next, "background") || g_str_equal (next, "backdrop")
              || g_str_equal (prev, "plain") || g_str_equal (prev, "solid"))
            {
              intent->has_backdrop = TRUE;
              intent->backdrop.kind = RG_BACKDROP_SOLID;
              intent->backdrop.colour = v;
            }
          else if (pend_colour < 0) /* "red and white striped": the first */
            pend_colour = v;
          continue;
        }
      if ((v = count_word (w)) >= 0)
        {
          pend_count = v;
          continue;
        }
      if ((v = size_word (w)) >= 0)
        {
          pend_size = v;
          continue;
        }
      if ((v = kind_word (w)) >= 0)
        {
          if (intent->n_groups == RG_SHAPES_MAX_SHAPES)
            continue;
          RgPromptGroup *g = &intent->groups[intent->n_groups];
          g->kind = v;
          g->colour = pend_colour;
          g->size = pend_size;
          g->count = pend_count > 0 ? pend_count
                                     : g_str_equal (w, rg_shape_kind_plural (v)) ? 2 : 1;
          g->motion = RG_GRADE_UNKNOWN;
          cur = intent->n_groups++;
          cur_rank = 0;
          pend_count = pend_colour = pend_size = -1;
          continue;
        }
      if (g_str_equal (w, "grass") || g_str_equal (w, "grassy") || g_str_equal (w, "meadow"))
        grass = TRUE;
      else if (g_str_equal (w, "sunset"))
        sunset = TRUE;
      else if (g_str_equal (w, "sky") || g_str_equal (w, "gradient"))
        sky = TRUE;
      else if (cur >= 0)
        {
          heading_word (w, &hx[cur], &hy[cur]);
          if ((v = motion_word (w, &rank)) >= 0 && rank > cur_rank)
            {
              intent->groups[cur].motion = v;
              cur_rank = rank;
            }
        }
    }
  for (int g = 0; g < intent->n_groups; g++)
    if (intent->groups[g].motion == RG_MOTION_DIAGONAL)
      intent->groups[g].heading = rg_heading_of ((float) hx[g], (float) hy[g]);
  g_ptr_array_free (words, TRUE);

  if (!intent->has_backdrop && (grass || sunset || sky))
    {
      intent->has_backdrop = TRUE;
      intent->backdrop.kind = grass ? RG_BACKDROP_HORIZON
                              : sunset ? RG_BACKDROP_SUNSET
                                       : RG_BACKDROP_SKY;
    }
  if (intent->n_groups == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "prompt \"%s\" names no shape (circle, square, triangle, star or ring)",
                   prompt ? prompt : "");
      return FALSE;
    }
  return TRUE;
}

const RgGradeObject *
rg_grade_match_group (const RgGradeReport *report, const RgPromptGroup *want)
{
  const RgGradeObject *best = NULL;
  int best_score = -1;
  for (int o = 0; o < report->n_tracks; o++)
    {
      const RgGradeObject *obj = &report->objects[o];
      int score = 2 * ((int) obj->colour == want->colour) + ((int) obj->kind == want->kind);
      if (score > best_score)
        best_score = score, best = obj;
    }
  return best;
}

void
rg_grade_judge (const RgPromptIntent *intent, const RgGradeReport *report, RgGradeVerdict *verdict)
{
  verdict->colour = verdict->shape = verdict->motion = -1;
  verdict->backdrop = intent->has_backdrop
                          ? rg_backdrop_equal (&intent->backdrop, &report->backdrop)
                          : -1;
  int total = 0;
  for (int g = 0; g < intent->n_groups; g++)
    total += intent->groups[g].count;
  verdict->count = report->n_objects == total;

  for (int g = 0; g < intent->n_groups; g++)
    {
      const RgPromptGroup *want = &intent->groups[g];
      const RgGradeObject *best = rg_grade_match_group (report, want);
      if (want->colour != RG_GRADE_UNKNOWN)
        verdict->colour = (verdict->colour != 0) && best && (int) best->colour == want->colour;
      verdict->shape = (verdict->shape != 0) && best && (int) best->kind == want->kind;
      if (want->motion != RG_GRADE_UNKNOWN)
        verdict->motion = (verdict->motion != 0) && best && (int) best->motion == want->motion
                          && (want->heading == RG_HEADING_NONE || best->heading == want->heading);
    }
}
