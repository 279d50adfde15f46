"""Video that never loses a frame or a painting: what a user (or an attacker) can do wrong with
`nstlab video`, its work folders and its files, and what nstlab does about it.

Every case runs the real command in-process (`main([...])`) or the Python call, and checks the
promise: one line and exit 2 before the first frame, no input overwritten, no finished frame
lost, never a traceback. Interrupts by real signals are in test_signals, output faults in
test_outputs, one-line refusals as child processes in test_bad_inputs.
"""

import errno
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

import nstlab
from nstlab.cli import main
from nstlab.errors import ImageError, InputError, NstlabError
from nstlab.feedforward.johnson import TransformerNet
from nstlab.feedforward.pretrained import save_model
from nstlab.images import save_image
from nstlab.losses import Settings
from nstlab.samples import stripes
from nstlab.video import VideoWriter, apply_video, open_video, read_video, stylize_video, synthetic_clip
from nstlab.video import methods as video_methods
from nstlab.video.io import write_video

SMALL = ["--size", "32", "--steps", "1", "-q"]


@pytest.fixture(scope="module")
def pan():
    return synthetic_clip("tubingen", frames=4, size=(36, 48), kind="pan", speed=2.0).frames


@pytest.fixture
def files(tmp_path, pan):
    """A clip, a folder of frames, a painting, a GIF painting, a mask and a small model file."""
    f = {"clip": write_video(pan, tmp_path / "clip.gif", fps=10),
         "frames": write_video(pan, tmp_path / "frames")}
    f["style"] = tmp_path / "mystyle.webp"
    save_image(stripes(32, 4), f["style"])
    f["gif_style"] = tmp_path / "painting.gif"
    Image.new("RGB", (32, 32), "orange").save(f["gif_style"])
    f["mask"] = tmp_path / "mask.png"
    save_image(torch.ones(1, 3, 36, 48), f["mask"])
    torch.manual_seed(0)
    f["model"] = save_model(TransformerNet(width=4, blocks=1), tmp_path / "model.pth", styles=["s"])
    return {k: str(v) for k, v in f.items()}


def _run(argv, capsys) -> tuple[int, str]:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _refused(argv, capsys, message) -> None:
    code, err = _run(argv, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and message in lines[0] and lines[0].startswith("nstlab"), err


def _frames_made(monkeypatch) -> list:
    """Counts the frames the network or the optimization starts on."""
    made = []
    real_apply, real_run = video_methods.apply, video_methods.StyleTransfer.run
    monkeypatch.setattr(video_methods, "apply", lambda *a, **k: made.append(1) or real_apply(*a, **k))
    monkeypatch.setattr(video_methods.StyleTransfer, "run",
                        lambda self, *a, **k: made.append(1) or real_run(self, *a, **k))
    return made


# -- inputs overwritten -------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["style", "adain gif style", "morph style", "model", "mask", "clip",
                                  "frames folder"])
def test_no_input_of_a_video_run_is_ever_its_output(files, capsys, case):
    f = files
    argv = {
        "style": ["video", f["clip"], f["style"], "-o", f["style"], *SMALL],
        "adain gif style": ["video", f["clip"], "--model", "adain", f["gif_style"], "-o", f["gif_style"],
                            *SMALL],
        "morph style": ["video", f["clip"], "--model", "adain", "starry_night", f["gif_style"], "--morph",
                        "-o", f["gif_style"], *SMALL],
        "model": ["video", f["clip"], "--model", f["model"], "-o", f["model"], *SMALL],
        "mask": ["video", f["clip"], "--model", "adain", "starry_night", f["style"], "--masks", f["mask"],
                 f["mask"], "-o", f["mask"], *SMALL],
        "clip": ["video", f["clip"], "--model", f["model"], "-o", f["clip"], *SMALL],
        "frames folder": ["video", f["frames"], "--model", f["model"], "-o", f["frames"], *SMALL],
    }[case]
    before = {k: _contents(v) for k, v in f.items()}
    _refused(argv, capsys, "is an input of this run")
    assert before == {k: _contents(v) for k, v in f.items()}


