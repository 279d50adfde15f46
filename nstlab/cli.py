"""The `nstlab` command line (also `python -m nstlab`).

    nstlab stylize tubingen starry_night -o out.png
    nstlab stylize photo.jpg painting.jpg -o big.png --size 256,512 --steps 100,30
    nstlab samples
    nstlab train johnson --content photos/ --style starry_night -o starry.pth
    nstlab apply starry.pth photo.jpg -o out.png
    nstlab notebooks                     # regenerate the student notebooks from the solutions
    nstlab notebooks --solutions -o DIR  # teachers: the notebooks with their solutions

Errors in the input (missing file, unknown layer, no weights offline) print one line and exit
with status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch
from PIL import Image

from . import __version__
from .adain import AdaIN, Decoder
from .exercises import build
from .gatys import INITS, OPTIMIZERS, PRECISIONS, DivergenceError, stylize
from .images import ImageError, save_image
from .johnson import TransformerNet
from .losses import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, Settings
from .pretrained import MODELS, ModelError, load_model, save_model
from .samples import SAMPLES, SampleError, resolve_image
from .train import ADAIN_STYLE_WEIGHT, TrainConfig, train
from .vgg import WEIGHTS_ENV, WeightsError, load_vgg


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or N,N,... got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"values must be positive, got {text!r}")
    return values


def _layer(text: str) -> tuple[str, float]:
    """'relu3_1' or 'relu3_1:0.5' -> (name, weight)."""
    name, _, weight = text.partition(":")
    try:
        return name, float(weight) if weight else 1.0
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LAYER or LAYER:WEIGHT, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nstlab", description="Neural style transfer.")
    parser.add_argument("--version", action="version", version=f"nstlab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    s = commands.add_parser("stylize", help="Gatys et al. style transfer by optimization",
                            description="Paint CONTENT in the style of STYLE (paths or sample names).")
    s.add_argument("content", help="content image: a path or a sample name (see `nstlab samples`)")
    s.add_argument("style", help="style image: a path or a sample name")
    s.add_argument("-o", "--output", required=True, type=Path, help="where to save the result (.png, .jpg)")
    s.add_argument("--size", type=_ints, default=[256],
                   help="longest side in pixels; several (256,512) run coarse-to-fine (default 256)")
    s.add_argument("--steps", type=_ints, default=[100], help="steps, or steps per size (default 100)")
    s.add_argument("--optimizer", choices=OPTIMIZERS, default="lbfgs")
    s.add_argument("--lr", type=_number, default=None,
                   help="learning rate (default: 1 for lbfgs, 0.02 for adam)")
    defaults = Settings()
    s.add_argument("--content-layers", nargs="+", type=_layer, metavar="LAYER[:W]",
                   default=None, help=f"default: {' '.join(DEFAULT_CONTENT_LAYERS)}")
    s.add_argument("--style-layers", nargs="+", type=_layer, metavar="LAYER[:W]",
                   default=None, help=f"default: {' '.join(DEFAULT_STYLE_LAYERS)}")
    s.add_argument("--content-weight", type=_number, default=defaults.content_weight)
    s.add_argument("--style-weight", type=_number, default=defaults.style_weight)
    s.add_argument("--tv-weight", type=_number, default=defaults.tv_weight)
    s.add_argument("--style-scale", type=_number, default=1.0, help="style image size relative to the output")
    s.add_argument("--init", choices=INITS, default="content")
    s.add_argument("--pooling", choices=("max", "avg"), default="max")
    s.add_argument("--weights", default=None,
                   help=f"VGG weights file (default: ${WEIGHTS_ENV}, else torchvision's VGG-19, downloaded)")
    s.add_argument("--arch", choices=("vgg16", "vgg19"), default=None,
                   help="architecture for torchvision weights (a file decides its own)")
    s.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="bfloat16 (CPU) or float16 (CUDA) autocast: about 2x faster")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest present)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    commands.add_parser("samples", help="list the sample image names")

    t = commands.add_parser("train", help="train a feedforward style network (Johnson, CIN, AdaIN)",
                            description="Train on a folder of photos; under torchrun it runs data-parallel.")
    t.add_argument("kind", choices=("johnson", "cin", "adain"),
                   help="johnson: one style; cin: several styles in one network; adain: any style")
    t.add_argument("--content", nargs="+", type=Path, required=True, help="folder(s) of training photos")
    t.add_argument("--style", nargs="+", required=True,
                   help="style image(s) (paths or sample names); for adain: folder(s) of style images")
    t.add_argument("-o", "--output", type=Path, required=True, help="the trained model file (.pth)")
    t.add_argument("--norm", choices=("instance", "batch"), default="instance", help="johnson only")
    t.add_argument("--width", type=float, default=None,
                   help="network width (johnson/cin: channels of the first layer, default 32; "
                        "adain: decoder width factor, default 1)")
    train_defaults = TrainConfig()
    t.add_argument("--steps", type=int, default=train_defaults.steps)
    t.add_argument("--batch", type=int, default=train_defaults.batch)
    t.add_argument("--crop", type=int, default=train_defaults.crop, help="training crop size in pixels")
    t.add_argument("--lr", type=_number, default=train_defaults.lr)
    t.add_argument("--content-weight", type=_number, default=None)
    t.add_argument("--style-weight", type=_number, default=None)
    t.add_argument("--tv-weight", type=_number, default=None)
    t.add_argument("--run-dir", type=Path, default=None, help="checkpoints and previews (default: none)")
    t.add_argument("--resume", type=Path, default=None, help="a checkpoint.pt to continue from")
    t.add_argument("--weights", default=None,
                   help=f"VGG weights file (default: ${WEIGHTS_ENV} or torchvision)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default=None)
    t.add_argument("-q", "--quiet", action="store_true")

    a = commands.add_parser("apply", help="stylize an image with a trained network",
                            description="Run a trained model (a file or a shipped model's name) on IMAGE.")
    a.add_argument("model", help="model file or shipped model name (see `nstlab models`)")
    a.add_argument("image", help="content image: a path or a sample name")
    a.add_argument("-o", "--output", type=Path, required=True)
    a.add_argument("--size", type=int, default=None, help="longest side (default: the image's own size)")
    a.add_argument("--style", default=None,
                   help="cin: a style index or name, or weights w1,w2,... to mix; adain: style image(s), "
                        "comma-separated, mixed with --mix")
    a.add_argument("--mix", type=lambda v: [float(x) for x in v.split(",")], default=None,
                   help="adain: weights for several style images")
    a.add_argument("--alpha", type=_number, default=1.0, help="adain: 0 = content, 1 = full style")
    a.add_argument("--preserve-color", action="store_true", help="adain: keep the photo's colours")
    a.add_argument("--device", default=None)

    commands.add_parser("models", help="list the shipped trained models")

    n = commands.add_parser("notebooks", help="build the .ipynb notebooks from their sources",
                            description="Write one .ipynb per notebooks/solutions/NN_*.py (jupytext): "
                                        "student copies with the solutions cut out, or --solutions.")
    n.add_argument("--source", type=Path, default=Path("notebooks/solutions"))
    n.add_argument("-o", "--output", type=Path, default=Path("notebooks"))
    n.add_argument("--solutions", action="store_true", help="keep the solutions (teacher copies)")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "samples":
        for sample in SAMPLES.values():
            print(f"{sample.name:16} {sample.credit}")
        return 0
    if args.command == "models":
        for m in MODELS.values():
            print(f"{m.name:20} {m.summary}")
        return 0
    if args.command in ("train", "apply"):
        try:
            return (_train if args.command == "train" else _apply)(args)
        except (ImageError, SampleError, WeightsError, ModelError, ValueError) as err:
            print(f"nstlab: error: {err}", file=sys.stderr)
            return 2
    if args.command == "notebooks":
        if not args.source.is_dir():
            print(f"nstlab: error: {args.source}: no such folder (run from the repository root, "
                  "or pass --source)", file=sys.stderr)
            return 2
        try:
            written = build(args.source, args.output, solutions=args.solutions)
        except ImportError as err:
            print(f"nstlab: error: building notebooks needs jupytext ({err}); pip install jupytext",
                  file=sys.stderr)
            return 2
        for path in written:
            print(path)
        return 0
    try:
        settings = Settings(
            content_layers=dict(args.content_layers) if args.content_layers else DEFAULT_CONTENT_LAYERS,
            style_layers=dict(args.style_layers) if args.style_layers else DEFAULT_STYLE_LAYERS,
            content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight)
        if args.output.suffix.lower() not in Image.registered_extensions():  # what save_image can write
            raise ImageError(f"{args.output}: unknown image extension (use .png or .jpg)")
        extractor = load_vgg(args.weights, args.arch, args.pooling)
        folder = args.output.resolve().parent
        if folder.exists() and not os.access(folder, os.W_OK):
            raise ImageError(f"{args.output}: cannot write to {folder}")
        result = stylize(args.content, args.style, settings=settings,
                         steps=args.steps[0] if len(args.steps) == 1 else args.steps,
                         size=args.size[0] if len(args.size) == 1 else args.size,
                         extractor=extractor, device=args.device, precision=args.precision,
                         init=args.init, optimizer=args.optimizer, lr=args.lr, seed=args.seed,
                         style_scale=args.style_scale, progress=not args.quiet)
    except (ImageError, SampleError, WeightsError, ValueError) as err:
        print(f"nstlab: error: {err}", file=sys.stderr)
        return 2
    except DivergenceError as err:
        err.result.save(args.output)
        print(f"nstlab: error: {err}; saved the best image before it to {args.output}", file=sys.stderr)
        return 1
    result.save(args.output)
    last = result.history[-1] if result.history else {}
    print(f"{args.output}: {result.image.shape[-1]}x{result.image.shape[-2]}, {result.steps} steps "
          f"in {result.seconds:.1f} s, loss {last.get('loss', float('nan')):.4g} ({result.status})")
    return 0 if result.status != "interrupted" else 130


def _train(args) -> int:
    """`nstlab train`: build the network, train it, save it with a model card."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():  # under torchrun
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    extractor = load_vgg(args.weights)
    if args.kind == "adain":
        model = AdaIN(extractor, Decoder(width=args.width or 1.0))  # the loss's VGG is the encoder
        styles, names = args.style, [str(s) for s in args.style]
    else:
        norm = "conditional" if args.kind == "cin" else args.norm
        count = len(args.style) if args.kind == "cin" else 1
        if args.kind == "johnson" and len(args.style) != 1:
            raise ValueError("johnson learns one style: give one --style (use cin for several)")
        model = TransformerNet(norm=norm, width=int(args.width or 32), styles=count)
        styles, names = args.style, [Path(s).stem for s in args.style]
    defaults = TrainConfig().settings
    if args.kind == "adain":
        defaults = defaults.replace(style_weight=ADAIN_STYLE_WEIGHT)
    settings = defaults.replace(**{k: v for k, v in (("content_weight", args.content_weight),
                                                     ("style_weight", args.style_weight),
                                                     ("tv_weight", args.tv_weight)) if v is not None})
    config = TrainConfig(steps=args.steps, batch=args.batch, crop=args.crop, lr=args.lr,
                         settings=settings, seed=args.seed)
    began = time.perf_counter()
    history = train(model, args.content, styles, extractor, config, out_dir=args.run_dir,
                    resume=args.resume, progress=not args.quiet, device=args.device)
    if dist.is_initialized():
        rank = dist.get_rank()
        dist.destroy_process_group()
        if rank > 0:  # rank 0 writes the model
            return 0
    weights_source = args.weights or os.environ.get(WEIGHTS_ENV) or "torchvision"
    card = {"kind": args.kind, "styles": names, "content": [str(c) for c in args.content],
            "steps": config.steps, "batch": config.batch, "crop": config.crop, "lr": config.lr,
            "settings": {"content_layers": dict(settings.content_layers),
                         "style_layers": dict(settings.style_layers),
                         "content_weight": settings.content_weight, "style_weight": settings.style_weight,
                         "tv_weight": settings.tv_weight},
            "final_losses": history[-1] if history else {}, "seconds": round(time.perf_counter() - began),
            "hardware": _hardware(), "vgg": f"{extractor.arch} from {weights_source}"}
    save_model(model, args.output, styles=names, card=card)
    print(f"{args.output}: {config.steps} steps in {card['seconds']} s, final losses "
          + ", ".join(f"{k} {v:.3g}" for k, v in card["final_losses"].items()))
    return 0


