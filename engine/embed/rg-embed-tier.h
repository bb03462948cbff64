/* rg-embed-tier.h — the memory tiers an embedding row can live in.
 *
 *   DEVICE  fastest, smallest (GPU HBM). For now a host-memory STAND-IN:
 *           same interface and capacity accounting, but the bytes sit in
 *           RAM; it reports itself as such ("device (host-memory stand-in)")
 *           so no run mistakes it for a GPU. A CUDA backend implements the
 *           same vtable with cudaMalloc/cudaMemcpy and map() = NULL.
 *   HOST    RAM.
 *   COLD    the SQLite file (rg-embed-store.c talks to it directly).
 *
 * A tier hands out blocks of bytes under a capacity. The store keeps one
 * block per (table, tier) holding the rows the placement put there. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum
{
  RG_EMBED_TIER_DEVICE,
  RG_EMBED_TIER_HOST,
  RG_EMBED_TIER_COLD,
  RG_EMBED_TIER_COUNT
} RgEmbedTierKind;

const char *rg_embed_tier_kind_name (RgEmbedTierKind kind); /* "device", "host", "cold" */

typedef struct _RgEmbedTier RgEmbedTier;

typedef struct
{
  const char *name;
  gboolean stand_in; /* TRUE: not the memory its kind promises */
  void *(*alloc) (RgEmbedTier *tier, gsize bytes, GError **error);
  void (*release) (RgEmbedTier *tier, void *block);
  /* A host pointer to the block's bytes, or NULL when the block is not
   * host-addressable (a real device); then upload/download move bytes. */
  void *(*map) (RgEmbedTier *tier, void *block);
  gboolean (*upload) (RgEmbedTier *tier, void *block, gsize offset, const void *src, gsize bytes,
                      GError **error);
  gboolean (*download) (RgEmbedTier *tier, void *block, gsize offset, void *dst, gsize bytes,
                        GError **error);
} RgEmbedTierBackend;

struct _RgEmbedTier
{
  const RgEmbedTierBackend *backend;
  RgEmbedTierKind kind;
  gsize capacity; /* bytes */
  gsize used;
};

/* A tier on any backend (the backend struct must outlive the tier). */
RgEmbedTier *rg_embed_tier_new (const RgEmbedTierBackend *backend, RgEmbedTierKind kind,
                                gsize capacity_bytes);
RgEmbedTier *rg_embed_tier_new_host (gsize capacity_bytes);
/* The host-memory stand-in for the GPU tier (see above). */
RgEmbedTier *rg_embed_tier_new_device_stand_in (gsize capacity_bytes);
void rg_embed_tier_free (RgEmbedTier *tier);

const char *rg_embed_tier_name (const RgEmbedTier *tier);
gboolean rg_embed_tier_is_stand_in (const RgEmbedTier *tier);

/* A block of `bytes` under the tier's capacity; a clear error names the
 * shortfall when it does not fit. */
void *rg_embed_tier_alloc (RgEmbedTier *tier, gsize bytes, const char *what, GError **error);
void rg_embed_tier_release (RgEmbedTier *tier, void *block, gsize bytes);

G_END_DECLS