def _contents(path: str):
    path = Path(path)
    return path.read_bytes() if path.is_file() else sorted(p.name for p in path.iterdir())


def test_a_frame_folder_is_read_one_level_in_natural_order(tmp_path, files, capsys):
    folder = tmp_path / "shots"
    for name, grey in (("shot10.png", 0.9), ("shot2.png", 0.5), ("shot1.png", 0.1)):
        save_image(torch.full((1, 3, 8, 8), grey), folder / name)
    save_image(torch.zeros(1, 3, 8, 8), folder / "styled" / "frame_00000.png")  # an earlier output
    frames, _ = read_video(folder)
    assert [round(float(f.mean()), 1) for f in frames] == [0.1, 0.5, 0.9]  # 1, 2, 10; not the subfolder
    _refused(["video", folder, "--model", files["model"], "-o", folder / "styled", *SMALL], capsys,
             "inside the folder of input frames")
    _refused(["video", folder, "--model", files["model"], "-o", folder / "out.webp", *SMALL], capsys,
             "inside the folder of input frames")


def test_frames_written_into_a_folder_never_replace_an_input(tmp_path, files, capsys):
    out = tmp_path / "styled"
    save_image(stripes(32, 4), out / "frame_00000.png")  # the painting happens to be called that
    _refused(["video", files["clip"], out / "frame_00000.png", "-o", out, *SMALL], capsys,
             "would replace the input")


# -- checked before the first frame --------------------------------------------------------------


@pytest.mark.parametrize("extra, message", [
    (["--stabilize", "1"], "stabilize strength must be in [0, 1)"),
    (["--stabilize", "nan"], "stabilize strength"),
    (["--long-term", "2"], "must start with 1"),
    (["--steps", "-1"], "must be >= 1"),
    (["--max-frames", "0"], "must be >= 1"),
])
def test_ranges_are_checked_before_the_first_frame(files, capsys, monkeypatch, extra, message):
    made = _frames_made(monkeypatch)
    _refused(["video", files["clip"], "starry_night", "-o", files["clip"] + ".mp4", *SMALL, *extra], capsys,
             message)
    assert made == []


def test_an_unreachable_raft_is_refused_before_the_first_frame(files, capsys, monkeypatch, tmp_path):
    import urllib.error

    import nstlab.video.flow as flow

    monkeypatch.setattr(flow, "_RAFT", {})

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    made = _frames_made(monkeypatch)
    _refused(["video", files["clip"], "--model", files["model"], "--flow", "raft", "-o", tmp_path / "o.mp4",
              *SMALL], capsys, "use the DIS flow")
    assert made == []


@pytest.mark.parametrize("call, message", [
    (lambda m, f, s: apply_video(m, [Image.new("RGB", (8, 8))] * 2), "torch.stack"),
    (lambda m, f, s: apply_video(m, list(f)), "torch.stack"),
    (lambda m, f, s: apply_video(m, f, fps=-5), "fps must be a positive number"),
    (lambda m, f, s: apply_video(m, f, fps=math.nan), "fps must be a positive number"),
    (lambda m, f, s: apply_video(m, f, stabilize=1.0), "stabilize strength"),
    (lambda m, f, s: apply_video(m, f * 2), "in [0, 1]"),
    (lambda m, f, s: stylize_video(f, s, long_term=[1, "x"]), "long_term"),
    (lambda m, f, s: stylize_video(f, s, stabilize=-0.5), "stabilize strength"),
    (lambda m, f, s: stylize_video(f, s, steps=-1), "steps must be a whole number >= 1, got -1"),
    (lambda m, f, s: stylize_video(f, s, temporal_weight=math.inf), "temporal_weight"),
    (lambda m, f, s: stylize_video(f, s, fps=0), "fps"),
])
def test_api_arguments_are_one_line_errors_before_any_work(pan, monkeypatch, call, message):
    made = _frames_made(monkeypatch)
    with pytest.raises(NstlabError) as caught:
        call(TransformerNet(width=4, blocks=0), pan, stripes(32, 4))
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert made == []


