"""The `nstlab` command line (also `python -m nstlab`).

    nstlab stylize tubingen starry_night -o out.png
    nstlab stylize photo.jpg painting.jpg -o big.png --size 256,512 --steps 100,30
    nstlab samples
    nstlab train johnson --content photos/ --style starry_night -o starry.pth
    nstlab apply starry.pth photo.jpg -o out.png
    nstlab apply adain photos/ starry_night -o styled/     # a folder of photos, any style
    nstlab video bigbuckbunny -o out.gif --model johnson-starry_night-stable
    nstlab notebooks                     # regenerate the student notebooks from the solutions
    nstlab notebooks --solutions -o DIR  # teachers: the notebooks with their solutions

Styles are words after the input, the same in every command (several: a b c, or a,b,c; `train`
takes them after --style); options may come before or after them. Errors in the input (missing
file, unknown layer, no weights offline) print one line and exit with status 2; nothing is written
then. The command line only parses and prints: the work is `nstlab.stylize`, `nstlab.apply`,
`nstlab.video` and `feedforward.recipes.train_model`.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch
from PIL import Image

from . import __version__
from .color import MODES as COLOR_MODES
from .device import PRECISIONS, default_device
from .errors import DivergenceError, ImageError, InputError, ModelError, NstlabError, WriteError
from .feedforward import MODELS, TrainConfig, apply, load_model
from .feedforward.adain import AdaIN
from .feedforward.apply import prepare
from .feedforward.pretrained import model_info
from .feedforward.recipes import KINDS, RECIPES, recipe_for, train_model
from .files import sha256_of
from .gatys import INITS, OPTIMIZERS, stylize
from .images import image_files
from .losses import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, DEFAULT_TEMPORAL_WEIGHT, Settings
from .progress import bar as progress_bar
from .samples import SAMPLES, download_sample, is_original, sample_path
from .statistics import STYLE_LOSSES
from .vgg import POOLINGS, WEIGHTS_ENV, load_vgg


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or N,N,... got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"values must be positive, got {text!r}")
    return values


def _layers(text: str) -> list[tuple[str, float]]:
    """'relu3_1', 'relu3_1:0.5' or 'relu1_1,relu2_1:2' (or spaces) -> [(name, weight), ...]."""
    layers = []
    for item in re.split(r"[,\s]+", text.strip()):
        name, _, weight = item.strip().partition(":")
        try:
            layers.append((name, float(weight) if weight else 1.0))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected LAYER or LAYER:WEIGHT, got {item!r}") from None
    return layers


def _numbers(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers W1,W2,... got {text!r}") from None


def _color(text: str):
    if text not in COLOR_MODES:
        raise argparse.ArgumentTypeError(f"expected {' or '.join(COLOR_MODES)}, got {text!r}")
    return text


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, unless it has none or its help already says it."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _styles(words: list[str]) -> list[str]:
    """STYLE words as given: a b c, or a,b,c (or both) -> [a, b, c]."""
    return [w for word in words for w in word.split(",")]


def _one_or_many(styles: list[str]):
    """The `style` argument of the Python call: None, one style, or the list."""
    return styles[0] if len(styles) == 1 else (styles or None)


def _add_styles(parser, required: bool, help: str) -> None:
    parser.add_argument("style", nargs="+" if required else "*", default=[], metavar="STYLE",
                        help=help + "; several: a b c or a,b,c")


def _add_masks(parser) -> None:
    parser.add_argument("--masks", nargs="+", default=None, metavar="MASK",
                        help="one image per style: style k goes where mask k is bright (see --mix for "
                             "how much of each instead)")


class _Parser(argparse.ArgumentParser):
    """A usage error is one line, like every other bad input (argparse prints the usage first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nstlab", description="Neural style transfer.")
    parser.add_argument("--version", action="version", version=f"nstlab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    parser.commands = commands.choices  # name -> its parser, for `parse`

    s = commands.add_parser(
        "stylize", formatter_class=_Help, help="Gatys et al. style transfer by optimization",
        description="Paint CONTENT in the style of STYLE (paths or sample names).")
    s.add_argument("content", help="content image: a path or a sample name (see `nstlab samples`)")
    _add_styles(s, True, "style image: a path or a sample name")
    s.add_argument("-o", "--output", required=True, type=Path, help="where to save the result (.png, .jpg)")
    s.add_argument("--size", type=_ints, default=[256],
                   help="longest side in pixels; several (256,512) run coarse-to-fine (default 256)")
    s.add_argument("--steps", type=_ints, default=[100], help="steps, or steps per size (default 100)")
    s.add_argument("--optimizer", choices=OPTIMIZERS, default="lbfgs", help="the optimizer")
    s.add_argument("--lr", type=_number, default=None,
                   help="learning rate (default: 1 for lbfgs, 0.02 for adam)")
    defaults = Settings()
    s.add_argument("--content-layers", nargs="+", type=_layers, metavar="LAYER[:W]", default=None,
                   help=f"space- or comma-separated (default: {','.join(DEFAULT_CONTENT_LAYERS)})")
    s.add_argument("--style-layers", nargs="+", type=_layers, metavar="LAYER[:W]", default=None,
                   help="space- or comma-separated (default: " + ",".join(
                       f"{n}:{w:g}" if w != 1 else n for n, w in DEFAULT_STYLE_LAYERS.items())
                        + "; with --style-loss patch: relu3_1,relu4_1)")
    s.add_argument("--content-weight", type=_number, default=defaults.content_weight,
                   help=f"alpha (default {defaults.content_weight:g})")
    s.add_argument("--style-weight", type=_number, default=defaults.style_weight,
                   help=f"beta (default {defaults.style_weight:g})")
    s.add_argument("--tv-weight", type=_number, default=defaults.tv_weight,
                   help=f"total variation (default {defaults.tv_weight:g})")
    s.add_argument("--style-loss", choices=STYLE_LOSSES, default="gram", metavar="STATISTIC",
                   help="which statistic is style: " + ", ".join(STYLE_LOSSES) + " (mmd = mmd:rbf; patch: "
                        "CNNMRF's nearest 3x3 patches on relu3_1 and relu4_1)")
    s.add_argument("--style-scale", type=_number, default=1.0, help="style image size relative to the output")
    s.add_argument("--mix", type=_numbers, default=None, help="weights of several styles: W1,W2,...")
    _add_masks(s)
    s.add_argument("--preserve-color", nargs="?", const="histogram", default=None, type=_color,
                   metavar="histogram|luminance", help="keep the photo's colours (default method: histogram)")
    s.add_argument("--init", choices=INITS, default="content", help="the start image")
    s.add_argument("--pooling", choices=POOLINGS, default="max", help="VGG's pooling")
    s.add_argument("--weights", default=None,
                   help=f"VGG weights file (default: ${WEIGHTS_ENV}, else the bundled VGG-16; "
                        "--arch vgg19 without a file: torchvision's, downloaded)")
    s.add_argument("--sha256", default=None, help="the --weights file's sha256 (or its first 8+ digits)")
    s.add_argument("--arch", choices=("vgg16", "vgg19"), default=None,
                   help="architecture for torchvision weights (a file decides its own)")
    s.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="bfloat16 (faster on CPUs with AVX-512/AMX) or float16 (CUDA) autocast")
    s.add_argument("--seed", type=int, default=0, help="for noise starts")
    s.add_argument("--allow-large", action="store_true", help="sizes above 4096 px (memory!)")
    s.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest present)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.add_argument("-v", "--verbose", action="store_true", help="name the files used, with their sha256")

    sp = commands.add_parser(
        "samples", formatter_class=_Help, help="list the sample images (bundled; where originals are)")
    sp.add_argument("--download", action="store_true",
                    help="download the full-size originals that have a URL (once; hash-checked)")

    t = commands.add_parser(
        "train", formatter_class=_Help, help="train a feedforward style network (Johnson, CIN, AdaIN)",
        description="Train on a folder of photos; under torchrun it runs data-parallel.")
    t.add_argument("kind", choices=KINDS,
                   help="johnson: one style; cin: several styles in one network; adain: any style")
    t.add_argument("--content", nargs="+", type=Path, required=True, help="folder(s) of training photos")
    t.add_argument("--style", nargs="+", required=True, metavar="STYLE",
                   help="style image(s) (paths or sample names; several: a b c or a,b,c); for adain: "
                        "folder(s) of style images")
    t.add_argument("-o", "--output", type=Path, required=True, help="the trained model file (.pth)")
    t.add_argument("--norm", choices=("instance", "batch"), default="instance", help="johnson only")
    t.add_argument("--width", type=float, default=None,
                   help="network width (johnson/cin: channels of the first layer; adain: decoder width "
                        "factor); default: the recipe for the device (see --steps)")
    train_defaults = TrainConfig()
    recipes = "; ".join(f"{d}: steps {r['steps']}, crop {r['crop']}, width {r['width']['johnson']} "
                        f"(adain {r['width']['adain']})" for d, r in RECIPES.items())
    t.add_argument("--steps", type=int, default=None, help=f"default by device: {recipes}")
    t.add_argument("--batch", type=int, default=train_defaults.batch, help="photos per step")
    t.add_argument("--crop", type=int, default=None, help="training crop size in pixels (default: by device)")
    t.add_argument("--lr", type=_number, default=train_defaults.lr, help="Adam's learning rate")
    t.add_argument("--workers", type=int, default=None,
                   help="processes that load and crop the images beside the training one (default: by "
                        "device, " + ", ".join(f"{d} {r['workers']}" for d, r in RECIPES.items()) + ")")
    t.add_argument("--content-weight", type=_number, default=None)
    t.add_argument("--style-weight", type=_number, default=None)
    t.add_argument("--tv-weight", type=_number, default=None)
    t.add_argument("--style-size", type=int, default=None,
                   help="the brush marks come out at their size in the painting at this size: for "
                        "johnson/cin the painting's longest side for the style loss (default 256), for "
                        "adain the paintings' shorter side before a crop is cut (default: the crop)")
    t.add_argument("--identity-weight", type=_number, default=None,
                   help="adain: decoding a photo's own features must give the photo back (a clean "
                        "decoder)")
    t.add_argument("--temporal-weight", type=_number, default=0.0,
                   help="train for stable video (Wang et al. 2020: a randomly moved photo must give the "
                        "same motion of the output); the shipped -stable networks: 300, with --finetune, "
                        "--steps 150 and --style-weight 15")
    t.add_argument("--finetune", default=None,
                   help="start from this trained model (a shipped name or a file) instead of a fresh network")
    t.add_argument("--run-dir", type=Path, default=None,
                   help="checkpoints and previews (default: OUTPUT-run/ beside the model)")
    t.add_argument("--resume", type=Path, default=None, help="a checkpoint.pt to continue from")
    t.add_argument("--weights", default=None,
                   help=f"VGG weights file (default: ${WEIGHTS_ENV}, else the bundled VGG-16)")
    t.add_argument("--sha256", default=None, help="the --weights file's sha256 (or its first 8+ digits)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest present)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no recipe line")
    t.add_argument("-v", "--verbose", action="store_true", help="name the files used, with their sha256")

    a = commands.add_parser("apply", formatter_class=_Help, help="stylize images with a trained network",
        description="Run a trained model (a file or a shipped model's name) on IMAGE, or on every "
                    "image in a folder (then -o names a folder).")
    a.add_argument("model", help="model file or shipped model name (see `nstlab models`)")
    a.add_argument("image", help="content image: a path or a sample name; or a folder of images")
    _add_styles(a, False, "cin: style name(s) or index(es) (default: its first); adain: style image(s) "
                          "or sample name(s)")
    a.add_argument("-o", "--output", type=Path, required=True,
                   help="the result (.png, .jpg); for a folder of images, a folder (PNG files)")
    a.add_argument("--size", type=int, default=None,
                   help="longest side of the result and the style images (default: the photo's, <= 1024)")
    a.add_argument("--mix", type=_numbers, default=None,
                   help="weights W1,W2,... of the styles (cin without STYLE: of all its styles)")
    _add_masks(a)
    a.add_argument("--alpha", type=_number, default=1.0, help="adain: 0 = content, 1 = full style")
    a.add_argument("--preserve-color", nargs="?", const="histogram", default=None, type=_color,
                   metavar="histogram|luminance", help="keep the photo's colours (default method: histogram)")
    a.add_argument("--sha256", default=None, help="the model file's expected sha256 (or its first 8+ digits)")
    a.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="bfloat16: faster on CPUs with AVX-512 BF16, within half a grey level")
    a.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest present)")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a.add_argument("-v", "--verbose", action="store_true", help="name the files used, with their sha256")

    v = commands.add_parser(
        "video", formatter_class=_Help, help="stylize a video, consistent in time",
        description="Stylize every frame of INPUT (a video file, animated GIF/WebP, a folder of "
                    "frames, or the sample clip bigbuckbunny): by optimization (Ruder et al. 2016) with "
                    "STYLE, or with a trained --model and the stabilizer. Prints the warping error "
                    "(flicker) beside the input's own.")
    v.add_argument("input", help="video file (.mp4, .webm, ...), animated .gif/.webp, a folder of frames, "
                                 "or a sample clip's name (bigbuckbunny)")
    _add_styles(v, False, "style image(s) or sample name(s) (optimization; adain/cin models too; several "
                          "with --morph, --mix or --masks)")
    v.add_argument("-o", "--output", type=Path, required=True,
                   help="the result: .mp4, .webm, .gif, .webp, or a folder for PNG frames")
    v.add_argument("--model", default=None, help="a trained network (name or file) instead of optimization")
    v.add_argument("--stabilize", type=_number, default=None,
                   help="flow-guided blending strength in [0, 1) (default: 0.5 with --model, 0 otherwise)")
    v.add_argument("--morph", action="store_true",
                   help="--model cin/adain with several styles: go from each to the next over the clip")
    v.add_argument("--mix", type=_numbers, default=None, help="weights of several styles: W1,W2,...")
    _add_masks(v)
    v.add_argument("--alpha", type=_number, default=1.0, help="--model adain: 0 = content, 1 = full style")
    v.add_argument("--preserve-color", nargs="?", const="histogram", default=None, type=_color,
                   metavar="histogram|luminance", help="keep the clip's colours (default method: histogram)")
    v.add_argument("--style-loss", choices=STYLE_LOSSES, default=None, metavar="STATISTIC",
                   help="optimization: which statistic is style (" + ", ".join(STYLE_LOSSES) + "; gram)")
    v.add_argument("--temporal-weight", type=_number, default=DEFAULT_TEMPORAL_WEIGHT,
                   help=f"optimization: the temporal loss (default {DEFAULT_TEMPORAL_WEIGHT:g})")
    v.add_argument("--long-term", type=int, nargs="+", default=[1], metavar="J",
                   help="optimization: frames back the temporal loss looks at, e.g. 1 2 4")
    v.add_argument("--loop", action="store_true",
                   help="optimization: a second pass so that the first frame follows the last (looping GIFs)")
    v.add_argument("--flow", choices=("dis", "raft"), default="dis",
                   help="optical flow: OpenCV's DIS (no weights) or torchvision's RAFT (downloads weights)")
    v.add_argument("--run-dir", type=Path, default=None,
                   help="folder for finished frames; a rerun skips them (default for optimization: "
                        "OUTPUT-frames/ beside the output, removed once the video is written)")
    v.add_argument("--steps", type=int, default=30, help="optimization: steps per frame (3x for the first)")
    v.add_argument("--size", type=int, default=256, help="longest side of the frames")
    v.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    v.add_argument("--every", type=int, default=1, help="keep every N-th frame")
    v.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="bfloat16: faster on CPUs with AVX-512 BF16 (networks and optimization)")
    v.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest present)")
    v.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    commands.add_parser("models", help="list the shipped trained models")

    n = commands.add_parser(
        "notebooks", formatter_class=_Help, help="build the .ipynb notebooks from their sources",
        description="Write one .ipynb per notebooks/solutions/NN_*.py (jupytext): "
                    "student copies with the solutions cut out, or --solutions.")
    n.add_argument("--source", type=Path, default=Path("notebooks/solutions"))
    n.add_argument("-o", "--output", type=Path, default=Path("notebooks"))
    n.add_argument("--solutions", action="store_true", help="keep the solutions (teacher copies)")
    n.add_argument("--nbgrader", action="store_true",
                   help="nbgrader source notebooks (autograded answers, test cells with hidden tests): "
                        "-o source/ASSIGNMENT in a course folder")
    return parser


