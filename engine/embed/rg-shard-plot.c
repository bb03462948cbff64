/* rg-shard-plot.c — cairo drawings for `reelgen shard`. */
#include "embed/rg-shard-plot.h"

#include <cairo.h>
#include <math.h>

#include "core/rg-error.h"

/* A colour per series, readable on white (Tableau 10). */
static const double palette[][3] = {
  { 0.12, 0.47, 0.71 }, { 1.00, 0.50, 0.05 }, { 0.17, 0.63, 0.17 }, { 0.84, 0.15, 0.16 },
  { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
  { 0.74, 0.74, 0.13 }, { 0.09, 0.75, 0.81 },
};
#define N_COLOURS G_N_ELEMENTS (palette)

static void
colour (cairo_t *cr, guint i)
{
  cairo_set_source_rgb (cr, palette[i % N_COLOURS][0], palette[i % N_COLOURS][1],
                        palette[i % N_COLOURS][2]);
}

static void
text (cairo_t *cr, double x, double y, double size, const char *s)
{
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_set_font_size (cr, size);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, s);
}

static cairo_t *
begin (cairo_surface_t **surface, int w, int h)
{
  *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create (*surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  return cr;
}

static gboolean
finish (cairo_surface_t *surface, cairo_t *cr, const char *path, GError **error)
{
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  cairo_status_t st = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot write PNG: %s", path,
                   cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}

static void
frame (cairo_t *cr, double x0, double y0, double w, double h)
{
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x0 + 0.5, y0 + 0.5, w, h);
  cairo_stroke (cr);
}

gboolean
rg_shard_plot_cdf (const RgProfile *profile, const char *path, GError **error)
{
  cairo_surface_t *s;
  const int        W = 900, H = 600;
  const double     x0 = 70, y0 = 50, pw = 620, ph = 480;
  const double     lmin = -5; /* x axis: 10^-5 .. 1 of the rows */
  cairo_t         *cr = begin (&s, W, H);
  char             buf[64];

  text (cr, x0, 30, 16, "Access CDF: share of lookups served by the hottest rows");
  cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
  for (int k = (int) lmin; k <= 0; k++)
    {
      double x = x0 + pw * (k - lmin) / -lmin;
      cairo_move_to (cr, x, y0);
      cairo_line_to (cr, x, y0 + ph);
      cairo_stroke (cr);
      g_snprintf (buf, sizeof buf, "1e%d", k);
      text (cr, x - 12, y0 + ph + 18, 11, buf);
      cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
    }
  for (int k = 0; k <= 4; k++)
    {
      double y = y0 + ph - ph * k / 4.0;
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x0 + pw, y);
      cairo_stroke (cr);
      g_snprintf (buf, sizeof buf, "%d%%", k * 25);
      text (cr, x0 - 38, y + 4, 11, buf);
      cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
    }
  text (cr, x0 + pw / 2 - 90, y0 + ph + 40, 12, "hottest share of the table's rows (log)");
  frame (cr, x0, y0, pw, ph);

  guint shown = MIN (profile->n_tables, 20u);
  for (guint t = 0; t < shown; t++)
    {
      const RgTableProfile *p = &profile->tables[t];
      colour (cr, t);
      cairo_set_line_width (cr, 2);
      for (int i = 0; i <= 400; i++)
        {
          double  lx = lmin + -lmin * i / 400.0;
          int64_t h = (int64_t) ceil (pow (10, lx) * (double) p->rows);
          double  x = x0 + pw * i / 400.0;
          double  y = y0 + ph - ph * rg_table_profile_cdf (p, h);
          if (i == 0)
            cairo_move_to (cr, x, y);
          else
            cairo_line_to (cr, x, y);
        }
      cairo_stroke (cr);
      colour (cr, t);
      cairo_rectangle (cr, x0 + pw + 20, y0 + 4 + t * 22, 14, 10);
      cairo_fill (cr);
      g_snprintf (buf, sizeof buf, "table %u (%" G_GINT64_FORMAT " rows)", t, p->rows);
      text (cr, x0 + pw + 40, y0 + 14 + t * 22, 11, buf);
    }
  if (shown < profile->n_tables)
    {
      g_snprintf (buf, sizeof buf, "(first %u of %u tables)", shown, profile->n_tables);
      text (cr, x0 + pw + 20, y0 + 14 + shown * 22, 11, buf);
    }
  return finish (s, cr, path, error);
}

