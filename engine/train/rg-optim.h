/* rg-optim.h — AdamW and global-norm gradient clipping.
 *
 * The optimizer holds, for every trained parameter, the caller's weight and
 * gradient tensors (refs, contiguous f32, same shape) and its own first and
 * second moments m and v. It does not care where gradients come from: the
 * training loop fills the gradient tensors, optionally clips them, and calls
 * rg_adamw_step with the learning rate of this update (rg-lr.h).
 *
 * The update is PyTorch's torch.optim.AdamW (decoupled weight decay,
 * Loshchilov & Hutter), in the same order of f32 operations so that the two
 * agree to rounding:
 *
 *   w ← w·(1 − lr·λ)                      (only where the parameter decays)
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   w ← w − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * with t the 1-based update count. Norm gains, biases, embeddings and
 * positional tables do not decay (decaying them shrinks features the model
 * needs at a fixed scale); rg_optim_name_decays decides from the name, and
 * rg_adamw_set_decay overrides it.
 *
 * Elementwise work runs on the thread pool; each element's result depends
 * only on its own inputs, and the gradient norm is summed in fixed blocks in
 * a fixed order, so results are bit-identical for any thread count. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/rg-tensor.h"

G_BEGIN_DECLS

typedef struct
{
  double beta1;        /* 0.9 */
  double beta2;        /* 0.999 */
  double eps;          /* 1e-8 */
  double weight_decay; /* λ, 0.01 as in PyTorch */
} RgAdamWConfig;

void rg_adamw_config_init (RgAdamWConfig *config);
/* FALSE with RG_ERROR_INVALID_ARGUMENT for betas outside [0, 1), eps <= 0,
 * negative or non-finite decay. */
gboolean rg_adamw_config_validate (const RgAdamWConfig *config, GError **error);

/* Whether a parameter called `name` gets weight decay by default: FALSE
 * for names ending in ".bias", and for names with a dot-separated part that
 * contains "norm" or "embed", or starts with "ln" or "pos". */
gboolean rg_optim_name_decays (const char *name);

typedef struct _RgAdamW RgAdamW;

RgAdamW *rg_adamw_new (const RgAdamWConfig *config, GError **error);
void rg_adamw_free (RgAdamW *opt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgAdamW, rg_adamw_free)

/* Register a parameter; m and v start at zero. Refuses duplicate names and
 * weights/gradients that are not contiguous f32 of one shape. */
gboolean rg_adamw_add_param (RgAdamW *opt, const char *name, RgTensor *weight, RgTensor *grad,
                             GError **error);
gboolean rg_adamw_set_decay (RgAdamW *opt, const char *name, gboolean decay, GError **error);

const RgAdamWConfig *rg_adamw_get_config (RgAdamW *opt);
guint rg_adamw_get_n_params (RgAdamW *opt);
/* Parameters in the order they were added; i < n_params. */
const char *rg_adamw_get_name (RgAdamW *opt, guint i);
RgTensor *rg_adamw_get_weight (RgAdamW *opt, guint i);
RgTensor *rg_adamw_get_grad (RgAdamW *opt, guint i);
RgTensor *rg_adamw_get_m (RgAdamW *opt, guint i);
RgTensor *rg_adamw_get_v (RgAdamW *opt, guint i);
gboolean rg_adamw_get_decays (RgAdamW *opt, guint i);
/* -1 when no parameter has that name. */
int rg_adamw_find (RgAdamW *opt, const char *name);

/* Updates taken so far (t before the next update). Set on resume. */
int64_t rg_adamw_get_step (RgAdamW *opt);
void rg_adamw_set_step (RgAdamW *opt, int64_t step);

/* One update of every parameter with learning rate lr. */
void rg_adamw_step (RgAdamW *opt, double lr);
void rg_adamw_zero_grad (RgAdamW *opt);

/* The L2 norm of all gradients taken together (computed in double). */
double rg_adamw_grad_norm (RgAdamW *opt);
/* Scale all gradients by max_norm / (norm + 1e-6) when that is below 1, as
 * torch.nn.utils.clip_grad_norm_ does; returns the norm before clipping
 * (what a loss log records). A non-finite norm leaves the gradients as they
 * are, so the caller can see it and skip the update. */
double rg_adamw_clip_grad_norm (RgAdamW *opt, double max_norm);

G_END_DECLS
