/* Every CPU op, run on buffers with sentinel guards on both sides:
 *  - no op writes outside its output (or into its inputs' guards),
 *  - every output element is written (outputs start as NaN),
 *  - results do not depend on the thread count (1 vs 3 threads). Every
 *    reduction of our own runs inside one thread in a fixed order, so those
 *    ops (attention included: its small GEMMs run single-threaded inside
 *    pool threads) must be bit-identical. Ops handing one large GEMM to
 *    OpenBLAS (linear, matmul, convs) may differ by float rounding, since
 *    OpenBLAS picks another blocking, hence summation order, when it splits
 *    a GEMM over threads: max |a − b| ≤ 1e-5 · rms(a) for those.
 * Also: dispatch to a backend without an implementation fails loudly, and
 * a contract violation leaves the output untouched. */
#include <math.h>
#include <string.h>

#include "core/rg-parallel.h"
#include "ops/rg-op-table.h"

#define GUARD      256     /* floats on each side */
#define GUARD_BITS 0x7fa5a5a5u /* a NaN no op computes */

typedef struct {
  RgTensor *t;
  uint32_t *base;
  int64_t   n;
  gboolean  is_out;
} Guarded;

typedef struct {
  GArray *bufs; /* Guarded */
  GRand  *rng;
} Ctx;

static RgTensor *
guarded (Ctx *c, gboolean is_out, int ndim, const int64_t *shape)
{
  int64_t n = 1;
  for (int d = 0; d < ndim; d++)
    n *= shape[d];
  uint32_t *base = g_new (uint32_t, n + 2 * GUARD);
  for (int64_t i = 0; i < n + 2 * GUARD; i++)
    base[i] = GUARD_BITS;
  float *data = (float *) (base + GUARD);
  if (!is_out)
    for (int64_t i = 0; i < n; i++)
      data[i] = (float) g_rand_double_range (c->rng, -2, 2);
  Guarded g = { rg_tensor_new_borrowed (RG_F32, ndim, shape, data, base, g_free), base, n, is_out };
  g_array_append_val (c->bufs, g);
  return g.t;
}

#define SHAPE(...) (sizeof ((int64_t[]){ __VA_ARGS__ }) / sizeof (int64_t)), (int64_t[]){ __VA_ARGS__ }
#define IN(...)    guarded (c, FALSE, SHAPE (__VA_ARGS__))
#define OUT(...)   guarded (c, TRUE, SHAPE (__VA_ARGS__))

/* Sizes are chosen to be split over several threads (rows × D well above
 * the pool's grain) and not to be multiples of any block size. */
static void
op_linear (Ctx *c)
{
  rg_linear (IN (3, 77, 129), IN (65, 129), IN (65), OUT (3, 77, 65));
}

static void
op_matmul (Ctx *c)
{
  RgTensor *y = IN (67, 45);
  rg_matmul (IN (131, 67), TRUE, IN (45, 131), TRUE, 1.5f, 0.5f, y);
  /* y was an input too: mark it as an output to compare */
  g_array_index (c->bufs, Guarded, 0).is_out = TRUE;
}

static void
op_rmsnorm (Ctx *c)
{
  rg_rmsnorm (IN (301, 257), IN (257), 1e-6f, OUT (301, 257));
}

static void
op_layernorm (Ctx *c)
{
  rg_layernorm (IN (301, 257), IN (257), IN (257), 1e-5f, OUT (301, 257));
}

static void
op_groupnorm (Ctx *c)
{
  rg_groupnorm (IN (2, 12, 3, 33, 17), 4, IN (12), IN (12), 1e-5f, OUT (2, 12, 3, 33, 17));
}

static void
op_groupnorm_silu (Ctx *c)
{
  rg_groupnorm_silu (IN (2, 12, 3, 33, 17), 4, IN (12), IN (12), 1e-5f, OUT (2, 12, 3, 33, 17));
}

static void
op_softmax (Ctx *c)
{
  rg_softmax (IN (333, 129), OUT (333, 129));
}

static void
op_silu (Ctx *c)
{
  rg_silu (IN (100003), OUT (100003));
}

