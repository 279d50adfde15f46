"""Make the files nstlab carries inside the package, reproducibly, from their sources.

    python tools/bundle.py vgg SOURCE.pth        -> nstlab/assets/vgg16-int8.pth
    python tools/bundle.py samples FOLDER        -> nstlab/assets/samples/*.jpg
    python tools/bundle.py clip SOURCE.mp4       -> nstlab/assets/samples/bigbuckbunny.webp

`vgg`: the ImageNet VGG-16 convolution weights (torchvision's `vgg16().features` layout, the
Caffe release converted to PyTorch, CC BY 4.0, Simonyan & Zisserman) as int8 with one float32
scale per output channel and float32 biases (nstlab.compact). `samples`: every sample of
nstlab.samples.SAMPLES from FOLDER (the same layout as $NSTLAB_DATA, checked against its
sha256), resized to at most 512 px on the longest side and re-encoded as JPEG (quality 88).
Each checks what it reads against its known sha256 and prints the sha256 of what it wrote; put
new hashes into nstlab/vgg.py (BUNDLED_SHA256) and nstlab/samples.py (BUNDLED_SHA256). The output
is byte-for-byte the same for the same torch and Pillow versions (.ci/constraints.txt pins torch).
`clip`: frames 30-77 (the bunny stands up) of the Big Buck Bunny excerpt in ../shared/videos
(CC BY 3.0, (c) copyright 2008, Blender Foundation / www.bigbuckbunny.org), at 256 px and 25 fps,
as an animated WebP that Pillow reads without PyAV; put its sha256 into nstlab/video/io.py
(SAMPLE_CLIP_SHA256).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from pathlib import Path

import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nstlab.compact import quantize  # noqa: E402
from nstlab.images import load_image, resize, to_pil  # noqa: E402
from nstlab.samples import SAMPLE_SIDE, SAMPLES  # noqa: E402
from nstlab.vgg import BUNDLE_FORMAT, BUNDLED_VGG, load_vgg  # noqa: E402

SAMPLES_DIR = ROOT / "nstlab" / "assets" / "samples"
VGG16_SOURCE_SHA256 = "e1e96a8d2fb858d2a56ae2ee4082d915f90b640b6e3cd52410c339989fc479da"  # the Caffe VGG-16
CLIP_SOURCE_SHA256 = "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd"  # bigbuckbunny.mp4


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bundle_vgg(source: Path) -> None:
    digest = sha256(source.read_bytes())
    if digest != VGG16_SOURCE_SHA256:
        sys.exit(f"{source}: sha256 {digest} is not the ImageNet VGG-16's {VGG16_SOURCE_SHA256}")
    extractor = load_vgg(source)
    if extractor.arch != "vgg16":
        sys.exit(f"{source}: holds {extractor.arch}; the bundled network is VGG-16")
    convs = {name: {**quantize(conv.weight), "bias": conv.bias.detach().float().clone()}
             for name, conv in extractor.convs.items()}
    buffer = io.BytesIO()
    torch.save({"format": BUNDLE_FORMAT, "arch": "vgg16", "source_sha256": sha256(source.read_bytes()),
                "convs": convs}, buffer)
    BUNDLED_VGG.parent.mkdir(parents=True, exist_ok=True)
    BUNDLED_VGG.write_bytes(buffer.getvalue())
    print(f"read  {source}  sha256 {sha256(source.read_bytes())}")
    print(f"wrote {BUNDLED_VGG.relative_to(ROOT)}  {len(buffer.getvalue()) / 1e6:.1f} MB  "
          f"sha256 {sha256(buffer.getvalue())}")


def bundle_samples(folder: Path) -> None:
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    total = 0
    for sample in SAMPLES.values():
        path = folder / sample.path
        if not path.is_file():
            sys.exit(f"{path}: missing (FOLDER holds every sample, laid out as $NSTLAB_DATA)")
        data = path.read_bytes()
        if sha256(data) != sample.sha256:
            sys.exit(f"{path}: sha256 {sha256(data)} is not the sample's {sample.sha256}")
        image = load_image(path)
        if max(image.shape[-2:]) > SAMPLE_SIDE:
            image = resize(image, SAMPLE_SIDE)
        buffer = io.BytesIO()
        to_pil(image).save(buffer, format="JPEG", quality=88, optimize=True)
        out = SAMPLES_DIR / f"{sample.name}.jpg"
        out.write_bytes(buffer.getvalue())
        total += len(buffer.getvalue())
        w, h = Image.open(out).size
        print(f"{sample.name:16} {w}x{h}  {len(buffer.getvalue()) / 1e3:5.0f} kB  "
              f"sha256 {sha256(buffer.getvalue())}")
    print(f"{len(SAMPLES)} samples, {total / 1e3:.0f} kB in all")


def bundle_clip(source: Path) -> None:
    from nstlab.video.io import SAMPLE_CLIP, read_video, write_video

    data = source.read_bytes()
    if sha256(data) != CLIP_SOURCE_SHA256:
        sys.exit(f"{source}: sha256 {sha256(data)} is not the Big Buck Bunny clip's {CLIP_SOURCE_SHA256}")
    frames, fps = read_video(source, size=256, max_frames=78)
    write_video(frames[30:78], SAMPLE_CLIP, fps)
    out = SAMPLE_CLIP.read_bytes()
    print(f"{SAMPLE_CLIP.name}: {len(frames[30:78])} frames {frames.shape[-1]}x{frames.shape[-2]}, "
          f"{len(out) / 1e3:.0f} kB, sha256 {sha256(out)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="what", required=True)
    commands.add_parser("vgg").add_argument("source", type=Path)
    commands.add_parser("samples").add_argument("folder", type=Path)
    commands.add_parser("clip").add_argument("source", type=Path)
    args = parser.parse_args()
    if args.what == "vgg":
        bundle_vgg(args.source)
    elif args.what == "clip":
        bundle_clip(args.source)
    else:
        bundle_samples(args.folder)


if __name__ == "__main__":
    main()
