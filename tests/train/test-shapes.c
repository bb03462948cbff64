/* ShapesWorld: determinism, sizes, motions as named, anti-aliasing, clicks
 * on bounce frames, captions, edit pairs, held-out split, subjects and the
 * refusal of broken scenes. Ground truth here comes from the renderer's own
 * coverage (rg_shapes_coverage), never from the graders. */
#include "core/rg-error.h"
#include "train/rg-grade.h"
#include "train/rg-shapes.h"

#include <math.h>
#include <string.h>

static RgShapesConfig
config (int size, int frames)
{
  RgShapesConfig cfg;
  rg_shapes_config_init (&cfg);
  cfg.width = cfg.height = size;
  cfg.frames = frames;
  return cfg;
}

static void
sample (const RgShapesConfig *cfg, uint64_t seed, RgShapesScene *sc)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_shapes_scene_sample (cfg, seed, sc, &error));
  g_assert_no_error (error);
}

static void
test_determinism (void)
{
  RgShapesConfig cfg = config (64, 16);
  for (uint64_t seed = 1; seed <= 20; seed++)
    {
      RgShapesScene a, b;
      sample (&cfg, seed, &a);
      sample (&cfg, seed, &b);
      g_assert_cmpmem (&a, sizeof a, &b, sizeof b);
      gsize na, nb;
      g_autofree guint8 *fa = rg_shapes_render_rgb24 (&a, &na);
      g_autofree guint8 *fb = rg_shapes_render_rgb24 (&b, &nb);
      g_assert_cmpmem (fa, na, fb, nb);
      g_autoptr (RgTensor) va = rg_shapes_render (&a);
      g_autoptr (RgTensor) vb = rg_shapes_render (&b);
      g_assert_cmpmem (va->data, rg_tensor_nbytes (va), vb->data, rg_tensor_nbytes (vb));
      g_autoptr (RgTensor) sa = rg_shapes_soundtrack (&a);
      g_autoptr (RgTensor) sb = rg_shapes_soundtrack (&b);
      g_assert_cmpmem (sa->data, rg_tensor_nbytes (sa), sb->data, rg_tensor_nbytes (sb));
      g_autofree char *ca = rg_shapes_caption (&a, 3);
      g_autofree char *cb = rg_shapes_caption (&b, 3);
      g_assert_cmpstr (ca, ==, cb);

      /* A different seed is a different clip. */
      RgShapesScene c;
      sample (&cfg, seed + 1000, &c);
      g_autofree guint8 *fc = rg_shapes_render_rgb24 (&c, NULL);
      g_assert_true (memcmp (fa, fc, na) != 0);
    }
}

static void
test_sizes (void)
{
  const int sizes[] = { 64, 128, 256 };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      RgShapesConfig cfg = config (sizes[i], i == 2 ? 6 : 24);
      cfg.fps = (RgRational) { 12, 1 };
      RgShapesScene sc;
      sample (&cfg, 42 + i, &sc);
      g_autoptr (RgTensor) v = rg_shapes_render (&sc);
      g_assert_cmpint (v->ndim, ==, 4);
      g_assert_cmpint (v->shape[0], ==, 3);
      g_assert_cmpint (v->shape[1], ==, cfg.frames);
      g_assert_cmpint (v->shape[2], ==, sizes[i]);
      g_assert_cmpint (v->shape[3], ==, sizes[i]);
      const float *x = rg_tensor_f32 (v);
      for (int64_t k = 0; k < rg_tensor_numel (v); k++)
        g_assert_true (x[k] >= -1.f && x[k] <= 1.f);
      /* Radii scale with the frame: a shape keeps its share of the frame. */
      g_assert_cmpfloat (sc.shapes[0].radius, >=, 7.f * sizes[i] / 64.f - 1e-3f);
      g_autoptr (RgTensor) audio = rg_shapes_soundtrack (&sc);
      g_assert_cmpint (audio->shape[0], ==, (int64_t) cfg.frames * RG_SHAPES_AUDIO_RATE / 12);
    }
}

