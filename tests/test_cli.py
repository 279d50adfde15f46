import subprocess
import sys

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


@pytest.mark.slow  # a child process
def test_python_dash_m_with_weights_from_environment(tmp_path, real_weights, monkeypatch):
    monkeypatch.setenv("NSTLAB_VGG_WEIGHTS", str(real_weights))
    style = tmp_path / "style.png"
    Image.new("RGB", (40, 30), "orange").save(style)
    out = tmp_path / "deep" / "out.jpg"
    done = subprocess.run([sys.executable, "-m", "nstlab", "stylize", "tubingen", str(style), "-o", str(out),
                           "--size", "32,48", "--steps", "2,2", "-q"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert Image.open(out).size == (48, 36)


def test_samples_lists_names(capsys):
    assert main(["samples"]) == 0
    out = capsys.readouterr().out
    assert "tubingen" in out and "Praefcke" in out


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
