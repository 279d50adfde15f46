"""Optical flow, warping and occlusion: the three operations every temporal method is built on.

`estimate_flow(a, b)` is the flow from frame `a` to frame `b`: for each pixel p of `a`,
a(p) ~ b(p + flow(p)). It uses OpenCV's DIS optical flow (Kroeger et al. 2016, "Fast Optical
Flow using Dense Inverse Search"): no weights, a few milliseconds per 256 px frame on one core.
`method="raft"` uses torchvision's RAFT (Teed & Deng 2020, the small model) instead: learned, better
on large motions and flat areas, slower on a CPU, and its weights are downloaded once (online only).
`warp(image, flow)` (nstlab.warping) samples `image` at p + flow(p), so
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

from ..errors import DownloadError, InputError
from ..files import hub_file, load_tensors
from ..warping import inside, warp

PRESETS = ("ultrafast", "fast", "medium")
METHODS = ("dis", "raft", "farneback")
_RAFT = {}  # the loaded RAFT network, once per process


def estimate_flow(a: torch.Tensor, b: torch.Tensor, preset: str = "medium",
                  method: str = "dis") -> torch.Tensor:
    """Flow (2, H, W) in pixels from frame a to frame b, both (3, H, W) or (1, 3, H, W) in [0, 1].
    method: "dis" (OpenCV, `preset` sets its speed), "raft" (torchvision, weights downloaded) or
    "farneback" (OpenCV's polynomial-expansion flow, Farneback 2003: no method of nstlab uses it,
    so it can judge them -- `warping_error(..., method="farneback")`)."""
    if method not in METHODS:
        raise InputError(f"the flow method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "raft":
        return _raft_flow(_frame(a), _frame(b))
    cv2 = _cv2()
    if preset not in PRESETS:
        raise InputError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    a, b = _frame(a), _frame(b)
    if a.shape != b.shape:
        raise InputError(f"frames of different sizes: {tuple(a.shape[-2:])} and {tuple(b.shape[-2:])}")
    if method == "farneback":  # 5 levels, 15 px windows: OpenCV's documented example settings
        flow = cv2.calcOpticalFlowFarneback(_grey(a), _grey(b), None, 0.5, 5, 15, 3, 5, 1.2, 0)
    else:
        dis = cv2.DISOpticalFlow_create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{preset.upper()}"))
        flow = dis.calc(_grey(a), _grey(b), None)  # (H, W, 2), float32
    return torch.from_numpy(flow).permute(2, 0, 1).contiguous()


def check_method(method: str) -> None:
    """Before any work: `method` can estimate flow here (OpenCV for "dis" and "farneback"; RAFT's
    weights, downloaded once, for "raft"), else the error that would otherwise come after the
    first frames."""
    if method not in METHODS:
        raise InputError(f"the flow method must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "raft":
        _raft_net()
    else:
        _cv2()


def flows_between(frames: torch.Tensor, preset: str = "medium",
                  method: str = "dis") -> tuple[torch.Tensor, torch.Tensor]:
    """(backward, forward) flows of a clip (T, 3, H, W), each (T - 1, 2, H, W): backward[t - 1]
    from frame t to t - 1 (what warps the previous output onto frame t), forward[t - 1] back."""
    backward = [estimate_flow(frames[t], frames[t - 1], preset, method) for t in range(1, len(frames))]
    forward = [estimate_flow(frames[t - 1], frames[t], preset, method) for t in range(1, len(frames))]
    return torch.stack(backward), torch.stack(forward)


def clip_flows(inputs: torch.Tensor | None, flows: torch.Tensor | None = None,
               masks: torch.Tensor | None = None, method: str = "dis",
               preset: str = "medium") -> tuple[torch.Tensor, torch.Tensor]:
    """(flows (T - 1, 2, H, W) backward, masks (T - 1, H, W) reliable) of a clip: the exact ones
    given (a synthetic clip; masks default to all reliable), else estimated from `inputs`
    (T, 3, H, W) with `method` (DIS at `preset`) and the forward-backward check."""
    if flows is not None:
        return flows, torch.ones(len(flows), *flows.shape[-2:]) if masks is None else masks
    if inputs is None:
        raise InputError("give the input frames (to estimate the flow) or the flows and masks")
    pairs = [reliable_flow(inputs[t], inputs[t - 1], preset, method) for t in range(1, len(inputs))]
    return torch.stack([f for f, _ in pairs]), torch.stack([m for _, m in pairs])


def reliable_flow(a: torch.Tensor, b: torch.Tensor, preset: str = "medium",
                  method: str = "dis") -> tuple[torch.Tensor, torch.Tensor]:
    """(flow (2, H, W) from frame a to frame b, its reliable pixels (H, W)): both directions
    estimated and checked against each other (`reliable`)."""
    there = estimate_flow(a, b, preset, method)
    return there, reliable(there, estimate_flow(b, a, preset, method))


def reliable(forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """(H, W) float mask, 1 where the flow `forward` (a -> b) is trusted: it stays in the frame and
    the `backward` flow (b -> a) at its end point leads back (see the module docstring)."""
    back = warp(backward, forward)  # b's flow, read where a's pixels land
    gap = (forward + back).pow(2).sum(0)
    allowed = 0.01 * (forward.pow(2).sum(0) + back.pow(2).sum(0)) + 0.5
    return (gap <= allowed).float() * inside(forward)


@torch.no_grad()
def _raft_flow(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """RAFT's flow (2, H, W) from a to b (3, H, W): padded to a multiple of 8 (RAFT's stride) and
    to at least 128 px (its correlation pyramid), in [-1, 1] as it was trained, its last refinement."""
    net = _raft_net()
    h, w = a.shape[-2:]
    pad = [0, max(128, w + -w % 8) - w, 0, max(128, h + -h % 8) - h]
    a, b = (F.pad(x[None].float().cpu(), pad, mode="replicate") * 2 - 1 for x in (a, b))
    return net(a, b)[-1][0, :, :h, :w]


def _raft_net() -> torch.nn.Module:
    """torchvision's small RAFT with its weights (downloaded once, hash-checked), eval mode."""
    if "net" not in _RAFT:
        from torchvision.models.optical_flow import Raft_Small_Weights, raft_small

        path = hub_file(Raft_Small_Weights.DEFAULT.url, "torchvision's RAFT weights", DownloadError,
                        "offline, use the DIS flow (the default: method='dis', --flow dis), which needs "
                        "no weights.")
        net = raft_small(weights=None)
        net.load_state_dict(load_tensors(path, DownloadError, "RAFT's weights"))
        _RAFT["net"] = net.eval()
    return _RAFT["net"]


def _cv2():
    try:
        import cv2
    except ImportError as err:
        raise InputError("estimating optical flow needs OpenCV: pip install 'nstlab[video]' "
                         "(or opencv-python-headless)") from err
    return cv2


def _frame(image: torch.Tensor) -> torch.Tensor:
    image = image[0] if image.dim() == 4 else image
    if image.dim() != 3 or image.shape[0] != 3:
        raise InputError(f"expected a frame (3, H, W), got shape {tuple(image.shape)}")
    return image


def _grey(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) in [0, 1] -> (H, W) uint8, the luminance DIS works on."""
    y = 0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2]
    return (y.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
