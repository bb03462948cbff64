/* rg-job.c — job specs, states and results. */
#include "rg-job.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "core/rg-error.h"
#include "core/rg-json.h"

static const char *const kind_names[] = {
  [RG_JOB_TEXT_TO_VIDEO] = "t2v",
  [RG_JOB_EDIT] = "edit",
  [RG_JOB_PERSONALIZE] = "personalize",
  [RG_JOB_VIDEO_TO_AUDIO] = "v2a",
  [RG_JOB_TEXT_TO_AUDIO] = "t2a",
};

const char *
rg_job_kind_to_string (RgJobKind kind)
{
  return (guint) kind < G_N_ELEMENTS (kind_names) ? kind_names[kind] : "unknown";
}

gboolean
rg_job_kind_from_string (const char *name, RgJobKind *kind, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (name, kind_names[i]) == 0)
      {
        *kind = (RgJobKind) i;
        return TRUE;
      }
  g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
               "unknown job kind “%s” (expected t2v, edit, personalize, v2a or t2a)",
               name ? name : "(null)");
  return FALSE;
}

const char *
rg_job_state_to_string (RgJobState state)
{
  switch (state)
    {
    case RG_JOB_QUEUED:
      return "queued";
    case RG_JOB_RUNNING:
      return "running";
    case RG_JOB_DONE:
      return "done";
    case RG_JOB_FAILED:
      return "failed";
    case RG_JOB_CANCELLED:
      return "cancelled";
    }
  return "unknown";
}

RgJobSpec *
rg_job_spec_new (RgJobKind kind)
{
  RgJobSpec *spec = g_new0 (RgJobSpec, 1);
  spec->kind = kind;
  spec->steps = 50;
  spec->guidance = 6.0f;
  spec->schedule = RG_SCHEDULE_LINEAR_QUADRATIC;
  return spec;
}

RgJobSpec *
rg_job_spec_copy (const RgJobSpec *spec)
{
  RgJobSpec *copy = g_memdup2 (spec, sizeof *spec);
  copy->prompt = g_strdup (spec->prompt);
  copy->negative_prompt = g_strdup (spec->negative_prompt);
  copy->model_path = g_strdup (spec->model_path);
  copy->output_path = g_strdup (spec->output_path);
  return copy;
}

void
rg_job_spec_free (RgJobSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->prompt);
  g_free (spec->negative_prompt);
  g_free (spec->model_path);
  g_free (spec->output_path);
  g_free (spec);
}

static gboolean
invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

gboolean
rg_job_spec_validate (const RgJobSpec *spec, GError **error)
{
  if ((guint) spec->kind >= G_N_ELEMENTS (kind_names))
    return invalid (error, "job kind %d does not exist", (int) spec->kind);
  gboolean wants_prompt = spec->kind == RG_JOB_TEXT_TO_VIDEO || spec->kind == RG_JOB_EDIT
                          || spec->kind == RG_JOB_PERSONALIZE
                          || spec->kind == RG_JOB_TEXT_TO_AUDIO;
  if (wants_prompt && (spec->prompt == NULL || spec->prompt[0] == '\0'))
    return invalid (error, "a %s job needs a prompt", rg_job_kind_to_string (spec->kind));
  if (spec->prompt && !g_utf8_validate (spec->prompt, -1, NULL))
    return invalid (error, "the prompt is not valid UTF-8");
  if (spec->negative_prompt && !g_utf8_validate (spec->negative_prompt, -1, NULL))
    return invalid (error, "the negative prompt is not valid UTF-8");
  if (spec->output_path == NULL || spec->output_path[0] == '\0')
    return invalid (error, "a %s job needs an output path", rg_job_kind_to_string (spec->kind));
  if (spec->steps < 1)
    return invalid (error, "steps must be at least 1, not %d", spec->steps);
  if (!isfinite (spec->guidance) || spec->guidance < 0.0f)
    return invalid (error, "guidance must be a finite number ≥ 0, not %g", spec->guidance);
  if (spec->frames < 0 || spec->width < 0 || spec->height < 0)
    return invalid (error, "frames, width and height must be ≥ 0 (0: the model's), not %d, %d, %d",
                    spec->frames, spec->width, spec->height);
  gboolean fps_default = spec->fps.num == 0 && spec->fps.den == 0;
  if (!fps_default && (spec->fps.num <= 0 || spec->fps.den <= 0))
    return invalid (error, "frame rate %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " is not positive",
                    spec->fps.num, spec->fps.den);
  return TRUE;
}

char *
rg_job_spec_to_json (const RgJobSpec *spec)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, rg_job_kind_to_string (spec->kind));
  rg_json_add_string (b, "prompt", spec->prompt);
  rg_json_add_string (b, "negative_prompt", spec->negative_prompt);
  /* seeds are full 64-bit: a string keeps them exact in every JSON reader */
  json_builder_set_member_name (b, "seed");
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, spec->seed);
  json_builder_add_string_value (b, seed);
  json_builder_set_member_name (b, "steps");
  json_builder_add_int_value (b, spec->steps);
  json_builder_set_member_name (b, "guidance");
  json_builder_add_double_value (b, spec->guidance);
  json_builder_set_member_name (b, "schedule");
  json_builder_add_string_value (b, rg_schedule_kind_to_string (spec->schedule));
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, spec->frames);
  json_builder_set_member_name (b, "fps");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, spec->fps.num);
  json_builder_add_int_value (b, spec->fps.den);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, spec->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, spec->height);
  rg_json_add_string (b, "model", spec->model_path);
  rg_json_add_string (b, "output", spec->output_path);
  json_builder_end_object (b);

  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, TRUE);
}

/* ---- reading a request ---- */

