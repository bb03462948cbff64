/* Every op of rg-ops.h against PyTorch (ops_oracle.py, Debian's
 * python3-torch), several shapes each, odd sizes included.
 *
 * The C side builds the cases, runs its op, and writes the inputs as raw
 * little-endian f32 (i32 for ids) plus a JSON manifest into a temporary
 * directory; one Python run computes every reference in float64 from those
 * same inputs; the C side then compares with the normalised error
 * NMSE = Σ(a − b)² / Σb². NaN fails. Tolerances: 1e-10 for elementwise,
 * norm, softmax and layout ops, 1e-7 for GEMM-based ops (linear, matmul,
 * attention, convs), whose float sums are reordered by blocking.
 *
 * Without torch the test skips, except with CI=true, where it fails: CI must
 * never go green by not checking. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "core/rg-parallel.h"
#include "oracle-run.h"
#include "ops/rg-ops.h"

#define TOL_EXACT 1e-10
#define TOL_GEMM  1e-7

typedef struct {
  char        *id;    /* file stem, "c07" */
  char        *label; /* "attention causal N=257" */
  double       tol;
  JsonBuilder *params;
  GPtrArray   *names;  /* char * */
  GPtrArray   *inputs; /* RgTensor * */
  RgTensor    *out;
} Case;

static GPtrArray *cases; /* Case * */
static GRand *rng;

static void
case_free (Case *c)
{
  g_free (c->id);
  g_free (c->label);
  g_object_unref (c->params);
  g_ptr_array_unref (c->names);
  g_ptr_array_unref (c->inputs);
  rg_tensor_unref (c->out);
  g_free (c);
}

static Case *
case_new (const char *op, double tol, const char *label_fmt, ...) G_GNUC_PRINTF (3, 4);

static Case *
case_new (const char *op, double tol, const char *label_fmt, ...)
{
  Case *c = g_new0 (Case, 1);
  va_list ap;
  va_start (ap, label_fmt);
  char *detail = g_strdup_vprintf (label_fmt, ap);
  va_end (ap);
  c->id = g_strdup_printf ("c%03u", cases->len);
  c->label = g_strdup_printf ("%s %s", op, detail);
  g_free (detail);
  c->tol = tol;
  c->names = g_ptr_array_new_with_free_func (g_free);
  c->inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) rg_tensor_unref);
  c->params = json_builder_new ();
  json_builder_begin_object (c->params);
  json_builder_set_member_name (c->params, "op");
  json_builder_add_string_value (c->params, op);
  json_builder_set_member_name (c->params, "params");
  json_builder_begin_object (c->params);
  g_ptr_array_add (cases, c);
  return c;
}

static void
param_int (Case *c, const char *name, gint64 v)
{
  json_builder_set_member_name (c->params, name);
  json_builder_add_int_value (c->params, v);
}

static void
param_double (Case *c, const char *name, double v)
{
  json_builder_set_member_name (c->params, name);
  json_builder_add_double_value (c->params, v);
}

static void
param_bool (Case *c, const char *name, gboolean v)
{
  json_builder_set_member_name (c->params, name);
  json_builder_add_boolean_value (c->params, v);
}

static void
param_string (Case *c, const char *name, const char *v)
{
  json_builder_set_member_name (c->params, name);
  json_builder_add_string_value (c->params, v);
}

/* A random f32 tensor, values spread like activations (about N(0, s²)). */
static RgTensor *
input (Case *c, const char *name, double s, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  float *p = rg_tensor_f32 (t);
  for (int64_t i = 0; i < rg_tensor_numel (t); i++)
    {
      /* sum of three uniforms: cheap, bell-shaped, unbounded enough */
      double u = g_rand_double_range (rng, -1, 1) + g_rand_double_range (rng, -1, 1)
                 + g_rand_double_range (rng, -1, 1);
      p[i] = (float) (u * s);
    }
  g_ptr_array_add (c->names, g_strdup (name));
  g_ptr_array_add (c->inputs, t);
  return t;
}

#define SHAPE(...) (sizeof ((int64_t[]){ __VA_ARGS__ }) / sizeof (int64_t)), (int64_t[]){ __VA_ARGS__ }