/* Centroid and area of shape s on frame t, from the renderer's coverage. */
static void
true_centroid (const RgShapesScene *sc, int s, int t, float *cx, float *cy, float *area)
{
  const RgShapesShape *sh = &sc->shapes[s];
  float r = sh->radius * sh->scale[t] + 1.f, a = 0, mx = 0, my = 0;
  for (int y = MAX (0, (int) (sh->y[t] - r)); y <= MIN (sc->height - 1, (int) (sh->y[t] + r)); y++)
    for (int x = MAX (0, (int) (sh->x[t] - r)); x <= MIN (sc->width - 1, (int) (sh->x[t] + r)); x++)
      {
        float c = rg_shapes_coverage (sc, s, t, x, y);
        a += c, mx += c * (x + 0.5f), my += c * (y + 0.5f);
      }
  *cx = mx / a, *cy = my / a, *area = a;
}

static void
test_motions (void)
{
  RgShapesConfig cfg = config (64, 16);
  int seen[RG_MOTION_N] = { 0 };
  for (uint64_t seed = 1; seed <= 250; seed++)
    {
      RgShapesScene sc;
      sample (&cfg, seed, &sc);
      for (int s = 0; s < sc.n_shapes; s++)
        {
          const RgShapesShape *sh = &sc.shapes[s];
          int T = sc.frames;
          float cx0, cy0, a0, cx1, cy1, a1, dx, dy;
          true_centroid (&sc, s, 0, &cx0, &cy0, &a0);
          true_centroid (&sc, s, T - 1, &cx1, &cy1, &a1);
          dx = cx1 - cx0, dy = cy1 - cy0;
          float far = 0.2f * sc.width, near = 0.5f;
          seen[sh->motion]++;
          switch (sh->motion)
            {
            case RG_MOTION_LEFT:
              g_assert_cmpfloat (dx, <, -far);
              g_assert_cmpfloat (fabsf (dy), <, near);
              break;
            case RG_MOTION_RIGHT:
              g_assert_cmpfloat (dx, >, far);
              g_assert_cmpfloat (fabsf (dy), <, near);
              break;
            case RG_MOTION_UP: /* image rows grow downward */
              g_assert_cmpfloat (dy, <, -far);
              g_assert_cmpfloat (fabsf (dx), <, near);
              break;
            case RG_MOTION_DOWN:
              g_assert_cmpfloat (dy, >, far);
              g_assert_cmpfloat (fabsf (dx), <, near);
              break;
            case RG_MOTION_DIAGONAL:
              g_assert_cmpfloat (fabsf (dx), >, 0.15f * sc.width);
              g_assert_cmpfloat (fabsf (dy), >, 0.15f * sc.height);
              break;
            case RG_MOTION_GROWING:
              g_assert_cmpfloat (a1, >, 2.5f * a0);
              g_assert_cmpfloat (hypotf (dx, dy), <, near);
              break;
            case RG_MOTION_SHRINKING:
              g_assert_cmpfloat (a0, >, 2.5f * a1);
              g_assert_cmpfloat (hypotf (dx, dy), <, near);
              break;
            case RG_MOTION_STILL:
            case RG_MOTION_ROTATING:
              {
                /* Centroid fixed; the mask changes only when rotating. */
                g_assert_cmpfloat (hypotf (dx, dy), <, near);
                float change = 0;
                for (int t = 1; t < T; t++)
                  for (int y = 0; y < sc.height; y++)
                    for (int x = 0; x < sc.width; x++)
                      change += fabsf (rg_shapes_coverage (&sc, s, t, x, y)
                                       - rg_shapes_coverage (&sc, s, 0, x, y));
                if (sh->motion == RG_MOTION_STILL)
                  g_assert_cmpfloat (change, ==, 0.f);
                else
                  g_assert_cmpfloat (change / (T - 1), >, 0.1f * a0);
              }
              break;
            case RG_MOTION_BOUNCING:
              {
                /* Falls to the floor, turns back up on exactly the contact
                 * frames, and the contact frames are the lowest. */
                int contacts = 0;
                for (int t = 0; t < T; t++)
                  {
                    float x, y, a;
                    true_centroid (&sc, s, t, &x, &y, &a);
                    gboolean contact = sh->y[t] == sh->y0;
                    g_assert_cmpfloat (y, <=, sh->y0 + 0.5f);
                    if (contact && t > 0 && t < T - 1)
                      {
                        g_assert_cmpfloat (sh->y[t - 1], <, sh->y[t]);
                        g_assert_cmpfloat (sh->y[t + 1], <, sh->y[t]);
                        contacts++;
                      }
                  }
                g_assert_cmpint (contacts, >=, 1);
              }
              break;
            default:
              g_assert_not_reached ();
            }
        }
    }
  for (int m = 0; m < RG_MOTION_N; m++)
    g_assert_cmpint (seen[m], >=, 5);
}

