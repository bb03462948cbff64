/* rg-grade-metrics.c — PSNR/SSIM between videos and click-onset alignment. */
#include "train/rg-grade.h"

#include "core/rg-error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

static gboolean
check_pair (RgTensor *a, RgTensor *b, const char *what, GError **error)
{
  if (a->dtype != RG_F32 || b->dtype != RG_F32 || !rg_tensor_same_shape (a, b) || a->ndim < 3)
    {
      g_autofree char *sa = rg_tensor_shape_string (a);
      g_autofree char *sb = rg_tensor_shape_string (b);
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "%s: needs two f32 videos of one shape, got %s and %s", what, sa, sb);
      return FALSE;
    }
  return TRUE;
}

gboolean
rg_grade_psnr (RgTensor *a, RgTensor *b, double *psnr, GError **error)
{
  if (!check_pair (a, b, "PSNR", error))
    return FALSE;
  g_autoptr (RgTensor) pa = rg_tensor_contiguous (a);
  g_autoptr (RgTensor) pb = rg_tensor_contiguous (b);
  const float *x = rg_tensor_f32 (pa), *y = rg_tensor_f32 (pb);
  int64_t n = rg_tensor_numel (pa);
  double sse = 0;
  for (int64_t i = 0; i < n; i++)
    {
      double d = 0.5 * ((double) x[i] - (double) y[i]); /* on the [0, 1] scale */
      sse += d * d;
    }
  *psnr = sse == 0 ? INFINITY : 10.0 * log10 ((double) n / sse);
  return TRUE;
}

double
rg_grade_frame_change (RgTensor *video)
{
  g_return_val_if_fail (video->dtype == RG_F32 && video->ndim >= 3, NAN);
  int64_t t = video->shape[video->ndim - 3];
  int64_t plane = video->shape[video->ndim - 2] * video->shape[video->ndim - 1];
  int64_t rows = t * plane > 0 ? rg_tensor_numel (video) / (t * plane) : 0;
  if (t < 2 || rows == 0 || plane == 0)
    return 0.0;
  g_autoptr (RgTensor) c = rg_tensor_contiguous (video);
  const float *p = rg_tensor_f32 (c);
  double sum = 0.0;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t f = 0; f + 1 < t; f++)
      {
        const float *a = p + (r * t + f) * plane, *b = a + plane;
        for (int64_t i = 0; i < plane; i++)
          sum += fabs ((double) b[i] - (double) a[i]);
      }
  return 0.5 * sum / (double) (rows * (t - 1) * plane);
}

#define SSIM_RADIUS 5
#define SSIM_SIGMA  1.5

/* Valid-mode separable Gaussian filter of one plane: out is (h−10)×(w−10). */
static void
gauss_valid (const double *in, int h, int w, const double *k, double *tmp, double *out)
{
  int ow = w - 2 * SSIM_RADIUS, oh = h - 2 * SSIM_RADIUS;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < ow; x++)
      {
        double s = 0;
        for (int j = 0; j <= 2 * SSIM_RADIUS; j++)
          s += k[j] * in[y * w + x + j];
        tmp[y * ow + x] = s;
      }
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      {
        double s = 0;
        for (int j = 0; j <= 2 * SSIM_RADIUS; j++)
          s += k[j] * tmp[(y + j) * ow + x];
        out[y * ow + x] = s;
      }
}

