/* project-test-util.h — scaffolding shared by the project tests: a scratch
 * folder, a project in it, generated assets of a chosen length, dumps. */
#pragma once

#include "project/rg-project.h"

G_BEGIN_DECLS

#define FPS ((RgRational){ 24, 1 })
#define SEC(s) ((RgTime)((s)*RG_TIME_HZ))

/* A fresh folder under the temp dir, removed (flat, plus its .assets
 * folders) by rg_test_rmdir. */
char *rg_test_tmpdir (void);
void rg_test_rmdir (const char *dir);

RgProject *rg_test_project (const char *dir, const char *name);
/* A generated asset (unique bytes in a file, registered with explicit
 * metadata and a provenance row) of the given kind and length. */
int64_t rg_test_asset (RgProject *p, RgAssetKind kind, RgTime duration);
char *rg_test_dump (RgProject *p);
int64_t rg_test_track_id (RgProject *p, int position);

G_END_DECLS
