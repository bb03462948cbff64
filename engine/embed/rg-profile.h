/* rg-profile.h — what a trace says about each table: the planners' input.
 *
 * Built from a range of batches (profile on early batches, evaluate plans
 * on later ones). Per table:
 *
 *   counts[row]      lookups of each physical row
 *   order[k]         the k-th hottest row (count descending, ties by row id;
 *                    rows never touched come last, in row order)
 *   cum[h]           lookups of the h hottest rows, h = 0..rows, so the
 *                    access CDF is F(h) = cum[h] / accesses
 *   coverage         share of samples whose bag for this table is non-empty
 *   mean_pooling     lookups per touching sample (pooling factor or
 *                    sequence length)
 *   unique_rows      rows touched at least once; untouched_rows the rest —
 *                    the hash-collision holes RecShard leaves in slow memory */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "embed/rg-trace.h"

G_BEGIN_DECLS

typedef struct {
  int64_t   rows;
  uint64_t  row_bytes;
  uint64_t  accesses;
  uint64_t  samples;
  uint64_t  samples_touching;
  int64_t   unique_rows;
  int64_t   untouched_rows;
  double    coverage;
  double    mean_pooling;
  uint64_t *counts; /* rows */
  int64_t  *order;  /* rows */
  uint64_t *cum;    /* rows + 1 */
} RgTableProfile;

typedef struct {
  uint32_t        n_tables;
  uint32_t        first_batch;
  uint32_t        n_batches;
  uint32_t        batch_size;
  RgTableProfile *tables;
} RgProfile;

/* Profiles batches [first_batch, first_batch + n_batches) of the trace. */
RgProfile *rg_profile_build (const RgTrace *trace, uint32_t first_batch, uint32_t n_batches,
                             GError **error);
void       rg_profile_free (RgProfile *profile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgProfile, rg_profile_free)

/* F(h): share of the table's lookups that hit its h hottest rows (0..1;
 * 0 for a table nobody read). */
double rg_table_profile_cdf (const RgTableProfile *p, int64_t h);

/* Smallest h with F(h) >= share (share in [0, 1]). */
int64_t rg_table_profile_rows_for_share (const RgTableProfile *p, double share);

/* A new physical row → rank array (rank 0 = hottest): the row remap that
 * makes hot rows contiguous. */
int64_t *rg_table_profile_rank (const RgTableProfile *p);

/* Lookups per batch of the profiled range. */
static inline double
rg_table_profile_per_batch (const RgTableProfile *p, const RgProfile *profile)
{
  return profile->n_batches ? (double) p->accesses / profile->n_batches : 0.0;
}

G_END_DECLS
