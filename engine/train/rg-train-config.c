/* rg-train-config.c — training configs: defaults, the JSON file, and the
 * canonical text a checkpoint is matched against. */
#include "train/rg-trainer.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"

const char *
rg_train_task_name (RgTrainTask task)
{
  return task == RG_TRAIN_TAE ? "tae" : "t2v";
}

gboolean
rg_train_task_from_name (const char *name, RgTrainTask *task, GError **error)
{
  if (g_strcmp0 (name, "tae") == 0)
    *task = RG_TRAIN_TAE;
  else if (g_strcmp0 (name, "t2v") == 0)
    *task = RG_TRAIN_T2V;
  else
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "unknown training task '%s' (known: tae, t2v)", name ? name : "");
      return FALSE;
    }
  return TRUE;
}

void
rg_train_config_init (RgTrainConfig *c, RgTrainTask task)
{
  memset (c, 0, sizeof *c);
  c->task = task;
  g_assert (rg_model_config_preset ("nano-t2v", &c->model, NULL));
  c->seed = 1;
  c->weight_decay = 0.0;
  c->clip_grad = 1.0;
  c->ema_decay = 0.999;
  c->checkpoint_every = 200;
  c->sample_every = 500;
  c->keep_checkpoints = 2;
  if (task == RG_TRAIN_TAE)
    {
      c->batch = 4;
      c->lr = 1e-3;
      c->min_lr = 1e-4;
      c->warmup = 100;
      c->crop_frames = 8;
      c->crop_size = 32;
      c->l1_weight = 0.1;
      c->kl_weight = 1e-5;
      c->opl_weight = 0.1;
    }
  else
    {
      c->batch = 16;
      c->lr = 5e-4;
      c->min_lr = 5e-5;
      c->warmup = 100;
      c->text_dropout = 0.1;
      c->dataset_clips = 2048;
      c->t_mean = 0.0;
      c->t_std = 1.0;
      c->sample_steps = 32;
    }
}

typedef enum { INT, I64, U64, DBL } Kind;

typedef struct {
  const char *key;
  Kind        kind;
  gsize       offset;
  double      min, max;
  int         task; /* -1: both */
} Field;

#define FI(k, m, lo, hi, t) { k, INT, G_STRUCT_OFFSET (RgTrainConfig, m), lo, hi, t }
#define FL(k, m, lo, hi, t) { k, I64, G_STRUCT_OFFSET (RgTrainConfig, m), lo, hi, t }
#define FD(k, m, lo, hi, t) { k, DBL, G_STRUCT_OFFSET (RgTrainConfig, m), lo, hi, t }

static const Field fields[] = {
  { "seed", U64, G_STRUCT_OFFSET (RgTrainConfig, seed), 0, 9007199254740991.0, -1 },
  FI ("batch", batch, 1, 4096, -1),
  FD ("lr", lr, 1e-8, 1.0, -1),
  FD ("min_lr", min_lr, 0.0, 1.0, -1),
  FL ("warmup", warmup, 0, 1e9, -1),
  FD ("weight_decay", weight_decay, 0.0, 1.0, -1),
  FD ("clip_grad", clip_grad, 0.0, 1e6, -1),
  FD ("ema_decay", ema_decay, 0.0, 0.999999, -1),
  FL ("checkpoint_every", checkpoint_every, 1, 1e9, -1),
  FL ("sample_every", sample_every, 0, 1e9, -1),
  FI ("keep_checkpoints", keep_checkpoints, 0, 1000, -1),
  FI ("crop_frames", crop_frames, 0, 1024, RG_TRAIN_TAE),
  FI ("crop_size", crop_size, 0, 4096, RG_TRAIN_TAE),
  FD ("shape_crops", shape_crops, 0.0, 1.0, RG_TRAIN_TAE),
  FD ("bounce_clips", bounce_clips, 0.0, 1.0, -1),
  FD ("diagonal_clips", diagonal_clips, 0.0, 1.0, RG_TRAIN_T2V),
  FD ("l1_weight", l1_weight, 0.0, 100.0, RG_TRAIN_TAE),
  FD ("kl_weight", kl_weight, 0.0, 100.0, RG_TRAIN_TAE),
  FD ("opl_weight", opl_weight, 0.0, 100.0, RG_TRAIN_TAE),
  FI ("freeze_encoder", freeze_encoder, 0, 1, RG_TRAIN_TAE),
  FD ("latent_noise", latent_noise, 0.0, 10.0, RG_TRAIN_TAE),
  FD ("text_dropout", text_dropout, 0.0, 1.0, RG_TRAIN_T2V),
  FI ("dataset_clips", dataset_clips, 1, 1 << 24, RG_TRAIN_T2V),
  FD ("t_mean", t_mean, -10.0, 10.0, RG_TRAIN_T2V),
  FD ("t_std", t_std, 0.01, 10.0, RG_TRAIN_T2V),
  FD ("motion_loss", motion_loss, 0.0, 100.0, RG_TRAIN_T2V),
  FD ("object_loss", object_loss, 0.0, 100.0, RG_TRAIN_T2V),
  FI ("sample_steps", sample_steps, 1, 1000, RG_TRAIN_T2V),
};

