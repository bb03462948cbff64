/* `reelgen generate` as a user runs it: the MP4 it writes is decoded back
 * by ffprobe (frame count, size, rate), --json prints the provenance,
 * Ctrl-C cancels with exit 130 and leaves no file, bad options exit 2. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>

#include "models/rg-model.h"
#include "rg-config.h"

static char *dir;
static char *model_path;

/* Run reelgen with args; returns its exit code. */
static int
reelgen (const char *const *args, char **out, char **err)
{
  const char *exe = g_getenv ("REELGEN");
  g_assert_nonnull (exe);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) exe);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  int status;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static JsonObject *
probe (const char *path, JsonParser *parser)
{
  const char *argv[] = { "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                         "-show_entries",
                         "stream=codec_name,width,height,r_frame_rate,nb_read_frames,pix_fmt",
                         "-of", "json", path, NULL };
  g_autofree char *out = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  JsonArray *streams = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (parser)), "streams");
  g_assert_cmpuint (json_array_get_length (streams), ==, 1);
  return json_array_get_object_element (streams, 0);
}

static void
test_writes_playable_mp4 (void)
{
  g_autofree char *clip = g_build_filename (dir, "clip.mp4", NULL);
  g_autofree char *out = NULL, *err = NULL;
  const char *args[] = { "generate", "--prompt", "a yellow star spinning", "--seed", "4",
                         "--steps", "3", "--model", model_path, "-o", clip, "--json", NULL };

  g_assert_cmpint (reelgen (args, &out, &err), ==, 0);
  g_autoptr (JsonParser) prov = json_parser_new ();
  g_assert_true (json_parser_load_from_data (prov, out, -1, NULL));
  JsonObject *p = json_node_get_object (json_parser_get_root (prov));
  g_assert_cmpstr (json_object_get_string_member (p, "output"), ==, clip);
  g_assert_cmpstr (json_object_get_string_member (p, "seed"), ==, "4");
  /* stderr was not a TTY: plain progress lines */
  g_assert_nonnull (strstr (err, "denoising 3/3"));

  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *s = probe (clip, parser);
  g_assert_cmpstr (json_object_get_string_member (s, "codec_name"), ==, "h264");
  g_assert_cmpstr (json_object_get_string_member (s, "pix_fmt"), ==, "yuv420p");
  g_assert_cmpint (json_object_get_int_member (s, "width"), ==, 64);
  g_assert_cmpint (json_object_get_int_member (s, "height"), ==, 64);
  g_assert_cmpstr (json_object_get_string_member (s, "r_frame_rate"), ==, "8/1");
  g_assert_cmpstr (json_object_get_string_member (s, "nb_read_frames"), ==, "16");
  g_unlink (clip);
}

static void
test_frames_and_fps_options (void)
{
  /* 32 frames is longer than the TAE's 16-frame tile: decoded in tiles
   * (at 32×48 to keep the test quick) */
  g_autofree char *clip = g_build_filename (dir, "long.mp4", NULL);
  g_autofree char *err = NULL;
  const char *args[] = { "generate", "--prompt", "a long shot", "--steps", "2", "--frames", "32",
                         "--fps", "12", "--width", "32", "--height", "48", "--guidance", "1",
                         "--schedule", "linear", "--model", model_path, "-o", clip, NULL };

  g_assert_cmpint (reelgen (args, NULL, &err), ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *s = probe (clip, parser);
  g_assert_cmpstr (json_object_get_string_member (s, "nb_read_frames"), ==, "32");
  g_assert_cmpstr (json_object_get_string_member (s, "r_frame_rate"), ==, "12/1");
  g_assert_cmpint (json_object_get_int_member (s, "width"), ==, 32);
  g_assert_cmpint (json_object_get_int_member (s, "height"), ==, 48);
  g_unlink (clip);
}

static void
test_ctrl_c_cancels (void)
{
  g_autofree char *clip = g_build_filename (dir, "interrupted.mp4", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_new (
      G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
      g_getenv ("REELGEN"), "generate", "--prompt", "never finished", "--steps", "1000",
      "--model", model_path, "-o", clip, NULL);
  g_assert_no_error (error);

  /* wait until denoising has started, then press Ctrl-C */
  g_autoptr (GDataInputStream) lines
      = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (g_str_has_prefix (line, "denoising 1/1000"))
        break;
    }
  g_subprocess_send_signal (proc, SIGINT);

  GString *rest = g_string_new (NULL);
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, NULL);
      if (line == NULL)
        break;
      g_string_append_printf (rest, "%s\n", line);
    }
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 130);
  g_assert_nonnull (strstr (rest->str, "cancelled"));
  g_assert_null (strstr (rest->str, "denoising 100/1000"));
  g_string_free (rest, TRUE);

  /* no clip, no temporary beside it */
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)))
    g_assert_cmpstr (name, ==, "nano.safetensors");
}

