/* `reelgen project` as a script uses it: exit codes, --json output that
 * parses, error messages that name the problem, times in s/frames/ticks. */
#include <json-glib/json-glib.h>

#include "project-test-util.h"

static char *dir;

/* Runs reelgen with args; returns its exit status, stdout and stderr. */
static int
reelgen (char **out, char **err, ...)
{
  const char *exe = g_getenv ("REELGEN");
  g_assert_nonnull (exe);
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *)exe);
  va_list ap;
  va_start (ap, err);
  for (const char *a; (a = va_arg (ap, const char *));)
    g_ptr_array_add (argv, (char *)a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  int status = 0;
  g_autoptr (GError) error = NULL;
  char *o = NULL, *e = NULL;
  g_spawn_sync (dir, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e, &status,
                &error);
  g_assert_no_error (error);
  g_ptr_array_unref (argv);
  if (out)
    *out = o;
  else
    g_free (o);
  if (err)
    *err = e;
  else
    g_free (e);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static JsonObject *
parse (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
test_session (void)
{
  g_autofree char *media = g_build_filename (dir, "clip.mp4", NULL);
  const char *ff[] = { "ffmpeg", "-nostdin", "-loglevel", "error",
                       "-f",     "lavfi",    "-i",        "testsrc2=size=64x48:rate=24:duration=4",
                       "-c:v",   "libx264",  media,       NULL };
  int status = 0;
  g_assert_true (g_spawn_sync (NULL, (char **)ff, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                               &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (reelgen (NULL, NULL, "project", "new", "cli.reelgen", "--fps", "24", NULL), ==,
                   0);
  g_assert_cmpint (reelgen (&out, NULL, "project", "import", "cli.reelgen", media, "--json", NULL),
                   ==, 0);
  g_autoptr (JsonObject) imp = parse (out);
  JsonObject *first
      = json_array_get_object_element (json_object_get_array_member (imp, "assets"), 0);
  g_assert_cmpint (json_object_get_int_member (first, "asset"), ==, 1);
  g_clear_pointer (&out, g_free);

  /* 1.5 s, 36 frames and 135000 ticks are the same time. */
  g_assert_cmpint (reelgen (&out, NULL, "project", "add-clip", "cli.reelgen", "--asset", "1",
                            "--track", "1", "--at", "0", "--out", "36f", "--json", NULL),
                   ==, 0);
  g_autoptr (JsonObject) added = parse (out);
  g_assert_cmpint (json_object_get_int_member (added, "clip"), ==, 1);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (reelgen (NULL, &err, "project", "add-clip", "cli.reelgen", "--asset", "1",
                            "--track", "1", "--at", "134999t", "--out", "1", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "would overlap clip 1 on track 1 at 00:00:01.500"));
  g_clear_pointer (&err, g_free);
  /* With --json the refusal is also JSON on stdout. */
  g_assert_cmpint (reelgen (&out, NULL, "project", "add-clip", "cli.reelgen", "--asset", "1",
                            "--track", "1", "--at", "1", "--out", "1", "--json", NULL),
                   ==, 1);
  g_autoptr (JsonObject) refused = parse (out);
  g_clear_pointer (&out, g_free);
  g_assert_false (json_object_get_boolean_member (refused, "ok"));
  g_assert_cmpstr (json_object_get_string_member (refused, "code"), ==, "invalid-argument");
  g_assert_nonnull (strstr (json_object_get_string_member (refused, "error"), "would overlap"));
  g_assert_cmpint (reelgen (NULL, &err, "project", "add-clip", "cli.reelgen", "--asset", "1",
                            "--track", "1", "--at", "soon", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "“soon” is not a time"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (reelgen (NULL, NULL, "project", "add-clip", "cli.reelgen", "--asset", "1",
                            "--track", "1", "--at", "1.5", "--in", "2", NULL),
                   ==, 0);
  g_assert_cmpint (reelgen (&out, NULL, "project", "split", "cli.reelgen", "--clip", "2", "--at",
                            "2.5", "--json", NULL),
                   ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (
      reelgen (NULL, NULL, "project", "delete", "cli.reelgen", "--clip", "1", "--ripple", NULL), ==,
      0);
  g_assert_cmpint (
      reelgen (NULL, NULL, "project", "trim", "cli.reelgen", "--clip", "3", "--out", "3.5", NULL),
      ==, 0);
  g_assert_cmpint (
      reelgen (NULL, NULL, "project", "move", "cli.reelgen", "--clip", "3", "--at", "10", NULL), ==,
      0);

  /* The state, read back as JSON: clip 2 at 0 (rippled), clip 3 at 10 s. */
  g_assert_cmpint (reelgen (&out, NULL, "project", "ls", "cli.reelgen", "--json", NULL), ==, 0);
  g_autoptr (JsonObject) ls = parse (out);
  g_clear_pointer (&out, g_free);
  g_assert_cmpstr (json_object_get_string_member (ls, "undo"), ==, "Move clip");
  JsonObject *v1 = json_array_get_object_element (json_object_get_array_member (ls, "tracks"), 0);
  JsonArray *clips = json_object_get_array_member (v1, "clips");
  g_assert_cmpuint (json_array_get_length (clips), ==, 2);
  JsonObject *c2 = json_array_get_object_element (clips, 0),
             *c3 = json_array_get_object_element (clips, 1);
  g_assert_cmpint (json_object_get_int_member (c2, "id"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (c2, "start_ticks"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (c3, "start_ticks"), ==, SEC (10));
  g_assert_cmpint (json_object_get_int_member (c3, "out_ticks"), ==, SEC (3.5));

  /* Undo twice, redo once: across separate processes. */
  g_assert_cmpint (reelgen (&out, NULL, "project", "undo", "cli.reelgen", "--json", NULL), ==, 0);
  g_autoptr (JsonObject) u = parse (out);
  g_clear_pointer (&out, g_free);
  g_assert_cmpstr (json_object_get_string_member (u, "step"), ==, "Move clip");
  g_assert_cmpint (reelgen (NULL, NULL, "project", "undo", "cli.reelgen", NULL), ==, 0);
  g_assert_cmpint (reelgen (&out, NULL, "project", "redo", "cli.reelgen", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "redo: Trim clip"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (reelgen (NULL, NULL, "project", "save-as", "cli.reelgen", "copy.reelgen", NULL),
                   ==, 0);
  g_assert_cmpint (reelgen (NULL, &err, "project", "save-as", "cli.reelgen", "copy.reelgen", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "already exists"));
  g_clear_pointer (&err, g_free);
  /* Export through the media room; a lossless MKV of the 2.5 s timeline. */
  g_assert_cmpint (
      reelgen (&out, NULL, "project", "export", "cli.reelgen", "-o", "cli.mkv", "--json", NULL), ==,
      0);
  g_autoptr (JsonObject) exported = parse (out);
  g_clear_pointer (&out, g_free);
  g_assert_cmpstr (json_object_get_string_member (exported, "output"), ==, "cli.mkv");
  g_autofree char *mkv = g_build_filename (dir, "cli.mkv", NULL);
  g_assert_true (g_file_test (mkv, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (reelgen (NULL, &err, "project", "export", "cli.reelgen", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "-o OUT.mp4"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (reelgen (NULL, &err, "project", "frobnicate", "cli.reelgen", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "unknown verb"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (reelgen (NULL, &err, "project", "ls", "clip.mp4", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "not a Reelgen project"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = rg_test_tmpdir ();
  g_test_add_func ("/cli/session", test_session);
  int rc = g_test_run ();
  rg_test_rmdir (dir);
  g_free (dir);
  return rc;
}
