#!/usr/bin/python3
"""PyTorch reference of the Reelgen model family (text encoder, TAE, DiT).

It reads the same safetensors checkpoints the C engine writes (Debian's
python3-torch has no `safetensors` package, so the format is parsed here)
and reimplements every forward pass from the architecture description in
engine/models/*.h, independently of the C code.

  models_ref.py parity MODEL IO OUT
      IO holds the inputs the C test used (ids, len, video, latent, x, t);
      OUT receives the reference outputs (context, mean, logvar, decoded, v).
  models_ref.py bench MODEL TOKENS_T TOKENS_H TOKENS_W THREADS REPEATS
      times DiT forwards (up to REPEATS, stopping after 3 s) on a latent of
      that token grid and prints one JSON line:
      {"seconds": best time, "peak_rss_kb": …, "v_sum": …}.
"""
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

# ---- safetensors -----------------------------------------------------------

NP_DTYPES = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "I64": np.int64,
             "U8": np.uint8}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        if info["dtype"] == "BF16":
            u16 = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u16.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=NP_DTYPES[info["dtype"]])
        tensors[name] = torch.from_numpy(arr.copy()).reshape(info["shape"])
    return tensors, meta


def save_safetensors(path, tensors, meta=None, dtype="F32"):
    """Write tensors (sorted by name) as F32 or BF16 (rounded to nearest
    even), with meta as __metadata__ if given; through a temporary file, so
    a reader never sees half a file."""
    header, blobs, offset = {}, [], 0
    if meta is not None:
        header["__metadata__"] = meta
    for name in sorted(tensors):
        t = tensors[name].detach().float().contiguous().cpu()
        if dtype == "BF16":
            raw = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().astype(np.float32).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


# ---- layers ----------------------------------------------------------------

def wide(x):
    """x in float32 where autocast made it 16-bit (norms and their statistics
    stay in float32, as the engine's are); float32 and float64 unchanged."""
    return x.float() if x.dtype in (torch.bfloat16, torch.float16) else x


def rmsnorm(x, w, eps):
    x = wide(x)
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y * w if w is not None else y


def linear(W, prefix, x):
    return F.linear(x, W[prefix + ".weight"], W.get(prefix + ".bias"))


def attention(W, prefix, x, ctx, heads, eps, qk_norm, kv_len=None):
    src = x if ctx is None else ctx
    q, k, v = (linear(W, prefix + "." + n, s) for n, s in (("q", x), ("k", src), ("v", src)))
    B, N, D = q.shape
    L = k.shape[1]
    dh = D // heads
    q = q.view(B, N, heads, dh)
    k = k.view(B, L, heads, dh)
    v = v.view(B, L, heads, dh).transpose(1, 2)
    if qk_norm:
        q = rmsnorm(q, W[prefix + ".q_norm.weight"], eps)
        k = rmsnorm(k, W[prefix + ".k_norm.weight"], eps)
    q, k = q.transpose(1, 2), k.transpose(1, 2)
    # Debian's torch 1.13 predates F.scaled_dot_product_attention: the plain
    # formulation, as eager PyTorch computes it (an N x L score matrix)
    s = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(dh))
    if kv_len is not None:
        valid = (torch.arange(L, device=kv_len.device)[None, :] < kv_len[:, None])[:, None, None, :]
        s = s.masked_fill(~valid, float("-inf"))
    o = torch.matmul(torch.softmax(s, -1), v)
    return linear(W, prefix + ".o", o.transpose(1, 2).reshape(B, N, D))


def swiglu(W, prefix, x):
    return linear(W, prefix + ".down",
                  F.silu(linear(W, prefix + ".gate", x)) * linear(W, prefix + ".up", x))


# ---- text encoder ----------------------------------------------------------

BYTE_OFFSET = 3


def _word_byte(b):
    return (48 <= b <= 57) or (65 <= b <= 90) or (97 <= b <= 122) or b == 45 or b >= 128


def _fnv1a(h, data):
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def word_buckets(row, buckets):
    """Per token: (word bucket, bigram bucket) or -1, as rg_text_word_buckets."""
    n = len(row)
    uni, bi = [-1] * n, [-1] * n
    prev = None
    i = 0
    while i < n:
        if row[i] < BYTE_OFFSET or not _word_byte(row[i] - BYTE_OFFSET):
            i += 1
            continue
        end = i
        while end < n and row[end] >= BYTE_OFFSET and _word_byte(row[end] - BYTE_OFFSET):
            end += 1
        word = bytes(row[k] - BYTE_OFFSET for k in range(i, end)).lower()
        u = _fnv1a(2166136261, word) % buckets
        b = -1 if prev is None else _fnv1a(2166136261, prev + b" " + word) % buckets
        for k in range(i, end):
            uni[k], bi[k] = u, b
        prev = word
        i = end
    return uni, bi


