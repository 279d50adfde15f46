"""`apply`: stylize an image with a trained feedforward network, one forward pass, any kind.

The feedforward twin of `nstlab.stylize`, with the same words: `style` (which style), `mix` (how
much of each), `masks` (where each goes), `preserve_color`, `size`, `device`; it returns the same
`Result`.

    apply("johnson-starry_night", photo)                              one style per network
    apply("cin-6styles", photo, style="the_scream")                   a style by name or index
    apply("cin-6styles", photo, style=["udnie", "kandinsky"], mix=[1, 1])
    apply("adain", photo, style="any_painting.jpg", alpha=0.8)        any style image
    apply("adain", photo, style=[a, b], masks=[sky, 1 - sky])        regions
    apply("johnson-starry_night", "photos/")                          a folder: a list of Results

`prepare` loads, moves and casts a network once; a caller running it on many images (a folder, a
video's frames) passes the prepared network, which `apply` then uses as it is.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import time
import warnings
from pathlib import Path

import torch

from .. import color
from ..device import DTYPES, autocast, cast, check_precision, default_device, device_of, on
from ..errors import InputError
from ..images import image_files, resize
from ..mixing import as_list, composite, load_masks, mix_weights, one_of
from ..progress import bar as progress_bar
from ..result import Result
from ..samples import resolve_image
from .adain import AdaIN
from .johnson import TransformerNet
from .pretrained import load_model, model_info

MAX_SIDE = 1024  # without size=, larger photos are stylized at this longest side (with a warning)


def apply(model, content, style=None, *, size: int | None = None, mix=None, masks=None,
          alpha: float = 1.0, preserve_color=False, device=None, precision: str = "float32",
          progress: bool = True) -> Result | list[Result]:
    """Run a trained network on `content` and return a `Result` (a list of them for many images).

    model: a shipped model's name (`nstlab models`), a model file, or a loaded network (used as
    it is when it is on `device` already; else a copy runs there; its train/eval mode is kept).
    content: a path, sample name, PIL image, array or tensor; or a list of them, or a folder of
    images (sorted by name): then a list of Results, with a progress bar. size: the longest side
    of the photo and the style images (default: the photo's own, at most MAX_SIDE = 1024 px: a 12
    MP photo at full size takes minutes and gigabytes, and the strokes come out tiny). style:
    AdaIN: a style image or a list of them; a conditional network: a style name or index, or a
    list of them (default: all its styles when `mix` or `masks` are given, else the first); a
    one-style network: nothing. mix: one weight per listed style (normalized). masks: one per
    style, region k takes style k (for a conditional network the outputs are composited; where
    the masks cover less than 1 the photo shows). alpha (AdaIN): 0 = the photo, 1 = full style.
    preserve_color: True / "histogram" or "luminance" (see `nstlab.color`). device: None = the
    default device (`nstlab.default_device`). precision: "bfloat16" runs the network in bfloat16
    (twice as fast on CPUs with AVX-512 BF16, within half a grey level on average), "float16" on
    CUDA.
    """
    net = prepare(model, device, precision)
    if isinstance(content, (list, tuple)) or (isinstance(content, (str, os.PathLike)) and str(content)
                                              and Path(content).expanduser().is_dir()):
        sources = list(content) if isinstance(content, (list, tuple)) else image_files(content)
        bar = progress_bar(sources, desc="apply", unit="image", disable=not progress, leave=False)
        return [_apply(net, c, style, size, mix, masks, alpha, preserve_color, precision) for c in bar]
    return _apply(net, content, style, size, mix, masks, alpha, preserve_color, precision)


def prepare(model, device=None, precision: str = "float32") -> torch.nn.Module:
    """The network to run: loaded (a name or file), on `device` (None: the default device) and in
    `precision`, each at most one copy of the caller's network. A caller running it on many images
    (a folder, a video) prepares it once; `apply` then uses it as it is."""
    net = model if isinstance(model, torch.nn.Module) else load_model(model, device=device)
    net = on(net, default_device(device))
    check_precision(precision, device_of(net))
    return in_precision(net, precision)


@torch.no_grad()
def _apply(net, content, style, size, mix, masks, alpha, preserve_color, precision) -> Result:
    """One image through a prepared network."""
    began = time.perf_counter()
    image = resolve_image(content, size)
    if size is None and max(image.shape[-2:]) > MAX_SIDE:
        warnings.warn(f"the photo is {image.shape[-1]}x{image.shape[-2]}: stylizing at {MAX_SIDE} px on the "
                      "longest side (size= / --size for another size)", stacklevel=3)
        image = resize(image, MAX_SIDE)
    size = size or max(image.shape[-2:])  # the style images at the photo's size
    image = image.to(device_of(net))
    mode = color.color_mode(preserve_color)
    one_of(mix, masks)
    precise = (contextlib.nullcontext() if isinstance(net, TransformerNet)  # in its own dtype already
               else autocast(precision, image.device))
    was_training = net.training
    net.eval()
    try:
        with precise:
            if isinstance(net, AdaIN):
                if style is None or as_list(style) == []:
                    raise InputError("an AdaIN network needs a style image: style=PATH, sample name or "
                                     "tensor")
                styles = [resolve_image(s, size).to(image.device) for s in as_list(style)]
                output = net(image, styles, alpha=alpha, mix=mix, masks=masks, preserve_color=mode)
            elif isinstance(net, TransformerNet):
                if alpha != 1.0:
                    raise InputError("alpha is AdaIN's content-style trade-off; this network has none")
                output = _transformer(net, image, style, mix, masks)
                if mode == "histogram":
                    output = color.match_histogram(output, image)
                elif mode == "luminance":
                    output = color.with_colors_of(output, image)
            else:
                raise InputError(f"cannot apply a {type(net).__name__}: expected a TransformerNet or AdaIN")
    finally:
        net.train(was_training)
    return Result(output.float().cpu().clamp(0, 1), seconds=time.perf_counter() - began,
                  method=model_info(net).name)


def in_precision(net: torch.nn.Module, precision: str) -> torch.nn.Module:
    """The network to run in `precision`: a TransformerNet as a copy cast to it (faster than
    autocast, which casts the weights and activations around every layer; docs/benchmarks.md);
    itself in float32, when it is in that dtype already, or when it is not a TransformerNet (AdaIN
    keeps float32 statistics under autocast)."""
    dtype = DTYPES[check_precision(precision)]
    return cast(net, dtype) if isinstance(net, TransformerNet) else net


def _transformer(network: TransformerNet, image: torch.Tensor, style, mix, masks) -> torch.Tensor:
    """A Johnson (one style) or conditional (N styles) network on (1, 3, H, W) float32, run in the
    network's own dtype; the result in float32."""
    dtype = next(network.parameters()).dtype

    def run(*style) -> torch.Tensor:  # style: an index or mixing weights (N,)
        style = [w.to(dtype) if isinstance(w, torch.Tensor) else w for w in style]
        return network(image.to(dtype), *style).float()

    if network.norm != "conditional":
        if style is not None or mix is not None or masks is not None:
            raise InputError("this network paints one style: style, mix and masks are for conditional "
                             "networks (cin) and AdaIN")
        return run()
    names = list(model_info(network).styles)
    chosen = as_list(style)
    if not chosen:
        chosen = list(range(network.styles)) if mix is not None or masks is not None else [0]
    indices = [_style_index(s, names, network.styles) for s in chosen]
    if masks is not None:  # each region its own style, composited; uncovered parts keep the photo
        m = load_masks(masks, len(indices), image.shape[-2:]).to(image)  # (K, 1, H, W)
        return composite(m, [run(k) for k in indices], image)
    weights = torch.zeros(network.styles).index_add_(0, torch.tensor(indices), mix_weights(mix, len(indices)))
    return run(weights.to(image.device))


def _style_index(style, names: list[str], count: int) -> int:
    if isinstance(style, numbers.Integral):
        if not 0 <= style < count:
            raise InputError(f"style index {style} out of range: the network has {count} styles, "
                             f"0 to {count - 1}")
        return int(style)
    if isinstance(style, str) and style in names:
        return names.index(style)
    if isinstance(style, str) and style.isdigit():
        return _style_index(int(style), names, count)
    known = ", ".join(names) if names else f"indices 0 to {count - 1}"
    raise InputError(f"unknown style {style!r}; this network has {known}")
