/* test-nn.c — layer behaviour that the model parity test cannot isolate:
 * seeded init by name, QK-norm's scale invariance, self = cross on the
 * same tokens, adaLN splitting, 2.5D conv shapes, factorized positions. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "core/rg-error.h"
#include "core/rg-rng.h"
#include "nn/rg-nn.h"

static RgTensor *
noise (uint64_t seed, int ndim, const int64_t *shape)
{
  RgTensor *t = rg_tensor_new (RG_F32, ndim, shape);
  rg_rng_normal (seed, 7, 0, rg_tensor_f32 (t), rg_tensor_numel (t));
  return t;
}

static float
max_abs_diff (const RgTensor *a, const RgTensor *b)
{
  g_assert_true (rg_tensor_same_shape (a, b));
  float m = 0;
  for (int64_t i = 0; i < rg_tensor_numel (a); i++)
    m = fmaxf (m, fabsf (rg_tensor_f32 (a)[i] - rg_tensor_f32 (b)[i]));
  return m;
}

/* A weight's values depend on the seed and its name, not on what was
 * declared before it. */
static void
test_init_by_name (void)
{
  g_autoptr (RgParams) a = rg_params_new_init (9);
  g_autoptr (RgParams) b = rg_params_new_init (9);
  g_autoptr (RgParams) c = rg_params_new_init (10);
  RgTensor *a1 = rg_params_take2 (a, "x", "weight", RG_INIT_NORMAL, 0.5f, 4, 8);
  RgTensor *a2 = rg_params_take2 (a, "y", "weight", RG_INIT_NORMAL, 0.5f, 4, 8);
  RgTensor *b2 = rg_params_take2 (b, "y", "weight", RG_INIT_NORMAL, 0.5f, 4, 8);
  RgTensor *b1 = rg_params_take2 (b, "x", "weight", RG_INIT_NORMAL, 0.5f, 4, 8);
  RgTensor *c1 = rg_params_take2 (c, "x", "weight", RG_INIT_NORMAL, 0.5f, 4, 8);
  g_assert_cmpfloat (max_abs_diff (a1, b1), ==, 0.f);
  g_assert_cmpfloat (max_abs_diff (a2, b2), ==, 0.f);
  g_assert_cmpfloat (max_abs_diff (a1, a2), >, 0.f);
  g_assert_cmpfloat (max_abs_diff (a1, c1), >, 0.f);
  /* std is applied: sample std of 32 N(0, 0.25) values is near 0.5 */
  double ss = 0;
  for (int i = 0; i < 32; i++)
    ss += rg_tensor_f32 (a1)[i] * (double) rg_tensor_f32 (a1)[i];
  g_assert_cmpfloat (sqrt (ss / 32), >, 0.3);
  g_assert_cmpfloat (sqrt (ss / 32), <, 0.7);

  /* a second declaration of the same name is an error, kept for finish */
  g_assert_null (rg_params_take2 (a, "x", "weight", RG_INIT_ZEROS, 0, 4, 8));
  g_autoptr (GError) error = NULL;
  g_assert_false (rg_params_finish (a, &error));
  g_assert_nonnull (strstr (error->message, "'x.weight' declared twice"));
  g_assert_true (rg_params_finish (b, NULL));
  g_assert_cmpint (rg_params_count (b, NULL), ==, 64);
  g_assert_cmpint (rg_params_count (b, "x."), ==, 32);

  RgTensor *w = rg_params_take2 (b, "z", "weight", RG_INIT_ONES, 0, 3, 5);
  rg_params_zero_columns (b, w, 3, 2);
  for (int r = 0; r < 3; r++)
    for (int col = 0; col < 5; col++)
      g_assert_cmpfloat (rg_tensor_f32 (w)[r * 5 + col], ==, col < 3 ? 1.f : 0.f);
}

/* With QK-norm, scaling the q and k projections leaves attention unchanged
 * (RMSNorm removes the scale); without it the logits sharpen. */
