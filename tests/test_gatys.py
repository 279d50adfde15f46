"""Engine behaviour on a randomly initialized VGG-16 at tiny sizes: fast, no real weights needed."""

import threading

import pytest
import torch
from helpers import Probe

from nstlab.errors import InputError
from nstlab.gatys import DivergenceError, StyleTransfer
from nstlab.losses import Settings
from nstlab.samples import checkerboard, stripes

SMALL = Settings(content_layers=["relu2_2"], style_layers=["relu1_1", "relu2_1", "relu3_1"])


def make(random_vgg, settings=SMALL, **kw):
    probe = Probe(random_vgg)
    return StyleTransfer(checkerboard(32, 4), stripes(32, 6), probe, settings, device="cpu", **kw), probe


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_one_forward_backward_per_step_targets_once(random_vgg, optimizer):
    transfer, probe = make(random_vgg)
    result = transfer.run(6, 32, optimizer=optimizer, progress=False)
    assert result.status == "done" and result.steps == 6
    assert probe.grad_calls() == 6
    no_grad = [layers for g, layers in probe.calls if not g]
    assert no_grad == [("relu2_2",), ("relu1_1", "relu2_1", "relu3_1")]  # content, then style
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_callback_sees_every_step(random_vgg):
    transfer, _ = make(random_vgg)
    seen = []
    result = transfer.run(4, 32, callback=seen.append, progress=False)
    assert [s.step for s in seen] == [1, 2, 3, 4] and {s.total for s in seen} == {4}
    assert set(seen[0].losses) == {"content:relu2_2", "style:relu1_1", "style:relu2_1", "style:relu3_1", "tv"}
    assert seen[0].image.shape == (1, 3, 32, 32) and seen[0].size == 32
    assert [h["loss"] for h in result.history] == [s.loss for s in seen]
    assert result.image.shape == (1, 3, 32, 32) and result.image.device.type == "cpu"


def test_settings_change_between_steps(random_vgg):
    transfer, probe = make(random_vgg)

    def callback(step):
        if step.step == 2:
            transfer.update(style_weight=0.0)
        if step.step == 4:
            transfer.update(style_layers={"relu1_1": 1.0, "relu4_1": 2.0}, style_weight=50.0)

    seen = []
    transfer.run(6, 32, callback=lambda s: (seen.append(s), callback(s)), progress=False)
    default = Settings().style_weight
    assert [s.settings.style_weight for s in seen] == [default, default, 0, 0, 50, 50]
    assert not any(k.startswith("style") for k in seen[2].losses)
    assert "style:relu4_1" in seen[4].losses
    # only the newly switched-on layer gets its target computed
    assert [layers for g, layers in probe.calls if not g][-1] == ("relu4_1",)
    with pytest.raises(ValueError, match="valid names"):
        transfer.update(style_layers=["relu9_9"])
    assert transfer.settings.style_weight == 50  # a rejected update changes nothing


def test_update_from_another_thread(random_vgg):
    transfer, _ = make(random_vgg)
    at_step_2, updated = threading.Event(), threading.Event()
    seen = []

    def callback(step):
        seen.append(step.settings.tv_weight)
        if step.step == 2:
            at_step_2.set()
            assert updated.wait(10)

    worker = threading.Thread(target=transfer.run, args=(4, 32),
                              kwargs={"callback": callback, "progress": False})
    worker.start()
    assert at_step_2.wait(30)
    transfer.update(tv_weight=123.0)
    updated.set()
    worker.join(30)
    assert seen == [10, 10, 123, 123]


def test_stop_ends_cleanly(random_vgg):
    transfer, _ = make(random_vgg)
    result = transfer.run(10, 32, callback=lambda s: s.step == 3 and transfer.stop(), progress=False)
    assert result.status == "stopped" and result.steps == 3
    assert transfer.run(2, 32, progress=False).steps == 2  # a new run starts afresh


def test_ctrl_c_returns_the_best_image(random_vgg):
    transfer, _ = make(random_vgg)
    after = []  # image after step k is the one step k + 1 evaluates

    def callback(step):
        after.append(step.image.clone())
        if step.step == 5:
            raise KeyboardInterrupt

    result = transfer.run(20, 32, optimizer="adam", lr=0.2, callback=callback, progress=False)
    assert result.status == "interrupted" and result.steps == 5
    losses = [h["loss"] for h in result.history]
    best = min(range(5), key=losses.__getitem__)
    expected = checkerboard(32, 4) if best == 0 else after[best - 1]
    assert torch.equal(result.image, expected)


