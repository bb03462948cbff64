/* The CUDA toolchain, driver and a kernel launch work end to end. */
#include <glib.h>

#include "rg-cuda-device.h"

static void
test_fill (void)
{
  if (rg_cuda_device_count () == 0)
    {
      g_test_skip ("no CUDA device");
      return;
    }
  float out[1000];
  g_assert_cmpint (rg_cuda_fill_roundtrip (out, 1000, 3.5f), ==, 0);
  for (int i = 0; i < 1000; i++)
    g_assert_cmpfloat (out[i], ==, 3.5f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cuda/fill", test_fill);
  return g_test_run ();
}
