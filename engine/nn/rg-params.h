/* rg-params.h — the named weights of a model, from a seed or a checkpoint.
 *
 * A model's constructor declares each weight once (name, shape, how to
 * initialise it) and keeps the returned tensor. The same constructor code
 * then serves both sources: in init mode a declaration allocates the tensor
 * and fills it from the Philox stream named by the weight (so weights do not
 * depend on declaration order); in load mode it fetches the tensor from a
 * safetensors file as f32 and checks its shape. The first problem is kept
 * (later declarations return NULL) and reported by rg_params_finish, which
 * in load mode also refuses tensors in the file that nobody declared. */
#pragma once

#include <glib.h>

#include "core/rg-safetensors.h"
#include "core/rg-tensor.h"

G_BEGIN_DECLS

typedef enum {
  RG_INIT_ZEROS,
  RG_INIT_ONES,
  RG_INIT_NORMAL, /* N(0, std²) */
} RgInit;

typedef struct _RgParams RgParams;

RgParams *rg_params_new_init (guint64 seed);
/* writable: copy every weight instead of borrowing the read-only mapping. */
RgParams *rg_params_new_load (RgSafetensors *st, gboolean writable);
void      rg_params_free (RgParams *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgParams, rg_params_free)

/* Declare weight `name` of the given shape. Returns a tensor owned by p
 * (f32, contiguous; read-only when borrowed from a checkpoint), or NULL once
 * any declaration has failed. */
RgTensor *rg_params_take (RgParams *p, const char *name, RgInit init, float std, int ndim,
                          const int64_t *shape);
/* Shorthands: `prefix` + "." + leaf as the name. */
RgTensor *rg_params_take1 (RgParams *p, const char *prefix, const char *leaf, RgInit init,
                           float std, int64_t d0);
RgTensor *rg_params_take2 (RgParams *p, const char *prefix, const char *leaf, RgInit init,
                           float std, int64_t d0, int64_t d1);

/* Zero columns [col, col + n) of a 2-D weight declared in init mode (the
 * edit model's extra input channels start silent). No-op in load mode. */
void rg_params_zero_columns (RgParams *p, RgTensor *w, int64_t col, int64_t n);

/* Set elements [start, start + n) of a weight declared in init mode to
 * value (a bias that must start somewhere else than its random init).
 * No-op in load mode. */
void rg_params_fill (RgParams *p, RgTensor *w, int64_t start, int64_t n, float value);

/* Make n 2-D weights of p with the same column count share one storage:
 * a new [Σ rows, cols] tensor holds them stacked along dim 0, and each
 * parts[i] (and p's entry for it) becomes a view of its rows there. One
 * GEMM against the packed tensor then computes all n projections (q/k/v,
 * SwiGLU gate/up), reading the input once; names, shapes, saved files and
 * in-place updates through the views are unchanged, and the weights are
 * not duplicated. Returns the packed tensor (owned by p), or NULL when a
 * part is NULL (an earlier declaration failed). */
RgTensor *rg_params_pack_rows (RgParams *p, RgTensor **parts, int n);

/* FALSE with the first declaration error, or (load mode) an error naming a
 * tensor the file has but no declaration asked for. */
gboolean rg_params_finish (RgParams *p, GError **error);

guint       rg_params_get_n (RgParams *p);
const char *rg_params_get_name (RgParams *p, guint i);
RgTensor   *rg_params_get_tensor (RgParams *p, guint i);
/* Elements of every weight whose name starts with prefix (NULL: all). */
int64_t     rg_params_count (RgParams *p, const char *prefix);

/* SHA-256 (hex, to free) of the names, shapes and f32 values of every
 * weight whose name starts with prefix (NULL: all), in declaration order:
 * the same weights give the same digest whichever file (or dtype that
 * rounds to them) they came from. */
char       *rg_params_digest (RgParams *p, const char *prefix);

/* Write every weight whose name starts with `prefix` (NULL: all) in
 * `dtype` with the given metadata (key, value pairs, NULL-terminated),
 * atomically. */
gboolean rg_params_save (RgParams *p, const char *path, const char *prefix, RgDType dtype,
                         const char *const *metadata, GError **error);

G_END_DECLS
