"""The VGG feature extractor: what the network "sees" at each named layer.

Gatys et al. describe images by the activations of VGG-19 (Simonyan & Zisserman 2015, "Very Deep
Convolutional Networks for Large-Scale Image Recognition"). This module rebuilds the convolutional
part of VGG-16 or VGG-19 with the paper's layer names, block by block:

    conv1_1 relu1_1 conv1_2 relu1_2 pool1   conv2_1 ... pool2   conv3_1 ... pool3   ...   pool5

(torchvision numbers them `features.0`, `features.1`, ...; some tutorials count convolutions and
call conv2_2 "conv_4".) `VGGFeatures(image, layers)` returns a dict of the requested activations
and stops after the deepest one, so later layers cost nothing. ImageNet normalization happens
inside: images go in as RGB in [0, 1]. ReLU never runs in place: torchvision's in-place ReLU
would overwrite a captured convolution output, and measured here in-place saves no memory in the
forward + backward pass of style transfer (the peak is in the backward, and it was ~5% higher).
Pooling is max (as trained) or average (Gatys et al. 2016 found it gives smoother results),
chosen per call (`pooling=`), so one shared extractor serves runs with either.

Weights come from a file (`vgg16().features` / `vgg19().features` or full VGG state dicts; the
architecture follows the file), from the file named by $NSTLAB_VGG_WEIGHTS, by default from the
VGG-16 bundled with nstlab (the ImageNet weights with int8 convolutions, nstlab/assets/vgg16.md:
no download, no setting), or from torchvision (VGG-19 or VGG-16, downloaded once when online).
`load_vgg` keeps what it built per (weights, architecture, device): a second call -- the next
`stylize()`, the next frame of a video -- costs nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .compact import dequantize
from .device import default_device
from .errors import InputError, WeightsError
from .files import checked, hub_file, load_tensors

WEIGHTS_ENV = "NSTLAB_VGG_WEIGHTS"
BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}  # convolutions per block
CHANNELS = (64, 128, 256, 512, 512)  # output channels per block
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
POOLINGS = ("max", "avg")
BUNDLED_VGG = Path(__file__).parent / "assets" / "vgg16-int8.pth"  # made by tools/bundle.py vgg
BUNDLED_SHA256 = "8f03aa62d43148dacdf8920212640ae69a8dc3d778982466cf1f7fc8b20e07d9"
BUNDLE_FORMAT = "nstlab-vgg-int8/1"
_CACHE: dict[tuple, tuple] = {}  # load_vgg's: (source..., device) -> (extractor, where it was put)
_CACHE_LOCK = threading.Lock()


def check_pooling(pooling: str) -> str:
    if pooling not in POOLINGS:
        raise InputError(f"pooling must be 'max' or 'avg', got {pooling!r}")
    return pooling


def layer_names(arch: str = "vgg19") -> list[str]:
    """All layer names of `arch` in forward order: conv1_1, relu1_1, conv1_2, ..., pool5."""
    if arch not in BLOCKS:
        raise InputError(f"unknown architecture {arch!r}; choose one of {', '.join(BLOCKS)}")
    names = []
    for block, convs in enumerate(BLOCKS[arch], start=1):
        for i in range(1, convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


class VGGFeatures(nn.Module):
    """VGG-16/19 convolutional layers with paper names; forward(image, layers) -> {name: activation}."""

    def __init__(self, arch: str = "vgg19"):
        super().__init__()
        self.arch = arch
        self.source = None  # the weights file, set by load_vgg
        self.names = layer_names(arch)
        convs, in_channels = {}, 3
        for block, n in enumerate(BLOCKS[arch], start=1):
            for i in range(1, n + 1):
                convs[f"conv{block}_{i}"] = nn.Conv2d(in_channels, CHANNELS[block - 1], 3, padding=1)
                in_channels = CHANNELS[block - 1]
        self.convs = nn.ModuleDict(convs)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.requires_grad_(False)  # a fixed feature extractor: gradients flow to the image only
        self.eval()

    def channels(self, layer: str) -> int:
        """Number of channels of `layer`'s activation."""
        self.check_layers([layer])
        return CHANNELS[int(layer[4]) - 1]  # conv1_1, relu1_1, pool1: the block number is at [4]

    def feature_size(self, layer: str, size) -> tuple[int, int]:
        """(h, w) of `layer`'s activation for an image of size (H, W): every pool before it halves
        (rounding down); convolutions keep the size."""
        self.check_layers([layer])
        poolings = int(layer[4]) - (0 if layer.startswith("pool") else 1)
        h, w = size
        return h >> poolings, w >> poolings

    def check_layers(self, layers: Iterable[str]) -> list[str]:
        """The layers as a list; raises ValueError naming the valid names if one is unknown."""
        layers = list(layers)
        unknown = [name for name in layers if name not in self.names]
        if unknown:
            raise InputError(f"unknown {self.arch} layer(s) {', '.join(map(repr, unknown))}; "
                             f"valid names: {', '.join(self.names)}")
        return layers

    def forward(self, image: torch.Tensor, layers: Iterable[str],
                pooling: str = "max") -> dict[str, torch.Tensor]:
        """image (B, 3, H, W) RGB in [0, 1] -> {layer: (B, C_l, H_l, W_l)} for each requested layer.

        pooling: "max" (as VGG was trained) or "avg" (smoother results, Gatys et al. 2016).
        """
        wanted = set(self.check_layers(layers))
        check_pooling(pooling)
        out: dict[str, torch.Tensor] = {}
        if not wanted:
            return out
        x = (image - self.mean) / self.std
        pool = F.max_pool2d if pooling == "max" else F.avg_pool2d
        for name in self.names:
            if name.startswith("conv"):
                x = self.convs[name](x)
            elif name.startswith("relu"):
                x = F.relu(x)
            else:
                if min(x.shape[-2:]) < 2:
                    deepest = max(wanted, key=self.names.index)
                    raise InputError(f"image {image.shape[-2]}x{image.shape[-1]} is too small for {deepest}: "
                                     f"its {name} needs a side of at least {2 ** int(name[4])} pixels")
                x = pool(x, kernel_size=2, stride=2)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break  # cut after the deepest requested layer
        return out


