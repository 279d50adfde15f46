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
# # 05 · Controls
#
# The method of notebook 04 has knobs beyond the weights. Some come from the first paper, more
# from Gatys, Ecker, Bethge, Hertzmann & Shechtman, *Controlling Perceptual Factors in Neural Style
# Transfer* (CVPR 2017): keep the photo's colours, put different styles on different regions,
# and work coarse-to-fine for large images.
#
# **Learning goals**
# - see what the start image, the optimiser, pooling, smoothing and stroke size change;
# - compute luminance and transfer style without its colours, two ways;
# - paint two styles on two regions with masks;
# - save time on large images by going coarse-to-fine.

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
import matplotlib.pyplot as plt
import torch

import nstlab
from nstlab import color, viz
from nstlab.notebook import pick
from nstlab.notebook.exercises import check_choice, check_guided_gram, check_luminance

SIZE, STEPS = pick(160, 64), pick(50, 2)
vgg = nstlab.load_vgg()
content = nstlab.load_sample("tubingen", SIZE)
style = nstlab.load_sample("starry_night", SIZE)


def run(content=content, style=style, **options):
    """One stylization at the notebook's size and step count; options as in nstlab.stylize."""
    options = {"size": SIZE, "steps": STEPS, **options}
    return nstlab.stylize(content, style, extractor=vgg, **options)


