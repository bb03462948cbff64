/* The thread pool covers every index exactly once, nests, and resizes. */
#include "core/rg-parallel.h"

typedef struct {
  gint *hits;
} Ctx;

static void
mark (void *data, int64_t b, int64_t e)
{
  Ctx *c = data;
  for (int64_t i = b; i < e; i++)
    g_atomic_int_inc (&c->hits[i]);
}

static void
check_cover (int64_t n, int64_t grain)
{
  Ctx c = { g_new0 (gint, n) };
  rg_parallel_for (n, grain, mark, &c);
  for (int64_t i = 0; i < n; i++)
    g_assert_cmpint (c.hits[i], ==, 1);
  g_free (c.hits);
}

static void
nested (void *data, int64_t b, int64_t e)
{
  for (int64_t i = b; i < e; i++)
    check_cover (37, 1);
}

static void
test_cover (void)
{
  for (int threads = 1; threads <= 5; threads++)
    {
      rg_parallel_set_threads (threads);
      g_assert_cmpint (rg_parallel_threads (), ==, threads);
      check_cover (1, 1);
      check_cover (1000, 1);
      check_cover (100001, 64);
      for (int rep = 0; rep < 200; rep++)
        check_cover (rep + 1, 1);
    }
  rg_parallel_set_threads (3);
  rg_parallel_for (8, 1, nested, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/parallel/cover", test_cover);
  return g_test_run ();
}
