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
frames, and return a `VideoResult`. `work=FOLDER` keeps every finished frame there as a PNG: a
run started again with the same arguments does not redo them (optimization takes seconds per
frame). Ctrl-C returns the frames finished so far (status "interrupted") instead of losing them.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from ..errors import InputError
from ..feedforward import apply, load_model
from ..feedforward.adain import AdaIN
from ..feedforward.apply import in_precision
from ..files import atomic
from ..gatys import StyleTransfer
from ..images import load_image, resize, save_image
from ..losses import DEFAULT_TEMPORAL_WEIGHT, Settings
from ..mixing import as_list
from ..samples import resolve_image
from ..warping import warp
from .flow import clip_flows, estimate_flow, reliable
from .io import read_video, write_video
from .stabilize import stabilize as stabilize_frames

STABILIZER_FLOW = "fast"  # DIS preset for the stabilizer: 2.8 ms a frame at 256 px (medium: 12.6),
# warping error 0.0034 instead of 0.0029 after stabilizing a Johnson network at 0.5


@dataclass
class VideoResult:
    frames: torch.Tensor  # (T, 3, H, W) in [0, 1], on the CPU
    fps: float
    status: str  # "done" or "interrupted"
    seconds: float
    method: str
    history: list[dict[str, float]] = field(default_factory=list)  # per frame: the last step's losses
    flows: torch.Tensor | None = None  # (T - 1, 2, H, W) the input's backward flows (DIS medium or
    masks: torch.Tensor | None = None  # RAFT; optimization only) and (T - 1, H, W) their reliable pixels

    def save(self, path) -> Path:
        """Write the clip (.mp4, .webm, .gif, .webp or a folder of frames)."""
        return write_video(self.frames, path, self.fps)


def apply_video(model, frames, style=None, *, stabilize: float = 0.0, morph: bool = False,
                size: int | None = None, fps: float | None = None, work=None, flow_method: str = "dis",
                progress: bool = True, **options) -> VideoResult:
    """Run a trained network (a name, file or module, as for `apply`) on every frame; then, with
    stabilize > 0, blend along the flow (`video.stabilize`, strength `stabilize`). morph: with a
    list of styles (a conditional network's or AdaIN's), go from each to the next over the clip.
    work: a folder for finished frames (see the module docstring). flow_method: "dis" or "raft"
    (`estimate_flow`). options: those of `apply` (mix, alpha, preserve_color, masks, device,
    precision: "bfloat16" halves a network's time on CPUs with AVX-512 BF16)."""
    began = time.perf_counter()
    frames, fps = _frames(frames, size, fps)
    net = model if isinstance(model, torch.nn.Module) else load_model(model)
    name = getattr(net, "name", None) or type(net).__name__
    net = in_precision(net, options.get("precision", "float32"))  # once, not per frame
    if morph and (len(as_list(style)) < 2 or "mix" in options or "masks" in options):
        raise InputError("morph needs a list of two or more styles, and no mix or masks")
    store = FrameStore(work, frames, {"method": name, "style": style, "morph": morph, **options})
    if isinstance(net, AdaIN):  # the style images read once, at the frames' size, not once a frame
        style = [resolve_image(s, max(frames.shape[-2:])) for s in as_list(style)] or None
    out, status = [], "done"
    try:
        for t in tqdm(range(len(frames)), desc="frames", unit="frame", disable=not progress, leave=False):
            mix = morph_weights(len(as_list(style)), t, len(frames)) if morph else options.get("mix")
            done = store.get(t)
            out.append(done if done is not None else
                       store.put(t, apply(net, frames[t][None], style, **{**options, "mix": mix}).image[0]))
    except KeyboardInterrupt:
        status = "interrupted"
    if not out:
        raise KeyboardInterrupt
    styled = torch.stack(out)
    if stabilize and len(styled) > 1:  # DIS "fast": a quarter of "medium"'s time, nearly its quality here
        flows, masks = clip_flows(frames[: len(styled)], method=flow_method, preset=STABILIZER_FLOW)
        styled = stabilize_frames(styled, strength=stabilize, flows=flows, masks=masks)
    return VideoResult(styled, fps, status, time.perf_counter() - began, name)


def morph_weights(styles: int, t: int, frames: int) -> list[float]:
    """Mix weights of `styles` styles at frame t of `frames`: style 0 at the first frame, the last
    style at the last, and in between two neighbours cross-fading linearly."""
    u = t / max(frames - 1, 1) * (styles - 1)  # where in the list of styles frame t is
    k = min(int(u), styles - 2)
    weights = [0.0] * styles
    weights[k], weights[k + 1] = 1 - (u - k), u - k
    return weights


