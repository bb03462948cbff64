/* rg-embed-cache.c — set-associative LRU/LFU, FBGEMM TBE style.
 *
 * Ways are stored set-major: way w of set s is index s·32 + w, so a lookup
 * scans 32 consecutive keys. The LFU counts live in a separate open
 * addressing table keyed by every row ever accessed, because FBGEMM's LFU
 * decides admission by the row's whole history, not only while resident. */
#include "rg-embed-cache.h"

#include "core/rg-error.h"

#include <string.h>

#define EMPTY_KEY UINT64_MAX

/* Row counts for LFU: key → count, linear probing, grows at 1/2 load. */
typedef struct
{
  uint64_t *keys;
  uint32_t *counts;
  gsize mask;
  gsize used;
} CountMap;

struct _RgEmbedCache
{
  RgEmbedCachePolicy policy;
  int64_t n_sets;
  gsize row_bytes;
  uint64_t *keys;  /* n_sets × WAYS, EMPTY_KEY when free */
  uint64_t *stamp; /* last access tick per way (LRU and LFU ties) */
  uint32_t *count; /* LFU: each resident way's count, mirrored from the map so
                    * a victim scan reads 32 numbers, not 32 hash probes */
  guint8 *dirty;   /* per way */
  guint8 *data;    /* n_sets × WAYS × row_bytes, NULL in simulator mode */
  uint64_t tick;
  int64_t resident;
  int64_t n_dirty;
  CountMap counts;
  RgEmbedCacheStats stats;
  RgEmbedCacheWritebackFunc writeback;
  void *writeback_data;
};

/* murmur3's 64-bit finalizer, as FBGEMM hashes linear row indices. */
static inline uint64_t
mix64 (uint64_t k)
{
  k ^= k >> 33;
  k *= UINT64_C (0xff51afd7ed558ccd);
  k ^= k >> 33;
  k *= UINT64_C (0xc4ceb9fe1a85ec53);
  k ^= k >> 33;
  return k;
}

static inline uint64_t
pack_key (uint32_t table, int64_t row)
{
  g_return_val_if_fail (table <= RG_EMBED_CACHE_MAX_TABLE, EMPTY_KEY - 1);
  g_return_val_if_fail (row >= 0 && row <= RG_EMBED_CACHE_MAX_ROW, EMPTY_KEY - 1);
  return ((uint64_t)table << 40) | (uint64_t)row;
}

static void
count_map_init (CountMap *m)
{
  m->mask = 1023;
  m->used = 0;
  m->keys = g_new (uint64_t, m->mask + 1);
  m->counts = g_new0 (uint32_t, m->mask + 1);
  memset (m->keys, 0xff, (m->mask + 1) * sizeof (uint64_t));
}

static void
count_map_clear (CountMap *m)
{
  g_free (m->keys);
  g_free (m->counts);
}

static uint32_t *count_map_slot (CountMap *m, uint64_t key);

static void
count_map_grow (CountMap *m)
{
  CountMap old = *m;
  m->mask = old.mask * 2 + 1;
  m->used = 0;
  m->keys = g_new (uint64_t, m->mask + 1);
  m->counts = g_new0 (uint32_t, m->mask + 1);
  memset (m->keys, 0xff, (m->mask + 1) * sizeof (uint64_t));
  for (gsize i = 0; i <= old.mask; i++)
    if (old.keys[i] != EMPTY_KEY)
      *count_map_slot (m, old.keys[i]) = old.counts[i];
  count_map_clear (&old);
}

/* The count slot for key, created at 0 when absent. */
static uint32_t *
count_map_slot (CountMap *m, uint64_t key)
{
  if ((m->used + 1) * 2 > m->mask + 1)
    count_map_grow (m);
  gsize i = mix64 (key) & m->mask;
  while (m->keys[i] != EMPTY_KEY && m->keys[i] != key)
    i = (i + 1) & m->mask;
  if (m->keys[i] == EMPTY_KEY)
    {
      m->keys[i] = key;
      m->counts[i] = 0;
      m->used++;
    }
  return &m->counts[i];
}

static uint32_t
count_map_get (CountMap *m, uint64_t key)
{
  gsize i = mix64 (key) & m->mask;
  while (m->keys[i] != EMPTY_KEY)
    {
      if (m->keys[i] == key)
        return m->counts[i];
      i = (i + 1) & m->mask;
    }
  return 0;
}

