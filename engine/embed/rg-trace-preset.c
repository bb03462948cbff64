/* rg-trace-preset.c — table sets fitted to Meta's published locality.
 *
 * Meta's dlrm_datasets (embedding lookup traces released with RecShard /
 * the DLRM data study) report, per batch: rows reused more than 64 times
 * are ~1.8% of touched rows yet ~52% of lookups; rows reused more than 16
 * times are ~11% of rows and ~74% of lookups.
 *
 * Those shares depend on how many lookups a table gets per batch relative
 * to the ids it draws from, so the logical id space is sized from the
 * per-batch lookups (batch 512 × pooling × coverage), while the physical
 * rows stay large: most rows are never touched, as in production.
 *
 * Fit: a grid over s ∈ [0.5, 1.8], q ∈ [0, 32] and id space ∈ [0.02, 16] ×
 * lookups (14 tables of this mix, batch 512, 4 batches, minimising the sum
 * of the four relative errors) chose s = 1.05, q = 0, 0.13 × lookups:
 *
 *                    rows share   lookup share
 *   reuse > 64  got    1.89 %        50.5 %     (published 1.8 %, 52 %)
 *   reuse > 16  got    7.3 %         67.7 %     (published 11 %, 74 %)
 *
 * A single Zipf cannot match all four: raising the > 16 row share pushes
 * the > 64 share past its target. `reelgen shard profile --preset dlrm`
 * reprints the figures for any seed. */
#include "embed/rg-trace.h"

#include <math.h>

#define PRESET_S             1.05
#define PRESET_Q             0.0
#define PRESET_IDS_PER_LOOKUP 0.13
#define PRESET_BATCH         512.0

/* Deterministic variety: table i gets one of a few sizes, widths and
 * pooling factors, cycling at different periods so no two neighbours match. */
static const int64_t preset_rows[] = { 40000, 100000, 20000, 250000, 60000, 10000, 150000 };
static const uint32_t preset_dims[] = { 64, 32, 128, 64, 16 };
static const double   preset_pool[] = { 8, 20, 2, 30, 12, 1, 40, 5 };
static const double   preset_cov[] = { 1.0, 0.9, 0.6, 1.0, 0.8 };

static void
fill (RgTableSpec *s, uint32_t i, double rows_scale)
{
  s->rows = MAX ((int64_t) 1,
                 (int64_t) llround (preset_rows[i % G_N_ELEMENTS (preset_rows)] * rows_scale));
  s->dim = preset_dims[i % G_N_ELEMENTS (preset_dims)];
  s->elem_bytes = 4;
  s->zipf_s = PRESET_S;
  s->zipf_q = PRESET_Q;
  s->pooling = preset_pool[i % G_N_ELEMENTS (preset_pool)];
  s->coverage = preset_cov[i % G_N_ELEMENTS (preset_cov)];
  s->id_space = 1 + (int64_t) (PRESET_IDS_PER_LOOKUP * PRESET_BATCH * s->pooling * s->coverage);
}

void
rg_trace_preset_dlrm (RgTableSpec *specs, uint32_t n_tables, double rows_scale)
{
  for (uint32_t i = 0; i < n_tables; i++)
    {
      fill (&specs[i], i, rows_scale);
      specs[i].kind = RG_TABLE_POOLED;
    }
}

void
rg_trace_preset_sequence (RgTableSpec *specs, uint32_t n_tables, double rows_scale,
                          double seq_len)
{
  for (uint32_t i = 0; i < n_tables; i++)
    {
      fill (&specs[i], i, rows_scale);
      specs[i].kind = RG_TABLE_SEQUENCE;
      specs[i].pooling = seq_len;
      specs[i].coverage = 1.0;
      specs[i].id_space = 1 + (int64_t) (PRESET_IDS_PER_LOOKUP * PRESET_BATCH * seq_len);
    }
}