@pytest.mark.parametrize("poison", [float("nan"), 1e6])
def test_divergence_is_reported_with_the_best_image(random_vgg, poison):
    transfer, probe = make(random_vgg)
    probe.poison_after, probe.poison = 3, poison
    with pytest.raises(DivergenceError, match="diverged at step 4") as err:
        transfer.run(10, 32, progress=False)
    result = err.value.result
    assert result.status == "diverged" and result.steps == 3
    assert torch.isfinite(result.image).all() and result.image.std() > 0.1  # not a black image


def test_a_spike_after_deep_convergence_is_not_divergence(real_vgg):
    """Texture synthesis from relu1_1 converges ~1e5x; one step's loss may then jump 1e4x above the
    best and still stay below the start (L-BFGS recovers): that is no divergence."""
    probe = Probe(real_vgg)
    settings = Settings(content_layers=[], style_layers=["relu1_1"], content_weight=0, tv_weight=0)
    transfer = StyleTransfer(None, stripes(48, 6), probe, settings, device="cpu")
    probe.poison_after, probe.poison, probe.poison_calls = 100, 1.3, 1  # features x1.3 for one step
    result = transfer.run(110, 48, init="noise", progress=False)
    losses = [h["loss"] for h in result.history]
    spike = losses[100]
    assert spike > 1e3 * min(losses[:100]) and spike < losses[0]  # the case in question
    assert result.status == "done" and result.history[-1]["loss"] < spike


def test_a_breakdown_after_convergence_goes_on_from_the_best_image(real_vgg):
    """The same, but the jump goes above the start (L-BFGS at the bottom of a converged run can take
    one huge step): back to the best image with a fresh optimizer, no divergence."""
    probe = Probe(real_vgg)
    settings = Settings(content_layers=[], style_layers=["relu1_1"], content_weight=0, tv_weight=0)
    transfer = StyleTransfer(None, stripes(48, 6), probe, settings, device="cpu")
    probe.poison_after, probe.poison, probe.poison_calls = 100, 3.0, 1
    result = transfer.run(110, 48, init="noise", progress=False)
    losses = [h["loss"] for h in result.history]
    assert losses[100] > losses[0] > 1e3 * min(losses[:100])  # the case in question
    assert result.status == "done" and losses[-1] < 1e-2 * losses[0]
    with pytest.raises(DivergenceError):  # a run that never converged still diverges
        probe.poison_after, probe.poison, probe.poison_calls, probe.calls = 5, 1e3, None, []
        StyleTransfer(None, stripes(48, 6), probe, settings, device="cpu").run(20, 48, init="noise",
                                                                               progress=False)


def test_seeded_and_reproducible(random_vgg):
    transfer, _ = make(random_vgg)
    a = transfer.run(3, 32, init="noise", seed=1, progress=False).image
    b = transfer.run(3, 32, init="noise", seed=1, progress=False).image
    c = transfer.run(3, 32, init="noise", seed=2, progress=False).image
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_coarse_to_fine(random_vgg):
    transfer, probe = make(random_vgg)
    seen = []
    result = transfer.run([3, 2], [16, 32], callback=seen.append, progress=False)
    assert [s.size for s in seen] == [16, 16, 16, 32, 32] and result.steps == 5
    assert result.image.shape == (1, 3, 32, 32)
    assert len([c for c in probe.calls if not c[0]]) == 4  # targets once per scale
    with pytest.raises(ValueError, match="2 sizes but 3 step counts"):
        transfer.run([1, 2, 3], [16, 32])


def test_texture_synthesis_and_reconstruction(random_vgg):
    texture = StyleTransfer(None, stripes(32), random_vgg, SMALL.replace(content_weight=0), "cpu")
    result = texture.run(5, 24, progress=False)  # no content: starts from noise, shape of the style
    assert result.image.shape == (1, 3, 24, 24) and result.history[-1]["loss"] < result.history[0]["loss"]
    recon = StyleTransfer(checkerboard(32), None, random_vgg, SMALL.replace(style_weight=0), "cpu")
    assert recon.run(3, 32, init="noise", progress=False).steps == 3
    with pytest.raises(ValueError, match="no content image"):
        StyleTransfer(None, stripes(32), random_vgg, SMALL, "cpu")
    with pytest.raises(ValueError, match="no style image"):
        recon.update(style_weight=1.0)


def test_reduced_precision_runs_close_to_float32(random_vgg):
    full, _ = make(random_vgg)
    half, _ = make(random_vgg, precision="bfloat16")
    a = full.run(5, 32, optimizer="adam", progress=False)
    b = half.run(5, 32, optimizer="adam", progress=False)
    assert b.image.dtype == torch.float32
    assert (a.image - b.image).abs().mean() < 0.02


