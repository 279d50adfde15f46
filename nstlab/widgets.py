"""Live notebook widgets (ipywidgets 8): look at features, compare Gram matrices, steer a run.

    FeatureExplorer(image)         a layer dropdown and a channel slider over VGG's feature maps
    GramExplorer(image_a, image_b) two images' Gram matrices at a layer, and their style distance
    Studio()                       Gatys et al. (2016) style transfer with controls that act while
                                   it runs: images, layers, weights, Start/Pause/Resume/Stop/Reset
    TrainingMonitor()              preview and loss curve of a feedforward network while it trains
    StyleMixer(model, image)       a slider per style of a conditional network: mix them instantly

How the studio stays responsive (ipykernel >= 6.29 with JupyterLab >= 4.4 handles widget messages
on their own thread while a cell runs, and between cells the kernel is idle anyway):
- `Studio.run()` starts one worker thread and returns at once; `wait()` blocks until it ends
  (scripts, tests, "Run All").
- Widget observers only build a new immutable `Settings` and hand it to `StyleTransfer.update()`
  (a swap under a lock); the worker takes a snapshot at each step, so a change acts at the next
  step.
- The worker draws with a plain matplotlib `Figure` and the Agg canvas (never pyplot, never an
  `Output` widget) into `ipywidgets.Image` PNG bytes, at most `fps` frames a second and only
  while drawing has cost under `DRAW_BUDGET` of the time so far.
- Anything the worker raises ends up in the status line, never in a lost thread.
Adam is the default live optimizer: L-BFGS restarts its history at every change of the weights.
"""

from __future__ import annotations

import html
import io
import threading
import time
from pathlib import Path

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from . import viz
from .gatys import INITS, OPTIMIZERS, Result, Step, StyleTransfer
from .images import ImageError, load_image, resize, save_image, to_pil
from .losses import Settings, gram_matrix, style_loss
from .samples import SampleError, resolve_image, sample_names
from .train import tile
from .vgg import VGGFeatures, load_vgg

DRAW_BUDGET = 0.08  # drawing may take about this share of the run's wall time (one frame more at most)
CONTENT_CHOICES = ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2")
STYLE_CHOICES = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
UPLOAD = "(uploaded)"


def _png(image: torch.Tensor) -> bytes:
    """(1, 3, H, W) in [0, 1] -> PNG bytes."""
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _figure_png(draw, width: float, height: float) -> bytes:
    """Draw into a fresh pyplot-free Figure (draw(fig)) and return it as PNG bytes."""
    fig = Figure(figsize=(width, height), dpi=90, layout="constrained")
    draw(fig)
    return viz.png_bytes(fig)


def _loss_png(history: list[dict[str, float]]) -> bytes:
    return _figure_png(lambda fig: viz.loss_curves(history, ax=fig.subplots()), 6.4, 3.6)


def _relu_layers(extractor: VGGFeatures) -> list[str]:
    return [n for n in extractor.names if n.startswith("relu")]


