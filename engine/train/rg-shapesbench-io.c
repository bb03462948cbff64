/* rg-shapesbench-io.c — ShapesBench's clips in (pipeline frames, video
 * files) and its results out (the table and the JSON). */
#include "train/rg-shapesbench.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-json.h"
#include "media/rg-video-reader.h"

#define MAX_PIXELS (1024 * 1024)

RgTensor *
rg_shapesbench_frames_to_video (const RgTensor *frames)
{
  g_return_val_if_fail (frames->dtype == RG_U8 && frames->ndim == 4 && frames->shape[3] == 3
                            && rg_tensor_is_contiguous (frames),
                        NULL);
  int64_t T = frames->shape[0], H = frames->shape[1], W = frames->shape[2];
  RgTensor *video = rg_tensor_f32_new (4, (int64_t)3, T, H, W);
  const guint8 *src = frames->data;
  float *dst = rg_tensor_f32 (video);
  int64_t plane = T * H * W;
  for (int64_t p = 0; p < plane; p++)
    for (int c = 0; c < 3; c++)
      dst[c * plane + p] = src[p * 3 + c] / 127.5f - 1.f;
  return video;
}

RgTensor *
rg_shapesbench_load_clip (const char *path, GError **error)
{
  RgVideoReaderOptions opts = { .format = RG_PIXEL_RGB24 };
  g_autoptr (RgVideoReader) reader = rg_video_reader_open (path, &opts, error);
  if (reader == NULL)
    return NULL;

  /* Frames are gathered first: the count is only known at the end. */
  g_autoptr (GByteArray) pixels = g_byte_array_new ();
  int width = 0, height = 0, T = 0;
  RgVideoFrame frame;
  GError *local = NULL;
  while (T < RG_SHAPES_MAX_FRAMES && rg_video_reader_next (reader, &frame, &local))
    {
      if (T > 0 && (frame.width != width || frame.height != height))
        {
          g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
                       "%s: frame %d is %d×%d, the first was %d×%d", path, T, frame.width,
                       frame.height, width, height);
          return NULL;
        }
      /* ShapesWorld is at most 256 px; a huge frame would only make the
       * 128 decoded frames (and their f32 copy) exhaust memory. */
      if ((gint64)frame.width * frame.height > MAX_PIXELS)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
                       "%s: %d×%d frames are too large to grade (at most %d pixels)", path,
                       frame.width, frame.height, MAX_PIXELS);
          return NULL;
        }
      width = frame.width, height = frame.height;
      g_byte_array_append (pixels, frame.data, (guint)((gsize)width * height * 3));
      T++;
    }
  if (local)
    {
      g_propagate_prefixed_error (error, local, "%s: ", path);
      return NULL;
    }
  if (T == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: no video frames", path);
      return NULL;
    }
  int64_t shape[4] = { T, height, width, 3 };
  g_autoptr (RgTensor) frames = rg_tensor_new_borrowed (RG_U8, 4, shape, pixels->data, NULL, NULL);
  return rg_shapesbench_frames_to_video (frames);
}

static char *
backdrop_name (const RgBackdrop *b)
{
  return g_strdup (b->kind == RG_BACKDROP_SOLID ? rg_colour_name (b->colour)
                                                : rg_backdrop_kind_name (b->kind));
}

static const char *const ATTRIBUTES[] = { "colour", "shape", "count", "motion", "background" };

static const RgShapesBenchScore *
score_of (const RgShapesBenchResult *r, int i)
{
  const RgShapesBenchScore *scores[]
      = { &r->colour, &r->shape, &r->count, &r->motion, &r->backdrop };
  return scores[i];
}

static const char *
class_shape_name (int k)
{
  return rg_shape_kind_name ((RgShapeKind) k);
}

static const char *
class_motion_name (int k)
{
  return rg_motion_name ((RgMotion) k);
}

/* The per-class rows: right / asked, then what was seen instead, most
 * often first ("none": no object detected). Classes nobody asked for are
 * left out, and so is the whole table when no prompt asked. */
