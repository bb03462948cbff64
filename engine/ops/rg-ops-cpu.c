/* rg-ops-cpu.c — the CPU column of the op table. */
#include "ops/rg-ops-cpu.h"

static const RgOpTable cpu_table = {
  .name = "cpu",
  .linear = rg_cpu_linear,
  .matmul = rg_cpu_matmul,
  .rmsnorm = rg_cpu_rmsnorm,
  .layernorm = rg_cpu_layernorm,
  .groupnorm = rg_cpu_groupnorm,
  .softmax = rg_cpu_softmax,
  .silu = rg_cpu_silu,
  .gelu = rg_cpu_gelu,
  .swiglu = rg_cpu_swiglu,
  .add = rg_cpu_add,
  .mul = rg_cpu_mul,
  .axpby = rg_cpu_axpby,
  .scale = rg_cpu_scale,
  .add_bias = rg_cpu_add_bias,
  .attention = rg_cpu_attention,
  .modulate = rg_cpu_modulate,
  .gate_add = rg_cpu_gate_add,
  .timestep_embedding = rg_cpu_timestep_embedding,
  .conv2d_frames = rg_cpu_conv2d_frames,
  .conv1d_time = rg_cpu_conv1d_time,
  .upsample_nearest = rg_cpu_upsample_nearest,
  .patchify = rg_cpu_patchify,
  .unpatchify = rg_cpu_unpatchify,
  .pos_emb_factorized = rg_cpu_pos_emb_factorized,
  .embedding = rg_cpu_embedding,
};

const RgOpTable *
rg_op_table_cpu (void)
{
  return &cpu_table;
}
