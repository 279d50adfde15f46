"""Style statistics: which numbers of a painting's features a style loss compares -- what *is* style?

Gatys et al. (2016) match Gram matrices. Instance norm, CIN and AdaIN (Huang & Belongie 2017)
match each channel's mean and standard deviation. Li, Wang, Liu & Hou (2017, "Demystifying Neural
Style Transfer", IJCAI) showed that matching Gram matrices *is* minimizing the maximum mean
discrepancy (MMD) between the image's and the painting's feature vectors with the kernel
k(x, y) = (x^T y)^2, and that other kernels do about as well. Li & Wand (2016, CNNMRF, CVPR) give
up statistics for nearest-neighbour patches, which keeps local layout (an eye stays an eye).

All but the patches are *mean embeddings*: the average over positions p of a map phi of each
feature vector F_p (C values), compared as a relative squared error like every nstlab loss:

    loss = ||m(F) - m(A)||^2 / ||m(A)||^2,     m(F) = mean_p phi(F_p)

    "gram" = "mmd:poly"  phi(x) = x x^T (C^2 values): m is the Gram matrix, and ||m(F) - m(A)||^2
                         is the biased MMD^2 with k(x, y) = (x^T y)^2 (the identity, in `mmd2`)
    "mmd:linear"         phi(x) = x: the channel means, MMD with k(x, y) = x^T y
    "mmd" = "mmd:rbf"    phi = random Fourier features (Rahimi & Recht 2007, D = 1024) of the
                         Gaussian kernel exp(-||x - y||^2 / (2 s^2)), s^2 the median squared distance
                         between the painting's feature vectors: MMD^2 ~ ||m(F) - m(A)||^2, and
                         ||m(A)||^2 ~ the mean of k over the painting's pairs
    "meanstd"            (mean, standard deviation) per channel: AdaIN's statistic (2C values)
    "patch"              CNNMRF: every 3x3 patch of the image's features is pulled towards the
                         painting's patch most like it (normalized cross-correlation), sum of
                         squared differences over sum of squares (x PATCH_SCALE, see there): no
                         average, so layout stays

With region masks (Gatys et al. 2017) the means are taken over each region, weighted by its mask,
and the patch of region k is looked for among painting k's patches; with several paintings and
`mix` weights the relative errors are averaged with the weights, as for Gram matrices (the
patch loss has no mix: a patch comes from one painting). The patch loss works on block 3 and
deeper (Li & Wand use relu3_1 and relu4_1, `PATCH_LAYERS`): earlier layers have too many
positions to search. `targets.style_targets` builds each kind once per painting and layer.

    statistic(name)                    -> the Statistic: .targets(features), .loss(features, target, ...)
    mean_std(F, masks)                 -> (K, 2C)
    mmd2(x, y, kernel)                 -> the exact biased MMD^2 of two sets of vectors (N, C), (M, C)
    size(target)                       -> how many numbers a statistic keeps of a painting
    retrieval_accuracy(vectors, labels) -> which painting a crop comes from, by its nearest neighbour
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import InputError

STYLE_LOSSES = ("gram", "meanstd", "mmd", "mmd:linear", "mmd:poly", "mmd:rbf", "patch")
KERNELS = ("linear", "poly", "rbf")
PATCH_LAYERS = {"relu3_1": 1.0, "relu4_1": 1.0}  # Li & Wand's layers for the patch loss
RBF_FEATURES = 1024  # random Fourier features of the Gaussian kernel
SAMPLE = 1024  # positions of the painting the Gaussian kernel's width is measured on
MAX_PATCHES = 1024  # painting patches kept per image and layer (evenly strided): the search's cost
# The nearest-patch loss feeds on itself (each step finds painting patches that fit better), so at
# the same relative size it pulls about three times as hard as the statistics: scaled by this, the
# default style weight 10 leaves the photo about as recognizable as the Gram loss does (relu4_2
# content distance 0.33 against 0.57 at 128 px, 40 L-BFGS steps; unscaled 0.95, the photo gone)
PATCH_SCALE = 0.3
EPS = 1e-12


def check_style_loss(name: str) -> str:
    if name not in STYLE_LOSSES:
        raise InputError(f"style_loss must be one of {', '.join(STYLE_LOSSES)}, got {name!r}")
    return name


def gram_matrix(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C): channel co-activations averaged over the H*W positions.

    mask: (K, 1, H, W) region weights in [0, 1] (Gatys et al. 2017's guided Gram matrix, one per
    region): the features are weighted by each mask and averaged over its area -> (K, C, C).
    """
    b, c, h, w = features.shape
    if mask is None:
        f = features.reshape(b, c, h * w)
        return torch.bmm(f, f.transpose(1, 2)) / (h * w)
    f = (features * mask).reshape(-1, c, h * w)  # (K, C, HW)
    area = mask.sum((1, 2, 3)).clamp_min(EPS)  # (K,)
    return torch.bmm(f, f.transpose(1, 2)) / area[:, None, None]


