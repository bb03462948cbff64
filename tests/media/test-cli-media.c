/* test-cli-media.c — `reelgen media probe|frame` as a script would use them:
 * JSON that parses and says the right things, a PNG of the right frame,
 * and a non-zero exit with a message for a file that is not media. */
#include <json-glib/json-glib.h>

#include "media-test-util.h"
#include "media/rg-video-reader.h"

static char *dir;

static int
reelgen (char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *)g_getenv ("REELGEN"));
  va_list args;
  va_start (args, err);
  const char *a;
  while ((a = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *)a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **)argv->pdata, NULL, 0, NULL, NULL, out, err, &status, &error);
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

static void
test_probe_json (void)
{
  g_autofree char *path = g_build_filename (dir, "counter.mp4", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (reelgen (&out, &err, "media", "probe", "--json", path, NULL), ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  JsonObject *root = json_node_get_object (json_parser_get_root (parser));
  JsonObject *v = json_array_get_object_element (json_object_get_array_member (root, "video"), 0);
  g_assert_cmpstr (json_object_get_string_member (v, "codec"), ==, "h264");
  g_assert_cmpint (json_object_get_int_member (v, "width"), ==, 64);
  g_assert_cmpint (json_object_get_int_member (v, "frame_count"), ==, 50);
  g_assert_cmpfloat (json_object_get_double_member (root, "duration"), ==, 2.0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "audio")), ==, 0);
}

static void
test_frame_png (void)
{
  g_autofree char *path = g_build_filename (dir, "counter.mp4", NULL);
  g_autofree char *png = g_build_filename (dir, "f.png", NULL);
  g_autofree char *out = NULL, *err = NULL;
  /* 0.92 s lies in frame 23's interval [0.92, 0.96) */
  g_assert_cmpint (reelgen (&out, &err, "media", "frame", path, "--at", "0.92", "-o", png, NULL),
                   ==, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (RgVideoReader) r = rg_video_reader_open (png, NULL, &error);
  g_assert_no_error (error);
  RgVideoFrame f;
  g_assert_true (rg_video_reader_frame_at (r, 0, &f, &error));
  g_assert_cmpint (f.width, ==, 64);
  g_assert_cmpint (media_test_frame_number (f.data, f.width, f.height), ==, 23);
}

static void
test_refusal (void)
{
  g_autofree char *txt = g_build_filename (dir, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (txt, "not a video\n", -1, NULL));
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (reelgen (&out, &err, "media", "probe", txt, NULL), !=, 0);
  g_assert_nonnull (strstr (err, "not a media file"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("REELGEN") == NULL)
    {
      g_test_skip ("REELGEN (the CLI's path) is not set");
      return g_test_run ();
    }
  dir = media_test_dir_new ();
  g_autofree char *counter = g_build_filename (dir, "counter.mp4", NULL);
  g_autofree char *src = media_test_counter_source (64, 48, "25", 2);
  media_test_ffmpeg (counter, "-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "ultrafast",
                     "-crf", "8", "-pix_fmt", "yuv420p", NULL);
  g_test_add_func ("/media/cli/probe-json", test_probe_json);
  g_test_add_func ("/media/cli/frame-png", test_frame_png);
  g_test_add_func ("/media/cli/refusal", test_refusal);
  int ret = g_test_run ();
  media_test_dir_free (dir);
  return ret;
}
