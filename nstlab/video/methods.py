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

Both take frames (T, 3, H, W), a video path or an `open_video` clip, check every argument before
the first frame, show a progress bar over the frames, and return a `VideoResult`: a `Result` plus
the frames and their flicker (the warping error, beside the input's own). The clip is read, made
and measured one frame at a time: with `output=PATH` each finished frame is written at once
(mp4/webm and folders stream; `loop` holds the clip) and the result keeps no frames, so a long
clip needs the memory of a few frames. `run_dir=FOLDER` keeps every finished frame there as a PNG,
with the content hashes of everything it was made from: a run started again with the same inputs
does not redo them, one with other inputs is refused. Ctrl-C stops the run, keeps the finished
frames and never a frame cut short (status "interrupted").
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from ..device import device_of
from ..errors import ImageError, InputError, NstlabError, WriteError
from ..feedforward import apply
from ..feedforward.adain import AdaIN
from ..feedforward.apply import prepare
from ..feedforward.pretrained import model_info
from ..files import atomic, sha256_of
from ..gatys import StyleTransfer
from ..images import load_image, resize, save_image
from ..losses import DEFAULT_TEMPORAL_WEIGHT, Settings
from ..mixing import as_list
from ..progress import bar as progress_bar
from ..result import Result
from ..samples import resolve_image, sample_path
from ..warping import warp
from .flow import check_method, reliable_flow
from .io import Clip, VideoWriter, open_video, write_video
from .metrics import warping_error
from .stabilize import Stabilizer

STABILIZER_FLOW = "fast"  # DIS preset for the stabilizer: a quarter of "medium"'s time, nearly its quality


@dataclass
class VideoResult(Result):
    """What `apply_video` and `stylize_video` return: a `Result` (its `image` is the first frame,
    `history` one entry per frame, `steps` all optimizer steps) plus the clip and its flicker."""

    frames: torch.Tensor | None = None  # (T, 3, H, W) in [0, 1] on the CPU; None: written to `path`
    fps: float = 25.0
    flows: torch.Tensor | None = None  # (T - 1, 2, H, W) the input's backward flows the flicker is
    reliable: torch.Tensor | None = None  # measured on, and (T - 1, H, W) their reliable pixels
    flicker: float | None = None  # the frames' warping error (Lai et al. 2018); None: not measured
    input_flicker: float | None = None  # the input clip's own, on the same flows
    path: Path | None = None  # where the clip was written as it was made (output=)
    count: int = 0  # frames made
    size: tuple[int, int] | None = None  # (width, height) of the frames as written or kept

    def save(self, path) -> Path:
        """Write the clip (.mp4, .webm, .gif, .webp or a folder of frames)."""
        if self.frames is None:
            raise InputError(f"this clip was written to {self.path} as it was made and its frames were "
                             "not kept; read it back with read_video")
        return write_video(self.frames, path, self.fps)


def apply_video(model, frames, style=None, *, mix=None, masks=None, alpha: float = 1.0,
                preserve_color=False, morph: bool = False, stabilize: float = 0.0, size: int | None = None,
                fps: float | None = None, output=None, run_dir=None, flow_method: str = "dis",
                measure: bool = True, device=None, precision: str = "float32",
                progress: bool = True) -> VideoResult:
    """Run a trained network (a name, file or module, as for `apply`) on every frame; then, with
    stabilize > 0, blend along the flow (`video.Stabilizer`, strength `stabilize`).

    style, mix, masks, alpha, preserve_color, device, precision: as for `apply` (the network is
    moved and cast once for the clip). morph: with a list of styles (a conditional network's or
    AdaIN's), go from each to the next over the clip. size: the frames' longest side; fps: of a
    tensor clip (a file says its own). output: write the clip there frame by frame, keeping none;
    run_dir: a folder for finished frames (see the module docstring). flow_method: "dis" or "raft"
    (`estimate_flow`) for the stabilizer. measure: the warping error of the result and of the
    input (DIS flow) in `flicker` and `input_flicker`.
    """
    began = time.perf_counter()
    clip = _clip(frames, size, fps)
    stabilizer = Stabilizer(stabilize)  # its range checked before any work
    if stabilize:
        check_method(flow_method)
    if morph and (len(as_list(style)) < 2 or mix is not None or masks is not None):
        raise InputError("morph needs a list of two or more styles, and no mix or masks")
    net = prepare(model, device, precision)  # once for the clip, never per frame
    name = model_info(net).name
    store = FrameStore(run_dir, {"frames": clip, "method": name, "model": net, "style": style,
                                 "morph": morph, "mix": mix, "masks": masks, "alpha": alpha,
                                 "preserve_color": preserve_color, "size": size, "precision": precision})
    if isinstance(net, AdaIN):  # the style images read once, at the frames' size, not once a frame
        side = max(clip.first().shape[-2:])
        style = [resolve_image(s, side) for s in as_list(style)] or None
    finished = Finished(output, clip.fps, measure, run_dir)
    status, total = "done", clip.count() if morph else clip.length
    with progress_bar(total=total, desc="frames", unit="frame", disable=not progress, leave=False) as bar:
        try:
            previous = None
            for t, frame in enumerate(clip):
                done = store.get(t, frame.shape)
                if done is None:
                    weights = morph_weights(len(as_list(style)), t, total) if morph else mix
                    done = store.put(t, apply(net, frame[None], style, mix=weights, masks=masks, alpha=alpha,
                                              preserve_color=preserve_color, device=device_of(net),
                                              precision=precision).image[0])
                if stabilize and previous is not None:
                    done = stabilizer(done, *reliable_flow(frame, previous, STABILIZER_FLOW, flow_method))
                else:
                    done = stabilizer(done)
                finished.add(frame, done)
                previous = frame
                bar.update()
        except KeyboardInterrupt:
            status = "interrupted"
        except BaseException:
            finished.abort()
            raise
    return finished.result(status, began, name)


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
    """The flow between two frames of a clip and its reliable pixels, estimated once per pair.
    `frames` maps frame numbers to frames (3, H, W); `forget(t)` drops the pairs before frame t."""

    def __init__(self, frames: dict[int, torch.Tensor], method: str):
        self.frames, self.method = frames, method
        self.known: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def __call__(self, t: int, s: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(flow (2, H, W) from frame t to frame s, its reliable pixels (H, W))."""
        if (t, s) not in self.known:
            self.known[t, s] = reliable_flow(self.frames[t], self.frames[s], method=self.method)
        return self.known[t, s]

    def forget(self, t: int) -> None:
        self.known = {pair: found for pair, found in self.known.items() if min(pair) >= t}


def stylize_video(frames, style, *, steps: int = 30, first_steps: int | None = None,
                  temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT, long_term=(1,), loop: bool = False,
                  stabilize: float = 0.0, size: int | None = None, fps: float | None = None, mix=None,
                  masks=None, preserve_color=False, settings: Settings | None = None,
                  style_loss: str | None = None, extractor=None,
                  optimizer: str = "lbfgs", lr: float | None = None, seed: int = 0,
                  style_scale: float = 1.0, pooling: str = "max", output=None, run_dir=None,
                  flow_method: str = "dis", measure: bool = True, device=None, precision: str = "float32",
                  progress: bool = True) -> VideoResult:
    """Gatys et al. per frame, consistent in time (Ruder et al. 2016; see the module docstring).

    steps: per frame after the first; first_steps: for the first frame (default 3x steps: it
    starts from the photo, not from a finished frame); temporal_weight 0 gives independent frames
    that still start from the warped previous result; long_term: how many frames back the
    temporal loss looks (1 = the previous frame only); loop: a second pass that makes the first
    frame follow the last; stabilize: the stabilizer afterwards, as in `apply_video` (rarely
    needed); output, run_dir: as for `apply_video`; flow_method: "dis" or "raft"; measure: the
    warping error on the flows the method used. mix, masks, preserve_color, settings, extractor,
    optimizer, lr, seed, style_loss, style_scale, pooling, device, precision: as for `stylize`. An interrupt
    (Ctrl-C) keeps the finished frames and never a frame cut short.
    """
    began = time.perf_counter()
    clip = _clip(frames, size, fps)
    _whole("steps", steps)
    if first_steps is not None:
        _whole("first_steps", first_steps)
    if not _finite(temporal_weight) or temporal_weight < 0:
        raise InputError(f"temporal_weight must be a number >= 0, got {temporal_weight!r}")
    try:
        back_frames = sorted({_whole("long_term", j) for j in as_list(long_term)})
    except TypeError:
        raise InputError(f"long_term lists frames back (whole numbers from 1), got {long_term!r}") from None
    if not back_frames or back_frames[0] != 1:
        raise InputError(f"long_term lists frames back and must start with 1, got {back_frames}")
    stabilizer = Stabilizer(stabilize)  # its range checked before any work
    check_method(flow_method)
    settings = settings or Settings(style_loss=style_loss or "gram")
    if style_loss is not None:
        settings = settings.replace(style_loss=style_loss)
    run = {"optimizer": optimizer, "lr": lr, "seed": seed, "style_scale": style_scale, "pooling": pooling}
    temporal = TemporalLoss()
    alone = settings.replace(term_weights={})
    weighted = settings.replace(term_weights={"temporal": float(temporal_weight)} if temporal_weight else {})
    transfer = StyleTransfer(clip.first()[None], style, extractor, alone, device, precision, masks, mix=mix,
                             preserve_color=preserve_color, terms={"temporal": temporal})
    store = FrameStore(run_dir, {"frames": clip, "method": "gatys-temporal", "style": style,
                                 "vgg": transfer.extractor, "steps": steps,
                                 "first_steps": first_steps, "temporal_weight": temporal_weight,
                                 "long_term": back_frames, "loop": loop, "settings": settings, "mix": mix,
                                 "masks": masks, "preserve_color": preserve_color, "size": size,
                                 "precision": precision, **run})
    inputs: dict[int, torch.Tensor] = {}  # the input frames the next frames look back at (all, with loop)
    done: dict[int, torch.Tensor] = {}  # the finished frames likewise
    pairs, reach = FlowPairs(inputs, flow_method), back_frames[-1]
    finished = Finished(output, clip.fps, measure, run_dir)
    history, status, taken = [], "done", 0

    def make(t: int, kind: str, back: list[int], made: dict[int, torch.Tensor]) -> torch.Tensor:
        """Frame t, from the store or optimized from the frames `back` of `made`."""
        nonlocal taken
        image = store.get(t, inputs[t].shape, kind)
        if image is not None:
            history.append({})
            return image
        transfer.set_content(inputs[t][None])
        if back:  # keep to the finished frames, warped onto this one
            looked = [pairs(t, s) for s in back]
            warped = [warp(made[s], flow) for s, (flow, _) in zip(back, looked, strict=True)]
            start = temporal.aim(inputs[t], warped, [m for _, m in looked])
            transfer.update(weighted)
            result = transfer.run(steps, max(inputs[t].shape[-2:]), init=start[None], progress=False, **run)
        else:  # nothing to be consistent with yet
            transfer.update(alone)
            result = transfer.run(first_steps or 3 * steps, max(inputs[t].shape[-2:]), progress=False, **run)
        if result.status == "interrupted":  # cut short: never stored as finished
            raise KeyboardInterrupt
        taken += result.steps
        history.append(result.history[-1] if result.history else {})
        return store.put(t, result.image[0], kind)

    def deliver(t: int, image: torch.Tensor) -> None:
        """Frame t is final: stabilized, measured on the pair the method used, written or kept."""
        flow = pairs(t, t - 1) if t > 0 else (None, None)
        finished.add(inputs[t], stabilizer(image, *flow) if t > 0 else stabilizer(image), *flow)

    total = clip.length
    with progress_bar(total=total and total * (2 if loop else 1), desc="frames",
              unit="frame", disable=not progress, leave=False) as bar:
        try:
            for t, frame in enumerate(clip):
                inputs[t] = frame
                done[t] = make(t, "frame", [t - j for j in back_frames if t - j >= 0], done)
                bar.update()
                if not loop:
                    deliver(t, done[t])
                    inputs.pop(t - reach, None)  # only `reach` frames back are looked at again
                    done.pop(t - reach, None)
                    pairs.forget(t - reach + 1)
            if loop:  # the second pass: frame 0 follows the last frame, every other its new predecessor
                looped: dict[int, torch.Tensor] = {}
                for t in range(len(done)):
                    looped[t] = make(t, "loop", [(t - 1) % len(done)], {**done, **looped})
                    deliver(t, looped[t])
                    bar.update()
        except KeyboardInterrupt:
            status = "interrupted"
            for t in range(finished.count, len(done) if loop else 0):  # the first pass's frames finish it
                deliver(t, done[t])
        except BaseException:
            finished.abort()
            raise
    return finished.result(status, began, "gatys-temporal", steps=taken, history=history)


class Finished:
    """The final frames of a run, in order: each measured against the one before (the warping
    error on the input's flow) and written to `output` at once (a `VideoWriter`) or kept."""

    def __init__(self, output, fps: float, measure: bool, run_dir=None):
        self.writer = None if output is None else VideoWriter(output, fps)
        self.fps, self.measure, self.run_dir = fps, measure, run_dir
        self.count, self.first, self.size = 0, None, None
        self.kept, self.flows, self.masks = [], [], []
        self.errors, self.own = [], []  # per pair: the output's warping error, the input's
        self.last = None  # (input, output) of the previous frame

    def add(self, frame: torch.Tensor, image: torch.Tensor, flow: torch.Tensor | None = None,
            mask: torch.Tensor | None = None) -> None:
        """Input frame (3, H, W) and its final image; flow, mask: from this input frame to the
        previous one (DIS at "medium" when not given)."""
        if self.last is not None and (self.measure or flow is not None):
            if flow is None:
                flow, mask = reliable_flow(frame, self.last[0])
            if self.measure:
                exact = {"flows": flow[None], "masks": mask[None]}
                self.errors.append(warping_error(torch.stack([self.last[1], image]), **exact))
                self.own.append(warping_error(torch.stack([self.last[0], frame]), **exact))
            if self.writer is None:
                self.flows.append(flow)
                self.masks.append(mask)
        if self.writer is None:
            self.kept.append(image)
        else:
            try:
                self.writer.write(image)
            except OSError as err:
                raise self._failed(err) from None
        self.first = image if self.first is None else self.first
        self.size = (image.shape[-1], image.shape[-2]) if self.writer is None else self.writer.size
        self.count += 1
        self.last = (frame, image)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()

    def result(self, status: str, began: float, method: str, *, steps: int = 0, history=()) -> VideoResult:
        if self.count == 0:  # interrupted before one frame was finished
            self.abort()
            raise KeyboardInterrupt
        path = None
        if self.writer is not None:
            try:
                path = self.writer.close()
            except OSError as err:
                raise self._failed(err) from None
        mean = (lambda values: sum(values) / len(values)) if self.errors else (lambda values: None)
        seconds = time.perf_counter() - began
        return VideoResult(self.first[None].clone(), status, steps, seconds, list(history), method,
                           frames=torch.stack(self.kept) if self.kept else None, fps=self.fps,
                           flows=torch.stack(self.flows) if self.flows else None,
                           reliable=torch.stack(self.masks) if self.masks else None,
                           flicker=mean(self.errors), input_flicker=mean(self.own), path=path,
                           count=self.count, size=self.size)

    def _failed(self, err: OSError) -> WriteError:
        """The error for a write that failed (the writer stopped, its temporary file gone)."""
        self.writer.abort()
        kept = (f"the finished frames are kept in {self.run_dir}: run again to go on" if self.run_dir
                else "give run_dir= to keep the finished frames")
        return WriteError(f"cannot write {self.writer.path} ({err.strerror or err}); {kept}")


class FrameStore:
    """Finished frames in a folder (`run_dir=`), so that a run started again skips them.

    The folder holds `run.json` (what the frames were made from: content hashes of the clip, the
    styles, masks, the network or VGG, and the other arguments) and one PNG per finished frame,
    each written atomically. A folder from a run with other inputs is refused rather than mixed in;
    the folder is made with the first finished frame, so a refused or empty run leaves none. None
    stores nothing.
    """

    def __init__(self, folder, recipe: dict):
        self.folder = None if folder is None else Path(folder).expanduser()
        if self.folder is None:  # nothing stored: no hashing either (a VGG is 58 MB of numbers)
            return
        self.recipe = {k: _describe(v) for k, v in recipe.items()}
        record = self.folder / "run.json"
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: is a file; give a new or empty folder for the finished frames")
        if self.folder.is_dir() and not record.is_file() and any(self.folder.iterdir()):
            raise InputError(f"{self.folder}: holds other files; give an empty or new run folder")
        if record.is_file():
            try:
                found = json.loads(record.read_text())
            except (OSError, ValueError):
                found = None
            if found != self.recipe:
                raise InputError(f"{self.folder}: holds frames of another run (other frames, styles, model "
                                 "or arguments); delete it or choose another run folder")

    @staticmethod
    def clear(folder) -> None:
        """Delete what a FrameStore wrote in `folder` (and the folder, if nothing else is left)."""
        folder = Path(folder)
        for path in [folder / "run.json", *folder.glob("frame-*.png"), *folder.glob("loop-*.png")]:
            path.unlink(missing_ok=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

    def get(self, t: int, shape, kind: str = "frame") -> torch.Tensor | None:
        """Frame t (3, H, W) if it was finished before, else None; `shape` is what it must be."""
        path = None if self.folder is None else self.folder / f"{kind}-{t:06d}.png"
        if path is None or not path.is_file():
            return None
        try:
            image = load_image(path)[0]
        except ImageError as err:
            raise InputError(f"{path}: frame {t} in the work folder is damaged ({err}); delete it to make "
                             "it again") from None
        if image.shape != shape:
            raise InputError(f"{path}: frame {t} in the work folder is damaged ({image.shape[-1]}x"
                             f"{image.shape[-2]}, not {shape[-1]}x{shape[-2]}); delete it to make it again")
        return image

    def put(self, t: int, image: torch.Tensor, kind: str = "frame") -> torch.Tensor:
        if self.folder is not None:
            try:
                if not (self.folder / "run.json").is_file():  # the first finished frame: the folder begins
                    self.folder.mkdir(parents=True, exist_ok=True)
                    with atomic(self.folder / "run.json") as tmp:
                        Path(tmp).write_text(json.dumps(self.recipe, indent=1))
                save_image(image[None], self.folder / f"{kind}-{t:06d}.png")
            except OSError as err:
                raise WriteError(f"{self.folder}: cannot keep frame {t} there ({err.strerror or err}); the "
                                 f"frames before it are there") from None
        return image


def _describe(value):
    """A JSON-able stand-in for an argument that changes when its content does: clips, tensors and
    networks by a digest of their numbers, files and sample names by their sha256."""
    if isinstance(value, (Clip, _Tensor)):
        return value.digest()
    if isinstance(value, torch.Tensor):
        return "tensor " + hashlib.sha256(_bytes(value)).hexdigest()
    if isinstance(value, torch.nn.Module):
        digest = hashlib.sha256()
        for key, tensor in value.state_dict().items():
            digest.update(key.encode() + _bytes(tensor))
        return f"{type(value).__name__} {digest.hexdigest()}"
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    if isinstance(value, (str, Path)) and str(value).strip():
        path = Path(value).expanduser()
        try:
            return f"file {sha256_of(path if path.is_file() else sample_path(str(value)))}"
        except (OSError, NstlabError):
            return str(value)
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def _bytes(tensor: torch.Tensor) -> bytes:
    return tensor.detach().float().cpu().contiguous().numpy().tobytes()


def _whole(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _Tensor:
    """A clip given as a tensor (T, 3, H, W), read like an `open_video` clip."""

    def __init__(self, frames: torch.Tensor, fps: float):
        self.frames, self.fps = frames, fps

    def __iter__(self) -> Iterator[torch.Tensor]:
        return iter(self.frames)

    @property
    def length(self) -> int:
        return len(self.frames)

    def count(self) -> int:
        return len(self.frames)

    def first(self) -> torch.Tensor:
        return self.frames[0]

    def digest(self) -> str:
        return _describe(self.frames)


def _clip(frames, size: int | None, fps: float | None):
    """A clip to read frame by frame (an `open_video` Clip, or a tensor's `_Tensor`), checked."""
    if fps is not None and (not _finite(fps) or fps <= 0):
        raise InputError(f"fps must be a positive number, got {fps!r}")
    if isinstance(frames, (str, Path)):
        frames = open_video(frames, size=size)
    elif isinstance(frames, Clip) and size is not None:
        raise InputError("give the size to open_video, not again here")
    if isinstance(frames, Clip):
        if fps is not None:
            frames.fps = float(fps)
        return frames
    if not isinstance(frames, torch.Tensor):
        hint = " (a list of frames: torch.stack them)" if isinstance(frames, (list, tuple)) else ""
        raise InputError(f"frames must be a (T, 3, H, W) tensor, a video path or an open_video clip, got "
                         f"{type(frames).__name__}{hint}")
    video = frames.detach().float().cpu()
    if video.dim() != 4 or video.shape[1] != 3 or len(video) == 0:
        raise InputError(f"expected frames (T >= 1, 3, H, W) or a video path, got shape {tuple(video.shape)}")
    if not torch.isfinite(video).all() or video.min() < 0 or video.max() > 1:
        raise InputError("frames must be finite numbers in [0, 1]")
    return _Tensor(video if size is None else resize(video, size), float(fps or 25.0))
