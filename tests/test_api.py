"""One API for every method: `apply` beside `stylize`, the same words, one Result, one error base."""

import pytest
import torch

import nstlab
from nstlab import errors
from nstlab.feedforward.adain import AdaIN, Decoder
from nstlab.feedforward.johnson import TransformerNet
from nstlab.samples import checkerboard, noise, stripes


def test_every_error_derives_from_one_base():
    for name in ("InputError", "ImageError", "SampleError", "WeightsError", "ModelError", "DivergenceError"):
        assert issubclass(getattr(nstlab, name), nstlab.NstlabError), name
    assert issubclass(nstlab.InputError, ValueError) and issubclass(nstlab.ImageError, ValueError)
    assert issubclass(nstlab.SampleError, LookupError) and issubclass(nstlab.WeightsError, RuntimeError)
    # every exception class nstlab defines is one of them
    defined = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    assert all(issubclass(c, nstlab.NstlabError) for c in defined)


@pytest.mark.parametrize("call", [
    lambda: nstlab.Settings(style_weight=-1),
    lambda: nstlab.Settings().replace(stlye_weight=1),
    lambda: nstlab.load_image(b""),
    lambda: nstlab.load_sample("mona_lisa"),
    lambda: nstlab.load_model("no-such-model"),
    lambda: nstlab.load_vgg("/no/such/weights.pth"),
    lambda: nstlab.apply(TransformerNet(width=4, blocks=0), stripes(16), style="starry_night"),
    lambda: nstlab.apply("cin-6styles", stripes(16), style="mona_lisa"),
    lambda: nstlab.apply("cin-6styles", stripes(16), mix=[1, 2]),
])
def test_bad_input_raises_an_nstlab_error(call):
    with pytest.raises(nstlab.NstlabError):
        call()


def test_apply_runs_every_shipped_kind_and_returns_a_result():
    photo = checkerboard(48, 6)
    johnson = nstlab.apply("johnson-starry_night", photo)
    assert isinstance(johnson, nstlab.Result) and johnson.image.shape == (1, 3, 48, 48)
    assert johnson.method == "johnson-starry_night" and johnson.seconds > 0 and johnson.status == "done"
    net = nstlab.load_model("cin-6styles")
    assert torch.equal(nstlab.apply(net, photo, style="the_scream").image,
                       nstlab.apply(net, photo, style=1).image)
    with torch.no_grad():
        direct = net(photo, torch.tensor([0.25, 0, 0, 0.75, 0, 0]))
    mixed = nstlab.apply(net, photo, style=["starry_night", "udnie"], mix=[1, 3]).image
    assert torch.allclose(mixed, direct, atol=1e-6)
    assert torch.allclose(nstlab.apply(net, photo, mix=[1, 0, 0, 3, 0, 0]).image, direct, atol=1e-6)
    adain = nstlab.apply("adain", photo, style=stripes(32, 6), size=32)
    assert adain.image.shape == (1, 3, 32, 32)


def test_masks_and_colour_for_a_conditional_network():
    net = nstlab.load_model("cin-6styles")
    photo = checkerboard(32, 4) * torch.tensor([0.2, 0.9, 0.3]).view(1, 3, 1, 1)
    left = torch.zeros(32, 32)
    left[:, :16] = 1
    split = nstlab.apply(net, photo, style=["starry_night", "the_scream"], masks=[left, 1 - left]).image
    a, b = (nstlab.apply(net, photo, style=s).image for s in ("starry_night", "the_scream"))
    assert torch.allclose(split[..., :16], a[..., :16], atol=1e-6)
    assert torch.allclose(split[..., 16:], b[..., 16:], atol=1e-6)
    for mode in ("histogram", "luminance"):
        kept = nstlab.apply(net, photo, style="the_scream", preserve_color=mode).image
        assert kept.mean((0, 2, 3)).argmax() == 1, mode  # green like the photo


def test_bfloat16_runs_a_cast_copy_of_the_network():
    from nstlab.feedforward.apply import in_precision

    net = nstlab.load_model("cin-6styles")
    photo = nstlab.load_sample("tubingen", 64)
    exact = nstlab.apply(net, photo, style=["starry_night", "udnie"], mix=[1, 3]).image
    quick = nstlab.apply(net, photo, style=["starry_night", "udnie"], mix=[1, 3], precision="bfloat16").image
    assert quick.dtype == torch.float32 and 0 < (quick - exact).abs().mean() < 2 / 255
    assert next(net.parameters()).dtype == torch.float32  # the caller's network is left as it was
    cast = in_precision(net, "bfloat16")
    assert next(cast.parameters()).dtype == torch.bfloat16 and in_precision(cast, "bfloat16") is cast
    assert torch.equal(nstlab.apply(cast, photo, style=1, precision="bfloat16").image,
                       nstlab.apply(net, photo, style=1, precision="bfloat16").image)
    assert in_precision(net, "float32") is net


def test_apply_takes_the_same_words_for_adain(random_vgg):
    torch.manual_seed(0)
    model = AdaIN(random_vgg, Decoder(width=0.25)).eval()
    photo, styles = checkerboard(32, 4), [stripes(32, 6), noise(32)]
    with torch.no_grad():
        direct = model(photo, styles, alpha=0.5, mix=[1, 3])
    assert torch.allclose(nstlab.apply(model, photo, styles, alpha=0.5, mix=[1, 3]).image, direct)
    with pytest.raises(nstlab.InputError, match="needs a style image"):
        nstlab.apply(model, photo)
    with pytest.raises(nstlab.InputError, match="not both"):
        nstlab.apply(model, photo, styles, mix=[1, 1], masks=[torch.ones(32, 32)] * 2)
    with pytest.raises(nstlab.InputError, match="alpha"):
        nstlab.apply("johnson-starry_night", photo, alpha=0.5)


