/* rg-video-writer.c — encode RGB frames and f32 audio into a container.
 *
 * The shape follows FFmpeg's doc/examples/mux.c and transcode_aac.c: one
 * encoder per stream, send/receive drained to EAGAIN, a NULL frame to flush,
 * packets rescaled from the encoder's to the stream's time base, and audio
 * regrouped through a FIFO because AAC and Opus take fixed-size frames. */
#include "media/rg-video-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "media/rg-media-private.h"
#include "media/rg-rgb-to-yuv.h"

typedef struct
{
  const char *extension;
  const char *muxer;
  const char *video_encoder;     /* preferred by name; NULL = no video */
  enum AVCodecID video_fallback; /* any encoder for this codec id */
  const char *audio_encoder;     /* NULL = no audio */
  gboolean faststart;
} RgContainer;

static const RgContainer containers[] = {
  { "mp4", "mp4", "libx264", AV_CODEC_ID_H264, "aac", TRUE },
  { "m4v", "mp4", "libx264", AV_CODEC_ID_H264, "aac", TRUE },
  { "mov", "mov", "libx264", AV_CODEC_ID_H264, "aac", TRUE },
  { "webm", "webm", "libvpx-vp9", AV_CODEC_ID_VP9, "libopus", FALSE },
  { "mkv", "matroska", "ffv1", AV_CODEC_ID_FFV1, "flac", FALSE },
  { "m4a", "ipod", NULL, AV_CODEC_ID_NONE, "aac", TRUE },
  { "wav", "wav", NULL, AV_CODEC_ID_NONE, "pcm_s16le", FALSE },
  { "flac", "flac", NULL, AV_CODEC_ID_NONE, "flac", FALSE },
};

struct _RgVideoWriter
{
  char *path;
  char *tmp_path;
  RgVideoWriterOptions opts;
  const RgContainer *container;

  AVFormatContext *fmt;
  AVPacket *pkt;

  AVCodecContext *venc;
  AVStream *vst;
  struct SwsContext *sws;
  AVFrame *vframe;
  gint64 n_frames;

  AVCodecContext *aenc;
  AVStream *ast;
  SwrContext *swr;
  AVAudioFifo *fifo; /* converted samples waiting for a full frame */
  AVFrame *aframe;
  int aframe_size;
  gint64 audio_pts; /* samples handed to the encoder */
};

static const RgContainer *
find_container (const char *path)
{
  const char *dot = strrchr (path, '.');
  if (dot == NULL || strchr (dot, G_DIR_SEPARATOR) != NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (containers); i++)
    if (g_ascii_strcasecmp (dot + 1, containers[i].extension) == 0)
      return &containers[i];
  return NULL;
}

static void
writer_free (RgVideoWriter *w)
{
  if (w->fmt != NULL && w->fmt->pb != NULL)
    avio_closep (&w->fmt->pb);
  avformat_free_context (w->fmt);
  avcodec_free_context (&w->venc);
  avcodec_free_context (&w->aenc);
  sws_freeContext (w->sws);
  swr_free (&w->swr);
  if (w->fifo != NULL)
    av_audio_fifo_free (w->fifo);
  av_frame_free (&w->vframe);
  av_frame_free (&w->aframe);
  av_packet_free (&w->pkt);
  g_free (w->path);
  g_free (w->tmp_path);
  g_free (w);
}

void
rg_video_writer_abort (RgVideoWriter *w)
{
  if (w == NULL)
    return;
  /* Close first: the muxer may still hold the file open. */
  if (w->fmt != NULL && w->fmt->pb != NULL)
    avio_closep (&w->fmt->pb);
  if (w->tmp_path != NULL)
    g_unlink (w->tmp_path);
  writer_free (w);
}