const char *
rg_embed_cache_policy_name (RgEmbedCachePolicy policy)
{
  return policy == RG_EMBED_CACHE_LFU ? "lfu" : "lru";
}

gboolean
rg_embed_cache_policy_from_name (const char *name, RgEmbedCachePolicy *out)
{
  if (g_ascii_strcasecmp (name, "lru") == 0)
    *out = RG_EMBED_CACHE_LRU;
  else if (g_ascii_strcasecmp (name, "lfu") == 0)
    *out = RG_EMBED_CACHE_LFU;
  else
    return FALSE;
  return TRUE;
}

int64_t
rg_embed_cache_rows_for_load_factor (int64_t total_rows, double load_factor)
{
  double want = (double)MAX (total_rows, 0) * MAX (load_factor, 0.0);
  int64_t rows = (int64_t)(want + 0.999999);
  return MAX (rows, (int64_t)RG_EMBED_CACHE_WAYS);
}

RgEmbedCache *
rg_embed_cache_new (RgEmbedCachePolicy policy, int64_t capacity_rows, gsize row_bytes,
                    GError **error)
{
  if (capacity_rows <= 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "embedding cache: capacity must be positive, got %" G_GINT64_FORMAT " rows",
                   capacity_rows);
      return NULL;
    }
  int64_t n_sets = (capacity_rows + RG_EMBED_CACHE_WAYS - 1) / RG_EMBED_CACHE_WAYS;
  gsize n_ways = (gsize)n_sets * RG_EMBED_CACHE_WAYS;
  /* a hostile plan must not make us multiply our way into a wrapped size */
  if (n_sets > G_MAXINT64 / RG_EMBED_CACHE_WAYS
      || (row_bytes > 0 && n_ways > G_MAXSIZE / row_bytes))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                   "embedding cache: %" G_GINT64_FORMAT " rows of %" G_GSIZE_FORMAT
                   " bytes do not fit in memory",
                   capacity_rows, row_bytes);
      return NULL;
    }
  guint8 *data = NULL;
  if (row_bytes > 0)
    {
      data = g_try_malloc0 (n_ways * row_bytes);
      if (data == NULL)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_NO_MEMORY,
                       "embedding cache: cannot allocate %" G_GSIZE_FORMAT
                       " bytes for %" G_GSIZE_FORMAT " rows",
                       n_ways * row_bytes, n_ways);
          return NULL;
        }
    }

  RgEmbedCache *c = g_new0 (RgEmbedCache, 1);
  c->policy = policy;
  c->n_sets = n_sets;
  c->row_bytes = row_bytes;
  c->data = data;
  c->keys = g_new (uint64_t, n_ways);
  memset (c->keys, 0xff, n_ways * sizeof (uint64_t));
  c->stamp = g_new0 (uint64_t, n_ways);
  c->count = g_new0 (uint32_t, n_ways);
  c->dirty = g_new0 (guint8, n_ways);
  if (policy == RG_EMBED_CACHE_LFU)
    count_map_init (&c->counts);
  return c;
}

void
rg_embed_cache_free (RgEmbedCache *cache)
{
  if (cache == NULL)
    return;
  if (cache->policy == RG_EMBED_CACHE_LFU)
    count_map_clear (&cache->counts);
  g_free (cache->keys);
  g_free (cache->stamp);
  g_free (cache->count);
  g_free (cache->dirty);
  g_free (cache->data);
  g_free (cache);
}

RgEmbedCachePolicy
rg_embed_cache_policy (const RgEmbedCache *cache)
{
  return cache->policy;
}

int64_t
rg_embed_cache_capacity (const RgEmbedCache *cache)
{
  return cache->n_sets * RG_EMBED_CACHE_WAYS;
}

int64_t
rg_embed_cache_n_sets (const RgEmbedCache *cache)
{
  return cache->n_sets;
}

gsize
rg_embed_cache_row_bytes (const RgEmbedCache *cache)
{
  return cache->row_bytes;
}

int64_t
rg_embed_cache_resident (const RgEmbedCache *cache)
{
  return cache->resident;
}

int64_t
rg_embed_cache_set_of (const RgEmbedCache *cache, uint32_t table, int64_t row)
{
  return (int64_t)(mix64 (pack_key (table, row)) % (uint64_t)cache->n_sets);
}

