/* rg-ops-conv.c — the 2.5D convolutions of the TAE and audio VAE.
 *
 * Both are im2col + sgemm: the receptive fields of some frames are
 * unrolled into a column matrix col [C·taps, positions] (padding is
 * resolved while unrolling, so the GEMM sees no borders), then
 * y[O, positions] = w[O, C·taps] · col. PyTorch's weight layouts [O, C, kh,
 * kw] and [O, C, kt] are already that row-major [O, C·taps] matrix, and the
 * output slice of some frames is a strided [O, positions] matrix inside
 * y [B, O, T, H, W], so neither side is repacked. A 1×1 stride-1 conv2d
 * skips col altogether, and so does a stride-1 conv1d (see "shifted taps").
 *
 * Work units. The work is cut into units — a range of frames of one
 * sample, or of output rows of one frame — each run start to finish by one
 * thread: unroll into that thread's scratch, then single-threaded GEMMs.
 * A unit's col is sized to stay in the L2 cache between the unroll and the
 * GEMM that reads it, and the pool synchronises once per op instead of
 * twice per chunk; on the TAE's training crops that took 35–50 % off a
 * conv's time against one pool-split GEMM per chunk. Units are cut from
 * the shapes alone, and weight gradients are summed per fixed group of
 * units (DwGroups), so results never depend on the thread count. */
#include "ops/rg-ops-cpu.h"

#include "core/rg-gemm.h"

/* A chunk's col in the strided-conv1d path (one pool-split GEMM per chunk). */
#define CONV_COL_FLOATS ((int64_t) 1 << 22)
/* A unit's col: 1 MB, half of a 2 MB L2, so the GEMM re-reads it from cache. */
#define CONV_UNIT_FLOATS ((int64_t) 1 << 18)
/* A shifted-taps unit's output slice [O, frames·P]: 256 KB. */
#define CONV_SHIFT_UNIT_FLOATS ((int64_t) 1 << 16)
/* All weight-gradient partials of one backward together: at most 64 MB. */
#define CONV_DW_PARTIAL_FLOATS ((int64_t) 1 << 24)
/* All threads' backward scratch together: at most 256 MB (see below). */
#define CONV_SCRATCH_FLOATS ((int64_t) 1 << 26)

/* y[o, 0..n) = bias[o] for each output channel of a [O, ldc] slice, so the
 * GEMM can accumulate onto it (beta = 1). */
typedef struct {
  const float *bias;
  float       *y;
  int64_t      n, ldc;
} BiasFill;

static void
bias_fill_rows (void *data, int64_t begin, int64_t end)
{
  const BiasFill *c = data;
  int64_t n = c->n; /* a local: see rg-ops-elementwise.c on aliasing */
  for (int64_t o = begin; o < end; o++)
    {
      float *dst = c->y + o * c->ldc, v = c->bias[o];
      for (int64_t i = 0; i < n; i++)
        dst[i] = v;
    }
}

/* y_slice = w · col (+ bias), y_slice [O, n] with row stride ldc. Inside a
 * unit both steps run on the calling thread. */
static void
gemm_into (const float *w, const float *bias, const float *col, int64_t ldcol, int64_t o_ch,
           int64_t taps, int64_t n, float *y, int64_t ldc)
{
  float beta = 0.0f;
  if (bias != NULL)
    {
      BiasFill f = { bias, y, n, ldc };
      rg_parallel_for (o_ch, rg_cpu_row_grain (n), bias_fill_rows, &f);
      beta = 1.0f;
    }
  rg_sgemm (FALSE, FALSE, o_ch, n, taps, 1.0f, w, taps, col, ldcol, beta, y, ldc);
}

/* ---- weight-gradient groups ----
 *
 * Units are dealt, in order, to n_groups contiguous groups; each group adds
 * its units' weight gradients into its own zeroed copy, and the copies are
 * summed onto dst in group order. n_groups comes from the sizes alone (as
 * many as units, within CONV_DW_PARTIAL_FLOATS), so the sum is the same
 * whichever thread ran a group. One group adds straight onto dst. */
typedef struct {
  int64_t n_units, n_groups, per_group, size;
  float  *dst;
  float  *partials; /* [n_groups, size], or dst itself for one group */
} DwGroups;

static void
dw_groups_init (DwGroups *g, int64_t n_units, int64_t size, float *dst)
{
  g->n_units = n_units;
  g->size = size;
  g->dst = dst;
  int64_t most = MAX ((int64_t) 1, CONV_DW_PARTIAL_FLOATS / MAX (size, (int64_t) 1));
  g->n_groups = dst == NULL ? n_units : MIN (n_units, most);
  g->per_group = (n_units + g->n_groups - 1) / g->n_groups;
  g->n_groups = (n_units + g->per_group - 1) / g->per_group;
  g->partials = dst == NULL || g->n_groups == 1 ? dst : g_new0 (float, g->n_groups * size);
}

/* The accumulator group gi adds onto (NULL without a weight gradient). */
static float *
dw_groups_acc (const DwGroups *g, int64_t gi)
{
  return g->partials == NULL ? NULL : g->partials + (g->partials == g->dst ? 0 : gi * g->size);
}

