"""The live preview shared by the studio and the training monitor: an image, a loss plot, a status.

Drawing happens in whatever thread calls it (the studio's worker, the training loop) with a plain
matplotlib `Figure` and the Agg canvas -- never pyplot, never an `Output` widget -- into
`ipywidgets.Image` PNG bytes. `offer()` draws at most `fps` frames a second and only while drawing
has cost under `budget` of the time since `start()`, so a preview never slows the run it shows
by more than that (one frame more at most); `draw()` always draws (the first and last frame).
"""

from __future__ import annotations

import html
import io
import time

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from .. import viz
from ..images import to_pil

DRAW_BUDGET = 0.08  # drawing may take about this share of the run's wall time


def png(image: torch.Tensor) -> bytes:
    """(1, 3, H, W) in [0, 1] -> PNG bytes."""
    buffer = io.BytesIO()
    to_pil(image.detach().float().cpu()).save(buffer, format="PNG")
    return buffer.getvalue()


def figure_png(draw, width: float, height: float) -> bytes:
    """Draw into a fresh pyplot-free Figure (draw(fig)) and return it as PNG bytes."""
    fig = Figure(figsize=(width, height), dpi=90, layout="constrained")
    draw(fig)
    return viz.png_bytes(fig)


def loss_png(history: list[dict[str, float]]) -> bytes:
    return figure_png(lambda fig: viz.loss_curves(history, ax=fig.subplots()), 6.4, 3.6)


class LivePreview:
    """The widgets `image`, `loss_plot` and `status`, and the throttled drawing into them."""

    def __init__(self, *, fps: float = 4.0, budget: float = DRAW_BUDGET, image_width: str = "400px",
                 plot_width: str = "576px"):
        self.image = W.Image(format="png", layout=W.Layout(width=image_width, height="auto",
                                                           object_fit="contain"))
        self.loss_plot = W.Image(format="png", layout=W.Layout(width=plot_width, height="auto"))
        self.status = W.HTML()
        self.error = False  # the status line shows an error
        self.fps, self.budget = fps, budget
        self.start()

    def start(self) -> None:
        """A new run: frame counters and the time budget start again."""
        self.frames, self.draw_seconds = 0, 0.0
        self.started, self.last_frame = time.perf_counter(), 0.0

    def offer(self, image: torch.Tensor | None, history: list[dict[str, float]]) -> bool:
        """Draw if a frame is due and affordable; True if it drew."""
        now = time.perf_counter()
        due = now - self.last_frame >= 1.0 / self.fps
        affordable = self.draw_seconds <= self.budget * (now - self.started)
        if due and affordable:
            self.draw(image, history)
        return due and affordable

    def draw(self, image: torch.Tensor | None, history: list[dict[str, float]]) -> None:
        """One frame now: the image (if any) and the loss curves of `history`."""
        began = time.perf_counter()
        if image is not None:
            self.image.value = png(image)
        self.loss_plot.value = loss_png(list(history))
        self.last_frame = time.perf_counter()
        self.frames += 1
        self.draw_seconds += self.last_frame - began

    def share(self) -> str:
        """" · drawing N% of the time"."""
        elapsed = time.perf_counter() - self.started
        return f" · drawing {100 * self.draw_seconds / max(elapsed, 1e-9):.0f}% of the time"

    def say(self, text: str, error: bool = False) -> None:
        self.error = error
        color = "#b00020" if error else "inherit"
        self.status.value = f"<span style='color:{color}'>{html.escape(text)}</span>"
