"""Video: exact synthetic clips, DIS flow against them, warping, occlusion, the warping error,
the stabilizer, video files, and the two methods (a network per frame, Ruder's optimization), on
small clips."""

import io

import pytest
import torch
from torchvision.transforms.functional import gaussian_blur

from nstlab.errors import DownloadError, ImageError, InputError
from nstlab.images import save_image
from nstlab.samples import stripes
from nstlab.video import (
    estimate_flow,
    flows_between,
    read_video,
    reliable,
    restore_detail,
    stabilize,
    style_and_content,
    synthetic_clip,
    warp,
    warping_error,
    write_video,
)


@pytest.fixture(scope="module")
def clips():
    return {kind: synthetic_clip("tubingen", frames=4, size=(96, 128), kind=kind, speed=speed)
            for kind, speed in (("pan", 3.0), ("zoom", 2.0), ("rotate", 1.5))}


def test_an_integer_pan_warps_exactly(clips):
    clip = clips["pan"]
    # the camera moves right and down: what frame t shows at p was at p + (3, 1) in frame t - 1
    assert torch.allclose(clip.flows[0], torch.tensor([3.0, 1.0])[:, None, None].expand(2, 96, 128))
    # each frame's pixel sees the same photo point as its flow's end in the previous frame
    assert warping_error(clip.frames, flows=clip.flows, masks=clip.masks) < 1e-10
    assert 0.9 < clip.masks.mean() < 1  # the strip that came into view is not reliable


def test_a_flickering_clip_has_a_warping_error(clips):
    clip = clips["zoom"]
    flicker = (clip.frames + 0.05 * torch.randn_like(clip.frames)).clamp(0, 1)
    own = warping_error(clip.frames, flows=clip.flows, masks=clip.masks)
    assert warping_error(flicker, flows=clip.flows, masks=clip.masks) > 20 * own


@pytest.mark.parametrize("method", ["dis", "farneback"])
@pytest.mark.parametrize("kind", ["pan", "zoom", "rotate"])
def test_estimated_flow_is_close_to_the_exact_flow(clips, kind, method):
    clip = clips[kind]
    flow = estimate_flow(clip.frames[1], clip.frames[0], method=method)  # frame 1 -> 0: the backward flow
    m = clip.masks[0].bool()
    m[:8], m[-8:], m[:, :8], m[:, -8:] = False, False, False, False  # borders: no texture beyond
    endpoint = (flow - clip.flows[0]).pow(2).sum(0).sqrt()[m]
    limit = {"dis": 0.3, "farneback": 0.6}[method]  # Farneback: worse on the flat sky (pan: 0.53 px)
    assert endpoint.mean() < limit, f"mean endpoint error {endpoint.mean():.3f} px"


def test_the_forward_backward_check_finds_what_left_the_frame(clips):
    clip = clips["pan"]
    backward, forward = flows_between(clip.frames[:2])
    mask = reliable(backward[0], forward[0])
    gone = clip.masks[0] == 0
    assert (mask[gone] == 0).float().mean() > 0.9  # pixels not in the previous frame are caught
    assert mask[~gone].mean() > 0.9  # and most of the rest is trusted


def test_estimated_and_exact_warping_errors_agree(clips):
    clip = clips["rotate"]
    flicker = (clip.frames + 0.05 * torch.randn_like(clip.frames)).clamp(0, 1)
    exact = warping_error(flicker, flows=clip.flows, masks=clip.masks)
    assert warping_error(flicker, clip.frames) == pytest.approx(exact, rel=0.2)
    judged = warping_error(flicker, clip.frames, method="farneback")  # the independent judge agrees
    assert judged == pytest.approx(exact, rel=0.2)


def test_the_stabilizer_cuts_flicker_and_resets_at_a_cut(clips):
    clip = clips["pan"]
    torch.manual_seed(0)
    flicker = (clip.frames + 0.05 * torch.randn_like(clip.frames)).clamp(0, 1)
    before = warping_error(flicker, flows=clip.flows, masks=clip.masks)
    steady = stabilize(flicker, strength=0.8, flows=clip.flows, masks=clip.masks)
    assert warping_error(steady, flows=clip.flows, masks=clip.masks) < before / 3
    assert torch.equal(stabilize(flicker, strength=0.0, flows=clip.flows, masks=clip.masks), flicker)
    cut = torch.cat([clip.frames[:2], synthetic_clip("starry_night", 2, (96, 128)).frames])
    steadied = stabilize(cut, cut, strength=0.8)
    assert torch.equal(steadied[2], cut[2])  # a new scene: nothing carried over


