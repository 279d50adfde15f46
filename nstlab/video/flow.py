"""Optical flow, warping and occlusion: the three operations every temporal method is built on.

`estimate_flow(a, b)` is the flow from frame `a` to frame `b`: for each pixel p of `a`,
a(p) ~ b(p + flow(p)). It uses OpenCV's DIS optical flow (Kroeger et al. 2016, "Fast Optical
Flow using Dense Inverse Search"): no weights, a few milliseconds per 256 px frame on one core.
`warp(image, flow)` samples `image` at p + flow(p) (bilinear, `grid_sample`), so
`warp(b, estimate_flow(a, b))` reconstructs `a`.

`reliable(forward, backward)` is the forward-backward consistency check of Sundaram et al. (2010)
as Ruder et al. (2016) use it: following the flow there and back must return to the start,
|f(p) + b(p + f(p))|^2 <= 0.01 (|f(p)|^2 + |b(p + f(p))|^2) + 0.5, and p + f(p) must land in the
frame. Ruder et al. also mark motion boundaries (large flow gradients); with DIS flow that term
marks large areas as unreliable where nothing is occluded, so it is left out here.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError

PRESETS = ("ultrafast", "fast", "medium")


def estimate_flow(a: torch.Tensor, b: torch.Tensor, preset: str = "medium") -> torch.Tensor:
    """Flow (2, H, W) in pixels from frame a to frame b, both (3, H, W) or (1, 3, H, W) in [0, 1]."""
    try:
        import cv2
    except ImportError as err:
        raise InputError("estimating optical flow needs OpenCV: pip install 'nstlab[video]' "
                         "(or opencv-python-headless)") from err
    if preset not in PRESETS:
        raise InputError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    a, b = _frame(a), _frame(b)
    if a.shape != b.shape:
        raise InputError(f"frames of different sizes: {tuple(a.shape[-2:])} and {tuple(b.shape[-2:])}")
    dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{preset.upper()}"))
    flow = dis.calc(_grey(a), _grey(b), None)  # (H, W, 2), float32
    return torch.from_numpy(flow).permute(2, 0, 1).contiguous()


def flows_between(frames: torch.Tensor, preset: str = "medium") -> tuple[torch.Tensor, torch.Tensor]:
    """(backward, forward) flows of a clip (T, 3, H, W), each (T - 1, 2, H, W): backward[t - 1]
    from frame t to t - 1 (what warps the previous output onto frame t), forward[t - 1] back."""
    backward = [estimate_flow(frames[t], frames[t - 1], preset) for t in range(1, len(frames))]
    forward = [estimate_flow(frames[t - 1], frames[t], preset) for t in range(1, len(frames))]
    return torch.stack(backward), torch.stack(forward)


def clip_flows(inputs: torch.Tensor | None, flows: torch.Tensor | None = None,
               masks: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(flows (T - 1, 2, H, W) backward, masks (T - 1, H, W) reliable) of a clip: the exact ones
    given (a synthetic clip; masks default to all reliable), else estimated from `inputs`
    (T, 3, H, W) with DIS and the forward-backward check."""
    if flows is not None:
        return flows, torch.ones(len(flows), *flows.shape[-2:]) if masks is None else masks
    if inputs is None:
        raise InputError("give the input frames (to estimate the flow) or the flows and masks")
    backward, forward = flows_between(inputs)
    return backward, torch.stack([reliable(b, f) for b, f in zip(backward, forward, strict=True)])


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """image (B, C, H, W) or (C, H, W) sampled at p + flow(p); flow (2, H, W) or (B, 2, H, W) in
    pixels. Outside the image the border is repeated (such pixels are unreliable anyway)."""
    squeeze = image.dim() == 3
    image = image[None] if squeeze else image
    flow = flow[None] if flow.dim() == 3 else flow
    _, _, h, w = image.shape
    if flow.shape[-2:] != (h, w):
        raise InputError(f"a flow of size {tuple(flow.shape[-2:])} for an image of size {(h, w)}")
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype, device=flow.device),
                            torch.arange(w, dtype=flow.dtype, device=flow.device), indexing="ij")
    x = (xs + flow[:, 0]) * (2 / max(w - 1, 1)) - 1  # pixel centres -> [-1, 1] (align_corners=True)
    y = (ys + flow[:, 1]) * (2 / max(h - 1, 1)) - 1
    grid = torch.stack([x, y], dim=-1).to(image.dtype)  # (B, H, W, 2)
    out = F.grid_sample(image, grid.expand(image.shape[0], -1, -1, -1), mode="bilinear",
                        padding_mode="border", align_corners=True)
    return out[0] if squeeze else out


def reliable(forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """(H, W) float mask, 1 where the flow `forward` (a -> b) is trusted: it stays in the frame and
    the `backward` flow (b -> a) at its end point leads back (see the module docstring)."""
    _, h, w = forward.shape
    back = warp(backward, forward)  # b's flow, read where a's pixels land
    total = forward + back
    gap = total.pow(2).sum(0)
    allowed = 0.01 * (forward.pow(2).sum(0) + back.pow(2).sum(0)) + 0.5
    ys, xs = torch.meshgrid(torch.arange(h, dtype=forward.dtype), torch.arange(w, dtype=forward.dtype),
                            indexing="ij")
    x, y = xs + forward[0], ys + forward[1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return ((gap <= allowed) & inside).float()


def _frame(image: torch.Tensor) -> torch.Tensor:
    image = image[0] if image.dim() == 4 else image
    if image.dim() != 3 or image.shape[0] != 3:
        raise InputError(f"expected a frame (3, H, W), got shape {tuple(image.shape)}")
    return image


def _grey(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] -> (H, W) uint8, the luminance DIS works on."""
    y = 0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]
    return (y.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
