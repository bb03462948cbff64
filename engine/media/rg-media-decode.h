/* rg-media-decode.h — the demux + decode loop the readers share (private).
 *
 * One stream of an open input is decoded; packets of other streams are
 * dropped. Damaged packets are skipped the way ffmpeg does, so one bad
 * slice costs a frame, not the clip. */
#pragma once

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "media/rg-media-private.h"

G_BEGIN_DECLS

typedef struct
{
  const char *path;
  AVFormatContext *fmt;
  AVStream *st;
  AVCodecContext *dec;
  AVPacket *pkt;
  gboolean flushing; /* the demuxer hit EOF; the decoder got NULL */
} RgDecodeLoop;

/* Open the decoder for stream `index` of fmt (which the loop then owns). */
gboolean rg_decode_loop_init (RgDecodeLoop *loop, const char *path, AVFormatContext *fmt, int index,
                              int threads, GError **error);
void rg_decode_loop_clear (RgDecodeLoop *loop);

/* 1: a frame is in `frame`; 0: end of stream; -1: error set. */
int rg_decode_loop_next (RgDecodeLoop *loop, AVFrame *frame, GError **error);

/* Seek so that decoding resumes at the last keyframe at or before `ts`
 * (stream time base) and forget what the decoder held. */
gboolean rg_decode_loop_seek (RgDecodeLoop *loop, int64_t ts, GError **error);

/* Back to the first packet, for streams that cannot seek by time (raw
 * elementary streams): by byte position, or by rewinding the file. */
gboolean rg_decode_loop_rewind (RgDecodeLoop *loop, GError **error);

G_END_DECLS