def load_vgg(weights=None, arch: str | None = None, device=None, *,
             sha256: str | None = None) -> VGGFeatures:
    """A `VGGFeatures` with pretrained weights, built once per (weights, arch, device) and shared.

    weights: a file path; or None for $NSTLAB_VGG_WEIGHTS, else the bundled VGG-16 (for arch
    None or "vgg16"), else torchvision's ImageNet weights for `arch`; or "torchvision" for
    those (default vgg19), downloaded once when online and checked against the hash in their
    name. With a file the architecture follows the file (`arch`, if given, must agree);
    sha256: the file's expected sha256 (or a prefix of 8+ hex digits), checked before loading.
    device: None = the default device. The extractor's `.source` names the file it came from.
    It is frozen (no gradients to its weights) and shared between callers: do not modify it
    (copy.deepcopy it for one of your own).
    """
    weights = _source(weights, arch)
    device = default_device(device)
    if sha256 is not None:
        if str(weights) == "torchvision":
            raise InputError("sha256= checks a weights file; torchvision's download is checked already")
        checked(Path(weights).expanduser(), sha256, WeightsError, "VGG weights", "a damaged or other file")
    if str(weights) == "torchvision":
        source = ("torchvision", arch or "vgg19")
    else:  # the file decides the architecture
        path = Path(weights).expanduser()
        stat = path.stat() if path.is_file() else None  # a changed file replaces its entry
        source = (str(path.resolve()), stat and stat.st_mtime_ns, stat and stat.st_size)
    with _CACHE_LOCK:
        if source[0] != "torchvision":
            for old in [k for k in _CACHE if k[0] == source[0] and k[:-1] != source]:
                del _CACHE[old]  # an older version of the same file
        key = (*source, str(device))
        model, put = _CACHE.get(key, (None, None))
        if model is None or model.mean.device != put:  # new, or moved away by a caller
            model = _build(weights, arch).to(device)
            _CACHE[key] = (model, model.mean.device)
    if arch is not None and model.arch != arch:
        raise WeightsError(f"{weights} holds {model.arch} weights, but arch={arch!r} was asked for")
    return model


def _source(weights, arch: str | None):
    """What `weights=None` means: $NSTLAB_VGG_WEIGHTS, else the bundled VGG-16, else torchvision."""
    if weights is not None:
        return weights
    if os.environ.get(WEIGHTS_ENV):
        return os.environ[WEIGHTS_ENV]
    return BUNDLED_VGG if arch in (None, "vgg16") else "torchvision"


