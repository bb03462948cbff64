/* test-fuzz-checkpoint.c — mutated training checkpoints against
 * rg_checkpoint_load().
 *
 * The valid input is a checkpoint saved by rg_checkpoint_save() for a tiny
 * run (two parameters, AdamW moments, EMA, a schedule, two random streams).
 * Mutations hit the safetensors header length and the JSON header with its
 * __metadata__ scalars as well as the data. The contract from
 * rg-checkpoint.h: a refused load leaves the run's state untouched — the
 * weights, moments and random streams are compared bit for bit. */
#include <glib/gstdio.h>
#include <string.h>

#include "train/rg-checkpoint.h"
#include "fuzz-mutate.h"

#define DIM 5

typedef struct
{
  float w[DIM + 1], m[DIM + 1], v[DIM + 1];
  RgRng rows;
  uint64_t data_position;
} Snapshot;

static void
snapshot (RgTrainState *s, RgRng *rows, Snapshot *out)
{
  memset (out, 0, sizeof *out);
  int k = 0;
  for (guint i = 0; i < rg_adamw_get_n_params (s->optim); i++)
    {
      RgTensor *w = rg_adamw_get_weight (s->optim, i);
      int64_t n = rg_tensor_numel (w);
      memcpy (out->w + k, rg_tensor_f32 (w), (gsize)n * sizeof (float));
      memcpy (out->m + k, rg_tensor_f32 (rg_adamw_get_m (s->optim, i)), (gsize)n * sizeof (float));
      memcpy (out->v + k, rg_tensor_f32 (rg_adamw_get_v (s->optim, i)), (gsize)n * sizeof (float));
      k += (int)n;
    }
  out->rows = *rows;
  out->data_position = s->data_position;
}

static void
test_checkpoint_mutations (void)
{
  GError *error = NULL;
  g_autoptr (RgTensor) w = rg_tensor_f32_new (2, (int64_t)1, (int64_t)DIM);
  g_autoptr (RgTensor) gw = rg_tensor_f32_zeros (2, (int64_t)1, (int64_t)DIM);
  g_autoptr (RgTensor) b = rg_tensor_f32_zeros (1, (int64_t)1);
  g_autoptr (RgTensor) gb = rg_tensor_f32_zeros (1, (int64_t)1);
  rg_rng_normal (5, 0, 0, rg_tensor_f32 (w), DIM);
  RgAdamWConfig c;
  rg_adamw_config_init (&c);
  RgAdamW *opt = rg_adamw_new (&c, &error);
  g_assert_no_error (error);
  g_assert_true (rg_adamw_add_param (opt, "head.weight", w, gw, &error));
  g_assert_true (rg_adamw_add_param (opt, "head.bias", b, gb, &error));
  g_autoptr (RgEma) ema = rg_ema_new (0.99, TRUE, &error);
  for (guint i = 0; i < rg_adamw_get_n_params (opt); i++)
    g_assert_true (
        rg_ema_add (ema, rg_adamw_get_name (opt, i), rg_adamw_get_weight (opt, i), &error));
  /* A few real steps so the moments are not zero. */
  for (int s = 0; s < 3; s++)
    {
      rg_rng_normal (9, (uint64_t)s, 0, rg_tensor_f32 (gw), DIM);
      rg_tensor_f32 (gb)[0] = 0.25f * (float)(s + 1);
      rg_adamw_step (opt, 0.01);
      rg_ema_update (ema);
    }
  RgLrSchedule lr = { .base_lr = 0.05, .min_lr = 0.005, .warmup_steps = 3, .total_steps = 100 };
  RgRng rows, noise;
  rg_rng_init (&rows, 3, 0);
  rg_rng_init (&noise, 4, 7);
  rg_rng_u32 (&rows);
  RgCheckpointRng rngs[2] = { { "rows", &rows }, { "label-noise", &noise } };
  RgTrainState state = { .config = "{\"fuzz\": true}",
                         .optim = opt,
                         .ema = ema,
                         .lr = &lr,
                         .rngs = rngs,
                         .n_rngs = 2,
                         .data_position = 77 };

  g_autofree char *dir = g_dir_make_tmp ("rg-fuzz-ckpt-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *valid = rg_checkpoint_save (dir, &state, 0, &error);
  g_assert_no_error (error);
  g_autofree char *bad = g_build_filename (dir, "bad.safetensors", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (valid, &data, &len, &error));
  g_assert_true (rg_checkpoint_load (valid, &state, &error));
  g_assert_no_error (error);
  const RgFuzzField fields[] = { { 0, 8 }, { 0, 4 }, { 4, 4 } }; /* the header length */

  RgFuzz fz;
  rg_fuzz_init (&fz, "checkpoint", 0x636b707400, 1500);
  guint loaded = 0, changed = 0;
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      g_autoptr (GByteArray) m
          = rg_fuzz_mutate (&fz, (const guint8 *)data, len, 3, fields, G_N_ELEMENTS (fields), TRUE);
      rg_fuzz_write (bad, m->data, m->len);
      Snapshot before, after;
      snapshot (&state, &rows, &before);
      gboolean ok = rg_checkpoint_load (bad, &state, &error);
      if (ok)
        {
          loaded++;
          /* The tensors carry SHA-256 sums; the scalars in __metadata__
           * (step, data position, stream positions) do not, so a damaged
           * digit there can load. Counted and shown, not failed: the format
           * does not promise more. */
          snapshot (&state, &rows, &after);
          if (memcmp (&before, &after, sizeof before) != 0)
            {
              changed++;
              g_test_message (
                  "iteration %u: loaded a different state (data position %" G_GUINT64_FORMAT ")", i,
                  after.data_position);
            }
          /* Back to the valid state for the next case. */
          GError *e2 = NULL;
          g_assert_true (rg_checkpoint_load (valid, &state, &e2));
        }
      else
        {
          snapshot (&state, &rows, &after);
          if (memcmp (&before, &after, sizeof before) != 0)
            g_error ("fuzz %s seed %" G_GUINT64_FORMAT " iteration %u: a refused load changed "
                     "the run's state (%s)",
                     fz.target, fz.seed, i, error ? error->message : "no error");
        }
      rg_fuzz_check (&fz, ok, g_steal_pointer (&error));
    }
  g_test_message ("%u of %u mutated checkpoints loaded, %u of them giving a state other than the "
                  "saved one (the rest refused, state untouched)",
                  loaded, fz.iterations, changed);

  g_unlink (bad);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
  rg_adamw_free (opt);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/checkpoint", test_checkpoint_mutations);
  return g_test_run ();
}
