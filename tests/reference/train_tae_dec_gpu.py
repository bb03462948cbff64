#!/usr/bin/python3
"""Fine-tune the nano TAE's decoder on a CUDA GPU with the PyTorch reference
models (models_ref.py), the encoder frozen, on ShapesWorld clips that the C
engine renders (shapes-dump).

  train_tae_dec_gpu.py --init MODEL --dump SHAPES_DUMP --out DIR [options]

The step is the C trainer's with freeze_encoder (engine/train/rg-train-tae.c,
resources/train/nano-tae-decoder-stable.json), on whole clips instead of
crops: z = μ + σ·ε from the frozen encoder's posterior, plus latent noise of
std u·latent_noise·spread (u uniform per sample, spread the batch's std of
μ), loss = MSE(x̂, x) + l1·L1(x̂, x); global-norm clipping at 1.0, AdamW,
warm-up + cosine LR over wall-clock time, EMA. The encoder is frozen, so the
latent space, and every DiT trained on it, stays valid.

Writes DIR/tae-dec-<step>.safetensors (the EMA tae.dec.* weights, BF16) and
logs the validation PSNR of clean decodes to DIR/log-tae.txt.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models_ref  # noqa: E402
import train_t2v_gpu as common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    common.common_args(ap)
    ap.add_argument("--l1", type=float, default=0.1)
    ap.add_argument("--latent-noise", type=float, default=0.2)
    ap.set_defaults(scratch="/dev/shm/rg-dump-tae", clips=16384, val=256, procs=4, data_seconds=120.0,
                    enc_batch=64, batch=16, lr=1e-4, min_lr=1e-5, warmup=50, save_at="0.5",
                    eval_every=250)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    common.LOG = open(os.path.join(a.out, "log-tae.txt"), "a")
    log = common.log
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(a.seed)
    log("tae decoder: args %s" % vars(a))

    W0, cfg = models_ref.load_model(a.init)
    meta = common.read_meta(a.init)
    W = {k: v.to(dev) for k, v in W0.items()}
    train, val = common.make_data(a, cfg, W, dev, keep_video=True)
    lm, ls = cfg["tae"]["latent_mean"], cfg["tae"]["latent_std"]
    mu, vid, lv = train[0] * ls + lm, train[5], train[6]
    vmu, vvid = val[0] * ls + lm, val[5]
    n = mu.shape[0]
    P, names, params, ema, frozen, opt = common.trainable(W, ("tae.dec.",), a, dev)
    g = torch.Generator(device=dev)
    g.manual_seed(a.seed)

    def to_float(u8):
        return u8.permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0

    def psnr(weights):
        """Mean over validation clips of the PSNR of clean decodes (peak 2)."""
        out = []
        with torch.no_grad():
            for s in range(0, vmu.shape[0], 32):
                xh = models_ref.tae_decode(weights, cfg, vmu[s:s + 32]).clamp(-1, 1)
                mse = (xh - to_float(vvid[s:s + 32])).pow(2).flatten(1).mean(1)
                out.append(10 * torch.log10(4.0 / mse.clamp(min=1e-10)))
        return torch.cat(out).mean().item()

    def ema_weights():
        d = dict(frozen)
        d.update(zip(names, ema))
        return d

    def save(step):
        path = os.path.join(a.out, "tae-dec-%06d.safetensors" % step)
        models_ref.save_safetensors(path, dict(zip(names, ema)), meta, "BF16")
        log("saved %s" % path)

    log("tae decoder: %d training clips; validation PSNR at start %.2f dB" % (n, psnr(ema_weights())))
    save_fracs = sorted(float(x) for x in a.save_at.split(","))
    saved, losses, step = set(), [], 0
    t_start, t_end = time.time(), common.T0 + a.deadline - 15.0
    while True:
        frac = min((time.time() - t_start) / max(t_end - t_start, 1e-9), 1.0)
        if frac >= 1.0 or (a.max_steps and step >= a.max_steps):
            break
        idx = torch.randint(n, (a.batch,), device=dev, generator=g)
        m = mu[idx]
        z = m + torch.exp(0.5 * lv[idx].clamp(-30, 20)) * torch.randn(m.shape, device=dev, generator=g)
        if a.latent_noise > 0:
            sd = torch.rand(a.batch, device=dev, generator=g) * a.latent_noise * m.std()
            z = z + sd.view(-1, 1, 1, 1, 1) * torch.randn(m.shape, device=dev, generator=g)
        Wd = dict(frozen)
        Wd.update(P)
        xh = models_ref.tae_decode(Wd, cfg, z)
        x = to_float(vid[idx])
        loss = F.mse_loss(xh, x) + a.l1 * F.l1_loss(xh, x)
        lr = common.optimizer_step(a, opt, params, ema, loss, step, frac)
        losses.append(loss.detach())
        step += 1
        if step % 50 == 0:
            log("tae step %d (%.0f %%) lr %.2e loss %.5f"
                % (step, 100 * frac, lr, torch.stack(losses).mean().item()))
            losses = []
        if step % a.eval_every == 0:
            log("tae step %d: validation PSNR %.2f dB" % (step, psnr(ema_weights())))
        for fr in save_fracs:
            if fr not in saved and frac >= fr:
                saved.add(fr)
                save(step)
    log("tae step %d (last): validation PSNR %.2f dB" % (step, psnr(ema_weights())))
    save(step)


if __name__ == "__main__":
    main()
