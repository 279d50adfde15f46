"""A stabilizer for any per-frame method: blend each stylized frame with the previous stabilized
one, warped along the flow, where that flow is reliable; then give the blend back the detail that
averaging took away.

    B_t = (1 - s M_t) O_t + s M_t warp(S_{t-1}, F_t)
    S_0 = O_0,   S_t = low(B_t) + k_t (B_t - low(B_t)),   k_t = rms(O_t - low(O_t)) / rms(B_t - low(B_t))

O_t the method's own output for frame t, F_t the flow from input frame t to t - 1, M_t its
reliable pixels, s the strength in [0, 1): 0 leaves the frames alone, near 1 keeps what was there.
Averaging two brush-stroke textures that do not line up lowers their contrast: the strokes fade
and the style loss rises (blending alone at s = 0.5 cut the warping error of a Johnson network 5x
and raised its style distance by half). So the detail of B_t (B_t minus `low`, its average over
4x4 blocks enlarged again) is scaled per colour channel back to the energy of O_t's own detail
(`keep_detail`), and the warp is
bicubic, which blurs less than bilinear when a frame is warped again and again: at s = 0.5 the
error falls 4x with a fifth more style distance (benchmarks/bench_video.py).

Where the fraction of reliable pixels falls below `cut` (a scene cut, a flash), the history is
dropped: S_t = O_t. This is post-hoc blending in the spirit of Lai et al. (2018)'s baseline and
Bonneel et al. (2015), without their learned or optimized parts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import InputError
from ..warping import warp
from .flow import clip_flows

DETAIL = 4  # pixels: what is finer than blocks of this side counts as detail (brush strokes)


def stabilize(outputs: torch.Tensor, inputs: torch.Tensor | None = None, strength: float = 0.5, *,
              flows: torch.Tensor | None = None, masks: torch.Tensor | None = None,
              cut: float = 0.5, keep_detail: bool = True) -> torch.Tensor:
    """The stabilized clip (T, 3, H, W) of `outputs` (T, 3, H, W); the flow from `inputs`, or the
    exact `flows` and `masks` of a synthetic clip (see `warping_error`)."""
    stabilizer = Stabilizer(strength, cut=cut, keep_detail=keep_detail)
    if strength == 0:
        return outputs.clone()
    flows, masks = clip_flows(inputs, flows, masks)
    return torch.stack([stabilizer(outputs[0])] + [stabilizer(outputs[t], flows[t - 1], masks[t - 1])
                                                    for t in range(1, len(outputs))])


class Stabilizer:
    """The same, one frame at a time (a clip that is never held whole): call it with each output
    (3, H, W) and, from the second on, the flow (2, H, W) from its input frame to the previous
    one and that flow's reliable pixels (H, W); it returns the stabilized frame."""

    def __init__(self, strength: float = 0.5, *, cut: float = 0.5, keep_detail: bool = True):
        if not 0 <= strength < 1:
            raise InputError(f"stabilize strength must be in [0, 1), got {strength}")
        self.strength, self.cut, self.keep_detail = strength, cut, keep_detail
        self.last: torch.Tensor | None = None  # the previous stabilized frame

    def __call__(self, output: torch.Tensor, flow: torch.Tensor | None = None,
                 mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.last is None or self.strength == 0 or mask.mean() < self.cut:  # first, off, or a cut
            self.last = output
            return output
        weight = self.strength * mask
        blend = (1 - weight) * output + weight * warp(self.last, flow, mode="bicubic")
        self.last = (restore_detail(blend, output) if self.keep_detail else blend).clamp(0, 1)
        return self.last


def restore_detail(image: torch.Tensor, reference: torch.Tensor, block: int = DETAIL) -> torch.Tensor:
    """`image` (3, H, W) with its detail (image - low(image)) scaled per channel to the
    root-mean-square of `reference`'s detail; the low-passed part stays as it is."""
    low = _low(image, block)
    detail, wanted = image - low, reference - _low(reference, block)
    return low + detail * (_rms(wanted) / _rms(detail).clamp_min(1e-6))


def _low(image: torch.Tensor, block: int) -> torch.Tensor:
    """(C, H, W) averaged over blocks of block x block pixels and enlarged again (bilinear): a
    low-pass ten times cheaper than a Gaussian blur of the same reach."""
    h, w = image.shape[-2:]
    small = F.interpolate(image[None], size=(max(1, h // block), max(1, w // block)), mode="area")
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)[0]


def _rms(x: torch.Tensor) -> torch.Tensor:
    """(C, H, W) -> (C, 1, 1) root-mean-square per channel."""
    return x.pow(2).mean((1, 2), keepdim=True).sqrt()
