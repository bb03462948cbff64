/* rg-error.c — the engine's error domain. */
#include "rg-error.h"

G_DEFINE_QUARK (rg-error-quark, rg_error)