static void
test_antialias (void)
{
  RgShapesConfig cfg = config (64, 16);
  int checked = 0;
  for (uint64_t seed = 1; checked < 10; seed++)
    {
      RgShapesScene sc;
      sample (&cfg, seed, &sc);
      if (sc.n_shapes != 1 || sc.backdrop.kind != RG_BACKDROP_SOLID)
        continue;
      const RgShapesShape *sh = &sc.shapes[0];
      g_autofree guint8 *rgb = rg_shapes_render_rgb24 (&sc, NULL);
      float bg[3], fg[3];
      rg_colour_rgb (sc.backdrop.colour, bg);
      rg_colour_rgb (sh->colour, fg);
      /* Edge pixels hold colours strictly between backdrop and shape, as
       * many as the outline is long. */
      int between = 0;
      for (int i = 0; i < 64 * 64; i++)
        {
          gboolean is_bg = TRUE, is_fg = TRUE;
          for (int c = 0; c < 3; c++)
            {
              is_bg &= abs (rgb[3 * i + c] - (int) bg[c]) <= 1;
              is_fg &= abs (rgb[3 * i + c] - (int) fg[c]) <= 1;
            }
          between += !is_bg && !is_fg;
        }
      g_assert_cmpint (between, >=, (int) (2.f * sh->radius * sh->scale[0]));
      checked++;
    }
}

static void
test_clicks (void)
{
  RgShapesConfig cfg = config (64, 16);
  int bouncers = 0;
  for (uint64_t seed = 1; bouncers < 12; seed++)
    {
      RgShapesScene sc;
      sample (&cfg, seed, &sc);
      int expected = 0;
      for (int s = 0; s < sc.n_shapes; s++)
        if (sc.shapes[s].motion == RG_MOTION_BOUNCING)
          {
            bouncers++;
            /* slow enough for a 4× temporal TAE: 2.5 latent frames or more
             * between contacts, and a contact inside the clip */
            g_assert_cmpint (sc.shapes[s].bounce_period, >=, 10);
            g_assert_cmpint (sc.shapes[s].bounce_period, <=, 14);
            int contacts = 0, first = -1;
            for (int t = 0; t < sc.frames; t++)
              if (sc.shapes[s].y[t] == sc.shapes[s].y0)
                contacts++, first = first < 0 ? t : first;
            g_assert_cmpint (contacts, >=, 1);
            /* Dropped from rest: the clip opens at (or one frame past) the
             * apex, so every bounce caption shows the same fall, contact
             * and rise, half a period in. */
            const RgShapesShape *sh = &sc.shapes[s];
            int half = sh->bounce_period / 2;
            g_assert_cmpint (first, >=, half - 1);
            g_assert_cmpint (first, <=, half);
            g_assert_cmpfloat (sh->y0 - sh->y[0], >=, 0.9f * sh->bounce_height);
            for (int t = 1; t <= first; t++)
              g_assert_cmpfloat (sh->y[t], >, sh->y[t - 1]); /* falling all the way */
            expected += contacts;
          }
      g_assert_cmpint (sc.n_events, ==, expected);
      for (int e = 0; e < sc.n_events; e++)
        {
          const RgShapesEvent *ev = &sc.events[e];
          /* The contact frame's time, exactly: 1/8 s per frame at 8 fps. */
          g_assert_cmpfloat (sc.shapes[ev->shape].y[ev->frame], ==, sc.shapes[ev->shape].y0);
          g_assert_cmpint (ev->time, ==, (RgTime) ev->frame * RG_TIME_HZ / 8);
          g_assert_cmpint (ev->sample, ==, (int64_t) ev->frame * RG_SHAPES_AUDIO_RATE / 8);
        }
      if (sc.n_events == 0)
        continue;
      /* The click starts on the event's sample: the onsets found in the
       * waveform are the event times. */
      g_autoptr (RgTensor) audio = rg_shapes_soundtrack (&sc);
      g_autoptr (GArray) onsets = rg_grade_audio_onsets (audio, RG_SHAPES_AUDIO_RATE);
      RgTime times[RG_SHAPES_MAX_EVENTS];
      int n = 0;
      for (int e = 0; e < sc.n_events; e++)
        if (e == 0 || sc.events[e].time != sc.events[e - 1].time)
          times[n++] = sc.events[e].time;
      g_assert_cmpint (onsets->len, ==, n);
      for (int e = 0; e < n; e++)
        g_assert_cmpint (g_array_index (onsets, RgTime, e), ==, times[e]);
    }
}

