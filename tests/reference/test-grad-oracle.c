/* Every backward of rg-ops-grad.h against PyTorch autograd (grad_oracle.py
 * with Debian's python3-torch) on the cases of tests/ops/grad-cases.h, odd
 * sizes included (1, 7, 33, 257 tokens; causal and kv_len attention;
 * zero and replicate padding, stride 2 convs).
 *
 * The C side writes each case's inputs and upstream gradient dy as raw
 * little-endian f32 (i32 for ids) with a JSON manifest into a temporary
 * directory; one Python run computes the float64 autograd gradients from
 * those same values; each C gradient is compared with its reference by
 * NMSE = Σ(a − b)² / Σb² ≤ 1e-6 (Σb² floored at n·1e-6, see compare()).
 * NaN fails. The measured NMSE of every
 * gradient is printed (g_test_message, visible with --verbose).
 *
 * Without torch the test skips, except with CI=true, where it fails. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "../ops/grad-cases.h"
#include "core/rg-parallel.h"
#include "oracle-run.h"

#define TOL 1e-6

static void
write_raw (const char *dir, const char *file, const RgTensor *t)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GError) error = NULL;
  /* the engine's storage is already little-endian on every host we build for */
  g_assert_true (G_BYTE_ORDER == G_LITTLE_ENDIAN);
  g_file_set_contents (path, t->data, (gssize) rg_tensor_nbytes (t), &error);
  g_assert_no_error (error);
}

static void
add_spec (JsonBuilder *jb, const char *name, const char *file, const RgTensor *t)
{
  json_builder_set_member_name (jb, name);
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "file");
  json_builder_add_string_value (jb, file);
  json_builder_set_member_name (jb, "dtype");
  json_builder_add_string_value (jb, t->dtype == RG_I32 ? "i32" : "f32");
  json_builder_set_member_name (jb, "shape");
  json_builder_begin_array (jb);
  for (int d = 0; d < t->ndim; d++)
    json_builder_add_int_value (jb, t->shape[d]);
  json_builder_end_array (jb);
  json_builder_end_object (jb);
}

#define PARAM_INT(name, v)                                                                         \
  G_STMT_START                                                                                     \
  {                                                                                                \
    json_builder_set_member_name (jb, name);                                                       \
    json_builder_add_int_value (jb, v);                                                            \
  }                                                                                                \
  G_STMT_END
#define PARAM_DOUBLE(name, v)                                                                      \
  G_STMT_START                                                                                     \
  {                                                                                                \
    json_builder_set_member_name (jb, name);                                                       \
    json_builder_add_double_value (jb, v);                                                         \
  }                                                                                                \
  G_STMT_END

/* Every parameter of the case; each Python op reads the ones it needs. */
static void
add_params (JsonBuilder *jb, const GradCase *c)
{
  json_builder_set_member_name (jb, "params");
  json_builder_begin_object (jb);
  PARAM_DOUBLE ("eps", c->eps);
  PARAM_DOUBLE ("alpha", c->alpha);
  PARAM_DOUBLE ("beta", c->beta);
  PARAM_DOUBLE ("s", c->s);
  PARAM_INT ("groups", c->groups);
  PARAM_INT ("stride", c->stride);
  PARAM_INT ("ft", c->ft);
  PARAM_INT ("fh", c->fh);
  PARAM_INT ("fw", c->fw);
  PARAM_INT ("ph", c->ph);
  PARAM_INT ("pw", c->pw);
  PARAM_INT ("heads", c->ap.n_heads);
  PARAM_DOUBLE ("scale", c->ap.scale);
  json_builder_set_member_name (jb, "trans_a");
  json_builder_add_boolean_value (jb, c->trans_a);
  json_builder_set_member_name (jb, "trans_b");
  json_builder_add_boolean_value (jb, c->trans_b);
  json_builder_set_member_name (jb, "causal");
  json_builder_add_boolean_value (jb, c->ap.causal);
  json_builder_set_member_name (jb, "pad");
  json_builder_add_string_value (jb, c->pad == RG_PAD_REPLICATE ? "replicate" : "zeros");
  if (c->ap.kv_len != NULL)
    {
      json_builder_set_member_name (jb, "kv_len");
      json_builder_begin_array (jb);
      for (int b = 0; b < c->out_shape[0]; b++)
        json_builder_add_int_value (jb, c->ap.kv_len[b]);
      json_builder_end_array (jb);
    }
  json_builder_set_member_name (jb, "out_shape");
  json_builder_begin_array (jb);
  for (int d = 0; d < c->out_ndim; d++)
    json_builder_add_int_value (jb, c->out_shape[d]);
  json_builder_end_array (jb);
  json_builder_end_object (jb);
}

