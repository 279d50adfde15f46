"""Colour control: keep the content photo's colours in the stylized result.

Gatys, Bethge, Hertzmann & Shechtman, "Controlling Perceptual Factors in Neural Style Transfer"
(CVPR 2017), section 5, gives two ways to transfer a painting's style without its palette:

1. Luminance-only transfer. Convert both images to YIQ and stylize the luminance Y alone (as a
   grey image, Y repeated in three channels so VGG can take it); afterwards put back the content's
   colour channels I and Q. The style luminance is first matched to the content luminance's mean
   and standard deviation, so that the two are on the same scale:

       L_s' = (sigma_c / sigma_s) (L_s - mu_s) + mu_c          -> luminance_images, with_colors_of

2. Colour histogram matching. Before the transfer, recolour the style image so that the mean and
   covariance of its RGB pixels equal the content's:

       x' = A (x - mu_s) + mu_c,   A = Sigma_c^(1/2) Sigma_s^(-1/2)              -> match_histogram

   with symmetric matrix square roots from the eigendecomposition (the eigenvalues of Sigma_s
   clamped at EPS, so a flat or grey style image gives finite output).

YIQ is the NTSC colour space: Y = 0.299 R + 0.587 G + 0.114 B, I = 0.596 R - 0.274 G - 0.322 B,
Q = 0.211 R - 0.523 G + 0.312 B. Images are float tensors (B, 3, H, W) in [0, 1]; statistics are
per image, over all its pixels; outputs are clamped to [0, 1]. A batch of one broadcasts.

Every method takes `preserve_color=`: False, True or "histogram" (method 2; for a network without
a style image, the output is recoloured), or "luminance" (method 1) -> `color_mode`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .errors import InputError

EPS = 1e-5  # floor for variances / covariance eigenvalues (pixel values in [0, 1])

RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                           [0.596, -0.274, -0.322],
                           [0.211, -0.523, 0.312]], dtype=torch.float64)
YIQ_TO_RGB = torch.linalg.inv(RGB_TO_YIQ)


MODES = ("histogram", "luminance")


def color_mode(preserve_color) -> str | None:
    """preserve_color= as every method takes it -> None, "histogram" or "luminance"."""
    if preserve_color is None or preserve_color is False:
        return None
    if preserve_color is True:
        return "histogram"
    if preserve_color in MODES:
        return preserve_color
    raise InputError(f"preserve_color must be True, False, 'histogram' or 'luminance', "
                     f"got {preserve_color!r}")


def _check(image: torch.Tensor, name: str) -> None:
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or image.shape[1] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise InputError(f"{name} must be a tensor (B, 3, H, W), got {shape}")


def _apply(matrix: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    """3x3 colour matrix applied at every pixel of (B, 3, H, W)."""
    return torch.einsum("ij,bjhw->bihw", matrix.to(image.device, image.dtype), image)


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> (B, 3, H, W) YIQ (Y in [0, 1], I and Q signed)."""
    _check(image, "image")
    return _apply(RGB_TO_YIQ, image)


def yiq_to_rgb(yiq: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) YIQ -> (B, 3, H, W) RGB (not clamped)."""
    _check(yiq, "yiq")
    return _apply(YIQ_TO_RGB, yiq)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB -> (B, 1, H, W) luminance Y."""
    return rgb_to_yiq(image)[:, :1]


def luminance_images(content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey (B, 3, H, W) versions of both images, the style's luminance matched to the content's.

    L_s' = (sigma_c / sigma_s)(L_s - mu_s) + mu_c, mean and std per image over its pixels.
    """
    y_c, y_s = luminance(content), luminance(style)  # (B, 1, H, W), sizes may differ
    mu_c, sigma_c = y_c.mean((1, 2, 3), keepdim=True), y_c.std((1, 2, 3), correction=0, keepdim=True)
    mu_s, sigma_s = y_s.mean((1, 2, 3), keepdim=True), y_s.std((1, 2, 3), correction=0, keepdim=True)
    y_s = (sigma_c / sigma_s.clamp_min(EPS ** 0.5)) * (y_s - mu_s) + mu_c  # (B, 1, H, W)
    return y_c.expand(-1, 3, -1, -1).clamp(0, 1), y_s.expand(-1, 3, -1, -1).clamp(0, 1)


def with_colors_of(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Y of `stylized` (grey or colour) with I and Q of `content` -> (B, 3, H, W) RGB in [0, 1]."""
    _check(content, "content")
    if content.shape[-2:] != stylized.shape[-2:]:
        content = F.interpolate(content, size=stylized.shape[-2:], mode="bilinear",
                                antialias=True, align_corners=False)
    y = luminance(stylized)  # (B, 1, H, W)
    iq = rgb_to_yiq(content)[:, 1:]  # (1 or B, 2, H, W)
    b = max(y.shape[0], iq.shape[0])  # a batch of one broadcasts
    return yiq_to_rgb(torch.cat([y.expand(b, -1, -1, -1), iq.expand(b, -1, -1, -1)], dim=1)).clamp(0, 1)


def _stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 3, H, W) -> mean (B, 3, 1), covariance (B, 3, 3) over the H*W pixels."""
    x = image.flatten(2).float()  # (B, 3, N)
    mu = x.mean(2, keepdim=True)
    d = x - mu
    return mu, d @ d.transpose(1, 2) / x.shape[2]


def _matrix_power(cov: torch.Tensor, power: float) -> torch.Tensor:
    """Symmetric (B, 3, 3) -> cov^power via eigh; eigenvalues clamped at EPS for negative powers, else 0."""
    values, vectors = torch.linalg.eigh(cov)
    values = values.clamp_min(EPS if power < 0 else 0.0)
    return vectors @ torch.diag_embed(values.pow(power)) @ vectors.transpose(1, 2)


def match_histogram(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Recolour `style` so its RGB mean and covariance are the content's -> (B, 3, H, W) in [0, 1].

    x' = Sigma_c^(1/2) Sigma_s^(-1/2) (x - mu_s) + mu_c; the images may differ in size.
    """
    _check(style, "style")
    _check(content, "content")
    mu_s, cov_s = _stats(style)
    mu_c, cov_c = _stats(content)
    # the 3x3 algebra in float64 on the CPU: exact enough, and works where the device lacks eigh/float64
    cov_s, cov_c = cov_s.cpu().double(), cov_c.cpu().double()
    a = (_matrix_power(cov_c, 0.5) @ _matrix_power(cov_s, -0.5)).to(mu_s)  # (B, 3, 3)
    x = style.flatten(2).float()  # (B, 3, N)
    out = (a @ (x - mu_s) + mu_c).to(style.dtype)  # (B, 3, N)
    return out.reshape(out.shape[0], *style.shape[1:]).clamp(0, 1)
