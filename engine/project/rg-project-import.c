/* rg-project-import.c — bringing a user's media file into the project.
 *
 * Everything that can refuse the file (reading, hashing, probing) happens
 * before the transaction opens, so a refused import writes nothing. */
#include "rg-project-private.h"

#include "core/rg-error.h"
#include "media/rg-probe.h"

gboolean
rg_project_probe_file (const char *path, RgAssetInfo *info, GError **error)
{
  g_autoptr (RgMediaInfo) mi = rg_probe (path, error);
  if (!mi)
    return FALSE;
  *info = (RgAssetInfo){ 0 };
  info->fps = (RgRational){ 0, 1 };
  if (mi->best_audio >= 0)
    {
      const RgAudioStreamInfo *a = &mi->audio[mi->best_audio];
      info->has_audio = TRUE;
      info->sample_rate = a->sample_rate;
      info->channels = a->channels;
      info->kind = RG_ASSET_AUDIO;
      info->duration = a->duration > 0 ? a->duration : mi->duration;
    }
  if (mi->best_video >= 0)
    {
      const RgVideoStreamInfo *v = &mi->video[mi->best_video];
      info->has_video = TRUE;
      info->width = v->display_width;
      info->height = v->display_height;
      info->fps = v->average_fps.num > 0 ? v->average_fps : v->nominal_fps;
      if (info->fps.num <= 0 || info->fps.den <= 0)
        info->fps = (RgRational){ 0, 1 };
      if (v->still_image)
        {
          info->kind = RG_ASSET_IMAGE;
          info->duration = 0;
        }
      else
        {
          /* The picture sets a video's length: past it there is no frame. */
          info->kind = RG_ASSET_VIDEO;
          info->duration = v->duration > 0 ? v->duration : mi->duration;
        }
    }
  if (!info->has_audio && !info->has_video)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_UNSUPPORTED, "%s: has no picture and no sound", path);
      return FALSE;
    }
  if (info->kind != RG_ASSET_IMAGE && info->duration <= 0)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_CORRUPT, "%s: its length cannot be determined", path);
      return FALSE;
    }
  return TRUE;
}

int64_t
rg_project_import (RgProject *project, const char *path, GError **error)
{
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  RgAssetInfo info;
  goffset size = 0;
  g_autofree char *hash = rg_file_sha256 (abs, &size, error);
  if (!hash || !rg_project_probe_file (abs, &info, error)
      || !rg_asset_info_check (&info, abs, error))
    return 0;
  int64_t existing = rg_project_find_asset (project, hash);
  if (existing)
    {
      /* Importing a file the project lost track of is as good as a relink. */
      g_autoptr (GError) lost = NULL;
      g_autofree char *where = rg_project_locate_asset (project, existing, &lost);
      if (!where && g_error_matches (lost, RG_ERROR, RG_ERROR_NOT_FOUND)
          && !rg_project_relink_asset (project, existing, abs, error))
        return 0;
      return existing;
    }
  if (!rg_project_tx_begin (project, error))
    return 0;
  int64_t id = rg_project_insert_asset (project, abs, hash, size, FALSE, &info, error);
  return rg_project_tx_end (project, id != 0, error) ? id : 0;
}
