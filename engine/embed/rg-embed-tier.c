/* rg-embed-tier.c — capacity accounting and the two RAM-backed tiers. */
#include "rg-embed-tier.h"

#include "core/rg-error.h"

#include <string.h>

const char *
rg_embed_tier_kind_name (RgEmbedTierKind kind)
{
  switch (kind)
    {
    case RG_EMBED_TIER_DEVICE:
      return "device";
    case RG_EMBED_TIER_HOST:
      return "host";
    case RG_EMBED_TIER_COLD:
      return "cold";
    default:
      return "?";
    }
}

static void *
ram_alloc (RgEmbedTier *tier, gsize bytes, GError **error)
{
  void *block = g_try_malloc0 (MAX (bytes, 1));
  if (block == NULL)
    g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                 "embedding tier %s: cannot allocate %" G_GSIZE_FORMAT " bytes",
                 tier->backend->name, bytes);
  return block;
}

static void
ram_release (RgEmbedTier *tier, void *block)
{
  g_free (block);
}

static void *
ram_map (RgEmbedTier *tier, void *block)
{
  return block;
}

static gboolean
ram_upload (RgEmbedTier *tier, void *block, gsize offset, const void *src, gsize bytes,
            GError **error)
{
  memcpy ((guint8 *)block + offset, src, bytes);
  return TRUE;
}

static gboolean
ram_download (RgEmbedTier *tier, void *block, gsize offset, void *dst, gsize bytes, GError **error)
{
  memcpy (dst, (const guint8 *)block + offset, bytes);
  return TRUE;
}

static const RgEmbedTierBackend host_backend = {
  .name = "host",
  .stand_in = FALSE,
  .alloc = ram_alloc,
  .release = ram_release,
  .map = ram_map,
  .upload = ram_upload,
  .download = ram_download,
};

/* STAND-IN: the device tier's bytes live in host RAM until the CUDA backend
 * exists. Placement, capacity and traffic accounting are real; speed is not. */
static const RgEmbedTierBackend device_stand_in_backend = {
  .name = "device (host-memory stand-in)",
  .stand_in = TRUE,
  .alloc = ram_alloc,
  .release = ram_release,
  .map = ram_map,
  .upload = ram_upload,
  .download = ram_download,
};

RgEmbedTier *
rg_embed_tier_new (const RgEmbedTierBackend *backend, RgEmbedTierKind kind, gsize capacity)
{
  RgEmbedTier *tier = g_new0 (RgEmbedTier, 1);
  tier->backend = backend;
  tier->kind = kind;
  tier->capacity = capacity;
  return tier;
}

RgEmbedTier *
rg_embed_tier_new_host (gsize capacity_bytes)
{
  return rg_embed_tier_new (&host_backend, RG_EMBED_TIER_HOST, capacity_bytes);
}

RgEmbedTier *
rg_embed_tier_new_device_stand_in (gsize capacity_bytes)
{
  return rg_embed_tier_new (&device_stand_in_backend, RG_EMBED_TIER_DEVICE, capacity_bytes);
}

void
rg_embed_tier_free (RgEmbedTier *tier)
{
  if (tier == NULL)
    return;
  g_warn_if_fail (tier->used == 0);
  g_free (tier);
}

const char *
rg_embed_tier_name (const RgEmbedTier *tier)
{
  return tier->backend->name;
}

gboolean
rg_embed_tier_is_stand_in (const RgEmbedTier *tier)
{
  return tier->backend->stand_in;
}

void *
rg_embed_tier_alloc (RgEmbedTier *tier, gsize bytes, const char *what, GError **error)
{
  if (bytes > tier->capacity - tier->used)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                   "embedding tier %s: %s needs %" G_GSIZE_FORMAT " bytes but only %" G_GSIZE_FORMAT
                   " of %" G_GSIZE_FORMAT " are free (short by %" G_GSIZE_FORMAT ")",
                   tier->backend->name, what, bytes, tier->capacity - tier->used, tier->capacity,
                   bytes - (tier->capacity - tier->used));
      return NULL;
    }
  void *block = tier->backend->alloc (tier, bytes, error);
  if (block != NULL)
    tier->used += bytes;
  return block;
}

void
rg_embed_tier_release (RgEmbedTier *tier, void *block, gsize bytes)
{
  if (block == NULL)
    return;
  tier->backend->release (tier, block);
  tier->used -= MIN (bytes, tier->used);
}
