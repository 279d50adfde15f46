"""Temporally consistent video: optical flow, warping, synthetic clips with exact flow, the
warping-error metric and a stabilizer for any per-frame method.

    flow        optical flow between frames (OpenCV's DIS), warping with grid_sample, and the
                forward-backward check for pixels that are occluded or leave the frame
    clips       synthetic clips with exact flow: pans, zooms, rotations over a still photo, a
                sliding sprite that occludes
    metrics     warping error (Lai et al. 2018), and the style and content distances to report beside it
    stabilize   flow-guided blending with the previous output that keeps the detail, reset at cuts
    io          open_video / read_video / VideoWriter / write_video: mp4, webm (PyAV), animated GIF
                and WebP, frame folders; read and written one frame at a time
    methods     apply_video (any trained network, + stabilizer), stylize_video (Ruder et al. 2016)

Frames are (T, 3, H, W) tensors in [0, 1]. A flow is (2, H, W) in pixels, x then y, and is
*backward*: flow[t] maps frame t to frame t - 1, so `warp(frames[t - 1], flow)` looks like
frames[t] wherever the pixel was visible in both.

This layer sits above the methods: it drives Gatys and the networks frame by frame. OpenCV and
PyAV (`pip install nstlab[video]`) are needed to estimate flow and for video files; exact flows
from `clips`, GIF/WebP and frame folders need nothing more.
"""

from ..warping import warp
from .clips import synthetic_clip
from .flow import estimate_flow, flows_between, reliable
from .io import VideoWriter, open_video, read_video, write_video
from .methods import VideoResult, apply_video, morph_weights, stylize_video
from .metrics import style_and_content, warping_error
from .stabilize import Stabilizer, restore_detail, stabilize

__all__ = ["Stabilizer", "VideoResult", "VideoWriter", "apply_video", "estimate_flow", "flows_between",
           "morph_weights", "open_video", "read_video", "reliable", "restore_detail", "stabilize",
           "style_and_content", "stylize_video", "synthetic_clip", "warp", "warping_error", "write_video"]
