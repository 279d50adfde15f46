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
# # 10 · What is style?
#
# Notebook 03 took Gatys et al.'s answer on trust: style is the Gram matrices of VGG's layers.
# Notebooks 06-08 quietly used another one: instance norm, conditional instance norm and AdaIN
# match each channel's **mean and standard deviation**. Which is right? Experts still argue, and
# the arguments have numbers in them:
#
# - Li, Wang, Liu & Hou (2017, *Demystifying Neural Style Transfer*) proved that matching Gram
#   matrices **is** minimizing a *maximum mean discrepancy* (MMD) between the two sets of feature
#   vectors, with the kernel $k(x, y) = (x^\top y)^2$; other kernels work about as well.
# - Li & Wand (2016, *CNNMRF*) gave up statistics: every 3x3 patch of the image's features is
#   pulled towards the **most similar patch** of the painting, which keeps local layout.
# - Hertzmann et al. (2001, *Image Analogies*) did patch-based style transfer with pixels, fifteen
#   years before the networks.
#
# **Learning goals**
# - write the mean/std style loss, and check the Gram = MMD identity with your own code;
# - run the same optimization with each statistic and read a table, not a single picture;
# - measure which statistic *identifies* a painting from a small crop;
# - see why patches keep eyes and windows whole while Gram matrices scatter them;
# - run image analogies, and measure what they learn from one example.

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
import time

import torch

import nstlab
from nstlab import statistics, viz
from nstlab.analogies import image_analogy
from nstlab.color import luminance
from nstlab.notebook import pick
from nstlab.notebook.exercises import check_choice, check_meanstd_loss, check_mmd
from nstlab.targets import content_targets, style_distance, style_targets

SIZE, STEPS = pick(128, 48), pick(40, 3)  # the same budget for every statistic: L-BFGS, STEPS at SIZE px
CROP, CROPS = pick(96, 48), pick(10, 2)  # retrieval: CROPS crops of CROP px per painting
HALF = pick(64, 24)  # image analogies: A and B are the two halves of a photo, HALF px wide
vgg = nstlab.load_vgg()
photo = nstlab.load_sample("tubingen", SIZE)
painting = nstlab.load_sample("starry_night", SIZE)

# %% [markdown]
# ## Five statistics
# Take one layer's features, one vector $x_p \in \mathbb{R}^C$ per position $p$. Every statistic
# below but the last averages some function $\varphi$ of those vectors over the positions, a
# *mean embedding* $m = \frac{1}{M}\sum_p \varphi(x_p)$, and nstlab compares image and painting by
# the relative error $\lVert m(F) - m(A) \rVert^2 / \lVert m(A) \rVert^2$, like every loss in nstlab:
#
# | `style_loss` | $\varphi(x)$ | numbers per layer | what it is |
# |---|---|---|---|
# | `"gram"` | $x x^\top$ | $C^2$ | Gatys et al.; the MMD with $k = (x^\top y)^2$ |
# | `"meanstd"` | (mean, std) per channel | $2C$ | what instance norm and AdaIN transfer |
# | `"mmd:linear"` | $x$ | $C$ | the means alone; the MMD with $k = x^\top y$ |
# | `"mmd"` | random Fourier features | $D = 1024$ | the MMD with a Gaussian kernel |
# | `"patch"` | — | all 3x3 patches | CNNMRF: the nearest painting patch, per image patch |
#
# ### Exercise 1 · the mean/std style loss
# Write `meanstd_loss(F, A)` for features `(1, C, H, W)` of the image and `(1, C, H', W')` of the
# painting: stack each channel's mean and standard deviation (over the positions; the *biased*
# one, as instance norm uses) into $s(F)$, and return $\lVert s(F) - s(A) \rVert^2 / \lVert s(A) \rVert^2$.

# %%
def meanstd_loss(F, A):
    ### BEGIN SOLUTION
    def s(x):
        return torch.cat([x.mean((2, 3)), x.std((2, 3), correction=0)], dim=1)

    return (s(F) - s(A)).pow(2).sum() / s(A).pow(2).sum()
    ### END SOLUTION


check_meanstd_loss(meanstd_loss)

# %% [markdown]
# ### Exercise 2 · Gram matrices are an MMD
# The *maximum mean discrepancy* between two sets of vectors $X = \{x_i\}_{i=1}^N$ and
# $Y = \{y_j\}_{j=1}^M$ with a kernel $k$ (biased: every pair counts, a point with itself too) is
#
# $$\mathrm{MMD}^2 = \frac{1}{N^2}\sum_{i,i'} k(x_i, x_{i'}) + \frac{1}{M^2}\sum_{j,j'} k(y_j, y_{j'})
#   - \frac{2}{NM}\sum_{i,j} k(x_i, y_j).$$
#
# Write `mmd2(x, y)` for `x (N, C)`, `y (M, C)` with $k(a, b) = (a^\top b)^2$. Then the cell below
# checks Li et al.'s identity on real VGG features: Gram distance $\times \lVert A \rVert^2 = \mathrm{MMD}^2$.