/* Groups as captions describe them: identical shapes together. */
static void
check_caption (const RgShapesScene *sc, const char *caption)
{
  g_autoptr (GError) error = NULL;
  RgPromptIntent in;
  g_assert_true (rg_grade_parse_prompt (caption, &in, &error));
  g_assert_true (g_str_has_suffix (caption, "FPS-8"));
  g_assert_cmpfloat (in.fps, ==, 8.0);
  g_assert_true (in.has_backdrop);
  g_assert_true (rg_backdrop_equal (&in.backdrop, &sc->backdrop));
  int total = 0;
  for (int g = 0; g < in.n_groups; g++)
    {
      const RgPromptGroup *pg = &in.groups[g];
      total += pg->count;
      int matching = 0;
      for (int s = 0; s < sc->n_shapes; s++)
        {
          const RgShapesShape *sh = &sc->shapes[s];
          /* a diagonal caption always names which way it goes */
          RgHeading heading = sh->motion == RG_MOTION_DIAGONAL ? rg_heading_of (sh->vx, sh->vy)
                                                               : RG_HEADING_NONE;
          if ((int) sh->colour == pg->colour && (int) sh->kind == pg->kind
              && (int) sh->motion == pg->motion && pg->heading == heading
              && (pg->size == RG_GRADE_UNKNOWN || (int) sh->size == pg->size))
            matching++;
        }
      if (matching != pg->count)
        g_error ("caption \"%s\": group %d (%d × %s %s %s) is not in the scene", caption, g,
                 pg->count, rg_colour_name (pg->colour), rg_shape_kind_name (pg->kind),
                 rg_motion_name (pg->motion));
      g_assert_nonnull (strstr (caption, rg_colour_name (pg->colour)));
      g_assert_nonnull (strstr (caption, rg_shape_kind_name (pg->kind)));
    }
  g_assert_cmpint (total, ==, sc->n_shapes);
}

static void
test_captions (void)
{
  RgShapesConfig cfg = config (64, 16);
  GHashTable *distinct = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (uint64_t seed = 1; seed <= 200; seed++)
    {
      RgShapesScene sc;
      sample (&cfg, seed, &sc);
      for (uint64_t v = 0; v < 3; v++)
        {
          char *caption = rg_shapes_caption (&sc, v);
          check_caption (&sc, caption);
          /* Templates vary: count the distinct first words. */
          g_hash_table_add (distinct, g_strndup (caption, strcspn (caption, " ")));
          g_free (caption);
        }
    }
  g_assert_cmpuint (g_hash_table_size (distinct), >=, 5);
  g_hash_table_unref (distinct);
}

/* The attributes an edit may leave alone must be equal. */
static gboolean
shape_equal_but (const RgShapesShape *a, const RgShapesShape *b, RgShapesEditKind kind)
{
  if (kind != RG_SHAPES_EDIT_RECOLOUR && a->colour != b->colour)
    return FALSE;
  if (kind != RG_SHAPES_EDIT_REPLACE && a->kind != b->kind)
    return FALSE;
  if (a->size != b->size || a->radius != b->radius)
    return FALSE;
  if (kind == RG_SHAPES_EDIT_MOTION)
    return a->motion != b->motion;
  return a->motion == b->motion && memcmp (a->x, b->x, sizeof a->x) == 0
         && memcmp (a->y, b->y, sizeof a->y) == 0 && memcmp (a->scale, b->scale, sizeof a->scale) == 0;
}

