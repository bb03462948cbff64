#!/usr/bin/python3
"""Train the nano TAE on a CUDA GPU with the PyTorch reference models
(models_ref.py), on ShapesWorld clips that the C engine renders (shapes-dump):
its decoder alone (the encoder frozen, the default) or, with --joint, the
encoder and decoder together.

  train_tae_gpu.py --init MODEL --dump SHAPES_DUMP --out DIR [--joint] [options]

The step is the C trainer's (engine/train/rg-train-tae.c), on whole clips
instead of crops: z = μ + σ·ε from the encoder's posterior, plus latent noise
of std u·latent_noise·spread (u uniform per sample, spread the batch's std of
μ), loss = MSE(x̂, x) + l1·L1(x̂, x), and with --joint also kl·KL(q ‖ N(0, 1))
+ opl·OPL(μ) (Movie Gen's outlier penalty, r = 3); global-norm clipping at
1.0, AdamW, warm-up + cosine LR over wall-clock time, EMA. With the encoder
frozen the latent space, and every DiT trained on it, stays valid; --joint
changes it, so its files carry new tae.latent_mean/std in their config and a
DiT must be trained on the new latents (train_t2v_gpu.py --tae-until does
both in one run).

Writes DIR/tae-dec-<step>.safetensors (the EMA tae.dec.* weights, BF16) or
with --joint DIR/tae-<step>.safetensors (all tae.* weights), and logs the
validation PSNR of clean decodes and the std of their latents to
DIR/log-tae.txt.
"""
import argparse
import copy
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_ref  # noqa: E402
import gpu_common as common  # noqa: E402

OPL_R = 3.0


def tae_args(ap, prefix=""):
    """The TAE objective's options (prefix "tae-" where they sit beside a DiT's)."""
    ap.add_argument("--%sl1" % prefix, type=float, default=0.1)
    ap.add_argument("--%slatent-noise" % prefix, type=float, default=0.2)
    ap.add_argument("--%skl" % prefix, type=float, default=1e-5, help="KL weight (--joint)")
    ap.add_argument("--%sopl" % prefix, type=float, default=0.1, help="outlier penalty weight (--joint)")


def outlier_penalty(mean):
    """rg-train-tae.c's OPL: mean of max(|μ − m| − r·s, 0), m and s per sample
    and channel over positions, held constant in the gradient."""
    flat = mean.flatten(2)
    m = flat.mean(2, keepdim=True).detach()
    s = flat.std(2, unbiased=False, keepdim=True).detach()
    return F.relu((flat - m).abs() - OPL_R * s).mean()


def tae_loss(Wt, cfg, x, o, joint, g):
    """The C trainer's TAE loss on clips x [B, 3, T, H, W] (o: l1,
    latent_noise, kl, opl, amp: the convolutions in bfloat16 autocast; the
    posterior, the norms and the loss stay float32)."""
    amp = torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=o.amp)
    with torch.set_grad_enabled(joint), amp:
        mean, logvar = models_ref.tae_encode(Wt, cfg, x)
    mean, logvar = mean.float(), logvar.float()
    lv = logvar.clamp(-30, 20)
    z = mean + torch.exp(0.5 * lv) * torch.randn(mean.shape, device=x.device, generator=g)
    if o.latent_noise > 0:
        sd = torch.rand(x.shape[0], device=x.device, generator=g) * o.latent_noise * mean.detach().std()
        z = z + sd.view(-1, 1, 1, 1, 1) * torch.randn(mean.shape, device=x.device, generator=g)
    with amp:
        xh = models_ref.tae_decode(Wt, cfg, z).float()
    loss = F.mse_loss(xh, x) + o.l1 * F.l1_loss(xh, x)
    if joint:
        kl = 0.5 * (mean.pow(2) + lv.exp() - 1.0 - lv).mean()
        loss = loss + o.kl * kl + o.opl * outlier_penalty(mean)
    return loss


def validation_report(W, cfg, clips, idx):
    """The line "PSNR d dB, latent std s" for clips idx: the mean PSNR of
    their clean decodes (z = μ; peak 2) and the std of their posterior means,
    so that a joint run shows its latents' scale drifting (one on an H200
    grew 13-fold)."""
    out, means = [], []
    with torch.no_grad():
        for s in range(0, idx.shape[0], 32):
            x = clips.video(idx[s:s + 32])
            mean = models_ref.tae_encode(W, cfg, x)[0]
            xh = models_ref.tae_decode(W, cfg, mean).clamp(-1, 1)
            mse = (xh - x).pow(2).flatten(1).mean(1)
            out.append(10 * torch.log10(4.0 / mse.clamp(min=1e-10)))
            means.append(mean.float().flatten())
    return "PSNR %.2f dB, latent std %.3f" % (torch.cat(out).mean().item(), torch.cat(means).std().item())