static void
write_manifest (const char *dir, GPtrArray *cases, GPtrArray *dys)
{
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  json_builder_begin_array (jb);
  for (guint i = 0; i < cases->len; i++)
    {
      const GradCase *c = cases->pdata[i];
      json_builder_begin_object (jb);
      g_autofree char *id = g_strdup_printf ("c%03u", i);
      json_builder_set_member_name (jb, "id");
      json_builder_add_string_value (jb, id);
      json_builder_set_member_name (jb, "op");
      json_builder_add_string_value (jb, gc_op_names[c->kind]);
      add_params (jb, c);
      json_builder_set_member_name (jb, "inputs");
      json_builder_begin_object (jb);
      for (int k = 0; k < c->n; k++)
        {
          g_autofree char *file = g_strdup_printf ("%s.%s.in", id, c->names[k]);
          write_raw (dir, file, c->t[k]);
          add_spec (jb, c->names[k], file, c->t[k]);
        }
      json_builder_end_object (jb);
      g_autofree char *dy_file = g_strdup_printf ("%s.dy", id);
      write_raw (dir, dy_file, dys->pdata[i]);
      add_spec (jb, "dy", dy_file, dys->pdata[i]);
      json_builder_set_member_name (jb, "diff");
      json_builder_begin_array (jb);
      for (int k = 0; k < c->n; k++)
        if (c->diff[k])
          json_builder_add_string_value (jb, c->names[k]);
      json_builder_end_array (jb);
      json_builder_end_object (jb);
    }
  json_builder_end_array (jb);
  g_autoptr (JsonNode) root = json_builder_get_root (jb);
  g_autofree char *text = json_to_string (root, FALSE);
  g_autofree char *path = g_build_filename (dir, "manifest.json", NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* NMSE of one gradient against its reference file; < 0 when unreadable. */
static double
compare (const char *dir, const char *file, const RgTensor *g, gboolean *nan)
{
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *ref = NULL;
  gsize len = 0;
  int64_t n = rg_tensor_numel (g);
  if (!g_file_get_contents (path, &ref, &len, NULL) || len != (gsize) n * sizeof (double))
    return -1.0;
  const double *b = (const double *) ref;
  const float *a = rg_tensor_f32 (g);
  double num = 0, den = 0;
  *nan = FALSE;
  for (int64_t j = 0; j < n; j++)
    {
      *nan |= isnan (a[j]) || isnan (b[j]);
      num += (a[j] - b[j]) * (a[j] - b[j]);
      den += b[j] * b[j];
    }
  /* A gradient that vanishes mathematically (keys no query sees; q and k
   * of a single-key attention, whose softmax is constant 1) comes out as
   * f32 rounding noise, ~1e-8 here: with inputs and dy of order 1 its
   * error is measured against an RMS floor of 1e-3 instead, i.e. an
   * absolute RMS error ≤ 1e-6. */
  return num / MAX (den, (double) n * 1e-6);
}

static void
test_grad_oracle (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (20261126);
  g_autoptr (GPtrArray) cases = grad_cases_build (rng, TRUE);
  g_autoptr (GPtrArray) dys = g_ptr_array_new_with_free_func ((GDestroyNotify) rg_tensor_unref);
  g_autoptr (GPtrArray) grads = g_ptr_array_new_with_free_func ((GDestroyNotify) rg_tensor_unref);
  rg_parallel_set_threads (2);

  /* C gradients first, into zeroed buffers (one per case and input) */
  for (guint i = 0; i < cases->len; i++)
    {
      const GradCase *c = cases->pdata[i];
      RgTensor *dy = gc_random (rng, 1, c->out_ndim, c->out_shape);
      RgTensor *g[GC_MAX] = { NULL };
      for (int k = 0; k < c->n; k++)
        if (c->diff[k])
          g[k] = rg_tensor_zeros (RG_F32, c->t[k]->ndim, c->t[k]->shape);
      grad_backward (c, c->t, dy, g);
      g_ptr_array_add (dys, dy);
      for (int k = 0; k < GC_MAX; k++)
        g_ptr_array_add (grads, g[k]);
    }

  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("rg-grad-oracle-XXXXXX", &error);
  g_assert_no_error (error);
  write_manifest (dir, cases, dys);
  if (rg_oracle_run ("grad_oracle.py", dir))
    {
      guint failed = 0, checked = 0;
      double worst = 0.0;
      for (guint i = 0; i < cases->len; i++)
        {
          const GradCase *c = cases->pdata[i];
          for (int k = 0; k < c->n; k++)
            {
              const RgTensor *g = grads->pdata[i * GC_MAX + k];
              if (g == NULL)
                continue;
              g_autofree char *file = g_strdup_printf ("c%03u.%s.grad", i, c->names[k]);
              gboolean nan = FALSE;
              double nmse = compare (dir, file, g, &nan);
              checked++;
              worst = MAX (worst, nmse);
              g_test_message ("%-48s d%-6s NMSE %.3e", c->label, c->names[k], nmse);
              if (nmse < 0 || nan || !(nmse <= TOL))
                {
                  g_test_fail_printf ("%s: d%s NMSE %.3e > %.0e%s%s", c->label, c->names[k], nmse,
                                      TOL, nan ? " (NaN)" : "", nmse < 0 ? " (no reference)" : "");
                  failed++;
                }
            }
        }
      g_test_message ("%u gradients of %u cases, %u failed, worst NMSE %.3e", checked, cases->len,
                      failed, worst);
    }

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
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reference/grad-oracle", test_grad_oracle);
  return g_test_run ();
}
