/* rg-checkpoint.c — save and exactly resume a training run. */
#include "train/rg-checkpoint.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-safetensors.h"

#define FORMAT_NAME "reelgen-train-checkpoint"

/* The tensor groups a checkpoint stores, per parameter name. */
static const char *const optim_groups[] = { "param/", "adam_m/", "adam_v/" };
#define EMA_GROUP "ema/"

static char *
fmt_double (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.17g", v));
}

static gboolean
rng_name_ok (const char *name)
{
  if (!name || !*name)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

/* Every scalar setting as metadata (key → value), built the same way for
 * saving and for checking on load, so that the comparison is of identical
 * spellings. Random-stream positions and counters that resume restores
 * (steps, updates, data position) are not included: they are state, not
 * settings. */
static GHashTable *
settings_table (const RgTrainState *s)
{
  GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const RgAdamWConfig *c = rg_adamw_get_config (s->optim);

#define PUT(k, v) g_hash_table_insert (t, g_strdup (k), (v))
  PUT ("config", g_strdup (s->config ? s->config : ""));
  PUT ("adamw.beta1", fmt_double (c->beta1));
  PUT ("adamw.beta2", fmt_double (c->beta2));
  PUT ("adamw.eps", fmt_double (c->eps));
  PUT ("adamw.weight_decay", fmt_double (c->weight_decay));

  /* which parameters skip decay changes the update, so it must match too */
  GString *no_decay = g_string_new (NULL);
  for (guint i = 0; i < rg_adamw_get_n_params (s->optim); i++)
    if (!rg_adamw_get_decays (s->optim, i))
      g_string_append_printf (no_decay, "%s%s", no_decay->len ? ", " : "",
                              rg_adamw_get_name (s->optim, i));
  PUT ("adamw.no_decay", g_string_free (no_decay, FALSE));

  if (s->lr)
    {
      PUT ("lr.base", fmt_double (s->lr->base_lr));
      PUT ("lr.min", fmt_double (s->lr->min_lr));
      PUT ("lr.warmup_steps", g_strdup_printf ("%" G_GINT64_FORMAT, s->lr->warmup_steps));
      PUT ("lr.total_steps", g_strdup_printf ("%" G_GINT64_FORMAT, s->lr->total_steps));
    }
  if (s->ema)
    {
      PUT ("ema.decay", fmt_double (rg_ema_get_decay (s->ema)));
      PUT ("ema.warmup", g_strdup (rg_ema_get_warmup (s->ema) ? "true" : "false"));
    }
  for (guint i = 0; i < s->n_rngs; i++)
    {
      g_autofree char *k1 = g_strdup_printf ("rng.%s.seed", s->rngs[i].name);
      g_autofree char *k2 = g_strdup_printf ("rng.%s.stream", s->rngs[i].name);
      PUT (k1, g_strdup_printf ("%" G_GUINT64_FORMAT, s->rngs[i].rng->seed));
      PUT (k2, g_strdup_printf ("%" G_GUINT64_FORMAT, s->rngs[i].rng->stream));
    }
  PUT ("rng.count", g_strdup_printf ("%u", s->n_rngs));
#undef PUT
  return t;
}

static gboolean
check_state (const RgTrainState *s, GError **error)
{
  if (!s->optim)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "checkpoint: the training state has no optimizer");
      return FALSE;
    }
  for (guint i = 0; i < s->n_rngs; i++)
    if (!rng_name_ok (s->rngs[i].name) || !s->rngs[i].rng)
      {
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "checkpoint: random stream %u (\"%s\") needs a name of [A-Za-z0-9_-] and "
                     "a generator",
                     i, s->rngs[i].name ? s->rngs[i].name : "");
        return FALSE;
      }
  return TRUE;
}

static char *
tensor_sha256 (RgTensor *t)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, t->data, rg_tensor_nbytes (t));
}

static gboolean
add_tensor (RgSafetensorsWriter *w, const char *group, const char *name, RgTensor *t,
            GError **error)
{
  g_autofree char *key = g_strconcat (group, name, NULL);
  g_autofree char *sum_key = g_strconcat ("sha256.", key, NULL);
  g_autofree char *sum = tensor_sha256 (t);

  rg_safetensors_writer_set_metadata (w, sum_key, sum);
  return rg_safetensors_writer_add (w, key, t, RG_F32, error);
}

