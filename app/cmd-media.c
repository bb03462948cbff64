/* cmd-media.c — `reelgen media probe|frame`: inspect media files and grab
 * frames, for people and for scripts (--json). */
#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "core/rg-error.h"
#include "media/rg-image.h"
#include "media/rg-probe.h"
#include "media/rg-video-reader.h"
#include "rg-cli.h"

static void
add_rational (JsonBuilder *b, const char *name, RgRational r)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_add_int_value (b, r.num);
  json_builder_add_int_value (b, r.den);
  json_builder_end_array (b);
}

static void
add_seconds (JsonBuilder *b, const char *name, RgTime t)
{
  json_builder_set_member_name (b, name);
  if (t < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, rg_time_to_seconds (t));
}

static char *
info_to_json (const RgMediaInfo *info)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, info->path);
  json_builder_set_member_name (b, "container");
  json_builder_add_string_value (b, info->container);
  add_seconds (b, "duration", info->duration);
  json_builder_set_member_name (b, "truncated");
  json_builder_add_boolean_value (b, info->truncated);
  json_builder_set_member_name (b, "bit_rate");
  json_builder_add_int_value (b, info->bit_rate);

  json_builder_set_member_name (b, "video");
  json_builder_begin_array (b);
  for (guint i = 0; i < info->n_video; i++)
    {
      const RgVideoStreamInfo *v = &info->video[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, v->index);
      json_builder_set_member_name (b, "codec");
      json_builder_add_string_value (b, v->codec);
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, v->width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, v->height);
      json_builder_set_member_name (b, "pixel_format");
      json_builder_add_string_value (b, v->pixel_format);
      json_builder_set_member_name (b, "bit_depth");
      json_builder_add_int_value (b, v->bit_depth);
      add_rational (b, "nominal_fps", v->nominal_fps);
      add_rational (b, "average_fps", v->average_fps);
      json_builder_set_member_name (b, "variable_fps");
      json_builder_add_boolean_value (b, v->variable_fps);
      json_builder_set_member_name (b, "rotation");
      json_builder_add_int_value (b, v->rotation);
      json_builder_set_member_name (b, "frame_count");
      json_builder_add_int_value (b, v->frame_count);
      add_seconds (b, "duration", v->duration);
      json_builder_set_member_name (b, "still_image");
      json_builder_add_boolean_value (b, v->still_image);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "audio");
  json_builder_begin_array (b);
  for (guint i = 0; i < info->n_audio; i++)
    {
      const RgAudioStreamInfo *a = &info->audio[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, a->index);
      json_builder_set_member_name (b, "codec");
      json_builder_add_string_value (b, a->codec);
      json_builder_set_member_name (b, "sample_rate");
      json_builder_add_int_value (b, a->sample_rate);
      json_builder_set_member_name (b, "channels");
      json_builder_add_int_value (b, a->channels);
      json_builder_set_member_name (b, "channel_layout");
      json_builder_add_string_value (b, a->channel_layout);
      add_seconds (b, "duration", a->duration);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, TRUE);
}

static void
print_info (const RgMediaInfo *info)
{
  printf ("%s: %s, %.3f s%s\n", info->path, info->container_long,
          info->duration >= 0 ? rg_time_to_seconds (info->duration) : -1.0,
          info->truncated ? " (cut short: that much plays, the header claims more)" : "");
  for (guint i = 0; i < info->n_video; i++)
    {
      const RgVideoStreamInfo *v = &info->video[i];
      if (v->still_image)
        printf ("  #%d image: %s %d×%d %s\n", v->index, v->codec, v->width, v->height,
                v->pixel_format);
      else
        {
          char rotated[32] = "";
          if (v->rotation != 0)
            g_snprintf (rotated, sizeof rotated, ", shown rotated %d°", v->rotation);
          printf ("  #%d video: %s %d×%d %s (%d-bit), %.3f fps%s, %" G_GINT64_FORMAT " frames%s\n",
                  v->index, v->codec, v->width, v->height, v->pixel_format, v->bit_depth,
                  v->average_fps.num > 0 ? (double)v->average_fps.num / v->average_fps.den
                                         : (double)v->nominal_fps.num / v->nominal_fps.den,
                  v->variable_fps ? " (variable)" : "", v->frame_count, rotated);
        }
    }
  for (guint i = 0; i < info->n_audio; i++)
    {
      const RgAudioStreamInfo *a = &info->audio[i];
      printf ("  #%d audio: %s %d Hz %s\n", a->index, a->codec, a->sample_rate, a->channel_layout);
    }
}

static int
media_probe (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL }, { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE — describe a media file");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "media probe"))
    return 2;
  if (argc != 2)
    {
      g_printerr ("reelgen media probe: expected one FILE\n");
      return 2;
    }
  GError *error = NULL;
  g_autoptr (RgMediaInfo) info = rg_probe (argv[1], &error);
  if (info == NULL)
    return rg_cli_fail ("media probe", error);
  if (json)
    {
      g_autofree char *text = info_to_json (info);
      printf ("%s\n", text);
    }
  else
    print_info (info);
  return 0;
}

static int
media_frame (int argc, char **argv)
{
  g_autofree char *at = NULL, *output = NULL;
  int width = 0;
  GOptionEntry entries[]
      = { { "at", 0, 0, G_OPTION_ARG_STRING, &at, "Time in seconds (e.g. 12.48)", "SECONDS" },
          { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "PNG to write", "FILE" },
          { "width", 'w', 0, G_OPTION_ARG_INT, &width, "Scale to this width (aspect kept)",
            "PIXELS" },
          { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE — save the frame shown at a time");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rg_cli_parse (ctx, &argc, &argv, "media frame"))
    return 2;
  RgTime t = 0;
  GError *error = NULL;
  if (argc != 2 || output == NULL || width < 0)
    {
      g_printerr ("reelgen media frame: usage: FILE --at SECONDS -o FRAME.png\n");
      return 2;
    }
  /* seconds or ticks; frames ("36f") would need the stream's rate first */
  if (at != NULL && !rg_time_parse (at, (RgRational){ 0, 1 }, &t, &error))
    {
      rg_cli_fail ("media frame", error);
      return 2;
    }
  RgVideoReaderOptions opts = { .width = width, .format = RG_PIXEL_RGBA };
  g_autoptr (RgVideoReader) r = rg_video_reader_open (argv[1], &opts, &error);
  RgVideoFrame f;
  if (r == NULL || !rg_video_reader_frame_at (r, t, &f, &error)
      || !rg_image_write_png (output, f.data, f.width, f.height, &error))
    return rg_cli_fail ("media frame", error);
  printf ("%s: %d×%d, the frame shown from %.3f s to %.3f s\n", output, f.width, f.height,
          rg_time_to_seconds (f.pts), rg_time_to_seconds (f.pts + f.duration));
  return 0;
}

int
rg_cmd_media_main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "probe") == 0)
    return media_probe (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "frame") == 0)
    return media_frame (argc - 1, argv + 1);
  g_printerr ("Usage: reelgen media probe FILE [--json]\n"
              "       reelgen media frame FILE --at SECONDS -o FRAME.png [--width N]\n");
  return 2;
}