def test_a_refused_run_leaves_no_work_folder_and_the_corrected_one_runs(files, tmp_path, capsys):
    out = tmp_path / "out.gif"
    _refused(["video", files["clip"], tmp_path / "missing.png", "-o", out, *SMALL], capsys, "no such file")
    assert not (tmp_path / "out.gif-frames").exists()
    assert _run(["video", files["clip"], "starry_night", "-o", out, *SMALL], capsys)[0] == 0


# -- resumes that would mix two runs ---------------------------------------------------------------


def test_a_resume_with_other_contents_under_the_same_names_is_refused(tmp_path, pan, random_vgg, monkeypatch):
    style, model = tmp_path / "style.png", tmp_path / "model.pth"
    save_image(stripes(32, 4), style)
    torch.manual_seed(0)
    save_model(TransformerNet(width=4, blocks=1), model, styles=["s"])
    work = tmp_path / "work"
    apply_video(str(model), pan, run_dir=work, progress=False)
    torch.manual_seed(1)
    save_model(TransformerNet(width=4, blocks=1), model, styles=["s"])  # another network, the same file name
    with pytest.raises(InputError, match="another run"):
        apply_video(str(model), pan, run_dir=work, progress=False)

    settings = Settings(content_layers=["relu2_2"], style_layers=["relu1_1"])
    common = dict(steps=1, settings=settings, run_dir=tmp_path / "opt", progress=False)
    stylize_video(pan[:2], str(style), extractor=random_vgg, **common)
    save_image(stripes(32, 8), style)  # another painting, the same file name
    with pytest.raises(InputError, match="another run"):
        stylize_video(pan[:2], str(style), extractor=random_vgg, **common)
    save_image(stripes(32, 4), style)
    other_vgg = nstlab.load_vgg()  # the bundled ImageNet VGG, not the random one
    with pytest.raises(InputError, match="another run"):
        stylize_video(pan[:2], str(style), extractor=other_vgg, **common)
    again = stylize_video(pan[:2], str(style), extractor=random_vgg, **common)  # the same inputs: resumes
    assert again.status == "done" and again.steps == 0


@pytest.mark.parametrize("damage", ["wrong size", "not a png"])
def test_a_damaged_frame_in_the_work_folder_is_named(tmp_path, pan, damage):
    net, work = TransformerNet(width=4, blocks=0), tmp_path / "work"
    apply_video(net, pan, run_dir=work, progress=False)
    frame = work / "frame-000001.png"
    if damage == "wrong size":
        save_image(torch.rand(1, 3, 10, 10), frame)
    else:
        frame.write_bytes(b"\x89PNG broken")
    with pytest.raises(InputError, match="frame 1 in the work folder is damaged") as caught:
        apply_video(net, pan, run_dir=work, progress=False)
    assert "\n" not in str(caught.value)


def test_a_stream_that_changes_its_frame_size_is_resized_to_its_first(tmp_path):
    av = pytest.importorskip("av")
    data = b""
    for w, h, grey in ((64, 48, 60), (96, 64, 200)):
        part = tmp_path / f"part{w}.h264"
        with av.open(str(part), "w", format="h264") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            for _ in range(3):
                frame = np.full((h, w, 3), grey, np.uint8)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())
        data += part.read_bytes()
    (tmp_path / "switch.h264").write_bytes(data)
    frames, _ = read_video(tmp_path / "switch.h264", size=32)
    assert frames.shape == (6, 3, 24, 32)
    assert frames[:3].mean() < 0.3 < 0.7 < frames[3:].mean()  # both halves, in order


# -- memory: one frame at a time ------------------------------------------------------------------


