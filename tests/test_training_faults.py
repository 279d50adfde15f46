"""Training faults: bad photos are skipped and counted, an interrupt leaves a checkpoint, a bad
checkpoint is one clear error. (Bad training arguments: test_bad_inputs; signals: test_signals.)"""

import pytest
import torch
from helpers import config, perceptual

from nstlab.errors import ImageError, InputError
from nstlab.feedforward.data import RandomCrops
from nstlab.feedforward.johnson import TransformerNet
from nstlab.feedforward.train import train
from nstlab.samples import stripes


def test_an_unreadable_photo_is_skipped_and_counted(photos, random_vgg):
    (photos / "sub" / "broken.png").write_bytes(b"not a png")
    crops = RandomCrops(photos, 32)
    with pytest.warns(UserWarning, match="cannot be read"):
        batch = [crops[i] for i in range(len(crops))]
    assert all(c.shape == (3, 32, 32) for c in batch) and [p.name for p in crops.skipped] == ["broken.png"]
    for p in (photos / "sub").iterdir():
        p.write_bytes(b"all broken")
    with pytest.warns(UserWarning), pytest.raises(ImageError, match="none of the"):
        RandomCrops(photos, 32)[0]


def test_an_interrupted_run_leaves_a_checkpoint_to_resume(photos, random_vgg, tmp_path, capsys):
    model = TransformerNet(width=8, blocks=1)

    def stop_at_3(step):
        if step.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(perceptual(model, [stripes(32, 6)], random_vgg), photos, config(steps=50, checkpoint_every=100),
              run_dir=tmp_path / "run", callback=stop_at_3, progress=False)
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 3 and "--resume" in capsys.readouterr().err
    again = TransformerNet(width=8, blocks=1)
    history = train(perceptual(again, [stripes(32, 6)], random_vgg), photos, config(steps=5),
                    resume=tmp_path / "run" / "checkpoint.pt", progress=False).history
    assert len(history) == 5


def _other_network_checkpoint(tmp):
    state = {"model": TransformerNet(width=4, blocks=0).state_dict(), "optimizer": {}, "step": 1,
             "history": []}
    torch.save(state, tmp / "other.pt")
    return tmp / "other.pt"


def _junk_checkpoint(tmp):
    (tmp / "junk.pt").write_bytes(b"junk")
    return tmp / "junk.pt"


@pytest.mark.parametrize("make", [lambda tmp: tmp / "missing.pt", _junk_checkpoint,
                                  _other_network_checkpoint])
def test_resuming_from_a_bad_checkpoint_is_one_clear_error(photos, random_vgg, tmp_path, make):
    with pytest.raises(InputError, match=r"checkpoint|resume"):
        train(perceptual(TransformerNet(width=8, blocks=1), [stripes(32, 6)], random_vgg), photos,
              config(steps=2), resume=make(tmp_path), progress=False)


def test_a_checkpoint_is_never_half_written(photos, random_vgg, tmp_path, monkeypatch):
    train(perceptual(TransformerNet(width=8, blocks=1), [stripes(32, 6)], random_vgg), photos,
          config(steps=3), run_dir=tmp_path / "run", progress=False)
    before = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    real_save = torch.save

    def crash(obj, file, *args, **kwargs):
        real_save({"half": True}, file)
        raise KeyboardInterrupt  # killed in the middle of writing

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        train(perceptual(TransformerNet(width=8, blocks=1), [stripes(32, 6)], random_vgg), photos,
              config(steps=3), run_dir=tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == before
