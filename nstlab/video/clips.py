"""Synthetic clips with exact optical flow: a camera that pans, zooms or rotates over a still photo.

Frame t shows the photo through an affine camera: the frame pixel p (x, y) sees the photo at
s_t(p) = c_t + A_t (p - m), with m the frame's centre, c_t where the camera looks, and
A_t = k z^t R(theta t) (k photo pixels per frame pixel, z the zoom per frame, theta the rotation
per frame). Because every s_t is known, so is the backward flow from frame t to frame t - 1:
q = m + A_{t-1}^{-1} (s_t(p) - c_{t-1}), flow = q - p, exact to float precision; and a pixel is
reliable exactly when q lies in the frame (nothing else hides anything). These clips are the
test and benchmark material for the video methods: no download, no flow estimation error.

kind "sprite" adds occlusion: over the panning photo a square cut from a painting slides from
left to right, faster than the camera. Its pixels flow with it; the photo behind its trailing
edge was hidden in the previous frame, so those pixels are marked unreliable (mask 0), exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import InputError
from ..samples import resolve_image

KINDS = ("pan", "zoom", "rotate", "sprite")
SPRITE = "starry_night"  # what the sprite shows


@dataclass
class Clip:
    frames: torch.Tensor  # (T, 3, H, W) in [0, 1]
    flows: torch.Tensor  # (T - 1, 2, H, W) backward: flows[t - 1] maps frame t to frame t - 1
    masks: torch.Tensor  # (T - 1, H, W) 1 where frame t's pixel was in frame t - 1


def synthetic_clip(photo="tubingen", frames: int = 8, size: tuple[int, int] = (192, 256), kind: str = "pan",
                   speed: float = 3.0) -> Clip:
    """A clip of `frames` frames of `size` (H, W) over `photo` (anything resolve_image takes).

    kind "pan": the camera moves `speed` frame pixels per frame to the right and a third of that
    down; "zoom": it zooms in by `speed` percent per frame; "rotate": it turns `speed` degrees per
    frame; "sprite": a pan with a square (a third of the frame's height) sliding over it at
    2 x `speed` pixels per frame more. The photo is shown at 1.5x the frame's size, so the camera
    never leaves it.
    """
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if frames < 2:
        raise InputError(f"a clip needs at least 2 frames, got {frames}")
    h, w = size
    image = resolve_image(photo)  # (1, 3, Hs, Ws)
    scale = max(1.5 * h / image.shape[-2], 1.5 * w / image.shape[-1])  # the photo at 1.5x the frame,
    image = F.interpolate(image, scale_factor=scale, mode="bilinear", antialias=True)[0]  # no aliasing
    hs, ws = image.shape[-2:]
    k = min((hs - 1) / (1.5 * h), (ws - 1) / (1.5 * w))  # photo pixels per frame pixel
    centre = torch.tensor([(w - 1) / 2, (h - 1) / 2], dtype=torch.float64)
    start = torch.tensor([(ws - 1) / 2, (hs - 1) / 2], dtype=torch.float64)
    velocity = speed
    if kind in ("pan", "sprite"):  # travel at most a quarter of the frame's width over the clip, centred
        velocity = min(speed, 0.25 * w / max(frames - 1, 1))
        start -= torch.tensor([velocity, velocity / 3]) * k * (frames - 1) / 2
    cameras = [_camera(t, "pan" if kind == "sprite" else kind, velocity, k, start) for t in range(frames)]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                            indexing="ij")
    p = torch.stack([xs, ys], dim=-1) - centre  # (H, W, 2), relative to the centre
    seen, flows, masks = [], [], []
    for t, (a, c) in enumerate(cameras):
        s = p @ a.T + c  # (H, W, 2) photo coordinates
        seen.append(_sample(image, s))
        if t:
            a0, c0 = cameras[t - 1]
            q = (s - c0) @ torch.linalg.inv(a0).T + centre
            flow = q - (p + centre)
            flows.append(flow.permute(2, 0, 1).float())
            inside = (q[..., 0] >= 0) & (q[..., 0] <= w - 1) & (q[..., 1] >= 0) & (q[..., 1] <= h - 1)
            masks.append(inside.float())
    clip = Clip(torch.stack(seen), torch.stack(flows), torch.stack(masks))
    return _with_sprite(clip, velocity + 2 * speed) if kind == "sprite" else clip


def _with_sprite(clip: Clip, speed: float) -> Clip:
    """`clip` with a square sliding `speed` pixels per frame to the right across its middle, drawn
    over every frame, with the flows and masks that follow: the square's pixels move with it, and
    the photo it uncovers was hidden (mask 0)."""
    count, _, h, w = clip.frames.shape
    side = h // 3
    sprite = F.interpolate(resolve_image(SPRITE), size=(side, side), mode="bilinear", antialias=True)[0]
    top = (h - side) // 2
    travel = min(speed, (w - side) / max(count - 1, 1))  # stay in the frame
    lefts = [round((w - side - travel * (count - 1)) / 2 + travel * t) for t in range(count)]
    frames, flows, masks = clip.frames.clone(), clip.flows.clone(), clip.masks.clone()
    for t, left in enumerate(lefts):
        frames[t, :, top:top + side, left:left + side] = sprite
        if t:
            behind = torch.zeros(h, w, dtype=torch.bool)  # where the square was in frame t - 1
            behind[top:top + side, lefts[t - 1]:lefts[t - 1] + side] = True
            ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
            q = torch.stack([xs, ys]) + flows[t - 1]  # (2, H, W) where each pixel was
            x, y = q[0].round().long().clamp(0, w - 1), q[1].round().long().clamp(0, h - 1)
            masks[t - 1][behind[y, x]] = 0  # the photo there was under the square
            flows[t - 1, 0, top:top + side, left:left + side] = lefts[t - 1] - left
            flows[t - 1, 1, top:top + side, left:left + side] = 0
            masks[t - 1, top:top + side, left:left + side] = 1
    return Clip(frames, flows, masks)


def _camera(t: int, kind: str, speed: float, k: float,
            start: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(A_t (2, 2), c_t (2,)) of frame t."""
    zoom = (1 - speed / 100) ** t if kind == "zoom" else 1.0
    angle = math.radians(speed * t) if kind == "rotate" else 0.0
    rotation = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]],
                            dtype=torch.float64)
    a = k * zoom * rotation
    c = start.clone()
    if kind == "pan":
        c += torch.tensor([speed, speed / 3], dtype=torch.float64) * k * t
    return a, c


def _sample(image: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """The photo (3, Hs, Ws) at photo coordinates s (H, W, 2), bilinear."""
    hs, ws = image.shape[-2:]
    grid = torch.stack([s[..., 0] * (2 / (ws - 1)) - 1, s[..., 1] * (2 / (hs - 1)) - 1], dim=-1)
    return F.grid_sample(image[None], grid[None].float(), mode="bilinear", padding_mode="border",
                         align_corners=True)[0]
