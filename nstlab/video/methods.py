"""Stylizing a clip: the same two calls as for an image, frame by frame, made consistent in time.

    apply_video(model, frames, style=..., stabilize=0.7)          any trained network (apply)
    stylize_video(frames, style, steps=..., temporal_weight=200)  Gatys optimization (stylize)

`apply_video` runs the network on each frame, then (stabilize > 0) the flow-guided stabilizer.
`stylize_video` is Ruder, Dosovitskiy & Brox (2016, "Artistic style transfer for videos"): frame
t starts from the previous result warped along the flow (the content frame where the flow is
not reliable) and adds a temporal loss, the mean squared difference to that warped result over
the reliable pixels, weighted by `temporal_weight` beside nstlab's relative content and style
losses (Ruder's value in their units does not carry over; ~200 works here). The style Gram
matrices are computed once for the whole clip.

Both take frames (T, 3, H, W) or a video path (`read_video`), show a progress bar over the
frames, and return a `VideoResult`; Ctrl-C returns the frames finished so far (status
"interrupted") instead of losing them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from ..errors import InputError
from ..feedforward import apply, load_model
from ..gatys import StyleTransfer
from ..images import resize
from ..losses import Settings
from .flow import clip_flows, warp
from .io import read_video, write_video
from .stabilize import stabilize as stabilize_frames


@dataclass
class VideoResult:
    frames: torch.Tensor  # (T, 3, H, W) in [0, 1], on the CPU
    fps: float
    status: str  # "done" or "interrupted"
    seconds: float
    method: str
    history: list[dict[str, float]] = field(default_factory=list)  # per frame: the last step's losses

    def save(self, path) -> Path:
        """Write the clip (.mp4, .webm, .gif, .webp or a folder of frames)."""
        return write_video(self.frames, path, self.fps)


def apply_video(model, frames, style=None, *, stabilize: float = 0.0, size: int | None = None,
                fps: float | None = None, progress: bool = True, **options) -> VideoResult:
    """Run a trained network (a name, file or module, as for `apply`) on every frame; then, with
    stabilize > 0, blend along the flow (`video.stabilize`, strength `stabilize`). options: those
    of `apply` (mix, alpha, preserve_color, masks, device)."""
    began = time.perf_counter()
    frames, fps = _frames(frames, size, fps)
    net = model if isinstance(model, torch.nn.Module) else load_model(model)
    out, status = [], "done"
    try:
        for frame in tqdm(frames, desc="frames", unit="frame", disable=not progress, leave=False):
            out.append(apply(net, frame[None], style, **options).image[0])
    except KeyboardInterrupt:
        status = "interrupted"
    if not out:
        raise KeyboardInterrupt
    styled = torch.stack(out)
    if stabilize and len(styled) > 1:
        styled = stabilize_frames(styled, frames[: len(styled)], strength=stabilize)
    name = getattr(net, "name", None) or type(net).__name__
    return VideoResult(styled, fps, status, time.perf_counter() - began, name)


def stylize_video(frames, style, *, steps: int = 30, first_steps: int | None = None,
                  temporal_weight: float = 200.0, stabilize: float = 0.0,
                  settings: Settings | None = None, extractor=None,
                  size: int | None = None, fps: float | None = None, optimizer: str = "lbfgs",
                  device=None, progress: bool = True, **options) -> VideoResult:
    """Gatys et al. per frame, consistent in time (Ruder et al. 2016; see the module docstring).

    steps: per frame after the first; first_steps: for the first frame (default 3x steps: it
    starts from the photo, not from a finished frame); temporal_weight 0 gives independent frames
    that still start from the warped previous result; stabilize: the stabilizer afterwards, as in
    `apply_video` (rarely needed). options: those of `StyleTransfer.run`
    (lr, pooling, style_scale, seed) and of StyleTransfer (mix, preserve_color, masks).
    """
    began = time.perf_counter()
    frames, fps = _frames(frames, size, fps)
    if temporal_weight < 0:
        raise InputError(f"temporal_weight must be >= 0, got {temporal_weight}")
    make = {k: options.pop(k) for k in ("mix", "preserve_color", "masks") if k in options}
    target = {"previous": None, "mask": None}  # what the temporal term compares with, per frame

    def temporal(image: torch.Tensor) -> torch.Tensor:
        m = target["mask"].to(image)
        return ((image - target["previous"].to(image)).pow(2) * m).sum() / (3 * m.sum()).clamp_min(1)

    settings = (settings or Settings()).replace(term_weights={"temporal": float(temporal_weight)})
    transfer = StyleTransfer(frames[0][None], style, extractor, settings.replace(term_weights={}), device,
                             terms={"temporal": temporal}, **make)
    side = max(frames.shape[-2:])
    flows, masks = clip_flows(frames)  # flows[t - 1]: frame t -> t - 1
    out, history, status = [], [], "done"
    bar = tqdm(total=len(frames), desc="frames", unit="frame", disable=not progress, leave=False)
    try:
        for t in range(len(frames)):
            transfer.set_content(frames[t][None])
            if t == 0:
                transfer.update(settings.replace(term_weights={}))  # nothing to be consistent with yet
                result = transfer.run(first_steps or 3 * steps, side, optimizer=optimizer, progress=False,
                                      **options)
            else:
                mask = masks[t - 1]
                previous = warp(out[-1], flows[t - 1])
                target["previous"], target["mask"] = previous[None], mask[None, None]
                start = mask * previous + (1 - mask) * frames[t]  # disoccluded: the photo
                transfer.update(settings if temporal_weight > 0 else settings.replace(term_weights={}))
                result = transfer.run(steps, side, init=start[None], optimizer=optimizer, progress=False,
                                      **options)
            out.append(result.image[0])
            history.append(result.history[-1] if result.history else {})
            bar.update()
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        bar.close()
    if not out:
        raise KeyboardInterrupt
    styled = torch.stack(out)
    if stabilize and len(styled) > 1:
        styled = stabilize_frames(styled, frames[: len(styled)], strength=stabilize)
    return VideoResult(styled, fps, status, time.perf_counter() - began, "gatys-temporal", history)


def _frames(frames, size: int | None, fps: float | None) -> tuple[torch.Tensor, float]:
    """(T, 3, H, W) float on the CPU from a tensor or a video path; resized to `size` if given."""
    if isinstance(frames, (str, Path)):
        video, found = read_video(frames, size=size)
        return video, fps or found
    video = torch.as_tensor(frames).float().cpu()
    if video.dim() != 4 or video.shape[1] != 3 or len(video) == 0:
        raise InputError(f"expected frames (T >= 1, 3, H, W) or a video path, got shape {tuple(video.shape)}")
    return video if size is None else resize(video, size), fps or 25.0
