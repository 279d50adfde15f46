"""The training loop, model files and the train/apply commands, on tiny networks and a random VGG."""

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from helpers import config, perceptual

from nstlab.cli import main
from nstlab.errors import ImageError, InputError, ModelError
from nstlab.feedforward.adain import AdaIN, Decoder
from nstlab.feedforward.cin import add_style
from nstlab.feedforward.data import RandomCrops
from nstlab.feedforward.johnson import TransformerNet
from nstlab.feedforward.objectives import AdaINObjective
from nstlab.feedforward.pretrained import load_model, save_model
from nstlab.feedforward.train import train
from nstlab.images import save_image
from nstlab.losses import content_loss, perceptual_loss
from nstlab.samples import checkerboard, noise, stripes
from nstlab.targets import content_targets
from nstlab.vgg import VGGFeatures


def test_random_crops(photos, tmp_path):
    crops = RandomCrops(photos, 32)
    assert len(crops) == 4 and crops[0].shape == (3, 32, 32)
    halves = torch.zeros(1, 3, 40, 40)
    halves[..., 20:] = 1  # black left half, white right half
    save_image(halves, tmp_path / "halves" / "h.png")
    torch.manual_seed(0)
    whole = [RandomCrops(tmp_path / "halves", 16)[0] for _ in range(8)]  # 16-20 px: both halves in view
    detail = [RandomCrops(tmp_path / "halves", 16, side=40)[0] for _ in range(8)]  # 40-50 px: a window
    assert all(c.shape == (3, 16, 16) for c in whole + detail)
    assert all(c.std() > 0.4 for c in whole) and any(c.std() < 0.05 for c in detail)
    with pytest.raises(ImageError, match="no images"):
        RandomCrops(photos / "sub" / "missing", 32)


def test_training_lowers_the_loss_and_writes_previews_and_checkpoints(photos, random_vgg, tmp_path):
    torch.manual_seed(0)
    model = TransformerNet(width=8, blocks=1)
    history = train(perceptual(model, [stripes(32, 6)], random_vgg), photos, config(steps=30),
                    run_dir=tmp_path / "run", progress=False).history
    assert len(history) == 30 and set(history[0]) == {"loss", "content", "style", "tv"}
    first, last = (sum(h["loss"] for h in history[i:i + 5]) / 5 for i in (0, 25))
    assert last < 0.7 * first
    assert (tmp_path / "run" / "preview-000003.png").is_file()
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == 30


def test_resume_continues_the_count(photos, random_vgg, tmp_path):
    model = TransformerNet(width=8, blocks=1)
    train(perceptual(model, [stripes(32, 6)], random_vgg), photos, config(steps=3), run_dir=tmp_path / "a",
          progress=False)
    again = TransformerNet(width=8, blocks=1)
    history = train(perceptual(again, [stripes(32, 6)], random_vgg), photos, config(steps=5),
                    run_dir=tmp_path / "b", resume=tmp_path / "a" / "checkpoint.pt", progress=False).history
    assert len(history) == 5
    saved = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 5 and saved["optimizer"]["state"]  # Adam moments carried over


def test_conditional_net_learns_several_styles_and_a_new_one(photos, random_vgg):
    model = TransformerNet(norm="conditional", width=8, blocks=1, styles=2)
    train(perceptual(model, [stripes(32, 6), checkerboard(32, 4)], random_vgg), photos, config(steps=4),
          progress=False)
    with pytest.raises(InputError, match="2 styles"):
        perceptual(model, [stripes(32, 6)], random_vgg)
    new = add_style(model)
    x = torch.rand(1, 3, 32, 32)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out0 = model(x, style=0)
    objective = perceptual(model, [stripes(32, 6), checkerboard(32, 4), noise(32)], random_vgg, fit_style=new)
    train(objective, photos, config(steps=3), progress=False)
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert changed and all(k.endswith(f".{new}") for k in changed)  # only the new style's scale/shift
    assert torch.allclose(model(x, style=0), out0, atol=1e-6)  # the old styles are untouched


