/* rg-safetensors.h — read and write safetensors files.
 *
 * Format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * (an object mapping tensor names to {dtype, shape, data_offsets}, plus an
 * optional "__metadata__" object of string → string), then the data buffer.
 *
 * Opening validates the file as the format's reference implementation
 * (huggingface/safetensors, src/tensor.rs) does, and a little more: N is
 * at most 100 MB and fits in the file; the header is valid UTF-8, a JSON
 * object with no duplicate names; every dtype is one the format defines;
 * shapes are lists of non-negative integers; each tensor's byte count equals
 * numel × dtype size, computed with overflow checks; sorted by offset, the
 * tensors are contiguous from 0 and cover the data buffer exactly. Any
 * violation is an RG_ERROR_CORRUPT GError naming the file and the problem.
 *
 * The file is mapped read-only. Tensors handed out are borrowed views that
 * hold a ref on the mapping, so they stay valid after the RgSafetensors is
 * unref'd. Data that is not aligned for its dtype (legal in the format) is
 * copied instead of borrowed. */
#pragma once

#include <glib.h>

#include "rg-tensor.h"

G_BEGIN_DECLS

/* The reference implementation's bound on the JSON header. */
#define RG_SAFETENSORS_MAX_HEADER (100 * 1000 * 1000)

typedef struct _RgSafetensors RgSafetensors;

RgSafetensors *rg_safetensors_open (const char *path, GError **error);
/* Validate and wrap bytes already in memory (fuzzing, network payloads);
 * `name` is used in messages in place of a file name. */
RgSafetensors *rg_safetensors_new_from_bytes (GBytes *bytes, const char *name, GError **error);
RgSafetensors *rg_safetensors_ref (RgSafetensors *st);
void           rg_safetensors_unref (RgSafetensors *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgSafetensors, rg_safetensors_unref)

const char *rg_safetensors_get_path (RgSafetensors *st);
gsize       rg_safetensors_get_file_size (RgSafetensors *st);

/* Tensor names in byte order (sorted by name); i < n_tensors. */
guint       rg_safetensors_get_n_tensors (RgSafetensors *st);
const char *rg_safetensors_get_name (RgSafetensors *st, guint i);
gboolean    rg_safetensors_contains (RgSafetensors *st, const char *name);

/* Describe a tensor without touching its data. dtype_name is the format's
 * spelling ("F32", "F64" …); *dtype is set only when Reelgen handles the
 * dtype (the return value says whether it does). Returns FALSE and sets
 * nothing when the name is absent. */
gboolean rg_safetensors_describe (RgSafetensors *st, const char *name,
                                  const char **dtype_name, int *ndim,
                                  int64_t shape[RG_MAX_DIMS], gboolean *supported,
                                  RgDType *dtype);

/* The tensor in its stored dtype (a borrowed view of the mapping). */
RgTensor *rg_safetensors_get (RgSafetensors *st, const char *name, GError **error);
/* The tensor as f32: borrowed when stored as aligned F32, otherwise a new
 * tensor converted from BF16/F16. Integer dtypes are refused. */
RgTensor *rg_safetensors_get_f32 (RgSafetensors *st, const char *name, GError **error);

/* "__metadata__" entries; NULL when the key is absent. The table maps
 * char * → char * and belongs to st. */
const char *rg_safetensors_get_metadata (RgSafetensors *st, const char *key);
GHashTable *rg_safetensors_get_metadata_table (RgSafetensors *st);

/* Writing: collect tensors and metadata, then save. Names are written
 * sorted; each tensor is stored in the dtype given to add (f32 tensors may
 * be narrowed to BF16/F16; integer tensors are stored as they are). The
 * header is padded with spaces to a multiple of 8 bytes so that data is
 * aligned. save writes a temporary file beside `path` and renames it over
 * `path`, so a crash never leaves a half-written checkpoint. */
typedef struct _RgSafetensorsWriter RgSafetensorsWriter;

RgSafetensorsWriter *rg_safetensors_writer_new (void);
void                 rg_safetensors_writer_free (RgSafetensorsWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RgSafetensorsWriter, rg_safetensors_writer_free)

/* Takes a ref on t. FALSE with an error for a duplicate name, a name
 * starting with "__metadata__", or a dtype conversion that is not possible. */
gboolean rg_safetensors_writer_add (RgSafetensorsWriter *w, const char *name, RgTensor *t,
                                    RgDType store_dtype, GError **error);
void     rg_safetensors_writer_set_metadata (RgSafetensorsWriter *w, const char *key,
                                             const char *value);
gboolean rg_safetensors_writer_save (RgSafetensorsWriter *w, const char *path, GError **error);
/* The same bytes save would write, in memory. */
GBytes  *rg_safetensors_writer_to_bytes (RgSafetensorsWriter *w, GError **error);

G_END_DECLS