static void
test_qk_norm_invariance (void)
{
  g_autoptr (RgArena) arena = rg_arena_new (1 << 20);
  int64_t xs[3] = { 2, 6, 16 };
  g_autoptr (RgTensor) x = noise (1, 3, xs);
  for (int qk = 0; qk < 2; qk++)
    {
      g_autoptr (RgParams) p = rg_params_new_init (3);
      RgAttentionLayer a;
      rg_attention_layer_init (&a, p, "attn", 16, 16, 2, qk, 1e-6f);
      g_assert_true (rg_params_finish (p, NULL));
      g_autoptr (RgTensor) y1 = rg_attention_layer_forward (&a, arena, x, NULL, NULL);
      g_autoptr (RgTensor) y1c = rg_tensor_clone (y1);
      for (int64_t i = 0; i < rg_tensor_numel (a.q.w); i++)
        {
          rg_tensor_f32 (a.q.w)[i] *= 3.f;
          rg_tensor_f32 (a.k.w)[i] *= 3.f;
        }
      g_autoptr (RgTensor) y2 = rg_attention_layer_forward (&a, arena, x, NULL, NULL);
      float d = max_abs_diff (y1c, y2);
      if (qk)
        g_assert_cmpfloat (d, <, 1e-4f);
      else
        g_assert_cmpfloat (d, >, 1e-3f);
      g_clear_pointer (&y1, rg_tensor_unref);
      g_clear_pointer (&y2, rg_tensor_unref);
      rg_arena_reset (arena);
    }
}

/* Cross-attention to the tokens themselves is self-attention; masking the
 * context to a prefix equals attending to that prefix alone. */
static void
test_cross_attention (void)
{
  g_autoptr (RgArena) arena = rg_arena_new (1 << 20);
  g_autoptr (RgParams) p = rg_params_new_init (4);
  RgAttentionLayer a;
  rg_attention_layer_init (&a, p, "attn", 16, 16, 4, TRUE, 1e-6f);
  int64_t xs[3] = { 1, 5, 16 }, cs[3] = { 1, 7, 16 };
  g_autoptr (RgTensor) x = noise (5, 3, xs);
  g_autoptr (RgTensor) ctx = noise (6, 3, cs);
  {
    g_autoptr (RgTensor) self = rg_attention_layer_forward (&a, arena, x, NULL, NULL);
    g_autoptr (RgTensor) cross = rg_attention_layer_forward (&a, arena, x, x, NULL);
    g_assert_cmpfloat (max_abs_diff (self, cross), <, 1e-6f);
    int32_t len[1] = { 3 };
    g_autoptr (RgTensor) masked = rg_attention_layer_forward (&a, arena, x, ctx, len);
    g_autoptr (RgTensor) prefix = rg_tensor_narrow (ctx, 1, 0, 3);
    g_autoptr (RgTensor) packed = rg_tensor_contiguous (prefix);
    g_autoptr (RgTensor) cut = rg_attention_layer_forward (&a, arena, x, packed, NULL);
    g_assert_cmpfloat (max_abs_diff (masked, cut), <, 1e-5f);
    g_autoptr (RgTensor) full = rg_attention_layer_forward (&a, arena, x, ctx, NULL);
    g_assert_cmpfloat (max_abs_diff (masked, full), >, 1e-4f);
  }
  rg_arena_reset (arena);
}

static void
test_adaln_split (void)
{
  g_autoptr (RgArena) arena = rg_arena_new (1 << 16);
  g_autoptr (RgTensor) mod = rg_tensor_f32_new (2, (int64_t) 2, (int64_t) 6);
  g_autoptr (RgTensor) table = rg_tensor_f32_new (2, (int64_t) 3, (int64_t) 2);
  for (int i = 0; i < 12; i++)
    rg_tensor_f32 (mod)[i] = (float) i;
  for (int i = 0; i < 6; i++)
    rg_tensor_f32 (table)[i] = 100.f * (float) i;
  RgTensor *out[3];
  rg_adaln_split (arena, mod, table, 3, out);
  /* out[k][b, j] = mod[b, 2k + j] + table[k, j] */
  for (int k = 0; k < 3; k++)
    {
      g_assert_cmpint (out[k]->shape[0], ==, 2);
      g_assert_cmpint (out[k]->shape[1], ==, 2);
      for (int b = 0; b < 2; b++)
        for (int j = 0; j < 2; j++)
          g_assert_cmpfloat (rg_tensor_f32 (out[k])[b * 2 + j], ==,
                             (float) (b * 6 + 2 * k + j) + 100.f * (float) (2 * k + j));
      rg_tensor_unref (out[k]);
    }
}

