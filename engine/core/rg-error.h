/* rg-error.h — the engine's one error domain.
 *
 * Every fallible engine call takes a GError ** last and returns FALSE/NULL on
 * failure; messages name the file or object and the problem. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RG_ERROR (rg_error_quark ())

typedef enum {
  RG_ERROR_FAILED,           /* anything else */
  RG_ERROR_INVALID_ARGUMENT, /* a caller passed something the API refuses */
  RG_ERROR_CORRUPT,          /* a file or message is malformed or hostile */
  RG_ERROR_IO,               /* reading or writing failed */
  RG_ERROR_UNSUPPORTED,      /* valid, but not something we handle */
  RG_ERROR_NO_MEMORY,        /* an allocation or a capacity limit failed */
  RG_ERROR_NOT_FOUND,        /* a named thing does not exist */
  RG_ERROR_CANCELLED,        /* the user cancelled the work */
  RG_ERROR_VERSION,          /* made by a newer version of Reelgen */
} RgError;

GQuark rg_error_quark (void);

G_END_DECLS
