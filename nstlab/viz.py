"""Pictures for learning style transfer: images, what VGG sees, Gram matrices, loss curves, trade-offs.

Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks" (CVPR 2016),
explain the method with pictures like these: the feature maps of a layer (the content
representation), the Gram matrices of channel co-activations (the style representation), how the
loss falls during the optimization, and grids of results that trade content against style
(their Fig. 3: style weight x layers matched).

Every function returns its matplotlib Figure so it can be restyled or saved. Each one draws into a
given `fig=` (cleared first; `ax=` for the single-axes `loss_curves`) and only without one creates
a figure with pyplot, so it shows inline in notebooks. With a given figure nothing touches pyplot:
live widgets draw into a plain `matplotlib.figure.Figure()` from a worker thread and turn it into
PNG bytes with `png_bytes`. Images may be tensors (1, 3, H, W) or (3, H, W) in [0, 1], PIL images
or (H, W, 3) arrays.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from PIL import Image

from .errors import InputError
from .images import to_pil
from .losses import part_group


def show_images(images, titles=None, *, ncols=None, size=3.0, fig=None) -> Figure:
    """A row (or `ncols`-wide grid) of images, `size` inches each; images: a list or {title: image}."""
    if isinstance(images, Mapping):
        if titles is not None:
            raise InputError("give titles either as the keys of a dict of images or as titles=, not both")
        titles, images = list(images), list(images.values())
    images = list(images)
    if not images:
        raise InputError("no images to show")
    titles = [None] * len(images) if titles is None else list(titles)
    if len(titles) != len(images):
        raise InputError(f"{len(images)} images but {len(titles)} titles")
    ncols = min(ncols or len(images), len(images))
    nrows = math.ceil(len(images) / ncols)
    fig = prepared_figure(fig, (size * ncols, size * nrows + 0.3))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, image, title in zip(axes, images, titles, strict=False):  # axes may outnumber images
        ax.imshow(rgb_array(image))
        if title is not None:
            ax.set_title(str(title))
    for ax in axes:
        ax.set_axis_off()
    return fig


def feature_maps(features, channels=16, *, ncols=8, size=1.5, cmap="viridis", title=None,
                 fig=None) -> Figure:
    """One layer's activations (1, C, H, W) or (C, H, W), one panel per channel, each its own colour scale.

    channels: an int n for the n most active channels (largest mean activation first), or a list
    of channel indices.
    """
    maps = _tensor(features)
    if maps.dim() == 4:
        if maps.shape[0] != 1:
            raise InputError(f"feature_maps shows one image, got a batch of {maps.shape[0]}")
        maps = maps[0]
    if maps.dim() != 3:
        raise InputError(f"expected features (1, C, H, W) or (C, H, W), got {tuple(maps.shape)}")
    c = maps.shape[0]  # maps: (C, H, W)
    if isinstance(channels, int):
        if channels < 1:
            raise InputError(f"channels must be at least 1, got {channels}")
        order = torch.argsort(maps.mean(dim=(1, 2)), descending=True, stable=True)
        channels = order[:channels].tolist()
    else:
        channels = [int(i) for i in channels]
        bad = [i for i in channels if not 0 <= i < c]
        if bad or not channels:
            raise InputError(f"channel indices must lie in 0..{c - 1}, got {channels}")
    ncols = min(ncols, len(channels))
    nrows = math.ceil(len(channels) / ncols)
    fig = prepared_figure(fig, (size * ncols, size * nrows + (0.5 if title else 0.2)))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, i in zip(axes, channels, strict=False):  # axes may outnumber channels
        ax.imshow(maps[i].numpy(), cmap=cmap)  # (H, W), autoscaled to this channel
        ax.set_title(f"ch {i}", fontsize="small")
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig


def gram_heatmaps(grams, *, channels=64, size=4.0, cmap="magma", fig=None) -> Figure:
    """Gram matrices {title: (C, C) or (1, C, C)} side by side on one colour scale, so they compare.

    Only the first `channels` channels are shown (None: all). The colours are on a log scale over
    four decades below the largest entry shown (a few channel pairs are hundreds of times larger
    than the rest: on a linear scale everything else would be black); one colorbar serves all.
    """
    if not grams:
        raise InputError("no Gram matrices to show")
    if channels is not None and channels < 1:
        raise InputError(f"channels must be at least 1 (or None for all), got {channels}")
    shown = {}
    for name, gram in grams.items():
        g = _tensor(gram)
        if g.dim() == 3 and g.shape[0] == 1:
            g = g[0]
        if g.dim() != 2 or g.shape[0] != g.shape[1]:
            raise InputError(f"{name!r}: expected a Gram matrix (C, C) or (1, C, C), got {tuple(g.shape)}")
        shown[name] = (g[:channels, :channels].numpy(), g.shape[0])  # ((c, c), C)
    vmax = max(float(np.abs(g).max()) for g, _ in shown.values()) or 1.0
    norm = LogNorm(vmin=vmax * 1e-4, vmax=vmax, clip=True)  # (entries <= 0: the lowest colour)
    fig = prepared_figure(fig, (size * len(shown) + 1.0, size + 0.4))
    axes = fig.subplots(1, len(shown), squeeze=False).ravel()
    for ax, (name, (g, total)) in zip(axes, shown.items(), strict=True):
        image = ax.imshow(np.clip(g, vmax * 1e-4, None), cmap=cmap, norm=norm, interpolation="nearest")
        label = f"{name}\n(first {len(g)} of {total} channels)" if len(g) < total else str(name)
        ax.set_title(label)
        ax.set_xlabel("channel")
        ax.set_ylabel("channel")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="mean co-activation (log scale)")
    return fig


def loss_curves(history, *, per_layer=True, ax=None) -> Figure:
    """Loss per step on a log scale, from `Result.history` ([{"content:relu4_2": ..., "loss": ...}]).

    per_layer: one line per part (the weighted total "loss" thick black); else one per group:
    content and style summed over their layers, tv and the total. Parts are unweighted; a part
    that equals the total (a one-part loss) is named in the total's label instead of hidden under
    it. The axis spans at most six decades below the largest value: a content loss that starts at
    0 (init="content") would otherwise stretch it down to 1e-9 and flatten every curve.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 3.5), layout="constrained")
    else:
        fig = ax.figure
        ax.clear()
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if not history:
        ax.text(0.5, 0.5, "no steps yet", transform=ax.transAxes, ha="center", va="center", color="gray")
        return fig
    steps = np.arange(1, len(history) + 1)
    lines = _lines(history, str if per_layer else part_group)
    total = lines.get("loss")
    same = [k for k, v in lines.items() if k != "loss" and total is not None
            and np.allclose(v, total, rtol=1e-6, equal_nan=True)]
    for key, values in lines.items():
        if key in same:
            continue
        label = " = ".join(["loss", *same]) if key == "loss" else key
        style = {"color": "black", "linewidth": 2.5, "zorder": 3} if key == "loss" else {"linewidth": 1.2}
        ax.plot(steps, values, label=label, **style)
    ax.set_yscale("log", nonpositive="mask")  # a zero (content loss at step 1 from init="content"): a gap
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in lines.values()])
    if finite.size:
        ax.set_ylim(max(finite.min(), finite.max() * 1e-6) / 1.5, finite.max() * 1.5)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return fig