def parse(argv=None) -> argparse.Namespace:
    """The arguments of a command; a command's options may come before or after its words
    (`nstlab video CLIP --model adain starry_night -o out.mp4`)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    command = parser.commands.get(argv[0]) if argv else None
    if command is None:  # --version, --help, no or a misspelt command: argparse says what
        return parser.parse_args(argv)
    args = command.parse_intermixed_args(argv[1:])
    args.command = argv[0]
    return args


def main(argv=None) -> int:
    args = parse(argv)
    if args.command == "samples":
        return _samples(args)
    if args.command == "models":
        width = max(len(name) for name in MODELS)
        for m in MODELS.values():
            print(f"{m.name:{width}}  {m.summary}")
        return 0
    if args.command == "notebooks":
        return _notebooks(args)
    command = {"stylize": _stylize, "train": _train, "apply": _apply, "video": _video}[args.command]
    if threading.current_thread() is threading.main_thread():  # `kill` stops a run as Ctrl-C does
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return command(args)
    except KeyboardInterrupt:
        print("nstlab: interrupted", file=sys.stderr)
        return 130
    except WriteError as err:  # the run's work is kept; the message says where
        print(f"nstlab: error: {err}", file=sys.stderr)
        return 1
    except DivergenceError as err:
        if _save(err.result, args.output):
            print(f"nstlab: error: {err}; saved the best image before it to {args.output}", file=sys.stderr)
        return 1
    except NstlabError as err:
        print(f"nstlab: error: {err}", file=sys.stderr)
        return 2


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _stylize(args) -> int:
    """`nstlab stylize`: Gatys et al. by optimization."""
    settings = Settings(
        content_layers=_flat(args.content_layers) if args.content_layers else DEFAULT_CONTENT_LAYERS,
        style_layers=_flat(args.style_layers) if args.style_layers else None, style_loss=args.style_loss,
        content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight)
    styles = _styles(args.style)
    _check_output(args.output, [args.content, *styles, *(args.masks or [])])
    extractor = load_vgg(args.weights, args.arch, args.device, sha256=args.sha256)
    if args.verbose:
        _tell("VGG weights", extractor.source)
    result = stylize(args.content, _one_or_many(styles), settings=settings,
                     steps=args.steps[0] if len(args.steps) == 1 else args.steps,
                     size=args.size[0] if len(args.size) == 1 else args.size,
                     extractor=extractor, device=args.device, precision=args.precision,
                     mix=args.mix, masks=args.masks, preserve_color=args.preserve_color or False,
                     init=args.init,
                     optimizer=args.optimizer, lr=args.lr, seed=args.seed, style_scale=args.style_scale,
                     allow_large=args.allow_large,
                     pooling=args.pooling, progress=not args.quiet)
    if not _save(result, args.output):
        return 1
    last = result.history[-1] if result.history else {}
    print(f"{args.output}: {result.image.shape[-1]}x{result.image.shape[-2]}, {result.steps} steps "
          f"in {result.seconds:.1f} s, loss {last.get('loss', float('nan')):.4g} ({result.status})")
    return 0 if result.status != "interrupted" else 130


def _train(args) -> int:
    """`nstlab train`: build the network, train it, save it with a model card."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():  # under torchrun
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    _check_writable(args.output, ModelError)
    device = default_device(args.device)
    recipe = recipe_for(args.kind, device)
    chosen = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in recipe.items()}
    config = TrainConfig(steps=chosen["steps"], batch=args.batch, crop=chosen["crop"], lr=args.lr,
                         seed=args.seed, workers=chosen["workers"])
    announce = not args.quiet and os.environ.get("RANK", "0") == "0"
    if announce and any(getattr(args, k) is None for k in recipe):
        print(f"training on {device} with " + ", ".join(f"{k} {v}" for k, v in chosen.items())
              + " (the recipe for this device; --steps, --crop, --width to change)", file=sys.stderr)
    card = train_model(args.kind, args.content, _styles(args.style), args.output, weights=args.weights,
                       config=config,
                       run_dir=args.run_dir, resume=args.resume, finetune=args.finetune,
                       progress=not args.quiet, device=device, width=chosen["width"], sha256=args.sha256,
                       norm=args.norm, content_weight=args.content_weight, style_weight=args.style_weight,
                       tv_weight=args.tv_weight, temporal_weight=args.temporal_weight,
                       style_size=args.style_size, identity_weight=args.identity_weight)
    if dist.is_initialized():
        rank = dist.get_rank()
        dist.destroy_process_group()
        if rank > 0:  # rank 0 wrote the model
            return 0
    if args.verbose:
        print(f"nstlab: VGG weights: {card['vgg']}", file=sys.stderr)
    print(f"{args.output}: {config.steps} steps in {card['seconds']} s, final losses "
          + ", ".join(f"{k} {v:.3g}" for k, v in card["final_losses"].items()))
    return 0


