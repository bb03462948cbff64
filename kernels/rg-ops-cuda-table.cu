/* rg-ops-cuda-table.cu — the CUDA column of the op table. Entries left
 * NULL have no kernel yet; the dispatcher reports them (g_critical). */
#include "rg-cuda-ops.cuh"
#include "rg-cuda-tensor.h"

static RgOpTable cuda_table;

extern "C" void
rg_cuda_ops_register (void)
{
  static gsize once = 0;
  if (!g_once_init_enter (&once))
    return;
  cuda_table.name = "cuda";
  cuda_table.linear = rg_cuda_linear;
  cuda_table.matmul = rg_cuda_matmul;
  cuda_table.rmsnorm = rg_cuda_rmsnorm;
  cuda_table.softmax = rg_cuda_softmax;
  cuda_table.silu = rg_cuda_silu;
  cuda_table.swiglu = rg_cuda_swiglu;
  cuda_table.add = rg_cuda_add;
  cuda_table.mul = rg_cuda_mul;
  cuda_table.add_bias = rg_cuda_add_bias;
  rg_op_table_register (RG_BACKEND_CUDA, &cuda_table);
  g_once_init_leave (&once, 1);
}
