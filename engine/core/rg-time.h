/* rg-time.h — rational time (DESIGN §3): never float seconds.
 *
 * RgTime is a count of ticks of 1/90000 s (MPEG's clock: divisible by 24, 25,
 * 30, 48, 50, 60 fps and by 8 kHz … 48 kHz sample periods only approximately,
 * so audio positions are kept in samples and converted at the edges).
 * RgRational is a num/den pair for frame rates and stream time bases. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef int64_t RgTime;

#define RG_TIME_HZ ((RgTime) 90000)

typedef struct {
  int64_t num;
  int64_t den;
} RgRational;

/* a·b/c rounded to nearest (ties away from zero), without intermediate
 * overflow for |a·b| < 2^126; c > 0. */
int64_t rg_rescale (int64_t a, int64_t b, int64_t c);

/* value in time base tb (seconds = value·tb.num/tb.den) → ticks, and back. */
RgTime  rg_time_from_tb (int64_t value, RgRational tb);
int64_t rg_time_to_tb (RgTime t, RgRational tb);
/* frame index ↔ ticks at a frame rate (frames per second = fps.num/fps.den). */
RgTime  rg_time_from_frame (int64_t frame, RgRational fps);
int64_t rg_time_to_frame (RgTime t, RgRational fps); /* floor */
/* sample index ↔ ticks at an integer sample rate. */
RgTime  rg_time_from_samples (int64_t samples, int rate);
int64_t rg_time_to_samples (RgTime t, int rate); /* nearest */
/* Parses "1.5" (seconds, exactly: no float), "36f" (frames at fps; needs
 * fps.num > 0) or "135000t" (ticks); a GError says what was expected. */
gboolean rg_time_parse (const char *text, RgRational fps, RgTime *out, GError **error);
/* "HH:MM:SS.mmm" (negative times get a leading '-'); caller frees. */
char    *rg_time_format (RgTime t);
/* For display only. */
double  rg_time_to_seconds (RgTime t);
RgTime  rg_time_from_seconds (double s);

G_END_DECLS
