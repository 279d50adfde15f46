"""What every method returns: the work and how it was made, one family of result types.

    Result         an image: `stylize` (Gatys optimization), `apply` (a trained network)
    VideoResult    a clip (nstlab.video): the same fields, plus the frames, their flow and flicker
    TrainResult    a trained network (`train`): the same bookkeeping, plus the model and run folder

Every result has `status` ("done", "stopped" or "interrupted"), `steps`, `seconds`, `history`
(one dict per step or frame: the loss parts and "loss") and `method`. `result.image` is
(1, 3, H, W) float32 on the CPU in [0, 1]; `result.save("out.png")` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from .images import save_image, to_pil


@dataclass
class Result:
    image: torch.Tensor  # (1, 3, H, W) float32 on the CPU, in [0, 1]
    status: str = "done"  # "done", "stopped" (stop() was called) or "interrupted" (Ctrl-C: best so far)
    steps: int = 0  # optimizer steps taken (0 for one forward pass)
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)  # per step: loss parts + "loss"
    method: str = ""  # "gatys", or the feedforward model's name

    def pil(self):
        return to_pil(self.image)

    def save(self, path):
        return save_image(self.image, path)


@dataclass
class TrainResult:
    """What `train` returns: the trained network and its loss history."""

    model: torch.nn.Module  # the network, trained, in eval mode
    status: str = "done"
    steps: int = 0  # the step the run ended at (counting the steps of a resumed checkpoint)
    seconds: float = 0.0  # this call's time
    history: list[dict[str, float]] = field(default_factory=list)  # per step: loss parts + "loss"
    method: str = ""  # the network's class
    run_dir: Path | None = None  # where the checkpoint and previews are

    @property
    def losses(self) -> dict[str, float]:
        """The last step's losses ({} before any step)."""
        return self.history[-1] if self.history else {}