def test_warp_moves_an_image_by_the_flow():
    image = torch.zeros(1, 3, 8, 8)
    image[..., 2, 3] = 1
    flow = torch.zeros(2, 8, 8)
    flow[0] = 1  # sample one pixel to the right: the dot appears one to the left
    assert warp(image, flow)[0, 0, 2, 2] == pytest.approx(1.0)


def test_bad_video_input_is_one_clear_error(clips):
    frames = clips["pan"].frames
    with pytest.raises(InputError, match="different sizes"):
        estimate_flow(frames[0], frames[1][:, :64])
    with pytest.raises(InputError, match="strength"):
        stabilize(frames, frames, strength=1.0)
    with pytest.raises(InputError, match="at least 2 frames"):
        synthetic_clip(frames=1)
    with pytest.raises(InputError, match="T >= 2"):
        warping_error(frames[:1], frames[:1])


# -- files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["clip.mp4", "clip.webm", "clip.gif", "clip.webp", "frames"])
def test_video_files_round_trip(clips, tmp_path, name):
    frames = clips["pan"].frames
    path = write_video(frames, tmp_path / name, fps=10)
    back, fps = read_video(path)
    assert back.shape == frames.shape and fps == pytest.approx(10 if name != "frames" else 25, rel=0.05)
    mse = (back - frames).pow(2).mean()
    psnr = 10 * torch.log10(1 / mse)
    assert psnr > (30 if name != "clip.gif" else 20), f"{name}: {psnr:.1f} dB"  # GIF: 256 colours


def test_reading_a_real_clip_in_steps(data_dir):
    clip = data_dir.parent / "videos" / "bigbuckbunny.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} not found")
    frames, fps = read_video(clip, size=128, max_frames=5, step=2)
    assert frames.shape == (5, 3, 72, 128) and fps == pytest.approx(12.5)


def test_the_bundled_clip_is_the_excerpt_it_says(data_dir):
    frames, fps = read_video("bigbuckbunny")  # no PyAV needed: an animated WebP
    assert frames.shape == (48, 3, 144, 256) and fps == pytest.approx(25)
    clip = data_dir.parent / "videos" / "bigbuckbunny.mp4"
    if clip.is_file():  # frames 30-77 of the source, re-encoded: close, not equal
        source, _ = read_video(clip, size=256, max_frames=78)
        psnr = -10 * torch.log10((source[30:78] - frames).pow(2).mean())
        assert psnr > 30


def test_bad_video_files_say_what_is_wrong(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(ImageError, match=r"notes\.mp4"):
        read_video(tmp_path / "notes.mp4")
    mixed = tmp_path / "mixed"
    save_image(torch.rand(1, 3, 8, 8), mixed / "a.png")
    save_image(torch.rand(1, 3, 8, 10), mixed / "b.png")
    with pytest.raises(ImageError, match="different sizes"):
        read_video(mixed)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="no images"):
        read_video(tmp_path / "empty")
    with pytest.raises(ImageError, match="no such"):
        read_video(tmp_path / "none.mp4")
    with pytest.raises(ImageError, match="unknown video extension"):
        write_video(torch.rand(2, 3, 8, 8), tmp_path / "out.xyz")


def test_style_and_content_tell_the_painting_from_the_photo(clips, real_vgg):
    frames = clips["pan"].frames[:2]
    painting = stripes(128, 8)
    itself = style_and_content(frames, frames, painting, real_vgg)
    painted = style_and_content(painting[..., :96, :].expand(2, -1, -1, -1), frames, painting, real_vgg)
    assert itself["content"] < 1e-6 and painted["style"] < 0.1 * itself["style"]
    assert painted["content"] > 0.5


