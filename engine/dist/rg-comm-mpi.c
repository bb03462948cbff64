/* rg-comm-mpi.c — the MPI backend (OpenMPI on CPUs, loopback or multi-node).
 *
 * MPI counts are ints, so every size is checked against INT_MAX before the
 * call; bigger exchanges must be split by the caller (an embedding step
 * never comes near 2 GiB per peer). */
#include "rg-comm.h"

#include "core/rg-error.h"
#include "rg-config.h"

#if RG_HAVE_MPI

#include <limits.h>
#include <mpi.h>

typedef struct
{
  RgComm base;
  MPI_Comm world;
  gboolean owns_init; /* we called MPI_Init, so we call MPI_Finalize */
} RgCommMpi;

static gboolean
mpi_check (RgComm *comm, int rc, const char *what, GError **error)
{
  if (rc == MPI_SUCCESS)
    return TRUE;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string (rc, msg, &len) != MPI_SUCCESS)
    g_strlcpy (msg, "unknown MPI error", sizeof msg);
  g_set_error (error, RG_ERROR, RG_ERROR_IO, "communicator (mpi, rank %d of %d): %s failed: %s",
               comm->rank, comm->size, what, msg);
  return FALSE;
}

static gboolean
fits_int (RgComm *comm, gsize n, const char *what, GError **error)
{
  if (n <= INT_MAX)
    return TRUE;
  g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
               "communicator (mpi, rank %d): %s of %" G_GSIZE_FORMAT
               " elements exceeds MPI's int counts; split it",
               comm->rank, what, n);
  return FALSE;
}

static gboolean
mpi_barrier (RgComm *comm, GError **error)
{
  RgCommMpi *m = (RgCommMpi *)comm;
  return mpi_check (comm, MPI_Barrier (m->world), "barrier", error);
}

static gboolean
mpi_broadcast (RgComm *comm, void *buf, gsize bytes, int root, GError **error)
{
  RgCommMpi *m = (RgCommMpi *)comm;
  if (!fits_int (comm, bytes, "broadcast", error))
    return FALSE;
  return mpi_check (comm, MPI_Bcast (buf, (int)bytes, MPI_BYTE, root, m->world), "broadcast",
                    error);
}

static gboolean
mpi_allreduce (RgComm *comm, float *buf, gsize n, GError **error)
{
  RgCommMpi *m = (RgCommMpi *)comm;
  if (!fits_int (comm, n, "allreduce", error))
    return FALSE;
  return mpi_check (comm, MPI_Allreduce (MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, m->world),
                    "allreduce", error);
}

static gboolean
mpi_allgather (RgComm *comm, const void *send, gsize bytes, void *recv, GError **error)
{
  RgCommMpi *m = (RgCommMpi *)comm;
  if (!fits_int (comm, bytes * (gsize)comm->size, "allgather", error))
    return FALSE;
  return mpi_check (
      comm, MPI_Allgather (send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, m->world),
      "allgather", error);
}

static gboolean
mpi_alltoallv (RgComm *comm, const void *send, const gsize *send_counts, const gsize *send_displs,
               void *recv, const gsize *recv_counts, const gsize *recv_displs, GError **error)
{
  RgCommMpi *m = (RgCommMpi *)comm;
  int w = comm->size;
  g_autofree int *sc = g_new (int, 4 * w);
  int *sd = sc + w, *rc = sc + 2 * w, *rd = sc + 3 * w;
  for (int p = 0; p < w; p++)
    {
      if (!fits_int (comm, send_displs[p] + send_counts[p], "alltoallv send buffer", error)
          || !fits_int (comm, recv_displs[p] + recv_counts[p], "alltoallv receive buffer", error))
        return FALSE;
      sc[p] = (int)send_counts[p];
      sd[p] = (int)send_displs[p];
      rc[p] = (int)recv_counts[p];
      rd[p] = (int)recv_displs[p];
    }
  return mpi_check (comm, MPI_Alltoallv (send, sc, sd, MPI_BYTE, recv, rc, rd, MPI_BYTE, m->world),
                    "alltoallv", error);
}

static void
mpi_destroy (RgComm *comm)
{
  RgCommMpi *m = (RgCommMpi *)comm;
  int finalized = 0;
  MPI_Comm_free (&m->world);
  MPI_Finalized (&finalized);
  if (m->owns_init && !finalized)
    MPI_Finalize ();
  g_free (m);
}

static const RgCommBackend mpi_backend = {
  .name = "mpi",
  .barrier = mpi_barrier,
  .broadcast = mpi_broadcast,
  .allreduce_sum_f32 = mpi_allreduce,
  .allgather = mpi_allgather,
  .alltoallv = mpi_alltoallv,
  .destroy = mpi_destroy,
};

RgComm *
rg_comm_new_mpi (int *argc, char ***argv, GError **error)
{
  int initialized = 0, provided = 0, rank = 0, size = 1;
  gboolean owns_init = FALSE;
  MPI_Initialized (&initialized);
  if (!initialized)
    {
      if (MPI_Init_thread (argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_IO, "communicator (mpi): MPI_Init_thread failed");
          return NULL;
        }
      owns_init = TRUE;
    }
  /* our own duplicate of the world, so our error handler and traffic do not
   * touch a caller's use of MPI_COMM_WORLD */
  MPI_Comm world;
  if (MPI_Comm_dup (MPI_COMM_WORLD, &world) != MPI_SUCCESS)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "communicator (mpi): MPI_Comm_dup failed");
      if (owns_init)
        MPI_Finalize ();
      return NULL;
    }
  MPI_Comm_set_errhandler (world, MPI_ERRORS_RETURN);
  MPI_Comm_rank (world, &rank);
  MPI_Comm_size (world, &size);
  RgCommMpi *m = (RgCommMpi *)rg_comm_alloc (&mpi_backend, sizeof (RgCommMpi), rank, size);
  m->world = world;
  m->owns_init = owns_init;
  return &m->base;
}

#else /* !RG_HAVE_MPI */

RgComm *
rg_comm_new_mpi (int *argc, char ***argv, GError **error)
{
  g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
               "communicator (mpi): this Reelgen was built without MPI "
               "(install libopenmpi-dev and reconfigure)");
  return NULL;
}

#endif
