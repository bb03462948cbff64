/* Backward passes against central finite differences, plus the contract
 * every backward keeps: it accumulates (grad += …), writes nothing outside
 * its gradient buffers, and gives bit-identical results for 1 and 3
 * threads.
 *
 * FD with an f32 forward: L(x) = Σ dy·f(x) is summed in double from the
 * f32 outputs, and checked along random directions u (one input at a
 * time, u scaled like that input) with a relative step h = 1e-2:
 * (L(x + h·u) − L(x − h·u)) / 2h against ⟨∇L, u⟩ from the backward, with
 * Richardson extrapolation over h and 2h so truncation error is O(h⁴).
 * What is left is the f32 rounding of the forward, ~1e-7·|L| / h, so a
 * correct gradient gives a relative error of ~1e-5; a wrong one (a missing
 * term, a wrong index) is off by O(1). The test takes the normalised error
 * NMSE = Σ(fd − an)² / Σ an² over all directions of an input and asks
 * ≤ 1e-6, i.e. 1e-3 relative. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rg-parallel.h"
#include "grad-cases.h"

#define FD_DIRECTIONS 3
#define FD_STEP 1e-2
#define FD_TOL 1e-6
#define GUARD 64
#define GUARD_WORD 0x7fc0dead /* a NaN pattern: also caught if read */

/* Σ dy·f(t) in double; *mag (if set) gets Σ |dy·f(t)|, the loss's scale. */
static double
loss_full (const GradCase *c, RgTensor *const *t, const RgTensor *dy, double *mag)
{
  g_autoptr (RgTensor) y = rg_tensor_new (RG_F32, c->out_ndim, c->out_shape);
  grad_forward (c, t, y);
  const float *yp = rg_tensor_f32 (y), *dp = rg_tensor_f32 (dy);
  double s = 0.0, m = 0.0;
  for (int64_t i = 0; i < rg_tensor_numel (y); i++)
    {
      s += (double) dp[i] * yp[i];
      m += fabs ((double) dp[i] * yp[i]);
    }
  if (mag != NULL)
    *mag = m;
  return s;
}

static double
loss (const GradCase *c, RgTensor *const *t, const RgTensor *dy)
{
  return loss_full (c, t, dy, NULL);
}

static double
rms (const RgTensor *t)
{
  const float *p = rg_tensor_f32 (t);
  double s = 0.0;
  int64_t n = rg_tensor_numel (t);
  for (int64_t i = 0; i < n; i++)
    s += (double) p[i] * p[i];
  return n ? sqrt (s / (double) n) : 0.0;
}

/* L at t with input i replaced by t[i] + e·u. */
static double
loss_at (const GradCase *c, RgTensor *const *t, int i, const RgTensor *u, double e,
         const RgTensor *dy)
{
  RgTensor *tp[GC_MAX];
  memcpy (tp, t, sizeof tp);
  g_autoptr (RgTensor) x = rg_tensor_clone (t[i]);
  float *xp = rg_tensor_f32 (x);
  const float *up = rg_tensor_f32 (u);
  for (int64_t j = 0; j < rg_tensor_numel (x); j++)
    xp[j] = (float) (xp[j] + e * up[j]);
  tp[i] = x;
  return loss (c, tp, dy);
}

/* A gradient buffer with GUARD words either side, zeroed (or `fill`). */
static RgTensor *
guarded_grad (const RgTensor *like, float fill, float **block)
{
  int64_t n = rg_tensor_numel (like);
  *block = g_new (float, n + 2 * GUARD);
  for (int i = 0; i < GUARD; i++)
    {
      memcpy (*block + i, &(uint32_t){ GUARD_WORD }, 4);
      memcpy (*block + GUARD + n + i, &(uint32_t){ GUARD_WORD }, 4);
    }
  for (int64_t i = 0; i < n; i++)
    (*block)[GUARD + i] = fill;
  return rg_tensor_new_borrowed (RG_F32, like->ndim, like->shape, *block + GUARD, NULL, NULL);
}

static gboolean
guards_intact (const float *block, int64_t n)
{
  for (int i = 0; i < GUARD; i++)
    {
      uint32_t a, b;
      memcpy (&a, block + i, 4);
      memcpy (&b, block + GUARD + n + i, 4);
      if (a != GUARD_WORD || b != GUARD_WORD)
        return FALSE;
    }
  return TRUE;
}

