/* rg-trace.c — trace generation, locality statistics and the sampler. */
#include "embed/rg-trace.h"

#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-parallel.h"

uint64_t
rg_splitmix64 (uint64_t *state)
{
  uint64_t z = (*state += UINT64_C (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static double
uniform01 (uint64_t *state)
{
  return (double) (rg_splitmix64 (state) >> 11) * 0x1.0p-53;
}

int64_t
rg_trace_hash_row (uint32_t table, int64_t id, int64_t rows)
{
  uint64_t st = ((uint64_t) table << 40) ^ (uint64_t) id ^ UINT64_C (0x5851F42D4C957F2D);
  return (int64_t) (rg_splitmix64 (&st) % (uint64_t) rows);
}

/* ---- Zipf(q, s) by rejection-inversion (Hörmann & Derflinger 1996) ----
 *
 * h(x) = (x + q)^-s is the continuous hat; H is its antiderivative,
 * ((x + q)^(1-s) − 1) / (1 − s), written with expm1/log1p so s = 1 needs no
 * special case. A uniform u in [H(n + ½), H(1½) − h(1)] inverted through H
 * lands near k; it is accepted when u lies under the step of height h(k),
 * which holds for every convex decreasing h. */

static double
expm1_over (double t)
{
  return fabs (t) > 1e-8 ? expm1 (t) / t : 1.0 + t / 2.0;
}

static double
log1p_over (double t)
{
  return fabs (t) > 1e-8 ? log1p (t) / t : 1.0 - t / 2.0;
}

static double
zipf_h (const RgZipf *z, double x)
{
  return exp (-z->s * log (x + z->q));
}

static double
zipf_H (const RgZipf *z, double x)
{
  double y = log (x + z->q);
  return expm1_over ((1.0 - z->s) * y) * y;
}

static double
zipf_H_inv (const RgZipf *z, double u)
{
  double t = u * (1.0 - z->s);
  if (t < -1.0)
    t = -1.0; /* rounding at the far tail */
  return exp (log1p_over (t) * u) - z->q;
}

void
rg_zipf_init (RgZipf *z, int64_t n, double s, double q)
{
  z->s = s;
  z->q = q;
  z->n = n;
  z->h_x1 = zipf_H (z, 1.5) - zipf_h (z, 1.0);
  z->h_n = zipf_H (z, (double) n + 0.5);
}

int64_t
rg_zipf_sample (const RgZipf *z, uint64_t *state)
{
  for (;;)
    {
      double  u = z->h_n + uniform01 (state) * (z->h_x1 - z->h_n);
      double  x = zipf_H_inv (z, u);
      int64_t k = (int64_t) (x + 0.5);
      if (k < 1)
        k = 1;
      else if (k > z->n)
        k = z->n;
      if (u >= zipf_H (z, (double) k + 0.5) - zipf_h (z, (double) k))
        return k;
    }
}

/* ---- specs and generation ---- */

gboolean
rg_table_spec_validate (const RgTableSpec *t, uint32_t index, GError **error)
{
  const char *bad = NULL;
  if (t->kind != RG_TABLE_POOLED && t->kind != RG_TABLE_SEQUENCE)
    bad = "kind is neither pooled (0) nor sequence (1)";
  else if (t->dim == 0 || t->dim > 65536)
    bad = "dim must be in 1..65536";
  else if (t->elem_bytes != 2 && t->elem_bytes != 4)
    bad = "elem_bytes must be 2 (bf16) or 4 (f32)";
  else if (t->rows < 1 || t->rows > RG_TRACE_MAX_ROWS)
    bad = "rows must be in 1..2^40";
  else if (t->id_space < 1 || t->id_space > (INT64_C (1) << 53))
    bad = "id_space must be in 1..2^53";
  else if (!(t->zipf_s >= 0.0 && t->zipf_s <= 8.0))
    bad = "zipf_s must be in [0, 8]";
  else if (!(t->zipf_q >= 0.0 && t->zipf_q <= 1e9))
    bad = "zipf_q must be in [0, 1e9]";
  else if (!(t->pooling >= 1.0 && t->pooling <= 4096.0))
    bad = "pooling must be in [1, 4096]";
  else if (!(t->coverage > 0.0 && t->coverage <= 1.0))
    bad = "coverage must be in (0, 1]";
  if (bad)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "table %u: %s", index, bad);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  const RgTraceConfig *config;
  RgTrace             *trace;
} GenCtx;

/* One (table, batch) bag. The stream seed mixes (seed, table, batch) so
 * tables and batches are independent and any of them can be regenerated
 * alone. */
static void
generate_bag (const RgTraceConfig *cfg, uint32_t t, uint32_t b, const RgZipf *zipf,
              RgTraceBag *bag)
{
  const RgTableSpec *spec = &cfg->tables[t];
  uint64_t           st = cfg->seed ^ ((uint64_t) t * UINT64_C (0x9E3779B97F4A7C15))
                ^ ((uint64_t) b * UINT64_C (0xD1B54A32D192ED03));
  rg_splitmix64 (&st);

  bag->offsets = g_new (uint32_t, cfg->batch_size + 1);
  /* First pass: bag sizes, so ids is allocated once. */
  uint64_t n = 0;
  bag->offsets[0] = 0;
  for (uint32_t i = 0; i < cfg->batch_size; i++)
    {
      uint32_t len = 0;
      if (uniform01 (&st) < spec->coverage)
        len = 1 + (uint32_t) (uniform01 (&st) * (2.0 * spec->pooling - 1.0));
      n += len;
      bag->offsets[i + 1] = (uint32_t) n;
    }
  bag->n_ids = n;
  bag->ids = g_new (int64_t, n ? n : 1);
  for (uint64_t j = 0; j < n; j++)
    {
      int64_t id = rg_zipf_sample (zipf, &st);
      bag->ids[j] = rg_trace_hash_row (t, id, spec->rows);
    }
}

static void
generate_range (void *p, int64_t begin, int64_t end)
{
  GenCtx *ctx = p;
  for (int64_t t = begin; t < end; t++)
    {
      const RgTableSpec *spec = &ctx->config->tables[t];
      RgZipf             zipf;
      rg_zipf_init (&zipf, spec->id_space, spec->zipf_s, spec->zipf_q);
      for (uint32_t b = 0; b < ctx->config->n_batches; b++)
        generate_bag (ctx->config, (uint32_t) t, b, &zipf,
                      &ctx->trace->bags[(gsize) b * ctx->trace->n_tables + t]);
    }
}

RgTrace *
rg_trace_generate (const RgTraceConfig *config, GError **error)
{
  if (config->n_tables < 1 || config->n_tables > RG_TRACE_MAX_TABLES)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "trace: n_tables %u is outside 1..%u", config->n_tables, RG_TRACE_MAX_TABLES);
      return NULL;
    }
  if (config->batch_size < 1 || config->batch_size > RG_TRACE_MAX_BATCH)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "trace: batch_size %u is outside 1..%u", config->batch_size,
                   RG_TRACE_MAX_BATCH);
      return NULL;
    }
  if (config->n_batches < 1)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "trace: no batches requested");
      return NULL;
    }
  for (uint32_t t = 0; t < config->n_tables; t++)
    {
      if (!rg_table_spec_validate (&config->tables[t], t, error))
        return NULL;
      /* Bag offsets are u32: the largest possible bag total must fit. */
      double worst = 2.0 * config->tables[t].pooling * config->batch_size;
      if (worst >= 4294967295.0)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                       "table %u: pooling %.0f × batch %u overflows a batch's id count", t,
                       config->tables[t].pooling, config->batch_size);
          return NULL;
        }
    }

  RgTrace *trace = g_new0 (RgTrace, 1);
  trace->n_tables = config->n_tables;
  trace->tables = g_memdup2 (config->tables, sizeof (RgTableSpec) * config->n_tables);
  trace->batch_size = config->batch_size;
  trace->n_batches = config->n_batches;
  trace->seed = config->seed;
  trace->bags = g_new0 (RgTraceBag, (gsize) config->n_batches * config->n_tables);

  GenCtx ctx = { config, trace };
  rg_parallel_for (config->n_tables, 1, generate_range, &ctx);
  return trace;
}

