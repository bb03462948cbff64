/* cmd-model.c — `reelgen model init|info|convert`: make, inspect and
 * re-store checkpoints. */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "core/rg-error.h"
#include "core/rg-safetensors.h"
#include "models/rg-model.h"
#include "rg-cli.h"

static const char *const parts[] = { "text", "tae", "dit" };

/* --config: a preset name, or a JSON file holding a config. */
static gboolean
resolve_config (const char *arg, RgModelConfig *config, GError **error)
{
  if (!g_file_test (arg, G_FILE_TEST_IS_REGULAR))
    return rg_model_config_preset (arg, config, error);
  g_autofree char *json = NULL;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (arg, &json, NULL, &local))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  if (!rg_model_config_from_json (json, config, &local))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: %s", arg, local->message);
      return FALSE;
    }
  return TRUE;
}

/* --dtype: f32 (the default when arg is NULL), bf16 or f16. */
static gboolean
parse_dtype (const char *command, const char *arg, RgDType *dtype)
{
  if (arg == NULL)
    return TRUE;
  g_autofree char *up = g_ascii_strup (arg, -1);
  if (!rg_dtype_from_name (up, dtype) || (*dtype != RG_F32 && *dtype != RG_BF16
                                          && *dtype != RG_F16))
    {
      g_printerr ("reelgen %s: --dtype must be f32, bf16 or f16, not '%s'\n", command, arg);
      return FALSE;
    }
  return TRUE;
}

static int
model_init (int argc, char **argv)
{
  g_autofree char *config_arg = NULL, *output = NULL, *dtype_arg = NULL;
  gint64 seed = 0;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_STRING, &config_arg,
      "Preset (nano-t2v, moviegen-1b …) or a JSON config file", "NAME" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 0)", "N" },
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_arg, "Stored dtype: f32 (default), bf16, f16",
      "TYPE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Checkpoint to write", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("— write a seeded random-init model");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autofree char *presets = g_strjoinv (", ", (char **) rg_model_config_preset_names ());
  g_autofree char *desc = g_strdup_printf ("Presets: %s", presets);
  g_option_context_set_description (ctx, desc);
  if (!rg_cli_parse (ctx, &argc, &argv, "model init"))
    return 2;
  if (config_arg == NULL || output == NULL || argc > 1)
    {
      g_printerr ("reelgen model init: --config and -o are required\n"
                  "(see reelgen model init --help)\n");
      return 2;
    }
  RgDType dtype = RG_F32;
  if (!parse_dtype ("model init", dtype_arg, &dtype))
    return 2;
  GError *error = NULL;
  RgModelConfig config;
  if (!resolve_config (config_arg, &config, &error))
    return rg_cli_fail ("model init", error);
  g_autoptr (RgModel) model = rg_model_init (&config, (guint64) seed, &error);
  if (model == NULL || !rg_model_save (model, output, dtype, &error))
    return rg_cli_fail ("model init", error);
  printf ("wrote %s: %s, %" G_GINT64_FORMAT " parameters (%s, seed %" G_GINT64_FORMAT ")\n",
          output, config.name, rg_model_count_params (model, NULL), rg_dtype_name (dtype), seed);
  return 0;
}

typedef struct {
  int64_t params;
  guint   tensors;
} PartCount;

static void
print_json (RgSafetensors *st, const char *config_json, int64_t total, const PartCount *count,
            GHashTable *dtypes, const char *check_error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, rg_safetensors_get_path (st));
  json_builder_set_member_name (b, "file_size");
  json_builder_add_int_value (b, (gint64) rg_safetensors_get_file_size (st));
  json_builder_set_member_name (b, "parameters");
  json_builder_add_int_value (b, total);
  json_builder_set_member_name (b, "parts");
  json_builder_begin_object (b);
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      json_builder_set_member_name (b, parts[i]);
      json_builder_add_int_value (b, count[i].params);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "dtypes");
  json_builder_begin_object (b);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, dtypes);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      json_builder_set_member_name (b, k);
      json_builder_add_int_value (b, GPOINTER_TO_INT (v));
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "config");
  g_autoptr (JsonNode) cfg = config_json ? json_from_string (config_json, NULL) : NULL;
  if (cfg != NULL)
    json_builder_add_value (b, g_steal_pointer (&cfg));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "valid");
  json_builder_add_boolean_value (b, check_error == NULL);
  if (check_error != NULL)
    {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, check_error);
    }
  json_builder_set_member_name (b, "tensors");
  json_builder_begin_array (b);
  for (guint i = 0; i < rg_safetensors_get_n_tensors (st); i++)
    {
      const char *name = rg_safetensors_get_name (st, i), *dname;
      int ndim;
      int64_t shape[RG_MAX_DIMS];
      rg_safetensors_describe (st, name, &dname, &ndim, shape, NULL, NULL);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, dname);
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < ndim; d++)
        json_builder_add_int_value (b, shape[d]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  g_autofree char *text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}

