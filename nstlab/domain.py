"""Style and domain adaptation: the statistics that are a style are the statistics of a domain.

A painting's style is a distribution of features; so is a domain (photos against paintings, one
camera against another). Li et al. (2017) showed that Gram matching is an MMD, the quantity
domain-adaptation methods minimize; AdaBN (Li, Wang, Shi, Liu & Hou 2016/2018, "Revisiting Batch
Normalization for Practical Domain Adaptation") adapts a classifier to a new domain by
re-estimating its batch-norm statistics on unlabelled target images -- the AdaIN idea applied to
a classifier; and Geirhos et al. (2019, Stylized-ImageNet) and Jackson et al. (2019, style
augmentation) train on stylized images so that a classifier looks at shape, not texture.

    shapes(n, seed=...)            -> (images (n, 3, 32, 32), labels (n,)): a circle, square,
                                      triangle or cross, each class with its own texture too
    cue_conflict(n, seed=...)      -> (images, shape labels, texture labels): one class's shape in
                                      another class's texture
    SmallNet()                     a batch-norm CNN that learns them in seconds
    fit(net, images, labels), accuracy(net, images, labels)
    adabn(net, images)             -> a copy whose batch-norm statistics are the images'
    StyleAugment(paintings)        a transform: each image repainted by nstlab's AdaIN network
    features(net, images)          -> (n, C) the first batch-norm layer's output, averaged per image
    mmd(x, y, kernel)              -> the MMD^2 between two sets of vectors (statistics.mmd2)
    shape_bias(net, images, shapes, textures) -> the share of cue-conflict decisions made by shape

The data are drawn by nstlab (no download, no licence beyond nstlab's): in the source domain
each class has a shape *and* a texture (circle: stripes, square: checks, triangle: dots, cross:
waves), so a network may learn either cue.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from .errors import InputError
from .feedforward.apply import prepare
from .samples import resolve_image
from .statistics import mmd2

CLASSES = ("circle", "square", "triangle", "cross")
SIZE = 32


def _grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    y, x = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                          indexing="ij")
    return y, x


def _mask(shape: int, cy: float, cx: float, r: float, size: int) -> torch.Tensor:
    """(size, size) in {0, 1}: shape `shape` (an index of CLASSES) centred at (cy, cx), radius r."""
    y, x = _grid(size)
    dy, dx = y - cy, x - cx
    if shape == 0:
        inside = dy ** 2 + dx ** 2 <= r ** 2
    elif shape == 1:
        inside = (dy.abs() <= r * 0.85) & (dx.abs() <= r * 0.85)
    elif shape == 2:
        inside = (dy <= r * 0.7) & (dy >= -r) & (dx.abs() <= (dy + r) * 0.6)
    else:
        inside = ((dy.abs() <= r * 0.3) & (dx.abs() <= r)) | ((dx.abs() <= r * 0.3) & (dy.abs() <= r))
    return inside.float()


def _texture(kind: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """(3, size, size): class `kind`'s texture in a random colour and phase."""
    y, x = _grid(size)
    phase = float(torch.rand((), generator=generator)) * 2 * math.pi
    if kind == 0:
        pattern = torch.sin(x * 1.2 + phase)  # stripes
    elif kind == 1:
        pattern = torch.sign(torch.sin(x * 0.8 + phase) * torch.sin(y * 0.8 + phase))  # checks
    elif kind == 2:
        pattern = torch.cos(x * 1.3 + phase) * torch.cos(y * 1.3 + phase) * 2 - 1  # dots
    else:
        pattern = torch.sin((x + 2 * torch.sin(y * 0.5)) * 0.9 + phase)  # waves
    colour = torch.rand(3, 1, 1, generator=generator) * 0.6 + 0.2
    return (colour + 0.25 * pattern[None]).clamp(0, 1)


def _draw(shape: int, texture: int, generator: torch.Generator, size: int) -> torch.Tensor:
    r = float(torch.rand((), generator=generator)) * size * 0.12 + size * 0.22
    cy, cx = (float(torch.rand((), generator=generator)) * (size - 2 * r) + r for _ in range(2))
    mask = _mask(shape, cy, cx, r, size)[None]
    background = torch.rand(3, 1, 1, generator=generator) * 0.3 + 0.6 + torch.rand(3, size, size,
                                                                                  generator=generator) * 0.05
    return (mask * _texture(texture, size, generator) + (1 - mask) * background).clamp(0, 1)


def shapes(n: int, *, seed: int = 0, size: int = SIZE) -> tuple[torch.Tensor, torch.Tensor]:
    """n labelled images (n, 3, size, size) in [0, 1] and their classes (n,): each class its shape
    filled with its texture, at a random place, size, colour and phase; the classes in turn."""
    if n < 1:
        raise InputError(f"n must be >= 1, got {n}")
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % len(CLASSES)
    return torch.stack([_draw(int(k), int(k), generator, size) for k in labels]), labels


