/* rg-comm.h — the communicator: collectives between ranks (DESIGN §6).
 *
 * One interface, several backends behind a vtable:
 *   "self"  one process, size 1; collectives are copies. Always available.
 *   "mpi"   OpenMPI ranks (CPU tests and multi-node launch); only when the
 *           engine was built with RG_HAVE_MPI.
 *   "nccl"  (later) one rank per GPU; drops in as another RgCommBackend.
 *
 * Every call is collective: all ranks call it in the same order with
 * matching sizes. Failures come back as GError (domain RG_ERROR) — MPI's
 * abort-on-error handler is replaced, so a failed collective never ends the
 * process behind the caller's back.
 *
 * Byte counters. Each communicator counts the payload bytes it sends to and
 * receives from every peer, so a run can be compared with the shard
 * simulator's traffic matrix. The count is the logical traffic of the
 * collective, independent of the algorithm the library picks:
 *   broadcast   root → every other rank: `bytes` each
 *   allgather   every rank → every other rank: `bytes` each
 *   alltoallv   rank → peer p: send_counts[p] (the rank's own share is not
 *               traffic and is not counted)
 *   allreduce   counted as a ring moves it: 2·(n − ⌊n/W⌋)·4 bytes from each
 *               rank to rank+1 (reduce-scatter then allgather)
 *   barrier     nothing
 * Sizes exchanged with rg_comm_alltoall_sizes() are bookkeeping, not
 * payload; they are counted apart as control bytes. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct _RgComm RgComm;

/* What a backend implements. Byte counting and argument checks happen in
 * rg-comm.c, so a backend only moves bytes. */
typedef struct
{
  const char *name;
  gboolean (*barrier) (RgComm *comm, GError **error);
  gboolean (*broadcast) (RgComm *comm, void *buf, gsize bytes, int root, GError **error);
  gboolean (*allreduce_sum_f32) (RgComm *comm, float *buf, gsize n, GError **error);
  gboolean (*allgather) (RgComm *comm, const void *send, gsize bytes, void *recv, GError **error);
  /* counts and displacements in bytes, size entries each */
  gboolean (*alltoallv) (RgComm *comm, const void *send, const gsize *send_counts,
                         const gsize *send_displs, void *recv, const gsize *recv_counts,
                         const gsize *recv_displs, GError **error);
  void (*destroy) (RgComm *comm);
} RgCommBackend;

/* The base every backend embeds first. */
struct _RgComm
{
  const RgCommBackend *backend;
  int rank;
  int size;
  uint64_t *sent;     /* [size] payload bytes sent to each peer */
  uint64_t *received; /* [size] payload bytes received from each peer */
  uint64_t control_sent;
  uint64_t control_received;
};

/* A size-1 communicator. */
RgComm *rg_comm_new_self (void);

/* The MPI world communicator. Initializes MPI (threads: funneled) unless the
 * caller already did, and finalizes it on free when it initialized it.
 * Fails with RG_ERROR_UNSUPPORTED when built without MPI. */
RgComm *rg_comm_new_mpi (int *argc, char ***argv, GError **error);

/* "mpi" when launched by mpirun (OMPI_COMM_WORLD_SIZE or PMI_SIZE set) and
 * MPI is built in, else "self". */
RgComm *rg_comm_new_auto (int *argc, char ***argv, GError **error);

void rg_comm_free (RgComm *comm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgComm, rg_comm_free)

int rg_comm_rank (const RgComm *comm);
int rg_comm_size (const RgComm *comm);
const char *rg_comm_backend_name (const RgComm *comm);

gboolean rg_comm_barrier (RgComm *comm, GError **error);
gboolean rg_comm_broadcast (RgComm *comm, void *buf, gsize bytes, int root, GError **error);
/* In place: buf[i] = Σ over ranks of buf[i]. */
gboolean rg_comm_allreduce_sum_f32 (RgComm *comm, float *buf, gsize n, GError **error);
/* recv[r·bytes .. (r+1)·bytes) = rank r's send; recv holds size·bytes. */
gboolean rg_comm_allgather (RgComm *comm, const void *send, gsize bytes, void *recv,
                            GError **error);
/* Bytes: send[send_displs[p] ..+send_counts[p]) goes to rank p and lands in
 * p's recv at recv_displs[me]. Every rank must pass matching counts. */
gboolean rg_comm_alltoallv (RgComm *comm, const void *send, const gsize *send_counts,
                            const gsize *send_displs, void *recv, const gsize *recv_counts,
                            const gsize *recv_displs, GError **error);
/* alltoallv for bookkeeping that travels beside the payload (request
 * layouts, sizes): the same exchange, counted as control bytes. */
gboolean rg_comm_alltoallv_control (RgComm *comm, const void *send, const gsize *send_counts,
                                    const gsize *send_displs, void *recv, const gsize *recv_counts,
                                    const gsize *recv_displs, GError **error);
/* recv_sizes[p] = what rank p passed as send_sizes[me]: how a rank learns
 * its alltoallv receive counts. Counted as control bytes. */
gboolean rg_comm_alltoall_sizes (RgComm *comm, const uint64_t *send_sizes, uint64_t *recv_sizes,
                                 GError **error);

/* ---- byte counters ---- */

uint64_t rg_comm_bytes_sent (const RgComm *comm, int peer);
uint64_t rg_comm_bytes_received (const RgComm *comm, int peer);
uint64_t rg_comm_bytes_sent_total (const RgComm *comm);
uint64_t rg_comm_bytes_received_total (const RgComm *comm);
void rg_comm_reset_counters (RgComm *comm);

/* For backends: allocates the base (rank, size, zeroed counters) inside a
 * struct of struct_size bytes whose first member is RgComm. */
RgComm *rg_comm_alloc (const RgCommBackend *backend, gsize struct_size, int rank, int size);

G_END_DECLS
