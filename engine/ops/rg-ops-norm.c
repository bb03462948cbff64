/* rg-ops-norm.c — RMSNorm, LayerNorm, GroupNorm and softmax on the CPU.
 *
 * Each normalised unit (a row, or a group of one sample) is done by one
 * thread in a fixed order, so results do not depend on the thread count.
 * Statistics are two-pass (mean first, then squared deviations): one-pass
 * E[x²] − E[x]² loses everything when the mean is large. */
#include "ops/rg-ops-cpu.h"

typedef struct {
  const float *x, *w, *b;
  float       *y;
  int64_t      d;
  float        eps;
} RowNorm;

static void
rmsnorm_rows (void *data, int64_t begin, int64_t end)
{
  const RowNorm *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->x + r * d;
      float *y = c->y + r * d;
      float inv = 1.0f / sqrtf (rg_cpu_sum_sq (x, d) / (float) d + c->eps);
      if (c->w != NULL)
        for (int64_t i = 0; i < d; i++)
          y[i] = x[i] * inv * c->w[i];
      else
        for (int64_t i = 0; i < d; i++)
          y[i] = x[i] * inv;
    }
}

void
rg_cpu_rmsnorm (const RgTensor *x, const RgTensor *w, float eps, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  RowNorm c = { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL, NULL, rg_tensor_f32 (y), d, eps };
  rg_parallel_for (rg_tensor_numel (x) / d, rg_cpu_row_grain (d), rmsnorm_rows, &c);
}

/* Σ (x[i] − m)² with 16 partial sums (vectorisable, fixed order). */
static inline float
sum_sq_dev (const float *x, int64_t n, float m)
{
  float acc[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++)
      acc[j] += (x[i + j] - m) * (x[i + j] - m);
  float s = 0.0f;
  for (; i < n; i++)
    s += (x[i] - m) * (x[i] - m);
  for (int j = 0; j < 16; j++)
    s += acc[j];
  return s;
}

/* Mean and 1/std of n floats, two-pass. */
static void
mean_inv_std (const float *x, int64_t n, float eps, float *mean, float *inv_std)
{
  float m = rg_cpu_sum (x, n) / (float) n;
  float v = sum_sq_dev (x, n, m);
  *mean = m;
  *inv_std = 1.0f / sqrtf (v / (float) n + eps);
}

static void
layernorm_rows (void *data, int64_t begin, int64_t end)
{
  const RowNorm *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->x + r * d;
      float *y = c->y + r * d;
      float mean, inv;
      mean_inv_std (x, d, c->eps, &mean, &inv);
      for (int64_t i = 0; i < d; i++)
        y[i] = (x[i] - mean) * inv;
      if (c->w != NULL)
        for (int64_t i = 0; i < d; i++)
          y[i] *= c->w[i];
      if (c->b != NULL)
        for (int64_t i = 0; i < d; i++)
          y[i] += c->b[i];
    }
}

void
rg_cpu_layernorm (const RgTensor *x, const RgTensor *w, const RgTensor *b, float eps, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  RowNorm c = { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL, b ? rg_tensor_f32 (b) : NULL,
                rg_tensor_f32 (y), d, eps };
  rg_parallel_for (rg_tensor_numel (x) / d, rg_cpu_row_grain (d), layernorm_rows, &c);
}

/* ---- GroupNorm ----
 *
 * One (sample, group) per index: its channels are contiguous in memory.
 * Groups can hold a whole video's worth of values, so the statistics sum
 * blocks of GN_BLOCK values with 16 float lanes (vectorised) and add the
 * blocks in double. The forward and both backwards share group_stats, so a
 * backward sees exactly the forward's mean and 1/σ — which lets the fused
 * GroupNorm → SiLU backward recompute the activation's input instead of
 * keeping it. */

#define GN_BLOCK 1024

/* Mean and 1/sqrt(var + eps) of one group's n values. Deviations are taken
 * from the float mean m; Σ(x − m)² − n·(mean − m)² is the exact identity
 * that turns them into the variance about the true mean. */
static void
group_stats (const float *x, int64_t n, float eps, float *mean, float *inv)
{
  double sum = 0.0, ss = 0.0;
  for (int64_t i = 0; i < n; i += GN_BLOCK)
    sum += rg_cpu_sum (x + i, MIN (GN_BLOCK, n - i));
  double mu = sum / (double) n;
  float m = (float) mu;
  for (int64_t i = 0; i < n; i += GN_BLOCK)
    ss += sum_sq_dev (x + i, MIN (GN_BLOCK, n - i), m);
  double var = MAX (ss / (double) n - (mu - m) * (mu - m), 0.0);
  *mean = m;
  *inv = (float) (1.0 / sqrt (var + eps));
}

