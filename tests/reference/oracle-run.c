/* oracle-run.c — runs a PyTorch oracle script beside these tests. */
#include "oracle-run.h"

#include <math.h>

#include <sys/wait.h>

gboolean
rg_oracle_run (const char *script_name, const char *dir)
{
  const char *python = g_getenv ("PYTHON_ORACLE");
  gboolean ci = g_strcmp0 (g_getenv ("CI"), "true") == 0;
  if (python == NULL || *python == '\0')
    {
      if (ci)
        g_test_fail_printf ("PYTHON_ORACLE is not set; CI needs the PyTorch oracle");
      else
        g_test_skip ("PYTHON_ORACLE not set (no /usr/bin/python3)");
      return FALSE;
    }
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "reference", script_name, NULL);
  const char *argv[] = { python, script, dir, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                     &error))
    {
      g_test_fail_printf ("cannot run %s %s: %s", python, script, error->message);
      return FALSE;
    }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      if (ci)
        g_test_fail_printf ("CI=true but the oracle cannot import torch: %s", err);
      else
        g_test_skip_printf ("PyTorch oracle unavailable: %s", err);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, &error))
    {
      g_test_fail_printf ("%s failed (%s):\n%s", script_name, error->message, err);
      return FALSE;
    }
  return TRUE;
}

double
rg_oracle_nmse (const RgTensor *got, const RgTensor *want)
{
  g_assert_true (rg_tensor_same_shape (got, want));
  const float *a = rg_tensor_f32 (got), *b = rg_tensor_f32 (want);
  double num = 0, den = 0;
  for (int64_t i = 0; i < rg_tensor_numel (got); i++)
    {
      if (!isfinite (a[i]))
        return INFINITY; /* NaN fails */
      num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
      den += (double) b[i] * b[i];
    }
  return den > 0 ? num / den : num;
}
