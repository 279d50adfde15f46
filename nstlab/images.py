"""Images in and out: everything becomes a float tensor of shape (1, 3, H, W) in [0, 1].

`load_image` accepts a file path, a PIL image, a numpy array or a torch tensor and returns that
one canonical form, so the rest of nstlab never thinks about image formats again. Files are read
with Pillow: EXIF orientation is applied, grayscale / RGBA / palette / CMYK / 16-bit images become
RGB (transparent pixels are composited over white). Anything that cannot be read raises
`ImageError`, whose message names the file and the reason.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError
from .files import atomic

MAX_PIXELS = 100_000_000  # 100 megapixels: larger is almost surely a mistake (or a decompression bomb)
SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}  # what `image_files` lists


def load_image(source, size: int | None = None) -> torch.Tensor:
    """Load `source` as a float tensor (1, 3, H, W) in [0, 1], resized so its longest side is `size`.

    `source` may be a path (str or Path), the bytes of an image file (an upload), a PIL image, a
    numpy array (H, W), (H, W, C) with C in 1, 3, 4 (uint8, uint16 or float in [0, 1]) or a
    tensor (H, W), (C, H, W) or (1, C, H, W).
    """
    if isinstance(source, (str, os.PathLike)):
        image = _from_pil(_open(Path(source)), name=str(source))
    elif isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ImageError("image data is empty (0 bytes)")
        image = _from_pil(_decode(io.BytesIO(source), "image data"), name="image data")
    elif isinstance(source, Image.Image):
        image = _from_pil(source, name="PIL image")
    elif isinstance(source, np.ndarray):
        image = _from_array(source, name="numpy array")
    elif isinstance(source, torch.Tensor):
        image = _from_tensor(source)
    else:
        raise ImageError(f"cannot load an image from {type(source).__name__}: "
                         "expected a path, bytes, PIL image, numpy array or tensor")
    return image if size is None else resize(image, size)


def resize(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (1, 3, H, W) so that its longest side is `size`, keeping the aspect ratio."""
    if size < 1:
        raise ImageError(f"size must be a positive number of pixels, got {size}")
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    return resize_to(image, (max(1, round(h * scale)), max(1, round(w * scale))))


