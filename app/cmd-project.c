/* cmd-project.c — `reelgen project`: create and edit projects from scripts.
 *
 * reelgen project VERB FILE [ARGS…] [OPTIONS…]; every verb is one engine
 * request (one transaction, one undo step) and prints what it did, as JSON
 * with --json. Times are seconds (1.5), frames (36f) or ticks (135000t). */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/rg-error.h"
#include "core/rg-json.h"
#include "project/rg-project.h"
#include "rg-cli.h"

typedef struct
{
  gboolean json;
  char *fps;
  gint64 asset, track, clip;
  char *at, *in, *out;
  gboolean ripple;
  char *kind, *name;
  int position;
  char *output;
} Options;

typedef int (*VerbFunc) (Options *o, const char *file, char **args);

static const char *
kind_name (RgAssetKind k)
{
  return k == RG_ASSET_VIDEO ? "video" : k == RG_ASSET_AUDIO ? "audio" : "image";
}

/* Closes the JSON object with its "ok" and prints it (and frees the
 * builder), or prints the human line. */
static int
finish_result (Options *o, JsonBuilder *b, gboolean ok, const char *human)
{
  if (o->json)
    {
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, ok);
      json_builder_end_object (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);
      printf ("%s\n", text);
    }
  else if (human)
    printf ("%s\n", human);
  g_object_unref (b);
  return ok ? 0 : 1;
}

static int
print_result (Options *o, JsonBuilder *b, const char *human)
{
  return finish_result (o, b, TRUE, human);
}

static JsonBuilder *
result_new (const char *verb)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "verb");
  json_builder_add_string_value (b, verb);
  return b;
}

static gboolean
parse_time (RgProject *p, const char *what, const char *text, RgTime *out, GError **error)
{
  if (!text)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "--%s is required", what);
      return FALSE;
    }
  if (!rg_time_parse (text, rg_project_fps (p), out, error))
    {
      g_prefix_error (error, "--%s: ", what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_fps (const char *text, RgRational *fps, GError **error)
{
  gint64 num = 0, den = 1;
  g_auto (GStrv) parts = g_strsplit (text, "/", 2);
  gboolean ok = g_ascii_string_to_signed (parts[0], 10, 1, 1000000, &num, NULL)
                && (!parts[1] || g_ascii_string_to_signed (parts[1], 10, 1, 1000000, &den, NULL));
  if (!ok)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "--fps: “%s” is not a frame rate (e.g. 24, 30000/1001)", text);
      return FALSE;
    }
  *fps = (RgRational){ num, den };
  return TRUE;
}

/* With --json a failure is also a JSON object on stdout, so a script reads
 * one stream; the message always goes to stderr. */
static gboolean json_errors;

static const char *
error_code_name (const GError *error)
{
  static const char *const names[]
      = { "failed",    "invalid-argument", "corrupt",   "io",     "unsupported",
          "no-memory", "not-found",        "cancelled", "version" };
  if (error->domain == RG_ERROR && error->code >= 0 && error->code < (int)G_N_ELEMENTS (names))
    return names[error->code];
  return "failed";
}

static int
edit_failed (const char *verb, GError *error)
{
  if (json_errors)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, FALSE);
      rg_json_add_string (b, "verb", verb);
      rg_json_add_string (b, "error", error->message);
      rg_json_add_string (b, "code", error_code_name (error));
      json_builder_end_object (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);
      printf ("%s\n", text);
    }
  g_autofree char *cmd = g_strconcat ("project ", verb, NULL);
  return rg_cli_fail (cmd, error);
}

/* Opens the project for an edit verb; on failure reports and returns NULL. */
static RgProject *
open_for (const char *verb, const char *file)
{
  GError *error = NULL;
  RgProject *p = rg_project_open (file, &error);
  if (!p)
    edit_failed (verb, error);
  return p;
}