static void
test_bad_options (void)
{
  g_autofree char *clip = g_build_filename (dir, "bad.mp4", NULL);
  g_autofree char *err = NULL;

  const char *no_output[] = { "generate", "--prompt", "x", NULL };
  g_assert_cmpint (reelgen (no_output, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "-o"));
  g_clear_pointer (&err, g_free);

  const char *bad_schedule[] = { "generate", "--prompt", "x", "--schedule", "cosine", "-o",
                                 clip, NULL };
  g_assert_cmpint (reelgen (bad_schedule, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "cosine"));
  g_clear_pointer (&err, g_free);

  const char *bad_fps[] = { "generate", "--prompt", "x", "--fps", "0", "-o", clip, NULL };
  g_assert_cmpint (reelgen (bad_fps, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--fps"));
  g_clear_pointer (&err, g_free);

  const char *bad_seed[] = { "generate", "--prompt", "x", "--seed", "-3", "-o", clip, NULL };
  g_assert_cmpint (reelgen (bad_seed, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--seed"));
  g_clear_pointer (&err, g_free);

  /* the model refuses a clip length its TAE cannot encode: exit 1, a reason */
  const char *odd_frames[] = { "generate", "--prompt", "x", "--frames", "15", "--model",
                               model_path, "-o", clip, NULL };
  g_assert_cmpint (reelgen (odd_frames, NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "15"));
  g_assert_false (g_file_test (clip, G_FILE_TEST_EXISTS));
}

static void
test_default_model_warns_when_untrained (void)
{
  g_autofree char *shipped
      = g_build_filename (RG_SOURCE_DIR, "resources", "models", "nano-t2v.safetensors", NULL);
  if (g_file_test (shipped, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("trained nano-t2v weights ship: nothing to warn about");
      return;
    }
  g_autofree char *clip = g_build_filename (dir, "noise.mp4", NULL);
  g_autofree char *err = NULL;
  const char *args[] = { "generate", "--prompt", "anything", "--steps", "1", "--frames", "4",
                         "--width", "32", "--height", "32", "-o", clip, NULL };
  g_assert_cmpint (reelgen (args, NULL, &err), ==, 0);
  g_assert_nonnull (strstr (err, "noise until trained weights ship"));
  g_assert_true (g_file_test (clip, G_FILE_TEST_IS_REGULAR));
  g_unlink (clip);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  RgModelConfig config;
  g_autoptr (GError) error = NULL;
  g_autoptr (RgModel) model = NULL;
  dir = g_dir_make_tmp ("rg-generate-XXXXXX", &error);
  model_path = g_build_filename (dir, "nano.safetensors", NULL);
  if (!rg_model_config_preset ("nano-t2v", &config, &error)
      || (model = rg_model_init (&config, 3, &error)) == NULL
      || !rg_model_save (model, model_path, RG_F32, &error))
    g_error ("nano checkpoint: %s", error->message);

  g_test_add_func ("/generate-cli/writes-playable-mp4", test_writes_playable_mp4);
  g_test_add_func ("/generate-cli/frames-and-fps", test_frames_and_fps_options);
  g_test_add_func ("/generate-cli/ctrl-c-cancels", test_ctrl_c_cancels);
  g_test_add_func ("/generate-cli/bad-options", test_bad_options);
  g_test_add_func ("/generate-cli/default-model-warns", test_default_model_warns_when_untrained);
  int status = g_test_run ();

  g_unlink (model_path);
  g_rmdir (dir);
  g_free (model_path);
  g_free (dir);
  return status;
}
