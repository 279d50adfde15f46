"""One training loop for the feedforward style networks, on any folder of photos; it knows no model.

Johnson, Alahi & Fei-Fei (ECCV 2016) train an image transformation network to minimize the same
perceptual loss that Gatys et al. optimize per image; afterwards a style costs one forward pass.
What is minimized comes from the network's objective (objectives.py); this loop only loops:

    each step: a batch of random crops of the photos (B, 3, crop, crop) -> objective -> Adam on
    objective.trainable(); a progress bar with the losses, a preview every `preview_every`
    steps, a checkpoint every `checkpoint_every` steps and at the end; `resume=` continues from a
    checkpoint (weights, optimizer state, step, history).

Under `torchrun` (NCCL on GPUs, gloo on CPU) the same loop runs data-parallel: each process gets
its share of every batch through a DistributedSampler and DistributedDataParallel averages the
gradients; only rank 0 writes checkpoints, previews and the progress bar.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

from ..device import default_device
from ..errors import InputError
from ..files import atomic, load_tensors
from ..images import save_image, tile
from ..progress import bar as progress_bar
from ..result import TrainResult
from .data import RandomCrops, batches


@dataclass
class TrainConfig:
    steps: int = 2000
    batch: int = 4  # images per step, over all processes
    crop: int = 256
    lr: float = 1e-3
    seed: int = 0
    preview_every: int = 100
    checkpoint_every: int = 500
    workers: int = 0  # processes that load and crop images (0: the training process itself)

    def __post_init__(self):
        for name, low in (("steps", 1), ("batch", 1), ("crop", 16), ("preview_every", 1),
                          ("checkpoint_every", 1), ("workers", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise InputError(f"{name} must be a whole number >= {low}, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise InputError(f"lr must be a number > 0, got {self.lr!r}")


@dataclass
class TrainStep:
    """What a callback sees after each step (the fields of the Gatys engine's `Step`)."""

    step: int  # 1-based, counting the steps of a resumed checkpoint
    total: int
    loss: float  # the weighted total
    losses: dict[str, float]  # the parts: "content", "style", "tv", ...
    preview: torch.Tensor | None  # (B, 3, crop, crop) outputs at a preview step, else None


def _resume(path, model, optimizer, device) -> tuple[list, int]:
    """Load a checkpoint into the model and optimizer -> (history, step); one clear error if it
    is missing, damaged or from another network."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint (it is the run folder's checkpoint.pt)")
    state = load_tensors(path, InputError, "a checkpoint nstlab can resume from", map_location=device)
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        return list(state["history"]), int(state["step"])
    except Exception as err:  # unpickling, missing keys, shapes of another network: no common type
        raise InputError(f"{path}: cannot resume from it ({type(err).__name__}: {str(err)[:200]}); is it "
                         "a checkpoint of this kind and size of network?") from err


def train(objective: torch.nn.Module, photos, config: TrainConfig | None = None, *,
          run_dir=None, resume=None, callback: Callable[[TrainStep], None] | None = None,
          progress: bool = True, device=None) -> TrainResult:
    """Train `objective.model` and return a `TrainResult` (the model, this process's loss history).

    objective: a module from objectives.py (or any with .model, .trainable() and
    forward(photos) -> (loss, parts, outputs)). photos: folder(s) of training photos.
    run_dir: where checkpoints (`checkpoint.pt`) and previews go (None: nowhere); resume: a
    checkpoint to continue from. device: None = the default device (`nstlab.default_device`);
    the objective, and so the network, is moved there.
    """
    began = time.perf_counter()
    config = config or TrainConfig()
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if config.batch % world:
        raise InputError(f"batch {config.batch} does not split over {world} processes")
    device = default_device(device)
    model = objective.model
    objective.to(device)
    trainable = objective.trainable()
    model.requires_grad_(False)  # only what the objective trains gets gradients
    for p in trainable:
        p.requires_grad_(True)
    if not trainable:
        raise InputError("the objective has no parameters to train")
    optimizer = torch.optim.Adam(trainable, lr=config.lr)
    history, start = [], 0
    if resume is not None:
        history, start = _resume(resume, model, optimizer, device)
    torch.manual_seed(config.seed + 1000 * rank + start)  # crops and styles differ per process
    if world > 1:  # gradients averaged over the processes in backward()
        objective = torch.nn.parallel.DistributedDataParallel(  # the Gram targets are constants:
            objective, device_ids=[device.index] if device.type == "cuda" else None,  # no broadcast
            broadcast_buffers=False)
    photos = RandomCrops(photos, config.crop)
    sampler = DistributedSampler(photos, world, rank, seed=config.seed) if world > 1 else None
    loader = batches(photos, config.batch // world, config.workers, device, sampler)
    out = None if run_dir is None else Path(run_dir)
    if out is not None and rank == 0:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"{out}: cannot make the run folder ({err.strerror})") from None

    def checkpoint():
        with atomic(out / "checkpoint.pt") as tmp:  # an interrupted save keeps the last one
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "step": step, "history": history}, tmp)

    model.train()
    bar = progress_bar(total=config.steps, initial=start, disable=not progress or rank > 0, desc="train",
                       unit="step")
    step, epoch, drawn = start, 0, iter(())
    try:
        while step < config.steps:
            try:
                x = next(drawn)
            except StopIteration:
                if isinstance(sampler, DistributedSampler):
                    sampler.set_epoch(epoch)
                epoch += 1
                drawn = iter(loader)
                continue
            loss, parts, output = objective(x.to(device, non_blocking=True))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            total, values = loss.item(), {k: v.item() for k, v in parts.items()}
            history.append({"loss": total, **values})
            bar.update()
            bar.set_postfix({k: f"{v:.3g}" for k, v in history[-1].items()}, refresh=False)
            preview = output.detach() if step % config.preview_every == 0 or step == config.steps else None
            if rank == 0 and out is not None:
                if preview is not None:
                    save_image(tile(preview), out / f"preview-{step:06d}.png")
                if step % config.checkpoint_every == 0 or step == config.steps:
                    checkpoint()
            if callback is not None:
                callback(TrainStep(step, config.steps, total, values, preview))
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM through the command line: keep what was learned
        if rank == 0 and out is not None and step > start:
            checkpoint()
            print(f"interrupted at step {step}: {out / 'checkpoint.pt'} continues it (--resume)",
                  file=sys.stderr)
        raise
    finally:
        bar.close()
    model.eval()
    return TrainResult(model, "done", step, time.perf_counter() - began, history, type(model).__name__, out)