static void
op_gelu (Ctx *c)
{
  rg_gelu (IN (100003), OUT (100003));
}

static void
op_swiglu (Ctx *c)
{
  rg_swiglu (IN (100003), IN (100003), OUT (100003));
}

static void
op_add (Ctx *c)
{
  rg_add (IN (70001), IN (70001), OUT (70001));
}

static void
op_mul (Ctx *c)
{
  rg_mul (IN (70001), IN (70001), OUT (70001));
}

static void
op_axpby (Ctx *c)
{
  rg_axpby (0.3f, IN (70001), -2.0f, IN (70001), OUT (70001));
}

static void
op_scale (Ctx *c)
{
  rg_scale (IN (70001), 3.0f, OUT (70001));
}

static void
op_add_bias (Ctx *c)
{
  rg_add_bias (IN (517, 129), IN (129), OUT (517, 129));
}

static void
op_attention (Ctx *c)
{
  static const int32_t kv_len[] = { 150, 97 };
  RgAttentionParams p = { 3, 0.125f, FALSE, kv_len };
  rg_attention (IN (2, 131, 3 * 64), IN (2, 201, 3 * 64), IN (2, 201, 3 * 64), &p,
                OUT (2, 131, 3 * 64));
}

static void
op_attention_causal (Ctx *c)
{
  RgAttentionParams p = { 2, 0.1f, TRUE, NULL };
  rg_attention (IN (1, 200, 2 * 40), IN (1, 200, 2 * 40), IN (1, 200, 2 * 40), &p,
                OUT (1, 200, 2 * 40));
}

static void
op_modulate (Ctx *c)
{
  rg_modulate (IN (2, 333, 96), IN (2, 96), IN (2, 96), OUT (2, 333, 96));
}

static void
op_gate_add (Ctx *c)
{
  /* in place on x: x is the output */
  RgTensor *x = OUT (2, 333, 96);
  memset (x->data, 0, rg_tensor_nbytes (x));
  rg_gate_add (x, IN (2, 96), IN (2, 333, 96));
}

static void
op_timestep_embedding (Ctx *c)
{
  rg_timestep_embedding (IN (5), 10000.0f, OUT (5, 258));
}

static void
op_conv2d (Ctx *c)
{
  rg_conv2d_frames (IN (2, 5, 3, 21, 19), IN (7, 5, 3, 3), IN (7), 2, RG_PAD_REPLICATE,
                    OUT (2, 7, 3, 11, 10));
}

static void
op_conv2d_1x1 (Ctx *c)
{
  rg_conv2d_frames (IN (2, 5, 3, 21, 19), IN (7, 5, 1, 1), NULL, 1, RG_PAD_ZEROS,
                    OUT (2, 7, 3, 21, 19));
}

static void
op_conv1d (Ctx *c)
{
  rg_conv1d_time (IN (2, 6, 9, 13, 11), IN (4, 6, 3), IN (4), 2, RG_PAD_ZEROS, OUT (2, 4, 5, 13, 11));
}

static void
op_upsample (Ctx *c)
{
  rg_upsample_nearest (IN (2, 3, 4, 17, 13), 2, 2, 2, OUT (2, 3, 8, 34, 26));
}

static void
op_patchify (Ctx *c)
{
  rg_patchify (IN (2, 16, 4, 18, 22), 2, 2, OUT (2, 4 * 9 * 11, 64));
}

static void
op_unpatchify (Ctx *c)
{
  rg_unpatchify (IN (2, 4 * 9 * 11, 64), 2, 2, OUT (2, 16, 4, 18, 22));
}

static void
op_pos_emb (Ctx *c)
{
  rg_pos_emb_factorized (IN (5, 96), IN (9, 96), IN (11, 96), OUT (5 * 9 * 11, 96));
}

static void
op_embedding (Ctx *c)
{
  g_autoptr (RgTensor) ids = rg_tensor_new (RG_I32, 2, (int64_t[]){ 9, 77 });
  for (int i = 0; i < 9 * 77; i++)
    ((int32_t *) ids->data)[i] = (i * 31) % 300;
  rg_embedding (IN (300, 130), ids, OUT (9, 77, 130));
}

