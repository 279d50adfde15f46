"""What the perceptual loss compares to: content activations P_l and style statistics A_l.

Gatys et al. (2016) compute them once, from the content photo and the style painting, without
gradients; every step then compares the image's own features to them. This is the one place that
builds them -- for the Gatys engine, the feedforward training objectives, the evaluation and the
Gram explorer:

    content_targets(extractor, image, layers)   -> {layer: (1, C, H_l, W_l)}
    style_targets(extractor, images, layers)    -> {layer: (K, C, C)}, one Gram per style image;
        statistic="meanstd", "mmd", "patch" ...    or that statistic's target (`statistics.py`)
    style_distance(extractor, image, painting)   -> the mean relative distance of their statistics
    Targets(...)                                  both, filled layer by layer (and statistic by
                                                  statistic) as settings need them, with the
                                                  region masks at each layer's resolution
"""

from __future__ import annotations

import torch

from .device import autocast, device_of
from .losses import Settings
from .mixing import resize_mask
from .statistics import statistic as style_statistic
from .vgg import VGGFeatures


@torch.no_grad()
def content_targets(extractor: VGGFeatures, image: torch.Tensor, layers, *, pooling: str = "max",
                    precision: str = "float32") -> dict[str, torch.Tensor]:
    """{layer: (B, C, H_l, W_l)} float32 activations of `image` (B, 3, H, W), where the extractor is."""
    device = device_of(extractor)
    with autocast(precision, device):
        features = extractor(image.to(device), list(layers), pooling=pooling)
    return {n: f.float() for n, f in features.items()}


@torch.no_grad()
def style_targets(extractor: VGGFeatures, images, layers, *, statistic: str = "gram", pooling: str = "max",
                  precision: str = "float32") -> dict:
    """{layer: target} of K style images, each (1, 3, H, W) at its own size: the Gram matrices
    (K, C, C) by default, or what another `statistic` compares (`statistics.STYLE_LOSSES`)."""
    layers, kind = list(layers), style_statistic(statistic)
    features: dict[str, list[torch.Tensor]] = {n: [] for n in layers}
    for image in images:
        for n, f in content_targets(extractor, image, layers, pooling=pooling, precision=precision).items():
            features[n].append(f)
    return {n: kind.targets(f) for n, f in features.items() if f}


JUDGE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@torch.no_grad()
def style_distance(extractor: VGGFeatures, image: torch.Tensor, painting: torch.Tensor, *,
                   statistic: str = "gram", layers=JUDGE_LAYERS) -> float:
    """How far `image` is from `painting` by one statistic: its relative loss, averaged over `layers`
    (the painting at its own size)."""
    kind = style_statistic(statistic)
    targets = style_targets(extractor, [painting], layers, statistic=statistic)
    features = content_targets(extractor, image, layers)
    return sum(float(kind.loss(features[n], targets[n])) for n in layers) / len(layers)


class Targets:
    """Content activations and style statistics for one image size, computed once per layer.

    content: (1, 3, H, W) or None; styles: K images; masks: (K, 1, H, W) at the content's size or
    None. `ensure(settings)` adds what the active layers and the style statistic need; `content`,
    `style` and `masks` are then {layer: target} (style: of settings.style_loss; masks at each
    style layer's resolution). style: a dict to fill and reuse, {(statistic, layer): target} --
    e.g. the same style Grams for every frame of a video.
    """

    def __init__(self, extractor: VGGFeatures, content, styles, masks=None, *, pooling: str = "max",
                 precision: str = "float32", style: dict | None = None):
        self.extractor, self.content_image, self.style_images = extractor, content, list(styles)
        self.image_masks, self.pooling, self.precision = masks, pooling, precision
        self.content: dict[str, torch.Tensor] = {}
        self.known: dict = {} if style is None else style  # (statistic, layer) -> target
        self.style: dict = {}  # layer -> target, for the statistic of the last ensure()
        self.masks: dict[str, torch.Tensor] | None = None if masks is None else {}

    @staticmethod
    def layers(settings: Settings) -> list[str]:
        return [*settings.active_content_layers(), *settings.active_style_layers()]

    def ensure(self, settings: Settings) -> None:
        options = {"pooling": self.pooling, "precision": self.precision}
        missing = [n for n in settings.active_content_layers() if n not in self.content]
        if missing:
            self.content.update(content_targets(self.extractor, self.content_image, missing, **options))
        kind, layers = settings.style_loss, settings.active_style_layers()
        missing = [n for n in layers if (kind, n) not in self.known]
        if missing:
            found = style_targets(self.extractor, self.style_images, missing, statistic=kind, **options)
            self.known.update({(kind, n): target for n, target in found.items()})
        self.style = {n: self.known[kind, n] for n in layers}
        if self.masks is not None:
            size = self.image_masks.shape[-2:]
            for n in layers:
                if n not in self.masks:
                    self.masks[n] = resize_mask(self.image_masks, self.extractor.feature_size(n, size))
