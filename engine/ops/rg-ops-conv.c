/* rg-ops-conv.c — the 2.5D convolutions of the TAE and audio VAE.
 *
 * Both are im2col + one sgemm: the receptive fields of a chunk of frames
 * are unrolled into a column matrix col [C·taps, positions] (padding is
 * resolved while unrolling, so the GEMM sees no borders), then
 * y[O, positions] = w[O, C·taps] · col. PyTorch's weight layouts [O, C, kh,
 * kw] and [O, C, kt] are already that row-major [O, C·taps] matrix, and the
 * output slice of a chunk of frames is a strided [O, positions] matrix
 * inside y [B, O, T, H, W], so neither side is repacked. Chunks are sized
 * to keep col around 16 MB. A 1×1 stride-1 conv2d skips col altogether,
 * and so does a stride-1 conv1d (see "shifted taps" below). */
#include "ops/rg-ops-cpu.h"

#include "core/rg-gemm.h"

#define CONV_COL_FLOATS ((int64_t) 1 << 22)

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
  for (int64_t o = begin; o < end; o++)
    {
      float *dst = c->y + o * c->ldc;
      for (int64_t i = 0; i < c->n; i++)
        dst[i] = c->bias[o];
    }
}

/* y_slice = w · col (+ bias), y_slice [O, n] with row stride ldc. */
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

/* ---- conv2d over frames ---- */

typedef struct {
  const float *x; /* x[b] */
  float       *col;
  int64_t      c_in, t_len, h, w, kh, kw, stride, ho, wo;
  int64_t      t0, nt, ncol;
  gboolean     replicate;
} Im2col2d;

/* Unroll one image row of taps: dst[ow] = x_row[ow·s + j − pw] for ow in
 * [0, wo), borders zero or replicated. */