def test_bad_arguments(random_vgg):
    transfer, _ = make(random_vgg)
    for kwargs, message in [({"init": "zeros"}, "init must be"), ({"optimizer": "sgd"}, "optimizer must be")]:
        with pytest.raises(ValueError, match=message):
            transfer.run(1, 16, **kwargs)
    with pytest.raises(ValueError, match="precision"):
        make(random_vgg, precision="int8")
    with pytest.raises(ValueError, match="content image, a style image"):
        StyleTransfer(None, None, random_vgg)


def test_pause_holds_the_run_until_resume(random_vgg):
    transfer, probe = make(random_vgg)
    reached, seen = threading.Event(), []

    def callback(step):
        seen.append(step.step)
        if step.step == 2:
            transfer.pause()
            reached.set()

    worker = threading.Thread(target=lambda: transfer.run(5, 32, callback=callback, progress=False))
    worker.start()
    assert reached.wait(30)
    worker.join(0.5)
    assert worker.is_alive() and transfer.paused and seen == [1, 2]  # held, no third step
    transfer.resume()
    worker.join(30)
    assert not worker.is_alive() and seen == [1, 2, 3, 4, 5] and probe.grad_calls() == 5


def test_stop_wakes_a_paused_run(random_vgg):
    transfer, _ = make(random_vgg)
    out = {}

    def callback(step):
        if step.step == 1:
            transfer.pause()

    worker = threading.Thread(target=lambda: out.update(r=transfer.run(5, 32, callback=callback,
                                                                       progress=False)))
    worker.start()
    worker.join(0.5)
    transfer.stop()
    worker.join(30)
    assert out["r"].status == "stopped" and out["r"].steps == 1


def test_two_styles_mix_or_split_by_masks(random_vgg):
    left = torch.zeros(32, 32)
    left[:, :16] = 1
    settings = SMALL.replace(content_weight=0.0, tv_weight=0.0)
    styles = [stripes(32, 6), checkerboard(32, 4)]
    mixed = StyleTransfer(checkerboard(32, 4), styles, Probe(random_vgg), settings, device="cpu")
    assert mixed.run(2, 32, progress=False).history[0]["style:relu1_1"] > 0
    split = StyleTransfer(checkerboard(32, 4), styles, Probe(random_vgg), settings, device="cpu",
                          masks=[left, 1 - left])
    assert split.masks.shape == (2, 1, 32, 32)
    # the content image is the checkerboard: its right half already has style 2's statistics, so
    # with masks only the left half is pulled towards the stripes (an L-BFGS first step follows
    # the gradient, so the pixels move in proportion to it)
    seen = []
    split.run(1, 32, optimizer="lbfgs", init="content",
              callback=lambda s: seen.append(s.image.clone()), progress=False)
    moved = (seen[0] - checkerboard(32, 4)).abs()
    assert moved[..., :, :12].mean() > 20 * moved[..., :, 20:].mean()
    with pytest.raises(ValueError, match="one mask per style"):
        StyleTransfer(checkerboard(32, 4), styles, random_vgg, settings, device="cpu", masks=[left])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        StyleTransfer(checkerboard(32, 4), styles, random_vgg, settings, device="cpu",
                      masks=[left * 2, left])


def test_mix_weights_how_much_of_each_style(random_vgg):
    settings = SMALL.replace(content_weight=0.0, tv_weight=0.0)
    styles = [stripes(32, 6), checkerboard(32, 4)]

    def first_style_loss(**kw):
        t = StyleTransfer(checkerboard(32, 4), styles, Probe(random_vgg), settings, device="cpu", **kw)
        return t.run(1, 32, progress=False).history[0]["style:relu1_1"]

    # the image starts as the checkerboard: all of the loss comes from the stripes
    only_stripes, even = first_style_loss(mix=[1, 0]), first_style_loss()
    assert first_style_loss(mix=[0, 1]) == pytest.approx(0.0, abs=1e-6)
    assert even == pytest.approx(only_stripes / 2, rel=1e-4)
    assert first_style_loss(mix=[3, 1]) == pytest.approx(0.75 * only_stripes, rel=1e-4)
    with pytest.raises(InputError, match="not both"):
        StyleTransfer(checkerboard(32, 4), styles, random_vgg, settings, device="cpu", mix=[1, 1],
                      masks=[torch.ones(32, 32)] * 2)


