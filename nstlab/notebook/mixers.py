"""Mixing styles with sliders, recomputed at once: a conditional network's styles, AdaIN's alpha.

    StyleMixer(model, image)            a slider per style of a conditional network (Dumoulin et al.)
    AdaINMixer(model, image, styles)    alpha and a weight per style image (Huang & Belongie)

Both run `nstlab.apply` once per change, synchronously in the observer: sliders report only
where they are released (continuous_update=False), so values never queue behind each other and
the picture always shows the values the sliders show. Errors go to the status line.
"""

from __future__ import annotations

import html

import ipywidgets as W
import torch

from ..errors import NstlabError
from ..feedforward import apply
from ..feedforward.pretrained import model_info
from ..samples import resolve_image
from .preview import png


class _Mixer(W.VBox):
    """Sliders, an output image and a status line; subclasses say what one change computes."""

    def __init__(self, sliders: list[W.FloatSlider], width: str = "420px"):
        self.output = W.Image(format="png", layout=W.Layout(width=width, height="auto"))
        self.status = W.HTML()
        for slider in sliders:
            slider.observe(lambda _: self.draw(), "value")
        super().__init__([W.HBox([W.VBox(sliders), self.output]), self.status])
        self.draw()

    def draw(self) -> None:
        try:
            result = self.compute()
        except Exception as err:  # in a widget callback, an error not shown here is lost
            text = str(err) if isinstance(err, NstlabError) else f"{type(err).__name__}: {err}"
            self.status.value = f"<span style='color:#b00020'>{html.escape(text)}</span>"
            return
        self.output.value = png(result.image)
        self.status.value = html.escape(f"{self.describe()} · {1000 * result.seconds:.0f} ms")

    @property
    def weights(self) -> torch.Tensor:
        """The style sliders' values, (N,)."""
        return torch.tensor([s.value for s in self.sliders])

    def mix_text(self) -> str:
        """"starry_night 50%, udnie 50%": the styles in use, normalized."""
        weights = self.weights / self.weights.sum()
        pairs = zip(self.sliders, weights.tolist(), strict=True)
        return ", ".join(f"{s.description} {w:.0%}" for s, w in pairs if w > 0)


class StyleMixer(_Mixer):
    """A conditional network on one image, a weight slider per style: the output uses the convex
    mix of the styles' scales and shifts. The styles are the ones the network has when the mixer
    is made; names default to the network's style names."""

    def __init__(self, model, image, *, size: int = 256, names=None):
        self.model, self.image = model.eval(), resolve_image(image, size)
        self.count = model.styles
        names = list(names or model_info(model).styles)[:self.count]
        names += range(len(names), self.count)  # unnamed styles by their index
        self.sliders = [W.FloatSlider(1.0 if i == 0 else 0.0, min=0, max=1, step=0.05, description=str(n),
                                      continuous_update=False) for i, n in enumerate(names)]
        super().__init__(self.sliders)

    def compute(self):
        return apply(self.model, self.image, style=list(range(self.count)), mix=self.weights)

    def describe(self) -> str:
        return self.mix_text()


class AdaINMixer(_Mixer):
    """An AdaIN network on one image: an alpha slider (content <-> style) and, for several style
    images {name: image}, a weight slider per style."""

    def __init__(self, model, image, styles: dict, *, size: int = 256, alpha: float = 1.0):
        self.model, self.image = model.eval(), resolve_image(image, size)
        self.styles = {name: resolve_image(s, size) for name, s in styles.items()}
        self.alpha = W.FloatSlider(alpha, min=0, max=1, step=0.05, description="alpha",
                                   continuous_update=False)
        self.sliders = [W.FloatSlider(1.0 if i == 0 else 0.0, min=0, max=1, step=0.05, description=name,
                                      continuous_update=False) for i, name in enumerate(self.styles)]
        super().__init__([self.alpha, *(self.sliders if len(self.sliders) > 1 else [])], width="360px")

    def compute(self):
        return apply(self.model, self.image, style=list(self.styles.values()), mix=self.weights,
                     alpha=self.alpha.value)

    def describe(self) -> str:
        return f"alpha {self.alpha.value:.2f} · {self.mix_text()}"
