"""Training for stable video (Wang et al. 2020's compound regularization): the loss on hand-made
networks, the objectives' temporal term, and fine-tuning a trained model from the command line."""

import pytest
import torch
import torch.nn.functional as F
from helpers import perceptual

from nstlab.cli import main
from nstlab.feedforward import load_model
from nstlab.feedforward.johnson import TransformerNet
from nstlab.feedforward.objectives import stability_loss
from nstlab.feedforward.pretrained import save_model
from nstlab.images import save_image
from nstlab.samples import stripes
from nstlab.warping import inside, random_flow


def test_random_flows_are_small_and_smooth():
    flow = random_flow(8, 32, 48, shift=2.0, bend=1.0, generator=torch.Generator().manual_seed(0))
    assert flow.shape == (8, 2, 32, 48) and flow.abs().max() < 6
    assert (flow[..., 1:, :] - flow[..., :-1, :]).abs().max() < 0.5  # no jumps between neighbours
    assert inside(torch.full((2, 4, 4), 0.5)).tolist() == [[1.0] * 3 + [0.0]] * 3 + [[0.0] * 4]


def test_the_stability_loss_tells_a_steady_network_from_one_that_aliases():
    torch.manual_seed(0)
    photos = F.interpolate(torch.rand(4, 3, 8, 8), size=(64, 64), mode="bicubic").clamp(0, 1)

    def loss(run, noise=0.0):
        torch.manual_seed(1)
        return float(stability_loss(run, photos, run(photos), noise=noise))

    assert loss(lambda x: 0.5 * torch.ones_like(x)) < 1e-12  # a constant output cannot flicker
    assert loss(lambda x: x) < 1e-3  # the identity moves with its input (up to resampling)
    assert loss(lambda x: x, noise=0.1) == pytest.approx(3 * 0.1**2, rel=0.15)  # then only the noise stays

    def strided(x):  # keep every 4th pixel, as stride-2 convolutions do twice, and blow it up again
        return F.interpolate(x[..., ::4, ::4], scale_factor=4, mode="nearest")

    assert loss(strided) > 5 * loss(lambda x: x)


def test_the_temporal_term_is_added_with_its_weight(random_vgg):
    torch.manual_seed(0)
    net = TransformerNet(width=4, blocks=1)
    x = torch.rand(2, 3, 32, 32)
    plain = perceptual(net, [stripes(32, 6)], random_vgg)
    tied = perceptual(net, [stripes(32, 6)], random_vgg, temporal_weight=50.0)
    torch.manual_seed(3)
    loss0, parts0, _ = plain(x)
    torch.manual_seed(3)
    loss1, parts1, _ = tied(x)
    assert "temporal" not in parts0 and parts1["temporal"] > 0
    assert loss1.item() == pytest.approx(loss0.item() + 50.0 * parts1["temporal"].item(), rel=1e-5)
    assert tied.describe()["temporal_weight"] == 50.0


def test_fine_tuning_a_model_for_stability_from_the_command_line(photos, random_vgg_file, tmp_path, capsys):
    style = tmp_path / "style.png"
    save_image(stripes(48, 6), style)
    torch.manual_seed(0)
    start = save_model(TransformerNet(width=4, blocks=1), tmp_path / "start.pth", styles=["style"])
    common = ["--content", str(photos), "--style", str(style), "--steps", "2", "--batch", "2", "--crop", "32",
              "--weights", str(random_vgg_file), "-q"]
    out = tmp_path / "stable.pth"
    assert main(["train", "johnson", *common, "--finetune", str(start), "--temporal-weight", "30",
                 "-o", str(out)]) == 0
    model = load_model(out)
    assert model.width == 4  # the fine-tuned network's own size, not the recipe's
    card = model.info.card
    assert card["objective"]["temporal_weight"] == 30.0 and "temporal" in card["final_losses"]
    assert card["finetuned_from"].startswith(f"{start} (sha256 ")
    before = load_model(start).state_dict()
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert main(["train", "cin", *common, "--finetune", str(start), "-o", str(tmp_path / "c.pth")]) == 2
    assert "is not a cin network" in capsys.readouterr().err
    assert main(["train", "johnson", *common, "--temporal-weight", "-1", "-o", str(tmp_path / "n.pth")]) == 2
    assert "temporal_weight must be a number >= 0" in capsys.readouterr().err
