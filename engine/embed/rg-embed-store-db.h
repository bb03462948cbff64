/* rg-embed-store-db.h — private: the SQLite cold tier of rg-embed-store.
 *
 * Schema (PRAGMA application_id 'RGES', user_version 2; version 1 files are
 * migrated on open):
 *   embed_tables (id INTEGER PRIMARY KEY, name TEXT UNIQUE, rows, dim,
 *                 dtype TEXT, optim TEXT, lr REAL, eps REAL,
 *                 init_seed, init_std REAL, lazy)        (v2: the init columns)
 *   embed_rows   (tbl, row, blob, PRIMARY KEY (tbl, row)) WITHOUT ROWID
 * Row blobs ("records") are described in rg-embed-store.h. */
#pragma once

#include <sqlite3.h>

#include "embed/rg-embed-store.h"

G_BEGIN_DECLS

#define RG_EMBED_DB_USER_VERSION 2
#define RG_EMBED_DB_READ_BATCH 256 /* ids per SELECT … IN (…) */

/* Record layout helpers. */
#define RG_EMBED_RECORD_HEADER 16 /* magic, dim, version */

typedef struct
{
  int dim;
  gsize weight_bytes;
  int state_floats;
  gsize bytes; /* whole record */
  RgDType dtype;
  /* Lazy tables keep only the rows that were ever written; any other row
   * is its initial value, made again from (seed, stream = table) on read. */
  gboolean lazy;
  uint32_t table;
  uint64_t seed;
  float init_std;
} RgEmbedRecordLayout;

void rg_embed_record_layout (RgEmbedRecordLayout *layout, int dim, RgDType dtype,
                             RgEmbedOptimKind optim);
void rg_embed_record_init (const RgEmbedRecordLayout *l, guint8 *rec);
/* Row `row`'s initial record (version 0, N(0, init_std²) weights from the
 * layout's seed and table, zero state), sealed. */
void rg_embed_record_make_initial (const RgEmbedRecordLayout *l, int64_t row, guint8 *rec);
uint64_t rg_embed_record_version (const guint8 *rec);
void rg_embed_record_set_version (guint8 *rec, uint64_t version);
void *rg_embed_record_weights (guint8 *rec);
float *rg_embed_record_state (const RgEmbedRecordLayout *l, guint8 *rec);
void rg_embed_record_seal (const RgEmbedRecordLayout *l, guint8 *rec); /* writes checksum */
gboolean rg_embed_record_check (const RgEmbedRecordLayout *l, const void *blob, gsize bytes,
                                const char *table, int64_t row, GError **error);

typedef struct _RgEmbedDb RgEmbedDb;

RgEmbedDb *rg_embed_db_open (const char *path, GError **error);
void rg_embed_db_close (RgEmbedDb *db);
sqlite3 *rg_embed_db_handle (RgEmbedDb *db);
const char *rg_embed_db_path (RgEmbedDb *db);

gboolean rg_embed_db_begin (RgEmbedDb *db, GError **error);
gboolean rg_embed_db_commit (RgEmbedDb *db, GError **error);
void rg_embed_db_rollback (RgEmbedDb *db);

/* Insert or replace one sealed record. */
gboolean rg_embed_db_put (RgEmbedDb *db, uint32_t table, const char *name, int64_t row,
                          const guint8 *rec, gsize bytes, GError **error);

/* Fetch sorted unique rows[n] into recs[n × layout.bytes], verified; a row
 * absent from the file is its initial record in a lazy table, CORRUPT in
 * any other. Counts queries/rows into the stats. */
gboolean rg_embed_db_get_many (RgEmbedDb *db, uint32_t table, const char *name,
                               const RgEmbedRecordLayout *layout, const int64_t *rows, gsize n,
                               guint8 *recs, RgEmbedStoreStats *stats, GError **error);

G_END_DECLS