def tokenize(text, max_len):
    """rg_text_tokenize: UTF-8 bytes + 3, end-of-text (1), padding (0)."""
    ids = [b + 3 for b in text.encode()[:max_len - 1]] + [1]
    n = len(ids)
    return ids + [0] * (max_len - n), n


def text_encoder(W, cfg, ids, lens, buckets=None):
    """The context [B, L, D]. buckets: the (word, bigram) bucket tensors of
    word_buckets for ids, where a caller has them already (else computed)."""
    t = cfg["text"]
    eps = cfg["norm_eps"]
    L = ids.shape[1]
    x = W["text.embed"][ids.long()] + W["text.pos"][:L]
    if t.get("word_buckets"):
        if buckets is None:
            rows = [word_buckets(row, t["word_buckets"]) for row in ids.tolist()]
            buckets = (torch.tensor([u for u, _ in rows], device=ids.device),
                       torch.tensor([b for _, b in rows], device=ids.device))
        table = W["text.word_embed"]
        uni, bi = buckets
        # a token outside a word (bucket -1) gets no word feature
        x = x + (table[uni.clamp(min=0)] * (uni >= 0)[..., None]
                 + table[bi.clamp(min=0)] * (bi >= 0)[..., None])
    for i in range(t["layers"]):
        p = "text.blocks.%d" % i
        h = rmsnorm(x, W[p + ".attn_norm.weight"], eps)
        x = x + attention(W, p + ".attn", h, None, t["heads"], eps, False, lens)
        x = x + swiglu(W, p + ".ffn", rmsnorm(x, W[p + ".ffn_norm.weight"], eps))
    x = linear(W, "text.proj", rmsnorm(x, W["text.norm.weight"], eps))
    x = F.layer_norm(wide(x), x.shape[-1:], W["text.out_norm.weight"], W["text.out_norm.bias"], 1e-5)
    valid = (torch.arange(L, device=lens.device)[None, :] < lens[:, None])[..., None]
    return x * valid


# ---- TAE -------------------------------------------------------------------

def conv25(W, prefix, x, stride_s=1, stride_t=1):
    """The 2.5D convolution of x [B, C, T, H, W]: a 3×3 spatial conv on every
    frame, then a size-3 temporal conv at every pixel, each with replicate
    padding; as 3D convolutions with (1, 3, 3) and (3, 1, 1) kernels, so no
    layout changes."""
    ws, wt = W[prefix + ".spatial.weight"], W[prefix + ".temporal.weight"]
    y = F.conv3d(F.pad(x, (1, 1, 1, 1, 0, 0), mode="replicate"), ws.unsqueeze(2),
                 W[prefix + ".spatial.bias"], stride=(1, stride_s, stride_s))
    return F.conv3d(F.pad(y, (0, 0, 0, 0, 1, 1), mode="replicate"), wt[..., None, None],
                    W[prefix + ".temporal.bias"], stride=(stride_t, 1, 1))


def groupnorm(W, prefix, x, groups):
    return F.group_norm(wide(x), groups, W[prefix + ".weight"], W[prefix + ".bias"], 1e-6)


def resblock(W, prefix, x, groups):
    h = conv25(W, prefix + ".conv1", F.silu(groupnorm(W, prefix + ".norm1", x, groups)))
    h = conv25(W, prefix + ".conv2", F.silu(groupnorm(W, prefix + ".norm2", h, groups)))
    return x + h


def tae_encode(W, cfg, video):
    a = cfg["tae"]
    g, levels, td = a["groups"], len(a["channels"]), a["temporal_down"]
    x = conv25(W, "tae.enc.conv_in", video)
    for lv in range(levels):
        x = resblock(W, "tae.enc.res.%d" % lv, x, g)
        if lv < levels - 1:
            x = conv25(W, "tae.enc.down.%d" % lv, x, 2, 2 if lv < td else 1)
    x = resblock(W, "tae.enc.mid", x, g)
    x = conv25(W, "tae.enc.conv_out", F.silu(groupnorm(W, "tae.enc.norm_out", x, g)))
    c = a["latent_channels"]
    return x[:, :c], x[:, c:]


def tae_decode(W, cfg, z):
    a = cfg["tae"]
    g, levels, td = a["groups"], len(a["channels"]), a["temporal_down"]
    x = conv25(W, "tae.dec.conv_in", z)
    x = resblock(W, "tae.dec.mid", x, g)
    for lv in range(levels - 1, -1, -1):
        x = resblock(W, "tae.dec.res.%d" % lv, x, g)
        if lv > 0:
            ft = 2 if lv - 1 < td else 1
            x = x.repeat_interleave(ft, 2).repeat_interleave(2, 3).repeat_interleave(2, 4)
            x = conv25(W, "tae.dec.up.%d" % lv, x)
    return conv25(W, "tae.dec.conv_out", F.silu(groupnorm(W, "tae.dec.norm_out", x, g)))


# ---- DiT -------------------------------------------------------------------

def timestep_embedding(t, dim, max_period=10000.0):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period)
                      * torch.arange(half, dtype=torch.float64, device=t.device) / half)
    args = t.double()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], -1).float()


