"""Domain adaptation with style statistics: AdaBN's re-estimation against the target batch's own
statistics, the MMD against a double loop, the drawn data and the style augmentation under a seed."""

import pytest
import torch
from torch import nn

from nstlab import domain
from nstlab.errors import InputError


def test_adabn_takes_the_target_batchs_statistics_and_keeps_the_learned_ones():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 1),
                        nn.BatchNorm2d(2))
    net[1].weight.data.uniform_(0.5, 2)
    net.eval()
    target = torch.rand(10, 3, 5, 5) * 3 + 1
    adapted = adabn(net, target)
    with torch.no_grad():
        first = net[0](target)  # the first layer's output on the target images, per channel
        mean, var = first.mean((0, 2, 3)), first.var((0, 2, 3), unbiased=True)
    assert torch.allclose(adapted[1].running_mean, mean, atol=1e-5)
    assert torch.allclose(adapted[1].running_var, var, rtol=1e-4)
    assert torch.equal(adapted[1].weight, net[1].weight)  # the learned scale stays
    assert not torch.equal(adapted[1].running_mean, net[1].running_mean)  # the original is untouched
    assert not adapted.training and adapted[1].momentum == net[1].momentum
    with pytest.raises(InputError, match="no batch-norm"):
        adabn(nn.Conv2d(3, 3, 1), target)


def adabn(net, images):
    return domain.adabn(net, images, batch=4)  # several batches: the average over all of them


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_mmd_against_a_double_loop(kernel):
    torch.manual_seed(1)
    x, y = torch.rand(6, 3), torch.rand(5, 3) + 0.5
    joined = torch.cat([x, y]).double()
    width = float(torch.pdist(joined).pow(2).median())

    def k(a, b):
        return float(a @ b) if kernel == "linear" else float(torch.exp(-(a - b).pow(2).sum() / (2 * width)))

    def mean(a, b):
        return sum(k(p.double(), q.double()) for p in a for q in b) / (len(a) * len(b))

    assert domain.mmd(x, y, kernel) == pytest.approx(mean(x, x) + mean(y, y) - 2 * mean(x, y), rel=1e-9)


def test_the_drawn_data_are_reproducible_and_the_cues_conflict():
    images, labels = domain.shapes(8, seed=3)
    again, _ = domain.shapes(8, seed=3)
    assert images.shape == (8, 3, 32, 32) and torch.equal(images, again)
    assert labels.tolist() == [0, 1, 2, 3] * 2
    assert images.min() >= 0 and images.max() <= 1
    _, shape, texture = domain.cue_conflict(40, seed=0)
    assert (shape != texture).all()


def test_shape_bias_counts_the_decisions_made_by_shape():
    images, shape, texture = domain.cue_conflict(8, seed=0)

    class Fixed(nn.Module):
        def __init__(self, answers):
            super().__init__()
            self.answers = answers

        def forward(self, x):
            return nn.functional.one_hot(self.answers, 4).float()

    assert domain.shape_bias(Fixed(shape), images, shape, texture) == 1.0
    assert domain.shape_bias(Fixed(texture), images, shape, texture) == 0.0


def test_style_augmentation_is_deterministic_under_a_seed():
    augment = domain.StyleAugment(["starry_night", "the_scream"], p=0.5, size=32)
    images, _ = domain.shapes(6, seed=0)
    first = augment(images, torch.Generator().manual_seed(7))
    assert torch.equal(first, augment(images, torch.Generator().manual_seed(7)))
    assert not torch.equal(first, augment(images, torch.Generator().manual_seed(8)))
    changed = (first - images).abs().flatten(1).amax(1) > 0
    assert 0 < int(changed.sum()) < 6  # about half repainted
    with pytest.raises(InputError, match="alphas"):
        domain.StyleAugment(["starry_night"], alphas=(0.9, 0.1))


@pytest.mark.slow  # a few seconds of training
def test_a_small_net_learns_the_shapes_and_adabn_undoes_a_contrast_shift():
    images, labels = domain.shapes(1200, seed=0)
    test, truth = domain.shapes(200, seed=1)
    net = domain.fit(domain.SmallNet(), images, labels, epochs=4, seed=0)
    assert domain.accuracy(domain.adabn(net, test), test, truth) > 0.9  # on its own statistics
    shifted = test * 0.5 + 0.35
    before = domain.accuracy(net, shifted, truth)
    assert domain.accuracy(domain.adabn(net, shifted), shifted, truth) > max(before + 0.2, 0.9)