def _apply(args) -> int:
    """`nstlab apply`: one forward pass of a trained network, on an image or a folder of them."""
    styles, folder = _styles(args.style), bool(args.image) and Path(args.image).is_dir()
    inputs = [args.image, *styles, *(args.masks or [])]
    if folder:  # each image of the folder -> where its result goes
        targets = _folder_targets(args.output, Path(args.image), inputs)
    else:
        _check_output(args.output, inputs)
    model = load_model(args.model, sha256=args.sha256, device=args.device)
    if args.verbose:
        _tell("model", model.info.file)
    net = prepare(model, args.device, args.precision)  # once, for every image
    if isinstance(net, AdaIN) and not styles:
        raise InputError(f"{args.model} paints any style: give a style image or sample name after the "
                         f"photo (nstlab apply {args.model} {args.image} starry_night -o ...)")
    style = _one_or_many(styles)

    def run(image):
        return apply(net, image, style, size=args.size, mix=args.mix, masks=args.masks, alpha=args.alpha,
                     preserve_color=args.preserve_color or False, device=args.device,
                     precision=args.precision)

    began = time.perf_counter()
    if not folder:
        result = run(args.image)
        if not _save(result, args.output):
            return 1
        width, height = result.image.shape[-1], result.image.shape[-2]
        print(f"{args.output}: {width}x{height} in {1000 * result.seconds:.0f} ms{_which_style(net, args)}")
        return 0
    files = list(targets)

    def one(path) -> bool:  # each image kept as soon as it is done
        folder = targets[path].parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"{folder}: cannot make the folder ({err.strerror or err})") from None
        return _save(run(path), targets[path])

    if not one(files[0]):  # the first image checks every argument before a progress bar shows
        return 1
    for path in progress_bar(files[1:], initial=1, total=len(files), desc="apply", unit="image",
                             disable=args.quiet, leave=False):
        if not one(path):
            return 1
    print(f"{args.output}: {len(files)} images in {time.perf_counter() - began:.1f} s"
          f"{_which_style(net, args)}")
    return 0