static int
verb_new (Options *o, const char *file, char **args)
{
  g_autoptr (GError) error = NULL;
  RgRational fps = { 24, 1 };
  if (o->fps && !parse_fps (o->fps, &fps, &error))
    return edit_failed ("new", g_steal_pointer (&error));
  g_autoptr (RgProject) p = rg_project_create (file, fps, &error);
  if (!p)
    return edit_failed ("new", g_steal_pointer (&error));
  JsonBuilder *b = result_new ("new");
  rg_json_add_string (b, "file", rg_project_path (p));
  g_autofree char *human = g_strdup_printf ("created %s", rg_project_path (p));
  return print_result (o, b, human);
}

static int
verb_import (Options *o, const char *file, char **args)
{
  g_autoptr (GError) error = NULL;
  if (!args || !args[0])
    {
      g_printerr ("reelgen project import: name at least one media file\n");
      return 2;
    }
  g_autoptr (RgProject) p = rg_project_open (file, &error);
  if (!p)
    return edit_failed ("import", g_steal_pointer (&error));
  JsonBuilder *b = result_new ("import");
  json_builder_set_member_name (b, "assets");
  json_builder_begin_array (b);
  int failures = 0;
  for (char **m = args; *m; m++)
    {
      int64_t id = rg_project_import (p, *m, &error);
      json_builder_begin_object (b);
      rg_json_add_string (b, "file", *m);
      if (id)
        rg_json_add_int (b, "asset", id);
      else
        rg_json_add_string (b, "error", error->message);
      json_builder_end_object (b);
      if (!id)
        {
          g_printerr ("reelgen project import: %s\n", error->message);
          failures++;
        }
      else if (!o->json)
        printf ("asset %" G_GINT64_FORMAT ": %s\n", id, *m);
      g_clear_error (&error);
    }
  json_builder_end_array (b);
  rg_json_add_int (b, "failed", failures); /* the others were imported */
  return finish_result (o, b, failures == 0, NULL);
}