/* Index of key's way, or -1. */
static int64_t
find_way (const RgEmbedCache *c, uint64_t key)
{
  int64_t base = (int64_t)(mix64 (key) % (uint64_t)c->n_sets) * RG_EMBED_CACHE_WAYS;
  for (int w = 0; w < RG_EMBED_CACHE_WAYS; w++)
    if (c->keys[base + w] == key)
      return base + w;
  return -1;
}

gboolean
rg_embed_cache_contains (const RgEmbedCache *cache, uint32_t table, int64_t row)
{
  return find_way (cache, pack_key (table, row)) >= 0;
}

/* Records the access; returns the way on a hit, -1 on a miss. */
static int64_t
touch (RgEmbedCache *c, uint64_t key)
{
  c->stats.accesses++;
  uint32_t n = 0;
  if (c->policy == RG_EMBED_CACHE_LFU)
    {
      uint32_t *slot = count_map_slot (&c->counts, key);
      if (*slot < G_MAXUINT32)
        (*slot)++;
      n = *slot;
    }
  int64_t way = find_way (c, key);
  if (way >= 0)
    {
      c->stats.hits++;
      c->stamp[way] = ++c->tick;
      c->count[way] = n;
    }
  else
    c->stats.misses++;
  return way;
}

/* The way a missed key should take: a free one, else the policy's victim,
 * or -1 when LFU declines to admit the key. */
static int64_t
choose_way (RgEmbedCache *c, uint64_t key)
{
  int64_t base = (int64_t)(mix64 (key) % (uint64_t)c->n_sets) * RG_EMBED_CACHE_WAYS;
  int64_t victim = -1;
  uint32_t victim_count = G_MAXUINT32;
  for (int w = 0; w < RG_EMBED_CACHE_WAYS; w++)
    {
      int64_t i = base + w;
      if (c->keys[i] == EMPTY_KEY)
        return i;
      if (c->policy == RG_EMBED_CACHE_LRU)
        {
          if (victim < 0 || c->stamp[i] < c->stamp[victim])
            victim = i;
        }
      else
        {
          uint32_t n = c->count[i];
          if (victim < 0 || n < victim_count
              || (n == victim_count && c->stamp[i] < c->stamp[victim]))
            {
              victim = i;
              victim_count = n;
            }
        }
    }
  if (c->policy == RG_EMBED_CACHE_LFU && count_map_get (&c->counts, key) <= victim_count)
    return -1;
  return victim;
}

/* Empties way i, writing its row back first when dirty. */
static gboolean
evict (RgEmbedCache *c, int64_t i, GError **error)
{
  if (c->keys[i] == EMPTY_KEY)
    return TRUE;
  if (c->dirty[i])
    {
      if (c->writeback == NULL)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "embedding cache: dirty row %" G_GUINT64_FORMAT
                       " of table %u has nowhere to be written back",
                       c->keys[i] & (uint64_t)RG_EMBED_CACHE_MAX_ROW, (unsigned)(c->keys[i] >> 40));
          return FALSE;
        }
      if (!c->writeback (c->writeback_data, (uint32_t)(c->keys[i] >> 40),
                         (int64_t)(c->keys[i] & (uint64_t)RG_EMBED_CACHE_MAX_ROW),
                         c->data + (gsize)i * c->row_bytes, error))
        return FALSE;
      c->stats.writebacks++;
      c->dirty[i] = 0;
      c->n_dirty--;
    }
  c->keys[i] = EMPTY_KEY;
  c->resident--;
  c->stats.evictions++;
  return TRUE;
}

static gboolean
admit (RgEmbedCache *c, uint64_t key, const void *bytes, gboolean dirty, void **slot_out,
       GError **error)
{
  if (slot_out)
    *slot_out = NULL;
  int64_t i = choose_way (c, key);
  if (i < 0)
    {
      c->stats.rejected++;
      return TRUE;
    }
  if (!evict (c, i, error))
    return FALSE;
  c->keys[i] = key;
  c->stamp[i] = ++c->tick;
  c->count[i] = c->policy == RG_EMBED_CACHE_LFU ? count_map_get (&c->counts, key) : 0;
  c->resident++;
  c->stats.inserts++;
  if (c->data != NULL)
    {
      guint8 *slot = c->data + (gsize)i * c->row_bytes;
      if (bytes != NULL)
        memcpy (slot, bytes, c->row_bytes);
      else
        memset (slot, 0, c->row_bytes);
      if (dirty)
        {
          c->dirty[i] = 1;
          c->n_dirty++;
        }
      if (slot_out)
        *slot_out = slot;
    }
  return TRUE;
}

