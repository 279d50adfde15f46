"""Random argument combinations, good and bad mixed: exit 0, or 1 with the result kept, or 2 with
one line; never a traceback, never an input overwritten. Seeded (hypothesis, derandomized), so a
failure reproduces; the counts per command are `max_examples` below.
"""

import contextlib
import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import torchvision_features
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import nstlab
from nstlab.cli import main
from nstlab.files import sha256_of

pytestmark = pytest.mark.slow  # about 30 s: the quick loop (-m "not slow") leaves it out

SEEDED = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("fuzz")
    features = torchvision_features("vgg16").state_dict()
    torch.save(features, root / "vgg.pth")
    torch.save({k: v for k, v in features.items() if k.endswith("weight")}, root / "nobias.pth")
    (root / "empty.pth").write_bytes(b"")
    (root / "folder").mkdir()
    Image.new("RGB", (40, 30), "green").save(root / "photo.png")
    (root / "text.png").write_text("not an image")
    from nstlab.feedforward.johnson import TransformerNet
    from nstlab.feedforward.pretrained import save_model
    from nstlab.video import synthetic_clip, write_video

    frames = synthetic_clip("tubingen", frames=3, size=(24, 32), kind="pan").frames
    write_video(frames, root / "clip.gif", fps=10)
    write_video(frames, root / "frames")
    save_model(TransformerNet(width=4, blocks=1), root / "model.pth", styles=["s"])
    names = ("vgg.pth", "nobias.pth", "empty.pth", "folder", "photo.png", "text.png", "clip.gif", "frames",
             "model.pth")
    return {name: str(root / name) for name in names} | {"root": str(root),
                                                         "vgg.sha256": sha256_of(root / "vgg.pth")}


def option(name, good, bad, valid, always=False):
    """The option with one of the `good` values (and, unless `valid`, the `bad` ones too; None: the
    bare flag); unless `always`, mostly left out, so that some commands get through to a run."""
    if not (good if valid else good + bad):  # an option that is only ever wrong, in a valid command
        return st.just([])
    given = st.sampled_from(good if valid else good + bad).map(lambda v: [name] if v is None else [name, v])
    return given if always else st.integers(0, 3).flatmap(lambda k: given if k == 3 else st.just([]))


def command(build):
    """Half the examples from good values only (they run), half from good and bad mixed."""
    return st.booleans().flatmap(lambda valid: st.tuples(*build(valid))).map(
        lambda parts: [a for part in parts for a in part])


NUMBERS = (["1", "0", "2.5", "1e3"], ["-1", "nan", "inf", "1e400", "x", ""])
LAYERS = (["relu1_1", "relu1_1:2,relu2_1", "relu2_2 relu3_1", "relu5_1:0"], ["conv_4", "relu1_1:x", "", ","])


def stylize_args(f):
    def build(valid):
        images = (["tubingen", "starry_night", "great_wave", f["photo.png"]],
                  ["", "https://example.org/a.jpg", f["root"] + "/missing.jpg", f["folder"], f["text.png"]])
        outputs = (["out.png", "out.jpg", "sub/dir/out.png", "photo.png"],
                   ["out.xyz", "out.psd", "folder", ""])
        styles = (images[0] + ["the_scream,great_wave"], images[1])
        return (
            st.just(["stylize"]),
            st.sampled_from(images[0] if valid else images[0] + images[1]).map(lambda v: [v]),
            st.sampled_from(styles[0] if valid else styles[0] + styles[1]).map(lambda v: [v]),
            st.sampled_from(outputs[0] if valid else outputs[0] + outputs[1])
            .map(lambda v: ["-o", str(Path(f["root"]) / v) if v else ""]),
            st.just(["-q"]),
            option("--size", ["32", "48", "32,48"], ["16", "48,32", "0", "-5", "x", "100000"], valid, True),
            option("--steps", ["1", "2"], ["0", "-1", "x", "1,2,3"], valid, True),  # (defaults: minutes)
            option("--optimizer", ["adam", "lbfgs"], ["sgd"], valid),
            option("--lr", ["0.1", "1e-3", "1e6"], ["nan", "0", "-1", "x"], valid),
            option("--content-layers", *LAYERS, valid), option("--style-layers", *LAYERS, valid),
            option("--content-weight", *NUMBERS, valid), option("--style-weight", *NUMBERS, valid),
            option("--tv-weight", *NUMBERS, valid),
            option("--style-scale", ["1", "0.5", "1.5"], ["0", "inf", "-2", "nan"], valid),
            option("--mix", ["1", "1,2"], ["nan,1", "x", "0,0", "-1,2"], valid),
            option("--preserve-color", [None, "luminance", "histogram"], ["sepia"], valid),
            option("--init", ["content", "style", "noise"], ["paper"], valid),
            option("--pooling", ["max", "avg"], ["min"], valid),
            option("--precision", ["float32", "bfloat16"], ["float16"], valid),
            option("--seed", ["0", "-1", "7"], ["x"], valid),
            option("--device", ["cpu"], ["cuda", "tpu", ""], valid),
            option("--weights", [f["vgg.pth"]], [f["nobias.pth"], f["empty.pth"], f["folder"]], valid),
            option("--sha256", [f["vgg.sha256"]], ["00000000", "xyz"], valid),
        )

    return command(build)


