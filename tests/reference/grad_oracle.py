#!/usr/bin/python3
"""PyTorch autograd oracle for test-grad-oracle.c: every backward of
engine/ops/rg-ops-grad.h.

Usage: grad_oracle.py DIR. DIR/manifest.json lists cases: op, params, the
inputs (raw little-endian f32, i32 for ids), the upstream gradient dy, and
which inputs get a gradient. For each case this evaluates the op with
ops_oracle.py's float64 reference (same inputs), back-propagates dy with
autograd and writes DIR/<id>.<input>.grad in float64. Exit 77 when torch
is missing.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops_oracle  # noqa: E402  (exits 77 itself when torch is missing)

import torch  # noqa: E402


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "manifest.json")) as f:
        cases = json.load(f)
    torch.set_num_threads(1)
    for c in cases:
        p = c["params"]
        inputs = {name: ops_oracle.load(d, spec) for name, spec in c["inputs"].items()}
        for name in c["diff"]:
            inputs[name].requires_grad_(True)
        if c["op"] == "matmul":
            # the C case runs with beta = 0: the old c does not enter
            inputs["c"] = torch.zeros(p["out_shape"], dtype=torch.float64)
            p = dict(p, beta=0.0)
        y = ops_oracle.OPS[c["op"]](inputs, p)
        dy = ops_oracle.load(d, c["dy"])
        y.backward(dy)
        for name in c["diff"]:
            g = inputs[name].grad
            if g is None:  # the output does not depend on it at all
                g = torch.zeros_like(inputs[name])
            g.contiguous().numpy().astype("<f8").tofile(
                os.path.join(d, f"{c['id']}.{name}.grad"))


if __name__ == "__main__":
    main()
