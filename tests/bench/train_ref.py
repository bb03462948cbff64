#!/usr/bin/python3
"""PyTorch reference trainer for bench-train.c: the nano training steps.

  train_ref.py MODEL TASK STEPS THREADS [--profile]

MODEL is a safetensors checkpoint written by the C engine (its config is read
from the file's metadata, as tests/reference/models_ref.py does); TASK is
"tae" or "t2v". It runs STEPS training steps of the same work as the C
trainer's step (engine/train/rg-train-tae.c, rg-train-t2v.c, rg-trainer.c):

  tae  random crops [B, 3, 8, 32, 32] (B = 4) → encode → z = μ + σ·ε →
       decode → MSE + 0.1·L1 + 1e-5·KL + 0.1·OPL (r = 3, mean/std of each
       sample and channel held constant) → backward through tae.*;
  t2v  a cached set of normalised latents [16, 4, 8, 8] (random normal: the
       frozen TAE's encoding is outside the timed step on the C side too),
       captions of realistic length (~60 bytes, 10 % dropped to the empty
       prompt), t = sigmoid(N(0, 1)), x_t on the flow path, the text encoder
       and the DiT forward, MSE to the velocity x₁ − (1 − σ_min)·x₀ →
       backward through text.* and dit.* (B = 16);

then, as the C trainer, global-norm gradient clipping at 1.0, warmup +
cosine LR, torch.optim.AdamW and an EMA of the trained weights (with the
(1 + n)/(10 + n) warm-up of rg-ema.h), all in float32 with
torch.set_num_threads(THREADS). The first two steps are warm-up; the rest
are timed. Prints one JSON line:
  {"task", "batch", "steps", "timed_steps", "seconds", "samples_per_s",
   "cpu_seconds", "loss_first", "loss_last", "peak_rss_kb"}
(cpu_seconds: the process's CPU time over the timed steps, all threads).
and with --profile "phases_ms" and "phases_cpu_ms": wall and CPU milliseconds
per timed step in each phase
(data, forward passes, backward, clip, adamw, ema; the forward of each
model is its own phase).
Exit 77 when torch is missing.
"""
import json
import math
import os
import resource
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print("train_ref.py: %s" % e, file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import models_ref  # noqa: E402

WARMUP_STEPS = 2
SIGMA_MIN = 1e-5
OPL_R = 3.0

# The defaults of rg_train_config_init (engine/train/rg-train-config.c).
TASKS = {
    "tae": dict(prefixes=("tae.",), batch=4, lr=1e-3, min_lr=1e-4, warmup=100,
                crop_frames=8, crop_size=32, l1_weight=0.1, kl_weight=1e-5, opl_weight=0.1),
    "t2v": dict(prefixes=("text.", "dit."), batch=16, lr=5e-4, min_lr=5e-5, warmup=100,
                text_dropout=0.1, t_mean=0.0, t_std=1.0),
}
WEIGHT_DECAY = 0.0
CLIP_GRAD = 1.0
EMA_DECAY = 0.999

# ShapesWorld-like captions (engine/train/rg-shapes-caption.c writes the real
# ones; these have the same alphabet and a similar length, ~60 bytes).
SIZES = ["small", "large", "tiny", "big"]
COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "white", "black"]
SHAPES = ["circle", "square", "triangle", "star", "ring"]
MOTIONS = ["bouncing", "drifting left", "moving up", "sliding right", "growing slowly",
           "rotating", "falling down"]
BACKGROUNDS = ["a blue background", "a gradient sky", "grass under a pale sky",
               "a dark grey background"]


def caption(g):
    pick = lambda xs: xs[int(torch.randint(len(xs), (1,), generator=g))]  # noqa: E731
    return "a %s %s %s %s over %s FPS-8" % (
        pick(SIZES), pick(COLOURS), pick(SHAPES), pick(MOTIONS), pick(BACKGROUNDS))


def lr_at(c, step, steps):
    """rg-lr.c: linear warmup to lr, cosine down to min_lr at the last step."""
    warmup = min(c["warmup"], steps - 1)
    if step < warmup:
        return c["lr"] * (step + 1) / warmup
    p = (step - warmup) / (steps - warmup)
    return c["min_lr"] + (c["lr"] - c["min_lr"]) * 0.5 * (1 + math.cos(math.pi * p))


class Phases:
    """Seconds per phase, summed over the timed steps (--profile)."""

    def __init__(self):
        self.total = {}
        self.cpu = {}
        self.on = False
        self.t = time.perf_counter()
        self.c = time.process_time()

    def mark(self, name):
        now, cpu = time.perf_counter(), time.process_time()
        if self.on:
            self.total[name] = self.total.get(name, 0.0) + now - self.t
            self.cpu[name] = self.cpu.get(name, 0.0) + cpu - self.c
        self.t, self.c = now, cpu


