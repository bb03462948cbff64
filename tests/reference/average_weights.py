#!/usr/bin/python3
"""Average two model files of the same run's lineage, tensor by tensor.

  average_weights.py A B OUT

A and B are float32 model files of the C engine with the same tensors and
the same config (a `reelgen train` run's model.safetensors and one that
continued it, say); OUT gets their elementwise mean as float32, with A's
metadata, ready for `reelgen model convert`. Tensors the two share exactly
(a frozen TAE) come out unchanged. Averaging the weights of two points on
one fine-tuning path (a "model soup") gave the shipped nano-t2v of run 13
(resources/models/nano-t2v.md).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_ref  # noqa: E402


def main(a_path, b_path, out_path):
    A, meta_a = models_ref.load_safetensors(a_path)
    B, meta_b = models_ref.load_safetensors(b_path)
    if sorted(A) != sorted(B):
        sys.exit("average_weights.py: %s and %s hold different tensors (%s)"
                 % (a_path, b_path, sorted(set(A) ^ set(B))[:3]))
    bad = [n for n in A if A[n].shape != B[n].shape]
    if bad:
        sys.exit("average_weights.py: %s differs in shape: %s vs %s"
                 % (bad[0], tuple(A[bad[0]].shape), tuple(B[bad[0]].shape)))
    # the config carries tae.latent_mean/std: a DiT is averaged only with one
    # trained on the same latents
    if json.loads(meta_a["reelgen.config"]) != json.loads(meta_b["reelgen.config"]):
        sys.exit("average_weights.py: %s and %s have different configs" % (a_path, b_path))
    out = {n: 0.5 * (A[n].float() + B[n].float()) for n in A}
    models_ref.save_safetensors(out_path, out, meta_a)
    changed = sum(1 for n in A if not bool((A[n] == B[n]).all()))
    print("%s: the mean of %s and %s (%d of %d tensors differ between them)"
          % (out_path, a_path, b_path, changed, len(A)))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
