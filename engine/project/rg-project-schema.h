/* rg-project-schema.h — schema migrations and the sanity check run on open. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* PRAGMA application_id of every project file: "RGNP". A SQLite file
 * without it is someone else's database, not a project. */
#define RG_PROJECT_APPLICATION_ID 0x52474e50

/* Runs the migrations from user_version `from` to the current one, then
 * stamps user_version and application_id. The caller holds a transaction. */
gboolean rg_project_schema_migrate (sqlite3 *db, int from, const char *path, GError **error);

/* Every table of the current schema exists. */
gboolean rg_project_schema_check (sqlite3 *db, const char *path, GError **error);

G_END_DECLS
