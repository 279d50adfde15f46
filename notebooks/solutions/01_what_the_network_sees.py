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
# # 01 · What the network sees
#
# Style transfer does not compare pixels. It compares what a convolutional network, **VGG**
# (Simonyan & Zisserman 2015), computes from the pixels. VGG was trained to name the objects in
# a million photos (ImageNet); to do that it learned filters that respond to edges, colours,
# textures and, deeper in, to parts of objects.
#
# **Learning goals**
# - name VGG's layers the way the papers do (`conv3_1`, `relu3_1`, `pool3`, ...);
# - predict the shape of a layer's output for an image of a given size;
# - see feature maps of a photo and a painting, from shallow to deep layers, and explore them.

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
from nstlab.notebook.exercises import check_feature_shape
from nstlab.notebook.explorers import FeatureExplorer

SIZE = pick(256, 64)
vgg = nstlab.load_vgg()
content = nstlab.load_sample("tubingen", SIZE)
style = nstlab.load_sample("starry_night", SIZE)
print(vgg.arch, "with", len(vgg.names), "layers")

# %% [markdown]
# ## The layers
# VGG is a stack of 3×3 convolutions, each followed by a ReLU (which sets negatives to zero),
# grouped in five **blocks**; a 2×2 max pooling at the end of each block halves the height and
# width. The papers name the layers by block and position:
#
# $$\texttt{conv1\_1} \to \texttt{relu1\_1} \to \texttt{conv1\_2} \to \texttt{relu1\_2} \to
# \texttt{pool1} \to \texttt{conv2\_1} \to \cdots \to \texttt{pool5}$$
#
# A layer's output is a stack of **feature maps**, one per channel (filter): a tensor
# $F_l$ of shape $(1, C_l, H_l, W_l)$. Channels go 64, 128, 256, 512, 512 by block.

# %%
features = vgg(content, [n for n in vgg.names if n.startswith("relu") or n.startswith("pool")])
for name, f in features.items():
    print(f"{name:8} {tuple(f.shape[1:])}")

# %% [markdown]
# ### Exercise 1 · predict a layer's shape
# Write `feature_shape(layer, height, width)` that returns `(channels, h, w)` of `layer`'s output
# for an input image of `height × width`, without running the network. The block number is the
# digit after `conv`/`relu`/`pool`; each *pooling* halves the size (rounding down).

# %%
def feature_shape(layer, height, width):
    ### BEGIN SOLUTION
    block = int(layer[4])
    channels = (64, 128, 256, 512, 512)[block - 1]
    pools = block if layer.startswith("pool") else block - 1  # poolings passed so far
    return channels, height // 2**pools, width // 2**pools
    ### END SOLUTION


check_feature_shape(feature_shape, vgg)

# %% [markdown]
# ## Feature maps, shallow to deep
# The 16 most active channels of three layers for the photo. Early layers respond to edges and
# colours at every position; deep layers respond to larger, more abstract patterns at coarse
# positions (each deep "pixel" sees a large patch of the image).

# %%
for layer in ("relu1_1", "relu3_1", "relu5_1"):
    fig = viz.feature_maps(features[layer], 16, title=f"tubingen · {layer}")

# %% [markdown]
# The painting through the same filters: swirls and brush strokes light up channels that the
# photo hardly uses. That difference is what style transfer will exploit.

# %%
fig = viz.feature_maps(vgg(style, ["relu3_1"])["relu3_1"], 16, title="starry_night · relu3_1")

# %% [markdown]
# ## Explore
# Pick a layer and scroll through its channels. Which channels respond to the sky? to the
# windows? Does any channel of `relu5_1` still show a recognisable house?

# %%
FeatureExplorer(content, vgg, size=SIZE)

# %% [markdown]
# **Think about it:** a `relu4_2` map of a 256-pixel image has 32×32 positions. Why does a
# reconstruction from that layer (next notebook) still show where the houses are, but not the
# exact colour of each window?
