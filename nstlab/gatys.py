"""Gatys style transfer: optimize the pixels of an image until its VGG features match.

Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks" (CVPR 2016);
coarse-to-fine and several styles on masked regions from Gatys et al., "Controlling Perceptual
Factors in Neural Style Transfer" (CVPR 2017). The image starts as the content photo, the style
painting or noise, and L-BFGS or Adam lowers `losses.perceptual_loss` step by step.

A step costs one forward + backward pass through VGG, cut after the deepest layer in use: the
targets (content activations, style Gram matrices) are computed once, without gradients, and
only again for a layer that a settings change switches on. Settings (layers, weights) may change
between steps, from any thread: `update()` swaps in a new immutable `Settings` under a lock and
each step works on the snapshot it took. `callback(Step)` sees every step, `pause()` / `resume()`
hold the run between steps, `stop()` ends it after the current step, Ctrl-C returns the best
image so far, and a NaN or exploding loss raises `DivergenceError` (carrying the best image)
instead of returning garbage.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .images import resize, save_image, to_pil
from .losses import Settings, gram_matrix, perceptual_loss, resize_mask
from .samples import resolve_image
from .vgg import VGGFeatures, load_vgg

INITS = ("content", "style", "noise")
OPTIMIZERS = ("lbfgs", "adam")
PRECISIONS = ("float32", "bfloat16", "float16")
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}
DIVERGENCE_FACTOR = 1e3  # a loss this many times the best one under the same settings = diverged


def default_device(device=None) -> torch.device:
    """`device` if given (and not "auto"), else CUDA, else Apple MPS, else CPU."""
    if device not in (None, "auto"):
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class Step:
    """What a callback sees after each optimizer step."""

    step: int  # 1-based, counted over all scales
    total: int  # steps in the whole run
    size: int  # longest side at the current scale
    loss: float  # weighted total loss, evaluated before this step's update
    losses: dict[str, float]  # unweighted parts: "content:relu4_2", "style:relu1_1", ..., "tv"
    image: torch.Tensor  # (1, 3, H, W) the current image, live: clone it to keep it
    settings: Settings  # the snapshot this step used


@dataclass
class Result:
    image: torch.Tensor  # (1, 3, H, W) float32 on the CPU, in [0, 1]
    status: str  # "done", "stopped" (stop() was called) or "interrupted" (Ctrl-C: best image)
    steps: int  # steps taken
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)  # per step: parts + "loss"

    def pil(self):
        return to_pil(self.image)

    def save(self, path):
        return save_image(self.image, path)


class DivergenceError(RuntimeError):
    """The loss became NaN/inf or exploded; `.result` holds the best image found before."""

    def __init__(self, message: str, result: Result):
        super().__init__(message)
        self.result = result


class StyleTransfer:
    """One content image, one or more style images, a feature extractor and live `Settings`.

    content / style: tensors, PIL images, arrays, paths or sample names (either may be None:
    without content it synthesizes texture, without style it reconstructs content). style may be
    a list: without masks the result mixes the styles; masks (one per style: (H, W) tensors in
    [0, 1], or images whose brightness is the mask) put style k on region k of the content.
    """

    def __init__(self, content=None, style=None, extractor: VGGFeatures | None = None,
                 settings: Settings | None = None, device=None, precision: str = "float32",
                 masks=None):
        if content is None and style is None:
            raise ValueError("give a content image, a style image, or both")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.device = default_device(device)
        self.precision = precision
        self.content = None if content is None else resolve_image(content)
        styles = [] if style is None else style if isinstance(style, (list, tuple)) else [style]
        self.styles = [resolve_image(s) for s in styles]
        self.masks = None if masks is None else _load_masks(masks, len(self.styles), self.content)
        self.extractor = (extractor or load_vgg()).to(self.device)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._go = threading.Event()  # cleared while paused
        self._go.set()
        if settings is None:  # defaults, without the terms that have no image
            settings = Settings(content_weight=1.0 if content is not None else 0.0,
                                style_weight=Settings.style_weight if self.styles else 0.0)
        self._settings = self._checked(settings)

    # -- live controls (any thread) ------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The current settings: an immutable snapshot."""
        return self._settings

    def update(self, settings: Settings | None = None, **changes) -> Settings:
        """Replace the settings (whole, or some fields); takes effect at the next step."""
        with self._lock:
            new = self._checked((settings or self._settings).replace(**changes))
            self._settings = new
        return new

    def stop(self) -> None:
        """Ask a running `run()` to return after the current step (also when paused)."""
        self._stop.set()
        self._go.set()

    def pause(self) -> None:
        """Hold a running `run()` before its next step, until `resume()` or `stop()`."""
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    # -- the optimization ----------------------------------------------------------------------

    def run(self, steps: int | Sequence[int] = 100, size: int | Sequence[int] = 256, *,
            init: str = "content", optimizer: str = "lbfgs", lr: float | None = None,
            seed: int = 0, style_scale: float = 1.0,
            callback: Callable[[Step], None] | None = None, progress: bool = True) -> Result:
        """Optimize and return a `Result`.

        size: longest side of the output, or increasing sizes for coarse-to-fine (each scale
        starts from the previous result, upsampled); steps: per scale (one int for all).
        style_scale: the style image is resized to style_scale * size (bigger = larger strokes).
        """
        sizes = [size] if isinstance(size, int) else list(size)
        counts = [steps] * len(sizes) if isinstance(steps, int) else list(steps)
        if len(counts) != len(sizes):
            raise ValueError(f"{len(sizes)} sizes but {len(counts)} step counts")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        if init == "content" and self.content is None:
            init = "noise"
        lr = DEFAULT_LR[optimizer] if lr is None else lr
        self._stop.clear()
        self._go.set()
        generator = torch.Generator().manual_seed(seed)
        total = sum(counts)
        run = _Run(total=total, started=time.perf_counter())
        image = None
        bar = tqdm(total=total, disable=not progress, desc="stylize", unit="step", leave=False)
        try:
            for n, s in zip(counts, sizes, strict=True):
                image = self._run_scale(run, image, n, s, init, optimizer, lr, generator,
                                        style_scale, callback, bar)
                if run.status != "done":
                    break
        except KeyboardInterrupt:
            run.status = "interrupted"
        finally:
            bar.close()
        if run.status == "interrupted" and run.best is not None:
            image = run.best
        if image is None:  # interrupted before the first step
            raise KeyboardInterrupt
        return run.result(image)

    def _run_scale(self, run, previous, steps, size, init, optimizer, lr, generator,
                   style_scale, callback, bar) -> torch.Tensor:
        content = None if self.content is None else resize(self.content, size).to(self.device)
        styles = [resize(s, round(size * style_scale)).to(self.device) for s in self.styles]
        shape = (content if content is not None else resize(self.styles[0], size)).shape[-2:]
        masks = None if self.masks is None else resize_mask(self.masks, shape).to(self.device)
        if previous is not None:
            start = F.interpolate(previous, size=shape, mode="bicubic", align_corners=False)
        elif init == "content":
            start = content
        elif init == "style":
            start = F.interpolate(self.styles[0], size=shape, mode="bicubic", antialias=True,
                                  align_corners=False)
        else:
            start = torch.rand(1, 3, *shape, generator=generator)
        image = start.to(self.device).clamp(0, 1).requires_grad_(True)
        targets = _Targets(self, content, styles, masks)
        opt = current = None
        run.best, run.best_loss = image.detach().clone(), math.inf
        before = torch.empty_like(run.best)  # the image a step's loss was evaluated at

        for _ in range(steps):
            self._go.wait()  # paused: hold here until resume() or stop()
            if self._stop.is_set():
                run.status = "stopped"
                break
            settings = self._settings  # one consistent snapshot for this step
            if settings is not current:
                targets.ensure(settings)
                opt = _optimizer(optimizer, image, lr)  # the objective changed: fresh history
                run.best_loss, current = math.inf, settings
            before.copy_(image.detach())
            loss, losses = self._step(opt, image, settings, targets)
            if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * run.best_loss:
                run.status = "diverged"
                raise DivergenceError(
                    f"the optimization diverged at step {run.steps + 1} (loss {loss:.4g}, best "
                    f"{run.best_loss:.4g}); try a smaller learning rate (lr={lr}) or Adam",
                    run.result(run.best))
            if loss < run.best_loss:  # the loss belongs to the image before this step's update
                run.best_loss = loss
                run.best, before = before, run.best
            with torch.no_grad():
                image.clamp_(0, 1)
            run.steps += 1
            run.history.append({**losses, "loss": loss})
            bar.update()
            bar.set_postfix(loss=f"{loss:.4g}", size=size, refresh=False)
            if callback is not None:
                callback(Step(run.steps, run.total, size, loss, losses, image.detach(), settings))
        return image.detach()

    def _step(self, opt, image, settings, targets) -> tuple[float, dict[str, float]]:
        """One optimizer step = one forward + backward; returns the loss and its parts before it."""
        record = {}

        def closure():
            opt.zero_grad(set_to_none=True)
            with self._autocast():
                features = self.extractor(image, targets.layers(settings))
            loss, parts = perceptual_loss(features, image, settings, targets.content, targets.style,
                                          targets.masks)
            loss.backward()
            record["loss"], record["parts"] = loss.detach(), parts
            return loss

        opt.step(closure)
        values = torch.stack([record["loss"], *record["parts"].values()]).tolist()  # one device sync
        return values[0], dict(zip(record["parts"], values[1:], strict=True))

    def _autocast(self):
        if self.precision == "float32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bfloat16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _checked(self, settings: Settings) -> Settings:
        self.extractor.check_layers([*settings.content_layers, *settings.style_layers])
        if settings.active_content_layers() and self.content is None:
            raise ValueError("content layers are active but there is no content image: "
                             "give one, or set content_weight=0")
        if settings.active_style_layers() and not self.styles:
            raise ValueError("style layers are active but there is no style image: "
                             "give one, or set style_weight=0")
        return settings


