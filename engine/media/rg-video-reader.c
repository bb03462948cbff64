/* rg-video-reader.c — decode the frame shown at a time, keep the decoder's
 * position between calls, convert with libswscale, turn frames upright. */
#include "media/rg-video-reader.h"

#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "media/rg-media-decode.h"

/* Asking for a time further than this beyond the decoder's position seeks
 * instead of decoding every frame in between. */
#define SEEK_AHEAD (3 * RG_TIME_HZ)

struct _RgVideoReader
{
  char *path;
  RgVideoReaderOptions opts;
  RgDecodeLoop loop;
  RgRational tb;
  int64_t start_pts; /* stream time of reader time 0 */
  gboolean still;
  int rotation;
  RgTime duration;
  RgTime frame_time; /* one frame at the average rate */
  RgRational fps;

  /* cur: the frame last returned (or the candidate for t); ahead: the next
   * frame, decoded to learn where cur's interval ends. */
  AVFrame *cur;
  AVFrame *ahead;
  gboolean have_cur;
  gboolean have_ahead;
  gboolean eof;
  gboolean at_start; /* the decoder is at the stream's beginning */
  RgTime last_t;     /* time of the last decoded frame (for untimed streams) */
  gboolean need_key; /* after a seek: frames before the first keyframe are
                      * missing their references, so they are dropped */
  gboolean cur_converted;

  int out_w, out_h;     /* upright output size */
  int scale_w, scale_h; /* size before rotation */
  enum AVPixelFormat scale_fmt;
  struct SwsContext *sws;
  guint8 *scaled; /* before rotation (NULL when not rotating) */
  guint8 *out;
  gsize out_size;
};

void
rg_video_reader_free (RgVideoReader *r)
{
  if (r == NULL)
    return;
  rg_decode_loop_clear (&r->loop);
  av_frame_free (&r->cur);
  av_frame_free (&r->ahead);
  sws_freeContext (r->sws);
  g_free (r->scaled);
  g_free (r->out);
  g_free (r->path);
  g_free (r);
}

static int
display_rotation (const AVStream *st)
{
  const int32_t *m = (const int32_t *)av_stream_get_side_data (st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
  if (m == NULL)
    return 0;
  double theta = -av_display_rotation_get (m);
  if (theta != theta) /* NaN: a degenerate matrix */
    return 0;
  int deg = (int)lround (theta / 90.0) * 90;
  return ((deg % 360) + 360) % 360;
}

static enum AVPixelFormat
scale_format (RgPixelFormat f)
{
  switch (f)
    {
    case RG_PIXEL_RGBA:
      return AV_PIX_FMT_RGBA;
    case RG_PIXEL_RGB24:
      return AV_PIX_FMT_RGB24;
    case RG_PIXEL_YUV420P:
      return AV_PIX_FMT_YUV420P;
    case RG_PIXEL_RGB_F32:
      return AV_PIX_FMT_GBRPF32;
    default:
      return AV_PIX_FMT_NONE;
    }
}

static gboolean
setup_output (RgVideoReader *r, int coded_w, int coded_h, GError **error)
{
  const RgVideoReaderOptions *o = &r->opts;
  if (o->keep_rotation)
    r->rotation = 0;
  gboolean quarter = r->rotation == 90 || r->rotation == 270;
  int disp_w = quarter ? coded_h : coded_w, disp_h = quarter ? coded_w : coded_h;

  r->out_w = o->width, r->out_h = o->height;
  if (r->out_w <= 0 && r->out_h <= 0)
    r->out_w = disp_w, r->out_h = disp_h;
  else if (r->out_h <= 0) /* keep the aspect ratio */
    r->out_h = MAX (1, (int)((gint64)r->out_w * disp_h / MAX (disp_w, 1)));
  else if (r->out_w <= 0)
    r->out_w = MAX (1, (int)((gint64)r->out_h * disp_w / MAX (disp_h, 1)));
  if (r->out_w > 16384 || r->out_h > 16384 || r->out_w <= 0 || r->out_h <= 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: bad output size %d×%d", r->path,
                   r->out_w, r->out_h);
      return FALSE;
    }
  r->scale_w = quarter ? r->out_h : r->out_w;
  r->scale_h = quarter ? r->out_w : r->out_h;
  r->scale_fmt = scale_format (o->format);
  if (r->scale_fmt == AV_PIX_FMT_NONE || !sws_isSupportedOutput (r->scale_fmt))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "%s: unsupported output pixel format",
                   r->path);
      return FALSE;
    }
  r->out_size = rg_pixel_image_size (o->format, r->out_w, r->out_h);
  r->out = g_malloc (r->out_size);
  if (r->rotation != 0)
    r->scaled = g_malloc (r->out_size);
  return TRUE;
}

