"""Speed of the Gatys engine: s/step, peak memory and GFLOP/s next to the machine's matmul peak.

    NSTLAB_VGG_WEIGHTS=../shared/weights/vgg16-imagenet-features.pth \\
    NSTLAB_DATA=../shared/images python benchmarks/bench_gatys.py [--sizes 256 512] [--steps 10]

Compares, at equal size, layers and steps:
  nstlab      StyleTransfer: one VGG pass per step, cut at relu5_1, targets computed once
  sequential  the tutorial design: loss modules inserted in an nn.Sequential copy of VGG
              (out-of-place ReLU, losses computed inside forward), the same L-BFGS steps
  bfloat16    nstlab under CPU bfloat16 autocast (CUDA: float16 AMP), and its drift from float32
and what coarse-to-fine (256 px then 512 px) saves against optimizing at 512 px from the start.
Each configuration runs in its own process so that peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from nstlab import Settings, StyleTransfer, load_vgg, resize
from nstlab.losses import gram_matrix
from nstlab.samples import load_sample
from nstlab.vgg import layer_names

SETTINGS = Settings()  # the defaults: content relu4_2, style relu1_1 ... relu5_1
LAYERS = [*SETTINGS.content_layers, *SETTINGS.style_layers]


def conv_gflop(arch: str, height: int, width: int, deepest: str) -> float:
    """Forward + input-gradient GFLOP of the VGG convolutions up to `deepest` (2 FLOP per MAC)."""
    flop, cin, h, w = 0, 3, height, width
    for name in layer_names(arch):
        if name.startswith("conv"):
            cout = (64, 128, 256, 512, 512)[int(name[4]) - 1]
            flop += 2 * cin * cout * 9 * h * w
            cin = cout
        elif name.startswith("pool"):
            h, w = h // 2, w // 2
        if name == deepest:
            break
    return 2 * flop / 1e9  # the backward pass to the input costs what the forward does


def matmul_peak(dtype=torch.float32, repeat=5) -> float:
    """Best GFLOP/s of square matrix products (1024 ... 4096) on this machine."""
    best = 0.0
    for n in (1024, 2048, 4096):
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        a @ b
        start = time.perf_counter()
        for _ in range(repeat):
            a @ b
        best = max(best, 2 * n**3 * repeat / (time.perf_counter() - start) / 1e9)
    return best


class _ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target, self.loss = target.detach(), 0.0

    def forward(self, x):
        self.loss = F.mse_loss(x, self.target)
        return x


class _StyleLoss(nn.Module):
    def __init__(self, target_features):
        super().__init__()
        self.target, self.loss = gram_matrix(target_features).detach(), 0.0

    def forward(self, x):
        self.loss = F.mse_loss(gram_matrix(x), self.target)
        return x


def sequential_model(vgg, content, style):
    """The loss-modules-in-a-Sequential design of the PyTorch tutorial, on the same weights."""
    model, content_losses, style_losses = nn.Sequential(), [], []
    deepest = max(LAYERS, key=vgg.names.index)
    model.add_module("normalize", _Normalize(vgg.mean, vgg.std))
    for name in vgg.names:
        if name.startswith("conv"):
            model.add_module(name, vgg.convs[name])
        elif name.startswith("relu"):
            model.add_module(name, nn.ReLU(inplace=False))
        else:
            model.add_module(name, nn.MaxPool2d(2))
        if name in SETTINGS.content_layers:
            loss = _ContentLoss(model(content))
            model.add_module(f"content_{name}", loss)
            content_losses.append(loss)
        if name in SETTINGS.style_layers:
            loss = _StyleLoss(model(style))
            model.add_module(f"style_{name}", loss)
            style_losses.append(loss)
        if name == deepest:
            break
    return model, content_losses, style_losses


class _Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x):
        return (x - self.mean) / self.std


def run_one(config: dict) -> dict:
    """Runs one configuration in this process and returns its measurements."""
    torch.manual_seed(0)
    size, steps, kind = config["size"], config["steps"], config["kind"]
    vgg = load_vgg()
    content, style = load_sample("tubingen"), load_sample("starry_night")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind == "sequential":
        c = resize(content, size)
        s = F.interpolate(style, size=c.shape[-2:], mode="bicubic", antialias=True).clamp(0, 1)
        model, closses, slosses = sequential_model(vgg, c, s)
        image = c.clone().requires_grad_(True)
        opt = torch.optim.LBFGS([image], max_iter=1)

        def closure():
            with torch.no_grad():
                image.clamp_(0, 1)
            opt.zero_grad()
            model(image)
            loss = sum(x.loss for x in [*closses, *slosses])
            loss.backward()
            return loss

        opt.step(closure)  # warm-up
        start = time.perf_counter()
        for _ in range(steps):
            opt.step(closure)
        seconds = time.perf_counter() - start
        out = {"image": None}
    else:
        precision = "bfloat16" if kind == "bfloat16" else "float32"
        transfer = StyleTransfer(content, style, vgg, SETTINGS, device="cpu", precision=precision)
        transfer.run(1, size, progress=False)  # warm-up
        sizes = config.get("sizes", [size])
        counts = config.get("counts", [steps + 1])
        stamps = []  # time at each step's end; per-step time excludes the one-off target pass
        result = transfer.run(counts, sizes, progress=False,
                              callback=lambda _: stamps.append(time.perf_counter()))
        seconds = result.seconds if "sizes" in config else stamps[-1] - stamps[0]
        out = {"image": result.image.flatten().tolist(), "loss": result.history[-1]["loss"]}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {**out, "seconds": seconds, "peak_mib": peak / 1024, "working_mib": (peak - rss_before) / 1024}


def spawn(config: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, "--one", json.dumps(config)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per configuration")
    parser.add_argument("--multiscale-steps", type=int, default=100, help="steps of the 512 px comparison")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return

    threads = torch.get_num_threads()
    peak32, peak16 = matmul_peak(), matmul_peak(torch.bfloat16)
    print(f"torch {torch.__version__}, {threads} threads; matmul peak: float32 {peak32:.0f} GFLOP/s, "
          f"bfloat16 {peak16:.0f} GFLOP/s")
    print(f"layers: content {list(SETTINGS.content_layers)}, style {list(SETTINGS.style_layers)}; "
          f"L-BFGS, {args.steps} steps after one warm-up step\n")
    print(f"{'size':>5} {'engine':>11} {'s/step':>8} {'GFLOP/step':>11} {'GFLOP/s':>8} {'of peak':>8} "
          f"{'peak MiB':>9} {'work MiB':>9}  drift vs float32")
    for size in args.sizes:
        content = load_sample("tubingen", size)
        gflop = conv_gflop("vgg16", *content.shape[-2:], "relu5_1")
        reference = None
        for kind in ("nstlab", "sequential", "bfloat16"):
            r = spawn({"kind": kind, "size": size, "steps": args.steps})
            per_step = r["seconds"] / args.steps
            peak = peak16 if kind == "bfloat16" else peak32
            drift = ""
            if kind == "nstlab":
                reference = r["image"]
            elif kind == "bfloat16":
                diff = torch.tensor(r["image"]) - torch.tensor(reference)
                drift = f"mean |diff| {diff.abs().mean():.4f}, max {diff.abs().max():.3f} (pixels in [0,1])"
            print(f"{size:>5} {kind:>11} {per_step:>8.3f} {gflop:>11.1f} {gflop / per_step:>8.0f} "
                  f"{gflop / per_step / peak:>7.0%} {r['peak_mib']:>9.0f} {r['working_mib']:>9.0f}  {drift}")

    n = args.multiscale_steps
    print(f"\ncoarse-to-fine for a 512 px result ({n} steps at 512 vs {n} at 256 + {n // 3} at 512):")
    single = spawn({"kind": "nstlab", "size": 512, "steps": n})
    multi = spawn({"kind": "nstlab", "size": 512, "steps": n, "sizes": [256, 512], "counts": [n, n // 3]})
    for name, r in (("512 only", single), ("256 -> 512", multi)):
        print(f"  {name:>10}: {r['seconds']:6.1f} s, final loss at 512 px {r['loss']:.3f}")
    print(f"  coarse-to-fine takes {multi['seconds'] / single['seconds']:.0%} of the time")


if __name__ == "__main__":
    main()
