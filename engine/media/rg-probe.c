/* rg-probe.c — container and stream facts from headers plus a packet scan. */
#include "media/rg-probe.h"

#include <math.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

#include "media/rg-media-private.h"

/* Packets demuxed (not decoded) to count frames and measure frame durations:
 * a minute or two of typical video, read in well under a second. Longer
 * files keep the container's frame count (MP4 has it) and are judged VFR or
 * not on that opening stretch. */
#define SCAN_PACKETS 6000

void
rg_media_info_free (RgMediaInfo *info)
{
  if (info == NULL)
    return;
  for (guint i = 0; i < info->n_video; i++)
    {
      g_free (info->video[i].codec);
      g_free (info->video[i].pixel_format);
    }
  for (guint i = 0; i < info->n_audio; i++)
    {
      g_free (info->audio[i].codec);
      g_free (info->audio[i].channel_layout);
    }
  g_free (info->video);
  g_free (info->audio);
  g_free (info->path);
  g_free (info->container);
  g_free (info->container_long);
  g_free (info);
}

static RgTime
stream_time (const AVStream *st, int64_t v)
{
  return v == AV_NOPTS_VALUE ? -1 : rg_time_from_tb (v, RG_MEDIA_TB (st));
}

/* Degrees clockwise to turn decoded pictures upright. The display matrix
 * holds the counter-clockwise angle, as ffmpeg's autorotate reads it. */
