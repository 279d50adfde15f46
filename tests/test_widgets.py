"""The widgets driven as a notebook user would: set `.value`, click buttons, watch the run react.

A randomly initialized VGG-16 and tiny synthetic images keep every run to a fraction of a second.
"""

import datetime
import io
import threading
import time

import pytest
import torch
from helpers import Probe
from PIL import Image

from nstlab.feedforward.cin import add_style
from nstlab.losses import Settings
from nstlab.notebook.explorers import FeatureExplorer, GramExplorer
from nstlab.notebook.studio import Studio
from nstlab.samples import checkerboard, noise, stripes

PNG = b"\x89PNG"


def until(condition, timeout=30.0):
    """Poll `condition()` until it is true; fail the test after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            pytest.fail("condition not reached in time")
        time.sleep(0.01)


class Slow(Probe):
    """An extractor that takes at least `delay` s per call with gradients: runs that last."""

    def __init__(self, inner, delay=0.02):
        super().__init__(inner)
        self.delay = delay

    def forward(self, image, layers, pooling="max"):
        if image.requires_grad:
            time.sleep(self.delay)
        return super().forward(image, layers, pooling)


def upload(name, data):
    """The value a FileUpload widget gets when the user picks one file."""
    return ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
             "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


STUDIOS: list[Studio] = []


@pytest.fixture(autouse=True)
def stop_studios():
    """A test that fails mid-run still stops its studio: no run outlives its test (a thread still in
    torch when the interpreter exits aborts it)."""
    yield
    while STUDIOS:
        s = STUDIOS.pop()
        s.stop()
        s.wait(30)


def studio(vgg, **kw):
    options = dict(size=32, steps=400, settings=Settings(content_layers=["relu2_2"]), device="cpu", fps=50)
    options.update(kw)
    STUDIOS.append(Studio(checkerboard(32, 4), stripes(32, 6), vgg, **options))
    return STUDIOS[-1]


def test_feature_explorer_follows_layer_and_channel(random_vgg):
    explorer = FeatureExplorer(checkerboard(64, 8), random_vgg, size=64)
    assert explorer.channel.max == 63 and bytes(explorer.grid.value).startswith(PNG)
    grid, single = explorer.grid.value, explorer.single.value
    explorer.layer.value = "relu3_1"
    assert explorer.channel.max == 255 and "relu3_1" in explorer.info.value and "16x16" in explorer.info.value
    assert explorer.grid.value != grid and explorer.features().shape == (1, 256, 16, 16)
    single = explorer.single.value
    explorer.channel.value = 7
    assert explorer.single.value != single


def test_gram_explorer_distance(random_vgg):
    same = GramExplorer(stripes(32, 6), stripes(32, 6), random_vgg, size=32)
    assert same.distance.value.endswith("= 0")
    other = GramExplorer(stripes(32, 6), checkerboard(32, 4), random_vgg, size=32)
    a, b = other.grams()
    expected = ((a - b).pow(2).sum() / b.pow(2).sum()).item()
    assert f"{expected:.3g}" in other.distance.value
    before = other.heatmaps.value
    other.layer.value = "relu2_1"
    assert other.grams()[0].shape == (128, 128) and other.heatmaps.value != before


def test_run_returns_at_once_and_picks_up_a_slider_move(random_vgg):
    s = studio(Slow(random_vgg))
    preview = s.preview.value
    s.run()
    assert s.running  # returned while the worker goes on
    until(lambda: s._latest is not None and s._latest.step >= 3)
    assert s._latest.settings.style_weight == 10  # the default
    s.style_weight.value = 1000.0  # what the slider does in the browser
    until(lambda: s._latest.settings.style_weight == 1000.0)  # a step later (after BATCH_SECONDS)
    s.style_layers["relu1_1"].value = False  # a layer switched off acts too
    s.layer_weights["relu3_1"].value = 0.5
    until(lambda: "relu1_1" not in s._latest.settings.style_layers)
    assert s._latest.settings.style_layers["relu3_1"] == 0.5
    at = s._latest.step
    until(lambda: s._latest.step >= at + 1)
    assert "style:relu1_1" not in s.history[-1]
    s.buttons["stop"].click()
    result = s.wait(30)
    assert not s.running and result.status == "stopped" and result.steps < 400
    assert s.preview.value != preview and bytes(s.preview.value).startswith(PNG)
    assert bytes(s.loss_plot.value).startswith(PNG) and s.frames >= 1
    assert "stopped" in s.status.value and "style weight 1e+03" in s.status.value


def test_pause_and_resume_buttons(random_vgg):
    s = studio(Slow(random_vgg))
    s.buttons["start"].click()
    assert s.buttons["start"].disabled and not s.buttons["stop"].disabled
    until(lambda: s._latest is not None)
    s.buttons["pause"].click()
    assert "paused" in s.status.value and not s.buttons["resume"].disabled
    time.sleep(0.1)  # a step already under way may still finish
    held = s._latest.step
    time.sleep(0.3)
    assert s._latest.step == held and s.running
    s.buttons["resume"].click()
    until(lambda: s._latest.step > held + 2)
    s.buttons["stop"].click()
    assert s.wait(30).status == "stopped"
    assert not s.buttons["start"].disabled and s.buttons["stop"].disabled


def test_run_to_the_end_then_save_and_reset(random_vgg, tmp_path):
    s = studio(random_vgg, steps=5)
    s.run(wait=True)
    assert s.result.status == "done" and s.result.steps == 5 and len(s.history) == 5
    assert "done" in s.status.value and "step 5/5" in s.status.value
    s.save_path.value = str(tmp_path / "out.png")
    s.buttons["save"].click()
    assert (tmp_path / "out.png").is_file() and "saved" in s.status.value
    s.style_weight.value, s.style_layers["relu5_1"].value = 3.0, False
    s.buttons["reset"].click()
    assert s.style_weight.value == 10 and s.style_layers["relu5_1"].value and s.result is None
    assert s.settings == Settings(content_layers=["relu2_2"])


def test_errors_reach_the_status_line(random_vgg, tmp_path):
    s = studio(random_vgg, steps=5)
    s.save()
    assert "nothing to save" in s.status.value
    s.style_upload.value = upload("bad.png", b"hello")
    assert "bad.png" in s.status.value and "not an image" in s.status.value
    assert torch.equal(s.image("style"), stripes(32, 6))  # the old image is kept
    probe = Probe(random_vgg)
    probe.poison_after = 2  # NaN features from the third step: the engine raises DivergenceError
    poisoned = studio(probe, steps=10)
    poisoned.run(wait=True)
    assert "error: DivergenceError" in poisoned.status.value
    assert poisoned.result is not None and torch.isfinite(poisoned.result.image).all()
    assert not poisoned.running and not poisoned.buttons["start"].disabled
    for box in s.style_layers.values():  # a state the engine refuses: no layers for the style
        box.value = False
    s.content_weight.value = 1.0
    s.run(wait=True)
    assert s.result.status == "done"  # no style layers is allowed: a content reconstruction


def test_upload_replaces_the_image(random_vgg):
    s = studio(random_vgg, steps=2)
    data = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 255, 0)).save(data, format="PNG")
    s.content_upload.value = upload("green.png", data.getvalue())
    assert s.content_picker.value == "(uploaded)"
    assert s.image("content").shape == (1, 3, 20, 40) and s.image("content")[0, 1].min() == 1
    s.run(wait=True)
    assert s.result.image.shape == (1, 3, 16, 32)


def test_worker_is_the_only_thread_left_and_ends(random_vgg):
    before = threading.active_count()
    s = studio(random_vgg, steps=3)
    s.run(wait=True)
    assert threading.active_count() == before


def test_training_monitor_draws_losses_and_previews():
    from nstlab.feedforward.train import TrainStep
    from nstlab.notebook.monitor import TrainingMonitor

    monitor = TrainingMonitor(fps=1000)
    monitor.update(TrainStep(1, 3, 2.0, {"content": 1.0}, None))
    assert "step 1/3" in monitor.status.value and bytes(monitor.loss_plot.value).startswith(PNG)
    assert not monitor.preview.value
    monitor.update(TrainStep(2, 3, 1.5, {"content": 0.9}, torch.rand(2, 3, 16, 16)))
    assert bytes(monitor.preview.value).startswith(PNG) and len(monitor.history) == 2


def test_style_mixer_mixes_the_styles():
    from nstlab.feedforward.johnson import TransformerNet
    from nstlab.notebook.mixers import StyleMixer

    torch.manual_seed(0)
    net = TransformerNet(norm="conditional", width=8, blocks=1, styles=3)
    for layer in net.modules():  # distinct styles, so that mixing shows
        if hasattr(layer, "scale") and isinstance(layer.scale, torch.nn.ParameterList):
            for k, p in enumerate(layer.scale):
                p.data += k
    mixer = StyleMixer(net, checkerboard(32, 4), size=32, names=["a", "b", "c"])
    first = bytes(mixer.output.value)
    assert mixer.weights.tolist() == [1, 0, 0] and "a 100%" in mixer.status.value
    mixer.sliders[1].value = 1.0
    assert bytes(mixer.output.value) != first and "a 50%" in mixer.status.value
    mixer.sliders[0].value, mixer.sliders[1].value = 0.0, 0.0
    assert "at least one style" in mixer.status.value
    add_style(net)  # a fourth style added later: the mixer keeps mixing its three
    mixer.sliders[2].value = 1.0
    assert "c 100%" in mixer.status.value and "color" not in mixer.status.value


def test_adain_mixer_shows_the_values_the_sliders_show(random_vgg):
    from nstlab.feedforward import apply
    from nstlab.feedforward.adain import AdaIN, Decoder
    from nstlab.notebook.mixers import AdaINMixer
    from nstlab.notebook.preview import png

    torch.manual_seed(0)
    model = AdaIN(random_vgg, Decoder(width=0.25))
    for p in model.decoder.parameters():  # a random decoder whose output varies with its input
        p.data *= 4
    photo, styles = checkerboard(32, 4), [stripes(32, 6), noise(32)]
    mixer = AdaINMixer(model, photo, {"stripes": styles[0], "noise": styles[1]}, size=32)
    assert "alpha 1.00" in mixer.status.value and "stripes 100%" in mixer.status.value

    def shows(**call):
        return bytes(mixer.output.value) == png(apply(model, photo, styles, **call).image)

    assert shows(mix=[1, 0])
    full = bytes(mixer.output.value)
    mixer.alpha.value = 0.0
    assert "alpha 0.00" in mixer.status.value and shows(mix=[1, 0], alpha=0.0)
    assert bytes(mixer.output.value) != full
    mixer.alpha.value = 1.0
    mixer.sliders[1].value = 1.0
    assert "stripes 50%, noise 50%" in mixer.status.value and shows(mix=[1, 1])
    assert all(not s.continuous_update for s in (mixer.alpha, *mixer.sliders))  # no queue of values


def test_style_mixer_names_the_styles_it_was_not_told_about():
    from nstlab.feedforward.johnson import TransformerNet
    from nstlab.notebook.mixers import StyleMixer

    mixer = StyleMixer(TransformerNet(norm="conditional", width=4, blocks=0, styles=3), checkerboard(16, 4),
                       size=16, names=["a"])
    assert [s.description for s in mixer.sliders] == ["a", "1", "2"] and "a 100%" in mixer.status.value


def test_sliders_read_their_values_and_changes_that_come_together_restart_once(random_vgg):
    s = studio(Slow(random_vgg))
    assert s.style_weight.label == "10" and s.tv_weight.label == "10" and "0" in s.tv_weight.options[0]
    s.run()
    until(lambda: s._latest is not None)
    updates = []
    real = s.transfer.update
    s.transfer.update = lambda settings: updates.append(settings) or real(settings)
    for name in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"):  # five quick clicks
        s.style_layers[name].value = False
    until(lambda: updates)
    time.sleep(0.5)
    assert len(updates) == 1 and not updates[0].style_layers  # one hand-over, one restart
    assert "no style layer is on" in s.status.value
    assert "content weight 1 (relu2_2)" in s.status.value
    s.stop()
    s.wait(30)


def test_a_mixer_shows_any_error_in_its_status_line_and_keeps_working():
    from nstlab.feedforward.johnson import TransformerNet
    from nstlab.notebook.mixers import StyleMixer

    model = TransformerNet(norm="conditional", width=4, blocks=0, styles=2)
    mixer = StyleMixer(model, stripes(32, 4), size=32, names=["a", "b"])
    add_style(model)  # someone changes the network the mixer holds: it still mixes its two styles
    mixer.sliders[1].value = 0.5
    assert "a 67%, b 33%" in mixer.status.value and "Error" not in mixer.status.value
    mixer.compute = lambda: 1 / 0  # anything at all going wrong inside the callback
    mixer.sliders[0].value = 0.2
    assert "ZeroDivisionError" in mixer.status.value


def test_the_stabilizer_slider_redraws_the_frames_and_their_flicker():
    from nstlab.notebook.stabilizer import StabilizerExplorer
    from nstlab.video import synthetic_clip

    clip = synthetic_clip("tubingen", frames=4, size=(36, 48), kind="pan")
    torch.manual_seed(0)
    flickering = (clip.frames + 0.1 * torch.rand_like(clip.frames)).clamp(0, 1)
    explorer = StabilizerExplorer(flickering, flows=clip.flows, masks=clip.masks, strength=0.0)
    picture, off = explorer.picture.value, explorer.draw()
    explorer.strength.value = 0.8  # as a student drags it
    assert explorer.draw() < off / 2 and explorer.picture.value != picture
    assert "less flicker" in explorer.info.value


def test_progress_bars_write_to_stdout_in_a_notebook_kernel(monkeypatch, capsys):
    import sys

    from nstlab import progress

    monkeypatch.setitem(sys.modules, "ipykernel", sys)  # as inside a Jupyter kernel
    for _ in progress.bar(range(3), desc="counting", leave=False):
        pass
    captured = capsys.readouterr()
    assert "counting" in captured.out and captured.err == ""  # no empty pink stderr box
    monkeypatch.delitem(sys.modules, "ipykernel")
    for _ in progress.bar(range(3), desc="counting"):
        pass
    assert "counting" in capsys.readouterr().err  # a terminal: stderr, as ever
