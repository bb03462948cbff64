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