class FeatureExplorer(W.VBox):
    """An image, a layer dropdown and a channel slider: the grid shows the layer's most active
    channels, the large panel the chosen channel next to the image."""

    def __init__(self, image, extractor: VGGFeatures | None = None, *, size: int = 256,
                 layer: str = "relu1_1", top: int = 16):
        self.image = resolve_image(image, size)
        self.extractor = extractor or load_vgg()
        self.top = top
        self._cache: dict[str, torch.Tensor] = {}
        self.layer = W.Dropdown(options=_relu_layers(self.extractor), value=layer, description="layer")
        self.channel = W.IntSlider(0, min=0, max=self.extractor.channels(layer) - 1, description="channel",
                                   continuous_update=False)
        self.grid = W.Image(format="png")
        self.single = W.Image(format="png")
        self.info = W.HTML()
        self.layer.observe(self._layer_changed, "value")
        self.channel.observe(lambda _: self._draw_single(), "value")
        super().__init__([W.HBox([self.layer, self.channel]), self.info, self.single, self.grid])
        self._layer_changed()

    def features(self, layer: str | None = None) -> torch.Tensor:
        """(1, C, H, W) activations of the image at `layer` (default: the chosen one), cached."""
        layer = layer or self.layer.value
        if layer not in self._cache:
            with torch.no_grad():
                self._cache[layer] = self.extractor(self.image, [layer])[layer].float().cpu()
        return self._cache[layer]

    def _layer_changed(self, _=None) -> None:
        f = self.features()  # (1, C, H, W)
        self.channel.max = f.shape[1] - 1
        h, w = self.image.shape[-2:]
        self.info.value = (f"<b>{self.layer.value}</b>: {f.shape[1]} channels of {f.shape[2]}x"
                           f"{f.shape[3]} positions (the image is {h}x{w})")
        self.grid.value = _figure_png(lambda fig: viz.feature_maps(
            f, self.top, title=f"{self.layer.value}: the {self.top} most active channels", fig=fig),
            12, 3.6)
        self._draw_single()

    def _draw_single(self) -> None:
        f, c = self.features(), self.channel.value

        def draw(fig):
            left, right = fig.subplots(1, 2)
            left.imshow(to_pil(self.image))
            left.set_title("image")
            right.imshow(f[0, c].numpy(), cmap="viridis")
            right.set_title(f"{self.layer.value}, channel {c}")
            for ax in (left, right):
                ax.axis("off")

        self.single.value = _figure_png(draw, 8, 3.6)


class GramExplorer(W.VBox):
    """Two images' Gram matrices at a chosen layer, side by side, and the style distance
    ||G_a - G_b||^2 / ||G_b||^2 between them (the style loss of `losses`)."""

    def __init__(self, image_a, image_b, extractor: VGGFeatures | None = None, *, size: int = 256,
                 layer: str = "relu1_1", channels: int = 64, titles=("image A", "image B")):
        self.images = [resolve_image(image_a, size), resolve_image(image_b, size)]
        self.titles = list(titles)
        self.extractor = extractor or load_vgg()
        self.channels = channels
        self.layer = W.Dropdown(options=_relu_layers(self.extractor), value=layer, description="layer")
        self.heatmaps = W.Image(format="png")
        self.distance = W.HTML()
        self.layer.observe(lambda _: self._draw(), "value")
        super().__init__([self.layer, self.distance, self.heatmaps])
        self._draw()

    def grams(self, layer: str | None = None) -> list[torch.Tensor]:
        """The two (C, C) Gram matrices at `layer` (default: the chosen one)."""
        layer = layer or self.layer.value
        with torch.no_grad():
            return [gram_matrix(self.extractor(im, [layer])[layer].float())[0].cpu() for im in self.images]

    def _draw(self) -> None:
        a, b = self.grams()
        d = style_loss(a[None], b[None]).item()
        self.distance.value = (f"style distance at <b>{self.layer.value}</b>: "
                               f"||G<sub>A</sub> - G<sub>B</sub>||² / ||G<sub>B</sub>||² = {d:.3g}")
        self.heatmaps.value = _figure_png(lambda fig: viz.gram_heatmaps(
            dict(zip(self.titles, (a, b), strict=True)), channels=self.channels, fig=fig), 9, 4.2)


