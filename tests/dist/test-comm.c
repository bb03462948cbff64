/* The communicator: every collective's result and byte counters, on the
 * self backend and — when launched by mpirun with RG_TEST_EXPECT_RANKS — on
 * real MPI processes. */
#include "core/rg-error.h"
#include "dist/rg-comm.h"

#include <stdlib.h>
#include <string.h>

static RgComm *comm;

static void
test_world (void)
{
  const char *expect = g_getenv ("RG_TEST_EXPECT_RANKS");
  int want = expect ? atoi (expect) : 1;
  /* catches an mpirun run that silently fell back to size-1 processes */
  g_assert_cmpint (rg_comm_size (comm), ==, want);
  g_assert_cmpstr (rg_comm_backend_name (comm), ==, want > 1 ? "mpi" : "self");
  g_assert_cmpint (rg_comm_rank (comm), <, rg_comm_size (comm));
  g_autoptr (GError) error = NULL;
  g_assert_true (rg_comm_barrier (comm, &error));
  g_assert_no_error (error);
}

static void
test_broadcast (void)
{
  g_autoptr (GError) error = NULL;
  int w = rg_comm_size (comm), me = rg_comm_rank (comm);
  int root = w > 1 ? 1 : 0;
  char buf[37];
  memset (buf, me == root ? 'r' : '?', sizeof buf);
  rg_comm_reset_counters (comm);
  g_assert_true (rg_comm_broadcast (comm, buf, sizeof buf, root, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < sizeof buf; i++)
    g_assert_cmpint (buf[i], ==, 'r');
  if (me == root)
    {
      g_assert_cmpuint (rg_comm_bytes_sent_total (comm), ==, (uint64_t)(w - 1) * sizeof buf);
      g_assert_cmpuint (rg_comm_bytes_received_total (comm), ==, 0);
    }
  else
    {
      g_assert_cmpuint (rg_comm_bytes_received (comm, root), ==, sizeof buf);
      g_assert_cmpuint (rg_comm_bytes_sent_total (comm), ==, 0);
    }

  /* a root outside the world is refused before any rank blocks */
  g_assert_false (rg_comm_broadcast (comm, buf, sizeof buf, w, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
}

static void
test_allreduce (void)
{
  g_autoptr (GError) error = NULL;
  int w = rg_comm_size (comm), me = rg_comm_rank (comm);
  enum
  {
    N = 1001
  };
  g_autofree float *buf = g_new (float, N);
  for (int i = 0; i < N; i++)
    buf[i] = (float)(me + 1) + (float)i * 0.5f;
  rg_comm_reset_counters (comm);
  g_assert_true (rg_comm_allreduce_sum_f32 (comm, buf, N, &error));
  for (int i = 0; i < N; i++)
    g_assert_cmpfloat_with_epsilon (buf[i], w * (w + 1) / 2.0f + w * i * 0.5f, 1e-3);
  uint64_t ring = w > 1 ? 2 * (uint64_t)(N - N / w) * sizeof (float) : 0;
  g_assert_cmpuint (rg_comm_bytes_sent_total (comm), ==, ring);
  g_assert_cmpuint (rg_comm_bytes_sent (comm, (me + 1) % w), ==, ring);
  g_assert_cmpuint (rg_comm_bytes_received (comm, (me + w - 1) % w), ==, ring);
}

static void
test_allgather (void)
{
  g_autoptr (GError) error = NULL;
  int w = rg_comm_size (comm), me = rg_comm_rank (comm);
  int32_t mine[3] = { me * 10, me * 10 + 1, me * 10 + 2 };
  g_autofree int32_t *all = g_new0 (int32_t, 3 * w);
  rg_comm_reset_counters (comm);
  g_assert_true (rg_comm_allgather (comm, mine, sizeof mine, all, &error));
  for (int r = 0; r < w; r++)
    for (int k = 0; k < 3; k++)
      g_assert_cmpint (all[r * 3 + k], ==, r * 10 + k);
  for (int p = 0; p < w; p++)
    {
      uint64_t want = p == me ? 0 : sizeof mine;
      g_assert_cmpuint (rg_comm_bytes_sent (comm, p), ==, want);
      g_assert_cmpuint (rg_comm_bytes_received (comm, p), ==, want);
    }
}

/* Rank r sends (p+1)·(r+1) bytes of value r·16+p to rank p: every pair has a
 * different size, so a swapped count or displacement shows. */
static void
test_alltoallv (void)
{
  g_autoptr (GError) error = NULL;
  int w = rg_comm_size (comm), me = rg_comm_rank (comm);
  g_autofree gsize *sc = g_new (gsize, w), *sd = g_new (gsize, w);
  g_autofree gsize *rc = g_new (gsize, w), *rd = g_new (gsize, w);
  g_autofree uint64_t *want_sizes = g_new (uint64_t, w), *got_sizes = g_new (uint64_t, w);
  gsize st = 0, rt = 0;
  for (int p = 0; p < w; p++)
    {
      sc[p] = (gsize)(p + 1) * (me + 1);
      sd[p] = st;
      st += sc[p];
      want_sizes[p] = sc[p];
    }
  rg_comm_reset_counters (comm);
  /* learn the receive counts the way the shard run does */
  g_assert_true (rg_comm_alltoall_sizes (comm, want_sizes, got_sizes, &error));
  for (int p = 0; p < w; p++)
    {
      g_assert_cmpuint (got_sizes[p], ==, (uint64_t)(me + 1) * (p + 1));
      rc[p] = got_sizes[p];
      rd[p] = rt;
      rt += rc[p];
    }
  g_assert_cmpuint (rg_comm_bytes_sent_total (comm), ==, 0); /* control only */
  g_assert_cmpuint (comm->control_sent, ==, (uint64_t)(w - 1) * 8);

  g_autofree guint8 *send = g_new (guint8, st), *recv = g_new0 (guint8, rt);
  for (int p = 0; p < w; p++)
    memset (send + sd[p], me * 16 + p, sc[p]);
  g_assert_true (rg_comm_alltoallv (comm, send, sc, sd, recv, rc, rd, &error));
  g_assert_no_error (error);
  for (int p = 0; p < w; p++)
    for (gsize i = 0; i < rc[p]; i++)
      g_assert_cmpint (recv[rd[p] + i], ==, p * 16 + me);
  for (int p = 0; p < w; p++)
    {
      g_assert_cmpuint (rg_comm_bytes_sent (comm, p), ==, p == me ? 0 : sc[p]);
      g_assert_cmpuint (rg_comm_bytes_received (comm, p), ==, p == me ? 0 : rc[p]);
    }
}

/* The self backend works even inside an MPI job, and refuses a mismatched
 * self-exchange instead of copying garbage. */
static void
test_self (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgComm) self = rg_comm_new_self ();
  g_assert_cmpint (rg_comm_size (self), ==, 1);
  float v[2] = { 1, 2 };
  g_assert_true (rg_comm_allreduce_sum_f32 (self, v, 2, &error));
  g_assert_cmpfloat (v[1], ==, 2.0f);
  gsize c = 4, d = 0, bad = 3;
  char in[4] = "abc", out[4] = { 0 };
  g_assert_true (rg_comm_alltoallv (self, in, &c, &d, out, &c, &d, &error));
  g_assert_cmpstr (out, ==, "abc");
  g_assert_false (rg_comm_alltoallv (self, in, &c, &d, out, &bad, &d, &error));
  g_assert_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (rg_comm_bytes_sent_total (self), ==, 0);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  comm = rg_comm_new_auto (&argc, &argv, &error);
  if (comm == NULL)
    g_error ("cannot start the communicator: %s", error->message);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/comm/world", test_world);
  g_test_add_func ("/comm/broadcast", test_broadcast);
  g_test_add_func ("/comm/allreduce", test_allreduce);
  g_test_add_func ("/comm/allgather", test_allgather);
  g_test_add_func ("/comm/alltoallv", test_alltoallv);
  g_test_add_func ("/comm/self", test_self);
  int rc = g_test_run ();
  rg_comm_free (comm);
  return rc;
}