static void
dw_reduce_range (void *data, int64_t begin, int64_t end)
{
  const DwGroups *g = data;
  float *dst = g->dst; /* a local: see rg-ops-elementwise.c on aliasing */
  for (int64_t gi = 0; gi < g->n_groups; gi++)
    {
      const float *src = g->partials + gi * g->size;
      for (int64_t i = begin; i < end; i++)
        dst[i] += src[i];
    }
}

static void
dw_groups_finish (DwGroups *g)
{
  if (g->partials != NULL && g->partials != g->dst)
    {
      rg_parallel_for (g->size, RG_CPU_GRAIN, dw_reduce_range, g);
      g_free (g->partials);
    }
  g->partials = NULL;
}

/* Per-thread scratch for units: one slab of `per_thread` floats for each
 * of `slots` threads (one slot: the units run on the calling thread). */
static float *
unit_scratch (float *base, int64_t per_thread, int slots)
{
  return base + (slots > 1 ? rg_parallel_thread_index () : 0) * per_thread;
}

/* ---- conv2d over frames ---- */

typedef struct {
  const float *x; /* x[b] */
  float       *col;
  int64_t      c_in, t_len, h, w, kh, kw, stride, ho, wo;
  int64_t      t0, nt;  /* frames of the unit */
  int64_t      oh0, nh; /* output rows of each (all of them unless nt = 1) */
  int64_t      ncol;    /* nt · nh · wo */
  gboolean     replicate;
} Im2col2d;

/* The output columns [lo, hi) of a row whose tap at offset off reads
 * inside the image row (ow·s + off in [0, w)). Stride 1 needs no division:
 * these run once per tap and image row, on rows as short as 4 pixels. */
static inline void
inside_range (int64_t w, int64_t stride, int64_t off, int64_t wo, int64_t *lo, int64_t *hi)
{
  int64_t last = w - 1 - off;
  if (stride == 1)
    {
      *lo = MAX (-off, (int64_t) 0);
      *hi = last < 0 ? 0 : MIN (wo, last + 1);
    }
  else
    {
      *lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
      *hi = last < 0 ? 0 : MIN (wo, last / stride + 1);
    }
  *lo = MIN (*lo, *hi);
}

/* Unroll one image row of taps: dst[ow] = x_row[ow·s + j − pw] for ow in
 * [0, wo), borders zero or replicated. */
static void
unroll_row (const float *xr, int64_t w, int64_t stride, int64_t off, gboolean replicate,
            float *dst, int64_t wo)
{
  int64_t lo, hi;
  inside_range (w, stride, off, wo, &lo, &hi);
  float left = replicate ? xr[0] : 0.0f, right = replicate ? xr[w - 1] : 0.0f;
  for (int64_t ow = 0; ow < lo; ow++)
    dst[ow] = left;
  if (stride == 1)
    memcpy (dst + lo, xr + lo + off, (size_t) (hi - lo) * sizeof (float));
  else
    for (int64_t ow = lo; ow < hi; ow++)
      dst[ow] = xr[ow * stride + off];
  for (int64_t ow = hi; ow < wo; ow++)
    dst[ow] = right;
}

/* Stride 1, wo = w: the n_rows image rows from ih0 on, each shifted by
 * off (|off| < w), as one copy of the whole block — the rows are
 * contiguous on both sides — then the |off| columns per row that the copy
 * took from the neighbouring row are set to the border value. Copies and
 * stores only, so the same bits as unroll_row row by row, at a fraction
 * of the per-row cost on the TAE's 4- to 32-pixel rows. */
static void
unroll_block (const float *xf, int64_t w, int64_t ih0, int64_t n_rows, int64_t off,
              gboolean replicate, float *dst)
{
  const float *src = xf + ih0 * w;
  int64_t n = n_rows * w, a = off >= 0 ? 0 : -off, b = off >= 0 ? w - off : w;
  if (off >= 0)
    memcpy (dst, src + off, (size_t) (n - off) * sizeof (float));
  else
    memcpy (dst - off, src, (size_t) (n + off) * sizeof (float));
  for (int64_t r = 0; r < n_rows; r++)
    {
      const float *xr = src + r * w;
      float *d = dst + r * w;
      float left = replicate ? xr[0] : 0.0f, right = replicate ? xr[w - 1] : 0.0f;
      for (int64_t ow = 0; ow < a; ow++)
        d[ow] = left;
      for (int64_t ow = b; ow < w; ow++)
        d[ow] = right;
    }
}

/* Output row oh of tap row (i, j) of one frame, row by row: for strides
 * other than 1 and the rows that read past the top or bottom edge. */
static void
im2col_row (const Im2col2d *c, const float *xf, int64_t oh, int64_t i, int64_t j, float *dst)
{
  int64_t ih = oh * c->stride + i - c->kh / 2;
  if (ih < 0 || ih >= c->h)
    {
      if (!c->replicate)
        {
          memset (dst, 0, (size_t) c->wo * sizeof (float));
          return;
        }
      ih = CLAMP (ih, (int64_t) 0, c->h - 1);
    }
  unroll_row (xf + ih * c->w, c->w, c->stride, j - c->kw / 2, c->replicate, dst, c->wo);
}