void
rg_trace_free (RgTrace *trace)
{
  if (!trace)
    return;
  if (trace->bags)
    for (gsize i = 0; i < (gsize) trace->n_batches * trace->n_tables; i++)
      {
        g_free (trace->bags[i].offsets);
        g_free (trace->bags[i].ids);
      }
  g_free (trace->bags);
  g_free (trace->tables);
  g_free (trace);
}

uint64_t
rg_trace_total_bytes (const RgTrace *trace)
{
  uint64_t sum = 0;
  for (uint32_t t = 0; t < trace->n_tables; t++)
    sum += (uint64_t) trace->tables[t].rows * rg_table_row_bytes (&trace->tables[t]);
  return sum;
}

/* ---- locality ---- */

static int
cmp_i64 (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return (x > y) - (x < y);
}

void
rg_trace_reuse (const RgTrace *trace, uint32_t first_batch, uint32_t n_batches,
                uint32_t threshold, double *row_share, double *lookup_share)
{
  uint64_t touched = 0, reused = 0, lookups = 0, reused_lookups = 0;
  g_autofree int64_t *scratch = NULL;
  gsize               cap = 0;
  uint32_t            end = MIN (trace->n_batches, first_batch + n_batches);

  for (uint32_t b = first_batch; b < end; b++)
    for (uint32_t t = 0; t < trace->n_tables; t++)
      {
        const RgTraceBag *bag = rg_trace_bag (trace, b, t);
        if (bag->n_ids == 0)
          continue;
        if (bag->n_ids > cap)
          {
            cap = bag->n_ids;
            g_free (scratch);
            scratch = g_new (int64_t, cap);
          }
        memcpy (scratch, bag->ids, bag->n_ids * sizeof (int64_t));
        qsort (scratch, bag->n_ids, sizeof (int64_t), cmp_i64);
        lookups += bag->n_ids;
        for (uint64_t i = 0; i < bag->n_ids;)
          {
            uint64_t j = i;
            while (j < bag->n_ids && scratch[j] == scratch[i])
              j++;
            touched++;
            if (j - i > threshold)
              {
                reused++;
                reused_lookups += j - i;
              }
            i = j;
          }
      }
  *row_share = touched ? (double) reused / (double) touched : 0.0;
  *lookup_share = lookups ? (double) reused_lookups / (double) lookups : 0.0;
}
