/* test-model-cli.c — `reelgen model init` and `reelgen model info` as a user
 * runs them: exit codes, the written checkpoint, and what info reports. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

typedef struct {
  int   status;
  char *out, *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

static Run
reelgen (const char *first, ...)
{
  const char *exe = g_getenv ("REELGEN");
  g_assert_nonnull (exe);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) exe);
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  Run r = { 0 };
  int wait_status;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &wait_status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  r.status = WEXITSTATUS (wait_status);
  return r;
}

static void
test_init_and_info (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rg-model-cli-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "nano.safetensors", NULL);

  Run init = reelgen ("model", "init", "--config", "nano-t2v", "--seed", "5", "--dtype", "bf16",
                      "-o", path, NULL);
  g_assert_cmpint (init.status, ==, 0);
  g_assert_nonnull (strstr (init.out, "nano-t2v"));
  run_clear (&init);

  Run info = reelgen ("model", "info", path, "--json", NULL);
  g_assert_cmpint (info.status, ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, info.out, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (o, "valid"));
  JsonObject *parts = json_object_get_object_member (o, "parts");
  gint64 dit = json_object_get_int_member (parts, "dit");
  g_assert_cmpint (dit, >, 5000000);
  g_assert_cmpint (dit, <, 7000000);
  g_assert_cmpint (json_object_get_int_member (o, "parameters"), ==,
                   dit + json_object_get_int_member (parts, "text")
                       + json_object_get_int_member (parts, "tae"));
  JsonObject *dtypes = json_object_get_object_member (o, "dtypes");
  g_assert_true (json_object_has_member (dtypes, "BF16"));
  g_assert_cmpuint (json_object_get_size (dtypes), ==, 1);
  JsonObject *config = json_object_get_object_member (o, "config");
  g_assert_cmpstr (json_object_get_string_member (config, "name"), ==, "nano-t2v");
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "file_size"), ==, st.st_size);
  JsonArray *tensors = json_object_get_array_member (o, "tensors");
  g_assert_cmpuint (json_array_get_length (tensors), >, 100);
  run_clear (&info);

  /* the human-readable form lists tensors with their shapes */
  Run text = reelgen ("model", "info", path, NULL);
  g_assert_cmpint (text.status, ==, 0);
  g_assert_nonnull (strstr (text.out, "dit.blocks.0.self_attn.q.weight"));
  g_assert_nonnull (strstr (text.out, "[256, 256]"));
  run_clear (&text);

  /* a damaged checkpoint: a clear error naming the file, exit 1 */
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (path, contents, (gssize) len - 3, NULL));
  Run broken = reelgen ("model", "info", path, NULL);
  g_assert_cmpint (broken.status, ==, 1);
  g_assert_nonnull (strstr (broken.err, path));
  g_assert_nonnull (strstr (broken.err, "truncated file"));
  run_clear (&broken);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_usage_errors (void)
{
  Run bad = reelgen ("model", "init", "--config", "nano-t9v", "-o", "/tmp/never.safetensors",
                     NULL);
  g_assert_cmpint (bad.status, ==, 1);
  g_assert_nonnull (strstr (bad.err, "no model preset named 'nano-t9v'"));
  g_assert_false (g_file_test ("/tmp/never.safetensors", G_FILE_TEST_EXISTS));
  run_clear (&bad);

  Run missing = reelgen ("model", "init", "--config", "nano-t2v", NULL);
  g_assert_cmpint (missing.status, ==, 2);
  run_clear (&missing);

  Run dtype = reelgen ("model", "init", "--config", "nano-t2v", "--dtype", "f64", "-o",
                       "/tmp/never.safetensors", NULL);
  g_assert_cmpint (dtype.status, ==, 2);
  run_clear (&dtype);

  Run none = reelgen ("model", NULL);
  g_assert_cmpint (none.status, ==, 2);
  g_assert_nonnull (strstr (none.err, "usage"));
  run_clear (&none);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model-cli/init-and-info", test_init_and_info);
  g_test_add_func ("/model-cli/usage-errors", test_usage_errors);
  return g_test_run ();
}
