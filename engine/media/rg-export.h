/* rg-export.h — render a timeline to a media file (DESIGN §3.4).
 *
 * The input is a plain description, independent of the project store: the
 * project room turns its timeline into an RgExportSpec and calls rg_export().
 *
 * Video: for each output frame at t = i / fps, the topmost video track with a
 * clip covering t supplies the picture (scaled to fit the canvas, aspect
 * kept, centred on black); where no track has a clip the frame is black.
 * A hidden video track shows nothing.
 * Audio: every unmuted audio track's clips are mixed sample-accurately —
 * a clip starting at timeline time T begins at output sample round(T·rate) —
 * with track and clip gains, then clamped to [-1, 1]. A video track with
 * `with_sound` adds its clips' own sound to the mix the same way (unless the
 * track is muted): what an editor plays for a clip dropped on a video track.
 * Sources without an audio stream (silent video, still images) add nothing.
 *
 * The container follows the extension as in rg-video-writer.h: .mp4 (H.264 +
 * AAC, the default), .webm (VP9 + Opus), .mkv (lossless FFV1 + FLAC). A
 * cancelled or failed export leaves no file behind. */
#pragma once

#include <gio/gio.h>

#include "core/rg-time.h"
#include "media/rg-video-writer.h"

G_BEGIN_DECLS

typedef struct
{
  const char *source; /* media file */
  RgTime source_in;   /* where in the source the clip starts (≥ 0) */
  RgTime start;       /* where on the timeline it starts (≥ 0) */
  RgTime duration;    /* > 0 */
  float gain_db;      /* sound: 0 = unchanged */
} RgExportClip;

typedef struct
{
  const RgExportClip *clips; /* need not be sorted; clips on one track must not overlap */
  guint n_clips;
  gboolean muted;      /* no sound from this track */
  float gain_db;       /* of the track's sound */
  gboolean hidden;     /* video tracks: no picture from this track */
  gboolean with_sound; /* video tracks: mix the clips' own sound too */
} RgExportTrack;

typedef struct
{
  int width; /* canvas; 0 × 0 with no video tracks = audio only */
  int height;
  RgRational fps;
  int sample_rate;                   /* 0 = no audio stream */
  RgTime duration;                   /* ≤ 0: up to the end of the last clip */
  const RgExportTrack *video_tracks; /* [0] is the top track */
  guint n_video_tracks;
  const RgExportTrack *audio_tracks;
  guint n_audio_tracks;
  RgEncodeSpeed speed;
  int quality; /* see RgVideoWriterOptions */
  int threads;
} RgExportSpec;

/* Called on the exporting thread after each frame: fraction done in [0, 1]
 * and the estimated seconds left (negative while unknown). */
typedef void (*RgExportProgress) (double fraction, double eta_seconds, gpointer user_data);

gboolean rg_export (const RgExportSpec *spec, const char *path, RgExportProgress progress,
                    gpointer user_data, GCancellable *cancellable, GError **error);

G_END_DECLS
