"""The video methods: a network per frame (with the stabilizer, style morphs, resumable runs) and
Ruder's optimization (temporal loss, long-term frames, loop mode), on tiny clips."""

import pytest
import torch

from nstlab.errors import InputError
from nstlab.feedforward import apply
from nstlab.feedforward.adain import AdaIN, Decoder
from nstlab.feedforward.johnson import TransformerNet
from nstlab.gatys import StyleTransfer
from nstlab.losses import Settings
from nstlab.result import Result
from nstlab.samples import stripes
from nstlab.video import (
    apply_video,
    morph_weights,
    read_video,
    stylize_video,
    synthetic_clip,
    warping_error,
    write_video,
)
from nstlab.video.methods import TemporalLoss


@pytest.fixture(scope="module")
def clips():
    return {kind: synthetic_clip("tubingen", frames=4, size=(96, 128), kind=kind, speed=speed)
            for kind, speed in (("pan", 3.0), ("zoom", 2.0))}


def test_apply_video_with_the_stabilizer_flickers_less(clips):
    frames = clips["zoom"].frames
    torch.manual_seed(0)
    net = TransformerNet(width=4, blocks=1)
    plain = apply_video(net, frames, progress=False)
    steady = apply_video(net, frames, stabilize=0.8, progress=False)
    assert plain.frames.shape == frames.shape and plain.status == "done"
    assert warping_error(steady.frames, frames) < warping_error(plain.frames, frames) / 2


def test_an_interrupt_keeps_the_finished_frames(clips):
    frames = clips["pan"].frames
    calls = []

    class Stopping(TransformerNet):
        def forward(self, x, weights=None):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return super().forward(x, weights)

    result = apply_video(Stopping(width=4, blocks=0), frames, progress=False)
    assert result.status == "interrupted" and len(result.frames) == 2


def test_ruders_temporal_loss_makes_the_frames_consistent(random_vgg):
    clip = synthetic_clip("tubingen", frames=3, size=(48, 64), kind="pan", speed=2.0)
    common = dict(extractor=random_vgg, steps=8, device="cpu", progress=False)
    settings = Settings(content_layers=["relu2_2"], style_layers=["relu1_1", "relu2_1"])
    free = stylize_video(clip.frames, stripes(64, 6), temporal_weight=0, settings=settings, **common)
    tied = stylize_video(clip.frames, stripes(64, 6), temporal_weight=200, settings=settings, **common)
    assert tied.frames.shape == clip.frames.shape and len(tied.history) == 3
    assert "temporal" in tied.history[1] and "temporal" not in free.history[1]
    error = {n: warping_error(r.frames, flows=clip.flows, masks=clip.masks) for n, r in (("free", free),
                                                                                      ("tied", tied))}
    assert error["tied"] < error["free"], error