static void
test_conv25_shapes (void)
{
  g_autoptr (RgArena) arena = rg_arena_new (1 << 20);
  g_autoptr (RgParams) p = rg_params_new_init (5);
  RgConv25 down, same;
  rg_conv25_init (&down, p, "down", 3, 8, 2, 2);
  rg_conv25_init (&same, p, "same", 8, 8, 1, 1);
  int64_t xs[5] = { 1, 3, 4, 8, 6 };
  g_autoptr (RgTensor) x = noise (8, 5, xs);
  g_autoptr (RgTensor) y = rg_conv25_forward (&down, arena, x);
  int64_t want[5] = { 1, 8, 2, 4, 3 };
  for (int d = 0; d < 5; d++)
    g_assert_cmpint (y->shape[d], ==, want[d]);
  /* replicate padding: a constant clip stays constant through a conv25
   * whose weights sum to zero, so the output is exactly the biases */
  g_autoptr (RgTensor) flat = rg_tensor_f32_new (5, (int64_t) 1, (int64_t) 8, (int64_t) 3,
                                                 (int64_t) 4, (int64_t) 4);
  rg_tensor_fill (flat, 2.f);
  float *ws = rg_tensor_f32 (same.ws);
  for (int o = 0; o < 8; o++)
    for (int c = 0; c < 8; c++)
      {
        float s = 0;
        for (int k = 0; k < 8; k++)
          s += ws[(o * 8 + c) * 9 + k];
        ws[(o * 8 + c) * 9 + 8] = -s;
      }
  g_autoptr (RgTensor) z = rg_conv25_forward (&same, arena, flat);
  /* spatial output = bs[o] everywhere; the temporal conv of a constant
   * in T is Σ_k wt[o, c, k] · bs[c] + bt[o] */
  const float *bs = rg_tensor_f32 (same.bs), *wt = rg_tensor_f32 (same.wt),
              *bt = rg_tensor_f32 (same.bt);
  for (int o = 0; o < 8; o++)
    {
      double want_v = bt[o];
      for (int c = 0; c < 8; c++)
        for (int k = 0; k < 3; k++)
          want_v += wt[(o * 8 + c) * 3 + k] * (double) bs[c];
      for (int i = 0; i < 3 * 16; i++)
        g_assert_cmpfloat (fabs (rg_tensor_f32 (z)[o * 48 + i] - want_v), <, 1e-4);
    }
}

static void
test_pos_emb3 (void)
{
  g_autoptr (RgArena) arena = rg_arena_new (1 << 16);
  g_autoptr (RgParams) p = rg_params_new_init (6);
  RgPosEmb3 e;
  rg_pos_emb3_init (&e, p, "pos", 4, 5, 6, 3);
  g_autoptr (RgTensor) y = rg_pos_emb3_forward (&e, arena, 2, 3, 4);
  g_assert_cmpint (y->shape[0], ==, 24);
  const float *t = rg_tensor_f32 (e.t), *h = rg_tensor_f32 (e.h), *w = rg_tensor_f32 (e.w);
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 3; b++)
      for (int c = 0; c < 4; c++)
        for (int d = 0; d < 3; d++)
          g_assert_cmpfloat (fabsf (rg_tensor_f32 (y)[((a * 3 + b) * 4 + c) * 3 + d]
                                    - (t[a * 3 + d] + h[b * 3 + d] + w[c * 3 + d])),
                             <, 1e-7f);
  /* added to every batch row */
  g_autoptr (RgTensor) x = rg_tensor_f32_zeros (3, (int64_t) 2, (int64_t) 24, (int64_t) 3);
  rg_add_rows (x, y, x);
  g_assert_cmpmem (rg_tensor_f32 (x) + 72, 72 * sizeof (float), rg_tensor_f32 (y),
                   72 * sizeof (float));
}

