"""Watching a feedforward network train: the latest outputs, the loss curves and a status line."""

from __future__ import annotations

import ipywidgets as W

from ..images import tile
from .preview import LivePreview, png


class TrainingMonitor(W.VBox):
    """Pass `monitor.update` as `train(..., callback=)`: the outputs at each preview step, the loss
    curves at most `fps` times a second within the drawing budget (the last step always)."""

    def __init__(self, fps: float = 2.0):
        self.live = LivePreview(fps=fps, image_width="520px", plot_width="520px")
        self.preview, self.loss_plot, self.status = self.live.image, self.live.loss_plot, self.live.status
        self.live.say("waiting for the first step")
        self.history: list[dict[str, float]] = []
        super().__init__([self.status, W.HBox([self.loss_plot, self.preview])])

    def update(self, step) -> None:
        """One training step (a `feedforward.TrainStep`)."""
        if not self.history:
            self.live.start()
        self.history.append({**step.losses, "loss": step.loss})
        if step.preview is not None:
            self.preview.value = png(tile(step.preview[:4]))
        last = step.step == step.total
        if last:
            self.live.draw(None, self.history)
        if last or self.live.offer(None, self.history):
            self.live.say(f"step {step.step}/{step.total} · "
                          + " · ".join(f"{k} {v:.3g}" for k, v in {"loss": step.loss, **step.losses}.items()))