static char *
step_file_name (int64_t step)
{
  return g_strdup_printf ("step-%08" G_GINT64_FORMAT ".safetensors", step);
}

/* The step of a file named like step_file_name, or -1. */
static int64_t
parse_step_file_name (const char *name)
{
  if (!g_str_has_prefix (name, "step-") || !g_str_has_suffix (name, ".safetensors"))
    return -1;
  g_autofree char *digits = g_strndup (name + 5, strlen (name) - 5 - strlen (".safetensors"));
  guint64 v;
  if (!*digits || !g_ascii_string_to_unsigned (digits, 10, 0, G_MAXINT64, &v, NULL))
    return -1;
  return (int64_t)v;
}

static gint
cmp_int64_desc (gconstpointer a, gconstpointer b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x < y) - (x > y);
}

/* Old checkpoints are removed only after `latest` points at the new one, so
 * a failure here never loses the resumable state (the caller only warns).
 * The file just written counts as one of the `keep` and is never removed,
 * even when the directory holds later steps from an earlier run. */
static gboolean
prune (const char *dir, guint keep, int64_t current, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (!d)
    return FALSE;

  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (int64_t));
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      int64_t step = parse_step_file_name (name);
      if (step >= 0)
        g_array_append_val (steps, step);
    }
  g_array_sort (steps, cmp_int64_desc);

  guint kept = 1;
  for (guint i = 0; i < steps->len; i++)
    {
      int64_t step = g_array_index (steps, int64_t, i);
      if (step == current || kept++ < keep)
        continue;
      g_autofree char *base = step_file_name (step);
      g_autofree char *path = g_build_filename (dir, base, NULL);
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int e = errno;
          g_set_error (error, RG_ERROR, RG_ERROR_IO, "cannot remove old checkpoint %s: %s", path,
                       g_strerror (e));
          return FALSE;
        }
    }
  return TRUE;
}

char *
rg_checkpoint_save (const char *dir, const RgTrainState *s, guint keep, GError **error)
{
  if (!check_state (s, error))
    return NULL;
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "cannot create checkpoint directory %s: %s", dir,
                   g_strerror (e));
      return NULL;
    }

  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  RgAdamW *opt = s->optim;
  for (guint i = 0; i < rg_adamw_get_n_params (opt); i++)
    {
      const char *name = rg_adamw_get_name (opt, i);
      if (!add_tensor (w, optim_groups[0], name, rg_adamw_get_weight (opt, i), error)
          || !add_tensor (w, optim_groups[1], name, rg_adamw_get_m (opt, i), error)
          || !add_tensor (w, optim_groups[2], name, rg_adamw_get_v (opt, i), error))
        return NULL;
    }
  for (guint i = 0; s->ema && i < rg_ema_get_n (s->ema); i++)
    if (!add_tensor (w, EMA_GROUP, rg_ema_get_name (s->ema, i), rg_ema_get_shadow (s->ema, i),
                     error))
      return NULL;

  g_autoptr (GHashTable) settings = settings_table (s);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, settings);
  while (g_hash_table_iter_next (&it, &k, &v))
    rg_safetensors_writer_set_metadata (w, k, v);

  g_autofree char *version = g_strdup_printf ("%d", RG_CHECKPOINT_FORMAT_VERSION);
  g_autofree char *step = g_strdup_printf ("%" G_GINT64_FORMAT, rg_adamw_get_step (opt));
  g_autofree char *data_pos = g_strdup_printf ("%" G_GUINT64_FORMAT, s->data_position);
  rg_safetensors_writer_set_metadata (w, "format", FORMAT_NAME);
  rg_safetensors_writer_set_metadata (w, "format_version", version);
  rg_safetensors_writer_set_metadata (w, "step", step);
  rg_safetensors_writer_set_metadata (w, "data.position", data_pos);
  if (s->ema)
    {
      g_autofree char *updates = g_strdup_printf ("%" G_GINT64_FORMAT, rg_ema_get_updates (s->ema));
      rg_safetensors_writer_set_metadata (w, "ema.updates", updates);
    }
  for (guint i = 0; i < s->n_rngs; i++)
    {
      g_autofree char *key = g_strdup_printf ("rng.%s.index", s->rngs[i].name);
      g_autofree char *val = g_strdup_printf ("%" G_GUINT64_FORMAT, s->rngs[i].rng->index);
      rg_safetensors_writer_set_metadata (w, key, val);
    }

  g_autofree char *base = step_file_name (rg_adamw_get_step (opt));
  g_autofree char *path = g_build_filename (dir, base, NULL);
  if (!rg_safetensors_writer_save (w, path, error))
    return NULL;

  g_autofree char *latest = g_build_filename (dir, "latest", NULL);
  g_autofree char *line = g_strconcat (base, "\n", NULL);
  if (!g_file_set_contents (latest, line, -1, error))
    return NULL;

  if (keep > 0)
    {
      g_autoptr (GError) prune_error = NULL;
      if (!prune (dir, keep, rg_adamw_get_step (opt), &prune_error))
        g_warning ("%s", prune_error->message);
    }
  return g_steal_pointer (&path);
}