/* Send one frame (NULL = flush) and write every packet the encoder has ready. */
static gboolean
encode (RgVideoWriter *w, AVCodecContext *enc, AVStream *st, AVFrame *frame, GError **error)
{
  int ret = avcodec_send_frame (enc, frame);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: %s encoder refused a frame", w->path,
                            enc->codec->name);
      return FALSE;
    }
  for (;;)
    {
      ret = avcodec_receive_packet (enc, w->pkt);
      if (ret == AVERROR (EAGAIN) || ret == AVERROR_EOF)
        return TRUE;
      if (ret < 0)
        {
          rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: %s encoding failed", w->path,
                                enc->codec->name);
          return FALSE;
        }
      av_packet_rescale_ts (w->pkt, enc->time_base, st->time_base);
      w->pkt->stream_index = st->index;
      ret = av_interleaved_write_frame (w->fmt, w->pkt);
      if (ret < 0)
        {
          rg_media_set_averror (error, RG_ERROR_IO, ret, "%s: writing failed", w->tmp_path);
          return FALSE;
        }
    }
}

static const AVCodec *
find_video_encoder (const RgContainer *c)
{
  const AVCodec *codec = avcodec_find_encoder_by_name (c->video_encoder);
  return codec != NULL ? codec : avcodec_find_encoder (c->video_fallback);
}

static gboolean
codec_has_pix_fmt (const AVCodec *codec, enum AVPixelFormat want)
{
  for (const enum AVPixelFormat *p = codec->pix_fmts; p != NULL && *p != AV_PIX_FMT_NONE; p++)
    if (*p == want)
      return TRUE;
  return FALSE;
}

static void
set_video_speed (AVCodecContext *enc, const RgVideoWriterOptions *o)
{
  static const char *x264_presets[] = { "medium", "veryfast", "ultrafast" };
  static const int vp9_cpu_used[] = { 2, 5, 8 };
  int speed = CLAMP ((int)o->speed, 0, 2);

  if (g_str_equal (enc->codec->name, "libx264"))
    {
      av_opt_set (enc->priv_data, "preset", x264_presets[speed], 0);
      av_opt_set_double (enc->priv_data, "crf", o->quality > 0 ? o->quality : 18, 0);
    }
  else if (g_str_equal (enc->codec->name, "libvpx-vp9"))
    {
      av_opt_set (enc->priv_data, "deadline", speed == 0 ? "good" : "realtime", 0);
      av_opt_set_int (enc->priv_data, "cpu-used", vp9_cpu_used[speed], 0);
      av_opt_set_int (enc->priv_data, "crf", o->quality > 0 ? o->quality : 31, 0);
      av_opt_set_int (enc->priv_data, "row-mt", 1, 0);
      enc->bit_rate = 0; /* constant quality, not a bitrate target */
    }
}