static gboolean
invalid (GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError **error, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: %s", path, msg);
  return FALSE;
}

static gboolean
read_field (const Field *f, JsonNode *node, RgTrainConfig *c, const char *path, GError **error)
{
  if (JSON_NODE_HOLDS_VALUE (node) == FALSE
      || (json_node_get_value_type (node) != G_TYPE_INT64
          && json_node_get_value_type (node) != G_TYPE_DOUBLE))
    return invalid (error, path, "\"%s\" is not a number", f->key);
  double v = json_node_get_value_type (node) == G_TYPE_INT64 ? (double) json_node_get_int (node)
                                                             : json_node_get_double (node);
  if (!isfinite (v) || v < f->min || v > f->max)
    return invalid (error, path, "\"%s\" = %g is outside %g … %g", f->key, v, f->min, f->max);
  if (f->kind != DBL && v != floor (v))
    return invalid (error, path, "\"%s\" = %g is not a whole number", f->key, v);
  char *p = (char *) c + f->offset;
  switch (f->kind)
    {
    case INT: *(int *) p = (int) v; break;
    case I64: *(int64_t *) p = (int64_t) v; break;
    case U64: *(uint64_t *) p = (uint64_t) v; break;
    case DBL: *(double *) p = v; break;
    }
  return TRUE;
}

/* Sizes the TAE factors and the trainer rely on. */
static gboolean
check (const RgTrainConfig *c, const char *path, GError **error)
{
  int ft = rg_model_config_tae_time_factor (&c->model);
  int fs = rg_model_config_tae_space_factor (&c->model);
  if (c->min_lr > c->lr)
    return invalid (error, path, "min_lr %g exceeds lr %g", c->min_lr, c->lr);
  if (c->task == RG_TRAIN_TAE)
    {
      if (c->crop_frames % ft != 0 || c->crop_frames > c->model.video.frames)
        return invalid (error, path, "crop_frames %d must be a multiple of %d and at most %d",
                        c->crop_frames, ft, c->model.video.frames);
      int side = MIN (c->model.video.width, c->model.video.height);
      if (c->crop_size % fs != 0 || c->crop_size > side)
        return invalid (error, path, "crop_size %d must be a multiple of %d and at most %d",
                        c->crop_size, fs, side);
    }
  return TRUE;
}

