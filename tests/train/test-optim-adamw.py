"""PyTorch oracle for test-optim: torch.optim.AdamW + clip_grad_norm_.

Usage: test-optim-adamw.py DIR

DIR/case.json names the parameters (name, numel, decays), the steps, the
hyper-parameters and max_norm. DIR/init.f32 holds the initial weights and
DIR/grads.f32 every step's gradients (parameters in order, raw little-endian
f32); DIR/lr.f64 the learning rate of each step. Writes DIR/out.f32 (final
weights, then exp_avg, then exp_avg_sq, parameters in order) and
DIR/norms.f64 (clip_grad_norm_'s total norm before clipping, per step).
Exits 77 when PyTorch is not installed."""
import json
import sys

import numpy as np

try:
    import torch
except ImportError:
    sys.exit(77)


def main(d):
    case = json.load(open(d + "/case.json"))
    params = case["params"]
    steps = case["steps"]
    init = np.fromfile(d + "/init.f32", dtype="<f4")
    grads = np.fromfile(d + "/grads.f32", dtype="<f4")
    lrs = np.fromfile(d + "/lr.f64", dtype="<f8")
    sizes = [p["numel"] for p in params]
    total = sum(sizes)
    assert init.size == total and grads.size == total * steps and lrs.size == steps

    torch.set_num_threads(1)
    tensors = []
    off = 0
    for n in sizes:
        tensors.append(torch.nn.Parameter(torch.from_numpy(init[off:off + n].copy())))
        off += n
    decay = [t for t, p in zip(tensors, params) if p["decays"]]
    no_decay = [t for t, p in zip(tensors, params) if not p["decays"]]
    groups = [{"params": decay, "weight_decay": case["weight_decay"]},
              {"params": no_decay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=float(lrs[0]), betas=(case["beta1"], case["beta2"]),
                            eps=case["eps"], foreach=False)
    norms = []
    for s in range(steps):
        base = s * total
        off = 0
        for t, n in zip(tensors, sizes):
            t.grad = torch.from_numpy(grads[base + off:base + off + n].copy())
            off += n
        norms.append(float(torch.nn.utils.clip_grad_norm_(tensors, case["max_norm"])))
        for g in opt.param_groups:
            g["lr"] = float(lrs[s])
        opt.step()

    out = [t.detach().numpy() for t in tensors]
    out += [opt.state[t]["exp_avg"].numpy() for t in tensors]
    out += [opt.state[t]["exp_avg_sq"].numpy() for t in tensors]
    np.concatenate(out).astype("<f4").tofile(d + "/out.f32")
    np.array(norms, dtype="<f8").tofile(d + "/norms.f64")


if __name__ == "__main__":
    main(sys.argv[1])
