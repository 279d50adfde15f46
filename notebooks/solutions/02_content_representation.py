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
# # 02 · The content representation
#
# How much of an image does one layer of VGG keep? Gatys et al. (2016, Fig. 1) answered by
# **reconstruction**: start from noise and change the pixels until the image's features at that
# layer equal the photo's. Whatever survives was kept by the layer; whatever is lost was not.
#
# **Learning goals**
# - write the content loss;
# - reconstruct a photo from single layers, `relu1_2` to `relu5_2`;
# - see detail fade with depth while the layout stays.

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
from nstlab.notebook import pick
from nstlab.notebook.exercises import check_choice, check_content_loss

SIZE, STEPS = pick(160, 32), pick(150, 3)
vgg = nstlab.load_vgg()
content = nstlab.load_sample("tubingen", SIZE)

# %% [markdown]
# ## The content loss
# Let $P_l$ be the photo's features at layer $l$ and $F_l$ those of the image being optimised,
# both $C_l \times M_l$ ($M_l = H_l W_l$ positions). Gatys et al. use the squared error
# $\tfrac12\sum_{ij}(F_{ij} - P_{ij})^2$. nstlab divides it by the size of the target:
#
# $$\mathcal{L}_\text{content}(F, P) = \frac{\lVert F - P \rVert^2}{\lVert P \rVert^2}$$
#
# a *relative* error: 0 means identical features, 1 means as far away as the features are large.
# It does not change when a layer's activations are scaled (different VGG weights differ by
# hundreds), so the same weights work for every layer and every network.
#
# ### Exercise 1 · the content loss
# Write `content_loss(F, P)` for tensors of shape `(1, C, H, W)`; return a scalar tensor.

# %%
def content_loss(F, P):
    ### BEGIN SOLUTION
    return (F - P).pow(2).sum() / P.pow(2).sum()
    ### END SOLUTION


check_content_loss(content_loss)

# %% [markdown]
# ## Reconstructions
# For each layer: content loss only (no style), start from noise, L-BFGS. A little total
# variation (weight 1) keeps neighbouring pixels alike, a "natural image" prior (Mahendran &
# Vedaldi 2015): without it, the deep layers' reconstructions are buried in coloured pixel noise
# that the layer simply does not see -- any noise the layer ignores is as good as none.
# The paper calls these layers `conv1_2`, ..., `conv5_2`; in the original Caffe model the ReLU
# runs *in place*, so "conv4_2" there is the rectified output, our `relu4_2`. (About a minute and
# a half on a laptop CPU: a progress bar per layer.)

# %%
LAYERS = ["relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2"]
reconstructions = {}
for layer in LAYERS:
    settings = nstlab.Settings(content_layers=[layer], style_layers=[], style_weight=0, tv_weight=1)
    transfer = nstlab.StyleTransfer(content, None, vgg, settings)
    result = transfer.run(STEPS, SIZE, init="noise")
    first, last = result.history[0][f"content:{layer}"], result.history[-1][f"content:{layer}"]
    reconstructions[f"{layer}\ncontent loss {last:.3f}"] = result.image
    print(f"{layer}: {result.seconds:.1f} s, content loss {first:.3f} -> {last:.3f}")
fig = viz.show_images({"photo": content, **reconstructions}, size=2.6)

# %% [markdown]
# Shallow layers give the photo back almost exactly. From `relu3_2` on, the exact pixel values go
# while the arrangement of houses, river and sky stays: deep layers keep **what is where**, not
# how it looks. That is why style transfer matches content at a deep layer (`relu4_2`): the
# painting's style is free to redraw the details.
#
# ### Question · what does `relu5_2` keep?
# (a) the photo, pixel for pixel, only blurred; (b) nothing of the photo: its reconstruction is
# noise; (c) where the houses, the river and the sky are, but not their exact colours and edges.
# Answer with the letter.

# %%
def answer():
    ### BEGIN SOLUTION
    return "c"
    ### END SOLUTION


check_choice("02-deep", answer)

# %% [markdown]
# The loss curve of the deepest reconstruction: L-BFGS drops fast, then refines (the small total
# variation term is the second line).

# %%
fig = viz.loss_curves(result.history)

# %% [markdown]
# **Try it:** start from `init="style"` instead of noise, or give more steps. Does `relu5_2`
# ever become a sharp photo? (What information could it have thrown away for good?)
