/* media-test-util.h — helpers for the media tests: a scratch folder, inputs
 * made by the ffmpeg CLI's generators, and ffprobe as an independent reader. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A fresh scratch folder, removed with its contents by media_test_dir_free(). */
char *media_test_dir_new (void);
void  media_test_dir_free (char *dir);

/* Run `ffmpeg -y -v error <args…> OUT` (NULL-terminated args); asserts success. */
void media_test_ffmpeg (const char *out, ...) G_GNUC_NULL_TERMINATED;

/* `ffprobe -v error -select_streams SEL -show_entries ENTRIES -of default=nw=1`
 * (with -count_frames when count is TRUE); returns the output's key=value
 * pairs. */
GHashTable *media_test_ffprobe (const char *path, const char *select, const char *entries,
                                gboolean count);

/* Number of entries in the folder (0 when it only holds nothing). */
guint media_test_dir_count (const char *dir);

G_END_DECLS