static gboolean
open_video (RgVideoWriter *w, GError **error)
{
  const RgVideoWriterOptions *o = &w->opts;
  const AVCodec *codec = find_video_encoder (w->container);
  if (codec == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "%s: this FFmpeg build has no %s encoder",
                   w->path, avcodec_get_name (w->container->video_fallback));
      return FALSE;
    }

  /* FFV1 stores 8-bit RGB exactly (as BGR0), which makes .mkv lossless. */
  enum AVPixelFormat pix
      = codec->id == AV_CODEC_ID_FFV1 && codec_has_pix_fmt (codec, AV_PIX_FMT_BGR0)
            ? AV_PIX_FMT_BGR0
            : AV_PIX_FMT_YUV420P;
  if (pix == AV_PIX_FMT_YUV420P && (o->width % 2 != 0 || o->height % 2 != 0))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: %s with 4:2:0 chroma needs an even frame size, not %d×%d", w->path,
                   codec->name, o->width, o->height);
      return FALSE;
    }

  w->venc = avcodec_alloc_context3 (codec);
  w->vst = avformat_new_stream (w->fmt, NULL);
  w->vframe = av_frame_alloc ();
  if (w->venc == NULL || w->vst == NULL || w->vframe == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "%s: out of memory", w->path);
      return FALSE;
    }

  AVCodecContext *enc = w->venc;
  enc->width = o->width;
  enc->height = o->height;
  enc->pix_fmt = pix;
  enc->time_base = (AVRational){ (int)o->fps.den, (int)o->fps.num };
  enc->framerate = (AVRational){ (int)o->fps.num, (int)o->fps.den };
  /* A keyframe every ~2 s keeps seeking in an editor cheap. */
  enc->gop_size = MAX (1, (int)((2 * o->fps.num + o->fps.den - 1) / o->fps.den));
  enc->thread_count = o->threads;
  if (pix == AV_PIX_FMT_YUV420P)
    {
      gboolean hd = o->height >= 720;
      enc->colorspace = hd ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
      enc->color_primaries = hd ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
      enc->color_trc = hd ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
      enc->color_range = AVCOL_RANGE_MPEG;
    }
  if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER)
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  set_video_speed (enc, o);

  int ret = avcodec_open2 (enc, codec, NULL);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: cannot open the %s encoder", w->path,
                            codec->name);
      return FALSE;
    }
  ret = avcodec_parameters_from_context (w->vst->codecpar, enc);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: video stream setup", w->path);
      return FALSE;
    }
  w->vst->time_base = enc->time_base;
  w->vst->avg_frame_rate = enc->framerate;

  w->vframe->format = pix;
  w->vframe->width = o->width;
  w->vframe->height = o->height;
  ret = av_frame_get_buffer (w->vframe, 0);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_NO_MEMORY, ret, "%s: frame buffer", w->path);
      return FALSE;
    }

  /* 4:2:0 goes through our own converter (rg-rgb-to-yuv.h says why), in
   * the matrix the stream is tagged with so decoders invert it. */
  if (pix == AV_PIX_FMT_YUV420P)
    return TRUE;
  w->sws = sws_getContext (o->width, o->height, rg_media_packed_av_format (o->input), o->width,
                           o->height, pix, SWS_BICUBIC, NULL, NULL, NULL);
  if (w->sws == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_FAILED, "%s: no pixel conversion to %s", w->path,
                   av_get_pix_fmt_name (pix));
      return FALSE;
    }
  return TRUE;
}

static enum AVSampleFormat
pick_sample_format (const AVCodec *codec)
{
  const enum AVSampleFormat *f = codec->sample_fmts;
  if (f == NULL)
    return AV_SAMPLE_FMT_FLTP;
  for (const enum AVSampleFormat *p = f; *p != AV_SAMPLE_FMT_NONE; p++)
    if (*p == AV_SAMPLE_FMT_FLTP || *p == AV_SAMPLE_FMT_FLT)
      return *p;
  return f[0];
}

/* The caller's rate if the encoder takes it, else the nearest it does
 * (Opus: 48 kHz for 44.1 kHz input); swresample converts in between. */
static int
pick_sample_rate (const AVCodec *codec, int want)
{
  const int *r = codec->supported_samplerates;
  if (r == NULL)
    return want;
  int best = r[0];
  for (; *r != 0; r++)
    {
      if (*r == want)
        return want;
      if (abs (*r - want) < abs (best - want))
        best = *r;
    }
  return best;
}