typedef struct {
  const float *x, *w, *b;
  float       *y; /* GroupNorm's output, or silu of it when act */
  int64_t      channels, group_channels, spatial;
  int          groups;
  float        eps;
  gboolean     act;
} GroupNorm;

/* y = x·a + off per channel (a = w/σ, off = b − mean·a): the one expression
 * every GroupNorm path uses, so they agree bit for bit. */
static inline void
channel_affine (const GroupNorm *c, int64_t ch, float mean, float inv, float *a, float *off)
{
  float wv = c->w ? c->w[ch] : 1.0f, bv = c->b ? c->b[ch] : 0.0f;
  *a = inv * wv;
  *off = bv - mean * *a;
}

RG_CPU_CLONES static void
groupnorm_units (void *data, int64_t begin, int64_t end)
{
  const GroupNorm *c = data;
  /* locals, not c->…: see rg-ops-elementwise.c on -fno-strict-aliasing */
  int64_t sp = c->spatial, n = c->group_channels * sp;
  for (int64_t u = begin; u < end; u++)
    {
      const float *x = c->x + u * n;
      float *y = c->y + u * n;
      float mean, inv;
      group_stats (x, n, c->eps, &mean, &inv);
      int64_t c0 = (u % c->groups) * c->group_channels;
      for (int64_t ch = 0; ch < c->group_channels; ch++)
        {
          float a, off;
          channel_affine (c, c0 + ch, mean, inv, &a, &off);
          const float *xs = x + ch * sp;
          float *ys = y + ch * sp;
          /* SiLU here, while the group is still in cache: as a separate
           * pass it re-read whole activations from memory (a sixth of the
           * TAE's time). Same float expression as rg_cpu_silu's, so the
           * fused result is bit-identical to GroupNorm then SiLU. */
          if (!c->act)
            for (int64_t s = 0; s < sp; s++)
              ys[s] = xs[s] * a + off;
          else
            for (int64_t s = 0; s < sp; s++)
              {
                float v = xs[s] * a + off;
                ys[s] = v / (1.0f + rg_fast_exp (-v));
              }
        }
    }
}

static void
groupnorm_run (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b, float eps,
               gboolean act, RgTensor *y)
{
  int64_t batch = x->shape[0], channels = x->shape[1];
  int64_t spatial = channels ? rg_tensor_numel (x) / (batch * channels) : 0;
  if (batch == 0 || channels == 0 || spatial == 0)
    return;
  GroupNorm c = { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL, b ? rg_tensor_f32 (b) : NULL,
                  rg_tensor_f32 (y), channels, channels / groups, spatial, groups, eps, act };
  rg_parallel_for (batch * groups, rg_cpu_row_grain (c.group_channels * spatial),
                   groupnorm_units, &c);
}

void
rg_cpu_groupnorm (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b, float eps,
                  RgTensor *y)
{
  groupnorm_run (x, groups, w, b, eps, FALSE, y);
}

void
rg_cpu_groupnorm_silu (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                       float eps, RgTensor *y)
{
  groupnorm_run (x, groups, w, b, eps, TRUE, y);
}

typedef struct {
  const float *x;
  float       *y;
  int64_t      d;
} Rows;

static void
softmax_rows (void *data, int64_t begin, int64_t end)
{
  const Rows *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->x + r * d;
      float *y = c->y + r * d;
      float m = rg_cpu_max (x, d);
      for (int64_t i = 0; i < d; i++)
        y[i] = rg_fast_exp (x[i] - m);
      float inv = 1.0f / rg_cpu_sum (y, d);
      for (int64_t i = 0; i < d; i++)
        y[i] *= inv;
    }
}

void
rg_cpu_softmax (const RgTensor *x, RgTensor *y)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  Rows c = { rg_tensor_f32 (x), rg_tensor_f32 (y), d };
  rg_parallel_for (rg_tensor_numel (x) / d, rg_cpu_row_grain (d), softmax_rows, &c);
}

/* ---- backward ----
 *
 * With x̂ the normalised input and g = dy·w, every norm here has
 * dx = inv · (g − mean(g) − x̂ · mean(g·x̂)) over its unit (RMSNorm has no
 * mean term and x̂ = x·inv). Row statistics are recomputed as the forward
 * did and kept per row so dw = Σ dy·x̂ and db = Σ dy can be reduced
 * column-parallel afterwards (rg_cpu_colsum). */

