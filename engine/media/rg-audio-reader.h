/* rg-audio-reader.h — decode audio to interleaved f32 at a chosen rate.
 *
 * Any codec, rate and channel layout in; `channels` (1 or 2) at `rate` out,
 * through libswresample: 5.1 and other layouts are downmixed to stereo with
 * FFmpeg's standard matrix (centre and surrounds at −3 dB, normalised so a
 * full-scale source cannot clip); mono plays at full level on both sides.
 * Positions are in output samples from the
 * stream's start, so a seek lands on the exact sample the timeline asks for. */
#pragma once

#include <glib.h>

#include "core/rg-time.h"

G_BEGIN_DECLS

typedef struct _RgAudioReader RgAudioReader;

RgAudioReader *rg_audio_reader_open (const char *path, int rate, int channels, GError **error);
void rg_audio_reader_free (RgAudioReader *r);

/* For a source whose sound is optional (a video clip, a still image): a
 * readable file without an audio stream gives NULL and leaves *error unset;
 * a file that cannot be opened is still an error. */
RgAudioReader *rg_audio_reader_open_if_any (const char *path, int rate, int channels,
                                            GError **error);

/* Fill up to n_frames frames (n_frames × channels floats); returns how many
 * were written: fewer than asked only at the end of the stream (0 there),
 * -1 on error. */
gssize rg_audio_reader_read (RgAudioReader *r, float *out, gsize n_frames, GError **error);

/* Continue reading at time t (sample-accurate; t < 0 means 0). */
gboolean rg_audio_reader_seek (RgAudioReader *r, RgTime t, GError **error);

/* The stream's length in output samples, or -1 when unknown. */
gint64 rg_audio_reader_get_length (RgAudioReader *r);

/* Decode a whole file: *n_frames frames of `channels` interleaved floats. */
float *rg_audio_decode_file (const char *path, int rate, int channels, gsize *n_frames,
                             GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgAudioReader, rg_audio_reader_free)

G_END_DECLS