gboolean
rg_train_config_load (const char *path, RgTrainConfig *c, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, path, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  JsonNode *root_node = json_parser_get_root (parser);
  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    return invalid (error, path, "the config is not a JSON object");
  JsonObject *root = json_node_get_object (root_node);
  RgTrainTask task = c->task;
  if (json_object_has_member (root, "task"))
    {
      const char *name = json_object_get_string_member_with_default (root, "task", "");
      if (!rg_train_task_from_name (name, &task, error))
        {
          g_prefix_error (error, "%s: ", path);
          return FALSE;
        }
    }
  rg_train_config_init (c, task);

  g_autoptr (GList) members = json_object_get_members (root);
  for (GList *m = members; m != NULL; m = m->next)
    {
      const char *key = m->data;
      JsonNode *node = json_object_get_member (root, key);
      if (strcmp (key, "task") == 0)
        continue;
      if (strcmp (key, "model") == 0)
        {
          if (JSON_NODE_HOLDS_VALUE (node)
              && json_node_get_value_type (node) == G_TYPE_STRING)
            {
              if (!rg_model_config_preset (json_node_get_string (node), &c->model, error))
                {
                  g_prefix_error (error, "%s: ", path);
                  return FALSE;
                }
            }
          else
            {
              g_autofree char *text = json_to_string (node, FALSE);
              if (!rg_model_config_from_json (text, &c->model, error))
                {
                  g_prefix_error (error, "%s: \"model\": ", path);
                  return FALSE;
                }
            }
          continue;
        }
      if ((strcmp (key, "tae") == 0 && task == RG_TRAIN_T2V) || strcmp (key, "init") == 0)
        {
          char *dest = strcmp (key, "init") == 0 ? c->init_path : c->tae_path;
          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
            return invalid (error, path, "\"%s\" is not a file name", key);
          const char *file = json_node_get_string (node);
          /* relative to the config file, so configs can ship beside data */
          g_autofree char *dir = g_path_get_dirname (path);
          g_autofree char *full = g_path_is_absolute (file) ? g_strdup (file)
                                                            : g_build_filename (dir, file, NULL);
          if (strlen (full) >= sizeof c->tae_path)
            return invalid (error, path, "\"%s\" is too long a path", key);
          g_strlcpy (dest, full, sizeof c->tae_path);
          continue;
        }
      const Field *f = NULL;
      for (guint i = 0; i < G_N_ELEMENTS (fields) && f == NULL; i++)
        if (strcmp (fields[i].key, key) == 0 && (fields[i].task < 0 || fields[i].task == (int) task))
          f = &fields[i];
      if (f == NULL)
        return invalid (error, path, "unknown key \"%s\" for a %s run", key,
                        rg_train_task_name (task));
      if (!read_field (f, node, c, path, error))
        return FALSE;
    }
  return check (c, path, error);
}

char *
rg_train_config_to_json (const RgTrainConfig *c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "task");
  json_builder_add_string_value (b, rg_train_task_name (c->task));
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      const Field *f = &fields[i];
      if (f->task >= 0 && f->task != (int) c->task)
        continue;
      const char *p = (const char *) c + f->offset;
      json_builder_set_member_name (b, f->key);
      switch (f->kind)
        {
        case INT: json_builder_add_int_value (b, *(const int *) p); break;
        case I64: json_builder_add_int_value (b, *(const int64_t *) p); break;
        case U64: json_builder_add_int_value (b, (gint64) *(const uint64_t *) p); break;
        case DBL: json_builder_add_double_value (b, *(const double *) p); break;
        }
    }
  /* files are named by their base names: the run may move */
  const char *files[2][2] = { { "tae", c->task == RG_TRAIN_T2V ? c->tae_path : "" },
                              { "init", c->init_path } };
  for (int i = 0; i < 2; i++)
    if (files[i][1][0] != '\0')
      {
        g_autofree char *base = g_path_get_basename (files[i][1]);
        json_builder_set_member_name (b, files[i][0]);
        json_builder_add_string_value (b, base);
      }
  g_autofree char *model = rg_model_config_to_json (&c->model);
  g_autoptr (JsonNode) mnode = json_from_string (model, NULL);
  json_builder_set_member_name (b, "model");
  json_builder_add_value (b, g_steal_pointer (&mnode));
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, TRUE);
}
