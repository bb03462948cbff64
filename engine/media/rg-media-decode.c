/* rg-media-decode.c — send/receive drained to EAGAIN, NULL-packet flush
 * (FFmpeg's doc/examples/demux_decode.c), plus keyframe seeking. */
#include "media/rg-media-decode.h"

gboolean
rg_decode_loop_init (RgDecodeLoop *loop, const char *path, AVFormatContext *fmt, int index,
                     int threads, GError **error)
{
  memset (loop, 0, sizeof *loop);
  loop->path = path;
  loop->fmt = fmt;
  loop->st = fmt->streams[index];

  const AVCodec *codec = avcodec_find_decoder (loop->st->codecpar->codec_id);
  if (codec == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "%s: no decoder for %s", path,
                   avcodec_get_name (loop->st->codecpar->codec_id));
      return FALSE;
    }
  loop->dec = avcodec_alloc_context3 (codec);
  loop->pkt = av_packet_alloc ();
  if (loop->dec == NULL || loop->pkt == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "%s: out of memory", path);
      return FALSE;
    }
  int ret = avcodec_parameters_to_context (loop->dec, loop->st->codecpar);
  if (ret >= 0)
    {
      loop->dec->thread_count = threads;
      loop->dec->pkt_timebase = loop->st->time_base;
      ret = avcodec_open2 (loop->dec, codec, NULL);
    }
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_CORRUPT, ret, "%s: cannot open the %s decoder", path,
                            codec->name);
      return FALSE;
    }
  /* Demux only what we decode. */
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    if ((int)i != index)
      fmt->streams[i]->discard = AVDISCARD_ALL;
  return TRUE;
}

void
rg_decode_loop_clear (RgDecodeLoop *loop)
{
  avcodec_free_context (&loop->dec);
  av_packet_free (&loop->pkt);
  avformat_close_input (&loop->fmt);
}

int
rg_decode_loop_next (RgDecodeLoop *loop, AVFrame *frame, GError **error)
{
  for (;;)
    {
      int ret = avcodec_receive_frame (loop->dec, frame);
      if (ret >= 0)
        return 1;
      if (ret == AVERROR_EOF)
        return 0;
      if (ret != AVERROR (EAGAIN) && ret != AVERROR_INVALIDDATA)
        {
          rg_media_set_averror (error, RG_ERROR_CORRUPT, ret, "%s: decoding failed", loop->path);
          return -1;
        }
      if (ret == AVERROR_INVALIDDATA && loop->flushing)
        continue; /* a damaged frame in the tail: keep draining */

      /* The decoder wants input: feed it one packet of our stream. */
      for (;;)
        {
          ret = av_read_frame (loop->fmt, loop->pkt);
          if (ret == AVERROR_EOF || (ret < 0 && avio_feof (loop->fmt->pb)))
            {
              loop->flushing = TRUE;
              avcodec_send_packet (loop->dec, NULL);
              break;
            }
          if (ret < 0)
            {
              rg_media_set_averror (error, RG_ERROR_IO, ret, "%s: reading failed", loop->path);
              return -1;
            }
          if (loop->pkt->stream_index != loop->st->index)
            {
              av_packet_unref (loop->pkt);
              continue;
            }
          ret = avcodec_send_packet (loop->dec, loop->pkt);
          av_packet_unref (loop->pkt);
          if (ret < 0 && ret != AVERROR_INVALIDDATA && ret != AVERROR (EAGAIN))
            {
              rg_media_set_averror (error, RG_ERROR_CORRUPT, ret, "%s: decoding failed",
                                    loop->path);
              return -1;
            }
          break;
        }
    }
}

gboolean
rg_decode_loop_seek (RgDecodeLoop *loop, int64_t ts, GError **error)
{
  int ret = avformat_seek_file (loop->fmt, loop->st->index, INT64_MIN, ts, ts, 0);
  if (ret < 0)
    /* Some demuxers only seek backwards from a target. */
    ret = av_seek_frame (loop->fmt, loop->st->index, ts, AVSEEK_FLAG_BACKWARD);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_UNSUPPORTED, ret, "%s: cannot seek", loop->path);
      return FALSE;
    }
  avcodec_flush_buffers (loop->dec);
  loop->flushing = FALSE;
  return TRUE;
}

gboolean
rg_decode_loop_rewind (RgDecodeLoop *loop, GError **error)
{
  int64_t start = loop->st->start_time != AV_NOPTS_VALUE ? loop->st->start_time : 0;
  /* Aim a second before the first frame: demuxers that search by timestamp
   * (MPEG-TS) land on a later keyframe when aimed at the first pts itself,
   * whose decode timestamp is earlier. */
  int64_t before = start - av_rescale_q (1, (AVRational){ 1, 1 }, loop->st->time_base);
  int ret = av_seek_frame (loop->fmt, loop->st->index, before, AVSEEK_FLAG_BACKWARD);
  if (ret < 0)
    ret = av_seek_frame (loop->fmt, loop->st->index, start, AVSEEK_FLAG_BACKWARD);
  if (ret < 0)
    ret = av_seek_frame (loop->fmt, -1, 0, AVSEEK_FLAG_BYTE);
  if (ret < 0 && loop->fmt->pb != NULL && (loop->fmt->iformat->flags & AVFMT_NOFILE) == 0)
    {
      ret = (int)MIN (0, avio_seek (loop->fmt->pb, 0, SEEK_SET));
      if (ret >= 0)
        avformat_flush (loop->fmt);
    }
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_UNSUPPORTED, ret, "%s: cannot go back to the start",
                            loop->path);
      return FALSE;
    }
  avcodec_flush_buffers (loop->dec);
  loop->flushing = FALSE;
  return TRUE;
}
