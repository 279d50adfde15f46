"""Conditional instance norm: choosing, mixing and adding styles, alone and inside a TransformerNet."""

import copy

import pytest
import torch
import torch.nn.functional as F

from nstlab.feedforward.cin import (
    ConditionalInstanceNorm2d,
    add_style,
    cin_layers,
    style_parameters,
    style_weights,
)
from nstlab.feedforward.johnson import TransformerNet


def randomize(module):
    """Give every style its own scale and shift (they start as ones and zeros)."""
    with torch.no_grad():
        for layer in cin_layers(module):
            for p in [*layer.scale, *layer.shift]:
                p.normal_()
    return module


def conditional_net(styles=3) -> TransformerNet:
    torch.manual_seed(0)
    return randomize(TransformerNet("conditional", width=8, blocks=1, styles=styles))


def test_one_hot_equals_instance_norm_with_that_styles_affine():
    torch.manual_seed(0)
    cin = randomize(ConditionalInstanceNorm2d(4, 3))
    x = torch.randn(2, 4, 5, 6)
    for k in range(3):
        expected = F.instance_norm(x, weight=cin.scale[k].detach(), bias=cin.shift[k].detach(), eps=1e-5)
        assert torch.allclose(cin(x, style_weights(k, 3, 2)), expected, atol=1e-5)


def test_cin_checks_weight_shape():
    cin = ConditionalInstanceNorm2d(4, 3)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        cin(torch.randn(2, 4, 5, 6), torch.ones(2, 2) / 2)


def test_index_and_one_hot_weights_agree_through_the_network():
    net = conditional_net()
    x = torch.rand(2, 3, 20, 28)
    with torch.no_grad():
        outputs = [net(x, style=k) for k in range(3)]
        for k in range(3):
            assert torch.equal(outputs[k], net(x, style=F.one_hot(torch.tensor(k), 3).float()))
            assert torch.equal(outputs[k], net(x, style=F.one_hot(torch.tensor([k, k]), 3).float()))
        assert torch.equal(net(x), outputs[0])  # default: style 0
        assert not torch.allclose(outputs[0], outputs[1], atol=1e-4)
        per_image = net(x, style=torch.tensor([[1.0, 0, 0], [0, 0, 1.0]]))
        assert torch.allclose(per_image, torch.cat([outputs[0][:1], outputs[2][1:]]), atol=1e-6)


def test_half_half_mix_is_the_average_style():
    net = conditional_net(styles=2)
    averaged = copy.deepcopy(net)
    with torch.no_grad():
        for layer in cin_layers(averaged):
            layer.scale[0].copy_((layer.scale[0] + layer.scale[1]) / 2)
            layer.shift[0].copy_((layer.shift[0] + layer.shift[1]) / 2)
        x = torch.rand(1, 3, 20, 28)
        mixed = net(x, style=torch.tensor([0.5, 0.5]))
        assert torch.allclose(mixed, averaged(x, style=0), atol=1e-6)
        assert torch.allclose(mixed, net(x, style=[3.0, 3.0]), atol=1e-6)  # rows are normalized


def test_style_weights_shapes_and_normalization():
    assert torch.equal(style_weights(1, 3, 2), torch.tensor([[0.0, 1, 0], [0, 1, 0]]))
    assert torch.allclose(style_weights([1.0, 3.0], 2, 2), torch.tensor([[0.25, 0.75]] * 2))
    rows = style_weights(torch.tensor([[2.0, 0], [1, 1]]), 2, 2)
    assert torch.allclose(rows, torch.tensor([[1.0, 0], [0.5, 0.5]]))


@pytest.mark.parametrize(("style", "match"), [
    (3, "out of range"),
    (-1, "out of range"),
    (torch.tensor([0.5, -0.1, 0.6]), ">= 0"),
    (torch.tensor([[1.0, 0, 0], [0, 0, 0]]), "all zero"),
    (torch.tensor([0.5, 0.5]), r"\(3,\)"),
    (torch.ones(3, 3), r"\(2, 3\)"),
    (torch.tensor(1.0), r"\(2, 3\)"),
])
def test_style_weights_validation(style, match):
    with pytest.raises(ValueError, match=match):
        style_weights(style, 3, 2)


def test_add_style_starts_as_the_average_and_keeps_the_old_styles():
    net = conditional_net(styles=2)
    x = torch.rand(1, 3, 20, 28)
    with torch.no_grad():
        before = [net(x, style=k) for k in range(2)]
    assert add_style(net) == 2
    assert net.styles == 3 and net.config()["styles"] == 3
    for layer in cin_layers(net):
        assert layer.styles == 3 and len(layer.shift) == 3
        assert torch.allclose(layer.scale[2], (layer.scale[0] + layer.scale[1]) / 2)
        assert torch.allclose(layer.shift[2], (layer.shift[0] + layer.shift[1]) / 2)
    with torch.no_grad():
        for k in range(2):
            assert torch.equal(net(x, style=k), before[k])
        assert torch.allclose(net(x, style=2), net(x, style=[1.0, 1.0, 0.0]), atol=1e-6)
    TransformerNet(**net.config()).load_state_dict(net.state_dict())  # saved and rebuilt with 3 styles


def test_add_style_needs_cin_layers():
    with pytest.raises(ValueError, match="no ConditionalInstanceNorm2d"):
        add_style(TransformerNet("instance", width=8, blocks=1))


def test_fitting_a_new_style_leaves_the_old_ones_bit_identical():
    net = conditional_net(styles=2)
    new = add_style(net)
    params = style_parameters(net, new)
    layers = cin_layers(net)
    assert len(params) == 2 * len(layers) == 2 * (3 + 2 + 2)
    expected = [p for layer in layers for p in (layer.scale[new], layer.shift[new])]
    assert all(p is q for p, q in zip(params, expected, strict=True))
    with pytest.raises(ValueError, match="out of range"):
        style_parameters(net, 3)

    net.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    x, target = torch.rand(1, 3, 20, 28), torch.rand(1, 3, 20, 28)
    with torch.no_grad():
        old, start = net(x, style=0), net(x, style=new)
    optimizer = torch.optim.Adam(params, lr=1e-2)
    for _ in range(3):
        optimizer.zero_grad()
        (net(x, style=new) - target).pow(2).mean().backward()
        optimizer.step()
    with torch.no_grad():
        assert not torch.allclose(net(x, style=new), start, atol=1e-4)
        assert torch.equal(net(x, style=0), old)