static void
test_edits (void)
{
  RgShapesConfig cfg = config (64, 16);
  for (int k = 0; k < RG_SHAPES_EDIT_N_KINDS; k++)
    for (uint64_t seed = 1; seed <= 15; seed++)
      {
        RgShapesEdit ed;
        g_autoptr (GError) error = NULL;
        g_assert_true (rg_shapes_edit_sample (&cfg, seed, k, &ed, &error));
        g_assert_no_error (error);
        const RgShapesScene *src = &ed.source, *dst = &ed.target;
        g_assert_nonnull (ed.instruction);
        g_assert_true (rg_shapes_scene_plan ((RgShapesScene *) dst, NULL));
        switch (k)
          {
          case RG_SHAPES_EDIT_RECOLOUR:
          case RG_SHAPES_EDIT_REPLACE:
          case RG_SHAPES_EDIT_MOTION:
            g_assert_cmpint (src->n_shapes, ==, dst->n_shapes);
            g_assert_true (rg_backdrop_equal (&src->backdrop, &dst->backdrop));
            for (int s = 0; s < src->n_shapes; s++)
              {
                const RgShapesShape *a = &src->shapes[s], *b = &dst->shapes[s];
                if (ed.edited & (1u << s))
                  {
                    g_assert_true (shape_equal_but (a, b, k));
                    if (k == RG_SHAPES_EDIT_RECOLOUR)
                      g_assert_cmpint (a->colour, !=, b->colour);
                    if (k == RG_SHAPES_EDIT_REPLACE)
                      g_assert_cmpint (a->kind, !=, b->kind);
                  }
                else
                  g_assert_true (shape_equal_but (a, b, RG_SHAPES_EDIT_N_KINDS));
              }
            /* The instruction names the edited group. */
            {
              const RgShapesShape *a = &src->shapes[g_bit_nth_lsf (ed.edited, -1)];
              g_assert_nonnull (strstr (ed.instruction, rg_colour_name (a->colour)));
              g_assert_nonnull (strstr (ed.instruction, rg_shape_kind_name (a->kind)));
            }
            break;
          case RG_SHAPES_EDIT_REMOVE:
            {
              int n = 0;
              for (int s = 0; s < src->n_shapes; s++)
                if (!(ed.edited & (1u << s)))
                  g_assert_true (shape_equal_but (&src->shapes[s], &dst->shapes[n++],
                                                  RG_SHAPES_EDIT_N_KINDS));
              g_assert_cmpint (n, ==, dst->n_shapes);
              g_assert_cmpint (n, >=, 1);
              g_assert_true (g_str_has_prefix (ed.instruction, "remove the "));
            }
            break;
          case RG_SHAPES_EDIT_ADD:
            g_assert_cmpint (dst->n_shapes, ==, src->n_shapes + 1);
            g_assert_cmpuint (ed.edited, ==, 1u << src->n_shapes);
            for (int s = 0; s < src->n_shapes; s++)
              g_assert_true (shape_equal_but (&src->shapes[s], &dst->shapes[s],
                                              RG_SHAPES_EDIT_N_KINDS));
            g_assert_nonnull (strstr (ed.instruction,
                                      rg_shape_kind_name (dst->shapes[src->n_shapes].kind)));
            break;
          case RG_SHAPES_EDIT_BACKGROUND:
            g_assert_false (rg_backdrop_equal (&src->backdrop, &dst->backdrop));
            g_assert_cmpint (src->n_shapes, ==, dst->n_shapes);
            for (int s = 0; s < src->n_shapes; s++)
              g_assert_true (shape_equal_but (&src->shapes[s], &dst->shapes[s],
                                              RG_SHAPES_EDIT_N_KINDS));
            break;
          default:
            g_assert_not_reached ();
          }
        /* The target renders differently from the source. */
        g_autofree guint8 *a = rg_shapes_render_rgb24 (src, NULL);
        g_autofree guint8 *b = rg_shapes_render_rgb24 (dst, NULL);
        g_assert_true (memcmp (a, b, (gsize) 16 * 64 * 64 * 3) != 0);
        rg_shapes_edit_clear (&ed);
      }
}

