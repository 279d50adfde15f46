"""How good the results are, judged on photos and paintings no method trained on: scores and sheets.

    python benchmarks/bench_quality.py                          # the networks, 4 held-out photos, 512 px
    python benchmarks/bench_quality.py --gatys                  # and the Gatys defaults (minutes)
    python benchmarks/bench_quality.py --photos DIR --out DIR   # other photos; where the sheets go

The held-out split: photos from BSDS500 `test/` (the networks trained on `train/` + `val/`) and, for
AdaIN, paintings outside `images/styles/` (its training set). The Johnson and CIN networks are
judged on their own paintings; the Gatys defaults on all seven, two of them abstract. The judge
is VGG-16 (`video.style_and_content`): style = the relative Gram distance to the painting over
relu1_1 ... relu5_1, content = the relative relu4_2 distance to the photo, both lower-better;
beside them the photo's own style distance and the painting's own content distance, the two
ends of the scale. Beside them two artefacts the scores barely see (`feedforward.evaluate`):
"grid", the amplitude in grey levels of the pattern locked to a network's stride (4 px Johnson/
CIN, 8 px AdaIN; a photo ~0.1-0.4), the larger of columns and rows; "borders", how much worse a
mirrored photo's result matches the mirrored result at the side borders than inside (1 = alike;
a band along one edge > 1). Then where the CIN network's 50/50 mixes sit between their two
styles by the same judge (0 = the first style, 1 = the second; 0.5 = where the weights say).
One contact sheet per painting (rows: photos; columns: the photo, then each method) goes to --out,
and gallery.jpg there: the second photo through every network, one row per painting (the
README's docs/feedforward.jpg is a copy).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import nstlab
from nstlab.feedforward.evaluate import grid_pattern, mirror_borders
from nstlab.images import image_files, load_image, save_image
from nstlab.samples import resolve_image
from nstlab.video import style_and_content

SHARED = Path(os.environ.get("NSTLAB_SHARED", Path(__file__).resolve().parents[2] / "shared"))
# painting -> the shipped networks judged on it: their own painting, and AdaIN where it never
# trained on the painting (the two abstract ones are in its training set: Gatys only)
PAINTINGS = {
    "starry_night": ["johnson-starry_night", "cin-6styles", "adain"],
    "the_scream": ["johnson-the_scream", "cin-6styles", "adain"],
    "great_wave": ["johnson-great_wave", "cin-6styles", "adain"],
    str(SHARED / "images" / "woman-with-hat-matisse.jpg"): ["adain"],
    str(SHARED / "images" / "shipwreck.jpg"): ["adain"],
    str(SHARED / "images" / "styles" / "kandinsky_composition_vii.jpg"): [],
    str(SHARED / "images" / "styles" / "picabia_udnie.jpg"): [],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=SHARED / "images" / "content" / "bsds500" / "test")
    parser.add_argument("--limit", type=int, default=4, help="photos (the first N, sorted)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--gatys", action="store_true", help="also the Gatys defaults (100 L-BFGS steps)")
    parser.add_argument("--gatys-size", type=int, default=384, help="the size Gatys runs at (then enlarged)")
    parser.add_argument("--out", type=Path, default=Path("quality"), help="folder for the contact sheets")
    parser.add_argument("--paintings", nargs="+", default=None, help="only these (names as printed)")
    args = parser.parse_args()
    photos = [load_image(p, args.size) for p in image_files(args.photos)[: args.limit]]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{len(photos)} photos from {args.photos} at {args.size} px, nstlab {nstlab.__version__}")
    print(f"{'painting':24} {'method':28} {'style':>6} {'content':>8} {'style/photo':>12} "
          f"{'content/painting':>17} {'s/image':>8} {'grid':>5} {'borders':>8}")
    gallery = []
    for painting, networks in PAINTINGS.items():
        name = Path(painting).stem
        if args.paintings and name not in args.paintings:
            continue
        methods = {n: (lambda p, n=n, s=painting: nstlab.apply(n, p, None if n.startswith("johnson") else s))
                   for n in networks}
        if args.gatys:
            methods["gatys defaults"] = lambda p, s=painting: gatys(p, s, args.gatys_size)
        if not methods:
            continue
        columns = {"photo": photos}
        baseline = judge(photos, photos, painting)
        own_content = judge([in_place(painting, p) for p in photos], photos, painting)["content"]
        for method, run in methods.items():
            began = time.perf_counter()
            outputs = [run(p).image for p in photos]
            seconds = (time.perf_counter() - began) / len(photos)
            scores = judge(outputs, photos, painting)
            columns[method] = outputs
            grid, borders = artefacts(method, painting, photos, outputs)
            print(f"{name:24} {method:28} {scores['style']:6.3f} {scores['content']:8.3f} "
                  f"{scores['style'] / baseline['style']:12.2f} {scores['content'] / own_content:17.2f} "
                  f"{seconds:8.1f} {grid:5.2f} {borders:8}", flush=True)
        print(f"{name:24} {'(the photo itself)':28} {baseline['style']:6.3f} {0:8.3f}")
        print(f"{name:24} {'(the painting itself)':28} {'':6} {own_content:8.3f}")
        save_image(sheet(columns, 256), args.out / f"{name}.png")
        pick = min(1, len(photos) - 1)
        gallery.append({"painting": [in_place(painting, photos[pick])],
                        **{k: v[pick:pick + 1] for k, v in columns.items() if not k.startswith("gatys")}})
    rows = [strip([images[0] for images in row.values()], 192) for row in gallery if len(row) > 2]
    if rows:
        width = max(r.shape[-1] for r in rows)
        rows = [F.pad(r, [0, width - r.shape[-1], 0, 4], value=1.0) for r in rows]  # white, left-aligned
        save_image(torch.cat(rows, dim=-2), args.out / "gallery.jpg")
    print(f"contact sheets and gallery.jpg in {args.out}/")
    if not args.paintings:
        mix_midpoints("cin-6styles", photos, [("starry_night", "the_scream"), ("starry_night", "great_wave"),
                                              ("the_scream", "great_wave"), ("udnie", "kandinsky")])
    return 0


def artefacts(method: str, painting, photos, outputs) -> tuple[float, str]:
    """The grid amplitude of a network's outputs (the larger direction, mean over photos) and its
    borders ratio (networks of the Johnson kind); NaN and "-" for what has no stride grid."""
    if method.startswith("gatys"):
        return float("nan"), "-"
    period = 8 if method == "adain" else 4
    grid = sum(max(grid_pattern(o, period)) for o in outputs) / len(outputs)
    if method == "adain":
        return grid, "-"
    net, style = nstlab.load_model(method), None if method.startswith("johnson") else Path(painting).stem
    net_style = {} if style is None else {"style": net.info.styles.index(style)}
    with torch.no_grad():
        pairs = [mirror_borders(net, p, **net_style) for p in photos]
    return grid, f"{sum(e for e, _ in pairs) / sum(i for _, i in pairs):.2f}"


def mix_midpoints(name: str, photos, pairs) -> None:
    """Where the 50/50 mix of styles a and b sits: r(x) = d_a / (d_a + d_b) by the judge's style
    distances, placed between the pure outputs' r as 0 ... 1, averaged over the photos."""
    net = nstlab.load_model(name)
    print(f"\n{name}: where a 50/50 mix sits between its two styles (0 = the first, 1 = the second)")
    for a, b in pairs:
        places = []
        ia, ib = net.info.styles.index(a), net.info.styles.index(b)
        for photo in photos:
            shares = []
            for w_a, w_b in ((1.0, 0.0), (0.0, 1.0), (0.5, 0.5)):
                weights = torch.zeros(net.styles)
                weights[ia], weights[ib] = w_a, w_b
                with torch.no_grad():
                    out = net(photo, style=weights)
                d_a, d_b = (style_and_content(out, photo, s)["style"] for s in (a, b))
                shares.append(d_a / (d_a + d_b))
            pure_a, pure_b, half = shares
            places.append((half - pure_a) / (pure_b - pure_a))
        print(f"  {a:>14} / {b:<14} {sum(places) / len(places):.2f}", flush=True)


