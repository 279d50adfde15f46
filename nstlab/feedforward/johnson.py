"""The image transformation network for real-time style transfer: one forward pass per image.

Johnson, Alahi & Fei-Fei, "Perceptual Losses for Real-Time Style Transfer and Super-Resolution"
(ECCV 2016) train a convolutional network to do what Gatys et al. do by optimization. For width w:

    conv 9x9  stride 1   3 -> w      (B, w,  H,   W)
    conv 4x4  stride 2   w -> 2w     (B, 2w, H/2, W/2)   (3x3 in Johnson et al.: see mirror symmetry)
    conv 4x4  stride 2  2w -> 4w     (B, 4w, H/4, W/4)
    `blocks` residual blocks: x + norm(conv(relu(norm(conv(x)))))  at 4w
    resize x2 + conv 3x3  4w -> 2w   (B, 2w, H/2, W/2)
    resize x2 + conv 3x3  2w -> w    (B, w,  H,   W)
    conv 9x9  stride 1   w -> 3      (B, 3,  H,   W), then sigmoid

Every convolution but the last is followed by a norm layer and a ReLU (in the residual blocks the
second one has no ReLU: the block adds its output to the skip as is). Padding is by reflection,
so the borders show no dark frame. Upsampling is a nearest-neighbour resize followed by a
convolution rather than a transposed convolution, whose uneven overlap of kernels paints
checkerboard patterns (Odena, Dumoulin & Olah 2016, "Deconvolution and Checkerboard Artifacts").

norm: "instance" (Ulyanov, Vedaldi & Lempitsky 2016, "Instance Normalization: The Missing
Ingredient for Fast Stylization": normalizing each image on its own is what makes the results
good), "batch" (Johnson et al.'s original), or "conditional" (Dumoulin et al. 2017, see cin.py:
N styles in one network, chosen or mixed with `style=` in forward).

Images are RGB in [0, 1] everywhere in nstlab, so the output is sigmoid(last conv): always in
range, and unlike clamping it keeps a gradient for every pixel. Convolutions followed by a norm
layer have no bias: the norm subtracts the channel mean and would cancel it.

Mirror symmetry. Flipping a photo left-right should flip the result, nothing else. A 3x3
stride-2 convolution of an even side n breaks that: its outputs centre on input columns 0, 2, ...,
n - 2, so the left edge is seen through the padding and the right edge is not, and after two of
them the coarse grid sits 3.5 pixels inside the right border. Networks of that design (Johnson et
al.'s, and nstlab's first networks: `symmetric=False`, kept to load their files) learned to paint a
band along the right edge. The default down path is a 4x4 stride-2 convolution with one pixel of
reflection padding (outputs centred between columns 2j and 2j + 1, so each input column feeds two
outputs, evenly: no checkerboard) on sides made multiples of 4 by reflection padding split
between the two borders; every layer is then mirror-symmetric, and only the learned weights can
tell left from right (training flips the crops, so they barely do). The padding is cropped away
before the last convolution, which pads at the true border as for any other size.

`symmetric=False` takes any H, W as it is: a stride-2 convolution of a side n gives ceil(n / 2),
the two upsamplings give 4 * ceil(H / 4) >= H rows, and the extra rows and columns, past the
bottom and right edges, are cropped before the last convolution.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import InputError
from .cin import ConditionalInstanceNorm2d, style_weights

NORMS = ("instance", "batch", "conditional")
MIN_SIDE = 5  # the 9x9 convolutions reflect 4 pixels, which needs a side of at least 5


def _norm_layer(norm: str, channels: int, styles: int) -> nn.Module:
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    return ConditionalInstanceNorm2d(channels, styles)


class ConvNorm(nn.Module):
    """Reflection padding, convolution (no bias), norm: (B, C_in, H, W) -> (B, C_out, H/stride, W/stride)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, norm: str, styles: int,
                 padding: int | None = None):
        super().__init__()
        self.padding = kernel // 2 if padding is None else padding
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, bias=False)
        self.norm = _norm_layer(norm, out_channels, styles)

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        x = self.conv(F.pad(x, [self.padding] * 4, mode="reflect"))
        return self.norm(x, weights) if isinstance(self.norm, ConditionalInstanceNorm2d) else self.norm(x)


