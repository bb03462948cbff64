/* rg-trace.h — embedding access traces: a synthetic generator and a file format.
 *
 * A trace is what a recommender's training loop asks of its embedding
 * tables: for every batch and every table, one bag of row ids per sample
 * (CSR: offsets[batch_size + 1] into ids[]). Pooled tables sum their bag;
 * sequence tables keep it as an L×D sequence. An empty bag means the sample
 * does not touch the table (coverage < 1).
 *
 * The generator follows how production traces arise: each table draws
 * logical ids from Zipf(q, s) — P(k) ∝ (k + q)^-s over k = 1..id_space —
 * and hashes them into `rows` physical rows. Hashing is why some rows are
 * never touched (birthday-paradox holes) and why a hot row can collect
 * several logical ids. Bag sizes are uniform on [1, 2·pooling − 1] (mean
 * `pooling`). Everything is a pure function of (seed, table, batch, sample),
 * so the same config always gives the same trace.
 *
 * File format (.rgtrace), all integers little-endian:
 *
 *   header   8 B  magic "RGTRACE\0"
 *            u32  version (1)
 *            u32  n_tables            (1 .. RG_TRACE_MAX_TABLES)
 *            u32  batch_size          (1 .. RG_TRACE_MAX_BATCH)
 *            u32  n_batches
 *            u64  seed
 *   tables   n_tables × 64 B:
 *            u32 kind (0 pooled, 1 sequence)  u32 dim  u32 elem_bytes (2 or 4)
 *            u32 reserved (0)  u64 rows  u64 id_space
 *            f64 zipf_s  f64 zipf_q  f64 pooling  f64 coverage
 *   batches  n_batches × n_tables blocks, batch-major:
 *            u32 table index (must equal the block's position)
 *            u32 reserved (0)
 *            u64 n_ids
 *            u32 offsets[batch_size + 1]  (0, non-decreasing, last = n_ids)
 *            u64 ids[n_ids]               (each < the table's rows)
 *
 * rg_trace_load() checks every one of those rules and the file length
 * before it allocates, so a truncated or hostile file is a clear
 * RG_ERROR_CORRUPT (RG_ERROR_VERSION for a newer version), never a crash or
 * a huge allocation. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define RG_TRACE_VERSION    1
#define RG_TRACE_MAX_TABLES 4096
#define RG_TRACE_MAX_BATCH  (1u << 20)
/* Rows are row ids in the store and the cache: 40 bits. */
#define RG_TRACE_MAX_ROWS   (INT64_C (1) << 40)

typedef enum {
  RG_TABLE_POOLED = 0,   /* bag summed to one vector per sample */
  RG_TABLE_SEQUENCE = 1, /* bag kept as a sequence, one vector per id */
} RgTableKind;

typedef struct {
  RgTableKind kind;
  uint32_t    dim;        /* embedding width */
  uint32_t    elem_bytes; /* 4 (f32) or 2 (bf16) */
  int64_t     rows;       /* physical rows ids are hashed into */
  int64_t     id_space;   /* logical ids before hashing */
  double      zipf_s;     /* exponent s of (k + q)^-s; 0 = uniform */
  double      zipf_q;     /* offset q >= 0 (flattens the head) */
  double      pooling;    /* mean bag size: pooling factor or sequence length, >= 1 */
  double      coverage;   /* probability that a sample touches the table, (0, 1] */
} RgTableSpec;

/* Bytes of one embedding row of a table. */
static inline uint64_t
rg_table_row_bytes (const RgTableSpec *t)
{
  return (uint64_t) t->dim * t->elem_bytes;
}

/* One table's part of one batch: sample i reads ids[offsets[i] .. offsets[i+1]). */
typedef struct {
  uint32_t *offsets; /* batch_size + 1 */
  int64_t  *ids;
  uint64_t  n_ids;
} RgTraceBag;