static RgTensor *
output (Case *c, int ndim, const int64_t *shape)
{
  c->out = rg_tensor_new (RG_F32, ndim, shape);
  /* NaN everywhere: an element the op forgets to write cannot pass */
  rg_tensor_fill (c->out, NAN);
  return c->out;
}

/* ---- the cases ---- */

static void
add_linalg_cases (void)
{
  static const int64_t sizes[][3] = { { 1, 1, 1 }, { 7, 33, 5 }, { 64, 256, 96 }, { 257, 100, 3 } };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (int bias = 0; bias < 2; bias++)
      {
        int64_t n = sizes[i][0], in = sizes[i][1], out = sizes[i][2];
        Case *c = case_new ("linear", TOL_GEMM, "[2,%ld,%ld]->%ld bias=%d", (long) n, (long) in,
                            (long) out, bias);
        RgTensor *x = input (c, "x", 1, SHAPE (2, n, in));
        RgTensor *w = input (c, "w", 1 / sqrt ((double) in), SHAPE (out, in));
        RgTensor *b = bias ? input (c, "b", 1, SHAPE (out)) : NULL;
        rg_linear (x, w, b, output (c, SHAPE (2, n, out)));
      }
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      {
        int64_t m = 33, k = 17, n = 65;
        Case *c = case_new ("matmul", TOL_GEMM, "ta=%d tb=%d", ta, tb);
        RgTensor *a = ta ? input (c, "a", 1, SHAPE (k, m)) : input (c, "a", 1, SHAPE (m, k));
        RgTensor *b = tb ? input (c, "b", 1, SHAPE (n, k)) : input (c, "b", 1, SHAPE (k, n));
        RgTensor *c0 = input (c, "c", 1, SHAPE (m, n));
        param_double (c, "alpha", 0.75);
        param_double (c, "beta", ta ? 0.5 : 0.0);
        param_bool (c, "trans_a", ta);
        param_bool (c, "trans_b", tb);
        RgTensor *y = output (c, SHAPE (m, n));
        rg_tensor_copy (y, c0);
        rg_matmul (a, ta, b, tb, 0.75f, ta ? 0.5f : 0.0f, y);
      }
}

static void
add_norm_cases (void)
{
  static const int64_t dims[] = { 1, 7, 64, 257, 1024 };
  for (guint i = 0; i < G_N_ELEMENTS (dims); i++)
    {
      int64_t d = dims[i];
      for (int affine = 0; affine < 2; affine++)
        {
          Case *c = case_new ("rmsnorm", TOL_EXACT, "D=%ld w=%d", (long) d, affine);
          RgTensor *x = input (c, "x", 3, SHAPE (3, 5, d));
          RgTensor *w = affine ? input (c, "w", 1, SHAPE (d)) : NULL;
          param_double (c, "eps", 1e-6);
          rg_rmsnorm (x, w, 1e-6f, output (c, SHAPE (3, 5, d)));

          c = case_new ("layernorm", TOL_EXACT, "D=%ld affine=%d", (long) d, affine);
          x = input (c, "x", 2, SHAPE (4, d));
          /* a large common offset: one-pass variance would fail this */
          for (int64_t j = 0; j < 4 * d; j++)
            rg_tensor_f32 (x)[j] += 30.0f;
          w = affine ? input (c, "w", 1, SHAPE (d)) : NULL;
          RgTensor *b = affine ? input (c, "b", 1, SHAPE (d)) : NULL;
          param_double (c, "eps", 1e-5);
          rg_layernorm (x, w, b, 1e-5f, output (c, SHAPE (4, d)));
        }
      Case *c = case_new ("softmax", TOL_EXACT, "D=%ld", (long) d);
      RgTensor *x = input (c, "x", 4, SHAPE (6, d));
      rg_softmax (x, output (c, SHAPE (6, d)));
    }
  static const int64_t gn[][4] = { { 2, 8, 4, 5 }, { 1, 6, 3, 33 }, { 2, 32, 8, 64 } };
  for (guint i = 0; i < G_N_ELEMENTS (gn); i++)
    {
      Case *c = case_new ("groupnorm", TOL_EXACT, "C=%ld G=%ld S=%ld", (long) gn[i][1],
                          (long) gn[i][2], (long) gn[i][3]);
      RgTensor *x = input (c, "x", 2, SHAPE (gn[i][0], gn[i][1], 1, gn[i][3]));
      gboolean affine = i != 1;
      RgTensor *w = affine ? input (c, "w", 1, SHAPE (gn[i][1])) : NULL;
      RgTensor *b = affine ? input (c, "b", 1, SHAPE (gn[i][1])) : NULL;
      param_int (c, "groups", gn[i][2]);
      param_double (c, "eps", 1e-5);
      rg_groupnorm (x, (int) gn[i][2], w, b, 1e-5f,
                    output (c, SHAPE (gn[i][0], gn[i][1], 1, gn[i][3])));
      c = case_new ("groupnorm_silu", TOL_EXACT, "C=%ld G=%ld S=%ld", (long) gn[i][1],
                    (long) gn[i][2], (long) gn[i][3]);
      x = input (c, "x", 2, SHAPE (gn[i][0], gn[i][1], 1, gn[i][3]));
      w = affine ? input (c, "w", 1, SHAPE (gn[i][1])) : NULL;
      b = affine ? input (c, "b", 1, SHAPE (gn[i][1])) : NULL;
      param_int (c, "groups", gn[i][2]);
      param_double (c, "eps", 1e-5);
      rg_groupnorm_silu (x, (int) gn[i][2], w, b, 1e-5f,
                         output (c, SHAPE (gn[i][0], gn[i][1], 1, gn[i][3])));
    }
}

