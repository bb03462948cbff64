/* rg-media-private.c — FFmpeg error text and pixel-format mapping. */
#include "media/rg-media-private.h"

#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

static void
log_to_glib (void *avcl, int level, const char *fmt, va_list args)
{
  if (level > AV_LOG_VERBOSE)
    return;
  char line[1024];
  int print_prefix = 1;
  va_list copy;
  va_copy (copy, args);
  av_log_format_line2 (avcl, level, fmt, copy, line, sizeof line, &print_prefix);
  va_end (copy);
  g_strchomp (line);
  if (line[0] != '\0')
    g_log_structured ("reelgen-media", G_LOG_LEVEL_DEBUG, "MESSAGE", "%s", line);
}

void
rg_media_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      av_log_set_callback (log_to_glib);
      g_once_init_leave (&once, 1);
    }
}

void
rg_media_set_averror (GError **error, RgError code, int averr, const char *format, ...)
{
  char averr_text[AV_ERROR_MAX_STRING_SIZE] = "";
  av_strerror (averr, averr_text, sizeof averr_text);

  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, RG_ERROR, code, "%s: %s", message, averr_text);
}

enum AVPixelFormat
rg_media_packed_av_format (RgPixelFormat format)
{
  switch (format)
    {
    case RG_PIXEL_RGBA:
      return AV_PIX_FMT_RGBA;
    case RG_PIXEL_RGB24:
      return AV_PIX_FMT_RGB24;
    case RG_PIXEL_YUV420P:
    case RG_PIXEL_RGB_F32:
    default:
      return AV_PIX_FMT_NONE;
    }
}

int
rg_media_sws_colorspace (int av_colorspace, int height)
{
  switch (av_colorspace)
    {
    case AVCOL_SPC_BT709:
      return SWS_CS_ITU709;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL:
      return SWS_CS_BT2020;
    case AVCOL_SPC_UNSPECIFIED:
      return height >= 720 ? SWS_CS_ITU709 : SWS_CS_ITU601;
    default:
      return SWS_CS_ITU601;
    }
}

gsize
rg_pixel_image_size (RgPixelFormat format, int width, int height)
{
  gsize w = (gsize)MAX (width, 0), h = (gsize)MAX (height, 0);
  switch (format)
    {
    case RG_PIXEL_RGBA:
      return w * h * 4;
    case RG_PIXEL_RGB24:
      return w * h * 3;
    case RG_PIXEL_YUV420P:
      return w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2);
    case RG_PIXEL_RGB_F32:
      return w * h * 3 * sizeof (float);
    default:
      return 0;
    }
}
