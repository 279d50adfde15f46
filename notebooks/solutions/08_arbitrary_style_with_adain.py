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
# # 08 · Arbitrary style with AdaIN
#
# Conditional instance norm learns $(\gamma_s, \beta_s)$ per style. Huang & Belongie (ICCV 2017)
# asked: why learn them at all? Take them **from the style image**: the mean and standard deviation
# of its VGG features, channel by channel. **Adaptive instance normalisation**:
#
# $$\mathrm{AdaIN}(x, y) = \sigma(y)\,\frac{x - \mu(x)}{\sigma(x)} + \mu(y)$$
#
# A fixed VGG encoder maps photo and painting to `relu4_1` features, AdaIN gives the photo's
# features the painting's statistics, and a trained decoder turns them back into an image. Any
# painting, never seen in training, in one pass.
#
# **Learning goals**
# - write AdaIN;
# - trade content against style with $\alpha$, mix several styles, keep the photo's colours;
# - paint different regions with different styles.

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
from nstlab.feedforward.adain import adain
from nstlab.notebook import pick
from nstlab.notebook.exercises import check_adain, check_choice
from nstlab.notebook.mixers import AdaINMixer

SIZE = pick(256, 64)
model = nstlab.load_model("adain")
content = nstlab.load_sample("tubingen", SIZE)
styles = {name: nstlab.load_sample(name, SIZE) for name in ("starry_night", "the_scream", "great_wave", "udnie")}

# %% [markdown]
# ### Exercise 1 · AdaIN
# Write `my_adain(x, y)` for features `(B, C, H, W)`: per image and channel, statistics over the
# positions, $\sigma = \sqrt{\text{biased variance} + 10^{-5}}$.

# %%
def my_adain(x, y):
    ### BEGIN SOLUTION
    def stats(f):
        return f.mean((2, 3), keepdim=True), (f.var((2, 3), keepdim=True, unbiased=False) + 1e-5).sqrt()

    mx, sx = stats(x)
    my, sy = stats(y)
    return sy * (x - mx) / sx + my
    ### END SOLUTION


check_adain(my_adain)

# %% [markdown]
# The statistics really are copied: after AdaIN the photo's features have the painting's
# per-channel mean and spread.

# %%
with torch.no_grad():
    fc, fs = model.encode(content), model.encode(styles["starry_night"])
    t = adain(fc, fs)
for name, f in (("photo", fc), ("painting", fs), ("AdaIN output", t)):
    print(f"{name:13} channel means {f.mean((2, 3))[0, :4].numpy().round(2)}  "
          f"stds {f.std((2, 3))[0, :4].numpy().round(2)}")

# %% [markdown]
# ## Any style, one pass each
# `nstlab.apply(model, photo, style=painting)`: the painting is an input, like the photo.

# %%
fig = viz.show_images({"photo": content, **{n: nstlab.apply(model, content, s).image
                                            for n, s in styles.items()}})

# %% [markdown]
# ## Content against style: $\alpha$
# $t = \alpha\,\mathrm{AdaIN}(f_c, f_s) + (1 - \alpha) f_c$. Move the alpha slider; with two
# paintings, their weights mix them too.

# %%
AdaINMixer(model, content, {"starry_night": styles["starry_night"], "the_scream": styles["the_scream"]},
           size=SIZE)

# %% [markdown]
# ## Mixing styles, keeping colours, regions
# - **interpolation**: $t = \sum_k w_k\,\mathrm{AdaIN}(f_c, f_{s_k})$;
# - **colour preservation**: recolour the painting to the photo's colour statistics first
#   (`nstlab.color.match_histogram`, notebook 05);
# - **spatial control**: a mask per style; each region is normalised with its own statistics.
#
# The same words as everywhere in nstlab: `mix=`, `preserve_color=`, `masks=`. Two paintings as
# different as possible (*The Scream*'s reds, *The Great Wave*'s blues), each alone first, so the
# mix, the halves and the kept colours can be compared with them.

# %%
two = [styles["the_scream"], styles["great_wave"]]
h, w = content.shape[-2:]
left = torch.zeros(h, w)
left[:, : w // 2] = 1
fig = viz.show_images({
    "the_scream": nstlab.apply(model, content, two[0]).image,
    "great_wave": nstlab.apply(model, content, two[1]).image,
    "50/50 mix": nstlab.apply(model, content, two, mix=[0.5, 0.5]).image,
    "left / right": nstlab.apply(model, content, two, masks=[left, 1 - left]).image,
    "the_scream, colours kept": nstlab.apply(model, content, two[0], preserve_color=True).image,
}, ncols=5, size=2.8)

# %% [markdown]
# ### Question · what does alpha = 0 show?
# (a) the painting; (b) the photo, as the decoder redraws it from its own features; (c) a grey
# image: no statistics at all. Try the slider above, then answer with the letter.

# %%
def answer():
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_choice("08-alpha", answer)

# %% [markdown]
# **Try it:** use a painting nstlab does not ship: `nstlab.apply(model, content, "my.jpg")`.
# Which kinds of style does the decoder handle well, which badly? (It was trained on about 200
# paintings, most of them by van Gogh; the paper used 80 000.)