def apply_args(f):
    """Valid: options that fit the model (cin: its style names, adain: a style image and alpha)."""
    fits = {"johnson-starry_night": {},
            "cin-6styles": {"--style": ["starry_night", "the_scream,great_wave", "0"],
                            "--mix": ["1", "0.3,0.7"]},
            "adain": {"--style": ["starry_night", f["photo.png"]], "--alpha": ["0", "0.5", "1"]}}

    def build(valid, model):
        extra = fits[model] if valid else {"--style": ["starry_night", "7", "mona_lisa", ""],
                                           "--mix": ["1", "1,1", "nan,1", "-1,2", "x"],
                                           "--alpha": ["0.5", "2", "nan", "-1"]}
        must = valid and model == "adain"  # an AdaIN network needs a style image
        return (
            st.sampled_from([model] if valid else [model, "nope", f["empty.pth"], f["folder"]])
            .map(lambda m: ["apply", m]),
            st.sampled_from(["tubingen", f["photo.png"]] + ([] if valid else ["", f["text.png"]]))
            .map(lambda v: [v]),
            st.sampled_from(["a.png", "photo.png"] + ([] if valid else ["a.xyz", "folder"]))
            .map(lambda v: ["-o", str(Path(f["root"]) / v)]),
            option("--size", ["32", "48"], ["0", "-1", "x"], valid),
            *(option(name, values, [], True, always=must and name == "--style")
              .map(lambda words, name=name: words[1:] if name == "--style" else words)  # STYLE: a word
              for name, values in extra.items()),
            option("--preserve-color", [None, "luminance"], ["sepia"], valid),
            option("--device", ["cpu"], ["cuda"], valid),
            st.just([]) if valid else option("--sha256", ["00000000", "xyz"], [], True),
        )

    return st.tuples(st.booleans(), st.sampled_from(list(fits))).flatmap(
        lambda vm: st.tuples(*build(*vm))).map(
        lambda parts: [a for part in parts for a in part])


def video_args(f):
    """Optimization or a network (a model file, AdaIN with a painting), on a 3-frame clip at 32 px."""
    def build(valid):
        inputs = ([f["clip.gif"], f["frames"]],
                  [f["photo.png"], f["text.png"], f["folder"], "", f["root"] + "/no.mp4"])
        outputs = (["out.gif", "out.mp4", "out.webp", "outdir", "photo.png.gif"],
                   ["out.xyz", "text.png", "clip.gif", "frames", "frames/in.gif", ""])
        methods = ([["starry_night"], [f["photo.png"]], ["--model", f["model.pth"]],
                    ["--model", "adain", "the_scream"]],
                   [[], [""], ["mona_lisa"], ["--model", f["empty.pth"]], ["--model", "nope"],
                    ["--model", "adain"]])
        return (
            st.just(["video"]),
            st.sampled_from(inputs[0] if valid else inputs[0] + inputs[1]).map(lambda v: [v]),
            st.sampled_from(methods[0] if valid else methods[0] + methods[1]),
            st.sampled_from(outputs[0] if valid else outputs[0] + outputs[1])
            .map(lambda v: ["-o", str(Path(f["root"]) / v) if v else ""]),
            st.just(["-q", "--size", "32"]),
            option("--steps", ["1", "2"], ["0", "-1", "x"], valid, True),
            option("--stabilize", ["0", "0.5"], ["1", "-1", "nan", "x"], valid),
            option("--max-frames", ["2"], ["0", "-2"], valid),
            option("--every", ["1", "2"], ["0"], valid),
            option("--temporal-weight", ["0", "333"], ["-1", "nan", "inf"], valid),
            option("--long-term", ["1", "1 2"], ["2", "x", "0"], valid)
            .map(lambda w: w[:1] + w[1].split() if w else w),
            option("--loop", [None], [], valid),
            option("--preserve-color", [None, "luminance"], ["sepia"], valid),
            option("--mix", [], ["nan,1", "1,2", "x"], valid),
            option("--alpha", ["1"], ["0.5", "2"], valid),
            option("--morph", [], [None], valid),
            option("--flow", ["dis"], ["farneback"], valid),
            option("--precision", ["float32"], ["float16"], valid),
            option("--device", ["cpu"], ["cuda", "tpu"], valid),
        )

    return command(build)


