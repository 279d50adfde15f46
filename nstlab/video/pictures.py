"""Pictures of motion and flicker: optical flow as colour, where a clip flickers, and what
consistency costs in style.

    flow_image(flow)                       (3, H, W) colour-coded flow: hue = direction, saturation =
                                           speed (the Middlebury colour wheel, torchvision's flow_to_image)
    show_flicker({name: frames}, ...)      frame t of each clip above its error map ||O_t - warp(O_t-1)||^2
    tradeoff_plot({label: [(s, error, style), ...]})   warping error against style distance

Like `nstlab.viz`, each returns its matplotlib Figure and draws into a given `fig=`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from matplotlib import colormaps
from matplotlib.figure import Figure
from torchvision.utils import flow_to_image

from ..viz import prepared_figure, rgb_array
from .flow import clip_flows
from .metrics import mean_warping_error, warping_error_maps


def flow_image(flow: torch.Tensor) -> torch.Tensor:
    """(3, H, W) in [0, 1] for a flow (2, H, W) in pixels: the colour says where a pixel moves,
    its strength how far (white: still), scaled to the fastest pixel."""
    return flow_to_image(flow.float()).float() / 255


def show_flicker(clips: Mapping[str, torch.Tensor], inputs: torch.Tensor | None = None, *,
                 flows: torch.Tensor | None = None, masks: torch.Tensor | None = None, frame: int = 1,
                 size: float = 2.6, fig=None) -> Figure:
    """For each clip (T, 3, H, W): frame `frame` and below it, on one colour scale for all, the
    squared difference to the previous frame warped onto it (grey: unreliable pixels, not counted);
    titles give each clip's warping error. The flow: exact `flows`/`masks`, or from `inputs`."""
    flows, masks = clip_flows(inputs, flows, masks)  # once for all the clips
    maps = {name: warping_error_maps(frames, flows=flows, masks=masks) for name, frames in clips.items()}
    top = max(float(e[frame - 1].quantile(0.99)) for e, _ in maps.values()) or 1.0
    fig = prepared_figure(fig, (size * len(clips), 2 * size * 0.8))
    axes = fig.subplots(2, len(clips), squeeze=False)
    for k, (name, frames) in enumerate(clips.items()):
        errors, m = maps[name]
        axes[0, k].imshow(rgb_array(frames[frame]))
        axes[0, k].set_title(f"{name}\nwarping error {mean_warping_error(errors, m):.4f}", fontsize=9)
        shown = errors[frame - 1].masked_fill(m[frame - 1] == 0, float("nan")).numpy()
        image = axes[1, k].imshow(shown, cmap=colormaps["inferno"].with_extremes(bad="0.6"), vmin=0, vmax=top)
        for ax in axes[:, k]:
            ax.set_axis_off()
    fig.colorbar(image, ax=axes[1, :].tolist(), shrink=0.8, label="squared difference")
    return fig


def tradeoff_plot(curves: Mapping[str, list[tuple[float, float, float]]], *, fig=None) -> Figure:
    """One line per method: points (setting, warping error, style distance), each labelled with its
    setting. Lower-left is better: less flicker and closer to the painting."""
    fig = prepared_figure(fig, (6, 4))
    ax = fig.subplots()
    for label, points in curves.items():
        _, errors, styles = zip(*points, strict=True)
        ax.plot(errors, styles, "o-", label=label)
        for s, e, y in points:
            ax.annotate(f"{s:g}", (e, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("warping error (flicker), log scale")
    ax.set_ylabel("style distance to the painting")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
