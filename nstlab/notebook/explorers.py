"""Looking inside VGG in a notebook: feature maps per layer and channel, Gram matrices compared.

    FeatureExplorer(image)         a layer dropdown and a channel slider over VGG's feature maps
    GramExplorer(image_a, image_b) two images' Gram matrices at a layer, and their style distance
"""

from __future__ import annotations

import ipywidgets as W
import torch

from .. import viz
from ..images import to_pil
from ..losses import style_loss
from ..samples import resolve_image
from ..targets import content_targets, style_targets
from ..vgg import VGGFeatures, load_vgg
from .preview import figure_png


def _relu_layers(extractor: VGGFeatures) -> list[str]:
    return [n for n in extractor.names if n.startswith("relu")]


class FeatureExplorer(W.VBox):
    """An image, a layer dropdown and a channel slider: the grid shows the layer's most active
    channels, the large panel the chosen channel next to the image."""

    def __init__(self, image, extractor: VGGFeatures | None = None, *, size: int = 256,
                 layer: str = "relu1_1", top: int = 16):
        self.image = resolve_image(image, size)
        self.extractor = extractor or load_vgg()
        self.top = top
        self._cache: dict[str, torch.Tensor] = {}
        self.layer = W.Dropdown(options=_relu_layers(self.extractor), value=layer, description="layer")
        self.channel = W.IntSlider(0, min=0, max=self.extractor.channels(layer) - 1, description="channel",
                                   continuous_update=False)
        self.grid = W.Image(format="png")
        self.single = W.Image(format="png")
        self.info = W.HTML()
        self.layer.observe(self._layer_changed, "value")
        self.channel.observe(lambda _: self._draw_single(), "value")
        super().__init__([W.HBox([self.layer, self.channel]), self.info, self.single, self.grid])
        self._layer_changed()

    def features(self, layer: str | None = None) -> torch.Tensor:
        """(1, C, H, W) activations of the image at `layer` (default: the chosen one), cached."""
        layer = layer or self.layer.value
        if layer not in self._cache:
            self._cache[layer] = content_targets(self.extractor, self.image, [layer])[layer].cpu()
        return self._cache[layer]

    def _layer_changed(self, _=None) -> None:
        f = self.features()  # (1, C, H, W)
        self.channel.max = f.shape[1] - 1
        h, w = self.image.shape[-2:]
        self.info.value = (f"<b>{self.layer.value}</b>: {f.shape[1]} channels of {f.shape[2]}x"
                           f"{f.shape[3]} positions (the image is {h}x{w})")
        self.grid.value = figure_png(lambda fig: viz.feature_maps(
            f, self.top, title=f"{self.layer.value}: the {self.top} most active channels", fig=fig),
            12, 3.6)
        self._draw_single()

    def _draw_single(self) -> None:
        f, c = self.features(), self.channel.value

        def draw(fig):
            left, right = fig.subplots(1, 2)
            left.imshow(to_pil(self.image))
            left.set_title("image")
            right.imshow(f[0, c].numpy(), cmap="viridis")
            right.set_title(f"{self.layer.value}, channel {c}")
            for ax in (left, right):
                ax.axis("off")

        self.single.value = figure_png(draw, 8, 3.6)


class GramExplorer(W.VBox):
    """Two images' Gram matrices at a chosen layer, side by side, and the style distance
    ||G_a - G_b||^2 / ||G_b||^2 between them (the style loss of `losses`)."""

    def __init__(self, image_a, image_b, extractor: VGGFeatures | None = None, *, size: int = 256,
                 layer: str = "relu1_1", channels: int = 64, titles=("image A", "image B")):
        self.images = [resolve_image(image_a, size), resolve_image(image_b, size)]
        self.titles = list(titles)
        self.extractor = extractor or load_vgg()
        self.channels = channels
        self.layer = W.Dropdown(options=_relu_layers(self.extractor), value=layer, description="layer")
        self.heatmaps = W.Image(format="png")
        self.distance = W.HTML()
        self.layer.observe(lambda _: self._draw(), "value")
        super().__init__([self.layer, self.distance, self.heatmaps])
        self._draw()

    def grams(self, layer: str | None = None) -> list[torch.Tensor]:
        """The two (C, C) Gram matrices at `layer` (default: the chosen one)."""
        layer = layer or self.layer.value
        return list(style_targets(self.extractor, self.images, [layer])[layer].cpu())

    def _draw(self) -> None:
        a, b = self.grams()
        d = style_loss(a[None], b[None]).item()
        self.distance.value = (f"style distance at <b>{self.layer.value}</b>: "
                               f"||G<sub>A</sub> - G<sub>B</sub>||² / ||G<sub>B</sub>||² = {d:.3g}")
        self.heatmaps.value = figure_png(lambda fig: viz.gram_heatmaps(
            dict(zip(self.titles, (a, b), strict=True)), channels=self.channels, fig=fig), 9, 4.2)
