/* rg-embed-cache.h — 32-way set-associative LRU / LFU row caches.
 *
 * The design is FBGEMM's TBE software cache: a row (table, row) maps to one
 * set, set = hash(table, row) mod n_sets, and may sit in any of the set's 32
 * ways. A miss evicts within its set only, so the cache is cheap to search
 * and behaves like a real GPU-side cache, not an ideal fully associative one.
 *
 *   LRU  evicts the way touched longest ago.
 *   LFU  keeps an access count for every row ever seen (not only resident
 *        ones, as FBGEMM's lfu_state does) and evicts the resident way with
 *        the lowest count, ties going to the least recent. A missed row is
 *        admitted into a full set only when its count is strictly greater
 *        than that victim's, so a one-off scan cannot flush hot rows.
 *
 * One cache object works in two modes:
 *
 *  - policy simulator (row_bytes == 0): ids in, hit/miss counts out, no
 *    data. This is what the shard simulator's LRU/LFU baselines use:
 *
 *        RgEmbedCache *c = rg_embed_cache_new (RG_EMBED_CACHE_LRU,
 *            rg_embed_cache_rows_for_load_factor (total_rows, 0.2), 0, &error);
 *        rg_embed_cache_access_batch (c, table, ids, n_ids);
 *        RgEmbedCacheStats s; rg_embed_cache_get_stats (c, &s);
 *
 *  - data cache (row_bytes > 0): each way holds the row's bytes in front of
 *    a slower tier. lookup() returns the resident bytes or NULL; after a
 *    miss the caller reads the row from the slow tier and insert()s it. Dirty
 *    rows are handed to the write-back function before their way is reused
 *    and on flush().
 *
 * Not thread-safe: one cache belongs to one thread (one rank) at a time. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define RG_EMBED_CACHE_WAYS 32
/* Row ids must fit in 40 bits and table ids in 23: the pair is packed into
 * one 64-bit key. */
#define RG_EMBED_CACHE_MAX_ROW ((INT64_C (1) << 40) - 1)
#define RG_EMBED_CACHE_MAX_TABLE ((1u << 23) - 1)

typedef enum
{
  RG_EMBED_CACHE_LRU,
  RG_EMBED_CACHE_LFU,
} RgEmbedCachePolicy;

typedef struct
{
  uint64_t accesses; /* lookups, hit or miss */
  uint64_t hits;
  uint64_t misses;
  uint64_t inserts;    /* rows admitted into a way */
  uint64_t evictions;  /* resident rows pushed out to make room */
  uint64_t rejected;   /* LFU: misses not admitted (count too low) */
  uint64_t writebacks; /* dirty rows handed to the write-back function */
} RgEmbedCacheStats;

typedef struct _RgEmbedCache RgEmbedCache;

/* Called with a dirty row's bytes before its way is reused, and by flush().
 * Returning FALSE (with error set) aborts the insert or flush; the row stays
 * resident and dirty. */
typedef gboolean (*RgEmbedCacheWritebackFunc) (void *user_data, uint32_t table, int64_t row,
                                               const void *bytes, GError **error);

const char *rg_embed_cache_policy_name (RgEmbedCachePolicy policy); /* "lru", "lfu" */
gboolean rg_embed_cache_policy_from_name (const char *name, RgEmbedCachePolicy *out);

/* Ways needed to hold load_factor × total_rows rows (FBGEMM's
 * cache_load_factor), at least one set. */
int64_t rg_embed_cache_rows_for_load_factor (int64_t total_rows, double load_factor);

/* capacity_rows is rounded up to whole sets of 32 ways. row_bytes == 0 makes
 * a policy simulator. Fails on capacity <= 0 or an allocation too large. */
RgEmbedCache *rg_embed_cache_new (RgEmbedCachePolicy policy, int64_t capacity_rows, gsize row_bytes,
                                  GError **error);
void rg_embed_cache_free (RgEmbedCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgEmbedCache, rg_embed_cache_free)

RgEmbedCachePolicy rg_embed_cache_policy (const RgEmbedCache *cache);
int64_t rg_embed_cache_capacity (const RgEmbedCache *cache); /* n_sets × 32 */
int64_t rg_embed_cache_n_sets (const RgEmbedCache *cache);
gsize rg_embed_cache_row_bytes (const RgEmbedCache *cache);
int64_t rg_embed_cache_resident (const RgEmbedCache *cache); /* occupied ways */

/* The set a row maps to (exposed so tests can build colliding streams). */
int64_t rg_embed_cache_set_of (const RgEmbedCache *cache, uint32_t table, int64_t row);

/* True when the row is resident; no side effects on recency or counts. */
gboolean rg_embed_cache_contains (const RgEmbedCache *cache, uint32_t table, int64_t row);

/* ---- policy simulator ---- */

/* One access: a hit refreshes the row; a miss admits it (per policy).
 * Returns TRUE on a hit. In a data cache this admits an empty (zeroed) way,
 * so use lookup()/insert() there instead. */
gboolean rg_embed_cache_access (RgEmbedCache *cache, uint32_t table, int64_t row);
/* access() for each id in order; returns the number of hits. */
uint64_t rg_embed_cache_access_batch (RgEmbedCache *cache, uint32_t table, const int64_t *rows,
                                      gsize n_rows);

void rg_embed_cache_get_stats (const RgEmbedCache *cache, RgEmbedCacheStats *out);
void rg_embed_cache_reset_stats (RgEmbedCache *cache);      /* counters only, contents stay */
double rg_embed_cache_hit_rate (const RgEmbedCache *cache); /* hits / accesses, 0 if none */

/* ---- data cache ---- */

void rg_embed_cache_set_writeback (RgEmbedCache *cache, RgEmbedCacheWritebackFunc func,
                                   void *user_data);

/* The resident row's bytes (row_bytes of them, writable; call mark_dirty
 * after changing them), or NULL on a miss. Counts as one access. */
void *rg_embed_cache_lookup (RgEmbedCache *cache, uint32_t table, int64_t row);

/* After a miss: offer the row's bytes. *slot_out (may be NULL) receives the
 * way's bytes when the row was admitted, NULL when the policy declined.
 * A dirty victim is written back first; FALSE only when that fails. */
gboolean rg_embed_cache_insert (RgEmbedCache *cache, uint32_t table, int64_t row, const void *bytes,
                                gboolean dirty, void **slot_out, GError **error);

/* Marks a resident row as changed; FALSE when it is not resident. */
gboolean rg_embed_cache_mark_dirty (RgEmbedCache *cache, uint32_t table, int64_t row);
int64_t rg_embed_cache_n_dirty (const RgEmbedCache *cache);

/* Writes back every dirty row (rows stay resident, now clean). Stops at the
 * first failure; rows not yet written stay dirty. */
gboolean rg_embed_cache_flush (RgEmbedCache *cache, GError **error);

G_END_DECLS
