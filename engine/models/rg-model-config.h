/* rg-model-config.h — the configuration of a text-to-video model family.
 *
 * A checkpoint carries its config as JSON in __metadata__["reelgen.config"]
 * (DESIGN §1); every size of every model is a field here, never a constant
 * in code. Presets: "nano-t2v" (the shipped CPU-trainable family) and the
 * Movie Gen transformer shapes "moviegen-1b", "moviegen-5b", "moviegen-30b"
 * used by benchmarks (their text encoder and TAE are the nano ones: only the
 * DiT is benchmarked at those sizes). */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define RG_MODEL_CONFIG_KEY  "reelgen.config"
#define RG_TAE_MAX_LEVELS    6
#define RG_MODEL_NAME_MAX    64

/* The clip the family is trained on (pixels in [-1, 1], RGB). */
typedef struct {
  int frames;
  int height;
  int width;
  int fps;
} RgVideoConfig;

/* Byte-level (ByT5-style) bidirectional text encoder. Token ids: 0 pad,
 * 1 end-of-text, 2 unknown, byte b → b + 3; so vocab is 259.
 * word_buckets > 0 (optional, 0 by default) adds to each byte's embedding
 * learned embeddings of its word and of its word with the one before,
 * hashed into that many buckets (fastText's n-gram features;
 * rg_text_word_buckets). A from-scratch byte model sees a prompt as a bag of
 * letters at first; words and word pairs ("red circle", "blue background")
 * give the DiT something to bind to from the first step. */
typedef struct {
  int vocab;
  int max_len;       /* tokens, end-of-text included */
  int width;
  int layers;
  int heads;
  int ffn;           /* SwiGLU hidden size */
  int word_buckets;  /* hashed word/bigram embeddings; 0: bytes only */
} RgTextConfig;

/* 2.5D temporal autoencoder. Level 0 runs at full resolution; each further
 * level halves H and W, and the first `temporal_down` of those transitions
 * also halve T. So it compresses 2^(levels-1) in H/W and 2^temporal_down in
 * T. GroupNorm uses `groups` groups (it must divide every channel count). */
typedef struct {
  int image_channels;                 /* 3 */
  int latent_channels;                /* 16 */
  int levels;
  int channels[RG_TAE_MAX_LEVELS];
  int temporal_down;
  int groups;
  /* The latents' overall mean and standard deviation on training data,
   * measured after the TAE is trained (0 and 1 until then). The DiT works
   * on (z − latent_mean) / latent_std, so its data has unit scale like the
   * flow's Gaussian noise; decoding undoes it. */
  float latent_mean, latent_std;
} RgTaeConfig;

/* Video DiT. The latent [C, T, H, W] is patchified 1×ph×pw into tokens;
 * factorized positional tables cover up to pos_t × pos_h × pos_w tokens.
 * extra_in_channels (edit model: a source latent concatenated on channels,
 * zero-initialized), n_tasks (a learned task embedding) and pooled_text
 * default to 0. pooled_text = 1 adds a projection of the text context's
 * mean over its valid tokens to the time embedding, as Imagen and SD3 add a
 * pooled text vector: every adaLN then carries the prompt, a direct path
 * that a from-scratch text encoder learns far sooner than selective
 * cross-attention (the nano model ignored its prompts without it). */
typedef struct {
  int in_channels;        /* latent channels predicted */
  int extra_in_channels;
  int n_tasks;
  int pooled_text;        /* 0 or 1 */
  int width;
  int layers;
  int heads;
  int ffn;
  int context_width;      /* the text encoder's output width */
  int patch_t, patch_h, patch_w;
  int pos_t, pos_h, pos_w;
  int freq_dim;           /* sinusoidal embedding size of the flow time */
} RgDitConfig;

typedef struct {
  char          name[RG_MODEL_NAME_MAX];
  float         norm_eps;
  RgVideoConfig video;
  RgTextConfig  text;
  RgTaeConfig   tae;
  RgDitConfig   dit;
} RgModelConfig;

/* NULL-terminated list of preset names. */
const char *const *rg_model_config_preset_names (void);
gboolean rg_model_config_preset (const char *name, RgModelConfig *out, GError **error);

/* Checks every size is positive and every divisibility the models rely on
 * (heads × head_dim = width, even head_dim, groups | channels, the clip
 * divisible by the TAE and patch factors …). Errors name the field. */
gboolean rg_model_config_validate (const RgModelConfig *config, GError **error);

/* Parse (and validate) the JSON form; unknown keys are refused so a typo
 * does not silently fall back to a default. */
gboolean rg_model_config_from_json (const char *json, RgModelConfig *out, GError **error);
/* Pretty JSON; caller frees. */
char    *rg_model_config_to_json (const RgModelConfig *config);

/* Compression factors of the TAE: time, and height/width. */
int rg_model_config_tae_time_factor (const RgModelConfig *config);
int rg_model_config_tae_space_factor (const RgModelConfig *config);
/* Latent shape [C, T, H, W] of a frames × height × width clip; FALSE with
 * an error when the clip is not divisible by the TAE factors. */
gboolean rg_model_config_latent_shape (const RgModelConfig *config, int frames, int height,
                                       int width, int64_t shape[4], GError **error);

G_END_DECLS
