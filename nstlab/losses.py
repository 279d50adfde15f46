"""Perceptual losses: content loss on features, style loss on Gram matrices, total variation.

Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks" (CVPR 2016):
content is matched on the activations F_l (C_l x M_l, M_l = H_l W_l positions) of one deep layer,
style on the Gram matrices G_l = F_l F_l^T of several layers, which keep which channels fire
together and throw away where.

Normalization -- the choice that lets one set of default weights work everywhere:

    gram_matrix(F)      = F F^T / M                          (mean over positions)
    content_loss(F, P)  = ||F - P||^2 / ||P||^2              (relative error of the features)
    style_loss(G, A)    = ||G - A||^2 / ||A||^2              (relative error of the Gram matrix)
    total_variation(x)  = mean of squared neighbour differences of the image (pixels in [0, 1])

Dividing by the target makes each term a pure number: multiplying a layer's activations by any
factor c leaves it unchanged (numerator and denominator both scale by c^2, or c^4 for Grams). The
VGG weights converted from Caffe have activations hundreds of times larger than torchvision's, and
the raw Gatys losses differ by that factor squared (to the fourth for style) -- with relative
losses the same `style_weight` works for both. Averaging over positions makes the terms
independent of image size, and every layer starts near 1, so per-layer weights mean what they say.
Layer weights within content and within style are normalized to sum to one.

The style loss compares Gram matrices by default; `Settings.style_loss` chooses another statistic
(`statistics.py`: mean and standard deviation, MMD with a linear or Gaussian kernel, CNNMRF's
nearest patches), each a relative error in the same way.

Loss parts are named "content:relu4_2", "style:relu1_1", "tv" and, for extra image-space terms
(a temporal loss for video), their own names: `part_name` and `part_group` own that convention.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import torch

from .errors import InputError
from .statistics import (
    PATCH_LAYERS,
    check_style_loss,
    gram_matrix,  # noqa: F401 - its home is statistics.py; losses.gram_matrix too
    relative_error,
    statistic,
)

EPS = 1e-12

DEFAULT_CONTENT_LAYERS = {"relu4_2": 1.0}
# The defaults keep the photo readable under any painting (relu5_1's large structures swallow it
# at full weight), while the style stays closer than any feedforward network's: the tuning table
# is in docs/benchmarks.md, "One set of default weights".
DEFAULT_STYLE_LAYERS = {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "relu5_1": 0.25}
# Video optimization's temporal loss beside the default style weight (video.stylize_video): much
# larger makes L-BFGS stall (docs/benchmarks.md, video)
DEFAULT_TEMPORAL_WEIGHT = 333.0


def content_loss(features: torch.Tensor, target: torch.Tensor,
                 weights: torch.Tensor | None = None) -> torch.Tensor:
    """||F - P||^2 / ||P||^2 per image, averaged over the batch. (B, C, H, W), target (1 or B, ...).

    weights: (B,) summing to one: a weighted average over the batch instead of the mean.
    """
    return relative_error(features, target, weights)


def style_loss(gram: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """||G - A||^2 / ||A||^2 per image, averaged over the batch. Grams (B, C, C), target (1 or B, C, C).

    weights: (B,) summing to one, e.g. how much of each of B styles (a 1-image Gram broadcasts).
    """
    return relative_error(gram, target, weights)  # the same relative squared error, on Gram matrices


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between vertical and horizontal neighbours of (B, 3, H, W)."""
    dy = (image[..., 1:, :] - image[..., :-1, :]).pow(2).mean()
    dx = (image[..., :, 1:] - image[..., :, :-1]).pow(2).mean()
    return dy + dx