def test_conditional_net_trains_on_mixes_with_mixed_gram_targets(random_vgg):
    model = TransformerNet(norm="conditional", width=8, blocks=1, styles=3)
    styles = [stripes(32, 6), checkerboard(32, 4), noise(32)]
    objective = perceptual(model, styles, random_vgg, mix_fraction=1.0)
    seen = []
    model.register_forward_pre_hook(lambda m, args, kwargs: seen.append(kwargs["style"]), with_kwargs=True)
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)
    loss, _, output = objective(x)
    weights = seen[0]  # (4, 3): each row two styles, t and 1 - t
    assert weights.shape == (4, 3) and torch.allclose(weights.sum(1), torch.ones(4))
    assert ((weights > 0).sum(1) == 2).all()
    grams = {n: getattr(objective, f"gram_{n}") for n in objective.layers}  # (3, C, C)
    mixed = {n: torch.einsum("bn,ncd->bcd", weights, g) for n, g in grams.items()}
    content_layers = objective.settings.active_content_layers()
    features = random_vgg(output, [*content_layers, *objective.layers])
    targets = content_targets(random_vgg, x, content_layers)
    expected, _ = perceptual_loss(features, output, objective.settings, targets, mixed)
    assert torch.allclose(loss, expected, rtol=1e-5)
    assert perceptual(model, [noise(32)] * 3, random_vgg, mix_fraction=0.0).mix_fraction == 0.0
    with pytest.raises(InputError, match="mix_fraction"):
        perceptual(model, [noise(32)] * 3, random_vgg, mix_fraction=1.5)
    with pytest.raises(InputError, match="trains a TransformerNet"):  # checked before its norm is read
        perceptual(torch.nn.Linear(1, 1), [noise(32)], random_vgg)


def test_adain_identity_loss_asks_the_decoder_for_the_photo(photos, random_vgg):
    model = AdaIN(random_vgg, Decoder(width=0.25))
    objective = AdaINObjective(model, [photos], crop=32, identity_weight=2.0, style_side=48)
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32)
    loss, parts, _ = objective(x)
    with torch.no_grad():
        own = model.decoder(model.encode(x), size=x.shape[-2:])
    assert torch.allclose(parts["identity"], content_loss(own, x), rtol=1e-5)
    assert torch.allclose(loss, parts["content"] + 2.0 * parts["style"] + 2.0 * parts["identity"], rtol=1e-5)
    assert objective.describe()["identity_weight"] == 2.0 and objective.describe()["style_side"] == 48


def test_adain_decoder_trains(photos, random_vgg):
    model = AdaIN(random_vgg, Decoder(width=0.25))
    encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    objective = AdaINObjective(model, [photos], crop=32, style_weight=3.0)
    history = train(objective, photos, config(steps=3), progress=False).history
    assert len(history) == 3 and history[0]["style"] > 0
    assert all(torch.equal(v, encoder[k]) for k, v in model.encoder.state_dict().items())
    assert objective.describe()["style_weight"] == 3.0  # AdaIN's own weights, not the perceptual ones
    with pytest.raises(InputError, match="style_weight"):
        AdaINObjective(model, [photos], style_weight=-1)


def test_worker_processes_load_photos_and_style_crops(photos, random_vgg):
    model = AdaIN(random_vgg, Decoder(width=0.25))
    objective = AdaINObjective(model, [photos], crop=32, workers=1)
    history = train(objective, photos, config(steps=3, workers=1), progress=False).history
    assert len(history) == 3 and all(h["style"] > 0 for h in history)
    crops = objective.style_batch(4, "cpu")  # from the worker started by the first step
    assert crops.shape == (4, 3, 32, 32) and crops.std() > 0
    assert objective.style_batch(2, "cpu").shape == (2, 3, 32, 32)  # another batch size: a new loader
    with pytest.raises(InputError, match="workers"):
        config(workers=-1)


