#!/usr/bin/python3
"""PyTorch oracle for test-ops-oracle.c: every op of engine/ops/rg-ops.h.

Usage: ops_oracle.py DIR. DIR/manifest.json lists cases written by the C
test: op, params, and inputs as raw little-endian files (f32, or i32 for
ids) with their shapes. For each case this writes DIR/<id>.out, the
reference result in float64 (computed in float64 from the same f32 inputs),
so the C side measures only its own error. Exit 77 when torch is missing.
"""
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the C side turns this into skip or failure (CI)
    print(f"ops_oracle: cannot import torch/numpy: {e}", file=sys.stderr)
    sys.exit(77)


def load(d, spec):
    dtype = np.int32 if spec["dtype"] == "i32" else np.float32
    a = np.fromfile(os.path.join(d, spec["file"]), dtype=np.dtype(dtype).newbyteorder("<"))
    t = torch.from_numpy(a.astype(np.int64 if dtype == np.int32 else np.float64))
    return t.reshape(spec["shape"])


def attention(i, p):
    q, k, v = i["q"], i["k"], i["v"]
    B, Nq, HD = q.shape
    Nk = k.shape[1]
    H = p["heads"]
    Dh = HD // H
    q = q.reshape(B, Nq, H, Dh).transpose(1, 2)
    k = k.reshape(B, Nk, H, Dh).transpose(1, 2)
    v = v.reshape(B, Nk, H, Dh).transpose(1, 2)
    s = (q @ k.transpose(-1, -2)) * p["scale"]
    mask = torch.zeros(B, 1, Nq, Nk, dtype=torch.bool)
    if p["causal"]:
        mask |= torch.ones(Nq, Nk, dtype=torch.bool).triu(1)
    if "kv_len" in p:
        for b, n in enumerate(p["kv_len"]):
            mask[b, :, :, n:] = True
    s = s.masked_fill(mask, float("-inf"))
    w = torch.softmax(s, -1)
    w = torch.nan_to_num(w, nan=0.0)  # a query with no valid key: zeros (the C contract)
    return (w @ v).transpose(1, 2).reshape(B, Nq, HD)


def pad_mode(p):
    return "replicate" if p["pad"] == "replicate" else "constant"


def conv2d_frames(i, p):
    x, w = i["x"], i["w"]
    B, C, T, H, W = x.shape
    kh, kw = w.shape[2], w.shape[3]
    f = x.permute(0, 2, 1, 3, 4).reshape(B * T, C, H, W)
    f = F.pad(f, (kw // 2, kw // 2, kh // 2, kh // 2), mode=pad_mode(p))
    y = F.conv2d(f, w, i.get("b"), stride=p["stride"])
    return y.reshape(B, T, *y.shape[1:]).permute(0, 2, 1, 3, 4)


def conv1d_time(i, p):
    x, w = i["x"], i["w"]
    B, C, T, H, W = x.shape
    kt = w.shape[2]
    f = x.permute(0, 3, 4, 1, 2).reshape(B * H * W, C, T)
    f = F.pad(f, (kt // 2, kt // 2), mode=pad_mode(p))
    y = F.conv1d(f, w, i.get("b"), stride=p["stride"])
    return y.reshape(B, H, W, y.shape[1], y.shape[2]).permute(0, 3, 4, 1, 2)


def patchify(x, ph, pw):
    B, C, T, H, W = x.shape
    x = x.reshape(B, C, T, H // ph, ph, W // pw, pw).permute(0, 2, 3, 5, 1, 4, 6)
    return x.reshape(B, T * (H // ph) * (W // pw), C * ph * pw)


def unpatchify(x, p):
    B, C, T, H, W = p["out_shape"]
    ph, pw = p["ph"], p["pw"]
    x = x.reshape(B, T, H // ph, W // pw, C, ph, pw).permute(0, 4, 1, 2, 5, 3, 6)
    return x.reshape(B, C, T, H, W)


def timestep_embedding(t, max_period, dim):
    half = dim // 2
    f = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float64) / half)
    a = t[:, None] * f[None]
    return torch.cat([torch.cos(a), torch.sin(a)], dim=1)


def rmsnorm(x, w, eps):
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y * w if w is not None else y


OPS = {
    "linear": lambda i, p: F.linear(i["x"], i["w"], i.get("b")),
    "matmul": lambda i, p: p["alpha"]
    * ((i["a"].T if p["trans_a"] else i["a"]) @ (i["b"].T if p["trans_b"] else i["b"]))
    + p["beta"] * i["c"],
    "rmsnorm": lambda i, p: rmsnorm(i["x"], i.get("w"), p["eps"]),
    "layernorm": lambda i, p: F.layer_norm(i["x"], i["x"].shape[-1:], i.get("w"), i.get("b"), p["eps"]),
    "groupnorm": lambda i, p: F.group_norm(i["x"], p["groups"], i.get("w"), i.get("b"), p["eps"]),
    "groupnorm_silu": lambda i, p: F.silu(F.group_norm(i["x"], p["groups"], i.get("w"), i.get("b"), p["eps"])),
    "softmax": lambda i, p: torch.softmax(i["x"], -1),
    "silu": lambda i, p: F.silu(i["x"]),
    "gelu": lambda i, p: F.gelu(i["x"]),
    "swiglu": lambda i, p: F.silu(i["gate"]) * i["up"],
    "add": lambda i, p: i["a"] + i["b"],
    "mul": lambda i, p: i["a"] * i["b"],
    "axpby": lambda i, p: p["alpha"] * i["a"] + p["beta"] * i["b"],
    "scale": lambda i, p: i["x"] * p["s"],
    "add_bias": lambda i, p: i["x"] + i["b"],
    "attention": attention,
    "modulate": lambda i, p: i["x"] * (1 + i["scale"][:, None]) + i["shift"][:, None],
    "gate_add": lambda i, p: i["x"] + i["gate"][:, None] * i["h"],
    "timestep_embedding": lambda i, p: timestep_embedding(i["t"], p["max_period"], p["dim"]),
    "conv2d_frames": conv2d_frames,
    "conv1d_time": conv1d_time,
    "upsample_nearest": lambda i, p: i["x"]
    .repeat_interleave(p["ft"], 2)
    .repeat_interleave(p["fh"], 3)
    .repeat_interleave(p["fw"], 4),
    "patchify": lambda i, p: patchify(i["x"], p["ph"], p["pw"]),
    "unpatchify": lambda i, p: unpatchify(i["x"], p),
    "pos_emb_factorized": lambda i, p: (
        i["tt"][:, None, None, :] + i["th"][None, :, None, :] + i["tw"][None, None, :, :]
    ).reshape(-1, i["tt"].shape[1]),
    "embedding": lambda i, p: i["table"][i["ids"]],
}


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "manifest.json")) as f:
        cases = json.load(f)
    torch.set_num_threads(1)
    for c in cases:
        inputs = {name: load(d, spec) for name, spec in c["inputs"].items()}
        with torch.no_grad():
            y = OPS[c["op"]](inputs, c["params"])
        y.contiguous().numpy().astype("<f8").tofile(os.path.join(d, c["id"] + ".out"))


if __name__ == "__main__":
    main()
