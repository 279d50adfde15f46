"""The exercise checks: right answers pass, known mistakes get their hint, nothing crashes."""

import pytest
import torch
import torch.nn.functional as F

from nstlab import color, domain, losses, statistics
from nstlab.feedforward import adain
from nstlab.notebook.exercises import (
    check_adabn,
    check_adain,
    check_choice,
    check_content_loss,
    check_feature_shape,
    check_gram_matrix,
    check_guided_gram,
    check_image_size,
    check_instance_norm,
    check_luminance,
    check_meanstd_loss,
    check_mmd,
    check_occlusion,
    check_optimization_loop,
    check_style_loss,
    check_style_mix,
    check_total_variation,
    check_warp,
    check_warping_error,
)
from nstlab.video import reliable, warping_error
from nstlab.warping import warp


def not_written(*_):
    raise NotImplementedError("your code here")


def _blended(net, images):  # a train-mode pass without a reset: 10% new statistics
    net.train()
    with torch.no_grad():
        net(images)
    return net.eval()


def gram_over_positions(f):  # the (HW x HW) mistake
    x = f.flatten(2)
    return x.transpose(1, 2) @ x / x.shape[-1]


CASES = [
    (check_image_size, lambda x: tuple(x.shape[-2:]), lambda x: (x.shape[3], x.shape[2]), "height first"),
    (check_content_loss, losses.content_loss, lambda f, p: (f - p).pow(2).sum(), "divide by ||P||^2"),
    (check_gram_matrix, losses.gram_matrix, gram_over_positions, "(HW x HW)"),
    (check_total_variation, losses.total_variation, lambda x: (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean(),
     "horizontal"),
    (check_luminance, color.luminance, lambda x: x.mean(1, keepdim=True), "0.299, 0.587, 0.114"),
    (check_instance_norm, lambda x: F.instance_norm(x, eps=1e-5),
     lambda x: F.batch_norm(x, None, None, training=True, eps=1e-5), "batch norm"),
    (check_style_mix, lambda p, w: w @ p / w.sum(), lambda p, w: w @ p, "sum of the weights"),
    (check_adain, adain.adain, lambda x, y: F.instance_norm(x, eps=1e-5), "style's statistics"),
    (check_style_loss, lambda g, a, w: sum(w[k] * losses.style_loss(g[k], a[k]) for k in g) / sum(w.values()),
     lambda g, a, w: sum(w[k] * losses.style_loss(g[k], a[k]) for k in g), "sum of the layer weights"),
    (check_guided_gram, losses.gram_matrix,
     lambda f, m: (lambda x: x @ x.transpose(1, 2))((f * m).flatten(2)) / (f.shape[2] * f.shape[3]),
     "mask's area"),
    (check_meanstd_loss, lambda f, a: statistics.statistic("meanstd").loss(f, statistics.statistic("meanstd")
                                                                          .targets([a])),
     lambda f, a: (lambda s: (s(f) - s(a)).pow(2).sum() / s(a).pow(2).sum())(
         lambda x: torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)), "biased"),
    (check_mmd, lambda x, y: statistics.mmd2(x, y, "poly"),
     lambda x, y: (x @ x.T).pow(2).mean() + (y @ y.T).pow(2).mean() - (x @ y.T).pow(2).mean(),
     "counts twice"),
    (check_adabn, lambda net, images: domain.adabn(net, images), _blended, "momentum = None"),
    (check_warp, warp, lambda image, flow: warp(image, -flow), "not p - flow(p)"),
    (check_occlusion, reliable, lambda f, b: ((f + warp(b, f)).pow(2).sum(0) <= 0.01 * (
        f.pow(2).sum(0) + warp(b, f).pow(2).sum(0)) + 0.5).float(), "out of the frame"),
    (check_warping_error, lambda o, f, m: warping_error(o, flows=f, masks=m),
     lambda o, f, m: sum(((o[t] - warp(o[t - 1], f[t - 1])).pow(2).mean(0) * m[t - 1]).sum() / m[t - 1].sum()
                         for t in range(1, len(o))) / (len(o) - 1), "not the mean"),
]