def cue_conflict(n: int, *, seed: int = 0,
                 size: int = SIZE) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n images whose shape is one class and whose texture another: (images, shapes, textures)."""
    generator = torch.Generator().manual_seed(seed)
    shape = torch.arange(n) % len(CLASSES)
    texture = (shape + 1 + torch.randint(0, len(CLASSES) - 1, (n,), generator=generator)) % len(CLASSES)
    images = torch.stack([_draw(int(s), int(t), generator, size)
                          for s, t in zip(shape, texture, strict=True)])
    return images, shape, texture


class SmallNet(nn.Module):
    """Three conv-batchnorm-ReLU blocks (16, 32, 64 channels), global average pooling, a linear
    classifier over CLASSES: about 25 k parameters."""

    def __init__(self, classes: int = len(CLASSES)):
        super().__init__()
        layers, width = [], 3
        for i, out in enumerate((16, 32, 64)):
            layers += [nn.Conv2d(width, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU()]
            layers += [nn.MaxPool2d(2)] if i < 2 else []
            width = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


def fit(net: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, epochs: int = 4, batch: int = 64,
        lr: float = 3e-3, seed: int = 0, augment=None) -> nn.Module:
    """Train `net` (in place) with Adam and cross-entropy; augment(batch, generator) -> batch is
    applied to each batch (e.g. a StyleAugment). Returns the net in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images), batch):
            idx = order[start:start + batch]
            x = images[idx] if augment is None else augment(images[idx], generator)
            loss = F.cross_entropy(net(x), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return net.eval()


@torch.no_grad()
def accuracy(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of `images` the net (in eval mode) labels right."""
    net.eval()
    return float((net(images).argmax(1) == labels).float().mean())


@torch.no_grad()
def adabn(net: nn.Module, images: torch.Tensor, *, batch: int = 256) -> nn.Module:
    """A copy of `net` whose batch-norm layers use the statistics of `images` (unlabelled, the
    target domain) instead of the training data's; the learned scales and shifts stay. Layer by
    layer, first to last: each layer's running mean and (unbiased) variance become those of its
    input over all of `images`, with the layers before it already adapted. No gradient, no label.
    Returns the copy in eval mode."""
    adapted = copy.deepcopy(net).eval()
    norms = _norms(adapted)
    if not norms:
        raise InputError("the network has no batch-norm layer: AdaBN has nothing to re-estimate")
    for norm in norms:
        found = {"count": 0, "sum": 0.0, "squares": 0.0}

        def grab(_module, args, found=found):
            x = args[0].double()  # sums of squares: in double, against cancellation
            dims = [0, *range(2, x.dim())]  # all but the channels
            found["count"] += x.numel() // x.shape[1]
            found["sum"] = found["sum"] + x.sum(dims)
            found["squares"] = found["squares"] + x.pow(2).sum(dims)

        handle = norm.register_forward_pre_hook(grab)
        for start in range(0, len(images), batch):
            adapted(images[start:start + batch])
        handle.remove()
        n = found["count"]
        mean = found["sum"] / n
        norm.running_mean.copy_(mean.to(norm.running_mean))
        norm.running_var.copy_(((found["squares"] - n * mean.pow(2)) / max(n - 1, 1)).to(norm.running_var))
    return adapted


def _norms(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@torch.no_grad()
def features(net: SmallNet, images: torch.Tensor) -> torch.Tensor:
    """(n, C): the output of the net's first batch-norm layer (eval mode), averaged over positions."""
    net.eval()
    return net.features[:2](images).mean((2, 3))


def mmd(x: torch.Tensor, y: torch.Tensor, kernel: str = "rbf") -> float:
    """MMD^2 between vectors x (N, C) and y (M, C) (`statistics.mmd2`); "rbf" takes the median
    squared distance of all the vectors as its bandwidth."""
    width = None
    if kernel == "rbf":
        joined = torch.cat([x, y]).double()
        width = float(torch.pdist(joined).pow(2).median())
    return float(mmd2(x.double(), y.double(), kernel, width))


class StyleAugment:
    """Repaint a share `p` of each batch with nstlab's AdaIN network: each chosen image with a
    painting drawn from `paintings` and a strength alpha drawn from `alphas` (low, high), the same
    for the images of one painting in one batch. Deterministic under the generator it is called
    with. paintings: sample names or images."""

    def __init__(self, paintings, *, alphas=(0.5, 1.0), p: float = 0.5, model="adain", size: int = 64):
        if not paintings:
            raise InputError("give at least one painting to augment with")
        if not 0 <= alphas[0] <= alphas[1] <= 1 or not 0 <= p <= 1:
            raise InputError(f"alphas must be 0 <= low <= high <= 1 and p in [0, 1], got {alphas}, {p}")
        self.net = prepare(model, "cpu")
        self.paintings = [resolve_image(x, size) for x in paintings]
        self.alphas, self.p = alphas, p

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        generator = generator or torch.Generator().manual_seed(0)
        chosen = torch.rand(len(images), generator=generator) < self.p
        which = torch.randint(0, len(self.paintings), (len(images),), generator=generator)
        low, high = self.alphas
        alphas = low + (high - low) * torch.rand(len(self.paintings), generator=generator)
        out = images.clone()
        for k, painting in enumerate(self.paintings):
            idx = torch.nonzero(chosen & (which == k)).flatten()
            if len(idx):
                out[idx] = self.net(images[idx], painting, alpha=float(alphas[k]))
        return out


@torch.no_grad()
def shape_bias(net: nn.Module, images: torch.Tensor, shape: torch.Tensor, texture: torch.Tensor) -> float:
    """Geirhos et al.'s shape bias on cue-conflict images: of the decisions that follow one cue,
    the share that follow the shape (1: shape only, 0: texture only)."""
    predicted = net.eval()(images).argmax(1)
    by_shape, by_texture = int((predicted == shape).sum()), int((predicted == texture).sum())
    return by_shape / max(by_shape + by_texture, 1)