def _means(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """(B, D, H, W) values per position -> (B, D) their means, or (K, D) per region of mask (K, 1, H, W)
    (B = 1 then): each region's positions weighted by its mask."""
    if mask is None:
        return values.mean((2, 3))
    return (values * mask).sum((2, 3)) / mask.sum((2, 3)).clamp_min(EPS)


def mean_std(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, H, W) -> (B, 2C): each channel's mean, then its standard deviation over the positions
    (per region of `mask` (K, 1, H, W) -> (K, 2C))."""
    mean = _means(features, mask)  # (K, C)
    var = _means((features - mean[..., None, None]).pow(2), mask)
    return torch.cat([mean, (var + 1e-8).sqrt()], dim=1)


def relative_error(values: torch.Tensor, target: torch.Tensor,
                   weights: torch.Tensor | None = None) -> torch.Tensor:
    """||V - T||^2 / ||T||^2 per row (row k of a batch against row k, or all against one), averaged
    over the rows, or weighted by `weights` (K,) summing to one."""
    dims = tuple(range(1, max(values.dim(), target.dim())))
    relative = (values - target).pow(2).sum(dims) / target.pow(2).sum(dims).clamp_min(EPS)
    return relative.mean() if weights is None else (relative * weights.to(relative)).sum()


class Statistic:
    """A style statistic: `targets` from the painting(s)' features, `loss` of the image's."""

    name = ""
    size_note = ""

    def targets(self, features: list[torch.Tensor]):
        """From the features (1, C, H, W) of each of K paintings: what `loss` compares with."""
        raise NotImplementedError

    def loss(self, features: torch.Tensor, target, mask: torch.Tensor | None = None,
             mix: torch.Tensor | None = None) -> torch.Tensor:
        """The relative loss of the image's features (1, C, H, W); mask (K, 1, H, W) puts painting
        k on region k; mix (K,) weights the paintings."""
        raise NotImplementedError


class Gram(Statistic):
    name = "gram"

    def targets(self, features):
        return torch.cat([gram_matrix(f) for f in features])  # (K, C, C)

    def loss(self, features, target, mask=None, mix=None):
        return relative_error(gram_matrix(features, mask), target, mix)


class MeanStd(Statistic):
    name = "meanstd"

    def targets(self, features):
        return torch.cat([mean_std(f) for f in features])  # (K, 2C)

    def loss(self, features, target, mask=None, mix=None):
        return relative_error(mean_std(features, mask), target, mix)


class Means(Statistic):
    name = "mmd:linear"

    def targets(self, features):
        return torch.cat([_means(f, None) for f in features])  # (K, C)

    def loss(self, features, target, mask=None, mix=None):
        return relative_error(_means(features, mask), target, mix)


@dataclass
class RandomFeatures:
    """The Gaussian kernel's random Fourier features per painting: phi(x) = sqrt(2/D) cos(x W + b)."""

    weights: torch.Tensor  # (K, C, D) ~ N(0, 1 / s_k^2)
    phases: torch.Tensor  # (K, D) ~ U(0, 2 pi)
    embedding: torch.Tensor | None = None  # (K, D) the paintings' mean embeddings

    def embed(self, features: torch.Tensor, k: int) -> torch.Tensor:
        """(1, C, H, W) -> (1, D, H, W): painting k's feature map at every position."""
        x = features[0].flatten(1).T  # (HW, C)
        scale = math.sqrt(2 / self.phases.shape[-1])
        phi = scale * torch.cos(x @ self.weights[k].to(x) + self.phases[k].to(x))  # (HW, D)
        return phi.T.reshape(1, -1, *features.shape[-2:])


class Gaussian(Statistic):
    name = "mmd:rbf"

    def targets(self, features):
        generator = torch.Generator().manual_seed(0)  # the same features every run: a fixed loss
        weights, phases = [], []
        for f in features:
            x = f[0].flatten(1).T.float().cpu()  # (HW, C)
            sample = x[torch.linspace(0, len(x) - 1, min(SAMPLE, len(x))).long()]
            squared = torch.pdist(sample).pow(2)  # every pair once
            width = squared.median().clamp_min(EPS) if len(squared) else torch.tensor(1.0)  # median heuristic
            w = torch.randn(x.shape[1], RBF_FEATURES, generator=generator) / width.sqrt()
            weights.append(w.to(f.device))
            phases.append((torch.rand(RBF_FEATURES, generator=generator) * 2 * math.pi).to(f.device))
        found = RandomFeatures(torch.stack(weights), torch.stack(phases))
        found.embedding = torch.cat([_means(found.embed(f.float(), k), None) for k, f in enumerate(features)])
        return found

    def loss(self, features, target, mask=None, mix=None):
        embedded = [target.embed(features, k) for k in range(len(target.embedding))]  # (1, D, H, W) each
        means = torch.cat([_means(e, None if mask is None else mask[k:k + 1])
                           for k, e in enumerate(embedded)])
        return relative_error(means, target.embedding, mix)  # (K, D) against (K, D)


@dataclass
class Patches:
    """The paintings' 3x3 feature patches: raw (N, C*9), unit length (N, C*9), owner (N,) painting."""

    raw: torch.Tensor
    unit: torch.Tensor
    owner: torch.Tensor


def _patches(features: torch.Tensor) -> torch.Tensor:
    """(1, C, H, W) -> (HW, C*9): the 3x3 patch around every position (zeros beyond the border, so
    that a feature map smaller than 3x3 has patches too), row by row."""
    return F.unfold(features, 3, padding=1).transpose(1, 2)[0]


class Patch(Statistic):
    name = "patch"

    def targets(self, features):
        raws, owners = [], []
        for k, f in enumerate(features):
            patches = _patches(f.float())
            step = max(1, math.ceil(len(patches) / MAX_PATCHES))
            raws.append(patches[::step])
            owners.append(torch.full((len(raws[-1]),), k, device=f.device))
        raw = torch.cat(raws)
        return Patches(raw, raw / raw.norm(dim=1, keepdim=True).clamp_min(EPS), torch.cat(owners))

    def loss(self, features, target, mask=None, mix=None):
        if mix is not None and len(mix) > 1 and mask is None:
            raise InputError("the patch loss takes each patch from one painting: mix weights do not apply "
                             "(use masks to say where each painting goes, or another style_loss)")
        patches = _patches(features)  # (M, C*9)
        with torch.no_grad():  # the nearest painting patch of each image patch
            scores = patches.detach() @ target.unit.T.to(patches)  # (M, N), each row over |p|
            if mask is not None:  # region k's positions search painting k's patches only
                region = mask.to(patches).flatten(1).argmax(0)  # (M,) the region at each patch's centre
                scores = scores.masked_fill(region[:, None] != target.owner[None].to(region), -math.inf)
            nearest = target.raw[scores.argmax(1)].to(patches)  # (M, C*9)
        return PATCH_SCALE * (patches - nearest).pow(2).sum() / nearest.pow(2).sum().clamp_min(EPS)


_STATISTICS = {"gram": Gram(), "mmd:poly": Gram(), "meanstd": MeanStd(), "mmd:linear": Means(),
               "mmd:rbf": Gaussian(), "mmd": Gaussian(), "patch": Patch()}


def statistic(name: str) -> Statistic:
    """The statistic a `style_loss` name stands for (STYLE_LOSSES)."""
    return _STATISTICS[check_style_loss(name)]


def kernel_matrix(x: torch.Tensor, y: torch.Tensor, kernel: str, width: float | None = None) -> torch.Tensor:
    """k(x_i, y_j) for vectors x (N, C), y (M, C) -> (N, M): "linear" x^T y, "poly" (x^T y)^2,
    "rbf" exp(-||x - y||^2 / (2 width)) (width: the squared bandwidth s^2)."""
    if kernel == "linear":
        return x @ y.T
    if kernel == "poly":
        return (x @ y.T).pow(2)
    if kernel == "rbf":
        return torch.exp(-torch.cdist(x, y).pow(2) / (2 * width))
    raise InputError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")


def mmd2(x: torch.Tensor, y: torch.Tensor, kernel: str = "poly", width: float | None = None) -> torch.Tensor:
    """The biased maximum mean discrepancy^2 between the vectors x (N, C) and y (M, C):
    mean k(x, x') + mean k(y, y') - 2 mean k(x, y), every pair (the diagonal included). With
    kernel "poly" it equals ||G_x - G_y||^2 of their Gram matrices (x^T x / N, y^T y / M)."""
    return (kernel_matrix(x, x, kernel, width).mean() + kernel_matrix(y, y, kernel, width).mean()
            - 2 * kernel_matrix(x, y, kernel, width).mean())


def size(target) -> int:
    """How many numbers a statistic's target holds (a tensor, or the tensors of a dataclass)."""
    if isinstance(target, torch.Tensor):
        return target.numel()
    return sum(v.numel() for v in vars(target).values() if isinstance(v, torch.Tensor))


def describe(features: torch.Tensor, kind: str) -> torch.Tensor:
    """One layer's features (1, C, H, W) as a descriptor vector: "gram" (C^2), "meanstd" (2C) or
    "mean" (C)."""
    if kind == "gram":
        return gram_matrix(features).flatten()
    if kind == "meanstd":
        return mean_std(features).flatten()
    if kind == "mean":
        return _means(features, None).flatten()
    raise InputError(f"kind must be gram, meanstd or mean, got {kind!r}")


def retrieval_accuracy(vectors: list[list[torch.Tensor]], labels: list) -> float:
    """Top-1 leave-one-out retrieval: the share of items whose nearest other item has their label.
    vectors[i] holds item i's descriptor per layer; each layer's part is divided by its mean norm
    over all items, so that every layer counts alike, then the parts are joined and compared by
    Euclidean distance."""
    layers = list(zip(*vectors, strict=True))  # per layer: (N,) vectors
    parts = [torch.stack(layer) / torch.stack(layer).norm(dim=1).mean().clamp_min(EPS) for layer in layers]
    joined = torch.cat(parts, dim=1)  # (N, D)
    distances = torch.cdist(joined, joined).fill_diagonal_(math.inf)
    nearest = distances.argmin(1)
    return sum(labels[i] == labels[j] for i, j in enumerate(nearest.tolist())) / len(labels)