static gboolean
corrupt (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
corrupt (GError **error, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "job request: %s", message);
  return FALSE;
}

static gboolean
holds (JsonNode *node, GType type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

static gboolean
read_string (JsonNode *node, const char *name, gboolean nullable, char **out, GError **error)
{
  if (nullable && JSON_NODE_HOLDS_NULL (node))
    {
      g_clear_pointer (out, g_free);
      return TRUE;
    }
  if (!holds (node, G_TYPE_STRING))
    return corrupt (error, "“%s” must be a string%s", name, nullable ? " or null" : "");
  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
read_int (JsonNode *node, const char *name, int *out, GError **error)
{
  if (!holds (node, G_TYPE_INT64))
    return corrupt (error, "“%s” must be an integer", name);
  gint64 v = json_node_get_int (node);
  if (v < G_MININT || v > G_MAXINT)
    return corrupt (error, "“%s” is out of range", name);
  *out = (int) v;
  return TRUE;
}

/* A string of digits (exact for all 64 bits) or a non-negative integer. */
static gboolean
read_seed (JsonNode *node, guint64 *out, GError **error)
{
  if (holds (node, G_TYPE_INT64) && json_node_get_int (node) >= 0)
    {
      *out = (guint64) json_node_get_int (node);
      return TRUE;
    }
  if (holds (node, G_TYPE_STRING)
      && g_ascii_string_to_unsigned (json_node_get_string (node), 10, 0, G_MAXUINT64, out, NULL))
    return TRUE;
  return corrupt (error, "“seed” must be a non-negative integer or a string of digits");
}

static gboolean
read_fps (JsonNode *node, RgRational *out, GError **error)
{
  JsonArray *a = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  if (a == NULL || json_array_get_length (a) != 2
      || !holds (json_array_get_element (a, 0), G_TYPE_INT64)
      || !holds (json_array_get_element (a, 1), G_TYPE_INT64))
    return corrupt (error, "“fps” must be [numerator, denominator]");
  gint64 num = json_array_get_int_element (a, 0), den = json_array_get_int_element (a, 1);
  if (num < 0 || den < 0 || num > G_MAXINT || den > G_MAXINT)
    return corrupt (error, "“fps” is out of range");
  *out = (RgRational) { num, den };
  return TRUE;
}

static gboolean
read_member (RgJobSpec *spec, const char *name, JsonNode *node, GError **error)
{
  if (g_str_equal (name, "kind"))
    {
      if (!holds (node, G_TYPE_STRING))
        return corrupt (error, "“kind” must be a string");
      return rg_job_kind_from_string (json_node_get_string (node), &spec->kind, error);
    }
  if (g_str_equal (name, "prompt"))
    return read_string (node, name, TRUE, &spec->prompt, error);
  if (g_str_equal (name, "negative_prompt"))
    return read_string (node, name, TRUE, &spec->negative_prompt, error);
  if (g_str_equal (name, "model"))
    return read_string (node, name, TRUE, &spec->model_path, error);
  if (g_str_equal (name, "output"))
    return read_string (node, name, TRUE, &spec->output_path, error);
  if (g_str_equal (name, "seed"))
    return read_seed (node, &spec->seed, error);
  if (g_str_equal (name, "steps"))
    return read_int (node, name, &spec->steps, error);
  if (g_str_equal (name, "frames"))
    return read_int (node, name, &spec->frames, error);
  if (g_str_equal (name, "width"))
    return read_int (node, name, &spec->width, error);
  if (g_str_equal (name, "height"))
    return read_int (node, name, &spec->height, error);
  if (g_str_equal (name, "fps"))
    return read_fps (node, &spec->fps, error);
  if (g_str_equal (name, "guidance"))
    {
      if (!holds (node, G_TYPE_DOUBLE) && !holds (node, G_TYPE_INT64))
        return corrupt (error, "“guidance” must be a number");
      spec->guidance = (float) json_node_get_double (node);
      return TRUE;
    }
  if (g_str_equal (name, "schedule"))
    {
      if (!holds (node, G_TYPE_STRING))
        return corrupt (error, "“schedule” must be a string");
      return rg_schedule_kind_from_string (json_node_get_string (node), &spec->schedule, error);
    }
  return corrupt (error, "unknown member “%s”", name);
}

RgJobSpec *
rg_job_spec_from_json (const char *json, gssize length, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) parse_error = NULL;
  if (!json_parser_load_from_data (parser, json, length, &parse_error))
    {
      corrupt (error, "not JSON: %s", parse_error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      corrupt (error, "not a JSON object");
      return NULL;
    }

  JsonObject *object = json_node_get_object (root);
  g_autoptr (RgJobSpec) spec = rg_job_spec_new (RG_JOB_TEXT_TO_VIDEO);
  g_autoptr (GList) members = json_object_get_members (object);
  for (GList *l = members; l; l = l->next)
    if (!read_member (spec, l->data, json_object_get_member (object, l->data), error))
      return NULL;
  if (!rg_job_spec_validate (spec, error))
    return NULL;
  return g_steal_pointer (&spec);
}

RgJobResult *
rg_job_result_new (const char *output_path, const char *provenance_json)
{
  RgJobResult *result = g_new0 (RgJobResult, 1);
  result->output_path = g_strdup (output_path);
  result->provenance_json = g_strdup (provenance_json);
  return result;
}

RgJobResult *
rg_job_result_copy (const RgJobResult *result)
{
  return rg_job_result_new (result->output_path, result->provenance_json);
}

void
rg_job_result_free (RgJobResult *result)
{
  if (result == NULL)
    return;
  g_free (result->output_path);
  g_free (result->provenance_json);
  g_free (result);
}
