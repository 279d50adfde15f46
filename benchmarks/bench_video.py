"""Video methods side by side: time per frame, flicker (warping error) and what it costs in style.

    python benchmarks/bench_video.py                       # a synthetic zoom clip with exact flow
    python benchmarks/bench_video.py --clip PATH           # a real clip (e.g. ../shared/videos/...)

For each method: ms per frame (the stabilizer's flow included), the warping error and its ratio
to the input clip's own, and the style and content distances (`video.style_and_content`; lower
is closer) so that consistency bought by washing the style out shows. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

import nstlab
from nstlab.video import (
    apply_video,
    read_video,
    style_and_content,
    stylize_video,
    synthetic_clip,
    warping_error,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default=None, help="a video file (default: a synthetic zoom over tubingen)")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=30, help="optimization steps per frame")
    parser.add_argument("--no-optimization", action="store_true", help="networks only (fast)")
    args = parser.parse_args()
    if args.clip:
        frames, _ = read_video(args.clip, size=args.size, max_frames=args.frames)
        exact = {}
    else:
        h = round(args.size * 3 / 4)
        clip = synthetic_clip("tubingen", frames=args.frames, size=(h, args.size), kind="zoom")
        frames, exact = clip.frames, {"flows": clip.flows, "masks": clip.masks}
    own = warping_error(frames, frames, **exact)
    print(f"{len(frames)} frames {frames.shape[-1]}x{frames.shape[-2]}, {torch.get_num_threads()} threads; "
          f"the input's own warping error {own:.5f}")
    print(f"{'method':34} {'ms/frame':>9} {'warp err':>9} {'x input':>8} {'style':>7} {'content':>8}")
    runs = {}
    for name, call in (("johnson", dict(model="johnson-starry_night")),
                       ("cin (starry_night)", dict(model="cin-6styles", style="starry_night")),
                       ("adain (starry_night)", dict(model="adain", style="starry_night"))):
        for strength in (0.0, 0.7):
            runs[f"{name}{', stabilized 0.7' if strength else ''}"] = lambda c=call, s=strength: apply_video(
                c["model"], frames, c.get("style"), stabilize=s, progress=False)
    if not args.no_optimization:
        for weight in (0.0, 200.0):
            kind = f"temporal {weight:g}" if weight else "independent"
            label = f"gatys {args.steps} steps/frame, {kind}"
            runs[label] = lambda w=weight: stylize_video(frames, "starry_night", steps=args.steps,
                                                         temporal_weight=w, progress=False)
    for label, run in runs.items():
        began = time.perf_counter()
        result = run()
        ms = 1000 * (time.perf_counter() - began) / len(frames)
        error = warping_error(result.frames, frames, **exact)
        scores = style_and_content(result.frames, frames, "starry_night")
        print(f"{label:34} {ms:9.0f} {error:9.5f} {error / own:8.1f} {scores['style']:7.3f} "
              f"{scores['content']:8.3f}")
        sys.stdout.flush()
    print(f"(nstlab {nstlab.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
