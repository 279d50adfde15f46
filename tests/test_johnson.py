"""TransformerNet on random weights at tiny sizes (width 8, one residual block): fast, CPU only."""

import pytest
import torch
import torch.nn as nn

from nstlab.feedforward.evaluate import grid_pattern, mirror_borders
from nstlab.feedforward.johnson import ResidualBlock, TransformerNet

TINY = {"width": 8, "blocks": 1}


def tiny(norm="instance", **kw) -> TransformerNet:
    torch.manual_seed(0)
    return TransformerNet(norm, **TINY, **kw)


@pytest.mark.parametrize("norm", ["instance", "batch", "conditional"])
@pytest.mark.parametrize("size", [(21, 30), (20, 28), (5, 7)])
def test_output_same_shape_in_range(norm, size):
    net = tiny(norm, styles=2 if norm == "conditional" else 1)
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert y.min() >= 0 and y.max() <= 1
    assert y.std() > 0  # not a constant image


def test_too_small_image_is_a_clear_error():
    with pytest.raises(ValueError, match="too small"):
        tiny()(torch.rand(1, 3, 4, 30))


def test_instance_norm_per_image_batch_norm_per_batch():
    x = torch.rand(2, 3, 20, 28)
    instance, batch = tiny("instance"), tiny("batch")
    with torch.no_grad():
        assert torch.allclose(instance(x[:1]), instance(x)[:1], atol=1e-6)  # image 0 does not see image 1
        assert not torch.allclose(batch(x[:1]), batch(x)[:1], atol=1e-4)  # batch statistics mix images
        train = batch(x)
        batch.eval()  # running statistics instead of the batch's
        assert not torch.allclose(train, batch(x), atol=1e-4)
        assert torch.allclose(batch(x[:1]), batch(x)[:1], atol=1e-6)


def test_resize_convolution_not_transposed():
    net = TransformerNet()
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 + 2 * 5 + 2 + 1
    assert [m.bias is not None for m in convs] == [False] * 15 + [True]  # a norm would cancel a bias


def test_residual_block_adds_identity_skip():
    block = ResidualBlock(8, "instance", 1)
    x = torch.randn(2, 8, 6, 7)
    with torch.no_grad():
        block.second.norm.weight.zero_()  # the residual branch now outputs 0 (shift is 0 already)
        assert torch.equal(block(x, None), x)
        block.second.norm.bias.fill_(1.0)  # no ReLU after the sum: negative inputs stay negative
        assert torch.allclose(block(x, None), x + 1)


@pytest.mark.parametrize("norm", ["instance", "batch", "conditional"])
def test_config_round_trip(norm):
    net = tiny(norm, styles=3 if norm == "conditional" else 1)
    config = net.config()
    assert config == {"norm": norm, **TINY, "styles": net.styles, "symmetric": True}
    rebuilt = TransformerNet(**config)
    rebuilt.load_state_dict(net.state_dict())  # strict: same names and shapes
    net.eval(), rebuilt.eval()
    x = torch.rand(1, 3, 20, 28)
    with torch.no_grad():
        assert torch.equal(net(x), rebuilt(x))


def _mirror_symmetric_weights(net: TransformerNet) -> TransformerNet:
    """The network with every kernel made left-right symmetric: only the layout can break the symmetry."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.copy_((m.weight + m.weight.flip(-1)) / 2)
    return net.eval()


@pytest.mark.parametrize("size", [(20, 28), (21, 30), (17, 18)])
def test_mirrored_input_gives_mirrored_output(size):
    """The layout treats both borders alike (sides whose padding to a multiple of 4 splits evenly)."""
    x = torch.rand(1, 3, *size)
    net = _mirror_symmetric_weights(tiny())
    with torch.no_grad():
        assert torch.allclose(net(x.flip(-1)).flip(-1), net(x), atol=1e-5)
    torch.manual_seed(0)
    old = _mirror_symmetric_weights(TransformerNet(**TINY, symmetric=False))  # 3x3 stride 2: one-sided
    with torch.no_grad():
        assert (old(x.flip(-1)).flip(-1) - old(x)).abs().max() > 1e-2


def test_invalid_arguments():
    with pytest.raises(ValueError, match="instance, batch, conditional"):
        TransformerNet("layer")
    with pytest.raises(ValueError, match="norm='conditional'"):
        TransformerNet("instance", styles=2)
    with pytest.raises(ValueError, match="norm='conditional'"):
        tiny()(torch.rand(1, 3, 20, 28), style=0)


@pytest.mark.parametrize("norm", ["instance", "conditional"])
def test_gradients_reach_every_parameter_and_training_fits(norm):
    net = tiny(norm, styles=2 if norm == "conditional" else 1)
    style = torch.tensor([0.3, 0.7]) if norm == "conditional" else None  # both styles get gradients
    x = torch.rand(1, 3, 20, 28)
    target = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1).expand(1, 3, 20, 28)  # a flat colour
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = (net(x, style) - target).pow(2).mean()
        loss.backward()
        if not losses:
            for name, p in net.named_parameters():
                assert p.grad is not None and p.grad.abs().sum() > 0, name
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 2


def test_mirror_borders_finds_the_one_sided_layout():
    x = torch.rand(1, 3, 40, 48)
    new = _mirror_symmetric_weights(tiny())
    torch.manual_seed(0)
    old = _mirror_symmetric_weights(TransformerNet(**TINY, symmetric=False))
    with torch.no_grad():
        assert max(mirror_borders(new, x)) < 1e-5
        assert mirror_borders(old, x)[0] > 1e-2  # the 3x3 stride-2 layout: one-sided at the borders


def test_grid_pattern_amplitude_in_grey_levels():
    x = torch.arange(64.0)
    ramp = torch.linspace(0.2, 0.7, 48)[:, None] + 0 * x  # (48, 64): smooth content, no pattern
    wave = (2 / 255) * torch.sin(2 * torch.pi * x / 8)  # 2 grey levels, 8 px period, along each row
    image = (ramp + wave).expand(1, 3, 48, 64)
    columns, rows = grid_pattern(image, 8)
    assert columns == pytest.approx(2.0, rel=0.15) and rows < 0.05
    assert max(grid_pattern(ramp.expand(1, 3, 48, 64), 8)) < 0.05
    assert grid_pattern(image.transpose(-1, -2), 8)[1] == pytest.approx(columns, rel=1e-4)