/* Runs the backward into fresh guarded buffers prefilled with `fill`. */
static void
run_backward (const GradCase *c, const RgTensor *dy, float fill, RgTensor **g, float **blocks)
{
  for (int i = 0; i < c->n; i++)
    g[i] = c->diff[i] ? guarded_grad (c->t[i], fill, &blocks[i]) : NULL;
  grad_backward (c, c->t, dy, g);
  for (int i = 0; i < c->n; i++)
    if (g[i] != NULL && !guards_intact (blocks[i], rg_tensor_numel (g[i])))
      g_test_fail_printf ("%s: d%s wrote outside its buffer", c->label, c->names[i]);
}

static void
free_grads (const GradCase *c, RgTensor **g, float **blocks)
{
  for (int i = 0; i < c->n; i++)
    if (g[i] != NULL)
      {
        rg_tensor_unref (g[i]);
        g_free (blocks[i]);
      }
}

static void
check_case (const GradCase *c, GRand *rng)
{
  g_autoptr (RgTensor) dy = gc_random (rng, 1, c->out_ndim, c->out_shape);
  RgTensor *g[GC_MAX], *g1[GC_MAX], *g3[GC_MAX];
  float *b[GC_MAX], *b1[GC_MAX], *b3[GC_MAX];

  rg_parallel_set_threads (3);
  run_backward (c, dy, 0.0f, g, b);
  double mag = 0.0;
  loss_full (c, c->t, dy, &mag);

  for (int i = 0; i < c->n; i++)
    {
      if (!c->diff[i] || rg_tensor_numel (c->t[i]) == 0)
        continue;
      double scale = MAX (rms (c->t[i]), 0.1), num = 0.0, den = 0.0;
      for (int k = 0; k < FD_DIRECTIONS; k++)
        {
          g_autoptr (RgTensor) u = gc_random (rng, scale, c->t[i]->ndim, c->t[i]->shape);
          double h = FD_STEP;
          double d1 = (loss_at (c, c->t, i, u, h, dy) - loss_at (c, c->t, i, u, -h, dy)) / (2 * h);
          double d2 = (loss_at (c, c->t, i, u, 2 * h, dy) - loss_at (c, c->t, i, u, -2 * h, dy))
                      / (4 * h);
          double fd = (4 * d1 - d2) / 3;
          const float *gp = rg_tensor_f32 (g[i]), *up = rg_tensor_f32 (u);
          double an = 0.0;
          for (int64_t j = 0; j < rg_tensor_numel (u); j++)
            an += (double) gp[j] * up[j];
          num += (fd - an) * (fd - an);
          den += an * an;
        }
      /* A gradient that is (nearly) zero — a lone key, padding keys —
       * makes the ratio meaningless: the error is then taken relative to
       * a tenth of the loss's own scale Σ|dy·y|, still ~10× above the FD
       * noise (~1e-5 of it). */
      double nmse = num / MAX (MAX (den, FD_DIRECTIONS * (0.1 * mag) * (0.1 * mag)), 1e-30);
      g_test_message ("%-44s d%-6s FD NMSE %.2e", c->label, c->names[i], nmse);
      if (!(nmse <= FD_TOL))
        g_test_fail_printf ("%s: d%s disagrees with finite differences (NMSE %.3e > %.0e)",
                            c->label, c->names[i], nmse, FD_TOL);
    }

  /* accumulation: into buffers holding 1, the result is 1 + grad */
  RgTensor *ga[GC_MAX];
  float *ba[GC_MAX];
  run_backward (c, dy, 1.0f, ga, ba);
  for (int i = 0; i < c->n; i++)
    if (ga[i] != NULL)
      {
        const float *p0 = rg_tensor_f32 (g[i]), *p1 = rg_tensor_f32 (ga[i]);
        for (int64_t j = 0; j < rg_tensor_numel (ga[i]); j++)
          if (!(fabsf (p1[j] - (1.0f + p0[j])) <= 1e-6f * (1.0f + fabsf (p0[j]))))
            {
              g_test_fail_printf ("%s: d%s[%" G_GINT64_FORMAT "] = %g after accumulating onto 1, "
                                  "expected %g",
                                  c->label, c->names[i], j, p1[j], 1.0 + p0[j]);
              break;
            }
      }
  free_grads (c, ga, ba);

  /* thread count: 1 and 3 threads give the same bits */
  rg_parallel_set_threads (1);
  run_backward (c, dy, 0.0f, g1, b1);
  rg_parallel_set_threads (3);
  run_backward (c, dy, 0.0f, g3, b3);
  for (int i = 0; i < c->n; i++)
    if (g1[i] != NULL && memcmp (g1[i]->data, g3[i]->data, rg_tensor_nbytes (g1[i])) != 0)
      g_test_fail_printf ("%s: d%s differs between 1 and 3 threads", c->label, c->names[i]);
  free_grads (c, g1, b1);
  free_grads (c, g3, b3);
  free_grads (c, g, b);
}

