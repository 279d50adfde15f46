"""Exercises for the notebooks: checks that answer right or wrong with a hint.

A notebook exercise asks the student to write a function; `check_<name>(fn)` runs it on small
inputs against nstlab's own implementation and prints one line: "✅ right", "⏳ not written yet",
or "❌ wrong" with a hint aimed at the usual mistake (the words are there for machines without an
emoji font). Questions about a figure are checked the same way: `check_choice(key, fn)` with fn
returning the chosen letter (the answers and why are in CHOICES). Each check returns a `Verdict`: true
or false for code, and nothing shown in the notebook (no stray True/False under the line).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .. import color, domain, losses, statistics
from ..feedforward import adain as adain_module
from ..gatys import StyleTransfer
from ..samples import checkerboard, stripes
from ..targets import content_targets, style_targets
from ..vgg import VGGFeatures
from ..video.flow import reliable
from ..video.metrics import warping_error
from ..warping import random_flow, warp


class Verdict:
    """A check's outcome: `bool(verdict)` says right or wrong; a notebook displays nothing for it."""

    def __init__(self, ok: bool):
        self.ok = bool(ok)

    def __bool__(self) -> Verdict:
        return self.ok

    def __eq__(self, other) -> Verdict:
        return self.ok == bool(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Verdict({self.ok})"

    def _ipython_display_(self) -> None:  # the printed line says it all
        pass


def _report(ok: bool, name: str, message: str = "") -> Verdict:
    detail = f": {message}" if message else ""
    print(f"✅ right · {name}{detail}" if ok else f"❌ wrong · {name}{detail}")
    return Verdict(ok)


def _attempt(fn: Callable, name: str, *args):
    """fn(*args), or None after printing why there is no usable answer."""
    try:
        return fn(*args)
    except NotImplementedError:
        print(f"⏳ not written yet · {name}: replace the `raise NotImplementedError` line with your code")
    except Exception as err:  # a student's code may raise anything: report it, do not crash the notebook
        print(f"❌ wrong · {name}: raised {type(err).__name__}: {err}")
    return None


def _compare(name: str, fn: Callable, reference: Callable, cases: list[tuple], hints: list[tuple],
             shape_hint: str = "", rtol: float = 1e-4) -> Verdict:
    """Run fn and reference on each case; on a mismatch print the first hint whose guess matches
    (else `shape_hint` for a wrong shape, else the numbers). rtol: how close counts as equal."""
    for args in cases:
        got = _attempt(fn, name, *args)
        if got is None:
            return Verdict(False)
        want = reference(*args)
        try:
            got = torch.as_tensor(got, dtype=want.dtype)
        except (TypeError, ValueError, RuntimeError) as err:
            return _report(False, name, f"return a tensor (or numbers), not {type(got).__name__} ({err})")
        if got.shape == want.shape and torch.allclose(got, want, rtol=rtol, atol=1e-6):
            continue
        for guess, hint in hints:  # a known mistake?
            expected = guess(*args).to(want.dtype)
            if expected.shape == got.shape and torch.allclose(got, expected, rtol=rtol, atol=1e-6):
                return _report(False, name, hint)
        if got.shape != want.shape:
            return _report(False, name, f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}"
                                        + (f"; {shape_hint}" if shape_hint else ""))
        return _report(False, name, f"wrong values (expected {want.flatten()[:3].tolist()}..., "
                                    f"got {got.flatten()[:3].tolist()}...)")
    return _report(True, name)


def check_image_size(fn: Callable) -> Verdict:
    """fn(image (1, 3, H, W)) -> (height, width)."""
    cases = [(torch.rand(1, 3, 5, 7),), (torch.rand(1, 3, 12, 4),)]
    return _compare("image_size", fn, lambda x: torch.tensor(x.shape[-2:]), cases,
                    [(lambda x: torch.tensor(x.shape[-2:]).flip(0), "height first, then width: (H, W)"),
                     (lambda x: torch.tensor(x.shape[:2]), "an image tensor is (batch, channels, H, W)")])