def test_a_clip_is_decoded_one_frame_at_a_time_and_written_as_it_is_made(tmp_path, pan, monkeypatch):
    import nstlab.video.io as io

    folder = write_video(pan, tmp_path / "frames")
    decoded = []
    real = io.load_image
    monkeypatch.setattr(io, "load_image", lambda *a, **k: decoded.append(1) or real(*a, **k))
    clip = open_video(folder, size=24)
    assert decoded == []  # opening decodes nothing
    frames = iter(clip)
    next(frames)
    assert len(decoded) == 1
    frames.close()
    written = []
    monkeypatch.setattr(VideoWriter, "write", lambda self, frame, real=VideoWriter.write: written.append(
        len(decoded)) or real(self, frame))
    decoded.clear()
    result = apply_video(TransformerNet(width=4, blocks=0), clip, output=tmp_path / "out.mp4", progress=False)
    assert written == [1, 2, 3, 4]  # frame t written before frame t + 1 was decoded
    assert result.frames is None and result.count == 4 and read_video(tmp_path / "out.mp4")[0].shape[0] == 4
    with pytest.raises(InputError, match="not kept"):
        result.save(tmp_path / "again.mp4")


def test_a_frame_over_the_size_limit_is_refused_before_decoding(tmp_path, capsys, files):
    gif = tmp_path / "huge.gif"  # a GIF whose screen is 12000 x 10000 (120 megapixels), 1 pixel drawn
    header = b"GIF89a" + (12000).to_bytes(2, "little") + (10000).to_bytes(2, "little") + b"\x80\x00\x00"
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = b"\x2c" + bytes(4) + (1).to_bytes(2, "little") * 2 + b"\x00" + b"\x02\x02\x44\x01\x00"
    gif.write_bytes(header + palette + image + b"\x3b")
    with pytest.raises(ImageError, match="megapixel limit"):
        open_video(gif)
    _refused(["video", gif, "--model", files["model"], "-o", tmp_path / "o.mp4", *SMALL], capsys,
             "megapixel limit")


# -- one line, not a traceback --------------------------------------------------------------------


def _png_with_huge_text(path, kind="zTXt"):
    """A valid 8x8 PNG with a compressed text chunk that unpacks past Pillow's limit."""
    info = PngImagePlugin.PngInfo()
    text = "x" * (PngImagePlugin.MAX_TEXT_CHUNK + 1000)
    info.add_text("comment", text, zip=True) if kind == "zTXt" else info.add_itxt("comment", text, zip=True)
    Image.new("RGB", (8, 8), "white").save(path, pnginfo=info)
    return path


@pytest.mark.parametrize("role", ["content", "style", "frame", "adain style"])
def test_png_text_chunks_over_pillows_limits_are_one_line(tmp_path, capsys, files, role):
    bad = _png_with_huge_text(tmp_path / "bad.png")
    frames = tmp_path / "frames"
    if role == "frame":
        write_video(torch.rand(2, 3, 8, 8), frames)
        bad.replace(frames / "frame_00001.png")
    argv = {
        "content": ["stylize", bad, "starry_night", "-o", tmp_path / "o.png", "--size", "16", "--steps", "1"],
        "style": ["stylize", "tubingen", bad, "-o", tmp_path / "o.png", "--size", "16", "--steps", "1"],
        "frame": ["video", frames, "--model", files["model"], "-o", tmp_path / "o.mp4", *SMALL],
        "adain style": ["apply", "adain", "tubingen", bad, "-o", tmp_path / "o.png", "--size", "32"],
    }[role]
    _refused(argv, capsys, "bad.png" if role != "frame" else "frame_00001.png")


@pytest.mark.parametrize("command", ["stylize", "apply", "video"])
def test_an_output_that_is_a_symlink_loop_is_one_line(tmp_path, capsys, files, command):
    loop = tmp_path / "loop.png"
    os.symlink(loop, loop)
    if command == "video":
        loop = tmp_path / "loop.mp4"
        os.symlink(loop, loop)
    argv = {"stylize": ["stylize", "tubingen", "starry_night", "-o", loop, "--size", "16", "--steps", "1"],
            "apply": ["apply", files["model"], "tubingen", "-o", loop],
            "video": ["video", files["clip"], "--model", files["model"], "-o", loop, *SMALL]}[command]
    _refused(argv, capsys, "loop of symbolic links")


