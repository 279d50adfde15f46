"""What is style: the four statistics (Gram, mean/std, MMD with three kernels, CNNMRF patches) on
hand-made features against straightforward references, then through the engine, the command
line and the studio with the real VGG-16."""

import pytest
import torch

import nstlab
from nstlab.cli import main
from nstlab.errors import InputError
from nstlab.images import resize_to
from nstlab.losses import Settings, default_style_layers
from nstlab.statistics import (
    PATCH_LAYERS,
    STYLE_LOSSES,
    gram_matrix,
    kernel_matrix,
    mean_std,
    mmd2,
    statistic,
)


def _vectors(features):
    """(1, C, H, W) -> (HW, C): the feature vectors an MMD compares."""
    return features[0].flatten(1).T


def test_the_gram_loss_is_the_mmd_with_the_squared_linear_kernel():
    torch.manual_seed(0)
    f = torch.rand(1, 8, 6, 5, dtype=torch.float64)
    a = torch.rand(1, 8, 4, 7, dtype=torch.float64) * 2
    target = statistic("gram").targets([a])
    gram_loss = statistic("gram").loss(f, target) * target.pow(2).sum()
    exact = mmd2(_vectors(f), _vectors(a), "poly")  # every pair, the kernel (x^T y)^2
    assert float(abs(gram_loss - exact) / exact) < 1e-6
    assert torch.equal(statistic("mmd:poly").loss(f, target), statistic("gram").loss(f, target))


def test_the_linear_kernel_compares_means_and_the_gaussian_one_is_close_to_its_exact_mmd():
    torch.manual_seed(1)
    f, a = torch.rand(1, 16, 12, 12), torch.rand(1, 16, 12, 12) * 0.5 + 0.3
    means = statistic("mmd:linear")
    linear = means.loss(f, means.targets([a])) * a.mean((2, 3)).pow(2).sum()
    assert float(linear) == pytest.approx(float(mmd2(_vectors(f), _vectors(a), "linear")), rel=1e-4)
    gaussian = statistic("mmd")
    target = gaussian.targets([a])
    width = float(torch.pdist(_vectors(a)).pow(2).median())
    own = kernel_matrix(_vectors(a), _vectors(a), "rbf", width).mean()  # ||m(A)||^2, exactly
    exact = mmd2(_vectors(f), _vectors(a), "rbf", width) / own
    assert float(gaussian.loss(f, target)) == pytest.approx(float(exact), rel=0.15)  # 1024 random features
    assert float(gaussian.loss(a, target)) < 1e-6 < float(gaussian.loss(f, target))


def test_the_mean_std_loss_is_zero_exactly_when_the_statistics_match():
    torch.manual_seed(2)
    a = torch.rand(1, 4, 6, 6)
    s = statistic("meanstd")
    target = s.targets([a])
    shuffled = a.flatten(2)[..., torch.randperm(36)].reshape(1, 4, 6, 6)  # the same values elsewhere
    assert float(s.loss(shuffled, target)) < 1e-10
    assert float(s.loss(a + 0.1, target)) > 1e-3  # another mean
    assert float(s.loss((a - a.mean()) * 2 + a.mean(), target)) > 1e-3  # another spread
    plain = torch.cat([a.mean((2, 3)), a.std((2, 3), unbiased=False)], 1)
    assert torch.allclose(mean_std(a), plain, atol=1e-4)


def test_the_patch_loss_is_zero_for_the_painting_itself_and_keeps_its_patches_whole():
    torch.manual_seed(3)
    a = torch.rand(1, 3, 10, 10)
    s = statistic("patch")
    target = s.targets([a])
    assert float(s.loss(a, target)) == pytest.approx(0.0, abs=1e-10)
    assert float(s.loss(a.flip(-1), target)) > 0.01
    # a patch statistic sees layout, a Gram matrix does not: tiles moved about keep the Gram close
    tiles = a.reshape(1, 3, 2, 5, 2, 5).permute(0, 1, 4, 3, 2, 5).reshape(1, 3, 10, 10)
    gram = statistic("gram")
    assert float(gram.loss(tiles, gram.targets([a]))) < float(s.loss(tiles, target))


def test_masks_put_each_paintings_statistic_on_its_region():
    torch.manual_seed(4)
    left, right = torch.rand(1, 4, 6, 6), torch.rand(1, 4, 6, 6) + 1
    image = torch.cat([left[..., :3], right[..., 3:]], -1)
    masks = torch.zeros(2, 1, 6, 6)
    masks[0, ..., :3], masks[1, ..., 3:] = 1, 1
    for name in ("meanstd", "mmd:linear", "mmd", "gram"):
        s = statistic(name)
        apart = float(s.loss(image, s.targets([left[..., :3], right[..., 3:]]), masks))
        swapped = float(s.loss(image, s.targets([right[..., 3:], left[..., :3]]), masks))
        assert apart < 1e-4 < swapped, name


