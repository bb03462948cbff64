#!/usr/bin/python3
"""Continue the nano t2v training (text encoder + DiT) on a CUDA GPU with the
PyTorch reference models (models_ref.py), on ShapesWorld clips that the C
engine renders (shapes-dump) and the model's own frozen TAE encodes.

  train_t2v_gpu.py --init MODEL --dump SHAPES_DUMP --out DIR [options]

The step is the C trainer's (engine/train/rg-train-t2v.c): latents normalised
by the model's tae.latent_mean/std, a caption of the clip's scene (one of K
template variants), dropped to the empty prompt with p = text_dropout,
t = sigmoid(N(0, 1)), x_t = t·x₁ + (1 − (1 − σ_min)·t)·x₀, loss = MSE to
x₁ − (1 − σ_min)·x₀ plus motion_loss · the mean square of the error's deviation
from its mean over the latent frames; global-norm clipping at 1.0, AdamW
(0.9, 0.999, 1e-8, no weight decay), linear warm-up + cosine LR, EMA with the
(1 + n)/(10 + n) warm-up. What differs: a large batch, and a run bounded by
wall-clock time (the cosine runs over time, not steps, to end by --deadline).

Writes DIR/ema-<step>.safetensors (text.* and dit.* EMA weights, BF16, the
init model's metadata) at the fractions of --save-at, and DIR/log.txt.
"""
import argparse
import json
import math
import os
import queue
import struct
import subprocess
import sys
import threading
import time
from multiprocessing import Pool

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_ref  # noqa: E402

SIGMA_MIN = 1e-5
T0 = time.time()
LOG = None


def log(msg):
    line = "[%6.1fs] %s" % (time.time() - T0, msg)
    print(line, flush=True)
    if LOG:
        LOG.write(line + "\n")
        LOG.flush()


def read_meta(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)).get("__metadata__", {})


# ---- data ------------------------------------------------------------------

def tokenize_file(args):
    """The first n lines of a dump's captions → ids, word and bigram buckets,
    lengths [n, K, L]."""
    path, n, max_len, buckets, k = args
    with open(path, encoding="utf-8") as f:
        rows = [f.readline().rstrip("\n").split("\t") for _ in range(n)]
    ids = np.zeros((n, k, max_len), np.int16)
    uni = np.full((n, k, max_len), -1, np.int16)
    bi = np.full((n, k, max_len), -1, np.int16)
    lens = np.zeros((n, k), np.int16)
    for i, row in enumerate(rows):
        if len(row) != k:
            raise RuntimeError("%s: line %d has %d captions, not %d" % (path, i + 1, len(row), k))
        for v in range(k):
            ids[i, v], lens[i, v] = models_ref.tokenize(row[v], max_len)
            u, b = models_ref.word_buckets(ids[i, v].tolist(), buckets)
            uni[i, v] = u
            bi[i, v] = b
    return ids, uni, bi, lens


VAL_FIRST = 10 ** 7  # validation clips: train-split scenes far past any training position


