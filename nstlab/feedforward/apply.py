"""`apply`: stylize an image with a trained feedforward network, one forward pass, any kind.

The feedforward twin of `nstlab.stylize`, with the same words: `style` (which style), `mix` (how
much of each), `masks` (where each goes), `preserve_color`, `size`, `device`; it returns the same
`Result`.

    apply("johnson-starry_night", photo)                              one style per network
    apply("cin-6styles", photo, style="the_scream")                   a style by name or index
    apply("cin-6styles", photo, style=["udnie", "kandinsky"], mix=[1, 1])
    apply("adain", photo, style="any_painting.jpg", alpha=0.8)        any style image
    apply("adain", photo, style=[a, b], masks=[sky, 1 - sky])        regions
"""

from __future__ import annotations

import contextlib
import numbers
import time
import warnings

import torch

from .. import color
from ..device import DTYPES, autocast, cast, check_precision, default_device, device_of, on
from ..errors import InputError
from ..images import resize
from ..mixing import as_list, composite, load_masks, mix_weights, one_of
from ..result import Result
from ..samples import resolve_image
from .adain import AdaIN
from .johnson import TransformerNet
from .pretrained import load_model

MAX_SIDE = 1024  # without size=, larger photos are stylized at this longest side (with a warning)


@torch.no_grad()
def apply(model, content, style=None, *, size: int | None = None, mix=None, masks=None,
          alpha: float = 1.0, preserve_color=False, device=None, precision: str = "float32") -> Result:
    """Run a trained network on `content` and return a `Result`.

    model: a shipped model's name (`nstlab models`), a model file, or a loaded network (used as
    it is: not moved, its train/eval mode kept; a copy runs on another `device`).
    content: a path, sample name, PIL image, array or tensor; size: its longest side, and the
    style images' (default: the photo's own, at most MAX_SIDE = 1024 px: a 12 MP photo at full
    size takes minutes and gigabytes, and the strokes come out tiny). style: AdaIN: a style
    image or a list of them; a conditional network: a style name or index, or a list of them
    (default: all its styles when `mix` or `masks` are given, else the first); a one-style
    network: nothing. mix: one weight per listed style (normalized). masks: one per style,
    region k takes style k (for a conditional network the outputs are composited; where the
    masks cover less than 1 the photo shows).
    alpha (AdaIN): 0 = the photo, 1 = full style. preserve_color: True / "histogram" or
    "luminance" (see `nstlab.color`). precision: "bfloat16" runs the convolutions in bfloat16
    (twice as fast on CPUs with AVX-512 BF16, within half a grey level on average; see
    `nstlab.device.autocast`), "float16" on CUDA.
    """
    began = time.perf_counter()
    net = model if isinstance(model, torch.nn.Module) else load_model(model)
    net = on(net, device_of(net) if device is None else default_device(device))
    image = resolve_image(content, size)
    if size is None and max(image.shape[-2:]) > MAX_SIDE:
        warnings.warn(f"the photo is {image.shape[-1]}x{image.shape[-2]}: stylizing at {MAX_SIDE} px on the "
                      "longest side (size= / --size for another size)", stacklevel=2)
        image = resize(image, MAX_SIDE)
    size = size or max(image.shape[-2:])  # the style images at the photo's size
    image = image.to(device_of(net))
    mode = color.color_mode(preserve_color)
    one_of(mix, masks)
    precise = autocast(precision, image.device)  # checks the precision first
    if isinstance(net, TransformerNet):  # all in that precision: no casts around every layer
        net, precise = in_precision(net, precision), contextlib.nullcontext()
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
    name = getattr(net, "name", None) or type(net).__name__
    return Result(output.float().cpu().clamp(0, 1), seconds=time.perf_counter() - began, method=name)


def in_precision(net: torch.nn.Module, precision: str) -> torch.nn.Module:
    """The network to run in `precision`: a TransformerNet as a copy cast to it (bfloat16 on a CPU:
    22 ms a 256x192 frame for a shipped Johnson network, against 28 under autocast, which casts the
    weights and activations around every layer, and 50 in float32; within 0.3 grey levels of
    float32 on average); itself in float32, when it is in that dtype already, or when it is not a
    TransformerNet (AdaIN keeps float32 statistics under autocast). A caller running it on many
    images (a video) casts it once."""
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
    names = list(getattr(network, "style_names", None) or [])
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