def _build(weights, arch: str | None) -> VGGFeatures:
    if str(weights) == "torchvision":
        arch = arch or "vgg19"
        source = _torchvision_file(arch)
        state = _file_state(source, "delete it to download it again")
    else:
        source = Path(weights).expanduser()
        state = _file_state(source)
        file_arch = _arch_of(state, weights)
        if arch is not None and arch != file_arch:
            raise WeightsError(f"{weights} holds {file_arch} weights, but arch={arch!r} was asked for")
        arch = file_arch
    model = VGGFeatures(arch)
    convs = [name for name in model.names if name.startswith("conv")]
    weight = [value for key, value in state.items() if key.endswith("weight")]
    bias = [value for key, value in state.items() if key.endswith("bias")]
    if not len(weight) == len(bias) == len(convs):
        raise WeightsError(f"{weights}: {arch} has {len(convs)} convolutions, each with a weight and a "
                           f"bias; the file has {len(weight)} weights and {len(bias)} biases")
    renamed = {f"convs.{conv}.{kind}": tensors[i]
               for kind, tensors in (("weight", weight), ("bias", bias)) for i, conv in enumerate(convs)}
    renamed.update(mean=model.mean, std=model.std)
    try:
        model.load_state_dict(renamed)
    except RuntimeError as err:
        reason = " ".join(str(err).split())  # one line
        raise WeightsError(f"{weights}: tensors do not fit {arch} ({reason})") from err
    model.source = source
    return model


def _file_state(path: Path, hint: str = "") -> dict[str, torch.Tensor]:
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder; give the VGG weights file in it")
    if not path.is_file():
        raise WeightsError(f"VGG weights file {path} does not exist")
    if path.resolve() == BUNDLED_VGG.resolve():
        checked(path, BUNDLED_SHA256, WeightsError, "the bundled VGG-16", "reinstall nstlab")
    try:
        state = load_tensors(path, WeightsError, "a loadable PyTorch state dict")
    except WeightsError as err:
        raise WeightsError(f"{err}; {hint}" if hint else str(err)) from err.__cause__
    if isinstance(state, dict) and state.get("format") == BUNDLE_FORMAT:  # int8 convolutions
        state = {f"{i}.{kind}": dequantize(packed) if kind == "weight" else packed["bias"].float()
                 for i, packed in enumerate(state["convs"].values()) for kind in ("weight", "bias")}
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: expected a state dict of tensors, got {type(state).__name__}"
                           + (f"; {hint}" if hint else ""))
    state = _features_only(state)
    broken = [key for key, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:  # else every run "diverges" at its first step
        raise WeightsError(f"{path}: NaN or infinite values in {', '.join(broken[:3])}: damaged weights"
                           + (f"; {hint}" if hint else ""))
    return state


def _features_only(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keep the convolutional part, in layer order; accepts `features.N.*` (full VGG) or `N.*` keys."""
    if any(key.startswith("features.") for key in state):
        state = {key[len("features."):]: v for key, v in state.items() if key.startswith("features.")}
    state = {key: v for key, v in state.items() if key.split(".")[0].isdigit()}
    return dict(sorted(state.items(), key=lambda kv: (int(kv[0].split(".")[0]), kv[0].endswith("bias"))))


def _arch_of(state: dict[str, torch.Tensor], source) -> str:
    n_convs = sum(1 for v in state.values() if v.dim() == 4)
    for arch, blocks in BLOCKS.items():
        if sum(blocks) == n_convs:
            return arch
    raise WeightsError(f"{source}: found {n_convs} convolution weights; VGG-16 has 13, VGG-19 has 16")


def _torchvision_file(arch: str) -> Path:
    """torchvision's ImageNet weights for `arch` in torch hub's cache, downloaded if absent;
    checked against the sha256 prefix in their name (vgg19-dcbb9e9d.pth) before anyone loads them."""
    from torchvision.models import VGG16_Weights, VGG19_Weights

    if arch not in BLOCKS:
        raise InputError(f"unknown architecture {arch!r}; choose one of {', '.join(BLOCKS)}")
    url = {"vgg16": VGG16_Weights, "vgg19": VGG19_Weights}[arch].IMAGENET1K_V1.url
    return hub_file(url, f"torchvision's {arch} ImageNet weights", WeightsError,
                    "Offline, point nstlab at a weights file instead, one of:\n"
                    f"  - set the environment variable {WEIGHTS_ENV}=/path/to/vgg-features.pth\n"
                    "  - pass weights=PATH (Python) or --weights PATH (command line)\n"
                    "The file is a state dict of torchvision.models.vgg16().features or vgg19().features "
                    "(or of the whole model); saving torchvision's own weights on a machine that is "
                    "online makes one: torch.save(torchvision.models.vgg19(weights='IMAGENET1K_V1')"
                    ".features.state_dict(), 'vgg19-features.pth')")
