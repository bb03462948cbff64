/* grad-cases.h — the backward passes under test, shared by
 * tests/ops/test-grad-fd.c (finite differences, guards, thread counts)
 * and tests/reference/test-grad-oracle.c (PyTorch autograd).
 *
 * A case holds an op's inputs (names as in tests/reference/ops_oracle.py),
 * which of them get a gradient, and its parameters. grad_forward runs the
 * op on any set of same-shaped inputs (the FD test perturbs them);
 * grad_backward accumulates the gradients of Σ dy·y into g[i] for every
 * input with diff[i] (g[i] NULL otherwise). */
#pragma once

#include <math.h>

#include "core/rg-tensor.h"
#include "ops/rg-ops-grad.h"

#define GC_MAX 6

typedef enum {
  GC_LINEAR, GC_MATMUL, GC_RMSNORM, GC_LAYERNORM, GC_GROUPNORM, GC_SOFTMAX, GC_SILU, GC_GELU,
  GC_SWIGLU, GC_ADD, GC_MUL, GC_AXPBY, GC_SCALE, GC_ADD_BIAS, GC_ATTENTION, GC_MODULATE,
  GC_GATE_ADD, GC_CONV2D, GC_CONV1D, GC_UPSAMPLE, GC_PATCHIFY, GC_UNPATCHIFY, GC_POS_EMB,
  GC_EMBEDDING, GC_GROUPNORM_SILU,
} GcKind;

static const char *const gc_op_names[] = {
  "linear", "matmul", "rmsnorm", "layernorm", "groupnorm", "softmax", "silu", "gelu",
  "swiglu", "add", "mul", "axpby", "scale", "add_bias", "attention", "modulate",
  "gate_add", "conv2d_frames", "conv1d_time", "upsample_nearest", "patchify", "unpatchify",
  "pos_emb_factorized", "embedding", "groupnorm_silu",
};

typedef struct {
  GcKind      kind;
  char       *label;
  int         n;
  const char *names[GC_MAX];
  RgTensor   *t[GC_MAX];
  gboolean    diff[GC_MAX];
  int64_t     out_shape[RG_MAX_DIMS];
  int         out_ndim;
  /* parameters (each op reads its own) */
  gboolean    trans_a, trans_b;
  int         groups, stride, ft, fh, fw, ph, pw;
  RgPadMode   pad;
  float       eps, alpha, beta, s;
  RgAttentionParams ap;
  int32_t     kv_len[4];
} GradCase;

static void
grad_case_free (GradCase *c)
{
  for (int i = 0; i < c->n; i++)
    rg_tensor_unref (c->t[i]);
  g_free (c->label);
  g_free (c);
}

/* Values about N(0, s²): a sum of three uniforms. */
static RgTensor *
gc_random (GRand *rng, double s, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  float *p = rg_tensor_f32 (t);
  for (int64_t i = 0; i < rg_tensor_numel (t); i++)
    p[i] = (float) (s * (g_rand_double_range (rng, -1, 1) + g_rand_double_range (rng, -1, 1)
                         + g_rand_double_range (rng, -1, 1)));
  return t;
}

#define GC_SHAPE(...) (int) (sizeof ((int64_t[]){ __VA_ARGS__ }) / sizeof (int64_t)), \
                      (int64_t[]){ __VA_ARGS__ }

static GradCase *
gc_new (GPtrArray *cases, GcKind kind, const char *label, int ndim, const int64_t *out_shape)
{
  GradCase *c = g_new0 (GradCase, 1);
  c->kind = kind;
  c->label = g_strdup_printf ("%s %s", gc_op_names[kind], label);
  c->out_ndim = ndim;
  memcpy (c->out_shape, out_shape, (size_t) ndim * sizeof (int64_t));
  g_ptr_array_add (cases, c);
  return c;
}

static RgTensor *
gc_in (GradCase *c, GRand *rng, const char *name, gboolean diff, double s, int ndim,
       const int64_t *shape)
{
  RgTensor *t = gc_random (rng, s, ndim, shape);
  c->names[c->n] = name;
  c->t[c->n] = t;
  c->diff[c->n] = diff;
  c->n++;
  return t;
}

/* All the cases; `big` adds the larger, odd-sized ones the oracle runs
 * (the FD test evaluates the forward many times and keeps to small). */