def make_data(a, cfg, W, dev, keep_video=False):
    """Render the clips with shapes-dump processes in parallel, reading their
    videos from pipes as the frozen TAE encodes them: --val clips from
    position VAL_FIRST, then training clips from position 0 until --clips or
    --data-seconds. Returns (train, val), each (latents, ids, uni, bi, lens),
    with keep_video also (videos u8 [N, T, H, W, 3], posterior log-variances)."""
    v, tcfg = cfg["video"], cfg["text"]
    frames, h, w = v["frames"], v["height"], v["width"]
    clip_bytes = frames * h * w * 3
    os.makedirs(a.scratch, exist_ok=True)
    ranges = [(VAL_FIRST, a.val)]
    per = (a.clips + a.procs - 1) // a.procs
    ranges += [(j * per, min(per, a.clips - j * per)) for j in range(a.procs) if j * per < a.clips]
    jobs = []
    for j, (first, count) in enumerate(ranges):
        cap = "%s/c%02d.txt" % (a.scratch, j)
        p = subprocess.Popen([a.dump, str(first), str(count), str(a.k), str(a.seed), cap],
                             stdout=subprocess.PIPE, bufsize=0)
        jobs.append({"p": p, "cap": cap, "count": count, "got": 0, "lat": [], "vid": [], "lv": []})
    # one reader thread per dump (a pipe holds less than a clip: read
    # round-robin from one thread, the dumps would render one at a time)
    chunk = 8
    ready = queue.Queue(maxsize=8 * len(jobs))
    stop = threading.Event()

    def reader(job):
        try:
            left = job["count"]
            while left > 0 and not stop.is_set():
                n = min(chunk, left)
                buf = bytearray(n * clip_bytes)
                view, off = memoryview(buf), 0
                while off < len(buf):
                    r = job["p"].stdout.readinto(view[off:])
                    if not r:
                        raise RuntimeError("shapes-dump ended early (exit %s)" % job["p"].poll())
                    off += r
                ready.put((job, np.frombuffer(buf, np.uint8).reshape(n, frames, h, w, 3)))
                left -= n
        except Exception as e:  # noqa: BLE001 (reported by the main thread)
            ready.put((job, e))

    threads = [threading.Thread(target=reader, args=(job,), daemon=True) for job in jobs]
    for t in threads:
        t.start()
    lat_mean, lat_std = cfg["tae"]["latent_mean"], cfg["tae"]["latent_std"]
    stopped = False

    def encode(batch):
        u8 = torch.from_numpy(np.concatenate([x for _, x in batch])).to(dev)
        x = u8.permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0
        mean, logvar = models_ref.tae_encode(W, cfg, x)
        z = (mean - lat_mean) / lat_std
        off = 0
        for job, xs in batch:
            n = xs.shape[0]
            job["lat"].append(z[off:off + n])
            if keep_video:
                job["vid"].append(u8[off:off + n])
                job["lv"].append(logvar[off:off + n])
            job["got"] += n
            off += n

    pending, n_pending = [], 0
    with torch.no_grad():
        while sum(j["got"] for j in jobs) + n_pending < sum(j["count"] for j in jobs):
            if (jobs[0]["got"] == jobs[0]["count"] and time.time() - T0 > a.data_seconds
                    and sum(j["got"] for j in jobs[1:]) >= 4 * a.batch):
                stopped = True
                break
            job, xs = ready.get()
            if isinstance(xs, Exception):
                raise xs
            pending.append((job, xs))
            n_pending += xs.shape[0]
            if n_pending >= a.enc_batch:
                encode(pending)
                pending, n_pending = [], 0
        if pending:
            encode(pending)
    stop.set()
    for job in jobs:
        if stopped:
            job["p"].kill()
            while not ready.empty():
                ready.get_nowait()
        if job["p"].wait() != 0 and not stopped:
            raise RuntimeError("shapes-dump failed (exit %d)" % job["p"].returncode)
    with Pool(a.procs) as pool:
        toks = pool.map(tokenize_file, [(j["cap"], j["got"], tcfg["max_len"], tcfg["word_buckets"],
                                         a.k) for j in jobs])

    def gather(js, ts):
        lat = torch.cat([z for j in js for z in j["lat"]])
        rest = [torch.from_numpy(np.concatenate([t[i] for t in ts])).to(dev).long()
                for i in range(4)]
        if keep_video:
            rest += [torch.cat([u for j in js for u in j[key]]) for key in ("vid", "lv")]
        return (lat, *rest)

    val = gather(jobs[:1], toks[:1])
    train = gather(jobs[1:], toks[1:])
    log("rendered, encoded and captioned %d training clips%s and %d validation clips: "
        "mean %.4f std %.4f" % (train[0].shape[0], " (stopped at --data-seconds)" if stopped else "",
                                val[0].shape[0], train[0].mean().item(), train[0].std().item()))
    return train, val


# ---- model -----------------------------------------------------------------

def trainable(W, prefixes, a, dev):
    """The tensors under prefixes as trained leaves, their EMA copies, the
    frozen rest and AdamW (0.9, 0.999, 1e-8, no weight decay, as
    rg_adamw_config_init): (P, names, params, ema, frozen, opt)."""
    P = {k: v.clone().requires_grad_(True) for k, v in W.items() if k.startswith(prefixes)}
    names = sorted(P)
    params = [P[k] for k in names]
    ema = [p.detach().clone() for p in params]
    frozen = {k: v for k, v in W.items() if k not in P}
    kw = {"fused": True} if dev.type == "cuda" else {}
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, **kw)
    return P, names, params, ema, frozen, opt