static void
test_heldout (void)
{
  /* The rule holds out some triples, and training still sees every colour,
   * shape and motion. */
  int held = 0;
  gboolean colour_seen[RG_COLOUR_N] = { 0 }, kind_seen[RG_SHAPE_N_KINDS] = { 0 },
           motion_seen[RG_MOTION_N] = { 0 };
  for (int c = 0; c < RG_COLOUR_N; c++)
    for (int k = 0; k < RG_SHAPE_N_KINDS; k++)
      for (int m = 0; m < RG_MOTION_N; m++)
        held += rg_shapes_triple_is_heldout (c, k, m);
  g_assert_cmpint (held, >=, 30);

  RgShapesConfig train = config (64, 16), heldout = config (64, 16);
  heldout.split = RG_SHAPES_SPLIT_HELDOUT;
  for (uint64_t seed = 1; seed <= 400; seed++)
    {
      RgShapesScene sc;
      sample (&train, seed, &sc);
      for (int s = 0; s < sc.n_shapes; s++)
        {
          const RgShapesShape *sh = &sc.shapes[s];
          g_assert_false (rg_shapes_triple_is_heldout (sh->colour, sh->kind, sh->motion));
          colour_seen[sh->colour] = kind_seen[sh->kind] = motion_seen[sh->motion] = TRUE;
        }
      sample (&heldout, seed, &sc);
      for (int s = 0; s < sc.n_shapes; s++)
        g_assert_true (rg_shapes_triple_is_heldout (sc.shapes[s].colour, sc.shapes[s].kind,
                                                    sc.shapes[s].motion));
    }
  for (int c = 0; c < RG_COLOUR_N; c++)
    g_assert_true (colour_seen[c]);
  for (int k = 0; k < RG_SHAPE_N_KINDS; k++)
    g_assert_true (kind_seen[k]);
  for (int m = 0; m < RG_MOTION_N; m++)
    g_assert_true (motion_seen[m]);

  /* Edits of the training split stay in it. */
  for (uint64_t seed = 1; seed <= 10; seed++)
    {
      RgShapesEdit ed;
      g_assert_true (rg_shapes_edit_sample (&train, seed, RG_SHAPES_EDIT_RECOLOUR, &ed, NULL));
      for (int s = 0; s < ed.target.n_shapes; s++)
        g_assert_false (rg_shapes_triple_is_heldout (ed.target.shapes[s].colour,
                                                     ed.target.shapes[s].kind,
                                                     ed.target.shapes[s].motion));
      rg_shapes_edit_clear (&ed);
    }
}

static void
test_subjects (void)
{
  RgShapesSubject subjects[40];
  for (int id = 0; id < 40; id++)
    {
      rg_shapes_subject_get (id, &subjects[id]);
      g_assert_cmpint (subjects[id].id, ==, id);
      g_assert_cmpint (subjects[id].pattern, !=, RG_PATTERN_NONE);
      for (int o = 0; o < id; o++)
        g_assert_false (subjects[o].kind == subjects[id].kind
                        && subjects[o].pattern == subjects[id].pattern
                        && subjects[o].colour == subjects[id].colour
                        && subjects[o].colour2 == subjects[id].colour2
                        && subjects[o].period == subjects[id].period);
      /* The reference image shows both pattern colours. */
      g_autoptr (RgTensor) ref = rg_shapes_subject_reference (&subjects[id], 64);
      g_assert_cmpint (ref->shape[1], ==, 1);
      const float *x = rg_tensor_f32 (ref);
      int hits[2] = { 0, 0 };
      for (int i = 0; i < 64 * 64; i++)
        {
          float rgb[3] = { (x[i] + 1) * 127.5f, (x[4096 + i] + 1) * 127.5f,
                           (x[8192 + i] + 1) * 127.5f };
          float d;
          RgColour c = rg_colour_nearest (rgb, &d);
          if (d < 2.f)
            hits[0] += c == subjects[id].colour, hits[1] += c == subjects[id].colour2;
        }
      g_assert_cmpint (hits[0], >, 20);
      g_assert_cmpint (hits[1], >, 20);

      RgShapesConfig cfg = config (64, 16);
      RgShapesScene sc;
      g_autoptr (GError) error = NULL;
      g_assert_true (rg_shapes_subject_scene (&cfg, &subjects[id], 7, &sc, &error));
      g_assert_cmpint (sc.n_shapes, ==, 1);
      g_assert_cmpint (sc.shapes[0].subject_id, ==, id);
      g_autofree char *caption = rg_shapes_caption (&sc, 0);
      g_assert_nonnull (strstr (caption, rg_colour_name (subjects[id].colour2)));
    }
}

