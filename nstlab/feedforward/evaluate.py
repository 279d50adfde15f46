"""Held-out evaluation of a trained network: how much style it adds, how much content it keeps.

The mean content and style losses of its outputs on photos it never trained on, beside two
baselines -- the style loss of the photo itself (where the style starts) and the content loss of
the painting in the photo's place (what losing the content entirely costs). Content is measured
where Gatys et al. measure it (the layout, relu4_2), style on the training layers.

Two artefacts the losses barely see, measured on their own:

    mirror_borders   a network that treats the left and right borders differently paints a band
                     along one of them: compare f(x) with flip(f(flip(x))) at the borders and inside
    grid_pattern     stride-2 layers that alias leave a pattern with their period (4 px for a
                     Johnson network, 8 px for the AdaIN decoder): its amplitude in grey levels
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
def mirror_borders(model, photo: torch.Tensor, *, band: int = 8, **call) -> tuple[float, float]:
    """(at the borders, inside): the mean |f(x) - flip(f(flip(x)))| over the `band` columns at each
    side edge, and over the columns 2 * band or more from them. photo (1, 3, H, W); `call` goes to
    the network. Equal for a network that knows no left from right at its borders."""
    out = model(photo, **call)
    columns = (out - model(photo.flip(-1), **call).flip(-1)).abs().mean((0, 1, 2))  # (W,)
    return (torch.cat([columns[:band], columns[-band:]]).mean().item(),
            columns[2 * band:-2 * band].mean().item())


def grid_pattern(image: torch.Tensor, period: int) -> tuple[float, float]:
    """(across columns, across rows): the amplitude in grey levels (0-255) of the pattern that
    repeats every `period` pixels in image (1, 3, H, W): the luminance minus its running mean over
    period + 1 pixels, averaged over all positions with the same remainder mod period (what is not
    locked to the grid averages out; one period at each border, where the running mean is one-sided,
    left out), half its peak-to-peak range. A photo gives ~0.1-0.4."""
    grey = (image[0] * torch.tensor([0.299, 0.587, 0.114], device=image.device)[:, None, None]).sum(0) * 255
    amplitudes = []
    for lines in (grey, grey.t()):  # (H, W): the pattern along each row, then along each column
        n = lines.shape[1] // period * period
        smooth = F.avg_pool1d(lines[None], period + 1, 1, period // 2, count_include_pad=False)[0]
        inner = (lines - smooth)[:, period:n - period]  # whole periods, starting on the grid
        folded = inner.reshape(lines.shape[0], -1, period).mean((0, 1))  # (period,)
        amplitudes.append(((folded.max() - folded.min()) / 2).item())
    return amplitudes[0], amplitudes[1]


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
