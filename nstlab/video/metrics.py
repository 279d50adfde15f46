"""Warping error: how much a processed clip flickers, as Lai et al. (2018, "Learning Blind Video
Temporal Consistency") measure it.

For each pair of frames, the flow from input frame t to input frame t - 1 warps the *processed*
frame t - 1 onto frame t; the error is the squared difference to processed frame t, summed over
the colour channels and averaged over the reliable pixels (those visible in both frames), then
averaged over the pairs:

    E = 1/(T-1) sum_t  sum_p M_t(p) ||O_t(p) - warp(O_{t-1}, F_t)(p)||^2 / sum_p M_t(p)

The flow comes from the *input* frames, never from the output (a stylized frame has no
trustworthy motion of its own). `warping_error(frames, frames)` is the input clip's own error
(lighting, interpolation, flow error): the floor any method is measured against.

Consistency bought by blurring is not progress, so `style_and_content` gives the two other
numbers to report beside it: the mean relative style distance of the frames to the painting
(relu1_1 ... relu5_1) and their content distance to the input frames (relu4_2).
"""

from __future__ import annotations

import torch

from ..errors import InputError
from ..losses import content_loss, gram_matrix, style_loss
from ..samples import resolve_image
from ..targets import content_targets, style_targets
from ..vgg import load_vgg
from ..warping import warp
from .flow import clip_flows

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def warping_error(outputs: torch.Tensor, inputs: torch.Tensor | None = None, *,
                  flows: torch.Tensor | None = None, masks: torch.Tensor | None = None,
                  method: str = "dis") -> float:
    """E above for `outputs` (T, 3, H, W). Give the exact `flows` (T - 1, 2, H, W) and `masks`
    (T - 1, H, W) of a synthetic clip, or the `inputs` (T, 3, H, W) to estimate them from (flow by
    `method`, forward-backward check). method="farneback" is a judge independent of the DIS flow
    that the stabilizer and Ruder's temporal loss are built on: a method that follows DIS's
    mistakes is not rewarded for them."""
    return mean_warping_error(*warping_error_maps(outputs, inputs, flows=flows, masks=masks, method=method))


def mean_warping_error(errors: torch.Tensor, masks: torch.Tensor) -> float:
    """E from the maps of `warping_error_maps`: each pair's error over its reliable pixels, averaged."""
    return float(((errors * masks).sum((1, 2)) / masks.sum((1, 2)).clamp_min(1)).mean())


def warping_error_maps(outputs: torch.Tensor, inputs: torch.Tensor | None = None, *,
                       flows: torch.Tensor | None = None, masks: torch.Tensor | None = None,
                       method: str = "dis") -> tuple[torch.Tensor, torch.Tensor]:
    """(errors (T - 1, H, W), masks (T - 1, H, W)): per pair and pixel ||O_t - warp(O_{t-1})||^2
    summed over colours, and the reliable pixels it is averaged over (arguments as `warping_error`):
    where a clip flickers, as a picture."""
    if outputs.dim() != 4 or len(outputs) < 2:
        raise InputError(f"expected frames (T >= 2, 3, H, W), got shape {tuple(outputs.shape)}")
    if flows is None and inputs is not None and inputs.shape != outputs.shape:
        raise InputError(f"inputs {tuple(inputs.shape)} and outputs {tuple(outputs.shape)} differ")
    flows, masks = clip_flows(inputs, flows, masks, method=method)
    if len(flows) != len(outputs) - 1:
        raise InputError(f"{len(outputs)} frames need {len(outputs) - 1} flows, got {len(flows)}")
    outputs = outputs.float()
    warped = warp(outputs[:-1], flows)  # (T - 1, 3, H, W): each frame moved onto the next
    return (outputs[1:] - warped).pow(2).sum(1), masks


@torch.no_grad()
def style_and_content(outputs: torch.Tensor, inputs: torch.Tensor, painting,
                      extractor=None) -> dict[str, float]:
    """{"style": mean over frames and layers of ||G - A||^2 / ||A||^2 to `painting` (at the frames'
    size), "content": mean relu4_2 distance to the input frames}; extractor: the bundled VGG-16."""
    vgg = extractor or load_vgg()
    painting = resolve_image(painting, max(outputs.shape[-2:]))
    grams = style_targets(vgg, [painting], STYLE_LAYERS)
    styles, contents = [], []
    for out, inp in zip(outputs, inputs, strict=True):
        features = content_targets(vgg, out[None], [*STYLE_LAYERS, "relu4_2"])
        target = content_targets(vgg, inp[None], ["relu4_2"])["relu4_2"]
        styles.append(sum(float(style_loss(gram_matrix(features[n]), grams[n])) for n in STYLE_LAYERS) / 5)
        contents.append(float(content_loss(features["relu4_2"], target)))
    return {"style": sum(styles) / len(styles), "content": sum(contents) / len(contents)}


@torch.no_grad()
def shift_sensitivity(run, image: torch.Tensor, shifts=range(9), margin: int = 16) -> list[float]:
    """Why per-frame networks flicker: for each shift s, how much `run` (image -> image) changes
    its output when its input (1, 3, H, W) moves s pixels to the left, as the mean absolute
    difference to the unshifted output moved the same way (away from the borders, `margin`).
    A shift-equivariant method gives ~0 for every s; two stride-2 convolutions give small values
    at multiples of 4 and large ones in between."""
    shifts = list(shifts)
    width = image.shape[-1] - max(shifts)
    if width <= 2 * margin:
        raise InputError(f"an image {image.shape[-1]} px wide is too narrow for shifts up to {max(shifts)}")
    base = run(image)
    changes = []
    for s in shifts:
        moved = run(image[..., s:s + width])  # the scene s pixels further left
        inner = slice(margin, width - margin)
        changes.append(float((moved[..., inner] - base[..., s:s + width][..., inner]).abs().mean()))
    return changes
