"""Sample images by name, and synthetic images made in code.

The classic five inputs of Gatys et al. (2016) -- tubingen, starry_night, the_scream, shipwreck,
woman_with_hat -- are downloaded once from a public URL, checked against their sha256 and cached
(with pooch). Offline, set the environment variable NSTLAB_DATA to a folder that already holds
the files (the same file names, more paintings under `styles/`); they are hash-checked too.

`stripes`, `checkerboard` and `noise` make small images without any file, for fast tests and
exercises.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pooch
import torch

from .errors import ImageError, SampleError
from .images import load_image

DATA_ENV = "NSTLAB_DATA"
CACHE_ENV = "NSTLAB_CACHE"
_BASE_URL = "https://raw.githubusercontent.com/jcjohnson/neural-style/master/examples/inputs/"


@dataclass(frozen=True)
class Sample:
    name: str
    path: str  # relative to the data folder
    sha256: str
    credit: str
    url: str | None = None  # None: only available from a local NSTLAB_DATA folder


def _classic(name, file, sha256, credit):
    return Sample(name, file, sha256, credit, _BASE_URL + file)


SAMPLES: dict[str, Sample] = {s.name: s for s in [
    _classic("tubingen", "tubingen.jpg",
             "e67d1869f01fd805385c681a80d9ebcf0f70ea4a5fe6127f0606bb1c7f4bf506",
             "Neckarfront in Tuebingen, photo by Andreas Praefcke, CC BY 3.0"),
    _classic("starry_night", "starry_night.jpg",
             "0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098",
             "Vincent van Gogh, The Starry Night (1889), public domain"),
    _classic("the_scream", "the_scream.jpg",
             "f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee",
             "Edvard Munch, The Scream (1893), public domain"),
    _classic("shipwreck", "shipwreck.jpg",
             "4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213",
             "J. M. W. Turner, The Shipwreck (1805), public domain"),
    _classic("woman_with_hat", "woman-with-hat-matisse.jpg",
             "6a8b2383d9c110354a97a42c74bdcc5341be879cbb842ddb7ab5843dbdf56d53",
             "Henri Matisse, Woman with a Hat (1905), public domain"),
    Sample("kandinsky", "styles/kandinsky_composition_vii.jpg",
           "8f992ed4aecd6dd56972d7bc8166761de7c94e670ee6effa8fd05f3daeb33409",
           "Wassily Kandinsky, Composition VII (1913), public domain"),
    Sample("great_wave", "styles/hokusai_great_wave.jpg",
           "14bcf58a39b7095168f27756d76d0c615bb8954acc5eae9e62c66a9684c2ee2b",
           "Katsushika Hokusai, The Great Wave off Kanagawa (c. 1831), public domain"),
    Sample("udnie", "styles/picabia_udnie.jpg",
           "c3d3d4b9e325b485820d1a91df3bad591c2bab86919412e9f1b424e862cf204a",
           "Francis Picabia, Udnie (1913), public domain"),
    Sample("minotaur", "styles/turner_shipwreck_of_the_minotaur.jpg",
           "05e6d80cee6b2df5c3425f8f59105e62804d8a7ffe688aa69739c1f787a09dd9",
           "J. M. W. Turner, The Wreck of a Transport Ship (c. 1810), public domain"),
    Sample("tahiti", "styles/gauguin_tahiti.jpg",
           "8486376e546d9940485bdfc6a2317e3829e232467f6a74c6659098f5ec64d0e6",
           "Paul Gauguin, Tahitian painting, public domain"),
    Sample("cafe_terrace", "styles/vangogh_cafe_terrace.jpg",
           "af361f26d92524b959967ca1dda27f4127e9a89a51fd23ae0e9cb88add859d62",
           "Vincent van Gogh, Cafe Terrace at Night (1888), public domain"),
    Sample("wheat_field", "styles/vangogh_wheat_field.jpg",
           "da6959c2bc8e874f09df0cdce63dd86a1f11b61bf560ff498e1dfe483cdf8a81",
           "Vincent van Gogh, Wheat Field with Cypresses (1889), public domain"),
]}


def sample_names() -> list[str]:
    return list(SAMPLES)


def sample_path(name: str) -> Path:
    """Local path of sample `name`: from $NSTLAB_DATA if set, else downloaded (hash-checked) and cached."""
    if name not in SAMPLES:
        raise SampleError(f"unknown sample {name!r}; known samples: {', '.join(SAMPLES)}")
    sample = SAMPLES[name]
    folder = os.environ.get(DATA_ENV)
    if folder:
        path = Path(folder).expanduser() / sample.path
        if not path.is_file():
            raise SampleError(f"sample {name!r}: {path} does not exist ({DATA_ENV}={folder})")
        if pooch.file_hash(str(path)) != sample.sha256:
            raise SampleError(f"sample {name!r}: {path} does not match its sha256 {sample.sha256}")
        return path
    if sample.url is None:
        raise SampleError(f"sample {name!r} has no download URL; set {DATA_ENV} to a folder "
                          f"holding {sample.path}")
    cache = os.environ.get(CACHE_ENV) or pooch.os_cache("nstlab")
    try:
        return Path(pooch.retrieve(sample.url, known_hash=f"sha256:{sample.sha256}",
                                   fname=Path(sample.path).name, path=cache, progressbar=True))
    except Exception as err:  # network errors come in many types (requests, urllib3, socket)
        raise SampleError(f"sample {name!r}: download from {sample.url} failed ({err}). "
                          f"Offline? Set {DATA_ENV} to a folder holding {sample.path}") from err


def load_sample(name: str, size: int | None = None) -> torch.Tensor:
    """Sample `name` as (1, 3, H, W) in [0, 1], longest side `size`."""
    return load_image(sample_path(name), size)


def resolve_image(source, size: int | None = None) -> torch.Tensor:
    """A sample name, or anything `load_image` takes, as (1, 3, H, W) in [0, 1]."""
    if isinstance(source, str) and not Path(source).exists():
        if source in SAMPLES:
            return load_sample(source, size)
        if not Path(source).suffix:  # a bare word: most likely a misspelt sample name
            raise ImageError(f"{source}: no such file, and not a sample name ({', '.join(SAMPLES)})")
    return load_image(source, size)


# ---------------------------------------------------------------------------------------------
# synthetic images, (1, 3, H, W) in [0, 1]


def stripes(size: int = 64, period: float = 8.0, angle: float = 0.0,
            colors=((0.9, 0.2, 0.1), (0.1, 0.2, 0.8))) -> torch.Tensor:
    """Soft stripes of `period` pixels at `angle` degrees, blending two RGB colors."""
    y, x = torch.meshgrid(torch.arange(size, dtype=torch.float32),
                          torch.arange(size, dtype=torch.float32), indexing="ij")
    theta = math.radians(angle)
    phase = (x * math.cos(theta) + y * math.sin(theta)) * (2 * math.pi / period)
    t = (0.5 + 0.5 * torch.sin(phase))[None]  # (1, H, W)
    a, b = (torch.tensor(c, dtype=torch.float32)[:, None, None] for c in colors)
    return (a * t + b * (1 - t)).unsqueeze(0)


def checkerboard(size: int = 64, squares: int = 8) -> torch.Tensor:
    """Black and white checkerboard with `squares` squares per side."""
    cell = torch.arange(size) * squares // size
    board = ((cell[:, None] + cell[None, :]) % 2).float()
    return board.expand(1, 3, size, size).contiguous()


def noise(size: int = 64, seed: int = 0) -> torch.Tensor:
    """Uniform RGB noise, reproducible from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, size, size, generator=generator)