static void
append_classes (GString *s, const char *title, const RgShapesBenchClass *table, int n,
                const char *(*name) (int))
{
  gboolean any = FALSE;
  for (int k = 0; k < n; k++)
    any |= table[k].asked > 0;
  if (!any)
    return;
  g_string_append_printf (s, "\n%-12s  right / asked   accuracy   seen instead\n", title);
  for (int k = 0; k < n; k++)
    {
      const RgShapesBenchClass *c = &table[k];
      if (c->asked == 0)
        continue;
      g_string_append_printf (s, "%-12s  %5d / %-5d   %6.1f%%", name (k), c->right, c->asked,
                              100.0 * c->right / c->asked);
      int shown[RG_SHAPESBENCH_MAX_CLASSES];
      memcpy (shown, c->seen, sizeof shown);
      shown[k] = 0;
      gboolean first = TRUE;
      for (;;)
        {
          int best = -1;
          for (int j = 0; j < n; j++)
            if (shown[j] > 0 && (best < 0 || shown[j] > shown[best]))
              best = j;
          if (best < 0)
            break;
          g_string_append_printf (s, "%s %s %d", first ? "  " : ",", name (best), shown[best]);
          shown[best] = 0;
          first = FALSE;
        }
      if (c->none > 0)
        g_string_append_printf (s, "%s none %d", first ? "  " : ",", c->none);
      g_string_append_c (s, '\n');
    }
}

char *
rg_shapesbench_result_table (const RgShapesBenchResult *r, const RgShapesBenchModel *model)
{
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "ShapesBench — model: %s\n", model->description);
  if (model->random_init)
    g_string_append (s, "WARNING: untrained weights: these scores measure noise, not a model\n");
  const char *split = !r->default_prompts                          ? "given"
                      : r->params.split == RG_SHAPES_SPLIT_HELDOUT ? "held-out split"
                                                                   : "train split";
  if (r->tae_roundtrip)
    g_string_append_printf (s,
                            "%u scenes (%s), seed %" G_GUINT64_FORMAT ": the TAE's reconstruction "
                            "of each prompt's own scene, not a generation\n\n",
                            r->items->len, split, r->params.seed);
  else
    g_string_append_printf (s,
                            "%u prompts (%s), %d steps (%s), guidance %.1f, seed %" G_GUINT64_FORMAT
                            "\n\n", r->items->len, split, r->params.steps,
                            rg_schedule_kind_to_string (r->params.schedule), r->params.guidance,
                            r->params.seed);
  g_string_append (s, "attribute     right / asked   accuracy\n");
  for (int i = 0; i < (int)G_N_ELEMENTS (ATTRIBUTES); i++)
    {
      const RgShapesBenchScore *sc = score_of (r, i);
      double acc = rg_shapesbench_score_accuracy (sc);
      if (isnan (acc))
        g_string_append_printf (s, "%-12s  %5d / %-5d         –\n", ATTRIBUTES[i], sc->right,
                                sc->asked);
      else
        g_string_append_printf (s, "%-12s  %5d / %-5d   %6.1f%%\n", ATTRIBUTES[i], sc->right,
                                sc->asked, 100 * acc);
    }
  append_classes (s, "asked shape", r->by_shape, RG_SHAPE_N_KINDS, class_shape_name);
  append_classes (s, "asked motion", r->by_motion, RG_MOTION_N, class_motion_name);
  if (!isnan (r->frame_change))
    {
      g_string_append_printf (s, "\nframe-to-frame change (mean |Δ| per pixel): clips %.4f",
                              r->frame_change);
      if (!isnan (r->truth_frame_change))
        g_string_append_printf (s, ", their scenes %.4f", r->truth_frame_change);
      g_string_append_c (s, '\n');
    }
  if (r->n_recon > 0)
    g_string_append_printf (s,
                            "\nTAE on %d held-out scenes: PSNR mean %.2f dB (worst %.2f), "
                            "SSIM mean %.4f; decoder stability %.2f dB (10 %% latent noise "
                            "against the clean decode)\n",
                            r->n_recon, r->psnr_mean, r->psnr_min, r->ssim_mean,
                            r->stability_psnr);
  double clip_seconds = 0;
  for (guint i = 0; i < r->items->len; i++)
    clip_seconds += ((const RgShapesBenchItem *)g_ptr_array_index (r->items, i))->seconds;
  g_string_append_printf (s, "\n%.1f s in all, %.2f s per clip (%s)\n", r->seconds,
                          r->items->len ? clip_seconds / r->items->len : 0.0,
                          r->from_files      ? "loading"
                          : r->tae_roundtrip ? "TAE round trip"
                                             : "generation");
  return g_string_free (s, FALSE);
}

