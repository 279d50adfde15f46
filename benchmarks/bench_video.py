"""Video methods side by side: time per frame, flicker (warping error) and what it costs in style.

    python benchmarks/bench_video.py                        # synthetic zoom clip, exact flow, 256 px
    python benchmarks/bench_video.py --sizes 256 512        # the networks at both sizes
    python benchmarks/bench_video.py --clip bigbuckbunny    # a real clip (DIS flow), e.g. the bundled one
    python benchmarks/bench_video.py --clip bigbuckbunny --judge farneback   # judged by a flow no method uses

For each method: ms per frame (the stabilizer's flow included), the warping error and its ratio to
the input clip's own, and the style and content distances (`video.style_and_content`; lower is
closer) so that consistency bought by washing the style out shows. The optimization runs at the
first size only. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial

import torch

import nstlab
from nstlab.feedforward import load_model
from nstlab.losses import DEFAULT_TEMPORAL_WEIGHT
from nstlab.video import (
    apply_video,
    read_video,
    style_and_content,
    stylize_video,
    synthetic_clip,
    warping_error,
)
from nstlab.video.flow import clip_flows

NETWORKS = {  # label: (model, style, stabilizer strengths)
    "johnson": ("johnson-starry_night", None, (0.0, 0.5)),
    "johnson-stable": ("johnson-starry_night-stable", None, (0.0, 0.3)),
    "cin (starry_night)": ("cin-6styles", "starry_night", (0.0, 0.5)),
    "adain (starry_night)": ("adain", "starry_night", (0.0, 0.5)),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default=None,
                        help="a video file or 'bigbuckbunny' (default: a synthetic zoom)")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256])
    parser.add_argument("--steps", type=int, default=30, help="optimization steps per frame")
    parser.add_argument("--no-optimization", action="store_true", help="networks only (fast)")
    parser.add_argument("--precision", default="float32", help="float32 or bfloat16 (all methods)")
    parser.add_argument("--judge", default="dis", choices=("dis", "farneback"),
                        help="the flow a real clip's warping error is measured on (farneback: one that "
                             "neither the stabilizer nor Ruder's loss uses)")
    args = parser.parse_args()
    print(f"{torch.get_num_threads()} threads, {args.precision}, nstlab {nstlab.__version__}")
    print(f"{'method':40} {'size':>7} {'ms/frame':>9} {'warp err':>9} {'x input':>8} {'style':>7} "
          f"{'content':>8}")
    for index, size in enumerate(args.sizes):
        frames, exact = clip(args, size)
        own = warping_error(frames, **exact)
        runs = {}
        for label, (name, style, strengths) in NETWORKS.items():
            model = load_model(name)  # loaded once, outside the timing
            apply_video(model, frames[:2], style, precision=args.precision, progress=False)  # warm-up
            for s in strengths:
                name = f"{label}{f', stabilized {s:g}' if s else ''}"
                runs[name] = partial(apply_video, model, style=style, stabilize=s, precision=args.precision,
                                     measure=False, progress=False)
        if not args.no_optimization and index == 0:
            tied = DEFAULT_TEMPORAL_WEIGHT
            for weight, back in ((0.0, (1,)), (tied, (1,)), (tied, (1, 2, 4))):
                kind = f"temporal {weight:g}" if weight else "independent"
                kind += f", long-term {'-'.join(map(str, back))}" if len(back) > 1 else ""
                runs[f"gatys {args.steps} steps, {kind}"] = partial(
                    stylize_video, style="starry_night", steps=args.steps, temporal_weight=weight,
                    long_term=back, precision=args.precision, measure=False, progress=False)
        for label, run in runs.items():
            began = time.perf_counter()
            result = run(frames)
            ms = 1000 * (time.perf_counter() - began) / len(frames)
            error = warping_error(result.frames, **exact)
            scores = style_and_content(result.frames, frames, "starry_night")
            print(f"{label:40} {frames.shape[-1]:>3}x{frames.shape[-2]:<3} {ms:9.0f} {error:9.5f} "
                  f"{error / own:8.1f} {scores['style']:7.3f} {scores['content']:8.3f}", flush=True)
        print(f"(the input's own warping error at {size} px: {own:.5f})")
    return 0


def clip(args, size: int) -> tuple[torch.Tensor, dict]:
    """The frames and the flows the warping error uses: exact for a synthetic clip, else flows
    estimated once by the judge (`--judge`)."""
    if args.clip:
        frames, _ = read_video(args.clip, size=size, max_frames=args.frames)
        flows, masks = clip_flows(frames, method=args.judge)
        return frames, {"flows": flows, "masks": masks}
    made = synthetic_clip("tubingen", frames=args.frames, size=(round(size * 3 / 4), size), kind="zoom")
    return made.frames, {"flows": made.flows, "masks": made.masks}


if __name__ == "__main__":
    sys.exit(main())
