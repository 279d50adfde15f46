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
# # 06 · Fast style transfer
#
# Gatys' method optimises every image from scratch: a minute per picture on a CPU. Johnson, Alahi
# & Fei-Fei (ECCV 2016) trained a network to do it in **one forward pass**: an *image
# transformation network* $f_W$ takes a photo $x$ and returns the stylised image. Its weights $W$
# are trained once, on thousands of photos, to minimise the same **perceptual loss** that Gatys
# minimises per image:
#
# $$\min_W \; \mathbb{E}_x\Big[\alpha\,\mathcal{L}_\text{content}(f_W(x), x) + \beta\,\mathcal{L}_\text{style}(f_W(x), a) + \gamma\,\mathrm{TV}(f_W(x))\Big]$$
#
# **Learning goals**
# - know the network: strided convolutions down, residual blocks, resize-convolutions up;
# - write instance normalisation and see why it beats batch normalisation here (Ulyanov et al. 2016);
# - train a small network live and compare it with Gatys' result and time.

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
from IPython.display import display

import nstlab
from nstlab import viz
from nstlab.feedforward.johnson import TransformerNet
from nstlab.feedforward.objectives import PerceptualObjective
from nstlab.notebook import photos_folder, pick
from nstlab.notebook.exercises import check_choice, check_instance_norm
from nstlab.notebook.monitor import TrainingMonitor

SIZE = pick(256, 64)
vgg = nstlab.load_vgg()
content = nstlab.load_sample("tubingen", SIZE)
style = nstlab.load_sample("starry_night", SIZE)
photos = photos_folder()

# %% [markdown]
# ## The network
# Two stride-2 convolutions shrink the image 4×, five residual blocks transform it, and two
# *resize + convolution* layers bring it back (transposed convolutions leave checkerboard
# artifacts, Odena et al. 2016). A sigmoid keeps the output in [0, 1]. The stride-2 kernels are
# 4×4, not Johnson et al.'s 3×3: a 3×3 kernel with stride 2 sees the left border through its
# padding and the right border not, and networks built that way paint a band along one edge;
# with 4×4 kernels both borders look alike (mirror the photo and the result mirrors).

# %%
net = TransformerNet(width=16)
print(net)
print(f"{sum(p.numel() for p in net.parameters()):,} parameters")

# %% [markdown]
# ## Instance normalisation
# After each convolution the network normalises its feature maps. **Batch norm** uses statistics
# over the whole batch; **instance norm** uses each image's own statistics, per channel:
#
# $$\mathrm{IN}(x)_{bc} = \frac{x_{bc} - \mu_{bc}}{\sqrt{\sigma^2_{bc} + \epsilon}}, \qquad
# \mu_{bc} = \operatorname{mean}_{hw} x_{bchw}$$
#
# Ulyanov, Vedaldi & Lempitsky (2016) found that this one change makes stylisation much better:
# the photo's contrast is removed before the style is painted on, and an image's result no longer
# depends on the other images in its batch.
#
# ### Exercise 1 · instance norm
# Write `instance_norm(x)` for `(B, C, H, W)`, with $\epsilon = 10^{-5}$ and the biased variance.

# %%
def instance_norm(x):
    ### BEGIN SOLUTION
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + 1e-5)
    ### END SOLUTION


check_instance_norm(instance_norm)

# %% [markdown]
# ## Train a network live
# A small network (width 16), 128-pixel crops of photos, batches of 4, Adam. What it learns to
# minimise is its **objective**: the perceptual loss of notebook 04 between its output, the photo
# and the painting (`PerceptualObjective`); `nstlab.train` only loops over batches. The loss curve
# and the latest outputs update as it trains (about 80 s on a laptop CPU). A hundred steps already
# give a recognisable style; the shipped models below trained longer.

# %%
STEPS, CROP = pick(100, 2), pick(128, 32)
monitor = TrainingMonitor()
display(monitor)
torch.manual_seed(0)
mine = TransformerNet(width=16)
config = nstlab.TrainConfig(steps=STEPS, batch=4, crop=CROP, preview_every=pick(25, 1))
trained = nstlab.train(PerceptualObjective(mine, ["starry_night"], vgg), photos, config,
                       callback=monitor.update, progress=False)  # the monitor shows the progress
print(f"{trained.steps} steps in {trained.seconds:.0f} s, last loss {trained.history[-1]['loss']:.3g}")

# %% [markdown]
# ## Against Gatys
# The network trained above, the shipped Starry Night network, and Gatys' optimisation of this
# very photo, with their times. `nstlab.apply` runs any trained network -- a shipped one by name,
# a file, or one in memory -- and returns a `Result` like `nstlab.stylize`.

# %%
fast = nstlab.apply("johnson-starry_night", content)
ours = nstlab.apply(mine, content)
gatys = nstlab.stylize(content, style, extractor=vgg, size=SIZE, steps=pick(100, 2))
fig = viz.show_images({"photo": content, f"trained here ({STEPS} steps)": ours.image,
                       f"shipped network: {1000 * fast.seconds:.0f} ms": fast.image,
                       f"Gatys: {gatys.seconds:.0f} s": gatys.image})
print(f"the network is {gatys.seconds / fast.seconds:.0f}x faster than the optimisation")

# %% [markdown]
# ## Instance norm versus batch norm
# Two identical networks, the same photos and steps, only the normalisation differs (two short
# trainings on smaller crops, about 45 s with their progress bars). Each then stylizes the photo
# and a dim, low-contrast copy of it (`0.35 * photo + 0.1`).

# %%
results, dim = {}, content * 0.35 + 0.1
for norm in ("instance", "batch"):
    torch.manual_seed(0)
    net = TransformerNet(norm=norm, width=16)
    nstlab.train(PerceptualObjective(net, ["starry_night"], vgg), photos,
                 nstlab.TrainConfig(steps=pick(60, 2), batch=4, crop=pick(96, 32)))
    results[f"{norm} norm: photo"] = nstlab.apply(net, content).image
    results[f"{norm} norm: dim photo"] = nstlab.apply(net, dim).image
fig = viz.show_images(results, ncols=4)

# %% [markdown]
# Instance norm removes each image's own contrast (every channel's mean and spread) in the first
# layer, so the dim photo comes out as bright and painted as the photo itself. Batch norm, in eval
# mode, normalises with averages remembered from training: the dim photo stays dim and flat. That
# is Ulyanov et al.'s point: the contrast of the photo is something the style should replace.
#
# ### Question · why does instance norm help style transfer?
# (a) it trains faster because it has fewer parameters; (b) it removes each image's own contrast,
# which the style should replace anyway; (c) it averages over the batch, so results are smoother.
# Answer with the letter.

# %%
def answer():
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_choice("06-norm", answer)

# %% [markdown]
#
# **Try it:** train on `"the_scream"` with `PerceptualObjective(..., settings=...)` and a larger
# `style_weight`;
# or apply the shipped network to your own photo at 1024 px: how long does it take?
