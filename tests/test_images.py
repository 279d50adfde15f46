
import numpy as np
import pytest
import torch
from helpers import png_claiming_size
from PIL import Image

from nstlab.images import ImageError, load_image, resize, save_image, shuffle_tiles, to_pil


def rgb_array(h=6, w=8):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def check(t, h, w):
    assert t.shape == (1, 3, h, w) and t.dtype == torch.float32
    assert t.min() >= 0 and t.max() <= 1


def test_rgb_file_round_trip(tmp_path):
    array = rgb_array()
    Image.fromarray(array).save(tmp_path / "a.png")
    t = load_image(tmp_path / "a.png")
    check(t, 6, 8)
    assert np.array_equal(np.asarray(to_pil(t)), array)
    save_image(t, tmp_path / "sub" / "b.png")
    assert torch.equal(load_image(str(tmp_path / "sub" / "b.png")), t)


def test_grayscale_becomes_rgb(tmp_path):
    Image.fromarray(np.full((4, 5), 128, np.uint8), mode="L").save(tmp_path / "g.png")
    t = load_image(tmp_path / "g.png")
    check(t, 4, 5)
    assert torch.allclose(t, torch.full_like(t, 128 / 255))


def test_rgba_is_composited_over_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[1, 1] = (0, 0, 0, 0)  # fully transparent -> white
    rgba[0, 1] = (0, 0, 0, 128)  # half transparent black -> mid grey
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    t = load_image(tmp_path / "a.png")
    assert t[0, :, 0, 0].tolist() == [1.0, 0.0, 0.0]
    assert t[0, :, 1, 1].tolist() == [1.0, 1.0, 1.0]
    assert t[0, 0, 0, 1].item() == pytest.approx(127 / 255, abs=0.01)


def test_palette_and_palette_with_transparency(tmp_path):
    image = Image.fromarray(rgb_array()).convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    image.save(tmp_path / "p.png")
    check(load_image(tmp_path / "p.png"), 6, 8)
    image.info["transparency"] = 0
    image.save(tmp_path / "pt.png", transparency=0)
    t = load_image(tmp_path / "pt.png")
    index0 = np.asarray(image) == 0
    assert torch.all(t[0][:, torch.from_numpy(index0)] == 1.0)  # transparent index -> white


def test_cmyk(tmp_path):
    Image.new("CMYK", (3, 2), (0, 255, 255, 0)).save(tmp_path / "c.jpg")  # cyan-free... = red
    t = load_image(tmp_path / "c.jpg")
    check(t, 2, 3)
    assert t[0, 0].mean() > 0.9 and t[0, 1].mean() < 0.1


def test_16_bit_grayscale(tmp_path):
    array = np.array([[0, 65535], [32768, 1000]], np.uint16)
    Image.fromarray(array).save(tmp_path / "d.png")
    assert Image.open(tmp_path / "d.png").mode.startswith("I")
    t = load_image(tmp_path / "d.png")
    check(t, 2, 2)
    assert t[0, 0].flatten().tolist() == pytest.approx([0, 1, 32768 / 65535, 1000 / 65535], abs=1e-6)


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((2, 4, 3), np.uint8)  # wide image, white top-left pixel
    array[0, 0] = 255
    image = Image.fromarray(array)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    image.save(tmp_path / "o.jpg", exif=exif, quality=100)
    t = load_image(tmp_path / "o.jpg")
    assert t.shape[-2:] == (4, 2)  # displayed upright: now tall
    assert t[0, :, 0, 1].mean() > 0.7  # the white corner moved to the top-right


def test_arrays_and_tensors():
    array = rgb_array()
    from_array = load_image(array)
    check(from_array, 6, 8)
    assert torch.equal(load_image(torch.from_numpy(array).permute(2, 0, 1)), from_array)
    assert torch.equal(load_image(from_array), from_array)
    assert torch.equal(load_image(from_array[0]), from_array)
    check(load_image(np.zeros((3, 4), np.float32)), 3, 4)
    check(load_image(np.zeros((3, 4, 1), np.uint16)), 3, 4)
    check(load_image(np.zeros((3, 4, 4), np.uint8)), 3, 4)
    check(load_image(torch.rand(5, 7)), 5, 7)
    check(load_image(Image.fromarray(array)), 6, 8)


