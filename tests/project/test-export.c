/* Export of a project's timeline through engine/media: the frames of the
 * file are the ones arranged (top track wins, black in gaps), a clip's own
 * sound plays where the clip is, muted tracks are out, and a project whose
 * source went missing refuses to export and leaves no file. Sources and
 * checks use the ffmpeg command line. */
#include <glib/gstdio.h>
#include <math.h>

#include "core/rg-error.h"
#include "project-test-util.h"

static char *dir;

static void
ffmpeg (const char *const *args, char **out, gsize *len)
{
  GPtrArray *argv = g_ptr_array_new ();
  const char *head[] = { "ffmpeg", "-nostdin", "-loglevel", "error", "-y" };
  for (guint i = 0; i < G_N_ELEMENTS (head); i++)
    g_ptr_array_add (argv, (char *)head[i]);
  for (; *args; args++)
    g_ptr_array_add (argv, (char *)*args);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_newv (
      (const char *const *)argv->pdata, out ? G_SUBPROCESS_FLAGS_STDOUT_PIPE : 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate (proc, NULL, NULL, &bytes, NULL, &error));
  status = g_subprocess_get_exit_status (proc);
  g_assert_cmpint (status, ==, 0);
  if (out)
    *out = g_bytes_unref_to_data (g_steal_pointer (&bytes), len);
  g_ptr_array_unref (argv);
}

static char *
colour_clip (const char *name, const char *colour)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *src = g_strdup_printf ("color=c=%s:size=64x48:rate=24:duration=2", colour);
  const char *args[]
      = { "-f", "lavfi", "-i", src, "-c:v", "libx264", "-pix_fmt", "yuv420p", path, NULL };
  ffmpeg (args, NULL, NULL);
  return path;
}

/* Decoded RGB24 frames of the export. */
static guint8 *
decode (const char *path, gsize *frames)
{
  const char *args[] = { "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-", NULL };
  char *data = NULL;
  gsize len = 0;
  ffmpeg (args, &data, &len);
  g_assert_cmpuint (len % (64 * 48 * 3), ==, 0);
  *frames = len / (64 * 48 * 3);
  return (guint8 *)data;
}

/* The colour in the middle of frame i, as 'R', 'G', 'B', 'K' (black) or '?'. */
static char
colour_at (const guint8 *rgb, gsize i)
{
  const guint8 *px = rgb + i * 64 * 48 * 3 + (24 * 64 + 32) * 3;
  int r = px[0], g = px[1], b = px[2];
  if (r > 200 && g < 60 && b < 60)
    return 'R';
  if (g > 100 && r < 60 && b < 60)
    return 'G';
  if (b > 200 && r < 60 && g < 60)
    return 'B';
  if (r < 30 && g < 30 && b < 30)
    return 'K';
  return '?';
}

