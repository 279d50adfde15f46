import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

from nstlab.viz import (
    feature_maps,
    gram_heatmaps,
    loss_curves,
    png_bytes,
    show_images,
    tradeoff_grid,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

HISTORY = [
    {"content:relu4_2": 1.0, "style:relu1_1": 0.5, "style:relu2_1": 0.25, "tv": 0.01, "loss": 9.0},
    {"content:relu4_2": 0.8, "style:relu1_1": 0.4, "style:relu2_1": 0.2, "tv": 0.02, "loss": 7.0},
    {"content:relu4_2": 0.6, "style:relu1_1": 0.3, "style:relu2_1": 0.1, "tv": 0.03, "loss": 5.0},
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def lines(fig):
    return {line.get_label(): line for line in fig.axes[0].get_lines()}


def test_show_images_accepts_every_image_kind_and_dict_titles():
    images = {"tensor": torch.rand(1, 3, 8, 10), "chw": torch.rand(3, 8, 10),
              "pil": Image.new("RGB", (10, 8), "red"), "array": np.zeros((8, 10, 3), np.uint8)}
    fig = show_images(images)
    assert titles(fig) == list(images)
    assert [ax.get_images()[0].get_array().shape for ax in fig.axes] == [(8, 10, 3)] * 4
    assert not any(ax.axison for ax in fig.axes)


def test_show_images_grid_and_title_checks():
    fig = show_images([torch.rand(3, 4, 4)] * 5, ["a", "b", "c", "d", "e"], ncols=2)
    assert len(fig.axes) == 6 and titles(fig) == ["a", "b", "c", "d", "e"]
    with pytest.raises(ValueError, match="2 images but 1 titles"):
        show_images([torch.rand(3, 4, 4)] * 2, ["only one"])
    with pytest.raises(ValueError, match="not both"):
        show_images({"a": torch.rand(3, 4, 4)}, ["b"])


def test_feature_maps_picks_most_active_channels_in_order():
    features = torch.zeros(1, 8, 4, 4)
    for channel, mean in {5: 9.0, 2: 7.0, 7: 5.0, 0: 3.0}.items():
        features[0, channel] = mean
    features[0, 5, 0, 0] = 0.0  # not constant: each panel gets its own colour range
    fig = feature_maps(features, channels=3)
    assert titles(fig) == ["ch 5", "ch 2", "ch 7"]
    assert fig.axes[0].get_images()[0].get_clim() == (0.0, 9.0)
    assert fig.axes[1].get_images()[0].get_clim() == (7.0, 7.0)


def test_feature_maps_respects_a_channel_list_and_checks_it():
    fig = feature_maps(torch.rand(6, 5, 5), channels=[4, 0, 3], title="relu1_1")
    assert titles(fig) == ["ch 4", "ch 0", "ch 3"]
    assert fig.get_suptitle() == "relu1_1"
    with pytest.raises(ValueError, match=r"0\.\.5"):
        feature_maps(torch.rand(6, 5, 5), channels=[6])
    with pytest.raises(ValueError, match="batch"):
        feature_maps(torch.rand(2, 6, 5, 5))


def test_gram_heatmaps_share_one_colour_range_and_colorbar():
    a, b = torch.rand(1, 8, 8), torch.rand(8, 8) * 5 - 1
    fig = gram_heatmaps({"content": a, "style": b}, channels=None)
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    high = max(a.abs().max(), b.abs().max()).item()
    assert len(images) == 2
    assert images[0].get_clim() == images[1].get_clim() == pytest.approx((high * 1e-4, high))
    assert images[0].norm.__class__.__name__ == "LogNorm"  # a few large entries do not blacken the rest
    assert len(fig.axes) == 3  # two panels and one colorbar


def test_gram_heatmaps_shows_only_the_first_channels():
    gram = torch.arange(100.0).view(10, 10)
    fig = gram_heatmaps({"g": gram}, channels=4)
    image = fig.axes[0].get_images()[0]
    assert image.get_array().shape == (4, 4)
    assert image.get_clim() == pytest.approx((33e-4, 33.0))  # the range of what is shown
    assert "first 4 of 10" in fig.axes[0].get_title()


def test_loss_curves_one_line_per_key_on_a_log_scale():
    fig = loss_curves(HISTORY)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    found = lines(fig)
    assert list(found) == [*HISTORY[0].keys()]
    np.testing.assert_allclose(found["style:relu2_1"].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(found["tv"].get_ydata(), [0.01, 0.02, 0.03])
    assert found["loss"].get_color() == "black"
    assert found["loss"].get_linewidth() > found["tv"].get_linewidth()


def test_loss_curves_groups_sum_their_layers():
    history = [*HISTORY, {"content:relu4_2": 0.5, "loss": 4.0}]  # style and tv switched off
    found = lines(loss_curves(history, per_layer=False))
    assert list(found) == ["content", "style", "tv", "loss"]
    np.testing.assert_allclose(found["content"].get_ydata(), [1.0, 0.8, 0.6, 0.5])
    np.testing.assert_allclose(found["style"].get_ydata(), [0.75, 0.6, 0.4, np.nan])
    np.testing.assert_allclose(found["loss"].get_ydata(), [9.0, 7.0, 5.0, 4.0])


def test_loss_curves_a_zero_start_does_not_stretch_the_axis_and_no_line_hides():
    history = [{"content:relu4_2": c, "loss": c} for c in (0.0, 1e-9, 0.3, 0.2)]  # content only
    fig = loss_curves(history)
    found = lines(fig)
    assert list(found) == ["loss = content:relu4_2"]  # one line, both names: nothing hidden under it
    low, high = fig.axes[0].get_ylim()
    assert low > 1e-7 and high < 1  # not down to 1e-9


def test_loss_curves_empty_history_says_so():
    fig = loss_curves([])
    assert [t.get_text() for t in fig.axes[0].texts] == ["no steps yet"]
    assert not fig.axes[0].get_lines()


def test_tradeoff_grid_labels_rows_and_columns():
    images = [[torch.rand(3, 4, 4) for _ in range(3)] for _ in range(2)]
    fig = tradeoff_grid(images, ["1e2", "1e4"], ["relu1_1", "+relu2_1", "+relu3_1"])
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["relu1_1", "+relu2_1", "+relu3_1"]
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["1e2", "1e4"]


def test_tradeoff_grid_rejects_mismatched_labels():
    images = [[torch.rand(3, 4, 4)] * 3] * 2
    with pytest.raises(ValueError, match="row labels"):
        tradeoff_grid(images, ["a"], ["x", "y", "z"])
    with pytest.raises(ValueError, match="column labels"):
        tradeoff_grid(images, ["a", "b"], ["x", "y"])
    with pytest.raises(ValueError, match="row 1 has 2 images"):
        tradeoff_grid([images[0], images[1][:2]], ["a", "b"], ["x", "y", "z"])


def test_png_bytes_renders_a_plain_figure():
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([1, 2])
    canvas = fig.canvas
    data = png_bytes(fig, dpi=50)
    assert isinstance(data, bytes) and data.startswith(PNG_MAGIC)
    assert Image.open(io.BytesIO(data)).size == (100, 50)
    assert fig.canvas is canvas


def test_drawing_into_given_figures_never_uses_pyplot():
    before = plt.get_fignums()
    figures = [
        show_images([torch.rand(3, 4, 4)], fig=Figure()),
        feature_maps(torch.rand(1, 4, 3, 3), channels=2, fig=Figure()),
        gram_heatmaps({"g": torch.rand(4, 4)}, fig=Figure()),
        loss_curves(HISTORY, ax=Figure().add_subplot()),
        tradeoff_grid([[torch.rand(3, 4, 4)]], ["r"], ["c"], fig=Figure()),
    ]
    for fig in figures:
        assert png_bytes(fig).startswith(PNG_MAGIC)
    assert plt.get_fignums() == before


def test_a_given_figure_is_cleared_first():
    fig = Figure()
    show_images([torch.rand(3, 4, 4)] * 3, ["a", "b", "c"], fig=fig)
    assert feature_maps(torch.rand(4, 3, 3), channels=[1, 3], fig=fig) is fig
    assert len(fig.axes) == 2 and titles(fig) == ["ch 1", "ch 3"]
