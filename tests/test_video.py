"""The video foundation: exact synthetic clips, DIS flow against them, warping, occlusion, the
warping error and the stabilizer, on small clips."""

import pytest
import torch

from nstlab.errors import InputError
from nstlab.video import (
    estimate_flow,
    flows_between,
    reliable,
    stabilize,
    synthetic_clip,
    warp,
    warping_error,
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


@pytest.mark.parametrize("kind", ["pan", "zoom", "rotate"])
def test_dis_flow_is_close_to_the_exact_flow(clips, kind):
    clip = clips[kind]
    flow = estimate_flow(clip.frames[1], clip.frames[0])  # frame 1 -> frame 0: the backward flow
    m = clip.masks[0].bool()
    m[:8], m[-8:], m[:, :8], m[:, -8:] = False, False, False, False  # borders: no texture beyond
    endpoint = (flow - clip.flows[0]).pow(2).sum(0).sqrt()[m]
    assert endpoint.mean() < 0.3, f"mean endpoint error {endpoint.mean():.3f} px"


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
