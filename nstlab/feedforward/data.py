"""Training data for the feedforward networks: random square crops of the images in folders."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from ..images import image_files, load_image, resize


class RandomCrops(Dataset):
    """Images from folders as random square crops (3, crop, crop): the shorter side is first
    resized to crop x U(1, 1.25), then a random window is cut and flipped half of the time."""

    def __init__(self, folders, crop: int = 256):
        self.files, self.crop = image_files(folders), crop

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        image = load_image(self.files[index])  # (1, 3, H, W)
        h, w = image.shape[-2:]
        scale = self.crop * (1 + 0.25 * torch.rand(()).item()) / min(h, w)
        image = resize(image, max(self.crop, round(max(h, w) * scale)))
        h, w = image.shape[-2:]
        top = torch.randint(0, h - self.crop + 1, ()).item()
        left = torch.randint(0, w - self.crop + 1, ()).item()
        crop = image[0, :, top:top + self.crop, left:left + self.crop]
        return crop.flip(-1) if torch.rand(()) < 0.5 else crop
