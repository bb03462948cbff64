#!/usr/bin/python3
"""Put the weights a GPU trainer wrote back into a whole model file.

  merge_weights.py BASE PART OUT

BASE is a float32 model file of the C engine (a `reelgen train` run's
model.safetensors); PART holds some of its tensors (train_t2v_gpu.py's
text.* and dit.*, or train_tae_gpu.py's tae.dec.* or tae.*, in BF16). OUT gets
BASE's metadata and tensors, with every tensor of PART in place of BASE's,
as float32, ready for `reelgen model convert`. Each tensor of PART must
exist in BASE with the same shape, and PART must cover every tensor of
BASE under the prefixes it touches (text., dit., tae.enc., tae.dec.).

tae.latent_mean/std normalise the DiT's latents: they belong to the
encoder that made the latents and to the DiT trained on them. When PART holds
tae.enc.* (a new encoder: train_tae_gpu.py --joint, train_t2v_gpu.py
--tae-until) or dit.*, OUT takes them from PART's config; merge a new
encoder before the DiT trained on its latents.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_ref  # noqa: E402


def prefix(name):
    parts = name.split(".")
    return parts[0] + "." + (parts[1] + "." if parts[0] == "tae" else "")


def main(base_path, part_path, out_path):
    base, meta = models_ref.load_safetensors(base_path)
    part, part_meta = models_ref.load_safetensors(part_path)
    for name, t in part.items():
        if name not in base or tuple(base[name].shape) != tuple(t.shape):
            sys.exit("merge_weights.py: %s: %s is not a tensor of that shape in %s"
                     % (part_path, name, base_path))
        base[name] = t
    touched = {prefix(n) for n in part}
    missing = sorted(n for n in base if prefix(n) in touched and n not in part)
    if missing:
        sys.exit("merge_weights.py: %s lacks %s (and %d more)" % (part_path, missing[0], len(missing) - 1))
    if "reelgen.config" in part_meta and touched & {"tae.enc.", "dit."}:
        cfg, part_tae = json.loads(meta["reelgen.config"]), json.loads(part_meta["reelgen.config"])["tae"]
        cfg["tae"].update({k: part_tae[k] for k in ("latent_mean", "latent_std")})
        meta = dict(meta, **{"reelgen.config": json.dumps(cfg, indent=2)})
    models_ref.save_safetensors(out_path, base, meta)
    print("%s: %d tensors of %s in %s" % (out_path, len(part), part_path, base_path))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