@dataclass
class _Run:
    """Book-keeping of one `run()` across its scales."""

    total: int
    started: float
    steps: int = 0
    status: str = "done"
    history: list = field(default_factory=list)
    best: torch.Tensor | None = None
    best_loss: float = math.inf

    def result(self, image: torch.Tensor) -> Result:
        return Result(image.detach().float().cpu().clamp(0, 1), self.status, self.steps,
                      time.perf_counter() - self.started, self.history)


class _Targets:
    """Content activations and style Gram matrices (K, C, C) at one scale, computed once per layer."""

    def __init__(self, transfer: StyleTransfer, content, styles, masks):
        self.transfer, self.content_image, self.style_images = transfer, content, styles
        self.masks = masks  # (K, 1, H, W) or None
        self.content: dict[str, torch.Tensor] = {}
        self.style: dict[str, torch.Tensor] = {}

    @staticmethod
    def layers(settings: Settings) -> list[str]:
        return [*settings.active_content_layers(), *settings.active_style_layers()]

    @torch.no_grad()
    def ensure(self, settings: Settings) -> None:
        t = self.transfer
        missing = [n for n in settings.active_content_layers() if n not in self.content]
        if missing:
            with t._autocast():
                features = t.extractor(self.content_image, missing)
            self.content.update({n: f.float() for n, f in features.items()})
        missing = [n for n in settings.active_style_layers() if n not in self.style]
        if missing:
            grams = {n: [] for n in missing}
            for image in self.style_images:  # each at its own size and aspect
                with t._autocast():
                    features = t.extractor(image, missing)
                for n, f in features.items():
                    grams[n].append(gram_matrix(f.float()))
            self.style.update({n: torch.cat(g) for n, g in grams.items()})