char *
rg_checkpoint_latest (const char *dir, GError **error)
{
  g_autofree char *latest = g_build_filename (dir, "latest", NULL);
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_test (latest, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "no checkpoint in %s (no \"latest\" file)",
                   dir);
      return NULL;
    }
  if (!g_file_get_contents (latest, &text, &len, error))
    return NULL;

  /* `latest` names a file in the same directory and nothing else: a
   * hostile or damaged pointer must not lead the loader elsewhere. */
  gboolean has_nul = memchr (text, '\0', len) != NULL;
  g_strstrip (text);
  if (has_nul || parse_step_file_name (text) < 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s does not name a checkpoint file (step-NNNNNNNN.safetensors)", latest);
      return NULL;
    }

  char *path = g_build_filename (dir, text, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "%s names %s, which does not exist", latest,
                   path);
      g_free (path);
      return NULL;
    }
  return path;
}

static const char *
meta (RgSafetensors *st, const char *key, GError **error)
{
  const char *v = rg_safetensors_get_metadata (st, key);
  if (!v)
    g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "checkpoint %s lacks \"%s\"",
                 rg_safetensors_get_path (st), key);
  return v;
}

static gboolean
meta_u64 (RgSafetensors *st, const char *key, guint64 max, guint64 *out, GError **error)
{
  const char *v = meta (st, key, error);
  if (!v)
    return FALSE;
  if (!g_ascii_string_to_unsigned (v, 10, 0, max, out, NULL))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "checkpoint %s: \"%s\" is not a count: %s",
                   rg_safetensors_get_path (st), key, v);
      return FALSE;
    }
  return TRUE;
}

/* 1-based line where two texts first differ, for a config mismatch message. */
static guint
first_diff_line (const char *a, const char *b)
{
  guint line = 1;
  for (; *a && *a == *b; a++, b++)
    if (*a == '\n')
      line++;
  return line;
}

static gboolean
check_settings (RgSafetensors *st, const RgTrainState *s, GError **error)
{
  const char *path = rg_safetensors_get_path (st);
  g_autoptr (GHashTable) want = settings_table (s);

  const char *config = meta (st, "config", error);
  if (!config)
    return FALSE;
  const char *run_config = g_hash_table_lookup (want, "config");
  if (strcmp (config, run_config) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "checkpoint %s was made with a different config (first difference on line %u)",
                   path, first_diff_line (config, run_config));
      return FALSE;
    }

  /* rng.count first, so a different set of streams is named as such */
  const char *count = meta (st, "rng.count", error);
  if (!count)
    return FALSE;
  if (strcmp (count, g_hash_table_lookup (want, "rng.count")) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "checkpoint %s has %s random streams, the run has %u", path, count, s->n_rngs);
      return FALSE;
    }

  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, want);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      const char *have = rg_safetensors_get_metadata (st, k);
      if (!have)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "checkpoint %s has no \"%s\", which the run sets to %s", path,
                       (const char *)k, (const char *)v);
          return FALSE;
        }
      if (strcmp (have, v) != 0)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "checkpoint %s has %s = %s, the run has %s", path, (const char *)k, have,
                       (const char *)v);
          return FALSE;
        }
    }

  /* settings the checkpoint has but the run lacks (an EMA or schedule that
   * the run dropped) */
  static const char *const optional[] = { "lr.base", "ema.decay" };
  for (guint i = 0; i < G_N_ELEMENTS (optional); i++)
    if (rg_safetensors_get_metadata (st, optional[i]) && !g_hash_table_contains (want, optional[i]))
      {
        g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                     "checkpoint %s has \"%s\" but the run has no %s", path, optional[i],
                     i == 0 ? "learning-rate schedule" : "EMA");
        return FALSE;
      }
  return TRUE;
}