def _which_style(net, args) -> str:
    """For a conditional network run without STYLE: which of its styles it painted."""
    names = model_info(net).styles
    if getattr(net, "norm", None) != "conditional" or args.style or args.mix or args.masks:
        return ""
    first = names[0] if names else "0"
    return (f" (style {first}, the first of {net.styles}; name another after the photo"
            + (f": {', '.join(names)})" if names else ")"))


def _video(args) -> int:
    """`nstlab video`: a clip, frame by frame, consistent in time; the flicker measured. Everything
    that can be checked is checked before the first frame; each finished frame is kept in the run
    folder until the video is written, so an interrupt or a failed write loses none."""
    from .video import apply_video, open_video, stylize_video
    from .video.methods import FrameStore

    styles = _styles(args.style)
    inputs = [args.input, *styles, *(args.masks or []), *([args.model] if args.model else [])]
    _check_video_output(args.output, Path(args.input), inputs)
    if args.model is None and not styles:
        raise InputError("give a STYLE image after the clip (optimization) or --model (a trained network)")
    if min(args.steps, args.every, 1 if args.max_frames is None else args.max_frames) < 1 or args.size < 16:
        raise InputError("--steps, --every and --max-frames must be >= 1 and --size >= 16")
    if args.morph and args.model is None:
        raise InputError("--morph is for --model cin or adain networks")
    if args.model is None and args.alpha != 1.0:
        raise InputError("--alpha is AdaIN's content-style trade-off: use it with --model adain")
    if args.model is not None and args.style_loss is not None:
        raise InputError("--style-loss chooses the optimization's statistic: a trained --model has its own")
    run_dir = args.run_dir or args.output.with_name(f"{args.output.name}-frames")
    if any(_same(run_dir, i) for i in [*inputs, args.output]):
        raise InputError(f"{run_dir}: is an input or the output of this run; give another --run-dir")
    clip = open_video(args.input, size=args.size, max_frames=args.max_frames, step=args.every)
    common = dict(mix=args.mix, masks=args.masks, preserve_color=args.preserve_color or False,
                  output=args.output, run_dir=run_dir, flow_method=args.flow, device=args.device,
                  precision=args.precision, progress=not args.quiet)
    if args.model is not None:
        result = apply_video(args.model, clip, _one_or_many(styles), alpha=args.alpha, morph=args.morph,
                             stabilize=0.5 if args.stabilize is None else args.stabilize, **common)
    else:
        result = stylize_video(clip, _one_or_many(styles), steps=args.steps,
                               temporal_weight=args.temporal_weight,
                               long_term=args.long_term, loop=args.loop, stabilize=args.stabilize or 0.0,
                               style_loss=args.style_loss,
                               **common)
    flicker = "" if result.flicker is None else (f", warping error {result.flicker:.4f} "
                                                 f"(the input's own {result.input_flicker:.4f})")
    width, height = result.size
    print(f"{args.output}: {result.count} frames {width}x{height} at {result.fps:g} fps in "
          f"{result.seconds:.1f} s{flicker} ({result.status})")
    if result.status != "done":
        print(f"nstlab: the finished frames are kept in {run_dir}: run the same command again to go on",
              file=sys.stderr)
        return 130
    if args.run_dir is None:  # our own folder, the video is written: tidy up
        FrameStore.clear(run_dir)
    return 0


