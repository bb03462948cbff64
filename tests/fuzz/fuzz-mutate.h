/* fuzz-mutate.h — deterministic mutations of a valid input, for the
 * hostile-input tests in tests/fuzz.
 *
 * Every harness starts from bytes made by the real writer, derives each
 * case from a Philox stream keyed by (seed, iteration) — so one case can be
 * replayed alone with RG_FUZZ_SEED=S RG_FUZZ_ONLY=I — and feeds it to the
 * real parser. The contract checked is the engine's: success, or a GError
 * with a message; never a crash, a hang, a sanitizer report or a
 * g_critical (fatal under g_test_init). When the process dies anyway, a
 * signal handler prints the target, seed and iteration first. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "core/rg-rng.h"

G_BEGIN_DECLS

/* An integer field of a binary format, for "replace with a hostile value". */
typedef struct
{
  gsize offset;
  guint size; /* 4 or 8, little-endian */
} RgFuzzField;

typedef struct
{
  const char *target;
  guint64 seed;
  guint iterations;
  gint64 only; /* RG_FUZZ_ONLY, or -1 */
  /* Set per case by rg_fuzz_case(). */
  guint iteration;
  RgRng rng;
} RgFuzz;

/* Seed from RG_FUZZ_SEED (default `default_seed`), iteration count from
 * RG_FUZZ_ITERS (default `iterations`); installs the crash reporter. */
void rg_fuzz_init (RgFuzz *fz, const char *target, guint64 default_seed, guint iterations);

/* Starts case i (re-keys the generator); FALSE when RG_FUZZ_ONLY skips it. */
gboolean rg_fuzz_case (RgFuzz *fz, guint i);

/* Applies 1..max_mutations random mutations to a copy of `in`: bit flips,
 * bytes set to 0x00/0xff/0x7f/0x80, truncation, chunk duplication and
 * deletion, and (when `fields` is given) integer fields set to huge,
 * negative or off-by-one values. `text` adds mutations for text formats:
 * a number replaced by a hostile one, a quote or bracket dropped, a JSON
 * value replaced by one of another type (null, [], {}, a string …). */
GByteArray *rg_fuzz_mutate (RgFuzz *fz, const guint8 *in, gsize len, guint max_mutations,
                            const RgFuzzField *fields, guint n_fields, gboolean text);

/* The contract: ok XOR error, and an error carries a non-empty message.
 * Fails the test naming target/seed/iteration. Frees the error. */
void rg_fuzz_check (RgFuzz *fz, gboolean ok, GError *error);

/* Writes a buffer to a file; asserts success. */
void rg_fuzz_write (const char *path, const guint8 *data, gsize len);

G_END_DECLS