/* A verdict as true/false, or null where the prompt did not ask. */
static void
add_verdict (JsonBuilder *b, const char *name, int verdict)
{
  json_builder_set_member_name (b, name);
  if (verdict < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_boolean_value (b, verdict > 0);
}

/* A detector name for an intent's value, NULL (JSON null) where the prompt
 * did not say. */
#define NAME_OR_NULL(value, name_func) \
  ((value) == RG_GRADE_UNKNOWN ? NULL : name_func (value))

/* What the prompt asked for, in the detectors' terms (null: not said). */
static void
add_asked (JsonBuilder *b, const RgPromptIntent *in)
{
  json_builder_set_member_name (b, "asked");
  json_builder_begin_object (b);
  g_autofree char *bg = in->has_backdrop ? backdrop_name (&in->backdrop) : NULL;
  rg_json_add_string (b, "background", bg);
  json_builder_set_member_name (b, "groups");
  json_builder_begin_array (b);
  for (int g = 0; g < in->n_groups; g++)
    {
      const RgPromptGroup *pg = &in->groups[g];
      json_builder_begin_object (b);
      rg_json_add_int (b, "count", pg->count);
      rg_json_add_string (b, "colour", NAME_OR_NULL (pg->colour, rg_colour_name));
      rg_json_add_string (b, "shape", rg_shape_kind_name (pg->kind));
      rg_json_add_string (b, "size", NAME_OR_NULL (pg->size, rg_shape_size_name));
      rg_json_add_string (b, "motion", NAME_OR_NULL (pg->motion, rg_motion_name));
      if (pg->heading != RG_HEADING_NONE)
        rg_json_add_string (b, "heading", rg_heading_name (pg->heading));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
add_item (JsonBuilder *b, const RgShapesBenchItem *item)
{
  json_builder_begin_object (b);
  rg_json_add_string (b, "prompt", item->prompt);
  rg_json_add_int (b, "seed", (gint64)item->seed);
  rg_json_add_string (b, "clip", item->clip);
  rg_json_add_double (b, "seconds", item->seconds);
  rg_json_add_double (b, "frame_change", item->frame_change);
  rg_json_add_double (b, "scene_frame_change", item->truth_frame_change);

  json_builder_set_member_name (b, "correct");
  json_builder_begin_object (b);
  add_verdict (b, "colour", item->verdict.colour);
  add_verdict (b, "shape", item->verdict.shape);
  add_verdict (b, "count", item->verdict.count);
  add_verdict (b, "motion", item->verdict.motion);
  add_verdict (b, "background", item->verdict.backdrop);
  json_builder_end_object (b);

  add_asked (b, &item->asked);

  const RgGradeReport *rep = &item->report;
  json_builder_set_member_name (b, "detected");
  json_builder_begin_object (b);
  g_autofree char *bg = backdrop_name (&rep->backdrop);
  rg_json_add_string (b, "background", bg);
  rg_json_add_int (b, "count", rep->n_objects);
  json_builder_set_member_name (b, "objects");
  json_builder_begin_array (b);
  for (int o = 0; o < rep->n_tracks; o++)
    {
      const RgGradeObject *obj = &rep->objects[o];
      json_builder_begin_object (b);
      rg_json_add_string (b, "colour", rg_colour_name (obj->colour));
      rg_json_add_string (b, "shape", rg_shape_kind_name (obj->kind));
      rg_json_add_string (b, "motion", rg_motion_name (obj->motion));
      if (obj->heading != RG_HEADING_NONE)
        rg_json_add_string (b, "heading", rg_heading_name (obj->heading));
      rg_json_add_double (b, "area", obj->area);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

/* {"circle": {"right": …, "asked": …, "seen": {"square": …}, "none": …}, …}
 * for the classes that were asked for. */
static void
add_classes (JsonBuilder *b, const char *member, const RgShapesBenchClass *table, int n,
             const char *(*name) (int))
{
  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  for (int k = 0; k < n; k++)
    {
      const RgShapesBenchClass *c = &table[k];
      if (c->asked == 0)
        continue;
      json_builder_set_member_name (b, name (k));
      json_builder_begin_object (b);
      rg_json_add_int (b, "right", c->right);
      rg_json_add_int (b, "asked", c->asked);
      json_builder_set_member_name (b, "seen");
      json_builder_begin_object (b);
      for (int j = 0; j < n; j++)
        if (c->seen[j] > 0)
          rg_json_add_int (b, name (j), c->seen[j]);
      json_builder_end_object (b);
      rg_json_add_int (b, "none", c->none);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

char *
rg_shapesbench_result_to_json (const RgShapesBenchResult *r, const RgShapesBenchModel *model)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);

  json_builder_set_member_name (b, "model");
  json_builder_begin_object (b);
  rg_json_add_string (b, "config", rg_model_get_config (model->model)->name);
  rg_json_add_string (b, "path", model->path);
  rg_json_add_string (b, "tae_path", model->tae_path);
  rg_json_add_string (b, "description", model->description);
  json_builder_set_member_name (b, "random_init");
  json_builder_add_boolean_value (b, model->random_init);
  json_builder_end_object (b);

  rg_json_add_string (b, "prompts",
              !r->default_prompts                          ? "given"
              : r->params.split == RG_SHAPES_SPLIT_HELDOUT ? "heldout"
                                                           : "train");
  rg_json_add_string (b, "clips", r->from_files      ? "given"
                                  : r->tae_roundtrip ? "tae-roundtrip"
                                                     : "generated");
  rg_json_add_int (b, "seed", (gint64)r->params.seed);
  rg_json_add_int (b, "steps", r->params.steps);
  rg_json_add_string (b, "schedule", rg_schedule_kind_to_string (r->params.schedule));
  rg_json_add_double (b, "guidance", r->params.guidance);
  rg_json_add_int (b, "n", r->items->len);

  json_builder_set_member_name (b, "accuracy");
  json_builder_begin_object (b);
  for (int i = 0; i < (int)G_N_ELEMENTS (ATTRIBUTES); i++)
    rg_json_add_double (b, ATTRIBUTES[i], rg_shapesbench_score_accuracy (score_of (r, i)));
  json_builder_end_object (b);

  json_builder_set_member_name (b, "scores");
  json_builder_begin_object (b);
  for (int i = 0; i < (int)G_N_ELEMENTS (ATTRIBUTES); i++)
    {
      json_builder_set_member_name (b, ATTRIBUTES[i]);
      json_builder_begin_object (b);
      rg_json_add_int (b, "right", score_of (r, i)->right);
      rg_json_add_int (b, "asked", score_of (r, i)->asked);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);

  add_classes (b, "by_shape", r->by_shape, RG_SHAPE_N_KINDS, class_shape_name);
  add_classes (b, "by_motion", r->by_motion, RG_MOTION_N, class_motion_name);

  json_builder_set_member_name (b, "tae");
  json_builder_begin_object (b);
  rg_json_add_int (b, "scenes", r->n_recon);
  rg_json_add_double (b, "psnr_mean", r->psnr_mean);
  rg_json_add_double (b, "psnr_min", r->psnr_min);
  rg_json_add_double (b, "ssim_mean", r->ssim_mean);
  rg_json_add_double (b, "stability_psnr", r->stability_psnr);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "frame_change");
  json_builder_begin_object (b);
  rg_json_add_double (b, "clips", r->frame_change);
  rg_json_add_double (b, "scenes", r->truth_frame_change);
  json_builder_end_object (b);

  rg_json_add_double (b, "seconds", r->seconds);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->items->len; i++)
    add_item (b, g_ptr_array_index (r->items, i));
  json_builder_end_array (b);

  json_builder_end_object (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}
