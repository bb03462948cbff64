/* rg-time.c — rational time conversions with 128-bit intermediates. */
#include "rg-time.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rg-error.h"

int64_t
rg_rescale (int64_t a, int64_t b, int64_t c)
{
  g_return_val_if_fail (c > 0, 0);
  __int128 p = (__int128) a * b;
  __int128 half = c / 2;
  __int128 q = p >= 0 ? (p + half) / c : -((-p + half) / c);
  return (int64_t) q;
}

RgTime
rg_time_from_tb (int64_t value, RgRational tb)
{
  return rg_rescale (value, RG_TIME_HZ * tb.num, tb.den);
}

int64_t
rg_time_to_tb (RgTime t, RgRational tb)
{
  return rg_rescale (t, tb.den, RG_TIME_HZ * tb.num);
}

RgTime
rg_time_from_frame (int64_t frame, RgRational fps)
{
  return rg_rescale (frame, RG_TIME_HZ * fps.den, fps.num);
}

int64_t
rg_time_to_frame (RgTime t, RgRational fps)
{
  __int128 p = (__int128) t * fps.num;
  __int128 d = (__int128) RG_TIME_HZ * fps.den;
  __int128 q = p / d;
  if ((p % d != 0) && (p < 0))
    q -= 1;
  return (int64_t) q;
}

RgTime
rg_time_from_samples (int64_t samples, int rate)
{
  return rg_rescale (samples, RG_TIME_HZ, rate);
}

int64_t
rg_time_to_samples (RgTime t, int rate)
{
  return rg_rescale (t, rate, RG_TIME_HZ);
}

double
rg_time_to_seconds (RgTime t)
{
  return (double) t / (double) RG_TIME_HZ;
}

RgTime
rg_time_from_seconds (double s)
{
  return (RgTime) llround (s * (double) RG_TIME_HZ);
}

/* ---- times as people type and read them ---- */

/* Parses a decimal "S[.fff…]" into ticks exactly (no float): 1.5 → 135000. */
static gboolean
parse_seconds (const char *text, RgTime *out)
{
  const char *p = text;
  gboolean neg = *p == '-';
  if (neg)
    p++;
  int64_t whole = 0, num = 0, den = 1;
  gboolean digits = FALSE;
  for (; g_ascii_isdigit (*p); p++, digits = TRUE)
    {
      if (whole > (INT64_MAX / RG_TIME_HZ - 9) / 10)
        return FALSE;
      whole = whole * 10 + (*p - '0');
    }
  if (*p == '.')
    for (p++; g_ascii_isdigit (*p); p++, digits = TRUE)
      if (den < 1000000000000LL) /* finer than 1 ps cannot change a tick */
        {
          num = num * 10 + (*p - '0');
          den *= 10;
        }
  if (!digits || *p != '\0')
    return FALSE;
  RgTime t = whole * RG_TIME_HZ + rg_rescale (num, RG_TIME_HZ, den);
  *out = neg ? -t : t;
  return TRUE;
}

static gboolean
parse_integer (const char *text, size_t len, int64_t *out)
{
  g_autofree char *s = g_strndup (text, len);
  return g_ascii_string_to_signed (s, 10, -(INT64_MAX / 2), INT64_MAX / 2, out, NULL);
}

gboolean
rg_time_parse (const char *text, RgRational fps, RgTime *out, GError **error)
{
  size_t len = text ? strlen (text) : 0;
  int64_t n = 0;
  gboolean ok = FALSE;
  if (len > 1 && text[len - 1] == 'f')
    {
      ok = fps.num > 0 && fps.den > 0 && parse_integer (text, len - 1, &n)
           && n < INT64_MAX / (RG_TIME_HZ * fps.den);
      if (ok)
        *out = rg_time_from_frame (n, fps);
    }
  else if (len > 1 && text[len - 1] == 't')
    {
      ok = parse_integer (text, len - 1, &n);
      if (ok)
        *out = n;
    }
  else if (len > 0)
    ok = parse_seconds (text, out);
  if (!ok)
    g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                 "“%s” is not a time: write seconds (1.5), frames (36f) or ticks of 1/90000 s"
                 " (135000t)",
                 text ? text : "");
  return ok;
}

char *
rg_time_format (RgTime t)
{
  const char *sign = t < 0 ? "-" : "";
  uint64_t a = t < 0 ? -(uint64_t)t : (uint64_t)t;
  uint64_t ms = (a * 1000 + RG_TIME_HZ / 2) / RG_TIME_HZ;
  return g_strdup_printf ("%s%02" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT ":%02" G_GUINT64_FORMAT
                          ".%03" G_GUINT64_FORMAT,
                          sign, ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}
