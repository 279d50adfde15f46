"""The stabilizer under a slider: its strength, and what it does to flicker and to the frames.

    StabilizerExplorer(outputs, flows=..., masks=...)   move the strength, read the warping error

`outputs` (T, 3, H, W) are a method's frames, `flows`/`masks` the input clip's (exact for a
synthetic clip; or give `inputs` to estimate them once). Each move re-runs `video.stabilize`
(milliseconds for a short clip) and shows the first frames and the warping error beside the
unstabilized one.
"""

from __future__ import annotations

import ipywidgets as W
import torch

from ..images import tile
from ..video.flow import clip_flows
from ..video.metrics import warping_error
from ..video.stabilize import stabilize
from .preview import png


class StabilizerExplorer(W.VBox):
    """A strength slider and a "keep the detail" box over `video.stabilize`, with the frames and
    their warping error redrawn at every change."""

    def __init__(self, outputs: torch.Tensor, inputs: torch.Tensor | None = None, *, flows=None, masks=None,
                 strength: float = 0.5, frames: int = 4):
        self.outputs = outputs
        self.flows, self.masks = clip_flows(inputs, flows, masks)  # once, not at every move
        self.frames = frames
        self.own = warping_error(outputs, flows=self.flows, masks=self.masks)
        self.strength = W.FloatSlider(strength, min=0.0, max=0.95, step=0.05, description="strength",
                                      continuous_update=False, readout_format=".2f")
        self.keep_detail = W.Checkbox(True, description="keep the detail", indent=False)
        self.picture = W.Image(format="png")
        self.info = W.HTML()
        for control in (self.strength, self.keep_detail):
            control.observe(lambda _: self.draw(), "value")
        super().__init__([W.HBox([self.strength, self.keep_detail]), self.info, self.picture])
        self.draw()

    def draw(self) -> float:
        """Stabilize at the current settings, show it; returns the warping error."""
        steady = stabilize(self.outputs, strength=self.strength.value, keep_detail=self.keep_detail.value,
                           flows=self.flows, masks=self.masks)
        error = warping_error(steady, flows=self.flows, masks=self.masks)
        self.picture.value = png(tile(steady[:self.frames]))
        self.info.value = (f"warping error <b>{error:.5f}</b>, per frame {self.own:.5f} "
                           f"({self.own / max(error, 1e-12):.1f}x less flicker)")
        return error