def check_feature_shape(fn: Callable, extractor: VGGFeatures | None = None) -> Verdict:
    """fn(layer, height, width) -> (channels, h, w) of that VGG layer for an image of height x width."""
    vgg = extractor or VGGFeatures("vgg19")  # shapes do not depend on the weights

    def reference(layer, height, width):
        with torch.no_grad():
            return torch.tensor(vgg(torch.zeros(1, 3, height, width), [layer])[layer].shape[1:])

    cases = [("relu1_1", 64, 48), ("relu3_1", 64, 48), ("relu4_2", 100, 60), ("pool2", 33, 40),
             ("conv5_1", 128, 128)]
    return _compare("feature_shape", fn, reference, cases, [
        (lambda layer, h, w: reference(layer, h, w) * torch.tensor([1, 2, 2]),
         "the pooling layer at the end of each block halves height and width - also in the block "
         "you are in? pool2 comes after conv2_x"),
        (lambda layer, h, w: torch.tensor([64 * 2 ** (int(layer[4]) - 1), *reference(layer, h, w)[1:]]),
         "channels double per block (64, 128, 256, 512) but stop at 512 in block 5"),
        (lambda layer, h, w: torch.tensor([reference(layer, h, w)[0], h, w]),
         "height and width shrink: every pooling layer up to this one halves them"),
        (lambda layer, h, w: reference(layer, h, w) // torch.tensor([1, 2, 2]),
         "conv and relu layers of block b come after b - 1 poolings (block 1 has the full size)"),
    ])


def check_content_loss(fn: Callable) -> Verdict:
    """fn(features F, target P) -> ||F - P||^2 / ||P||^2 (averaged over the batch)."""
    torch.manual_seed(0)
    cases = [(torch.randn(1, 4, 3, 3), torch.randn(1, 4, 3, 3)),
             (torch.randn(1, 8, 5, 2), torch.randn(1, 8, 5, 2))]
    return _compare("content_loss", fn, losses.content_loss, cases, [
        (lambda f, p: (f - p).pow(2).sum(), "divide by ||P||^2: the loss is a relative error"),
        (lambda f, p: (f - p).pow(2).mean(), "a plain mean squared error depends on the layer's scale: "
                                             "divide the sum of squares by ||P||^2 instead"),
        (lambda f, p: (f - p).pow(2).sum() / f.pow(2).sum(), "divide by the target's ||P||^2, not ||F||^2"),
        (lambda f, p: (f - p).norm() / p.norm(), "square both norms"),
        (lambda f, p: 0.5 * (f - p).pow(2).sum(),
         "that is the paper's 1/2 sum (F - P)^2 - right in spirit, but its size follows the scale of the "
         "layer's activations, which differs by orders of magnitude between layers and networks, so "
         "the content weight would have to change with them. nstlab divides by ||P||^2 instead: a "
         "relative error, near 1 at the start whatever the layer"),
    ])


def check_gram_matrix(fn: Callable) -> Verdict:
    """fn(features (B, C, H, W)) -> (B, C, C) = F F^T / (H W)."""
    torch.manual_seed(0)
    cases = [(torch.randn(1, 3, 4, 5),), (torch.randn(2, 6, 3, 3),)]

    def raw(f):
        b, c, h, w = f.shape
        flat = f.reshape(b, c, h * w)
        return flat @ flat.transpose(1, 2)

    return _compare("gram_matrix", fn, losses.gram_matrix, cases, shape_hint=(
        "keep the batch axis: (B, C, C), one Gram matrix per image - reshape to (B, C, H*W) and use "
        "torch.bmm or @ (the tutorial's view(c, h * w) drops it and works only for one image)"), hints=[
        (raw, "divide by the number of positions H*W"),
        (lambda f: raw(f) / f[0].numel(), "divide by H*W only, not C*H*W (the PyTorch tutorial's a*b*c*d "
                                          "makes deep layers, with many channels, count less)"),
        (lambda f: (lambda x: x.transpose(1, 2) @ x)(f.flatten(2)) / (f.shape[2] * f.shape[3]),
         "that is (HW x HW), how positions relate: multiply F (C x HW) by its transpose on the right"),
    ])