static void
test_batch (void)
{
  /* A batch is the seeds' clips and captions, in order. */
  RgShapesConfig cfg = config (64, 8);
  g_auto (GStrv) captions = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (RgTensor) batch = rg_shapes_batch (&cfg, 500, 5, &captions, &error);
  g_assert_no_error (error);
  g_assert_cmpint (batch->ndim, ==, 5);
  g_assert_cmpint (batch->shape[0], ==, 5);
  g_assert_cmpuint (g_strv_length (captions), ==, 5);
  gsize clip = (gsize) 3 * 8 * 64 * 64;
  for (int i = 0; i < 5; i++)
    {
      RgShapesScene sc;
      sample (&cfg, 500 + i, &sc);
      g_autoptr (RgTensor) one = rg_shapes_render (&sc);
      g_assert_cmpmem (rg_tensor_f32 (batch) + i * clip, clip * sizeof (float), one->data,
                       rg_tensor_nbytes (one));
      g_autofree char *caption = rg_shapes_caption (&sc, 500 + i);
      g_assert_cmpstr (captions[i], ==, caption);
    }
  g_assert_null (rg_shapes_batch (&cfg, 0, 0, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  cfg = config (1024, 128); /* 4096 of these would be 6 TiB */
  g_assert_null (rg_shapes_batch (&cfg, 0, 4096, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NO_MEMORY);
}

static void
test_refusals (void)
{
  RgShapesConfig cfg = config (64, 0);
  RgShapesScene sc;
  g_autoptr (GError) error = NULL;
  g_assert_false (rg_shapes_scene_sample (&cfg, 1, &sc, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  const RgRational bad_rates[] = { { 8, 0 }, { 0, 1 }, { G_MAXINT64, 1 }, { 1, G_MAXINT64 } };
  for (guint i = 0; i < G_N_ELEMENTS (bad_rates); i++)
    {
      cfg = config (64, 16);
      cfg.fps = bad_rates[i];
      g_assert_false (rg_shapes_scene_sample (&cfg, 1, &sc, &error));
      g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  /* A hand-edited scene breaking a world rule is refused with the rule. */
  cfg = config (64, 16);
  for (uint64_t seed = 1;; seed++)
    {
      sample (&cfg, seed, &sc);
      if (sc.n_shapes >= 2)
        break;
    }
  RgShapesScene bad = sc;
  bad.shapes[1] = bad.shapes[0]; /* on top of each other */
  g_assert_false (rg_shapes_scene_plan (&bad, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "gap"));
  g_clear_error (&error);

  bad = sc;
  bad.shapes[0].kind = 99;
  g_assert_false (rg_shapes_scene_plan (&bad, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  bad = sc;
  bad.shapes[0].x0 = -5.f;
  bad.shapes[0].vx = 0.f;
  g_assert_false (rg_shapes_scene_plan (&bad, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Hostile numbers: refused, never undefined behaviour (UBSan runs this). */
  for (int k = 0; k < 6; k++)
    {
      bad = sc;
      RgShapesShape *sh = &bad.shapes[0];
      switch (k)
        {
        case 0:
          sh->spin = NAN;
          break;
        case 1:
          sh->pattern = RG_PATTERN_DOTS, sh->colour2 = RG_COLOUR_WHITE, sh->pattern_period = 0.f;
          break;
        case 2:
          sh->motion = RG_MOTION_BOUNCING, sh->bounce_period = 6, sh->bounce_phase = G_MININT;
          break;
        case 3:
          sh->scale0 = 0.f;
          break;
        case 4:
          sh->radius = INFINITY;
          break;
        default:
          sh->y0 = NAN;
          break;
        }
      g_assert_false (rg_shapes_scene_plan (&bad, &error));
      g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  bad = sc;
  bad.n_shapes = 7;
  g_assert_false (rg_shapes_scene_plan (&bad, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shapes/determinism", test_determinism);
  g_test_add_func ("/shapes/sizes", test_sizes);
  g_test_add_func ("/shapes/motions", test_motions);
  g_test_add_func ("/shapes/antialias", test_antialias);
  g_test_add_func ("/shapes/clicks", test_clicks);
  g_test_add_func ("/shapes/captions", test_captions);
  g_test_add_func ("/shapes/edits", test_edits);
  g_test_add_func ("/shapes/heldout", test_heldout);
  g_test_add_func ("/shapes/subjects", test_subjects);
  g_test_add_func ("/shapes/batch", test_batch);
  g_test_add_func ("/shapes/refusals", test_refusals);
  return g_test_run ();
}
