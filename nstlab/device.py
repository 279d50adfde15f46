"""Where and in what precision tensors compute: the default device and reduced-precision autocast.

`default_device()` picks CUDA, else Apple MPS, else the CPU, so the same code runs on a laptop and
on a GPU machine. `autocast(precision, device)` runs the VGG forward pass in bfloat16 (fast on
CPUs with AVX-512 and on GPUs) or float16 (CUDA) while losses stay float32.
"""

from __future__ import annotations

import contextlib

import torch

from .errors import InputError

PRECISIONS = ("float32", "bfloat16", "float16")


def default_device(device=None) -> torch.device:
    """`device` if given (and not "auto"), else CUDA, else Apple MPS, else CPU."""
    if device not in (None, "auto"):
        try:
            return torch.device(device)
        except RuntimeError as err:
            raise InputError(f"unknown device {device!r} (use cpu, cuda, cuda:N or mps)") from err
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def autocast(precision: str, device: torch.device):
    """A context that runs matmuls and convolutions in `precision` on `device` (nothing for float32)."""
    if check_precision(precision) == "float32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float16
    return torch.autocast(torch.device(device).type, dtype=dtype)