def _samples(args) -> int:
    """`nstlab samples [--download]`: each sample, the size it has here, where it comes from."""
    for sample in SAMPLES.values():
        try:
            path = download_sample(sample.name) if args.download and sample.url else sample_path(sample.name)
        except NstlabError as err:
            print(f"nstlab: error: {err}", file=sys.stderr)
            return 2
        w, h = Image.open(path).size
        where = "original" if is_original(path) else "bundled"
        print(f"{sample.name:16} {w:>4}x{h:<4} {where:8} {sample.credit}")
    return 0


def _notebooks(args) -> int:
    if not args.source.is_dir():
        print(f"nstlab: error: {args.source}: no such folder (run from the repository root, "
              "or pass --source)", file=sys.stderr)
        return 2
    from .notebook.builder import build  # only this command needs the notebook layer

    try:
        if args.solutions and args.nbgrader:
            print("nstlab: error: --solutions or --nbgrader, not both", file=sys.stderr)
            return 2
        written = build(args.source, args.output, solutions=args.solutions, nbgrader=args.nbgrader)
    except ImportError as err:
        print(f"nstlab: error: building notebooks needs jupytext ({err}); pip install jupytext",
              file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def _tell(what: str, path) -> None:
    """-v: which file was used, and its sha256 (to compare with a published one, or pass to --sha256)."""
    print(f"nstlab: {what}: {path} (sha256 {sha256_of(path)})", file=sys.stderr)


def _flat(groups: list[list[tuple[str, float]]]) -> dict[str, float]:
    """--style-layers relu1_1,relu2_1 relu3_1:2 -> {"relu1_1": 1, "relu2_1": 1, "relu3_1": 2}."""
    return {name: weight for group in groups for name, weight in group}


def _resolved(path) -> Path:
    """`path` with its links followed; a link loop is an ImageError, not a RuntimeError."""
    try:
        return Path(path).expanduser().resolve()
    except (RuntimeError, OSError) as err:
        raise ImageError(f"{path}: cannot be followed ({err}): a loop of symbolic links?") from None


def _same(path, other) -> bool:
    """`path` and an existing `other` are the same file or folder."""
    return Path(other).exists() and _resolved(other) == _resolved(path)


def _check_output(path: Path, inputs) -> None:
    """Before any work: an image format Pillow can write, in a folder that can be written, and not
    one of the run's own input files (the result would replace the user's photo)."""
    if any(_same(path, i) for i in inputs):
        raise ImageError(f"{path}: is an input of this run; write the result under another name")
    _check_writable(path, ImageError)
    image_format = Image.registered_extensions().get(path.suffix.lower())
    if image_format is None:
        raise ImageError(f"{path}: unknown image extension (use .png or .jpg)")
    try:  # Pillow lists formats it cannot write an RGB image in (.psd, .xbm ...)
        Image.new("RGB", (2, 2)).save(io.BytesIO(), format=image_format)
    except (OSError, KeyError, ValueError) as err:
        raise ImageError(f"{path}: Pillow cannot write a colour image as {image_format} ({err}); "
                         "use .png or .jpg") from None


def _check_video_output(path: Path, source: Path, inputs) -> None:
    """Before any work: a video file or frame folder that can be written, that is no input of the
    run, and that lies outside a folder of input frames (a rerun would read it back)."""
    from .video.io import check_video_path

    if any(_same(path, i) for i in inputs):
        raise InputError(f"{path}: is an input of this run; write the result under another name")
    check_video_path(path)
    if source.is_dir() and _resolved(source) in _resolved(path).parents:
        raise InputError(f"{path}: is inside the folder of input frames {source}; write the result elsewhere")
    if path.suffix and not path.is_dir():
        _check_writable(path, ImageError)
        return
    for i in inputs:  # a folder of frames: frame_00000.png ... must not replace an input
        named = re.fullmatch(r"frame_\d{5}\.png", Path(i).name)
        if named and Path(i).is_file() and _resolved(i).parent == _resolved(path):
            raise InputError(f"{path}: its frames would replace the input {i}; write them to another folder")
    existing = next(p for p in [_resolved(path), *_resolved(path).parents] if p.exists())
    if not existing.is_dir():
        raise ImageError(f"{path}: cannot make a folder under the file {existing}")
    _check_writable(existing / "x.png", ImageError)


def _folder_targets(folder: Path, source: Path, inputs) -> dict[Path, Path]:
    """For a folder of images: {image: its result's path}, checked: the results go to another
    folder, not inside the source one (a rerun would read them back), and never over an input."""
    if (folder.exists() and not folder.is_dir()) or folder.suffix.lower() in Image.registered_extensions():
        raise InputError(f"{folder}: is a file name; give a folder for the results of a folder of images")
    inside = _resolved(folder)
    if inside == _resolved(source) or _resolved(source) in inside.parents:
        raise InputError(f"{folder}: is inside the folder of images {source}; write the results elsewhere")
    targets = {path: folder / path.relative_to(source).with_suffix(".png") for path in image_files(source)}
    for target in targets.values():
        if any(_same(target, i) for i in inputs):
            raise InputError(f"{target.resolve()}: is an input of this run; write the results elsewhere")
    if inside.exists():
        _check_writable(inside / "x.png", ImageError)
    return targets


def _check_writable(path: Path, error: type[NstlabError]) -> None:
    """`path` can be written: not a folder, not read-only, in a folder where a file can be made."""
    folder = _resolved(path).parent
    if path.is_dir():
        raise error(f"{path}: is a folder; give the file name to write")
    if path.exists() and not os.access(path, os.W_OK):
        raise error(f"{path}: exists and cannot be written")
    if folder.exists():  # outputs are written as a temporary file there, then renamed: try it
        try:
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as err:
            raise error(f"{path}: cannot write to {folder} ({err.strerror})") from None


def _save(result, path: Path) -> bool:
    """Save the result; if that fails after all, save it where it can be and say where. True if
    it went to `path`."""
    try:
        result.save(path)
        return True
    except (OSError, NstlabError) as err:
        fallback = Path(tempfile.gettempdir()) / f"nstlab-{time.strftime('%Y%m%d-%H%M%S')}.png"
        result.save(fallback)
        print(f"nstlab: error: cannot save {path} ({err}); the result is in {fallback}", file=sys.stderr)
        return False


if __name__ == "__main__":
    sys.exit(main())