typedef struct {
  const char *name;
  void (*run) (Ctx *c);
  gboolean    blas; /* one big OpenBLAS GEMM: thread count changes its rounding */
} OpCase;

static const OpCase op_cases[] = {
  { "linear", op_linear, TRUE },
  { "matmul", op_matmul, TRUE },
  { "rmsnorm", op_rmsnorm },
  { "layernorm", op_layernorm },
  { "groupnorm", op_groupnorm },
  { "groupnorm_silu", op_groupnorm_silu },
  { "softmax", op_softmax },
  { "silu", op_silu },
  { "gelu", op_gelu },
  { "swiglu", op_swiglu },
  { "add", op_add },
  { "mul", op_mul },
  { "axpby", op_axpby },
  { "scale", op_scale },
  { "add_bias", op_add_bias },
  { "attention", op_attention },
  { "attention-causal", op_attention_causal },
  { "modulate", op_modulate },
  { "gate_add", op_gate_add },
  { "timestep_embedding", op_timestep_embedding },
  { "conv2d_frames", op_conv2d, TRUE },
  { "conv2d_frames-1x1", op_conv2d_1x1, TRUE },
  { "conv1d_time", op_conv1d, TRUE },
  { "upsample_nearest", op_upsample },
  { "patchify", op_patchify },
  { "unpatchify", op_unpatchify },
  { "pos_emb_factorized", op_pos_emb },
  { "embedding", op_embedding },
};

/* Run one op with `threads` threads; check guards and that outputs are fully
 * written; return the outputs concatenated. */
static GByteArray *
run_guarded (const OpCase *oc, int threads)
{
  Ctx c = { g_array_new (FALSE, FALSE, sizeof (Guarded)), g_rand_new_with_seed (42) };
  rg_parallel_set_threads (threads);
  oc->run (&c);
  GByteArray *outputs = g_byte_array_new ();
  for (guint i = 0; i < c.bufs->len; i++)
    {
      Guarded *g = &g_array_index (c.bufs, Guarded, i);
      for (int64_t j = 0; j < GUARD; j++)
        {
          if (g->base[j] != GUARD_BITS || g->base[GUARD + g->n + j] != GUARD_BITS)
            g_error ("%s (%d threads): buffer %u: guard word %" G_GINT64_FORMAT
                     " overwritten (%s side)",
                     oc->name, threads, i, j, g->base[j] != GUARD_BITS ? "front" : "back");
        }
      if (g->is_out)
        {
          const float *data = rg_tensor_f32 (g->t);
          for (int64_t j = 0; j < g->n; j++)
            if (isnan (data[j]))
              g_error ("%s (%d threads): output element %" G_GINT64_FORMAT " not written (NaN)",
                       oc->name, threads, j);
          g_byte_array_append (outputs, (const guint8 *) data, (guint) (g->n * sizeof (float)));
        }
      rg_tensor_unref (g->t);
    }
  g_assert_cmpuint (outputs->len, >, 0);
  g_array_unref (c.bufs);
  g_rand_free (c.rng);
  return outputs;
}

static void
test_op (gconstpointer data)
{
  const OpCase *oc = data;
  g_autoptr (GByteArray) one = run_guarded (oc, 1);
  g_autoptr (GByteArray) three = run_guarded (oc, 3);
  g_assert_cmpuint (one->len, ==, three->len);
  const float *a = (const float *) one->data, *b = (const float *) three->data;
  guint n = one->len / sizeof (float);
  if (!oc->blas)
    {
      for (guint i = 0; i < n; i++)
        if (memcmp (&a[i], &b[i], sizeof (float)) != 0)
          g_error ("%s: element %u differs between 1 thread (%.9g) and 3 threads (%.9g)",
                   oc->name, i, a[i], b[i]);
      return;
    }
  double sq = 0, worst = 0;
  for (guint i = 0; i < n; i++)
    {
      sq += (double) a[i] * a[i];
      worst = MAX (worst, fabs ((double) a[i] - b[i]));
    }
  double rms = sqrt (sq / n);
  g_test_message ("%s: max |1 thread - 3 threads| = %.3g, rms %.3g", oc->name, worst, rms);
  g_assert_cmpfloat (worst, <=, 1e-5 * rms);
}