def check_total_variation(fn: Callable) -> Verdict:
    """fn(image (B, 3, H, W)) -> mean squared vertical difference + mean squared horizontal difference."""
    torch.manual_seed(0)
    cases = [(torch.rand(1, 3, 4, 6),), (torch.rand(2, 3, 5, 3),)]

    def diffs(x):
        return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]

    return _compare("total_variation", fn, losses.total_variation, cases, [
        (lambda x: sum(d.pow(2).sum() for d in diffs(x)),
         "take the mean of the squared differences, not the sum"),
        (lambda x: sum(d.abs().mean() for d in diffs(x)), "square the differences (this is the L1 version)"),
        (lambda x: diffs(x)[0].pow(2).mean(), "add the horizontal neighbours too"),
        (lambda x: diffs(x)[1].pow(2).mean(), "add the vertical neighbours too"),
        (lambda x: sum(d.pow(2).sum() for d in diffs(x)) / sum(d.numel() for d in diffs(x)),
         "take the mean of each direction on its own and add the two means (one mean over both "
         "pools them: a wide image would weigh its horizontal differences more)"),
    ])


def check_luminance(fn: Callable) -> Verdict:
    """fn(image (B, 3, H, W)) -> (B, 1, H, W) luminance Y = 0.299 R + 0.587 G + 0.114 B."""
    torch.manual_seed(0)
    cases = [(torch.rand(1, 3, 4, 4),), (torch.rand(2, 3, 2, 5),)]
    return _compare("luminance", fn, color.luminance, cases, [
        (lambda x: x.mean(1, keepdim=True), "the eye is most sensitive to green: weight R, G, B by "
                                            "0.299, 0.587, 0.114 instead of averaging"),
        (lambda x: color.luminance(x).squeeze(1), "keep the channel axis: (B, 1, H, W), e.g. keepdim=True"),
    ])


def check_instance_norm(fn: Callable) -> Verdict:
    """fn(x (B, C, H, W)) -> each image's each channel shifted to mean 0 and scaled to variance 1
    over its positions (eps = 1e-5 inside the square root, biased variance)."""
    torch.manual_seed(0)
    cases = [(torch.randn(2, 3, 4, 5) * 3 + 1,), (torch.randn(1, 4, 6, 6),)]
    return _compare("instance_norm", fn, lambda x: F.instance_norm(x, eps=1e-5), cases, [
        (lambda x: F.batch_norm(x, None, None, training=True, eps=1e-5),
         "that is batch norm: statistics over the whole batch; take them per image (dims 2 and 3 only)"),
        (lambda x: x - x.mean((2, 3), keepdim=True), "divide by the standard deviation too"),
        (lambda x: (x - x.mean((2, 3), keepdim=True)) / (x.var((2, 3), keepdim=True) + 1e-5).sqrt(),
         "use the biased variance (unbiased=False / correction=0), as instance norm does"),
    ])


def check_meanstd_loss(fn: Callable) -> Verdict:
    """fn(features F (1, C, H, W), painting's A (1, C, H', W')) -> ||s(F) - s(A)||^2 / ||s(A)||^2 with
    s = (each channel's mean, then its standard deviation over the positions, biased)."""
    torch.manual_seed(0)
    cases = [(torch.rand(1, 4, 5, 6), torch.rand(1, 4, 3, 7) * 2),
             (torch.rand(1, 6, 4, 4), torch.rand(1, 6, 8, 2))]

    def stats(f, std):
        return torch.cat([f.mean((2, 3)), std(f)], 1)

    def relative(f, a, std):
        return (stats(f, std) - stats(a, std)).pow(2).sum() / stats(a, std).pow(2).sum()

    def biased(f):
        return f.std((2, 3), correction=0)

    return _compare("meanstd_loss", fn, lambda f, a: statistics.statistic("meanstd").loss(
        f, statistics.statistic("meanstd").targets([a])), cases, [
        (lambda f, a: relative(f, a, lambda x: x.std((2, 3))),
         "the standard deviation over the positions is the biased one (correction=0), as instance norm uses"),
        (lambda f, a: (stats(f, biased) - stats(a, biased)).pow(2).sum(),
         "divide by ||s(A)||^2: a relative error, like every nstlab loss"),
        (lambda f, a: (f.mean((2, 3)) - a.mean((2, 3))).pow(2).sum() / a.mean((2, 3)).pow(2).sum(),
         "the means alone are the linear-kernel MMD: add the standard deviations"),
    ])


