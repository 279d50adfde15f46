"""What `nstlab train KIND` means: the network and objective for each kind, and the model file.

    johnson   TransformerNet(norm="instance" | "batch"), one style, PerceptualObjective
    cin       TransformerNet(norm="conditional"), N styles, PerceptualObjective
    adain     AdaIN(VGG encoder, Decoder), folders of style images, AdaINObjective

`train_model` builds them, runs `train` and writes the model file with a card that records what
the network really trained with (its objective's own weights), so the command line only parses
and prints.
"""

from __future__ import annotations

import copy
import os
import platform
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist

from ..device import default_device
from ..errors import InputError, ModelError
from ..files import sha256_of
from ..vgg import BUNDLED_SHA256, BUNDLED_VGG, load_vgg
from .adain import AdaIN, Decoder
from .johnson import TransformerNet
from .objectives import (
    ADAIN_STYLE_WEIGHT,
    FEEDFORWARD_SETTINGS,
    STYLE_SIZE,
    AdaINObjective,
    PerceptualObjective,
)
from .pretrained import load_model, model_info, save_model
from .train import TrainConfig, train

KINDS = ("johnson", "cin", "adain")
# What a run costs. "laptop" (a CPU or Apple's MPS): the size of the shipped Johnson networks
# (minutes; CIN and AdaIN were trained longer, see their cards); "cuda": the papers' size (hours on
# a CPU, minutes to an hour on a GPU). Width: channels of a Johnson/CIN network's first layer, or
# the AdaIN decoder's width factor. Workers: processes that load images beside the training one
# (a GPU outruns one core decoding JPEGs; on a CPU the training math wants every core).
RECIPES = {"laptop": {"steps": 700, "crop": 128, "workers": 0,
                      "width": {"johnson": 16, "cin": 16, "adain": 0.5}},
           "cuda": {"steps": 20000, "crop": 256, "workers": 4,
                    "width": {"johnson": 32, "cin": 32, "adain": 1.0}}}


def recipe_for(kind: str, device) -> dict:
    """Default steps, crop, workers and width for training `kind` on `device`."""
    recipe = RECIPES["cuda" if torch.device(device).type == "cuda" else "laptop"]
    return {**recipe, "width": recipe["width"][kind]}


def objective_for(kind: str, styles, extractor, *, width: float | None = None, norm: str = "instance",
                  crop: int = 256, content_weight: float | None = None, style_weight: float | None = None,
                  tv_weight: float | None = None, temporal_weight: float = 0.0,
                  style_size: int | None = None, identity_weight: float | None = None,
                  start: torch.nn.Module | None = None, workers: int = 0) -> torch.nn.Module:
    """A network of `kind` inside its training objective (objective.model is the network): a
    fresh one, or `start` (a loaded model of that kind, to fine-tune; width and norm are its own).
    style_size sets the size of the brush marks in the output's pixels: the painting's longest side
    for a johnson/cin network's Gram targets (default STYLE_SIZE); for adain the paintings' shorter
    side before a crop is cut (default: the crop). identity_weight: adain only (AdaINObjective);
    workers: processes that load adain's style crops."""
    given = {k: v for k, v in (("content_weight", content_weight), ("style_weight", style_weight),
                               ("tv_weight", tv_weight)) if v is not None}
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if start is not None:
        _check_start(kind, start, len(styles))
    if style_size is not None and not (isinstance(style_size, int) and style_size >= 16):
        raise InputError(f"style_size must be a whole number of pixels >= 16, got {style_size!r}")
    if kind == "adain":
        if "tv_weight" in given:
            raise InputError("adain's objective has no TV term: drop --tv-weight")
        model = start or AdaIN(copy.deepcopy(extractor), Decoder(width=1.0 if width is None else width))
        return AdaINObjective(model, styles, crop=crop, temporal_weight=temporal_weight,  # owns its encoder
                              style_side=style_size, identity_weight=identity_weight or 0.0, workers=workers,
                              **{"style_weight": ADAIN_STYLE_WEIGHT, **given})
    if identity_weight is not None:
        raise InputError(f"--identity-weight is for adain; a {kind} network has no VGG decoder to train")
    if kind == "johnson" and len(styles) != 1:
        raise InputError("johnson learns one style: give one --style (use cin for several)")
    if width is not None and not float(width).is_integer():
        raise InputError(f"a {kind} network's width is a whole number of channels, got {width}")
    width = 32 if width is None else int(width)
    model = start or TransformerNet(norm="conditional" if kind == "cin" else norm, width=width,
                                    styles=len(styles) if kind == "cin" else 1)
    return PerceptualObjective(model, styles, extractor, FEEDFORWARD_SETTINGS.replace(**given),
                               temporal_weight=temporal_weight, style_size=style_size or STYLE_SIZE)