/* In-place use (y = x) gives the same result as out-of-place. */
static void
test_in_place (void)
{
  g_autoptr (RgTensor) x = rg_tensor_f32_new (2, (int64_t) 37, (int64_t) 65);
  g_autoptr (RgTensor) w = rg_tensor_f32_new (1, (int64_t) 65);
  g_autoptr (RgTensor) y = rg_tensor_f32_new (2, (int64_t) 37, (int64_t) 65);
  for (int i = 0; i < 37 * 65; i++)
    rg_tensor_f32 (x)[i] = sinf ((float) i);
  for (int i = 0; i < 65; i++)
    rg_tensor_f32 (w)[i] = 1.0f + 0.01f * (float) i;
  rg_rmsnorm (x, w, 1e-6f, y);
  rg_rmsnorm (x, w, 1e-6f, x);
  g_assert_cmpmem (x->data, rg_tensor_nbytes (x), y->data, rg_tensor_nbytes (y));
  rg_softmax (x, y);
  rg_softmax (x, x);
  g_assert_cmpmem (x->data, rg_tensor_nbytes (x), y->data, rg_tensor_nbytes (y));
}

/* The fused GroupNorm → SiLU gives exactly what the two ops give one after
 * the other (the TAE's outputs must not move when it switched to it), in
 * place too; and its backward, which recomputes SiLU's input from x, gives
 * exactly what SiLU's backward on GroupNorm's output then GroupNorm's
 * backward give (dx accumulating onto a non-zero start). */
static void
test_groupnorm_silu_fused (void)
{
  int64_t shape[5] = { 2, 12, 3, 33, 17 };
  g_autoptr (RgTensor) x = rg_tensor_new (RG_F32, 5, shape);
  g_autoptr (RgTensor) w = rg_tensor_f32_new (1, (int64_t) 12);
  g_autoptr (RgTensor) b = rg_tensor_f32_new (1, (int64_t) 12);
  g_autoptr (RgTensor) norm = rg_tensor_new (RG_F32, 5, shape);
  g_autoptr (RgTensor) act = rg_tensor_new (RG_F32, 5, shape);
  g_autoptr (RgTensor) fused = rg_tensor_new (RG_F32, 5, shape);
  for (int64_t i = 0; i < rg_tensor_numel (x); i++)
    rg_tensor_f32 (x)[i] = 3.0f * sinf (0.37f * (float) i) + 0.5f;
  for (int i = 0; i < 12; i++)
    {
      rg_tensor_f32 (w)[i] = 0.5f + 0.2f * (float) i;
      rg_tensor_f32 (b)[i] = 0.1f * (float) i - 0.6f;
    }
  rg_groupnorm (x, 4, w, b, 1e-5f, norm);
  rg_silu (norm, act);
  rg_groupnorm_silu (x, 4, w, b, 1e-5f, fused);
  g_assert_cmpmem (fused->data, rg_tensor_nbytes (fused), act->data, rg_tensor_nbytes (act));

  /* backward: dy, and dx/dw/db starting from the same non-zero values */
  g_autoptr (RgTensor) dy = rg_tensor_new (RG_F32, 5, shape);
  g_autoptr (RgTensor) dn = rg_tensor_zeros (RG_F32, 5, shape);
  RgTensor *grads[2][3];
  for (int k = 0; k < 2; k++)
    {
      grads[k][0] = rg_tensor_new (RG_F32, 5, shape);
      grads[k][1] = rg_tensor_f32_new (1, (int64_t) 12);
      grads[k][2] = rg_tensor_f32_new (1, (int64_t) 12);
      for (int j = 0; j < 3; j++)
        for (int64_t i = 0; i < rg_tensor_numel (grads[k][j]); i++)
          rg_tensor_f32 (grads[k][j])[i] = 0.25f * cosf (0.11f * (float) i) - 0.1f;
    }
  for (int64_t i = 0; i < rg_tensor_numel (dy); i++)
    rg_tensor_f32 (dy)[i] = sinf (0.23f * (float) i + 1.0f);
  rg_silu_backward (norm, dy, dn);
  rg_groupnorm_backward (x, 4, w, 1e-5f, dn, grads[0][0], grads[0][1], grads[0][2]);
  rg_groupnorm_silu_backward (x, 4, w, b, 1e-5f, dy, grads[1][0], grads[1][1], grads[1][2]);
  for (int j = 0; j < 3; j++)
    {
      g_assert_cmpmem (grads[1][j]->data, rg_tensor_nbytes (grads[1][j]), grads[0][j]->data,
                       rg_tensor_nbytes (grads[0][j]));
      rg_tensor_unref (grads[0][j]);
      rg_tensor_unref (grads[1][j]);
    }

  rg_groupnorm_silu (x, 4, w, b, 1e-5f, x);
  g_assert_cmpmem (x->data, rg_tensor_nbytes (x), act->data, rg_tensor_nbytes (act));
}