# %%
def mmd2(x, y):
    ### BEGIN SOLUTION
    def k(a, b):
        return (a @ b.T).pow(2)

    return k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()
    ### END SOLUTION


if check_mmd(mmd2):  # your function on the relu2_1 features of a small photo and painting
    small = {name: content_targets(vgg, nstlab.load_sample(name, 24), ["relu2_1"])["relu2_1"].double()
             for name in ("tubingen", "starry_night")}
    x, y = (f[0].flatten(1).T for f in small.values())  # (positions, channels)
    gram, target = nstlab.gram_matrix(small["tubingen"]), nstlab.gram_matrix(small["starry_night"])
    print(f"Gram distance x ||A||^2 = {float(nstlab.style_loss(gram, target) * target.pow(2).sum()):.6g}, "
          f"your MMD^2 = {float(mmd2(x, y)):.6g}")

# %% [markdown]
# ## The same budget, five answers
# The same photo and painting, the same optimizer (L-BFGS), steps and size; only the statistic
# changes. Each result is then judged by *two* statistics (the Gram matrices and the means/stds,
# over relu1_1 ... relu5_1), each as a fraction of the photo's own distance to the painting
# (1 = no closer than the photo, 0 = the painting's statistics), and by its content distance to
# the photo (relu4_2). No statistic is declared the winner in advance: read the table.

# %%
NAMES = ("gram", "meanstd", "mmd:linear", "mmd", "patch")
runs = {}
for name in NAMES:
    runs[name] = nstlab.stylize(photo, painting, size=SIZE, steps=STEPS, style_loss=name)


def content_distance(image):
    return float(nstlab.content_loss(content_targets(vgg, image, ["relu4_2"])["relu4_2"],
                                     content_targets(vgg, photo, ["relu4_2"])["relu4_2"]))


own = {kind: style_distance(vgg, photo, painting, statistic=kind) for kind in ("gram", "meanstd")}
layers = nstlab.Settings().style_layers
print(f"{'style_loss':>11} {'Gram dist':>10} {'mean/std dist':>14} {'content':>8} {'s/step':>7} {'numbers kept':>13}")
for name, run in runs.items():
    kept = sum(statistics.size(t) for t in style_targets(
        vgg, [painting], nstlab.Settings(style_loss=name).style_layers, statistic=name).values())
    print(f"{name:>11} {style_distance(vgg, run.image, painting) / own['gram']:>10.2f} "
          f"{style_distance(vgg, run.image, painting, statistic='meanstd') / own['meanstd']:>14.2f} "
          f"{content_distance(run.image):>8.2f} {run.seconds / run.steps:>7.3f} {kept:>13,}")
fig = viz.show_images({name: run.image for name, run in runs.items()})

# %% [markdown]
# Things to look for: does a statistic win on its own measure and lose on the other? Which one
# keeps the most of the photo (content)? What does the Gaussian kernel cost per step, and what
# does it buy? The patch loss is judged here by statistics it does not match: it can be far from
# the painting by both and still have taken its brush strokes (look at the sky).

# %% [markdown]
# ## Which statistic identifies a painting?
# A style descriptor is only useful if two pieces of the same painting look alike to it and
# pieces of different paintings do not. Cut random crops from each painting nstlab carries,
# describe each by one statistic over relu1_1 ... relu4_1, and ask for each crop: is its nearest
# other crop from the same painting? (Chance is one in eleven.)

# %%
PAINTINGS = [n for n in nstlab.sample_names() if n != "tubingen"]
generator = torch.Generator().manual_seed(0)
crops, labels = [], []
for name in PAINTINGS:
    image = nstlab.load_sample(name, 2 * CROP)
    for _ in range(CROPS):
        y = int(torch.randint(0, image.shape[-2] - CROP + 1, (), generator=generator))
        x = int(torch.randint(0, image.shape[-1] - CROP + 1, (), generator=generator))
        crops.append(image[..., y:y + CROP, x:x + CROP])
        labels.append(name)
LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
features = [content_targets(vgg, crop, LAYERS) for crop in crops]
print(f"{len(crops)} crops of {len(PAINTINGS)} paintings, {CROP} px")
for kind in ("gram", "meanstd", "mean"):
    vectors = [[statistics.describe(f[n], kind) for n in LAYERS] for f in features]
    accuracy = statistics.retrieval_accuracy(vectors, labels)
    print(f"{kind:>8}: {sum(len(v) for v in vectors[0]):>7,} numbers, top-1 retrieval {accuracy:.0%}")

