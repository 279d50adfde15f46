"""Held-out evaluation of a trained network: how much style it adds, how much content it keeps.

The mean content and style losses of its outputs on photos it never trained on, beside two
baselines -- the style loss of the photo itself (where the style starts) and the content loss of
the painting in the photo's place (what losing the content entirely costs). Content is measured
where Gatys et al. measure it (the layout, relu4_2), style on the training layers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..images import image_files, load_image
from ..losses import Settings, group_parts, perceptual_loss
from ..samples import resolve_image
from ..targets import content_targets, style_targets
from ..vgg import VGGFeatures
from .objectives import FEEDFORWARD_SETTINGS

EVALUATION_SETTINGS = FEEDFORWARD_SETTINGS.replace(content_layers=["relu4_2"], tv_weight=0.0)


@torch.no_grad()
def evaluate(model, photos, painting, extractor: VGGFeatures, *, size: int = 256, limit: int = 20,
             settings: Settings = EVALUATION_SETTINGS, **call) -> dict[str, float]:
    """Scores of `model` on the first `limit` photos under `photos` at `size` px -> {"content",
    "style", "style of the photo", "content of the painting"} (means, lower is closer).
    painting: the style target; `call` goes to the network (style=..., alpha=...)."""
    painting = resolve_image(painting, size)
    content_layers, style_layers = settings.active_content_layers(), settings.active_style_layers()
    targets = style_targets(extractor, [painting], style_layers)
    layers = [*content_layers, *style_layers]
    totals = {"content": 0.0, "style": 0.0, "style of the photo": 0.0, "content of the painting": 0.0}
    files = image_files(photos)[:limit]
    for file in files:
        photo = load_image(file, size)
        in_its_place = F.interpolate(painting, size=photo.shape[-2:], mode="bilinear", antialias=True)
        photo_features = content_targets(extractor, photo, layers)
        photo_content = {n: photo_features[n] for n in content_layers}
        for image, keys in ((model(photo, **call), ("content", "style")),
                            (photo, (None, "style of the photo")),
                            (in_its_place, ("content of the painting", None))):
            features = photo_features if image is photo else extractor(image, layers)
            groups = group_parts(perceptual_loss(features, image, settings, photo_content, targets)[1])
            for key, group in zip(keys, ("content", "style"), strict=True):
                if key is not None:
                    totals[key] += groups[group].item()
    return {k: v / len(files) for k, v in totals.items()}
