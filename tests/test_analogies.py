"""Image analogies (Hertzmann et al. 2001) on small images: the identity analogy gives B back, a
known filter is learned from one pair, and coherence copies larger pieces as kappa grows."""

import pytest
import torch

import nstlab
from nstlab.analogies import image_analogy
from nstlab.color import luminance
from nstlab.errors import InputError


@pytest.fixture(scope="module")
def halves():
    photo = nstlab.load_sample("tubingen", 64)  # 64 x 48
    return photo[..., :32], photo[..., 32:]


def _psnr(x, y):
    return float(-10 * torch.log10((luminance(x) - luminance(y)).pow(2).mean()))


def blur(x):
    return torch.nn.functional.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)


def test_the_identity_analogy_gives_b_back(halves):
    _, b = halves
    result = image_analogy(b, b, b, kappa=0, levels=2, size=None)
    assert torch.allclose(luminance(result.image), luminance(b), atol=2e-3)  # each pixel finds itself
    assert result.method == "image-analogy" and [h["level"] for h in result.history] == [1.0, 0.0]


def test_a_blur_is_learned_from_one_pair(halves):
    a, b = halves
    learned = image_analogy(a, blur(a), b, kappa=0, levels=2, size=None)
    assert _psnr(learned.image, blur(b)) > _psnr(b, blur(b)) + 3  # closer to the truth than doing nothing


def test_coherence_copies_larger_pieces_as_kappa_grows(halves):
    a, b = halves
    shares = [image_analogy(a, blur(a), b, kappa=k, levels=2, size=None).history[-1]["coherence"]
              for k in (0, 2, 20)]
    assert shares[0] == 0 and shares[0] < shares[1] < shares[2]


@pytest.mark.parametrize("kwargs, message", [({"kappa": -1}, "kappa"), ({"levels": 0}, "levels"),
                                             ({"levels": 6, "size": 32}, "at least")])
def test_bad_arguments_are_one_line(halves, kwargs, message):
    a, b = halves
    with pytest.raises(InputError, match=message):
        image_analogy(a, a, b, **kwargs)
