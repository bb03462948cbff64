/* rg_attention against a naive float64 attention written out in full
 * (scores, masked softmax, weighted sum), over block-edge sizes, causal
 * masking and kv_len padding; and its memory bound: a 4k-token attention
 * must not grow the process by anything like N² floats. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/rg-parallel.h"
#include "ops/rg-ops.h"

static RgTensor *
random_tensor (GRand *rng, int64_t b, int64_t n, int64_t d)
{
  RgTensor *t = rg_tensor_f32_new (3, b, n, d);
  float *p = rg_tensor_f32 (t);
  for (int64_t i = 0; i < b * n * d; i++)
    p[i] = (float) g_rand_double_range (rng, -1.5, 1.5);
  return t;
}

/* out[b, i, h·Dh + d] for one query row, the textbook way, in double. */
static void
naive_row (const RgTensor *q, const RgTensor *k, const RgTensor *v,
           const RgAttentionParams *p, int64_t b, int64_t i, int64_t h, double *out)
{
  int64_t nq = q->shape[1], nk = k->shape[1], row = q->shape[2], dh = row / p->n_heads;
  int64_t valid = p->kv_len ? p->kv_len[b] : nk;
  if (p->causal)
    valid = MIN (valid, i + 1);
  const float *qr = rg_tensor_f32 (q) + (b * nq + i) * row + h * dh;
  double *s = g_new (double, MAX (valid, (int64_t) 1));
  double m = -INFINITY, sum = 0;
  for (int64_t j = 0; j < valid; j++)
    {
      const float *kr = rg_tensor_f32 (k) + (b * nk + j) * row + h * dh;
      double dot = 0;
      for (int64_t d = 0; d < dh; d++)
        dot += (double) qr[d] * kr[d];
      s[j] = dot * p->scale;
      m = MAX (m, s[j]);
    }
  for (int64_t j = 0; j < valid; j++)
    sum += s[j] = exp (s[j] - m);
  for (int64_t d = 0; d < dh; d++)
    out[d] = 0;
  for (int64_t j = 0; j < valid; j++)
    {
      const float *vr = rg_tensor_f32 (v) + (b * nk + j) * row + h * dh;
      for (int64_t d = 0; d < dh; d++)
        out[d] += s[j] / sum * vr[d];
    }
  g_free (s);
}

/* Max abs difference of the op's output from the naive rows, every
 * `step`-th query row checked. */
static double
max_error (const RgTensor *q, const RgTensor *k, const RgTensor *v,
           const RgAttentionParams *p, const RgTensor *out, int64_t step)
{
  int64_t nq = q->shape[1], row = q->shape[2], dh = row / p->n_heads;
  double *ref = g_new (double, dh), err = 0;
  for (int64_t b = 0; b < q->shape[0]; b++)
    for (int64_t i = 0; i < nq; i += step)
      for (int64_t h = 0; h < p->n_heads; h++)
        {
          naive_row (q, k, v, p, b, i, h, ref);
          const float *o = rg_tensor_f32 (out) + (b * nq + i) * row + h * dh;
          for (int64_t d = 0; d < dh; d++)
            {
              g_assert_false (isnan (o[d]));
              err = MAX (err, fabs (o[d] - ref[d]));
            }
        }
  g_free (ref);
  return err;
}

static void
check (GRand *rng, int64_t batch, int64_t nq, int64_t nk, int heads, int64_t dh, gboolean causal,
       const int32_t *kv_len)
{
  g_autoptr (RgTensor) q = random_tensor (rng, batch, nq, heads * dh);
  g_autoptr (RgTensor) k = random_tensor (rng, batch, nk, heads * dh);
  g_autoptr (RgTensor) v = random_tensor (rng, batch, nk, heads * dh);
  g_autoptr (RgTensor) out = rg_tensor_f32_new (3, batch, nq, (int64_t) heads * dh);
  rg_tensor_fill (out, NAN);
  RgAttentionParams p = { heads, 1.0f / sqrtf ((float) dh), causal, kv_len };
  rg_attention (q, k, v, &p, out);
  double err = max_error (q, k, v, &p, out, 1);
  g_test_message ("Nq=%ld Nk=%ld H=%d Dh=%ld causal=%d kv_len=%s: max |err| %.2e", (long) nq,
                  (long) nk, heads, (long) dh, causal, kv_len ? "yes" : "no", err);
  g_assert_cmpfloat (err, <, 2e-5);
}