/* col [taps, nt·nh·wo] of the unit: row r = (c, i, j), frame by frame. */
static void
im2col_2d (const Im2col2d *c)
{
  int64_t ph = c->kh / 2, pw = c->kw / 2, taps = c->c_in * c->kh * c->kw;
  int64_t oh_end = c->oh0 + c->nh;
  for (int64_t r = 0; r < taps; r++)
    {
      int64_t j = r % c->kw, i = (r / c->kw) % c->kh, ch = r / (c->kw * c->kh);
      /* output rows [a, b) read image rows inside the frame: one block */
      int64_t a = c->oh0, b = c->oh0;
      if (c->stride == 1 && c->wo == c->w && j - pw < c->w && pw - j < c->w)
        {
          a = CLAMP (ph - i, c->oh0, oh_end);
          b = CLAMP (c->h + ph - i, a, oh_end);
        }
      for (int64_t tt = 0; tt < c->nt; tt++)
        {
          const float *xf = c->x + (ch * c->t_len + c->t0 + tt) * c->h * c->w;
          float *dst = c->col + r * c->ncol + tt * c->nh * c->wo;
          if (b > a)
            unroll_block (xf, c->w, a + i - ph, b - a, j - pw, c->replicate,
                          dst + (a - c->oh0) * c->wo);
          for (int64_t oh = c->oh0; oh < oh_end; oh++)
            if (oh < a || oh >= b)
              im2col_row (c, xf, oh, i, j, dst + (oh - c->oh0) * c->wo);
        }
    }
}

/* The shapes a conv2d over frames works with, shared by forward and
 * backward; out is y (forward) or dy (backward). */
static Im2col2d
im2col_2d_geometry (const RgTensor *x, const RgTensor *w, const RgTensor *out, int stride,
                    RgPadMode pad)
{
  Im2col2d c = { 0 };
  c.c_in = x->shape[1];
  c.t_len = x->shape[2];
  c.h = x->shape[3];
  c.w = x->shape[4];
  c.kh = w->shape[2];
  c.kw = w->shape[3];
  c.stride = stride;
  c.ho = out->shape[3];
  c.wo = out->shape[4];
  c.replicate = pad == RG_PAD_REPLICATE;
  return c;
}

/* How a conv2d's B·T frames are cut into units: fpu frames per unit when
 * a frame's col fits CONV_UNIT_FLOATS, else one frame in row_units bands
 * of rpu output rows (forward only: backward keeps whole frames, whose
 * col2im would otherwise overlap its neighbour's rows). */
typedef struct {
  const float *x, *w, *bias, *dy;
  float       *y, *dx, *scratch;
  DwGroups     dw;
  Im2col2d     geo;
  int64_t      o_ch, taps, hwo, ldc, x_sample;
  int64_t      fpu, frame_units, rpu, row_units, per_thread;
  int          slots; /* scratch slabs: the pool's threads, or 1 */
} Conv2dPlan;

static void
conv2d_plan_units (Conv2dPlan *p, gboolean split_rows)
{
  int64_t frame_col = p->taps * p->hwo;
  p->fpu = CLAMP (CONV_UNIT_FLOATS / MAX (frame_col, (int64_t) 1), (int64_t) 1, p->geo.t_len);
  p->frame_units = (p->geo.t_len + p->fpu - 1) / p->fpu;
  p->row_units = 1;
  if (split_rows && frame_col > CONV_UNIT_FLOATS)
    p->row_units = MIN (p->geo.ho, (frame_col + CONV_UNIT_FLOATS - 1) / CONV_UNIT_FLOATS);
  p->rpu = (p->geo.ho + p->row_units - 1) / p->row_units;
  p->row_units = (p->geo.ho + p->rpu - 1) / p->rpu;
}

/* The plan's shapes and weights, shared by forward and backward (out is y
 * or dy); FALSE when there is nothing to compute. */
static gboolean
conv2d_plan_init (Conv2dPlan *p, const RgTensor *x, const RgTensor *w, const RgTensor *out,
                  int stride, RgPadMode pad)
{
  *p = (Conv2dPlan){ .geo = im2col_2d_geometry (x, w, out, stride, pad) };
  const Im2col2d *c = &p->geo;
  p->o_ch = w->shape[0];
  p->taps = c->c_in * c->kh * c->kw;
  p->hwo = c->ho * c->wo;
  p->ldc = c->t_len * p->hwo;
  p->w = rg_tensor_f32 (w);
  return x->shape[0] > 0 && p->o_ch > 0 && c->t_len > 0 && p->hwo > 0;
}

/* Unit u's geometry in c; returns its sample. */
static int64_t
conv2d_unit (const Conv2dPlan *p, int64_t u, Im2col2d *c)
{
  int64_t per_sample = p->frame_units * p->row_units;
  int64_t b = u / per_sample, fu = (u % per_sample) / p->row_units, ru = u % p->row_units;
  c->x = p->x + b * p->x_sample;
  c->t0 = fu * p->fpu;
  c->nt = MIN (p->fpu, c->t_len - c->t0);
  c->oh0 = ru * p->rpu;
  c->nh = MIN (p->rpu, c->ho - c->oh0);
  c->ncol = c->nt * c->nh * c->wo;
  return b;
}

static void
conv2d_forward_units (void *data, int64_t begin, int64_t end)
{
  const Conv2dPlan *p = data;
  Im2col2d c = p->geo;
  c.col = unit_scratch (p->scratch, p->per_thread, p->slots);
  for (int64_t u = begin; u < end; u++)
    {
      int64_t b = conv2d_unit (p, u, &c);
      im2col_2d (&c);
      float *ys = p->y + b * p->o_ch * p->ldc + c.t0 * p->hwo + c.oh0 * c.wo;
      gemm_into (p->w, p->bias, c.col, c.ncol, p->o_ch, p->taps, c.ncol, ys, p->ldc);
    }
}

