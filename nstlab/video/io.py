"""Video files in and out: mp4 / webm / mov / mkv through PyAV (the `video` extra), animated
GIF and WebP through Pillow, and folders of frames.

    frames, fps = read_video("clip.mp4", size=256, max_frames=48)   # (T, 3, H, W) in [0, 1]
    write_video(frames, "out.mp4", fps)                               # H.264; .webm: VP9
    frames, fps = read_video("bigbuckbunny")                         # the clip nstlab carries

The clip nstlab carries, "bigbuckbunny", is 48 frames (about 2 s) of *Big Buck Bunny*, (c) copyright
2008, Blender Foundation / www.bigbuckbunny.org, CC BY 3.0: 256x144, 25 fps, an animated WebP
made by `tools/bundle.py clip` (so Pillow reads it without PyAV).

Every failure is an ImageError naming the file: not a video, no frames, frames of different
sizes in a folder, a codec that is not there. A single file is written to a temporary name and
renamed (`files.atomic`); a folder gets frame_00000.png, ... .
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageSequence

from ..errors import ImageError, InputError
from ..files import atomic, checked
from ..images import SUFFIXES as IMAGE_SUFFIXES
from ..images import image_files, load_image, resize, save_image, to_pil

PILLOW = {".gif", ".webp"}  # animated images
SAMPLE_CLIP = Path(__file__).resolve().parents[1] / "assets" / "samples" / "bigbuckbunny.webp"
SAMPLE_CLIP_SHA256 = "7bd4d2d2a5cf46c48209b17d63181a38b6d6ab121b36bbb3de90c3aab3f71a98"
CODECS = {".mp4": ("libx264", "yuv420p"), ".mov": ("libx264", "yuv420p"), ".mkv": ("libx264", "yuv420p"),
          ".webm": ("libvpx-vp9", "yuv420p")}


def read_video(path, *, size: int | None = None, max_frames: int | None = None,
               step: int = 1) -> tuple[torch.Tensor, float]:
    """(frames (T, 3, H, W) float in [0, 1], frames per second) of a video file, an animated GIF or
    WebP, or a folder of images (sorted by name; 25 fps). size: the longest side (resized,
    antialiased); step: keep every step-th frame (the fps is divided by it); max_frames: at most
    this many (after step). path "bigbuckbunny": the clip nstlab carries (checked by its sha256)."""
    path = sample_clip() if path == SAMPLE_CLIP.stem else Path(path).expanduser()
    if not path.exists():
        raise ImageError(f"{path}: no such file or folder")
    if step < 1 or (max_frames is not None and max_frames < 1):
        raise InputError(f"step and max_frames must be >= 1, got {step} and {max_frames}")
    if path.is_dir():
        frames, fps = _folder(path), 25.0
    elif path.suffix.lower() in IMAGE_SUFFIXES - PILLOW:
        raise ImageError(f"{path}: an image, not a video (give a video file, an animated GIF/WebP or a "
                         "folder of frames)")
    elif path.suffix.lower() in PILLOW:
        frames, fps = _animated(path)
    else:
        frames, fps = _container(path, (max_frames or 0) * step or None)
    frames = frames[::step][:max_frames]
    if not frames:
        raise ImageError(f"{path}: no frames")
    video = torch.stack(frames)
    return (video if size is None else resize(video, size)), fps / step


def sample_clip() -> Path:
    """The path of the clip nstlab carries, after checking its sha256."""
    return checked(SAMPLE_CLIP, SAMPLE_CLIP_SHA256, ImageError, "the bundled clip", "reinstall nstlab")


def check_video_path(path) -> Path:
    """`path` as a Path if write_video can write it (a known suffix, or none: a folder)."""
    path = Path(path).expanduser()
    if path.suffix and path.suffix.lower() not in PILLOW | set(CODECS):
        raise ImageError(f"{path}: unknown video extension (use .mp4, .webm, .gif, .webp or a folder)")
    return path


def write_video(frames: torch.Tensor, path, fps: float = 25.0) -> Path:
    """Write (T, 3, H, W) in [0, 1] to `path`: .mp4/.mov/.mkv (H.264), .webm (VP9), .gif/.webp
    (animated, loops), or a folder (no suffix, or an existing folder) of PNG frames."""
    path = check_video_path(path)
    if frames.dim() != 4 or frames.shape[1] != 3 or len(frames) == 0:
        raise InputError(f"expected frames (T >= 1, 3, H, W), got shape {tuple(frames.shape)}")
    suffix = path.suffix.lower()
    if path.is_dir() or not suffix:
        for t, frame in enumerate(frames):
            save_image(frame[None], path / f"frame_{t:05d}.png")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in PILLOW:
        images = [to_pil(frame[None]) for frame in frames]
        with atomic(path) as tmp:
            images[0].save(tmp, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0,
                           **({"lossless": False, "quality": 90} if suffix == ".webp" else {}))
        return path
    av = _av()
    codec, pixels = CODECS[suffix]
    array = (frames.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    h, w = array.shape[1:3]
    array = array[:, : h - h % 2, : w - w % 2]  # 4:2:0 needs even sides
    with atomic(path) as tmp, av.open(str(tmp), mode="w") as container:
        stream = container.add_stream(codec, rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = array.shape[2], array.shape[1], pixels
        stream.options = {"crf": "18"} if codec == "libx264" else {"crf": "20", "b": "0"}
        for frame in array:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame),
                                                                   format="rgb24")))
        container.mux(stream.encode())
    return path


def _av():
    try:
        import av
    except ImportError as err:
        raise InputError("video files need PyAV: pip install 'nstlab[video]' (or av); animated GIF "
                         "and WebP and folders of frames work without it") from err
    return av


def _container(path: Path, limit: int | None) -> tuple[list[torch.Tensor], float]:
    av = _av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ImageError(f"{path}: has no video stream")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or 25)
            frames = []
            for frame in container.decode(stream):
                rgb = torch.from_numpy(frame.to_ndarray(format="rgb24"))  # (H, W, 3) uint8
                frames.append(rgb.permute(2, 0, 1).float() / 255)
                if limit is not None and len(frames) >= limit:
                    break
    except av.FFmpegError as err:
        raise ImageError(f"{path}: not a video file FFmpeg can read ({err})") from err
    return frames, fps


def _animated(path: Path) -> tuple[list[torch.Tensor], float]:
    try:
        with Image.open(path) as image:
            frames = [load_image(frame.convert("RGB"))[0] for frame in ImageSequence.Iterator(image)]
            duration = image.info.get("duration") or 40
    except OSError as err:
        raise ImageError(f"{path}: not an animated image Pillow can read ({err})") from err
    return frames, 1000 / duration


def _folder(path: Path) -> list[torch.Tensor]:
    frames = [load_image(file)[0] for file in image_files(path)]
    sizes = {tuple(f.shape[-2:]) for f in frames}
    if len(sizes) > 1:
        raise ImageError(f"{path}: frames of different sizes {sorted(sizes)[:3]}: a video needs one size")
    return frames
