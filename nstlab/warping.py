"""Warping an image along a flow field, and random smooth flows: the one operation that both the
video methods and training for stable networks need.

`warp(image, flow)` samples `image` at p + flow(p) for every pixel p (`grid_sample`), so with the
flow from frame a to frame b, `warp(b, flow)` reconstructs a. `random_flow` draws the kind of
small, smooth motion a camera makes between two frames (a sub-pixel shift plus a gentle
deformation): Wang et al. (2020, "Consistent Video Style Transfer via Compound Regularization")
train networks to be stable by warping still photos with such flows, no video needed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import InputError

MODES = ("bilinear", "bicubic")


def warp(image: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """image (B, C, H, W) or (C, H, W) sampled at p + flow(p); flow (2, H, W) or (B, 2, H, W) in
    pixels, x then y. Outside the image the border is repeated (such pixels are unreliable
    anyway). mode "bicubic" blurs less when warped again and again (it can overshoot [0, 1])."""
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    squeeze = image.dim() == 3
    image = image[None] if squeeze else image
    flow = flow[None] if flow.dim() == 3 else flow
    _, _, h, w = image.shape
    if flow.shape[-2:] != (h, w):
        raise InputError(f"a flow of size {tuple(flow.shape[-2:])} for an image of size {(h, w)}")
    x, y = _targets(flow)
    grid = torch.stack([x * (2 / max(w - 1, 1)) - 1, y * (2 / max(h - 1, 1)) - 1], dim=-1)  # (B, H, W, 2)
    out = F.grid_sample(image, grid.to(image.dtype).expand(image.shape[0], -1, -1, -1), mode=mode,
                        padding_mode="border", align_corners=True)  # pixel centres: align_corners
    return out[0] if squeeze else out


def inside(flow: torch.Tensor) -> torch.Tensor:
    """(..., H, W) float mask of the pixels whose p + flow(p) lands in the frame; flow (..., 2, H, W)."""
    h, w = flow.shape[-2:]
    x, y = _targets(flow)
    return ((x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)).float()


def random_flow(batch: int, height: int, width: int, *, shift: float = 2.0, bend: float = 1.0,
                generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """(batch, 2, height, width) flows: a uniform shift of up to `shift` pixels in x and y plus a
    smooth deformation of about `bend` pixels (a random 3x3 field, upsampled bicubically)."""
    shifts = (torch.rand(batch, 2, 1, 1, generator=generator) * 2 - 1) * shift
    coarse = torch.randn(batch, 2, 3, 3, generator=generator) * bend
    smooth = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=True)
    return (shifts + smooth).to(device)


def _targets(flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The pixel coordinates (x, y), each (..., H, W), that p + flow(p) points at."""
    h, w = flow.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype, device=flow.device),
                            torch.arange(w, dtype=flow.dtype, device=flow.device), indexing="ij")
    return xs + flow[..., 0, :, :], ys + flow[..., 1, :, :]