void
rg_cpu_conv2d_frames (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                      RgPadMode pad, RgTensor *y)
{
  Conv2dPlan p;
  if (!conv2d_plan_init (&p, x, w, y, stride, pad))
    return;
  Im2col2d *c = &p.geo;
  int64_t batch = x->shape[0];
  p.bias = b ? rg_tensor_f32 (b) : NULL;
  if (p.taps == 0)
    {
      /* no input channels: y is the bias */
      float *yp = rg_tensor_f32 (y);
      for (int64_t i = 0; i < batch * p.o_ch * p.ldc; i++)
        yp[i] = p.bias ? p.bias[(i / p.ldc) % p.o_ch] : 0.0f;
      return;
    }

  if (c->kh == 1 && c->kw == 1 && stride == 1)
    {
      /* 1×1: x[b] already is col [C, T·H·W]; one pool-split GEMM a sample */
      for (int64_t bi = 0; bi < batch; bi++)
        gemm_into (p.w, p.bias, rg_tensor_f32 (x) + bi * c->c_in * p.ldc, p.ldc, p.o_ch, p.taps,
                   p.ldc, rg_tensor_f32 (y) + bi * p.o_ch * p.ldc, p.ldc);
      return;
    }

  conv2d_plan_units (&p, TRUE);
  p.x = rg_tensor_f32 (x);
  p.x_sample = c->c_in * c->t_len * c->h * c->w;
  p.y = rg_tensor_f32 (y);
  p.per_thread = p.taps * p.fpu * p.rpu * c->wo;
  p.slots = rg_parallel_threads ();
  p.scratch = g_new (float, p.slots * p.per_thread);
  rg_parallel_for (batch * p.frame_units * p.row_units, 1, conv2d_forward_units, &p);
  g_free (p.scratch);
}

/* ---- conv1d along time, stride 1: shifted taps ----
 *
 * With stride 1, tap k of output frame t reads input frame t + k − pad.
 * Over the output frames whose source lies inside the clip, that is one
 * GEMM of w_k [O, C] with x[b] shifted by whole frames — a strided view of
 * x itself — so the kt-fold im2col copy (and, backward, its col2im fold)
 * disappears. The frames whose source lies past an end (pad of them per
 * side) read the clamped border frame when replicating, one P-column GEMM
 * each, and nothing with zero padding. A unit is a range of frames of one
 * sample: forward it owns those output frames, backward those frames of dx
 * (and of dy, for the weight gradient). */

/* Output frames [t, t + n) of tap k read source frames [src, src + n). */
typedef struct {
  int64_t k, t, n, src;
} TapRun;

/* Every GEMM of a stride-1, odd-kernel temporal conv over t_len frames:
 * per tap the run whose sources lie inside the clip, then, replicating,
 * each frame past an end on its own, reading the border frame it clamps
 * to. A tap of offset d has at most |d| ≤ kt/2 such frames. */
static TapRun *
tap_runs (int64_t kt, int64_t t_len, gboolean replicate, int64_t *n_runs)
{
  TapRun *runs = g_new (TapRun, kt * (1 + kt / 2));
  int64_t n = 0;
  for (int64_t k = 0; k < kt; k++)
    {
      int64_t d = k - kt / 2;
      int64_t lo = CLAMP (-d, (int64_t) 0, t_len), hi = CLAMP (t_len - d, lo, t_len);
      if (hi > lo)
        runs[n++] = (TapRun){ k, lo, hi - lo, lo + d };
      for (int64_t t = 0; replicate && t < lo; t++)
        runs[n++] = (TapRun){ k, t, 1, 0 };
      for (int64_t t = hi; replicate && t < t_len; t++)
        runs[n++] = (TapRun){ k, t, 1, t_len - 1 };
    }
  *n_runs = n;
  return runs;
}

/* The part of run r whose output frames (by_src FALSE) or source frames
 * (TRUE) lie in [f0, f1); FALSE when there is none. */
static gboolean
tap_run_clip (const TapRun *r, int64_t f0, int64_t f1, gboolean by_src, TapRun *out)
{
  int64_t start = by_src ? r->src : r->t;
  int64_t lo = MAX (start, f0), hi = MIN (start + r->n, f1);
  if (hi <= lo)
    return FALSE;
  *out = (TapRun){ r->k, r->t + (lo - start), hi - lo, r->src + (lo - start) };
  return TRUE;
}

/* w [O, C, kt] → [kt][O][C]: one row-major [O, C] matrix per tap. */
static float *
split_taps (const float *w, int64_t o_ch, int64_t c_in, int64_t kt)
{
  float *wk = g_new (float, kt * o_ch * c_in);
  for (int64_t o = 0; o < o_ch; o++)
    for (int64_t c = 0; c < c_in; c++)
      for (int64_t k = 0; k < kt; k++)
        wk[(k * o_ch + o) * c_in + c] = w[(o * c_in + c) * kt + k];
  return wk;
}

