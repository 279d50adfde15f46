"""Sample images by name, and synthetic images made in code.

Every sample -- the classic five inputs of Gatys et al. (2016): tubingen, starry_night,
the_scream, shipwreck, woman_with_hat, and seven more public-domain paintings -- ships with nstlab
at up to 512 px (nstlab/assets/samples, made by tools/bundle.py): no download, no setting. A
larger original is used instead when there is one: from $NSTLAB_DATA (a folder with the same file
names, more paintings under `styles/`), or downloaded once (the classic five: `nstlab samples
--download`, `download_sample`), checked against its sha256 and cached with pooch. Every file is
hash-checked before use.

`stripes`, `checkerboard` and `noise` make small images without any file, for fast tests and
exercises.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pooch
import torch

from .errors import DownloadError, ImageError, SampleError
from .files import checked
from .images import load_image

SAMPLE_SIDE = 512  # the bundled copies' longest side (tools/bundle.py samples)
BUNDLE_DIR = Path(__file__).parent / "assets" / "samples"  # <name>.jpg
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


# the bundled copies' sha256, printed by `python tools/bundle.py samples FOLDER`
BUNDLED_SHA256 = {
    "tubingen": "aa2a818694249ed4139cf7cff4b6163a0418af72cd6c7bc8ba2618171865459b",
    "starry_night": "30833ec46cf5e3751b5b139286352ffe385d5a1d228797978486cb6cf46f4a65",
    "the_scream": "a5d73171f7784ea1f7d9d670ae1e7c33cf341847691c9eb3e3128f7a52189d28",
    "shipwreck": "f2b8009a4f3db1a2dfe89439f130443c139a2ef7ad3febbef7b0ac03b8829c8e",
    "woman_with_hat": "461b6686eb86246198c60e92c49caa5f05d08e26319b42c7cc23db2b3a17a100",
    "kandinsky": "7ee035d63bbd09308d08574778188b22d857557bb3b8ae8cd96805cc6fecfa9a",
    "great_wave": "aae34ae3e04141f7bb360e0bd0809d1c2e2bf6f3b1e932914ab540d2495bf545",
    "udnie": "1232906bc23625b13dd9e24c3a8243cf3e2325d4db1f4d1fb18e69b3f10174cb",
    "minotaur": "e53d1221ff0f3152df2ed8fbdebb8c39aa3330a630c1c1efecf811ba45674e97",
    "tahiti": "7a487ca3d06eb554e7d32f84a83e5e51f22ef1f16504beb1879a5518977f5542",
    "cafe_terrace": "dc9478849834149d75a811f67932a97b059d9d9488acdd6458a12a7b08084ebf",
    "wheat_field": "b228bc322c4e869103867e08faf79f10ae60056c092ff77bc801e801464b9b23",
}


def sample_names() -> list[str]:
    return list(SAMPLES)


def sample_path(name: str) -> Path:
    """Local path of sample `name`, the largest there is without a download: the original from
    $NSTLAB_DATA, else an original downloaded before, else the bundled copy (<= 512 px)."""
    sample = _sample(name)
    for path in (_data_path(sample), _cached_path(sample)):
        if path is not None and path.is_file():
            return _checked(path, sample.sha256, name)
    return _checked(BUNDLE_DIR / f"{name}.jpg", BUNDLED_SHA256[name], name)


def is_original(path: Path) -> bool:
    """Whether a path from `sample_path` is a full-size original (not the bundled copy)."""
    return Path(path).parent != BUNDLE_DIR


def download_sample(name: str) -> Path:
    """The full-size original of sample `name`, downloaded once (hash-checked) and cached."""
    sample = _sample(name)
    data = _data_path(sample)
    if data is not None and data.is_file():
        return _checked(data, sample.sha256, name)
    if sample.url is None:
        raise SampleError(f"sample {name!r} has no download URL; its original is used from a folder "
                          f"{DATA_ENV} points at, as {sample.path}")
    try:
        return Path(pooch.retrieve(sample.url, known_hash=f"sha256:{sample.sha256}",
                                   fname=Path(sample.path).name, path=cache_dir(), progressbar=True))
    except Exception as err:  # network errors come in many types (requests, urllib3, socket)
        raise DownloadError(f"sample {name!r}: download from {sample.url} failed ({err}); the bundled "
                          f"copy (<= {SAMPLE_SIDE} px) works offline") from err


def load_sample(name: str, size: int | None = None) -> torch.Tensor:
    """Sample `name` as (1, 3, H, W) in [0, 1], longest side `size` (warns when that enlarges
    the bundled copy: `download_sample` or $NSTLAB_DATA give the original)."""
    path = sample_path(name)
    if size is not None and size > SAMPLE_SIDE and not is_original(path):
        how = ("`nstlab samples --download` fetches the original" if SAMPLES[name].url
               else f"its original can come from a folder {DATA_ENV} points at")
        warnings.warn(f"sample {name!r} is bundled at {SAMPLE_SIDE} px and enlarged to {size} px; {how}",
                      stacklevel=2)
    return load_image(path, size)


def _sample(name: str) -> Sample:
    if name not in SAMPLES:
        raise SampleError(f"unknown sample {name!r}; known samples: {', '.join(SAMPLES)}")
    return SAMPLES[name]


def cache_dir() -> str:
    """Where downloads and made files are kept: $NSTLAB_CACHE, else the user's cache folder."""
    return os.environ.get(CACHE_ENV) or str(pooch.os_cache("nstlab"))


def _data_path(sample: Sample) -> Path | None:
    folder = os.environ.get(DATA_ENV)
    return Path(folder).expanduser() / sample.path if folder else None


def _cached_path(sample: Sample) -> Path | None:
    return Path(cache_dir()) / Path(sample.path).name if sample.url else None


def _checked(path: Path, sha256: str, name: str) -> Path:
    return checked(path, sha256, SampleError, f"sample {name!r}",
                   "delete a damaged download, or reinstall nstlab for the bundled copy")


def resolve_image(source, size: int | None = None) -> torch.Tensor:
    """A sample name, or anything `load_image` takes, as (1, 3, H, W) in [0, 1]."""
    if isinstance(source, str) and not source.strip():
        raise ImageError("an empty image name: give an image file or a sample name")
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        raise ImageError(f"{source}: nstlab does not download images from URLs; save it and give its path")
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