def check_mmd(fn: Callable) -> Verdict:
    """fn(x (N, C), y (M, C)) -> the biased MMD^2 with the kernel k(a, b) = (a^T b)^2: the mean of k over
    all pairs of x, plus the same for y, minus twice the mean over pairs (x_i, y_j)."""
    torch.manual_seed(0)
    cases = [(torch.rand(7, 3), torch.rand(5, 3) * 2), (torch.randn(4, 6), torch.randn(9, 6))]

    def kernel(a, b):
        return (a @ b.T).pow(2)

    return _compare("mmd", fn, lambda x, y: statistics.mmd2(x, y, "poly"), cases, [
        (lambda x, y: kernel(x, x).mean() + kernel(y, y).mean() - kernel(x, y).mean(),
         "the cross term counts twice: - 2 mean k(x_i, y_j)"),
        (lambda x, y: (x @ x.T).mean() + (y @ y.T).mean() - 2 * (x @ y.T).mean(),
         "that is the linear kernel a^T b: square it, k(a, b) = (a^T b)^2"),
        (lambda x, y: (kernel(x, x).sum() - kernel(x, x).diag().sum()) / (len(x) * (len(x) - 1))
         + (kernel(y, y).sum() - kernel(y, y).diag().sum()) / (len(y) * (len(y) - 1))
         - 2 * kernel(x, y).mean(),
         "that is the unbiased MMD^2 (no pair of a point with itself); here every pair counts, the "
         "diagonal too, which is what makes it equal the Gram distance"),
    ])