typedef struct {
  const float  *x, *wk, *bias, *dy;
  float        *y, *dx;
  DwGroups      dw;
  const TapRun *runs;
  int64_t       n_runs, c_in, o_ch, t_len, p, kt, fpu, frame_units;
} ShiftPlan;

static void
shift_plan_units (ShiftPlan *s)
{
  int64_t frame = MAX (s->o_ch, s->c_in) * s->p;
  s->fpu = CLAMP (CONV_SHIFT_UNIT_FLOATS / MAX (frame, (int64_t) 1), (int64_t) 1, s->t_len);
  s->frame_units = (s->t_len + s->fpu - 1) / s->fpu;
}

/* y[b] frames [f0, f1) = Σ over runs of w_k · x[b] shifted (+ bias). The
 * centre tap's one run covers every frame, so it writes y (with the bias)
 * and the other taps' runs add onto it. */
static void
shift_forward_units (void *data, int64_t begin, int64_t end)
{
  const ShiftPlan *s = data;
  int64_t ld = s->t_len * s->p, centre = s->kt / 2, wsize = s->o_ch * s->c_in;
  for (int64_t u = begin; u < end; u++)
    {
      int64_t b = u / s->frame_units, f0 = (u % s->frame_units) * s->fpu;
      int64_t f1 = MIN (f0 + s->fpu, s->t_len);
      const float *x = s->x + b * s->c_in * ld;
      float *y = s->y + b * s->o_ch * ld;
      gemm_into (s->wk + centre * wsize, s->bias, x + f0 * s->p, ld, s->o_ch, s->c_in,
                 (f1 - f0) * s->p, y + f0 * s->p, ld);
      for (int64_t r = 0; r < s->n_runs; r++)
        {
          TapRun part;
          if (s->runs[r].k == centre || !tap_run_clip (&s->runs[r], f0, f1, FALSE, &part))
            continue;
          rg_sgemm (FALSE, FALSE, s->o_ch, part.n * s->p, s->c_in, 1.0f, s->wk + part.k * wsize,
                    s->c_in, x + part.src * s->p, ld, 1.0f, y + part.t * s->p, ld);
        }
    }
}

/* Its adjoint, one group of units at a time and run by run within a unit:
 * dw_k += dy · x shiftedᵀ over the unit's output frames into the group's
 * [kt][O][C] accumulator, and dx += w_kᵀ · dy shifted over the unit's
 * source frames (a border frame's gradient lands on the frame it copied). */
static void
shift_backward_groups (void *data, int64_t begin, int64_t end)
{
  const ShiftPlan *s = data;
  int64_t ld = s->t_len * s->p, wsize = s->o_ch * s->c_in;
  for (int64_t gi = begin; gi < end; gi++)
    {
      float *dwk = dw_groups_acc (&s->dw, gi);
      int64_t u_end = MIN (s->dw.n_units, (gi + 1) * s->dw.per_group);
      for (int64_t u = gi * s->dw.per_group; u < u_end; u++)
        {
          int64_t b = u / s->frame_units, f0 = (u % s->frame_units) * s->fpu;
          int64_t f1 = MIN (f0 + s->fpu, s->t_len);
          const float *x = s->x + b * s->c_in * ld, *dy = s->dy + b * s->o_ch * ld;
          float *dx = s->dx ? s->dx + b * s->c_in * ld : NULL;
          for (int64_t r = 0; r < s->n_runs; r++)
            {
              TapRun part;
              if (dwk != NULL && tap_run_clip (&s->runs[r], f0, f1, FALSE, &part))
                rg_sgemm (FALSE, TRUE, s->o_ch, s->c_in, part.n * s->p, 1.0f, dy + part.t * s->p,
                          ld, x + part.src * s->p, ld, 1.0f, dwk + part.k * wsize, s->c_in);
              if (dx != NULL && tap_run_clip (&s->runs[r], f0, f1, TRUE, &part))
                rg_sgemm (TRUE, FALSE, s->c_in, part.n * s->p, s->o_ch, 1.0f,
                          s->wk + part.k * wsize, s->c_in, dy + part.t * s->p, ld, 1.0f,
                          dx + part.src * s->p, ld);
            }
        }
    }
}

/* ---- conv1d along time ---- */

typedef struct {
  const float *x; /* x[b] as [C, T, P] with P = H·W */
  float       *col;
  int64_t      t_len, p, kt, stride, t0, nt, ncol;
  gboolean     replicate;
} Im2col1d;

/* One index = one (tap row r = (c, k), output frame) pair: a copy of a
 * whole P-pixel frame, or zeros past the ends. */
static void
im2col_1d (void *data, int64_t begin, int64_t end)
{
  const Im2col1d *c = data;
  int64_t pad = c->kt / 2;
  for (int64_t u = begin; u < end; u++)
    {
      int64_t r = u / c->nt, tt = u % c->nt;
      int64_t k = r % c->kt, ch = r / c->kt;
      int64_t src = (c->t0 + tt) * c->stride + k - pad;
      float *dst = c->col + r * c->ncol + tt * c->p;
      if (src < 0 || src >= c->t_len)
        {
          if (!c->replicate)
            {
              memset (dst, 0, (size_t) c->p * sizeof (float));
              continue;
            }
          src = CLAMP (src, (int64_t) 0, c->t_len - 1);
        }
      memcpy (dst, c->x + (ch * c->t_len + src) * c->p, (size_t) c->p * sizeof (float));
    }
}

