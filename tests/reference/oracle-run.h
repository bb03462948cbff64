/* oracle-run.h — how the reference tests run their PyTorch oracle.
 *
 * rg_oracle_run runs `$PYTHON_ORACLE tests/reference/SCRIPT DIR`. The
 * script exits 77 when torch cannot be imported. Without PYTHON_ORACLE or
 * torch the test is skipped, except with CI=true, where it fails: CI must
 * always check against the oracle. Returns FALSE (the test already marked
 * skipped or failed) when the oracle did not run to completion. */
#pragma once

#include <glib.h>

#include "core/rg-tensor.h"

gboolean rg_oracle_run (const char *script_name, const char *dir);

/* Σ(got − want)² / Σ want² over two f32 tensors of one shape (the plain
 * squared error when want is all zero); +∞ as soon as got holds a NaN or
 * infinity, so a broken result can never pass a bound. */
double rg_oracle_nmse (const RgTensor *got, const RgTensor *want);
