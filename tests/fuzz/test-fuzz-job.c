/* test-fuzz-job.c — mutated job requests against rg_job_spec_from_json().
 *
 * Requests come from other machines (remote workers, the serve API), so the
 * parser sees whatever a peer sends. The valid input is a fully populated
 * spec written by rg_job_spec_to_json(). A request that parses must pass
 * rg_job_spec_validate() — the parser promises it refuses what validation
 * would — and must survive a round trip through to_json unchanged. */
#include <string.h>

#include "jobs/rg-job.h"
#include "fuzz-mutate.h"

static void
check_parsed (RgFuzz *fz, const RgJobSpec *spec)
{
  GError *error = NULL;
  if (!rg_job_spec_validate (spec, &error))
    g_error ("fuzz %s iteration %u: a parsed request does not validate: %s", fz->target,
             fz->iteration, error->message);
  g_autofree char *json = rg_job_spec_to_json (spec);
  g_autoptr (RgJobSpec) again = rg_job_spec_from_json (json, -1, &error);
  if (again == NULL)
    g_error ("fuzz %s iteration %u: a parsed request does not round-trip: %s", fz->target,
             fz->iteration, error->message);
  g_autofree char *json2 = rg_job_spec_to_json (again);
  if (strcmp (json, json2) != 0)
    g_error ("fuzz %s iteration %u: round trip changed the request:\n%s\n%s", fz->target,
             fz->iteration, json, json2);
}

static void
test_job_mutations (void)
{
  g_autoptr (RgJobSpec) spec = rg_job_spec_new (RG_JOB_TEXT_TO_VIDEO);
  g_free (spec->prompt);
  spec->prompt = g_strdup ("a red fox runs through \"snow\" \\ at dusk, \xc3\xa9t\xc3\xa9");
  spec->negative_prompt = g_strdup ("blur");
  spec->seed = G_GUINT64_CONSTANT (18446744073709551615);
  spec->steps = 25;
  spec->guidance = 7.5f;
  spec->frames = 17;
  spec->fps = (RgRational){ 30000, 1001 };
  spec->width = 64;
  spec->height = 48;
  spec->model_path = g_strdup ("/models/tiny.safetensors");
  g_free (spec->output_path);
  spec->output_path = g_strdup ("/tmp/out.mp4");
  GError *error = NULL;
  g_assert_true (rg_job_spec_validate (spec, &error));
  g_autofree char *json = rg_job_spec_to_json (spec);
  gsize len = strlen (json);
  {
    g_autoptr (RgJobSpec) back = rg_job_spec_from_json (json, -1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (back->steps, ==, 25);
  }

  RgFuzz fz;
  rg_fuzz_init (&fz, "job-spec", 0x6a6f6200, 5000);
  guint parsed = 0;
  for (guint i = 0; i < fz.iterations; i++)
    {
      if (!rg_fuzz_case (&fz, i))
        continue;
      g_autoptr (GByteArray) m = rg_fuzz_mutate (&fz, (const guint8 *)json, len, 3, NULL, 0, TRUE);
      /* Explicit length, no terminator: the parser must not read past it. */
      RgJobSpec *s = rg_job_spec_from_json ((const char *)m->data, (gssize)m->len, &error);
      if (s != NULL)
        {
          check_parsed (&fz, s);
          parsed++;
          rg_job_spec_free (s);
        }
      rg_fuzz_check (&fz, s != NULL, g_steal_pointer (&error));
    }
  g_test_message ("%u of %u mutated requests parsed (the rest refused)", parsed, fz.iterations);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fuzz/job-spec", test_job_mutations);
  return g_test_run ();
}