typedef struct {
  const float *x, *w, *dy;
  float       *dx, *mean, *inv;
  int64_t      d;
  float        eps;
} RowNormGrad;

/* Σ a[i]·b[i] with 16 partial sums (vectorisable, fixed order). */
static inline float
dot16 (const float *a, const float *b, int64_t n)
{
  float acc[16] = { 0 };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++)
      acc[j] += a[i + j] * b[i + j];
  float s = 0.0f;
  for (; i < n; i++)
    s += a[i] * b[i];
  for (int j = 0; j < 16; j++)
    s += acc[j];
  return s;
}

/* Σ x² and Σ g·x over a row, g = dy·w (dy where w is NULL), in 8 double
 * partial sums: vectorisable, and the order is fixed by d alone. */
static inline void
rms_row_sums (const float *restrict x, const float *restrict dy, const float *restrict w,
              int64_t d, double *ss_out, double *gx_out)
{
  double ss[8] = { 0 }, gx[8] = { 0 };
  int64_t i = 0;
  for (; i + 8 <= d; i += 8)
    for (int j = 0; j < 8; j++)
      {
        double xv = x[i + j], g = w ? (double) dy[i + j] * w[i + j] : dy[i + j];
        ss[j] += xv * xv;
        gx[j] += g * xv;
      }
  double s = 0.0, t = 0.0;
  for (; i < d; i++)
    {
      double xv = x[i], g = w ? (double) dy[i] * w[i] : dy[i];
      s += xv * xv;
      t += g * xv;
    }
  for (int j = 0; j < 8; j++)
    s += ss[j], t += gx[j];
  *ss_out = s;
  *gx_out = t;
}

static inline void
rms_row_dx (const float *restrict x, const float *restrict dy, const float *restrict w,
            int64_t d, double inv, double k, float *restrict dx)
{
  for (int64_t i = 0; i < d; i++)
    {
      double g = w ? (double) dy[i] * w[i] : dy[i];
      dx[i] += (float) (inv * (g - x[i] * k));
    }
}

/* dx = inv·(g − x·k), k = inv²·mean(g·x), i.e. g·(1 − x²·inv²) along x:
 * when mean(x²) ≫ eps the two terms cancel to a result ~eps/mean(x²)
 * times g (a short row, D = 1 at the extreme), so the row is combined in
 * double: in float the cancellation leaves only rounding noise. The
 * weighted and unweighted rows are separate calls so each loop is
 * branch-free. */
static void
rmsnorm_backward_rows (void *data, int64_t begin, int64_t end)
{
  const RowNormGrad *c = data;
  int64_t d = c->d;
  const float *xs = c->x, *dys = c->dy, *w = c->w;
  float *dxs = c->dx, *invs = c->inv;
  double eps = c->eps;
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = xs + r * d, *dy = dys + r * d;
      double ss, gx;
      if (w != NULL)
        rms_row_sums (x, dy, w, d, &ss, &gx);
      else
        rms_row_sums (x, dy, NULL, d, &ss, &gx);
      double inv = 1.0 / sqrt (ss / (double) d + eps);
      invs[r] = (float) inv;
      if (dxs == NULL)
        continue;
      double k = inv * inv * gx / (double) d;
      if (w != NULL)
        rms_row_dx (x, dy, w, d, inv, k, dxs + r * d);
      else
        rms_row_dx (x, dy, NULL, d, inv, k, dxs + r * d);
    }
}

void
rg_cpu_rmsnorm_backward (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                         RgTensor *dx, RgTensor *dw)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  int64_t rows = rg_tensor_numel (x) / d;
  RowNormGrad c = { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL, rg_tensor_f32 (dy),
                    dx ? rg_tensor_f32 (dx) : NULL, NULL, g_new (float, MAX (rows, 1)), d, eps };
  rg_parallel_for (rows, rg_cpu_row_grain (d), rmsnorm_backward_rows, &c);
  if (dw != NULL)
    rg_cpu_colsum (rows, d, c.dy, c.x, NULL, c.inv, rg_tensor_f32 (dw));
  g_free (c.inv);
}

