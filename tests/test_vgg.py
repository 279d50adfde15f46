import urllib.error

import pytest
import torch
from conftest import WEIGHTS, torchvision_features

from nstlab import vgg
from nstlab.errors import DownloadError, InputError
from nstlab.vgg import VGGFeatures, WeightsError, layer_names, load_vgg


def test_layer_names():
    names16, names19 = layer_names("vgg16"), layer_names("vgg19")
    assert len(names16) == 31 and len(names19) == 37  # = len(torchvision vgg.features)
    assert names16[:5] == ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1"]
    assert names16[7] == "conv2_2"  # the tutorials' "conv_4"
    assert names19[26] == "relu4_4" and names19[-1] == "pool5"
    with pytest.raises(ValueError, match="vgg16, vgg19"):
        layer_names("resnet")


@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_matches_torchvision_layer_by_layer(arch, tmp_path):
    reference = torchvision_features(arch)
    torch.save(reference.state_dict(), tmp_path / "w.pth")
    model = load_vgg(tmp_path / "w.pth")
    assert model.arch == arch
    image = torch.rand(1, 3, 32, 48)
    normalized = (image - model.mean) / model.std
    names = layer_names(arch)
    ours = model(image, names)
    with torch.no_grad():
        x = normalized
        for index, name in enumerate(names):
            module = reference[index]
            x = torch.relu(x) if isinstance(module, torch.nn.ReLU) else module(x)
            assert torch.allclose(ours[name], x, atol=1e-5), name
    assert ours["pool5"].shape == (1, 512, 1, 1)
    assert ours["relu3_1"].shape == (1, 256, 8, 12)


def test_captured_conv_output_is_not_overwritten_by_relu(random_vgg):
    out = random_vgg(torch.rand(1, 3, 16, 16), ["conv1_1", "relu1_1", "conv2_1"])
    assert out["conv1_1"].min() < 0  # a conv output keeps its negative values
    assert torch.equal(out["relu1_1"], out["conv1_1"].clamp(min=0))


def test_stops_after_the_deepest_requested_layer(random_vgg):
    called = []
    hooks = [conv.register_forward_hook(lambda m, i, o, n=name: called.append(n))
             for name, conv in random_vgg.convs.items()]
    try:
        random_vgg(torch.rand(1, 3, 16, 16), ["relu2_1", "conv1_1"])
    finally:
        for h in hooks:
            h.remove()
    assert called == ["conv1_1", "conv1_2", "conv2_1"]


def test_pooling_is_chosen_per_call(random_vgg):
    image = torch.rand(1, 3, 16, 16)
    out = random_vgg(image, ["relu1_2", "pool1"], pooling="avg")
    assert torch.allclose(out["pool1"], torch.nn.functional.avg_pool2d(out["relu1_2"], 2))
    out = random_vgg(image, ["relu1_2", "pool1"])  # the default, whatever the call before used
    assert torch.allclose(out["pool1"], torch.nn.functional.max_pool2d(out["relu1_2"], 2))
    with pytest.raises(InputError, match="'max' or 'avg'"):
        random_vgg(image, ["pool1"], pooling="min")


@pytest.mark.parametrize("layer", ["relu1_1", "conv2_2", "pool2", "relu4_2", "pool5"])
def test_feature_size_is_the_activation_size(random_vgg, layer):
    image = torch.rand(1, 3, 70, 45)
    assert random_vgg.feature_size(layer, (70, 45)) == tuple(random_vgg(image, [layer])[layer].shape[-2:])


def test_load_vgg_is_built_once_per_weights_and_device(random_vgg_file, tmp_path):
    first = load_vgg(random_vgg_file)
    assert load_vgg(random_vgg_file) is first and load_vgg(str(random_vgg_file)) is first
    copy = tmp_path / "copy.pth"
    copy.write_bytes(random_vgg_file.read_bytes())
    other = load_vgg(copy)
    assert other is not first and torch.equal(other.convs["conv1_1"].weight, first.convs["conv1_1"].weight)
    torch.save({k: v * 2 for k, v in torch.load(copy, weights_only=True).items()}, copy)  # changed on disk
    changed = load_vgg(copy)
    assert changed is not other
    assert torch.equal(changed.convs["conv1_1"].weight, 2 * first.convs["conv1_1"].weight)


def test_unknown_layer_lists_valid_names(random_vgg):
    with pytest.raises(ValueError, match=r"'conv_4'.*valid names: conv1_1, relu1_1"):
        random_vgg(torch.rand(1, 3, 8, 8), ["conv_4"])
    assert random_vgg.channels("relu3_2") == 256 and random_vgg.channels("pool1") == 64