def _is_number(value) -> bool:
    """A real number (numpy's too), not a bool or a string."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _weights(value, what: str = "layer") -> Mapping[str, float]:
    """{"relu1_1": 1.0, ...} from a mapping, a list of names or one name (weight 1 each); read-only."""
    if value is None and what == "term":
        value = {}
    if isinstance(value, str):
        value = [value]  # one layer, not its letters
    if not isinstance(value, (Mapping, list, tuple, set, frozenset)):
        raise InputError(f"{what}s must be a name, a list of names or {{name: weight}}, got {value!r}")
    weights = dict(value) if isinstance(value, Mapping) else {name: 1.0 for name in value}
    for name, w in weights.items():
        if not isinstance(name, str):
            raise InputError(f"{what} names must be strings, got {name!r}")
        if not (_is_number(w) and math.isfinite(w) and w >= 0):
            raise InputError(f"{what} weight for {name!r} must be a finite number >= 0, got {w!r}")
    return MappingProxyType({name: float(w) for name, w in weights.items()})


def default_style_layers(style_loss: str = "gram") -> dict[str, float]:
    """The style layers a statistic uses unless told otherwise: Li & Wand's relu3_1 and relu4_1
    for "patch", DEFAULT_STYLE_LAYERS for every other."""
    return dict(PATCH_LAYERS if style_loss == "patch" else DEFAULT_STYLE_LAYERS)


@dataclass(frozen=True)
class Settings:
    """What the loss looks at and how much each part counts; immutable, so a snapshot is a reference.

    content_layers / style_layers: {layer: weight} (or a list of layer names, weight 1 each;
    style_layers None: the defaults of the style_loss). style_loss: which statistic is style
    (`statistics.STYLE_LOSSES`: "gram", "meanstd", "mmd", "mmd:linear", "mmd:poly", "mmd:rbf",
    "patch"). term_weights: {name: weight} of extra image-space loss terms (e.g. "temporal" for
    video) that the caller supplies as functions of the image. Change with `settings.replace(...)`:
    a new style_loss brings its own default layers when the layers were the old one's defaults.
    """

    content_layers: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CONTENT_LAYERS))
    style_layers: Mapping[str, float] | None = None
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 10.0
    term_weights: Mapping[str, float] = field(default_factory=dict)
    style_loss: str = "gram"

    def __post_init__(self):
        check_style_loss(self.style_loss)
        if self.style_layers is None:
            object.__setattr__(self, "style_layers", default_style_layers(self.style_loss))
        for name, what in (("content_layers", "layer"), ("style_layers", "layer"), ("term_weights", "term")):
            object.__setattr__(self, name, _weights(getattr(self, name), what))
        reserved = sorted({"content", "style", "tv"} & set(self.term_weights))
        if reserved:
            raise InputError(f"{', '.join(reserved)}: the name of a built-in loss term; "
                             "give extra terms other names")
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            if not (_is_number(value) and math.isfinite(value) and value >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))

    def replace(self, **changes) -> Settings:
        unknown = set(changes) - set(self.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown setting(s) {', '.join(sorted(unknown))}; "
                            f"settings are {', '.join(self.__dataclass_fields__)}")
        if "style_loss" in changes and "style_layers" not in changes and \
                dict(self.style_layers) == default_style_layers(self.style_loss):
            changes["style_layers"] = None  # the new statistic's own defaults
        return replace(self, **changes)

    def active_content_layers(self) -> list[str]:
        return [n for n, w in self.content_layers.items() if w > 0] if self.content_weight > 0 else []

    def active_style_layers(self) -> list[str]:
        return [n for n, w in self.style_layers.items() if w > 0] if self.style_weight > 0 else []

    def active_terms(self) -> list[str]:
        return [n for n, w in self.term_weights.items() if w > 0]


def part_name(kind: str, layer: str | None = None) -> str:
    """The name of a loss part: ("style", "relu1_1") -> "style:relu1_1"; ("tv",) -> "tv"."""
    return kind if layer is None else f"{kind}:{layer}"


def part_group(name: str) -> str:
    """"style:relu1_1" -> "style", "tv" -> "tv": which term a loss part belongs to."""
    return name.split(":", 1)[0]


def group_parts(parts: Mapping[str, torch.Tensor | float]) -> dict[str, torch.Tensor | float]:
    """{"content:relu2_2": .., "style:relu1_2": .., "style:relu2_2": .., "tv": ..} -> sums per group."""
    groups: dict = {}
    for name, value in parts.items():
        group = part_group(name)
        groups[group] = groups[group] + value if group in groups else value
    return groups


def perceptual_loss(
    features: Mapping[str, torch.Tensor], image: torch.Tensor, settings: Settings,
    content_targets: Mapping[str, torch.Tensor], style_targets: Mapping[str, torch.Tensor],
    style_masks: Mapping[str, torch.Tensor] | None = None, mix: torch.Tensor | None = None,
    terms: Mapping[str, Callable[[torch.Tensor], torch.Tensor]] | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted total loss and its unweighted parts {"content:relu4_2", "style:relu1_1", ..., "tv"}.

    features: the image's activations for the active layers; content_targets: activations P_l
    of the content image; style_targets: what `settings.style_loss` compares for the style image(s)
    (`statistics`; the Gram matrices A_l, (K, C, C) for K styles): without masks the image's
    statistics are pulled towards all of them (the loss averaged with the `mix` weights (K,), equal
    by default); with style_masks {layer: (K, 1, H_l, W_l)} at each layer's resolution, style k
    applies only inside region k. terms: {name: fn(image) -> scalar}
    extra image-space losses, weighted by settings.term_weights.
    """
    parts: dict[str, torch.Tensor] = {}
    total = image.new_zeros(())
    groups = (("content", settings.content_layers, settings.active_content_layers(),
               settings.content_weight, content_targets),
              ("style", settings.style_layers, settings.active_style_layers(),
               settings.style_weight, style_targets))
    for kind, layer_weights, layers, weight, targets in groups:
        norm = sum(layer_weights[name] for name in layers)
        for name in layers:
            f = features[name].float()  # losses in float32 even under reduced-precision autocast
            if kind == "style":
                mask = None if style_masks is None else style_masks[name]
                value = statistic(settings.style_loss).loss(f, targets[name], mask, mix)
            else:
                value = content_loss(f, targets[name])
            parts[part_name(kind, name)] = value.detach()
            total = total + weight * layer_weights[name] / norm * value
    extra = {"tv": (settings.tv_weight, total_variation)}
    for name in settings.active_terms():
        if name not in (terms or {}):
            raise InputError(f"term_weights has {name!r}, but no loss term of that name was given")
        extra[name] = (settings.term_weights[name], terms[name])
    for name, (weight, term) in extra.items():
        if weight > 0:
            value = term(image)
            parts[part_name(name)] = value.detach()
            total = total + weight * value
    return total, parts
