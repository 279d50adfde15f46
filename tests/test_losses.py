import pytest
import torch

from nstlab.errors import InputError
from nstlab.losses import (
    Settings,
    content_loss,
    gram_matrix,
    group_parts,
    part_group,
    part_name,
    perceptual_loss,
    style_loss,
    total_variation,
)


def test_gram_matrix_hand_values():
    # one image, 2 channels, 2 positions: F = [[1, 2], [3, 4]] -> F F^T / 2
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 2
    assert torch.allclose(gram_matrix(f)[0], expected)


def test_gram_matrix_matches_loop_reference():
    f = torch.randn(2, 4, 3, 5)
    reference = torch.zeros(2, 4, 4)
    for b in range(2):
        for i in range(4):
            for j in range(4):
                reference[b, i, j] = (f[b, i] * f[b, j]).sum() / 15
    assert torch.allclose(gram_matrix(f), reference, atol=1e-6)


def test_gram_discards_layout():
    f = torch.randn(1, 3, 4, 4)
    shuffled = f.flatten(2)[:, :, torch.randperm(16)].view(1, 3, 4, 4)
    assert torch.allclose(gram_matrix(f), gram_matrix(shuffled), atol=1e-5)


def test_content_loss_hand_values():
    target = torch.tensor([3.0, 4.0]).view(1, 1, 1, 2)  # ||P||^2 = 25
    features = torch.tensor([3.0, 2.0]).view(1, 1, 1, 2)  # ||F - P||^2 = 4
    assert content_loss(features, target).item() == pytest.approx(4 / 25)
    assert content_loss(target, target).item() == 0


def test_content_loss_batch_is_mean_of_images():
    target = torch.randn(1, 3, 4, 4)
    a, b = torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)
    both = content_loss(torch.cat([a, b]), target)
    assert both.item() == pytest.approx((content_loss(a, target) + content_loss(b, target)).item() / 2)


def test_style_loss_hand_values():
    target = torch.tensor([[2.0, 0.0], [0.0, 1.0]])[None]  # ||A||^2 = 5
    gram = torch.tensor([[1.0, 1.0], [1.0, 1.0]])[None]  # ||G - A||^2 = 1 + 1 + 1 + 0 = 3
    assert style_loss(gram, target).item() == pytest.approx(3 / 5)


def test_losses_are_invariant_to_feature_scale():
    f, p = torch.randn(1, 8, 6, 6), torch.randn(1, 8, 6, 6)
    for c in (1e-3, 7.0, 1e3):
        assert content_loss(c * f, c * p).item() == pytest.approx(content_loss(f, p).item(), rel=1e-4)
        assert style_loss(gram_matrix(c * f), gram_matrix(c * p)).item() == pytest.approx(
            style_loss(gram_matrix(f), gram_matrix(p)).item(), rel=1e-4)


def test_losses_are_invariant_to_image_size():
    # a texture tiled twice in each direction has the same Gram matrix and the same relative error
    f, p = torch.randn(1, 4, 5, 5), torch.randn(1, 4, 5, 5)
    tiled = lambda t: t.repeat(1, 1, 2, 2)  # noqa: E731
    assert torch.allclose(gram_matrix(tiled(f)), gram_matrix(f), atol=1e-5)
    assert content_loss(tiled(f), tiled(p)).item() == pytest.approx(content_loss(f, p).item(), rel=1e-5)


def test_total_variation_hand_values():
    image = torch.tensor([[0.0, 1.0], [0.0, 1.0]]).view(1, 1, 2, 2)
    # vertical differences all 0; horizontal: two differences of 1 -> mean 1
    assert total_variation(image).item() == pytest.approx(1.0)
    assert total_variation(torch.full((1, 3, 8, 8), 0.3)).item() == 0


def test_total_variation_matches_reference():
    x = torch.rand(1, 3, 5, 7)
    dy = sum((x[0, c, i + 1, j] - x[0, c, i, j]) ** 2 for c in range(3) for i in range(4) for j in range(7))
    dx = sum((x[0, c, i, j + 1] - x[0, c, i, j]) ** 2 for c in range(3) for i in range(5) for j in range(6))
    assert total_variation(x).item() == pytest.approx(dy.item() / 84 + dx.item() / 90, rel=1e-5)


def test_perceptual_loss_weights_and_parts():
    torch.manual_seed(0)
    feats = {n: torch.randn(1, 2, 3, 3) for n in ("a", "b", "c")}
    ctarget = {"a": torch.randn(1, 2, 3, 3)}
    starget = {n: gram_matrix(torch.randn(1, 2, 3, 3)) for n in ("b", "c")}
    image = torch.rand(1, 3, 4, 4)
    s = Settings(content_layers={"a": 2.0}, style_layers={"b": 1.0, "c": 3.0},
                 content_weight=5.0, style_weight=7.0, tv_weight=11.0)
    total, parts = perceptual_loss(feats, image, s, ctarget, starget)
    c = content_loss(feats["a"], ctarget["a"])
    sb = style_loss(gram_matrix(feats["b"]), starget["b"])
    sc = style_loss(gram_matrix(feats["c"]), starget["c"])
    tv = total_variation(image)
    # layer weights are normalized within each group: content 2/2, style 1/4 and 3/4
    expected = 5 * c + 7 * (0.25 * sb + 0.75 * sc) + 11 * tv
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    assert set(parts) == {"content:a", "style:b", "style:c", "tv"}
    assert parts["style:c"].item() == pytest.approx(sc.item())