static void
test_fd (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (42);
  g_autoptr (GPtrArray) cases = grad_cases_build (rng, FALSE);
  for (guint i = 0; i < cases->len; i++)
    check_case (cases->pdata[i], rng);
  g_test_message ("%u cases", cases->len);
}

/* The gradient of a big attention in a few blocks: the dK/dV pass and the
 * dQ pass cover the same (query, key) pairs, so Σ over q of dq·q must
 * equal Σ over keys of dk·k (both are Σ dS·S / scale). A split that drops
 * or doubles a block breaks the identity. */
static void
test_attention_identity (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  int64_t n = 300, hd = 64;
  RgAttentionParams p = { .n_heads = 2, .scale = 0.125f, .causal = TRUE };
  g_autoptr (RgTensor) q = gc_random (rng, 1, 3, (int64_t[]){ 1, n, hd });
  g_autoptr (RgTensor) k = gc_random (rng, 1, 3, (int64_t[]){ 1, n, hd });
  g_autoptr (RgTensor) v = gc_random (rng, 1, 3, (int64_t[]){ 1, n, hd });
  g_autoptr (RgTensor) dout = gc_random (rng, 1, 3, (int64_t[]){ 1, n, hd });
  g_autoptr (RgTensor) out = rg_tensor_new (RG_F32, 3, (int64_t[]){ 1, n, hd });
  g_autoptr (RgTensor) out2 = rg_tensor_new (RG_F32, 3, (int64_t[]){ 1, n, hd });
  g_autoptr (RgTensor) lse = rg_tensor_new (RG_F32, 3, (int64_t[]){ 1, 2, n });
  g_autoptr (RgTensor) dq = rg_tensor_f32_zeros (3, (int64_t) 1, n, hd);
  g_autoptr (RgTensor) dk = rg_tensor_f32_zeros (3, (int64_t) 1, n, hd);
  rg_attention_lse (q, k, v, &p, out, lse);
  rg_attention (q, k, v, &p, out2);
  g_assert_cmpmem (out->data, rg_tensor_nbytes (out), out2->data, rg_tensor_nbytes (out2));
  rg_attention_backward (q, k, v, out, lse, dout, &p, dq, dk, NULL);
  double sq = 0, sk = 0, mag = 0;
  for (int64_t i = 0; i < n * hd; i++)
    {
      sq += (double) rg_tensor_f32 (dq)[i] * rg_tensor_f32 (q)[i];
      sk += (double) rg_tensor_f32 (dk)[i] * rg_tensor_f32 (k)[i];
      mag += fabs ((double) rg_tensor_f32 (dq)[i] * rg_tensor_f32 (q)[i]);
    }
  g_test_message ("Σ dq·q = %.6g, Σ dk·k = %.6g", sq, sk);
  g_assert_cmpfloat (fabs (sq - sk), <=, 1e-4 * mag);
}

/* Thread-count independence at sizes where OpenBLAS threads its GEMMs
 * and the pool splits the work into many ranges (the FD cases are too
 * small for either). Everything our pool computes is bit-identical for 1
 * and 3 threads. Gradients that come out of one large OpenBLAS GEMM
 * (linear, matmul, conv dx/dw) are not: OpenBLAS 0.3.21 itself gives
 * different last bits for 1 and 3 threads on the same sgemm, so those are
 * held to 1e-6 relative (max |a − b| / max |a|). Attention's GEMMs are
 * small enough that OpenBLAS never threads them: bit-identical. */