def latent_stats(W, cfg, clips, idx, batch):
    """The overall mean and std of the posterior means of clips idx: a
    model's tae.latent_mean/std, as rg-train-t2v.c sets them."""
    mean = common.encode(W, cfg, clips, idx, batch)[0]
    return mean.mean().item(), mean.std().item()


def with_stats(meta, cfg, stats):
    """meta with the config's tae.latent_mean/std set to stats."""
    cfg = copy.deepcopy(cfg)
    cfg["tae"]["latent_mean"], cfg["tae"]["latent_std"] = stats
    out = dict(meta)
    out["reelgen.config"] = json.dumps(cfg, indent=2)
    return out, cfg


def train_tae(o, cfg, W, clips, t_end, joint, save=None):
    """Train W's decoder (or with joint its whole TAE) on clips' training
    clips until time t_end or o.max_steps, pumping newly rendered clips in
    as it goes. o: the TAE options plus amp, lr, min_lr, warmup, batch, ema,
    seed, save_at, eval_every. save(step, names, ema) is called at the
    fractions of o.save_at. Returns (EMA weights of the trained tensors, steps)."""
    dev = clips.dev
    P, names, params, ema, frozen, opt = common.trainable(W, ("tae.",) if joint else ("tae.dec.",),
                                                          o, dev)
    g = torch.Generator(device=dev)
    g.manual_seed(o.seed)
    what = "tae (joint)" if joint else "tae decoder"

    def ema_weights():
        d = dict(frozen)
        d.update(zip(names, ema))
        return d

    val = clips.val_index()
    pool = clips.train_index()
    common.log("%s: %d training clips so far; validation at start: %s"
               % (what, pool.shape[0], validation_report(ema_weights(), cfg, clips, val)))
    save_fracs = sorted(float(x) for x in (o.save_at or "").split(",") if x)
    saved, losses, step = set(), [], 0
    t_start = time.time()
    while True:
        frac = min((time.time() - t_start) / max(t_end - t_start, 1e-9), 1.0)
        if frac >= 1.0 or (o.max_steps and step >= o.max_steps):
            break
        if step % 20 == 0 and clips.pump():
            pool = clips.train_index()
        idx = pool[torch.randint(pool.shape[0], (o.batch,), device=dev, generator=g)]
        Wt = dict(frozen)
        Wt.update(P)
        loss = tae_loss(Wt, cfg, clips.video(idx), o, joint, g)
        lr = common.optimizer_step(o, opt, params, ema, loss, step, frac)
        losses.append(loss.detach())
        step += 1
        if step % 50 == 0:
            common.log("%s step %d (%.0f %%, %d clips) lr %.2e loss %.5f"
                       % (what, step, 100 * frac, pool.shape[0], lr, torch.stack(losses).mean().item()))
            losses = []
        if step % o.eval_every == 0:
            common.log("%s step %d: validation %s" % (what, step, validation_report(ema_weights(), cfg, clips, val)))
        for fr in save_fracs:
            if save and fr < 1.0 and fr not in saved and frac >= fr:
                saved.add(fr)
                save(step, dict(zip(names, ema)))
    common.log("%s step %d (last): validation %s" % (what, step, validation_report(ema_weights(), cfg, clips, val)))
    return dict(zip(names, ema)), step


def main():
    ap = argparse.ArgumentParser()
    common.common_args(ap)
    tae_args(ap)
    ap.add_argument("--joint", action="store_true", help="train the encoder too")
    ap.add_argument("--amp", action="store_true", help="bfloat16 autocast for the convolutions")
    ap.set_defaults(scratch="/dev/shm/rg-dump-tae", clips=16384, val=256, procs=4, data_seconds=120.0,
                    enc_batch=64, batch=16, lr=1e-4, min_lr=1e-5, warmup=50, save_at="0.5",
                    eval_every=250)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    common.LOG = open(os.path.join(a.out, "log-tae.txt"), "a")
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(a.seed)
    common.log("tae: args %s" % vars(a))

    W0, cfg = models_ref.load_model(a.init)
    meta = common.read_meta(a.init)
    W = {k: v.to(dev) for k, v in W0.items()}
    clips = common.Clips(a, cfg, dev)
    clips.finish()

    def save(step, weights):
        name = "tae-%06d.safetensors" if a.joint else "tae-dec-%06d.safetensors"
        m = meta
        if a.joint:  # a new encoder: new latent statistics
            Wn = dict(W)
            Wn.update(weights)
            stats = latent_stats(Wn, cfg, clips, clips.train_index()[:4096], a.enc_batch)
            m = with_stats(meta, cfg, stats)[0]
            common.log("latent mean %.4f std %.4f" % stats)
        path = os.path.join(a.out, name % step)
        models_ref.save_safetensors(path, weights, m, "BF16")
        common.log("saved %s" % path)

    weights, step = train_tae(a, cfg, W, clips, common.T0 + a.deadline - 15.0, a.joint, save)
    save(step, weights)


if __name__ == "__main__":
    main()