def _check_start(kind: str, model: torch.nn.Module, styles: int) -> None:
    """One clear error if the model to fine-tune is not a network of `kind` for `styles` styles."""
    name = model_info(model).name
    if kind == "adain":
        if not isinstance(model, AdaIN):
            raise InputError(f"{name} is not an AdaIN network: fine-tune it as johnson or cin")
        return
    if not isinstance(model, TransformerNet) or (model.norm == "conditional") != (kind == "cin"):
        raise InputError(f"{name} is not a {kind} network")
    if kind == "cin" and model.styles != styles:
        raise InputError(f"{name} has {model.styles} styles; give its {model.styles} style images, "
                         f"in its order ({', '.join(model_info(model).styles)})")


def train_model(kind: str, photos, styles, output, *, weights=None, config: TrainConfig | None = None,
                run_dir=None, resume=None, finetune=None, progress: bool = True, device=None, width=None,
                sha256: str | None = None, **network) -> dict:
    """Build, train and save a network of `kind`; returns its card. Under torchrun only rank 0 writes.

    photos: folder(s) of training photos; styles: style images (johnson: one, cin: several) or,
    for adain, folder(s) of paintings; config and width: by default the recipe for the device
    (`recipe_for`); run_dir: checkpoints and previews (default: OUTPUT-run/ beside the model, so
    an interrupted run can --resume); finetune: a trained model (name or file) to start from
    instead of a fresh network; sha256: of the VGG weights file, checked before loading;
    network: norm, content/style/tv weight, temporal_weight (stable networks for video).
    """
    output = Path(output)
    run_dir = output.with_name(f"{output.stem}-run") if run_dir is None else run_dir
    recipe = recipe_for(kind, default_device(device))
    config = config or TrainConfig(steps=recipe["steps"], crop=recipe["crop"], workers=recipe["workers"])
    network["width"] = recipe["width"] if width is None else width
    extractor = load_vgg(weights, device=device, sha256=sha256)
    torch.manual_seed(config.seed)  # the network's initial weights too: one seed, one run
    start = None if finetune is None else load_model(finetune)
    objective = objective_for(kind, list(styles), extractor, crop=config.crop, start=start,
                              workers=config.workers, **network)
    trained = train(objective, photos, config, run_dir=run_dir, resume=resume, progress=progress,
                    device=device)
    names = [str(s) for s in styles] if kind == "adain" else [Path(str(s)).stem for s in styles]
    card = {"kind": kind, "styles": names, "content": [str(c) for c in _list(photos)],
            "steps": config.steps, "batch": config.batch, "crop": config.crop, "lr": config.lr,
            "objective": objective.describe(),
            "final_losses": trained.losses, "seconds": round(trained.seconds),
            "hardware": _hardware(), "vgg": f"{extractor.arch} from {_weights_source(extractor)}"}
    if start is not None:
        card["finetuned_from"] = f"{start.info.name} (sha256 {sha256_of(start.info.file)[:12]}...)"
    if not dist.is_initialized() or dist.get_rank() == 0:
        try:
            save_model(objective.model, output, styles=names, card=card)
        except OSError as err:  # the disk filled up, the folder went away: keep the trained network
            fallback = Path(tempfile.gettempdir()) / f"nstlab-{time.strftime('%Y%m%d-%H%M%S')}-{output.name}"
            save_model(objective.model, fallback, styles=names, card=card)
            raise ModelError(f"cannot save {output} ({err.strerror or err}); the trained model is in "
                             f"{fallback}") from err
    return card


def _weights_source(extractor) -> str:
    """Where the VGG came from, for the card: its file (the bundled VGG-16 by name) and sha256."""
    digest = BUNDLED_SHA256 if extractor.source == BUNDLED_VGG else sha256_of(extractor.source)
    where = "the bundled int8 VGG-16" if extractor.source == BUNDLED_VGG else str(extractor.source)
    return f"{where} (sha256 {digest[:12]}...)"


def _list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"