@pytest.mark.parametrize("style_loss", STYLE_LOSSES)
def test_each_statistic_lowers_its_own_loss_and_keeps_the_photo(real_vgg, style_loss):
    photo = nstlab.load_sample("tubingen", 64)
    result = nstlab.stylize(photo, "starry_night", size=64, steps=15, style_loss=style_loss,
                            extractor=real_vgg, progress=False)
    first, last = result.history[0], result.history[-1]
    style = [k for k in first if k.startswith("style:")]
    assert sum(last[k] for k in style) < 0.8 * sum(first[k] for k in style), style_loss
    if style_loss == "patch":
        assert style == [f"style:{n}" for n in PATCH_LAYERS]
    def distance(image):  # content distance to the photo at relu4_2
        return float(nstlab.content_loss(real_vgg(image, ["relu4_2"])["relu4_2"],
                                         real_vgg(photo, ["relu4_2"])["relu4_2"]))

    painting = resize_to(nstlab.load_sample("starry_night", 64), photo.shape[-2:])
    assert distance(result.image) < 0.5 * distance(painting)  # still the photo, not the painting


def test_what_does_not_apply_says_so(real_vgg):
    photo = nstlab.load_sample("tubingen", 32)
    with pytest.raises(InputError, match="patches from block 3"):
        nstlab.StyleTransfer(photo, "starry_night", real_vgg,
                             Settings(style_loss="patch", style_layers=["relu1_1"]))
    with pytest.raises(InputError, match="mix weights do not apply"):
        nstlab.StyleTransfer(photo, ["starry_night", "the_scream"], real_vgg, mix=[1, 2], style_loss="patch")
    with pytest.raises(InputError, match="style_loss must be one of"):
        Settings(style_loss="wasserstein")
    nstlab.StyleTransfer(photo, ["starry_night", "the_scream"], real_vgg, style_loss="patch",
                         masks=[torch.ones(32, 32), torch.zeros(32, 32)])  # masks: each region its painting


def test_a_new_statistic_brings_its_own_default_layers_unless_they_were_chosen():
    s = Settings()
    assert dict(s.replace(style_loss="patch").style_layers) == PATCH_LAYERS
    back = s.replace(style_loss="patch").replace(style_loss="meanstd")
    assert dict(back.style_layers) == default_style_layers()
    chosen = Settings(style_layers=["relu3_1"])
    assert list(chosen.replace(style_loss="mmd").style_layers) == ["relu3_1"]
    assert gram_matrix is nstlab.gram_matrix  # one home, reached from losses as before


def test_style_loss_on_the_command_line(tmp_path, capsys, random_vgg_file):
    out = tmp_path / "out.png"
    assert main(["stylize", "tubingen", "starry_night", "-o", str(out), "--size", "32", "--steps", "2",
                 "-q", "--style-loss", "meanstd", "--weights", str(random_vgg_file)]) == 0
    with pytest.raises(SystemExit):
        main(["stylize", "tubingen", "starry_night", "-o", str(out), "--style-loss", "wasserstein"])
    assert "invalid choice" in capsys.readouterr().err
    assert main(["video", "bigbuckbunny", "--model", "johnson-starry_night", "--style-loss", "mmd", "-o",
                 str(tmp_path / "v.gif")]) == 2
    assert "--style-loss chooses the optimization" in capsys.readouterr().err


def test_the_studio_switches_the_statistic_while_it_runs(random_vgg):
    from nstlab.notebook.studio import Studio

    studio = Studio("tubingen", "starry_night", random_vgg, size=32, steps=100_000)
    studio.run()
    try:
        studio.style_loss.value = "patch"
        studio._apply_settings()  # what the batch timer calls
        assert studio.transfer.settings.style_loss == "patch"
        assert dict(studio.transfer.settings.style_layers) == PATCH_LAYERS  # the layers followed
    finally:
        studio.stop()
        studio.wait()
    assert studio.result.status == "stopped"


@pytest.mark.parametrize("style_loss", ["meanstd", "mmd", "patch"])
def test_every_statistic_goes_coarse_to_fine_into_regions_and_through_a_clip(random_vgg, style_loss):
    from nstlab.video import stylize_video, synthetic_clip

    settings = Settings(style_loss=style_loss, content_layers=["relu4_2"],
                        style_layers=["relu3_1", "relu4_1"])
    masks = [torch.ones(32, 48), torch.zeros(32, 48)]
    masks[1][:, 24:], masks[0][:, 24:] = 1, 0
    run = nstlab.stylize("tubingen", ["starry_night", "the_scream"], size=[32, 48], steps=[2, 1],
                         settings=settings, masks=masks, extractor=random_vgg, progress=False)
    assert run.steps == 3 and run.image.shape[-1] == 48
    clip = synthetic_clip("tubingen", frames=2, size=(32, 48), kind="pan").frames
    video = stylize_video(clip, "starry_night", steps=1, settings=settings, extractor=random_vgg,
                          progress=False)
    assert video.frames.shape == clip.shape
    assert stylize_video(clip, "starry_night", steps=1, style_loss=style_loss, extractor=random_vgg,
                         progress=False, settings=settings).history[0]  # the keyword, the same run
