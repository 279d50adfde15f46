"""One device rule for every entry point: `device=None` is the default device, chosen once, and a
network is moved (copied, `device.on`) at most once per call, never once per frame.

The machines here have no GPU, so a fake second device stands in for one: the default device
becomes "cpu:1" (tensors sent there stay on the CPU, so everything runs) and `device.on` is
replaced, in every nstlab module that uses it, by one that marks and counts the copies it makes.
"""

from __future__ import annotations

import copy
import sys

import pytest
import torch

import nstlab
from nstlab import device
from nstlab.feedforward.adain import AdaIN
from nstlab.feedforward.johnson import TransformerNet
from nstlab.video import synthetic_clip

SECOND = torch.device("cpu", 1)


@pytest.fixture
def second_device(monkeypatch) -> list[str]:
    """The fake second device as the default; returns the list of copies `on` made (class names)."""
    copies: list[str] = []
    real_default, real_on = device.default_device, device.on

    def default_device(chosen=None):
        return SECOND if chosen in (None, "auto") else real_default(chosen)

    def on(module, chosen):
        if torch.device(chosen) != SECOND:
            return real_on(module, chosen)
        if getattr(module, "_on_second", False):
            return module
        moved = copy.deepcopy(module)
        moved._on_second = True
        copies.append(type(module).__name__)
        return moved

    for module in [m for name, m in sys.modules.items() if name.startswith("nstlab")]:
        if getattr(module, "default_device", None) is real_default:
            monkeypatch.setattr(module, "default_device", default_device)
        if getattr(module, "on", None) is real_on:
            monkeypatch.setattr(module, "on", on)
    return copies


def test_a_shipped_model_runs_on_the_default_device(second_device):
    """The bug this file guards against: apply("cin-6styles") ran on the CPU of a CUDA machine."""
    assert getattr(nstlab.load_model("cin-6styles"), "_on_second", False)
    assert second_device == ["TransformerNet"]
    nstlab.apply("cin-6styles", "tubingen", size=32)
    assert second_device == ["TransformerNet"] * 2  # loaded onto the default device: moved once


def test_a_callers_network_is_copied_once_and_never_moved(second_device):
    net = TransformerNet(width=4, blocks=1)
    nstlab.apply(net, "tubingen", size=32)
    assert second_device == ["TransformerNet"] and not hasattr(net, "_on_second")
    nstlab.apply(net, ["tubingen", "udnie", "starry_night"], size=32, progress=False)  # many images
    assert second_device == ["TransformerNet"] * 2  # one copy for the call, not one per image
    nstlab.apply(net, "tubingen", size=32, device="cpu")  # a device named: no copy to the default one
    assert second_device == ["TransformerNet"] * 2


def test_a_video_moves_its_network_once_and_keeps_the_style_features(second_device, monkeypatch):
    clip = synthetic_clip("tubingen", frames=4, size=(24, 32), kind="pan")
    net = TransformerNet(width=4, blocks=1)
    nstlab.apply_video(net, clip.frames, progress=False, measure=False)
    assert second_device == ["TransformerNet"]

    encoded = []
    real_encode = AdaIN.encode
    monkeypatch.setattr(AdaIN, "encode", lambda self, image: encoded.append(1) or real_encode(self, image))
    nstlab.apply_video("adain", clip.frames, "udnie", progress=False, measure=False)
    assert second_device == ["TransformerNet", "AdaIN"]  # loaded onto the default device, once
    assert len(encoded) == len(clip.frames) + 1  # each frame, and the painting once for the clip


def test_the_optimization_uses_the_default_device(second_device):
    result = nstlab.stylize("tubingen", "udnie", size=32, steps=1, progress=False)
    assert result.steps == 1
    transfer = nstlab.StyleTransfer("tubingen", "udnie")
    assert transfer.device == SECOND