static void
add_elementwise_cases (void)
{
  static const int64_t sizes[] = { 1, 33, 100003 };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int64_t n = sizes[i];
      Case *c = case_new ("silu", TOL_EXACT, "n=%ld", (long) n);
      rg_silu (input (c, "x", 4, SHAPE (n)), output (c, SHAPE (n)));
      c = case_new ("gelu", TOL_EXACT, "n=%ld", (long) n);
      rg_gelu (input (c, "x", 3, SHAPE (n)), output (c, SHAPE (n)));
      c = case_new ("swiglu", TOL_EXACT, "n=%ld", (long) n);
      RgTensor *g = input (c, "gate", 4, SHAPE (n));
      rg_swiglu (g, input (c, "up", 1, SHAPE (n)), output (c, SHAPE (n)));
      c = case_new ("add", TOL_EXACT, "n=%ld", (long) n);
      RgTensor *a = input (c, "a", 1, SHAPE (n));
      rg_add (a, input (c, "b", 1, SHAPE (n)), output (c, SHAPE (n)));
      c = case_new ("mul", TOL_EXACT, "n=%ld", (long) n);
      a = input (c, "a", 1, SHAPE (n));
      rg_mul (a, input (c, "b", 1, SHAPE (n)), output (c, SHAPE (n)));
      c = case_new ("axpby", TOL_EXACT, "n=%ld", (long) n);
      a = input (c, "a", 1, SHAPE (n));
      param_double (c, "alpha", 0.25);
      param_double (c, "beta", -1.5);
      rg_axpby (0.25f, a, -1.5f, input (c, "b", 1, SHAPE (n)), output (c, SHAPE (n)));
      c = case_new ("scale", TOL_EXACT, "n=%ld", (long) n);
      param_double (c, "s", 0.125);
      rg_scale (input (c, "x", 1, SHAPE (n)), 0.125f, output (c, SHAPE (n)));
    }
  Case *c = case_new ("add_bias", TOL_EXACT, "[3,7,33]");
  RgTensor *x = input (c, "x", 1, SHAPE (3, 7, 33));
  rg_add_bias (x, input (c, "b", 1, SHAPE (33)), output (c, SHAPE (3, 7, 33)));
}

