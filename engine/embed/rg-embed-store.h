/* rg-embed-store.h — embedding tables in a tiered store (DESIGN §5).
 *
 * A store is one SQLite file (the cold tier) holding tables of rows, plus
 * two in-memory tiers in front of it: DEVICE (a host-memory stand-in until
 * the CUDA tier lands; see rg-embed-tier.h) and HOST. A placement, usually
 * from a RecShard/FlexShard plan, says per row which tier holds it; reads go
 * device → host → cold, where the cold tier may have an LRU/LFU row cache
 * (rg-embed-cache.h) in front of SQLite.
 *
 * Rows on disk. One SQLite row per embedding row, its blob self-describing:
 *     magic "RGR1" | dim u32 | version u64 | weights (dim × dtype)
 *     | optimizer state (f32 × k) | FNV-1a-64 checksum of all before
 * The version counts the updates the row has received. Every blob read is
 * checked (size, magic, dim, checksum); a bad one is an RG_ERROR_CORRUPT
 * naming the table and row, never silent garbage.
 *
 * Updates. apply_gradients() sums duplicate ids, then steps each touched row
 * with the table's optimizer (rg-embed-optim.h) in the tier where it lives,
 * marking it dirty. flush() writes dirty rows back in transactions of
 * flush_batch_rows rows. SQLite (WAL) commits a transaction whole or not at
 * all and each row is one blob, so a crash at any point leaves every row
 * either its old or its new value, never a mix.
 *
 * Usage:
 *     RgEmbedStoreConfig cfg = rg_embed_store_config_default ();
 *     cfg.host_bytes = 64 << 20;
 *     RgEmbedStore *s = rg_embed_store_open ("items.rgemb", &cfg, &error);
 *     rg_embed_store_create_table (s, "items", 100000, 64, RG_F32, &optim,
 *                                  seed, 0.01f, &id, &error);
 *     rg_embed_store_set_placement (s, id, tier_of_row, &error);
 *     rg_embed_store_lookup_pooled (s, id, offsets, n_bags, indices, NULL,
 *                                   RG_EMBED_POOL_SUM, out, &error);
 *     rg_embed_store_apply_gradients (s, id, rows, n, grads, &error);
 *     rg_embed_store_close (s, &error);   // flushes
 *
 * Not thread-safe: one store per thread (per rank). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/rg-dtype.h"
#include "embed/rg-embed-cache.h"
#include "embed/rg-embed-optim.h"
#include "embed/rg-embed-tier.h"

G_BEGIN_DECLS

#define RG_EMBED_STORE_MAX_DIM 65536

typedef struct _RgEmbedStore RgEmbedStore;

typedef struct
{
  uint32_t id;
  const char *name;
  int64_t rows;
  int dim;
  RgDType dtype; /* RG_F32 or RG_BF16 */
  RgEmbedOptim optim;
} RgEmbedTableInfo;

typedef struct
{
  gsize device_bytes; /* capacity of the device tier */
  gsize host_bytes;   /* capacity of the host tier */
  int64_t cache_rows; /* LRU/LFU cache in front of SQLite; 0 = none */
  RgEmbedCachePolicy cache_policy;
  int flush_batch_rows; /* rows per flush transaction */
  /* NULL: the host-memory stand-in of device_bytes. Otherwise the device
   * tier to use (a CUDA one, say); the store takes ownership, even when
   * opening fails. Tiers that are not host-addressable (map() = NULL) are
   * read and written through download()/upload(), one record at a time. */
  RgEmbedTier *device_tier;
} RgEmbedStoreConfig;

typedef struct
{
  uint64_t reads[RG_EMBED_TIER_COUNT]; /* row reads served per tier (cold includes cache hits) */
  uint64_t cache_hits;
  uint64_t sqlite_rows_read;
  uint64_t sqlite_queries;
  uint64_t rows_updated;
  uint64_t rows_flushed;
  uint64_t flush_transactions;
} RgEmbedStoreStats;

typedef enum
{
  RG_EMBED_POOL_SUM,
  RG_EMBED_POOL_MEAN,
} RgEmbedPool;

/* Called after each committed flush transaction with the rows written so
 * far and the rows the flush will write in all. */
typedef void (*RgEmbedFlushProgress) (void *user_data, int64_t written, int64_t total);

RgEmbedStoreConfig rg_embed_store_config_default (void); /* 256 MiB host, 64 MiB device, no cache */