def check_adabn(fn: Callable) -> Verdict:
    """fn(net, images) -> a network whose batch-norm running means and variances are those of
    `images` (its learned weights kept): compared by the running statistics it ends with."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.Conv2d(4, 3, 1), torch.nn.BatchNorm2d(3)).eval()
    cases = [(net, torch.rand(6, 3, 5, 5) * 2 + 0.5), (net, torch.rand(3, 3, 4, 6))]

    def stats(adapted):
        norms = [m for m in adapted.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        return torch.cat([t for m in norms for t in (m.running_mean, m.running_var)])

    def theirs(network, images):
        adapted = fn(copy.deepcopy(network), images)
        if not isinstance(adapted, torch.nn.Module):
            raise TypeError(f"return the adapted network, not {type(adapted).__name__}")
        return stats(adapted)

    def momentum(network, images):  # one train-mode pass without resetting: 0.9 old + 0.1 new
        adapted = copy.deepcopy(network).train()
        with torch.no_grad():
            adapted(images)
        return stats(adapted)

    # rtol: one train-mode pass normalizes the later layers' inputs by the biased batch variance,
    # nstlab's layer-by-layer estimate by the unbiased running one, as the network will at test
    # time: a factor n / (n - 1) apart
    return _compare("adabn", theirs, lambda network, images: stats(domain.adabn(network, images)), cases, [
        (momentum, "the running statistics still hold the training data's: reset them "
                   "(m.reset_running_stats()) and set m.momentum = None, so that the new ones are not "
                   "blended into the old at 10%"),
        (lambda network, images: stats(network), "the statistics did not change: run the target images "
                                                 "through the network in train mode (no gradients)"),
    ], rtol=0.02)


def check_style_mix(fn: Callable) -> Verdict:
    """fn(params (N, C), weights (N,)) -> (C,): the convex combination sum_k w_k params_k / sum_k w_k."""
    torch.manual_seed(0)
    cases = [(torch.randn(3, 5), torch.tensor([0.2, 0.3, 0.5])),
             (torch.randn(2, 4), torch.tensor([1.0, 3.0]))]
    return _compare("style_mix", fn, lambda p, w: w @ p / w.sum(), cases, [
        (lambda p, w: w @ p, "normalize: divide by the sum of the weights so they add up to one"),
        (lambda p, w: p.mean(0), "weight each style's row by its weight instead of averaging"),
    ])


def check_adain(fn: Callable) -> Verdict:
    """fn(content_features, style_features) -> AdaIN(x, y) = sigma(y) (x - mu(x)) / sigma(x) + mu(y)."""
    torch.manual_seed(0)
    cases = [(torch.randn(1, 4, 5, 6) * 2 + 1, torch.randn(1, 4, 3, 7) + 3)]
    return _compare("adain", fn, adain_module.adain, cases, [
        (lambda x, y: (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), keepdim=True)
         * y.std((2, 3), keepdim=True) + y.mean((2, 3), keepdim=True),
         "close: use sigma = sqrt(biased variance + 1e-5), as instance norm does"),
        (lambda x, y: F.instance_norm(x, eps=1e-5), "now give it the style's statistics: * sigma(y) + mu(y)"),
    ])


def check_optimization_loop(fn: Callable) -> Verdict:
    """fn(image, extractor, settings, content_targets, style_targets, steps, lr) -> the image after
    `steps` Adam steps on the perceptual loss (clamped to [0, 1] after each), as StyleTransfer does."""
    name = "optimization_loop"
    with torch.random.fork_rng():
        torch.manual_seed(0)
        vgg = VGGFeatures("vgg16")  # random weights: the loop, not the network, is under test
    content, style = stripes(32, 8), checkerboard(32, 4)
    settings = losses.Settings(content_layers=["relu2_2"], style_layers=["relu1_1", "relu2_1"])
    steps, lr = 5, 0.05
    want = StyleTransfer(content, style, vgg, settings, "cpu").run(
        steps, 32, optimizer="adam", lr=lr, progress=False).image
    args = (content.clone(), vgg, settings,
            content_targets(vgg, content, settings.active_content_layers()),
            style_targets(vgg, [style], settings.active_style_layers()), steps, lr)
    got = _attempt(fn, name, *args)
    if got is None:
        return Verdict(False)
    got = torch.as_tensor(got).detach().float()
    if got.shape != want.shape:
        return _report(False, name, f"return the image, shape {tuple(want.shape)}; got {tuple(got.shape)}")
    if torch.equal(got, content):
        return _report(False, name, "the image did not change: optimize a copy that requires grad "
                                    "(image.clone().requires_grad_(True)) and return it")
    if torch.allclose(got, want, atol=1e-4):
        return _report(True, name, "the same image as StyleTransfer")
    if got.min() < 0 or got.max() > 1:
        return _report(False, name, "keep the pixels in [0, 1]: clamp the image after each step "
                                    "(with torch.no_grad(): image.clamp_(0, 1))")
    return _report(False, name, "a different image than StyleTransfer's: each step zero_grad, features "
                                "of the active layers, perceptual_loss, backward, step, clamp "
                                f"(largest pixel difference {float((got - want).abs().max()):.3g})")


def check_style_loss(fn: Callable) -> Verdict:
    """fn(grams {layer: (1, C, C)}, targets {layer: (1, C, C)}, weights {layer: w}) -> the style
    loss over layers: sum_l w_l ||G_l - A_l||^2 / ||A_l||^2, divided by sum_l w_l."""
    torch.manual_seed(0)

    def case(channels, weights):
        grams = {f"relu{i}_1": torch.randn(1, c, c) for i, c in enumerate(channels, start=1)}
        targets = {k: torch.randn(*v.shape) for k, v in grams.items()}
        return grams, targets, dict(zip(grams, weights, strict=True))

    def each(g, a):
        return {k: losses.style_loss(g[k], a[k]) for k in g}

    def reference(g, a, w):
        return sum(w[k] * v for k, v in each(g, a).items()) / sum(w.values())

    cases = [case((3, 4), (1.0, 1.0)), case((2, 5, 3), (1.0, 2.0, 0.5))]
    return _compare("style_loss", fn, reference, cases, [
        (lambda g, a, w: sum(w[k] * v for k, v in each(g, a).items()),
         "divide by the sum of the layer weights, so that the weights say how the loss is shared "
         "and doubling all of them changes nothing"),
        (lambda g, a, w: sum(each(g, a).values()) / len(g), "weight each layer by its w_l"),
        (lambda g, a, w: sum(w[k] * (g[k] - a[k]).pow(2).sum() for k in g) / sum(w.values()),
         "each layer's error is relative: divide ||G_l - A_l||^2 by ||A_l||^2 (losses.style_loss)"),
        (lambda g, a, w: sum(w[k] * (g[k] - a[k]).pow(2).mean() for k in g) / sum(w.values()),
         "a mean squared error depends on the layer's scale: divide by ||A_l||^2 (losses.style_loss)"),
    ])


def check_guided_gram(fn: Callable) -> Verdict:
    """fn(features (1, C, H, W), mask (1, 1, H, W) in [0, 1]) -> (1, C, C): the Gram matrix of the
    features weighted by the mask, averaged over the mask's area sum(mask) (Gatys et al. 2017)."""
    torch.manual_seed(0)
    cases = [(torch.randn(1, 3, 4, 5), (torch.rand(1, 1, 4, 5) > 0.5).float()),
             (torch.randn(1, 4, 6, 3), torch.rand(1, 1, 6, 3))]

    def raw(f, m):
        x = (f * m).flatten(2)
        return x @ x.transpose(1, 2)

    return _compare("guided_gram", fn, losses.gram_matrix, cases, [
        (lambda f, m: raw(f, m) / (f.shape[2] * f.shape[3]),
         "divide by the mask's area sum(mask), not by H*W: the region's own average, whatever its size"),
        (lambda f, m: losses.gram_matrix(f), "weight the features by the mask before the product"),
        (lambda f, m: raw(f, m), "divide by the mask's area sum(mask)"),
        (lambda f, m: (f * m).flatten(2) @ f.flatten(2).transpose(1, 2) / m.sum(),
         "weight both factors (F * mask) (F * mask)^T; with a soft mask, once is not the same"),
    ])


