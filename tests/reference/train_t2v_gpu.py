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
(1 + n)/(10 + n) warm-up; --bounce-clips (--diagonal-clips) draws that
share of the samples from the clips with a bouncing (diagonal) shape, as the
C trainer's bounce_clips (diagonal_clips). What differs: a large batch, and a
run bounded by wall-clock time (the cosine runs over time, not steps, to end
by --deadline).

With --tae-until S the run first trains the TAE, encoder and decoder
together (train_tae_gpu.py's joint step, --tae-* options), on the clips
rendered so far while the rest render, until S seconds after the start;
then it encodes every clip with the new EMA encoder, sets tae.latent_mean/std
from those latents, writes DIR/tae-<step>.safetensors (all tae.* weights),
and trains the DiT on the new latents. --amp runs the text encoder, DiT and
TAE in bfloat16 autocast (float32 weights, norms, optimiser and loss).

Writes DIR/ema-<step>.safetensors (text.* and dit.* EMA weights, BF16, the
init model's metadata with the run's latent statistics) at the fractions of
--save-at, and DIR/log.txt.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_common as common  # noqa: E402
import models_ref  # noqa: E402
import train_tae_gpu  # noqa: E402
from gpu_common import log  # noqa: E402

SIGMA_MIN = 1e-5


def flow_loss(v, target, w):
    """rg_flow_loss: mean(r²) + w·mean((r − r̄)²), r̄ the error's mean over the frames."""
    r = v - target
    dev = r - r.mean(2, keepdim=True)
    return r.pow(2).mean() + w * dev.pow(2).mean()


def flow_forward(W, cfg, x1, tokens, t, x0, amp):
    """The DiT's velocity at x_t and its target x₁ − (1 − σ_min)·x₀, for
    latents x1, caption tokens (ids, word buckets, bigram buckets, lengths),
    times t and noise x0; amp: the text encoder and DiT in bfloat16 autocast."""
    ids, uni, bi, lens = tokens
    tt = t.view(-1, 1, 1, 1, 1)
    xt = tt * x1 + (1 - (1 - SIGMA_MIN) * tt) * x0
    target = x1 - (1 - SIGMA_MIN) * x0
    with torch.autocast(x1.device.type, dtype=torch.bfloat16, enabled=amp):
        ctx = models_ref.text_encoder(W, cfg, ids, lens, (uni, bi))
        v = models_ref.dit_forward(W, cfg, xt, t, ctx, lens)
    return v.float(), target


def preflight(W, cfg, dev, amp, tae=None):
    """One forward and backward of the flow loss on two random latents and
    the empty caption, and with tae (train_tae_gpu options) of the joint TAE
    loss on a random clip: a failure (an autocast op the device lacks, say)
    shows in seconds, before the data and the TAE take minutes."""
    vid, tc = cfg["video"], cfg["tae"]
    ft, fs = 2 ** tc["temporal_down"], 2 ** (len(tc["channels"]) - 1)
    shape = (2, tc["latent_channels"], vid["frames"] // ft, vid["height"] // fs, vid["width"] // fs)
    L = cfg["text"]["max_len"]
    ids = torch.zeros((2, L), dtype=torch.long, device=dev)
    ids[:, 0] = 1
    none = torch.full((2, L), -1, dtype=torch.long, device=dev)
    lens = torch.ones(2, dtype=torch.long, device=dev)
    Wp = {k: (x.clone().requires_grad_(True) if k.startswith(("text.", "dit.")) else x) for k, x in W.items()}
    v, target = flow_forward(Wp, cfg, torch.randn(shape, device=dev), (ids, none, none, lens),
                             torch.rand(2, device=dev), torch.randn(shape, device=dev), amp)
    flow_loss(v, target, 1.0).backward()
    if tae is not None:
        Wt = {k: (x.clone().requires_grad_(True) if k.startswith("tae.") else x) for k, x in W.items()}
        g = torch.Generator(device=dev)
        clip = torch.rand((1, 3, vid["frames"], vid["height"], vid["width"]), device=dev) * 2 - 1
        train_tae_gpu.tae_loss(Wt, cfg, clip, tae, True, g).backward()


def tae_options(a):
    """train_tae_gpu.train_tae's options from the --tae-* ones."""
    return argparse.Namespace(amp=a.amp, l1=a.tae_l1, latent_noise=a.tae_latent_noise, kl=a.tae_kl,
                              opl=a.tae_opl, lr=a.tae_lr, min_lr=a.tae_min_lr, warmup=50, batch=a.tae_batch,
                              ema=a.ema, seed=a.seed, max_steps=a.tae_max_steps, save_at=None,
                              eval_every=a.eval_every)


def joint_tae_data(a, o, cfg, meta, W, dev):
    """--tae-until: train the TAE jointly on the clips as they render, then
    encode them all with it. Returns make_data's (train, val) on the new
    latents, and meta and cfg with the new latent statistics (W updated)."""
    clips = common.Clips(a, cfg, dev)
    clips.wait(a.tae_start_clips)
    weights, step = train_tae_gpu.train_tae(o, cfg, W, clips, common.T0 + a.tae_until, True)
    W.update(weights)
    train_tok, val_tok = clips.finish()
    tr, va = clips.train_index(), clips.val_index()
    mean = common.encode(W, cfg, clips, tr, a.enc_batch, a.amp)[0]
    stats = (mean.mean().item(), mean.std().item())
    meta, cfg = train_tae_gpu.with_stats(meta, cfg, stats)
    path = os.path.join(a.out, "tae-%06d.safetensors" % step)
    models_ref.save_safetensors(path, weights, meta, "BF16")
    log("saved %s; latent mean %.4f std %.4f over %d clips" % (path, stats[0], stats[1], tr.shape[0]))
    vmean = common.encode(W, cfg, clips, va, a.enc_batch, a.amp)[0]
    train = ((mean - stats[0]) / stats[1],) + train_tok
    val = ((vmean - stats[0]) / stats[1],) + val_tok
    return train, val, meta, cfg, clips.train_motions


MOTION_SHARES = (("bouncing", "bounce_clips"), ("diagonal", "diagonal_clips"))


def motion_draws(a, motions, dev):
    """For each of MOTION_SHARES: whether each training clip has a shape
    with that motion (a bool tensor), and those clips' indices; a share
    above 0 with no such clip is an error, as in the C trainer."""
    out = []
    for name, opt in MOTION_SHARES:
        has = torch.tensor([name in m for m in motions], dtype=torch.bool, device=dev)
        idx = has.nonzero().flatten()
        share = getattr(a, opt)
        if share > 0:
            if idx.numel() == 0:
                sys.exit("train_t2v_gpu.py: --%s: none of the %d clips has a %s shape"
                         % (opt.replace("_", "-"), len(motions), name))
            log("%d of %d clips show %s motion; --%s draws %.0f %% of the samples from them"
                % (idx.numel(), len(motions), name, opt.replace("_", "-"), 100 * share))
        out.append((has, idx, share))
    return out


def draw_motions(idx, draws, gen):
    """The C trainer's sample_index for a batch: one uniform u per sample;
    u below the first share takes a random clip of the first list, u in the
    next share's span one of the next, otherwise the epoch's own clip idx.
    Without shares the batch and the generator's stream are untouched."""
    if not any(share > 0 for _, _, share in draws):
        return idx
    u = torch.rand(idx.shape[0], device=idx.device, generator=gen)
    lo = 0.0
    for _, lst, share in draws:
        if share > 0:
            pick = lst[torch.randint(lst.numel(), idx.shape, device=idx.device, generator=gen)]
            idx = torch.where((u >= lo) & (u < lo + share), pick, idx)
        lo += share
    return idx


def renormalise(train, val, meta, cfg):
    """make_data's (train, val) normalised by the training latents' own mean
    and std instead of the config's; meta and cfg with those statistics."""
    lm, ls = cfg["tae"]["latent_mean"], cfg["tae"]["latent_std"]
    raw = train[0] * ls + lm
    stats = (raw.mean().item(), raw.std().item())
    meta, cfg = train_tae_gpu.with_stats(meta, cfg, stats)
    log("latent statistics of --tae-init's encoder: mean %.4f std %.4f" % stats)
    return (((raw - stats[0]) / stats[1],) + train[1:],
            (((val[0] * ls + lm) - stats[0]) / stats[1],) + val[1:], meta, cfg)


def main():
    ap = argparse.ArgumentParser()
    common.common_args(ap)
    ap.add_argument("--motion-loss", type=float, default=6.0)
    ap.add_argument("--text-dropout", type=float, default=0.1)
    ap.add_argument("--bounce-clips", type=float, default=0.0,
                    help="share of the samples drawn from the clips with a bouncing shape")
    ap.add_argument("--diagonal-clips", type=float, default=0.0,
                    help="share of the samples drawn from the clips with a diagonal one")
    ap.add_argument("--amp", action="store_true", help="bfloat16 autocast for the models")
    ap.add_argument("--preflight-only", action="store_true",
                    help="run the preflight step (see preflight()) and stop")
    ap.add_argument("--tae-until", type=float, default=0.0,
                    help="first train the TAE jointly until this many seconds after the start")
    ap.add_argument("--tae-init", help="take the tae.* weights from this file (the DiT then trains on "
                    "its latents, with their own statistics)")
    ap.add_argument("--tae-start-clips", type=int, default=4096,
                    help="training clips rendered before the TAE starts")
    ap.add_argument("--tae-batch", type=int, default=16)
    ap.add_argument("--tae-lr", type=float, default=2e-4)
    ap.add_argument("--tae-min-lr", type=float, default=1e-5)
    ap.add_argument("--tae-max-steps", type=int, default=0)
    train_tae_gpu.tae_args(ap, "tae-")
    ap.set_defaults(scratch="/dev/shm/rg-dump", clips=100000, val=1024, k=4, procs=os.cpu_count(),
                    data_seconds=150.0, enc_batch=64, batch=512, lr=3e-4, min_lr=1e-5, warmup=200,
                    save_at="0.5,0.75", eval_every=500, tae_latent_noise=0.1)
    a = ap.parse_args()
    if not (0 <= a.bounce_clips and 0 <= a.diagonal_clips and a.bounce_clips + a.diagonal_clips <= 1):
        sys.exit("train_t2v_gpu.py: --bounce-clips (%g) and --diagonal-clips (%g) must be shares "
                 "that add up to 1 at most" % (a.bounce_clips, a.diagonal_clips))
    os.makedirs(a.out, exist_ok=True)
    common.LOG = open(os.path.join(a.out, "log.txt"), "a")
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(a.seed)
    log("device %s, torch %s, args %s" % (torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
                                          torch.__version__, vars(a)))

    W0, cfg = models_ref.load_model(a.init)
    meta = common.read_meta(a.init)
    if a.tae_init:
        T, _ = models_ref.load_safetensors(a.tae_init)
        T = {k: v for k, v in T.items() if k.startswith("tae.")}
        bad = [k for k in W0 if k.startswith("tae.") and (k not in T or T[k].shape != W0[k].shape)]
        if bad:
            sys.exit("train_t2v_gpu.py: %s lacks %s (or its shape differs)" % (a.tae_init, bad[0]))
        W0.update(T)
    W = {k: v.to(dev) for k, v in W0.items()}
    preflight(W, cfg, dev, a.amp, tae_options(a) if a.tae_until > 0 else None)
    if a.preflight_only:
        log("preflight passed")
        return
    if a.tae_until > 0:
        train, val, meta, cfg, motions = joint_tae_data(a, tae_options(a), cfg, meta, W, dev)
    else:
        train, val, clips = common.make_data(a, cfg, W, dev)
        motions = clips.train_motions
        if a.tae_init:  # another TAE than the model's: the statistics of its latents
            train, val, meta, cfg = renormalise(train, val, meta, cfg)
    lat, ids, uni, bi, lens = train
    n_train = lat.shape[0]
    draws = motion_draws(a, motions, dev)
    neither = ~torch.stack([has for has, _, _ in draws]).any(0)
    drawn = torch.zeros(len(draws) + 2, dtype=torch.long, device=dev)  # per motion, neither, all
    P, names, params, ema, frozen, opt = common.trainable(W, ("text.", "dit."), a, dev)
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
        return flow_forward(Wd, cfg, x1, (bid, buni, bbi, blen), t, x0, a.amp)

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
    t_end = common.T0 + a.deadline - 20.0
    while True:
        now = time.time()
        frac = min((now - t_start) / max(t_end - t_start, 1e-9), 1.0)
        if frac >= 1.0 or (a.max_steps and step >= a.max_steps):
            break
        if pos + a.batch > n_train:
            perm = torch.randperm(n_train, device=dev, generator=g)
            pos = 0
        idx = draw_motions(perm[pos:pos + a.batch], draws, g)
        pos += a.batch
        drawn += torch.stack([has[idx].sum() for has, _, _ in draws]
                             + [neither[idx].sum(), drawn.new_tensor(idx.numel())])
        x1, bid, buni, bbi, blen = batch_of(idx, g)
        t = torch.sigmoid(torch.randn(a.batch, device=dev, generator=g))
        x0 = torch.randn(x1.shape, device=dev, generator=g)
        Wd = dict(frozen)
        Wd.update(P)
        v, target = forward_loss(Wd, x1, bid, buni, bbi, blen, t, x0)
        loss = flow_loss(v, target, a.motion_loss)
        lr = common.optimizer_step(a, opt, params, ema, loss, step, frac)
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
    d = drawn.tolist()
    kinds = ["with a %s shape" % name for name, _ in MOTION_SHARES] + ["with neither"]
    log("samples drawn: %d; %s" % (d[-1], ", ".join("%.1f %% %s" % (100 * n / max(d[-1], 1), kind)
                                                      for n, kind in zip(d, kinds))))
    log("done: %d steps" % step)


if __name__ == "__main__":
    main()