def _load_masks(masks, count: int, content) -> torch.Tensor:
    """One mask per style -> (K, 1, H, W) in [0, 1]; images count by their brightness."""
    masks = list(masks) if isinstance(masks, (list, tuple)) else [masks]
    if len(masks) != count:
        raise ValueError(f"give one mask per style image: {count} style(s) but {len(masks)} mask(s)")
    if content is None:
        raise ValueError("masks place styles on regions of the content image: give a content image")
    loaded = []
    for m in masks:
        if isinstance(m, (torch.Tensor, np.ndarray)) and np.ndim(m) == 2:  # (H, W) values
            m = torch.as_tensor(m, dtype=torch.float32)
        else:  # an image: its brightness
            m = resolve_image(m).mean(1)
        m = m.reshape(1, 1, *m.shape[-2:])
        if m.min() < 0 or m.max() > 1:
            raise ValueError("mask values must lie in [0, 1]")
        loaded.append(resize_mask(m, content.shape[-2:]))
    return torch.cat(loaded)


def _optimizer(name: str, image: torch.Tensor, lr: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam([image], lr=lr)
    # one function evaluation per step(); the history survives across calls
    return torch.optim.LBFGS([image], lr=lr, max_iter=1, history_size=100,
                             tolerance_grad=0.0, tolerance_change=0.0)


def stylize(content, style, *, steps: int | Sequence[int] = 100, size: int | Sequence[int] = 256,
            settings: Settings | None = None, extractor: VGGFeatures | None = None, device=None,
            precision: str = "float32", masks=None, **run_options) -> Result:
    """One call: `stylize("tubingen", "starry_night").save("out.png")`. Options as in `StyleTransfer.run`."""
    transfer = StyleTransfer(content, style, extractor, settings, device, precision, masks)
    return transfer.run(steps, size, **run_options)
