"""Stylizing a clip: the same two calls as for an image, frame by frame, made consistent in time.

    apply_video(model, frames, style=..., stabilize=0.5)          any trained network (apply)
    stylize_video(frames, style, steps=..., temporal_weight=333) Gatys optimization (stylize)

`apply_video` runs the network on each frame, then (stabilize > 0) the flow-guided stabilizer.
With several styles and `morph=True` the style moves from the first to the last over the clip
(a conditional network's or AdaIN's mix weights, changing a little every frame).

`stylize_video` is Ruder, Dosovitskiy & Brox (2016, "Artistic style transfer for videos"): frame t
starts from the previous result warped along the flow (the content frame where the flow is not
reliable) and adds a temporal loss, the mean squared difference to that warped result over the
reliable pixels, weighted by `temporal_weight` beside nstlab's relative content and style losses
(Ruder's value in their units does not carry over: 333 here, beside the default style weight 10;
1000 makes L-BFGS stall). `long_term=(1, 2, 4)` compares with frames 1, 2 and 4 back, each on the
pixels the nearer ones do not cover (Ruder's long-term loss: a region hidden for a frame or two
comes back as it was). `loop=True` runs a second pass in which the first frame follows the last, for
clips that play in a loop (GIFs). The style Gram matrices are computed once for the whole clip.

Both take frames (T, 3, H, W) or a video path (`read_video`), show a progress bar over the
frames, and return a `VideoResult`: a `Result` plus the frames and their flicker (the warping
error, beside the input's own). `run_dir=FOLDER` keeps every finished frame there as a PNG: a
run started again with the same arguments does not redo them (optimization takes seconds per
frame). Ctrl-C returns the frames finished so far (status "interrupted") instead of losing them.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from ..device import device_of
from ..errors import InputError
from ..feedforward import apply
from ..feedforward.adain import AdaIN
from ..feedforward.apply import prepare
from ..feedforward.pretrained import model_info
from ..files import atomic
from ..gatys import StyleTransfer
from ..images import load_image, resize, save_image
from ..losses import DEFAULT_TEMPORAL_WEIGHT, Settings
from ..mixing import as_list
from ..result import Result
from ..samples import resolve_image
from ..warping import warp
from .flow import clip_flows, estimate_flow, reliable
from .io import read_video, write_video
from .metrics import warping_error
from .stabilize import stabilize as stabilize_frames

STABILIZER_FLOW = "fast"  # DIS preset for the stabilizer: a quarter of "medium"'s time, nearly its quality


@dataclass
class VideoResult(Result):
    """What `apply_video` and `stylize_video` return: a `Result` (its `image` is the first frame,
    `history` one entry per frame, `steps` all optimizer steps) plus the clip and its flicker."""

    frames: torch.Tensor | None = None  # (T, 3, H, W) in [0, 1], on the CPU
    fps: float = 25.0
    flows: torch.Tensor | None = None  # (T - 1, 2, H, W) the input's backward flows the flicker is
    reliable: torch.Tensor | None = None  # measured on, and (T - 1, H, W) their reliable pixels
    flicker: float | None = None  # the frames' warping error (Lai et al. 2018); None: not measured
    input_flicker: float | None = None  # the input clip's own, on the same flows

    def save(self, path) -> Path:
        """Write the clip (.mp4, .webm, .gif, .webp or a folder of frames)."""
        return write_video(self.frames, path, self.fps)


def apply_video(model, frames, style=None, *, mix=None, masks=None, alpha: float = 1.0,
                preserve_color=False, morph: bool = False, stabilize: float = 0.0, size: int | None = None,
                fps: float | None = None, run_dir=None, flow_method: str = "dis", measure: bool = True,
                device=None, precision: str = "float32", progress: bool = True) -> VideoResult:
    """Run a trained network (a name, file or module, as for `apply`) on every frame; then, with
    stabilize > 0, blend along the flow (`video.stabilize`, strength `stabilize`).

    style, mix, masks, alpha, preserve_color, device, precision: as for `apply` (the network is
    moved and cast once for the clip). morph: with a list of styles (a conditional network's or
    AdaIN's), go from each to the next over the clip. size: the frames' longest side; fps: of a
    tensor clip (a file says its own). run_dir: a folder for finished frames (see the module
    docstring). flow_method: "dis" or "raft" (`estimate_flow`). measure: the warping error of the
    result and of the input (DIS flow) in `flicker` and `input_flicker`.
    """
    began = time.perf_counter()
    frames, fps = _frames(frames, size, fps)
    net = prepare(model, device, precision)  # once for the clip, never per frame
    name = model_info(net).name
    if morph and (len(as_list(style)) < 2 or mix is not None or masks is not None):
        raise InputError("morph needs a list of two or more styles, and no mix or masks")
    store = FrameStore(run_dir, frames, {"method": name, "style": style, "morph": morph, "mix": mix,
                                         "masks": masks, "alpha": alpha, "preserve_color": preserve_color,
                                         "precision": precision})
    if isinstance(net, AdaIN):  # the style images read once, at the frames' size, not once a frame
        style = [resolve_image(s, max(frames.shape[-2:])) for s in as_list(style)] or None
    out, status = [], "done"
    try:
        for t in tqdm(range(len(frames)), desc="frames", unit="frame", disable=not progress, leave=False):
            done = store.get(t)
            if done is None:
                weights = morph_weights(len(as_list(style)), t, len(frames)) if morph else mix
                done = store.put(t, apply(net, frames[t][None], style, mix=weights, masks=masks, alpha=alpha,
                                          preserve_color=preserve_color, device=device_of(net),
                                          precision=precision).image[0])
            out.append(done)
    except KeyboardInterrupt:
        status = "interrupted"
    if not out:
        raise KeyboardInterrupt
    styled, inputs = torch.stack(out), frames[: len(out)]
    if stabilize and len(styled) > 1:
        flows, reliable_pixels = clip_flows(inputs, method=flow_method, preset=STABILIZER_FLOW)
        styled = stabilize_frames(styled, strength=stabilize, flows=flows, masks=reliable_pixels)
    return _result(styled, inputs, fps, status, began, name, measure=measure)


def morph_weights(styles: int, t: int, frames: int) -> list[float]:
    """Mix weights of `styles` styles at frame t of `frames`: style 0 at the first frame, the last
    style at the last, and in between two neighbours cross-fading linearly."""
    u = t / max(frames - 1, 1) * (styles - 1)  # where in the list of styles frame t is
    k = min(int(u), styles - 2)
    weights = [0.0] * styles
    weights[k], weights[k + 1] = 1 - (u - k), u - k
    return weights


class TemporalLoss:
    """Ruder et al.'s temporal loss, an image-space term for `StyleTransfer(terms=...)`: the mean
    squared difference to finished frames warped onto this one, each on its reliable pixels."""

    def __init__(self):
        self.previous: torch.Tensor | None = None  # (J, 3, H, W) finished frames, warped, nearest first
        self.masks: torch.Tensor | None = None  # (J, 1, H, W) the pixels each one is compared on

    def aim(self, frame: torch.Tensor, warped: list[torch.Tensor], masks: list[torch.Tensor]) -> torch.Tensor:
        """Compare with `warped` (each (3, H, W)) on their reliable pixels `masks` (H, W), each only
        where the nearer ones are not reliable; returns the start image: the nearest warped frame,
        the content `frame` where it is not reliable (disoccluded)."""
        covered, kept = torch.zeros_like(masks[0]), []
        for mask in masks:
            kept.append(mask * (1 - covered))
            covered = covered + kept[-1]
        self.previous, self.masks = torch.stack(warped), torch.stack(kept)[:, None]
        return kept[0] * warped[0] + (1 - kept[0]) * frame

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        m = self.masks.to(image)
        return ((image - self.previous.to(image)).pow(2) * m).sum() / (3 * m.sum()).clamp_min(1)


class FlowPairs:
    """The flow between two frames of a clip and its reliable pixels, estimated once per pair."""

    def __init__(self, frames: torch.Tensor, method: str):
        self.frames, self.method = frames, method
        self.known: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def __call__(self, t: int, s: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(flow (2, H, W) from frame t to frame s, its reliable pixels (H, W))."""
        if (t, s) not in self.known:
            there = estimate_flow(self.frames[t], self.frames[s], method=self.method)
            back = estimate_flow(self.frames[s], self.frames[t], method=self.method)
            self.known[t, s] = there, reliable(there, back)
        return self.known[t, s]


def stylize_video(frames, style, *, steps: int = 30, first_steps: int | None = None,
                  temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT, long_term=(1,), loop: bool = False,
                  stabilize: float = 0.0, size: int | None = None, fps: float | None = None, mix=None,
                  masks=None, preserve_color=False, settings: Settings | None = None, extractor=None,
                  optimizer: str = "lbfgs", lr: float | None = None, seed: int = 0,
                  style_scale: float = 1.0, pooling: str = "max", run_dir=None, flow_method: str = "dis",
                  measure: bool = True, device=None, precision: str = "float32",
                  progress: bool = True) -> VideoResult:
    """Gatys et al. per frame, consistent in time (Ruder et al. 2016; see the module docstring).

    steps: per frame after the first; first_steps: for the first frame (default 3x steps: it
    starts from the photo, not from a finished frame); temporal_weight 0 gives independent frames
    that still start from the warped previous result; long_term: how many frames back the
    temporal loss looks (1 = the previous frame only); loop: a second pass that makes the first
    frame follow the last; stabilize: the stabilizer afterwards, as in `apply_video` (rarely
    needed); run_dir: a folder for finished frames; flow_method: "dis" or "raft"; measure: the
    warping error on the flows the method used. mix, masks, preserve_color, settings, extractor,
    optimizer, lr, seed, style_scale, pooling, device, precision: as for `stylize`. An interrupt
    (Ctrl-C) keeps the finished frames and never a frame cut short.
    """
    began = time.perf_counter()
    frames, fps = _frames(frames, size, fps)
    if temporal_weight < 0:
        raise InputError(f"temporal_weight must be >= 0, got {temporal_weight}")
    long_term = sorted({int(j) for j in as_list(long_term)})
    if not long_term or long_term[0] != 1:
        raise InputError(f"long_term lists frames back and must start with 1, got {long_term}")
    settings = settings or Settings()
    run = {"optimizer": optimizer, "lr": lr, "seed": seed, "style_scale": style_scale, "pooling": pooling}
    store = FrameStore(run_dir, frames, {"method": "gatys-temporal", "style": style, "steps": steps,
                                         "first_steps": first_steps, "temporal_weight": temporal_weight,
                                         "long_term": long_term, "loop": loop, "settings": settings,
                                         "mix": mix, "masks": masks, "preserve_color": preserve_color,
                                         "precision": precision, **run})
    temporal = TemporalLoss()
    alone = settings.replace(term_weights={})
    weighted = settings.replace(term_weights={"temporal": float(temporal_weight)} if temporal_weight else {})
    transfer = StyleTransfer(frames[0][None], style, extractor, alone, device, precision, masks, mix=mix,
                             preserve_color=preserve_color, terms={"temporal": temporal})
    side, count, pairs = max(frames.shape[-2:]), len(frames), FlowPairs(frames, flow_method)
    passes = [("frame", t) for t in range(count)] + ([("loop", t) for t in range(count)] if loop else [])
    done, looped, history, status, taken = {}, {}, [], "done", 0
    bar = tqdm(total=len(passes), desc="frames", unit="frame", disable=not progress, leave=False)
    try:
        for kind, t in passes:
            if kind == "frame":
                back, finished = [t - j for j in long_term if t - j >= 0], done
            else:  # the second pass: frame 0 follows the last frame, every other its new predecessor
                back, finished = [(t - 1) % count], {**done, **looped}
            image, losses = store.get(t, kind), {}
            if image is None:
                transfer.set_content(frames[t][None])
                if back:  # keep to the finished frames, warped onto this one
                    looked = [pairs(t, s) for s in back]
                    start = temporal.aim(frames[t], [warp(finished[s], flow) for s, (flow, _) in
                                                     zip(back, looked, strict=True)], [m for _, m in looked])
                    transfer.update(weighted)
                    result = transfer.run(steps, side, init=start[None], progress=False, **run)
                else:  # nothing to be consistent with yet
                    transfer.update(alone)
                    result = transfer.run(first_steps or 3 * steps, side, progress=False, **run)
                if result.status == "interrupted":  # cut short: never stored as finished
                    raise KeyboardInterrupt
                image, losses = result.image[0], result.history[-1] if result.history else {}
                taken += result.steps
                store.put(t, image, kind)
            (done if kind == "frame" else looped)[t] = image
            history.append(losses)
            bar.update()
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        bar.close()
    if not done:
        raise KeyboardInterrupt
    styled = torch.stack([looped.get(t, done[t]) for t in range(len(done))])
    flows = reliable_pixels = None
    if len(styled) > 1:  # the pairs the first pass estimated: the input's flows, for the caller too
        back_pairs = [pairs(t, t - 1) for t in range(1, len(styled))]
        flows = torch.stack([f for f, _ in back_pairs])
        reliable_pixels = torch.stack([m for _, m in back_pairs])
    if stabilize and len(styled) > 1:
        styled = stabilize_frames(styled, strength=stabilize, flows=flows, masks=reliable_pixels)
    return _result(styled, frames[: len(styled)], fps, status, began, "gatys-temporal", measure=measure,
                   steps=taken, history=history, flows=flows, reliable_pixels=reliable_pixels)


def _result(styled: torch.Tensor, inputs: torch.Tensor, fps: float, status: str, began: float, method: str,
            *, measure: bool, steps: int = 0, history=(), flows=None, reliable_pixels=None) -> VideoResult:
    """The VideoResult of a clip, its flicker measured on `flows` (DIS, "medium", when not given)."""
    seconds = time.perf_counter() - began
    flicker = own = None
    if measure and len(styled) > 1:
        if flows is None:
            flows, reliable_pixels = clip_flows(inputs)
        flicker = warping_error(styled, flows=flows, masks=reliable_pixels)
        own = warping_error(inputs, flows=flows, masks=reliable_pixels)
    return VideoResult(styled[:1].clone(), status, steps, seconds, list(history), method, frames=styled,
                       fps=fps, flows=flows, reliable=reliable_pixels, flicker=flicker, input_flicker=own)


class FrameStore:
    """Finished frames in a folder (`run_dir=`), so that a run started again skips them.

    The folder holds `run.json` (what the frames were made from: a digest of the input frames and
    the arguments) and one PNG per finished frame, each written atomically. A folder from a run
    with other frames or arguments is refused rather than mixed in. None stores nothing.
    """

    def __init__(self, folder, frames: torch.Tensor, arguments: dict):
        self.folder = None if folder is None else Path(folder)
        if self.folder is None:
            return
        recipe = {"frames": _describe(frames), "shape": list(frames.shape),
                  **{k: _describe(v) for k, v in arguments.items()}}
        record = self.folder / "run.json"
        if self.folder.is_dir() and not record.is_file() and any(self.folder.iterdir()):
            raise InputError(f"{self.folder}: holds other files; give an empty or new run folder")
        if record.is_file():
            try:
                found = json.loads(record.read_text())
            except (OSError, ValueError):
                found = None
            if found != recipe:
                raise InputError(f"{self.folder}: holds frames of another run (other frames or "
                                 "arguments); delete it or choose another run folder")
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic(record) as tmp:
                Path(tmp).write_text(json.dumps(recipe, indent=1))
        except OSError as err:
            raise InputError(f"{self.folder}: cannot keep frames there ({err.strerror or err})") from None

    @staticmethod
    def clear(folder) -> None:
        """Delete what a FrameStore wrote in `folder` (and the folder, if nothing else is left)."""
        folder = Path(folder)
        for path in [folder / "run.json", *folder.glob("frame-*.png"), *folder.glob("loop-*.png")]:
            path.unlink(missing_ok=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

    def get(self, t: int, kind: str = "frame") -> torch.Tensor | None:
        """Frame t (3, H, W) if it was finished before, else None."""
        path = None if self.folder is None else self.folder / f"{kind}-{t:06d}.png"
        return load_image(path)[0] if path is not None and path.is_file() else None

    def put(self, t: int, image: torch.Tensor, kind: str = "frame") -> torch.Tensor:
        if self.folder is not None:
            save_image(image[None], self.folder / f"{kind}-{t:06d}.png")
        return image


def _describe(value):
    """A JSON-able stand-in for an argument: tensors by digest, anything else by its text."""
    if isinstance(value, torch.Tensor):
        return "tensor " + hashlib.sha256(value.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _frames(frames, size: int | None, fps: float | None) -> tuple[torch.Tensor, float]:
    """(T, 3, H, W) float on the CPU from a tensor or a video path; resized to `size` if given."""
    if isinstance(frames, (str, Path)):
        video, found = read_video(frames, size=size)
        return video, fps or found
    video = torch.as_tensor(frames).float().cpu()
    if video.dim() != 4 or video.shape[1] != 3 or len(video) == 0:
        raise InputError(f"expected frames (T >= 1, 3, H, W) or a video path, got shape {tuple(video.shape)}")
    return video if size is None else resize(video, size), fps or 25.0
