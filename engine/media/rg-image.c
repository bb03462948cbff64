/* rg-image.c — PNG through libavcodec's encoder, so the engine needs no
 * second image library. */
#include "media/rg-image.h"

#include <libavcodec/avcodec.h>

#include "media/rg-media-private.h"

gboolean
rg_image_write_png (const char *path, const guint8 *rgba, int width, int height, GError **error)
{
  g_return_val_if_fail (path != NULL && rgba != NULL, FALSE);
  rg_media_init ();
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: bad image size %d×%d", path,
                   width, height);
      return FALSE;
    }
  const AVCodec *codec = avcodec_find_encoder (AV_CODEC_ID_PNG);
  if (codec == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "%s: this FFmpeg has no PNG encoder",
                   path);
      return FALSE;
    }
  AVCodecContext *enc = avcodec_alloc_context3 (codec);
  AVFrame *frame = av_frame_alloc ();
  AVPacket *pkt = av_packet_alloc ();
  gboolean ok = FALSE;
  int ret = AVERROR (ENOMEM);
  if (enc == NULL || frame == NULL || pkt == NULL)
    goto done;

  enc->width = width;
  enc->height = height;
  enc->pix_fmt = AV_PIX_FMT_RGBA;
  enc->time_base = (AVRational){ 1, 1 };
  ret = avcodec_open2 (enc, codec, NULL);
  if (ret < 0)
    goto done;
  /* The frame borrows the caller's pixels: PNG encoding only reads them. */
  frame->format = AV_PIX_FMT_RGBA;
  frame->width = width;
  frame->height = height;
  frame->data[0] = (uint8_t *)rgba;
  frame->linesize[0] = width * 4;
  ret = avcodec_send_frame (enc, frame);
  if (ret >= 0)
    ret = avcodec_send_frame (enc, NULL);
  if (ret >= 0)
    ret = avcodec_receive_packet (enc, pkt);
  if (ret < 0)
    goto done;

  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents (path, (const char *)pkt->data, pkt->size, &local))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s", local->message);
      ret = 0;
      goto done;
    }
  ok = TRUE;

done:
  if (!ok && ret < 0)
    rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: PNG encoding failed", path);
  av_packet_free (&pkt);
  av_frame_free (&frame);
  avcodec_free_context (&enc);
  return ok;
}
