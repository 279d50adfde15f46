"""The notebook layer: what the notebooks share, their widgets, exercises and builder.

    (here)      fast mode, the setup check, where training photos are
    preview     the live preview (image, loss plot, status) shared by the studio and the monitor
    picker      a sample dropdown with an upload button
    explorers   FeatureExplorer, GramExplorer
    studio      Studio: Gatys style transfer under live control
    monitor     TrainingMonitor: a feedforward network while it trains
    mixers      StyleMixer (conditional networks), AdaINMixer (alpha and style weights)
    exercises   answer checks with hints
    builder     student and teacher notebooks from the jupytext sources

Only notebooks and the command line import this layer; importing this package itself loads no
widget library.

Fast mode (environment variable NSTLAB_FAST=1) shrinks image sizes and step counts so that every
notebook runs end to end in seconds -- CI executes them all that way. A notebook asks for its
sizes with `pick(normal, fast)`:

    SIZE = pick(256, 64)      # 256 px normally, 64 px in fast mode
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from ..device import default_device
from ..errors import SampleError
from ..samples import CACHE_ENV, DATA_ENV
from ..vgg import WEIGHTS_ENV

FAST_ENV = "NSTLAB_FAST"
PHOTOS_ENV = "NSTLAB_PHOTOS"


def fast() -> bool:
    """True when NSTLAB_FAST is set to anything but "", "0", "false" or "no"."""
    return os.environ.get(FAST_ENV, "").strip().lower() not in ("", "0", "false", "no")


def pick(normal, fast_value):
    """`normal`, or `fast_value` in fast mode."""
    return fast_value if fast() else normal


def check_setup() -> dict[str, str]:
    """Print and return what this notebook runs on: versions, device, where weights and images
    come from. Raises nothing: a missing piece is reported with what to do."""
    import ipywidgets
    import torchvision

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "ipywidgets": ipywidgets.__version__,
        "device": str(default_device()),
        "VGG weights": os.environ.get(WEIGHTS_ENV) or "torchvision VGG-19 (downloaded once, 548 MB)",
        "sample images": os.environ.get(DATA_ENV) or f"downloaded once (cache: ${CACHE_ENV} or the default)",
        "fast mode": "on" if fast() else "off",
    }
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:>{width}}: {value}")
    return info


def photos_folder() -> Path:
    """A folder of photos to train feedforward networks on: $NSTLAB_PHOTOS, else the BSDS500
    training photos under $NSTLAB_DATA (content/bsds500/train). Raises with what to set."""
    if os.environ.get(PHOTOS_ENV):
        folder = Path(os.environ[PHOTOS_ENV]).expanduser()
    elif os.environ.get(DATA_ENV):
        folder = Path(os.environ[DATA_ENV]).expanduser() / "content" / "bsds500" / "train"
    else:
        raise SampleError(f"set {PHOTOS_ENV} to a folder of photos (any few hundred will do, "
                          f"e.g. the BSDS500 or COCO images) to train networks")
    if not folder.is_dir():
        raise SampleError(f"{folder}: no such folder (set {PHOTOS_ENV} to a folder of photos)")
    return folder
