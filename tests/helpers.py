"""Test doubles around the VGG extractor."""

import torch


class Probe(torch.nn.Module):
    """Wraps an extractor: records each call and can scale or poison the features it returns."""

    def __init__(self, inner, factors=None):
        super().__init__()
        self.inner, self.factors = inner, factors or {}
        self.calls = []  # (image requires grad, layers)
        self.poison_after = None  # from this many gradient calls on, multiply by `poison`
        self.poison = float("nan")

    def check_layers(self, layers):
        return self.inner.check_layers(layers)

    def feature_size(self, layer, size):
        return self.inner.feature_size(layer, size)

    def forward(self, image, layers, pooling="max"):
        layers = list(layers)
        self.calls.append((image.requires_grad, tuple(layers)))
        out = self.inner(image, layers, pooling=pooling)
        grad_calls = sum(1 for g, _ in self.calls if g)
        factor = self.poison if self.poison_after is not None and grad_calls > self.poison_after else 1.0
        return {k: v * self.factors.get(k, 1.0) * factor for k, v in out.items()}

    def grad_calls(self):
        return sum(1 for g, _ in self.calls if g)