def test_preserve_color_keeps_the_photos_colours(random_vgg):
    content = checkerboard(32, 4) * torch.tensor([0.2, 0.8, 0.3]).view(1, 3, 1, 1) + 0.1  # greenish
    style = stripes(32, 6, colors=((1.0, 0.0, 0.0), (0.8, 0.1, 0.1)))  # red
    settings = SMALL.replace(content_weight=0.1)

    def run(mode):
        t = StyleTransfer(content, style, random_vgg, settings, device="cpu", preserve_color=mode)
        return t, t.run(15, 32, optimizer="adam", lr=0.05, progress=False).image

    _, plain = run(False)
    for mode in (True, "histogram", "luminance"):
        transfer, kept = run(mode)
        assert kept.mean((0, 2, 3)).argmax() == 1, mode  # still green on average, where plain is not
        if mode == "luminance":  # photo and painting were stylized grey; the photo's colours came back
            for grey in (transfer.content, transfer.styles[0]):
                assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
            assert torch.equal(transfer.photo, content)
    assert (plain[:, 0] - plain[:, 1]).mean() > (kept[:, 0] - kept[:, 1]).mean()
    with pytest.raises(InputError, match="preserve_color"):
        StyleTransfer(content, style, random_vgg, settings, device="cpu", preserve_color="sepia")


def test_init_may_be_an_image_and_extra_terms_join_the_loss(random_vgg):
    previous = torch.full((1, 3, 16, 16), 0.5)  # e.g. a warped previous frame, at another size
    temporal = {"temporal": lambda image: (image - 0.5).pow(2).mean()}
    settings = SMALL.replace(term_weights={"temporal": 100.0})
    transfer = StyleTransfer(checkerboard(32, 4), stripes(32, 6), random_vgg, settings, device="cpu",
                             terms=temporal)
    seen = []
    result = transfer.run(3, 32, init=previous, optimizer="adam", callback=seen.append, progress=False)
    assert seen[0].losses["temporal"] == pytest.approx(0.0, abs=1e-9)  # it started at the given image
    assert "temporal" in result.history[-1]
    transfer.update(term_weights={"temporal": 0.0})  # weights are live settings like any other
    assert "temporal" not in transfer.run(1, 32, progress=False).history[0]
    with pytest.raises(InputError, match="no loss term named 'flow'"):
        transfer.update(term_weights={"flow": 1.0})


def test_style_grams_are_kept_across_runs_and_frames_and_pooling_is_per_run(random_vgg):
    transfer, probe = make(random_vgg)
    transfer.run(1, 32, progress=False)
    transfer.set_content(stripes(32, 4))  # the next frame
    transfer.run(1, 32, progress=False)
    style_calls = [layers for g, layers in probe.calls if not g and "relu1_1" in layers]
    assert len(style_calls) == 1  # the style Grams were computed once
    transfer.run(1, 32, pooling="avg", progress=False)
    style_calls = [layers for g, layers in probe.calls if not g and "relu1_1" in layers]
    assert len(style_calls) == 2  # ... and once more for the other pooling
    with pytest.raises(InputError, match="pooling"):
        transfer.run(1, 32, pooling="min", progress=False)


def test_masks_are_resized_per_layer_once(random_vgg, monkeypatch):
    from nstlab import targets

    calls = []
    real = targets.resize_mask
    monkeypatch.setattr(targets, "resize_mask", lambda m, size: calls.append(tuple(size)) or real(m, size))
    left = torch.zeros(32, 32)
    left[:, :16] = 1
    transfer = StyleTransfer(checkerboard(32, 4), [stripes(32, 6), checkerboard(32, 4)], random_vgg, SMALL,
                             device="cpu", masks=[left, 1 - left])
    transfer.run(5, 32, optimizer="adam", progress=False)
    assert sorted(calls) == [(8, 8), (16, 16), (32, 32)]  # relu3_1, relu2_1, relu1_1: once each


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_a_run_that_goes_wrong_by_its_end_is_reported_with_the_best_image(real_vgg, optimizer):
    # lr 1e6: L-BFGS ends with NaN pixels, Adam with every pixel at 0 or 1 and ~50x the loss
    transfer = StyleTransfer("tubingen", "starry_night", real_vgg, device="cpu")
    with pytest.raises(DivergenceError, match="smaller learning rate") as err:
        transfer.run(8, 48, optimizer=optimizer, lr=1e6, progress=False)
    best = err.value.result.image
    assert torch.isfinite(best).all() and err.value.result.status == "diverged"
    start = transfer.content
    assert (best - torch.nn.functional.interpolate(start, size=best.shape[-2:], mode="bicubic",
                                                   antialias=True)).abs().mean() < 0.05  # the start was best
    assert transfer.run(3, 48, progress=False).status == "done"  # a short run at a normal lr is not flagged
