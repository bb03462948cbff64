/* rg-gen-private.h — helpers shared by engine/gen's sources only. */
#pragma once

#include "core/rg-tensor.h"

/* The flow-matching arithmetic walks raw f32 arrays: both tensors must be
 * packed f32 on the CPU with the same shape. */
static inline gboolean
rg_gen_same_f32_layout (const RgTensor *a, const RgTensor *b)
{
  return a->dtype == RG_F32 && b->dtype == RG_F32 && a->backend == RG_BACKEND_CPU
         && b->backend == RG_BACKEND_CPU && rg_tensor_is_contiguous (a)
         && rg_tensor_is_contiguous (b) && rg_tensor_same_shape (a, b);
}
