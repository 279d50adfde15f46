"""Several styles in one image: mixing weights (how much of each) and region masks (where each goes).

Every method of nstlab takes the same two words. `mix`: one weight per style, >= 0, normalized to
sum to one (Gatys: the style losses are averaged with these weights; CIN: the styles' scales and
shifts are mixed; AdaIN: the AdaIN targets are). `masks`: one per style, region k takes style k
(Gatys et al. 2017's guided Gram matrices; AdaIN's spatial control). A mask is an (H, W) tensor or
array in [0, 1], a (1, 1, H, W) tensor, or an image (path, PIL, ...) whose brightness is the mask.

    as_list(style), one_of(mix, masks)   one style or several; mix or masks, not both
    mix_weights(mix, n)           -> (n,) or (B, n) rows summing to one
    load_masks(masks, n, size)    -> (n, 1, H, W) in [0, 1] at the image size
    resize_mask(masks, size)      -> (n, 1, h, w), area-averaged, e.g. at a layer's resolution
    composite(masks, values, fill) region k takes values[k]; overlaps shared, `fill` where uncovered
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .errors import InputError
from .samples import resolve_image


def as_list(style) -> list:
    """`style=` as every method takes it -> a list: None -> [], one style -> [it], a list as is."""
    if style is None:
        return []
    return list(style) if isinstance(style, (list, tuple)) else [style]


def one_of(mix, masks) -> None:
    if mix is not None and masks is not None:
        raise InputError("give mix (how much of each style) or masks (where each style goes), not both")


def mix_weights(mix, n: int, batch: int | None = None) -> torch.Tensor:
    """Mixing weights for n styles -> float32 (n,), or (batch, n) for per-image rows, each summing to 1.

    mix: None (equal weights), a sequence or tensor (n,), or (batch, n) when `batch` is given.
    """
    if n < 1:
        raise InputError("no styles to mix: give at least one style")
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
    """One mask per style -> (n, 1, H, W) float32 in [0, 1] at `size` (H, W) (area-averaged).

    masks: a list (or a stacked (n, H, W) / (n, 1, H, W) tensor or array); each mask (H, W) or
    (1, 1, H, W) values in [0, 1] (uint8: 0..255), or an image whose brightness is the mask.
    """
    if isinstance(masks, (torch.Tensor, np.ndarray)) and np.ndim(masks) in (3, 4) and len(masks) != 1:
        masks = list(masks)  # stacked
    masks = list(masks) if isinstance(masks, (list, tuple)) else [masks]
    if len(masks) != n:
        raise InputError(f"give one mask per style: {n} style(s) but {len(masks)} mask(s)")
    loaded = []
    for m in masks:
        if isinstance(m, (torch.Tensor, np.ndarray)) and (np.ndim(m) == 2 or set(m.shape[:-2]) <= {1}):
            m = torch.as_tensor(np.asarray(m) if isinstance(m, np.ndarray) else m).detach().cpu()
            m = m.float() / 255 if m.dtype == torch.uint8 else m.float()
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


def composite(masks: torch.Tensor, values, fill: torch.Tensor) -> torch.Tensor:
    """sum_k share_k values[k] + (1 - sum_k share_k) fill, share = masks normalized where they
    overlap: region k takes values[k] (images or features, (B, C, h, w) at the masks' size),
    and where the masks cover less than 1, `fill` shows through. masks: (K, 1, h, w)."""
    share = masks / masks.sum(0).clamp_min(1)  # (K, 1, h, w)
    return sum(share[k] * v for k, v in enumerate(values)) + (1 - share.sum(0)) * fill
