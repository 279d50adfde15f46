import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from nstlab.cli import main


def test_stylize_end_to_end(tmp_path, real_weights, capsys):
    out = tmp_path / "out.png"
    code = main(["stylize", "tubingen", "starry_night", "-o", str(out), "--size", "64", "--steps", "5",
                 "--weights", str(real_weights), "--style-layers", "relu1_1", "relu2_1:2", "relu3_1",
                 "--optimizer", "adam", "--seed", "1", "--device", "cpu", "-q"])
    assert code == 0
    assert Image.open(out).size == (64, 48)
    assert "5 steps" in capsys.readouterr().out


def test_python_dash_m_with_weights_from_environment(tmp_path, real_weights, monkeypatch):
    monkeypatch.setenv("NSTLAB_VGG_WEIGHTS", str(real_weights))
    style = tmp_path / "style.png"
    Image.new("RGB", (40, 30), "orange").save(style)
    out = tmp_path / "deep" / "out.jpg"
    done = subprocess.run([sys.executable, "-m", "nstlab", "stylize", "tubingen", str(style), "-o", str(out),
                           "--size", "32,48", "--steps", "2,2", "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (48, 36)


@pytest.mark.parametrize("args, message", [
    (["missing.jpg", "starry_night"], "missing.jpg: no such file"),
    (["tubingen", "mona_lisa"], "mona_lisa: no such file, and not a sample name (tubingen, "),
    (["tubingen", "starry_night", "--style-layers", "conv_4"], "valid names"),
    (["tubingen", "starry_night", "--style-weight", "-1"], "style_weight"),
    (["tubingen", "starry_night", "--size", "64,128", "--steps", "1,2,3"], "2 sizes but 3 step counts"),
])
def test_bad_input_is_one_clear_line_and_writes_nothing(tmp_path, real_weights, capsys, args,
                                                         message):
    out = tmp_path / "out.png"
    code = main(["stylize", *args, "-o", str(out), "--weights", str(real_weights), "-q"])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_unknown_output_extension(tmp_path, real_weights, capsys):
    assert main(["stylize", "a", "b", "-o", str(tmp_path / "out.xyz"), "--weights", str(real_weights)]) == 2
    assert "out.xyz" in capsys.readouterr().err


def test_argument_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["stylize", "a", "b", "-o", "x.png", "--size", "big"])
    assert exit_.value.code == 2


def test_samples_lists_names(capsys):
    assert main(["samples"]) == 0
    out = capsys.readouterr().out
    assert "tubingen" in out and "Praefcke" in out


def test_divergence_saves_the_best_image(tmp_path, random_vgg_file, monkeypatch, capsys):
    import torch

    from nstlab import cli
    from nstlab.errors import DivergenceError
    from nstlab.result import Result

    def diverging(*args, **kwargs):
        best = Result(torch.zeros(1, 3, 8, 10), "diverged", 2, 0.1)
        raise DivergenceError("the optimization diverged at step 3", best)

    monkeypatch.setattr(cli, "stylize", diverging)
    out = tmp_path / "out.png"
    args = ["stylize", "tubingen", "starry_night", "-o", str(out), "--weights", str(random_vgg_file)]
    assert main(args) == 1
    assert Image.open(out).size == (10, 8) and "saved the best image" in capsys.readouterr().err


def test_layer_lists_with_commas_or_spaces_colour_and_two_styles(tmp_path, random_vgg_file, monkeypatch):
    from nstlab import cli

    seen = {}
    real = cli.stylize

    def spy(content, style, **kw):
        seen.update(kw, style=style)
        return real(content, style, **kw)

    monkeypatch.setattr(cli, "stylize", spy)
    photo, a, b = (tmp_path / f"{n}.png" for n in ("photo", "a", "b"))
    for path, color in ((photo, "green"), (a, "red"), (b, "blue")):
        Image.new("RGB", (40, 30), color).save(path)
    out = tmp_path / "out.png"
    common = ["stylize", str(photo), f"{a},{b}", "-o", str(out), "--weights", str(random_vgg_file),
              "--size", "32", "--steps", "1", "-q"]
    assert main([*common, "--style-layers", "relu1_1,relu2_1:2", "relu3_1", "--mix", "1,3",
                 "--preserve-color", "--content-layers", "relu2_2"]) == 0
    assert dict(seen["settings"].style_layers) == {"relu1_1": 1.0, "relu2_1": 2.0, "relu3_1": 1.0}
    assert list(seen["settings"].content_layers) == ["relu2_2"]
    assert seen["style"] == [str(a), str(b)] and seen["mix"] == [1.0, 3.0]
    assert seen["preserve_color"] == "histogram" and out.is_file()
    assert main([*common, "--preserve-color", "luminance"]) == 0 and seen["preserve_color"] == "luminance"
    with pytest.raises(SystemExit):
        main([*common, "--preserve-color", "sepia"])


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
    from nstlab.images import save_image
    from nstlab.samples import stripes

    out = tmp_path / "out.png"
    save_image(stripes(8), out)
    before = out.read_bytes()

    def crash(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", crash)
    with pytest.raises(OSError):
        save_image(stripes(8, period=3), out)
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_sigterm_stops_a_run_and_keeps_the_best_image(tmp_path, random_vgg_file):
    import signal
    import time

    out = tmp_path / "out.png"
    command = [sys.executable, "-m", "nstlab", "stylize", "tubingen", "starry_night", "-o", str(out),
               "--size", "48", "--steps", "100000", "--optimizer", "adam", "--weights", str(random_vgg_file),
               "-q"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # started and stepping
    run.send_signal(signal.SIGTERM)
    printed, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "(interrupted)" in printed and Image.open(out).size == (48, 36)


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
    from nstlab.result import Result

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
