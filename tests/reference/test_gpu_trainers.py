#!/usr/bin/python3
"""The PyTorch GPU trainers, run on the CPU on a few clips (suite `reference`).

  test_gpu_trainers.py REELGEN SHAPES_DUMP MODEL T2V_CONFIG

Checks what the shipped models' GPU training relies on:
  1. shapes-dump + the PyTorch TAE encoder give the latents the C trainer
     caches for the same data positions (the same scenes, encoded alike),
     and its motion lines find the C trainer's bouncing clips;
  2. train_t2v_gpu.py and train_tae_gpu.py run their steps (the t2v one
     drawing every sample from bouncing or diagonal clips when its
     --bounce-clips and --diagonal-clips add up to 1), and what they
     write merges into a C model file (merge_weights.py) that `reelgen model
     convert` accepts, with the trained tensors changed and the rest kept;
  3. train_t2v_gpu.py --tae-until trains the TAE jointly, then the DiT on the
     new latents: both files carry the new latent statistics, and the merged
     and converted model has them; with --tae-init alone the DiT trains on
     that TAE's latents, with their statistics;
  4. average_weights.py averages two files of one config and refuses two
     whose latent statistics differ.
Exit 77 (skip) without torch.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types

try:
    import torch
except ImportError as e:
    print("test_gpu_trainers.py: %s" % e, file=sys.stderr)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
TMP = tempfile.mkdtemp(prefix="rg-gpu-trainers-")
sys.path.insert(0, HERE)
import models_ref  # noqa: E402
import gpu_common  # noqa: E402


def run(*args):
    print("+ " + " ".join(args), flush=True)
    subprocess.run(args, check=True)


def run_output(*args):
    """run(), returning what the command printed (stdout and stderr)."""
    print("+ " + " ".join(args), flush=True)
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    print(done.stdout + done.stderr, flush=True)
    return done.stdout + done.stderr


def dumped_motions(dump, count, seed):
    """One shapes-dump's motion lines for the training clips 0 … count − 1."""
    mot = os.path.join(TMP, "motions-%d.txt" % seed)
    subprocess.run([dump, "0", str(count), "1", str(seed), os.devnull, mot], check=True,
                   stdout=subprocess.DEVNULL)
    return gpu_common.read_motions(mot, count)


def dataset_latents(path):
    """The C trainer's cached dataset: raw posterior means [N, C, T, H, W]."""
    tensors, _ = models_ref.load_safetensors(path)
    return tensors["latents"]