def _smooth_flow(h: int, w: int, scale: float, seed: int) -> torch.Tensor:
    """(1, 2, H, W): a smooth random flow of about `scale` pixels, the same for the same seed."""
    return random_flow(1, h, w, shift=0.0, bend=scale, generator=torch.Generator().manual_seed(seed))


def check_warp(fn: Callable) -> Verdict:
    """fn(image (1, C, H, W), flow (1, 2, H, W)) -> image sampled at p + flow(p), bilinear,
    pixel centres at -1 and 1 (align_corners=True), the border repeated outside."""
    torch.manual_seed(0)
    cases = [(torch.rand(1, 3, 6, 8), _smooth_flow(6, 8, 1.5, 0)),
             (torch.rand(1, 2, 9, 5), _smooth_flow(9, 5, 3, 1))]

    def grid_sample(image, flow, **kw):
        _, _, h, w = image.shape
        ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
        grid = torch.stack([(xs + flow[:, 0]) / (w - 1) * 2 - 1, (ys + flow[:, 1]) / (h - 1) * 2 - 1], -1)
        return F.grid_sample(image, grid, **{"mode": "bilinear", "padding_mode": "border",
                                             "align_corners": True, **kw})

    return _compare("warp", fn, warp, cases, [
        (lambda im, fl: warp(im, -fl), "sample at p + flow(p), not p - flow(p)"),
        (lambda im, fl: warp(im, fl.flip(1)), "a flow's channel 0 is x (columns), channel 1 is y (rows); "
                                               "grid_sample's grid is (x, y) too"),
        (lambda im, fl: grid_sample(im, fl, padding_mode="zeros"),
         "repeat the border outside the image (padding_mode='border'), not zeros"),
        (lambda im, fl: grid_sample(im, fl, align_corners=False),
         "x = -1 and 1 are the centres of the first and last pixel here: align_corners=True"),
    ])


def check_occlusion(fn: Callable) -> Verdict:
    """fn(forward (2, H, W), backward (2, H, W)) -> (H, W) float mask: 1 where following the flow
    there and back returns home, |f + b(p + f)|^2 <= 0.01 (|f|^2 + |b(p + f)|^2) + 0.5, and
    p + f(p) lands inside the frame."""
    forward = _smooth_flow(10, 12, 3, 2)[0]
    back = -warp(forward, forward)  # a backward flow that undoes the forward one ...
    back[:, 3:6, 4:8] += 4  # ... except in a block, where something moved in front
    cases = [(forward, back), (_smooth_flow(8, 8, 2, 3)[0], _smooth_flow(8, 8, 2, 4)[0])]

    def without_inside(f, b):
        bb = warp(b, f)
        return ((f + bb).pow(2).sum(0) <= 0.01 * (f.pow(2).sum(0) + bb.pow(2).sum(0)) + 0.5).float()

    return _compare("occlusion", fn, reliable, cases, [
        (without_inside, "also mark the pixels whose flow leads out of the frame (0 <= x + f_x <= W - 1, "
                         "the same for y)"),
        (lambda f, b: reliable(f, warp(b, f)), "read the backward flow where the pixel lands, b(p + f(p)): "
                                               "warp it with the forward flow"),
    ])