static GPtrArray *
grad_cases_build (GRand *rng, gboolean big)
{
  GPtrArray *cases = g_ptr_array_new_with_free_func ((GDestroyNotify) grad_case_free);
  GradCase *c;
  int64_t n1 = big ? 33 : 5, d1 = big ? 65 : 7;

  for (int bias = 0; bias < 2; bias++)
    {
      c = gc_new (cases, GC_LINEAR, bias ? "bias" : "no bias", GC_SHAPE (2, n1, 6));
      gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, n1, d1));
      gc_in (c, rng, "w", TRUE, 1 / sqrt ((double) d1), GC_SHAPE (6, d1));
      if (bias)
        gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (6));
    }
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      {
        int64_t m = 9, k = big ? 17 : 5, n = 7;
        c = gc_new (cases, GC_MATMUL, ta ? (tb ? "ta tb" : "ta") : (tb ? "tb" : "plain"),
                    GC_SHAPE (m, n));
        c->trans_a = ta;
        c->trans_b = tb;
        c->alpha = 0.75f;
        if (ta)
          gc_in (c, rng, "a", TRUE, 1, GC_SHAPE (k, m));
        else
          gc_in (c, rng, "a", TRUE, 1, GC_SHAPE (m, k));
        if (tb)
          gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (n, k));
        else
          gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (k, n));
      }
  static const int64_t dims[] = { 1, 7, 64, 257 };
  for (guint i = 0; i < G_N_ELEMENTS (dims); i++)
    {
      int64_t d = dims[i];
      if (!big && d > 64)
        continue;
      for (int affine = 0; affine < 2; affine++)
        {
          char *l = g_strdup_printf ("D=%ld w=%d", (long) d, affine);
          c = gc_new (cases, GC_RMSNORM, l, GC_SHAPE (3, d));
          c->eps = 1e-6f;
          gc_in (c, rng, "x", TRUE, 2, GC_SHAPE (3, d));
          if (affine)
            gc_in (c, rng, "w", TRUE, 1, GC_SHAPE (d));
          c = gc_new (cases, GC_LAYERNORM, l, GC_SHAPE (3, d));
          c->eps = 1e-5f;
          gc_in (c, rng, "x", TRUE, 2, GC_SHAPE (3, d));
          if (affine)
            {
              gc_in (c, rng, "w", TRUE, 1, GC_SHAPE (d));
              gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (d));
            }
          g_free (l);
        }
      char *l = g_strdup_printf ("D=%ld", (long) d);
      c = gc_new (cases, GC_SOFTMAX, l, GC_SHAPE (4, d));
      gc_in (c, rng, "x", TRUE, 2, GC_SHAPE (4, d));
      g_free (l);
    }
  for (int silu = 0; silu < 2; silu++)
    for (int affine = 0; affine < 2; affine++)
      {
        int64_t ch = 6, t = 2, hw = big ? 9 : 3;
        c = gc_new (cases, silu ? GC_GROUPNORM_SILU : GC_GROUPNORM, affine ? "G=3 affine" : "G=2",
                    GC_SHAPE (2, ch, t, hw, hw));
        c->groups = affine ? 3 : 2;
        c->eps = 1e-5f;
        gc_in (c, rng, "x", TRUE, 2, GC_SHAPE (2, ch, t, hw, hw));
        if (affine)
          {
            gc_in (c, rng, "w", TRUE, 1, GC_SHAPE (ch));
            gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (ch));
          }
      }

  int64_t ne = big ? 1001 : 37;
  c = gc_new (cases, GC_SILU, "", GC_SHAPE (ne));
  gc_in (c, rng, "x", TRUE, 3, GC_SHAPE (ne));
  c = gc_new (cases, GC_GELU, "", GC_SHAPE (ne));
  gc_in (c, rng, "x", TRUE, 3, GC_SHAPE (ne));
  c = gc_new (cases, GC_SWIGLU, "", GC_SHAPE (ne));
  gc_in (c, rng, "gate", TRUE, 3, GC_SHAPE (ne));
  gc_in (c, rng, "up", TRUE, 1, GC_SHAPE (ne));
  c = gc_new (cases, GC_ADD, "", GC_SHAPE (ne));
  gc_in (c, rng, "a", TRUE, 1, GC_SHAPE (ne));
  gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (ne));
  c = gc_new (cases, GC_MUL, "", GC_SHAPE (ne));
  gc_in (c, rng, "a", TRUE, 1, GC_SHAPE (ne));
  gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (ne));
  c = gc_new (cases, GC_AXPBY, "", GC_SHAPE (ne));
  c->alpha = 0.5f;
  c->beta = -1.25f;
  gc_in (c, rng, "a", TRUE, 1, GC_SHAPE (ne));
  gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (ne));
  c = gc_new (cases, GC_SCALE, "", GC_SHAPE (ne));
  c->s = 1.5f;
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (ne));
  c = gc_new (cases, GC_ADD_BIAS, "", GC_SHAPE (5, d1));
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (5, d1));
  gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (d1));

  /* attention: odd token counts around the block sizes, causal, kv_len */
  static const struct { int64_t nq, nk; int heads, dh; gboolean causal, kv; } at[] = {
    { 1, 1, 1, 4, FALSE, FALSE },   { 7, 5, 2, 4, FALSE, FALSE }, { 9, 9, 2, 4, TRUE, FALSE },
    { 6, 11, 1, 8, FALSE, TRUE },   { 8, 8, 2, 4, TRUE, TRUE },   { 33, 70, 2, 16, FALSE, TRUE },
    { 257, 257, 2, 32, TRUE, FALSE }, { 130, 300, 1, 64, FALSE, TRUE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (at); i++)
    {
      gboolean is_big = at[i].nq > 16 || at[i].nk > 16;
      if (is_big != big && is_big)
        continue;
      int64_t hd = at[i].heads * at[i].dh;
      char *l = g_strdup_printf ("Nq=%ld Nk=%ld H=%d Dh=%d%s%s", (long) at[i].nq,
                                 (long) at[i].nk, at[i].heads, at[i].dh,
                                 at[i].causal ? " causal" : "", at[i].kv ? " kv_len" : "");
      c = gc_new (cases, GC_ATTENTION, l, GC_SHAPE (2, at[i].nq, hd));
      g_free (l);
      c->ap.n_heads = at[i].heads;
      c->ap.scale = (float) (1.0 / sqrt ((double) at[i].dh));
      c->ap.causal = at[i].causal;
      if (at[i].kv)
        {
          /* batch 1 sees a prefix; batch 0 all keys (or none when tiny) */
          c->kv_len[0] = (int32_t) (at[i].nk > 8 ? at[i].nk : 0);
          c->kv_len[1] = (int32_t) (at[i].nk / 2 + 1);
          c->ap.kv_len = c->kv_len;
        }
      gc_in (c, rng, "q", TRUE, 1, GC_SHAPE (2, at[i].nq, hd));
      gc_in (c, rng, "k", TRUE, 1, GC_SHAPE (2, at[i].nk, hd));
      gc_in (c, rng, "v", TRUE, 1, GC_SHAPE (2, at[i].nk, hd));
    }

  c = gc_new (cases, GC_MODULATE, "", GC_SHAPE (2, n1, d1));
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, n1, d1));
  gc_in (c, rng, "shift", TRUE, 0.5, GC_SHAPE (2, d1));
  gc_in (c, rng, "scale", TRUE, 0.5, GC_SHAPE (2, d1));
  c = gc_new (cases, GC_GATE_ADD, "", GC_SHAPE (2, n1, d1));
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, n1, d1));
  gc_in (c, rng, "gate", TRUE, 0.5, GC_SHAPE (2, d1));
  gc_in (c, rng, "h", TRUE, 1, GC_SHAPE (2, n1, d1));

  /* convs: zeros and replicate, stride 1 and 2, odd frame sizes */
  for (int rep = 0; rep < 2; rep++)
    for (int stride = 1; stride <= 2; stride++)
      {
        int64_t cin = 3, cout = 4, t = 2, h = big ? 9 : 5, w = big ? 11 : 6, k = 3;
        int64_t ho = (h + 2 * (k / 2) - k) / stride + 1, wo = (w + 2 * (k / 2) - k) / stride + 1;
        char *l = g_strdup_printf ("%s stride %d", rep ? "replicate" : "zeros", stride);
        c = gc_new (cases, GC_CONV2D, l, GC_SHAPE (2, cout, t, ho, wo));
        c->pad = rep ? RG_PAD_REPLICATE : RG_PAD_ZEROS;
        c->stride = stride;
        gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, cin, t, h, w));
        gc_in (c, rng, "w", TRUE, 0.3, GC_SHAPE (cout, cin, k, k));
        gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (cout));

        int64_t tl = big ? 9 : 5, kt = 3, to = (tl + 2 * (kt / 2) - kt) / stride + 1;
        c = gc_new (cases, GC_CONV1D, l, GC_SHAPE (2, cout, to, 2, 3));
        c->pad = rep ? RG_PAD_REPLICATE : RG_PAD_ZEROS;
        c->stride = stride;
        gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, cin, tl, 2, 3));
        gc_in (c, rng, "w", TRUE, 0.3, GC_SHAPE (cout, cin, kt));
        gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (cout));
        g_free (l);
      }

  /* 1×1 (its own GEMM-only path) and a 1×3 kernel */
  c = gc_new (cases, GC_CONV2D, "1x1", GC_SHAPE (2, 4, 2, 3, 5));
  c->pad = RG_PAD_ZEROS;
  c->stride = 1;
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, 3, 2, 3, 5));
  gc_in (c, rng, "w", TRUE, 0.5, GC_SHAPE (4, 3, 1, 1));
  gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (4));
  c = gc_new (cases, GC_CONV2D, "1x3 replicate", GC_SHAPE (1, 2, 1, 4, 5));
  c->pad = RG_PAD_REPLICATE;
  c->stride = 1;
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (1, 3, 1, 4, 5));
  gc_in (c, rng, "w", TRUE, 0.5, GC_SHAPE (2, 3, 1, 3));

  /* a temporal kernel longer than the clip: every tap but the centre has
   * frames past an end (the stride-1 shifted-tap path's border runs) */
  for (int rep = 0; rep < 2; rep++)
    {
      c = gc_new (cases, GC_CONV1D, rep ? "k5 over 2 frames, replicate" : "k5 over 2 frames, zeros",
                  GC_SHAPE (2, 3, 2, 2, 2));
      c->pad = rep ? RG_PAD_REPLICATE : RG_PAD_ZEROS;
      c->stride = 1;
      gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, 4, 2, 2, 2));
      gc_in (c, rng, "w", TRUE, 0.3, GC_SHAPE (3, 4, 5));
      gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (3));
    }

  c = gc_new (cases, GC_UPSAMPLE, "2x2x3", GC_SHAPE (2, 3, 4, 6, 9));
  c->ft = 2;
  c->fh = 2;
  c->fw = 3;
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, 3, 2, 3, 3));
  c = gc_new (cases, GC_PATCHIFY, "2x2", GC_SHAPE (2, 2 * 2 * 3, 3 * 4));
  c->ph = c->pw = 2;
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, 3, 2, 4, 6));
  c = gc_new (cases, GC_UNPATCHIFY, "2x2", GC_SHAPE (2, 3, 2, 4, 6));
  c->ph = c->pw = 2;
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, 2 * 2 * 3, 3 * 4));
  c = gc_new (cases, GC_POS_EMB, "3x2x5", GC_SHAPE (3 * 2 * 5, d1));
  gc_in (c, rng, "tt", TRUE, 1, GC_SHAPE (3, d1));
  gc_in (c, rng, "th", TRUE, 1, GC_SHAPE (2, d1));
  gc_in (c, rng, "tw", TRUE, 1, GC_SHAPE (5, d1));

  /* ids with repeats (the scatter-add must sum them) */
  c = gc_new (cases, GC_EMBEDDING, "repeats", GC_SHAPE (2, 6, d1));
  gc_in (c, rng, "table", TRUE, 1, GC_SHAPE (10, d1));
  RgTensor *ids = rg_tensor_new (RG_I32, 2, (int64_t[]){ 2, 6 });
  static const int32_t id_values[12] = { 3, 1, 3, 9, 0, 3, 7, 7, 1, 2, 9, 4 };
  memcpy (ids->data, id_values, sizeof id_values);
  c->names[c->n] = "ids";
  c->t[c->n] = ids;
  c->diff[c->n] = FALSE;
  c->n++;
  return cases;
}