static void
layernorm_backward_rows (void *data, int64_t begin, int64_t end)
{
  const RowNormGrad *c = data;
  int64_t d = c->d;
  float *g = g_new (float, d), *xh = g_new (float, d);
  for (int64_t r = begin; r < end; r++)
    {
      const float *x = c->x + r * d, *dy = c->dy + r * d;
      float mean, inv;
      mean_inv_std (x, d, c->eps, &mean, &inv);
      c->mean[r] = mean;
      c->inv[r] = inv;
      if (c->dx == NULL)
        continue;
      for (int64_t i = 0; i < d; i++)
        {
          g[i] = c->w ? dy[i] * c->w[i] : dy[i];
          xh[i] = (x[i] - mean) * inv;
        }
      float mg = rg_cpu_sum (g, d) / (float) d, mgx = dot16 (g, xh, d) / (float) d;
      float *dx = c->dx + r * d;
      for (int64_t i = 0; i < d; i++)
        dx[i] += inv * (g[i] - mg - xh[i] * mgx);
    }
  g_free (g);
  g_free (xh);
}

void
rg_cpu_layernorm_backward (const RgTensor *x, const RgTensor *w, float eps, const RgTensor *dy,
                           RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  int64_t d = x->shape[x->ndim - 1];
  if (d == 0)
    return;
  int64_t rows = rg_tensor_numel (x) / d;
  RowNormGrad c = { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL, rg_tensor_f32 (dy),
                    dx ? rg_tensor_f32 (dx) : NULL, g_new (float, MAX (rows, 1)),
                    g_new (float, MAX (rows, 1)), d, eps };
  rg_parallel_for (rows, rg_cpu_row_grain (d), layernorm_backward_rows, &c);
  if (dw != NULL)
    rg_cpu_colsum (rows, d, c.dy, c.x, c.mean, c.inv, rg_tensor_f32 (dw));
  if (db != NULL)
    rg_cpu_colsum (rows, d, c.dy, NULL, NULL, NULL, rg_tensor_f32 (db));
  g_free (c.mean);
  g_free (c.inv);
}

typedef struct {
  GroupNorm    fwd; /* x, w, b and the shapes; y unused */
  const float *dy;  /* gradient of GroupNorm's output, or of SiLU's when fwd.act */
  float       *dx;
  float       *pw, *pb;  /* per (sample, channel) partial Σ g·x̂ and Σ g */
  float       *scratch;  /* with act: a group of g per thread */
} GroupNormGrad;

/* One (sample, group) per index. g, the gradient at GroupNorm's output, is
 * dy itself, or with act dy·silu'(v) at the forward's v = x·a + off,
 * recomputed in the forward's expression and kept in the thread's scratch
 * for the second pass. The per-channel sums land in the unit's own slots
 * of pw/pb. */
RG_CPU_CLONES static void
groupnorm_backward_units (void *data, int64_t begin, int64_t end)
{
  const GroupNormGrad *c = data;
  const GroupNorm *f = &c->fwd;
  int64_t n = f->group_channels * f->spatial, sp = f->spatial;
  float *gbuf = f->act ? c->scratch + rg_parallel_thread_index () * n : NULL;
  for (int64_t u = begin; u < end; u++)
    {
      const float *x = f->x + u * n, *dy = c->dy + u * n;
      const float *g = f->act ? gbuf : dy;
      float mean, inv;
      group_stats (x, n, f->eps, &mean, &inv);
      int64_t c0 = (u % f->groups) * f->group_channels, b = u / f->groups;
      double sg = 0.0, sgx = 0.0;
      for (int64_t ch = 0; ch < f->group_channels; ch++)
        {
          const float *xs = x + ch * sp, *gs = g + ch * sp;
          if (f->act)
            {
              float a, off;
              channel_affine (f, c0 + ch, mean, inv, &a, &off);
              const float *ds = dy + ch * sp;
              float *gw = gbuf + ch * sp;
              /* rg_cpu_silu_backward's expression, for the same bits */
              for (int64_t s = 0; s < sp; s++)
                {
                  float v = xs[s] * a + off;
                  float sig = 1.0f / (1.0f + rg_fast_exp (-v));
                  gw[s] = ds[s] * sig * (1.0f + v * (1.0f - sig));
                }
            }
          float acc_g[16] = { 0 }, acc_gx[16] = { 0 }, sdy = 0.0f, sdyx = 0.0f;
          int64_t s = 0;
          for (; s + 16 <= sp; s += 16)
            for (int j = 0; j < 16; j++)
              {
                acc_g[j] += gs[s + j];
                acc_gx[j] += gs[s + j] * ((xs[s + j] - mean) * inv);
              }
          for (; s < sp; s++)
            {
              sdy += gs[s];
              sdyx += gs[s] * ((xs[s] - mean) * inv);
            }
          for (int j = 0; j < 16; j++)
            {
              sdy += acc_g[j];
              sdyx += acc_gx[j];
            }
          double wv = f->w ? f->w[c0 + ch] : 1.0;
          sg += wv * sdy;
          sgx += wv * sdyx;
          c->pb[b * f->channels + c0 + ch] = sdy;
          c->pw[b * f->channels + c0 + ch] = sdyx;
        }
      if (c->dx == NULL)
        continue;
      float mg = (float) (sg / (double) n), mgx = (float) (sgx / (double) n);
      for (int64_t ch = 0; ch < f->group_channels; ch++)
        {
          float wv = f->w ? f->w[c0 + ch] : 1.0f;
          const float *xs = x + ch * sp, *gs = g + ch * sp;
          float *dxs = c->dx + u * n + ch * sp;
          for (int64_t s = 0; s < sp; s++)
            {
              float xh = (xs[s] - mean) * inv;
              dxs[s] += inv * (gs[s] * wv - mg - xh * mgx);
            }
        }
    }
}