/* Opens (creating when missing) a store file. A file that is not a store,
 * or a store written by a newer Reelgen, is refused with a clear error. */
RgEmbedStore *rg_embed_store_open (const char *path, const RgEmbedStoreConfig *config,
                                   GError **error);
/* Flushes, then frees (frees even when the flush fails). */
gboolean rg_embed_store_close (RgEmbedStore *store, GError **error);
/* Frees without flushing: unflushed updates are lost, as in a crash. */
void rg_embed_store_free (RgEmbedStore *store);

/* A new table, every row drawn from N(0, init_std²) with the counter-based
 * RNG (seed, stream = table id), written in transactions. */
gboolean rg_embed_store_create_table (RgEmbedStore *store, const char *name, int64_t rows, int dim,
                                      RgDType dtype, const RgEmbedOptim *optim, uint64_t seed,
                                      float init_std, uint32_t *id_out, GError **error);
/* The same table without writing its rows: a row is stored only once it
 * has been updated and flushed; until then every read makes its initial
 * value again from (seed, stream = table id). Creating a table of millions
 * of rows is then instant, and a shard that only ever touches its own rows
 * stores only those. */
gboolean rg_embed_store_create_table_lazy (RgEmbedStore *store, const char *name, int64_t rows,
                                           int dim, RgDType dtype, const RgEmbedOptim *optim,
                                           uint64_t seed, float init_std, uint32_t *id_out,
                                           GError **error);
guint rg_embed_store_n_tables (const RgEmbedStore *store);
/* NULL when there is no such table. */
const RgEmbedTableInfo *rg_embed_store_table (const RgEmbedStore *store, uint32_t id);
const RgEmbedTableInfo *rg_embed_store_find_table (const RgEmbedStore *store, const char *name);

/* tier_of_row[rows] (RgEmbedTierKind values; NULL = everything cold).
 * Flushes first, then loads the device and host rows from SQLite. Fails,
 * naming the shortfall, when a tier's capacity is too small. */
gboolean rg_embed_store_set_placement (RgEmbedStore *store, uint32_t table,
                                       const guint8 *tier_of_row, GError **error);
RgEmbedTierKind rg_embed_store_tier_of (const RgEmbedStore *store, uint32_t table, int64_t row);

/* ---- lookups (rows < 0 are padding and read as zeros) ---- */

/* out[n × dim] = the rows, as f32. */
gboolean rg_embed_store_read_rows (RgEmbedStore *store, uint32_t table, const int64_t *rows,
                                   gsize n, float *out, GError **error);
/* TBE-style pooled lookup: bag b is indices[offsets[b] .. offsets[b+1]),
 * out[n_bags × dim] = Σ (weights ? weights[i] : 1) · row, or the mean. */
gboolean rg_embed_store_lookup_pooled (RgEmbedStore *store, uint32_t table, const int64_t *offsets,
                                       gsize n_bags, const int64_t *indices, const float *weights,
                                       RgEmbedPool pool, float *out, GError **error);
/* Unpooled: indices[batch × length] → out[batch × length × dim]. */
gboolean rg_embed_store_lookup_sequence (RgEmbedStore *store, uint32_t table,
                                         const int64_t *indices, gsize batch, gsize length,
                                         float *out, GError **error);

/* ---- updates ---- */

/* grads[n × dim] for rows[n] (duplicates summed; rows < 0 skipped). */
gboolean rg_embed_store_apply_gradients (RgEmbedStore *store, uint32_t table, const int64_t *rows,
                                         gsize n, const float *grads, GError **error);
int64_t rg_embed_store_n_dirty (const RgEmbedStore *store);
gboolean rg_embed_store_flush (RgEmbedStore *store, GError **error);
void rg_embed_store_set_flush_progress (RgEmbedStore *store, RgEmbedFlushProgress func,
                                        void *user_data);

/* The row's update count and its optimizer state (state may be NULL). */
gboolean rg_embed_store_row_meta (RgEmbedStore *store, uint32_t table, int64_t row,
                                  uint64_t *version, float *state, GError **error);

void rg_embed_store_get_stats (const RgEmbedStore *store, RgEmbedStoreStats *out);
void rg_embed_store_reset_stats (RgEmbedStore *store);

/* Human-readable summary: file, tables, tiers (the stand-in marked as
 * such), cache, dirty rows. Caller frees. */
char *rg_embed_store_describe (const RgEmbedStore *store);

G_END_DECLS
