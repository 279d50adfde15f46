"""AdaIN: arbitrary style transfer in one forward pass, for any style image, no training per style.

Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization"
(ICCV 2017). A fixed VGG encoder maps content and style to relu4_1 features f_c, f_s (B, 512, h, w);
adaptive instance normalization gives each channel of the content the style's mean and standard
deviation over positions,

    AdaIN(x, y) = sigma(y) (x - mu(x)) / sigma(x) + mu(y)                     -> adain, mean_std

and a trained decoder turns the target features t = AdaIN(f_c, f_s) back into an image (`Decoder`,
the mirror of VGG up to relu4_1 with nearest upsampling instead of pooling). Statistics are per
image and channel over the h*w positions, sigma = sqrt(variance + eps) with the biased variance.
Controls at test time, all on t (section 7 of the paper), in `AdaIN.target`:

    t = alpha AdaIN(f_c, f_s) + (1 - alpha) f_c          content-style trade-off, alpha in [0, 1]
    t = sum_k w_k AdaIN(f_c, f_s_k)                      style interpolation, weights sum to one
    t = sum_k m_k AdaIN_{m_k}(f_c, f_s_k)                spatial control: region k (mask m_k) takes
                                                         style k, normalized by its own statistics
    preserve_color                                       style recoloured with color.match_histogram
                                                         ("luminance": the photo's colours put back)

The decoder ends in a sigmoid (the paper's decoder outputs raw values): nstlab images live in
[0, 1], and a sigmoid keeps them there during training too, where clamping would stop gradients.
Its output is resized to the content's size when that is not a multiple of 8.

Training (`adain_losses`) minimizes the paper's eq. 2-4 in relative form, for the same reason as
nstlab.losses: every term divided by its target is independent of the activation scale of the VGG
weights, so one style weight works with Caffe-converted and torchvision weights alike:

    content = ||f(g(t)) - t||^2 / ||t||^2                                   (relu4_1)
    style   = mean over layers of ||mu(phi(g)) - mu(phi(s))||^2 / ||mu(phi(s))||^2
                                + ||sigma(phi(g)) - sigma(phi(s))||^2 / ||sigma(phi(s))||^2
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import color
from ..errors import InputError
from ..losses import EPS, content_loss
from ..mixing import as_list, composite, load_masks, mix_weights, one_of, resize_mask
from ..vgg import VGGFeatures

LAYER = "relu4_1"  # the bottleneck: AdaIN happens here
REMEMBERED_STYLES = 8  # style images whose features an AdaIN network keeps (encode_style)
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def mean_std(features: torch.Tensor, eps: float = 1e-5,
             mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, C, H, W) -> mean, std (B, C, 1, 1) per channel over the positions; std = sqrt(var + eps).

    mask: (1 or B, 1, H, W) weights in [0, 1]: statistics of that region only (weighted by it).
    """
    if mask is None:
        mean = features.mean((2, 3), keepdim=True)
        var = features.var((2, 3), correction=0, keepdim=True)
    else:
        area = mask.sum((2, 3), keepdim=True).clamp_min(EPS)  # (1 or B, 1, 1, 1)
        mean = (features * mask).sum((2, 3), keepdim=True) / area
        var = ((features - mean).pow(2) * mask).sum((2, 3), keepdim=True) / area
    return mean, (var + eps).sqrt()


def adain(content_features: torch.Tensor, style_features: torch.Tensor, eps: float = 1e-5,
          mask: torch.Tensor | None = None) -> torch.Tensor:
    """sigma(y) (x - mu(x)) / sigma(x) + mu(y): content (B, C, H, W), style (1 or B, C, H', W').

    mask: (1 or B, 1, H, W): mu(x), sigma(x) from that region of the content only (spatial control).
    A batch of one on either side broadcasts.
    """
    b_c, b_s = content_features.shape[0], style_features.shape[0]
    if b_c != b_s and 1 not in (b_c, b_s):
        raise InputError(f"content batch {b_c} and style batch {b_s} differ (one of them may be 1)")
    mu_c, sigma_c = mean_std(content_features, eps, mask)
    mu_s, sigma_s = mean_std(style_features, eps)
    return sigma_s * (content_features - mu_c) / sigma_c + mu_s