RgVideoReader *
rg_video_reader_open (const char *path, const RgVideoReaderOptions *opts, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  static const RgVideoReaderOptions defaults = { 0 };

  AVFormatContext *fmt = rg_media_open_input (path, error);
  if (fmt == NULL)
    return NULL;

  RgVideoReader *r = g_new0 (RgVideoReader, 1);
  r->path = g_strdup (path);
  r->opts = opts != NULL ? *opts : defaults;
  int index = av_find_best_stream (fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
  if (index < 0 || (fmt->streams[index]->disposition & AV_DISPOSITION_ATTACHED_PIC))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NOT_FOUND, "%s: no video stream", path);
      avformat_close_input (&fmt);
      rg_video_reader_free (r);
      return NULL;
    }
  if (!rg_decode_loop_init (&r->loop, r->path, fmt, index, r->opts.threads, error))
    {
      if (r->loop.fmt == NULL)
        avformat_close_input (&fmt);
      rg_video_reader_free (r);
      return NULL;
    }

  AVStream *st = r->loop.st;
  r->tb = RG_MEDIA_TB (st);
  r->start_pts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
  r->still = g_str_equal (fmt->iformat->name, "image2")
             || g_str_has_suffix (fmt->iformat->name, "_pipe");
  r->rotation = display_rotation (st);
  AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  if (rate.num <= 0 || rate.den <= 0)
    rate = (AVRational){ 25, 1 };
  r->fps = (RgRational){ rate.num, rate.den };
  r->frame_time = rg_time_from_frame (1, r->fps);
  r->duration = st->duration != AV_NOPTS_VALUE ? rg_time_from_tb (st->duration, r->tb)
                : fmt->duration != AV_NOPTS_VALUE
                    ? rg_time_from_tb (fmt->duration, (RgRational){ 1, AV_TIME_BASE })
                    : -1;
  r->at_start = TRUE;
  r->last_t = -r->frame_time;
  r->cur = av_frame_alloc ();
  r->ahead = av_frame_alloc ();
  if (r->cur == NULL || r->ahead == NULL
      || !setup_output (r, st->codecpar->width, st->codecpar->height, error))
    {
      if (r->cur == NULL || r->ahead == NULL)
        g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "%s: out of memory", path);
      rg_video_reader_free (r);
      return NULL;
    }
  return r;
}

static RgTime
frame_time (RgVideoReader *r, const AVFrame *f)
{
  int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
  if (ts == AV_NOPTS_VALUE)
    return 0;
  return rg_time_from_tb (ts - r->start_pts, r->tb);
}

static void
swap_ahead_into_cur (RgVideoReader *r)
{
  AVFrame *t = r->cur;
  r->cur = r->ahead;
  r->ahead = t;
  av_frame_unref (r->ahead);
  r->have_cur = TRUE;
  r->have_ahead = FALSE;
  r->cur_converted = FALSE;
}

/* Decode the next frame into r->ahead; FALSE at the end or on error. */
static gboolean
decode_ahead (RgVideoReader *r, GError **error)
{
  if (r->eof)
    return FALSE;
  av_frame_unref (r->ahead);
  int got = rg_decode_loop_next (&r->loop, r->ahead, error);
  if (got <= 0)
    {
      r->eof = got == 0;
      return FALSE;
    }
  /* Raw elementary streams carry no timestamps: frames follow each other
   * at the nominal rate. */
  if (r->ahead->best_effort_timestamp == AV_NOPTS_VALUE && r->ahead->pts == AV_NOPTS_VALUE)
    r->ahead->best_effort_timestamp
        = r->start_pts + rg_time_to_tb (r->last_t + r->frame_time, r->tb);
  r->last_t = frame_time (r, r->ahead);
  r->have_ahead = TRUE;
  return TRUE;
}

/* Turn one plane of w×h elements of `elem` bytes clockwise by `rot`. */
static void
rotate_plane (const guint8 *src, int w, int h, int elem, guint8 *dst, int rot)
{
  int dw = rot == 180 ? w : h;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int dx, dy;
        if (rot == 90)
          dx = h - 1 - y, dy = x;
        else if (rot == 180)
          dx = w - 1 - x, dy = h - 1 - y;
        else /* 270 */
          dx = y, dy = w - 1 - x;
        memcpy (dst + ((gsize)dy * dw + dx) * elem, src + ((gsize)y * w + x) * elem, elem);
      }
}

