import shutil

import pooch
import pytest
import torch

from nstlab import samples
from nstlab.errors import DownloadError
from nstlab.samples import (
    BUNDLE_DIR,
    SAMPLE_SIDE,
    SAMPLES,
    SampleError,
    download_sample,
    is_original,
    load_sample,
    resolve_image,
    sample_path,
)


def test_every_sample_is_bundled_small_and_works_with_no_setting():
    for name in SAMPLES:
        path = sample_path(name)
        assert path == BUNDLE_DIR / f"{name}.jpg" and not is_original(path)
        assert path.stat().st_size < 120_000
        image = load_sample(name)
        assert max(image.shape[-2:]) == SAMPLE_SIDE
    total = sum(p.stat().st_size for p in BUNDLE_DIR.glob("*.jpg"))
    assert total < 1_000_000


def test_enlarging_a_bundled_sample_warns():
    with pytest.warns(UserWarning, match="bundled at 512 px"):
        load_sample("tubingen", 1024)


def test_registry_hashes_match_the_shared_files(data_dir):
    for sample in SAMPLES.values():
        assert pooch.file_hash(str(data_dir / sample.path)) == sample.sha256, sample.name


def test_classic_five_have_urls():
    for name in ("tubingen", "starry_night", "the_scream", "shipwreck", "woman_with_hat"):
        assert SAMPLES[name].url.endswith(SAMPLES[name].path)


def test_offline_folder(data_dir):
    assert sample_path("starry_night") == data_dir / "starry_night.jpg"
    image = load_sample("tubingen", size=64)
    assert image.shape == (1, 3, 48, 64)
    assert torch.equal(resolve_image("tubingen", 64), image)


def test_offline_folder_missing_or_corrupt_file(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("NSTLAB_DATA", str(tmp_path))
    assert sample_path("tubingen") == BUNDLE_DIR / "tubingen.jpg"  # not in the folder: the bundled copy
    (tmp_path / "tubingen.jpg").write_bytes(b"not the photo")
    with pytest.raises(SampleError, match="sha256"):
        sample_path("tubingen")
    shutil.copy(data_dir / "tubingen.jpg", tmp_path)
    assert sample_path("tubingen") == tmp_path / "tubingen.jpg"


def test_unknown_sample_lists_known_names():
    with pytest.raises(SampleError, match="starry_night"):
        sample_path("mona_lisa")


def test_download_goes_through_pooch_with_the_hash(monkeypatch, tmp_path):
    calls = {}

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.update(url=url, known_hash=known_hash, path=path)
        return str(tmp_path / fname)

    monkeypatch.setattr(samples.pooch, "retrieve", fake_retrieve)
    assert download_sample("the_scream") == tmp_path / "the_scream.jpg"
    assert calls["known_hash"] == "sha256:" + SAMPLES["the_scream"].sha256
    assert calls["url"] == SAMPLES["the_scream"].url
    assert calls["path"] == str(tmp_path / "cache")  # $NSTLAB_CACHE, set by conftest


def test_download_failure_says_what_to_do(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(samples.pooch, "retrieve", offline)
    with pytest.raises(DownloadError, match="bundled copy"):
        download_sample("tubingen")
    with pytest.raises(SampleError, match="no download URL"):
        download_sample("great_wave")
    assert sample_path("tubingen") == BUNDLE_DIR / "tubingen.jpg"  # loading never downloads


def test_a_downloaded_original_is_used_once_it_is_there(data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("NSTLAB_DATA")
    cache = tmp_path / "cache"  # $NSTLAB_CACHE, set by conftest
    cache.mkdir(exist_ok=True)
    shutil.copy(data_dir / "starry_night.jpg", cache)
    assert sample_path("starry_night") == cache / "starry_night.jpg"
    assert load_sample("starry_night").shape[-1] == 1024
    (cache / "starry_night.jpg").write_bytes(b"half a file")
    with pytest.raises(SampleError, match="sha256"):
        sample_path("starry_night")


def test_a_damaged_bundled_copy_is_refused(monkeypatch, tmp_path):
    bad = tmp_path / "bundle"
    bad.mkdir()
    (bad / "udnie.jpg").write_bytes(b"junk")
    monkeypatch.setattr(samples, "BUNDLE_DIR", bad)
    with pytest.raises(SampleError, match="reinstall"):
        sample_path("udnie")


def test_resolve_prefers_an_existing_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from PIL import Image
    Image.new("RGB", (4, 2), "red").save(tmp_path / "tubingen", format="PNG")  # a file named like a sample
    assert resolve_image("tubingen").shape == (1, 3, 2, 4)


def test_synthetic_images():
    s = samples.stripes(32, period=8)
    assert s.shape == (1, 3, 32, 32) and s.min() >= 0 and s.max() <= 1
    assert torch.allclose(s[..., :, 0], s[..., :, 8], atol=1e-5)  # periodic along x at angle 0
    assert torch.allclose(s[..., 0, :], s[..., 5, :])  # constant along y
    c = samples.checkerboard(16, squares=4)
    assert c[0, 0, 0, 0] == 0 and c[0, 0, 0, 4] == 1 and c[0, 0, 4, 4] == 0 and c.mean() == 0.5
    assert torch.equal(samples.noise(8, seed=1), samples.noise(8, seed=1))
    assert not torch.equal(samples.noise(8, seed=1), samples.noise(8, seed=2))