static RgTensor *
gc_named (const GradCase *c, RgTensor *const *t, const char *name)
{
  for (int i = 0; i < c->n; i++)
    if (strcmp (c->names[i], name) == 0)
      return t[i];
  return NULL;
}

/* y = op(t); out has c->out_shape. (Unused by the oracle test.) */
G_GNUC_UNUSED static void
grad_forward (const GradCase *c, RgTensor *const *t, RgTensor *out)
{
#define IN(name) gc_named (c, t, name)
  switch (c->kind)
    {
    case GC_LINEAR: rg_linear (IN ("x"), IN ("w"), IN ("b"), out); break;
    case GC_MATMUL: rg_matmul (IN ("a"), c->trans_a, IN ("b"), c->trans_b, c->alpha, 0.0f, out); break;
    case GC_RMSNORM: rg_rmsnorm (IN ("x"), IN ("w"), c->eps, out); break;
    case GC_LAYERNORM: rg_layernorm (IN ("x"), IN ("w"), IN ("b"), c->eps, out); break;
    case GC_GROUPNORM: rg_groupnorm (IN ("x"), c->groups, IN ("w"), IN ("b"), c->eps, out); break;
    case GC_GROUPNORM_SILU:
      rg_groupnorm_silu (IN ("x"), c->groups, IN ("w"), IN ("b"), c->eps, out);
      break;
    case GC_SOFTMAX: rg_softmax (IN ("x"), out); break;
    case GC_SILU: rg_silu (IN ("x"), out); break;
    case GC_GELU: rg_gelu (IN ("x"), out); break;
    case GC_SWIGLU: rg_swiglu (IN ("gate"), IN ("up"), out); break;
    case GC_ADD: rg_add (IN ("a"), IN ("b"), out); break;
    case GC_MUL: rg_mul (IN ("a"), IN ("b"), out); break;
    case GC_AXPBY: rg_axpby (c->alpha, IN ("a"), c->beta, IN ("b"), out); break;
    case GC_SCALE: rg_scale (IN ("x"), c->s, out); break;
    case GC_ADD_BIAS: rg_add_bias (IN ("x"), IN ("b"), out); break;
    case GC_ATTENTION: rg_attention (IN ("q"), IN ("k"), IN ("v"), &c->ap, out); break;
    case GC_MODULATE: rg_modulate (IN ("x"), IN ("shift"), IN ("scale"), out); break;
    case GC_GATE_ADD:
      rg_tensor_copy (out, IN ("x"));
      rg_gate_add (out, IN ("gate"), IN ("h"));
      break;
    case GC_CONV2D: rg_conv2d_frames (IN ("x"), IN ("w"), IN ("b"), c->stride, c->pad, out); break;
    case GC_CONV1D: rg_conv1d_time (IN ("x"), IN ("w"), IN ("b"), c->stride, c->pad, out); break;
    case GC_UPSAMPLE: rg_upsample_nearest (IN ("x"), c->ft, c->fh, c->fw, out); break;
    case GC_PATCHIFY: rg_patchify (IN ("x"), c->ph, c->pw, out); break;
    case GC_UNPATCHIFY: rg_unpatchify (IN ("x"), c->ph, c->pw, out); break;
    case GC_POS_EMB: rg_pos_emb_factorized (IN ("tt"), IN ("th"), IN ("tw"), out); break;
    case GC_EMBEDDING: rg_embedding (IN ("table"), IN ("ids"), out); break;
    }
}

