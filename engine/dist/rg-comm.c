/* rg-comm.c — argument checks and byte counting around the backends, and
 * the size-1 "self" backend. */
#include "rg-comm.h"

#include "core/rg-error.h"
#include "rg-config.h"

#include <string.h>

RgComm *
rg_comm_alloc (const RgCommBackend *backend, gsize struct_size, int rank, int size)
{
  g_return_val_if_fail (struct_size >= sizeof (RgComm), NULL);
  g_return_val_if_fail (size >= 1 && rank >= 0 && rank < size, NULL);
  RgComm *comm = g_malloc0 (struct_size);
  comm->backend = backend;
  comm->rank = rank;
  comm->size = size;
  comm->sent = g_new0 (uint64_t, size);
  comm->received = g_new0 (uint64_t, size);
  return comm;
}

void
rg_comm_free (RgComm *comm)
{
  if (comm == NULL)
    return;
  g_free (comm->sent);
  g_free (comm->received);
  /* the backend frees its own state and then the struct itself */
  comm->backend->destroy (comm);
}

int
rg_comm_rank (const RgComm *comm)
{
  return comm->rank;
}

int
rg_comm_size (const RgComm *comm)
{
  return comm->size;
}

const char *
rg_comm_backend_name (const RgComm *comm)
{
  return comm->backend->name;
}

static gboolean
check_root (const RgComm *comm, int root, GError **error)
{
  if (root >= 0 && root < comm->size)
    return TRUE;
  g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
               "communicator (%s): root %d is not a rank of %d", comm->backend->name, root,
               comm->size);
  return FALSE;
}

gboolean
rg_comm_barrier (RgComm *comm, GError **error)
{
  return comm->backend->barrier (comm, error);
}

gboolean
rg_comm_broadcast (RgComm *comm, void *buf, gsize bytes, int root, GError **error)
{
  if (!check_root (comm, root, error))
    return FALSE;
  if (!comm->backend->broadcast (comm, buf, bytes, root, error))
    return FALSE;
  if (comm->rank == root)
    {
      for (int p = 0; p < comm->size; p++)
        if (p != root)
          comm->sent[p] += bytes;
    }
  else
    comm->received[root] += bytes;
  return TRUE;
}

gboolean
rg_comm_allreduce_sum_f32 (RgComm *comm, float *buf, gsize n, GError **error)
{
  if (!comm->backend->allreduce_sum_f32 (comm, buf, n, error))
    return FALSE;
  if (comm->size > 1)
    {
      uint64_t ring = 2 * (uint64_t)(n - n / (gsize)comm->size) * sizeof (float);
      comm->sent[(comm->rank + 1) % comm->size] += ring;
      comm->received[(comm->rank + comm->size - 1) % comm->size] += ring;
    }
  return TRUE;
}

gboolean
rg_comm_allgather (RgComm *comm, const void *send, gsize bytes, void *recv, GError **error)
{
  if (!comm->backend->allgather (comm, send, bytes, recv, error))
    return FALSE;
  for (int p = 0; p < comm->size; p++)
    if (p != comm->rank)
      {
        comm->sent[p] += bytes;
        comm->received[p] += bytes;
      }
  return TRUE;
}

gboolean
rg_comm_alltoallv (RgComm *comm, const void *send, const gsize *send_counts,
                   const gsize *send_displs, void *recv, const gsize *recv_counts,
                   const gsize *recv_displs, GError **error)
{
  if (!comm->backend->alltoallv (comm, send, send_counts, send_displs, recv, recv_counts,
                                 recv_displs, error))
    return FALSE;
  for (int p = 0; p < comm->size; p++)
    if (p != comm->rank)
      {
        comm->sent[p] += send_counts[p];
        comm->received[p] += recv_counts[p];
      }
  return TRUE;
}

gboolean
rg_comm_alltoallv_control (RgComm *comm, const void *send, const gsize *send_counts,
                           const gsize *send_displs, void *recv, const gsize *recv_counts,
                           const gsize *recv_displs, GError **error)
{
  if (!comm->backend->alltoallv (comm, send, send_counts, send_displs, recv, recv_counts,
                                 recv_displs, error))
    return FALSE;
  for (int p = 0; p < comm->size; p++)
    if (p != comm->rank)
      {
        comm->control_sent += send_counts[p];
        comm->control_received += recv_counts[p];
      }
  return TRUE;
}

