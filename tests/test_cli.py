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


@pytest.fixture
def seen(monkeypatch) -> dict:
    """What the command line passed to `stylize` (the run still happens)."""
    from nstlab import cli

    seen, real = {}, cli.stylize

    def spy(content, style, **kw):
        seen.update(kw, style=style)
        return real(content, style, **kw)

    monkeypatch.setattr(cli, "stylize", spy)
    return seen


def test_layer_lists_with_commas_or_spaces_colour_and_two_styles(tmp_path, random_vgg_file, seen):
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


def test_styles_are_words_in_every_command_before_or_after_options(tmp_path, random_vgg_file, seen, capsys):
    sky = tmp_path / "sky.png"
    Image.new("L", (40, 30), 255).save(sky)
    ground = tmp_path / "ground.png"
    Image.new("L", (40, 30), 0).save(ground)
    out = tmp_path / "out.png"
    # options first, the styles last (space-separated), with a mask per style
    assert main(["stylize", "tubingen", "-o", str(out), "--weights", str(random_vgg_file), "--size", "32",
                 "--steps", "1", "-q", "--masks", str(sky), str(ground), "--", "starry_night", "udnie"]) == 0
    assert seen["style"] == ["starry_night", "udnie"] and seen["masks"] == [str(sky), str(ground)]
    assert main(["stylize", "tubingen", "starry_night", "udnie", "-o", str(out), "--weights",
                 str(random_vgg_file), "--size", "32", "--steps", "1", "-q", "--mix", "1,2"]) == 0
    assert seen["style"] == ["starry_night", "udnie"] and seen["mix"] == [1.0, 2.0]
    # apply and video: the same words, after the options too
    assert main(["apply", "cin-6styles", "tubingen", "-o", str(out), "--size", "32", "udnie", "kandinsky",
                 "--masks", str(sky), str(ground)]) == 0
    assert main(["video", "bigbuckbunny", "--model", "cin-6styles", "udnie", "-o", str(tmp_path / "v.gif"),
                 "--size", "32", "--max-frames", "2", "-q"]) == 0
    assert "2 frames" in capsys.readouterr().out
    assert main(["apply", "johnson-starry_night", "tubingen", "-o", str(tmp_path / "x.png"), "--masks",
                 str(sky)]) == 2  # a one-style network has no regions: one line, exit 2
    assert "one style" in capsys.readouterr().err


def test_apply_says_which_style_a_conditional_network_painted(tmp_path, capsys):
    assert main(["apply", "cin-6styles", "tubingen", "-o", str(tmp_path / "a.png"), "--size", "32"]) == 0
    assert "style starry_night, the first of 6" in capsys.readouterr().out
    assert main(["apply", "cin-6styles", "tubingen", "udnie", "-o", str(tmp_path / "a.png"),
                 "--size", "32"]) == 0
    assert "the first of" not in capsys.readouterr().out
    assert main(["apply", "adain", "tubingen", "-o", str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err
    assert "after the photo" in err and "style=" not in err  # the command line's words, not Python's


def test_apply_a_folder_of_images_into_another_folder(tmp_path, capsys):
    photos = tmp_path / "photos"
    (photos / "more").mkdir(parents=True)
    Image.new("RGB", (40, 30), "green").save(photos / "a.jpg")
    Image.new("RGB", (30, 40), "red").save(photos / "more" / "b.png")
    out = tmp_path / "styled"
    assert main(["apply", "johnson-starry_night", str(photos), "-o", str(out), "--size", "32"]) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == ["a.png", "more/b.png"]
    assert "2 images" in capsys.readouterr().out
    assert main(["apply", "johnson-starry_night", str(photos), "-o", str(photos / "out"), "-q"]) == 2
    assert "inside the folder of images" in capsys.readouterr().err and not (photos / "out").exists()
    (tmp_path / "file.png").write_bytes(b"")
    assert main(["apply", "johnson-starry_night", str(photos), "-o", str(tmp_path / "file.png")]) == 2


def test_the_video_help_names_the_sample_clip(capsys):
    with pytest.raises(SystemExit):
        main(["video", "--help"])
    assert "bigbuckbunny" in capsys.readouterr().out
