/* rg-thumbnails.h — pictures and peaks that stand for a clip in the UI.
 *
 * Plain buffers: caching them (in the project database) is the caller's job.
 * A clip is [in, in + duration) of a source file; duration < 0 means "to the
 * end of the stream". */
#pragma once

#include <glib.h>

#include "core/rg-time.h"

G_BEGIN_DECLS

typedef struct
{
  int count; /* thumbnails in the strip */
  int width; /* of each thumbnail */
  int height;
  guint8 *rgba;  /* count images of width × height RGBA, one after another */
  RgTime *times; /* the source time each one shows */
} RgThumbnailStrip;

/* `count` upright thumbnails `width` pixels wide (height keeps the aspect
 * ratio), each showing the middle of its equal share of the clip. */
RgThumbnailStrip *rg_thumbnail_strip (const char *path, RgTime in, RgTime duration, int count,
                                      int width, GError **error);
void rg_thumbnail_strip_free (RgThumbnailStrip *strip);

typedef struct
{
  int buckets;
  int channels; /* 2: left, right (mono sources give equal channels) */
  int rate;     /* samples per second the peaks were measured at */
  float *min;   /* buckets × channels, interleaved per bucket */
  float *max;
} RgWaveform;

/* Minimum and maximum sample of each of `buckets` equal slices of the clip. */
RgWaveform *rg_waveform_peaks (const char *path, RgTime in, RgTime duration, int buckets,
                               GError **error);
void rg_waveform_free (RgWaveform *wave);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgThumbnailStrip, rg_thumbnail_strip_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgWaveform, rg_waveform_free)

G_END_DECLS
