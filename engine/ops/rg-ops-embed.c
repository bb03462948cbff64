/* rg-ops-embed.c — table lookups: token embeddings and the DiT's
 * factorized (T, H, W) positional embedding. */
#include "ops/rg-ops-cpu.h"

typedef struct {
  const float *tt, *th, *tw;
  float       *y;
  int64_t      h, w, d;
} PosEmb;

/* One index = one position (t, h, w). */
static void
pos_emb_rows (void *data, int64_t begin, int64_t end)
{
  const PosEmb *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      int64_t w = r % c->w, h = (r / c->w) % c->h, t = r / (c->w * c->h);
      const float *a = c->tt + t * d, *b = c->th + h * d, *e = c->tw + w * d;
      float *y = c->y + r * d;
      for (int64_t i = 0; i < d; i++)
        y[i] = a[i] + b[i] + e[i];
    }
}

void
rg_cpu_pos_emb_factorized (const RgTensor *tt, const RgTensor *th, const RgTensor *tw,
                           RgTensor *y)
{
  PosEmb c = { rg_tensor_f32 (tt), rg_tensor_f32 (th), rg_tensor_f32 (tw), rg_tensor_f32 (y),
               th->shape[0], tw->shape[0], y->shape[1] };
  if (c.d == 0)
    return;
  rg_parallel_for (y->shape[0], rg_cpu_row_grain (c.d), pos_emb_rows, &c);
}

typedef struct {
  const float   *table;
  const int32_t *ids;
  float         *y;
  int64_t        rows, d;
  gint           bad; /* atomic: count of ids outside the table */
} Lookup;

static void
embedding_rows (void *data, int64_t begin, int64_t end)
{
  Lookup *c = data;
  for (int64_t n = begin; n < end; n++)
    {
      int32_t id = c->ids[n];
      float *dst = c->y + n * c->d;
      if (id < 0 || id >= c->rows)
        {
          memset (dst, 0, (size_t) c->d * sizeof (float));
          g_atomic_int_inc (&c->bad);
          continue;
        }
      memcpy (dst, c->table + (int64_t) id * c->d, (size_t) c->d * sizeof (float));
    }
}

/* An id outside the table is a caller bug (ids come from our own
 * tokenizer), but the row it would read is memory we do not own: write
 * zeros and say so once per call, never read out of bounds. */
void
rg_cpu_embedding (const RgTensor *table, const RgTensor *ids, RgTensor *y)
{
  Lookup c = { rg_tensor_f32 (table), ids->data, rg_tensor_f32 (y), table->shape[0],
               table->shape[1], 0 };
  if (c.d == 0)
    return;
  rg_parallel_for (rg_tensor_numel (ids), rg_cpu_row_grain (c.d), embedding_rows, &c);
  if (c.bad > 0)
    g_warning ("rg_embedding: %d id(s) outside the table of %" G_GINT64_FORMAT
               " rows; wrote zeros for them", c.bad, c.rows);
}

/* ---- backward ----
 *
 * Both are scatter-adds into tables: several positions hit the same table
 * row. Threads own column slices of the tables and visit positions in
 * order, so there are no write conflicts and no order dependence. */

#define SCATTER_CHUNK 64

typedef struct {
  const float   *dy;
  const int32_t *ids;
  float         *dtt, *dth, *dtw; /* embedding: dtt is the table gradient */
  int64_t        n, t, h, w, d, rows;
} Scatter;

static void
pos_emb_backward_chunks (void *data, int64_t begin, int64_t end)
{
  const Scatter *c = data;
  for (int64_t chunk = begin; chunk < end; chunk++)
    {
      int64_t c0 = chunk * SCATTER_CHUNK, n = MIN ((int64_t) SCATTER_CHUNK, c->d - c0);
      for (int64_t r = 0; r < c->n; r++)
        {
          int64_t w = r % c->w, h = (r / c->w) % c->h, t = r / (c->w * c->h);
          const float *dy = c->dy + r * c->d + c0;
          float *a = c->dtt ? c->dtt + t * c->d + c0 : NULL;
          float *b = c->dth ? c->dth + h * c->d + c0 : NULL;
          float *e = c->dtw ? c->dtw + w * c->d + c0 : NULL;
          for (int64_t i = 0; i < n; i++)
            {
              if (a)
                a[i] += dy[i];
              if (b)
                b[i] += dy[i];
              if (e)
                e[i] += dy[i];
            }
        }
    }
}

void
rg_cpu_pos_emb_factorized_backward (const RgTensor *dy, RgTensor *dtt, RgTensor *dth,
                                    RgTensor *dtw)
{
  Scatter c = { rg_tensor_f32 (dy), NULL, dtt ? rg_tensor_f32 (dtt) : NULL,
                dth ? rg_tensor_f32 (dth) : NULL, dtw ? rg_tensor_f32 (dtw) : NULL,
                dy->shape[0], 0, 0, 0, dy->shape[1], 0 };
  /* the grid comes from whichever tables are given; the public check made
   * their product equal dy's rows */
  const RgTensor *any = dtt ? dtt : dth ? dth : dtw;
  if (any == NULL || c.d == 0 || c.n == 0)
    return;
  c.w = dtw ? dtw->shape[0] : 1;
  c.h = dth ? dth->shape[0] : 1;
  c.t = c.n / (c.w * c.h);
  rg_parallel_for ((c.d + SCATTER_CHUNK - 1) / SCATTER_CHUNK, 1, pos_emb_backward_chunks, &c);
}

static void
embedding_backward_chunks (void *data, int64_t begin, int64_t end)
{
  const Scatter *c = data;
  for (int64_t chunk = begin; chunk < end; chunk++)
    {
      int64_t c0 = chunk * SCATTER_CHUNK, n = MIN ((int64_t) SCATTER_CHUNK, c->d - c0);
      for (int64_t r = 0; r < c->n; r++)
        {
          int32_t id = c->ids[r];
          if (id < 0 || id >= c->rows)
            continue;
          const float *dy = c->dy + r * c->d + c0;
          float *dst = c->dtt + (int64_t) id * c->d + c0;
          for (int64_t i = 0; i < n; i++)
            dst[i] += dy[i];
        }
    }
}

void
rg_cpu_embedding_backward (const RgTensor *ids, const RgTensor *dy, RgTensor *dtable)
{
  Scatter c = { rg_tensor_f32 (dy), ids->data, rg_tensor_f32 (dtable), NULL, NULL,
                rg_tensor_numel (ids), 0, 0, 0, dtable->shape[1], dtable->shape[0] };
  if (c.d == 0 || c.n == 0)
    return;
  rg_parallel_for ((c.d + SCATTER_CHUNK - 1) / SCATTER_CHUNK, 1, embedding_backward_chunks, &c);
}
