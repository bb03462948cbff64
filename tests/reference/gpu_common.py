#!/usr/bin/python3
"""What the PyTorch GPU trainers (train_t2v_gpu.py, train_tae_gpu.py) share:
the log, ShapesWorld clips rendered by the engine (shapes-dump) in the
background, their captions tokenised as the engine does, the TAE encoding of
clips, and the optimiser step (clipping, warm-up + cosine LR over wall-clock
time, AdamW, EMA) of the C trainer."""
import collections
import json
import math
import os
import struct
import subprocess
import threading
import time
from multiprocessing import Pool

import numpy as np
import torch

import models_ref

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


def read_motions(path, n):
    """The first n lines of a dump's motion file: each clip's shape motions."""
    with open(path, encoding="utf-8") as f:
        rows = [f.readline() for _ in range(n)]
    for i, row in enumerate(rows):
        if not row.endswith("\n"):
            raise RuntimeError("%s: line %d is missing" % (path, i + 1))
    return [row.split() for row in rows]


VAL_FIRST = 10 ** 7  # validation clips: train-split scenes far past any training position


class Clips:
    """ShapesWorld clips rendered by shapes-dump processes in the background
    into one u8 buffer [N, T, H, W, 3] on the device: job 0 renders the --val
    validation clips (from position VAL_FIRST), jobs 1… the --clips training
    clips (from position 0). Each dump has its own reader thread (a pipe
    holds less than a clip: read round-robin from one thread, the dumps would
    render one at a time), so a trainer can start on the first clips while
    the rest render; pump() moves what the readers have read into the buffer."""

    CHUNK = 8

    def __init__(self, a, cfg, dev):
        v = cfg["video"]
        self.a, self.dev, self.text = a, dev, cfg["text"]
        self.clip_shape = (v["frames"], v["height"], v["width"], 3)
        self.clip_bytes = int(np.prod(self.clip_shape))
        os.makedirs(a.scratch, exist_ok=True)
        ranges = [(VAL_FIRST, a.val)]
        per = (a.clips + a.procs - 1) // a.procs
        ranges += [(j * per, min(per, a.clips - j * per)) for j in range(a.procs) if j * per < a.clips]
        self.buf = torch.empty((a.val + a.clips,) + self.clip_shape, dtype=torch.uint8, device=dev)
        self.jobs, at = [], 0
        for j, (first, count) in enumerate(ranges):
            cap, mot = "%s/c%02d.txt" % (a.scratch, j), "%s/m%02d.txt" % (a.scratch, j)
            p = subprocess.Popen([a.dump, str(first), str(count), str(a.k), str(a.seed), cap, mot],
                                 stdout=subprocess.PIPE, bufsize=0)
            self.jobs.append({"p": p, "cap": cap, "mot": mot, "at": at, "count": count, "moved": 0,
                              "chunks": collections.deque(), "error": None})
            at += count
        self.stop = threading.Event()
        self.stopped = False
        for job in self.jobs:
            threading.Thread(target=self._reader, args=(job,), daemon=True).start()

    def _reader(self, job):
        try:
            left = job["count"]
            while left > 0 and not self.stop.is_set():
                n = min(self.CHUNK, left)
                buf = bytearray(n * self.clip_bytes)
                view, off = memoryview(buf), 0
                while off < len(buf):
                    r = job["p"].stdout.readinto(view[off:])
                    if not r:
                        raise RuntimeError("shapes-dump ended early (exit %s)" % job["p"].poll())
                    off += r
                job["chunks"].append(np.frombuffer(buf, np.uint8).reshape((n,) + self.clip_shape))
                left -= n
        except Exception as e:  # noqa: BLE001 (raised by pump in the main thread)
            job["error"] = e

    def pump(self):
        """Move the clips read so far into the buffer; returns how many."""
        moved = 0
        for job in self.jobs:
            while job["chunks"]:
                xs = torch.from_numpy(job["chunks"].popleft())
                s = job["at"] + job["moved"]
                self.buf[s:s + xs.shape[0]] = xs.to(self.dev)
                job["moved"] += xs.shape[0]
                moved += xs.shape[0]
            if job["error"] is not None and not self.stopped:
                raise job["error"]
        return moved

    def _done(self, job):
        return job["moved"] == job["count"]

    def val_index(self):
        j = self.jobs[0]
        return torch.arange(j["at"], j["at"] + j["moved"], device=self.dev)

    def train_index(self):
        """The training clips in the buffer so far, in data-position order
        within each dump."""
        parts = [torch.arange(j["at"], j["at"] + j["moved"], device=self.dev) for j in self.jobs[1:]]
        return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long, device=self.dev)

    def wait(self, n_train):
        """Until the validation clips and n_train training clips (or all) are in."""
        while True:
            self.pump()
            have = sum(j["moved"] for j in self.jobs[1:])
            if self._done(self.jobs[0]) and (have >= n_train or all(map(self._done, self.jobs))):
                return
            time.sleep(0.05)

    def finish(self):
        """Until every clip is in, or until --data-seconds after the start
        (then the dumps are stopped where they are, once the validation clips
        and four batches are in); then reap the dumps and tokenize the
        captions of the clips read. Returns (train, val) token tuples
        (ids, word buckets, bigram buckets, lengths), each [n, K, L], and
        sets .train_motions: each training clip's shape motions (a list of
        rg_motion_name strings), in train_index() order."""
        a = self.a
        while not all(map(self._done, self.jobs)):
            self.pump()
            if (self._done(self.jobs[0]) and time.time() - T0 > a.data_seconds
                    and sum(j["moved"] for j in self.jobs[1:]) >= 4 * a.batch):
                self.stopped = True
                break
            time.sleep(0.05)
        self.stop.set()
        for job in self.jobs:
            if self.stopped:
                job["p"].kill()
            if job["p"].wait() != 0 and not self.stopped:
                raise RuntimeError("shapes-dump failed (exit %d)" % job["p"].returncode)
        self.pump()
        self.train_motions = [m for j in self.jobs[1:] for m in read_motions(j["mot"], j["moved"])]
        tcfg = self.text
        with Pool(max(1, min(a.procs, len(self.jobs)))) as pool:
            toks = pool.map(tokenize_file, [(j["cap"], j["moved"], tcfg["max_len"], tcfg["word_buckets"],
                                             a.k) for j in self.jobs])

        def cat(ts):
            return tuple(torch.from_numpy(np.concatenate([t[i] for t in ts])).to(self.dev).long()
                         for i in range(4))
        return cat(toks[1:]), cat(toks[:1])

    def video(self, idx):
        """Clips idx as floats in [−1, 1], [n, 3, T, H, W]."""
        return self.buf[idx].permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0