def modulate(x, shift, scale):
    return x * (1 + scale[:, None]) + shift[:, None]


def dit_forward(W, cfg, x, t, ctx, ctx_len):
    d = cfg["dit"]
    eps = cfg["norm_eps"]
    D, ph, pw = d["width"], d["patch_h"], d["patch_w"]
    B, C, T, H, Wd = x.shape
    gh, gw = H // ph, Wd // pw
    # 1x2x2 patchify: tokens (t, h, w), features (c, dh, dw)
    p = x.reshape(B, C, T, gh, ph, gw, pw).permute(0, 2, 3, 5, 1, 4, 6)
    tok = linear(W, "dit.patch_embed", p.reshape(B, T * gh * gw, C * ph * pw))
    pos = (W["dit.pos.t"][:T, None, None] + W["dit.pos.h"][None, :gh, None]
           + W["dit.pos.w"][None, None, :gw]).reshape(T * gh * gw, D)
    temb = timestep_embedding(t * 1000.0, d["freq_dim"])
    temb = linear(W, "dit.time_embed.fc2", F.silu(linear(W, "dit.time_embed.fc1", temb)))
    if d.get("pooled_text"):
        # the mean of the valid context tokens, projected, joins the time embedding
        L = ctx.shape[1]
        n = ctx_len if ctx_len is not None else torch.full((B,), L, device=ctx.device)
        valid = (torch.arange(L, device=ctx.device)[None, :] < n[:, None]).to(ctx.dtype)[..., None]
        pooled = (ctx * valid).sum(1) / n.clamp(min=1)[:, None].to(ctx.dtype)
        temb = temb + linear(W, "dit.text_pool", pooled)
    cond = F.silu(temb)
    mod = linear(W, "dit.t_mod", cond).view(B, 6, D)
    h = tok
    for i in range(d["layers"]):
        pre = "dit.blocks.%d" % i
        h = h + pos
        m = mod + W[pre + ".mod_table"][None]
        sh1, sc1, g1, sh2, sc2, g2 = m.unbind(1)
        a = attention(W, pre + ".self_attn", modulate(rmsnorm(h, None, eps), sh1, sc1), None,
                      d["heads"], eps, True)
        h = h + g1[:, None] * a
        h = h + attention(W, pre + ".cross_attn", rmsnorm(h, W[pre + ".norm2.weight"], eps), ctx,
                          d["heads"], eps, True, ctx_len)
        f = swiglu(W, pre + ".ffn", modulate(rmsnorm(h, None, eps), sh2, sc2))
        h = h + g2[:, None] * f
    fshift, fscale = linear(W, "dit.final_mod", cond).view(B, 2, D).unbind(1)
    out = linear(W, "dit.final_proj", modulate(rmsnorm(h, None, eps), fshift, fscale))
    co = d["in_channels"]
    out = out.reshape(B, T, gh, gw, co, ph, pw).permute(0, 4, 1, 2, 5, 3, 6)
    return out.reshape(B, co, T, H, Wd)


# ---- entry points ----------------------------------------------------------

def load_model(path):
    W, meta = load_safetensors(path)
    return W, json.loads(meta["reelgen.config"])


def parity(model_path, io_path, out_path):
    torch.set_num_threads(2)
    W, cfg = load_model(model_path)
    io, _ = load_safetensors(io_path)
    with torch.no_grad():
        ctx = text_encoder(W, cfg, io["ids"], io["len"])
        mean, logvar = tae_encode(W, cfg, io["video"])
        decoded = tae_decode(W, cfg, io["latent"])
        v = dit_forward(W, cfg, io["x"], io["t"], io["ctx_in"], io["len"])
    save_safetensors(out_path, {"context": ctx, "mean": mean, "logvar": logvar,
                                "decoded": decoded, "v": v})


def bench(model_path, tt, th, tw, threads, repeats):
    torch.set_num_threads(threads)
    W, cfg = load_model(model_path)
    d = cfg["dit"]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, d["in_channels"], tt, th * d["patch_h"], tw * d["patch_w"], generator=g)
    t = torch.tensor([0.5])
    L = cfg["text"]["max_len"]
    ctx = torch.randn(1, L, d["context_width"], generator=g)
    lens = torch.tensor([L // 2], dtype=torch.int32)
    best = float("inf")
    begin = time.perf_counter()
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            v = dit_forward(W, cfg, x, t, ctx, lens)
            best = min(best, time.perf_counter() - start)
            # the same budget as bench-dit.c's C child
            if time.perf_counter() - begin > 3.0:
                break
    print(json.dumps({"seconds": best,
                      "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "v_sum": float(v.double().abs().sum())}))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "parity":
        parity(*sys.argv[2:5])
    elif len(sys.argv) == 8 and sys.argv[1] == "bench":
        bench(sys.argv[2], *(int(a) for a in sys.argv[3:8]))
    else:
        sys.exit(__doc__)
