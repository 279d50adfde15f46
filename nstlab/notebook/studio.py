"""The live studio: Gatys et al. (2016) style transfer with controls that act while it runs.

How the studio stays responsive (ipykernel >= 6.29 with JupyterLab >= 4.4 handles widget messages
on their own thread while a cell runs, and between cells the kernel is idle anyway):
- `Studio.run()` starts one worker thread and returns at once; `wait()` blocks until it ends
  (scripts, tests, "Run All").
- Widget observers only build a new immutable `Settings` and hand it to `StyleTransfer.update()`
  (a swap under a lock); the worker takes a snapshot at each step, so a change acts at the next
  step.
- The worker draws through the shared `LivePreview` (preview.py): pyplot-free, throttled, within
  a share of the run time.
- Anything the worker raises ends up in the status line, never in a lost thread.
- The studio tracks its worker itself (`_active`, set at Start, cleared when the worker ends, and
  an Event it sets), not through Thread.is_alive() / join(), which a kernel interrupt during join()
  leaves wrong (is_alive() turns False while the thread runs on); Start, Stop,
  Reset and live changes take one lock, so a Reset between "is it running?" and "act" cannot
  slip in. Interrupting `wait()` stops the run. The step image is copied in the worker, between
  steps, so Save never catches an image half-way through an update.
- The worker is a daemon thread (a run never keeps the kernel from exiting), and an exit handler
  stops every run still going and waits for its step to end: a thread still inside torch when the
  interpreter finalizes aborts the process ("terminate called without an active exception").
Adam is the default live optimizer: L-BFGS restarts its history at every change of the weights.
"""

from __future__ import annotations

import atexit
import dataclasses
import math
import threading
import weakref
from pathlib import Path

import ipywidgets as W
import torch

from ..device import default_device
from ..errors import NstlabError
from ..gatys import INITS, OPTIMIZERS, Step, StyleTransfer
from ..images import resize, save_image
from ..losses import Settings, default_style_layers
from ..result import Result
from ..statistics import STYLE_LOSSES
from ..vgg import VGGFeatures, load_vgg
from .picker import ImagePicker
from .preview import LivePreview, png

CONTENT_CHOICES = ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2")
BATCH_SECONDS = 0.25  # changes that arrive within this time reach the engine as one (one restart)
STYLE_CHOICES = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
_RUNNING: weakref.WeakSet[Studio] = weakref.WeakSet()  # studios that started a worker


@atexit.register
def _stop_runs_at_exit() -> None:
    for studio in list(_RUNNING):
        studio.stop()
        studio.wait(10)