class ResidualBlock(nn.Module):
    """x + norm(conv(relu(norm(conv(x))))) at constant channels and size."""

    def __init__(self, channels: int, norm: str, styles: int):
        super().__init__()
        self.first = ConvNorm(channels, channels, 3, 1, norm, styles)
        self.second = ConvNorm(channels, channels, 3, 1, norm, styles)

    def forward(self, x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        return x + self.second(F.relu(self.first(x, weights)), weights)


class TransformerNet(nn.Module):
    """Johnson et al.'s style network: forward(x (B, 3, H, W) in [0, 1], style) -> same shape in [0, 1].

    style (norm="conditional" only): a style index, or mixing weights (N,) or (B, N); default style 0.
    symmetric=False: the 3x3 stride-2 down path of files saved before the mirror-symmetric design.
    """

    def __init__(self, norm: str = "instance", width: int = 32, blocks: int = 5, styles: int = 1,
                 symmetric: bool = True):
        super().__init__()
        if norm not in NORMS:
            raise InputError(f"unknown norm {norm!r}; choose one of {', '.join(NORMS)}")
        if width < 1 or blocks < 0 or styles < 1:
            raise InputError(f"need width >= 1, blocks >= 0, styles >= 1; got {width}, {blocks}, {styles}")
        if norm != "conditional" and styles != 1:
            raise InputError(f"a {norm}-norm network has one style; several styles need norm='conditional'")
        self.norm, self.width, self.blocks, self.styles = norm, width, blocks, styles
        self.symmetric = symmetric
        w, k = width, 4 if symmetric else 3  # either way one pixel of padding: even sides halve
        self.down = nn.ModuleList([ConvNorm(3, w, 9, 1, norm, styles),
                                   ConvNorm(w, 2 * w, k, 2, norm, styles, padding=1),
                                   ConvNorm(2 * w, 4 * w, k, 2, norm, styles, padding=1)])
        self.residual = nn.ModuleList([ResidualBlock(4 * w, norm, styles) for _ in range(blocks)])
        self.up = nn.ModuleList([ConvNorm(4 * w, 2 * w, 3, 1, norm, styles),
                                 ConvNorm(2 * w, w, 3, 1, norm, styles)])
        self.out = nn.Conv2d(w, 3, 9)

    def config(self) -> dict:
        """The constructor arguments: `TransformerNet(**net.config())` rebuilds the architecture."""
        return {"norm": self.norm, "width": self.width, "blocks": self.blocks, "styles": self.styles,
                "symmetric": self.symmetric}

    def forward(self, x: torch.Tensor, style=None) -> torch.Tensor:
        b, _, h, w = x.shape
        if min(h, w) < MIN_SIDE:
            raise InputError(f"image {h}x{w} is too small: sides must be {MIN_SIDE} pixels or more")
        if self.norm == "conditional":
            weights = style_weights(0 if style is None else style, self.styles, b, x.device)  # (B, N)
        elif style is not None:
            raise InputError(f"style= is for norm='conditional'; this network has norm={self.norm!r}")
        else:
            weights = None
        top = left = 0
        if self.symmetric:  # sides to multiples of 4, the padding split between the two borders
            (dh, dw) = (-h % 4, -w % 4)
            top, left = dh // 2, dw // 2
            x = F.pad(x, [left, dw - left, top, dh - top], mode="reflect")  # (B, 3, 4 ceil(H/4), 4 ceil(W/4))
        for layer in self.down:
            x = F.relu(layer(x, weights))  # (B, 4w, ceil(H/4), ceil(W/4)) at the end
        for block in self.residual:
            x = block(x, weights)
        for layer in self.up:
            x = F.relu(layer(F.interpolate(x, scale_factor=2, mode="nearest"), weights))
        x = x[..., top:top + h, left:left + w]  # (B, w, 4 ceil(H/4), 4 ceil(W/4)) -> (B, w, H, W)
        return torch.sigmoid(self.out(F.pad(x, [4] * 4, mode="reflect")))
