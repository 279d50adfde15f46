"""Results are never lost or wrong, and never replace the user's files.

Outputs are checked before a run (format, folder, not an input), written atomically, and when the
final save fails after all, the result goes to a fallback file that the error names. A run that
goes wrong keeps its best image.
"""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nstlab.cli import main
from nstlab.feedforward.johnson import TransformerNet
from nstlab.images import save_image
from nstlab.result import Result
from nstlab.samples import stripes


def test_divergence_saves_the_best_image(tmp_path, random_vgg_file, monkeypatch, capsys):
    from nstlab import cli
    from nstlab.errors import DivergenceError

    def diverging(*args, **kwargs):
        best = Result(torch.zeros(1, 3, 8, 10), "diverged", 2, 0.1)
        raise DivergenceError("the optimization diverged at step 3", best)

    monkeypatch.setattr(cli, "stylize", diverging)
    out = tmp_path / "out.png"
    args = ["stylize", "tubingen", "starry_night", "-o", str(out), "--weights", str(random_vgg_file)]
    assert main(args) == 1
    assert Image.open(out).size == (10, 8) and "saved the best image" in capsys.readouterr().err



def test_the_output_never_replaces_an_input(tmp_path, random_vgg_file, capsys):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), "green").save(photo)
    before = photo.read_bytes()
    for args in (["stylize", str(photo), "starry_night", "-o", str(photo), "--weights", str(random_vgg_file)],
                 ["stylize", "tubingen", str(photo), "-o", str(tmp_path / "." / "photo.png")],
                 ["apply", "johnson-starry_night", str(photo), "-o", str(photo)]):
        assert main(args) == 2
        assert "is an input of this run" in capsys.readouterr().err
    assert photo.read_bytes() == before


def test_outputs_are_written_atomically(tmp_path, monkeypatch):
    out = tmp_path / "out.png"
    save_image(stripes(8), out)
    before = out.read_bytes()

    def crash(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", crash)
    with pytest.raises(OSError):
        save_image(stripes(8, period=3), out)
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["out.png"]



@pytest.mark.parametrize("name", ["folder", "readonly.png", "out.xbm", "out.psd", "/proc/x.png"])
def test_an_output_that_cannot_be_written_is_refused_before_the_run(tmp_path, random_vgg_file, capsys, name):
    (tmp_path / "folder").mkdir()
    readonly = tmp_path / "readonly.png"
    Image.new("RGB", (4, 4)).save(readonly)
    readonly.chmod(0o444)
    out = Path(name) if name.startswith("/") else tmp_path / name
    if name == "readonly.png" and os.access(readonly, os.W_OK):
        pytest.skip("running as a user who may write read-only files (root)")
    code = main(["stylize", "tubingen", "starry_night", "-o", str(out), "--weights", str(random_vgg_file),
                 "--size", "32", "--steps", "100000", "-q"])  # would take hours: it must stop before
    err = capsys.readouterr().err
    assert code == 2 and str(out) in err and "Traceback" not in err


def test_a_failed_final_save_keeps_the_result_elsewhere(tmp_path, random_vgg_file, monkeypatch, capsys):
    original = Result.save

    def save(self, path):  # the disk under tmp_path is full; elsewhere all is well
        if str(path).startswith(str(tmp_path)):
            raise OSError("disk full")
        return original(self, path)

    monkeypatch.setattr(Result, "save", save)
    code = main(["stylize", "tubingen", "starry_night", "-o", str(tmp_path / "out.png"),
                 "--weights", str(random_vgg_file), "--size", "32", "--steps", "2", "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "disk full" in err
    fallback = Path(err.split("the result is in ")[1].strip())
    assert Image.open(fallback).size == (32, 24)
    fallback.unlink()


def test_a_diverging_run_returns_its_best_image_not_the_last(tmp_path, random_vgg_file, capsys):
    out = tmp_path / "d.png"
    code = main(["stylize", "tubingen", "starry_night", "-o", str(out), "--size", "32", "--steps", "8",
                 "--optimizer", "adam", "--lr", "1e6", "--weights", str(random_vgg_file), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "went wrong" in err and "saved the best image" in err
    pixels = torch.from_numpy(np.asarray(Image.open(out), dtype=np.float32))
    assert 10 < pixels.mean() < 245 and pixels.std() > 5  # a picture, not all black or all 0/1


def test_a_trained_model_that_cannot_be_saved_is_kept_elsewhere(photos, random_vgg_file, tmp_path,
                                                                monkeypatch, capsys):
    from nstlab.feedforward import recipes

    original = recipes.save_model

    def save_model(model, path, **kw):  # the disk under tmp_path fills up at the end of training
        if str(path).startswith(str(tmp_path)):
            raise OSError(28, "No space left on device")
        return original(model, path, **kw)

    monkeypatch.setattr(recipes, "save_model", save_model)
    code = main(["train", "johnson", "--content", str(photos), "--style", "starry_night", "-o",
                 str(tmp_path / "m.pth"), "--steps", "2", "--crop", "32", "--width", "4",
                 "--weights", str(random_vgg_file), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "No space left" in err and err.count("\n") == 1
    fallback = Path(err.split("the trained model is in ")[1].strip())
    from nstlab import load_model

    assert load_model(fallback).info.card["steps"] == 2
    fallback.unlink()


def test_checkpoints_and_models_are_written_atomically(tmp_path, monkeypatch):
    from nstlab.feedforward.pretrained import save_model

    path = save_model(TransformerNet(width=4, blocks=0), tmp_path / "m.pth", styles=[])
    before = path.read_bytes()

    def crash(obj, file, *args, **kwargs):
        Path(file).write_bytes(b"half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        save_model(TransformerNet(width=8, blocks=0), path, styles=[])
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pth"]