gboolean
rg_shard_plot_schemes (const char *const *names, const RgShardSimResult *const *sims, guint n,
                       const char *path, GError **error)
{
  if (n == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: no schemes to draw", path);
      return FALSE;
    }
  const double row_h = 90, x0 = 150, lw = 560, gap = 60, tw = 300;
  const int    Wimg = (int) (x0 + lw + gap + tw + 40), Himg = (int) (80 + row_h * n + 40);
  cairo_surface_t *s;
  cairo_t         *cr = begin (&s, Wimg, Himg);
  char             buf[96];

  double load_max = 0, bytes_max = 0;
  for (guint i = 0; i < n; i++)
    {
      for (uint32_t d = 0; d < sims[i]->world; d++)
        load_max = MAX (load_max, sims[i]->device_load[d]);
      bytes_max = MAX (bytes_max, sims[i]->bytes_intra + sims[i]->bytes_inter);
    }
  text (cr, x0, 28, 16, "Per-device memory time per step");
  text (cr, x0 + lw + gap, 28, 16, "Bytes per step by link");
  g_snprintf (buf, sizeof buf, "bars to scale: full width = %.3f ms", load_max * 1e3);
  text (cr, x0, 48, 11, buf);
  g_snprintf (buf, sizeof buf, "full width = %.2f MB", bytes_max / 1e6);
  text (cr, x0 + lw + gap, 48, 11, buf);
  cairo_set_source_rgb (cr, 0.12, 0.47, 0.71);
  cairo_rectangle (cr, x0 + lw + gap + 150, 40, 10, 10);
  cairo_fill (cr);
  text (cr, x0 + lw + gap + 164, 49, 11, "intra");
  cairo_set_source_rgb (cr, 0.84, 0.15, 0.16);
  cairo_rectangle (cr, x0 + lw + gap + 200, 40, 10, 10);
  cairo_fill (cr);
  text (cr, x0 + lw + gap + 214, 49, 11, "inter-node");

  for (guint i = 0; i < n; i++)
    {
      const RgShardSimResult *r = sims[i];
      double                  top = 70 + row_h * i;
      text (cr, 10, top + row_h / 2, 13, names[i]);
      g_snprintf (buf, sizeof buf, "max/mean %.2f", r->load_imbalance);
      text (cr, 10, top + row_h / 2 + 16, 10, buf);
      /* Device bars, one per device, left to right. */
      double bw = lw / MAX (r->world, 1u);
      for (uint32_t d = 0; d < r->world; d++)
        {
          double h = load_max > 0 ? (row_h - 20) * r->device_load[d] / load_max : 0;
          colour (cr, i);
          cairo_rectangle (cr, x0 + d * bw + 1, top + row_h - 10 - h, MAX (bw - 2, 1), h);
          cairo_fill (cr);
        }
      frame (cr, x0, top, lw, row_h - 10);
      /* Traffic: one stacked horizontal bar. */
      double scale = bytes_max > 0 ? tw / bytes_max : 0;
      double wi = r->bytes_intra * scale, we = r->bytes_inter * scale;
      cairo_set_source_rgb (cr, 0.12, 0.47, 0.71);
      cairo_rectangle (cr, x0 + lw + gap, top + 20, wi, 30);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.84, 0.15, 0.16);
      cairo_rectangle (cr, x0 + lw + gap + wi, top + 20, we, 30);
      cairo_fill (cr);
      g_snprintf (buf, sizeof buf, "%.2f + %.2f MB, comm %.3f ms", r->bytes_intra / 1e6,
                  r->bytes_inter / 1e6, r->comm_time * 1e3);
      text (cr, x0 + lw + gap, top + 66, 10, buf);
    }
  return finish (s, cr, path, error);
}