static void
groupnorm_backward_run (const RgTensor *x, int groups, const RgTensor *w, const RgTensor *b,
                        float eps, gboolean act, const RgTensor *dy, RgTensor *dx, RgTensor *dw,
                        RgTensor *db)
{
  int64_t batch = x->shape[0], channels = x->shape[1];
  int64_t spatial = channels ? rg_tensor_numel (x) / (batch * channels) : 0;
  if (batch == 0 || channels == 0 || spatial == 0)
    return;
  GroupNormGrad c = { { rg_tensor_f32 (x), w ? rg_tensor_f32 (w) : NULL,
                        b ? rg_tensor_f32 (b) : NULL, NULL, channels, channels / groups, spatial,
                        groups, eps, act },
                      rg_tensor_f32 (dy), dx ? rg_tensor_f32 (dx) : NULL,
                      g_new (float, batch * channels), g_new (float, batch * channels), NULL };
  int64_t n = c.fwd.group_channels * spatial;
  if (act)
    c.scratch = g_new (float, rg_parallel_threads () * n);
  rg_parallel_for (batch * groups, rg_cpu_row_grain (n), groupnorm_backward_units, &c);
  /* samples in order: the same sums whatever the thread count */
  if (dw != NULL)
    rg_cpu_colsum (batch, channels, c.pw, NULL, NULL, NULL, rg_tensor_f32 (dw));
  if (db != NULL)
    rg_cpu_colsum (batch, channels, c.pb, NULL, NULL, NULL, rg_tensor_f32 (db));
  g_free (c.pw);
  g_free (c.pb);
  g_free (c.scratch);
}

void
rg_cpu_groupnorm_backward (const RgTensor *x, int groups, const RgTensor *w, float eps,
                           const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  groupnorm_backward_run (x, groups, w, NULL, eps, FALSE, dy, dx, dw, db);
}

void
rg_cpu_groupnorm_silu_backward (const RgTensor *x, int groups, const RgTensor *w,
                                const RgTensor *b, float eps, const RgTensor *dy, RgTensor *dx,
                                RgTensor *dw, RgTensor *db)
{
  groupnorm_backward_run (x, groups, w, b, eps, TRUE, dy, dx, dw, db);
}

typedef struct {
  const float *y, *dy;
  float       *dx;
  int64_t      d;
} SoftmaxGrad;

static void
softmax_backward_rows (void *data, int64_t begin, int64_t end)
{
  const SoftmaxGrad *c = data;
  int64_t d = c->d;
  for (int64_t r = begin; r < end; r++)
    {
      const float *y = c->y + r * d, *dy = c->dy + r * d;
      float *dx = c->dx + r * d;
      float s = dot16 (dy, y, d);
      for (int64_t i = 0; i < d; i++)
        dx[i] += y[i] * (dy[i] - s);
    }
}

void
rg_cpu_softmax_backward (const RgTensor *y, const RgTensor *dy, RgTensor *dx)
{
  int64_t d = y->shape[y->ndim - 1];
  if (d == 0)
    return;
  SoftmaxGrad c = { rg_tensor_f32 (y), rg_tensor_f32 (dy), rg_tensor_f32 (dx), d };
  rg_parallel_for (rg_tensor_numel (y) / d, rg_cpu_row_grain (d), softmax_backward_rows, &c);
}
