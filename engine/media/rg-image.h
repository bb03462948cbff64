/* rg-image.h — still images out of the media room (frame grabs, posters). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Write width × height RGBA (tight rows) as a PNG, replacing `path`
 * atomically: a reader sees the old file or the whole new one. */
gboolean rg_image_write_png (const char *path, const guint8 *rgba, int width, int height,
                             GError **error);

G_END_DECLS