static void
test_export_frames (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *red = colour_clip ("red.mp4", "red");
  g_autofree char *blue = colour_clip ("blue.mp4", "blue");
  g_autofree char *green = colour_clip ("green.mp4", "0x00ff00");
  RgProject *p = rg_test_project (dir, "export.reelgen");
  int64_t r = rg_project_import (p, red, &error), b = rg_project_import (p, blue, &error),
          g = rg_project_import (p, green, &error);
  g_assert_no_error (error);
  int64_t v1 = rg_test_track_id (p, 0);
  int64_t v2 = rg_project_add_track (p, RG_TRACK_VIDEO, "V2", 0, &error); /* on top */
  /* V1: red 0–1 s, blue 2–3 s; V2 (top): green 2.5–3 s covers the blue. */
  g_assert_cmpint (rg_project_add_clip (p, r, v1, 0, 0, SEC (1), &error), >, 0);
  g_assert_cmpint (rg_project_add_clip (p, b, v1, SEC (2), 0, SEC (1), &error), >, 0);
  int64_t top = rg_project_add_clip (p, g, v2, SEC (2.5), 0, SEC (0.5), &error);
  g_assert_cmpint (top, >, 0);

  g_autofree char *out = g_build_filename (dir, "out.mkv", NULL);
  g_assert_true (rg_project_export (p, out, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  gsize n = 0;
  g_autofree guint8 *rgb = decode (out, &n);
  g_assert_cmpuint (n, ==, 72); /* 3 s at 24 fps */
  GString *seen = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    g_string_append_c (seen, colour_at (rgb, i));
  g_autofree char *want = g_strconcat ("RRRRRRRRRRRRRRRRRRRRRRRR", "KKKKKKKKKKKKKKKKKKKKKKKK",
                                       "BBBBBBBBBBBBGGGGGGGGGGGG", NULL);
  g_assert_cmpstr (seen->str, ==, want);
  g_string_free (seen, TRUE);

  /* Muting the top track lets the blue through. */
  g_assert_true (rg_project_set_track_muted (p, v2, TRUE, &error));
  g_autofree char *out2 = g_build_filename (dir, "muted.mkv", NULL);
  g_assert_true (rg_project_export (p, out2, NULL, NULL, NULL, NULL, &error));
  g_autofree guint8 *rgb2 = decode (out2, &n);
  g_assert_cmpint (colour_at (rgb2, 66), ==, 'B');

  /* A source gone missing: a clear refusal, no output file. */
  g_autofree char *away = g_dir_make_tmp ("rg-away-XXXXXX", NULL);
  g_autofree char *moved = g_build_filename (away, "blue.mp4", NULL);
  g_assert_cmpint (g_rename (blue, moved), ==, 0);
  g_autofree char *out3 = g_build_filename (dir, "missing.mkv", NULL);
  g_assert_false (rg_project_export (p, out3, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "is missing"));
  g_assert_false (g_file_test (out3, G_FILE_TEST_EXISTS));
  g_unlink (moved);
  g_rmdir (away);
  rg_project_close (p);
}

/* The export's left channel as 48 kHz f32 samples. */
static float *
decode_sound (const char *path, gsize *n)
{
  const char *args[]
      = { "-i", path, "-af", "pan=mono|c0=FL", "-f", "f32le", "-ar", "48000", "-", NULL };
  char *data = NULL;
  gsize len = 0;
  ffmpeg (args, &data, &len);
  *n = len / sizeof (float);
  return (float *)data;
}

/* A clip with sound on a video track is heard in the export, at the
 * sample its place on the timeline says; muting the track silences it. */
static void
test_export_clip_sound (void)
{
  g_autoptr (GError) error = NULL;
  /* black, with a 1 kHz beep from exactly 1.0 s to 1.1 s */
  g_autofree char *beep = g_build_filename (dir, "beep.mp4", NULL);
  const char *make[]
      = { "-f",       "lavfi",
          "-i",       "color=c=black:size=64x48:rate=24:duration=2",
          "-f",       "lavfi",
          "-i",       "aevalsrc=between(t\\,1\\,1.1)*0.8*sin(2*PI*1000*(t-1)):s=48000:d=2",
          "-c:v",     "libx264",
          "-pix_fmt", "yuv420p",
          "-c:a",     "aac",
          beep,       NULL };
  ffmpeg (make, NULL, NULL);
  RgProject *p = rg_test_project (dir, "sound.reelgen");
  int64_t a = rg_project_import (p, beep, &error);
  g_assert_no_error (error);
  int64_t v1 = rg_test_track_id (p, 0);
  /* source 0.25–1.75 s at 0.5 s: the beep (source 1.0 s) lands at 1.25 s */
  g_assert_cmpint (rg_project_add_clip (p, a, v1, SEC (0.5), SEC (0.25), SEC (1.75), &error), >, 0);
  g_assert_no_error (error);

  g_autofree char *out = g_build_filename (dir, "sound.mkv", NULL);
  g_assert_true (rg_project_export (p, out, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  gsize n = 0;
  g_autofree float *pcm = decode_sound (out, &n);
  g_assert_cmpuint (n, ==, 96000); /* 2 s */
  gssize first = -1;
  float loudest = 0.0f;
  for (gsize i = 0; i < n; i++)
    {
      if (first < 0 && fabsf (pcm[i]) > 0.1f)
        first = (gssize)i;
      loudest = MAX (loudest, fabsf (pcm[i]));
    }
  g_test_message ("beep from sample %" G_GSSIZE_FORMAT ", peak %.3f", first, loudest);
  g_assert_cmpint (ABS (first - 60000), <=, 2); /* 1.25 s, lossless FLAC */
  g_assert_cmpfloat (loudest, >, 0.5f);

  g_assert_true (rg_project_set_track_muted (p, v1, TRUE, &error));
  g_autofree char *out2 = g_build_filename (dir, "sound-muted.mkv", NULL);
  g_assert_true (rg_project_export (p, out2, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autofree float *quiet = decode_sound (out2, &n);
  g_assert_cmpuint (n, ==, 96000);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (fabsf (quiet[i]), <, 1e-4f);
  rg_project_close (p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = rg_test_tmpdir ();
  g_test_add_func ("/export/frames", test_export_frames);
  g_test_add_func ("/export/clip-sound", test_export_clip_sound);
  int rc = g_test_run ();
  rg_test_rmdir (dir);
  g_free (dir);
  return rc;
}