static void
test_threads_large (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (5);
  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func ((GDestroyNotify) grad_case_free);
  GradCase *c = gc_new (cases, GC_LINEAR, "2048x192->160", GC_SHAPE (2048, 160));
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2048, 192));
  gc_in (c, rng, "w", TRUE, 0.1, GC_SHAPE (160, 192));
  gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (160));
  c = gc_new (cases, GC_CONV2D, "16->16 3x3 on 2x32x32", GC_SHAPE (1, 16, 2, 32, 32));
  c->pad = RG_PAD_REPLICATE;
  c->stride = 1;
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (1, 16, 2, 32, 32));
  gc_in (c, rng, "w", TRUE, 0.1, GC_SHAPE (16, 16, 3, 3));
  gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (16));
  for (int silu = 0; silu < 2; silu++)
    {
      c = gc_new (cases, silu ? GC_GROUPNORM_SILU : GC_GROUPNORM, "32 ch, 8 groups",
                  GC_SHAPE (2, 32, 2, 16, 16));
      c->groups = 8;
      c->eps = 1e-5f;
      gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (2, 32, 2, 16, 16));
      gc_in (c, rng, "w", TRUE, 1, GC_SHAPE (32));
      gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (32));
    }
  c = gc_new (cases, GC_LAYERNORM, "4096x96", GC_SHAPE (4096, 96));
  c->eps = 1e-5f;
  gc_in (c, rng, "x", TRUE, 1, GC_SHAPE (4096, 96));
  gc_in (c, rng, "w", TRUE, 1, GC_SHAPE (96));
  gc_in (c, rng, "b", TRUE, 1, GC_SHAPE (96));
  c = gc_new (cases, GC_ATTENTION, "N=700 causal", GC_SHAPE (1, 700, 128));
  c->ap = (RgAttentionParams){ .n_heads = 2, .scale = 0.125f, .causal = TRUE };
  gc_in (c, rng, "q", TRUE, 1, GC_SHAPE (1, 700, 128));
  gc_in (c, rng, "k", TRUE, 1, GC_SHAPE (1, 700, 128));
  gc_in (c, rng, "v", TRUE, 1, GC_SHAPE (1, 700, 128));
  c = gc_new (cases, GC_EMBEDDING, "4096 ids into 50 rows", GC_SHAPE (4096, 96));
  gc_in (c, rng, "table", TRUE, 1, GC_SHAPE (50, 96));
  RgTensor *ids = rg_tensor_new (RG_I32, 1, (int64_t[]){ 4096 });
  for (int i = 0; i < 4096; i++)
    ((int32_t *) ids->data)[i] = g_rand_int_range (rng, 0, 50);
  c->names[c->n] = "ids";
  c->t[c->n++] = ids;

  for (guint i = 0; i < cases->len; i++)
    {
      c = cases->pdata[i];
      g_autoptr (RgTensor) dy = gc_random (rng, 1, c->out_ndim, c->out_shape);
      RgTensor *g1[GC_MAX], *g3[GC_MAX];
      float *b1[GC_MAX], *b3[GC_MAX];
      rg_parallel_set_threads (1);
      run_backward (c, dy, 0.0f, g1, b1);
      rg_parallel_set_threads (3);
      run_backward (c, dy, 0.0f, g3, b3);
      gboolean blas = c->kind == GC_LINEAR || c->kind == GC_CONV2D;
      for (int k = 0; k < c->n; k++)
        {
          if (g1[k] == NULL)
            continue;
          const float *p1 = rg_tensor_f32 (g1[k]), *p3 = rg_tensor_f32 (g3[k]);
          double diff = 0.0, top = 0.0;
          for (int64_t j = 0; j < rg_tensor_numel (g1[k]); j++)
            {
              diff = MAX (diff, fabs ((double) p1[j] - p3[j]));
              top = MAX (top, fabs ((double) p1[j]));
            }
          g_test_message ("%-28s d%-6s 1 vs 3 threads: max diff %.2e of %.2e", c->label,
                          c->names[k], diff, top);
          if (blas ? !(diff <= 1e-6 * top) : diff != 0.0)
            g_test_fail_printf ("%s: d%s differs between 1 and 3 threads (%.3e)", c->label,
                                c->names[k], diff);
        }
      free_grads (c, g1, b1);
      free_grads (c, g3, b3);
    }
}

