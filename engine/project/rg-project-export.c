/* rg-project-export.c — the timeline as the media room's export description.
 *
 * The project decides what is on screen and in the mix; engine/media does
 * the pixels and samples. Video tracks give pictures (top track first) and
 * their clips' own sound, as an editor plays a clip dropped on a video track;
 * audio tracks give sound. A muted track gives neither. Every source is
 * located by content first, so a moved file is found and a missing one stops
 * the export before it starts. */
#include "rg-project-private.h"

#include "core/rg-error.h"
#include "media/rg-export.h"

static gboolean
collect_track (RgProject *p, const RgTrack *t, GPtrArray *paths, GArray *out, int *width,
               int *height, gboolean *sound, GError **error)
{
  g_autoptr (GArray) clips = rg_project_list_clips (p, t->id, error);
  if (!clips)
    return FALSE;
  for (guint i = 0; i < clips->len; i++)
    {
      RgClip *c = &g_array_index (clips, RgClip, i);
      char *source = rg_project_locate_asset (p, c->asset_id, error);
      if (!source)
        {
          g_prefix_error (error, "cannot export clip %" G_GINT64_FORMAT ": ", c->id);
          return FALSE;
        }
      g_ptr_array_add (paths, source);
      RgAsset a = { 0 };
      if (!rg_project_get_asset (p, c->asset_id, &a, error))
        return FALSE;
      /* The canvas is the largest picture used, so nothing is scaled up. */
      if (t->kind == RG_TRACK_VIDEO
          && (int64_t)a.info.width * a.info.height > (int64_t)*width * *height)
        {
          *width = a.info.width;
          *height = a.info.height;
        }
      *sound |= a.info.has_audio;
      rg_asset_clear (&a);
      RgExportClip e = { source, c->src_in, c->start, c->src_out - c->src_in, 0.0f };
      g_array_append_val (out, e);
    }
  return TRUE;
}

gboolean
rg_project_export (RgProject *project, const char *path, const RgProjectExportOptions *options,
                   RgProjectExportProgress progress, gpointer user_data, GCancellable *cancellable,
                   GError **error)
{
  g_autoptr (GPtrArray) tracks = rg_project_list_tracks (project, error);
  if (!tracks)
    return FALSE;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) lists = g_ptr_array_new_with_free_func ((GDestroyNotify)g_array_unref);
  g_autoptr (GArray) video = g_array_new (FALSE, TRUE, sizeof (RgExportTrack));
  g_autoptr (GArray) audio = g_array_new (FALSE, TRUE, sizeof (RgExportTrack));
  int width = 0, height = 0;
  gboolean has_audio = FALSE;
  guint n_clips = 0;
  for (guint i = 0; i < tracks->len; i++)
    {
      RgTrack *t = tracks->pdata[i];
      GArray *clips = g_array_new (FALSE, TRUE, sizeof (RgExportClip));
      g_ptr_array_add (lists, clips);
      if (!collect_track (project, t, paths, clips, &width, &height, &has_audio, error))
        return FALSE;
      n_clips += clips->len;
      gboolean is_video = t->kind == RG_TRACK_VIDEO;
      RgExportTrack e = { .clips = (const RgExportClip *)clips->data,
                          .n_clips = clips->len,
                          .muted = t->muted,
                          .hidden = is_video && t->muted,
                          .with_sound = is_video };
      g_array_append_val (is_video ? video : audio, e);
    }
  if (n_clips == 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT, "%s: the timeline is empty",
                   project->path);
      return FALSE;
    }
  gboolean has_video = width > 0 && height > 0;
  if (options && options->width > 0 && options->height > 0)
    {
      width = options->width;
      height = options->height;
      has_video = TRUE;
    }

  RgExportSpec spec = { 0 };
  spec.width = has_video ? width : 0;
  spec.height = has_video ? height : 0;
  spec.fps = project->fps;
  spec.sample_rate
      = has_audio ? (options && options->sample_rate > 0 ? options->sample_rate : 48000) : 0;
  spec.video_tracks = has_video ? (const RgExportTrack *)video->data : NULL;
  spec.n_video_tracks = has_video ? video->len : 0;
  spec.audio_tracks = has_audio ? (const RgExportTrack *)audio->data : NULL;
  spec.n_audio_tracks = has_audio ? audio->len : 0;
  spec.speed = options ? options->speed : 0;
  spec.quality = options ? options->quality : 0;
  spec.threads = options ? options->threads : 0;
  return rg_export (&spec, path, progress, user_data, cancellable, error);
}
