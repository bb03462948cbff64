/* test-train-cli.c — `reelgen train` as a user drives it: usage errors,
 * a bad config, Ctrl-C (a checkpoint is written, exit status 130), and a
 * second run into the same directory without --resume (refused). */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tmp_dir;

/* A tiny tae run: 32×32 clips of 8 frames through an 8-channel TAE. */
static const char tiny_config[] =
    "{\"task\": \"tae\", \"batch\": 1, \"crop_frames\": 4, \"crop_size\": 16, "
    "\"checkpoint_every\": 1000000, \"sample_every\": 0, \"model\": {\"name\": \"tiny\", "
    "\"norm_eps\": 1e-6, \"video\": {\"frames\": 8, \"height\": 32, \"width\": 32, \"fps\": 8}, "
    "\"text\": {\"vocab\": 259, \"max_len\": 32, \"width\": 32, \"layers\": 1, \"heads\": 2, "
    "\"ffn\": 64}, \"tae\": {\"image_channels\": 3, \"latent_channels\": 4, \"channels\": "
    "[8, 8, 8], \"temporal_down\": 1, \"groups\": 4}, \"dit\": {\"in_channels\": 4, "
    "\"extra_in_channels\": 0, \"n_tasks\": 0, \"width\": 32, \"layers\": 1, \"heads\": 2, "
    "\"ffn\": 64, \"context_width\": 32, \"patch_t\": 1, \"patch_h\": 2, \"patch_w\": 2, "
    "\"pos_t\": 8, \"pos_h\": 8, \"pos_w\": 8, \"freq_dim\": 32}}}";

static int
run (const char *const *args, char **err_out)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) g_getenv ("REELGEN"));
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, err_out, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_usage (void)
{
  g_autofree char *err1 = NULL, *err2 = NULL, *err3 = NULL;
  const char *no_task[] = { "train", "--steps", "3", "--out", "x", NULL };
  g_assert_cmpint (run (no_task, &err1), ==, 2);
  g_assert_nonnull (strstr (err1, "tae or t2v"));
  const char *bad_task[] = { "train", "sound", "--steps", "3", "--out", "x", NULL };
  g_assert_cmpint (run (bad_task, &err2), ==, 1);
  g_assert_nonnull (strstr (err2, "sound"));
  const char *no_steps[] = { "train", "tae", "--out", "x", NULL };
  g_assert_cmpint (run (no_steps, &err3), ==, 2);
  g_assert_nonnull (strstr (err3, "--steps"));

  g_autofree char *bad = g_build_filename (tmp_dir, "bad.json", NULL);
  g_assert_true (g_file_set_contents (bad, "{\"task\": \"tae\", \"batch\": -4}", -1, NULL));
  g_autofree char *err4 = NULL;
  const char *bad_config[] = { "train", "tae", "--config", bad, "--steps", "3", "--out", "x",
                               NULL };
  g_assert_cmpint (run (bad_config, &err4), ==, 1);
  g_assert_nonnull (strstr (err4, "batch"));
}

static void
test_interrupt (void)
{
  g_autofree char *config = g_build_filename (tmp_dir, "tiny.json", NULL);
  g_autofree char *out = g_build_filename (tmp_dir, "run", NULL);
  g_assert_true (g_file_set_contents (config, tiny_config, -1, NULL));
  const char *argv[] = { g_getenv ("REELGEN"), "train", "tae", "--config", config,
                         "--steps", "1000000", "--out", out, NULL };
  GPid pid;
  int err_fd;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD
                                               | G_SPAWN_STDOUT_TO_DEV_NULL,
                                           NULL, NULL, &pid, NULL, NULL, &err_fd, &error));
  g_assert_no_error (error);
  /* wait for the tenth step's progress line, then Ctrl-C */
  g_autoptr (GString) seen = g_string_new (NULL);
  char buf[512];
  while (strstr (seen->str, "step 10/") == NULL)
    {
      ssize_t n = read (err_fd, buf, sizeof buf);
      g_assert_cmpint (n, >, 0);
      g_string_append_len (seen, buf, n);
    }
  g_assert_cmpint (kill (pid, SIGINT), ==, 0);
  ssize_t n;
  while ((n = read (err_fd, buf, sizeof buf)) > 0)
    g_string_append_len (seen, buf, n);
  close (err_fd);
  int status;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_test_message ("%s", seen->str);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 130);
  g_assert_nonnull (strstr (seen->str, "--resume"));
  g_autofree char *latest = g_build_filename (out, "checkpoints", "latest", NULL);
  g_autofree char *model = g_build_filename (out, "model.safetensors", NULL);
  g_assert_true (g_file_test (latest, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (model, G_FILE_TEST_IS_REGULAR));

  /* the same directory again, without --resume: refused, nothing lost */
  g_autofree char *err = NULL;
  const char *again[] = { "train", "tae", "--config", config, "--steps", "1000000", "--out", out,
                          NULL };
  g_assert_cmpint (run (again, &err), ==, 1);
  g_assert_nonnull (strstr (err, "--resume"));
  g_assert_true (g_file_test (latest, G_FILE_TEST_IS_REGULAR));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("rg-train-cli-XXXXXX", NULL);
  g_test_add_func ("/train-cli/usage", test_usage);
  g_test_add_func ("/train-cli/interrupt", test_interrupt);
  int rc = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp_dir);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", tmp_dir);
  g_free (tmp_dir);
  return rc;
}