def resize_to(image: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Resize (B, 3, H, W) to exactly `shape` (height, width); the image itself if it has that size."""
    if tuple(image.shape[-2:]) == tuple(shape):
        return image
    # antialias=True low-pass filters when shrinking, like PIL's resampling filters
    out = F.interpolate(image, size=tuple(shape), mode="bicubic", antialias=True, align_corners=False)
    return out.clamp_(0, 1)


def to_pil(image: torch.Tensor) -> Image.Image:
    """(1, 3, H, W) or (3, H, W) float in [0, 1] -> 8-bit RGB PIL image (values are clamped)."""
    if image.dim() == 4:
        if image.shape[0] != 1:
            raise ImageError(f"to_pil takes one image, got a batch of {image.shape[0]}")
        image = image[0]
    array = image.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, mode="RGB")


def save_image(image: torch.Tensor, path) -> Path:
    """Save (1, 3, H, W) in [0, 1] to `path`, atomically; the format follows the extension.
    Returns the path."""
    path = Path(path)
    if path.parent != Path("") and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic(path) as tmp:  # never half an image
            to_pil(image).save(tmp)
    except (ValueError, KeyError) as err:  # PIL: unknown extension
        raise ImageError(f"cannot save {path}: {err}") from err
    return path


def image_files(folders) -> list[Path]:
    """Every image file under the given folder(s), sorted; ImageError when there is none."""
    folders = [folders] if isinstance(folders, (str, os.PathLike)) else list(folders)
    files = sorted(p for folder in folders for p in Path(folder).expanduser().rglob("*")
                   if p.suffix.lower() in SUFFIXES)
    if not files:
        raise ImageError(f"no images ({', '.join(sorted(SUFFIXES))}) under {', '.join(map(str, folders))}")
    return files


def tile(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (1, 3, H, B*W): a batch side by side, on the CPU, clamped to [0, 1]."""
    return torch.cat(list(images.detach().float().cpu().clamp(0, 1)), dim=-1)[None]


# ---------------------------------------------------------------------------------------------
# readers


def _open(path: Path) -> Image.Image:
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty (0 bytes)")
    return _decode(path, str(path))


def _decode(file, name: str) -> Image.Image:
    """Open and fully decode a path or file object with Pillow; every failure is an ImageError."""
    try:
        with warnings.catch_warnings():  # check_size applies nstlab's own limit
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(file)
        check_size(image.size, name)
        image.load()  # decode now, so a truncated file fails here and not later
    except UnidentifiedImageError as err:
        raise ImageError(f"{name}: not an image file Pillow can read") from err
    except Image.DecompressionBombError as err:  # Pillow's own, higher limit: quote only ours
        raise ImageError(f"{name}: image is larger than the {MAX_PIXELS / 1e6:.0f} megapixel limit") from err
    except (OSError, ValueError, EOFError) as err:  # truncated, broken, text chunks past Pillow's limits
        raise ImageError(f"{name}: cannot decode image ({' '.join(str(err).split())})") from err
    return image


def check_size(size: tuple[int, int], name: str) -> None:
    """(width, height) of an image or video frame: not empty, within MAX_PIXELS; else ImageError."""
    w, h = size
    if w < 1 or h < 1:
        raise ImageError(f"{name}: image has zero size ({w}x{h})")
    if w * h > MAX_PIXELS:
        raise ImageError(f"{name}: image is {w}x{h} = {w * h / 1e6:.0f} megapixels, "
                         f"more than the {MAX_PIXELS / 1e6:.0f} megapixel limit")


def _from_pil(image: Image.Image, name: str) -> torch.Tensor:
    check_size(image.size, name)
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grayscale (PNG/TIFF); Pillow hands these over as integer modes
        return _from_array(np.asarray(image).astype(np.uint16), name)
    if image.mode == "F":
        return _from_array(np.asarray(image, dtype=np.float32), name)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return _from_array(np.asarray(image.convert("RGB")), name)


def _from_array(array: np.ndarray, name: str) -> torch.Tensor:
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ImageError(f"{name}: expected shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                         f"got {array.shape}")
    check_size((array.shape[1], array.shape[0]), name)
    if array.dtype == np.uint8:
        data = array.astype(np.float32) / 255
    elif array.dtype == np.uint16:
        data = array.astype(np.float32) / 65535
    elif np.issubdtype(array.dtype, np.floating):
        data = array.astype(np.float32)
        if np.isnan(data).any():
            raise ImageError(f"{name}: contains NaN values")
        _check_range(float(data.min()), float(data.max()), name)
    else:
        raise ImageError(f"{name}: unsupported dtype {array.dtype} (use uint8, uint16 or float)")
    return _to_rgb(torch.from_numpy(np.ascontiguousarray(data)).permute(2, 0, 1))


def _from_tensor(tensor: torch.Tensor) -> torch.Tensor:
    name = "tensor"
    t = tensor.detach()
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ImageError(f"{name}: expected one image, got a batch of {t.shape[0]}")
        t = t[0]
    if t.dim() == 2:
        t = t[None]
    if t.dim() != 3 or t.shape[0] not in (1, 3, 4):
        raise ImageError(f"{name}: expected shape (H, W), (C, H, W) or (1, C, H, W) with C in "
                         f"1, 3, 4, got {tuple(tensor.shape)}")
    check_size((t.shape[2], t.shape[1]), name)
    if t.dtype == torch.uint8:
        t = t.float() / 255
    elif t.is_floating_point():
        t = t.float()
        if torch.isnan(t).any():
            raise ImageError(f"{name}: contains NaN values")
        _check_range(t.min().item(), t.max().item(), name)
    else:
        raise ImageError(f"{name}: unsupported dtype {t.dtype} (use uint8 or float)")
    return _to_rgb(t.cpu())


def _check_range(low: float, high: float, name: str) -> None:
    if low < -1e-3 or high > 1 + 1e-3:
        raise ImageError(f"{name}: float values must lie in [0, 1], got [{low:.3g}, {high:.3g}] "
                         "(divide 8-bit data by 255)")


def _to_rgb(chw: torch.Tensor) -> torch.Tensor:
    """(C, H, W) with C in 1, 3, 4 -> (1, 3, H, W); alpha is composited over white."""
    if chw.shape[0] == 1:
        chw = chw.expand(3, -1, -1)
    elif chw.shape[0] == 4:
        rgb, alpha = chw[:3], chw[3:]
        chw = rgb * alpha + (1 - alpha)
    return chw.clamp(0, 1).unsqueeze(0).contiguous()


def shuffle_tiles(image: torch.Tensor, tiles: int = 4, seed: int = 0) -> torch.Tensor:
    """Cut (1, 3, H, W) into tiles x tiles blocks and put them back in a random order: the same
    pieces, a different layout (the borders beyond a multiple of `tiles` are cropped)."""
    _, c, h, w = image.shape
    th, tw = h // tiles, w // tiles
    blocks = (image[..., :th * tiles, :tw * tiles]
              .reshape(1, c, tiles, th, tiles, tw).permute(0, 2, 4, 1, 3, 5)
              .reshape(tiles * tiles, c, th, tw))  # (tiles^2, C, th, tw), row by row
    order = torch.randperm(tiles * tiles, generator=torch.Generator().manual_seed(seed))
    return (blocks[order].reshape(1, tiles, tiles, c, th, tw).permute(0, 3, 1, 4, 2, 5)
            .reshape(1, c, th * tiles, tw * tiles))