def test_apply_leaves_the_callers_network_as_it_was():
    net = TransformerNet(norm="batch", width=4, blocks=0).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    nstlab.apply(net, checkerboard(16, 4))
    assert net.training and all(torch.equal(v, before[k]) for k, v in net.state_dict().items())


def test_on_moves_a_copy_never_the_module():
    from nstlab.device import device_of, on

    module = torch.nn.Linear(2, 2)
    assert on(module, "cpu") is module
    moved = on(module, "meta")
    assert moved is not module and device_of(moved).type == "meta" and device_of(module).type == "cpu"


@pytest.mark.parametrize("call", [
    lambda: nstlab.apply("cin-6styles", stripes(16), style=[], mix=[]),
    lambda: nstlab.apply("adain", stripes(16), style=[]),
    lambda: nstlab.TrainConfig(batch=0),
    lambda: nstlab.TrainConfig(lr=-1.0),
    lambda: nstlab.Settings(term_weights={"tv": 1.0}),
    lambda: nstlab.Settings(term_weights={"temporal": -1.0}),
    lambda: nstlab.StyleTransfer(stripes(16), None).run(1, 16, init="style"),
])
def test_more_bad_input_raises_an_nstlab_error(call, random_vgg_file, monkeypatch):
    monkeypatch.setenv("NSTLAB_VGG_WEIGHTS", str(random_vgg_file))
    with pytest.raises(nstlab.InputError):
        call()


def test_masks_load_from_stacks_and_8_bit_arrays():
    from nstlab.mixing import load_masks

    left = torch.zeros(2, 8, 8)
    left[0, :, :4], left[1, :, 4:] = 1, 1
    assert torch.equal(load_masks(left, 2, (8, 8)), left[:, None])
    as_bytes = (left[0].numpy() * 255).astype("uint8")
    assert torch.equal(load_masks([as_bytes], 1, (8, 8))[0, 0], left[0])
    with pytest.raises(nstlab.InputError, match=r"\[0, 1\]"):
        load_masks([left[0] * 2], 1, (8, 8))


def test_apply_keeps_a_big_photo_to_a_laptop_size():
    from nstlab.feedforward.apply import MAX_SIDE

    big = torch.rand(1, 3, 600, 1500)
    with pytest.warns(UserWarning, match=f"{MAX_SIDE} px"):
        result = nstlab.apply(TransformerNet(width=4, blocks=0), big)
    assert max(result.image.shape[-2:]) == MAX_SIDE
    assert nstlab.apply(TransformerNet(width=4, blocks=0), big, size=200).image.shape[-1] == 200


def test_float16_on_the_cpu_is_refused(random_vgg):
    with pytest.raises(nstlab.InputError, match="bfloat16"):
        nstlab.StyleTransfer(stripes(16), stripes(16), random_vgg, device="cpu", precision="float16")


def test_training_recipes_fit_the_device():
    from nstlab.feedforward.recipes import recipe_for

    assert recipe_for("johnson", "cpu") == {"steps": 700, "crop": 128, "workers": 0, "width": 16}
    assert recipe_for("adain", "cpu")["width"] == 0.5 and recipe_for("johnson", "cuda")["crop"] == 256
    assert recipe_for("adain", "cuda")["workers"] > 0  # a GPU outruns one core decoding images


def test_apply_on_a_list_or_a_folder_returns_a_result_each(tmp_path):
    net = TransformerNet(width=4, blocks=1)
    results = nstlab.apply(net, [stripes(32), checkerboard(32, 4)], progress=False)
    assert [r.image.shape for r in results] == [(1, 3, 32, 32)] * 2
    assert torch.equal(results[1].image, nstlab.apply(net, checkerboard(32, 4)).image)
    for name in ("b.png", "a.png"):
        nstlab.save_image(noise(24), tmp_path / name)
    from_folder = nstlab.apply(net, tmp_path, progress=False)
    assert len(from_folder) == 2
    assert torch.equal(from_folder[0].image, nstlab.apply(net, tmp_path / "a.png").image)  # sorted by name


def test_train_returns_a_result_with_the_model_and_its_history(tmp_path, random_vgg):
    from nstlab.feedforward.objectives import PerceptualObjective

    photos = tmp_path / "photos"
    for k in range(2):
        nstlab.save_image(noise(40, seed=k), photos / f"{k}.png")
    steps = []
    net = TransformerNet(width=4, blocks=1)
    trained = nstlab.train(PerceptualObjective(net, [stripes(32)], random_vgg), photos,
                           nstlab.TrainConfig(steps=3, batch=2, crop=32), run_dir=tmp_path / "run",
                           callback=steps.append, progress=False)
    assert isinstance(trained, nstlab.TrainResult) and trained.model is net and not net.training
    assert trained.steps == 3 and trained.status == "done" and trained.run_dir == tmp_path / "run"
    assert [h["loss"] for h in trained.history] == [s.loss for s in steps]  # the engine's Step words
    assert "loss" not in steps[0].losses and set(steps[0].losses) == {"content", "style", "tv"}
    assert trained.losses == trained.history[-1] and (tmp_path / "run" / "checkpoint.pt").is_file()


def test_a_loaded_model_says_what_it_is():
    model = nstlab.load_model("cin-6styles")
    assert model.info.name == "cin-6styles" and model.info.file.name == "cin-6styles.pth"
    assert model.info.styles[:2] == ("starry_night", "the_scream") and model.info.card["steps"] > 0
    from nstlab.feedforward.pretrained import model_info
    assert model_info(TransformerNet(width=4)).name == "TransformerNet"
    assert nstlab.apply(model, stripes(32)).method == "cin-6styles"