gboolean
rg_comm_alltoall_sizes (RgComm *comm, const uint64_t *send_sizes, uint64_t *recv_sizes,
                        GError **error)
{
  int w = comm->size;
  g_autofree gsize *counts = g_new (gsize, w);
  g_autofree gsize *displs = g_new (gsize, w);
  for (int p = 0; p < w; p++)
    {
      counts[p] = sizeof (uint64_t);
      displs[p] = (gsize)p * sizeof (uint64_t);
    }
  if (!comm->backend->alltoallv (comm, send_sizes, counts, displs, recv_sizes, counts, displs,
                                 error))
    return FALSE;
  comm->control_sent += (uint64_t)(w - 1) * sizeof (uint64_t);
  comm->control_received += (uint64_t)(w - 1) * sizeof (uint64_t);
  return TRUE;
}

uint64_t
rg_comm_bytes_sent (const RgComm *comm, int peer)
{
  g_return_val_if_fail (peer >= 0 && peer < comm->size, 0);
  return comm->sent[peer];
}

uint64_t
rg_comm_bytes_received (const RgComm *comm, int peer)
{
  g_return_val_if_fail (peer >= 0 && peer < comm->size, 0);
  return comm->received[peer];
}

uint64_t
rg_comm_bytes_sent_total (const RgComm *comm)
{
  uint64_t total = 0;
  for (int p = 0; p < comm->size; p++)
    total += comm->sent[p];
  return total;
}

uint64_t
rg_comm_bytes_received_total (const RgComm *comm)
{
  uint64_t total = 0;
  for (int p = 0; p < comm->size; p++)
    total += comm->received[p];
  return total;
}

void
rg_comm_reset_counters (RgComm *comm)
{
  memset (comm->sent, 0, comm->size * sizeof (uint64_t));
  memset (comm->received, 0, comm->size * sizeof (uint64_t));
  comm->control_sent = 0;
  comm->control_received = 0;
}

/* ---- self: one rank, every collective is the identity or a copy ---- */

static gboolean
self_barrier (RgComm *comm, GError **error)
{
  return TRUE;
}

static gboolean
self_broadcast (RgComm *comm, void *buf, gsize bytes, int root, GError **error)
{
  return TRUE;
}

static gboolean
self_allreduce (RgComm *comm, float *buf, gsize n, GError **error)
{
  return TRUE;
}

static gboolean
self_allgather (RgComm *comm, const void *send, gsize bytes, void *recv, GError **error)
{
  if (bytes > 0 && send != recv)
    memmove (recv, send, bytes);
  return TRUE;
}

static gboolean
self_alltoallv (RgComm *comm, const void *send, const gsize *send_counts, const gsize *send_displs,
                void *recv, const gsize *recv_counts, const gsize *recv_displs, GError **error)
{
  if (send_counts[0] != recv_counts[0])
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "communicator (self): alltoallv sends %" G_GSIZE_FORMAT
                   " bytes to itself but expects %" G_GSIZE_FORMAT,
                   send_counts[0], recv_counts[0]);
      return FALSE;
    }
  if (send_counts[0] > 0)
    memmove ((guint8 *)recv + recv_displs[0], (const guint8 *)send + send_displs[0],
             send_counts[0]);
  return TRUE;
}

static void
self_destroy (RgComm *comm)
{
  g_free (comm);
}

static const RgCommBackend self_backend = {
  .name = "self",
  .barrier = self_barrier,
  .broadcast = self_broadcast,
  .allreduce_sum_f32 = self_allreduce,
  .allgather = self_allgather,
  .alltoallv = self_alltoallv,
  .destroy = self_destroy,
};

RgComm *
rg_comm_new_self (void)
{
  return rg_comm_alloc (&self_backend, sizeof (RgComm), 0, 1);
}

RgComm *
rg_comm_new_auto (int *argc, char ***argv, GError **error)
{
  gboolean launched = g_getenv ("OMPI_COMM_WORLD_SIZE") != NULL || g_getenv ("PMI_SIZE") != NULL;
  if (launched && RG_HAVE_MPI)
    return rg_comm_new_mpi (argc, argv, error);
  return rg_comm_new_self ();
}