/* The shapes a temporal conv works with, shared by forward and backward. */
static Im2col1d
im2col_1d_geometry (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad)
{
  Im2col1d c = { 0 };
  c.t_len = x->shape[2];
  c.p = x->shape[3] * x->shape[4];
  c.kt = w->shape[2];
  c.stride = stride;
  c.replicate = pad == RG_PAD_REPLICATE;
  return c;
}

/* The shifted-taps plan of a stride-1, odd-kernel conv (runs and wk owned
 * by the caller). */
static ShiftPlan
shift_plan (const RgTensor *x, const RgTensor *w, const Im2col1d *c, TapRun **runs, float **wk)
{
  ShiftPlan s = { 0 };
  s.c_in = x->shape[1];
  s.o_ch = w->shape[0];
  s.t_len = c->t_len;
  s.p = c->p;
  s.kt = c->kt;
  *runs = tap_runs (c->kt, c->t_len, c->replicate, &s.n_runs);
  *wk = split_taps (rg_tensor_f32 (w), s.o_ch, s.c_in, c->kt);
  s.runs = *runs;
  s.wk = *wk;
  s.x = rg_tensor_f32 (x);
  shift_plan_units (&s);
  return s;
}

void
rg_cpu_conv1d_time (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                    RgPadMode pad, RgTensor *y)
{
  Im2col1d c = im2col_1d_geometry (x, w, stride, pad);
  int64_t batch = x->shape[0], c_in = x->shape[1], o_ch = w->shape[0];
  int64_t t_out = y->shape[2];
  int64_t taps = c_in * c.kt, ldc = t_out * c.p;
  if (batch == 0 || o_ch == 0 || t_out == 0 || c.p == 0)
    return;
  const float *wp = rg_tensor_f32 (w), *bp = b ? rg_tensor_f32 (b) : NULL;
  if (taps == 0)
    {
      float *yp = rg_tensor_f32 (y);
      for (int64_t i = 0; i < batch * o_ch * ldc; i++)
        yp[i] = bp ? bp[(i / ldc) % o_ch] : 0.0f;
      return;
    }

  if (stride == 1 && c.kt % 2 == 1)
    {
      g_autofree TapRun *runs = NULL;
      g_autofree float *wk = NULL;
      ShiftPlan s = shift_plan (x, w, &c, &runs, &wk);
      s.bias = bp;
      s.y = rg_tensor_f32 (y);
      rg_parallel_for (batch * s.frame_units, 1, shift_forward_units, &s);
      return;
    }

  int64_t t_chunk = CLAMP (CONV_COL_FLOATS / (taps * c.p), (int64_t) 1, t_out);
  float *col = g_new (float, taps * t_chunk * c.p);
  c.col = col;
  for (int64_t bi = 0; bi < batch; bi++)
    {
      c.x = rg_tensor_f32 (x) + bi * c_in * c.t_len * c.p;
      float *yb = rg_tensor_f32 (y) + bi * o_ch * ldc;
      for (c.t0 = 0; c.t0 < t_out; c.t0 += t_chunk)
        {
          c.nt = MIN (t_chunk, t_out - c.t0);
          c.ncol = c.nt * c.p;
          rg_parallel_for (taps * c.nt, rg_cpu_row_grain (c.p), im2col_1d, &c);
          gemm_into (wp, bp, col, c.ncol, o_ch, taps, c.ncol, yb + c.t0 * c.p, ldc);
        }
    }
  g_free (col);
}

/* ---- backward ----
 *
 * The transpose of the forward's two steps: dw += dy_slice · colᵀ
 * re-unrolls x into col (beta = 1), and dcol = wᵀ · dy_slice is folded back
 * onto dx by col2im — the adjoint of im2col, so a replicated border tap
 * adds onto the border pixel it copied and a zero-padding tap adds nowhere.
 * A conv2d unit owns whole frames of dx and folds its taps in a fixed
 * order; the strided conv1d's col2im items each own one channel:
 * deterministic, no write conflicts. */

/* db[o] += Σ over samples and positions of dy[b, o, ·]. */
static void
bias_grad (const float *dy, int64_t batch, int64_t o_ch, int64_t n, float *db)
{
  for (int64_t o = 0; o < o_ch; o++)
    {
      float acc = 0.0f;
      for (int64_t b = 0; b < batch; b++)
        acc += rg_cpu_sum (dy + (b * o_ch + o) * n, n);
      db[o] += acc;
    }
}

/* The adjoint of unroll_row: xr[ow·s + off] += src[ow], border taps onto
 * the edge pixels when replicating. */
static void
fold_row (float *xr, int64_t w, int64_t stride, int64_t off, gboolean replicate,
          const float *src, int64_t wo)
{
  int64_t lo, hi;
  inside_range (w, stride, off, wo, &lo, &hi);
  if (replicate)
    {
      for (int64_t ow = 0; ow < lo; ow++)
        xr[0] += src[ow];
      for (int64_t ow = hi; ow < wo; ow++)
        xr[w - 1] += src[ow];
    }
  if (stride == 1)
    {
      float *d = xr + off;
      for (int64_t ow = lo; ow < hi; ow++)
        d[ow] += src[ow];
    }
  else
    for (int64_t ow = lo; ow < hi; ow++)
      xr[ow * stride + off] += src[ow];
}

