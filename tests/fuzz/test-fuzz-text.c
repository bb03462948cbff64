/* test-fuzz-text.c — mutated small text inputs: time strings given on the
 * command line and in requests (rg_time_parse) and model config JSON
 * (rg_model_config_from_json, read from every model file's header).
 *
 * A time that parses as plain decimal seconds must also be the right time
 * (within a tick), so an overflow that wraps into a plausible number is
 * caught, not only crashes. A config that parses must validate. */
#include <math.h>
#include <string.h>

#include "core/rg-time.h"
#include "models/rg-model-config.h"
#include "fuzz-mutate.h"

static gboolean
is_plain_decimal (const char *s)
{
  const char *p = s;
  if (*p == '-')
    p++;
  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  if (*p == '.')
    {
      p++;
      if (!g_ascii_isdigit (*p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
    }
  return *p == '\0';
}

static void
test_time_mutations (void)
{
  static const char *const seeds[]
      = { "1.5", "36f", "135000t", "-2.25", "0", "12345.678901", "-7f", "90000t", "0.0000111" };
  static const RgRational rates[]
      = { { 24, 1 }, { 30000, 1001 }, { 0, 1 }, { 1, 2147483647 }, { 2147483647, 1 } };
  RgFuzz fz;
  rg_fuzz_init (&fz, "time", 0x74696d6500, 20000);
  guint parsed = 0;
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      const char *src = seeds[rg_rng_u32 (&fz.rng) % G_N_ELEMENTS (seeds)];
      RgRational fps = rates[rg_rng_u32 (&fz.rng) % G_N_ELEMENTS (rates)];
      g_autoptr (GByteArray) m
          = rg_fuzz_mutate (&fz, (const guint8 *)src, strlen (src), 3, NULL, 0, TRUE);
      g_byte_array_append (m, (const guint8 *)"", 1); /* the terminator */
      const char *text = (const char *)m->data;
      GError *error = NULL;
      RgTime t = 0;
      gboolean ok = rg_time_parse (text, fps, &t, &error);
      if (ok)
        {
          parsed++;
          double v = g_ascii_strtod (text, NULL);
          if (is_plain_decimal (text) && fabs (v) < 1e9
              && fabs ((double)t - v * RG_TIME_HZ) > 1.0 + 1e-9 * fabs (v * RG_TIME_HZ))
            g_error ("fuzz %s iteration %u: \"%s\" parsed as %" G_GINT64_FORMAT " ticks", fz.target,
                     i, text, t);
          g_free (rg_time_format (t));
        }
      rg_fuzz_check (&fz, ok, error);
    }
  g_test_message ("%u of %u mutated times parsed", parsed, fz.iterations);
}

static void
test_model_config_mutations (void)
{
  const char *const *names = rg_model_config_preset_names ();
  g_assert_nonnull (names[0]);
  RgModelConfig cfg;
  GError *error = NULL;
  g_assert_true (rg_model_config_preset (names[0], &cfg, &error));
  g_autofree char *json = rg_model_config_to_json (&cfg);
  g_assert_true (rg_model_config_from_json (json, &cfg, &error));
  g_assert_no_error (error);

  RgFuzz fz;
  rg_fuzz_init (&fz, "model-config", 0x636f6e6600, 3000);
  guint parsed = 0;
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      g_autoptr (GByteArray) m
          = rg_fuzz_mutate (&fz, (const guint8 *)json, strlen (json), 3, NULL, 0, TRUE);
      g_byte_array_append (m, (const guint8 *)"", 1);
      RgModelConfig out;
      gboolean ok = rg_model_config_from_json ((const char *)m->data, &out, &error);
      if (ok)
        {
          parsed++;
          GError *verror = NULL;
          if (!rg_model_config_validate (&out, &verror))
            g_error ("fuzz %s iteration %u: a parsed config does not validate: %s", fz.target, i,
                     verror->message);
        }
      rg_fuzz_check (&fz, ok, g_steal_pointer (&error));
    }
  g_test_message ("%u of %u mutated configs parsed", parsed, fz.iterations);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/time", test_time_mutations);
  g_test_add_func ("/fuzz/model-config", test_model_config_mutations);
  return g_test_run ();
}
