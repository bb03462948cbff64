/* rg-video-writer.h — write frames and audio to a media file (DESIGN §3.4).
 *
 * The container follows the file name's extension:
 *   .mp4 .mov .m4v  H.264 (libx264 when this FFmpeg has it) + AAC, yuv420p,
 *                   "faststart" so players can start before the download ends
 *   .webm           VP9 + Opus
 *   .mkv            FFV1 (8-bit RGB: lossless for RGB input) + FLAC
 *   .m4a            AAC only; .wav 16-bit PCM only; .flac FLAC only
 *
 * Frame i gets pts = i in a 1/fps time base, so timestamps are exact for any
 * rational rate (30000/1001 included). Audio is sample-counted the same way.
 *
 * Everything is written to a hidden temporary file beside the destination;
 * rg_video_writer_finish() renames it into place only once the trailer is
 * written, so a reader never sees half a file under the final name. Every
 * writer ends with exactly one call to finish() or abort(); both free it.
 * g_autoptr(RgVideoWriter) aborts a writer that was never finished. */
#pragma once

#include <glib.h>

#include "core/rg-time.h"
#include "media/rg-pixels.h"

G_BEGIN_DECLS

typedef enum
{
  RG_ENCODE_BALANCED = 0, /* x264 "medium", VP9 cpu-used 2 */
  RG_ENCODE_FAST,         /* x264 "veryfast", VP9 realtime cpu-used 5 */
  RG_ENCODE_FASTEST,      /* x264 "ultrafast", VP9 realtime cpu-used 8 */
} RgEncodeSpeed;

typedef struct
{
  /* Video: width/height > 0 (yuv420p codecs need even sizes: odd sizes are
   * refused with a clear error). Both 0 means an audio-only file. */
  int width;
  int height;
  RgRational fps;      /* frames per second, e.g. {30000, 1001} */
  RgPixelFormat input; /* RG_PIXEL_RGB24 or RG_PIXEL_RGBA */
  /* Audio: sample_rate > 0 adds an audio stream fed with interleaved f32 of
   * `channels` channels (1 or 2) at that rate. */
  int sample_rate;
  int channels;
  /* Encoding: quality is the codec's constant-quality value (x264/VP9 crf);
   * 0 picks a visually lossless default. threads 0 = automatic. */
  RgEncodeSpeed speed;
  int quality;
  int threads;
} RgVideoWriterOptions;

typedef struct _RgVideoWriter RgVideoWriter;

RgVideoWriter *rg_video_writer_open (const char *path, const RgVideoWriterOptions *opts,
                                     GError **error);

/* One frame of opts->input pixels, rows `stride` bytes apart (top row first). */
gboolean rg_video_writer_write_rgb (RgVideoWriter *w, const guint8 *pixels, gsize stride,
                                    GError **error);

/* n_frames × channels interleaved samples in [-1, 1] (values beyond are
 * clipped by the encoder's sample conversion). */
gboolean rg_video_writer_write_audio (RgVideoWriter *w, const float *interleaved, gsize n_frames,
                                      GError **error);

/* Frames written so far. */
gint64 rg_video_writer_get_frame_count (RgVideoWriter *w);

/* Flush the encoders, write the trailer, move the file into place; frees w.
 * On failure nothing is left at the destination nor beside it. */
gboolean rg_video_writer_finish (RgVideoWriter *w, GError **error);

/* Stop, remove every partial file, free w. NULL is allowed. */
void rg_video_writer_abort (RgVideoWriter *w);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgVideoWriter, rg_video_writer_abort)

G_END_DECLS
