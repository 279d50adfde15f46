"""The `nstlab` command line (also `python -m nstlab`).

    nstlab stylize tubingen starry_night -o out.png
    nstlab stylize photo.jpg painting.jpg -o big.png --size 256,512 --steps 100,30
    nstlab samples
    nstlab notebooks                     # regenerate the student notebooks from the solutions
    nstlab notebooks --solutions -o DIR  # teachers: the notebooks with their solutions

Errors in the input (missing file, unknown layer, no weights offline) print one line and exit
with status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PIL import Image

from . import __version__
from .exercises import build
from .gatys import INITS, OPTIMIZERS, PRECISIONS, DivergenceError, stylize
from .images import ImageError
from .losses import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS, Settings
from .samples import SAMPLES, SampleError
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
        print(f"nstlab: error: {err}", file=sys.stderr)
        return 1
    result.save(args.output)
    last = result.history[-1] if result.history else {}
    print(f"{args.output}: {result.image.shape[-1]}x{result.image.shape[-2]}, {result.steps} steps "
          f"in {result.seconds:.1f} s, loss {last.get('loss', float('nan')):.4g} ({result.status})")
    return 0 if result.status != "interrupted" else 130


if __name__ == "__main__":
    sys.exit(main())
