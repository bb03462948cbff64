/* rg-media-input.c — open a file for demuxing, and say clearly why not. */
#include <errno.h>
#include <glib/gstdio.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "media/rg-media-private.h"

/* Does FFmpeg recognise the first bytes as any format at all? This separates
 * "not a media file" from "a damaged media file" in the error message. */
static const AVInputFormat *
sniff_format (const char *path)
{
  enum
  {
    SNIFF = 1 << 16
  };
  guint8 *buf = g_malloc0 (SNIFF + AVPROBE_PADDING_SIZE);
  FILE *f = g_fopen (path, "rb");
  size_t n = f != NULL ? fread (buf, 1, SNIFF, f) : 0;
  if (f != NULL)
    fclose (f);
  AVProbeData pd = { .filename = "", .buf = buf, .buf_size = (int)n };
  int score = 0;
  const AVInputFormat *fmt = av_probe_input_format3 (&pd, 1, &score);
  g_free (buf);
  return score >= AVPROBE_SCORE_EXTENSION ? fmt : NULL;
}

static gboolean
is_text_demuxer (const AVInputFormat *f)
{
  /* "tty" renders text files as video; a text file is not media to us. */
  return f != NULL && g_str_equal (f->name, "tty");
}

/* mov/mp4 indexes every sample: one that ends past the end of the file
 * means the download or copy was cut short. */
static gboolean
check_index_complete (AVFormatContext *fmt, const char *path, GError **error)
{
  gint64 size = avio_size (fmt->pb);
  if (size <= 0)
    return TRUE;
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    {
      AVStream *st = fmt->streams[i];
      int n = avformat_index_get_entries_count (st);
      const AVIndexEntry *last = n > 0 ? avformat_index_get_entry (st, n - 1) : NULL;
      if (last != NULL && last->size > 0 && last->pos + last->size > size)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "%s: truncated: stream %u needs %" G_GINT64_FORMAT
                       " bytes but the file has %" G_GINT64_FORMAT,
                       path, i, (gint64)(last->pos + last->size), size);
          return FALSE;
        }
    }
  return TRUE;
}

AVFormatContext *
rg_media_open_input (const char *path, GError **error)
{
  rg_media_init ();
  GStatBuf sb;
  if (g_stat (path, &sb) != 0)
    {
      int saved = errno;
      g_set_error (error, RG_ERROR, saved == ENOENT ? RG_ERROR_NOT_FOUND : RG_ERROR_IO, "%s: %s",
                   path, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (sb.st_mode))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: not a regular file", path);
      return NULL;
    }
  if (sb.st_size == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: empty file", path);
      return NULL;
    }

  AVFormatContext *fmt = NULL;
  int ret = avformat_open_input (&fmt, path, NULL, NULL);
  if (ret == AVERROR (EACCES) || ret == AVERROR (EIO))
    {
      rg_media_set_averror (error, RG_ERROR_IO, ret, "%s: cannot read", path);
      return NULL;
    }
  if (ret < 0 || is_text_demuxer (fmt->iformat))
    {
      const AVInputFormat *sniffed = sniff_format (path);
      if (sniffed == NULL || is_text_demuxer (sniffed))
        g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                     "%s: not a media file (no audio, video or image format recognised)", path);
      else
        rg_media_set_averror (error, RG_ERROR_CORRUPT, ret, "%s: damaged or truncated %s file",
                              path, sniffed->long_name);
      avformat_close_input (&fmt);
      return NULL;
    }

  ret = avformat_find_stream_info (fmt, NULL);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_CORRUPT, ret, "%s: damaged %s file", path,
                            fmt->iformat->long_name);
      avformat_close_input (&fmt);
      return NULL;
    }
  if (!check_index_complete (fmt, path, error))
    {
      avformat_close_input (&fmt);
      return NULL;
    }

  gboolean usable = FALSE;
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    {
      const AVCodecParameters *par = fmt->streams[i]->codecpar;
      if ((par->codec_type == AVMEDIA_TYPE_VIDEO || par->codec_type == AVMEDIA_TYPE_AUDIO)
          && avcodec_find_decoder (par->codec_id) != NULL)
        usable = TRUE;
    }
  if (!usable)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
                   "%s: %s file without an audio or video stream this build can decode", path,
                   fmt->iformat->long_name);
      avformat_close_input (&fmt);
      return NULL;
    }
  return fmt;
}
