"""Where and in what precision tensors compute: the default device and reduced-precision autocast.

`default_device()` picks CUDA, else Apple MPS, else the CPU, so the same code runs on a laptop and
on a GPU machine. `on(module, device)` gives a module on a device without moving one that others
hold. `autocast(precision, device)` runs the VGG forward pass in bfloat16 (fast on
CPUs with AVX-512 and on GPUs) or float16 (CUDA) while losses stay float32.
"""

from __future__ import annotations

import contextlib
import copy

import torch

from .errors import InputError

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
PRECISIONS = tuple(DTYPES)


def default_device(device=None) -> torch.device:
    """`device` if given (and not "auto"), else CUDA, else Apple MPS, else CPU."""
    if device not in (None, "auto"):
        try:
            chosen = torch.device(device)
        except RuntimeError as err:
            raise InputError(f"unknown device {device!r} (use cpu, cuda, cuda:N or mps)") from err
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise InputError(f"device {device!r}: this machine has no CUDA GPU that PyTorch can use")
        if chosen.type == "cuda" and (chosen.index or 0) >= torch.cuda.device_count():
            raise InputError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s)")
        if chosen.type == "mps" and not torch.backends.mps.is_available():
            raise InputError(f"device {device!r}: Apple's MPS is not available here")
        if chosen.type not in ("cpu", "cuda", "mps", "meta"):
            raise InputError(f"device {device!r}: nstlab runs on cpu, cuda or mps")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_of(module: torch.nn.Module) -> torch.device:
    """Where a module's weights are (the CPU for one without any)."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


def on(module: torch.nn.Module, device) -> torch.nn.Module:
    """`module` itself when it is already on `device`, else a copy moved there: a module someone
    else holds (the shared extractor of `load_vgg`, the caller's network) is never moved."""
    device = torch.device(device)
    here = device_of(module)
    if here.type == device.type and (device.index is None or here.index == device.index):
        return module
    return copy.deepcopy(module).to(device)


def cast(module: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """`module` itself when its weights are in `dtype` already, else a copy cast to it (as `on`
    does for devices: the caller's module is never changed)."""
    if next(module.parameters()).dtype == dtype:
        return module
    return copy.deepcopy(module).to(dtype)


def check_precision(precision: str, device=None) -> str:
    """`precision` if it is one of PRECISIONS and works on `device` (float16 autocast is for CUDA:
    on a CPU it crawls)."""
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "float16" and device is not None and torch.device(device).type == "cpu":
        raise InputError("float16 autocast is for CUDA GPUs and crawls on a CPU: use precision='bfloat16' "
                         "there (faster than float32 on CPUs with AVX-512 or AMX)")
    return precision


def autocast(precision: str, device: torch.device):
    """A context that runs matmuls and convolutions in `precision` on `device` (nothing for float32)."""
    if check_precision(precision, device) == "float32":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=DTYPES[precision])