def gatys(photo: torch.Tensor, painting, size: int) -> nstlab.Result:
    """nstlab.stylize at its defaults and `size`, enlarged to the photo's size for the judge."""
    result = nstlab.stylize(photo, painting, size=size, progress=False)
    result.image = F.interpolate(result.image, size=photo.shape[-2:], mode="bicubic").clamp(0, 1)
    return result


def judge(images, photos, painting) -> dict[str, float]:
    """Mean style and content distances of `images` (each (1, 3, H, W)) to `painting` and `photos`."""
    scores = [style_and_content(i, p, painting) for i, p in zip(images, photos, strict=True)]
    return {k: sum(s[k] for s in scores) / len(scores) for k in ("style", "content")}


def in_place(painting, photo: torch.Tensor) -> torch.Tensor:
    """The painting at the photo's size: what losing the content entirely looks like."""
    return F.interpolate(resolve_image(painting), size=photo.shape[-2:], mode="bilinear", antialias=True)


def strip(images, height: int) -> torch.Tensor:
    """Images (each (1, 3, H, W)) resized to `height` and set side by side, 4 px of white between."""
    cells = []
    for image in images:
        h, w = image.shape[-2:]
        cells += [F.interpolate(image, size=(height, round(w * height / h)), mode="bilinear", antialias=True),
                  torch.ones(1, 3, height, 4)]
    return torch.cat(cells[:-1], dim=-1).clamp(0, 1)


def sheet(columns: dict[str, list[torch.Tensor]], side: int) -> torch.Tensor:
    """Rows of images (one per photo), each image fitted into a side x side cell on white."""
    rows = []
    for i in range(len(next(iter(columns.values())))):
        cells = []
        for images in columns.values():
            image = nstlab.images.resize(images[i], side)
            cell = torch.ones(1, 3, side, side)
            h, w = image.shape[-2:]
            cell[..., (side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = image
            cells.append(cell)
        rows.append(torch.cat(cells, dim=-1))
    return torch.cat(rows, dim=-2)


if __name__ == "__main__":
    sys.exit(main())
