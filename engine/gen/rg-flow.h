/* rg-flow.h — flow matching (DESIGN §4): the probability path, its velocity
 * target, the noise it starts from, classifier-free guidance and the Euler
 * solver that integrates a model's velocity from noise to data.
 *
 * Conventions (Movie Gen §3.1.2, Lipman et al.'s optimal-transport path):
 *   x₀ is Gaussian noise, x₁ is data, t runs from 0 (noise) to 1 (data);
 *   x_t = t·x₁ + (1 − (1 − σ_min)·t)·x₀,  σ_min = 1e-5;
 *   v   = dx_t/dt = x₁ − (1 − σ_min)·x₀ (the regression target).
 * Latents are contiguous f32 tensors on the CPU, batch first. Everything here
 * is a pure function of its inputs and the seed, so a seed reproduces a
 * generation bit for bit. */
#pragma once

#include <gio/gio.h>
#include <stdint.h>

#include "core/rg-tensor.h"

G_BEGIN_DECLS

#define RG_FLOW_SIGMA_MIN 1e-5f

/* Philox streams under a job's seed, fixed so that a seed means the same
 * noise on every backend and in every version of the pipeline. */
#define RG_FLOW_STREAM_LATENT 0 /* the initial latent x₀ of a generation */

/* x₀ ~ N(0, I) of the given shape from stream `stream` of `seed`, element i
 * of the tensor being element i of the stream. */
RgTensor *rg_flow_noise (uint64_t seed, uint64_t stream, int ndim, const int64_t *shape);

/* xt = t[b]·x1 + (1 − (1 − σ_min)·t[b])·x0 for each batch item b (dim 0);
 * t has x0->shape[0] entries. xt may alias x0 or x1. */
void rg_flow_interpolate (const RgTensor *x0, const RgTensor *x1, const float *t,
                          float sigma_min, RgTensor *xt);
/* v = x1 − (1 − σ_min)·x0, the velocity of the path (independent of t).
 * v may alias x0 or x1. */
void rg_flow_target (const RgTensor *x0, const RgTensor *x1, float sigma_min, RgTensor *v);

/* The training loss of a predicted velocity v against the target (both
 * [B, C, T, H, W]), r = v − target: mean(r²) + motion_weight · mean((r −
 * r̄)²), r̄ being r's mean over the frames at each (b, c, y, x). The second
 * term weighs the part of the error that changes from frame to frame: in
 * ShapesWorld's latents motion is under 1 % of the energy, so the plain
 * MSE lets a model that predicts still frames off lightly. Every temporal
 * mode but the constant one gets 1 + motion_weight times the weight.
 * Fills dv with the gradient of the loss in v (dv may not alias v or
 * target) and returns the loss. With one frame, or motion_weight 0, it is
 * the plain MSE.
 *
 * cell_weight, when not NULL, is [B, H, W]: both terms' squares at (b, ·,
 * ·, y, x) count that many times (the means still divide by the element
 * count). It is constant over the frames, so the motion term's gradient
 * keeps its form. */
double rg_flow_loss (const RgTensor *v, const RgTensor *target, double motion_weight,
                     const float *cell_weight, RgTensor *dv);

/* Training times from a logit-normal: t = sigmoid(mean + std·z), z ~ N(0, 1)
 * from `stream` of `seed` at `offset` (Movie Gen samples t this way so that
 * the middle of the path, where the task is hardest, gets most updates). */
void rg_flow_sample_t_logit_normal (uint64_t seed, uint64_t stream, uint64_t offset,
                                    float mean, float std, float *t, int64_t n);

/* Classifier-free guidance: out = v_uncond + g·(v_cond − v_uncond).
 * With g = 1 out is exactly v_cond. out may alias either input. */
void rg_cfg_combine (const RgTensor *v_cond, const RgTensor *v_uncond, float guidance,
                     RgTensor *out);
/* The same on a batch-2 model output v2 [2, ...] whose item 0 is the
 * conditional and item 1 the unconditional pass (both passes run as one
 * batch so the DiT's GEMMs see twice the rows); out is [1, ...]. */
void rg_cfg_combine_batched (const RgTensor *v2, float guidance, RgTensor *out);

/* The model's velocity at (x, t): fill v (the shape of x). Check
 * `cancellable` between layers and fail with RG_ERROR_CANCELLED when set. */
typedef gboolean (*RgVelocityFunc) (const RgTensor *x, float t, RgTensor *v,
                                    gpointer user_data, GCancellable *cancellable,
                                    GError **error);
/* Called after step `step` (1-based) of `n_steps` with the updated x. */
typedef void (*RgSolverStepFunc) (int step, int n_steps, const RgTensor *x, gpointer user_data);

/* Euler integration of dx/dt = velocity(x, t) in place on x along the
 * times t[0] < t[1] < … < t[n_steps]: x ← x + (t[i+1] − t[i])·v(x, t[i]).
 * Cancellation is checked before every step (and by the velocity function
 * inside it); on failure x holds the last completed step. on_step may be
 * NULL. */
gboolean rg_flow_euler (RgTensor *x, const double *t, int n_steps, RgVelocityFunc velocity,
                        RgSolverStepFunc on_step, gpointer user_data,
                        GCancellable *cancellable, GError **error);

G_END_DECLS