class Studio(W.VBox):
    """Gatys style transfer under live control. `run()` starts it in a worker thread and returns;
    every change of a layer or weight acts at the next step; `wait()` blocks until the run ends.

    content / style: sample names, or anything `resolve_image` takes (then shown as "(uploaded)").
    """

    def __init__(self, content="tubingen", style="starry_night", extractor: VGGFeatures | None = None,
                 *, size: int = 256, steps: int = 200, optimizer: str = "adam", init: str = "content",
                 settings: Settings | None = None, device=None, fps: float = 4.0,
                 save_path: str = "studio.png"):
        self.extractor = extractor or load_vgg(device=default_device(device))
        self.device = device
        self.transfer: StyleTransfer | None = None
        self.result: Result | None = None
        self.history: list[dict[str, float]] = []
        self._active = False  # a worker is running (set at Start, cleared by the worker at its end)
        self._done = threading.Event()  # set by the worker at its end
        self._done.set()
        self._lock = threading.RLock()  # Start / Stop / Reset / live changes: one at a time
        self._latest: Step | None = None
        self._defaults = defaults = settings or Settings()

        self.live = LivePreview(fps=fps)
        self.preview, self.loss_plot, self.status = self.live.image, self.live.loss_plot, self.live.status
        self.preview.add_class("nstlab-preview")
        self.loss_plot.add_class("nstlab-loss-plot")
        self.status.add_class("nstlab-status")
        self.pickers = {which: ImagePicker(which, initial, on_change=self._show_content,
                                           on_error=lambda text: self._set_status(text, error=True))
                        for which, initial in (("content", content), ("style", style))}
        content_picker, style_picker = self.pickers["content"], self.pickers["style"]
        self.content_picker, self.content_upload = content_picker.dropdown, content_picker.upload
        self.style_picker, self.style_upload = style_picker.dropdown, style_picker.upload
        # weights on 1-3-10 log scales (30 is 30, not 10^1.5); layers as checkboxes, a weight each
        self.content_weight = _log_slider("content", defaults.content_weight, 1e-3, 1e3)
        self.style_weight = _log_slider("style", defaults.style_weight, 1e-2, 1e5)
        self.tv_weight = _log_slider("TV", defaults.tv_weight, 1e-3, 1e3, zero=True)
        self.style_weight.add_class("nstlab-style-weight")
        self.content_layers = {n: W.Checkbox(n in defaults.content_layers, description=n, indent=False)
                               for n in CONTENT_CHOICES}
        self.style_layers = {n: W.Checkbox(n in defaults.style_layers, description=n, indent=False)
                             for n in STYLE_CHOICES}
        self.layer_weights = {n: W.FloatSlider(defaults.style_layers.get(n, 1.0), min=0, max=2, step=0.05,
                                               description="weight", readout_format=".2f")
                              for n in STYLE_CHOICES}
        self.style_loss = W.Dropdown(options=STYLE_LOSSES, value=defaults.style_loss, description="style is")
        self.style_loss.add_class("nstlab-style-loss")
        self.style_loss.observe(self._statistic_changed, "value")
        # run options, taken at Start
        self.optimizer = W.Dropdown(options=OPTIMIZERS, value=optimizer, description="optimizer")
        self.init = W.Dropdown(options=INITS, value=init, description="start from")
        self.size = W.BoundedIntText(size, min=32, max=2048, step=32, description="size (px)")
        self.steps = W.BoundedIntText(steps, min=1, max=100_000, description="steps")
        self.steps.add_class("nstlab-steps")
        self.buttons = {name: W.Button(description=name.capitalize(), icon=icon)
                        for name, icon in (("start", "play"), ("pause", "pause"), ("resume", "step-forward"),
                                           ("stop", "stop"), ("reset", "undo"), ("save", "save"))}
        actions = {"start": self.run, "pause": self.pause, "resume": self.resume, "stop": self.stop,
                   "reset": self.reset, "save": self.save}
        for name, button in self.buttons.items():
            button.add_class(f"nstlab-{name}")
            button.on_click(lambda _, action=actions[name]: action())
        self.save_path = W.Text(save_path, description="save as")
        self._options = dict(size=size, steps=steps, optimizer=optimizer, init=init)  # for Reset
        self._batch: threading.Timer | None = None  # the pending live change

        for w in (self.content_weight, self.style_weight, self.tv_weight, *self.content_layers.values(),
                  *self.style_layers.values(), *self.layer_weights.values()):
            w.observe(self._settings_changed, "value")

        super().__init__(self._layout())
        self.add_class("nstlab-studio")
        self._show_content()
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
            tv_weight=self.tv_weight.value, style_loss=self.style_loss.value)

    @property
    def running(self) -> bool:
        return self._active

    @property
    def frames(self) -> int:
        return self.live.frames

    @property
    def draw_seconds(self) -> float:
        return self.live.draw_seconds

    def run(self, wait: bool = False) -> None:
        """Start a run with the current controls in a worker thread; wait=True blocks until it ends."""
        with self._lock:
            if self._active:
                state = "paused" if self.transfer.paused else "running"
                self._set_status(f"already {state}: Stop it first, or change the controls live")
                return
            try:
                content, style = self.image("content"), self.image("style")
                self.transfer = StyleTransfer(content, style, self.extractor, self.settings, self.device)
            except NstlabError as err:
                self._set_status(f"cannot start: {err}", error=True)
                return
            self.history, self.result, self._latest = [], None, None
            self.live.start()
            options = dict(steps=self.steps.value, size=self.size.value, optimizer=self.optimizer.value,
                           init=self.init.value)
            self._active, self._done = True, threading.Event()
            worker = threading.Thread(target=self._work, args=(self.transfer, self._done), kwargs=options,
                                      name="nstlab-studio", daemon=True)
            worker.start()
            _RUNNING.add(self)
            self._set_status(self._progress_text("running"))
            self._sync_buttons()
        if wait:
            self.wait()

    def wait(self, timeout: float | None = None) -> Result | None:
        """Block until the worker ends (or `timeout` seconds pass); the result, if there is one.
        An interrupt (Ctrl-C, the kernel's stop button) stops the run, then is raised again."""
        done = self._done
        try:
            done.wait(timeout)
        except KeyboardInterrupt:
            self.stop()
            done.wait()  # the worker stops after the current step
            raise
        return self.result

    def pause(self) -> None:
        with self._lock:
            if self._active:
                self.transfer.pause()
                self._set_status(self._progress_text("paused"))
                self._sync_buttons()

    def resume(self) -> None:
        with self._lock:
            if self._active:
                self.transfer.resume()
                self._set_status(self._progress_text("running"))
                self._sync_buttons()

    def stop(self) -> None:
        """Ask the run to end after its current step (also when paused); the result is kept."""
        with self._lock:
            if self._active:
                self.transfer.stop()

    def reset(self) -> None:
        """Stop, put every control back to its starting value (weights, layers, images, size,
        steps, optimizer, start image), and forget the run."""
        with self._lock:
            self.stop()
            self.wait()
            d = self._defaults
            self.content_weight.value = _nearest(self.content_weight, d.content_weight)
            self.style_weight.value = _nearest(self.style_weight, d.style_weight)
            self.tv_weight.value = _nearest(self.tv_weight, d.tv_weight)
            for n, box in self.content_layers.items():
                box.value = n in d.content_layers
            self.style_loss.value = d.style_loss
            for n, box in self.style_layers.items():
                box.value = n in d.style_layers
                self.layer_weights[n].value = d.style_layers.get(n, 1.0)
            for name, value in self._options.items():
                getattr(self, name).value = value
            self.history, self.result, self._latest, self.transfer = [], None, None, None
            for picker in self.pickers.values():
                picker.reset()
            self._show_content()
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
        except (NstlabError, OSError) as err:
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
        return self.pickers[which].image()

    # -- the worker thread ---------------------------------------------------------------------

    def _work(self, transfer: StyleTransfer, done: threading.Event, **options) -> None:
        try:
            self.result = transfer.run(callback=self._on_step, progress=False, **options)
            self._draw()
            self._set_status(f"{self._progress_text(self.result.status)} in {self.result.seconds:.1f} s"
                             f"{self.live.share()}")
        except Exception as err:  # the worker must report everything: nobody else sees it
            best = getattr(err, "result", None)  # DivergenceError carries the best image
            if best is not None:
                self.result = best
                self.preview.value = png(best.image)
            self._set_status(f"error: {type(err).__name__}: {err}", error=True)
        finally:
            self._active = False  # this thread is about to end
            self._sync_buttons()
            done.set()

    def _on_step(self, step: Step) -> None:
        self._latest = dataclasses.replace(step, image=step.image.clone())  # the live one changes next step
        self.history.append({**step.losses, "loss": step.loss})
        if step.step == 1:
            self._draw()
        elif self.live.offer(step.image, self.history):
            self._set_status(self._progress_text("paused" if self.transfer.paused else "running")
                             + self.live.share())

    def _draw(self) -> None:
        """One frame now: preview, loss plot and status."""
        step = self._latest
        if step is None:
            return
        self.live.draw(self.result.image if self.result is not None else step.image, self.history)
        transfer = self.transfer
        if self.result is None and transfer is not None:
            state = "paused" if transfer.paused else "running"
            self._set_status(self._progress_text(state) + self.live.share())

    # -- controls ------------------------------------------------------------------------------

    def _settings_changed(self, _change) -> None:
        """A control moved: hand the settings to the engine once the changes that come together
        (a Reset, several quick clicks) have all arrived -- each hand-over restarts the optimizer."""
        with self._lock:
            if self._batch is not None:
                self._batch.cancel()
            if self._active:
                self._batch = threading.Timer(BATCH_SECONDS, self._apply_settings)
                self._batch.daemon = True
                self._batch.start()

    def _statistic_changed(self, change) -> None:
        """Another style statistic: layers still at the old one's defaults take the new one's
        (the patch loss works on relu3_1 and relu4_1); the change itself goes live as any other."""
        old, new = default_style_layers(change["old"]), default_style_layers(change["new"])
        chosen = {n: self.layer_weights[n].value for n, box in self.style_layers.items() if box.value}
        if chosen == old and old != new:
            with self.hold_sync():
                for n, box in self.style_layers.items():
                    box.value = n in new
                    self.layer_weights[n].value = new.get(n, 1.0)
        self._settings_changed(change)

    def _apply_settings(self) -> None:
        with self._lock:
            self._batch = None
            if not self._active:
                return
            try:
                self.transfer.update(self.settings)
            except NstlabError as err:
                self._set_status(f"not applied: {err}", error=True)
                return
            self._set_status(self._progress_text("paused" if self.transfer.paused else "running"))

    def _show_content(self) -> None:
        """The preview shows the content until a run starts; a valid choice clears an old error."""
        if self._active:
            return
        try:
            self.preview.value = png(resize(self.image("content"), 400))
        except NstlabError as err:
            self._set_status(f"content: {err}", error=True)
            return
        if self.live.error:
            self._set_status("ready: press Start")

    def _progress_text(self, state: str) -> str:
        """"running · step 12/200 · loss 3.2 · content weight 1 (relu4_2) · style weight 1e+03
        (relu1_1 ...) · TV weight 1", the settings in force (a live change shows at once, and stays
        on every later frame)."""
        step, transfer = self._latest, self.transfer
        s = transfer.settings if transfer is not None else self.settings
        where = f"step {step.step}/{step.total} · loss {step.loss:.4g}" if step else "step 0"
        content = " ".join(s.content_layers) or "no layer"
        style = " ".join(s.style_layers) or "no layer"
        text = (f"{state} · {where} · content weight {s.content_weight:.3g} ({content}) · "
                f"style weight {s.style_weight:.3g} ({style}) · TV weight {s.tv_weight:.3g}")
        if not s.active_style_layers():
            text += " · no style layer is on: this reconstructs the photo"
        return text

    def _set_status(self, text: str, error: bool = False) -> None:
        self.live.say(text, error)

    def _sync_buttons(self) -> None:
        running, transfer = self._active, self.transfer
        paused = running and transfer is not None and transfer.paused
        self.buttons["start"].disabled = running
        self.buttons["pause"].disabled = not running or paused
        self.buttons["resume"].disabled = not paused
        self.buttons["stop"].disabled = not running

    def _layout(self) -> list[W.Widget]:
        box = W.Layout(border="1px solid #ddd", padding="4px", margin="2px")
        for picker in self.pickers.values():
            picker.layout = box
        own_width = W.Layout(border="1px solid #ddd", padding="4px", margin="2px", flex="0 0 auto")
        weights = W.VBox([W.HTML("<b>weights</b> (log scale)"), self.content_weight, self.style_weight,
                          self.tv_weight], layout=own_width)  # squeezed, the sliders' values were cut off
        content_layers = W.VBox([W.HTML("<b>content layers</b>"), *self.content_layers.values()], layout=box)
        style_layers = W.VBox([W.HTML("<b>style layers</b>"), self.style_loss,
                               *(W.HBox([b, self.layer_weights[n]]) for n, b in self.style_layers.items())],
                              layout=box)
        options = W.VBox([W.HTML("<b>run</b> (applies at Start)"), self.optimizer, self.init, self.size,
                          self.steps], layout=box)
        buttons = W.HBox([*(self.buttons[n] for n in ("start", "pause", "resume", "stop", "reset")),
                          self.save_path, self.buttons["save"]])
        return [W.HBox(list(self.pickers.values())), W.HBox([weights, content_layers, style_layers]), options,
                buttons, self.status, W.HBox([self.preview, self.loss_plot])]


def _log_slider(description: str, value: float, low: float, high: float,
                zero: bool = False) -> W.SelectionSlider:
    """A slider over 1-3-10 steps from `low` to `high` (and 0 first, if `zero`), set to the step
    nearest `value`; its readout shows the number itself, wide enough to read."""
    values, v = [0.0] if zero else [], low
    while v <= high * 1.0001:
        values += [v, 3 * v] if 3 * v <= high * 1.0001 else [v]
        v *= 10
    options = [(f"{x:g}", float(f"{x:.6g}")) for x in values]  # 0.3, not 0.30000000000000004
    slider = W.SelectionSlider(options=options, description=description, continuous_update=False,
                               style={"description_width": "60px"}, layout=W.Layout(width="300px"))
    slider.value = _nearest(slider, value)
    return slider


def _nearest(slider: W.SelectionSlider, value: float) -> float:
    """The slider's option closest to `value` on a log scale (0 only for 0)."""
    options = [x for _, x in slider.options]
    if value <= 0:
        return min(options)
    return min((x for x in options if x > 0), key=lambda x: abs(math.log10(x) - math.log10(value)))