static gboolean
open_audio (RgVideoWriter *w, GError **error)
{
  const RgVideoWriterOptions *o = &w->opts;
  const AVCodec *codec = avcodec_find_encoder_by_name (w->container->audio_encoder);
  if (codec == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "%s: this FFmpeg build has no %s encoder",
                   w->path, w->container->audio_encoder);
      return FALSE;
    }
  w->aenc = avcodec_alloc_context3 (codec);
  w->ast = avformat_new_stream (w->fmt, NULL);
  w->aframe = av_frame_alloc ();
  if (w->aenc == NULL || w->ast == NULL || w->aframe == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "%s: out of memory", w->path);
      return FALSE;
    }

  AVCodecContext *enc = w->aenc;
  enc->sample_fmt = pick_sample_format (codec);
  enc->sample_rate = pick_sample_rate (codec, o->sample_rate);
  av_channel_layout_default (&enc->ch_layout, o->channels);
  enc->time_base = (AVRational){ 1, enc->sample_rate };
  if (codec->id == AV_CODEC_ID_AAC)
    enc->bit_rate = 96000 * o->channels;
  else if (codec->id == AV_CODEC_ID_OPUS)
    enc->bit_rate = 64000 * o->channels;
  if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER)
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

  int ret = avcodec_open2 (enc, codec, NULL);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: cannot open the %s encoder", w->path,
                            codec->name);
      return FALSE;
    }
  ret = avcodec_parameters_from_context (w->ast->codecpar, enc);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: audio stream setup", w->path);
      return FALSE;
    }
  w->ast->time_base = enc->time_base;

  /* PCM and FLAC take any frame size; group them in 1024s all the same. */
  w->aframe_size = enc->frame_size > 0 && !(codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE)
                       ? enc->frame_size
                       : 1024;

  AVChannelLayout in_layout;
  av_channel_layout_default (&in_layout, o->channels);
  ret = swr_alloc_set_opts2 (&w->swr, &enc->ch_layout, enc->sample_fmt, enc->sample_rate,
                             &in_layout, AV_SAMPLE_FMT_FLT, o->sample_rate, 0, NULL);
  av_channel_layout_uninit (&in_layout);
  if (ret >= 0)
    ret = swr_init (w->swr);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: audio conversion setup", w->path);
      return FALSE;
    }
  w->fifo = av_audio_fifo_alloc (enc->sample_fmt, o->channels, w->aframe_size * 4);
  if (w->fifo == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "%s: out of memory", w->path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_options (const char *path, const RgVideoWriterOptions *o, const RgContainer *c,
                  GError **error)
{
  gboolean want_video = o->width != 0 || o->height != 0;
  if (c == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
                   "%s: unknown output type (use .mp4, .mov, .webm, .mkv, .m4a, .wav or .flac)",
                   path);
      return FALSE;
    }
  if (want_video && c->video_encoder == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: .%s files hold audio only",
                   path, c->extension);
      return FALSE;
    }
  if (want_video && (o->width <= 0 || o->height <= 0 || o->width > 16384 || o->height > 16384))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: bad frame size %d×%d", path,
                   o->width, o->height);
      return FALSE;
    }
  if (want_video
      && (o->fps.num <= 0 || o->fps.den <= 0 || o->fps.num > G_MAXINT || o->fps.den > G_MAXINT))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: bad frame rate %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, path, o->fps.num,
                   o->fps.den);
      return FALSE;
    }
  if (want_video && rg_media_packed_av_format (o->input) == AV_PIX_FMT_NONE)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: frames must be given as RGBA or RGB24", path);
      return FALSE;
    }
  if (o->sample_rate < 0 || o->sample_rate > 384000
      || (o->sample_rate > 0 && (o->channels < 1 || o->channels > 2)))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: bad audio format (%d Hz, %d channels; 1 or 2 channels are supported)", path,
                   o->sample_rate, o->channels);
      return FALSE;
    }
  if (!want_video && o->sample_rate == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: neither video nor audio asked",
                   path);
      return FALSE;
    }
  return TRUE;
}

/* A hidden, unique file beside the destination: same file system, so the
 * final rename is atomic. It is created with mode 0666 less the umask (and
 * any default ACL), as open() gives a new file, not mkstemp's private 0600:
 * the rename keeps the mode, and a finished clip must be readable by whoever
 * a normally saved file would be. */
static char *
make_temp_file (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strdup_printf (".%s.XXXXXX.part", base);
  char *tmp = g_build_filename (dir, name, NULL);
  int fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot create a file in %s: %s", path, dir,
                   g_strerror (saved));
      g_free (tmp);
      return NULL;
    }
  close (fd);
  return tmp;
}