class _ToGrey(torch.nn.Module):
    """An objective for a model the loop has never heard of: make every pixel 0.5."""

    def __init__(self):
        super().__init__()
        self.model = torch.nn.Conv2d(3, 3, 1)

    def trainable(self):
        return list(self.model.parameters())

    def forward(self, x):
        out = self.model(x)
        loss = (out - 0.5).pow(2).mean()
        return loss, {"grey": loss.detach()}, out


def test_the_loop_knows_no_model(photos):
    torch.manual_seed(0)
    history = train(_ToGrey(), photos, config(steps=40, lr=5e-2), progress=False).history
    assert set(history[0]) == {"loss", "grey"} and history[-1]["loss"] < 0.2 * history[0]["loss"]


def test_model_files_round_trip_in_half_precision(tmp_path, random_vgg):
    net = TransformerNet(norm="conditional", width=8, blocks=1, styles=3)
    path = save_model(net, tmp_path / "m.pth", styles=["a", "b", "c"], card={"steps": 1})
    loaded = load_model(path)
    x = torch.rand(1, 3, 24, 24)
    assert loaded.info.styles == ("a", "b", "c") and loaded.info.card == {"steps": 1}
    assert (loaded(x, style=1) - net.eval()(x, style=1)).abs().max() < 4e-3  # float16 storage
    adain = AdaIN(random_vgg, Decoder(width=0.25))
    path = save_model(adain, tmp_path / "a.pth", styles=[])
    back = load_model(path)
    expected = random_vgg.convs["conv4_1"].weight.half().float()
    assert torch.equal(back.encoder.convs["conv4_1"].weight, expected)
    assert "conv5_1" not in str(list(torch.load(path, weights_only=True)["state"]))  # unused layers left out
    small = save_model(adain, tmp_path / "a8.pth", styles=[], int8=True)
    assert small.stat().st_size < 0.6 * path.stat().st_size
    unpacked = load_model(small).state_dict()
    convs = list(torch.load(small, weights_only=True)["quantized"])
    assert len(convs) == 8 + 9  # the encoder's conv1_1 ... conv4_1 and the decoder's nine
    for key in convs:  # within one quantization step of max|w| / 127 per output channel
        w = adain.state_dict()[key]
        step = w.abs().amax(dim=(1, 2, 3)) / 127
        assert ((unpacked[key] - w).abs().amax(dim=(1, 2, 3)) <= step * 0.51 + 1e-3 * step * 127).all(), key
    with pytest.raises(ModelError, match="sha256"):
        load_model(path, sha256="0" * 64)
    (tmp_path / "bad.pth").write_bytes(b"junk")
    with pytest.raises(ModelError, match="not a loadable"):
        load_model(tmp_path / "bad.pth")
    with pytest.raises(ModelError, match="no such model"):
        load_model(tmp_path / "missing.pth")


