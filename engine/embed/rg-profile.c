/* rg-profile.c — per-table access statistics from a trace. */
#include "embed/rg-profile.h"

#include <math.h>
#include <stdlib.h>

#include "core/rg-error.h"
#include "core/rg-parallel.h"

typedef struct {
  const RgTrace *trace;
  RgProfile     *profile;
} Ctx;

/* qsort has no context argument: rows are sorted as (count, row) pairs. */
typedef struct {
  uint64_t count;
  int64_t  row;
} Entry;

static int
cmp_hot_first (const void *a, const void *b)
{
  const Entry *x = a, *y = b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row);
}

static void
profile_table (const RgTrace *trace, const RgProfile *profile, uint32_t t, RgTableProfile *p)
{
  const RgTableSpec *spec = &trace->tables[t];
  p->rows = spec->rows;
  p->row_bytes = rg_table_row_bytes (spec);
  p->counts = g_new0 (uint64_t, p->rows);
  for (uint32_t b = profile->first_batch; b < profile->first_batch + profile->n_batches; b++)
    {
      const RgTraceBag *bag = rg_trace_bag (trace, b, t);
      for (uint32_t i = 0; i < trace->batch_size; i++)
        if (bag->offsets[i + 1] > bag->offsets[i])
          p->samples_touching++;
      for (uint64_t j = 0; j < bag->n_ids; j++)
        p->counts[bag->ids[j]]++;
      p->accesses += bag->n_ids;
      p->samples += trace->batch_size;
    }

  int64_t n_touched = 0;
  for (int64_t r = 0; r < p->rows; r++)
    n_touched += p->counts[r] > 0;
  p->unique_rows = n_touched;
  p->untouched_rows = p->rows - n_touched;
  p->coverage = p->samples ? (double) p->samples_touching / (double) p->samples : 0.0;
  p->mean_pooling = p->samples_touching ? (double) p->accesses / (double) p->samples_touching : 0.0;

  /* Only touched rows need sorting; the holes follow in row order. */
  g_autofree Entry *hot = g_new (Entry, n_touched ? n_touched : 1);
  p->order = g_new (int64_t, p->rows);
  int64_t k = 0, cold = n_touched;
  for (int64_t r = 0; r < p->rows; r++)
    if (p->counts[r])
      hot[k++] = (Entry) { p->counts[r], r };
    else
      p->order[cold++] = r;
  qsort (hot, (size_t) n_touched, sizeof (Entry), cmp_hot_first);
  p->cum = g_new (uint64_t, p->rows + 1);
  p->cum[0] = 0;
  for (int64_t i = 0; i < n_touched; i++)
    {
      p->order[i] = hot[i].row;
      p->cum[i + 1] = p->cum[i] + hot[i].count;
    }
  for (int64_t i = n_touched; i < p->rows; i++)
    p->cum[i + 1] = p->cum[i];
}

static void
profile_range (void *data, int64_t begin, int64_t end)
{
  Ctx *ctx = data;
  for (int64_t t = begin; t < end; t++)
    profile_table (ctx->trace, ctx->profile, (uint32_t) t, &ctx->profile->tables[t]);
}

RgProfile *
rg_profile_build (const RgTrace *trace, uint32_t first_batch, uint32_t n_batches, GError **error)
{
  if (n_batches < 1 || first_batch >= trace->n_batches
      || n_batches > trace->n_batches - first_batch)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "profile: batches [%u, %u) are not inside the trace's %u", first_batch,
                   first_batch + n_batches, trace->n_batches);
      return NULL;
    }
  RgProfile *profile = g_new0 (RgProfile, 1);
  profile->n_tables = trace->n_tables;
  profile->first_batch = first_batch;
  profile->n_batches = n_batches;
  profile->batch_size = trace->batch_size;
  profile->tables = g_new0 (RgTableProfile, trace->n_tables);
  Ctx ctx = { trace, profile };
  rg_parallel_for (trace->n_tables, 1, profile_range, &ctx);
  return profile;
}

void
rg_profile_free (RgProfile *profile)
{
  if (!profile)
    return;
  for (uint32_t t = 0; t < profile->n_tables; t++)
    {
      g_free (profile->tables[t].counts);
      g_free (profile->tables[t].order);
      g_free (profile->tables[t].cum);
    }
  g_free (profile->tables);
  g_free (profile);
}

double
rg_table_profile_cdf (const RgTableProfile *p, int64_t h)
{
  if (p->accesses == 0)
    return 0.0;
  h = CLAMP (h, 0, p->rows);
  return (double) p->cum[h] / (double) p->accesses;
}

int64_t
rg_table_profile_rows_for_share (const RgTableProfile *p, double share)
{
  if (share <= 0.0 || p->accesses == 0)
    return 0;
  /* The least whole number of lookups that reaches the share. */
  uint64_t need = (uint64_t) ceill ((long double) share * p->accesses - 1e-9L);
  if (need > p->accesses)
    need = p->accesses;
  /* cum is non-decreasing: the first h with cum[h] >= need. */
  int64_t lo = 0, hi = p->rows;
  while (lo < hi)
    {
      int64_t mid = lo + (hi - lo) / 2;
      if (p->cum[mid] >= need)
        hi = mid;
      else
        lo = mid + 1;
    }
  return lo;
}

int64_t *
rg_table_profile_rank (const RgTableProfile *p)
{
  int64_t *rank = g_new (int64_t, p->rows);
  for (int64_t k = 0; k < p->rows; k++)
    rank[p->order[k]] = k;
  return rank;
}