def optimizer_step(a, opt, params, ema, loss, step, frac):
    """Backward, global-norm clipping at 1.0, rg-lr.c's linear warm-up and
    cosine (over frac, the share of the run's wall time gone), AdamW, and
    the EMA with rg-ema.h's (1 + n)/(10 + n) warm-up. Returns the LR."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    if step < a.warmup:
        lr = a.lr * (step + 1) / a.warmup
    else:
        lr = a.min_lr + (a.lr - a.min_lr) * 0.5 * (1 + math.cos(math.pi * frac))
    for group in opt.param_groups:
        group["lr"] = lr
    opt.step()
    d = min(a.ema, (1.0 + step) / (10.0 + step))
    with torch.no_grad():
        torch._foreach_mul_(ema, d)
        torch._foreach_add_(ema, [p.detach() for p in params], alpha=1 - d)
    return lr


def flow_loss(v, target, w):
    """rg_flow_loss: mean(r²) + w·mean((r − r̄)²), r̄ the error's mean over the frames."""
    r = v - target
    dev = r - r.mean(2, keepdim=True)
    return r.pow(2).mean() + w * dev.pow(2).mean()


def common_args(ap):
    """The options both GPU trainers take (each sets its own defaults)."""
    ap.add_argument("--init", required=True, help="the model to start from")
    ap.add_argument("--dump", required=True, help="the shapes-dump program")
    ap.add_argument("--out", required=True)
    ap.add_argument("--scratch", help="folder for the dumps' caption files")
    ap.add_argument("--clips", type=int, help="training clips, at data positions 0, 1, ...")
    ap.add_argument("--val", type=int, help="validation clips, from position VAL_FIRST")
    ap.add_argument("--k", type=int, default=1, help="caption variants per clip")
    ap.add_argument("--seed", type=int, default=1, help="the run seed of the data positions")
    ap.add_argument("--procs", type=int, help="shapes-dump processes")
    ap.add_argument("--data-seconds", type=float,
                    help="stop rendering training clips this many seconds after start")
    ap.add_argument("--enc-batch", type=int, help="clips per TAE encoder call")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--min-lr", type=float)
    ap.add_argument("--warmup", type=int, help="warm-up steps")
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--deadline", type=float, default=480.0,
                    help="seconds after start by which training ends")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--save-at", help="also save at these fractions of the time")
    ap.add_argument("--eval-every", type=int)


