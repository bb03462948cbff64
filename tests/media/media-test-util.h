/* media-test-util.h — helpers for the media tests: a scratch folder, inputs
 * made by the ffmpeg CLI's generators, and ffprobe as an independent reader. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A fresh scratch folder, removed with its contents by media_test_dir_free(). */
char *media_test_dir_new (void);
void media_test_dir_free (char *dir);

/* Run `ffmpeg -y -v error <args…> OUT` (NULL-terminated args); asserts success. */
void media_test_ffmpeg (const char *out, ...) G_GNUC_NULL_TERMINATED;

/* `ffprobe -v error -select_streams SEL -show_entries ENTRIES -of default=nw=1`
 * (with -count_frames when count is TRUE); returns the output's key=value
 * pairs. */
GHashTable *media_test_ffprobe (const char *path, const char *select, const char *entries,
                                gboolean count);

/* Number of entries in the folder (0 when it only holds nothing). */
guint media_test_dir_count (const char *dir);

/* A lavfi graph of w×h frames at `rate` for `seconds` whose colour encodes
 * the frame number n: red = 8 + 16·(n mod 16), blue = 8 + 16·⌊n/16⌋ (steps
 * of 16 survive lossy coding). Free with g_free. */
char *media_test_counter_source (int w, int h, const char *rate, double seconds);

/* The frame number an RGBA picture's centre pixel encodes, or -1. */
int media_test_frame_number (const guint8 *rgba, int width, int height);

G_END_DECLS