def test_gradients_reach_the_image_only(random_vgg):
    image = torch.rand(1, 3, 16, 16, requires_grad=True)
    random_vgg(image, ["relu2_1"])["relu2_1"].sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in random_vgg.parameters())


def test_full_model_state_dict_and_env_variable(tmp_path, monkeypatch, random_vgg):
    features = torchvision_features("vgg16").state_dict()
    full = {f"features.{k}": v for k, v in features.items()}
    full["classifier.0.weight"] = torch.zeros(2, 2)
    torch.save(full, tmp_path / "full.pth")
    monkeypatch.setenv("NSTLAB_VGG_WEIGHTS", str(tmp_path / "full.pth"))
    model = load_vgg()
    for name, conv in model.convs.items():
        assert torch.equal(conv.weight, random_vgg.convs[name].weight)


def test_bad_weight_files(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        load_vgg(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(WeightsError, match=r"junk\.pth: not a loadable"):
        load_vgg(tmp_path / "junk.pth")
    torch.save({"0.weight": torch.zeros(64, 3, 3, 3), "0.bias": torch.zeros(64)}, tmp_path / "one.pth")
    with pytest.raises(WeightsError, match="found 1 convolution"):
        load_vgg(tmp_path / "one.pth")
    torch.save(torchvision_features("vgg16").state_dict(), tmp_path / "v16.pth")
    with pytest.raises(WeightsError, match="holds vgg16 weights"):
        load_vgg(tmp_path / "v16.pth", arch="vgg19")


def test_offline_without_weights_says_how_to_provide_them(monkeypatch):
    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)  # TORCH_HOME is empty (conftest)
    with pytest.raises(DownloadError) as err:
        load_vgg(arch="vgg19")  # torchvision's: the bundled network is a VGG-16
    message = str(err.value)
    assert "NSTLAB_VGG_WEIGHTS" in message and "--weights" in message and "vgg19" in message
    with pytest.raises(DownloadError):
        load_vgg("torchvision", arch="vgg16")


def test_the_bundled_vgg16_is_the_default_and_is_hash_checked(monkeypatch, tmp_path):
    assert load_vgg() is load_vgg(arch="vgg16") is load_vgg(vgg.BUNDLED_VGG)
    assert load_vgg().arch == "vgg16" and vgg.BUNDLED_VGG.stat().st_size < 16e6
    damaged = tmp_path / "vgg16-int8.pth"
    damaged.write_bytes(vgg.BUNDLED_VGG.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(vgg, "BUNDLED_VGG", damaged)
    with pytest.raises(WeightsError, match="reinstall"):
        load_vgg()


def test_the_bundled_vgg16_is_the_float32_network_within_int8_rounding(real_weights):
    shared = WEIGHTS  # the float32 weights it was made from, where present
    if not shared.is_file():
        pytest.skip(f"the float32 VGG-16 is not at {shared} (set NSTLAB_SHARED)")
    from nstlab.losses import content_loss

    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        layers = ["relu1_1", "relu5_1"]
        a, b = load_vgg(shared)(image, layers), load_vgg(real_weights)(image, layers)
    assert content_loss(b["relu1_1"], a["relu1_1"]) < 1e-4 and content_loss(b["relu5_1"], a["relu5_1"]) < 2e-3


def test_real_weights_load(real_weights):
    model = load_vgg(real_weights)
    assert model.arch == "vgg16"
    # conv1_1 re-expressed for torchvision input; the net recognises structure: relu5_1 is sparse
    out = model(torch.rand(1, 3, 64, 64), ["relu5_1"])["relu5_1"]
    assert out.shape == (1, 512, 4, 4) and (out == 0).float().mean() > 0.3


def test_model_class_defaults():
    model = VGGFeatures()
    assert model.arch == "vgg19" and not model.training
    assert vgg.WEIGHTS_ENV == "NSTLAB_VGG_WEIGHTS"


def test_too_small_an_image_says_so(random_vgg):
    with pytest.raises(ValueError, match=r"too small for relu5_1: its pool4 needs a side of at least 16"):
        random_vgg(torch.rand(1, 3, 12, 40), ["relu1_1", "relu5_1"])
    assert random_vgg(torch.rand(1, 3, 16, 16), ["relu5_1"])["relu5_1"].shape == (1, 512, 1, 1)


def test_load_vgg_one_entry_per_file_whatever_arch_is_asked(random_vgg_file):
    assert load_vgg(random_vgg_file, arch="vgg16") is load_vgg(random_vgg_file)
    with pytest.raises(WeightsError, match="holds vgg16"):
        load_vgg(random_vgg_file, arch="vgg19")