static void
add_attention_case (int64_t b, int64_t nq, int64_t nk, int64_t heads, int64_t dh, gboolean causal,
                    const int32_t *kv_len)
{
  Case *c = case_new ("attention", TOL_GEMM, "B=%ld Nq=%ld Nk=%ld H=%ld Dh=%ld causal=%d kv_len=%s",
                      (long) b, (long) nq, (long) nk, (long) heads, (long) dh, causal,
                      kv_len ? "yes" : "no");
  RgTensor *q = input (c, "q", 1, SHAPE (b, nq, heads * dh));
  RgTensor *k = input (c, "k", 1, SHAPE (b, nk, heads * dh));
  RgTensor *v = input (c, "v", 1, SHAPE (b, nk, heads * dh));
  RgAttentionParams p = { (int) heads, 1.0f / sqrtf ((float) dh), causal, kv_len };
  param_int (c, "heads", heads);
  param_double (c, "scale", p.scale);
  param_bool (c, "causal", causal);
  if (kv_len != NULL)
    {
      json_builder_set_member_name (c->params, "kv_len");
      json_builder_begin_array (c->params);
      for (int64_t i = 0; i < b; i++)
        json_builder_add_int_value (c->params, kv_len[i]);
      json_builder_end_array (c->params);
    }
  rg_attention (q, k, v, &p, output (c, SHAPE (b, nq, heads * dh)));
}

static void
add_attention_cases (void)
{
  static const int64_t n[] = { 1, 7, 33, 257 };
  static const int32_t kv_a[] = { 200, 1 }, kv_b[] = { 19, 7 }, kv_c[] = { 0, 5 };
  for (guint i = 0; i < G_N_ELEMENTS (n); i++)
    {
      add_attention_case (2, n[i], n[i], 3, 16, FALSE, NULL);
      add_attention_case (1, n[i], n[i], 2, 64, TRUE, NULL);
    }
  add_attention_case (2, 33, 257, 4, 8, FALSE, NULL);   /* cross-attention, Nq ≠ Nk */
  add_attention_case (2, 257, 257, 2, 32, FALSE, kv_a); /* padding past block edges */
  add_attention_case (2, 33, 33, 1, 128, TRUE, kv_b);   /* causal and padding together */
  add_attention_case (2, 7, 9, 2, 4, FALSE, kv_c);      /* no valid key: zeros */
}

static void
add_cond_cases (void)
{
  Case *c = case_new ("modulate", TOL_EXACT, "[2,33,24]");
  RgTensor *x = input (c, "x", 1, SHAPE (2, 33, 24));
  RgTensor *shift = input (c, "shift", 1, SHAPE (2, 24));
  RgTensor *scale = input (c, "scale", 0.3, SHAPE (2, 24));
  rg_modulate (x, shift, scale, output (c, SHAPE (2, 33, 24)));

  c = case_new ("gate_add", TOL_EXACT, "[3,7,40]");
  x = input (c, "x", 1, SHAPE (3, 7, 40));
  RgTensor *gate = input (c, "gate", 1, SHAPE (3, 40));
  RgTensor *h = input (c, "h", 1, SHAPE (3, 7, 40));
  RgTensor *y = output (c, SHAPE (3, 7, 40));
  rg_tensor_copy (y, x); /* gate_add works in place */
  rg_gate_add (y, gate, h);

  for (int dim = 2; dim <= 256; dim *= 8)
    {
      c = case_new ("timestep_embedding", TOL_EXACT, "D=%d", dim);
      RgTensor *t = input (c, "t", 1, SHAPE (4));
      float *tp = rg_tensor_f32 (t);
      tp[0] = 0.0f, tp[1] = 1.0f, tp[2] = 517.25f, tp[3] = 999.0f; /* flow time × 1000 */
      param_double (c, "max_period", 10000.0);
      param_int (c, "dim", dim);
      rg_timestep_embedding (t, 10000.0f, output (c, SHAPE (4, dim)));
    }
}