static void
unroll_row (const float *xr, int64_t w, int64_t stride, int64_t off, gboolean replicate,
            float *dst, int64_t wo)
{
  /* ow in [lo, hi) reads inside the row */
  int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  int64_t last = w - 1 - off;
  int64_t hi = last < 0 ? 0 : MIN (wo, last / stride + 1);
  lo = MIN (lo, hi);
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

/* One index = one (tap row r = (c, i, j), frame) pair. */
static void
im2col_2d (void *data, int64_t begin, int64_t end)
{
  const Im2col2d *c = data;
  int64_t ph = c->kh / 2, pw = c->kw / 2, hwo = c->ho * c->wo;
  for (int64_t u = begin; u < end; u++)
    {
      int64_t r = u / c->nt, tt = u % c->nt;
      int64_t j = r % c->kw, i = (r / c->kw) % c->kh, ch = r / (c->kw * c->kh);
      const float *xf = c->x + (ch * c->t_len + c->t0 + tt) * c->h * c->w;
      float *dst = c->col + r * c->ncol + tt * hwo;
      for (int64_t oh = 0; oh < c->ho; oh++, dst += c->wo)
        {
          int64_t ih = oh * c->stride + i - ph;
          if (ih < 0 || ih >= c->h)
            {
              if (!c->replicate)
                {
                  memset (dst, 0, (size_t) c->wo * sizeof (float));
                  continue;
                }
              ih = CLAMP (ih, (int64_t) 0, c->h - 1);
            }
          unroll_row (xf + ih * c->w, c->w, c->stride, j - pw, c->replicate, dst, c->wo);
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

void
rg_cpu_conv2d_frames (const RgTensor *x, const RgTensor *w, const RgTensor *b, int stride,
                      RgPadMode pad, RgTensor *y)
{
  Im2col2d c = im2col_2d_geometry (x, w, y, stride, pad);
  int64_t batch = x->shape[0], o_ch = w->shape[0];
  int64_t taps = c.c_in * c.kh * c.kw, hwo = c.ho * c.wo;
  if (batch == 0 || o_ch == 0 || c.t_len == 0 || hwo == 0)
    return;
  const float *wp = rg_tensor_f32 (w), *bp = b ? rg_tensor_f32 (b) : NULL;
  int64_t ldc = c.t_len * hwo;
  if (taps == 0)
    {
      /* no input channels: y is the bias */
      float *yp = rg_tensor_f32 (y);
      for (int64_t i = 0; i < batch * o_ch * ldc; i++)
        yp[i] = bp ? bp[(i / ldc) % o_ch] : 0.0f;
      return;
    }

  gboolean direct = c.kh == 1 && c.kw == 1 && stride == 1;
  int64_t t_chunk = direct ? c.t_len : CLAMP (CONV_COL_FLOATS / (taps * hwo), (int64_t) 1, c.t_len);
  float *col = direct ? NULL : g_new (float, taps * t_chunk * hwo);

  for (int64_t bi = 0; bi < batch; bi++)
    {
      c.x = rg_tensor_f32 (x) + bi * c.c_in * c.t_len * c.h * c.w;
      float *yb = rg_tensor_f32 (y) + bi * o_ch * ldc;
      for (c.t0 = 0; c.t0 < c.t_len; c.t0 += t_chunk)
        {
          c.nt = MIN (t_chunk, c.t_len - c.t0);
          c.ncol = c.nt * hwo;
          if (direct)
            {
              /* x[b] already is [C, T·H·W] */
              gemm_into (wp, bp, c.x + c.t0 * hwo, ldc, o_ch, taps, c.ncol, yb + c.t0 * hwo, ldc);
              continue;
            }
          c.col = col;
          rg_parallel_for (taps * c.nt, rg_cpu_row_grain (hwo), im2col_2d, &c);
          gemm_into (wp, bp, col, c.ncol, o_ch, taps, c.ncol, yb + c.t0 * hwo, ldc);
        }
    }
  g_free (col);
}

/* ---- conv1d along time, stride 1: shifted taps ----
 *
 * With stride 1, tap k of output frame t reads input frame t + k − pad.
 * Over the output frames whose source lies inside the clip, that is one
 * GEMM of w_k [O, C] with x[b] shifted by whole frames — a strided view of
 * x itself — so the kt-fold im2col copy (and, backward, its col2im fold)
 * disappears. The frames whose source lies past an end (pad of them per
 * side) read the clamped border frame when replicating, one P-column GEMM
 * each, and nothing with zero padding. */

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

/* y[b] [O, T·P] = Σ over runs of w_k · x[b] shifted (+ bias). The centre
 * tap's one run covers every frame, so it writes y (with the bias) and
 * the other taps' runs add onto it. */
static void
conv1d_time_shifted (const float *x, const float *wk, const float *bias, const TapRun *runs,
                     int64_t n_runs, int64_t c_in, int64_t o_ch, int64_t t_len, int64_t p,
                     int64_t kt, float *y)
{
  int64_t ld = t_len * p, centre = kt / 2, wsize = o_ch * c_in;
  gemm_into (wk + centre * wsize, bias, x, ld, o_ch, c_in, ld, y, ld);
  for (int64_t r = 0; r < n_runs; r++)
    if (runs[r].k != centre)
      rg_sgemm (FALSE, FALSE, o_ch, runs[r].n * p, c_in, 1.0f, wk + runs[r].k * wsize, c_in,
                x + runs[r].src * p, ld, 1.0f, y + runs[r].t * p, ld);
}

/* Its adjoint for one sample, run by run: dw_k += dy · x shiftedᵀ into
 * dwk [kt][O][C], and dx shifted += w_kᵀ · dy (a border frame's gradient
 * lands on the frame it copied). */
static void
conv1d_time_shifted_backward (const float *x, const float *wk, const float *dy,
                              const TapRun *runs, int64_t n_runs, int64_t c_in, int64_t o_ch,
                              int64_t t_len, int64_t p, float *dx, float *dwk)
{
  int64_t ld = t_len * p, wsize = o_ch * c_in;
  for (int64_t r = 0; r < n_runs; r++)
    {
      const float *dyr = dy + runs[r].t * p;
      int n = (int) (runs[r].n * p);
      if (dwk != NULL)
        rg_sgemm (FALSE, TRUE, o_ch, c_in, n, 1.0f, dyr, ld, x + runs[r].src * p, ld, 1.0f,
                  dwk + runs[r].k * wsize, c_in);
      if (dx != NULL)
        rg_sgemm (TRUE, FALSE, c_in, n, o_ch, 1.0f, wk + runs[r].k * wsize, c_in, dyr, ld, 1.0f,
                  dx + runs[r].src * p, ld);
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
      int64_t n_runs;
      g_autofree TapRun *runs = tap_runs (c.kt, c.t_len, c.replicate, &n_runs);
      g_autofree float *wk = split_taps (wp, o_ch, c_in, c.kt);
      for (int64_t bi = 0; bi < batch; bi++)
        conv1d_time_shifted (rg_tensor_f32 (x) + bi * c_in * c.t_len * c.p, wk, bp, runs, n_runs,
                             c_in, o_ch, c.t_len, c.p, c.kt, rg_tensor_f32 (y) + bi * o_ch * ldc);
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
 * The transpose of the forward's two steps, on the same frame chunks:
 * dw += dy_slice · colᵀ re-unrolls x into col (one GEMM, beta = 1), and
 * dcol = wᵀ · dy_slice is folded back onto dx by col2im — the adjoint of
 * im2col, so a replicated border tap adds onto the border pixel it copied
 * and a zero-padding tap adds nowhere. Each col2im work item owns one
 * (channel, frame) of dx (conv2d) or one channel (conv1d) and adds its taps
 * in a fixed order: deterministic, no write conflicts. */

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
  int64_t lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  int64_t last = w - 1 - off;
  int64_t hi = last < 0 ? 0 : MIN (wo, last / stride + 1);
  lo = MIN (lo, hi);
  if (replicate)
    {
      for (int64_t ow = 0; ow < lo; ow++)
        xr[0] += src[ow];
      for (int64_t ow = hi; ow < wo; ow++)
        xr[w - 1] += src[ow];
    }
  for (int64_t ow = lo; ow < hi; ow++)
    xr[ow * stride + off] += src[ow];
}

typedef struct {
  const Im2col2d *c;
  float          *dx; /* dx[b] */
  const float    *dcol;
} Col2im2d;

/* One index = one (channel, frame of the chunk). */
static void
col2im_2d (void *data, int64_t begin, int64_t end)
{
  const Col2im2d *f = data;
  const Im2col2d *c = f->c;
  int64_t ph = c->kh / 2, pw = c->kw / 2, hwo = c->ho * c->wo;
  for (int64_t u = begin; u < end; u++)
    {
      int64_t ch = u / c->nt, tt = u % c->nt;
      float *xf = f->dx + (ch * c->t_len + c->t0 + tt) * c->h * c->w;
      for (int64_t i = 0; i < c->kh; i++)
        for (int64_t j = 0; j < c->kw; j++)
          {
            int64_t r = (ch * c->kh + i) * c->kw + j;
            const float *src = f->dcol + r * c->ncol + tt * hwo;
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

void
rg_cpu_conv2d_frames_backward (const RgTensor *x, const RgTensor *w, int stride, RgPadMode pad,
                               const RgTensor *dy, RgTensor *dx, RgTensor *dw, RgTensor *db)
{
  Im2col2d c = im2col_2d_geometry (x, w, dy, stride, pad);
  int64_t batch = x->shape[0], o_ch = w->shape[0];
  int64_t taps = c.c_in * c.kh * c.kw, hwo = c.ho * c.wo, ldc = c.t_len * hwo;
  if (batch == 0 || o_ch == 0 || c.t_len == 0 || hwo == 0)
    return;
  const float *wp = rg_tensor_f32 (w), *dyp = rg_tensor_f32 (dy);
  if (db != NULL)
    bias_grad (dyp, batch, o_ch, ldc, rg_tensor_f32 (db));
  if (taps == 0 || (dx == NULL && dw == NULL))
    return;

  if (c.kh == 1 && c.kw == 1 && stride == 1)
    {
      /* 1×1: x[b] is its own col [C, T·H·W] and col2im is the identity,
       * so both gradients are one GEMM per sample straight into place */
      for (int64_t bi = 0; bi < batch; bi++)
        {
          const float *xb = rg_tensor_f32 (x) + bi * c.c_in * ldc, *dyb = dyp + bi * o_ch * ldc;
          if (dw != NULL)
            rg_sgemm (FALSE, TRUE, o_ch, taps, ldc, 1.0f, dyb, ldc, xb, ldc, 1.0f,
                      rg_tensor_f32 (dw), taps);
          if (dx != NULL)
            rg_sgemm (TRUE, FALSE, taps, ldc, o_ch, 1.0f, wp, taps, dyb, ldc, 1.0f,
                      rg_tensor_f32 (dx) + bi * c.c_in * ldc, ldc);
        }
      return;
    }

  int64_t t_chunk = CLAMP (CONV_COL_FLOATS / (taps * hwo), (int64_t) 1, c.t_len);
  float *col = dw ? g_new (float, taps * t_chunk * hwo) : NULL;
  float *dcol = dx ? g_new (float, taps * t_chunk * hwo) : NULL;
  Col2im2d f = { &c, NULL, dcol };

  for (int64_t bi = 0; bi < batch; bi++)
    {
      c.x = rg_tensor_f32 (x) + bi * c.c_in * c.t_len * c.h * c.w;
      const float *dyb = dyp + bi * o_ch * ldc;
      for (c.t0 = 0; c.t0 < c.t_len; c.t0 += t_chunk)
        {
          c.nt = MIN (t_chunk, c.t_len - c.t0);
          c.ncol = c.nt * hwo;
          const float *dys = dyb + c.t0 * hwo;
          if (dw != NULL)
            {
              c.col = col;
              rg_parallel_for (taps * c.nt, rg_cpu_row_grain (hwo), im2col_2d, &c);
              rg_sgemm (FALSE, TRUE, o_ch, taps, c.ncol, 1.0f, dys, ldc, col, c.ncol, 1.0f,
                        rg_tensor_f32 (dw), taps);
            }
          if (dx != NULL)
            {
              rg_sgemm (TRUE, FALSE, taps, c.ncol, o_ch, 1.0f, wp, taps, dys, ldc, 0.0f, dcol,
                        c.ncol);
              f.dx = rg_tensor_f32 (dx) + bi * c.c_in * c.t_len * c.h * c.w;
              rg_parallel_for (c.c_in * c.nt, 1, col2im_2d, &f);
            }
        }
    }
  g_free (col);
  g_free (dcol);
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
      int64_t n_runs, wsize = o_ch * c_in;
      g_autofree TapRun *runs = tap_runs (c.kt, c.t_len, c.replicate, &n_runs);
      g_autofree float *wk = split_taps (wp, o_ch, c_in, c.kt);
      g_autofree float *dwk = dw ? g_new0 (float, c.kt * wsize) : NULL;
      for (int64_t bi = 0; bi < batch; bi++)
        conv1d_time_shifted_backward (rg_tensor_f32 (x) + bi * c_in * c.t_len * c.p, wk,
                                      dyp + bi * o_ch * ldc, runs, n_runs, c_in, o_ch, c.t_len,
                                      c.p, dx ? rg_tensor_f32 (dx) + bi * c_in * c.t_len * c.p : NULL,
                                      dwk);
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