/* Peak resident set (VmHWM) of this process, in bytes. */
static gsize
peak_rss (void)
{
  g_autofree char *status = NULL;
  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  const char *line = strstr (status, "VmHWM:");
  g_assert_nonnull (line);
  return (gsize) g_ascii_strtoull (line + 6, NULL, 10) * 1024;
}

#define MEM_N 4096

/* The backward at 4k tokens in a subprocess (its peak RSS is its own):
 * what it allocates beyond its inputs and gradients must stay far below
 * one N² score matrix, and its gradients must keep the identity above. */
static void
memory_child (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  int64_t hd = 128;
  RgAttentionParams p = { .n_heads = 2, .scale = 0.125f, .causal = FALSE };
  RgTensor *t[7];
  for (int i = 0; i < 4; i++)
    t[i] = gc_random (rng, 1, 3, (int64_t[]){ 1, MEM_N, hd });
  for (int i = 4; i < 7; i++)
    t[i] = rg_tensor_f32_zeros (3, (int64_t) 1, (int64_t) MEM_N, hd);
  g_autoptr (RgTensor) out = rg_tensor_f32_zeros (3, (int64_t) 1, (int64_t) MEM_N, hd);
  g_autoptr (RgTensor) lse = rg_tensor_f32_zeros (3, (int64_t) 1, (int64_t) 2, (int64_t) MEM_N);

  /* warm up on a small problem: thread stacks and OpenBLAS's buffers are
   * one-off costs that have nothing to do with N */
  {
    g_autoptr (RgTensor) q0 = rg_tensor_narrow (t[0], 1, 0, 256);
    g_autoptr (RgTensor) o0 = rg_tensor_narrow (out, 1, 0, 256);
    g_autoptr (RgTensor) l0 = rg_tensor_f32_zeros (3, (int64_t) 1, (int64_t) 2, (int64_t) 256);
    g_autoptr (RgTensor) d0 = rg_tensor_f32_zeros (3, (int64_t) 1, (int64_t) 256, hd);
    rg_attention_lse (q0, q0, q0, &p, o0, l0);
    rg_attention_backward (q0, q0, q0, o0, l0, q0, &p, d0, NULL, NULL);
  }

  rg_attention_lse (t[0], t[1], t[2], &p, out, lse);
  gsize before = peak_rss ();
  gint64 t0 = g_get_monotonic_time ();
  rg_attention_backward (t[0], t[1], t[2], out, lse, t[3], &p, t[4], t[5], t[6]);
  double secs = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  gsize growth = peak_rss () - before;
  gsize n2 = (gsize) MEM_N * MEM_N * sizeof (float);
  printf ("growth %zu bytes; one N^2 score matrix is %zu bytes; backward %.2f s\n", growth, n2,
          secs);
  g_assert_cmpuint (growth, <, n2 / 16);

  double sq = 0, sk = 0, mag = 0;
  for (int64_t i = 0; i < MEM_N * hd; i++)
    {
      sq += (double) rg_tensor_f32 (t[4])[i] * rg_tensor_f32 (t[0])[i];
      sk += (double) rg_tensor_f32 (t[5])[i] * rg_tensor_f32 (t[1])[i];
      mag += fabs ((double) rg_tensor_f32 (t[4])[i] * rg_tensor_f32 (t[0])[i]);
    }
  g_assert_cmpfloat (fabs (sq - sk), <=, 1e-4 * mag);
  for (int i = 0; i < 7; i++)
    rg_tensor_unref (t[i]);
}

static void
test_attention_memory_4k (void)
{
  if (g_test_subprocess ())
    {
      memory_child ();
      return;
    }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*growth*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/grad/finite-differences", test_fd);
  g_test_add_func ("/ops/grad/attention-identity", test_attention_identity);
  g_test_add_func ("/ops/grad/threads-large", test_threads_large);
  g_test_add_func ("/ops/grad/attention-memory-4k", test_attention_memory_4k);
  return g_test_run ();
}
