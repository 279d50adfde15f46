"""Several styles in one image: mixing weights (how much of each) and region masks (where each goes).

Every method of nstlab takes the same two words. `mix`: one weight per style, >= 0, normalized to
sum to one (Gatys: the style losses are averaged with these weights; CIN: the styles' scales and
shifts are mixed; AdaIN: the AdaIN targets are). `masks`: one per style, region k takes style k
(Gatys et al. 2017's guided Gram matrices; AdaIN's spatial control). A mask is an (H, W) tensor or
array in [0, 1], a (1, 1, H, W) tensor, or an image (path, PIL, ...) whose brightness is the mask.

    mix_weights(mix, n)           -> (n,) or (B, n) rows summing to one
    load_masks(masks, n, size)    -> (n, 1, H, W) in [0, 1] at the image size
    resize_mask(masks, size)      -> (n, 1, h, w), area-averaged, e.g. at a layer's resolution
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .errors import InputError
from .samples import resolve_image


def mix_weights(mix, n: int, batch: int | None = None) -> torch.Tensor:
    """Mixing weights for n styles -> float32 (n,), or (batch, n) for per-image rows, each summing to 1.

    mix: None (equal weights), a sequence or tensor (n,), or (batch, n) when `batch` is given.
    """
    if mix is None:
        weights = torch.full((n,), 1.0 / n)
    else:
        weights = torch.as_tensor(mix, dtype=torch.float32).detach().cpu()
    shape = tuple(weights.shape)
    if batch is not None and weights.dim() == 1:
        weights = weights.expand(batch, -1)
    want = (n,) if batch is None else (batch, n)
    if tuple(weights.shape) != want:
        more = "" if batch is None else f", or (batch, styles) = ({batch}, {n})"
        raise InputError(f"mixing weights of shape {shape} for {n} style(s): give one weight per style "
                         f"(shape ({n},){more})")
    if not (torch.isfinite(weights) & (weights >= 0)).all():
        raise InputError(f"mixing weights must be finite and >= 0, got {weights.tolist()}")
    total = weights.sum(-1, keepdim=True)
    if (total == 0).any():
        raise InputError("mixing weights must not be all zero: give at least one style a positive weight")
    return weights / total


def load_masks(masks, n: int, size) -> torch.Tensor:
    """One mask per style -> (n, 1, H, W) float32 in [0, 1] at `size` (H, W) (area-averaged)."""
    masks = list(masks) if isinstance(masks, (list, tuple)) else [masks]
    if len(masks) != n:
        raise InputError(f"give one mask per style: {n} style(s) but {len(masks)} mask(s)")
    loaded = []
    for m in masks:
        if isinstance(m, (torch.Tensor, np.ndarray)) and (np.ndim(m) == 2 or tuple(m.shape[:-2]) == (1, 1)):
            m = torch.as_tensor(np.asarray(m) if isinstance(m, np.ndarray) else m).detach().float().cpu()
        else:  # an image: its brightness
            m = resolve_image(m).mean(1)
        m = m.reshape(1, 1, *m.shape[-2:])
        if not torch.isfinite(m).all() or m.min() < 0 or m.max() > 1:
            raise InputError("mask values must lie in [0, 1]")
        loaded.append(resize_mask(m, size))
    return torch.cat(loaded)


def resize_mask(mask: torch.Tensor, size) -> torch.Tensor:
    """(K, 1, H, W) region masks -> (K, 1, h, w): shrunk by averaging over each output cell's area
    (a layer position is in a region by the share of its pixels there), enlarged bilinearly."""
    size = tuple(size)
    if tuple(mask.shape[-2:]) == size:
        return mask
    if size[0] <= mask.shape[-2] and size[1] <= mask.shape[-1]:
        return F.interpolate(mask, size=size, mode="area")
    return F.interpolate(mask, size=size, mode="bilinear", align_corners=False).clamp(0, 1)