static void
rotate_image (RgVideoReader *r)
{
  int w = r->scale_w, h = r->scale_h;
  switch (r->opts.format)
    {
    case RG_PIXEL_RGBA:
      rotate_plane (r->scaled, w, h, 4, r->out, r->rotation);
      break;
    case RG_PIXEL_RGB24:
      rotate_plane (r->scaled, w, h, 3, r->out, r->rotation);
      break;
    case RG_PIXEL_RGB_F32:
      for (int p = 0; p < 3; p++)
        rotate_plane (r->scaled + (gsize)p * w * h * 4, w, h, 4, r->out + (gsize)p * w * h * 4,
                      r->rotation);
      break;
    case RG_PIXEL_YUV420P:
      {
        int cw = (w + 1) / 2, ch = (h + 1) / 2;
        rotate_plane (r->scaled, w, h, 1, r->out, r->rotation);
        gsize y_size = (gsize)w * h, c_size = (gsize)cw * ch;
        rotate_plane (r->scaled + y_size, cw, ch, 1, r->out + y_size, r->rotation);
        rotate_plane (r->scaled + y_size + c_size, cw, ch, 1, r->out + y_size + c_size,
                      r->rotation);
      }
      break;
    default:
      break;
    }
}

static gboolean
convert_cur (RgVideoReader *r, GError **error)
{
  AVFrame *f = r->cur;
  r->sws = sws_getCachedContext (r->sws, f->width, f->height, f->format, r->scale_w, r->scale_h,
                                 r->scale_fmt, SWS_BICUBIC, NULL, NULL, NULL);
  if (r->sws == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "%s: cannot convert %s frames", r->path,
                   av_get_pix_fmt_name (f->format));
      return FALSE;
    }
  /* Read the matrix and range the stream is tagged with; RGB out is full range. */
  const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get (f->format);
  if (desc != NULL && !(desc->flags & AV_PIX_FMT_FLAG_RGB))
    {
      const int *src = sws_getCoefficients (rg_media_sws_colorspace (f->colorspace, f->height));
      gboolean src_full = f->color_range == AVCOL_RANGE_JPEG;
      gboolean dst_full = r->opts.format != RG_PIXEL_YUV420P;
      sws_setColorspaceDetails (r->sws, src, src_full, src, dst_full, 0, 1 << 16, 1 << 16);
    }

  guint8 *buf = r->rotation != 0 ? r->scaled : r->out;
  uint8_t *dst[4] = { NULL };
  int dst_stride[4] = { 0 };
  int w = r->scale_w, h = r->scale_h;
  if (r->opts.format == RG_PIXEL_RGB_F32)
    {
      /* sws writes G, B, R planes; ours are R, G, B. */
      gsize plane = (gsize)w * h * sizeof (float);
      dst[0] = buf + plane, dst[1] = buf + 2 * plane, dst[2] = buf;
      dst_stride[0] = dst_stride[1] = dst_stride[2] = w * (int)sizeof (float);
    }
  else
    av_image_fill_arrays (dst, dst_stride, buf, r->scale_fmt, w, h, 1);
  sws_scale (r->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, dst_stride);
  if (r->rotation != 0)
    rotate_image (r);
  r->cur_converted = TRUE;
  return TRUE;
}

static gboolean
emit (RgVideoReader *r, RgVideoFrame *out, GError **error)
{
  if (!r->cur_converted && !convert_cur (r, error))
    return FALSE;
  RgTime t = frame_time (r, r->cur);
  RgTime end;
  if (r->have_ahead && frame_time (r, r->ahead) > t)
    end = frame_time (r, r->ahead);
  else if (r->cur->pkt_duration > 0)
    end = t + rg_time_from_tb (r->cur->pkt_duration, r->tb);
  else
    end = t + r->frame_time;
  *out = (RgVideoFrame){ .data = r->out,
                         .size = r->out_size,
                         .width = r->out_w,
                         .height = r->out_h,
                         .format = r->opts.format,
                         .pts = t,
                         .duration = end - t };
  return TRUE;
}

static gboolean
seek_to (RgVideoReader *r, RgTime target, GError **error)
{
  gboolean to_start = target <= 0;
  gboolean ok;
  if (to_start)
    ok = rg_decode_loop_rewind (&r->loop, error);
  else
    {
      g_autoptr (GError) local = NULL;
      ok = rg_decode_loop_seek (&r->loop, rg_time_to_tb (target, r->tb) + r->start_pts, &local);
      /* No time index (a raw elementary stream): decode from the start. */
      if (!ok)
        ok = to_start = rg_decode_loop_rewind (&r->loop, error);
    }
  if (!ok)
    return FALSE;
  av_frame_unref (r->cur);
  av_frame_unref (r->ahead);
  r->have_cur = r->have_ahead = r->eof = FALSE;
  r->cur_converted = FALSE;
  r->at_start = to_start;
  r->need_key = !to_start;
  r->last_t = to_start ? -r->frame_time : r->last_t;
  return TRUE;
}

