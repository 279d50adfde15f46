"""How far the bundled int8 VGG-16 is from the float32 weights it was made from.

    python benchmarks/bench_bundled_vgg.py ../shared/weights/vgg16-imagenet-features.pth

Prints, on tubingen and starry_night at 256 px, the relative squared feature error
||F_int8 - F||^2 / ||F||^2 and the relative Gram error at relu1_1 ... relu5_1 (and relu4_2), then
the same stylization (defaults, 100 L-BFGS steps, 256 px) with both networks: each result scored
by the float32 network, and the pixel difference between the two results -- beside the difference
that a start nudged by +-0.001 makes with float32 alone (how chaotic the optimization is anyway).
"""

import argparse
import time
from pathlib import Path

import torch

import nstlab
from nstlab.losses import content_loss, gram_matrix, style_loss
from nstlab.vgg import BUNDLED_VGG, load_vgg

LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("float32", type=Path, help="the float32 VGG-16 the bundle was made from")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    full, bundled = load_vgg(args.float32), load_vgg(BUNDLED_VGG)
    print(f"bundled file {BUNDLED_VGG.stat().st_size / 1e6:.1f} MB, float32 file "
          f"{args.float32.stat().st_size / 1e6:.1f} MB")
    print(f"{'image':14} {'layer':8} {'feature error':>14} {'Gram error':>11}")
    for name in ("tubingen", "starry_night"):
        image = nstlab.load_sample(name, args.size)
        with torch.no_grad():
            a, b = full(image, LAYERS), bundled(image, LAYERS)
        for layer in LAYERS:
            print(f"{name:14} {layer:8} {content_loss(b[layer], a[layer]).item():14.2e} "
                  f"{style_loss(gram_matrix(b[layer]), gram_matrix(a[layer])).item():11.2e}")
    results = {}
    photo = nstlab.load_sample("tubingen", args.size)
    nudged = (photo + 0.002 * (torch.rand(photo.shape, generator=torch.Generator().manual_seed(0)) - 0.5))
    for label, net, start in (("float32", full, "content"), ("bundled int8", bundled, "content"),
                              ("float32 nudged", full, nudged.clamp(0, 1))):
        began = time.perf_counter()
        results[label] = nstlab.stylize(photo, "starry_night", size=args.size, steps=args.steps,
                                        extractor=net, progress=False, device="cpu", init=start)
        print(f"{label:14} stylize: {time.perf_counter() - began:.1f} s, final loss "
              f"{results[label].history[-1]['loss']:.4f}")
    judge = nstlab.StyleTransfer(photo, "starry_night", full, device="cpu")
    for label, result in results.items():  # both results scored by the float32 network
        scores = judge.run(1, args.size, init=result.image, optimizer="adam", lr=0.0, progress=False)
        parts = scores.history[0]
        style = sum(v for k, v in parts.items() if k.startswith("style:"))
        print(f"{label:14} judged by float32: total {parts['loss']:.4f}, "
              f"content {parts['content:relu4_2']:.4f}, style (sum over layers) {style:.4f}")
    for other in ("bundled int8", "float32 nudged"):
        diff = (results["float32"].image - results[other].image).abs()
        print(f"pixels, float32 vs {other}: mean |diff| {diff.mean():.4f}, 99th percentile "
              f"{diff.flatten().quantile(0.99):.4f} (pixels in [0, 1])")
    nstlab.save_image(torch.cat([results["float32"].image, results["bundled int8"].image], -1),
                      "/tmp/bundled-vs-float32.png")


if __name__ == "__main__":
    main()