/* Log capture. The engine logs with structured logging, which
 * g_test_expect_message does not see in GLib 2.74, so the test installs a
 * writer that records messages while `capturing` and makes them non-fatal. */
static GString *captured;
static gboolean capturing;

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (capturing && (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
    {
      for (gsize i = 0; i < n_fields; i++)
        if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
          g_string_append_printf (captured, "%s\n", (const char *) fields[i].value);
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (level, fields, n_fields, data);
}

static void
capture_begin (void)
{
  g_string_truncate (captured, 0);
  capturing = TRUE;
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
}

/* Stop capturing; assert exactly one message was logged and that it
 * matches the glob pattern. */
static void
capture_end (const char *pattern)
{
  capturing = FALSE;
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
  g_autofree char *text = g_strchomp (g_strdup (captured->str));
  g_assert_false (strchr (text, '\n') != NULL);
  if (!g_pattern_match_simple (pattern, text))
    g_error ("expected a message like \"%s\", got \"%s\"", pattern, text);
}

/* An op with no entry on the tensor's backend is a g_critical naming the op
 * and the backend, and writes nothing; a registered entry is called. */
static int fake_add_calls;

static void
fake_add (const RgTensor *a, const RgTensor *b, RgTensor *y)
{
  fake_add_calls++;
}

static void
test_dispatch (void)
{
  g_autoptr (RgTensor) x = rg_tensor_f32_zeros (1, (int64_t) 8);
  g_autoptr (RgTensor) y = rg_tensor_f32_zeros (1, (int64_t) 8);
  rg_tensor_fill (y, 5.0f);
  /* headers claim CUDA; nothing reads the data on this path */
  x->backend = y->backend = RG_BACKEND_CUDA;

  g_assert_null (rg_op_table_get (RG_BACKEND_CUDA));
  capture_begin ();
  rg_silu (x, y);
  capture_end ("*rg_silu*CUDA*not registered*");

  static const RgOpTable partial = { .name = "test", .add = fake_add };
  rg_op_table_register (RG_BACKEND_CUDA, &partial);
  rg_add (x, x, y);
  g_assert_cmpint (fake_add_calls, ==, 1);
  capture_begin ();
  rg_gelu (x, y);
  capture_end ("*rg_gelu*no implementation*CUDA*");
  rg_op_table_register (RG_BACKEND_CUDA, NULL);

  /* a table compiled against another layout of RgOpTable is refused */
  capture_begin ();
  rg_op_table_register_sized (RG_BACKEND_CUDA, &partial, sizeof (RgOpTable) - sizeof (void *));
  capture_end ("*test table*another RgOpTable*rebuild*");
  g_assert_null (rg_op_table_get (RG_BACKEND_CUDA));

  /* mixed backends are a contract violation */
  y->backend = RG_BACKEND_CPU;
  capture_begin ();
  rg_silu (x, y);
  capture_end ("*rg_silu*assertion*");
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (rg_tensor_f32 (y)[i], ==, 5.0f);
  x->backend = RG_BACKEND_CPU;
}

/* A shape mismatch is refused before any work: output untouched. */
static void
test_contract (void)
{
  g_autoptr (RgTensor) x = rg_tensor_f32_zeros (2, (int64_t) 4, (int64_t) 6);
  g_autoptr (RgTensor) w = rg_tensor_f32_zeros (2, (int64_t) 3, (int64_t) 5);
  g_autoptr (RgTensor) y = rg_tensor_f32_new (2, (int64_t) 4, (int64_t) 3);
  rg_tensor_fill (y, 7.0f);
  capture_begin ();
  rg_linear (x, w, NULL, y);
  capture_end ("*rg_linear*assertion*");
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (rg_tensor_f32 (y)[i], ==, 7.0f);

  /* a strided view is not packed: refused, not silently misread */
  int perm[] = { 1, 0 };
  g_autoptr (RgTensor) xt = rg_tensor_permute (x, perm);
  g_autoptr (RgTensor) yt = rg_tensor_f32_new (2, (int64_t) 6, (int64_t) 4);
  capture_begin ();
  rg_softmax (xt, yt);
  capture_end ("*rg_softmax*assertion*");
}

/* Empty dimensions: a linear layer with no inputs gives its bias, a matmul
 * with k = 0 gives beta·c (BLAS itself would leave c untouched). */
static void
test_empty_dims (void)
{
  g_autoptr (RgTensor) x = rg_tensor_f32_new (2, (int64_t) 3, (int64_t) 0);
  g_autoptr (RgTensor) w = rg_tensor_f32_new (2, (int64_t) 4, (int64_t) 0);
  g_autoptr (RgTensor) b = rg_tensor_f32_new (1, (int64_t) 4);
  g_autoptr (RgTensor) y = rg_tensor_f32_new (2, (int64_t) 3, (int64_t) 4);
  for (int i = 0; i < 4; i++)
    rg_tensor_f32 (b)[i] = (float) i;
  rg_tensor_fill (y, NAN);
  rg_linear (x, w, b, y);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (rg_tensor_f32 (y)[i], ==, (float) (i % 4));
  rg_linear (x, w, NULL, y);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (rg_tensor_f32 (y)[i], ==, 0.0f);

  g_autoptr (RgTensor) a = rg_tensor_f32_new (2, (int64_t) 3, (int64_t) 0);
  g_autoptr (RgTensor) bm = rg_tensor_f32_new (2, (int64_t) 0, (int64_t) 4);
  rg_tensor_fill (y, 2.0f);
  rg_matmul (a, FALSE, bm, FALSE, 1.0f, 0.5f, y);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (rg_tensor_f32 (y)[i], ==, 1.0f);
}

/* An id outside the table: zeros and a warning, never an out-of-bounds read. */
static void
test_embedding_bad_ids (void)
{
  g_autoptr (RgTensor) table = rg_tensor_f32_new (2, (int64_t) 4, (int64_t) 3);
  rg_tensor_fill (table, 1.0f);
  g_autoptr (RgTensor) ids = rg_tensor_new (RG_I32, 1, (int64_t[]){ 3 });
  int32_t *id = ids->data;
  id[0] = 2, id[1] = 4, id[2] = -1;
  g_autoptr (RgTensor) y = rg_tensor_f32_new (2, (int64_t) 3, (int64_t) 3);
  capture_begin ();
  rg_embedding (table, ids, y);
  capture_end ("*rg_embedding: 2 id(s) outside*4 rows*");
  const float *p = rg_tensor_f32 (y);
  for (int j = 0; j < 3; j++)
    {
      g_assert_cmpfloat (p[j], ==, 1.0f);
      g_assert_cmpfloat (p[3 + j], ==, 0.0f);
      g_assert_cmpfloat (p[6 + j], ==, 0.0f);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  captured = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (op_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/ops/guards/%s", op_cases[i].name);
      g_test_add_data_func (path, &op_cases[i], test_op);
    }
  g_test_add_func ("/ops/in-place", test_in_place);
  g_test_add_func ("/ops/groupnorm-silu-fused", test_groupnorm_silu_fused);
  g_test_add_func ("/ops/dispatch", test_dispatch);
  g_test_add_func ("/ops/contract", test_contract);
  g_test_add_func ("/ops/embedding-bad-ids", test_embedding_bad_ids);
  g_test_add_func ("/ops/empty-dims", test_empty_dims);
  return g_test_run ();
}
