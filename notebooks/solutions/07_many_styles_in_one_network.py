# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Many styles in one network
#
# A Johnson network learns one style. Dumoulin, Shlens & Kudlur (ICLR 2017) noticed that networks
# trained for different styles differ mostly in the scale $\gamma$ and shift $\beta$ of their
# instance-norm layers. **Conditional instance normalisation** keeps one $(\gamma_s, \beta_s)$ per
# style $s$ and shares everything else:
#
# $$\mathrm{CIN}(x; s) = \gamma_s \, \frac{x - \mu(x)}{\sigma(x)} + \beta_s$$
#
# A style costs just $2C$ numbers per norm layer. Mixing styles is mixing those numbers:
# $\gamma = \sum_s w_s \gamma_s$, $\beta = \sum_s w_s \beta_s$ with weights summing to one.
#
# **Learning goals**
# - see one network paint six styles, and blend them continuously;
# - write the convex mix of the styles' parameters;
# - add a new style to a trained network by fitting only its $\gamma, \beta$.

# %%
# In Colab, or a kernel without nstlab: install it first, from $NSTLAB_SOURCE or what you type
# (a wheel, or git+https://... of the repository: notebooks/README.md)
import importlib.util
import os

if getattr(importlib.util.find_spec("nstlab"), "origin", None) is None:  # missing, or a bare folder
    source = os.environ.get("NSTLAB_SOURCE") or input("install nstlab from: ").strip()
    assert source, "give a wheel file or git+https://... URL of nstlab (notebooks/README.md)"
    from IPython import get_ipython
    get_ipython().run_line_magic("pip", f"install --quiet {source}")

# %%
import torch

import nstlab
from nstlab import viz
from nstlab.feedforward.cin import add_style, style_parameters
from nstlab.feedforward.objectives import PerceptualObjective
from nstlab.notebook import photos_folder, pick
from nstlab.notebook.exercises import check_choice, check_style_mix
from nstlab.notebook.mixers import StyleMixer

SIZE = pick(256, 64)
content = nstlab.load_sample("tubingen", SIZE)
model = nstlab.load_model("cin-6styles")
print(model.info.styles)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters, "
      f"{sum(p.numel() for p in style_parameters(model, 0)):,} of them per style")

# %% [markdown]
# ## Six styles, one network

# `nstlab.apply(model, photo, style=name)` picks one style by name (or index).

# %%
outputs = {name: nstlab.apply(model, content, style=name).image for name in model.info.styles}
fig = viz.show_images({"photo": content, **outputs}, ncols=4)

# %% [markdown]
# ### Exercise 1 · mixing styles
# Write `style_mix(params, weights)`: `params` is `(N, C)` (one row of $\gamma$ or $\beta$ per
# style), `weights` is `(N,)` non-negative; return the `(C,)` convex combination (divide by the
# sum of the weights, so that `[1, 1]` means half and half).

# %%
def style_mix(params, weights):
    ### BEGIN SOLUTION
    return weights @ params / weights.sum()
    ### END SOLUTION


check_style_mix(style_mix)

# %% [markdown]
# ## The mixer
# One slider per style. Each change runs the network once with the mixed $(\gamma, \beta)$.
# Nothing forces a mix of parameters to look like a mix of paintings: a 50/50 mix of Starry Night
# and The Scream looks more like one of them. Where does it land for you? Try 70/30 and 30/70.

# %%
StyleMixer(model, content, size=SIZE)

# %% [markdown]
# A path from one style to another, in five steps: `style=` names the two, `mix=` says how much
# of each.

# %%
first, second = model.info.styles[:2]
print(f"from {first} to {second}")
path = {f"{1 - t:.2f} / {t:.2f}": nstlab.apply(model, content, style=[first, second], mix=[1 - t, t]).image
        for t in torch.linspace(0, 1, 5).tolist()}
fig = viz.show_images(path, size=2.4)

# %% [markdown]
# ## A seventh style, fitted alone
# `add_style` appends a new $(\gamma, \beta)$ per layer, starting at the average of the others;
# training then updates **only** those numbers (`fit_style=`), everything else frozen. The old six
# styles cannot change, because their parameters are not trained. We extend a fresh copy of the
# network, so that the mixer above keeps the network it shows.

# %%
extended = nstlab.load_model("cin-6styles")
new = add_style(extended)
before = nstlab.apply(extended, content, style=0).image
objective = PerceptualObjective(extended, [*extended.info.styles, "shipwreck"], nstlab.load_vgg(),
                                fit_style=new)
config = nstlab.TrainConfig(steps=pick(60, 2), batch=4, crop=pick(128, 32), lr=1e-2)
nstlab.train(objective, photos_folder(), config)
after = nstlab.apply(extended, content, style=0).image
fig = viz.show_images({"style 0 before": before, "style 0 after": after,
                       "new: shipwreck": nstlab.apply(extended, content, style=new).image,
                       "the painting": nstlab.load_sample("shipwreck", SIZE)})
print("style 0 unchanged:", torch.equal(before, after))

# %% [markdown]
# ### Question · what makes one style different from another in this network?
# (a) only the scale and shift $(\gamma, \beta)$ of each normalisation layer; (b) every
# convolution has its own weights per style; (c) the input photo is recoloured per style first.
# Answer with the letter (the parameter count printed at the top is a clue).

# %%
def answer():
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


check_choice("07-params", answer)

# %% [markdown]
# **Try it:** how few steps does a new style need before it looks right? What happens with
# weights outside [0, 1] (extrapolating beyond a style)?
