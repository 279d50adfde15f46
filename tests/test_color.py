import pytest
import torch

from nstlab.color import (
    luminance,
    luminance_images,
    match_histogram,
    rgb_to_yiq,
    with_colors_of,
    yiq_to_rgb,
)


def _near_grey(*shape, seed=0):
    """Random image with values in [0.3, 0.7]: colour transforms of it stay inside [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    return 0.3 + 0.4 * torch.rand(*shape, generator=g)


def _cov(image):
    x = image.flatten(2).double()
    d = x - x.mean(2, keepdim=True)
    return d @ d.transpose(1, 2) / x.shape[2]


def test_yiq_round_trip():
    image = torch.rand(2, 3, 5, 7)
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-6)


def test_yiq_hand_values():
    red_white = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 1.0]]).view(1, 3, 1, 2)
    yiq = rgb_to_yiq(red_white)[0, :, 0]
    assert torch.allclose(yiq[:, 0], torch.tensor([0.299, 0.596, 0.211]), atol=1e-6)
    assert torch.allclose(yiq[:, 1], torch.tensor([1.0, 0.0, 0.0]), atol=1e-6)
    assert luminance(red_white).shape == (1, 1, 1, 2)
    assert luminance(red_white)[0, 0, 0, 0].item() == pytest.approx(0.299)


def test_rejects_wrong_shape():
    with pytest.raises(ValueError, match="B, 3, H, W"):
        rgb_to_yiq(torch.rand(3, 4, 4))


def test_luminance_images_match_content_statistics():
    content = _near_grey(1, 3, 8, 10, seed=1)
    style = 0.45 + 0.1 * torch.rand(1, 3, 12, 6, generator=torch.Generator().manual_seed(2))
    content_grey, style_grey = luminance_images(content, style)
    assert content_grey.shape == content.shape and style_grey.shape == style.shape
    for grey in (content_grey, style_grey):
        assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 0], grey[:, 2])
    y_c = luminance(content)
    assert torch.allclose(content_grey[:, :1], y_c)
    assert style_grey.min() > 0 and style_grey.max() < 1  # no clipping, so the statistics are exact
    assert style_grey.mean().item() == pytest.approx(y_c.mean().item(), abs=1e-6)
    assert style_grey[:, 0].std(correction=0).item() == pytest.approx(y_c.std(correction=0).item(), abs=1e-6)
    # the luminance pattern of the style is kept (an affine map of it), not replaced
    y_s = luminance(style).flatten()
    assert torch.corrcoef(torch.stack([y_s, style_grey[:, 0].flatten()]))[0, 1] > 0.9999


def test_with_colors_of_keeps_content_chroma_and_stylized_luminance():
    content = _near_grey(1, 3, 6, 8, seed=3)
    stylized = 0.4 + 0.2 * torch.rand(1, 3, 6, 8, generator=torch.Generator().manual_seed(4))
    out = with_colors_of(stylized, content)
    assert out.shape == stylized.shape
    assert out.min() > 0 and out.max() < 1
    yiq_out, yiq_c, yiq_s = rgb_to_yiq(out), rgb_to_yiq(content), rgb_to_yiq(stylized)
    assert torch.allclose(yiq_out[:, 0], yiq_s[:, 0], atol=1e-6)
    assert torch.allclose(yiq_out[:, 1:], yiq_c[:, 1:], atol=1e-6)


def test_with_colors_of_resizes_content():
    content = torch.full((1, 3, 20, 30), 0.5)
    content[:, 0] = 0.6  # a uniform reddish tint survives any resampling
    stylized = _near_grey(1, 3, 10, 15, seed=5)
    out = with_colors_of(stylized, content)
    assert out.shape == (1, 3, 10, 15)
    expected_iq = rgb_to_yiq(content)[:, 1:, :10, :15]
    assert torch.allclose(rgb_to_yiq(out)[:, 1:], expected_iq, atol=1e-5)


def test_match_histogram_matches_mean_and_covariance():
    content = _near_grey(1, 3, 40, 50, seed=6)
    content[:, 1] = 0.5 * content[:, 0] + 0.5 * content[:, 1]  # correlated channels, still in [0.3, 0.7]
    style = _near_grey(1, 3, 30, 20, seed=7)
    out = match_histogram(style, content)
    assert out.shape == style.shape
    assert out.min() > 0 and out.max() < 1
    assert torch.allclose(out.mean((2, 3)), content.mean((2, 3)), atol=1e-5)
    assert torch.allclose(_cov(out), _cov(content), atol=1e-6)
    assert not torch.allclose(_cov(style), _cov(content), atol=1e-3)  # the test is not trivially true


def test_match_histogram_identity_for_same_image():
    image = _near_grey(2, 3, 16, 16, seed=8)
    assert torch.allclose(match_histogram(image, image), image, atol=1e-5)


def test_constant_style_gives_finite_output():
    flat = torch.full((1, 3, 8, 8), 0.4)
    flat[:, 2] = 0.7
    content = torch.rand(1, 3, 8, 8)
    recoloured = match_histogram(flat, content)
    assert torch.isfinite(recoloured).all()
    assert torch.allclose(recoloured.mean((2, 3)), content.mean((2, 3)), atol=1e-5)  # flat -> content mean
    for grey in luminance_images(content, flat):
        assert torch.isfinite(grey).all()
    assert torch.isfinite(match_histogram(content, flat)).all()


def test_match_histogram_to_grey_content_gives_grey_style():
    content = _near_grey(1, 1, 10, 10, seed=9).expand(1, 3, 10, 10)  # R = G = B: singular covariance
    style = _near_grey(1, 3, 10, 10, seed=10)
    out = match_histogram(style, content)
    assert torch.allclose(out[:, 0], out[:, 1], atol=1e-5) and torch.allclose(out[:, 0], out[:, 2], atol=1e-5)
    assert torch.allclose(_cov(out), _cov(content), atol=1e-6)