static void
test_against_naive (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  static const int64_t sizes[] = { 1, 2, 63, 64, 65, 130, 200 };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int64_t n = sizes[i];
      check (rng, 2, n, n, 2, 32, FALSE, NULL);
      check (rng, 1, n, n, 3, 64, TRUE, NULL);
      int32_t kv_len[2] = { (int32_t) n, (int32_t) ((n + 1) / 2) };
      check (rng, 2, n, n, 2, 16, TRUE, kv_len);
      check (rng, 2, 5, n, 1, 100, FALSE, kv_len); /* cross-attention, odd head dim */
    }
}

/* A query with no valid key (kv_len 0) gets zeros, not NaN. */
static void
test_empty_keys (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (8);
  g_autoptr (RgTensor) q = random_tensor (rng, 2, 3, 8);
  g_autoptr (RgTensor) kv = random_tensor (rng, 2, 4, 8);
  g_autoptr (RgTensor) out = rg_tensor_f32_new (3, (int64_t) 2, (int64_t) 3, (int64_t) 8);
  static const int32_t kv_len[] = { 0, 4 };
  RgAttentionParams p = { 2, 0.5f, FALSE, kv_len };
  rg_attention (q, kv, kv, &p, out);
  for (int i = 0; i < 3 * 8; i++)
    g_assert_cmpfloat (rg_tensor_f32 (out)[i], ==, 0.0f);
  g_assert_cmpfloat (max_error (q, kv, kv, &p, out, 1), <, 1e-5);
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

#define MEM_N     4096
#define MEM_HEADS 2
#define MEM_DH    64

/* Runs in a subprocess so its peak RSS is its own. */
static void
memory_child (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (9);
  g_autoptr (RgTensor) q = random_tensor (rng, 1, MEM_N, MEM_HEADS * MEM_DH);
  g_autoptr (RgTensor) k = random_tensor (rng, 1, MEM_N, MEM_HEADS * MEM_DH);
  g_autoptr (RgTensor) v = random_tensor (rng, 1, MEM_N, MEM_HEADS * MEM_DH);
  g_autoptr (RgTensor) out = rg_tensor_f32_zeros (3, (int64_t) 1, (int64_t) MEM_N,
                                                  (int64_t) MEM_HEADS * MEM_DH);
  RgAttentionParams p = { MEM_HEADS, 0.125f, FALSE, NULL };

  /* warm up on a small problem: thread stacks and OpenBLAS's buffers are
   * one-off costs that have nothing to do with N */
  g_autoptr (RgTensor) q0 = rg_tensor_narrow (q, 1, 0, 256);
  g_autoptr (RgTensor) o0 = rg_tensor_narrow (out, 1, 0, 256);
  rg_attention (q0, q0, q0, &p, o0);

  gsize before = peak_rss ();
  rg_attention (q, k, v, &p, out);
  gsize growth = peak_rss () - before;
  gsize n2 = (gsize) MEM_N * MEM_N * sizeof (float);
  /* the child's stdout is checked by the parent */
  printf ("growth %zu bytes; one N^2 score matrix is %zu bytes\n", growth, n2);
  g_assert_cmpuint (growth, <, n2 / 16);
  /* spot-check rows across the whole range against the naive attention */
  g_assert_cmpfloat (max_error (q, k, v, &p, out, 509), <, 2e-5);
}

static void
test_memory_4k (void)
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
  g_test_add_func ("/ops/attention/naive", test_against_naive);
  g_test_add_func ("/ops/attention/empty-keys", test_empty_keys);
  g_test_add_func ("/ops/attention/memory-4k", test_memory_4k);
  return g_test_run ();
}