RgVideoWriter *
rg_video_writer_open (const char *path, const RgVideoWriterOptions *opts, GError **error)
{
  rg_media_init ();
  g_return_val_if_fail (path != NULL && opts != NULL, NULL);

  const RgContainer *c = find_container (path);
  if (!validate_options (path, opts, c, error))
    return NULL;

  RgVideoWriter *w = g_new0 (RgVideoWriter, 1);
  w->path = g_strdup (path);
  w->opts = *opts;
  w->container = c;
  w->tmp_path = make_temp_file (path, error);
  if (w->tmp_path == NULL)
    goto fail;

  int ret = avformat_alloc_output_context2 (&w->fmt, NULL, c->muxer, w->tmp_path);
  if (ret < 0 || w->fmt == NULL)
    {
      rg_media_set_averror (error, RG_ERROR_UNSUPPORTED, ret, "%s: no %s muxer", path, c->muxer);
      goto fail;
    }
  w->pkt = av_packet_alloc ();
  if (w->pkt == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY, "%s: out of memory", path);
      goto fail;
    }
  if (opts->width > 0 && !open_video (w, error))
    goto fail;
  if (opts->sample_rate > 0 && !open_audio (w, error))
    goto fail;

  ret = avio_open (&w->fmt->pb, w->tmp_path, AVIO_FLAG_WRITE);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_IO, ret, "%s: cannot open for writing", w->tmp_path);
      goto fail;
    }
  AVDictionary *mux_opts = NULL;
  if (c->faststart)
    av_dict_set (&mux_opts, "movflags", "+faststart", 0);
  ret = avformat_write_header (w->fmt, &mux_opts);
  av_dict_free (&mux_opts);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, ret, "%s: cannot write the header", path);
      goto fail;
    }
  return w;

fail:
  rg_video_writer_abort (w);
  return NULL;
}

gboolean
rg_video_writer_write_rgb (RgVideoWriter *w, const guint8 *pixels, gsize stride, GError **error)
{
  g_return_val_if_fail (w != NULL && pixels != NULL, FALSE);
  if (w->venc == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: this file has no video stream",
                   w->path);
      return FALSE;
    }
  int bpp = w->opts.input == RG_PIXEL_RGBA ? 4 : 3;
  if (stride < (gsize)w->opts.width * bpp || stride > G_MAXINT)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: row stride %" G_GSIZE_FORMAT " is too small for %d pixels", w->path, stride,
                   w->opts.width);
      return FALSE;
    }
  /* The encoder may still hold the previous frame's buffer. */
  int ret = av_frame_make_writable (w->vframe);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_NO_MEMORY, ret, "%s: frame buffer", w->path);
      return FALSE;
    }
  if (w->sws == NULL)
    {
      RgYuvMatrix m = w->venc->colorspace == AVCOL_SPC_BT709 ? RG_YUV_BT709 : RG_YUV_BT601;
      rg_rgb_to_yuv420p (pixels, stride, bpp, w->opts.width, w->opts.height, m, w->vframe->data,
                         w->vframe->linesize);
    }
  else
    {
      const uint8_t *src[1] = { pixels };
      const int src_stride[1] = { (int)stride };
      sws_scale (w->sws, src, src_stride, 0, w->opts.height, w->vframe->data, w->vframe->linesize);
    }
  w->vframe->pts = w->n_frames;
  if (!encode (w, w->venc, w->vst, w->vframe, error))
    return FALSE;
  w->n_frames++;
  return TRUE;
}

/* Hand `n` samples from the FIFO to the encoder (n < frame size only at the end). */
static gboolean
encode_audio_frame (RgVideoWriter *w, int n, GError **error)
{
  AVFrame *f = w->aframe;
  int ret = 0;
  if (f->buf[0] == NULL)
    {
      f->format = w->aenc->sample_fmt;
      f->sample_rate = w->aenc->sample_rate;
      f->nb_samples = w->aframe_size;
      ret = av_channel_layout_copy (&f->ch_layout, &w->aenc->ch_layout);
      if (ret >= 0)
        ret = av_frame_get_buffer (f, 0);
    }
  else
    {
      f->nb_samples = w->aframe_size;
      ret = av_frame_make_writable (f);
    }
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_NO_MEMORY, ret, "%s: audio frame", w->path);
      return FALSE;
    }

  int got = av_audio_fifo_read (w->fifo, (void **)f->data, n);
  if (got != n)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_FAILED, "%s: audio FIFO underrun", w->path);
      return FALSE;
    }
  /* Encoders without SMALL_LAST_FRAME need a whole frame: pad with silence. */
  gboolean may_be_short = (w->aenc->codec->capabilities
                           & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE))
                          != 0;
  if (n < w->aframe_size && !may_be_short)
    av_samples_set_silence (f->data, n, w->aframe_size - n, w->opts.channels, w->aenc->sample_fmt);
  else
    f->nb_samples = n;

  f->pts = w->audio_pts;
  w->audio_pts += f->nb_samples;
  return encode (w, w->aenc, w->ast, f, error);
}

