/* shapes-dump — ShapesWorld training clips for the PyTorch GPU trainers
 * (train_t2v_gpu.py, train_tae_gpu.py), rendered by the engine itself.
 *
 *   shapes-dump FIRST COUNT K SEED CAPTIONS MOTIONS
 *
 * The train-split scenes at data positions FIRST … FIRST + COUNT − 1 of a run
 * with SEED (rg_train_scene_seed: position p is the same scene the C
 * trainer's dataset holds at index p). Each clip's video goes to stdout as
 * u8 [T, H, W, 3] (rg_shapes_render_rgb24, the default 64×64×16 world), and
 * K caption variants of its scene (rg_shapes_caption) go to CAPTIONS, one
 * tab-separated line per clip, and the motions of its shapes (rg_motion_name,
 * space-separated: "bouncing left") to MOTIONS, one line per clip; both are
 * flushed before its video: a reader that stops early has every caption and
 * motion line of the clips it read. The trainer draws its bounce_clips and
 * diagonal_clips shares by the motion lines. */
#include <stdio.h>
#include <stdlib.h>

#include "train/rg-shapes.h"
#include "train/rg-train-data.h"

static gboolean
parse_u64 (const char *s, guint64 max, guint64 *out)
{
  return g_ascii_string_to_unsigned (s, 10, 0, max, out, NULL);
}

int
main (int argc, char **argv)
{
  guint64 first, count, k, seed;
  if (argc != 7 || !parse_u64 (argv[1], G_MAXUINT32, &first)
      || !parse_u64 (argv[2], G_MAXUINT32, &count) || !parse_u64 (argv[3], 64, &k) || k < 1
      || !parse_u64 (argv[4], G_MAXUINT64, &seed))
    {
      fprintf (stderr, "usage: shapes-dump FIRST COUNT K(1..64) SEED CAPTIONS MOTIONS\n");
      return 2;
    }
  FILE *captions = fopen (argv[5], "w");
  FILE *motions = fopen (argv[6], "w");
  if (captions == NULL || motions == NULL)
    {
      fprintf (stderr, "shapes-dump: cannot write %s\n", captions == NULL ? argv[5] : argv[6]);
      if (captions != NULL)
        fclose (captions);
      if (motions != NULL)
        fclose (motions);
      return 1;
    }
  gboolean ok = TRUE;
  RgShapesConfig world;
  rg_shapes_config_init (&world);
  world.split = RG_SHAPES_SPLIT_TRAIN;
  for (guint64 p = first; p < first + count; p++)
    {
      RgShapesScene scene;
      g_autoptr (GError) error = NULL;
      if (!rg_shapes_scene_sample (&world, rg_train_scene_seed (seed, p), &scene, &error))
        {
          fprintf (stderr, "shapes-dump: position %" G_GUINT64_FORMAT ": %s\n", p, error->message);
          ok = FALSE;
          break;
        }
      for (guint64 v = 0; v < k; v++)
        {
          /* distinct variants per position, as the C trainer's caption of
           * position p in a later epoch differs from this epoch's */
          g_autofree char *caption = rg_shapes_caption (&scene, p * 64 + v);
          fprintf (captions, "%s%c", caption, v + 1 < k ? '\t' : '\n');
        }
      for (int s = 0; s < scene.n_shapes; s++)
        fprintf (motions, "%s%s", s > 0 ? " " : "", rg_motion_name (scene.shapes[s].motion));
      fputc ('\n', motions);
      fflush (captions);
      fflush (motions);
      gsize n_bytes;
      g_autofree guint8 *rgb = rg_shapes_render_rgb24 (&scene, &n_bytes);
      if (fwrite (rgb, 1, n_bytes, stdout) != n_bytes)
        {
          ok = FALSE; /* the reader went away */
          break;
        }
    }
  ok = fclose (captions) == 0 && ok;
  ok = fclose (motions) == 0 && ok;
  return ok && fflush (stdout) == 0 ? 0 : 1;
}
