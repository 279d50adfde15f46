"""Peak memory of `nstlab video` on long full-HD clips: it must not grow with the clip's length.

    python benchmarks/bench_video_memory.py                     # 10 s and 60 s of 1080p at 25 fps
    python benchmarks/bench_video_memory.py --seconds 10 --model adain --style starry_night

Makes each clip once (a camera pan over the bundled Tübingen photo enlarged to 1920x1080, H.264,
in a temporary folder), then runs the real command as a child process,

    nstlab video CLIP --model johnson-starry_night --size 256 -o out.mp4 -q

and prints its wall time and peak resident memory (the child's ru_maxrss). The clip is decoded,
resized, stylized, stabilized, measured and encoded one frame at a time, so the peak is the
network, one full-size frame and a few small ones, whatever the length. Goal: under 1.5 GB.
Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from nstlab.images import resize_to
from nstlab.samples import load_sample

FPS, WIDTH, HEIGHT = 25, 1920, 1080


def make_clip(path: Path, seconds: int) -> Path:
    """A pan over the photo, 1080p H.264, written frame by frame (made once, kept beside)."""
    import av

    if path.is_file():
        return path
    photo = load_sample("tubingen")  # (1, 3, h, w)
    scene = resize_to(photo, (HEIGHT, round(HEIGHT * photo.shape[-1] / photo.shape[-2]) + 400))
    scene = (scene[0] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()  # (H, W', 3)
    frames = seconds * FPS
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for t in range(frames):
            x = round((scene.shape[1] - WIDTH) * (0.5 - 0.5 * np.cos(2 * np.pi * t / frames)))
            frame = np.ascontiguousarray(scene[:, x:x + WIDTH])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def run(clip: Path, out: Path, args) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, what it printed) of the command on `clip`."""
    command = [sys.executable, "-m", "nstlab", "video", str(clip), "--model", args.model, *args.style,
               "--size", str(args.size), "-o", str(out), "-q"]
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    printed = child.stdout.read().strip() + child.stderr.read().strip()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{printed}")
    return seconds, usage.ru_maxrss / 1024, printed  # ru_maxrss: KB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, nargs="+", default=[10, 60])
    parser.add_argument("--model", default="johnson-starry_night")
    parser.add_argument("--style", nargs="*", default=[], help="for cin or adain models")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "nstlab-bench-memory")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    print(f"{torch.get_num_threads()} threads; nstlab video CLIP --model {args.model} --size {args.size}")
    print(f"{'clip':>24} {'frames':>7} {'seconds':>8} {'ms/frame':>9} {'peak RSS MB':>12}")
    for seconds in args.seconds:
        clip = make_clip(args.folder / f"pan-{seconds}s-1080p.mp4", seconds)
        took, peak, printed = run(clip, args.folder / "out.mp4", args)
        frames = seconds * FPS
        print(f"{f'{seconds} s 1080p, 25 fps':>24} {frames:>7} {took:>8.1f} {1000 * took / frames:>9.0f} "
              f"{peak:>12.0f}")
        print(f"    {printed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
