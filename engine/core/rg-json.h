/* rg-json.h — the few JsonBuilder shorthands every room writing JSON uses
 * (provenance, job specs, bench results, CLI --json output). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* "name": "value", or null when value is NULL. */
void rg_json_add_string (JsonBuilder *b, const char *name, const char *value);
/* "name": value */
void rg_json_add_int (JsonBuilder *b, const char *name, gint64 value);
/* "name": value, or null when it is NaN or infinite (JSON has neither). */
void rg_json_add_double (JsonBuilder *b, const char *name, double value);

G_END_DECLS
