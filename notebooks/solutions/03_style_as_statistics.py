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
# # 03 · Style as statistics
#
# Content is *where* things are. Style is *how* the picture is painted: colours, strokes,
# textures, wherever they occur. Gatys et al. capture it with the **Gram matrix** of a layer: which
# channels fire *together*, averaged over all positions, so that position itself is thrown away.
#
# **Learning goals**
# - write the Gram matrix and see why it discards layout;
# - compare the Gram matrices of a photo and a painting;
# - synthesise textures from noise with style layers up to `relu1_1`, ..., `relu5_1` and watch
#   larger structures appear (Gatys et al. 2015/2016).

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
import nstlab
from nstlab import viz
from nstlab.images import shuffle_tiles
from nstlab.notebook import pick
from nstlab.notebook.exercises import check_choice, check_gram_matrix, check_style_loss
from nstlab.notebook.explorers import GramExplorer

SIZE, STEPS = pick(160, 32), pick(150, 3)
vgg = nstlab.load_vgg()
content = nstlab.load_sample("tubingen", SIZE)
style = nstlab.load_sample("starry_night", SIZE)

# %% [markdown]
# ## The Gram matrix
# Flatten a layer's features to $F_l \in \mathbb{R}^{C_l \times M_l}$ (one row per channel, one
# column per position). The Gram matrix is
#
# $$G_l = \frac{1}{M_l} F_l F_l^\top, \qquad (G_l)_{ij} = \frac{1}{M_l}\sum_k F_{ik} F_{jk}$$
#
# entry $(i, j)$ is how strongly channels $i$ and $j$ are active at the same places, on average.
# The sum over positions $k$ does not care *which* $k$: shuffle the positions and $G$ is the same.
# (Gatys et al. do not divide by $M_l$; nstlab does, so that $G$ does not grow with the image.)
#
# ### Exercise 1 · the Gram matrix
# Write `gram_matrix(F)` for features of shape `(B, C, H, W)`, returning `(B, C, C)`.
# Hint: `reshape`, `transpose` and `@` (or `torch.bmm`).

# %%
def gram_matrix(F):
    ### BEGIN SOLUTION
    b, c, h, w = F.shape
    flat = F.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)
    ### END SOLUTION


check_gram_matrix(gram_matrix)

# %% [markdown]
# ## Layout does not matter
# Cut the painting into tiles and shuffle them. A person sees a different picture; the Gram
# matrices barely notice (only the seams between tiles are new).

# %%
shuffled = shuffle_tiles(style, tiles=4)
g = {name: nstlab.gram_matrix(vgg(img, ["relu3_1"])["relu3_1"]) for name, img in
     {"painting": style, "shuffled tiles": shuffled, "photo": content}.items()}
for name in ("shuffled tiles", "photo"):
    print(f"style distance painting -> {name}: {nstlab.style_loss(g[name], g['painting']).item():.3f}")
fig = viz.show_images({"painting": style, "shuffled tiles": shuffled, "photo": content})
fig = viz.gram_heatmaps({"painting": g["painting"], "shuffled tiles": g["shuffled tiles"], "photo": g["photo"]},
                        channels=48)

# %% [markdown]
# (The colours are on a log scale: a few channel pairs are far larger than the rest.)
#
# ### Question · what did shuffling change?
# (a) the Gram matrices a lot: the picture is a different one; (b) the Gram matrices hardly at
# all: the distance to the shuffled painting is far smaller than to the photo; (c) nothing at
# all: the distance is exactly zero. Answer with the letter.

# %%
def answer():
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_choice("03-shuffle", answer)

# %% [markdown]
# ## Explore
# Compare the photo and the painting layer by layer. At which layers are they most different?

# %%
GramExplorer(content, style, vgg, size=SIZE, titles=("tubingen", "starry_night"))

# %% [markdown]
# ## Texture synthesis
# With only the style loss, starting from noise, the optimisation paints a **texture**: the
# painting's statistics with no layout at all. Matching the Gram matrices of more layers, deeper
# ones included, brings in larger structures.
#
# $$\mathcal{L}_\text{style} = \sum_l w_l \frac{\lVert G_l - A_l \rVert^2}{\lVert A_l \rVert^2}$$
#
# where $A_l$ is the painting's Gram matrix and the weights $w_l$ sum to one (nstlab divides
# by their sum, so that only their ratios matter).
#
# ### Exercise 2 · the style loss over layers
# Write `style_loss(grams, targets, weights)`: three dicts keyed by layer name, the image's Gram
# matrices $G_l$ `(1, C, C)`, the painting's $A_l$, and the weights $w_l$ (any positive numbers).
# Use `nstlab.style_loss(G, A)` for one layer's relative error.

# %%
def style_loss(grams, targets, weights):
    ### BEGIN SOLUTION
    total = sum(weights[layer] * nstlab.style_loss(grams[layer], targets[layer]) for layer in grams)
    return total / sum(weights.values())
    ### END SOLUTION


check_style_loss(style_loss)

# %% [markdown]
# Now the synthesis, five times, from one layer to five (a progress bar for each; about a minute
# and a half on a laptop CPU).

# %%
ALL = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
textures = {}
for depth in range(1, 6):
    settings = nstlab.Settings(content_layers=[], style_layers=ALL[:depth], content_weight=0, tv_weight=0)
    result = nstlab.StyleTransfer(None, style, vgg, settings).run(STEPS, SIZE, init="noise")
    textures[f"up to {ALL[depth - 1]}"] = result.image
fig = viz.show_images({"painting": style, **textures}, size=2.6)

# %% [markdown]
# Up to `relu1_1` the texture is little more than the palette; each deeper layer adds longer
# strokes and swirls, yet nowhere is there a village or a cypress: the Gram matrix does not know
# *where*. Notebook 04 adds the content loss to put the texture on a scene.
#
# **Try it:** synthesise from `"the_scream"` or your own picture; try `tiles=16` above: when does
# the distance to the original start to grow?