def check_warping_error(fn: Callable) -> Verdict:
    """fn(outputs (T, 3, H, W), flows (T - 1, 2, H, W), masks (T - 1, H, W)) -> the warping error:
    per pair, warp output t - 1 with flows[t - 1], the squared difference to output t summed over
    colours and averaged over the reliable pixels; then the mean over pairs."""
    torch.manual_seed(1)
    outputs = torch.rand(3, 3, 6, 7)
    flows = torch.cat([_smooth_flow(6, 7, 1, 5), _smooth_flow(6, 7, 1, 6)])
    masks = (torch.rand(2, 6, 7) > 0.3).float()
    cases = [(outputs, flows, masks)]

    def reference(o, f, m):
        return torch.tensor(warping_error(o, flows=f, masks=m))

    def variant(o, f, m, *, channel_mean=False, all_pixels=False, forwards=False):
        errors = []
        for t in range(1, len(o)):
            warped = warp(o[t] if forwards else o[t - 1], f[t - 1])
            d = (o[t - 1 if forwards else t] - warped).pow(2)
            d = d.mean(0) if channel_mean else d.sum(0)
            mask = torch.ones_like(m[t - 1]) if all_pixels else m[t - 1]
            errors.append((d * mask).sum() / mask.sum())
        return torch.stack(errors).mean()

    return _compare("warping_error", fn, reference, cases, [
        (lambda o, f, m: variant(o, f, m, channel_mean=True),
         "sum the squared difference over the three colours (Lai et al.), not the mean"),
        (lambda o, f, m: variant(o, f, m, all_pixels=True),
         "average over the reliable pixels only (the mask)"),
        (lambda o, f, m: variant(o, f, m, forwards=True),
         "flows[t - 1] brings frame t - 1 onto frame t: warp output t - 1 and compare with output t"),
    ])


# Questions about figures: {key: (right letter, why)}; the options are in the notebook's text.
CHOICES = {
    "02-deep": ("c", "relu5_2 keeps where things are (the layout) but not their pixels: deep "
                     "features describe objects and arrangement, not exact colours and edges"),
    "03-shuffle": ("b", "a Gram matrix averages over positions, so moving tiles around changes it "
                        "little: it describes which features occur together, not where"),
    "04-tradeoff": ("a", "more style weight pulls the image towards the painting's statistics; the "
                         "content term is what keeps the houses"),
    "05-scale": ("c", "the Gram targets come from the painting resized to style_scale x size: a "
                      "larger painting has its strokes at a larger pixel scale, and so does the result"),
    "06-norm": ("b", "instance norm removes each image's own contrast (its per-channel mean and "
                     "variance), which is exactly what the style should replace"),
    "07-params": ("a", "only the scale and shift (gamma, beta) of each normalization layer differ "
                       "between styles: a few thousand numbers per style; the convolutions are shared"),
    "08-alpha": ("b", "alpha = 0 gives the decoded content features: the photo, as the decoder "
                      "can redraw it, with none of the painting"),
    "10-patches": ("b", "each image patch is replaced by one whole patch of the painting: the pieces that "
                        "form an eye or a window arrive together. A Gram matrix only counts which features "
                        "occur, anywhere, so the pieces are free to scatter"),
    "12-contrast": ("a", "the first convolution is linear, so x' = a x + b only scales and shifts each of "
                         "its output channels; batch norm with the target's own mean and variance divides "
                         "that scale out and subtracts the shift, and every later layer sees what it saw in "
                         "training (up to the zero padding at the borders)"),
    "09-shift": ("b", "two stride-2 convolutions see the image on a grid of every 4th pixel: a shift by a "
                      "multiple of 4 moves that grid along with the image, any other shift lands between "
                      "its points and the network draws different strokes"),
}


def yours_or_ours(verdict: Verdict, yours: Callable, ours: Callable, name: str) -> Callable:
    """The student's function once its check passed, else nstlab's own (saying so in one line), so
    that the cells after an unwritten exercise still run."""
    if verdict:
        return yours
    print(f"(the cells below use nstlab's {name} until yours passes its check)")
    return ours


def check_choice(key: str, fn: Callable) -> Verdict:
    """fn() -> the letter of the chosen option for the question `key` (see CHOICES)."""
    name = f"question {key}"
    got = _attempt(fn, name)
    if got is None:
        return Verdict(False)
    right, why = CHOICES[key]
    if str(got).strip().lower().strip("()") == right:
        return _report(True, name, why)
    return _report(False, name, f"not {str(got)!r}: look at the figure again, and at what the options say "
                                "the figure would show")
