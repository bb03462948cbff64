/* rg-probe.h — what a media file holds, without decoding it (DESIGN §3).
 *
 * rg_probe() opens a file, reads its container headers and scans packet
 * timestamps (cheap: no decoding) to learn what headers leave out: the exact
 * frame count where the index gives it, whether the frame rate varies, and
 * whether the file was cut short. Times are RgTime ticks (1/90000 s); -1
 * means unknown.
 *
 * Refusals are RG_ERROR with the file name in the message:
 *   NOT_FOUND    the file does not exist
 *   CORRUPT      not a media file; a media file that is damaged or truncated
 *   UNSUPPORTED  a media file with no audio or video stream we can decode
 *   IO           it exists but cannot be read */
#pragma once

#include <glib.h>

#include "core/rg-time.h"

G_BEGIN_DECLS

typedef struct
{
  int index;   /* stream index in the container */
  char *codec; /* "h264", "vp9", "png" … */
  int width;   /* coded picture size, before rotation */
  int height;
  char *pixel_format;     /* "yuv420p", "yuv420p10le" … */
  int bit_depth;          /* bits per component: 8, 10 … */
  RgRational nominal_fps; /* the container's base rate (r_frame_rate) */
  RgRational average_fps; /* frames ÷ duration; {0, 1} when unknown */
  gboolean variable_fps;  /* frame durations differ (VFR) */
  int rotation;           /* degrees clockwise to turn decoded frames for
                           * display: 0, 90, 180 or 270 */
  int display_width;      /* size after rotation */
  int display_height;
  gint64 frame_count; /* -1 when the container does not say */
  RgTime start;       /* first frame's timestamp */
  RgTime duration;
  gboolean still_image; /* a single picture (PNG, JPEG …) */
} RgVideoStreamInfo;

typedef struct
{
  int index;
  char *codec;
  int sample_rate;
  int channels;
  char *channel_layout; /* "mono", "stereo", "5.1(side)" … */
  RgTime start;
  RgTime duration;
} RgAudioStreamInfo;

typedef struct
{
  char *path;
  char *container;      /* FFmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" */
  char *container_long; /* "QuickTime / MOV" */
  RgTime duration;      /* of the whole file; -1 if unknown */
  gint64 bit_rate;      /* bits per second, 0 if unknown */
  guint n_video;
  RgVideoStreamInfo *video;
  guint n_audio;
  RgAudioStreamInfo *audio;
  int best_video; /* index into video[] of the main stream, or -1 */
  int best_audio; /* index into audio[], or -1 */
  /* The file stops before its header says it ends (cut short while being
   * copied or recorded) but what is there plays: duration is then what can
   * be played, not the header's claim. Worth a warning to the user. An MP4
   * whose index points past the end is refused instead (CORRUPT). */
  gboolean truncated;
} RgMediaInfo;

RgMediaInfo *rg_probe (const char *path, GError **error);
void rg_media_info_free (RgMediaInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgMediaInfo, rg_media_info_free)

G_END_DECLS
