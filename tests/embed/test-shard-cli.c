/* test-shard-cli.c — `reelgen shard` as a user meets it: output, files, refusals. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

static char *tmpdir;

/* Runs $REELGEN shard ARGS…; returns the exit status, stdout and stderr. */
static int
shard (char **out, char **err, const char *first, ...)
{
  const char *reelgen = g_getenv ("REELGEN");
  g_assert_nonnull (reelgen);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) reelgen);
  g_ptr_array_add (argv, (char *) "shard");
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  /* Under LeakSanitizer: fontconfig (behind cairo's text) keeps a few
   * process-lifetime allocations it never frees; they are not ours. */
  g_autofree char *supp = g_build_filename (tmpdir, "lsan.supp", NULL);
  g_assert_true (g_file_set_contents (supp, "leak:libfontconfig.so\n", -1, NULL));
  g_autofree char *lsan = g_strdup_printf ("suppressions=%s", supp);
  g_auto (GStrv) envp = g_environ_setenv (g_get_environ (), "LSAN_OPTIONS", lsan, TRUE);
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL, out,
                               err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

#define SMALL "--tables", "3", "--rows-scale", "0.02", "--batch", "64", "--batches", "4", \
              "--profile-batches", "2"

static void
test_profile_json_and_trace_file (void)
{
  g_autofree char *trace = g_build_filename (tmpdir, "t.rgtrace", NULL);
  g_autofree char *png = g_build_filename (tmpdir, "cdf.png", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (shard (&out, &err, "profile", SMALL, "--json", "--save-trace", trace, "--png",
                          png, NULL),
                   ==, 0);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, out, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (o, "tables")), ==, 3);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));

  /* Replaying the saved trace gives the same profile. */
  g_autofree char *again = NULL, *err2 = NULL;
  g_assert_cmpint (shard (&again, &err2, "profile", "--trace", trace, "--profile-batches", "2",
                          "--json", NULL),
                   ==, 0);
  g_assert_cmpstr (again, ==, out);

  /* A damaged copy is refused with the file named. */
  gchar *raw = NULL;
  gsize  len = 0;
  g_assert_true (g_file_get_contents (trace, &raw, &len, NULL));
  g_autofree char *cut = g_build_filename (tmpdir, "cut.rgtrace", NULL);
  g_assert_true (g_file_set_contents (cut, raw, (gssize) (len / 2), NULL));
  g_free (raw);
  g_autofree char *o3 = NULL, *e3 = NULL;
  g_assert_cmpint (shard (&o3, &e3, "profile", "--trace", cut, NULL), ==, 1);
  g_assert_nonnull (strstr (e3, "cut.rgtrace"));
  g_assert_true (strstr (e3, "truncated") || strstr (e3, "bytes left"));
}

static void
test_plan_fit_and_simulate (void)
{
  g_autofree char *plan = g_build_filename (tmpdir, "p.json", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (shard (&out, &err, "plan", SMALL, "--scheme", "recshard", "--nodes", "1",
                          "--devices", "2", "-o", plan, NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "fits"));
  g_autofree char *o2 = NULL, *e2 = NULL;
  g_assert_cmpint (shard (&o2, &e2, "simulate", SMALL, "--nodes", "1", "--devices", "2", "--plan",
                          plan, "--scheme", "row-wise", "--json", NULL),
                   ==, 0);
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, o2, -1, NULL));
  g_assert_cmpint (json_array_get_length (json_node_get_array (json_parser_get_root (p))), ==, 2);

  /* Row-wise with 1 KiB of slow memory per device cannot hold the spill. */
  g_autofree char *o3 = NULL, *e3 = NULL;
  g_assert_cmpint (shard (&o3, &e3, "plan", SMALL, "--scheme", "row-wise", "--fast-bytes", "1024",
                          "--slow-bytes", "1024", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (e3, "short by"));
  g_assert_nonnull (strstr (e3, "device 0"));

  g_autofree char *o4 = NULL, *e4 = NULL;
  g_assert_cmpint (shard (&o4, &e4, "plan", SMALL, "--scheme", "spiral", NULL), ==, 1);
  g_assert_nonnull (strstr (e4, "spiral"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("rg-shard-cli-XXXXXX", NULL);
  g_test_add_func ("/embed/shard-cli/profile", test_profile_json_and_trace_file);
  g_test_add_func ("/embed/shard-cli/plan-simulate", test_plan_fit_and_simulate);
  int rc = g_test_run ();
  const char *names[] = { "t.rgtrace", "cdf.png", "cut.rgtrace", "p.json", "lsan.supp", NULL };
  for (int i = 0; names[i]; i++)
    {
      g_autofree char *f = g_build_filename (tmpdir, names[i], NULL);
      g_unlink (f);
    }
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return rc;
}
