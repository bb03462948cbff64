/* rg-train-log.h — the loss log: one CSV row per optimizer update.
 *
 *   step,loss,lr,grad_norm,it_per_s
 *
 * `step` counts updates done (1 for the first). Opening for a resumed run
 * keeps the rows up to the checkpoint's step and drops the rest — those
 * updates are about to be redone, and keeping them would leave the log with
 * two different rows for one step. The kept part is rewritten atomically.
 * A last line without its newline is a row torn by a crash and is dropped.
 * Each row is flushed as it is written, so a crash loses at most the row
 * being written. Numbers are printed with 9 significant digits, enough to
 * round-trip an f32 loss exactly. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define RG_TRAIN_LOG_HEADER "step,loss,lr,grad_norm,it_per_s"

typedef struct _RgTrainLog RgTrainLog;

/* resume_step < 0: a fresh run (the file is replaced by a header).
 * resume_step >= 0: keep rows with step <= resume_step (a missing file is
 * started fresh). A file that is not this log (wrong header, unparsable or
 * non-increasing steps) is refused with RG_ERROR_CORRUPT naming the line. */
RgTrainLog *rg_train_log_open (const char *path, int64_t resume_step, GError **error);
gboolean rg_train_log_append (RgTrainLog *log, int64_t step, double loss, double lr,
                              double grad_norm, double it_per_s, GError **error);
/* The last step written (or kept on open); 0 when none. */
int64_t rg_train_log_get_last_step (RgTrainLog *log);
void rg_train_log_close (RgTrainLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgTrainLog, rg_train_log_close)

G_END_DECLS
