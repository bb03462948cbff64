/* The 2.5D convolutions at sizes that cut them into several work units.
 *
 * The oracle and finite-difference tests use clips small enough to be one
 * unit per sample. Here the sizes make rg-ops-conv.c cut its work: a frame
 * too large for one unit's column buffer (the forward splits it into bands
 * of output rows), several frames per unit, several units per sample (so
 * the weight gradient is summed over groups of units), and shifted-tap runs
 * clipped at unit edges. Each case runs forward and backward (dx, dw, db
 * accumulating onto non-zero values) against a direct convolution in
 * double, and again with 1 and 3 threads, which must agree bit for bit: a
 * band written at the wrong offset, a run clipped off by one frame, or a
 * group summed twice shows up as a wrong value here. */
#include <math.h>

#include "core/rg-parallel.h"
#include "core/rg-tensor.h"
#include "ops/rg-ops.h"
#include "ops/rg-ops-grad.h"

typedef struct {
  const char *name;
  gboolean    spatial; /* conv2d_frames, else conv1d_time */
  int64_t     b, c, t, h, w, o, k;
  int         stride;
  RgPadMode   pad;
} ConvCase;

static const ConvCase cases[] = {
  /* 16·9 taps × 48·48 positions: a frame's col exceeds a unit, so bands */
  { "2d-bands", TRUE, 2, 16, 3, 48, 48, 8, 3, 1, RG_PAD_REPLICATE },
  { "2d-bands-zeros", TRUE, 1, 16, 2, 47, 45, 5, 3, 1, RG_PAD_ZEROS },
  /* small frames: several per unit, ragged last unit */
  { "2d-frames-stride2", TRUE, 3, 4, 5, 20, 18, 6, 3, 2, RG_PAD_ZEROS },
  { "2d-frames-5x5", TRUE, 2, 3, 7, 9, 11, 4, 5, 1, RG_PAD_REPLICATE },
  /* a frame whose col and dcol, one copy per thread, pass the backward's
   * scratch bound at 3 threads: there the caller walks the units alone */
  { "2d-big-frame", TRUE, 1, 64, 1, 141, 141, 4, 3, 1, RG_PAD_REPLICATE },
  /* 24 channels × 256 pixels: 10 frames a unit, so 11 frames make 2 */
  { "1d-units", FALSE, 2, 24, 11, 16, 16, 20, 3, 1, RG_PAD_REPLICATE },
  { "1d-units-zeros", FALSE, 2, 24, 11, 16, 16, 20, 3, 1, RG_PAD_ZEROS },
  /* kernel longer than a unit: border runs cross unit edges */
  { "1d-k5", FALSE, 1, 32, 9, 32, 32, 8, 5, 1, RG_PAD_REPLICATE },
  { "1d-stride2", FALSE, 2, 6, 9, 8, 8, 5, 3, 2, RG_PAD_REPLICATE },
};

static int64_t
out_len (int64_t n, int64_t k, int stride)
{
  return (n + 2 * (k / 2) - k) / stride + 1;
}

/* Source index of tap offset d at output index i, or −1 for a zero tap. */
static int64_t
source (int64_t i, int stride, int64_t d, int64_t n, RgPadMode pad)
{
  int64_t s = i * stride + d;
  if (s >= 0 && s < n)
    return s;
  return pad == RG_PAD_REPLICATE ? CLAMP (s, (int64_t) 0, n - 1) : -1;
}

static void
output_shape (const ConvCase *cc, int64_t ys[5])
{
  ys[0] = cc->b;
  ys[1] = cc->o;
  ys[2] = cc->spatial ? cc->t : out_len (cc->t, cc->k, cc->stride);
  ys[3] = cc->spatial ? out_len (cc->h, cc->k, cc->stride) : cc->h;
  ys[4] = cc->spatial ? out_len (cc->w, cc->k, cc->stride) : cc->w;
}

typedef struct {
  int64_t t, h, w; /* output sizes */
  double *y, *dx, *dw, *db;
} Reference;

/* Direct convolution and its gradients (dy given), in double. */
static Reference
reference (const ConvCase *cc, const float *x, const float *w, const float *bias, const float *dy)
{
  Reference r = { 0 };
  int64_t kh = cc->spatial ? cc->k : 1, kw = cc->spatial ? cc->k : 1, kt = cc->spatial ? 1 : cc->k;
  int64_t ys[5];
  output_shape (cc, ys);
  r.t = ys[2];
  r.h = ys[3];
  r.w = ys[4];
  int st = cc->spatial ? 1 : cc->stride, ss = cc->spatial ? cc->stride : 1;
  r.y = g_new0 (double, cc->b * cc->o * r.t * r.h * r.w);
  r.dx = g_new0 (double, cc->b * cc->c * cc->t * cc->h * cc->w);
  r.dw = g_new0 (double, cc->o * cc->c * kt * kh * kw);
  r.db = g_new0 (double, cc->o);
  for (int64_t b = 0; b < cc->b; b++)
    for (int64_t o = 0; o < cc->o; o++)
      for (int64_t t = 0; t < r.t; t++)
        for (int64_t i = 0; i < r.h; i++)
          for (int64_t j = 0; j < r.w; j++)
            {
              int64_t yi = (((b * cc->o + o) * r.t + t) * r.h + i) * r.w + j;
              double acc = bias[o], g = dy[yi];
              r.db[o] += g;
              for (int64_t c = 0; c < cc->c; c++)
                for (int64_t a = 0; a < kt; a++)
                  for (int64_t p = 0; p < kh; p++)
                    for (int64_t q = 0; q < kw; q++)
                      {
                        int64_t st_ = source (t, st, a - kt / 2, cc->t, cc->pad);
                        int64_t sh = source (i, ss, p - kh / 2, cc->h, cc->pad);
                        int64_t sw = source (j, ss, q - kw / 2, cc->w, cc->pad);
                        if (st_ < 0 || sh < 0 || sw < 0)
                          continue;
                        int64_t xi = (((b * cc->c + c) * cc->t + st_) * cc->h + sh) * cc->w + sw;
                        int64_t wi = ((o * cc->c + c) * kt + a) * kh * kw + p * kw + q;
                        acc += (double) w[wi] * x[xi];
                        r.dw[wi] += g * x[xi];
                        r.dx[xi] += g * w[wi];
                      }
              r.y[yi] = acc;
            }
  return r;
}

