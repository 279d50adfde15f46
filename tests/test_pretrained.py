"""The models shipped in nstlab/feedforward/models: present, hash-checked, documented, and they really stylize
(with the real VGG-16: the style distance of a held-out photo falls, its content stays)."""

import pytest
import torch
from conftest import IMAGES

from nstlab.feedforward.adain import AdaIN
from nstlab.feedforward.evaluate import evaluate, mirror_borders
from nstlab.feedforward.pretrained import MODELS, MODELS_DIR, load_model
from nstlab.samples import load_sample

HELD_OUT = IMAGES / "content" / "bsds500" / "test"


def test_the_promised_models_are_shipped():
    kinds = [load_model(name) for name in MODELS]
    johnson = [m for m in kinds if not isinstance(m, AdaIN) and m.norm == "instance"]
    cin = [m for m in kinds if not isinstance(m, AdaIN) and m.norm == "conditional"]
    assert len(johnson) >= 3 and cin and cin[0].styles >= 6 and any(isinstance(m, AdaIN) for m in kinds)


@pytest.mark.parametrize("name", list(MODELS))
def test_shipped_model_is_compact_and_has_a_card(name):
    entry = MODELS[name]
    assert (MODELS_DIR / entry.file).stat().st_size < 12e6
    card = (MODELS_DIR / entry.file).with_suffix(".md")
    assert card.is_file(), f"{card} (the model card) is missing"
    text = card.read_text()
    for word in ("steps", "data", "hardware", "losses", "terms"):
        assert word in text.lower(), f"{card.name} says nothing about {word}"
    assert load_model(name).info.card["steps"] > 0


@pytest.mark.parametrize("name", list(MODELS))
def test_shipped_model_stylizes_a_held_out_photo(name, real_vgg, data_dir):
    if not HELD_OUT.is_dir():
        pytest.skip(f"held-out photos not found in {HELD_OUT}")
    model = load_model(name)
    adain = isinstance(model, AdaIN)
    style = "starry_night" if adain else model.info.styles[0]
    call = {"style": load_sample("starry_night", 128)} if adain else {}
    with torch.no_grad():
        scores = evaluate(model, HELD_OUT, style, real_vgg, size=128, limit=3, **call)
    assert scores["style"] < 0.75 * scores["style of the photo"], scores  # it took on the style
    assert scores["content"] < 0.75 * scores["content of the painting"], scores  # and kept the layout


@pytest.mark.parametrize("name", [n for n in MODELS if not n.startswith("adain")])
def test_shipped_network_treats_both_borders_alike(name):
    """Mirroring the photo mirrors the result as well at the left and right borders as inside: no
    band along one edge (a 3x3 stride-2 down path painted one along the right border). Inside,
    learned kernels are not mirror-symmetric, so brush marks may land differently."""
    edges, inside = mirror_borders(load_model(name), load_sample("tubingen", 256))
    assert edges < 1.3 * inside, f"{name}: {edges:.4f} at the borders, {inside:.4f} inside"