def stylize_video(frames, style, *, steps: int = 30, first_steps: int | None = None,
                  temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT, long_term=(1,), loop: bool = False,
                  stabilize: float = 0.0, settings: Settings | None = None, extractor=None,
                  size: int | None = None, fps: float | None = None, optimizer: str = "lbfgs",
                  work=None, flow_method: str = "dis", device=None, progress: bool = True,
                  **options) -> VideoResult:
    """Gatys et al. per frame, consistent in time (Ruder et al. 2016; see the module docstring).

    steps: per frame after the first; first_steps: for the first frame (default 3x steps: it
    starts from the photo, not from a finished frame); temporal_weight 0 gives independent frames
    that still start from the warped previous result; long_term: how many frames back the
    temporal loss looks (1 = the previous frame only); loop: a second pass that makes the first
    frame follow the last; stabilize: the stabilizer afterwards, as in `apply_video` (rarely
    needed); work: a folder for finished frames; flow_method: "dis" or "raft". options: those of
    `StyleTransfer.run` (lr, pooling, style_scale, seed) and of StyleTransfer (mix, preserve_color,
    masks, precision).
    """
    began = time.perf_counter()
    frames, fps = _frames(frames, size, fps)
    if temporal_weight < 0:
        raise InputError(f"temporal_weight must be >= 0, got {temporal_weight}")
    long_term = sorted({int(j) for j in as_list(long_term)})
    if not long_term or long_term[0] != 1:
        raise InputError(f"long_term lists frames back and must start with 1, got {long_term}")
    settings = settings or Settings()
    store = FrameStore(work, frames, {"method": "gatys-temporal", "style": style, "steps": steps,
                                      "first_steps": first_steps, "temporal_weight": temporal_weight,
                                      "long_term": long_term, "loop": loop, "settings": settings,
                                      "optimizer": optimizer, **options})
    make = {k: options.pop(k) for k in ("mix", "preserve_color", "masks", "precision") if k in options}
    target = {"previous": None, "mask": None}  # (J, 3, H, W) and (J, 1, H, W): the frames looked back at

    def temporal(image: torch.Tensor) -> torch.Tensor:
        m = target["mask"].to(image)
        return ((image - target["previous"].to(image)).pow(2) * m).sum() / (3 * m.sum()).clamp_min(1)

    weighted = settings.replace(term_weights={"temporal": float(temporal_weight)})
    alone = settings.replace(term_weights={})
    transfer = StyleTransfer(frames[0][None], style, extractor, alone, device,
                             terms={"temporal": temporal}, **make)
    side, count = max(frames.shape[-2:]), len(frames)
    pairs = {}  # (t, s) -> (flow from frame t to frame s, its reliable pixels)

    def pair(t: int, s: int) -> tuple[torch.Tensor, torch.Tensor]:
        if (t, s) not in pairs:
            there = estimate_flow(frames[t], frames[s], method=flow_method)
            back = estimate_flow(frames[s], frames[t], method=flow_method)
            pairs[t, s] = there, reliable(there, back)
        return pairs[t, s]

    def frame(t: int, back: list[int], done: dict[int, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        """Optimize frame t against the finished frames `back` (nearest first)."""
        transfer.set_content(frames[t][None])
        if not back:  # nothing to be consistent with yet
            transfer.update(alone)
            result = transfer.run(first_steps or 3 * steps, side, optimizer=optimizer, progress=False,
                                  **options)
            return result.image[0], result.history[-1] if result.history else {}
        previous, masks, covered = [], [], torch.zeros(frames.shape[-2:])
        for s in back:
            flow, mask = pair(t, s)
            mask = mask * (1 - covered)  # only what the nearer frames do not cover
            covered = covered + mask
            previous.append(warp(done[s], flow))
            masks.append(mask)
        target["previous"], target["mask"] = torch.stack(previous), torch.stack(masks)[:, None]
        start = masks[0] * previous[0] + (1 - masks[0]) * frames[t]  # disoccluded: the photo
        transfer.update(weighted if temporal_weight > 0 else alone)
        result = transfer.run(steps, side, init=start[None], optimizer=optimizer, progress=False, **options)
        return result.image[0], result.history[-1] if result.history else {}

    passes = [("frame", t) for t in range(count)] + ([("loop", t) for t in range(count)] if loop else [])
    done, looped, history, status = {}, {}, [], "done"
    bar = tqdm(total=len(passes), desc="frames", unit="frame", disable=not progress, leave=False)
    try:
        for kind, t in passes:
            if kind == "frame":
                back = [t - j for j in long_term if t - j >= 0]
                finished = done
            else:  # the second pass: frame 0 follows the last frame, every other its new predecessor
                back = [(t - 1) % count]
                finished = {**done, **looped}
            image = store.get(t, kind)
            losses = {}
            if image is None:
                image, losses = frame(t, back, finished)
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
    flows, masks = None, None
    if len(styled) > 1:  # the pairs the first pass estimated: the input's flows, for the caller too
        pairs_back = [pair(t, t - 1) for t in range(1, len(styled))]
        flows, masks = torch.stack([f for f, _ in pairs_back]), torch.stack([m for _, m in pairs_back])
    if stabilize and len(styled) > 1:
        styled = stabilize_frames(styled, strength=stabilize, flows=flows, masks=masks)
    return VideoResult(styled, fps, status, time.perf_counter() - began, "gatys-temporal", history,
                       flows, masks)


class FrameStore:
    """Finished frames in a folder (`work=`), so that a run started again skips them.

    The folder holds `run.json` (what the frames were made from: a digest of the input frames and
    the arguments) and one PNG per finished frame, each written atomically. A folder from a run
    with other frames or arguments is refused rather than mixed in. work=None stores nothing.
    """

    def __init__(self, folder, frames: torch.Tensor, arguments: dict):
        self.folder = None if folder is None else Path(folder)
        if self.folder is None:
            return
        recipe = {"frames": _describe(frames), "shape": list(frames.shape),
                  **{k: _describe(v) for k, v in arguments.items()}}
        record = self.folder / "run.json"
        if self.folder.is_dir() and not record.is_file() and any(self.folder.iterdir()):
            raise InputError(f"{self.folder}: holds other files; give an empty or new work folder")
        if record.is_file():
            try:
                found = json.loads(record.read_text())
            except (OSError, ValueError):
                found = None
            if found != recipe:
                raise InputError(f"{self.folder}: holds frames of another run (other frames or "
                                 "arguments); delete it or choose another work folder")
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