/* Convert `n` input frames (NULL = drain the resampler) into the FIFO. */
static gboolean
convert_audio (RgVideoWriter *w, const float *in, int n, GError **error)
{
  int out_max = swr_get_out_samples (w->swr, n);
  if (out_max < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, out_max, "%s: audio conversion", w->path);
      return FALSE;
    }
  if (out_max == 0)
    return TRUE;
  uint8_t **buf = NULL;
  int ret = av_samples_alloc_array_and_samples (&buf, NULL, w->opts.channels, out_max,
                                                w->aenc->sample_fmt, 0);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_NO_MEMORY, ret, "%s: audio buffer", w->path);
      return FALSE;
    }
  const uint8_t *src[1] = { (const uint8_t *)in };
  int got = swr_convert (w->swr, buf, out_max, in != NULL ? src : NULL, n);
  if (got > 0 && av_audio_fifo_write (w->fifo, (void **)buf, got) < got)
    got = AVERROR (ENOMEM);
  av_freep (&buf[0]);
  av_freep (&buf);
  if (got < 0)
    {
      rg_media_set_averror (error, RG_ERROR_FAILED, got, "%s: audio conversion", w->path);
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_video_writer_write_audio (RgVideoWriter *w, const float *interleaved, gsize n_frames,
                             GError **error)
{
  g_return_val_if_fail (w != NULL && (interleaved != NULL || n_frames == 0), FALSE);
  if (w->aenc == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: this file has no audio stream",
                   w->path);
      return FALSE;
    }
  /* swresample counts in int: feed large buffers in pieces. */
  const gsize chunk = 1 << 16;
  for (gsize done = 0; done < n_frames; done += chunk)
    {
      int n = (int)MIN (chunk, n_frames - done);
      if (!convert_audio (w, interleaved + done * w->opts.channels, n, error))
        return FALSE;
      while (av_audio_fifo_size (w->fifo) >= w->aframe_size)
        if (!encode_audio_frame (w, w->aframe_size, error))
          return FALSE;
    }
  return TRUE;
}

gint64
rg_video_writer_get_frame_count (RgVideoWriter *w)
{
  g_return_val_if_fail (w != NULL, 0);
  return w->n_frames;
}

static gboolean
flush_all (RgVideoWriter *w, GError **error)
{
  if (w->venc != NULL)
    {
      if (w->n_frames == 0)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: no frames were written",
                       w->path);
          return FALSE;
        }
      if (!encode (w, w->venc, w->vst, NULL, error))
        return FALSE;
    }
  if (w->aenc != NULL)
    {
      if (!convert_audio (w, NULL, 0, error))
        return FALSE;
      while (av_audio_fifo_size (w->fifo) > 0)
        if (!encode_audio_frame (w, MIN (av_audio_fifo_size (w->fifo), w->aframe_size), error))
          return FALSE;
      if (!encode (w, w->aenc, w->ast, NULL, error))
        return FALSE;
    }
  int ret = av_write_trailer (w->fmt);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_IO, ret, "%s: cannot write the trailer", w->path);
      return FALSE;
    }
  ret = avio_closep (&w->fmt->pb);
  if (ret < 0)
    {
      rg_media_set_averror (error, RG_ERROR_IO, ret, "%s: closing failed", w->tmp_path);
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_video_writer_finish (RgVideoWriter *w, GError **error)
{
  g_return_val_if_fail (w != NULL, FALSE);
  if (!flush_all (w, error))
    {
      rg_video_writer_abort (w);
      return FALSE;
    }
  if (g_rename (w->tmp_path, w->path) != 0)
    {
      int saved = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot move the finished file into place: %s",
                   w->path, g_strerror (saved));
      rg_video_writer_abort (w);
      return FALSE;
    }
  writer_free (w);
  return TRUE;
}
