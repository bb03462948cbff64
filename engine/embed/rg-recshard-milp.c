/* rg-recshard-milp.c — RecShard's exact MILP with GLPK.
 *
 *   minimise z
 *   Σ_d x_td = 1                                  every table on one device
 *   y_tdk ≤ len_tk · x_td                         fast rows per CDF piece
 *   Σ_t b_t Σ_k y_tdk ≤ C_fast                    fast capacity
 *   Σ_t b_t (N_t x_td − Σ_k y_tdk) ≤ C_slow       slow capacity
 *   Σ_t [A_t b_t / BW_slow · x_td
 *        − A_t b_t (1/BW_slow − 1/BW_fast) Σ_k s_tk y_tdk] ≤ z   per device
 *
 * with s_tk the CDF slope of piece k (share of the table's lookups per row).
 * The CDF is concave, so for a fixed assignment the LP fills pieces hottest
 * first and Σ_k y_tdk is the fast prefix h_t. Loads are scaled to
 * microseconds and capacities to MiB so the simplex sees numbers near 1. */
#include "embed/rg-recshard-private.h"

#include <math.h>

#include "core/rg-error.h"
#include "rg-config.h"

#if RG_HAVE_GLPK
#include <glpk.h>

#define MIB (1024.0 * 1024.0)

typedef struct {
  uint64_t count; /* total lookups in the piece */
  int64_t  rows;
} Piece;

/* A table's runs, merged into at most max_pieces consecutive groups (the
 * chord of a concave function lies below it, so merging only ever
 * under-promises savings). */
static GArray *
pieces_for (const RgRuns *r, uint32_t max_pieces)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Piece));
  gsize   per = r->n <= max_pieces ? 1 : (r->n + max_pieces - 1) / max_pieces;
  for (gsize i = 0; i < r->n; i += per)
    {
      Piece p = { 0, 0 };
      for (gsize j = i; j < MIN (r->n, i + per); j++)
        {
          p.count += r->runs[j].count * (uint64_t) r->runs[j].rows;
          p.rows += r->runs[j].rows;
        }
      g_array_append_val (a, p);
    }
  return a;
}

