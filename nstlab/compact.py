"""Compact weights: convolution kernels as int8 with one scale per output channel.

A convolution weight w (C_out, C_in, kh, kw) is stored as q = round(w / s) in int8 with
s = max|w_c| / 127 per output channel c (symmetric, so zero stays exactly zero): a quarter of
float32, and every weight within half a step s / 2 of its original. The bundled VGG-16 and the
shipped AdaIN network use it; the features they compute differ from float32 by well under what
a stylization can show (see the notes beside the files).
"""

from __future__ import annotations

import torch


def quantize(weight: torch.Tensor, scale_dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """(C_out, ...) float -> {"q": int8 (C_out, ...), "scale": (C_out,)}."""
    w = weight.detach().float()
    dims = tuple(range(1, w.dim()))
    scale = (w.abs().amax(dim=dims).clamp_min(1e-12) / 127).to(scale_dtype)  # (C_out,)
    view = (-1, *([1] * (w.dim() - 1)))
    q = torch.round(w / scale.float().view(view)).clamp(-127, 127)  # relative to the stored scale
    return {"q": q.to(torch.int8), "scale": scale}


def dequantize(packed: dict[str, torch.Tensor]) -> torch.Tensor:
    """{"q", "scale"} -> float32 weights."""
    q = packed["q"]
    return q.float() * packed["scale"].float().view(-1, *([1] * (q.dim() - 1)))