def zoom(image):
    """The middle of the right half, where the houses are: small differences show up close."""
    h, w = image.shape[-2:]
    return image[..., h // 4: 3 * h // 4, w // 2: w]


# Every cell below runs one to four stylizations (about 8 s each on a laptop CPU; a progress bar
# shows each). `baseline` is the default run the others are compared with.
baseline = run()


# %% [markdown]
# ## Where the image starts
# From the photo (the default), the painting, or noise. With enough steps all three satisfy the
# same loss, but not with the same image: the loss has many minima, and the start picks one.

# %%
starts = {"content": baseline, **{init: run(init=init) for init in ("style", "noise")}}
fig = viz.show_images({f"start: {k}": r.image for k, r in starts.items()})

# %% [markdown]
# ## L-BFGS or Adam
# L-BFGS builds a picture of the curvature from past gradients and takes large, well-aimed steps;
# Adam takes small steps scaled per pixel. Per step both cost one forward + backward pass.

# %%
optimizers = {"L-BFGS": baseline, "Adam": run(optimizer="adam")}
fig, ax = plt.subplots(figsize=(5, 3))
for name, r in optimizers.items():
    ax.semilogy([h["loss"] for h in r.history], label=name)
ax.set(xlabel="step", ylabel="total loss")
ax.legend();

# %% [markdown]
# ## Max or average pooling
# VGG was trained with max pooling. Gatys et al. (2016) replaced it by average pooling and found
# "slightly more appealing results": gradients flow to every pixel of a window, not just the largest.
# The pooling is an option of the run (`pooling="avg"`); the network itself is shared and unchanged.
# The difference is in the details: the second row shows the houses up close.

# %%
average = run(pooling="avg")
pair = {"max pooling": baseline.image, "average pooling": average.image}
fig = viz.show_images({**pair, **{f"{k}, close up": zoom(v) for k, v in pair.items()}}, ncols=2)

# %% [markdown]
# ## Smoothness: the total-variation weight
# TV penalises differences between neighbouring pixels: without it, fine high-frequency speckle;
# with a lot of it, flat patches. Up close:

# %%
tvs = {0: run(settings=nstlab.Settings(tv_weight=0)).image, 10: baseline.image,
       1000: run(settings=nstlab.Settings(tv_weight=1000)).image}
fig = viz.show_images({f"TV weight {tv}{' (default)' if tv == 10 else ''}": zoom(image)
                       for tv, image in tvs.items()})

# %% [markdown]
# ## Stroke size: the style scale
# The Gram matrices are taken from the painting resized to `style_scale × size`. A larger painting
# (scale 2) has larger brush strokes, in pixels, and so has the result; a smaller one (0.5) gives
# finer, denser strokes.

# %%
scales = {0.5: run(style_scale=0.5).image, 1.0: baseline.image, 2.0: run(style_scale=2.0).image}
fig = viz.show_images({f"style scale {s}": image for s, image in scales.items()})

# %% [markdown]
# ### Question · which gives the largest strokes?
# (a) the smallest painting, scale 0.5: its strokes cover more of the result; (b) none: the scale
# changes only the colours; (c) the largest painting, scale 2. Answer with the letter.

# %%
def answer():
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


check_choice("05-scale", answer)

# %% [markdown]
# ## Keeping the photo's colours
# Style transfer copies the painting's palette. Gatys et al. (2017) give two ways to keep the photo's:
#
# 1. **Luminance-only transfer.** Convert to the YIQ colour space, where $Y$ is brightness and
#    $I, Q$ are colour. Stylize the brightness alone, then put back the photo's $I, Q$. First the
#    painting's luminance is matched to the photo's mean and spread:
#    $L_s' = \frac{\sigma_c}{\sigma_s}(L_s - \mu_s) + \mu_c$.
# 2. **Colour histogram matching.** Recolour the painting first so the mean and covariance of its
#    RGB pixels equal the photo's, $x' = \Sigma_c^{1/2}\Sigma_s^{-1/2}(x - \mu_s) + \mu_c$, then
#    transfer as usual.
#
# Both are one option of every method: `preserve_color="luminance"` or `preserve_color="histogram"`
# (`True` means histogram), also `nstlab stylize ... --preserve-color luminance`.
#
# ### Exercise 1 · luminance
# Write `luminance(image)`: for `(B, 3, H, W)` RGB return `(B, 1, H, W)` with
# $Y = 0.299 R + 0.587 G + 0.114 B$.

# %%
def luminance(image):
    ### BEGIN SOLUTION
    r, g, b = image[:, 0:1], image[:, 1:2], image[:, 2:3]
    return 0.299 * r + 0.587 * g + 0.114 * b
    ### END SOLUTION


check_luminance(luminance)

# %% [markdown]
# Inside, `preserve_color="luminance"` stylizes the grey images of `color.luminance_images` and puts
# the photo's colours back with `color.with_colors_of`; `"histogram"` first recolours the painting
# with `color.match_histogram`:

# %%
luminance_only = run(preserve_color="luminance").image
recoloured = color.match_histogram(style, content)
histogram = run(preserve_color="histogram").image
fig = viz.show_images({"plain transfer": baseline.image, "luminance only": luminance_only,
                       "painting, recoloured": recoloured, "histogram matching": histogram})

# %% [markdown]
# ## Two styles on two regions
# A mask per style says where it applies (values in [0, 1]; soft edges blend; an image's brightness
# works too). Without masks, `mix=[w1, w2]` blends the two styles everywhere instead. The style loss then
# compares *guided* Gram matrices: the features are weighted by the mask before the Gram matrix is
# taken, over the region only (Gatys et al. 2017, section 4):
#
# $$G_l^{(k)} = \frac{(F_l \odot m_k)(F_l \odot m_k)^\top}{\sum m_k}$$
#
# ### Exercise 2 · the guided Gram matrix
# Write `guided_gram(F, mask)` for features `(1, C, H, W)` and a mask `(1, 1, H, W)` in [0, 1]:
# weight the features by the mask, take the Gram matrix, and divide by the mask's area.

# %%
def guided_gram(F, mask):
    ### BEGIN SOLUTION
    b, c, h, w = F.shape
    flat = (F * mask).reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / mask.sum()
    ### END SOLUTION


check_guided_gram(guided_gram)

# %% [markdown]
# Here: the night sky above, *The Scream* below.

# %%
scream = nstlab.load_sample("the_scream", SIZE)
h, w = content.shape[-2:]
rows = torch.linspace(0, 1, h)[:, None].expand(h, w)  # 0 at the top, 1 at the bottom
sky = ((0.42 - rows) / 0.08 + 0.5).clamp(0, 1)  # 1 above ~40 % of the height, a soft edge
two = run(style=[style, scream], masks=[sky, 1 - sky])
fig = viz.show_images({"sky mask": sky.expand(1, 3, h, w), "style 1": style, "style 2": scream,
                       "two regions": two.image})

# %% [markdown]
# ## Coarse-to-fine
# Large images are slow: a step at 512 px costs four times one at 256 px, and big structures need
# many steps to form. Gatys et al. (2017) first stylize small, then upsample and refine at full
# size for a few steps.

# %%
BIG = pick(256, 64)
single = run(size=BIG, steps=pick(60, 2))
coarse = run(size=[BIG // 2, BIG], steps=pick([60, 15], [2, 1]))
fig = viz.show_images({f"{BIG} px only: {single.seconds:.0f} s": single.image,
                       f"{BIG // 2} then {BIG} px: {coarse.seconds:.0f} s": coarse.image})

# %% [markdown]
# **Try it:** make a mask of your own (the river? the left half?) and a third style; or keep the
# colours *and* use two regions.