typedef struct {
  uint32_t     n_tables;
  RgTableSpec *tables;
  uint32_t     batch_size;
  uint32_t     n_batches;
  uint64_t     seed;
  RgTraceBag  *bags; /* n_batches × n_tables, batch-major: rg_trace_bag() */
} RgTrace;

static inline const RgTraceBag *
rg_trace_bag (const RgTrace *trace, uint32_t batch, uint32_t table)
{
  return &trace->bags[(gsize) batch * trace->n_tables + table];
}

/* What to generate. */
typedef struct {
  uint32_t           n_tables;
  const RgTableSpec *tables;
  uint32_t           batch_size;
  uint32_t           n_batches;
  uint64_t           seed;
} RgTraceConfig;

/* Checks the specs (rows, dims, Zipf parameters, bounds) and generates.
 * Parallel over tables; the result does not depend on the thread count. */
RgTrace *rg_trace_generate (const RgTraceConfig *config, GError **error);
void     rg_trace_free (RgTrace *trace);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgTrace, rg_trace_free)

/* Checks one table spec; the error names the table index. */
gboolean rg_table_spec_validate (const RgTableSpec *spec, uint32_t index, GError **error);

gboolean rg_trace_save (const RgTrace *trace, const char *path, GError **error);
RgTrace *rg_trace_load (const char *path, GError **error);

/* Sum over tables of rows × row bytes. */
uint64_t rg_trace_total_bytes (const RgTrace *trace);

/* ---- locality, as Meta's dlrm_datasets report it ----
 *
 * Within each (batch, table), count how often each touched row is read;
 * rows read more than `threshold` times are "reused". Summed over the
 * given batches and all tables: the share of touched rows that are reused
 * and the share of all lookups that go to them. */
void rg_trace_reuse (const RgTrace *trace, uint32_t first_batch, uint32_t n_batches,
                     uint32_t threshold, double *row_share, double *lookup_share);

/* The published dlrm_datasets figures the preset is fitted to. */
#define RG_DLRM_REUSE64_ROWS    0.018
#define RG_DLRM_REUSE64_LOOKUPS 0.52
#define RG_DLRM_REUSE16_ROWS    0.11
#define RG_DLRM_REUSE16_LOOKUPS 0.74

/* The fitted preset: `n_tables` pooled tables whose locality at
 * batch_size 512 matches the figures above (rg-trace-preset.c records the
 * fit and how close it gets). Sizes, dims and pooling factors vary
 * deterministically with the table index so tables are unequal, as in
 * production. `specs` must hold n_tables entries. `rows_scale` multiplies
 * every table's rows (1.0 = the preset's own sizes). */
void rg_trace_preset_dlrm (RgTableSpec *specs, uint32_t n_tables, double rows_scale);

/* A sequence-model preset (FlexShard's setting): `n_tables` sequence
 * tables, user histories of mean length `seq_len`, same locality fit. */
void rg_trace_preset_sequence (RgTableSpec *specs, uint32_t n_tables, double rows_scale,
                               double seq_len);

/* ---- sampling primitives (exposed for tests) ---- */

/* A Zipf(q, s) sampler over 1..n by Hörmann–Derflinger rejection-inversion:
 * O(1) memory and expected O(1) time for any n. */
typedef struct {
  double  s, q;
  int64_t n;
  double  h_x1, h_n; /* H(1.5) − h(1) and H(n + 0.5): the inversion range */
} RgZipf;

void    rg_zipf_init (RgZipf *z, int64_t n, double s, double q);
/* Draws k in 1..n; `state` is a splitmix64 state the caller seeds (one
 * per independent stream) and that advances by one or more steps. */
int64_t rg_zipf_sample (const RgZipf *z, uint64_t *state);

/* splitmix64: the one-word generator and mixer used by traces. */
uint64_t rg_splitmix64 (uint64_t *state);

/* The row a logical id of a table hashes to (splitmix64 of the pair). */
int64_t rg_trace_hash_row (uint32_t table, int64_t id, int64_t rows);

G_END_DECLS
