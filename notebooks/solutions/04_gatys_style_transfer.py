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
# # 04 · Gatys style transfer
#
# Put notebooks 02 and 03 together: find an image whose **deep features** match the photo and
# whose **Gram matrices** match the painting (Gatys, Ecker & Bethge, CVPR 2016).
#
# **Learning goals**
# - write down the full loss and the total-variation term;
# - write the optimisation loop yourself, once;
# - run the method and read its loss curves;
# - steer a running optimisation with sliders and see each change act at the next step;
# - map the trade-off between content and style.

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
from nstlab.notebook import pick
from nstlab.notebook.exercises import check_choice, check_optimization_loop, check_total_variation
from nstlab.notebook.studio import Studio
from nstlab.targets import content_targets, style_targets

SIZE, STEPS = pick(256, 48), pick(100, 3)
vgg = nstlab.load_vgg()
content = nstlab.load_sample("tubingen", SIZE)
style = nstlab.load_sample("starry_night", SIZE)

# %% [markdown]
# ## The loss
# With the content loss at layer $l_c$ (`relu4_2`) and the style loss over layers $l$ (`relu1_1`
# ... `relu5_1`):
#
# $$\mathcal{L}(x) = \alpha\, \mathcal{L}_\text{content}(x, p) + \beta\, \mathcal{L}_\text{style}(x, a)
#   + \gamma\, \mathrm{TV}(x)$$
#
# $\alpha$, $\beta$ are the content and style weights (defaults 1 and 10); only their ratio
# matters. Within the style loss each layer has its own weight: 1 for `relu1_1` ... `relu4_1`, a
# quarter for `relu5_1`, whose large structures are the first to swallow the photo's (with all five
# at 1 and $\beta = 30$ a house under an abstract painting is gone). The **total variation** $\mathrm{TV}$ penalises differences between neighbouring pixels,
# removing the high-frequency noise that optimising pixels tends to leave (weight $\gamma = 10$):
#
# $$\mathrm{TV}(x) = \operatorname{mean}_{ij} (x_{i+1,j} - x_{ij})^2 + \operatorname{mean}_{ij}(x_{i,j+1} - x_{ij})^2$$
#
# ### Exercise 1 · total variation
# Write `total_variation(x)` for images `(B, 3, H, W)` following the formula (means over all
# entries of each difference tensor).

# %%
def total_variation(x):
    ### BEGIN SOLUTION
    dy = x[..., 1:, :] - x[..., :-1, :]
    dx = x[..., :, 1:] - x[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()
    ### END SOLUTION


check_total_variation(total_variation)

# %% [markdown]
# ## The loop
# Everything fits in a loop of a dozen lines. The targets come first, once, without gradients:
# the photo's activations $P_l$ at the content layers and the painting's Gram matrices $A_l$ at
# the style layers (`nstlab.targets`). Then, each step:
#
# 1. `zero_grad()`: forget the previous step's gradient;
# 2. the image's features at the active layers: `extractor(image, layers)`;
# 3. the loss: `nstlab.perceptual_loss(features, image, settings, content_targets, style_targets)`
#    returns the weighted total and its parts;
# 4. `loss.backward()`: the gradient with respect to every **pixel** (VGG's weights stay fixed);
# 5. `optimizer.step()`, then clamp the pixels back into $[0, 1]$.
#
# ### Exercise 2 · the optimisation loop
# Write `optimize(image, extractor, settings, content_targets, style_targets, steps, lr)` with Adam.
# Optimise a copy of the image that requires gradients, and return it. The check runs your loop and
# `nstlab.StyleTransfer` on the same small problem: the two images must be the same.

# %%
def optimize(image, extractor, settings, content_targets, style_targets, steps, lr):
    ### BEGIN SOLUTION
    image = image.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=lr)
    layers = [*settings.active_content_layers(), *settings.active_style_layers()]
    for _ in range(steps):
        optimizer.zero_grad()
        features = extractor(image, layers)
        loss, _ = nstlab.perceptual_loss(features, image, settings, content_targets, style_targets)  # total, parts
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0, 1)
    return image.detach()
    ### END SOLUTION


