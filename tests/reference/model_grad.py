#!/usr/bin/python3
"""PyTorch autograd oracle for test-model-grad.c: gradients of whole models.

Usage: model_grad.py DIR. DIR/manifest.json is {"cases": [CASE, ...]} with
CASE = {"mode": MODE, "model": FILE, "io": FILE, "out": FILE} (files
relative to DIR). For each case this loads the checkpoint (models_ref.py
reads it and its config), promotes the weights the mode trains to float64
leaves, computes the mode's scalar loss from the io tensors with the
models_ref.py forwards, back-propagates, and writes OUT: one float32
tensor per trained weight, named as the weight, holding its gradient, plus
"loss" [1]. Exit 77 when torch is missing.

Modes (each is a loss function and the weight prefixes it trains; add a
mode by adding one entry to MODES):
  t2v  io: ids [B, L] i32, len [B] i32, x [B, C, T, H, W], t [B], r (x's
       shape with in_channels). loss = Σ dit(x, t, text(ids, len), len) · r.
       Trains text.* and dit.*.
  tae  io: video [B, 3, T, H, W], latent [B, C, t, h, w], rm, rl (the
       latent's shape), rd (the video's). loss = Σ mean·rm + Σ logvar·rl
       + Σ decode(latent)·rd with (mean, logvar) = encode(video).
       Trains tae.*.
"""
import json
import os
import sys

try:
    import numpy  # noqa: F401
    import torch
except ImportError as e:
    print("model_grad.py: %s" % e, file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_ref  # noqa: E402

# models_ref's sinusoid features are rounded to float32 (as the C engine
# computes them); they are data, so the float64 graph takes them as they are
_timestep_f32 = models_ref.timestep_embedding
models_ref.timestep_embedding = lambda t, dim, max_period=10000.0: (
    _timestep_f32(t, dim, max_period).double())


def loss_t2v(W, cfg, io):
    ctx = models_ref.text_encoder(W, cfg, io["ids"], io["len"])
    v = models_ref.dit_forward(W, cfg, io["x"].double(), io["t"].double(), ctx, io["len"])
    return (v * io["r"].double()).sum()


def loss_tae(W, cfg, io):
    mean, logvar = models_ref.tae_encode(W, cfg, io["video"].double())
    decoded = models_ref.tae_decode(W, cfg, io["latent"].double())
    return ((mean * io["rm"].double()).sum() + (logvar * io["rl"].double()).sum()
            + (decoded * io["rd"].double()).sum())


MODES = {
    "t2v": (loss_t2v, ("text.", "dit.")),
    "tae": (loss_tae, ("tae.",)),
}


def run_case(d, case):
    loss_fn, prefixes = MODES[case["mode"]]
    W, cfg = models_ref.load_model(os.path.join(d, case["model"]))
    io, _ = models_ref.load_safetensors(os.path.join(d, case["io"]))
    trained = sorted(n for n in W if n.startswith(prefixes))
    W = {n: (w.double().requires_grad_(True) if n in trained else w.double())
         for n, w in W.items()}
    loss = loss_fn(W, cfg, io)
    loss.backward()
    out = {n: (W[n].grad if W[n].grad is not None else torch.zeros_like(W[n]))
           for n in trained}
    out["loss"] = loss.detach().reshape(1)
    models_ref.save_safetensors(os.path.join(d, case["out"]), out)


def main():
    d = sys.argv[1]
    torch.set_num_threads(2)
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    for case in manifest["cases"]:
        run_case(d, case)


if __name__ == "__main__":
    main()