static int
stream_rotation (const AVStream *st)
{
  const int32_t *matrix
      = (const int32_t *)av_stream_get_side_data (st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
  if (matrix == NULL)
    return 0;
  double theta = -av_display_rotation_get (matrix);
  if (isnan (theta))
    return 0;
  int deg = (int)lround (theta / 90.0) * 90;
  return ((deg % 360) + 360) % 360;
}

static gboolean
is_still_image_format (const AVFormatContext *fmt)
{
  const char *name = fmt->iformat->name;
  return g_str_equal (name, "image2") || g_str_has_suffix (name, "_pipe");
}

static void
fill_video (RgVideoStreamInfo *v, const AVFormatContext *fmt, const AVStream *st)
{
  const AVCodecParameters *par = st->codecpar;
  const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get (par->format);

  v->index = st->index;
  v->codec = g_strdup (avcodec_get_name (par->codec_id));
  v->width = par->width;
  v->height = par->height;
  v->pixel_format = g_strdup (desc != NULL ? desc->name : "unknown");
  v->bit_depth = desc != NULL ? desc->comp[0].depth : 0;
  v->nominal_fps = (RgRational){ st->r_frame_rate.num, MAX (st->r_frame_rate.den, 1) };
  v->average_fps = (RgRational){ st->avg_frame_rate.num, MAX (st->avg_frame_rate.den, 1) };
  v->rotation = stream_rotation (st);
  gboolean quarter = v->rotation == 90 || v->rotation == 270;
  v->display_width = quarter ? par->height : par->width;
  v->display_height = quarter ? par->width : par->height;
  v->frame_count = st->nb_frames > 0 ? st->nb_frames : -1;
  v->start = stream_time (st, st->start_time);
  v->duration = stream_time (st, st->duration);
  v->still_image = is_still_image_format (fmt);
  if (v->still_image)
    {
      v->frame_count = 1;
      v->average_fps = (RgRational){ 0, 1 };
      v->duration = -1;
    }
}

static void
fill_audio (RgAudioStreamInfo *a, const AVStream *st)
{
  const AVCodecParameters *par = st->codecpar;
  char layout[128] = "";
  if (par->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
    {
      /* WAV without a channel mask: FFmpeg's default for the count is what
       * every player (and our decoder) assumes. */
      AVChannelLayout guess;
      av_channel_layout_default (&guess, par->ch_layout.nb_channels);
      av_channel_layout_describe (&guess, layout, sizeof layout);
      av_channel_layout_uninit (&guess);
    }
  else
    av_channel_layout_describe (&par->ch_layout, layout, sizeof layout);

  a->index = st->index;
  a->codec = g_strdup (avcodec_get_name (par->codec_id));
  a->sample_rate = par->sample_rate;
  a->channels = par->ch_layout.nb_channels;
  a->channel_layout = g_strdup (layout);
  a->start = stream_time (st, st->start_time);
  a->duration = stream_time (st, st->duration);
}

static int
cmp_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return (x > y) - (x < y);
}

/* Frame durations from the presentation timestamps of one stream's packets. */
static void
measure_timing (RgVideoStreamInfo *v, const AVStream *st, GArray *pts, gboolean complete)
{
  if (complete && v->frame_count < 0)
    v->frame_count = pts->len;
  if (pts->len < 3)
    return;
  g_array_sort (pts, cmp_int64);
  gint64 lo = G_MAXINT64, hi = 0;
  for (guint i = 1; i < pts->len; i++)
    {
      gint64 d = g_array_index (pts, gint64, i) - g_array_index (pts, gint64, i - 1);
      lo = MIN (lo, d);
      hi = MAX (hi, d);
    }
  /* Millisecond time bases round 29.97 fps to 33/34: that is not VFR. */
  v->variable_fps = hi - lo > 2 && (hi - lo) * 20 > lo;

  gint64 span = g_array_index (pts, gint64, pts->len - 1) - g_array_index (pts, gint64, 0);
  if (complete && span > 0)
    {
      /* frames ÷ (span + one mean frame), in the stream time base */
      gint64 n = pts->len;
      gint64 den = (gint64)st->time_base.num * (span + span / (n - 1));
      gint64 num = (gint64)st->time_base.den * n;
      gint64 g = 1, a = num, b = den;
      while (b != 0)
        {
          gint64 t = a % b;
          a = b;
          b = t;
        }
      g = a;
      if (v->average_fps.num == 0)
        v->average_fps = (RgRational){ num / g, den / g };
      if (v->duration < 0)
        v->duration = rg_time_from_tb (span + span / (n - 1), RG_MEDIA_TB (st));
    }
}

/* A container that says it lasts longer than its packets do was cut short
 * (a Matroska, WebM or MPEG-TS file stopped mid-download or mid-recording):
 * what is there plays, so it is not refused, but its length is what can be
 * played, and the caller is told. Half a second of slack keeps a header's
 * rounding or a trailing gap from counting as damage. */
#define TRUNCATION_SLACK (RG_TIME_HZ / 2)

static void
check_truncation (AVFormatContext *fmt, RgMediaInfo *info, const gint64 *end)
{
  RgTime last = -1;
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    if (end[i] != AV_NOPTS_VALUE)
      last = MAX (last, stream_time (fmt->streams[i], end[i]));
  for (guint i = 0; i < info->n_audio; i++)
    {
      RgAudioStreamInfo *a = &info->audio[i];
      int idx = a->index;
      if (a->duration < 0 && end[idx] != AV_NOPTS_VALUE)
        a->duration = stream_time (fmt->streams[idx], end[idx]) - MAX (a->start, 0);
    }
  if (last < 0 || info->duration < 0)
    return;
  RgTime start = fmt->start_time != AV_NOPTS_VALUE
                     ? rg_time_from_tb (fmt->start_time, (RgRational){ 1, AV_TIME_BASE })
                     : 0;
  RgTime playable = last - start;
  if (info->duration - playable > TRUNCATION_SLACK)
    {
      info->truncated = TRUE;
      info->duration = playable;
    }
}

static void
scan_packets (AVFormatContext *fmt, RgMediaInfo *info)
{
  GArray **pts = g_new0 (GArray *, fmt->nb_streams);
  gint64 *end = g_new (gint64, fmt->nb_streams); /* per stream: last packet's end */
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    end[i] = AV_NOPTS_VALUE;
  for (guint i = 0; i < info->n_video; i++)
    if (!info->video[i].still_image)
      pts[info->video[i].index] = g_array_new (FALSE, FALSE, sizeof (gint64));

  AVPacket *pkt = av_packet_alloc ();
  gboolean complete = FALSE;
  for (int n = 0; pkt != NULL && n < SCAN_PACKETS; n++)
    {
      int ret = av_read_frame (fmt, pkt);
      if (ret < 0)
        {
          complete = ret == AVERROR_EOF;
          break;
        }
      GArray *a = pts[pkt->stream_index];
      gint64 t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (a != NULL && t != AV_NOPTS_VALUE)
        g_array_append_val (a, t);
      if (t != AV_NOPTS_VALUE)
        {
          gint64 *e = &end[pkt->stream_index];
          gint64 packet_end = t + MAX (pkt->duration, 0);
          *e = *e == AV_NOPTS_VALUE ? packet_end : MAX (*e, packet_end);
        }
      av_packet_unref (pkt);
    }
  av_packet_free (&pkt);

  for (guint i = 0; i < info->n_video; i++)
    {
      int idx = info->video[i].index;
      if (pts[idx] != NULL)
        measure_timing (&info->video[i], fmt->streams[idx], pts[idx], complete);
    }
  /* Only a scan that reached the end knows where the packets stop. */
  if (complete)
    check_truncation (fmt, info, end);
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    if (pts[i] != NULL)
      g_array_unref (pts[i]);
  g_free (pts);
  g_free (end);
}

RgMediaInfo *
rg_probe (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  AVFormatContext *fmt = rg_media_open_input (path, error);
  if (fmt == NULL)
    return NULL;

  RgMediaInfo *info = g_new0 (RgMediaInfo, 1);
  info->path = g_strdup (path);
  info->container = g_strdup (fmt->iformat->name);
  info->container_long = g_strdup (fmt->iformat->long_name);
  info->duration = fmt->duration != AV_NOPTS_VALUE
                       ? rg_time_from_tb (fmt->duration, (RgRational){ 1, AV_TIME_BASE })
                       : -1;
  info->bit_rate = fmt->bit_rate;
  info->video = g_new0 (RgVideoStreamInfo, fmt->nb_streams);
  info->audio = g_new0 (RgAudioStreamInfo, fmt->nb_streams);
  info->best_video = info->best_audio = -1;

  int best_v = av_find_best_stream (fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  int best_a = av_find_best_stream (fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
  for (unsigned i = 0; i < fmt->nb_streams; i++)
    {
      const AVStream *st = fmt->streams[i];
      enum AVMediaType type = st->codecpar->codec_type;
      /* Cover art in a music file is a picture, not a video stream. */
      if (type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
        {
          if ((int)i == best_v)
            info->best_video = info->n_video;
          fill_video (&info->video[info->n_video++], fmt, st);
        }
      else if (type == AVMEDIA_TYPE_AUDIO)
        {
          if ((int)i == best_a)
            info->best_audio = info->n_audio;
          fill_audio (&info->audio[info->n_audio++], st);
        }
    }
  if (info->best_video < 0 && info->n_video > 0)
    info->best_video = 0;
  if (info->best_audio < 0 && info->n_audio > 0)
    info->best_audio = 0;

  scan_packets (fmt, info);
  avformat_close_input (&fmt);
  return info;
}
