"""Training data for the feedforward networks: random square crops of the images in folders."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from ..errors import ImageError
from ..images import image_files, load_image, resize


class RandomCrops(Dataset):
    """Images from folders as random square crops (3, crop, crop): the shorter side is first
    resized to side x U(1, 1.25) (side: default crop, the whole image's height or width), then a
    random window is cut and flipped half of the time. A side larger than the crop keeps the
    image's detail at the scale it has at that size: a painting's brush marks as they look when
    the painting is `side` pixels high.
    A file that cannot be read is skipped with a warning (`skipped` lists them) and another one
    is taken in its place; only when none can be read does it raise."""

    def __init__(self, folders, crop: int = 256, side: int | None = None):
        self.files, self.crop, self.side = image_files(folders), crop, max(crop, side or crop)
        self.skipped: list[Path] = []

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, index: int) -> torch.Tensor:
        while True:
            file = self.files[index]
            if file not in self.skipped:
                try:
                    return load_image(file)  # (1, 3, H, W)
                except ImageError as err:
                    self.skipped.append(file)
                    warnings.warn(f"skipped an image that cannot be read ({len(self.skipped)} so far): {err}",
                                  stacklevel=2)
            if len(self.skipped) == len(self.files):
                raise ImageError(f"none of the {len(self.files)} images can be read")
            index = torch.randint(len(self.files), ()).item()

    def __getitem__(self, index: int) -> torch.Tensor:
        image = self._load(index)
        h, w = image.shape[-2:]
        scale = self.side * (1 + 0.25 * torch.rand(()).item()) / min(h, w)
        image = resize(image, max(self.crop, round(max(h, w) * scale)))
        h, w = image.shape[-2:]
        top = torch.randint(0, h - self.crop + 1, ()).item()
        left = torch.randint(0, w - self.crop + 1, ()).item()
        crop = image[0, :, top:top + self.crop, left:left + self.crop]
        return crop.flip(-1) if torch.rand(()) < 0.5 else crop


def batches(crops: RandomCrops, batch: int, workers: int, device: torch.device, sampler=None) -> DataLoader:
    """A loader of `batch` crops (batch, 3, crop, crop) drawn at random with replacement, without
    end (or in the order of `sampler`, e.g. a DistributedSampler's epochs). `workers` processes
    decode and crop the images while the device trains (a GPU otherwise waits on one CPU core),
    into page-locked memory when the device is a GPU."""
    if sampler is None:
        sampler = RandomSampler(crops, replacement=True, num_samples=10**9)
    return DataLoader(crops, batch_size=batch, sampler=sampler, drop_last=True, num_workers=workers,
                      persistent_workers=workers > 0, pin_memory=device.type == "cuda")
