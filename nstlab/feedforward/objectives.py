"""What a feedforward network learns to minimize: one module per kind of network, one batch a call.

`train` (train.py) only loops; each network brings its objective, a module with
`objective(photos (B, 3, crop, crop)) -> (loss, parts {"content": .., "style": .., ...}, outputs)`,
`objective.model` (what is trained and saved), `objective.trainable()` (the parameters the
optimizer gets) and `objective.describe()` (what the model card records):

    PerceptualObjective   Johnson et al. (ECCV 2016): the perceptual loss of nstlab.losses between
                          the network's output, the photo (content) and the painting (Gram
                          matrices); for a conditional network (Dumoulin et al. 2017) one random
                          style per image, or only style k's scale and shift (`fit_style=k`)
    AdaINObjective        Huang & Belongie (ICCV 2017): the decoder's content loss at relu4_1 and
                          the style loss on feature means and deviations, random style crops

Both take `temporal_weight`: with it > 0 they add `stability_loss`, Wang et al. (2020)'s compound
regularization, which trains a network to be stable on video from still photos alone.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..device import on
from ..errors import InputError
from ..losses import Settings, content_loss, group_parts, perceptual_loss
from ..samples import resolve_image
from ..targets import content_targets, style_targets
from ..vgg import VGGFeatures
from ..warping import inside, random_flow, warp
from .adain import AdaIN, adain_losses
from .cin import style_parameters
from .data import RandomCrops, batches
from .johnson import TransformerNet

# Johnson et al.'s layers: content where detail is still sharp, style over four blocks. A network
# starts from nothing, not from the photo as Gatys does: at style weight 30 it learned pure texture
# (no photo left after 400 steps); at 5 the photo shows through by step 100.
FEEDFORWARD_SETTINGS = Settings(content_layers=["relu2_2"],
                                style_layers=["relu1_2", "relu2_2", "relu3_3", "relu4_3"],
                                content_weight=1.0, style_weight=5.0, tv_weight=10.0)
# The painting's longest side for a Johnson/CIN network's Gram targets: the brush marks come out
# at the size they have in the painting at this size, in the output's pixels, at any input size
STYLE_SIZE = 256
# A conditional network also sees mixes: this fraction of the images in a batch takes a random
# mix of two styles, t style i + (1 - t) style j, with the same mix of their Gram matrices as
# target, so that a mix is trained rather than left to interpolation. Where a 50/50 mix lands
# (0.5 = in the middle by the relative Gram distances of benchmarks/bench_quality.py) follows the
# length of training more than this fraction: 0.24-0.74 after 1200 steps, 0.32-0.63 after 5200
# (the shipped cin-6styles); 300 more steps with half the images mixed moved no pair's mix along
# the line between its pure outputs' Gram matrices by more than 0.02. The target itself is not
# the judge's middle: a Gram average leans towards the painting with the larger Gram matrices (for
# Starry Night and The Scream the loss to their 50/50 target is lowest at 80% Starry Night, the
# most tried).
MIX_FRACTION = 0.25
# AdaIN's style loss matches means and deviations (not Grams): the shipped decoder used weight 2
ADAIN_STYLE_WEIGHT = 2.0


def stability_loss(run, photos: torch.Tensor, outputs: torch.Tensor, *, shift: float = 2.0,
                   bend: float = 1.0, noise: float = 0.02) -> torch.Tensor:
    """Compound regularization (Wang, Xu, Zhang & Bai, "Consistent Video Style Transfer via
    Compound Regularization", AAAI 2020): move the photos (B, 3, H, W) as a camera would between
    two frames (`random_flow`: a sub-pixel shift and a smooth bend) and add a little noise, as a
    video's next frame differs; the network `run` should give the same motion of its `outputs`:

        L = sum_c mean_p M(p) (run(warp(x, f) + n) - warp(run(x), f))^2    (M: p + f(p) in the frame)

    in the units of the warping error (video.metrics). A network whose output jumps when its
    input moves by a pixel (stride-2 convolutions alias) flickers on video; this penalizes it."""
    b, _, h, w = photos.shape
    flow = random_flow(b, h, w, shift=shift, bend=bend, device=photos.device)  # (B, 2, H, W)
    moved = (warp(photos, flow) + noise * torch.randn_like(photos)).clamp(0, 1)
    m = inside(flow)[:, None]  # (B, 1, H, W)
    gap = (run(moved) - warp(outputs, flow)).pow(2) * m
    return gap.sum() / m.sum().clamp_min(1)


def _check_weight(name: str, value) -> float:
    if not (isinstance(value, (int, float)) and value >= 0):
        raise InputError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


class PerceptualObjective(nn.Module):
    """The perceptual loss of a TransformerNet's outputs for a batch of photos (Johnson et al.).

    styles: one image for an instance/batch-norm network, N for a conditional one (paths, sample
    names or tensors), resized to `style_size` for their Gram targets. fit_style=k (conditional
    networks): train only style k's scale and shift, every image in style k (Dumoulin et al.).
    mix_fraction (conditional networks): the share of images trained on a random mix of two
    styles against the same mix of their Gram targets (MIX_FRACTION).
    """

    def __init__(self, model: TransformerNet, styles, extractor: VGGFeatures,
                 settings: Settings = FEEDFORWARD_SETTINGS, *, style_size: int = STYLE_SIZE,
                 fit_style: int | None = None, temporal_weight: float = 0.0,
                 mix_fraction: float = MIX_FRACTION):
        super().__init__()
        self.temporal_weight = _check_weight("temporal_weight", temporal_weight)
        if not isinstance(model, TransformerNet):
            raise InputError(f"a perceptual objective trains a TransformerNet, got {type(model).__name__}")
        if not 0 <= mix_fraction <= 1:
            raise InputError(f"mix_fraction must be in [0, 1], got {mix_fraction!r}")
        self.mix_fraction = mix_fraction if model.norm == "conditional" and model.styles > 1 else 0.0
        self.model, self.settings = model, settings
        self.__dict__["extractor"] = extractor  # not a submodule: .to() must not move a shared VGG
        self.style_size, self.fit_style = style_size, fit_style
        images = [resolve_image(s, style_size) for s in styles]
        if model.norm == "conditional" and len(images) != model.styles:
            raise InputError(f"the conditional network has {model.styles} styles, "
                             f"but {len(images)} style images were given")
        if model.norm != "conditional" and len(images) != 1:
            raise InputError(f"a {model.norm}-norm network learns one style; got {len(images)} style images")
        if fit_style is not None:
            style_parameters(model, fit_style)  # checks the index
        self.layers = settings.active_style_layers()
        grams = style_targets(extractor, images, self.layers)  # {layer: (N, C, C)}
        for name, gram in grams.items():  # buffers: they move with .to(device)
            self.register_buffer(f"gram_{name}", gram)

    def trainable(self) -> list[nn.Parameter]:
        if self.fit_style is not None:
            return style_parameters(self.model, self.fit_style)
        return [p for p in self.model.parameters() if p.requires_grad]  # what the caller froze stays

    def describe(self) -> dict:
        s = self.settings
        return {"objective": "perceptual (Johnson et al. 2016)",
                "content_layers": dict(s.content_layers), "style_layers": dict(s.style_layers),
                "content_weight": s.content_weight, "style_weight": s.style_weight,
                "tv_weight": s.tv_weight, "style_size": self.style_size, "fit_style": self.fit_style,
                "mix_fraction": self.mix_fraction, "temporal_weight": self.temporal_weight}

    def forward(self, x):
        b, model, settings = x.shape[0], self.model, self.settings
        grams = {n: getattr(self, f"gram_{n}") for n in self.layers}
        content_layers = settings.active_content_layers()
        if model.norm == "conditional":
            index = (torch.full((b,), self.fit_style) if self.fit_style is not None
                     else torch.randint(model.styles, (b,))).to(x.device)
            weights = F.one_hot(index, model.styles).float()  # (B, N)
            if self.mix_fraction and self.fit_style is None:
                mixed = (torch.rand(b, device=x.device) < self.mix_fraction)[:, None]  # (B, 1)
                other = (index + torch.randint(1, model.styles, (b,), device=x.device)) % model.styles
                t = torch.rand(b, 1, device=x.device)
                blend = t * weights + (1 - t) * F.one_hot(other, model.styles).float()
                weights = torch.where(mixed, blend, weights)
            run = partial(model, style=weights)
            grams = {n: torch.einsum("bn,ncd->bcd", weights, g) for n, g in grams.items()}  # (B, C, C)
        else:
            run = model
        output = run(x)
        extractor = self.__dict__["extractor"] = on(self.extractor, x.device)  # a copy if elsewhere
        targets = content_targets(extractor, x, content_layers)  # the photos' own activations
        features = extractor(output, [*content_layers, *self.layers])
        loss, parts = perceptual_loss(features, output, settings, targets, grams)
        parts = group_parts(parts)
        if self.temporal_weight:
            parts["temporal"] = stability_loss(run, x, output)
            loss = loss + self.temporal_weight * parts["temporal"]
            parts["temporal"] = parts["temporal"].detach()
        return loss, parts, output


class AdaINObjective(nn.Module):
    """AdaIN's decoder loss for a batch of photos; style crops are drawn at random from folders.

    style_side: the paintings' shorter side before a crop is cut (default: the crop, a whole
    painting squeezed into it); larger keeps their brush marks at the size they have at that
    height, the size the decoder is then asked to paint at run time. identity_weight adds
    ||g(f(c)) - c||^2 / ||c||^2: decoding a photo's own features must give the photo back (the
    identity loss of Park & Lee 2019, "Arbitrary Style Transfer with Style-Attentional Networks"),
    which teaches the decoder to invert VGG cleanly instead of painting its own patterns.
    workers: processes that load the style crops (as TrainConfig.workers does the photos)."""

    def __init__(self, model: AdaIN, styles, *, crop: int = 256, content_weight: float = 1.0,
                 style_weight: float = ADAIN_STYLE_WEIGHT, temporal_weight: float = 0.0,
                 identity_weight: float = 0.0, style_side: int | None = None, workers: int = 0):
        super().__init__()
        if not isinstance(model, AdaIN):
            raise InputError(f"an AdaIN objective trains an AdaIN model, got {type(model).__name__}")
        self.content_weight = _check_weight("content_weight", content_weight)
        self.style_weight = _check_weight("style_weight", style_weight)
        self.temporal_weight = _check_weight("temporal_weight", temporal_weight)
        self.identity_weight = _check_weight("identity_weight", identity_weight)
        self.model, self.crop, self.workers = model, crop, workers
        self.styles = RandomCrops(styles, crop, style_side)
        self._batches = None  # (batch size, an endless iterator of style crops), made on first use

    def trainable(self) -> list[nn.Parameter]:
        return list(self.model.decoder.parameters())

    def describe(self) -> dict:
        return {"objective": "AdaIN decoder (Huang & Belongie 2017), relative losses",
                "content_weight": self.content_weight, "style_weight": self.style_weight,
                "style_crop": self.crop, "style_side": self.styles.side, "style_images": len(self.styles),
                "identity_weight": self.identity_weight, "temporal_weight": self.temporal_weight}

    def style_batch(self, n: int, device) -> torch.Tensor:
        """n style crops (n, 3, crop, crop) drawn at random, with replacement, on `device`."""
        if self._batches is None or self._batches[0] != n:
            self._batches = (n, iter(batches(self.styles, n, self.workers, torch.device(device))))
        return next(self._batches[1]).to(device, non_blocking=True)

    def forward(self, x):
        s = self.style_batch(x.shape[0], x.device)
        with torch.no_grad():
            own = self.model.encode(x)  # (B, 512, h, w), once for both terms
        content, style, output = adain_losses(self.model, x, s, f_c=own)
        loss = self.content_weight * content + self.style_weight * style
        parts = {"content": content.detach(), "style": style.detach()}
        if self.identity_weight:  # AdaIN(f_c, f_c) = f_c: the decoder must give the photo back
            identity = content_loss(self.model.decoder(own, size=x.shape[-2:]), x)
            loss = loss + self.identity_weight * identity
            parts["identity"] = identity.detach()
        if self.temporal_weight:
            temporal = stability_loss(partial(self.model, style=s), x, output)
            loss = loss + self.temporal_weight * temporal
            parts["temporal"] = temporal.detach()
        return loss, parts, output
