/* rg-media-private.h — helpers shared by the media room's files only. */
#pragma once

#include <glib.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/pixfmt.h>

#include "core/rg-error.h"
#include "core/rg-time.h"
#include "media/rg-pixels.h"

G_BEGIN_DECLS

/* Route FFmpeg's log to GLib's (debug level, log domain "reelgen-media"):
 * the engine reports failures as GErrors, so libav's chatter is only for
 * G_MESSAGES_DEBUG=reelgen-media. Called by every entry point; idempotent. */
void rg_media_init (void);

/* Set *error to "<printf message>: <FFmpeg's text for averr>". */
void rg_media_set_averror (GError **error, RgError code, int averr, const char *format, ...)
    G_GNUC_PRINTF (4, 5);

/* The FFmpeg pixel format for a packed RgPixelFormat (RGBA / RGB24), or
 * AV_PIX_FMT_NONE for the planar ones. */
enum AVPixelFormat rg_media_packed_av_format (RgPixelFormat format);

/* The sws colour matrix for a stream's colorspace tag: BT.709 for HD content
 * tagged so (or untagged and at least 720 lines tall), BT.601 otherwise. */
int rg_media_sws_colorspace (int av_colorspace, int height);

/* Open `path` for demuxing with stream info read, or explain why not in the
 * terms of rg-probe.h (NOT_FOUND, CORRUPT for not-media / damaged /
 * truncated, UNSUPPORTED when no audio or video stream can be decoded). */
AVFormatContext *rg_media_open_input (const char *path, GError **error);

/* A stream time base as an RgRational. */
#define RG_MEDIA_TB(st) ((RgRational){ (st)->time_base.num, (st)->time_base.den })

G_END_DECLS