def main(reelgen, dump, model, t2v_config):
    torch.set_num_threads(1)
    tmp = TMP
    env_py = sys.executable

    # 1. the C trainer's dataset of 4 clips, and a float32 model file to merge into
    config = json.load(open(t2v_config))
    config.update(dataset_clips=4, batch=2, sample_every=1000, checkpoint_every=1000, bounce_clips=0.5)
    cfg_path = os.path.join(tmp, "tiny.json")
    json.dump(config, open(cfg_path, "w"))
    c_dir = os.path.join(tmp, "c")
    c_log = run_output(reelgen, "train", "t2v", "--config", cfg_path, "--tae", model, "--init", model,
                       "--steps", "2", "--out", c_dir)
    c_lat = dataset_latents(os.path.join(c_dir, "dataset.safetensors"))

    W, cfg = models_ref.load_model(model)
    a = types.SimpleNamespace(clips=4, val=2, k=2, seed=config["seed"], procs=2, enc_batch=4,
                              data_seconds=1e9, scratch=os.path.join(tmp, "s"), dump=dump, batch=2)
    train, val, clips = gpu_common.make_data(a, cfg, W, torch.device("cpu"))
    lm, ls = cfg["tae"]["latent_mean"], cfg["tae"]["latent_std"]
    py_lat = train[0] * ls + lm
    assert py_lat.shape == c_lat.shape, (py_lat.shape, c_lat.shape)
    # the only difference: the C trainer encodes the float render, the dump its u8 frames
    rel = ((py_lat - c_lat).pow(2).mean() / c_lat.var()).sqrt().item()
    print("latents: relative RMS difference %.5f" % rel)
    assert rel < 0.01, rel
    other = ((py_lat - c_lat.roll(1, 0)).pow(2).mean() / c_lat.var()).sqrt().item()
    assert other > 0.5, other  # the comparison can tell scenes apart
    ids, lens = train[1], train[4]
    assert ids.shape == (4, 2, cfg["text"]["max_len"]) and int(lens.min()) > 10
    assert int(ids[0, 0, lens[0, 0] - 1]) == 1  # end-of-text closes each caption
    assert not torch.equal(ids[0, 0], ids[0, 1])  # two template variants
    # the dumps' motion lines (two dumps, read in order) find the clips the
    # C trainer's bounce_clips drew from
    n_bouncing = sum("bouncing" in m for m in clips.train_motions)
    assert len(clips.train_motions) == 4 and n_bouncing > 0, clips.train_motions
    assert "dataset: %d of 4 clips show bouncing motion" % n_bouncing in c_log, c_log

    # 2. a few steps of each trainer; their output merges and converts
    g_dir = os.path.join(tmp, "g")
    # (seed 21: 16 clips, some bouncing and some diagonal, most neither)
    motions = dumped_motions(dump, 16, 21)
    counts = [sum(name in m for m in motions) for name in ("bouncing", "diagonal")]
    assert min(counts) > 0 and sum(counts) < 12, motions
    run(env_py, os.path.join(HERE, "train_t2v_gpu.py"), "--init", model, "--dump", dump,
        "--out", g_dir, "--scratch", os.path.join(tmp, "s2"), "--clips", "16", "--val", "2",
        "--k", "2", "--procs", "2", "--enc-batch", "8", "--batch", "8", "--max-steps", "3",
        "--seed", "21", "--bounce-clips", "0.5", "--diagonal-clips", "0.5",
        "--deadline", "100000", "--eval-every", "1000")
    run(env_py, os.path.join(HERE, "train_tae_gpu.py"), "--init", model, "--dump", dump,
        "--out", g_dir, "--scratch", os.path.join(tmp, "s3"), "--clips", "2", "--val", "2",
        "--procs", "1", "--enc-batch", "4", "--batch", "1", "--max-steps", "2",
        "--deadline", "100000", "--eval-every", "1000")
    log = open(os.path.join(g_dir, "log.txt")).read()
    assert "done: 3 steps" in log, log
    assert "%d of 16 clips show bouncing motion" % counts[0] in log, log
    assert "%d of 16 clips show diagonal motion" % counts[1] in log, log
    drawn = re.search(r"samples drawn: 24; ([\d.]+) % with a bouncing shape, ([\d.]+) % with a "
                      r"diagonal shape, ([\d.]+) % with neither", log)
    assert drawn, log
    bouncing, diagonal, neither = map(float, drawn.groups())
    assert bouncing > 0 and diagonal > 0 and neither == 0, drawn.group(0)
    tae_log = open(os.path.join(g_dir, "log-tae.txt")).read()
    assert "validation at start: PSNR" in tae_log and "latent std" in tae_log, tae_log
    base = os.path.join(c_dir, "model.safetensors")
    B, _ = models_ref.load_safetensors(base)
    for part, trained in (("ema-000003.safetensors", ("text.", "dit.")),
                          ("tae-dec-000002.safetensors", ("tae.dec.",))):
        merged = os.path.join(tmp, "merged-" + part)
        run(env_py, os.path.join(HERE, "merge_weights.py"), base, os.path.join(g_dir, part), merged)
        M, meta = models_ref.load_safetensors(merged)
        # the config is the base's, with a DiT's latent statistics (its normalisation)
        want = json.loads(models_ref.load_safetensors(base)[1]["reelgen.config"])
        if "dit." in trained:
            part_cfg = json.loads(models_ref.load_safetensors(os.path.join(g_dir, part))[1]["reelgen.config"])
            want["tae"].update({k: part_cfg["tae"][k] for k in ("latent_mean", "latent_std")})
        assert json.loads(meta["reelgen.config"]) == want
        changed = [n for n in B if not torch.equal(B[n], M[n])]
        assert changed and all(n.startswith(trained) for n in changed), changed[:5]
        run(reelgen, "model", "convert", merged, "--dtype", "bf16",
            "-o", os.path.join(tmp, "converted-" + part))

    # 3. the joint TAE, then the DiT on its latents, in one run
    j_dir = os.path.join(tmp, "j")
    run(env_py, os.path.join(HERE, "train_t2v_gpu.py"), "--init", model, "--dump", dump,
        "--out", j_dir, "--scratch", os.path.join(tmp, "s4"), "--clips", "4", "--val", "2",
        "--k", "2", "--procs", "2", "--enc-batch", "4", "--batch", "2", "--max-steps", "2",
        "--tae-until", "100000", "--tae-start-clips", "2", "--tae-batch", "1",
        "--tae-max-steps", "2", "--amp", "--deadline", "100000", "--eval-every", "1000")
    tae_part, dit_part = (os.path.join(j_dir, p) for p in ("tae-000002.safetensors", "ema-000002.safetensors"))
    T, tmeta = models_ref.load_safetensors(tae_part)
    assert sorted(T) == sorted(n for n in B if n.startswith("tae.")), sorted(T)[:3]
    stats = json.loads(tmeta["reelgen.config"])["tae"]
    old = json.loads(models_ref.load_safetensors(base)[1]["reelgen.config"])["tae"]
    assert stats["latent_mean"] != old["latent_mean"] and stats["latent_std"] > 0, (stats, old)
    assert json.loads(models_ref.load_safetensors(dit_part)[1]["reelgen.config"])["tae"] == stats
    with_tae, both = os.path.join(tmp, "with-tae.safetensors"), os.path.join(tmp, "both.safetensors")
    run(env_py, os.path.join(HERE, "merge_weights.py"), base, tae_part, with_tae)
    run(env_py, os.path.join(HERE, "merge_weights.py"), with_tae, dit_part, both)
    M, meta = models_ref.load_safetensors(both)
    assert json.loads(meta["reelgen.config"])["tae"] == stats
    changed = {n.split(".")[0] for n in B if not torch.equal(B[n], M[n])}
    assert changed == {"tae", "text", "dit"}, changed
    converted = os.path.join(tmp, "converted-both.safetensors")
    run(reelgen, "model", "convert", both, "--dtype", "bf16", "-o", converted)
    conv = json.loads(models_ref.load_safetensors(converted)[1]["reelgen.config"])
    assert abs(conv["tae"]["latent_std"] - stats["latent_std"]) < 1e-6 * stats["latent_std"], conv["tae"]

    # 4. the DiT alone on a given TAE's latents takes that TAE's statistics
    #    (the joint run's, over the same clips, up to its bf16 weights)
    k_dir = os.path.join(tmp, "k")
    run(env_py, os.path.join(HERE, "train_t2v_gpu.py"), "--init", model, "--dump", dump,
        "--out", k_dir, "--scratch", os.path.join(tmp, "s5"), "--clips", "4", "--val", "2",
        "--k", "2", "--procs", "2", "--enc-batch", "4", "--batch", "2", "--max-steps", "1",
        "--tae-init", tae_part, "--deadline", "100000", "--eval-every", "1000")
    got = json.loads(models_ref.load_safetensors(os.path.join(k_dir, "ema-000001.safetensors"))[1]
                     ["reelgen.config"])["tae"]
    for key in ("latent_mean", "latent_std"):
        assert abs(got[key] - stats[key]) < 0.01 * stats["latent_std"], (key, got, stats)
    assert got["latent_mean"] != old["latent_mean"]

    # 5. average_weights.py: the elementwise mean of two files with one
    #    config; files whose configs (latent statistics) differ are refused
    dec_merged = os.path.join(tmp, "merged-tae-dec-000002.safetensors")
    avg = os.path.join(tmp, "avg.safetensors")
    run(env_py, os.path.join(HERE, "average_weights.py"), base, dec_merged, avg)
    D, _ = models_ref.load_safetensors(dec_merged)
    V, vmeta = models_ref.load_safetensors(avg)
    assert sorted(V) == sorted(B)
    assert all(torch.equal(V[n], 0.5 * (B[n] + D[n])) for n in B)
    assert any(not torch.equal(V[n], B[n]) for n in B)
    assert vmeta["reelgen.config"] == models_ref.load_safetensors(base)[1]["reelgen.config"]
    refused = subprocess.run([env_py, os.path.join(HERE, "average_weights.py"), base, both,
                              os.path.join(tmp, "bad.safetensors")], capture_output=True, text=True)
    assert refused.returncode != 0 and "different configs" in refused.stderr, refused.stderr
    run(reelgen, "model", "convert", avg, "--dtype", "bf16", "-o", os.path.join(tmp, "converted-avg.safetensors"))
    print("ok")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    try:
        main(*sys.argv[1:])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
