/* rg-project-previews.c — cached waveform peaks and thumbnail strips.
 *
 * Blobs are native-endian (a cache, not an interchange format) and start
 * with their own dimensions; a blob whose size does not match them is
 * treated as absent and recomputed, never trusted. The parameter key
 * carries a layout version so a future layout never reads an old one. */
#include "rg-project-previews.h"

#include <string.h>

#include "core/rg-error.h"

#define LAYOUT "v1"

static char *
key_of (RgTime in, RgTime duration, int a, int b)
{
  return g_strdup_printf (LAYOUT " in=%" G_GINT64_FORMAT " dur=%" G_GINT64_FORMAT " %d %d", in,
                          duration, a, b);
}

static RgWaveform *
waveform_from_blob (GBytes *blob)
{
  gsize n = 0;
  const guint8 *d = g_bytes_get_data (blob, &n);
  gint32 head[3];
  if (n < sizeof head)
    return NULL;
  memcpy (head, d, sizeof head);
  if (head[0] <= 0 || head[1] <= 0 || head[0] > (1 << 24) || head[1] > 16)
    return NULL;
  gsize values = (gsize)head[0] * head[1];
  if (n != sizeof head + 2 * values * sizeof (float))
    return NULL;
  RgWaveform *w = g_new0 (RgWaveform, 1);
  w->buckets = head[0];
  w->channels = head[1];
  w->rate = head[2];
  w->min = g_memdup2 (d + sizeof head, values * sizeof (float));
  w->max = g_memdup2 (d + sizeof head + values * sizeof (float), values * sizeof (float));
  return w;
}

static GBytes *
waveform_to_blob (const RgWaveform *w)
{
  gint32 head[3] = { w->buckets, w->channels, w->rate };
  gsize values = (gsize)w->buckets * w->channels;
  GByteArray *a = g_byte_array_sized_new (sizeof head + 2 * values * sizeof (float));
  g_byte_array_append (a, (const guint8 *)head, sizeof head);
  g_byte_array_append (a, (const guint8 *)w->min, values * sizeof (float));
  g_byte_array_append (a, (const guint8 *)w->max, values * sizeof (float));
  return g_byte_array_free_to_bytes (a);
}

static RgThumbnailStrip *
strip_from_blob (GBytes *blob)
{
  gsize n = 0;
  const guint8 *d = g_bytes_get_data (blob, &n);
  gint32 head[3];
  if (n < sizeof head)
    return NULL;
  memcpy (head, d, sizeof head);
  if (head[0] <= 0 || head[1] <= 0 || head[2] <= 0 || head[0] > 4096 || head[1] > 8192
      || head[2] > 8192)
    return NULL;
  gsize pixels = (gsize)head[0] * head[1] * head[2] * 4;
  gsize times = (gsize)head[0] * sizeof (RgTime);
  if (n != sizeof head + times + pixels)
    return NULL;
  RgThumbnailStrip *s = g_new0 (RgThumbnailStrip, 1);
  s->count = head[0];
  s->width = head[1];
  s->height = head[2];
  s->times = g_memdup2 (d + sizeof head, times);
  s->rgba = g_memdup2 (d + sizeof head + times, pixels);
  return s;
}

static GBytes *
strip_to_blob (const RgThumbnailStrip *s)
{
  gint32 head[3] = { s->count, s->width, s->height };
  gsize pixels = (gsize)s->count * s->width * s->height * 4;
  GByteArray *a = g_byte_array_sized_new (sizeof head + s->count * sizeof (RgTime) + pixels);
  g_byte_array_append (a, (const guint8 *)head, sizeof head);
  g_byte_array_append (a, (const guint8 *)s->times, s->count * sizeof (RgTime));
  g_byte_array_append (a, s->rgba, pixels);
  return g_byte_array_free_to_bytes (a);
}

/* The asset's content hash: the cache key. */
static char *
asset_hash (RgProject *p, int64_t asset_id, GError **error)
{
  RgAsset a = { 0 };
  if (!rg_project_get_asset (p, asset_id, &a, error))
    return NULL;
  char *hash = g_steal_pointer (&a.hash);
  rg_asset_clear (&a);
  return hash;
}

RgWaveform *
rg_project_waveform (RgProject *project, int64_t asset_id, RgTime in, RgTime duration, int buckets,
                     GError **error)
{
  g_autofree char *hash = asset_hash (project, asset_id, error);
  if (!hash)
    return NULL;
  g_autofree char *key = key_of (in, duration, buckets, 0);
  g_autoptr (GBytes) cached = rg_project_cache_get (project, hash, "peaks", key);
  RgWaveform *w = cached ? waveform_from_blob (cached) : NULL;
  if (w)
    return w;
  g_autofree char *path = rg_project_locate_asset (project, asset_id, error);
  if (!path)
    return NULL;
  w = rg_waveform_peaks (path, in, duration, buckets, error);
  if (!w)
    return NULL;
  g_autoptr (GBytes) blob = waveform_to_blob (w);
  g_autoptr (GError) cache_error = NULL;
  if (!rg_project_cache_put (project, hash, "peaks", key, blob, &cache_error))
    g_debug ("waveform of asset %" G_GINT64_FORMAT " not cached: %s", asset_id,
             cache_error->message); /* still correct, only slower next time */
  return w;
}

RgThumbnailStrip *
rg_project_thumbnails (RgProject *project, int64_t asset_id, RgTime in, RgTime duration, int count,
                       int width, GError **error)
{
  g_autofree char *hash = asset_hash (project, asset_id, error);
  if (!hash)
    return NULL;
  g_autofree char *key = key_of (in, duration, count, width);
  g_autoptr (GBytes) cached = rg_project_cache_get (project, hash, "thumbs", key);
  RgThumbnailStrip *s = cached ? strip_from_blob (cached) : NULL;
  if (s)
    return s;
  g_autofree char *path = rg_project_locate_asset (project, asset_id, error);
  if (!path)
    return NULL;
  s = rg_thumbnail_strip (path, in, duration, count, width, error);
  if (!s)
    return NULL;
  g_autoptr (GBytes) blob = strip_to_blob (s);
  g_autoptr (GError) cache_error = NULL;
  if (!rg_project_cache_put (project, hash, "thumbs", key, blob, &cache_error))
    g_debug ("thumbnails of asset %" G_GINT64_FORMAT " not cached: %s", asset_id,
             cache_error->message);
  return s;
}
