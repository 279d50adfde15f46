"""What the live studio's drawing costs: the same Adam run with and without the studio.

    NSTLAB_VGG_WEIGHTS=../shared/weights/vgg16-imagenet-features.pth NSTLAB_DATA=../shared/images \
        python benchmarks/bench_studio.py [--size 256] [--steps 60]

Prints s/step of the bare engine, s/step inside the studio (worker thread, preview + loss plot),
the frames drawn, and drawing's share of the run's wall time (the budget is notebook.preview.DRAW_BUDGET).
"""

import argparse
import time

import torch

import nstlab
from nstlab.notebook.preview import DRAW_BUDGET
from nstlab.notebook.studio import Studio


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--fps", type=float, default=4.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    vgg = nstlab.load_vgg()

    bare = nstlab.StyleTransfer("tubingen", "starry_night", vgg)
    bare.run(3, args.size, optimizer="adam", progress=False)  # warm-up
    began = time.perf_counter()
    bare.run(args.steps, args.size, optimizer="adam", progress=False)
    engine = (time.perf_counter() - began) / args.steps

    studio = Studio("tubingen", "starry_night", vgg, size=args.size, steps=args.steps, fps=args.fps)
    began = time.perf_counter()
    studio.run(wait=True)
    wall = time.perf_counter() - began
    print(f"size {args.size} px, {args.steps} Adam steps, fps cap {args.fps}, budget {DRAW_BUDGET:.0%}")
    print(f"engine alone : {engine:.3f} s/step")
    print(f"in the studio: {wall / args.steps:.3f} s/step ({wall:.1f} s), {studio.frames} frames, "
          f"drawing {studio.draw_seconds:.2f} s = {studio.draw_seconds / wall:.1%} of the run, "
          f"{studio.draw_seconds / max(studio.frames, 1) * 1000:.0f} ms/frame")


if __name__ == "__main__":
    main()