def test_train_and_apply_commands(photos, random_vgg_file, tmp_path, capsys):
    style = tmp_path / "style.png"
    save_image(stripes(48, 6), style)
    model = tmp_path / "m.pth"
    assert main(["train", "johnson", "--content", str(photos), "--style", str(style), "-o", str(model),
                 "--steps", "2", "--batch", "2", "--crop", "32", "--width", "8",
                 "--weights", str(random_vgg_file), "-q"]) == 0
    assert load_model(model).info.card["steps"] == 2
    again = tmp_path / "again.pth"  # the same seed: the same network, initial weights included
    assert main(["train", "johnson", "--content", str(photos), "--style", str(style), "-o", str(again),
                 "--steps", "2", "--batch", "2", "--crop", "32", "--width", "8",
                 "--weights", str(random_vgg_file), "-q"]) == 0
    first, second = load_model(model).state_dict(), load_model(again).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    out = tmp_path / "out.png"
    assert main(["apply", str(model), str(style), "-o", str(out), "--size", "40"]) == 0 and out.is_file()
    cin = tmp_path / "cin.pth"
    assert main(["train", "cin", "--content", str(photos), "--style", str(style), str(style), "-o", str(cin),
                 "--steps", "1", "--batch", "2", "--crop", "32", "--width", "8",
                 "--weights", str(random_vgg_file), "-q"]) == 0
    assert main(["apply", str(cin), str(style), "-o", str(out), "--mix", "0.5,0.5"]) == 0
    assert main(["apply", str(cin), str(style), "-o", str(out), "style,1", "--mix", "1,3"]) == 0
    assert main(["apply", str(cin), str(style), "-o", str(out), "nope"]) == 2
    assert "unknown style" in capsys.readouterr().err
    assert main(["apply", str(tmp_path / "none.pth"), str(style), "-o", str(out)]) == 2
    adain = tmp_path / "adain.pth"
    assert main(["train", "adain", "--content", str(photos), "--style", str(photos), "-o", str(adain),
                 "--steps", "1", "--batch", "2", "--crop", "32", "--width", "0.25",
                 "--weights", str(random_vgg_file), "-q"]) == 0
    assert load_model(adain).info.card["objective"]["style_weight"] == 2.0  # what it really trained with
    assert main(["apply", str(adain), str(style), "-o", str(out), f"{style},{style}",
                 "--mix", "0.3,0.7", "--alpha", "0.5"]) == 0
    assert main(["apply", str(adain), str(style), "-o", str(out)]) == 2
    assert "give a style image or sample name after the photo" in capsys.readouterr().err


def _ddp_worker(rank, world, init, photos, out):
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=world)
    torch.manual_seed(0)  # the same initial weights everywhere, as DDP requires
    vgg = VGGFeatures("vgg16")
    model = TransformerNet(width=8, blocks=1)
    train(perceptual(model, [stripes(32, 6)], vgg), photos, config(steps=3, batch=4), progress=False)
    torch.save(model.state_dict(), os.path.join(out, f"rank{rank}.pt"))
    dist.destroy_process_group()


@pytest.mark.slow  # two spawned processes
def test_data_parallel_on_two_cpu_processes(photos, tmp_path):
    torch.manual_seed(0)
    initial = TransformerNet(width=8, blocks=1).state_dict()
    mp.spawn(_ddp_worker, args=(2, tmp_path / "init", photos, str(tmp_path)), nprocs=2, join=True)
    a, b = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(a[k], b[k]) for k in a)  # gradients were averaged: identical replicas
    assert any(not torch.equal(a[k], initial[k]) for k in a)  # and they did train


def test_training_leaves_what_the_caller_froze(photos, random_vgg):
    model = TransformerNet(width=8, blocks=1)
    model.down.requires_grad_(False)
    frozen = {k: v.clone() for k, v in model.down.state_dict().items()}
    train(perceptual(model, [stripes(32, 6)], random_vgg), photos, config(steps=2), progress=False)
    assert all(torch.equal(v, frozen[k]) for k, v in model.down.state_dict().items())


def test_an_adain_file_can_use_the_bundled_encoder(tmp_path):
    from nstlab.vgg import BUNDLED_VGG, load_vgg

    model = AdaIN(load_vgg(BUNDLED_VGG), Decoder(width=0.25))
    carried = save_model(model, tmp_path / "carried.pth", styles=[])
    bundled = save_model(model, tmp_path / "bundled.pth", styles=[], bundled_encoder=True)
    assert bundled.stat().st_size < 0.2 * carried.stat().st_size  # no encoder layers inside
    assert not any(k.startswith("encoder.") for k in torch.load(bundled, weights_only=True)["state"])
    x, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        a, b = load_model(carried)(x, s), load_model(bundled)(x, s)
    assert (a - b).abs().max() < 0.02  # the same network; float16 storage rounds a little
    with pytest.raises(InputError, match="VGG-16"):
        save_model(AdaIN(VGGFeatures("vgg19"), Decoder(width=0.25)), tmp_path / "x.pth", styles=[],
                   bundled_encoder=True)
