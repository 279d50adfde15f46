import pytest
import torch

from nstlab.color import match_histogram
from nstlab.feedforward.adain import AdaIN, Decoder, adain, adain_losses, mean_std
from nstlab.vgg import VGGFeatures


def _image(*shape, low=0.0, high=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(*shape, generator=g)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """These tensors are tiny: a second thread only waits for a busy core on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def vgg():
    torch.manual_seed(0)
    vgg = VGGFeatures("vgg16")
    for conv in vgg.convs.values():  # He init keeps relu4_1 activations O(1); the default gives ~1e-3
        torch.nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
    return vgg


@pytest.fixture(scope="module")
def model(vgg):
    torch.manual_seed(1)
    return AdaIN(vgg, Decoder(width=0.25))


def test_adain_gives_style_statistics_and_keeps_content_pattern():
    content = 1 + 3 * _image(2, 8, 5, 7, seed=1)
    style = -2 + 0.5 * _image(1, 8, 9, 4, seed=2)  # other size, batch of one broadcasts
    out = adain(content, style, eps=0)
    assert out.shape == content.shape
    mu_o, sigma_o = mean_std(out, eps=0)
    mu_s, sigma_s = mean_std(style, eps=0)
    assert torch.allclose(mu_o, mu_s.expand_as(mu_o), atol=1e-5)
    assert torch.allclose(sigma_o, sigma_s.expand_as(sigma_o), atol=1e-5)
    assert torch.allclose(sigma_s.flatten(), style.flatten(2).std(2, correction=0).flatten(), atol=1e-6)
    mu_c, sigma_c = mean_std(content, eps=0)
    assert torch.allclose((out - mu_o) / sigma_o, (content - mu_c) / sigma_c, atol=1e-4)
    with pytest.raises(ValueError, match="batch"):
        adain(content, torch.rand(3, 8, 4, 4))


def test_masked_mean_std_is_the_region_statistics():
    features = _image(2, 4, 6, 8, seed=3)
    mask = torch.zeros(1, 1, 6, 8)
    mask[..., :3] = 1
    mean, std = mean_std(features, mask=mask)
    region_mean, region_std = mean_std(features[..., :3])
    assert mean.shape == std.shape == (2, 4, 1, 1)
    assert torch.allclose(mean, region_mean, atol=1e-6) and torch.allclose(std, region_std, atol=1e-6)


def test_output_has_content_size_and_range(model):
    content = _image(2, 3, 36, 44, seed=4)  # not multiples of 8
    style = _image(1, 3, 24, 40, seed=5)
    with torch.no_grad():
        out = model(content, style)
    assert out.shape == content.shape
    assert out.min() >= 0 and out.max() <= 1
    with torch.no_grad():
        assert model.decoder(torch.rand(1, 512, 3, 5)).shape == (1, 3, 24, 40)
        with pytest.raises(ValueError, match="too small"):
            model.decoder(torch.rand(1, 512, 1, 5))


def test_alpha_zero_reconstructs_the_content_features(model):
    content, style = _image(1, 3, 32, 40, seed=6), _image(1, 3, 32, 32, seed=7)
    with torch.no_grad():
        f_c = model.encode(content)
        assert torch.equal(model(content, style, alpha=0), model.decoder(f_c, size=content.shape[-2:]))
        half = model.target(content, style, alpha=0.5)
        expected = 0.5 * adain(f_c, model.encode(style)) + 0.5 * f_c
        assert torch.allclose(half, expected, atol=1e-5)
    for alpha in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="alpha"):
            model(content, style, alpha=alpha)


def test_style_interpolation(model):
    content = _image(1, 3, 32, 40, seed=8)
    s1, s2 = _image(1, 3, 32, 32, high=0.4, seed=9), _image(1, 3, 24, 40, low=0.6, seed=10)
    with torch.no_grad():
        assert torch.allclose(model(content, [s1, s2], mix=[1, 0]), model(content, s1), atol=1e-6)
        a1 = adain(model.encode(content), model.encode(s1))
        a2 = adain(model.encode(content), model.encode(s2))
        mixed = model.target(content, [s1, s2], mix=[6, 2])  # normalized to 0.75, 0.25
        assert torch.allclose(mixed, 0.75 * a1 + 0.25 * a2, atol=1e-5)
        assert torch.allclose(model.target(content, [s1, s2]), 0.5 * a1 + 0.5 * a2, atol=1e-5)
    bad_weights = (([1.0], "2 style"), ([1, 2, 3], "2 style"), ([1, -1], ">= 0"), ([0, 0], "not be all zero"))
    for bad, message in bad_weights:
        with pytest.raises(ValueError, match=message):
            model(content, [s1, s2], mix=bad)
    with pytest.raises(ValueError, match="one mask per style"):
        model(content, [s1, s2], masks=[torch.ones(32, 40)])
    with pytest.raises(ValueError, match="not both"):
        model(content, [s1, s2], mix=[1, 1], masks=[torch.ones(32, 40)] * 2)


def test_masks_give_each_region_its_style(model):
    content = _image(1, 3, 32, 48, seed=11)  # relu4_1: 4 x 6, the masks split it at column 3
    s1, s2 = _image(1, 3, 32, 32, high=0.3, seed=12), _image(1, 3, 40, 24, low=0.5, seed=13)
    left = torch.zeros(32, 48)
    left[:, :24] = 1
    with torch.no_grad():
        f_c, f_1, f_2 = model.encode(content), model.encode(s1), model.encode(s2)
        t = model.target(content, [s1, s2], masks=[left, 1 - left])
    for region, f_s, f_other in ((slice(0, 3), f_1, f_2), (slice(3, 6), f_2, f_1)):
        mu_t, sigma_t = mean_std(t[..., region], eps=0)
        mu_s, sigma_s = mean_std(f_s)  # the style's sigma as AdaIN uses it, eps included
        live = mean_std(f_c[..., region], eps=0)[1].flatten() > 1  # channels that vary in the region
        assert live.sum() > 50
        assert torch.allclose(mu_t, mu_s, atol=1e-4)
        assert torch.allclose(sigma_t.flatten()[live], sigma_s.flatten()[live], rtol=1e-4)
        assert (mu_t - mean_std(f_other)[0]).abs().max() > 0.1  # the two styles are told apart
    with torch.no_grad():
        s = s1
        assert torch.allclose(model.target(content, s, masks=[torch.ones(1, 1, 32, 48)]),
                              model.target(content, s), atol=1e-5)
        half = model.target(content, s, masks=[left])
    assert torch.equal(half[..., 3:], f_c[..., 3:])  # outside every mask the content stays


def test_preserve_color_recolours_the_style(model):
    content = _image(1, 3, 32, 40, low=0.3, high=0.7, seed=14)
    style = _image(1, 3, 32, 32, seed=15) * torch.tensor([1.0, 0.3, 0.1]).view(1, 3, 1, 1)  # reddish
    with torch.no_grad():
        kept = model(content, style, preserve_color=True)
        assert torch.allclose(kept, model(content, match_histogram(style, content)), atol=1e-6)
        assert (kept - model(content, style)).abs().max() > 1e-4
        t_kept = model.target(content, style, preserve_color=True)
        assert (t_kept - model.target(content, style)).abs().max() > 0.1


def test_a_style_image_is_encoded_once_without_gradients(vgg):
    model = AdaIN(vgg, Decoder(width=0.25)).eval()
    seen = []
    encode = model.encode
    model.encode = lambda image: seen.append(tuple(image.shape)) or encode(image)
    content, style = _image(1, 3, 32, 32, seed=2), _image(1, 3, 40, 24, seed=3)
    with torch.no_grad():
        first = model(content, style)
        again = model(content, style.clone())  # the same pixels in another tensor
        assert seen == [(1, 3, 32, 32), (1, 3, 40, 24), (1, 3, 32, 32)] and torch.equal(first, again)
        other = model(content, style.flip(-1))  # other pixels: encoded, not taken from memory
        assert seen[-1] == (1, 3, 40, 24) and not torch.allclose(other, first)
        seen.clear()
        model.encoder.convs["conv1_1"].weight.mul_(1.5)  # other encoder weights: nothing stale
        changed = model(content, style)
        assert seen == [(1, 3, 32, 32), (1, 3, 40, 24)] and not torch.allclose(changed, first)
        model.encoder.convs["conv1_1"].weight.div_(1.5)
    seen.clear()
    model(content, style)  # with gradients (training) always encoded afresh
    assert seen == [(1, 3, 32, 32), (1, 3, 40, 24)]


def test_decoder_width_and_frozen_encoder(vgg):
    assert sum(p.numel() for p in Decoder().parameters()) == 3_505_219  # the paper's decoder
    half = Decoder(width=0.5)
    assert half.layers[0].out_channels == 128 and half.layers[0].in_channels == 512
    assert sum(p.numel() for p in half.parameters()) == 1_172_003
    with pytest.raises(ValueError, match="width"):
        Decoder(width=0)
    model = AdaIN(vgg, half).train()
    assert model.decoder.training and not model.encoder.training
    assert not any(p.requires_grad for p in model.encoder.parameters())


def test_adain_losses_train_the_decoder_only(vgg):
    torch.manual_seed(2)
    model = AdaIN(vgg, Decoder(width=0.25))
    content, style = _image(2, 3, 32, 32, seed=16), _image(2, 3, 32, 32, high=0.5, seed=17)
    optimizer = torch.optim.Adam(model.decoder.parameters(), lr=5e-4)
    totals = []
    for _ in range(12):
        c_loss, s_loss, output = adain_losses(model, content, style)
        assert c_loss.dim() == s_loss.dim() == 0 and torch.isfinite(c_loss) and torch.isfinite(s_loss)
        assert output.shape == content.shape
        optimizer.zero_grad()
        (c_loss + s_loss).backward()
        if not totals:
            assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.decoder.parameters())
            assert all(p.grad is None for p in model.encoder.parameters())
        optimizer.step()
        totals.append((c_loss + s_loss).item())
    assert totals[-1] < 0.9 * totals[0]
    with pytest.raises(ValueError, match="unknown"):
        adain_losses(model, content, style, layers=["relu9_9"])
    with pytest.raises(ValueError, match="at least one"):
        adain_losses(model, content, style, layers=[])


def test_adain_losses_are_relative_moment_errors_per_image(model):
    content, style = _image(2, 3, 32, 40, seed=18), _image(2, 3, 24, 32, low=0.2, seed=19)
    layers = ["relu1_1", "relu3_1"]
    with torch.no_grad():
        c_loss, s_loss, output = adain_losses(model, content[:1], style[:1], layers)
        t = adain(model.encode(content[:1]), model.encode(style[:1]))
        assert torch.equal(output, model.decoder(t))
        f_g = model.encoder(output, ["relu4_1", *layers])
        f_s = model.encoder(style[:1], layers)
        expected_c = (f_g["relu4_1"] - t).pow(2).sum() / t.pow(2).sum()
        expected_s = 0
        for name in layers:
            g, s = f_g[name].flatten(2), f_s[name].flatten(2)  # (1, C, positions)
            for stat in (lambda x: x.mean(2), lambda x: (x.var(2, correction=0) + 1e-5).sqrt()):
                expected_s += (stat(g) - stat(s)).pow(2).sum() / stat(s).pow(2).sum()
        assert c_loss.item() == pytest.approx(expected_c.item(), rel=1e-4)
        assert s_loss.item() == pytest.approx(expected_s.item() / len(layers), rel=1e-4)
        # a batch: each image against its own style, averaged
        c_batch, s_batch, _ = adain_losses(model, content, style, layers)
        c_second, s_second, _ = adain_losses(model, content[1:], style[1:], layers)
    assert c_batch.item() == pytest.approx((c_loss + c_second).item() / 2, rel=1e-4)
    assert s_batch.item() == pytest.approx((s_loss + s_second).item() / 2, rel=1e-4)
