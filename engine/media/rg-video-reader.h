/* rg-video-reader.h — frame-accurate video decoding (DESIGN §3.3, §3.4).
 *
 * Time inside a reader starts at the stream's first frame: t = 0 is the
 * first picture whatever the container's start offset. The frame shown at t
 * is the one whose interval [pts, next pts) contains t — correct for
 * variable frame rates, where intervals differ. Times before the first frame
 * give the first frame; times past the end give the last (a freeze frame,
 * as editors show).
 *
 * A reader remembers where it is: asking for t a little later than the last
 * call (preview playback, export) decodes forward without seeking; going
 * backwards or far ahead seeks to the keyframe before t and decodes on.
 *
 * Frames come out converted by libswscale to the requested format and size,
 * in tight rows (rg_pixel_image_size bytes), turned upright when the stream
 * carries a rotation (unless keep_rotation is set). */
#pragma once

#include <glib.h>

#include "core/rg-time.h"
#include "media/rg-pixels.h"

G_BEGIN_DECLS

typedef struct
{
  int width; /* output size; 0 × 0 = the upright display size */
  int height;
  RgPixelFormat format;   /* RG_PIXEL_RGBA by default */
  gboolean keep_rotation; /* TRUE: frames as coded; the caller rotates */
  int threads;            /* decoder threads, 0 = automatic */
} RgVideoReaderOptions;

typedef struct
{
  const guint8 *data; /* owned by the reader, valid until its next call */
  gsize size;
  int width;
  int height;
  RgPixelFormat format;
  RgTime pts; /* the frame's interval in reader time */
  RgTime duration;
} RgVideoFrame;

typedef struct _RgVideoReader RgVideoReader;

/* opts may be NULL for upright RGBA at the display size. */
RgVideoReader *rg_video_reader_open (const char *path, const RgVideoReaderOptions *opts,
                                     GError **error);
void rg_video_reader_free (RgVideoReader *r);

/* The frame shown at time t. */
gboolean rg_video_reader_frame_at (RgVideoReader *r, RgTime t, RgVideoFrame *frame, GError **error);

/* The frame after the last one returned (the first one on a fresh reader);
 * FALSE with no error set at the end of the stream. */
gboolean rg_video_reader_next (RgVideoReader *r, RgVideoFrame *frame, GError **error);

/* Facts about the stream being read. */
int rg_video_reader_get_rotation (RgVideoReader *r);    /* degrees clockwise */
RgTime rg_video_reader_get_duration (RgVideoReader *r); /* -1 if unknown */
RgRational rg_video_reader_get_fps (RgVideoReader *r);  /* average, else nominal */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgVideoReader, rg_video_reader_free)

G_END_DECLS
