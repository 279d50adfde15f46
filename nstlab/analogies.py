"""Image analogies: patch-based style transfer before any network.

Hertzmann, Jacobs, Oliver, Curless & Salesin, "Image Analogies" (SIGGRAPH 2001): given a photo A
and the same photo filtered or painted, A', make B' from a new photo B so that A : A' :: B : B'.
Nothing is learned but a lookup: each pixel of B' is copied from the pixel of A' whose
neighbourhood (in A and in the A' made so far) looks most like B's (and B''s) around it.

    image_analogy(a, a_styled, b, kappa=2, levels=3, size=128)   -> Result (B', per-level history)

Per pixel q of B', in scan-line order, coarse to fine on Gaussian pyramids of A, A', B:

    F(q)  = [5x5 of B around q, 3x3 of B one level coarser, the 12 pixels of B''s 5x5 already
             made (above and to the left), 3x3 of B' one level coarser], Gaussian-weighted
    p_app = the position of A whose F is nearest (exact: one product with all of A per pixel)
    p_coh = Ashikhmin's coherence candidate: each made neighbour r of q proposes s(r) + (q - r),
            the pixel next to where r was copied from; the nearest of these
    p     = p_coh if d(p_coh) <= d(p_app) (1 + 2^(l - L) kappa) else p_app;  B'(q) = A'(p), s(q) = p

with l the level and L the finest: kappa trades faithful matches (0) for coherent pieces of A'
(large). Only the luminance (YIQ) is matched and made: A and A' are remapped to B's mean and
standard deviation first, and B' keeps B's colours (I, Q). CNNMRF (Li & Wand 2016, the "patch"
style loss in statistics.py) is this idea with VGG features instead of pixels. At 96-128 px a
run takes seconds to a minute on a CPU: each pixel is one pass over A.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from .color import luminance, with_colors_of
from .errors import InputError
from .images import resize, resize_to
from .result import Result
from .samples import resolve_image

WINDOW, COARSE = 5, 3  # neighbourhood sides at the level and one level coarser
CAUSAL = WINDOW * (WINDOW // 2) + WINDOW // 2  # 12: the pixels of a 5x5 window before its centre


def image_analogy(a, a_styled, b, *, kappa: float = 2.0, levels: int = 3, size: int | None = 128) -> Result:
    """B' for A : A' :: B : B' (see the module docstring). a, a_styled, b: anything `resolve_image`
    takes (A' is resized to A's shape); size: the longest side of A and B (None: as given);
    levels: of the Gaussian pyramids; kappa >= 0: how much coherence is preferred. The result's
    history has per level (coarse to fine) the share of pixels taken from the coherence candidate."""
    if not (isinstance(kappa, (int, float)) and kappa >= 0 and np.isfinite(kappa)):
        raise InputError(f"kappa must be a finite number >= 0, got {kappa!r}")
    if not (isinstance(levels, int) and 1 <= levels <= 6):
        raise InputError(f"levels must be a whole number from 1 to 6, got {levels!r}")
    began = time.perf_counter()
    a, b = (resolve_image(x) if size is None else resize(resolve_image(x), size) for x in (a, b))
    a_styled = resize_to(resolve_image(a_styled), a.shape[-2:])
    if min(*a.shape[-2:], *b.shape[-2:]) < WINDOW * 2 ** (levels - 1):
        raise InputError(f"A and B must be at least {WINDOW * 2 ** (levels - 1)} px on each side for "
                         f"{levels} levels")
    ya, ya_, yb = (luminance(x)[0, 0] for x in (a, a_styled, b))  # (H, W) each
    scale = yb.std() / ya.std().clamp_min(1e-6)  # A and A' on B's scale of luminance
    ya, ya_ = ((y - ya.mean()) * scale + yb.mean() for y in (ya, ya_))
    pyramids = [_pyramid(y, levels) for y in (ya, ya_, yb)]  # finest first
    made, history = None, []
    for level in reversed(range(levels)):  # coarse to fine
        coarser = level + 1 < levels
        A, A_, B = (p[level] for p in pyramids)
        coarse = [p[level + 1] for p in pyramids] if coarser else None
        factor = 1 + 2.0 ** (-level) * kappa  # 2^(l - L): 1 + kappa at the finest level
        made, share = _synthesize(A, A_, B, coarse, made, factor)
        history.append({"level": float(level), "coherence": share, "pixels": float(B.size)})
    y = torch.from_numpy(made)[None, None].float()
    image = with_colors_of(y.expand(-1, 3, -1, -1).clamp(0, 1), b)
    return Result(image, "done", 0, time.perf_counter() - began, history, method="image-analogy")


def _pyramid(y: torch.Tensor, levels: int) -> list[np.ndarray]:
    """A Gaussian pyramid of (H, W): each level blurred and halved (antialiased), finest first."""
    found = [y[None, None]]
    for _ in range(levels - 1):
        h, w = found[-1].shape[-2:]
        found.append(F.interpolate(found[-1], size=(h // 2, w // 2), mode="bilinear", antialias=True,
                                   align_corners=False))
    return [level[0, 0].float().numpy() for level in found]


def _gaussian(side: int) -> np.ndarray:
    """sqrt of a Gaussian over a side x side window (sigma side/4), flat: weights distances by it."""
    r = np.arange(side) - side // 2
    g = np.exp(-(r[:, None] ** 2 + r[None] ** 2) / (2 * (side / 4) ** 2))
    return np.sqrt(g / g.sum()).ravel().astype(np.float32)


def _windows(image: np.ndarray, side: int, mode: str = "reflect") -> np.ndarray:
    """(H, W) -> (H, W, side * side): every pixel's neighbourhood, row by row (padded by `mode`)."""
    r = side // 2
    padded = np.pad(image, r, mode=mode)
    h, w = image.shape
    return np.stack([padded[dy:dy + h, dx:dx + w] for dy in range(side) for dx in range(side)], axis=-1)