gboolean
rg_embed_cache_access (RgEmbedCache *cache, uint32_t table, int64_t row)
{
  uint64_t key = pack_key (table, row);
  if (touch (cache, key) >= 0)
    return TRUE;
  /* a clean row never needs writing back, so this cannot fail */
  if (!admit (cache, key, NULL, FALSE, NULL, NULL))
    g_warn_if_reached ();
  return FALSE;
}

uint64_t
rg_embed_cache_access_batch (RgEmbedCache *cache, uint32_t table, const int64_t *rows, gsize n_rows)
{
  uint64_t hits = 0;
  for (gsize i = 0; i < n_rows; i++)
    hits += rg_embed_cache_access (cache, table, rows[i]);
  return hits;
}

void
rg_embed_cache_get_stats (const RgEmbedCache *cache, RgEmbedCacheStats *out)
{
  *out = cache->stats;
}

void
rg_embed_cache_reset_stats (RgEmbedCache *cache)
{
  memset (&cache->stats, 0, sizeof cache->stats);
}

double
rg_embed_cache_hit_rate (const RgEmbedCache *cache)
{
  if (cache->stats.accesses == 0)
    return 0.0;
  return (double)cache->stats.hits / (double)cache->stats.accesses;
}

void
rg_embed_cache_set_writeback (RgEmbedCache *cache, RgEmbedCacheWritebackFunc func, void *user_data)
{
  cache->writeback = func;
  cache->writeback_data = user_data;
}

void *
rg_embed_cache_lookup (RgEmbedCache *cache, uint32_t table, int64_t row)
{
  g_return_val_if_fail (cache->data != NULL, NULL);
  int64_t way = touch (cache, pack_key (table, row));
  return way >= 0 ? cache->data + (gsize)way * cache->row_bytes : NULL;
}

gboolean
rg_embed_cache_insert (RgEmbedCache *cache, uint32_t table, int64_t row, const void *bytes,
                       gboolean dirty, void **slot_out, GError **error)
{
  g_return_val_if_fail (cache->data != NULL, FALSE);
  uint64_t key = pack_key (table, row);
  int64_t way = find_way (cache, key);
  if (way >= 0)
    {
      /* already resident (the caller raced its own lookup): refresh bytes */
      guint8 *slot = cache->data + (gsize)way * cache->row_bytes;
      memcpy (slot, bytes, cache->row_bytes);
      if (dirty && !cache->dirty[way])
        {
          cache->dirty[way] = 1;
          cache->n_dirty++;
        }
      if (slot_out)
        *slot_out = slot;
      return TRUE;
    }
  return admit (cache, key, bytes, dirty, slot_out, error);
}

gboolean
rg_embed_cache_mark_dirty (RgEmbedCache *cache, uint32_t table, int64_t row)
{
  int64_t way = find_way (cache, pack_key (table, row));
  if (way < 0)
    return FALSE;
  if (!cache->dirty[way])
    {
      cache->dirty[way] = 1;
      cache->n_dirty++;
    }
  return TRUE;
}

int64_t
rg_embed_cache_n_dirty (const RgEmbedCache *cache)
{
  return cache->n_dirty;
}

gboolean
rg_embed_cache_flush (RgEmbedCache *cache, GError **error)
{
  if (cache->n_dirty == 0)
    return TRUE;
  if (cache->writeback == NULL)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "embedding cache: %" G_GINT64_FORMAT " dirty rows and no write-back function",
                   cache->n_dirty);
      return FALSE;
    }
  int64_t n_ways = cache->n_sets * RG_EMBED_CACHE_WAYS;
  for (int64_t i = 0; i < n_ways && cache->n_dirty > 0; i++)
    {
      if (cache->keys[i] == EMPTY_KEY || !cache->dirty[i])
        continue;
      if (!cache->writeback (cache->writeback_data, (uint32_t)(cache->keys[i] >> 40),
                             (int64_t)(cache->keys[i] & (uint64_t)RG_EMBED_CACHE_MAX_ROW),
                             cache->data + (gsize)i * cache->row_bytes, error))
        return FALSE;
      cache->stats.writebacks++;
      cache->dirty[i] = 0;
      cache->n_dirty--;
    }
  return TRUE;
}
