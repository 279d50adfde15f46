"""Trained feedforward models: compact files, loading with hash checks, the models nstlab ships.

A model file is a dict saved with `torch.save`: {"format": 1, "kind": "transformer" | "adain",
"config": constructor arguments, "styles": style names, "state": the weights in float16 (half the
size; the outputs differ from float32 by well under one 8-bit grey level), "quantized": convolution
weights stored as int8 with one float16 scale per output channel (save_model(int8=True): a quarter
of float32), "card": what it was trained on and how}. AdaIN files carry the VGG encoder layers they
were trained with (conv1_1 ... conv4_1), so a decoder always meets the features it learned to invert
-- unless they are the bundled VGG-16's (config "encoder": "vgg16-bundled"): then that file serves
as the encoder, and the weights ship once.

`load_model(name_or_path)` rebuilds the network in float32 and eval mode, on the default device.
A name from `MODELS` loads the file shipped inside the package after checking its sha256; a path
loads any file (pass sha256= to check it too). What the file said about the network (its name,
style names and card) is `model.info`, a `ModelInfo`; `model_info(net)` gives one for any network.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..compact import dequantize, quantize
from ..device import default_device, on
from ..errors import InputError, ModelError
from ..files import atomic, checked, load_tensors
from ..vgg import BUNDLED_VGG, VGGFeatures, load_vgg
from .adain import AdaIN, Decoder
from .johnson import TransformerNet

FORMAT = 1
BUNDLED_ENCODER = "vgg16-bundled"  # an AdaIN file whose encoder is the bundled VGG-16
MODELS_DIR = Path(__file__).parent / "models"


@dataclass(frozen=True)
class ModelInfo:
    """What nstlab knows about a network: `model.info` on one `load_model` returned."""

    name: str  # the shipped model's name, the path as given, or the class of a network built in code
    file: Path | None = None  # the model file it was read from
    styles: tuple[str, ...] = ()  # a conditional network's style names, in index order
    card: dict = field(default_factory=dict)  # its model card: data, steps, losses, time, hardware


def model_info(model: torch.nn.Module) -> ModelInfo:
    """`model.info` of a loaded network; for one built in code, its class name."""
    return getattr(model, "info", None) or ModelInfo(type(model).__name__)


@dataclass(frozen=True)
class Pretrained:
    name: str
    file: str  # in nstlab/feedforward/models/
    sha256: str
    summary: str


MODELS: dict[str, Pretrained] = {m.name: m for m in [
    Pretrained("johnson-starry_night", "johnson-starry_night.pth",
               "b0fd210518617b2f46130130d6f07c95bf2fad6b333fe9f67623f4d6bc73556b",
               "Johnson network (instance norm), The Starry Night"),
    Pretrained("johnson-the_scream", "johnson-the_scream.pth",
               "2bb1b2f6354957a28bb3a78109df4c663a36d500aa6104536067b6979f883012",
               "Johnson network (instance norm), The Scream"),
    Pretrained("johnson-great_wave", "johnson-great_wave.pth",
               "48fece4488a7fbd699c012944f3a57cc47518ecfe8b199073fe5c2e607614d55",
               "Johnson network (instance norm), The Great Wave off Kanagawa"),
    Pretrained("cin-6styles", "cin-6styles.pth",
               "de3073a54e6f5deadb6656462b73902b857026354cf581d617f5a43b6eb65d07",
               "conditional instance norm, 6 styles: starry_night, the_scream, great_wave, udnie, "
               "kandinsky, woman_with_hat"),
    Pretrained("johnson-starry_night-stable", "johnson-starry_night-stable.pth",
               "3bd69d95428f73b69e7e00fcc62c84da77624bbac2bc99d7ce95d5bf78324a6f",
               "johnson-starry_night fine-tuned for video: flickers 5x less (Wang et al. 2020)"),
    Pretrained("johnson-the_scream-stable", "johnson-the_scream-stable.pth",
               "c6c26e0296babb5da6c98581280e51e9849617bbef4ab712a8c71c27483a6606",
               "johnson-the_scream fine-tuned for video: flickers 3x less"),
    Pretrained("johnson-great_wave-stable", "johnson-great_wave-stable.pth",
               "7012dec1e7213ae9b4e346ac8c881992741f7be410f2a2025fa0e2fc53160a18",
               "johnson-great_wave fine-tuned for video: flickers 6x less"),
    Pretrained("cin-6styles-stable", "cin-6styles-stable.pth",
               "75c103e5419febc2ee97e03e6afa130e7ae88d92ebf37b85f68a831b6a90f1ab",
               "cin-6styles fine-tuned for video: flickers 3-4x less"),
    Pretrained("adain", "adain.pth",
               "e5da28636225ead66a58615a5149a291155d4aeac322cc9f1de7a099d6064aa5",
               "AdaIN: the bundled VGG-16 to relu4_1 + decoder (int8 weights); any style image"),
]}


def save_model(model, path, *, styles, card: dict | None = None, int8: bool = False,
               bundled_encoder: bool = False) -> Path:
    """Write `model` (a TransformerNet or AdaIN) compactly; returns the path. int8: convolution
    weights as int8 with a scale per output channel (symmetric: w ~ q * max|w| / 127).
    bundled_encoder (AdaIN trained with the bundled VGG-16's weights): leave the encoder out; the
    file then loads with the bundled VGG as its encoder instead of carrying a copy."""
    if isinstance(model, AdaIN):
        kind = "adain"
        if bundled_encoder and model.encoder.arch != "vgg16":
            raise InputError("bundled_encoder: the bundled VGG is a VGG-16, the encoder a "
                             f"{model.encoder.arch}")
        unused = set(_unused_encoder_keys(model.encoder))
        state = {k: v for k, v in model.state_dict().items()
                 if k not in unused and not (bundled_encoder and k.startswith("encoder."))}
        config = {"arch": model.encoder.arch, "width": model.decoder.width,
                  "encoder": BUNDLED_ENCODER if bundled_encoder else "carried"}
    elif isinstance(model, TransformerNet):
        kind, state, config = "transformer", model.state_dict(), model.config()
    else:
        raise InputError(f"cannot save a {type(model).__name__}: expected a TransformerNet or AdaIN")
    quantized = {}
    if int8:
        for key in [k for k, v in state.items() if v.dim() == 4]:  # (C_out, C_in, kh, kw)
            quantized[key] = quantize(state.pop(key), torch.float16)
    state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic(path) as tmp:  # never half a model file
        torch.save({"format": FORMAT, "kind": kind, "config": config, "styles": list(styles),
                    "state": state, "quantized": quantized, "card": card or {}}, tmp)
    return path


def load_model(source, *, sha256: str | None = None, device=None):
    """A TransformerNet or AdaIN from a shipped model's name or a file path, float32, eval mode, on
    `device` (None: the default device). `model.info` is its `ModelInfo` (name, file, style names,
    card). sha256: the file's expected sha256 (or its first 8+ hex digits)."""
    if isinstance(source, str) and source in MODELS:
        entry = MODELS[source]
        path, sha256 = MODELS_DIR / entry.file, sha256 or entry.sha256
    else:
        path = Path(source).expanduser()
    if not path.is_file():
        known = f" (shipped models: {', '.join(MODELS)})" if MODELS else ""
        raise ModelError(f"{source}: no such model file{known}")
    if sha256 is not None:
        hint = "a shipped model: reinstall nstlab" if source in MODELS else "a damaged or different copy"
        checked(path, sha256, ModelError, f"model {source}", hint)
    data = load_tensors(path, ModelError, "a loadable model file")
    if not (isinstance(data, dict) and data.get("format") == FORMAT
            and data.get("kind") in ("transformer", "adain")):
        raise ModelError(f"{path}: not an nstlab model file (format {FORMAT})")
    try:
        model = _build(data)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:  # a damaged file
        reason = " ".join(str(err).split())[:200]  # one line
        raise ModelError(f"{path}: a damaged model file ({type(err).__name__}: {reason})") from err
    model.info = ModelInfo(str(source), path, tuple(data["styles"]), dict(data["card"]))
    return on(model.eval(), default_device(device))


def _build(data: dict):
    """The network a model file describes, its weights loaded; errors for a config out of range."""
    config = data["config"]
    if not (0 < float(config["width"]) <= 256 and 0 <= int(config.get("blocks", 5)) <= 64
            and 1 <= int(config.get("styles", 1)) <= 1024):
        raise ValueError(f"the configuration {config} is out of range")
    state = {k: v.float() if v.is_floating_point() else v for k, v in data["state"].items()}
    for key, packed in data.get("quantized", {}).items():
        state[key] = dequantize(packed)
    broken = [key for key, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise ValueError(f"NaN or infinite values in {', '.join(broken[:3])}")
    if data["kind"] == "transformer":
        model = TransformerNet(**{"symmetric": False, **config})  # files before the key: 3x3 down path
        model.load_state_dict(state)
    else:
        bundled = config.get("encoder") == BUNDLED_ENCODER
        if bundled and config["arch"] != "vgg16":
            raise ValueError(f"a bundled-encoder file must be VGG-16, not {config['arch']}")
        # the network owns its encoder: a copy of the (cached) bundled VGG, or the layers it carries
        encoder = copy.deepcopy(load_vgg(BUNDLED_VGG)) if bundled else VGGFeatures(config["arch"])
        model = AdaIN(encoder, Decoder(width=config["width"]))
        missing, unexpected = model.load_state_dict(state, strict=False)
        unused = set(_unused_encoder_keys(model.encoder))  # layers after relu4_1, and constants
        if bundled:
            unused |= {k for k in missing if k.startswith("encoder.")}
        if unexpected or set(missing) - unused:
            raise ValueError("weights do not fit the AdaIN network "
                             f"(unexpected {unexpected}, missing {sorted(set(missing) - unused)})")
    return model


def _unused_encoder_keys(encoder: VGGFeatures) -> list[str]:
    """State-dict keys of the encoder that AdaIN never uses: layers after relu4_1, and the fixed
    ImageNet mean and std (rebuilt by VGGFeatures itself)."""
    convs = [n for n in encoder.names if n.startswith("conv")]
    deep = convs[convs.index("conv4_1") + 1:]
    return ["encoder.mean", "encoder.std",
            *(f"encoder.convs.{n}.{k}" for n in deep for k in ("weight", "bias"))]