/* g[i] += ∂(Σ dy·y)/∂t[i] for every i with a non-NULL g[i]. */
static void
grad_backward (const GradCase *c, RgTensor *const *t, const RgTensor *dy, RgTensor *const *g)
{
#define GR(name) gc_named (c, g, name)
  switch (c->kind)
    {
    case GC_LINEAR: rg_linear_backward (IN ("x"), IN ("w"), dy, GR ("x"), GR ("w"), GR ("b")); break;
    case GC_MATMUL:
      rg_matmul_backward (IN ("a"), c->trans_a, IN ("b"), c->trans_b, c->alpha, dy, GR ("a"),
                          GR ("b"));
      break;
    case GC_RMSNORM: rg_rmsnorm_backward (IN ("x"), IN ("w"), c->eps, dy, GR ("x"), GR ("w")); break;
    case GC_LAYERNORM:
      rg_layernorm_backward (IN ("x"), IN ("w"), c->eps, dy, GR ("x"), GR ("w"), GR ("b"));
      break;
    case GC_GROUPNORM:
      rg_groupnorm_backward (IN ("x"), c->groups, IN ("w"), c->eps, dy, GR ("x"), GR ("w"),
                             GR ("b"));
      break;
    case GC_GROUPNORM_SILU:
      rg_groupnorm_silu_backward (IN ("x"), c->groups, IN ("w"), IN ("b"), c->eps, dy, GR ("x"),
                                  GR ("w"), GR ("b"));
      break;
    case GC_SOFTMAX:
      {
        g_autoptr (RgTensor) y = rg_tensor_new (RG_F32, c->out_ndim, c->out_shape);
        rg_softmax (IN ("x"), y);
        rg_softmax_backward (y, dy, GR ("x"));
        break;
      }
    case GC_SILU: rg_silu_backward (IN ("x"), dy, GR ("x")); break;
    case GC_GELU: rg_gelu_backward (IN ("x"), dy, GR ("x")); break;
    case GC_SWIGLU: rg_swiglu_backward (IN ("gate"), IN ("up"), dy, GR ("gate"), GR ("up")); break;
    case GC_ADD: rg_add_backward (dy, GR ("a"), GR ("b")); break;
    case GC_MUL: rg_mul_backward (IN ("a"), IN ("b"), dy, GR ("a"), GR ("b")); break;
    case GC_AXPBY: rg_axpby_backward (c->alpha, c->beta, dy, GR ("a"), GR ("b")); break;
    case GC_SCALE: rg_scale_backward (c->s, dy, GR ("x")); break;
    case GC_ADD_BIAS: rg_add_bias_backward (dy, GR ("x"), GR ("b")); break;
    case GC_ATTENTION:
      {
        RgTensor *q = IN ("q");
        g_autoptr (RgTensor) out = rg_tensor_new (RG_F32, c->out_ndim, c->out_shape);
        g_autoptr (RgTensor) lse = rg_tensor_new (
          RG_F32, 3, (int64_t[]){ c->out_shape[0], c->ap.n_heads, c->out_shape[1] });
        rg_attention_lse (q, IN ("k"), IN ("v"), &c->ap, out, lse);
        rg_attention_backward (q, IN ("k"), IN ("v"), out, lse, dy, &c->ap, GR ("q"), GR ("k"),
                               GR ("v"));
        break;
      }
    case GC_MODULATE:
      rg_modulate_backward (IN ("x"), IN ("scale"), dy, GR ("x"), GR ("shift"), GR ("scale"));
      break;
    case GC_GATE_ADD:
      /* the old x passes dy through unchanged */
      if (GR ("x") != NULL)
        rg_add_backward (dy, GR ("x"), NULL);
      rg_gate_add_backward (IN ("gate"), IN ("h"), dy, GR ("gate"), GR ("h"));
      break;
    case GC_CONV2D:
      rg_conv2d_frames_backward (IN ("x"), IN ("w"), c->stride, c->pad, dy, GR ("x"), GR ("w"),
                                 GR ("b"));
      break;
    case GC_CONV1D:
      rg_conv1d_time_backward (IN ("x"), IN ("w"), c->stride, c->pad, dy, GR ("x"), GR ("w"),
                               GR ("b"));
      break;
    case GC_UPSAMPLE: rg_upsample_nearest_backward (dy, c->ft, c->fh, c->fw, GR ("x")); break;
    case GC_PATCHIFY: rg_patchify_backward (dy, c->ph, c->pw, GR ("x")); break;
    case GC_UNPATCHIFY: rg_unpatchify_backward (dy, c->ph, c->pw, GR ("x")); break;
    case GC_POS_EMB: rg_pos_emb_factorized_backward (dy, GR ("tt"), GR ("th"), GR ("tw")); break;
    case GC_EMBEDDING: rg_embedding_backward (IN ("ids"), dy, GR ("table")); break;
    }
#undef GR
#undef IN
}