def main():
    global LOG
    ap = argparse.ArgumentParser()
    common_args(ap)
    ap.add_argument("--motion-loss", type=float, default=6.0)
    ap.add_argument("--text-dropout", type=float, default=0.1)
    ap.set_defaults(scratch="/dev/shm/rg-dump", clips=100000, val=1024, k=4, procs=os.cpu_count(),
                    data_seconds=150.0, enc_batch=64, batch=512, lr=3e-4, min_lr=1e-5, warmup=200,
                    save_at="0.5,0.75", eval_every=500)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    LOG = open(os.path.join(a.out, "log.txt"), "a")
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(a.seed)
    log("device %s, torch %s, args %s" % (torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
                                          torch.__version__, vars(a)))

    W0, cfg = models_ref.load_model(a.init)
    meta = read_meta(a.init)
    W = {k: v.to(dev) for k, v in W0.items()}
    train, val = make_data(a, cfg, W, dev)
    lat, ids, uni, bi, lens = train
    n_train = lat.shape[0]
    P, names, params, ema, frozen, opt = trainable(W, ("text.", "dit."), a, dev)
    L = cfg["text"]["max_len"]
    g = torch.Generator(device=dev)
    g.manual_seed(a.seed)

    def batch_of(idx, gen):
        b = idx.shape[0]
        var = torch.randint(a.k, (b,), device=dev, generator=gen)
        bid, buni, bbi, blen = (t[idx, var] for t in (ids, uni, bi, lens))
        # text dropout: the empty prompt (end-of-text alone) for CFG
        d = torch.rand(b, device=dev, generator=gen) < a.text_dropout
        empty = torch.zeros(L, dtype=torch.long, device=dev)
        empty[0] = 1
        bid = torch.where(d[:, None], empty[None], bid)
        buni = torch.where(d[:, None], torch.full_like(buni, -1), buni)
        bbi = torch.where(d[:, None], torch.full_like(bbi, -1), bbi)
        blen = torch.where(d, torch.ones_like(blen), blen)
        return lat[idx], bid, buni, bbi, blen

    def forward_loss(Wd, x1, bid, buni, bbi, blen, t, x0):
        tt = t.view(-1, 1, 1, 1, 1)
        xt = tt * x1 + (1 - (1 - SIGMA_MIN) * tt) * x0
        target = x1 - (1 - SIGMA_MIN) * x0
        ctx = models_ref.text_encoder(Wd, cfg, bid, blen, (buni, bbi))
        v = models_ref.dit_forward(Wd, cfg, xt, t, ctx, blen)
        return v, target

    # fixed evaluation sets: the validation clips (never trained on) and as
    # many training clips, each with fixed noise and caption variants
    ge = torch.Generator(device=dev)
    ge.manual_seed(1234)
    nv = min(val[0].shape[0], n_train, 1024)
    first = tuple(tn[:nv] for tn in train)
    eval_sets = {"val": tuple(tn[:nv] for tn in val), "train": first}
    eval_noise = torch.randn((nv,) + tuple(lat.shape[1:]), device=dev, generator=ge)
    eval_var = torch.randint(a.k, (nv,), device=dev, generator=ge)
    ar = torch.arange(nv, device=dev)

    def evaluate(weights):
        out = {}
        with torch.no_grad():
            for name, (el, eids, euni, ebi, elens) in eval_sets.items():
                for tv in (0.25, 0.5, 0.75):
                    tot = 0.0
                    for s in range(0, nv, 256):
                        j, vv = ar[s:s + 256], eval_var[s:s + 256]
                        t = torch.full((j.shape[0],), tv, device=dev)
                        v, target = forward_loss(weights, el[j], eids[j, vv], euni[j, vv], ebi[j, vv],
                                                 elens[j, vv], t, eval_noise[s:s + 256])
                        tot += F.mse_loss(v, target, reduction="sum").item()
                    out["%s@%.2f" % (name, tv)] = round(tot / (nv * lat[0].numel()), 6)
        return out

    def ema_weights():
        d = dict(frozen)
        d.update(zip(names, ema))
        return d

    log("eval at start: %s" % json.dumps(evaluate(ema_weights())))
    perm = torch.randperm(n_train, device=dev, generator=g)
    pos, step = 0, 0
    save_fracs = sorted(float(x) for x in a.save_at.split(","))
    saved = set()
    losses = []
    # the LR follows rg-lr.c's warm-up + cosine, but over wall-clock time:
    # the run ends at --deadline (less a margin for the last evaluation and
    # save), whatever else shares the GPU
    t_start = time.time()
    t_end = T0 + a.deadline - 20.0
    while True:
        now = time.time()
        frac = min((now - t_start) / max(t_end - t_start, 1e-9), 1.0)
        if frac >= 1.0 or (a.max_steps and step >= a.max_steps):
            break
        if pos + a.batch > n_train:
            perm = torch.randperm(n_train, device=dev, generator=g)
            pos = 0
        idx = perm[pos:pos + a.batch]
        pos += a.batch
        x1, bid, buni, bbi, blen = batch_of(idx, g)
        t = torch.sigmoid(torch.randn(a.batch, device=dev, generator=g))
        x0 = torch.randn(x1.shape, device=dev, generator=g)
        Wd = dict(frozen)
        Wd.update(P)
        v, target = forward_loss(Wd, x1, bid, buni, bbi, blen, t, x0)
        loss = flow_loss(v, target, a.motion_loss)
        lr = optimizer_step(a, opt, params, ema, loss, step, frac)
        losses.append(loss.detach())
        step += 1
        if step % 100 == 0:
            ls = torch.stack(losses).mean().item()
            losses = []
            log("step %d (%.0f %% of the time, epoch %.2f) lr %.2e loss %.4f"
                % (step, 100 * frac, step * a.batch / n_train, lr, ls))
        if step % a.eval_every == 0:
            log("eval step %d: %s" % (step, json.dumps(evaluate(ema_weights()))))
        for fr in save_fracs:
            if fr < 1.0 and fr not in saved and frac >= fr:
                saved.add(fr)
                path = os.path.join(a.out, "ema-%06d.safetensors" % step)
                models_ref.save_safetensors(path, dict(zip(names, ema)), meta, "BF16")
                log("saved %s" % path)
    log("eval step %d (last): %s" % (step, json.dumps(evaluate(ema_weights()))))
    path = os.path.join(a.out, "ema-%06d.safetensors" % step)
    models_ref.save_safetensors(path, dict(zip(names, ema)), meta, "BF16")
    log("saved %s" % path)
    log("done: %d steps" % step)


if __name__ == "__main__":
    main()
