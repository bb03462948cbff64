/* rg-time.c — rational time conversions with 128-bit intermediates. */
#include "rg-time.h"

#include <math.h>

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