gboolean
rg_grade_ssim (RgTensor *a, RgTensor *b, double *ssim, GError **error)
{
  if (!check_pair (a, b, "SSIM", error))
    return FALSE;
  int h = (int) a->shape[a->ndim - 2], w = (int) a->shape[a->ndim - 1];
  if (h <= 2 * SSIM_RADIUS || w <= 2 * SSIM_RADIUS)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "SSIM: frames of %d×%d are smaller than the 11×11 window", w, h);
      return FALSE;
    }
  g_autoptr (RgTensor) pa = rg_tensor_contiguous (a);
  g_autoptr (RgTensor) pb = rg_tensor_contiguous (b);
  const float *x = rg_tensor_f32 (pa), *y = rg_tensor_f32 (pb);
  int64_t planes = rg_tensor_numel (pa) / ((int64_t) h * w);

  double k[2 * SSIM_RADIUS + 1], ksum = 0;
  for (int j = -SSIM_RADIUS; j <= SSIM_RADIUS; j++)
    ksum += k[j + SSIM_RADIUS] = exp (-(double) (j * j) / (2 * SSIM_SIGMA * SSIM_SIGMA));
  for (int j = 0; j <= 2 * SSIM_RADIUS; j++)
    k[j] /= ksum;

  const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
  int oh = h - 2 * SSIM_RADIUS, ow = w - 2 * SSIM_RADIUS;
  gsize n = (gsize) h * w, on = (gsize) oh * ow;
  double *buf = g_new (double, 5 * n + (gsize) h * ow + 5 * on);
  double *in[5] = { buf, buf + n, buf + 2 * n, buf + 3 * n, buf + 4 * n };
  double *tmp = buf + 5 * n;
  double *mu[5];
  for (int i = 0; i < 5; i++)
    mu[i] = tmp + (gsize) h * ow + i * on;

  double total = 0;
  for (int64_t p = 0; p < planes; p++)
    {
      const float *xp = x + p * (int64_t) n, *yp = y + p * (int64_t) n;
      for (gsize i = 0; i < n; i++)
        {
          double u = 0.5 * (xp[i] + 1.0), v = 0.5 * (yp[i] + 1.0);
          in[0][i] = u, in[1][i] = v, in[2][i] = u * u, in[3][i] = v * v, in[4][i] = u * v;
        }
      for (int i = 0; i < 5; i++)
        gauss_valid (in[i], h, w, k, tmp, mu[i]);
      double s = 0;
      for (gsize i = 0; i < on; i++)
        {
          double mx = mu[0][i], my = mu[1][i];
          double sxx = mu[2][i] - mx * mx, syy = mu[3][i] - my * my, sxy = mu[4][i] - mx * my;
          s += ((2 * mx * my + C1) * (2 * sxy + C2))
               / ((mx * mx + my * my + C1) * (sxx + syy + C2));
        }
      total += s / on;
    }
  g_free (buf);
  *ssim = total / planes;
  return TRUE;
}

#define ONSET_REFRACTORY 0.030 /* s */

GArray *
rg_grade_audio_onsets (RgTensor *audio, int rate)
{
  GArray *onsets = g_array_new (FALSE, FALSE, sizeof (RgTime));
  g_return_val_if_fail (audio->dtype == RG_F32 && rate > 0, onsets);
  g_autoptr (RgTensor) packed = rg_tensor_contiguous (audio);
  const float *x = rg_tensor_f32 (packed);
  int64_t n = rg_tensor_numel (packed);
  if (n < 1)
    return onsets;

  /* The first difference keeps clicks (broadband) and damps the tones
   * (≤ 1 kHz); its median magnitude is the clip's floor. */
  g_autofree float *d = g_new (float, n);
  g_autofree float *sorted = g_new (float, n);
  for (int64_t i = 0; i < n; i++) /* silence before the clip */
    d[i] = sorted[i] = fabsf (x[i] - (i > 0 ? x[i - 1] : 0.f));
  qsort (sorted, n, sizeof (float), cmp_float);
  float threshold = MAX (0.05f, 8.f * sorted[n / 2]);

  int64_t refractory = (int64_t) (ONSET_REFRACTORY * rate), next = 0;
  for (int64_t i = 0; i < n; i++)
    if (i >= next && d[i] > threshold)
      {
        /* The jump is between i−1 and i: the onset is sample i. */
        RgTime t = rg_time_from_samples (i, rate);
        g_array_append_val (onsets, t);
        next = i + refractory;
      }
  return onsets;
}

void
rg_grade_onset_alignment (const RgTime *events, int n_events, const RgTime *onsets,
                          int n_onsets, RgTime tolerance, RgGradeOnsetScore *score)
{
  memset (score, 0, sizeof *score);
  score->n_events = n_events;
  score->n_onsets = n_onsets;
  double sum = 0;
  /* Both lists are in time order; walk them together. */
  for (int e = 0, o = 0; e < n_events && o < n_onsets;)
    {
      RgTime diff = onsets[o] - events[e];
      if (diff < -tolerance)
        o++;
      else if (diff > tolerance)
        e++;
      else
        {
          double ms = fabs ((double) diff) * 1000.0 / RG_TIME_HZ;
          sum += ms;
          score->max_error_ms = MAX (score->max_error_ms, ms);
          score->matched++;
          e++, o++;
        }
    }
  score->mean_error_ms = score->matched ? sum / score->matched : 0.0;
  score->precision = n_onsets ? (double) score->matched / n_onsets : 1.0;
  score->recall = n_events ? (double) score->matched / n_events : 1.0;
}