static void
add_conv_case (int64_t b, int64_t ci, int64_t t, int64_t h, int64_t w, int64_t co, int64_t kh,
               int64_t kw, int stride, RgPadMode pad, gboolean bias)
{
  Case *c = case_new ("conv2d_frames", TOL_GEMM, "[%ld,%ld,%ld,%ld,%ld] k=%ldx%ld s=%d %s bias=%d",
                      (long) b, (long) ci, (long) t, (long) h, (long) w, (long) kh, (long) kw,
                      stride, pad == RG_PAD_REPLICATE ? "replicate" : "zeros", bias);
  RgTensor *x = input (c, "x", 1, SHAPE (b, ci, t, h, w));
  RgTensor *wt = input (c, "w", 1 / sqrt ((double) (ci * kh * kw)), SHAPE (co, ci, kh, kw));
  RgTensor *bt = bias ? input (c, "b", 1, SHAPE (co)) : NULL;
  param_int (c, "stride", stride);
  param_string (c, "pad", pad == RG_PAD_REPLICATE ? "replicate" : "zeros");
  int64_t ho = (h + 2 * (kh / 2) - kh) / stride + 1, wo = (w + 2 * (kw / 2) - kw) / stride + 1;
  rg_conv2d_frames (x, wt, bt, stride, pad, output (c, SHAPE (b, co, t, ho, wo)));
}

static void
add_conv1d_case (int64_t b, int64_t ci, int64_t t, int64_t h, int64_t w, int64_t co, int64_t kt,
                 int stride, RgPadMode pad, gboolean bias)
{
  Case *c = case_new ("conv1d_time", TOL_GEMM, "[%ld,%ld,%ld,%ld,%ld] k=%ld s=%d %s bias=%d",
                      (long) b, (long) ci, (long) t, (long) h, (long) w, (long) kt, stride,
                      pad == RG_PAD_REPLICATE ? "replicate" : "zeros", bias);
  RgTensor *x = input (c, "x", 1, SHAPE (b, ci, t, h, w));
  RgTensor *wt = input (c, "w", 1 / sqrt ((double) (ci * kt)), SHAPE (co, ci, kt));
  RgTensor *bt = bias ? input (c, "b", 1, SHAPE (co)) : NULL;
  param_int (c, "stride", stride);
  param_string (c, "pad", pad == RG_PAD_REPLICATE ? "replicate" : "zeros");
  int64_t to = (t + 2 * (kt / 2) - kt) / stride + 1;
  rg_conv1d_time (x, wt, bt, stride, pad, output (c, SHAPE (b, co, to, h, w)));
}