/* dx[b] frames of the unit += col2im (dcol), channel by channel. */
static void
col2im_2d (const Im2col2d *c, const float *dcol, float *dx)
{
  int64_t ph = c->kh / 2, pw = c->kw / 2, hwo = c->ho * c->wo;
  for (int64_t ch = 0; ch < c->c_in; ch++)
    for (int64_t tt = 0; tt < c->nt; tt++)
      {
        float *xf = dx + (ch * c->t_len + c->t0 + tt) * c->h * c->w;
        for (int64_t i = 0; i < c->kh; i++)
          for (int64_t j = 0; j < c->kw; j++)
            {
              int64_t r = (ch * c->kh + i) * c->kw + j;
              const float *src = dcol + r * c->ncol + tt * hwo;
              for (int64_t oh = 0; oh < c->ho; oh++, src += c->wo)
                {
                  int64_t ih = oh * c->stride + i - ph;
                  if (ih < 0 || ih >= c->h)
                    {
                      if (!c->replicate)
                        continue;
                      ih = CLAMP (ih, (int64_t) 0, c->h - 1);
                    }
                  fold_row (xf + ih * c->w, c->w, c->stride, j - pw, c->replicate, src, c->wo);
                }
            }
      }
}

/* One group of whole-frame units: per unit unroll x and add dy · colᵀ onto
 * the group's dw, and fold wᵀ · dy onto dx. */
static void
conv2d_backward_groups (void *data, int64_t begin, int64_t end)
{
  const Conv2dPlan *p = data;
  Im2col2d c = p->geo;
  float *scratch = unit_scratch (p->scratch, p->per_thread, p->slots);
  int64_t col_floats = p->taps * p->fpu * p->hwo;
  float *dcol = p->dx ? scratch + (p->dw.partials ? col_floats : 0) : NULL;
  c.col = scratch;
  for (int64_t gi = begin; gi < end; gi++)
    {
      float *dw = dw_groups_acc (&p->dw, gi);
      int64_t u_end = MIN (p->dw.n_units, (gi + 1) * p->dw.per_group);
      for (int64_t u = gi * p->dw.per_group; u < u_end; u++)
        {
          int64_t b = conv2d_unit (p, u, &c);
          const float *dys = p->dy + b * p->o_ch * p->ldc + c.t0 * p->hwo;
          if (dw != NULL)
            {
              im2col_2d (&c);
              rg_sgemm (FALSE, TRUE, p->o_ch, p->taps, c.ncol, 1.0f, dys, p->ldc, c.col, c.ncol,
                        1.0f, dw, p->taps);
            }
          if (dcol != NULL)
            {
              rg_sgemm (TRUE, FALSE, p->taps, c.ncol, p->o_ch, 1.0f, p->w, p->taps, dys, p->ldc,
                        0.0f, dcol, c.ncol);
              col2im_2d (&c, dcol, p->dx + b * p->x_sample);
            }
        }
    }
}

void
rg_cpu_conv2d_frames_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                               const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  Conv2dPlan p;
  if (!conv2d_plan_init (&p, x, w, dy, stride, pad))
    return;
  Im2col2d *c = &p.geo;
  int64_t batch = x->shape[0];
  p.dy = rg_tensor_f32 (dy);
  if (db != NULL)
    bias_grad (p.dy, batch, p.o_ch, p.ldc, rg_tensor_f32 (db));
  if (p.taps == 0 || (dx == NULL && dw == NULL))
    return;

  if (c->kh == 1 && c->kw == 1 && stride == 1)
    {
      /* 1×1: x[b] is its own col [C, T·H·W] and col2im is the identity,
       * so both gradients are one GEMM per sample straight into place */
      for (int64_t bi = 0; bi < batch; bi++)
        {
          const float *xb = rg_tensor_f32 (x) + bi * c->c_in * p.ldc;
          const float *dyb = p.dy + bi * p.o_ch * p.ldc;
          if (dw != NULL)
            rg_sgemm (FALSE, TRUE, p.o_ch, p.taps, p.ldc, 1.0f, dyb, p.ldc, xb, p.ldc, 1.0f,
                      rg_tensor_f32 (dw), p.taps);
          if (dx != NULL)
            rg_sgemm (TRUE, FALSE, p.taps, p.ldc, p.o_ch, 1.0f, p.w, p.taps, dyb, p.ldc, 1.0f,
                      rg_tensor_f32 (dx) + bi * c->c_in * p.ldc, p.ldc);
        }
      return;
    }

  conv2d_plan_units (&p, FALSE);
  p.x = rg_tensor_f32 (x);
  p.x_sample = c->c_in * c->t_len * c->h * c->w;
  p.dx = dx ? rg_tensor_f32 (dx) : NULL;
  dw_groups_init (&p.dw, batch * p.frame_units, p.o_ch * p.taps, dw ? rg_tensor_f32 (dw) : NULL);
  p.per_thread = p.taps * p.fpu * p.hwo * ((dw ? 1 : 0) + (dx ? 1 : 0));
  p.slots = rg_parallel_threads ();
  /* A backward unit is a whole frame (its col2im rows overlap the next
   * band's), so a thread's scratch is a frame's col and dcol: 4.7 MB at
   * 64×64 with 32 channels, but far more for large frames. Where every
   * thread's copy would pass CONV_SCRATCH_FLOATS, the calling thread walks
   * the units alone, holding one copy, and each GEMM is split over the pool
   * instead (the same units and groups, so the same sums). */
  if (p.slots * p.per_thread > CONV_SCRATCH_FLOATS)
    p.slots = 1;
  p.scratch = g_new (float, p.slots * p.per_thread);
  if (p.slots == 1)
    conv2d_backward_groups (&p, 0, p.dw.n_groups);
  else
    rg_parallel_for (p.dw.n_groups, 1, conv2d_backward_groups, &p);
  dw_groups_finish (&p.dw);
  g_free (p.scratch);
}