def encode(W, cfg, clips, idx, batch, amp=False):
    """The TAE posterior (means, log-variances) of clips idx, raw (not
    normalised), float32; amp: the convolutions in bfloat16 autocast."""
    means, logvars = [], []
    with torch.no_grad(), torch.autocast(clips.dev.type, dtype=torch.bfloat16, enabled=amp):
        for s in range(0, idx.shape[0], batch):
            m, lv = models_ref.tae_encode(W, cfg, clips.video(idx[s:s + batch]))
            means.append(m.float())
            logvars.append(lv.float())
    return torch.cat(means), torch.cat(logvars)


def make_data(a, cfg, W, dev):
    """Render --val validation and --clips training clips (until
    --data-seconds), encode them with the model's TAE and caption them.
    Returns (train, val, clips), train and val each (latents normalised by
    tae.latent_mean/std, ids, word buckets, bigram buckets, lengths), clips
    the Clips with the videos (train and val index tensors as .train_idx,
    .val_idx)."""
    clips = Clips(a, cfg, dev)
    train_tok, val_tok = clips.finish()
    clips.train_idx, clips.val_idx = clips.train_index(), clips.val_index()
    lm, ls = cfg["tae"]["latent_mean"], cfg["tae"]["latent_std"]
    train = ((encode(W, cfg, clips, clips.train_idx, a.enc_batch)[0] - lm) / ls,) + train_tok
    val = ((encode(W, cfg, clips, clips.val_idx, a.enc_batch)[0] - lm) / ls,) + val_tok
    log("rendered, encoded and captioned %d training clips%s and %d validation clips: "
        "mean %.4f std %.4f" % (train[0].shape[0], " (stopped at --data-seconds)" if clips.stopped else "",
                                val[0].shape[0], train[0].mean().item(), train[0].std().item()))
    return train, val, clips


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