@pytest.mark.parametrize("bad, reason", [
    (np.zeros((2, 3, 5), np.uint8), "expected shape"),
    (np.zeros((0, 3), np.uint8), "zero size"),
    (np.full((2, 2, 3), 255.0), r"\[0, 1\]"),
    (np.zeros((2, 2, 3), np.int64), "dtype"),
    (np.full((2, 2, 3), np.nan, np.float32), "NaN"),
    (torch.rand(2, 3, 4, 4), "batch"),
    (torch.rand(1, 2, 4, 4), "expected shape"),
    (torch.full((3, 4, 4), 2.0), r"\[0, 1\]"),
    ([1, 2, 3], "list"),
])
def test_bad_in_memory_inputs(bad, reason):
    with pytest.raises(ImageError, match=reason):
        load_image(bad)


def test_bad_files_name_the_file_and_reason(tmp_path):
    good = tmp_path / "good.jpg"
    Image.fromarray(rgb_array(64, 64)).save(good)
    cases = {
        "missing.png": (None, "no such file"),
        "empty.png": (b"", "empty"),
        "text.png": (b"hello, not an image\n" * 10, "not an image"),
        "truncated.jpg": (good.read_bytes()[:400], "cannot decode|truncated"),
        "huge.png": (png_claiming_size(200_000, 200_000), "megapixel"),
        "large.png": (png_claiming_size(12_000, 10_000), "120 megapixels"),
    }
    for name, (data, reason) in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(ImageError, match=reason) as err:
            load_image(path)
        assert name in str(err.value)
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_resize_keeps_aspect_and_range():
    t = torch.rand(1, 3, 300, 200)
    small = resize(t, 60)
    assert small.shape == (1, 3, 60, 40)
    assert small.min() >= 0 and small.max() <= 1
    assert resize(t, 300) is t
    assert resize(torch.rand(1, 3, 10, 30), 90).shape == (1, 3, 30, 90)  # upsampling
    assert load_image(rgb_array(40, 80), size=20).shape == (1, 3, 10, 20)
    with pytest.raises(ImageError, match="positive"):
        resize(t, 0)


def test_save_unknown_extension(tmp_path):
    with pytest.raises(ImageError, match=r"out\.xyz"):
        save_image(torch.rand(1, 3, 4, 4), tmp_path / "out.xyz")


def test_bytes_of_an_image_file(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGB", (5, 4), (255, 0, 0)).save(path)
    image = load_image(path.read_bytes())
    assert image.shape == (1, 3, 4, 5) and image[0, 0].min() == 1.0
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")
    with pytest.raises(ImageError, match="not an image"):
        load_image(b"hello, not a picture")
    noisy = tmp_path / "noisy.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(noisy)
    with pytest.raises(ImageError, match="cannot decode"):
        load_image(noisy.read_bytes()[:5000])


def test_shuffle_tiles_moves_whole_blocks():
    image = torch.arange(16.0).view(1, 1, 4, 4).expand(1, 3, 4, 4).contiguous() / 16
    shuffled = shuffle_tiles(image, tiles=2, seed=1)
    blocks = {tuple(image[0, 0, r:r + 2, c:c + 2].flatten().tolist()) for r in (0, 2) for c in (0, 2)}
    moved = {tuple(shuffled[0, 0, r:r + 2, c:c + 2].flatten().tolist()) for r in (0, 2) for c in (0, 2)}
    assert moved == blocks and not torch.equal(shuffled, image)
    assert shuffle_tiles(torch.rand(1, 3, 9, 7), tiles=3).shape == (1, 3, 9, 6)