# %% [markdown]
# ## Why patches keep an eye whole
# Synthesize a texture from noise with the style loss alone: once with Gram matrices, once with
# the patch loss, from *Woman with a Hat*. Then compare the red band of the hat: the patch texture
# has it whole, again and again; the Gram texture has fragments of it scattered among fragments of
# the face. (The repetition is the patch loss's own weakness: from noise, many patches of the
# image pick the same patch of the painting.)
#
# ### Question · why do the patches keep the pieces together?
# (a) the patch loss uses larger layers than the Gram loss; (b) every patch of the image is
# replaced by one whole patch of the painting, so pieces that belong together arrive together,
# while a Gram matrix only counts which features occur, anywhere; (c) the Gram loss has too few
# steps to assemble an eye. Answer with the letter.

# %%
woman = nstlab.load_sample("woman_with_hat", SIZE)
textures = {kind: nstlab.stylize(None, woman, size=SIZE, steps=STEPS, style_loss=kind, init="noise").image
            for kind in ("gram", "patch")}
fig = viz.show_images({"painting": woman, "Gram texture": textures["gram"], "patch texture": textures["patch"]})


def answer():
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_choice("10-patches", answer)

# %% [markdown]
# ## Before networks: image analogies (Hertzmann et al. 2001)
# Give the computer a photo $A$ and the same photo after some filter, $A'$. For a new photo $B$,
# it makes $B'$ pixel by pixel, in scan-line order, coarse to fine: each pixel is copied from the
# place in $A'$ whose neighbourhood (in $A$, and in the part of $A'$ made so far) looks most like
# $B$'s (and $B'$'s) around it. Ashikhmin's *coherence* rule prefers, by a factor $1 + \kappa$,
# continuing the piece of $A'$ a neighbour was copied from: larger $\kappa$, larger pieces.
#
# Measured, not just shown: with a filter $f$ we know, learn it from the pair $(A, f(A))$ and
# apply it to $B$: how close is $B'$ to the true $f(B)$ (PSNR on luminance), beside doing nothing
# ($B$ itself)? $A$ and $B$ are the two halves of the Tübingen photo; the filters are a blur, an
# emboss, and a trained network as the "artist".

# %%
halves = nstlab.load_sample("tubingen", 2 * HALF)
A, B = halves[..., :HALF], halves[..., HALF:2 * HALF]
blur = torch.nn.AvgPool2d(5, stride=1, padding=2, count_include_pad=False)
emboss_kernel = torch.tensor([[-2.0, -1.0, 0.0], [-1.0, 1.0, 1.0], [0.0, 1.0, 2.0]])[None, None] / 2
FILTERS = {
    "blur": blur,
    "emboss": lambda x: torch.nn.functional.conv2d(luminance(x), emboss_kernel, padding=1).add(0.25)
    .clamp(0, 1).expand(-1, 3, -1, -1),
    "johnson": lambda x: nstlab.apply("johnson-starry_night", x).image,
}


def psnr(x, y):  # on luminance, where the analogy works
    return float(-10 * torch.log10((luminance(x) - luminance(y)).pow(2).mean()))


made = {}
print(f"{'filter':>8} {'kappa':>6} {'PSNR(B, f(B))':>14} {'PSNR(B´, f(B))':>15} {'coherent':>9} {'seconds':>8}")
for name, f in FILTERS.items():
    for kappa in (0, 1, 2, 5, 20):
        began = time.perf_counter()
        result = image_analogy(A, f(A), B, kappa=kappa, size=None)
        made[name, kappa] = result.image
        print(f"{name:>8} {kappa:>6} {psnr(B, f(B)):>14.1f} {psnr(result.image, f(B)):>15.1f} "
              f"{result.history[-1]['coherence']:>9.0%} {time.perf_counter() - began:>8.1f}")
fig = viz.show_images({"A": A, "A' (the artist)": FILTERS["johnson"](A), "B": B,
                       "B' kappa 0": made["johnson", 0], "B' kappa 5": made["johnson", 5],
                       "f(B), the truth": FILTERS["johnson"](B)})

# %% [markdown]
# Coherence (a larger $\kappa$) copies larger pieces: better strokes for a painter, worse numbers
# for a filter that only blurs. CNNMRF's patch loss (above) is the same idea with VGG features
# instead of pixels: patches of a painting, found by their similarity, put where they fit.
#
# **Where next:** notebook 05 has the controls (colour, regions, coarse-to-fine) that work with
# every statistic here; `nstlab stylize PHOTO PAINTING --style-loss meanstd` (or `mmd`, `patch`)
# on the command line; the studio of notebook 04 switches the statistic while it runs.
