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
# # 00 · A tour of nstlab
#
# **Neural style transfer** paints a photo in the style of a painting. Gatys, Ecker and Bethge
# (2016) showed that a network trained to recognise objects, VGG, describes an image in two
# separable ways: *what* is where (its **content**) and *how* it is painted (its **style**).
# Optimising the pixels of a new image to match the content of one image and the style of another
# gives a picture no one painted.
#
# **In this notebook you will**
# - check that your installation works (and where the network weights and images come from);
# - run a whole style transfer in one cell;
# - learn how nstlab stores an image: a tensor of shape `(1, 3, H, W)` with values in `[0, 1]`;
# - see the map of the notebooks that follow.

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
from nstlab.notebook import check_setup, pick
from nstlab.notebook.exercises import check_image_size

info = check_setup()

# %% [markdown]
# The check loads the network and finds the images: nstlab carries both (an ImageNet VGG-16 and
# twelve sample images at up to 512 px), so nothing is downloaded and nothing needs setting. For
# more -- the paper's VGG-19, full-size images, your own photos -- see the settings in docs/guide.md.
#
# ## Style transfer in one cell
# `stylize` takes a content image and a style image (file paths or sample names) and returns a
# `Result`. It runs on the GPU when there is one; on a laptop CPU this takes about a minute.

# %%
SIZE, STEPS = pick(256, 48), pick(100, 3)
result = nstlab.stylize("tubingen", "starry_night", size=SIZE, steps=STEPS)
fig = viz.show_images({"content": nstlab.load_sample("tubingen", SIZE),
                       "style": nstlab.load_sample("starry_night", SIZE),
                       f"result ({result.steps} steps, {result.seconds:.0f} s)": result.image})

# %% [markdown]
# `result.save("mine.png")` writes the picture; `nstlab.sample_names()` lists the samples, and any
# photo of yours works by its path. The same is on the command line:
# `nstlab stylize tubingen starry_night -o out.png`.
#
# A trained network does the same in one pass, with the same words and the same `Result`:
# `nstlab.apply("johnson-starry_night", "tubingen")` (notebooks 06-08).

# %%
fast = nstlab.apply("johnson-starry_night", "tubingen", size=SIZE)
fig = viz.show_images({f"Gatys: {result.seconds:.0f} s": result.image,
                       f"a trained network: {1000 * fast.seconds:.0f} ms": fast.image})

# %% [markdown]
# ## How an image is stored
# nstlab loads every image as a PyTorch tensor of shape `(batch, channels, height, width)` =
# `(1, 3, H, W)`, red/green/blue values between 0 and 1. The batch axis is there because
# networks process several images at once; here it is always 1.

# %%
image = nstlab.load_sample("tubingen", SIZE)
print(type(image).__name__, tuple(image.shape), image.dtype, f"min {image.min():.2f} max {image.max():.2f}")

# %% [markdown]
# ### Exercise 1 · height and width
# Write `image_size(image)` that returns `(height, width)` of a `(1, 3, H, W)` image tensor.
# The check below runs it on test images and tells you whether it is right.

# %%
def image_size(image):
    ### BEGIN SOLUTION
    return tuple(image.shape[-2:])
    ### END SOLUTION


check_image_size(image_size)

# %% [markdown]
# ## The map
#
# | notebook | what you learn |
# |---|---|
# | **01 what the network sees** | VGG's layers and the feature maps of a photo and a painting |
# | **02 content representation** | rebuild a photo from one layer's features: detail fades with depth |
# | **03 style as statistics** | Gram matrices throw away layout; synthesise textures |
# | **04 Gatys style transfer** | the full method, a live studio with sliders, the content/style trade-off |
# | **05 controls** | start image, optimiser, pooling, smoothness, stroke size, colour, regions, coarse-to-fine |
# | **06 fast style transfer** | a network that paints in one pass (Johnson et al.); instance norm; train one live |
# | **07 many styles in one network** | conditional instance norm: six styles, mixing, adding a seventh |
# | **08 arbitrary style with AdaIN** | any painting in one pass; the alpha trade-off, mixing, colours, regions |
# | **09 video** | flicker measured, optical flow, warping, the stabilizer, networks that hold still |
# | **10 what is style?** | Gram matrices, mean/std, MMD and patches side by side; image analogies |
# | **12 style and domains** | the same statistics as a domain shift: MMD, AdaBN, style augmentation, shape bias |
#
# Each notebook has exercises like the one above; your teacher has the solutions.