EXITS = {"stylize": Counter(), "apply": Counter(), "video": Counter()}  # exit code -> how many


def check(argv, f, capsys):
    """Run the command in-process; any exception escaping main() fails the test with its traceback."""
    photo, clip = Path(f["photo.png"]), Path(f["clip.gif"])
    before, clip_before = photo.read_bytes(), clip.read_bytes()
    frames_before = sorted(p.name for p in Path(f["frames"]).iterdir())
    an_input = any(a.startswith(str(photo)) or a.endswith(str(photo)) for i, a in enumerate(argv)
                   if i == 0 or argv[i - 1] != "-o")
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err, (argv, err)
    if an_input:
        assert photo.read_bytes() == before, argv  # never the user's photo
    photo.write_bytes(before)  # (an output that is not an input may replace it)
    assert clip.read_bytes() == clip_before and sorted(p.name for p in Path(f["frames"]).iterdir()) == \
        frames_before, argv  # the clips are inputs whenever they are read
    for made in ("outdir", "out.gif-frames", "out.mp4-frames", "out.webp-frames", "photo.png.gif-frames"):
        shutil.rmtree(Path(f["root"]) / made, ignore_errors=True)  # each example starts afresh
    EXITS[argv[0]][code] += 1
    if code == 0:
        assert "error" not in err, (argv, err)
    elif code == 1:  # the run went wrong, or the save failed: the result is kept and the line says where
        assert "saved the best image" in err or "the result is in" in err or "kept in" in err, (argv, err)
    else:
        assert code == 2 and len(lines) == 1 and lines[0].startswith("nstlab"), (argv, err)


@pytest.mark.parametrize("command, examples, runs, refusals", [("stylize", 400, 40, 100),
                                                           ("apply", 200, 30, 100), ("video", 300, 40, 100)])
def test_random_commands(files, capsys, command, examples, runs, refusals):
    strategy = {"stylize": stylize_args, "apply": apply_args, "video": video_args}[command](files)

    @settings(SEEDED, max_examples=examples)
    @given(strategy)
    def run(argv):
        check(argv, files, capsys)

    run()
    exits = EXITS[command]
    print(f"{command} exits:", dict(exits))
    assert exits[0] >= runs and exits[2] >= refusals  # both real runs and refusals were tried


VALUES = st.sampled_from([0, 1, -1, 2.5, math.nan, math.inf, "1", None, True, np.float32(2), np.int64(3),
                          1e308, [1], {"relu1_1": 1}])
LAYER_SPECS = st.one_of(
    st.sampled_from(["relu1_1", "", "relu9_9", "conv_4", None, 5, [], ["relu1_1", "relu1_1"]]),
    st.lists(st.sampled_from(["relu1_1", "relu2_1", "relu4_2", "pool5", "x"]), max_size=3),
    st.dictionaries(st.sampled_from(["relu1_1", "relu3_1", "x"]), VALUES, max_size=3))


@settings(SEEDED, max_examples=600)
@given(st.fixed_dictionaries({}, optional={
    "content_layers": LAYER_SPECS, "style_layers": LAYER_SPECS, "content_weight": VALUES,
    "style_weight": VALUES, "tv_weight": VALUES,
    "term_weights": st.one_of(st.none(), st.dictionaries(st.sampled_from(["temporal", "style", "x"]), VALUES,
                                                         max_size=2))}))
def test_random_settings_are_valid_or_one_input_error(random_vgg, kwargs):
    try:
        s = nstlab.Settings(**kwargs)
    except nstlab.InputError:
        return
    for weight in (s.content_weight, s.style_weight, s.tv_weight, *s.content_layers.values(),
                   *s.style_layers.values(), *s.term_weights.values()):
        assert isinstance(weight, float) and math.isfinite(weight) and weight >= 0, s
    with contextlib.suppress(nstlab.InputError):  # the engine accepts it or says which layer is unknown
        nstlab.StyleTransfer(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), random_vgg, s, device="cpu")