/* The stored tensor for key, checked to be f32 of target's shape and to
 * match its checksum; NULL with an error otherwise. */
static RgTensor *
checked_tensor (RgSafetensors *st, const char *key, RgTensor *target, GError **error)
{
  const char *path = rg_safetensors_get_path (st);

  if (!rg_safetensors_contains (st, key))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "checkpoint %s has no tensor \"%s\" (the run has that parameter)", path, key);
      return NULL;
    }
  g_autoptr (RgTensor) t = rg_safetensors_get (st, key, error);
  if (!t)
    return NULL;
  if (t->dtype != RG_F32)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "checkpoint %s: tensor \"%s\" is not F32",
                   path, key);
      return NULL;
    }
  if (!rg_tensor_same_shape (t, target))
    {
      g_autofree char *have = rg_tensor_shape_string (t);
      g_autofree char *want = rg_tensor_shape_string (target);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "checkpoint %s: tensor \"%s\" is %s, the run's is %s", path, key, have, want);
      return NULL;
    }

  g_autofree char *sum_key = g_strconcat ("sha256.", key, NULL);
  const char *want_sum = meta (st, sum_key, error);
  if (!want_sum)
    return NULL;
  g_autofree char *sum = tensor_sha256 (t);
  if (strcmp (sum, want_sum) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "checkpoint %s: tensor \"%s\" is damaged (its SHA-256 does not match)", path,
                   key);
      return NULL;
    }
  return g_steal_pointer (&t);
}

