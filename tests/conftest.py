"""Shared fixtures. The real VGG-16 and the sample images ship with nstlab, so the real-weight
tests run everywhere. Assets from the shared folder (full-size originals, training photos) are
found through $NSTLAB_SHARED, defaulting to ../shared beside the checkout; tests that need them
skip with the reason when they are absent."""

import os
from pathlib import Path

import pytest
import torch
from torchvision.models.vgg import cfgs, make_layers

from nstlab.vgg import BUNDLED_VGG, VGGFeatures, load_vgg

SHARED = Path(os.environ.get("NSTLAB_SHARED", Path(__file__).resolve().parents[2] / "shared"))
WEIGHTS = SHARED / "weights" / "vgg16-imagenet-features.pth"
IMAGES = SHARED / "images"


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch, tmp_path):
    """Tests see no user configuration and never touch the user's caches."""
    for name in ("NSTLAB_DATA", "NSTLAB_VGG_WEIGHTS", "NSTLAB_PHOTOS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NSTLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))


@pytest.fixture(scope="session")
def real_weights() -> Path:
    """The bundled ImageNet VGG-16 (int8 convolutions): in every installation."""
    return BUNDLED_VGG


@pytest.fixture(scope="session")
def real_vgg(real_weights) -> VGGFeatures:
    return load_vgg(real_weights)


@pytest.fixture
def data_dir(monkeypatch) -> Path:
    if not (IMAGES / "tubingen.jpg").is_file():
        pytest.skip(f"sample images not found in {IMAGES} (set NSTLAB_SHARED)")
    monkeypatch.setenv("NSTLAB_DATA", str(IMAGES))
    return IMAGES


def torchvision_features(arch: str, seed: int = 0) -> torch.nn.Sequential:
    """torchvision's own vgg16().features / vgg19().features, randomly initialized."""
    torch.manual_seed(seed)
    return make_layers(cfgs["D" if arch == "vgg16" else "E"]).eval()


@pytest.fixture(scope="session")
def random_vgg_file(tmp_path_factory) -> Path:
    """A VGG-16 features state dict in torchvision's layout, random weights: fast tests."""
    path = tmp_path_factory.mktemp("weights") / "vgg16-random.pth"
    torch.save(torchvision_features("vgg16").state_dict(), path)
    return path


@pytest.fixture(scope="session")
def random_vgg(random_vgg_file) -> VGGFeatures:
    return load_vgg(random_vgg_file)


@pytest.fixture
def photos(tmp_path) -> Path:
    """A folder of four small training photos in a subfolder, and a file that is not an image."""
    from nstlab.images import save_image
    from nstlab.samples import checkerboard, noise

    folder = tmp_path / "photos"
    for i in range(4):
        save_image(noise(40, seed=i) * 0.5 + checkerboard(40, 4) * 0.5, folder / "sub" / f"{i}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder
