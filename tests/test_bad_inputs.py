"""Every bad input is one clear line and exit status 2, nothing written, never a traceback.

The command-line cases run as real child processes (`python -m nstlab ...`, several at a time),
as a user types them; the API cases raise the matching NstlabError before any work.
"""

import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import torchvision_features
from helpers import png_claiming_size
from PIL import Image

import nstlab
from nstlab.cli import main
from nstlab.feedforward.johnson import TransformerNet
from nstlab.feedforward.pretrained import save_model
from nstlab.samples import checkerboard, stripes


class Payload:
    """A pickle that, when unpickled with full pickle, creates a file: what an attacker plants."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _files(root: Path) -> dict[str, Path]:
    """The files the command-line cases use."""
    f = {"root": root}
    features = torchvision_features("vgg16").state_dict()
    f["vgg"] = root / "vgg16-random.pth"
    torch.save(features, f["vgg"])
    f["nobias"] = root / "nobias.pth"
    torch.save({k: v for k, v in features.items() if k.endswith("weight")}, f["nobias"])
    f["nan"] = root / "nan.pth"
    torch.save({k: v * float("nan") if k == "0.weight" else v for k, v in features.items()}, f["nan"])
    f["empty"] = root / "empty.pth"
    f["empty"].write_bytes(b"")
    f["folder"] = root / "folder"
    f["folder"].mkdir()
    f["huge"] = root / "huge.png"
    f["huge"].write_bytes(png_claiming_size(200_000, 200_000))
    f["photo"] = root / "photo.png"
    Image.new("RGB", (40, 30), "green").save(f["photo"])
    f["model"] = save_model(TransformerNet(width=4, blocks=1), root / "model.pth", styles=["s"])
    data = torch.load(f["model"], weights_only=True)
    data["config"]["width"] = 100000
    f["wide"] = root / "wide.pth"
    torch.save(data, f["wide"])
    data = torch.load(f["model"], weights_only=True)
    data["state"].popitem()
    f["keys"] = root / "keys.pth"
    torch.save(data, f["keys"])
    f["torch_home"] = root / "torch"  # a planted pickle where torchvision's VGG-19 download goes
    planted = f["torch_home"] / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(pickle.dumps(Payload(root / "payload-ran")))
    f["pickle"] = root / "planted.pth"
    f["pickle"].write_bytes(pickle.dumps({"state": Payload(root / "payload-ran")}, protocol=4))  # torch warns
    f["run_file"] = root / "run-file"
    f["run_file"].write_text("a file, not a folder")
    f["photos"] = root / "photos"
    for i in range(2):
        (f["photos"] / f"{i}.png").parent.mkdir(exist_ok=True)
        Image.new("RGB", (48, 48), (40 * i, 90, 160)).save(f["photos"] / f"{i}.png")
    return f


STYLIZE = ["stylize", "tubingen", "starry_night", "--size", "32", "--steps", "1", "-q", "--weights", "{vgg}"]
TRAIN = ["train", "johnson", "--content", "{photos}", "--style", "starry_night", "--weights", "{vgg}", "-q",
         "--steps", "1", "--crop", "32"]

# (name, arguments with {file} placeholders, what the one line must say); -o OUT is added
CASES = [
    ("device cuda", [*STYLIZE, "--device", "cuda"], "cuda"),
    ("device mps", [*STYLIZE, "--device", "mps"], "mps"),
    ("device tpu", [*STYLIZE, "--device", "tpu"], "tpu"),
    ("all weights 0", [*STYLIZE, "--content-weight", "0", "--style-weight", "0", "--tv-weight", "0"],
     "nothing to optimize"),
    ("style scale inf", [*STYLIZE, "--style-scale", "inf"], "style_scale"),
    ("style weight nan", [*STYLIZE, "--style-weight", "nan"], "style_weight"),
    ("style weight negative", [*STYLIZE, "--style-weight", "-1"], "style_weight"),
    ("lr nan", [*STYLIZE, "--lr", "nan"], "learning rate"),
    ("lr negative", [*STYLIZE, "--lr", "-1"], "learning rate"),
    ("size 100000", [*STYLIZE, "--size", "100000"], "--allow-large"),
    ("size decreasing", [*STYLIZE, "--size", "64,32", "--steps", "1,1"], "must grow"),
    ("size 0", [*STYLIZE, "--size", "0"], "positive"),
    ("steps 0", [*STYLIZE, "--steps", "0"], "positive"),
    ("steps 2.5", [*STYLIZE, "--steps", "2.5"], "expected N"),
    ("sizes and steps differ", [*STYLIZE, "--size", "32,48", "--steps", "1,2,3"],
     "2 sizes but 3 step counts"),
    ("unknown layer", [*STYLIZE, "--style-layers", "conv_4"], "valid names"),
    ("layer weight text", [*STYLIZE, "--style-layers", "relu1_1:big"], "LAYER:WEIGHT"),
    ("mix for one style", [*STYLIZE, "--mix", "1,2"], "one weight per style"),
    ("weights without biases", [*STYLIZE, "--weights", "{nobias}"], "0 biases"),
    ("weights with NaN", [*STYLIZE, "--weights", "{nan}"], "NaN or infinite"),
    ("weights folder", [*STYLIZE, "--weights", "{folder}"], "is a folder"),
    ("weights empty", [*STYLIZE, "--weights", "{empty}"], "Error: "),
    ("weights missing", [*STYLIZE, "--weights", "{root}/none.pth"], "does not exist"),
    ("weights hash wrong", [*STYLIZE, "--sha256", "00000000"], "not the expected 00000000"),
    ("weights hash not hex", [*STYLIZE, "--sha256", "xyz"], "not a sha256"),
    ("planted torchvision cache", ["stylize", "tubingen", "starry_night", "--arch", "vgg19", "-q"],
     "delete the file to download it again"),
    ("content missing", ["stylize", "{root}/missing.jpg", "starry_night"], "no such file"),
    ("style unknown", ["stylize", "tubingen", "mona_lisa"], "not a sample name"),
    ("style empty", ["stylize", "tubingen", ""], "empty image name"),
    ("content URL", ["stylize", "https://example.org/a.jpg", "starry_night"], "URLs"),
    ("content 40 gigapixels", ["stylize", "{huge}", "starry_night"], "100 megapixel limit"),
    ("output extension", [*STYLIZE, "-o", "{root}/out.xyz"], "unknown image extension"),
    ("output is the input", ["stylize", "{photo}", "starry_night", "-o", "{photo}"], "is an input"),
    ("apply unknown model", ["apply", "no-such-model", "tubingen"], "no such model"),
    ("apply width 100000", ["apply", "{wide}", "tubingen"], "damaged"),
    ("apply keys missing", ["apply", "{keys}", "tubingen"], "damaged"),
    ("apply model hash", ["apply", "{model}", "tubingen", "--sha256", "abcdef12"], "not the expected"),
    ("cin with alpha", ["apply", "cin-6styles", "tubingen", "--alpha", "0.5"], "alpha"),
    ("johnson with style", ["apply", "johnson-starry_night", "tubingen", "the_scream"],
     "one style"),
    ("adain without style", ["apply", "adain", "tubingen"], "give a style image or sample name after"),
    ("cin unknown style", ["apply", "cin-6styles", "tubingen", "mona_lisa"], "mona_lisa"),
    ("train width 0", [*TRAIN, "--width", "0"], "width"),
    ("train steps 0", [*TRAIN[:-4], "--steps", "0"], "steps must be"),
    ("train batch 0", [*TRAIN, "--batch", "0"], "batch must be"),
    ("train style size 4", [*TRAIN, "--style-size", "4"], "style_size must be"),
    ("train johnson identity", [*TRAIN, "--identity-weight", "1"], "is for adain"),
    ("train run dir is a file", [*TRAIN, "--run-dir", "{run_file}"], "run folder"),
    ("train resume missing", [*TRAIN, "--resume", "{root}/none.pt"], "checkpoint"),
    ("train photos missing", ["train", "johnson", "--content", "{root}/none", "--style", "starry_night",
                              "-q"], "no images"),
    ("train output on /proc", [*TRAIN, "-o", "/proc/m.pth"], "/proc/m.pth"),
    ("video without style or model", ["video", "{photo}", "-o", "{root}/v.gif"], "STYLE"),
    ("video that is an image", ["video", "{photo}", "--model", "{model}", "-o", "{root}/v.gif"],
     "an image, not a video"),
    ("video output is the input", ["video", "{photos}", "--model", "{model}", "-o", "{photos}"],
     "is an input"),
    ("video output extension", ["video", "{photos}", "--model", "{model}", "-o", "{root}/v.avi"],
     "unknown video extension"),
    ("video output is the style", ["video", "{photos}", "{photo}", "-o", "{photo}"], "is an input"),
    ("video output is the model", ["video", "{photos}", "--model", "{model}", "-o", "{model}"],
     "is an input"),
    ("video output inside the frames", ["video", "{photos}", "--model", "{model}", "-o", "{photos}/o.webp"],
     "inside the folder of input frames"),
    ("video output file without suffix", ["video", "{photos}", "--model", "{model}", "-o", "{run_file}"],
     "is a file"),
    ("video stabilize 1", ["video", "{photos}", "--model", "{model}", "--stabilize", "1", "-o",
                           "{root}/v.gif"], "stabilize strength"),
    ("video steps -1", ["video", "{photos}", "starry_night", "--steps", "-1", "-o", "{root}/v.gif"], ">= 1"),
    ("video planted pickle", ["video", "{photos}", "--model", "{pickle}", "-o", "{root}/v.gif"],
     "which nstlab refuses to"),
    ("no command", [], "required"),
    ("unknown option", [*STYLIZE, "--colour"], "unrecognized"),
]


def _argv(case_args, files, out):
    args = [a.format(**files) for a in case_args]
    if args and args[0] in ("stylize", "apply", "train", "video") and "-o" not in args:
        args += ["-o", str(out)]
    return args


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    """Run every case as a child process, four at a time; {name: (exit code, stderr, out path)}."""
    root = tmp_path_factory.mktemp("bad-inputs")
    files = _files(root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSTLAB_")}
    env.update(NSTLAB_CACHE=str(root / "cache"), TORCH_HOME=str(files["torch_home"]))
    pending, running, done = list(enumerate(CASES)), [], {}
    while pending or running:
        while pending and len(running) < 4:
            i, (name, args, _) = pending.pop(0)
            out = root / f"out-{i}.png"
            if args[:1] == ["train"]:
                out = root / f"model-{i}.pth"
            command = [sys.executable, "-m", "nstlab", *_argv(args, files, out)]
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
            running.append((name, out, child))
        for item in list(running):
            name, out, child = item
            if child.poll() is not None:
                _, err = child.communicate()
                done[name] = (child.returncode, err, out)
                running.remove(item)
        time.sleep(0.05)
    done["payload ran"] = (root / "payload-ran").exists()
    return done


@pytest.mark.slow  # cli_runs: every case as a child process
@pytest.mark.parametrize("name, args, message", CASES, ids=[c[0] for c in CASES])
def test_the_command_line_says_one_line_and_exits_2(cli_runs, name, args, message):
    code, err, out = cli_runs[name]
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err, err
    assert len(lines) == 1 and message in lines[0], err
    assert lines[0].startswith("nstlab"), err
    assert not out.exists() or name == "output is the input"


@pytest.mark.slow
def test_a_planted_pickle_in_the_download_cache_never_runs(cli_runs):
    assert cli_runs["payload ran"] is False
    assert "vgg19-dcbb9e9d.pth has sha256" in cli_runs["planted torchvision cache"][1]


@pytest.mark.slow
def test_the_size_limit_is_quoted_once(cli_runs):
    err = cli_runs["content 40 gigapixels"][1]
    assert "100 megapixel" in err and "178956970" not in err and "pixels, could be" not in err


# -- the same through the API ------------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda t: t.run(-1, 16), "steps must be"),
    (lambda t: t.run(2.5, 16), "steps must be"),
    (lambda t: t.run(1, []), "sizes"),
    (lambda t: t.run([1, 1], [32, 16]), "must grow"),
    (lambda t: t.run(1, 5000), "allow_large"),
    (lambda t: t.run(1, 16, style_scale=float("inf")), "style_scale"),
    (lambda t: t.run(1, 16, lr=float("nan")), "learning rate"),
    (lambda t: t.run(1, 16, lr="fast"), "learning rate"),
    (lambda t: t.run(1, 16, init="paper"), "init must be"),
    (lambda t: t.run(1, 16, optimizer="sgd"), "optimizer must be"),
    (lambda t: t.run(1, 16, pooling="min"), "pooling"),
    (lambda t: t.update(content_weight=0, style_weight=0, tv_weight=0), "nothing to optimize"),
    (lambda t: t.update(style_weight=float("nan")), "style_weight"),
    (lambda t: t.update(stlye_weight=1), "stlye_weight"),
])
def test_run_arguments_are_checked_before_any_work(random_vgg, call, message):
    transfer = nstlab.StyleTransfer(stripes(16), checkerboard(16), random_vgg, device="cpu")
    with pytest.raises(nstlab.InputError, match=message):
        call(transfer)
    assert transfer.settings.style_weight > 0  # a refused update leaves the settings as they were


def test_settings_take_one_layer_name_and_numpy_numbers():
    s = nstlab.Settings(style_layers="relu1_1", style_weight=np.float32(3.0))
    assert list(s.style_layers) == ["relu1_1"] and s.style_weight == 3.0
    with pytest.raises(nstlab.InputError):
        nstlab.Settings(style_weight=True)


@pytest.mark.parametrize("device", ["cuda", "cuda:3", "mps", "tpu"])
def test_a_device_that_is_not_there_is_one_clear_error(device):
    if (device.startswith("cuda") and torch.cuda.device_count() > 3) or (device == "mps" and \
            torch.backends.mps.is_available()):
        pytest.skip(f"{device} is present here")
    with pytest.raises(nstlab.InputError, match="device"):
        nstlab.default_device(device)


def test_weights_files_that_cannot_work_say_why(tmp_path):
    with pytest.raises(nstlab.WeightsError, match="is a folder"):
        nstlab.load_vgg(tmp_path)
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(nstlab.WeightsError, match=r"Error: "):
        nstlab.load_vgg(tmp_path / "empty.pth")
    features = torchvision_features("vgg16").state_dict()
    torch.save({k: v for k, v in features.items() if k.endswith("weight")}, tmp_path / "nobias.pth")
    with pytest.raises(nstlab.WeightsError, match="13 weights and 0 biases"):
        nstlab.load_vgg(tmp_path / "nobias.pth")
    torch.save({k: v.fill_(float("inf")) if k == "2.bias" else v for k, v in features.items()},
               tmp_path / "inf.pth")
    with pytest.raises(nstlab.WeightsError, match=r"NaN or infinite values in 2\.bias"):
        nstlab.load_vgg(tmp_path / "inf.pth")


def test_a_weights_file_can_be_pinned_by_its_hash(random_vgg_file):
    from nstlab.files import sha256_of

    digest = sha256_of(random_vgg_file)
    assert nstlab.load_vgg(random_vgg_file, sha256=digest.upper()).arch == "vgg16"
    assert nstlab.load_vgg(random_vgg_file, sha256=digest[:8]).source == random_vgg_file
    with pytest.raises(nstlab.WeightsError, match="not the expected"):
        nstlab.load_vgg(random_vgg_file, sha256="0" * 64)
    with pytest.raises(nstlab.InputError, match="torchvision"):
        nstlab.load_vgg("torchvision", sha256=digest)


def test_a_damaged_torchvision_download_is_one_clear_error(monkeypatch):
    def short_download(url, dst, hash_prefix=None, progress=True):
        raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "0123")')

    monkeypatch.setattr(torch.hub, "download_url_to_file", short_download)
    with pytest.raises(nstlab.DownloadError, match=r"damaged.*try again"):
        nstlab.load_vgg(arch="vgg19")


def test_a_short_cached_torchvision_file_is_one_clear_error(tmp_path):
    cached = Path(torch.hub.get_dir()) / "checkpoints" / "vgg19-dcbb9e9d.pth"  # TORCH_HOME is tmp
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(nstlab.WeightsError, match="delete the file"):
        nstlab.load_vgg(arch="vgg19")


@pytest.mark.parametrize("source, message", [("", "empty image name"), ("https://example.org/a.jpg", "URLs")])
def test_empty_names_and_urls_are_explained(source, message):
    with pytest.raises(nstlab.ImageError, match=message):
        nstlab.resolve_image(source)


@pytest.mark.parametrize("damage", [
    lambda d: d["config"].update(width=100000),
    lambda d: d["config"].pop("width"),
    lambda d: d["state"].popitem(),
    lambda d: d["state"].update({next(iter(d["state"])): torch.zeros(3)}),
    lambda d: d["state"].update({k: v * float("nan") for k, v in list(d["state"].items())[:1]}),
])
def test_a_damaged_model_file_is_one_clear_error(tmp_path, damage):
    path = save_model(TransformerNet(width=4, blocks=1), tmp_path / "m.pth", styles=["s"])
    data = torch.load(path, weights_only=True)
    damage(data)
    torch.save(data, path)
    with pytest.raises(nstlab.ModelError, match="damaged"):
        nstlab.load_model(path)


def test_usage_errors_are_one_line_too(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["stylize", "a", "b", "-o", "x.png", "--size", "big"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "--size" in err and "--help" in err
