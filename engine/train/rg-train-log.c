/* rg-train-log.c — CSV loss log that survives resumes. */
#include "train/rg-train-log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/rg-error.h"

struct _RgTrainLog
{
  char *path;
  FILE *fp;
  int64_t last_step;
};

/* Check one data row and return its step, or -1 with an error. */
static int64_t
parse_row (const char *path, guint lineno, const char *line, GError **error)
{
  g_auto (GStrv) fields = g_strsplit (line, ",", -1);
  guint64 step;

  if (g_strv_length (fields) != 5
      || !g_ascii_string_to_unsigned (fields[0], 10, 1, G_MAXINT64, &step, NULL))
    goto bad;
  for (int i = 1; i < 5; i++)
    {
      char *end = NULL;
      g_ascii_strtod (fields[i], &end);
      if (end == fields[i] || *end)
        goto bad;
    }
  return (int64_t)step;

bad:
  g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
               "loss log %s, line %u: expected step,loss,lr,grad_norm,it_per_s, found \"%.60s\"",
               path, lineno, line);
  return -1;
}

/* The log's text up to and including the row of resume_step, validated. */
static GString *
kept_rows (const char *path, int64_t resume_step, int64_t *last_step, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (memchr (text, '\0', len))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "loss log %s contains NUL bytes", path);
      return NULL;
    }

  GString *kept = g_string_new (RG_TRAIN_LOG_HEADER "\n");
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);
  /* the piece after the last newline is empty, or a row torn by a crash */
  guint complete = n > 0 ? n - 1 : 0;

  if (complete == 0 || strcmp (lines[0], RG_TRAIN_LOG_HEADER) != 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                   "%s is not a loss log (its first line is not \"" RG_TRAIN_LOG_HEADER "\")",
                   path);
      g_string_free (kept, TRUE);
      return NULL;
    }

  int64_t prev = 0;
  *last_step = 0;
  for (guint i = 1; i < complete; i++)
    {
      int64_t step = parse_row (path, i + 1, lines[i], error);
      if (step < 0)
        {
          g_string_free (kept, TRUE);
          return NULL;
        }
      if (step <= prev)
        {
          g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT,
                       "loss log %s, line %u: step %" G_GINT64_FORMAT
                       " does not follow step %" G_GINT64_FORMAT,
                       path, i + 1, step, prev);
          g_string_free (kept, TRUE);
          return NULL;
        }
      prev = step;
      if (step <= resume_step)
        {
          g_string_append (kept, lines[i]);
          g_string_append_c (kept, '\n');
          *last_step = step;
        }
    }
  return kept;
}

RgTrainLog *
rg_train_log_open (const char *path, int64_t resume_step, GError **error)
{
  g_autoptr (GString) content = NULL;
  int64_t last_step = 0;

  if (resume_step >= 0 && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      content = kept_rows (path, resume_step, &last_step, error);
      if (!content)
        return NULL;
    }
  else
    content = g_string_new (RG_TRAIN_LOG_HEADER "\n");

  if (!g_file_set_contents (path, content->str, (gssize)content->len, error))
    return NULL;

  FILE *fp = fopen (path, "a");
  if (!fp)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "cannot open loss log %s: %s", path,
                   g_strerror (e));
      return NULL;
    }

  RgTrainLog *log = g_new0 (RgTrainLog, 1);
  log->path = g_strdup (path);
  log->fp = fp;
  log->last_step = last_step;
  return log;
}

gboolean
rg_train_log_append (RgTrainLog *log, int64_t step, double loss, double lr, double grad_norm,
                     double it_per_s, GError **error)
{
  if (step <= log->last_step)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "loss log %s: step %" G_GINT64_FORMAT " after step %" G_GINT64_FORMAT, log->path,
                   step, log->last_step);
      return FALSE;
    }

  /* g_ascii_formatd: a '.' decimal point whatever the locale */
  char b[4][G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (b[0], sizeof b[0], "%.9g", loss);
  g_ascii_formatd (b[1], sizeof b[1], "%.9g", lr);
  g_ascii_formatd (b[2], sizeof b[2], "%.9g", grad_norm);
  g_ascii_formatd (b[3], sizeof b[3], "%.4g", it_per_s);

  if (fprintf (log->fp, "%" G_GINT64_FORMAT ",%s,%s,%s,%s\n", step, b[0], b[1], b[2], b[3]) < 0
      || fflush (log->fp) != 0)
    {
      int e = errno;
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "cannot write loss log %s: %s", log->path,
                   g_strerror (e));
      return FALSE;
    }
  log->last_step = step;
  return TRUE;
}

int64_t
rg_train_log_get_last_step (RgTrainLog *log)
{
  return log->last_step;
}

void
rg_train_log_close (RgTrainLog *log)
{
  if (!log)
    return;
  fclose (log->fp);
  g_free (log->path);
  g_free (log);
}
