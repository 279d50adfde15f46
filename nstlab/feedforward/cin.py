"""Conditional instance normalization: one network, many styles, each a few numbers per layer.

Dumoulin, Shlens & Kudlur, "A Learned Representation for Artistic Style" (ICLR 2017): in a style
network with instance normalization (Ulyanov et al. 2016) everything that is specific to a style can
live in the affine parameters of the norm layers. ConditionalInstanceNorm2d keeps, per style k, a
scale gamma_k (C,) and a shift beta_k (C,):

    CIN(x, k) = gamma_k * (x - mean(x)) / std(x) + beta_k        (mean, std per image and channel)

So N styles share all convolutions, and a style costs just 2 * C numbers per norm layer.

Mixing: with weights w (rows summing to one) the layer uses the convex combination
gamma = sum_k w_k gamma_k, beta = sum_k w_k beta_k -- blending styles in parameter space, per image.

Adding a style: `add_style` appends one (gamma, beta) per layer, starting at the average of the
existing styles, and `style_parameters` returns exactly those parameters: optimize them alone, with
everything else frozen, and the network learns the new style without forgetting the old ones.
Each style's gamma and beta are separate nn.Parameters (in the ParameterLists `scale` and `shift`)
so that one style can be handed to an optimizer on its own.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from ..mixing import mix_weights

EPS = 1e-5  # as nn.InstanceNorm2d


class ConditionalInstanceNorm2d(nn.Module):
    """Instance norm with one (scale, shift) per style; forward(x (B, C, H, W), weights (B, N))."""

    def __init__(self, channels: int, styles: int):
        super().__init__()
        if styles < 1:
            raise InputError(f"styles must be >= 1, got {styles}")
        self.channels = channels
        self.scale = nn.ParameterList([nn.Parameter(torch.ones(channels)) for _ in range(styles)])
        self.shift = nn.ParameterList([nn.Parameter(torch.zeros(channels)) for _ in range(styles)])

    @property
    def styles(self) -> int:
        return len(self.scale)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W), weights (B, N) with rows summing to one (see `style_weights`)."""
        if weights.shape != (x.shape[0], self.styles):
            raise InputError(f"style weights must have shape (batch, styles) = "
                             f"({x.shape[0]}, {self.styles}), got {tuple(weights.shape)}")
        weights = weights.to(self.scale[0].dtype)
        gamma = weights @ torch.stack(list(self.scale))  # (B, N) @ (N, C) -> (B, C)
        beta = weights @ torch.stack(list(self.shift))  # (B, C)
        return F.instance_norm(x, eps=EPS) * gamma[:, :, None, None] + beta[:, :, None, None]

    def extra_repr(self) -> str:
        return f"{self.channels}, styles={self.styles}"


def style_weights(style: int | torch.Tensor | Sequence[float], styles: int, batch: int,
                  device: str | torch.device | None = None) -> torch.Tensor:
    """A style index, or mixing weights (N,) for the whole batch or (B, N) per image -> (B, N).

    Weights must be non-negative; each row is divided by its sum, so [1, 1] means half and half.
    """
    if isinstance(style, numbers.Integral):
        if not 0 <= style < styles:
            raise InputError(f"style index {style} out of range: the network has {styles} style(s), "
                             f"0 to {styles - 1}")
        weights = torch.zeros(batch, styles, device=device)
        weights[:, int(style)] = 1.0
        return weights
    return mix_weights(style, styles, batch).to(device)


def cin_layers(model: nn.Module) -> list[ConditionalInstanceNorm2d]:
    """The ConditionalInstanceNorm2d layers of `model` in module order; ValueError if there are none."""
    layers = [m for m in model.modules() if isinstance(m, ConditionalInstanceNorm2d)]
    if not layers:
        raise InputError(f"{type(model).__name__} has no ConditionalInstanceNorm2d layers "
                         f"(a TransformerNet needs norm='conditional')")
    return layers


def add_style(model: nn.Module) -> int:
    """Append one style to every CIN layer of `model`, starting as the average style; its index.

    The new scale and shift of each layer are the mean of the existing styles' values. Existing
    styles are untouched. `model.styles` is updated when the model has that attribute; an optimizer
    built before the call does not know the new parameters.
    """
    layers = cin_layers(model)
    counts = {layer.styles for layer in layers}
    if len(counts) != 1:
        raise InputError(f"the CIN layers disagree on the number of styles: {sorted(counts)}")
    index = counts.pop()
    with torch.no_grad():
        for layer in layers:
            layer.scale.append(nn.Parameter(torch.stack(list(layer.scale)).mean(0)))
            layer.shift.append(nn.Parameter(torch.stack(list(layer.shift)).mean(0)))
    if not isinstance(model, ConditionalInstanceNorm2d) and hasattr(model, "styles"):
        model.styles = index + 1
    return index


def style_parameters(model: nn.Module, index: int) -> list[nn.Parameter]:
    """Scale and shift of style `index` in every CIN layer: all there is to fit for one style."""
    layers = cin_layers(model)
    for layer in layers:
        if not 0 <= index < layer.styles:
            raise InputError(f"style index {index} out of range: the network has {layer.styles} style(s)")
    return [p for layer in layers for p in (layer.scale[index], layer.shift[index])]