typedef struct {
  const Im2col1d *c;
  float          *dx; /* dx[b] */
  const float    *dcol;
} Col2im1d;

/* One index = one input channel: its kt tap rows, frame by frame. */
static void
col2im_1d (void *data, int64_t begin, int64_t end)
{
  const Col2im1d *f = data;
  const Im2col1d *c = f->c;
  int64_t pad = c->kt / 2;
  for (int64_t ch = begin; ch < end; ch++)
    for (int64_t k = 0; k < c->kt; k++)
      {
        const float *row = f->dcol + (ch * c->kt + k) * c->ncol;
        for (int64_t tt = 0; tt < c->nt; tt++)
          {
            int64_t src = (c->t0 + tt) * c->stride + k - pad;
            if (src < 0 || src >= c->t_len)
              {
                if (!c->replicate)
                  continue;
                src = CLAMP (src, (int64_t) 0, c->t_len - 1);
              }
            float *dst = f->dx + (ch * c->t_len + src) * c->p;
            const float *s = row + tt * c->p;
            for (int64_t i = 0; i < c->p; i++)
              dst[i] += s[i];
          }
      }
}

void
rg_cpu_conv1d_time_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                             const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  Im2col1d c = im2col_1d_geometry (x, w, stride, pad);
  int64_t batch = x->shape[0], c_in = x->shape[1], o_ch = w->shape[0];
  int64_t t_out = dy->shape[2];
  int64_t taps = c_in * c.kt, ldc = t_out * c.p;
  if (batch == 0 || o_ch == 0 || t_out == 0 || c.p == 0)
    return;
  const float *wp = rg_tensor_f32 (w), *dyp = rg_tensor_f32 (dy);
  if (db != NULL)
    bias_grad (dyp, batch, o_ch, ldc, rg_tensor_f32 (db));
  if (taps == 0 || (dx == NULL && dw == NULL))
    return;

  if (stride == 1 && c.kt % 2 == 1)
    {
      g_autofree TapRun *runs = NULL;
      g_autofree float *wk = NULL;
      ShiftPlan s = shift_plan (x, w, &c, &runs, &wk);
      int64_t wsize = o_ch * c_in;
      g_autofree float *dwk = dw ? g_new0 (float, c.kt * wsize) : NULL;
      s.dy = dyp;
      s.dx = dx ? rg_tensor_f32 (dx) : NULL;
      dw_groups_init (&s.dw, batch * s.frame_units, c.kt * wsize, dwk);
      rg_parallel_for (s.dw.n_groups, 1, shift_backward_groups, &s);
      dw_groups_finish (&s.dw);
      if (dw != NULL)
        {
          float *dwp = rg_tensor_f32 (dw);
          for (int64_t o = 0; o < o_ch; o++)
            for (int64_t ci = 0; ci < c_in; ci++)
              for (int64_t k = 0; k < c.kt; k++)
                dwp[(o * c_in + ci) * c.kt + k] += dwk[(k * o_ch + o) * c_in + ci];
        }
      return;
    }

  int64_t t_chunk = CLAMP (CONV_COL_FLOATS / (taps * c.p), (int64_t) 1, t_out);
  float *col = dw ? g_new (float, taps * t_chunk * c.p) : NULL;
  float *dcol = dx ? g_new (float, taps * t_chunk * c.p) : NULL;
  Col2im1d f = { &c, NULL, dcol };
  for (int64_t bi = 0; bi < batch; bi++)
    {
      c.x = rg_tensor_f32 (x) + bi * c_in * c.t_len * c.p;
      const float *dyb = dyp + bi * o_ch * ldc;
      for (c.t0 = 0; c.t0 < t_out; c.t0 += t_chunk)
        {
          c.nt = MIN (t_chunk, t_out - c.t0);
          c.ncol = c.nt * c.p;
          const float *dys = dyb + c.t0 * c.p;
          if (dw != NULL)
            {
              c.col = col;
              rg_parallel_for (taps * c.nt, rg_cpu_row_grain (c.p), im2col_1d, &c);
              rg_sgemm (FALSE, TRUE, o_ch, taps, c.ncol, 1.0f, dys, ldc, col, c.ncol, 1.0f,
                        rg_tensor_f32 (dw), taps);
            }
          if (dx != NULL)
            {
              rg_sgemm (TRUE, FALSE, taps, c.ncol, o_ch, 1.0f, wp, taps, dys, ldc, 0.0f, dcol,
                        c.ncol);
              f.dx = rg_tensor_f32 (dx) + bi * c_in * c.t_len * c.p;
              rg_parallel_for (c_in, 1, col2im_1d, &f);
            }
        }
    }
  g_free (col);
  g_free (dcol);
}