gboolean
rg_checkpoint_load (const char *path, RgTrainState *s, GError **error)
{
  if (!check_state (s, error))
    return FALSE;

  g_autoptr (RgSafetensors) st = rg_safetensors_open (path, error);
  if (!st)
    return FALSE;

  const char *format = rg_safetensors_get_metadata (st, "format");
  if (!format || strcmp (format, FORMAT_NAME) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s is a safetensors file but not a Reelgen training checkpoint", path);
      return FALSE;
    }
  guint64 version;
  if (!meta_u64 (st, "format_version", G_MAXINT, &version, error))
    return FALSE;
  if (version > RG_CHECKPOINT_FORMAT_VERSION)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_VERSION,
                   "checkpoint %s has format version %" G_GUINT64_FORMAT
                   "; this Reelgen reads up to %d",
                   path, version, RG_CHECKPOINT_FORMAT_VERSION);
      return FALSE;
    }

  if (!check_settings (st, s, error))
    return FALSE;

  guint64 step, data_pos, ema_updates = 0;
  if (!meta_u64 (st, "step", G_MAXINT64, &step, error)
      || !meta_u64 (st, "data.position", G_MAXUINT64, &data_pos, error)
      || (s->ema && !meta_u64 (st, "ema.updates", G_MAXINT64, &ema_updates, error)))
    return FALSE;
  g_autofree guint64 *rng_index = g_new0 (guint64, MAX (s->n_rngs, 1));
  for (guint i = 0; i < s->n_rngs; i++)
    {
      g_autofree char *key = g_strdup_printf ("rng.%s.index", s->rngs[i].name);
      if (!meta_u64 (st, key, G_MAXUINT64, &rng_index[i], error))
        return FALSE;
    }

  /* Collect every tensor first; the run is only touched once all of them
   * passed. */
  RgAdamW *opt = s->optim;
  guint n_params = rg_adamw_get_n_params (opt);
  guint n_ema = s->ema ? rg_ema_get_n (s->ema) : 0;
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify)rg_tensor_unref);
  g_autoptr (GPtrArray) targets = g_ptr_array_new ();

  for (guint i = 0; i < n_params; i++)
    {
      RgTensor *dst[3]
          = { rg_adamw_get_weight (opt, i), rg_adamw_get_m (opt, i), rg_adamw_get_v (opt, i) };
      for (guint g = 0; g < 3; g++)
        {
          g_autofree char *key = g_strconcat (optim_groups[g], rg_adamw_get_name (opt, i), NULL);
          RgTensor *src = checked_tensor (st, key, dst[g], error);
          if (!src)
            return FALSE;
          g_ptr_array_add (sources, src);
          g_ptr_array_add (targets, dst[g]);
        }
    }
  for (guint i = 0; i < n_ema; i++)
    {
      g_autofree char *key = g_strconcat (EMA_GROUP, rg_ema_get_name (s->ema, i), NULL);
      RgTensor *src = checked_tensor (st, key, rg_ema_get_shadow (s->ema, i), error);
      if (!src)
        return FALSE;
      g_ptr_array_add (sources, src);
      g_ptr_array_add (targets, rg_ema_get_shadow (s->ema, i));
    }
  if (rg_safetensors_get_n_tensors (st) != sources->len)
    {
      /* name one tensor the run does not have */
      for (guint i = 0; i < rg_safetensors_get_n_tensors (st); i++)
        {
          const char *name = rg_safetensors_get_name (st, i);
          const char *slash = strchr (name, '/');
          gboolean known = FALSE;
          if (slash && g_str_has_prefix (name, EMA_GROUP))
            known = s->ema && rg_ema_lookup (s->ema, slash + 1);
          else if (slash)
            known = rg_adamw_find (opt, slash + 1) >= 0;
          if (!known)
            {
              g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                           "checkpoint %s has tensor \"%s\", which the run does not have", path,
                           name);
              return FALSE;
            }
        }
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "checkpoint %s has %u tensors, expected %u",
                   path, rg_safetensors_get_n_tensors (st), sources->len);
      return FALSE;
    }

  for (guint i = 0; i < sources->len; i++)
    rg_tensor_copy (targets->pdata[i], sources->pdata[i]);
  rg_adamw_set_step (opt, (int64_t)step);
  if (s->ema)
    rg_ema_set_updates (s->ema, (int64_t)ema_updates);
  for (guint i = 0; i < s->n_rngs; i++)
    s->rngs[i].rng->index = rng_index[i];
  s->data_position = data_pos;
  return TRUE;
}

gboolean
rg_checkpoint_resume (const char *dir, RgTrainState *s, GError **error)
{
  g_autofree char *path = rg_checkpoint_latest (dir, error);
  if (!path)
    return FALSE;
  return rg_checkpoint_load (path, s, error);
}

gboolean
rg_checkpoint_export_weights (const RgTrainState *s, const char *path, RgDType dtype,
                              GHashTable *metadata, GError **error)
{
  if (!check_state (s, error))
    return FALSE;
  if (dtype != RG_F32 && dtype != RG_BF16 && dtype != RG_F16)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "exporting %s: weights are stored as F32, BF16 or F16", path);
      return FALSE;
    }

  g_autoptr (RgSafetensorsWriter) w = rg_safetensors_writer_new ();
  for (guint i = 0; i < rg_adamw_get_n_params (s->optim); i++)
    {
      const char *name = rg_adamw_get_name (s->optim, i);
      RgTensor *t = s->ema ? rg_ema_lookup (s->ema, name) : NULL;
      if (!rg_safetensors_writer_add (w, name, t ? t : rg_adamw_get_weight (s->optim, i), dtype,
                                      error))
        return FALSE;
    }
  if (metadata)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, metadata);
      while (g_hash_table_iter_next (&it, &k, &v))
        rg_safetensors_writer_set_metadata (w, k, v);
    }
  return rg_safetensors_writer_save (w, path, error);
}