def tae_loss(W, cfg, c, g, ph):
    b, cf, cs = c["batch"], c["crop_frames"], c["crop_size"]
    x = torch.rand(b, 3, cf, cs, cs, generator=g) * 2 - 1
    ph.mark("data")
    mean, logvar = models_ref.tae_encode(W, cfg, x)
    ph.mark("encode forward")
    lv = logvar.clamp(-30.0, 20.0)
    sd = torch.exp(0.5 * lv)
    z = mean + sd * torch.randn(mean.shape, generator=g)
    xhat = models_ref.tae_decode(W, cfg, z)
    ph.mark("decode forward")
    r = xhat - x
    mse = r.pow(2).mean()
    l1 = r.abs().mean()
    kl = (0.5 * (mean.pow(2) + sd.pow(2) - 1.0 - lv)).mean()
    # outlier penalty: the bound comes from statistics held constant
    m = mean.flatten(2)
    mu = m.detach().mean(-1, keepdim=True)
    bound = OPL_R * m.detach().std(-1, unbiased=False, keepdim=True)
    opl = F.relu((m - mu).abs() - bound).mean()
    return mse + c["l1_weight"] * l1 + c["kl_weight"] * kl + c["opl_weight"] * opl


class T2vData:
    def __init__(self, cfg, c, g):
        d = cfg["dit"]
        v = cfg["video"]
        t = v["frames"] >> cfg["tae"]["temporal_down"]
        s = 1 << (len(cfg["tae"]["channels"]) - 1)
        self.latents = torch.randn(c["batch"], d["in_channels"], t, v["height"] // s,
                                   v["width"] // s, generator=g)


def t2v_loss(W, cfg, c, g, data, ph):
    b, max_len = c["batch"], cfg["text"]["max_len"]
    ids, lens = [], []
    for _ in range(b):
        text = caption(g) if float(torch.rand(1, generator=g)) >= c["text_dropout"] else ""
        row, n = models_ref.tokenize(text, max_len)
        ids.append(row)
        lens.append(n)
    ids = torch.tensor(ids, dtype=torch.int32)
    lens = torch.tensor(lens, dtype=torch.int32)
    x1 = data.latents[torch.randperm(b, generator=g)]
    t = torch.sigmoid(c["t_mean"] + c["t_std"] * torch.randn(b, generator=g))
    x0 = torch.randn(x1.shape, generator=g)
    tb = t.view(b, 1, 1, 1, 1)
    xt = tb * x1 + (1 - (1 - SIGMA_MIN) * tb) * x0
    target = x1 - (1 - SIGMA_MIN) * x0
    ph.mark("data")
    ctx = models_ref.text_encoder(W, cfg, ids, lens)
    ph.mark("text forward")
    v = models_ref.dit_forward(W, cfg, xt, t, ctx, lens)
    ph.mark("dit forward")
    return (v - target).pow(2).mean()


def main():
    profile = "--profile" in sys.argv[1:]
    args = [a for a in sys.argv[1:] if a != "--profile"]
    if len(args) != 4 or args[1] not in TASKS:
        sys.exit(__doc__)
    path, task, steps, threads = args[0], args[1], int(args[2]), int(args[3])
    c = dict(TASKS[task])
    if steps <= WARMUP_STEPS:
        sys.exit("train_ref.py: STEPS must exceed the %d warm-up steps" % WARMUP_STEPS)
    torch.set_num_threads(threads)
    W, cfg = models_ref.load_model(path)
    W = {n: w.float() for n, w in W.items()}
    params = [w.requires_grad_(True) for n, w in sorted(W.items()) if n.startswith(c["prefixes"])]
    opt = torch.optim.AdamW(params, lr=c["lr"], betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=WEIGHT_DECAY)
    shadows = [p.detach().clone() for p in params]
    g = torch.Generator().manual_seed(1)
    data = T2vData(cfg, c, g) if task == "t2v" else None

    losses = []
    start = None
    ph = Phases()
    for step in range(steps):
        if step == WARMUP_STEPS:
            start = time.perf_counter()
            cpu_start = time.process_time()
            ph.on = profile
        ph.mark("other")
        opt.zero_grad(set_to_none=False)
        ph.mark("zero grads")
        loss = tae_loss(W, cfg, c, g, ph) if task == "tae" else t2v_loss(W, cfg, c, g, data, ph)
        ph.mark("loss")
        loss.backward()
        ph.mark("backward")
        norm = torch.nn.utils.clip_grad_norm_(params, CLIP_GRAD)
        ph.mark("clip")
        if torch.isfinite(norm):
            for group in opt.param_groups:
                group["lr"] = lr_at(c, step, steps)
            opt.step()
            ph.mark("adamw")
            n = step + 1
            d = min(EMA_DECAY, (1 + n) / (10 + n))
            with torch.no_grad():
                # s ← s + (1 − d)·(w − s), as rg_ema_update
                for s, p in zip(shadows, params):
                    s.lerp_(p, 1 - d)
            ph.mark("ema")
        losses.append(float(loss))
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    timed = steps - WARMUP_STEPS
    result = {"task": task, "batch": c["batch"], "steps": steps, "timed_steps": timed,
              "seconds": seconds, "samples_per_s": timed * c["batch"] / seconds,
              "cpu_seconds": cpu_seconds, "loss_first": losses[0], "loss_last": losses[-1],
              "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if profile:
        result["phases_ms"] = {k: round(1e3 * v / timed, 1) for k, v in ph.total.items()}
        result["phases_cpu_ms"] = {k: round(1e3 * v / timed, 1) for k, v in ph.cpu.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