static int
model_info (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE — describe a checkpoint");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "model info"))
    return 2;
  if (argc != 2)
    {
      g_printerr ("reelgen model info: give one checkpoint file\n");
      return 2;
    }
  const char *path = argv[1];
  GError *error = NULL;
  g_autoptr (RgSafetensors) st = rg_safetensors_open (path, &error);
  if (st == NULL)
    return rg_cli_fail ("model info", error);

  int64_t total = 0;
  PartCount count[G_N_ELEMENTS (parts)] = { { 0 } };
  g_autoptr (GHashTable) dtypes = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < rg_safetensors_get_n_tensors (st); i++)
    {
      const char *name = rg_safetensors_get_name (st, i), *dname;
      int ndim;
      int64_t shape[RG_MAX_DIMS], n = 1;
      rg_safetensors_describe (st, name, &dname, &ndim, shape, NULL, NULL);
      for (int d = 0; d < ndim; d++)
        n *= shape[d];
      total += n;
      for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
        if (g_str_has_prefix (name, parts[p]) && name[strlen (parts[p])] == '.')
          {
            count[p].params += n;
            count[p].tensors++;
          }
      g_hash_table_insert (dtypes, (gpointer) dname,
                           GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (dtypes, dname))
                                            + 1));
    }

  /* a full load checks every tensor against the config */
  g_autoptr (GError) check = NULL;
  g_autoptr (RgModel) model = rg_model_load (path, &check);
  const char *config_json = rg_safetensors_get_metadata (st, RG_MODEL_CONFIG_KEY);

  if (json)
    print_json (st, config_json, total, count, dtypes, check ? check->message : NULL);
  else
    {
      printf ("file: %s (%.1f MB)\n", path, rg_safetensors_get_file_size (st) / 1e6);
      if (model != NULL)
        printf ("model: %s\n", rg_model_get_config (model)->name);
      printf ("parameters: %" G_GINT64_FORMAT "\n", total);
      for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
        printf ("  %-5s %12" G_GINT64_FORMAT " in %u tensors\n", parts[p], count[p].params,
                count[p].tensors);
      printf ("dtypes:");
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, dtypes);
      while (g_hash_table_iter_next (&it, &k, &v))
        printf (" %s ×%d", (const char *) k, GPOINTER_TO_INT (v));
      printf ("\nconfig: %s\n", config_json ? config_json : "(none: not a Reelgen model)");
      printf ("tensors:\n");
      for (guint i = 0; i < rg_safetensors_get_n_tensors (st); i++)
        {
          const char *name = rg_safetensors_get_name (st, i), *dname;
          int ndim;
          int64_t shape[RG_MAX_DIMS];
          rg_safetensors_describe (st, name, &dname, &ndim, shape, NULL, NULL);
          g_autoptr (GString) s = g_string_new ("[");
          for (int d = 0; d < ndim; d++)
            g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
          g_string_append_c (s, ']');
          printf ("  %-48s %-5s %s\n", name, dname, s->str);
        }
    }
  if (check != NULL)
    {
      g_printerr ("reelgen model info: %s\n", check->message);
      return 1;
    }
  return 0;
}

/* Re-store a model (or one part of it) in another dtype: how the shipped
 * bf16 checkpoints are made from a training run's f32 model.safetensors. */
static int
model_convert (int argc, char **argv)
{
  g_autofree char *output = NULL, *dtype_arg = NULL, *part = NULL, *tae = NULL;
  GOptionEntry entries[] = {
    { "tae", 0, 0, G_OPTION_ARG_FILENAME, &tae,
      "Take the TAE's weights from this model or part file (e.g. a decoder fine-tuned with "
      "the encoder frozen)", "FILE" },
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &dtype_arg, "Stored dtype: f32 (default), bf16, f16",
      "TYPE" },
    { "part", 0, 0, G_OPTION_ARG_STRING, &part,
      "Keep only one part: text, tae or dit (a part file)", "PART" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "File to write", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL — store a model in another dtype");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "model convert"))
    return 2;
  RgDType dtype = RG_F32;
  if (argc != 2 || output == NULL)
    {
      g_printerr ("reelgen model convert: give one MODEL and -o FILE\n");
      return 2;
    }
  if (!parse_dtype ("model convert", dtype_arg, &dtype))
    return 2;
  g_autofree char *prefix = NULL;
  for (guint i = 0; part != NULL && i < G_N_ELEMENTS (parts); i++)
    if (strcmp (part, parts[i]) == 0)
      prefix = g_strconcat (part, ".", NULL);
  if (part != NULL && prefix == NULL)
    {
      g_printerr ("reelgen model convert: --part must be text, tae or dit, not '%s'\n", part);
      return 2;
    }
  GError *error = NULL;
  g_autoptr (RgModel) model = tae ? rg_model_load_writable (argv[1], &error)
                                  : rg_model_load (argv[1], &error);
  if (model == NULL || (tae != NULL && !rg_model_load_part (model, tae, "tae.", &error))
      || !rg_model_save_part (model, output, prefix, dtype, &error))
    return rg_cli_fail ("model convert", error);
  printf ("wrote %s: %s%s%s, %" G_GINT64_FORMAT " parameters (%s)\n", output,
          rg_model_get_config (model)->name, part ? ", part " : "", part ? part : "",
          rg_model_count_params (model, part), rg_dtype_name (dtype));
  return 0;
}

int
rg_cmd_model_main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "init") == 0)
    return model_init (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "info") == 0)
    return model_info (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "convert") == 0)
    return model_convert (argc - 1, argv + 1);
  g_printerr ("usage: reelgen model init --config NAME [--seed N] [--dtype f32|bf16|f16] -o FILE\n"
              "       reelgen model info FILE [--json]\n");
  return 2;
}