/* Decode forward from the current position until cur is the frame shown at
 * t. Returns FALSE with no error when the seek landed after t, so the caller
 * seeks further back. */
static gboolean
walk_to (RgVideoReader *r, RgTime t, gboolean *landed_late, GError **error)
{
  *landed_late = FALSE;
  for (;;)
    {
      if (!r->have_ahead && !decode_ahead (r, error))
        {
          if (error != NULL && *error != NULL)
            return FALSE;
          if (r->have_cur)
            return TRUE; /* past the last frame: it stays on screen */
          if (!r->at_start)
            {
              *landed_late = TRUE; /* no keyframe after the seek point */
              return FALSE;
            }
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: no video frame could be decoded",
                       r->path);
          return FALSE;
        }
      if (r->need_key && !r->ahead->key_frame)
        {
          av_frame_unref (r->ahead);
          r->have_ahead = FALSE;
          continue;
        }
      r->need_key = FALSE;
      if (!r->have_cur)
        {
          if (frame_time (r, r->ahead) > t && !r->at_start)
            {
              *landed_late = TRUE;
              return FALSE;
            }
          swap_ahead_into_cur (r);
          continue;
        }
      /* Open-GOP leading pictures come out after the keyframe yet belong
       * before it, and cannot be decoded after a seek: drop them. */
      if (frame_time (r, r->ahead) <= frame_time (r, r->cur))
        {
          av_frame_unref (r->ahead);
          r->have_ahead = FALSE;
          continue;
        }
      if (frame_time (r, r->ahead) > t)
        return TRUE;
      swap_ahead_into_cur (r);
    }
}

gboolean
rg_video_reader_frame_at (RgVideoReader *r, RgTime t, RgVideoFrame *frame, GError **error)
{
  g_return_val_if_fail (r != NULL && frame != NULL, FALSE);
  if (t < 0)
    t = 0;
  if (r->still && r->have_cur)
    return emit (r, frame, error);

  /* Can we get there from here by decoding forward? */
  gboolean forward = FALSE;
  if (r->have_cur && frame_time (r, r->cur) <= t)
    {
      RgTime reached = r->have_ahead ? frame_time (r, r->ahead) : frame_time (r, r->cur);
      forward = r->eof || t - reached < SEEK_AHEAD;
    }
  else if (!r->have_cur && r->at_start)
    forward = t < SEEK_AHEAD;

  if (forward)
    {
      gboolean late;
      if (!walk_to (r, t, &late, error))
        return FALSE;
      return emit (r, frame, error);
    }

  /* Seek to the keyframe before t; if the index was optimistic and the first
   * frame decoded is already after t, back off further, at last to the start. */
  static const RgTime back_off[] = { 0, RG_TIME_HZ, 5 * RG_TIME_HZ, 30 * RG_TIME_HZ };
  for (gsize i = 0; i <= G_N_ELEMENTS (back_off); i++)
    {
      RgTime target = i < G_N_ELEMENTS (back_off) ? t - back_off[i] : 0;
      if (i < G_N_ELEMENTS (back_off) && target <= 0 && i > 0)
        target = 0;
      if (!seek_to (r, target, error))
        return FALSE;
      gboolean late = FALSE;
      if (walk_to (r, t, &late, error))
        return emit (r, frame, error);
      if (!late)
        return FALSE;
      if (target == 0)
        break;
    }
  g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: no frame at or before %.3f s", r->path,
               rg_time_to_seconds (t));
  return FALSE;
}

gboolean
rg_video_reader_next (RgVideoReader *r, RgVideoFrame *frame, GError **error)
{
  g_return_val_if_fail (r != NULL && frame != NULL, FALSE);
  if (!r->have_ahead && !decode_ahead (r, error))
    return FALSE;
  swap_ahead_into_cur (r);
  /* One frame of lookahead gives this frame's true (VFR) duration. */
  if (!decode_ahead (r, error) && error != NULL && *error != NULL)
    return FALSE;
  return emit (r, frame, error);
}

int
rg_video_reader_get_rotation (RgVideoReader *r)
{
  return r->rotation;
}

RgTime
rg_video_reader_get_duration (RgVideoReader *r)
{
  return r->duration;
}

RgRational
rg_video_reader_get_fps (RgVideoReader *r)
{
  return r->fps;
}
