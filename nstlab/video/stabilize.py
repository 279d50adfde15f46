"""A stabilizer for any per-frame method: blend each stylized frame with the previous stabilized
one, warped along the flow, where that flow is reliable.

    S_0 = O_0,   S_t = (1 - s M_t) O_t + s M_t warp(S_{t-1}, F_t)

O_t the method's own output for frame t, F_t the flow from input frame t to t - 1, M_t its
reliable pixels, s the strength in [0, 1): 0 leaves the frames alone, near 1 keeps what was
there (flicker gone, but new detail and the style's own texture fade: measure the style loss
too). Where the fraction of reliable pixels falls below `cut` (a scene cut, a flash), the
history is dropped: S_t = O_t. This is post-hoc blending in the spirit of Lai et al. (2018)'s
baseline and Bonneel et al. (2015), without their learned or optimized parts.
"""

from __future__ import annotations

import torch

from ..errors import InputError
from .flow import clip_flows, warp


def stabilize(outputs: torch.Tensor, inputs: torch.Tensor | None = None, strength: float = 0.7, *,
              flows: torch.Tensor | None = None, masks: torch.Tensor | None = None,
              cut: float = 0.5) -> torch.Tensor:
    """The stabilized clip (T, 3, H, W) of `outputs` (T, 3, H, W); the flow from `inputs`, or the
    exact `flows` and `masks` of a synthetic clip (see `warping_error`)."""
    if not 0 <= strength < 1:
        raise InputError(f"strength must be in [0, 1), got {strength}")
    flows, masks = clip_flows(inputs, flows, masks)
    out = [outputs[0]]
    for t in range(1, len(outputs)):
        m = masks[t - 1]
        if m.mean() < cut:  # a cut: nothing of the previous frame to keep
            out.append(outputs[t])
            continue
        weight = strength * m
        out.append((1 - weight) * outputs[t] + weight * warp(out[-1], flows[t - 1]))
    return torch.stack(out)
