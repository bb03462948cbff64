/* rg-tae-private.h — the TAE's layers, shared by its inference passes
 * (rg-tae.c) and its training passes (rg-tae-train.c). */
#pragma once

#include "models/rg-tae.h"
#include "nn/rg-nn.h"

/* The log-variance channels' initial bias (see rg_tae_new). */
#define RG_TAE_LOGVAR_INIT (-6.0f)

struct _RgTae {
  RgTaeConfig   cfg;
  /* encoder */
  RgConv25      enc_in;
  RgResBlock25  enc_res[RG_TAE_MAX_LEVELS];
  RgConv25      enc_down[RG_TAE_MAX_LEVELS];
  RgResBlock25  enc_mid;
  RgGroupNorm   enc_norm;
  RgConv25      enc_out;
  /* decoder */
  RgConv25      dec_in;
  RgResBlock25  dec_mid;
  RgResBlock25  dec_res[RG_TAE_MAX_LEVELS];
  RgConv25      dec_up[RG_TAE_MAX_LEVELS]; /* dec_up[l]: level l → l − 1 */
  RgGroupNorm   dec_norm;
  RgConv25      dec_out;
  RgArena      *arena[2];
};

/* The size-3 temporal stride of encoder transition l (and of decoder
 * upsampling l + 1): 2 for the first temporal_down transitions. */
static inline int
rg_tae_time_stride (const RgTaeConfig *c, int l)
{
  return l < c->temporal_down ? 2 : 1;
}

/* The argument checks of rg_tae_encode (logvar may be NULL) and
 * rg_tae_decode, shared with the training passes. */
gboolean rg_tae_check_encode (const RgTae *tae, const RgTensor *video, const RgTensor *mean,
                              const RgTensor *logvar, GError **error);
gboolean rg_tae_check_decode (const RgTae *tae, const RgTensor *latent, const RgTensor *video,
                              GError **error);