static void
add_video_cases (void)
{
  for (int pad = 0; pad < 2; pad++)
    {
      add_conv_case (2, 3, 2, 9, 11, 5, 3, 3, 1, pad, TRUE);
      add_conv_case (1, 4, 3, 16, 16, 8, 3, 3, 2, pad, FALSE);
      add_conv_case (1, 2, 1, 7, 5, 3, 5, 3, 2, pad, TRUE);
      add_conv_case (1, 3, 1, 2, 2, 2, 5, 5, 1, pad, TRUE); /* kernel wider than the frame */
      add_conv1d_case (2, 4, 9, 3, 5, 6, 3, 1, pad, TRUE);
      add_conv1d_case (1, 5, 16, 4, 4, 3, 3, 2, pad, FALSE);
      add_conv1d_case (2, 3, 33, 1, 1, 4, 5, 1, pad, TRUE); /* plain conv1d over [B, C, L] */
      add_conv1d_case (1, 2, 7, 2, 3, 3, 4, 2, pad, TRUE);  /* even kernel */
      add_conv1d_case (1, 2, 7, 2, 3, 3, 4, 1, pad, FALSE); /* even kernel, stride 1: im2col */
      add_conv1d_case (2, 3, 2, 2, 3, 4, 5, 1, pad, TRUE);  /* kernel longer than the clip */
      add_conv1d_case (1, 3, 5, 2, 2, 4, 1, 1, pad, TRUE);  /* one tap */
    }
  add_conv_case (2, 6, 3, 5, 7, 4, 1, 1, 1, RG_PAD_ZEROS, TRUE); /* 1×1: the direct GEMM */
  /* big enough that im2col works in several chunks of frames (16 MB of col each) */
  add_conv_case (1, 16, 9, 64, 64, 8, 3, 3, 1, RG_PAD_REPLICATE, TRUE);
  add_conv1d_case (1, 32, 40, 32, 32, 4, 5, 1, RG_PAD_REPLICATE, TRUE);
  add_conv1d_case (1, 32, 80, 32, 32, 4, 5, 2, RG_PAD_REPLICATE, TRUE); /* strided: im2col chunks */

  Case *c = case_new ("upsample_nearest", TOL_EXACT, "2x2x2");
  rg_upsample_nearest (input (c, "x", 1, SHAPE (2, 3, 2, 3, 5)), 2, 2, 2,
                       output (c, SHAPE (2, 3, 4, 6, 10)));
  param_int (c, "ft", 2), param_int (c, "fh", 2), param_int (c, "fw", 2);
  c = case_new ("upsample_nearest", TOL_EXACT, "1x3x1");
  rg_upsample_nearest (input (c, "x", 1, SHAPE (1, 2, 3, 4, 5)), 1, 3, 1,
                       output (c, SHAPE (1, 2, 3, 12, 5)));
  param_int (c, "ft", 1), param_int (c, "fh", 3), param_int (c, "fw", 1);

  c = case_new ("patchify", TOL_EXACT, "2x2");
  rg_patchify (input (c, "x", 1, SHAPE (2, 3, 4, 6, 8)), 2, 2, output (c, SHAPE (2, 48, 12)));
  param_int (c, "ph", 2), param_int (c, "pw", 2);
  c = case_new ("patchify", TOL_EXACT, "1x3");
  rg_patchify (input (c, "x", 1, SHAPE (1, 5, 3, 2, 9)), 1, 3, output (c, SHAPE (1, 18, 15)));
  param_int (c, "ph", 1), param_int (c, "pw", 3);
  c = case_new ("unpatchify", TOL_EXACT, "2x2");
  rg_unpatchify (input (c, "x", 1, SHAPE (2, 48, 12)), 2, 2, output (c, SHAPE (2, 3, 4, 6, 8)));
  param_int (c, "ph", 2), param_int (c, "pw", 2);

  c = case_new ("pos_emb_factorized", TOL_EXACT, "T=3 H=5 W=7 D=33");
  RgTensor *tt = input (c, "tt", 1, SHAPE (3, 33));
  RgTensor *th = input (c, "th", 1, SHAPE (5, 33));
  RgTensor *tw = input (c, "tw", 1, SHAPE (7, 33));
  rg_pos_emb_factorized (tt, th, tw, output (c, SHAPE (105, 33)));

  c = case_new ("embedding", TOL_EXACT, "259x24, 37 ids");
  RgTensor *table = input (c, "table", 1, SHAPE (259, 24));
  RgTensor *ids = rg_tensor_new (RG_I32, 1, (int64_t[]){ 37 });
  for (int i = 0; i < 37; i++)
    ((int32_t *) ids->data)[i] = (i * 97 + 3) % 259;
  ((int32_t *) ids->data)[5] = 258;
  g_ptr_array_add (c->names, g_strdup ("ids"));
  g_ptr_array_add (c->inputs, ids);
  rg_embedding (table, ids, output (c, SHAPE (37, 24)));
}

/* ---- exchange with Python ---- */