if check_optimization_loop(optimize):
    settings = nstlab.Settings()
    mine = optimize(content, vgg, settings, content_targets(vgg, content, settings.active_content_layers()),
                    style_targets(vgg, [style], settings.active_style_layers()), pick(40, 2), 0.02)
    fig = viz.show_images({"content": content, f"your loop, {pick(40, 2)} Adam steps": mine})

# %% [markdown]
# `nstlab.StyleTransfer` is this loop plus what a tool needs: L-BFGS, settings that change while it
# runs, pause and stop, the best image kept, divergence caught, several scales.
#
# ## One run
# L-BFGS, the optimiser Gatys et al. used, starting from the photo. Each step is one forward and
# one backward pass through VGG.

# %%
result = nstlab.stylize(content, style, extractor=vgg, size=SIZE, steps=STEPS)
print(f"{result.steps} steps in {result.seconds:.1f} s")
fig = viz.show_images({"content": content, "style": style, "result": result.image})
fig = viz.loss_curves(result.history)

# %% [markdown]
# The loss curves (log scale) have one line per term and layer. The content loss starts at 0 (the
# image *is* the photo) and rises as style comes in; the style losses fall by orders of magnitude.
#
# ## The live studio
# Press **Start**. While it runs, move the sliders: the style weight, the layers, their weights.
# Each change acts at the next step; the preview and the loss plot keep up. **Pause**, **Resume**,
# **Stop**, **Reset**, **Save** do what they say; pick other images from the lists or upload your
# own. The studio uses Adam: L-BFGS keeps a memory of past gradients that every change makes stale.

# %%
studio = Studio("tubingen", "starry_night", vgg, size=SIZE, steps=pick(200, 20))
studio

# %% [markdown]
# The studio obeys code too: `run()` returns at once and the optimisation goes on in the
# background, so the notebook stays usable; `wait(seconds)` blocks until it ends or the time is
# up, `stop()` ends it. Here the style weight rises tenfold while the run is going, exactly as if
# the slider had moved; after 15 seconds the run stops, and the slider goes back to its default
# for your own runs.

# %%
studio.run()
studio.style_weight.value = 100.0
studio.wait(pick(15, 3))
studio.stop()
result = studio.wait()
print(f"{result.status}: {result.steps} steps in {result.seconds:.0f} s; the last step used "
      f"style weight {studio.transfer.settings.style_weight:g}")
studio.style_weight.value = 10.0

# %% [markdown]
# ## The trade-off
# Rows: the style weight $\beta$ (with $\alpha = 1$). Columns: how many style layers are matched.
# Compare with Fig. 3 of the paper: more weight on style and deeper style layers give larger,
# more painterly structures; too much style and the village dissolves.

# %%
GRID_SIZE, GRID_STEPS = pick(128, 32), pick(60, 2)
weights = [1, 10, 100]
layer_sets = {"relu1_1": ["relu1_1"], "up to relu3_1": ["relu1_1", "relu2_1", "relu3_1"],
              "up to relu5_1": ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]}
grid = [[nstlab.stylize(content, style, extractor=vgg, size=GRID_SIZE, steps=GRID_STEPS,
                        settings=nstlab.Settings(style_weight=w, style_layers=layers)).image
         for layers in layer_sets.values()] for w in weights]
fig = viz.tradeoff_grid(grid, [f"style weight {w}" for w in weights], list(layer_sets))

# %% [markdown]
# ### Question · down the rows, what happens?
# (a) the painting's texture takes over and the houses fade; (b) the image comes closer to the
# photo; (c) nothing visible changes. Answer with the letter.

# %%
def answer():
    ### BEGIN SOLUTION
    return "a"
    ### END SOLUTION


check_choice("04-tradeoff", answer)

# %% [markdown]
# **Try it:** in the studio, switch off every style layer but `relu5_1`, then every one but
# `relu1_1`. Which one carries the colours, which one the swirls?