RgShardPlan *
rg_recshard_plan_milp (const RgProfile *profile, const RgTableSpec *tables,
                       const RgTopology *topo, const RgShardCost *cost,
                       const RgRecShardOptions *options, GError **error)
{
  if (!rg_topology_validate (topo, error))
    return NULL;
  uint32_t  W = rg_topology_world (topo), T = profile->n_tables;
  RgRuns   *runs = rg_runs_new (profile);
  GArray  **pieces = g_new0 (GArray *, T);
  for (uint32_t t = 0; t < T; t++)
    pieces[t] = pieces_for (&runs[t], MAX (1u, options->max_pieces));

  /* Columns: z, then per (t, d): x_td followed by its y_tdk. */
  g_autofree int *x_col = g_new (int, (gsize) T * W);
  g_autofree int *y_col = g_new (int, (gsize) T * W); /* first y of (t, d) */
  int             n_cols = 1;
  for (uint32_t t = 0; t < T; t++)
    for (uint32_t d = 0; d < W; d++)
      {
        x_col[t * W + d] = ++n_cols;
        y_col[t * W + d] = n_cols + 1;
        n_cols += (int) pieces[t]->len;
      }

  glp_term_out (GLP_OFF);
  glp_prob *lp = glp_create_prob ();
  glp_set_obj_dir (lp, GLP_MIN);
  glp_add_cols (lp, n_cols);
  glp_set_col_bnds (lp, 1, GLP_LO, 0.0, 0.0);
  glp_set_obj_coef (lp, 1, 1.0);
  for (uint32_t t = 0; t < T; t++)
    for (uint32_t d = 0; d < W; d++)
      {
        glp_set_col_kind (lp, x_col[t * W + d], GLP_BV);
        for (guint k = 0; k < pieces[t]->len; k++)
          glp_set_col_bnds (lp, y_col[t * W + d] + (int) k, GLP_DB, 0.0,
                            (double) g_array_index (pieces[t], Piece, k).rows);
      }

  GArray *ia = g_array_new (FALSE, FALSE, sizeof (int));
  GArray *ja = g_array_new (FALSE, FALSE, sizeof (int));
  GArray *ar = g_array_new (FALSE, FALSE, sizeof (double));
  int     zero_i = 0;
  double  zero_d = 0;
  g_array_append_val (ia, zero_i); /* GLPK arrays are 1-based */
  g_array_append_val (ja, zero_i);
  g_array_append_val (ar, zero_d);
#define PUT(row, col, val)                                                                         \
  do                                                                                               \
    {                                                                                              \
      int    r_ = (row), c_ = (col);                                                               \
      double v_ = (val);                                                                           \
      g_array_append_val (ia, r_);                                                                 \
      g_array_append_val (ja, c_);                                                                 \
      g_array_append_val (ar, v_);                                                                 \
    }                                                                                              \
  while (0)

  int row = glp_add_rows (lp, (int) T);
  for (uint32_t t = 0; t < T; t++, row++)
    {
      glp_set_row_bnds (lp, row, GLP_FX, 1.0, 1.0);
      for (uint32_t d = 0; d < W; d++)
        PUT (row, x_col[t * W + d], 1.0);
    }
  for (uint32_t t = 0; t < T; t++)
    for (uint32_t d = 0; d < W; d++)
      for (guint k = 0; k < pieces[t]->len; k++)
        {
          row = glp_add_rows (lp, 1);
          glp_set_row_bnds (lp, row, GLP_UP, 0.0, 0.0);
          PUT (row, y_col[t * W + d] + (int) k, 1.0);
          PUT (row, x_col[t * W + d], -(double) g_array_index (pieces[t], Piece, k).rows);
        }
  for (uint32_t d = 0; d < W; d++)
    {
      int fast = glp_add_rows (lp, 1), slow = glp_add_rows (lp, 1), load = glp_add_rows (lp, 1);
      glp_set_row_bnds (lp, fast, GLP_UP, 0.0, (double) topo->fast_bytes / MIB);
      glp_set_row_bnds (lp, slow, GLP_UP, 0.0, (double) topo->slow_bytes / MIB);
      glp_set_row_bnds (lp, load, GLP_UP, 0.0, 0.0);
      PUT (load, 1, -1.0);
      for (uint32_t t = 0; t < T; t++)
        {
          const RgTableProfile *p = &profile->tables[t];
          double b = (double) p->row_bytes / MIB;
          double A = rg_table_profile_per_batch (p, profile);
          PUT (slow, x_col[t * W + d], b * (double) p->rows);
          PUT (load, x_col[t * W + d], 1e6 * A * (double) p->row_bytes / cost->slow_bw);
          for (guint k = 0; k < pieces[t]->len; k++)
            {
              const Piece *pc = &g_array_index (pieces[t], Piece, k);
              double slope = p->accesses ? (double) pc->count / pc->rows / (double) p->accesses : 0;
              int    y = y_col[t * W + d] + (int) k;
              PUT (fast, y, b);
              PUT (slow, y, -b);
              PUT (load, y,
                   -1e6 * A * (double) p->row_bytes * (1.0 / cost->slow_bw - 1.0 / cost->fast_bw)
                       * slope);
            }
        }
    }
#undef PUT
  glp_load_matrix (lp, (int) ia->len - 1, (int *) (void *) ia->data, (int *) (void *) ja->data,
                   (double *) (void *) ar->data);
  g_array_free (ia, TRUE);
  g_array_free (ja, TRUE);
  g_array_free (ar, TRUE);

  glp_iocp parm;
  glp_init_iocp (&parm);
  parm.presolve = GLP_ON;
  parm.msg_lev = GLP_MSG_OFF;
  parm.tm_lim = (int) MIN (options->time_limit * 1000.0, 3.6e6);
  int          ret = glp_intopt (lp, &parm);
  int          status = glp_mip_status (lp);
  RgShardPlan *plan = NULL;
  if ((ret != 0 && ret != GLP_ETMLIM) || (status != GLP_OPT && status != GLP_FEAS))
    {
      g_set_error (error, RG_ERROR, status == GLP_NOFEAS ? RG_ERROR_NO_MEMORY : RG_ERROR_FAILED,
                   "recshard MILP: %s (GLPK status %d, code %d)",
                   status == GLP_NOFEAS ? "the tables do not fit the devices' fast + slow memory"
                                        : "no solution found",
                   status, ret);
    }
  else
    {
      g_autofree uint32_t *device = g_new0 (uint32_t, T);
      g_autofree int64_t  *h = g_new0 (int64_t, T);
      for (uint32_t t = 0; t < T; t++)
        for (uint32_t d = 0; d < W; d++)
          if (glp_mip_col_val (lp, x_col[t * W + d]) > 0.5)
            {
              double rows = 0;
              for (guint k = 0; k < pieces[t]->len; k++)
                rows += glp_mip_col_val (lp, y_col[t * W + d] + (int) k);
              device[t] = d;
              /* Rounding down keeps the fast tier within capacity. */
              h[t] = (int64_t) floor (rows + 1e-6);
            }
      plan = rg_recshard_build_plan ("recshard-milp", profile, tables, topo, device, h);
    }
  glp_delete_prob (lp);
  for (uint32_t t = 0; t < T; t++)
    g_array_free (pieces[t], TRUE);
  g_free (pieces);
  rg_runs_free (runs, T);
  return plan;
}

#else /* !RG_HAVE_GLPK */

RgShardPlan *
rg_recshard_plan_milp (const RgProfile *profile, const RgTableSpec *tables,
                       const RgTopology *topo, const RgShardCost *cost,
                       const RgRecShardOptions *options, GError **error)
{
  g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED,
               "recshard MILP: this build has no GLPK (use the greedy planner)");
  return NULL;
}

#endif
