"""Feedforward speed: inference per image, training throughput, and the speed-up over Gatys.

    NSTLAB_VGG_WEIGHTS=../shared/weights/vgg16-imagenet-features.pth NSTLAB_DATA=../shared/images \
        python benchmarks/bench_feedforward.py [--sizes 256,512,1024] [--gatys-steps 100]

Prints ms per image for the Johnson network (the paper's width 32 and the shipped width 16; instance
and conditional norm) and for AdaIN (VGG encoder to relu4_1 + decoder) at each size on the CPU, and
on CUDA when present; training images/s at 128 px crops (as the shipped models were trained); and Gatys
optimization at 256 px for comparison. Speed does not depend on the weights, so untrained networks
are timed.
"""

import argparse
import functools
import itertools
import os
import time

import torch

import nstlab
from nstlab.feedforward.adain import AdaIN, Decoder
from nstlab.feedforward.johnson import TransformerNet
from nstlab.feedforward.objectives import AdaINObjective, PerceptualObjective


def timed(fn, repeats: int, device) -> float:
    """Median seconds of fn() over `repeats` runs, after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        began = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - began)
    return sorted(times)[len(times) // 2]


def _with_next(net, x, styles):
    return net(x, next(styles))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="256,512,1024")
    parser.add_argument("--gatys-steps", type=int, default=100)
    parser.add_argument("--train-steps", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    vgg = nstlab.load_vgg()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    content = nstlab.load_sample("tubingen")
    style = nstlab.load_sample("starry_night", 256)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, VGG {vgg.arch}")

    results = {}
    for device in devices:
        nets = {"johnson, width 32 (paper)": TransformerNet(),
                "johnson, width 16 (shipped)": TransformerNet(width=16),
                "cin, width 16, 6 styles (shipped)": TransformerNet(norm="conditional", width=16, styles=6),
                "adain, decoder 1.0 (paper, shipped)": AdaIN(vgg, Decoder()),
                "adain, decoder 0.5 (laptop recipe)": AdaIN(vgg, Decoder(width=0.5))}
        for name, net in nets.items():
            net = net.to(device).eval()
            for size in sizes:
                x = nstlab.resize(content, size).to(device)
                s = style.to(device)
                with torch.no_grad():
                    if name.startswith("adain"):  # a painting it has not seen each time (no kept features)
                        unseen = (s.roll(k, -1) for k in itertools.count())
                        run = functools.partial(_with_next, net, x, unseen)
                    else:
                        run = functools.partial(net, x)
                    seconds = timed(run, 3 if size >= 1024 else 5, device)
                results[(device.type, name, size)] = seconds
                print(f"{device.type:4} {name:32} {size:5} px  {1000 * seconds:8.1f} ms/image")

        batch, crop = 4, 128
        paintings = [os.path.join(os.environ.get("NSTLAB_DATA", "."), "styles")]  # AdaIN: a folder
        trainees = {"johnson, width 16": PerceptualObjective(TransformerNet(width=16), [style], vgg),
                    "adain, decoder 0.5": AdaINObjective(AdaIN(vgg, Decoder(width=0.5)), paintings,
                                                         crop=crop)}
        for name, objective in trainees.items():
            objective = objective.to(device)
            objective.model.train()
            optimizer = torch.optim.Adam(objective.trainable(), lr=1e-3)
            x = torch.rand(batch, 3, crop, crop, device=device)

            def step(objective=objective, optimizer=optimizer, x=x):
                loss = objective(x)[0]
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

            seconds = timed(step, args.train_steps, device)
            print(f"{device.type:4} train {name:26} {crop} px crops, batch {batch}: "
                  f"{batch / seconds:6.2f} images/s ({seconds:.2f} s/step)")

    began = time.perf_counter()
    nstlab.stylize(content, style, extractor=vgg.cpu(), size=256, steps=args.gatys_steps, progress=False,
                   device="cpu")
    gatys = time.perf_counter() - began
    print(f"cpu  gatys, {args.gatys_steps} L-BFGS steps, 256 px: {gatys:.1f} s", end="")
    johnson = results.get(("cpu", "johnson, width 16 (shipped)", 256))
    print("" if johnson is None else
          f" = {gatys / johnson:.0f}x the Johnson network's {1000 * johnson:.0f} ms")


if __name__ == "__main__":
    main()