class Decoder(nn.Module):
    """relu4_1 features (B, 512, h, w) -> image (B, 3, 8h, 8w) in [0, 1]: VGG-19 up to relu4_1, mirrored.

    width scales the internal channels (256, 128, 64); the input stays 512. Reflection padding
    avoids border artefacts; ReLU after every convolution but the last, then a sigmoid.
    """

    def __init__(self, width: float = 1.0):
        super().__init__()
        if not (width > 0 and int(64 * width) >= 1):
            raise InputError(f"width must be > 0 and leave at least one channel, got {width!r}")
        self.width = width
        c4, c3, c2 = (int(n * width) for n in (256, 128, 64))
        plan = [(512, c4), "up", (c4, c4), (c4, c4), (c4, c4), (c4, c3), "up", (c3, c3), (c3, c2), "up",
                (c2, c2), (c2, 3)]
        layers: list[nn.Module] = []
        for step in plan:
            if step == "up":
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            else:
                layers += [nn.Conv2d(*step, 3, padding=1, padding_mode="reflect"), nn.ReLU()]
        self.layers = nn.Sequential(*layers[:-1])  # no ReLU after the last convolution

    def forward(self, features: torch.Tensor, size: Sequence[int] | None = None) -> torch.Tensor:
        """(B, 512, h, w) -> (B, 3, 8h, 8w), or (B, 3, *size) when size (H, W) is given; in [0, 1]."""
        if min(features.shape[-2:]) < 2:
            raise InputError(f"features {features.shape[-2]}x{features.shape[-1]} are too small to decode: "
                             "reflection padding needs 2x2 (images of at least 16 pixels a side)")
        x = self.layers(features)  # (B, 3, 8h, 8w), before the sigmoid
        if size is not None and tuple(x.shape[-2:]) != tuple(size):
            x = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
        return torch.sigmoid(x)