def test_zero_weights_switch_terms_off():
    s = Settings(style_layers={"relu1_1": 0.0, "relu2_1": 1.0}, content_weight=0.0, tv_weight=0.0)
    assert s.active_content_layers() == []
    assert s.active_style_layers() == ["relu2_1"]


def test_settings_are_immutable_and_validated():
    s = Settings(style_layers=["relu1_1", "relu2_1"])
    assert dict(s.style_layers) == {"relu1_1": 1.0, "relu2_1": 1.0}
    with pytest.raises(TypeError):
        s.style_layers["relu3_1"] = 1.0
    assert s.replace(style_weight=2).style_weight == 2.0 and s.style_weight == 10.0
    with pytest.raises(ValueError, match="style_weight"):
        Settings(style_weight=-1)
    with pytest.raises(ValueError, match="relu1_1"):
        Settings(style_layers={"relu1_1": float("nan")})
    with pytest.raises(InputError, match="unknown setting"):
        s.replace(stlye_weight=1)


def test_masked_gram_is_the_gram_of_the_region():
    f = torch.randn(1, 3, 4, 6)
    mask = torch.zeros(2, 1, 4, 6)
    mask[0, :, :, :2] = 1  # the left two columns
    mask[1] = 1  # everywhere
    grams = gram_matrix(f, mask)
    assert grams.shape == (2, 3, 3)
    assert torch.allclose(grams[0], gram_matrix(f[..., :2])[0], atol=1e-6)
    assert torch.allclose(grams[1], gram_matrix(f)[0], atol=1e-6)


def test_style_masks_confine_each_style_to_its_region():
    image = torch.rand(1, 3, 8, 8)
    features = {"relu1_1": torch.randn(1, 4, 8, 8)}
    left = torch.zeros(1, 1, 8, 8)
    left[..., :4] = 1
    masks = torch.cat([left, 1 - left])
    # targets: each region's own Gram -> the masked loss is zero, the unmasked one is not
    targets = {"relu1_1": gram_matrix(features["relu1_1"], masks)}
    settings = Settings(content_layers={}, style_layers=["relu1_1"], tv_weight=0.0)
    masked, _ = perceptual_loss(features, image, settings, {}, targets, {"relu1_1": masks})
    plain, _ = perceptual_loss(features, image, settings, {}, targets)
    assert masked.item() == pytest.approx(0.0, abs=1e-6) and plain.item() > 1e-3


def test_loss_part_names_and_groups():
    assert part_name("style", "relu1_1") == "style:relu1_1" and part_name("tv") == "tv"
    assert part_group("style:relu1_1") == "style" and part_group("temporal") == "temporal"
    parts = {"content:relu2_2": 1.0, "style:relu1_1": 2.0, "style:relu2_1": 3.0, "tv": 0.5}
    assert group_parts(parts) == {"content": 1.0, "style": 5.0, "tv": 0.5}


def test_mix_weights_the_style_losses_of_several_styles():
    g = torch.randn(1, 3, 3)
    a, b = torch.randn(1, 3, 3), torch.randn(1, 3, 3)
    la, lb = style_loss(g, a).item(), style_loss(g, b).item()
    both = torch.cat([a, b])
    assert style_loss(g, both).item() == pytest.approx((la + lb) / 2)  # no weights: the mean
    assert style_loss(g, both, torch.tensor([0.75, 0.25])).item() == pytest.approx(0.75 * la + 0.25 * lb)


def test_extra_image_terms_are_weighted_by_the_settings():
    image = torch.rand(1, 3, 8, 8)
    settings = Settings(content_layers={}, style_layers={}, tv_weight=0.0, term_weights={"temporal": 4.0})
    terms = {"temporal": lambda x: (x - 0.5).pow(2).mean()}
    total, parts = perceptual_loss({}, image, settings, {}, {}, terms=terms)
    assert parts["temporal"].item() == pytest.approx((image - 0.5).pow(2).mean().item())
    assert total.item() == pytest.approx(4 * parts["temporal"].item())
    with pytest.raises(InputError, match="temporal"):
        perceptual_loss({}, image, settings, {}, {})  # a weight without its term
    off = settings.replace(term_weights={"temporal": 0.0})
    assert "temporal" not in perceptual_loss({}, image, off, {}, {}, terms=terms)[1]