@pytest.mark.parametrize(("check", "right", "wrong", "hint"), CASES, ids=[c[0].__name__ for c in CASES])
def test_check_answers_right_wrong_and_not_yet(check, right, wrong, hint, capsys):
    assert check(right)
    assert "✅ right" in capsys.readouterr().out
    assert not check(wrong)
    out = capsys.readouterr().out
    assert "❌ wrong" in out and hint in out
    assert not check(not_written)
    assert "⏳" in capsys.readouterr().out
    assert not check(lambda *a: 1 / 0)  # a crash in the student's code is reported, not raised
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_feature_shape_against_the_network(random_vgg, capsys):
    def right(layer, h, w):
        block = int(layer[4])
        pools = block if layer.startswith("pool") else block - 1
        return (64, 128, 256, 512, 512)[block - 1], h // 2**pools, w // 2**pools

    assert check_feature_shape(right, random_vgg)
    assert not check_feature_shape(lambda layer, h, w: (*right(layer, h, w)[:1], h, w), random_vgg)
    assert "pooling" in capsys.readouterr().out


def test_wrong_shape_is_named(capsys):
    assert not check_gram_matrix(lambda f: torch.zeros(3))
    assert "expected shape (1, 3, 3), got (3,)" in capsys.readouterr().out


def loop(clamp=True, zero_grad=True):
    """The optimization loop of notebook 04, right or with one usual mistake."""
    def optimize(image, extractor, settings, content_targets, style_targets, steps, lr):
        image = image.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([image], lr=lr)
        layers = [*settings.active_content_layers(), *settings.active_style_layers()]
        for _ in range(steps):
            if zero_grad:
                optimizer.zero_grad()
            features = extractor(image, layers)
            loss, _ = losses.perceptual_loss(features, image, settings, content_targets, style_targets)
            loss.backward()
            optimizer.step()
            if clamp:
                with torch.no_grad():
                    image.clamp_(0, 1)
        return image.detach()
    return optimize


def test_the_optimization_loop_is_checked_against_the_engine(capsys):
    assert check_optimization_loop(loop())
    assert "same image as StyleTransfer" in capsys.readouterr().out
    assert not check_optimization_loop(loop(clamp=False))
    assert "clamp" in capsys.readouterr().out
    assert not check_optimization_loop(loop(zero_grad=False))
    assert "zero_grad" in capsys.readouterr().out
    assert not check_optimization_loop(lambda image, *_: image)
    assert "did not change" in capsys.readouterr().out
    assert not check_optimization_loop(not_written)
    assert "⏳" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda f, p: 0.5 * (f - p).pow(2).sum(), "1/2 sum"),
])
def test_the_papers_normalization_is_explained(wrong, hint, capsys):
    assert not check_content_loss(wrong)
    assert hint in capsys.readouterr().out


def test_the_tutorials_gram_and_a_pooled_tv_mean_get_hints(capsys):
    def tutorial_gram(f):  # view(c, h * w): no batch axis
        _, c, h, w = f.shape
        x = f[0].reshape(c, h * w)
        return x @ x.T / (h * w)

    assert not check_gram_matrix(tutorial_gram)
    assert "keep the batch axis" in capsys.readouterr().out

    def pooled(x):
        dy, dx = x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]
        return (dy.pow(2).sum() + dx.pow(2).sum()) / (dy.numel() + dx.numel())

    assert not check_total_variation(pooled)
    assert "each direction on its own" in capsys.readouterr().out


def test_questions_about_figures(capsys):
    assert check_choice("05-scale", lambda: "C") and "✅ right" in capsys.readouterr().out
    assert not check_choice("05-scale", lambda: "a") and "❌ wrong" in capsys.readouterr().out
    assert not check_choice("05-scale", not_written) and "⏳" in capsys.readouterr().out


def test_a_verdict_shows_nothing_in_a_notebook():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    formatted, _ = shell.display_formatter.format(check_choice("02-deep", lambda: "c"))
    assert formatted == {}  # no "True" under the check's line