/* Packing SwiGLU's gate/up weights (and attention's q/k/v) for one GEMM
 * changes neither the declared weights nor the result: the weights keep
 * their names, shapes and values, a saved file holds them unchanged, an
 * edit through a weight's tensor reaches the packed GEMM, and the fused
 * forward equals the two separate projections. */
static void
test_packed_weights (void)
{
  g_autoptr (RgArena) arena = rg_arena_new (1 << 20);
  g_autoptr (RgParams) p = rg_params_new_init (11);
  g_autoptr (RgParams) ref = rg_params_new_init (11);
  RgSwiGLU f;
  rg_swiglu_init (&f, p, "ffn", 16, 24);
  RgTensor *gate = rg_params_take2 (ref, "ffn.gate", "weight", RG_INIT_NORMAL, 0.25f, 24, 16);
  RgTensor *up = rg_params_take2 (ref, "ffn.up", "weight", RG_INIT_NORMAL, 0.25f, 24, 16);
  g_assert_true (rg_params_finish (p, NULL));
  g_assert_cmpint (rg_params_get_n (p), ==, 3);
  g_assert_cmpint (rg_params_count (p, NULL), ==, 3 * 24 * 16);
  g_assert_cmpint (f.gate_up->shape[0], ==, 48);
  /* same values as unpacked declarations of the same names */
  g_assert_cmpfloat (max_abs_diff (f.gate.w, gate), ==, 0.f);
  g_assert_cmpfloat (max_abs_diff (f.up.w, up), ==, 0.f);

  int64_t xs[3] = { 2, 5, 16 };
  g_autoptr (RgTensor) x = noise (12, 3, xs);
  /* an edit through the weight's own tensor reaches the fused GEMM */
  rg_tensor_f32 (f.up.w)[3] = 2.5f;
  rg_tensor_f32 (up)[3] = 2.5f;
  g_autoptr (RgTensor) y = rg_swiglu_forward (&f, arena, x);
  int64_t hs[3] = { 2, 5, 24 };
  g_autoptr (RgTensor) g = rg_tensor_new (RG_F32, 3, hs);
  g_autoptr (RgTensor) u = rg_tensor_new (RG_F32, 3, hs);
  g_autoptr (RgTensor) want = rg_tensor_new (RG_F32, 3, xs);
  rg_linear (x, gate, NULL, g);
  rg_linear (x, up, NULL, u);
  rg_swiglu (g, u, g);
  rg_linear (g, f.down.w, NULL, want);
  g_assert_cmpfloat (max_abs_diff (y, want), <, 1e-5f);

  /* a saved file holds each weight under its own name */
  g_autofree char *dir = g_dir_make_tmp ("test-nn-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ffn.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_params_save (p, path, NULL, RG_F32, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr (RgSafetensors) st = rg_safetensors_open (path, &error);
    g_assert_no_error (error);
    g_autoptr (RgTensor) saved_up = rg_safetensors_get_f32 (st, "ffn.up.weight", &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (max_abs_diff (saved_up, up), ==, 0.f);
    g_assert_cmpint (rg_safetensors_get_n_tensors (st), ==, 3);
  }
  g_unlink (path);
  g_rmdir (dir);
  rg_arena_reset (arena);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/params/init-by-name", test_init_by_name);
  g_test_add_func ("/nn/attention/qk-norm-invariance", test_qk_norm_invariance);
  g_test_add_func ("/nn/attention/cross", test_cross_attention);
  g_test_add_func ("/nn/params/packed", test_packed_weights);
  g_test_add_func ("/nn/adaln-split", test_adaln_split);
  g_test_add_func ("/nn/conv25", test_conv25_shapes);
  g_test_add_func ("/nn/pos-emb3", test_pos_emb3);
  return g_test_run ();
}
