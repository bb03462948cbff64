/* rg-project-previews.h — thumbnail strips and waveform peaks of a
 * project's assets, computed by engine/media once and then served from the
 * project database (keyed by asset content hash + parameters), so reopening
 * a project or a moved file never recomputes them. */
#pragma once

#include "media/rg-thumbnails.h"
#include "project/rg-project.h"

G_BEGIN_DECLS

/* Peaks of [in, in + duration) of the asset in `buckets` slices. */
RgWaveform *rg_project_waveform (RgProject *project, int64_t asset_id, RgTime in, RgTime duration,
                                 int buckets, GError **error);
/* `count` thumbnails `width` pixels wide over [in, in + duration). */
RgThumbnailStrip *rg_project_thumbnails (RgProject *project, int64_t asset_id, RgTime in,
                                         RgTime duration, int count, int width, GError **error);

G_END_DECLS