static void
reference_free (Reference *r)
{
  g_free (r->y);
  g_free (r->dx);
  g_free (r->dw);
  g_free (r->db);
}

static RgTensor *
random_tensor (GRand *rng, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  float *p = rg_tensor_f32 (t);
  for (int64_t i = 0; i < rg_tensor_numel (t); i++)
    p[i] = (float) g_rand_double_range (rng, -1, 1);
  return t;
}

typedef struct {
  RgTensor *y, *dx, *dw, *db;
} Outputs;

static void
outputs_free (Outputs *o)
{
  rg_tensor_unref (o->y);
  rg_tensor_unref (o->dx);
  rg_tensor_unref (o->dw);
  rg_tensor_unref (o->db);
}

/* Forward into y, backward accumulating onto copies of the start values. */
static Outputs
run (const ConvCase *cc, int threads, RgTensor *x, RgTensor *w, RgTensor *bias, RgTensor *dy,
     const Outputs *start)
{
  rg_parallel_set_threads (threads);
  Outputs o = { rg_tensor_new (RG_F32, dy->ndim, dy->shape), rg_tensor_clone (start->dx),
                rg_tensor_clone (start->dw), rg_tensor_clone (start->db) };
  if (cc->spatial)
    {
      rg_conv2d_frames (x, w, bias, cc->stride, cc->pad, o.y);
      rg_conv2d_frames_backward (x, w, cc->stride, cc->pad, dy, o.dx, o.dw, o.db);
    }
  else
    {
      rg_conv1d_time (x, w, bias, cc->stride, cc->pad, o.y);
      rg_conv1d_time_backward (x, w, cc->stride, cc->pad, dy, o.dx, o.dw, o.db);
    }
  return o;
}

/* max |got − (start + want)| ≤ 2e-5 · (rms(want) + 1) */
static void
check_close (const char *what, const RgTensor *got, const RgTensor *start, const double *want)
{
  const float *g = rg_tensor_f32 ((RgTensor *) got);
  const float *s = start ? rg_tensor_f32 ((RgTensor *) start) : NULL;
  int64_t n = rg_tensor_numel (got);
  double ss = 0.0, worst = 0.0;
  int64_t worst_i = 0;
  for (int64_t i = 0; i < n; i++)
    {
      double expect = want[i] + (s ? s[i] : 0.0);
      ss += want[i] * want[i];
      if (fabs (g[i] - expect) > worst)
        {
          worst = fabs (g[i] - expect);
          worst_i = i;
        }
    }
  double tol = 2e-5 * (sqrt (ss / (double) MAX (n, 1)) + 1.0);
  if (worst > tol)
    g_error ("%s: element %" G_GINT64_FORMAT " off by %g (tolerance %g)", what, worst_i, worst,
             tol);
}

static void
check_same (const char *what, const RgTensor *a, const RgTensor *b)
{
  g_assert_cmpmem (a->data, rg_tensor_nbytes (a), b->data, rg_tensor_nbytes (b));
  (void) what;
}

static void
test_case (gconstpointer data)
{
  const ConvCase *cc = data;
  g_autoptr (GRand) rng = g_rand_new_with_seed (17);
  int64_t kh = cc->spatial ? cc->k : 1;
  int64_t xs[5] = { cc->b, cc->c, cc->t, cc->h, cc->w };
  int64_t ws2[4] = { cc->o, cc->c, kh, kh }, ws1[3] = { cc->o, cc->c, cc->k }, bs[1] = { cc->o };
  g_autoptr (RgTensor) x = random_tensor (rng, 5, xs);
  g_autoptr (RgTensor) w = cc->spatial ? random_tensor (rng, 4, ws2) : random_tensor (rng, 3, ws1);
  g_autoptr (RgTensor) bias = random_tensor (rng, 1, bs);
  int64_t ys[5];
  output_shape (cc, ys);
  g_autoptr (RgTensor) dy = random_tensor (rng, 5, ys);
  Reference ref = reference (cc, rg_tensor_f32 (x), rg_tensor_f32 (w), rg_tensor_f32 (bias),
                   rg_tensor_f32 (dy));

  Outputs start = { NULL, random_tensor (rng, 5, xs), random_tensor (rng, w->ndim, w->shape),
                    random_tensor (rng, 1, bs) };
  Outputs one = run (cc, 1, x, w, bias, dy, &start);
  Outputs three = run (cc, 3, x, w, bias, dy, &start);
  check_close ("y", one.y, NULL, ref.y);
  check_close ("dx", one.dx, start.dx, ref.dx);
  check_close ("dw", one.dw, start.dw, ref.dw);
  check_close ("db", one.db, start.db, ref.db);
  check_same ("y", one.y, three.y);
  check_same ("dx", one.dx, three.dx);
  check_same ("dw", one.dw, three.dw);
  check_same ("db", one.db, three.db);
  outputs_free (&one);
  outputs_free (&three);
  rg_tensor_unref (start.dx);
  rg_tensor_unref (start.dw);
  rg_tensor_unref (start.db);
  reference_free (&ref);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ops/conv/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_case);
    }
  return g_test_run ();
}
