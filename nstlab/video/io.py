"""Video files in and out, one frame at a time: mp4 / webm / mov / mkv through PyAV (the `video`
extra), animated GIF and WebP through Pillow, and folders of frames.

    clip = open_video("clip.mp4", size=256, max_frames=48)           # nothing decoded yet
    for frame in clip: ...                                             # (3, H, W) in [0, 1], one by one
    frames, fps = read_video("clip.mp4", size=256)                    # all of it: (T, 3, H, W)
    with VideoWriter("out.mp4", fps) as out: out.write(frame)         # H.264 (.webm: VP9), streamed
    write_video(frames, "out.mp4", fps)
    frames, fps = read_video("bigbuckbunny")                         # the clip nstlab carries

A clip is decoded, resized and converted frame by frame, so a long 4K clip costs the memory of
one full-size frame plus the small ones kept; each frame is held to the same size limit as an
image (`images.MAX_PIXELS`). A stream whose frame size changes mid-clip (a resolution switch)
is resized to its first frame's size: the scene goes on, so the clip does too. A folder of frames
is read one level deep (subfolders are not frames), in natural name order (frame2 before
frame10); its frames must share one size. Transparent frames are composited over white, as
still images are. The frame rate is kept as the file says (0.2 fps, 12.5 fps, 30000/1001).

The clip nstlab carries, "bigbuckbunny", is 48 frames (about 2 s) of *Big Buck Bunny*, (c) copyright
2008, Blender Foundation / www.bigbuckbunny.org, CC BY 3.0: 256x144, 25 fps, an animated WebP
made by `tools/bundle.py clip` (so Pillow reads it without PyAV).

Every failure is an ImageError naming the file. A video file is written to a temporary name and
renamed when it is complete (`files.atomic`): mp4/webm frames are encoded as they come, GIF and
WebP hold their 8-bit frames until the end (Pillow writes them at once); a folder gets
frame_00000.png, ... each written atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import warnings
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageSequence

from ..errors import ImageError, InputError
from ..files import atomic, checked, sha256_of
from ..images import MAX_PIXELS, check_size, load_image, resize, resize_to, save_image, to_pil
from ..images import SUFFIXES as IMAGE_SUFFIXES

PILLOW = {".gif", ".webp"}  # animated images
SAMPLE_CLIP = Path(__file__).resolve().parents[1] / "assets" / "samples" / "bigbuckbunny.webp"
SAMPLE_CLIP_SHA256 = "7bd4d2d2a5cf46c48209b17d63181a38b6d6ab121b36bbb3de90c3aab3f71a98"
CODECS = {".mp4": ("libx264", "yuv420p"), ".mov": ("libx264", "yuv420p"), ".mkv": ("libx264", "yuv420p"),
          ".webm": ("libvpx-vp9", "yuv420p")}
FOLDER_FPS = 25.0  # a folder of frames says no rate


class Clip:
    """A video opened by `open_video`: iterate it for its frames (3, H, W) float in [0, 1], decoded
    one at a time (again on each iteration); `fps` its frame rate after `step`."""

    def __init__(self, path: Path, fps: float, size: int | None, max_frames: int | None, step: int,
                 files: list[Path] | None = None):
        self.path, self.fps, self.size, self.max_frames, self.step = path, fps, size, max_frames, step
        self.files = files  # a folder's frames, in order

    def __iter__(self) -> Iterator[torch.Tensor]:
        shape, count = None, 0
        for i, frame in enumerate(self._decoded()):
            if i % self.step:
                continue
            frame = frame if self.size is None or shape is not None else resize(frame[None], self.size)[0]
            shape = shape or tuple(frame.shape[-2:])  # the first frame's size is the clip's
            yield resize_to(frame[None], shape)[0]
            count += 1
            if count == self.max_frames:
                return
        if count == 0:
            raise ImageError(f"{self.path}: no frames")

    def first(self) -> torch.Tensor:
        """The first frame (3, H, W), as iterating gives it."""
        frames = iter(self)
        try:
            return next(frames)
        finally:
            frames.close()

    @property
    def length(self) -> int | None:
        """How many frames iterating gives, where the file says so without decoding; else None."""
        if self.files is not None:
            found = len(self.files)
        else:
            animated = self.path.suffix.lower() in PILLOW
            found = _animated_count(self.path) if animated else _container_count(self.path)
            if not found:
                return None
        found = -(-found // self.step)  # every step-th, from the first
        return found if self.max_frames is None else min(found, self.max_frames)

    def count(self) -> int:
        """How many frames iterating gives (decoding them all where the file does not say)."""
        return self.length or sum(1 for _ in self)

    def digest(self) -> str:
        """sha256 of what the frames are made from: the file(s) and how they are read."""
        h = hashlib.sha256(f"{self.size} {self.max_frames} {self.step}".encode())
        for file in self.files or [self.path]:
            h.update(f"{file.name} {sha256_of(file)}".encode())
        return h.hexdigest()

    def _decoded(self) -> Iterator[torch.Tensor]:
        """Every frame at its own size, (3, h, w) float."""
        if self.files is not None:
            for file in self.files:
                yield load_image(file)[0]
        elif self.path.suffix.lower() in PILLOW:
            yield from _animated_frames(self.path)
        else:
            yield from _container_frames(self.path)


def open_video(path, *, size: int | None = None, max_frames: int | None = None, step: int = 1) -> Clip:
    """A video file, an animated GIF or WebP, a folder of images (one level, natural name order,
    25 fps) or "bigbuckbunny" (the clip nstlab carries, checked by its sha256), opened to be read
    frame by frame. size: the longest side (resized, antialiased); step: keep every step-th frame
    (the fps is divided by it); max_frames: at most this many (after step). What can be checked
    without decoding is checked here: the file, its kind, its frame size, the arguments."""
    path = sample_clip() if path == SAMPLE_CLIP.stem else Path(path).expanduser()
    if not path.exists():
        raise ImageError(f"{path}: no such file or folder")
    for name, value, low in (("step", step, 1), ("max_frames", max_frames, 1), ("size", size, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
            raise InputError(f"{name} must be a whole number >= {low}, got {value!r}")
    files = None
    if path.is_dir():
        files, fps = frame_files(path), FOLDER_FPS
    elif path.suffix.lower() in IMAGE_SUFFIXES - PILLOW:
        raise ImageError(f"{path}: an image, not a video (give a video file, an animated GIF/WebP or a "
                         "folder of frames)")
    elif path.suffix.lower() in PILLOW:
        fps = _animated_fps(path)
    else:
        fps = _container_fps(path)
    return Clip(path, fps / step, size, max_frames, step, files)


def read_video(path, *, size: int | None = None, max_frames: int | None = None,
               step: int = 1) -> tuple[torch.Tensor, float]:
    """(frames (T, 3, H, W) float in [0, 1], frames per second): `open_video`, all frames at once."""
    clip = open_video(path, size=size, max_frames=max_frames, step=step)
    return torch.stack(list(clip)), clip.fps


def frame_files(folder: Path) -> list[Path]:
    """The image files directly in `folder`, in natural name order, checked to share one size
    within the limit (their headers only); ImageError when there is none."""
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                   key=lambda p: [int(part) if part.isdigit() else part.lower()
                                  for part in re.split(r"(\d+)", p.name)])
    if not files:
        raise ImageError(f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder "
                         "(frames are read one level deep)")
    sizes = {}
    for file in files:
        try:
            with _opened(file) as image:
                size = image.size
        except ImageError:
            raise
        except (OSError, ValueError) as err:
            raise ImageError(f"{file}: not an image file Pillow can read ({_line(err)})") from None
        check_size(size, str(file))
        sizes.setdefault(size, file)
    if len(sizes) > 1:
        found = sorted(f"{w}x{h}" for w, h in sizes)[:3]
        raise ImageError(f"{folder}: frames of different sizes ({', '.join(found)}): a video needs one size")
    return files


def sample_clip() -> Path:
    """The path of the clip nstlab carries, after checking its sha256."""
    return checked(SAMPLE_CLIP, SAMPLE_CLIP_SHA256, ImageError, "the bundled clip", "reinstall nstlab")


def check_video_path(path) -> Path:
    """`path` as a Path if a VideoWriter can write it: a known suffix, or none (a folder of frames,
    which must not be an existing file)."""
    path = Path(path).expanduser()
    if path.suffix and path.suffix.lower() not in PILLOW | set(CODECS):
        raise ImageError(f"{path}: unknown video extension (use .mp4, .webm, .gif, .webp or a folder)")
    if not path.suffix and path.exists() and not path.is_dir():
        raise ImageError(f"{path}: is a file; a name without a suffix is written as a folder of frames "
                         "(give .mp4, .webm, .gif or .webp for a video file)")
    return path


class VideoWriter:
    """Write frames (3, H, W) in [0, 1] one at a time to `path`: .mp4/.mov/.mkv (H.264), .webm (VP9),
    .gif/.webp (animated, loops), or a folder (no suffix, or an existing folder) of PNG frames.

        with VideoWriter("out.mp4", fps) as out:
            for frame in frames: out.write(frame)

    A file appears at `close()` (the end of the `with`), complete; `abort()` (an exception in the
    `with`) leaves no file. 4:2:0 video needs even sides: an odd row or column is cut, and `size`
    (width, height) says what was written."""

    def __init__(self, path, fps: float = 25.0):
        self.path = check_video_path(path)
        fps = float(fps)
        if not math.isfinite(fps) or fps <= 0:
            raise InputError(f"fps must be a positive number, got {fps}")
        self.fps, self.count, self.size = fps, 0, None
        self.suffix = "" if self.path.is_dir() else self.path.suffix.lower()
        self._images, self._container, self._stream, self._tmp = [], None, None, None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None or issubclass(kind, KeyboardInterrupt):  # what was written so far is finished
            self.close()
        else:
            self.abort()

    def write(self, frame: torch.Tensor) -> None:
        frame = frame[0] if frame.dim() == 4 else frame
        if frame.dim() != 3 or frame.shape[0] != 3:
            raise InputError(f"expected a frame (3, H, W), got shape {tuple(frame.shape)}")
        h, w = frame.shape[-2:]
        if self.suffix in CODECS:
            h, w = h - h % 2, w - w % 2  # 4:2:0 needs even sides
        if self.size not in (None, (w, h)):
            raise InputError(f"frame {self.count} is {w}x{h}, the clip {self.size[0]}x{self.size[1]}")
        self.size = (w, h)
        if not self.suffix:
            save_image(frame[None], self.path / f"frame_{self.count:05d}.png")
        elif self.suffix in PILLOW:
            self._images.append(to_pil(frame))
        else:
            self._encode(frame[:, :h, :w])
        self.count += 1

    def close(self) -> Path | None:
        """Finish the file (nothing is written for no frames); the path, or None."""
        if self.suffix in PILLOW and self._images:
            with atomic(self.path) as tmp:
                self._images[0].save(tmp, save_all=True, append_images=self._images[1:], loop=0,
                                     duration=round(1000 / self.fps),
                                     **({"lossless": False, "quality": 90} if self.suffix == ".webp" else {}))
            self._images = []
        elif self._container is not None:
            try:
                self._container.mux(self._stream.encode())  # flush the encoder
            finally:
                self._container.close()
                self._container = None
            self._tmp.__exit__(None, None, None)  # rename into place
        return self.path if self.count else None

    def abort(self) -> None:
        """Stop without a file (the frames a folder already holds stay)."""
        self._images = []
        if self._container is not None:
            with contextlib.suppress(Exception):  # the file is being thrown away
                self._container.close()
            self._container = None
            self._tmp.__exit__(ImageError, None, None)  # removes the temporary file

    def _encode(self, frame: torch.Tensor) -> None:
        av = _av()
        if self._container is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = atomic(self.path)
            tmp = self._tmp.__enter__()
            codec, pixels = CODECS[self.suffix]
            self._container = av.open(str(tmp), mode="w")
            self._stream = self._container.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001))
            self._stream.width, self._stream.height = self.size
            self._stream.pix_fmt = pixels
            self._stream.options = {"crf": "18"} if codec == "libx264" else {"crf": "20", "b": "0"}
        array = (frame.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        self._container.mux(self._stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(array),
                                                                           format="rgb24")))


def write_video(frames: torch.Tensor, path, fps: float = 25.0) -> Path:
    """Write (T, 3, H, W) in [0, 1] to `path` (see `VideoWriter`); returns the path."""
    if frames.dim() != 4 or frames.shape[1] != 3 or len(frames) == 0:
        raise InputError(f"expected frames (T >= 1, 3, H, W), got shape {tuple(frames.shape)}")
    with VideoWriter(path, fps) as out:
        for frame in frames:
            out.write(frame)
    return out.path


def _opened(path: Path) -> Image.Image:
    """Image.open without Pillow's decompression-bomb warning: `check_size` applies nstlab's limit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError:  # Pillow's own, higher limit: quote only ours
            limit = f"{MAX_PIXELS / 1e6:.0f} megapixel limit"
            raise ImageError(f"{path}: image is larger than the {limit}") from None