def tradeoff_grid(images, row_labels, col_labels, *, size=2.5, fig=None) -> Figure:
    """A grid of results, images[row][col], labelled on the left (rows) and on top (columns).

    For example style weights against the style layers matched, as in Gatys et al. Fig. 3.
    """
    rows = [list(row) for row in images]
    if not rows or not rows[0]:
        raise InputError("no images to show")
    if len(row_labels) != len(rows):
        raise InputError(f"{len(rows)} rows of images but {len(row_labels)} row labels")
    if len(col_labels) != len(rows[0]):
        raise InputError(f"{len(rows[0])} columns of images but {len(col_labels)} column labels")
    for i, row in enumerate(rows):
        if len(row) != len(col_labels):
            raise InputError(f"row {i} has {len(row)} images, expected {len(col_labels)} (one per column)")
    fig = prepared_figure(fig, (size * len(col_labels) + 0.6, size * len(rows) + 0.4))
    axes = fig.subplots(len(rows), len(col_labels), squeeze=False)  # (rows, cols)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            ax = axes[r, c]
            ax.imshow(rgb_array(image))
            ax.set_xticks([])
            ax.set_yticks([])  # a frame without ticks, not set_axis_off: that would hide the row label
            if r == 0:
                ax.set_title(str(col_labels[c]))
            if c == 0:
                ax.set_ylabel(str(row_labels[r]))
    return fig


def png_bytes(fig, dpi=None) -> bytes:
    """Render `fig` to PNG bytes with Agg (no pyplot, any thread), e.g. for `ipywidgets.Image`."""
    buffer = io.BytesIO()
    canvas = fig.canvas  # FigureCanvasAgg(fig) takes the figure over; give it back afterwards
    try:
        FigureCanvasAgg(fig).print_figure(buffer, format="png", dpi=dpi)
    finally:
        fig.set_canvas(canvas)
    return buffer.getvalue()


def prepared_figure(fig, figsize) -> Figure:
    """`fig` cleared (its size kept), or a new pyplot figure of `figsize` inches; constrained layout."""
    if fig is None:
        return plt.figure(figsize=figsize, layout="constrained")
    fig.clear()
    fig.set_layout_engine("constrained")
    return fig


def rgb_array(image) -> np.ndarray:
    """Tensor (1, 3, H, W) / (3, H, W) in [0, 1], PIL image or array -> (H, W, 3) array for imshow."""
    if isinstance(image, torch.Tensor):
        image = to_pil(image)
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    return np.asarray(image)


def _tensor(value) -> torch.Tensor:
    """A float32 CPU tensor, detached; numpy arrays are accepted too."""
    return torch.as_tensor(value).detach().float().cpu()


def _lines(history: Sequence[Mapping[str, float]], name) -> dict[str, np.ndarray]:
    """{line: (steps,)}: per step the sum of the parts with that `name(key)`, NaN at steps without any.

    Lines in order of first appearance (settings may change during a run), the total "loss" last.
    """
    names = sorted(dict.fromkeys(name(key) for step in history for key in step), key=lambda n: n == "loss")
    return {n: np.array([_sum([v for k, v in step.items() if name(k) == n]) for step in history])
            for n in names}


def _sum(values: list[float]) -> float:
    return math.fsum(values) if values else math.nan

