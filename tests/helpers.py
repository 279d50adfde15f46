"""Test doubles around the VGG extractor, small training set-ups, and files made to be bad."""

import struct
import zlib

import torch

from nstlab.feedforward.objectives import PerceptualObjective
from nstlab.feedforward.train import TrainConfig
from nstlab.losses import Settings

SETTINGS = Settings(content_layers=["relu2_2"], style_layers=["relu1_2", "relu2_2"], style_weight=10.0)


def config(**kw) -> TrainConfig:
    """A training configuration for tiny runs: 6 steps of 2 crops of 32 px."""
    values = dict(steps=6, batch=2, crop=32, lr=1e-2, preview_every=3, checkpoint_every=3)
    values.update(kw)
    return TrainConfig(**values)


def perceptual(model, styles, vgg, **kw) -> PerceptualObjective:
    return PerceptualObjective(model, styles, vgg, SETTINGS, style_size=32, **kw)


class Probe(torch.nn.Module):
    """Wraps an extractor: records each call and can scale or poison the features it returns."""

    def __init__(self, inner, factors=None):
        super().__init__()
        self.inner, self.factors = inner, factors or {}
        self.calls = []  # (image requires grad, layers)
        self.poison_after = None  # from this many gradient calls on, multiply by `poison`
        self.poison = float("nan")
        self.poison_calls = None  # ... for this many calls only (None: for good)

    def check_layers(self, layers):
        return self.inner.check_layers(layers)

    def feature_size(self, layer, size):
        return self.inner.feature_size(layer, size)

    def forward(self, image, layers, pooling="max"):
        layers = list(layers)
        self.calls.append((image.requires_grad, tuple(layers)))
        out = self.inner(image, layers, pooling=pooling)
        grad_calls = sum(1 for g, _ in self.calls if g)
        poisoned = self.poison_after is not None and grad_calls > self.poison_after and (
            self.poison_calls is None or grad_calls <= self.poison_after + self.poison_calls)
        factor = self.poison if poisoned else 1.0
        return {k: v * self.factors.get(k, 1.0) * factor for k, v in out.items()}

    def grad_calls(self):
        return sum(1 for g, _ in self.calls if g)


def png_claiming_size(width, height) -> bytes:
    """A PNG whose header says width x height (the pixel data is never reached)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10))