class Studio(W.VBox):
    """Gatys style transfer under live control. `run()` starts it in a worker thread and returns;
    every change of a layer or weight acts at the next step; `wait()` blocks until the run ends.

    content / style: sample names, or anything `resolve_image` takes (then shown as "(uploaded)").
    """

    def __init__(self, content="tubingen", style="starry_night", extractor: VGGFeatures | None = None,
                 *, size: int = 256, steps: int = 200, optimizer: str = "adam", init: str = "content",
                 settings: Settings | None = None, device=None, fps: float = 4.0,
                 save_path: str = "studio.png"):
        self.extractor = extractor or load_vgg()
        self.device, self.fps = device, fps
        self.transfer: StyleTransfer | None = None
        self.result: Result | None = None
        self.history: list[dict[str, float]] = []
        self.frames, self.draw_seconds = 0, 0.0
        self._thread: threading.Thread | None = None
        self._uploads: dict[str, torch.Tensor] = {}
        self._latest: Step | None = None
        self._started = self._last_frame = 0.0
        self._defaults = defaults = settings or Settings()

        self.preview = W.Image(format="png", layout=W.Layout(width="400px", height="auto",
                                                             object_fit="contain"))
        self.preview.add_class("nstlab-preview")
        self.loss_plot = W.Image(format="png", layout=W.Layout(width="576px", height="auto"))
        self.loss_plot.add_class("nstlab-loss-plot")
        self.status = W.HTML()
        self.status.add_class("nstlab-status")
        self.content_picker, self.content_upload, self.content_thumb = self._picker("content", content)
        self.style_picker, self.style_upload, self.style_thumb = self._picker("style", style)
        # weights on log sliders; layers as checkboxes, with a weight slider per style layer
        self.content_weight = W.FloatLogSlider(defaults.content_weight, base=10, min=-3, max=3,
                                               description="content", readout_format=".3g")
        self.style_weight = W.FloatLogSlider(defaults.style_weight, base=10, min=-2, max=5,
                                             description="style", readout_format=".3g")
        self.tv_weight = W.FloatLogSlider(max(defaults.tv_weight, 1e-3), base=10, min=-3, max=3,
                                          description="TV", readout_format=".3g")
        self.style_weight.add_class("nstlab-style-weight")
        self.content_layers = {n: W.Checkbox(n in defaults.content_layers, description=n, indent=False)
                               for n in CONTENT_CHOICES}
        self.style_layers = {n: W.Checkbox(n in defaults.style_layers, description=n, indent=False)
                             for n in STYLE_CHOICES}
        self.layer_weights = {n: W.FloatSlider(defaults.style_layers.get(n, 1.0), min=0, max=2, step=0.05,
                                               description="weight", readout_format=".2f")
                              for n in STYLE_CHOICES}
        # run options, taken at Start
        self.optimizer = W.Dropdown(options=OPTIMIZERS, value=optimizer, description="optimizer")
        self.init = W.Dropdown(options=INITS, value=init, description="start from")
        self.size = W.BoundedIntText(size, min=32, max=2048, step=32, description="size (px)")
        self.steps = W.BoundedIntText(steps, min=1, max=100_000, description="steps")
        self.buttons = {name: W.Button(description=name.capitalize(), icon=icon)
                        for name, icon in (("start", "play"), ("pause", "pause"), ("resume", "step-forward"),
                                           ("stop", "stop"), ("reset", "undo"), ("save", "save"))}
        actions = {"start": self.run, "pause": self.pause, "resume": self.resume, "stop": self.stop,
                   "reset": self.reset, "save": self.save}
        for name, button in self.buttons.items():
            button.add_class(f"nstlab-{name}")
            button.on_click(lambda _, action=actions[name]: action())
        self.save_path = W.Text(save_path, description="save as")

        for w in (self.content_weight, self.style_weight, self.tv_weight, *self.content_layers.values(),
                  *self.style_layers.values(), *self.layer_weights.values()):
            w.observe(self._settings_changed, "value")

        super().__init__(self._layout())
        self.add_class("nstlab-studio")
        self._show_images()
        self._set_status("ready: press Start")
        self._sync_buttons()

    # -- what the buttons call, also usable from code ------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings the controls describe now."""
        return Settings(
            content_layers=[n for n, box in self.content_layers.items() if box.value],
            style_layers={n: self.layer_weights[n].value
                          for n, box in self.style_layers.items() if box.value},
            content_weight=self.content_weight.value, style_weight=self.style_weight.value,
            tv_weight=self.tv_weight.value)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, wait: bool = False) -> None:
        """Start a run with the current controls in a worker thread; wait=True blocks until it ends."""
        if self.running:
            self._set_status("already running: Stop it first, or change the controls live")
            return
        try:
            content, style = self.image("content"), self.image("style")
            self.transfer = StyleTransfer(content, style, self.extractor, self.settings, self.device)
        except (ImageError, SampleError, ValueError) as err:
            self._set_status(f"cannot start: {err}", error=True)
            return
        self.history, self.result, self._latest = [], None, None
        self.frames, self.draw_seconds = 0, 0.0
        self._started = time.perf_counter()
        options = dict(steps=self.steps.value, size=self.size.value, optimizer=self.optimizer.value,
                       init=self.init.value)
        self._thread = threading.Thread(target=self._work, kwargs=options, name="nstlab-studio", daemon=True)
        self._thread.start()
        self._set_status(self._progress_text("running"))
        self._sync_buttons()
        if wait:
            self.wait()

    def wait(self, timeout: float | None = None) -> Result | None:
        """Block until the worker ends (or `timeout` seconds pass); the result, if there is one."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.result

    def pause(self) -> None:
        if self.running:
            self.transfer.pause()
            self._set_status(self._progress_text("paused"))
            self._sync_buttons()

    def resume(self) -> None:
        if self.running:
            self.transfer.resume()
            self._set_status(self._progress_text("running"))
            self._sync_buttons()

    def stop(self) -> None:
        if self.running:
            self.transfer.stop()

    def reset(self) -> None:
        """Stop, put every control back to its starting value, and forget the run."""
        self.stop()
        self.wait()
        d = self._defaults
        self.content_weight.value, self.style_weight.value = d.content_weight, d.style_weight
        self.tv_weight.value = max(d.tv_weight, 1e-3)
        for n, box in self.content_layers.items():
            box.value = n in d.content_layers
        for n, box in self.style_layers.items():
            box.value = n in d.style_layers
            self.layer_weights[n].value = d.style_layers.get(n, 1.0)
        self.history, self.result, self._latest, self.transfer = [], None, None, None
        self._show_images()
        self.loss_plot.value = b""
        self._set_status("reset: press Start")
        self._sync_buttons()

    def save(self, path=None) -> Path | None:
        """Save the latest image (the result, or the current step while running); None on failure."""
        image = self.current_image()
        if image is None:
            self._set_status("nothing to save yet: press Start", error=True)
            return None
        try:
            saved = save_image(image, path or self.save_path.value)
        except (ImageError, OSError, ValueError) as err:
            self._set_status(f"cannot save: {err}", error=True)
            return None
        self._set_status(f"saved {saved}")
        return saved

    def current_image(self) -> torch.Tensor | None:
        """(1, 3, H, W) on the CPU: the result, else the latest step's image, else None."""
        if self.result is not None:
            return self.result.image
        latest = self._latest
        return None if latest is None else latest.image.detach().float().cpu().clone()

    def image(self, which: str) -> torch.Tensor:
        """The chosen "content" or "style" image, (1, 3, H, W)."""
        picker = self.content_picker if which == "content" else self.style_picker
        return self._uploads[which] if picker.value == UPLOAD else resolve_image(picker.value)

    # -- the worker thread ---------------------------------------------------------------------

    def _work(self, **options) -> None:
        try:
            self.result = self.transfer.run(callback=self._on_step, progress=False, **options)
            self._draw()
            self._set_status(f"{self._progress_text(self.result.status)} in {self.result.seconds:.1f} s"
                             f"{self._draw_share()}")
        except Exception as err:  # the worker must report everything: nobody else sees it
            best = getattr(err, "result", None)  # DivergenceError carries the best image
            if best is not None:
                self.result = best
                self.preview.value = _png(best.image)
            self._set_status(f"error: {type(err).__name__}: {err}", error=True)
        finally:
            self._sync_buttons(running=False)  # this thread is about to end

    def _on_step(self, step: Step) -> None:
        self._latest = step
        self.history.append({**step.losses, "loss": step.loss})
        now = time.perf_counter()
        due = now - self._last_frame >= 1.0 / self.fps
        affordable = self.draw_seconds <= DRAW_BUDGET * (now - self._started)
        if step.step == 1 or (due and affordable):
            self._draw()

    def _draw(self) -> None:
        """One frame: preview, loss plot and status."""
        step = self._latest
        if step is None:
            return
        began = time.perf_counter()
        image = self.result.image if self.result is not None else step.image
        self.preview.value = _png(image.detach().float().cpu())
        history = list(self.history)
        self.loss_plot.value = _loss_png(history)
        if self.result is None:
            state = "paused" if self.transfer.paused else "running"
            self._set_status(self._progress_text(state) + self._draw_share())
        self._last_frame = time.perf_counter()
        self.frames += 1
        self.draw_seconds += self._last_frame - began

    # -- controls ------------------------------------------------------------------------------

    def _settings_changed(self, _change) -> None:
        if not self.running:
            return
        try:
            self.transfer.update(self.settings)
        except ValueError as err:
            self._set_status(f"not applied: {err}", error=True)

    def _picker(self, which: str, initial):
        """A sample dropdown (with "(uploaded)"), an upload button and a thumbnail for one image."""
        names = sample_names()
        if isinstance(initial, str) and initial in names:
            value = initial
        else:  # a path, tensor, PIL image...: it counts as an upload
            self._uploads[which] = resolve_image(initial)
            value = UPLOAD
        picker = W.Dropdown(options=[*names, UPLOAD], value=value, description=which)
        upload = W.FileUpload(accept="image/*", multiple=False, description="upload")
        thumb = W.Image(format="png", layout=W.Layout(max_width="160px"))

        def uploaded(change):
            if not change["new"]:
                return
            file = change["new"][0]
            try:
                self._uploads[which] = load_image(bytes(file["content"]))
            except ImageError as err:
                self._set_status(f"upload {file['name']}: {err}", error=True)
                return
            if picker.value == UPLOAD:
                self._show_images()
            picker.value = UPLOAD

        picker.observe(lambda _: self._show_images(), "value")
        upload.observe(uploaded, "value")
        return picker, upload, thumb

    def _show_images(self) -> None:
        """Thumbnails of the chosen images; the preview shows the content until a run starts."""
        for which, thumb in (("content", self.content_thumb), ("style", self.style_thumb)):
            try:
                image = self.image(which)
            except (ImageError, SampleError, KeyError) as err:
                self._set_status(f"{which}: {err}", error=True)
                continue
            thumb.value = _png(resize(image, 160))
            if which == "content" and not self.running:
                self.preview.value = _png(resize(image, 400))

    def _progress_text(self, state: str) -> str:
        step = self._latest
        s = step.settings if step is not None else self.settings
        where = f"step {step.step}/{step.total} · loss {step.loss:.4g}" if step else "step 0"
        return (f"{state} · {where} · content weight {s.content_weight:.3g} · "
                f"style weight {s.style_weight:.3g} · TV weight {s.tv_weight:.3g}")

    def _draw_share(self) -> str:
        elapsed = time.perf_counter() - self._started
        return f" · drawing {100 * self.draw_seconds / max(elapsed, 1e-9):.0f}% of the time"

    def _set_status(self, text: str, error: bool = False) -> None:
        color = "#b00020" if error else "inherit"
        self.status.value = f"<span style='color:{color}'>{html.escape(text)}</span>"

    def _sync_buttons(self, running: bool | None = None) -> None:
        running = self.running if running is None else running
        paused = running and self.transfer.paused
        self.buttons["start"].disabled = running
        self.buttons["pause"].disabled = not running or paused
        self.buttons["resume"].disabled = not paused
        self.buttons["stop"].disabled = not running

    def _layout(self) -> list[W.Widget]:
        box = W.Layout(border="1px solid #ddd", padding="4px", margin="2px")
        images = W.HBox([W.VBox([self.content_picker, self.content_upload, self.content_thumb], layout=box),
                         W.VBox([self.style_picker, self.style_upload, self.style_thumb], layout=box)])
        weights = W.VBox([W.HTML("<b>weights</b> (log scale)"), self.content_weight, self.style_weight,
                          self.tv_weight], layout=box)
        content_layers = W.VBox([W.HTML("<b>content layers</b>"), *self.content_layers.values()], layout=box)
        style_layers = W.VBox([W.HTML("<b>style layers</b>"),
                               *(W.HBox([b, self.layer_weights[n]]) for n, b in self.style_layers.items())],
                              layout=box)
        options = W.VBox([W.HTML("<b>run</b> (applies at Start)"), self.optimizer, self.init, self.size,
                          self.steps], layout=box)
        buttons = W.HBox([*(self.buttons[n] for n in ("start", "pause", "resume", "stop", "reset")),
                          self.save_path, self.buttons["save"]])
        return [images, W.HBox([weights, content_layers, style_layers]), options, buttons, self.status,
                W.HBox([self.preview, self.loss_plot])]