def test_a_pickle_is_refused_in_one_line_that_names_it(tmp_path, capsys, files):
    import pathlib
    import pickle

    class Payload:
        def __reduce__(self):
            return (pathlib.Path.touch, (tmp_path / "ran",))

    bad = tmp_path / "bad.pth"
    bad.write_bytes(pickle.dumps({"state": Payload()}, protocol=4))
    for argv in (["apply", bad, "tubingen", "-o", tmp_path / "o.png"],
                 ["video", files["clip"], "--model", bad, "-o", tmp_path / "o.mp4", *SMALL],
                 ["stylize", "tubingen", "starry_night", "--weights", bad, "-o", tmp_path / "o.png"]):
        _refused(argv, capsys, "refuses to")
    assert not (tmp_path / "ran").exists()


# -- smaller promises ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fps, kind", [(0.2, ".gif"), (12.5, ".gif"), (30000 / 1001, ".mp4")])
def test_the_frame_rate_is_kept(tmp_path, capsys, files, fps, kind):
    source = write_video(torch.rand(3, 3, 16, 16), tmp_path / f"in{kind}", fps=fps)
    assert read_video(source)[1] == pytest.approx(fps, rel=1e-4)
    out = tmp_path / "out.mp4"
    assert _run(["video", source, "--model", files["model"], "-o", out, *SMALL], capsys)[0] == 0
    assert read_video(out)[1] == pytest.approx(fps, rel=1e-4)


def test_the_summary_says_the_size_written(tmp_path, capsys, files):
    source = write_video(torch.rand(2, 3, 77, 101), tmp_path / "odd")
    out = tmp_path / "out.mp4"
    code = main(["video", str(source), "--model", files["model"], "-o", str(out), "--size", "101", "-q"])
    printed = capsys.readouterr().out
    assert code == 0 and read_video(out)[0].shape[-2:] == (76, 100) and "100x76" in printed, printed


def test_transparent_frames_are_composited_on_white(tmp_path):
    frames = [Image.new("RGBA", (8, 8), (255, 0, 0, 0)), Image.new("RGBA", (8, 8), (255, 0, 0, 255))]
    frames[0].save(tmp_path / "clear.webp", save_all=True, append_images=frames[1:], duration=100,
                   lossless=True)
    clip, _ = read_video(tmp_path / "clear.webp")
    assert clip[0].min() > 0.95  # transparent: white, as for still images
    assert clip[1][0].min() > 0.95 and clip[1][1:].max() < 0.05  # opaque red


def test_a_write_that_fails_keeps_the_frames_and_says_where(tmp_path, capsys, files, monkeypatch):
    made = _frames_made(monkeypatch)
    real = VideoWriter.write

    def full(self, frame):
        if self.count == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, frame)

    monkeypatch.setattr(VideoWriter, "write", full)
    out = tmp_path / "out.mp4"
    code, err = _run(["video", files["clip"], "--model", files["model"], "-o", out, *SMALL], capsys)
    assert code == 1 and "No space left" in err and "out.mp4-frames" in err, err
    assert not out.exists() and len(list((tmp_path / "out.mp4-frames").glob("frame-*.png"))) == 3
    monkeypatch.setattr(VideoWriter, "write", real)
    made.clear()
    assert _run(["video", files["clip"], "--model", files["model"], "-o", out, *SMALL], capsys)[0] == 0
    assert len(made) == 1 and read_video(out)[0].shape[0] == 4  # only the frame not kept is made again


@pytest.mark.parametrize("output", ["readonly/out.mp4", "readonly/frames"])
def test_an_output_folder_that_cannot_be_written_is_refused_before_the_first_frame(tmp_path, capsys, files,
                                                                                   monkeypatch, output):
    import tempfile

    import nstlab.cli as cli

    (tmp_path / "readonly").mkdir()
    real = tempfile.TemporaryFile

    def refuse(*args, dir=None, **kwargs):  # what a read-only folder does (root may write anyway)
        if dir is not None and "readonly" in str(dir):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(cli.tempfile, "TemporaryFile", refuse)
    made = _frames_made(monkeypatch)
    _refused(["video", files["clip"], "--model", files["model"], "-o", tmp_path / output, *SMALL], capsys,
             "Permission denied")
    assert made == [] and not list((tmp_path / "readonly").iterdir())
