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

Ready for video: `init=` may be an image (a warped previous frame), `terms=` adds image-space loss
terms beside TV (a temporal loss) whose weights live in the settings (`term_weights`), the style
Grams are kept per style size and reused by every later run (and after `set_content`), and the
extractor is the shared one from `load_vgg`, with the pooling chosen per run.
"""

from __future__ import annotations

import math
import numbers
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from . import color
from .device import autocast, check_precision, default_device, on
from .errors import DivergenceError, InputError
from .images import resize
from .losses import Settings, perceptual_loss
from .mixing import as_list, load_masks, mix_weights, one_of, resize_mask
from .progress import bar as progress_bar
from .result import Result
from .samples import resolve_image
from .targets import Targets
from .vgg import VGGFeatures, check_pooling, load_vgg

INITS = ("content", "style", "noise")
OPTIMIZERS = ("lbfgs", "adam")
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}
MAX_SIDE = 4096  # larger outputs need allow_large=True (a 10k px run asks for tens of GB)
DIVERGENCE_FACTOR = 1e3  # a loss this many times the best one under the same settings, and above
# the first one, is divergence -- unless the run had converged (best < first / DIVERGENCE_FACTOR):
# then it is L-BFGS's memory breaking down at the bottom (gradients near 0, one huge step; texture
# synthesis from relu1_1 converges 1e5x and then jumps from 3e-5 to 380), and the run goes on
# from its best image with a fresh memory
WORSE_AT_THE_END = 20.0  # an Adam run whose last loss is this many times its best went wrong


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


class StyleTransfer:
    """One content image, one or more style images, a feature extractor and live `Settings`.

    content / style: tensors, PIL images, arrays, paths or sample names (either may be None:
    without content it synthesizes texture, without style it reconstructs content). style may be
    a list: `mix` weights how much of each (equal by default), or `masks` (one per style, see
    `nstlab.mixing`) put style k on region k of the content. preserve_color: False, True or
    "histogram" (recolour the paintings with the photo's colour statistics first), or "luminance"
    (transfer only the luminance and keep the photo's colours; Gatys et al. 2017). terms:
    {name: fn(image (1, 3, H, W)) -> scalar tensor}, extra losses weighted by
    `settings.term_weights[name]` (e.g. a temporal loss for video). style_loss: which statistic
    is style (`statistics.STYLE_LOSSES`; default: the settings', "gram"), a live setting too.
    """

    def __init__(self, content=None, style=None, extractor: VGGFeatures | None = None,
                 settings: Settings | None = None, device=None, precision: str = "float32",
                 masks=None, *, mix=None, preserve_color=False, style_loss: str | None = None,
                 terms: Mapping[str, Callable[[torch.Tensor], torch.Tensor]] | None = None):
        if content is None and style is None:
            raise InputError("give a content image, a style image, or both")
        self.device = default_device(device)
        self.precision = check_precision(precision, self.device)
        self.color = color.color_mode(preserve_color)
        styles = as_list(style)
        self._style_sources = [resolve_image(s) for s in styles]
        one_of(mix, masks)
        self.mix = None if mix is None or not styles else mix_weights(mix, len(styles)).to(self.device)
        self._masks = masks
        self.terms = dict(terms or {})
        self.extractor = load_vgg(device=self.device) if extractor is None else on(extractor, self.device)
        self._grams: dict[tuple, dict] = {}  # (style size, pooling) -> {(statistic, layer): target}
        self.set_content(content)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._go = threading.Event()  # cleared while paused
        self._go.set()
        if settings is None:  # defaults, without the terms that have no image
            settings = Settings(content_weight=1.0 if content is not None else 0.0,
                                style_weight=Settings.style_weight if self.styles else 0.0,
                                style_loss=style_loss or "gram")
        elif style_loss is not None:
            settings = settings.replace(style_loss=style_loss)
        self._settings = self._checked(settings)

    def set_content(self, content) -> None:
        """A new content image (the next frame of a video); the style Grams are kept (unless
        preserve_color recolours the paintings for each photo)."""
        if content is None and self._masks is not None:
            raise InputError("masks place styles on regions of the content image: give a content image")
        self.photo = None if content is None else resolve_image(content)  # as given: its colours
        self.content, self.styles = self.photo, self._style_sources  # ... are what the optimization sees
        if self.color == "histogram" and self.photo is not None:
            self.styles = [color.match_histogram(s, self.photo) for s in self._style_sources]
        elif self.color == "luminance" and self.photo is not None:  # both grey; colours come back at the end
            self.content = color.luminance(self.photo).expand(-1, 3, -1, -1)
            self.styles = [color.luminance_images(self.photo, s)[1] for s in self._style_sources]
        self.masks = None if self._masks is None else load_masks(self._masks, len(self.styles),
                                                                 self.content.shape[-2:])
        if self.color is not None:
            self._grams.clear()  # the styles were recoloured for this content

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
            init="content", optimizer: str = "lbfgs", lr: float | None = None,
            seed: int = 0, style_scale: float = 1.0, pooling: str = "max", allow_large: bool = False,
            callback: Callable[[Step], None] | None = None, progress: bool = True) -> Result:
        """Optimize and return a `Result`.

        size: longest side of the output, or increasing sizes for coarse-to-fine (each scale
        starts from the previous result, upsampled); steps: per scale (one int for all).
        init: "content", "style", "noise", or an image tensor, array or PIL image (e.g. a warped
        previous frame), resized to the output. style_scale: the style image is resized to
        style_scale * size (bigger = larger strokes). pooling: "max" or "avg" in VGG, this run only.
        """
        sizes, counts = _schedule(size, steps, allow_large)
        init = self._start(init)
        _check_options(style_scale, optimizer, pooling, lr)
        reference = self.photo if self.photo is not None else self._style_sources[0]
        if max(sizes) > max(reference.shape[-2:]):
            which = "content" if self.photo is not None else "style"
            warnings.warn(f"the {which} image is {reference.shape[-1]}x{reference.shape[-2]}: the "
                          f"{max(sizes)} px result enlarges it (bundled samples are 512 px: `nstlab "
                          "samples` says where originals come from)", stacklevel=2)
        lr = DEFAULT_LR[optimizer] if lr is None else lr
        self._stop.clear()
        self._go.set()
        generator = torch.Generator().manual_seed(seed)
        total = sum(counts)
        run = _Run(total=total, started=time.perf_counter(), photo=self.photo, color=self.color)
        image = None
        bar = progress_bar(total=total, disable=not progress, desc="stylize", unit="step", leave=False)
        try:
            for n, s in zip(counts, sizes, strict=True):
                image = self._run_scale(run, image, n, s, init, optimizer, lr, generator,
                                        style_scale, pooling, callback, bar)
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

    def _start(self, init):
        """The start image `init` checked: a name of INITS, or an image loaded (1, 3, H, W)."""
        if not isinstance(init, str):
            return resolve_image(init)
        if init not in INITS:
            raise InputError(f"init must be one of {', '.join(INITS)} or an image (tensor, array, PIL), "
                             f"got {init!r}")
        if init == "style" and not self.styles:
            raise InputError("init='style' needs a style image")
        return "noise" if init == "content" and self.content is None else init

    def _run_scale(self, run, previous, steps, size, init, optimizer, lr, generator,
                   style_scale, pooling, callback, bar) -> torch.Tensor:
        content = None if self.content is None else resize(self.content, size).to(self.device)
        style_size = round(size * style_scale)
        styles = [resize(s, style_size).to(self.device) for s in self.styles]
        shape = (content if content is not None else resize(self.styles[0], size)).shape[-2:]
        masks = None if self.masks is None else resize_mask(self.masks, shape).to(self.device)
        if previous is not None:
            start = F.interpolate(previous, size=shape, mode="bicubic", align_corners=False)
        elif isinstance(init, torch.Tensor):
            start = F.interpolate(init, size=shape, mode="bicubic", antialias=True, align_corners=False)
        elif init == "content":
            start = content
        elif init == "style":
            start = F.interpolate(self.styles[0], size=shape, mode="bicubic", antialias=True,
                                  align_corners=False)
        else:
            start = torch.rand(1, 3, *shape, generator=generator)
        image = start.to(self.device).clamp(0, 1).requires_grad_(True)
        grams = self._grams.setdefault((style_size, pooling), {})  # kept across runs and frames
        targets = Targets(self.extractor, content, styles, masks, pooling=pooling,
                          precision=self.precision, style=grams)
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
                run.best_loss, current, first = math.inf, settings, None
            before.copy_(image.detach())
            loss, losses = self._step(opt, image, settings, targets, pooling)
            first = loss if first is None else first
            spiked = math.isfinite(loss) and loss > max(DIVERGENCE_FACTOR * run.best_loss, first)
            if spiked and run.best_loss < first / DIVERGENCE_FACTOR:  # converged, then broke down
                with torch.no_grad():
                    image.copy_(run.best)
                opt = _optimizer(optimizer, image, lr)
            elif spiked or not math.isfinite(loss):
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
        stepped = run.status == "done" and current is not None  # (a stop before step 1 took none)
        worse = stepped and optimizer == "adam" and loss > WORSE_AT_THE_END * run.best_loss  # L-BFGS's
        if stepped and (not torch.isfinite(image).all() or worse):  # first steps overshoot 20x, recover
            run.status = "diverged"  # NaN pixels after the last update, or ending far above its best
            raise DivergenceError(
                f"the optimization went wrong: its last loss was {loss:.4g}, its best {run.best_loss:.4g}"
                f"{'' if torch.isfinite(image).all() else ', and the image has NaN pixels'}; try a smaller "
                f"learning rate (lr={lr}) or L-BFGS", run.result(run.best))
        return image.detach()

    def _step(self, opt, image, settings, targets, pooling) -> tuple[float, dict[str, float]]:
        """One optimizer step = one forward + backward; returns the loss and its parts before it."""
        record = {}

        def closure():
            opt.zero_grad(set_to_none=True)
            loss, parts = self._loss(image, settings, targets, pooling)
            loss.backward()
            record["loss"], record["parts"] = loss.detach(), parts
            return loss

        opt.step(closure)
        values = torch.stack([record["loss"], *record["parts"].values()]).tolist()  # one device sync
        return values[0], dict(zip(record["parts"], values[1:], strict=True))

    def _loss(self, image, settings, targets, pooling) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The weighted loss of `image` and its parts: one forward pass through VGG."""
        with autocast(self.precision, self.device):
            features = self.extractor(image, targets.layers(settings), pooling=pooling)
        return perceptual_loss(features, image, settings, targets.content, targets.style, targets.masks,
                               self.mix, self.terms)

    def _checked(self, settings: Settings) -> Settings:
        self.extractor.check_layers([*settings.content_layers, *settings.style_layers])
        if settings.active_content_layers() and self.content is None:
            raise InputError("content layers are active but there is no content image: "
                             "give one, or set content_weight=0")
        if not (settings.active_content_layers() or settings.active_style_layers() or settings.tv_weight > 0
                or settings.active_terms()):
            raise InputError("every loss weight is 0: there is nothing to optimize (the content, style "
                             "or TV weight must be > 0)")
        if settings.active_style_layers() and not self.styles:
            raise InputError("style layers are active but there is no style image: "
                             "give one, or set style_weight=0")
        if settings.style_loss == "patch" and settings.active_style_layers():
            shallow = [n for n in settings.active_style_layers() if _poolings(n) < 2]
            if shallow:
                raise InputError(f"style_loss='patch' searches 3x3 patches from block 3 on (Li & Wand: "
                                 f"relu3_1, relu4_1); {', '.join(shallow)}: too many positions, leave it out")
            if self.mix is not None and len(self.styles) > 1:
                raise InputError("the patch loss takes each patch from one painting: mix weights do not "
                                 "apply (give masks to say where each painting goes, or another style_loss)")
        unknown = [n for n in settings.term_weights if n not in self.terms]
        if unknown:
            raise InputError(f"no loss term named {', '.join(map(repr, unknown))}; "
                             f"terms given: {', '.join(self.terms) or 'none'}")
        return settings


@dataclass
class _Run:
    """Book-keeping of one `run()` across its scales."""

    total: int
    started: float
    photo: torch.Tensor | None  # the content as given: its colours come back for "luminance"
    color: str | None
    steps: int = 0
    status: str = "done"
    history: list = field(default_factory=list)
    best: torch.Tensor | None = None
    best_loss: float = math.inf

    def result(self, image: torch.Tensor) -> Result:
        image = image.detach().float().cpu().clamp(0, 1)
        if self.color == "luminance" and self.photo is not None:
            image = color.with_colors_of(image, self.photo)
        return Result(image, self.status, self.steps, time.perf_counter() - self.started,
                      self.history, method="gatys")


def _poolings(layer: str) -> int:
    """How many pooling layers come before `layer`'s output ("relu3_1": 2, "pool3": 3)."""
    block = int(layer[4]) if layer[4:5].isdigit() else 1
    return block if layer.startswith("pool") else block - 1


def _schedule(size, steps, allow_large: bool) -> tuple[list[int], list[int]]:
    """(sizes, steps per size) of a run: one size or growing sizes (coarse-to-fine), one step
    count for all or one per size."""
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    counts = list(steps) if isinstance(steps, (list, tuple)) else [steps] * len(sizes)
    if not sizes or len(counts) != len(sizes):
        raise InputError(f"{len(sizes)} sizes but {len(counts)} step counts: give one or more sizes "
                         "and a step count for each (or one for all)")
    for name, values in (("size", sizes), ("steps", counts)):
        if not all(isinstance(v, numbers.Integral) and v >= 1 for v in values):
            raise InputError(f"{name} must be whole numbers >= 1, got {values}")
    if sizes != sorted(sizes):
        raise InputError(f"coarse-to-fine sizes must grow, got {sizes}")
    if max(sizes) > MAX_SIDE and not allow_large:
        raise InputError(f"{max(sizes)} px is larger than {MAX_SIDE} px (memory grows with the square of "
                         "the size); allow_large=True / --allow-large if you mean it")
    return sizes, counts


def _check_options(style_scale: float, optimizer: str, pooling: str, lr: float | None) -> None:
    if not (math.isfinite(style_scale) and style_scale > 0):
        raise InputError(f"style_scale must be a finite number > 0, got {style_scale}")
    if optimizer not in OPTIMIZERS:
        raise InputError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    check_pooling(pooling)
    if lr is not None and not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
        raise InputError(f"lr (the learning rate) must be a finite number > 0, got {lr}")


def _optimizer(name: str, image: torch.Tensor, lr: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam([image], lr=lr)
    # one function evaluation per step(); the history survives across calls
    return torch.optim.LBFGS([image], lr=lr, max_iter=1, history_size=100,
                             tolerance_grad=0.0, tolerance_change=0.0)


def stylize(content, style, *, steps: int | Sequence[int] = 100, size: int | Sequence[int] = 256,
            settings: Settings | None = None, style_loss: str | None = None, mix=None, masks=None,
            preserve_color=False, init="content", optimizer: str = "lbfgs", lr: float | None = None,
            seed: int = 0,
            style_scale: float = 1.0, pooling: str = "max", allow_large: bool = False,
            extractor: VGGFeatures | None = None, device=None, precision: str = "float32",
            callback: Callable[[Step], None] | None = None, progress: bool = True) -> Result:
    """One call: `stylize("tubingen", "starry_night").save("out.png")`.

    style: one image or a list (with `mix` weights or `masks`); preserve_color: False, True /
    "histogram" or "luminance"; settings: layers and weights (`Settings`); style_loss: which
    statistic is style ("gram", "meanstd", "mmd", "patch", ...: `statistics.py`); extractor: a VGG of
    your own (default: `load_vgg()`); device: None = the default device. The rest as in
    `StyleTransfer.run`.
    """
    transfer = StyleTransfer(content, style, extractor, settings, device, precision, masks,
                             mix=mix, preserve_color=preserve_color, style_loss=style_loss)
    return transfer.run(steps, size, init=init, optimizer=optimizer, lr=lr, seed=seed,
                        style_scale=style_scale, pooling=pooling, allow_large=allow_large,
                        callback=callback, progress=progress)
