"""What every method returns: the image and how it was made.

`stylize` (Gatys optimization) and `apply` (a feedforward network) both return a `Result`:
`result.image` is (1, 3, H, W) float32 on the CPU in [0, 1]; `result.save("out.png")` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .images import save_image, to_pil


@dataclass
class Result:
    image: torch.Tensor  # (1, 3, H, W) float32 on the CPU, in [0, 1]
    status: str = "done"  # "done", "stopped" (stop() was called) or "interrupted" (Ctrl-C: best image)
    steps: int = 0  # optimizer steps taken (0 for one forward pass)
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)  # per step: loss parts + "loss"
    method: str = ""  # "gatys", or the feedforward model's name

    def pil(self):
        return to_pil(self.image)

    def save(self, path):
        return save_image(self.image, path)
