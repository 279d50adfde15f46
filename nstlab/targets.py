"""What the perceptual loss compares to: content activations P_l and style Gram matrices A_l.

Gatys et al. (2016) compute them once, from the content photo and the style painting, without
gradients; every step then compares the image's own features to them. This is the one place that
builds them -- for the Gatys engine, the feedforward training objectives, the evaluation and the
Gram explorer:

    content_targets(extractor, image, layers)   -> {layer: (1, C, H_l, W_l)}
    style_targets(extractor, images, layers)    -> {layer: (K, C, C)}, one Gram per style image
    Targets(...)                                  both, filled layer by layer as settings need them,
                                                  with the region masks at each layer's resolution
"""

from __future__ import annotations

import torch

from .device import autocast, device_of
from .losses import Settings, gram_matrix
from .mixing import resize_mask
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
def style_targets(extractor: VGGFeatures, images, layers, *, pooling: str = "max",
                  precision: str = "float32") -> dict[str, torch.Tensor]:
    """{layer: (K, C, C)} Gram matrices of K style images, each (1, 3, H, W) at its own size."""
    layers = list(layers)
    grams: dict[str, list[torch.Tensor]] = {n: [] for n in layers}
    for image in images:
        for n, f in content_targets(extractor, image, layers, pooling=pooling, precision=precision).items():
            grams[n].append(gram_matrix(f))
    return {n: torch.cat(g) for n, g in grams.items() if g}


class Targets:
    """Content activations and style Grams for one image size, computed once per layer.

    content: (1, 3, H, W) or None; styles: K images; masks: (K, 1, H, W) at the content's size or
    None. `ensure(settings)` adds what the active layers need; `content`, `style` and `masks`
    are then {layer: tensor} (masks at each style layer's resolution). style: a dict to fill and
    reuse -- e.g. the same style Grams for every frame of a video.
    """

    def __init__(self, extractor: VGGFeatures, content, styles, masks=None, *, pooling: str = "max",
                 precision: str = "float32", style: dict[str, torch.Tensor] | None = None):
        self.extractor, self.content_image, self.style_images = extractor, content, list(styles)
        self.image_masks, self.pooling, self.precision = masks, pooling, precision
        self.content: dict[str, torch.Tensor] = {}
        self.style: dict[str, torch.Tensor] = {} if style is None else style
        self.masks: dict[str, torch.Tensor] | None = None if masks is None else {}

    @staticmethod
    def layers(settings: Settings) -> list[str]:
        return [*settings.active_content_layers(), *settings.active_style_layers()]

    def ensure(self, settings: Settings) -> None:
        options = {"pooling": self.pooling, "precision": self.precision}
        missing = [n for n in settings.active_content_layers() if n not in self.content]
        if missing:
            self.content.update(content_targets(self.extractor, self.content_image, missing, **options))
        missing = [n for n in settings.active_style_layers() if n not in self.style]
        if missing:
            self.style.update(style_targets(self.extractor, self.style_images, missing, **options))
        if self.masks is not None:
            size = self.image_masks.shape[-2:]
            for n in settings.active_style_layers():
                if n not in self.masks:
                    self.masks[n] = resize_mask(self.image_masks, self.extractor.feature_size(n, size))