static void
list_assets (RgProject *p, JsonBuilder *b, gboolean json)
{
  g_autoptr (GPtrArray) assets = rg_project_list_assets (p, NULL);
  json_builder_set_member_name (b, "assets");
  json_builder_begin_array (b);
  for (guint i = 0; assets && i < assets->len; i++)
    {
      RgAsset *a = assets->pdata[i];
      g_autofree char *dur = rg_time_format (a->info.duration);
      if (!json)
        printf ("asset %" G_GINT64_FORMAT "  %-5s %s  %s%s\n", a->id, kind_name (a->info.kind),
                a->info.kind == RG_ASSET_IMAGE ? "(still)     " : dur, a->path,
                a->generated ? " (generated)" : "");
      json_builder_begin_object (b);
      rg_json_add_int (b, "id", a->id);
      rg_json_add_string (b, "kind", kind_name (a->info.kind));
      rg_json_add_string (b, "path", a->path);
      rg_json_add_string (b, "sha256", a->hash);
      json_builder_set_member_name (b, "generated");
      json_builder_add_boolean_value (b, a->generated);
      rg_json_add_int (b, "duration_ticks", a->info.duration);
      rg_json_add_int (b, "width", a->info.width);
      rg_json_add_int (b, "height", a->info.height);
      rg_json_add_int (b, "sample_rate", a->info.sample_rate);
      rg_json_add_int (b, "channels", a->info.channels);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
list_tracks (RgProject *p, JsonBuilder *b, gboolean json)
{
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (p, NULL);
  json_builder_set_member_name (b, "tracks");
  json_builder_begin_array (b);
  for (guint i = 0; tracks && i < tracks->len; i++)
    {
      RgTrack *t = tracks->pdata[i];
      const char *kind = t->kind == RG_TRACK_VIDEO ? "video" : "audio";
      if (!json)
        printf ("track %" G_GINT64_FORMAT "  %s %s%s%s\n", t->id, kind, t->name,
                t->muted ? " [muted]" : "", t->locked ? " [locked]" : "");
      json_builder_begin_object (b);
      rg_json_add_int (b, "id", t->id);
      rg_json_add_string (b, "kind", kind);
      rg_json_add_string (b, "name", t->name);
      rg_json_add_int (b, "position", t->position);
      json_builder_set_member_name (b, "muted");
      json_builder_add_boolean_value (b, t->muted);
      json_builder_set_member_name (b, "locked");
      json_builder_add_boolean_value (b, t->locked);
      json_builder_set_member_name (b, "clips");
      json_builder_begin_array (b);
      g_autoptr (GArray) clips = rg_project_list_clips (p, t->id, NULL);
      for (guint k = 0; clips && k < clips->len; k++)
        {
          RgClip *c = &g_array_index (clips, RgClip, k);
          g_autofree char *s = rg_time_format (c->start);
          g_autofree char *e = rg_time_format (c->start + c->src_out - c->src_in);
          g_autofree char *in = rg_time_format (c->src_in);
          g_autofree char *out = rg_time_format (c->src_out);
          if (!json)
            printf ("  clip %" G_GINT64_FORMAT "  %s – %s  asset %" G_GINT64_FORMAT " [%s – %s]\n",
                    c->id, s, e, c->asset_id, in, out);
          json_builder_begin_object (b);
          rg_json_add_int (b, "id", c->id);
          rg_json_add_int (b, "asset", c->asset_id);
          rg_json_add_int (b, "start_ticks", c->start);
          rg_json_add_int (b, "in_ticks", c->src_in);
          rg_json_add_int (b, "out_ticks", c->src_out);
          rg_json_add_string (b, "start", s);
          rg_json_add_string (b, "end", e);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static int
verb_ls (Options *o, const char *file, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RgProject) p = rg_project_open (file, &error);
  if (!p)
    return edit_failed ("ls", g_steal_pointer (&error));
  RgRational fps = rg_project_fps (p);
  g_autofree char *fps_text
      = g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, fps.num, fps.den);
  g_autofree char *undo = rg_project_undo_label (p);
  g_autofree char *redo = rg_project_redo_label (p);
  if (!o->json)
    printf ("%s  (%s fps)%s\n", rg_project_path (p), fps_text,
            rg_project_was_recovered (p) ? "  — recovered after an unclean exit" : "");
  JsonBuilder *b = result_new ("ls");
  rg_json_add_string (b, "file", rg_project_path (p));
  rg_json_add_string (b, "fps", fps_text);
  json_builder_set_member_name (b, "recovered");
  json_builder_add_boolean_value (b, rg_project_was_recovered (p));
  rg_json_add_string (b, "undo", undo);
  rg_json_add_string (b, "redo", redo);
  list_assets (p, b, o->json);
  list_tracks (p, b, o->json);
  if (!o->json)
    printf ("undo: %s   redo: %s\n", undo ? undo : "—", redo ? redo : "—");
  return print_result (o, b, NULL);
}

static int
verb_add_clip (Options *o, const char *file, char **args)
{
  g_autoptr (RgProject) p = open_for ("add-clip", file);
  if (!p)
    return 1;
  GError *error = NULL;
  RgAsset a = { 0 };
  RgTime at = 0, in = 0, out = 0;
  if (!rg_project_get_asset (p, o->asset, &a, &error) || !parse_time (p, "at", o->at, &at, &error)
      || (o->in && !parse_time (p, "in", o->in, &in, &error)))
    {
      rg_asset_clear (&a);
      return edit_failed ("add-clip", error);
    }
  /* Without --out the clip runs to the end of its source. */
  if (o->out)
    {
      if (!parse_time (p, "out", o->out, &out, &error))
        {
          rg_asset_clear (&a);
          return edit_failed ("add-clip", error);
        }
    }
  else if (a.info.kind == RG_ASSET_IMAGE)
    out = in + 5 * RG_TIME_HZ;
  else
    out = a.info.duration;
  rg_asset_clear (&a);
  int64_t id = rg_project_add_clip (p, o->asset, o->track, at, in, out, &error);
  if (!id)
    return edit_failed ("add-clip", error);
  JsonBuilder *b = result_new ("add-clip");
  rg_json_add_int (b, "clip", id);
  g_autofree char *human = g_strdup_printf ("clip %" G_GINT64_FORMAT, id);
  return print_result (o, b, human);
}

static int
verb_trim (Options *o, const char *file, char **args)
{
  g_autoptr (RgProject) p = open_for ("trim", file);
  if (!p)
    return 1;
  GError *error = NULL;
  RgTime t = 0;
  if (!o->in == !o->out)
    {
      g_set_error (&error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "give exactly one of --in (new source in-point) or --out (new out-point)");
      return edit_failed ("trim", error);
    }
  RgEdge edge = o->in ? RG_EDGE_START : RG_EDGE_END;
  if (!parse_time (p, o->in ? "in" : "out", o->in ? o->in : o->out, &t, &error)
      || !rg_project_trim_clip (p, o->clip, edge, t, o->ripple, &error))
    return edit_failed ("trim", error);
  JsonBuilder *b = result_new ("trim");
  rg_json_add_int (b, "clip", o->clip);
  return print_result (o, b, "trimmed");
}

static int
verb_split (Options *o, const char *file, char **args)
{
  g_autoptr (RgProject) p = open_for ("split", file);
  if (!p)
    return 1;
  GError *error = NULL;
  RgTime at = 0;
  int64_t right = 0;
  if (!parse_time (p, "at", o->at, &at, &error)
      || !(right = rg_project_split_clip (p, o->clip, at, &error)))
    return edit_failed ("split", error);
  JsonBuilder *b = result_new ("split");
  rg_json_add_int (b, "clip", o->clip);
  rg_json_add_int (b, "new_clip", right);
  g_autofree char *human = g_strdup_printf ("new clip %" G_GINT64_FORMAT, right);
  return print_result (o, b, human);
}

static int
verb_move (Options *o, const char *file, char **args)
{
  g_autoptr (RgProject) p = open_for ("move", file);
  if (!p)
    return 1;
  GError *error = NULL;
  RgClip c;
  if (!rg_project_get_clip (p, o->clip, &c, &error))
    return edit_failed ("move", error);
  RgTime at = c.start;
  if ((o->at && !parse_time (p, "at", o->at, &at, &error))
      || !rg_project_move_clip (p, o->clip, o->track ? o->track : c.track_id, at, &error))
    return edit_failed ("move", error);
  JsonBuilder *b = result_new ("move");
  rg_json_add_int (b, "clip", o->clip);
  return print_result (o, b, "moved");
}

static int
verb_delete (Options *o, const char *file, char **args)
{
  g_autoptr (RgProject) p = open_for ("delete", file);
  if (!p)
    return 1;
  GError *error = NULL;
  if (!rg_project_delete_clip (p, o->clip, o->ripple, &error))
    return edit_failed ("delete", error);
  JsonBuilder *b = result_new ("delete");
  rg_json_add_int (b, "clip", o->clip);
  return print_result (o, b, "deleted");
}

static int
verb_history (Options *o, const char *file, gboolean redo)
{
  const char *verb = redo ? "redo" : "undo";
  g_autoptr (RgProject) p = open_for (verb, file);
  if (!p)
    return 1;
  GError *error = NULL;
  g_autofree char *label = redo ? rg_project_redo_label (p) : rg_project_undo_label (p);
  if (!(redo ? rg_project_redo (p, &error) : rg_project_undo (p, &error)))
    return edit_failed (verb, error);
  JsonBuilder *b = result_new (verb);
  rg_json_add_string (b, "step", label);
  g_autofree char *human = g_strdup_printf ("%s: %s", verb, label);
  return print_result (o, b, human);
}

static int
verb_undo (Options *o, const char *file, char **args)
{
  return verb_history (o, file, FALSE);
}

static int
verb_redo (Options *o, const char *file, char **args)
{
  return verb_history (o, file, TRUE);
}

static int
verb_save_as (Options *o, const char *file, char **args)
{
  if (!args || !args[0])
    {
      g_printerr ("reelgen project save-as: name the new project file\n");
      return 2;
    }
  g_autoptr (RgProject) p = open_for ("save-as", file);
  if (!p)
    return 1;
  GError *error = NULL;
  if (!rg_project_save_as (p, args[0], &error))
    return edit_failed ("save-as", error);
  JsonBuilder *b = result_new ("save-as");
  rg_json_add_string (b, "file", args[0]);
  g_autofree char *human = g_strdup_printf ("saved a copy as %s", args[0]);
  return print_result (o, b, human);
}

static int
verb_relink (Options *o, const char *file, char **args)
{
  if (!args || !args[0])
    {
      g_printerr ("reelgen project relink: name the moved media file\n");
      return 2;
    }
  g_autoptr (RgProject) p = open_for ("relink", file);
  if (!p)
    return 1;
  GError *error = NULL;
  if (!rg_project_relink_asset (p, o->asset, args[0], &error))
    return edit_failed ("relink", error);
  JsonBuilder *b = result_new ("relink");
  rg_json_add_int (b, "asset", o->asset);
  return print_result (o, b, "relinked");
}

static int
verb_add_track (Options *o, const char *file, char **args)
{
  g_autoptr (RgProject) p = open_for ("add-track", file);
  if (!p)
    return 1;
  GError *error = NULL;
  const char *kind = o->kind ? o->kind : "video";
  if (strcmp (kind, "video") != 0 && strcmp (kind, "audio") != 0)
    {
      g_set_error (&error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "--kind must be video or audio, not “%s”", kind);
      return edit_failed ("add-track", error);
    }
  RgTrackKind k = kind[0] == 'v' ? RG_TRACK_VIDEO : RG_TRACK_AUDIO;
  int64_t id = rg_project_add_track (p, k, o->name ? o->name : (k == RG_TRACK_VIDEO ? "V" : "A"),
                                     o->position, &error);
  if (!id)
    return edit_failed ("add-track", error);
  JsonBuilder *b = result_new ("add-track");
  rg_json_add_int (b, "track", id);
  g_autofree char *human = g_strdup_printf ("track %" G_GINT64_FORMAT, id);
  return print_result (o, b, human);
}

typedef struct
{
  Options *o;
  GCancellable *cancel;
  int last_percent;
} ExportState;

static void
on_export_progress (double fraction, double eta, gpointer data)
{
  ExportState *st = data;
  if (rg_cli_interrupted ())
    g_cancellable_cancel (st->cancel); /* the export removes its partial file */
  int percent = (int)(fraction * 100.0);
  if (!st->o->json && isatty (STDERR_FILENO) && percent != st->last_percent)
    {
      g_printerr ("\rexporting: %3d%%%s", percent, percent == 100 ? "\n" : "");
      st->last_percent = percent;
    }
}

static int
verb_export (Options *o, const char *file, char **args)
{
  if (!o->output)
    {
      g_printerr ("reelgen project export: give the output file with -o OUT.mp4\n");
      return 2;
    }
  g_autoptr (RgProject) p = open_for ("export", file);
  if (!p)
    return 1;
  rg_cli_install_sigint ();
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  ExportState st = { o, cancel, -1 };
  GError *error = NULL;
  if (!rg_project_export (p, o->output, NULL, on_export_progress, &st, cancel, &error))
    return edit_failed ("export", error);
  JsonBuilder *b = result_new ("export");
  rg_json_add_string (b, "output", o->output);
  g_autofree char *human = g_strdup_printf ("exported %s", o->output);
  return print_result (o, b, human);
}

static const struct
{
  const char *name;
  VerbFunc func;
  const char *help;
} verbs[] = {
  { "new", verb_new, "new FILE [--fps 24]" },
  { "import", verb_import, "import FILE MEDIA…" },
  { "ls", verb_ls, "ls FILE" },
  { "add-clip", verb_add_clip, "add-clip FILE --asset ID --track N --at T [--in T] [--out T]" },
  { "trim", verb_trim, "trim FILE --clip ID (--in T | --out T) [--ripple]" },
  { "split", verb_split, "split FILE --clip ID --at T" },
  { "move", verb_move, "move FILE --clip ID [--track N] [--at T]" },
  { "delete", verb_delete, "delete FILE --clip ID [--ripple]" },
  { "undo", verb_undo, "undo FILE" },
  { "redo", verb_redo, "redo FILE" },
  { "save-as", verb_save_as, "save-as FILE NEW-FILE" },
  { "relink", verb_relink, "relink FILE --asset ID MEDIA" },
  { "add-track", verb_add_track, "add-track FILE [--kind video|audio] [--name N] [--position P]" },
  { "export", verb_export, "export FILE -o OUT.mp4|.webm|.mkv" },
};

int
rg_cmd_project_main (int argc, char **argv)
{
  Options o = { .position = -1 };
  GOptionEntry entries[]
      = { { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "Print JSON", NULL },
          { "fps", 0, 0, G_OPTION_ARG_STRING, &o.fps,
            "Frame rate of a new project (24, 30000/1001)", "R" },
          { "asset", 0, 0, G_OPTION_ARG_INT64, &o.asset, "Asset id", "ID" },
          { "track", 0, 0, G_OPTION_ARG_INT64, &o.track, "Track id", "N" },
          { "clip", 0, 0, G_OPTION_ARG_INT64, &o.clip, "Clip id", "ID" },
          { "at", 0, 0, G_OPTION_ARG_STRING, &o.at, "Timeline time", "T" },
          { "in", 0, 0, G_OPTION_ARG_STRING, &o.in, "Source in-point", "T" },
          { "out", 0, 0, G_OPTION_ARG_STRING, &o.out, "Source out-point", "T" },
          { "ripple", 0, 0, G_OPTION_ARG_NONE, &o.ripple, "Move later clips with the edit", NULL },
          { "kind", 0, 0, G_OPTION_ARG_STRING, &o.kind, "Track kind: video or audio", "K" },
          { "name", 0, 0, G_OPTION_ARG_STRING, &o.name, "Track name", "NAME" },
          { "position", 0, 0, G_OPTION_ARG_INT, &o.position, "Track position (0 = top)", "P" },
          { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output, "Export to this file", "OUT" },
          { NULL } };
  GString *summary = g_string_new ("Verbs (times: 1.5 = seconds, 36f = frames, 135000t = ticks):");
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    g_string_append_printf (summary, "\n  reelgen project %s", verbs[i].help);
  g_autoptr (GOptionContext) ctx = g_option_context_new ("VERB FILE [ARGS…] — edit a project");
  g_option_context_set_summary (ctx, summary->str);
  g_string_free (summary, TRUE);
  g_option_context_add_main_entries (ctx, entries, NULL);
  int rc = 2;
  if (!rg_cli_parse (ctx, &argc, &argv, "project"))
    goto out;
  json_errors = o.json;
  if (argc < 3)
    {
      g_printerr ("reelgen project: give a verb and a project file (see reelgen project --help)\n");
      goto out;
    }
  for (guint i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (strcmp (argv[1], verbs[i].name) == 0)
      {
        rc = verbs[i].func (&o, argv[2], argc > 3 ? argv + 3 : NULL);
        goto out;
      }
  g_printerr ("reelgen project: unknown verb “%s” (see reelgen project --help)\n", argv[1]);
out:
  g_free (o.fps);
  g_free (o.at);
  g_free (o.in);
  g_free (o.out);
  g_free (o.kind);
  g_free (o.name);
  g_free (o.output);
  return rc;
}
