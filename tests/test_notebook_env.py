"""What the notebooks share: the setup check and the training photos, with no setting."""

from nstlab.notebook import check_setup, photos_folder


def test_the_setup_check_loads_the_network_and_finds_the_images(capsys):
    info = check_setup()
    assert info["ok"] is True and info["VGG weights"].startswith("loaded: vgg16, bundled")
    assert info["sample images"].startswith("found: 12")
    assert "VGG weights" in capsys.readouterr().out


def test_the_setup_check_reports_a_problem_instead_of_raising(monkeypatch, tmp_path):
    monkeypatch.setenv("NSTLAB_VGG_WEIGHTS", str(tmp_path / "missing.pth"))
    monkeypatch.setenv("NSTLAB_PHOTOS", str(tmp_path / "no-photos"))
    info = check_setup()
    assert info["ok"] is False and info["VGG weights"].startswith("PROBLEM:")
    assert info["training photos"].startswith("PROBLEM:")


def test_training_photos_are_made_from_the_bundled_photo_once(capsys):
    folder = photos_folder()  # $NSTLAB_CACHE is a fresh folder (conftest)
    files = sorted(folder.glob("*.png"))
    assert len(files) == 32 and "crops of the bundled" in capsys.readouterr().out
    assert photos_folder() == folder and "crops" not in capsys.readouterr().out  # made once