def test_a_sliding_sprite_occludes_exactly_and_the_check_finds_it():
    clip = synthetic_clip("tubingen", frames=4, size=(96, 128), kind="sprite")
    assert warping_error(clip.frames, flows=clip.flows, masks=clip.masks) < 1e-10  # flows exact
    hidden = clip.masks == 0
    assert hidden[:, 32:64].float().mean() > 0.05  # a strip behind the square, uncovered each frame
    backward, forward = flows_between(clip.frames)
    found = torch.stack([reliable(b, f) for b, f in zip(backward, forward, strict=True)])
    assert (found[hidden] == 0).float().mean() > 0.75  # recall of the occluded pixels
    assert found[~hidden].mean() > 0.75  # without calling everything unreliable


def test_restore_detail_gives_back_the_references_fine_texture():
    torch.manual_seed(0)
    reference = (0.5 + 0.2 * torch.randn(3, 40, 40)).clamp(0, 1)
    faded = 0.5 + 0.3 * (reference - 0.5)  # the same texture at 30% contrast
    restored = restore_detail(faded, reference)

    def detail(x):
        return (x - gaussian_blur(x[None], [13, 13], [2.0, 2.0])[0]).pow(2).mean((1, 2)).sqrt()

    assert torch.allclose(detail(restored), detail(reference), rtol=0.03)  # blur(blur) is not blur
    assert detail(faded).max() < 0.4 * detail(reference).min()


def test_the_stabilizer_keeps_the_detail_that_plain_blending_loses(clips):
    clip = clips["pan"]
    torch.manual_seed(0)
    strokes = (clip.frames + 0.1 * torch.randn_like(clip.frames)).clamp(0, 1)  # texture that flickers
    exact = {"flows": clip.flows, "masks": clip.masks}
    before = warping_error(strokes, **exact)
    kept = stabilize(strokes, strength=0.5, **exact)
    blended = stabilize(strokes, strength=0.5, keep_detail=False, **exact)
    assert warping_error(kept, **exact) < before / 3

    def energy(x):
        return (x - gaussian_blur(x, [13, 13], [2.0, 2.0])).pow(2).mean()

    assert energy(kept[1:]) > 0.9 * energy(strokes[1:]) > energy(blended[1:]) / 0.8


def test_raft_is_an_option_with_one_clear_error_offline(monkeypatch, tmp_path):
    import urllib.error

    from torchvision.models.optical_flow import raft_small

    import nstlab.video.flow as flow

    monkeypatch.setattr(flow, "_RAFT", {})
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    frame = torch.rand(3, 50, 70)
    with pytest.raises(DownloadError, match="use the DIS flow"):
        estimate_flow(frame, frame, method="raft")
    torch.manual_seed(0)
    monkeypatch.setitem(flow._RAFT, "net", raft_small(weights=None).eval())  # as if downloaded
    assert estimate_flow(frame, frame, method="raft").shape == (2, 50, 70)  # padded to 128, cropped
    with pytest.raises(InputError, match="dis, raft, farneback"):
        estimate_flow(frame, frame, method="lucas-kanade")


def test_pictures_of_flow_flicker_and_the_tradeoff(clips):
    from PIL import Image

    from nstlab.notebook.player import play
    from nstlab.video.pictures import flow_image, show_flicker, tradeoff_plot

    clip = clips["pan"]
    still = flow_image(torch.zeros(2, 8, 8))
    assert still.shape == (3, 8, 8) and torch.allclose(still, torch.ones_like(still))  # no motion: white
    moving = flow_image(clip.flows[0])
    assert moving.std((1, 2)).max() < 1e-6 and moving.mean() < 0.99  # one uniform pan: one colour, not white
    noisy = (clip.frames + 0.05 * torch.randn_like(clip.frames)).clamp(0, 1)
    fig = show_flicker({"input": clip.frames, "noisy": noisy}, flows=clip.flows, masks=clip.masks)
    titles = [ax.get_title() for ax in fig.axes[:4]]
    assert any("noisy" in t and "warping error 0.0" in t for t in titles)
    fig = tradeoff_plot({"a": [(0.0, 0.01, 0.2), (0.5, 0.002, 0.25)]})
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes[0].lines) == 1
    shown = play({"a": clip.frames, "b": noisy}, fps=5)
    gif = Image.open(io.BytesIO(shown.data))
    assert gif.n_frames == 4 and gif.size == (2 * 128 + 4, 96)