def _apply(args) -> int:
    """`nstlab apply`: one forward pass of a trained network."""
    model = load_model(args.model, device=args.device or "cpu")
    image = resolve_image(args.image, args.size).to(args.device or "cpu")
    with torch.no_grad():
        if isinstance(model, AdaIN):
            if args.style is None:
                raise ValueError("an AdaIN model needs --style IMAGE[,IMAGE...]")
            styles = [resolve_image(s).to(image.device) for s in args.style.split(",")]
            output = model(image, styles if len(styles) > 1 else styles[0], alpha=args.alpha,
                           weights=args.mix, preserve_color=args.preserve_color)
        elif model.norm == "conditional":
            output = model(image, _style_choice(args.style, model))
        else:
            output = model(image)
    save_image(output, args.output)
    print(f"{args.output}: {output.shape[-1]}x{output.shape[-2]}")
    return 0


def _style_choice(text: str | None, model):
    """'2', 'starry_night' or '0.5,0.5' -> an index or a weight tensor for a conditional network."""
    if text is None:
        return 0
    if "," in text:
        return torch.tensor([float(v) for v in text.split(",")])
    if text in model.style_names:
        return model.style_names.index(text)
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"unknown style {text!r}; this model has {', '.join(model.style_names)}") from None


def _hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"


if __name__ == "__main__":
    sys.exit(main())
