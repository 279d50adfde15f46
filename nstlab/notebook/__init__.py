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
import warnings
from pathlib import Path

import torch

from ..device import default_device
from ..errors import NstlabError, SampleError
from ..images import resize, save_image
from ..samples import DATA_ENV, SAMPLE_SIDE, SAMPLES, cache_dir, is_original, load_sample, sample_path
from ..vgg import WEIGHTS_ENV, load_vgg

FAST_ENV = "NSTLAB_FAST"
PHOTOS_ENV = "NSTLAB_PHOTOS"


def fast() -> bool:
    """True when NSTLAB_FAST is set to anything but "", "0", "false" or "no"."""
    return os.environ.get(FAST_ENV, "").strip().lower() not in ("", "0", "false", "no")


def pick(normal, fast_value):
    """`normal`, or `fast_value` in fast mode."""
    return fast_value if fast() else normal


def check_setup() -> dict[str, object]:
    """Check what this notebook runs on -- versions, device, that the VGG weights load and that
    the sample images are there -- and print it. Raises nothing: a missing piece is reported
    ("PROBLEM: ...") with what to do; `info["ok"]` says whether all is well."""
    import ipywidgets
    import torchvision

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "ipywidgets": ipywidgets.__version__,
        "device": str(default_device()),
        "fast mode": "on" if fast() else "off",
    }
    ok = True
    try:
        vgg = load_vgg()
        where = os.environ.get(WEIGHTS_ENV) or "bundled with nstlab"
        info["VGG weights"] = f"loaded: {vgg.arch}, {where}"
    except NstlabError as err:
        ok, info["VGG weights"] = False, f"PROBLEM: {err}"
    try:
        paths = [sample_path(name) for name in SAMPLES]
        originals = sum(map(is_original, paths))
        info["sample images"] = (f"found: {len(paths)} ({originals} full-size originals, "
                                 f"{len(paths) - originals} bundled at up to {SAMPLE_SIDE} px)")
    except NstlabError as err:
        ok, info["sample images"] = False, f"PROBLEM: {err}"
    try:
        photos = os.environ.get(PHOTOS_ENV) and photos_folder()
        info["training photos"] = (f"found: {photos}" if photos else "crops of the bundled photo (or "
                                   f"BSDS500 under $NSTLAB_DATA; set {PHOTOS_ENV} for your own)")
    except NstlabError as err:
        ok, info["training photos"] = False, f"PROBLEM: {err}"
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:>{width}}: {value}")
    info["ok"] = ok
    return info


def photos_folder() -> Path:
    """A folder of photos to train feedforward networks on: $NSTLAB_PHOTOS; else the BSDS500
    training photos under $NSTLAB_DATA (content/bsds500/train) when they are there; else crops of
    the bundled Tuebingen photo, made once (enough to watch a network learn, too few to
    generalize: point $NSTLAB_PHOTOS at a few hundred photos for that)."""
    if os.environ.get(PHOTOS_ENV):
        folder = Path(os.environ[PHOTOS_ENV]).expanduser()
        if not folder.is_dir():
            raise SampleError(f"{folder}: no such folder ({PHOTOS_ENV} should name a folder of photos)")
        return folder
    if os.environ.get(DATA_ENV):
        folder = Path(os.environ[DATA_ENV]).expanduser() / "content" / "bsds500" / "train"
        if folder.is_dir():
            return folder
    return _crops_of_the_photo()


def _crops_of_the_photo(count: int = 32, side: int = 160) -> Path:
    """`count` random square crops (random scale, position and mirroring) of the bundled photo."""
    folder = Path(cache_dir()) / f"photos-tubingen-{count}x{side}"
    if len(list(folder.glob("*.png"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    photo = load_sample("tubingen")  # (1, 3, H, W)
    generator = torch.Generator().manual_seed(0)
    for i in range(count):
        crop = int(min(photo.shape[-2:]) * (0.4 + 0.6 * torch.rand((), generator=generator).item()))
        top = torch.randint(0, photo.shape[-2] - crop + 1, (), generator=generator).item()
        left = torch.randint(0, photo.shape[-1] - crop + 1, (), generator=generator).item()
        image = resize(photo[..., top:top + crop, left:left + crop], side)
        if i % 2:
            image = image.flip(-1)
        save_image(image, folder / f"crop-{i:02d}.png")
    print(f"training photos: {count} crops of the bundled Tuebingen photo in {folder} "
          f"(set {PHOTOS_ENV} to a folder of your own photos for a real data set)")
    return folder


def _colab_widgets() -> None:
    """In a Google Colab notebook, let ipywidgets 8 widgets render (its custom widget manager);
    elsewhere -- JupyterLab, VS Code, a script, `!nstlab ...` in Colab -- nothing."""
    try:
        from google.colab import output
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is None:  # a plain Python process, not the notebook's kernel
        return
    try:
        output.enable_custom_widget_manager()
    except Exception as err:  # Colab's internals change; a notebook must still open
        warnings.warn(f"could not turn on Colab's widget manager ({err}); widgets may not show", stacklevel=2)


_colab_widgets()