def _coarse(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) one level coarser -> (H, W, 9): the 3x3 neighbourhood there of each pixel's parent."""
    windows = _windows(image, COARSE)
    ys = np.minimum(np.arange(shape[0]) // 2, image.shape[0] - 1)
    xs = np.minimum(np.arange(shape[1]) // 2, image.shape[1] - 1)
    return windows[ys[:, None], xs[None, :]]


def _synthesize(A, A_, B, coarse, made_coarse, factor):
    """B' at one level -> (B' (H, W), the share of its pixels taken from a coherence candidate)."""
    fine, rough = _gaussian(WINDOW), _gaussian(COARSE)
    causal = fine[:CAUSAL]
    static_a = [_windows(A, WINDOW) * fine]
    static_b = [_windows(B, WINDOW) * fine]
    if coarse is not None:
        ca, ca_, cb = coarse
        static_a += [_coarse(ca, A.shape) * rough, _coarse(ca_, A.shape) * rough]
        static_b += [_coarse(cb, B.shape) * rough, _coarse(made_coarse, B.shape) * rough]
    # A's feature vectors, the causal part of A' last: (N_A, D)
    features = np.concatenate([*static_a, _windows(A_, WINDOW, "constant")[..., :CAUSAL] * causal], axis=-1)
    h_a, w_a, depth = features.shape
    features = features.reshape(-1, depth)
    norms = (features ** 2).sum(1)
    static = np.concatenate(static_b, axis=-1)  # (H, W, D - 12)
    h, w = B.shape
    r = WINDOW // 2
    made = np.zeros((h + 2 * r, w + 2 * r), dtype=np.float32)  # B' with a zero border, as A' is padded
    source = np.zeros((h, w, 2), dtype=np.int64)  # s(q): where in A each pixel was copied from
    offsets = [(dy - r, dx - r) for dy in range(WINDOW) for dx in range(WINDOW)][:CAUSAL]
    coherent = 0
    flat_a = A_.ravel()
    for y in range(h):
        for x in range(w):
            window = made[y:y + WINDOW, x:x + WINDOW].ravel()[:CAUSAL] * causal
            f = np.concatenate([static[y, x], window])
            distances = norms - 2 * features @ f  # + |f|^2, the same for every p
            best = int(distances.argmin())
            chosen, d_best = best, distances[best]
            candidates = {(source[y + oy, x + ox, 0] - oy, source[y + oy, x + ox, 1] - ox)
                          for oy, ox in offsets if 0 <= y + oy < h and 0 <= x + ox < w}
            inside = [py * w_a + px for py, px in candidates if 0 <= py < h_a and 0 <= px < w_a]
            if inside:
                d = distances[inside] if len(inside) > 1 else np.array([distances[inside[0]]])
                k = int(d.argmin())
                total = f @ f  # compare true squared distances: ratios need them
                if d[k] + total <= (d_best + total) * factor:
                    chosen = inside[k]
                    coherent += chosen != best
            made[y + r, x + r] = flat_a[chosen]
            source[y, x] = divmod(chosen, w_a)
    return made[r:-r, r:-r], coherent / (h * w)
