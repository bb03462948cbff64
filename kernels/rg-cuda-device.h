/* rg-cuda-device.h — what the CUDA backend can see (C interface). */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable GPUs; 0 when the driver or a device is missing. */
int rg_cuda_device_count (void);
/* Fill out[0..n) with value on device 0 and copy back; returns 0 on success.
 * A smoke test that the toolchain, driver and a launch all work. */
int rg_cuda_fill_roundtrip (float *out, int n, float value);

#ifdef __cplusplus
}
#endif