class AdaIN(nn.Module):
    """Frozen VGG encoder (to relu4_1) + AdaIN + trainable decoder; forward(content, style) -> image.

    The network owns its encoder (it is saved with it and moves with it): give it its own
    `VGGFeatures`, not one that others share.
    """

    def __init__(self, encoder: VGGFeatures, decoder: Decoder | None = None):
        super().__init__()
        self.encoder = encoder.requires_grad_(False).eval()
        self.decoder = decoder if decoder is not None else Decoder()

    def train(self, mode: bool = True) -> AdaIN:
        super().train(mode)
        self.encoder.eval()  # the encoder stays a fixed feature extractor
        return self

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> relu4_1 features (B, 512, H/8, W/8)."""
        return self.encoder(image, [LAYER])[LAYER]

    def encode_style(self, image: torch.Tensor) -> torch.Tensor:
        """`encode` for a style image. Without gradients the features of the last REMEMBERED_STYLES
        style images are kept, found again by their pixels, so the frames of a video encode their
        style once instead of once a frame (a third of an AdaIN frame's time)."""
        if torch.is_grad_enabled():
            return self.encode(image)
        kind = image.device.type
        dtype = torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else None
        weights = [(p._version, p.dtype) for p in self.encoder.parameters()]  # changed weights: new keys
        key = (hashlib.blake2b(image.detach().float().cpu().numpy().tobytes(), digest_size=16).digest(),
               tuple(image.shape), str(image.device), dtype, tuple(weights))
        memo = self.__dict__.setdefault("_style_features", OrderedDict())  # not in the state dict
        if key in memo:
            memo.move_to_end(key)
        else:
            memo[key] = self.encode(image)
            while len(memo) > REMEMBERED_STYLES:
                memo.popitem(last=False)
        return memo[key]

    def target(self, content: torch.Tensor, style, alpha: float = 1.0, mix=None, masks=None,
               preserve_color=False) -> torch.Tensor:
        """The target features t (B, 512, h, w) that `forward` decodes; arguments as there."""
        if not 0 <= float(alpha) <= 1:
            raise InputError(f"alpha must be a number in [0, 1], got {alpha!r}")
        styles = as_list(style)
        if not styles:
            raise InputError("no style image given")
        one_of(mix, masks)
        w = mix_weights(mix, len(styles)).tolist()
        if color.color_mode(preserve_color) == "histogram":
            styles = [color.match_histogram(s, content) for s in styles]
        f_c = self.encode(content)  # (B, 512, h, w)
        f_s = [self.encode_style(s) for s in styles]  # each at its own size
        if masks is None:
            mixed = sum(w_k * adain(f_c, f_k) for w_k, f_k in zip(w, f_s, strict=True))
        else:
            m = load_masks(masks, len(styles), content.shape[-2:])  # (K, 1, H, W)
            m = resize_mask(m, f_c.shape[-2:]).to(f_c)  # (K, 1, h, w)
            # each region normalized with its own statistics; where the masks sum below 1 the
            # content's own features fill in
            mixed = composite(m, [adain(f_c, f_k, mask=m[k:k + 1]) for k, f_k in enumerate(f_s)], f_c)
        return alpha * mixed + (1 - alpha) * f_c

    def forward(self, content: torch.Tensor, style, alpha: float = 1.0, mix=None, masks=None,
                preserve_color=False) -> torch.Tensor:
        """content (B, 3, H, W), style (1 or B, 3, H', W') or a list of them -> (B, 3, H, W) in [0, 1].

        alpha: 0 = the content reconstructed, 1 = fully stylized. mix: one weight per style (>= 0,
        normalized to sum 1; default equal). masks: one per style (see `nstlab.mixing`), region k
        takes style k (where they cover less than 1 the content stays). preserve_color: True /
        "histogram" recolours each style image with the content's colour statistics first;
        "luminance" keeps the stylized luminance with the content's colours.
        """
        t = self.target(content, style, alpha, mix, masks, preserve_color)
        output = self.decoder(t, size=content.shape[-2:])
        if color.color_mode(preserve_color) == "luminance":
            output = color.with_colors_of(output, content)
        return output


def adain_losses(model: AdaIN, content: torch.Tensor, style: torch.Tensor,
                 layers: Sequence[str] = STYLE_LAYERS, *,
                 f_c: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training losses for the decoder -> (content_loss, style_loss, output (B, 3, H, W)).

    content (B, 3, H, W), style (1 or B, 3, H', W'): t = AdaIN(f_c, f_s) at relu4_1 (alpha 1),
    output = decoder(t). Relative losses per image, averaged over the batch (module docstring).
    f_c: model.encode(content) where the caller has it already.
    """
    layers = model.encoder.check_layers(layers)
    if not layers:
        raise InputError("adain_losses needs at least one style layer")
    with torch.no_grad():  # targets: nothing to learn in the encoder
        f_c = model.encode(content) if f_c is None else f_c
        f_s = model.encoder(style, {*layers, LAYER})
        t = adain(f_c, f_s[LAYER])  # (B, 512, h, w)
    output = model.decoder(t, size=content.shape[-2:])
    f_g = model.encoder(output, {*layers, LAYER})
    c_loss = content_loss(f_g[LAYER], t)
    s_loss = output.new_zeros(())
    for name in layers:
        mu_g, sigma_g = mean_std(f_g[name])  # (B, C, 1, 1)
        mu_s, sigma_s = mean_std(f_s[name])
        s_loss = s_loss + content_loss(mu_g, mu_s) + content_loss(sigma_g, sigma_s)
    return c_loss, s_loss / len(layers), output