def test_the_video_command_writes_the_clip_and_measures_its_flicker(clips, tmp_path, capsys):
    from nstlab.cli import main
    from nstlab.feedforward.pretrained import save_model

    source = write_video(clips["pan"].frames, tmp_path / "in.gif", fps=10)
    model = save_model(TransformerNet(width=4, blocks=1), tmp_path / "m.pth", styles=["s"])
    out = tmp_path / "out.webp"
    assert main(["video", str(source), "--model", str(model), "-o", str(out), "--size", "64", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "4 frames 64x48" in printed and "warping error" in printed and "the input's own" in printed
    assert read_video(out)[0].shape == (4, 3, 48, 64)




def test_morph_weights_cross_fade_from_each_style_to_the_next():
    assert [morph_weights(3, t, 5) for t in range(5)] == [
        [1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]
    assert morph_weights(2, 0, 1) == [1.0, 0.0]  # one frame: the first style


def test_a_morph_starts_in_the_first_style_and_ends_in_the_last(clips):
    frames = clips["pan"].frames
    torch.manual_seed(0)
    net = TransformerNet(norm="conditional", width=4, blocks=1, styles=3)
    morph = apply_video(net, frames, style=[0, 2], morph=True, progress=False).frames
    first, last = (apply(net, frames[t][None], style=k).image[0] for t, k in ((0, 0), (-1, 2)))
    assert torch.allclose(morph[0], first, atol=1e-5) and torch.allclose(morph[-1], last, atol=1e-5)
    halfway = apply(net, frames[1][None], style=[0, 2], mix=[2 / 3, 1 / 3]).image[0]
    assert torch.allclose(morph[1], halfway, atol=1e-5)
    with pytest.raises(InputError, match="two or more styles"):
        apply_video(net, frames, style=0, morph=True, progress=False)


def test_an_adain_video_reads_and_encodes_its_style_once(clips, random_vgg):
    frames = clips["pan"].frames
    net = AdaIN(random_vgg, Decoder(width=0.25)).eval()
    sizes = []
    encode = net.encode
    net.encode = lambda image: sizes.append(tuple(image.shape[-2:])) or encode(image)
    styled = apply_video(net, frames, style="the_scream", progress=False).frames
    assert len(sizes) == len(frames) + 1  # each frame, and the painting once
    assert torch.allclose(styled[2], apply(net, frames[2][None], "the_scream").image[0], atol=1e-6)


def test_a_run_with_a_work_folder_does_not_redo_finished_frames(clips, tmp_path):
    frames = clips["pan"].frames
    calls = []

    class Counting(TransformerNet):
        def forward(self, x, weights=None):
            calls.append(1)
            if stop_at and len(calls) == stop_at:
                raise KeyboardInterrupt
            return super().forward(x, weights)

    torch.manual_seed(0)
    net, stop_at = Counting(width=4, blocks=1), 3
    work = tmp_path / "work"
    first = apply_video(net, frames, run_dir=work, progress=False)
    assert first.status == "interrupted" and len(first.frames) == 2
    assert sorted(p.name for p in work.iterdir()) == ["frame-000000.png", "frame-000001.png", "run.json"]
    calls.clear()
    stop_at = None
    again = apply_video(net, frames, run_dir=work, progress=False)
    assert again.status == "done" and len(calls) == 2  # only the two frames not finished before
    whole = apply_video(net, frames, progress=False).frames
    assert (again.frames - whole).abs().max() <= 1 / 255 + 1e-6  # the finished ones, read back from PNG
    with pytest.raises(InputError, match="another run"):
        apply_video(net, frames.flip(0), run_dir=work, progress=False)  # other frames: refused, not mixed
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="holds other files"):
        apply_video(net, frames, run_dir=tmp_path / "mine", progress=False)


def test_long_term_frames_and_loop_mode(random_vgg):
    clip = synthetic_clip("tubingen", frames=4, size=(48, 64), kind="pan", speed=2.0)
    common = dict(extractor=random_vgg, steps=6, device="cpu", progress=False,
                  settings=Settings(content_layers=["relu2_2"], style_layers=["relu1_1", "relu2_1"]))
    style = stripes(64, 6)
    plain = stylize_video(clip.frames, style, **common)
    longer = stylize_video(clip.frames, style, long_term=(1, 2), **common)
    looped = stylize_video(clip.frames, style, loop=True, **common)
    assert len(looped.history) == 8 and looped.frames.shape == clip.frames.shape  # two passes
    assert not torch.equal(longer.frames[2], plain.frames[2])  # frame 2 also looked at frame 0
    assert torch.equal(longer.frames[:2], plain.frames[:2])  # frames 0 and 1 have nothing further back

    def seam(frames):  # how well the first frame follows the last (the loop's seam)
        return warping_error(torch.stack([frames[-1], frames[0]]), torch.stack([clip.frames[-1],
                                                                                 clip.frames[0]]))

    assert seam(looped.frames) < seam(plain.frames)
    with pytest.raises(InputError, match="start with 1"):
        stylize_video(clip.frames, style, long_term=(2,), **common)


def test_the_video_command_keeps_its_work_folder_only_while_unfinished(clips, tmp_path, capsys):
    from nstlab.cli import main

    source = write_video(clips["pan"].frames[:2], tmp_path / "in.gif", fps=10)
    out = tmp_path / "out.gif"
    small = ["--size", "32", "--steps", "1", "-q"]
    (tmp_path / "out.gif-frames").mkdir()
    (tmp_path / "out.gif-frames" / "notes.txt").write_text("keep me")
    assert main(["video", str(source), "starry_night", "-o", str(out), *small]) == 2  # not ours: refused
    assert "holds other files" in capsys.readouterr().err
    assert (tmp_path / "out.gif-frames" / "notes.txt").read_text() == "keep me"
    (tmp_path / "out.gif-frames" / "notes.txt").unlink()
    assert main(["video", str(source), "starry_night", "-o", str(out), *small]) == 0
    assert read_video(out)[0].shape == (2, 3, 24, 32)
    assert not (tmp_path / "out.gif-frames").exists()  # the video is written: the frames go
    assert main(["video", str(source), "starry_night", "-o", str(out), "--morph", *small]) == 2
    assert "--morph is for --model" in capsys.readouterr().err
    assert main(["video", str(source), "starry_night", "-o", str(out), "--long-term", "2", *small]) == 2
    assert "must start with 1" in capsys.readouterr().err


@pytest.mark.parametrize("base", ["johnson-starry_night", "johnson-the_scream", "johnson-great_wave"])
def test_the_shipped_stable_networks_flicker_less_and_keep_the_style(clips, base):
    from nstlab.video import style_and_content

    clip = clips["zoom"]
    exact = {"flows": clip.flows, "masks": clip.masks}
    painting = base.removeprefix("johnson-")
    scores = {}
    for name in (base, f"{base}-stable"):
        out = apply_video(name, clip.frames, progress=False).frames
        scores[name] = (warping_error(out, **exact), style_and_content(out, clip.frames, painting)["style"])
    (error, style), (steady_error, steady_style) = scores.values()
    # 2.8-5.8x on the held-out clips of the model cards; on this tiny clip 1.9x for the_scream,
    # whose base network is already the steadiest
    assert steady_error < error / 1.5, scores
    assert steady_style < 1.3 * style, scores


def test_bfloat16_is_close_to_float32(clips):
    frames = clips["pan"].frames[:2]
    exact = apply_video("johnson-starry_night", frames, progress=False).frames
    quick = apply_video("johnson-starry_night", frames, precision="bfloat16", progress=False).frames
    assert (exact - quick).abs().mean() < 2 / 255  # well under a grey level on average
    with pytest.raises(InputError, match="float16 autocast is for CUDA"):
        apply_video("johnson-starry_night", frames, precision="float16", device="cpu", progress=False)


def test_a_video_result_is_a_result_with_its_frames_and_flicker(clips, random_vgg):
    frames = clips["pan"].frames
    styled = apply_video(TransformerNet(width=4, blocks=1), frames, stabilize=0.5, progress=False)
    assert isinstance(styled, Result) and styled.method == "TransformerNet" and styled.steps == 0
    assert torch.equal(styled.image, styled.frames[:1]) and styled.fps == 25.0
    assert styled.flicker == pytest.approx(warping_error(styled.frames, frames), rel=1e-6)  # DIS, medium
    assert styled.input_flicker == pytest.approx(warping_error(frames, frames), rel=1e-6)
    unmeasured = apply_video(TransformerNet(width=4, blocks=1), frames, measure=False, progress=False)
    assert unmeasured.flicker is None and unmeasured.input_flicker is None
    settings = Settings(content_layers=["relu2_2"], style_layers=["relu1_1"])
    run = stylize_video(frames[:2], stripes(64, 6), steps=3, first_steps=4, settings=settings,
                        extractor=random_vgg, progress=False)
    assert run.steps == 4 + 3 and len(run.history) == 2 and run.method == "gatys-temporal"
    assert run.flows.shape == (1, 2, 96, 128) and run.reliable.shape == (1, 96, 128)
    assert run.flicker == pytest.approx(warping_error(run.frames, flows=run.flows, masks=run.reliable))


def test_an_interrupt_inside_a_frame_keeps_only_finished_frames(clips, random_vgg, tmp_path, monkeypatch):
    """A frame whose optimization is cut short is not stored as finished, and the run stops."""
    frames = clips["pan"].frames
    settings = Settings(content_layers=["relu2_2"], style_layers=["relu1_1"])
    steps = []

    def interrupt_in_frame_two(step):
        steps.append(step)
        if len(steps) == 4 + 2:  # the first frame's 4 steps, then two of the second frame's 3
            raise KeyboardInterrupt

    real = StyleTransfer.run
    monkeypatch.setattr(StyleTransfer, "run", lambda self, *args, **kwargs: real(
        self, *args, **kwargs, callback=interrupt_in_frame_two))
    result = stylize_video(frames, stripes(64, 6), steps=3, first_steps=4, settings=settings,
                           extractor=random_vgg, run_dir=tmp_path / "run", progress=False)
    assert result.status == "interrupted" and len(result.frames) == 1
    assert sorted(p.name for p in (tmp_path / "run").glob("*.png")) == ["frame-000000.png"]


def test_the_temporal_loss_compares_each_frame_where_no_nearer_one_does():
    loss = TemporalLoss()
    frame = torch.zeros(3, 2, 2)
    near, far = torch.ones(3, 2, 2), torch.full((3, 2, 2), 0.5)
    near_mask = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    start = loss.aim(frame, [near, far], [near_mask, torch.ones(2, 2)])
    assert torch.equal(start, near * near_mask)  # the photo where the nearest frame is not reliable
    assert torch.equal(loss.masks[1, 0], 1 - near_mask)  # the far frame only where the near one is not
    image = torch.zeros(1, 3, 2, 2)
    # (4 pixels x 3 colours: 2 at distance 1 from near, 2 at distance 0.5 from far) / (3 x 4)
    assert float(loss(image)) == pytest.approx((6 * 1.0 + 6 * 0.25) / 12)
