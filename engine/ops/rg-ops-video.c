/* rg-ops-video.c — layout ops on video tensors x [B, C, T, H, W]:
 * nearest upsampling and 1×ph×pw patchify / unpatchify. Pure data movement,
 * parallel over output rows so each thread writes whole contiguous runs. */
#include "ops/rg-ops-cpu.h"

typedef struct {
  const float *x;
  float       *y;
  int64_t      t, h, w; /* input frame dims */
  int          ft, fh, fw;
} Upsample;

/* One index = one output row (b·c, t_out, h_out). */
static void
upsample_rows (void *data, int64_t begin, int64_t end)
{
  const Upsample *c = data;
  int64_t ho = c->h * c->fh, to = c->t * c->ft, wo = c->w * c->fw;
  for (int64_t r = begin; r < end; r++)
    {
      int64_t oh = r % ho, ot = (r / ho) % to, bc = r / (ho * to);
      const float *src = c->x + ((bc * c->t + ot / c->ft) * c->h + oh / c->fh) * c->w;
      float *dst = c->y + r * wo;
      if (c->fw == 1)
        memcpy (dst, src, (size_t) wo * sizeof (float));
      else
        for (int64_t i = 0; i < c->w; i++)
          for (int k = 0; k < c->fw; k++)
            dst[i * c->fw + k] = src[i];
    }
}

void
rg_cpu_upsample_nearest (const RgTensor *x, int ft, int fh, int fw, RgTensor *y)
{
  Upsample c = { rg_tensor_f32 (x), rg_tensor_f32 (y), x->shape[2], x->shape[3], x->shape[4],
                 ft, fh, fw };
  int64_t rows = x->shape[0] * x->shape[1] * y->shape[2] * y->shape[3];
  if (y->shape[4] == 0)
    return;
  rg_parallel_for (rows, rg_cpu_row_grain (y->shape[4]), upsample_rows, &c);
}

/* Token (t, hp, wp) of sample b holds features (c, dh, dw):
 * tokens[b, (t·Hp + hp)·Wp + wp, (c·ph + dh)·pw + dw] = video[b, c, t, hp·ph + dh, wp·pw + dw]. */
typedef struct {
  float   *video, *tokens;
  int64_t  c, t, h, w;
  int      ph, pw;
  gboolean to_tokens;
  gboolean accumulate; /* backward: add into the destination instead of writing */
} Patch;

/* One index = one row of patches (b, t, hp): Wp tokens. */
static void
patch_rows (void *data, int64_t begin, int64_t end)
{
  const Patch *p = data;
  int64_t hp_n = p->h / p->ph, wp_n = p->w / p->pw, feat = p->c * p->ph * p->pw;
  for (int64_t r = begin; r < end; r++)
    {
      int64_t hp = r % hp_n, t = (r / hp_n) % p->t, b = r / (hp_n * p->t);
      float *tok_row = p->tokens + r * wp_n * feat;
      for (int64_t ch = 0; ch < p->c; ch++)
        for (int dh = 0; dh < p->ph; dh++)
          {
            float *vid = p->video + (((b * p->c + ch) * p->t + t) * p->h + hp * p->ph + dh) * p->w;
            float *tok = tok_row + (ch * p->ph + dh) * p->pw;
            if (p->to_tokens && p->accumulate)
              for (int64_t wp = 0; wp < wp_n; wp++)
                for (int dw = 0; dw < p->pw; dw++)
                  tok[wp * feat + dw] += vid[wp * p->pw + dw];
            else if (p->to_tokens)
              for (int64_t wp = 0; wp < wp_n; wp++)
                for (int dw = 0; dw < p->pw; dw++)
                  tok[wp * feat + dw] = vid[wp * p->pw + dw];
            else if (p->accumulate)
              for (int64_t wp = 0; wp < wp_n; wp++)
                for (int dw = 0; dw < p->pw; dw++)
                  vid[wp * p->pw + dw] += tok[wp * feat + dw];
            else
              for (int64_t wp = 0; wp < wp_n; wp++)
                for (int dw = 0; dw < p->pw; dw++)
                  vid[wp * p->pw + dw] = tok[wp * feat + dw];
          }
    }
}

static void
patch_run (RgTensor *video, RgTensor *tokens, int ph, int pw, gboolean to_tokens,
           gboolean accumulate)
{
  Patch p = { rg_tensor_f32 (video), rg_tensor_f32 (tokens), video->shape[1], video->shape[2],
              video->shape[3], video->shape[4], ph, pw, to_tokens, accumulate };
  int64_t rows = video->shape[0] * p.t * (p.h / ph);
  if (p.c == 0 || p.w == 0)
    return;
  rg_parallel_for (rows, rg_cpu_row_grain (p.c * ph * p.w), patch_rows, &p);
}

void
rg_cpu_patchify (const RgTensor *x, int ph, int pw, RgTensor *y)
{
  /* the cast only lets one walker serve both directions; x is only read */
  patch_run ((RgTensor *) x, y, ph, pw, TRUE, FALSE);
}

void
rg_cpu_unpatchify (const RgTensor *x, int ph, int pw, RgTensor *y)
{
  patch_run (y, (RgTensor *) x, ph, pw, FALSE, FALSE);
}

/* ---- backward ---- */

/* One index = one input row (b·c, t, h): it gathers the ft·fh output rows
 * its pixels were copied to, fw columns each. */
static void
upsample_backward_rows (void *data, int64_t begin, int64_t end)
{
  const Upsample *c = data;
  int64_t ho = c->h * c->fh, to = c->t * c->ft, wo = c->w * c->fw;
  for (int64_t r = begin; r < end; r++)
    {
      int64_t ih = r % c->h, it = (r / c->h) % c->t, bc = r / (c->h * c->t);
      float *dst = c->y + r * c->w;
      for (int kt = 0; kt < c->ft; kt++)
        for (int kh = 0; kh < c->fh; kh++)
          {
            const float *src = c->x + ((bc * to + it * c->ft + kt) * ho + ih * c->fh + kh) * wo;
            for (int64_t i = 0; i < c->w; i++)
              for (int k = 0; k < c->fw; k++)
                dst[i] += src[i * c->fw + k];
          }
    }
}

void
rg_cpu_upsample_nearest_backward (const RgTensor *dy, int ft, int fh, int fw, RgTensor *dx)
{
  Upsample c = { rg_tensor_f32 (dy), rg_tensor_f32 (dx), dx->shape[2], dx->shape[3],
                 dx->shape[4], ft, fh, fw };
  int64_t rows = dx->shape[0] * dx->shape[1] * dx->shape[2] * dx->shape[3];
  if (dx->shape[4] == 0)
    return;
  rg_parallel_for (rows, rg_cpu_row_grain (dy->shape[4] * fh * ft), upsample_backward_rows, &c);
}

/* Pure permutations: each backward is the inverse walk, adding. */
void
rg_cpu_patchify_backward (const RgTensor *dy, int ph, int pw, RgTensor *dx)
{
  patch_run (dx, (RgTensor *) dy, ph, pw, FALSE, TRUE);
}

void
rg_cpu_unpatchify_backward (const RgTensor *dy, int ph, int pw, RgTensor *dx)
{
  patch_run ((RgTensor *) dy, dx, ph, pw, TRUE, TRUE);
}