static void
write_manifest (const char *dir)
{
  g_autoptr (JsonBuilder) all = json_builder_new ();
  json_builder_begin_array (all);
  for (guint i = 0; i < cases->len; i++)
    {
      Case *c = cases->pdata[i];
      /* params is still open: add the output shape (unpatchify needs it), close it */
      json_builder_set_member_name (c->params, "out_shape");
      json_builder_begin_array (c->params);
      for (int d = 0; d < c->out->ndim; d++)
        json_builder_add_int_value (c->params, c->out->shape[d]);
      json_builder_end_array (c->params);
      json_builder_end_object (c->params);
      json_builder_set_member_name (c->params, "id");
      json_builder_add_string_value (c->params, c->id);
      json_builder_set_member_name (c->params, "inputs");
      json_builder_begin_object (c->params);
      for (guint j = 0; j < c->inputs->len; j++)
        {
          RgTensor *t = c->inputs->pdata[j];
          const char *name = c->names->pdata[j];
          g_autofree char *file = g_strdup_printf ("%s_%s.bin", c->id, name);
          g_autofree char *path = g_build_filename (dir, file, NULL);
          g_autoptr (GError) error = NULL;
          /* x86 and ARM hosts are little-endian, the format the oracle reads */
          g_assert_true (g_file_set_contents (path, t->data, (gssize) rg_tensor_nbytes (t), &error));
          json_builder_set_member_name (c->params, name);
          json_builder_begin_object (c->params);
          json_builder_set_member_name (c->params, "file");
          json_builder_add_string_value (c->params, file);
          json_builder_set_member_name (c->params, "dtype");
          json_builder_add_string_value (c->params, t->dtype == RG_I32 ? "i32" : "f32");
          json_builder_set_member_name (c->params, "shape");
          json_builder_begin_array (c->params);
          for (int d = 0; d < t->ndim; d++)
            json_builder_add_int_value (c->params, t->shape[d]);
          json_builder_end_array (c->params);
          json_builder_end_object (c->params);
        }
      json_builder_end_object (c->params);
      json_builder_end_object (c->params);
      json_builder_add_value (all, json_builder_get_root (c->params));
    }
  json_builder_end_array (all);
  g_autoptr (JsonNode) root = json_builder_get_root (all);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autofree char *path = g_build_filename (dir, "manifest.json", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
compare_all (const char *dir)
{
  guint failed = 0;
  for (guint i = 0; i < cases->len; i++)
    {
      Case *c = cases->pdata[i];
      g_autofree char *path = g_strdup_printf ("%s/%s.out", dir, c->id);
      g_autofree char *ref = NULL;
      gsize len = 0;
      g_autoptr (GError) error = NULL;
      if (!g_file_get_contents (path, &ref, &len, &error))
        {
          g_test_fail_printf ("%s: no reference: %s", c->label, error->message);
          failed++;
          continue;
        }
      int64_t n = rg_tensor_numel (c->out);
      if (len != (gsize) n * sizeof (double))
        {
          g_test_fail_printf ("%s: reference has %zu bytes, expected %" G_GINT64_FORMAT, c->label,
                              len, n * (int64_t) sizeof (double));
          failed++;
          continue;
        }
      const double *b = (const double *) ref;
      const float *a = rg_tensor_f32 (c->out);
      double num = 0, den = 0;
      gboolean nan = FALSE;
      for (int64_t j = 0; j < n; j++)
        {
          nan |= isnan (a[j]) || isnan (b[j]);
          num += (a[j] - b[j]) * (a[j] - b[j]);
          den += b[j] * b[j];
        }
      /* A reference that is (nearly) zero everywhere (no valid key, a
       * one-element layernorm) would make the ratio meaningless: below an
       * RMS of 1e-6 the error is taken relative to that floor instead. */
      double nmse = num / MAX (den, (double) n * 1e-12);
      g_test_message ("%-72s NMSE %.3e (limit %.0e)", c->label, nmse, c->tol);
      if (nan || !(nmse <= c->tol))
        {
          g_test_fail_printf ("%s: NMSE %.3e > %.0e%s", c->label, nmse, c->tol,
                              nan ? " (NaN in output)" : "");
          failed++;
        }
    }
  g_test_message ("%u cases, %u failed", cases->len, failed);
}

static void
test_oracle (void)
{
  cases = g_ptr_array_new_with_free_func ((GDestroyNotify) case_free);
  rng = g_rand_new_with_seed (20261126);
  add_linalg_cases ();
  add_norm_cases ();
  add_elementwise_cases ();
  add_attention_cases ();
  add_cond_cases ();
  add_video_cases ();

  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-ops-oracle-XXXXXX", &error);
  g_assert_no_error (error);
  write_manifest (dir);
  if (rg_oracle_run ("ops_oracle.py", dir))
    compare_all (dir);

  /* remove what we wrote (inputs, manifest, outputs) */
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (dir);
  g_ptr_array_unref (cases);
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reference/ops-oracle", test_oracle);
  return g_test_run ();
}