class TrainingMonitor(W.VBox):
    """Pass `monitor.update` as `train(..., callback=)`: the latest preview, the loss curves and a
    status line, redrawn at most `fps` times a second (the last step always)."""

    def __init__(self, fps: float = 2.0):
        self.preview = W.Image(format="png", layout=W.Layout(width="520px", height="auto"))
        self.loss_plot = W.Image(format="png", layout=W.Layout(width="520px", height="auto"))
        self.status = W.HTML("waiting for the first step")
        self.history: list[dict[str, float]] = []
        self.fps, self._last = fps, 0.0
        super().__init__([self.status, W.HBox([self.loss_plot, self.preview])])

    def update(self, step) -> None:
        """One training step (a `train.TrainStep`)."""
        self.history.append(step.losses)
        if step.preview is not None:
            self.preview.value = _png(tile(step.preview[:4]))
        now = time.perf_counter()
        if step.step == step.total or now - self._last >= 1.0 / self.fps:
            history = list(self.history)
            self.loss_plot.value = _loss_png(history)
            self.status.value = (f"step {step.step}/{step.total} · "
                                 + " · ".join(f"{k} {v:.3g}" for k, v in step.losses.items()))
            self._last = now


class StyleMixer(W.VBox):
    """A conditional network (Dumoulin et al. 2017) on one image, with a weight slider per style:
    the output uses the convex mix of the styles' scales and shifts, recomputed on every change."""

    def __init__(self, model, image, *, size: int = 256, names=None):
        self.model, self.image = model.eval(), resolve_image(image, size)
        names = list(names or getattr(model, "style_names", None) or range(model.styles))
        self.sliders = [W.FloatSlider(1.0 if i == 0 else 0.0, min=0, max=1, step=0.05, description=str(n),
                                      continuous_update=False) for i, n in enumerate(names)]
        self.output = W.Image(format="png", layout=W.Layout(width="420px", height="auto"))
        self.status = W.HTML()
        for slider in self.sliders:
            slider.observe(lambda _: self.draw(), "value")
        super().__init__([W.HBox([W.VBox(self.sliders), self.output]), self.status])
        self.draw()

    @property
    def weights(self) -> torch.Tensor:
        return torch.tensor([s.value for s in self.sliders])

    def draw(self) -> None:
        weights = self.weights
        if weights.sum() <= 0:
            self.status.value = "move at least one slider above 0"
            return
        began = time.perf_counter()
        with torch.no_grad():
            out = self.model(self.image, weights / weights.sum())
        self.output.value = _png(out)
        mix = ", ".join(f"{s.description} {w:.0%}" for s, w in zip(self.sliders, weights / weights.sum(),
                                                                    strict=True) if w > 0)
        self.status.value = f"{mix} · {1000 * (time.perf_counter() - began):.0f} ms"