def _line(err: Exception) -> str:
    return " ".join(str(err).split())


def _av():
    try:
        import av
    except ImportError as err:
        raise InputError("video files need PyAV: pip install 'nstlab[video]' (or av); animated GIF "
                         "and WebP and folders of frames work without it") from err
    return av


def _container_fps(path: Path) -> float:
    av = _av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ImageError(f"{path}: has no video stream")
            stream = container.streams.video[0]
            if stream.codec_context.width and stream.codec_context.height:
                check_size((stream.codec_context.width, stream.codec_context.height), str(path))
            return float(stream.average_rate or stream.guessed_rate or 25)
    except av.FFmpegError as err:
        raise ImageError(f"{path}: not a video file FFmpeg can read ({err})") from None


def _container_count(path: Path) -> int:
    av = _av()
    try:
        with av.open(str(path)) as container:
            return container.streams.video[0].frames
    except av.FFmpegError:
        return 0


def _container_frames(path: Path) -> Iterator[torch.Tensor]:
    av = _av()
    try:
        with av.open(str(path)) as container:
            for i, frame in enumerate(container.decode(container.streams.video[0])):
                check_size((frame.width, frame.height), f"{path} frame {i}")
                rgb = torch.from_numpy(frame.to_ndarray(format="rgb24"))  # (H, W, 3) uint8
                yield rgb.permute(2, 0, 1).float().div_(255)
    except av.FFmpegError as err:
        raise ImageError(f"{path}: not a video file FFmpeg can read ({err})") from None


def _animated_fps(path: Path) -> float:
    try:
        with _opened(path) as image:
            check_size(image.size, str(path))
            image.load()  # WebP says its frame duration with the first frame
            duration = image.info.get("duration") or 40  # ms per frame; none given: 25 fps
    except ImageError:
        raise
    except (OSError, ValueError, EOFError) as err:
        raise ImageError(f"{path}: not an animated image Pillow can read ({_line(err)})") from None
    return 1000 / duration


def _animated_count(path: Path) -> int:
    try:
        with _opened(path) as image:
            return getattr(image, "n_frames", 1)
    except (OSError, ValueError, EOFError):
        return 0


def _animated_frames(path: Path) -> Iterator[torch.Tensor]:
    try:
        with _opened(path) as image:
            for frame in ImageSequence.Iterator(image):
                yield load_image(frame.convert("RGBA"))[0]  # transparent pixels over white
    except ImageError:
        raise
    except (OSError, ValueError, EOFError) as err:
        raise ImageError(f"{path}: not an animated image Pillow can read ({_line(err)})") from None
