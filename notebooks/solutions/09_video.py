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
# # 09 · Video: style that holds still
#
# Stylize a video frame by frame with any method of notebooks 04-08 and it **flickers**: each frame
# gets its own brush strokes, and the strokes jump from frame to frame although the scene barely
# moves. This notebook measures the flicker, finds where it comes from and removes it three ways:
#
# - **Ruder, Dosovitskiy & Brox (2016)**: optimize each frame starting from the previous result,
#   moved along the motion, with a loss that keeps it there;
# - a **stabilizer** that blends each frame with the previous one, for any method;
# - **stable networks** (Wang et al. 2020), trained on still photos to move with their input.
#
# All three rest on **optical flow**: where each pixel of one frame is in the next.
#
# **Learning goals**
# - write `warp`, the occlusion check and the warping error, the three tools of temporal methods;
# - explain why feedforward networks flicker (the shift test);
# - trade flicker against style and read the trade-off off a curve.

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
from nstlab import progress, viz
from nstlab.notebook import pick
from nstlab.notebook.exercises import (
    check_choice,
    check_occlusion,
    check_warp,
    check_warping_error,
    yours_or_ours,
)
from nstlab.notebook.player import play
from nstlab.notebook.stabilizer import StabilizerExplorer
from nstlab.video import (
    apply_video,
    estimate_flow,
    read_video,
    stabilize,
    style_and_content,
    stylize_video,
    synthetic_clip,
    warp,
    warping_error,
)
from nstlab.video import reliable as nstlab_reliable
from nstlab.video.metrics import shift_sensitivity
from nstlab.video.pictures import flow_image, show_flicker, tradeoff_plot

SIZE = pick(192, 64)
FRAMES = pick(12, 4)
bunny, fps = read_video("bigbuckbunny", size=SIZE, max_frames=FRAMES, step=2)  # nstlab carries 2 s of it
print(f"{len(bunny)} frames {bunny.shape[-1]}x{bunny.shape[-2]} of Big Buck Bunny "
      "((c) 2008 Blender Foundation, www.bigbuckbunny.org, CC BY 3.0)")

# %% [markdown]
# ## Flicker, seen
# The shipped Starry Night network, frame by frame. Left the clip, right the result: watch the
# grass and the sky, where nothing moves.

# %%
johnson = nstlab.load_model("johnson-starry_night")
styled = apply_video(johnson, bunny)
play({"input": bunny, "johnson": styled.frames}, fps=fps)

# %% [markdown]
# ## Optical flow
# To say *how much* a clip flickers we need to know where each pixel went. An **optical flow**
# $f$ from frame $a$ to frame $b$ gives for each pixel $p$ of $a$ the displacement to its place in
# $b$: $a(p) \approx b(p + f(p))$. nstlab estimates it with OpenCV's DIS flow (Kroeger et al. 2016:
# a few milliseconds a frame, no weights). To check an estimate we need the truth: a **synthetic
# clip**, a camera that zooms over a still photo, whose flow is known exactly.
#
# Flows are drawn with the colour wheel: the hue is the direction, the saturation the speed.

# %%
clip = synthetic_clip("tubingen", frames=pick(8, 4), size=(SIZE * 3 // 4, SIZE), kind="zoom")
estimated = estimate_flow(clip.frames[1], clip.frames[0])  # frame 1 -> frame 0
endpoint_error = (estimated - clip.flows[0]).norm(dim=0)
fig = viz.show_images({"frame 1": clip.frames[1], "exact flow 1 -> 0": flow_image(clip.flows[0]),
                       "DIS estimate": flow_image(estimated),
                       f"error (mean {endpoint_error.mean():.2f} px)": (endpoint_error / 2).clamp(0, 1).expand(3, -1, -1)},
                      size=2.6)

# %% [markdown]
# ### Exercise 1 · warp
# `warp(image, flow)` moves an image along a flow: the output at $p$ is `image` sampled at
# $p + f(p)$, bilinear. Use `torch.nn.functional.grid_sample`: it wants a grid `(B, H, W, 2)` of
# $(x, y)$ positions in $[-1, 1]$, where $-1$ and $1$ are the centres of the first and last pixel
# (`align_corners=True`); outside the image repeat the border (`padding_mode="border"`).
# `image` is `(1, C, H, W)`, `flow` is `(1, 2, H, W)` in pixels, $x$ first.

# %%
def my_warp(image, flow):
    ### BEGIN SOLUTION
    _, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype), torch.arange(w, dtype=flow.dtype), indexing="ij")
    x = (xs + flow[:, 0]) / (w - 1) * 2 - 1
    y = (ys + flow[:, 1]) / (h - 1) * 2 - 1
    grid = torch.stack([x, y], dim=-1)
    return torch.nn.functional.grid_sample(image, grid, mode="bilinear", padding_mode="border",
                                           align_corners=True)
    ### END SOLUTION


use_warp = yours_or_ours(check_warp(my_warp), my_warp, warp, "warp")

# %% [markdown]
# With the exact flow, warping frame 0 rebuilds frame 1, except where frame 1 shows what frame 0
# did not (here: nothing, the camera zooms in). With your `warp` (nstlab's until yours passes):

# %%
rebuilt = use_warp(clip.frames[0][None], clip.flows[0][None])[0]
fig = viz.show_images({"frame 0": clip.frames[0], "warped onto frame 1": rebuilt, "frame 1": clip.frames[1],
                       "difference x 10": ((rebuilt - clip.frames[1]).abs() * 10).clamp(0, 1)}, size=2.6)

# %% [markdown]
# ### Exercise 2 · occlusion
# Where something appears from behind something else, no flow can be right: that pixel was not
# in the previous frame. Ruder et al. find those pixels with the **forward-backward check**
# (Sundaram et al. 2010): follow the forward flow $f$ from $p$, read the backward flow $b$ where you
# land, $\hat b = b(p + f(p))$ (that is `warp(b, f)`), and you should be back home:
#
# $$|f + \hat b|^2 \le 0.01\,(|f|^2 + |\hat b|^2) + 0.5$$
#
# Also, $p + f(p)$ must land inside the frame. Return a float mask `(H, W)`: 1 reliable, 0 not.
# `forward` and `backward` are `(2, H, W)`; `warp` (nstlab's, imported above) is there for you.

# %%
def my_reliable(forward, backward):
    ### BEGIN SOLUTION
    back = warp(backward, forward)
    gap = (forward + back).pow(2).sum(0)
    allowed = 0.01 * (forward.pow(2).sum(0) + back.pow(2).sum(0)) + 0.5
    h, w = forward.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=forward.dtype), torch.arange(w, dtype=forward.dtype),
                            indexing="ij")
    x, y = xs + forward[0], ys + forward[1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return ((gap <= allowed) & inside).float()
    ### END SOLUTION


use_reliable = yours_or_ours(check_occlusion(my_reliable), my_reliable, nstlab_reliable, "reliable")

# %% [markdown]
# A clip with occlusion: a square slides over the panning photo, faster than the camera, and
# uncovers the photo where it was a frame before. The exact mask marks that uncovered photo
# (black). The check can only see what the *estimated* flows show it: it marks where the flow
# there and the flow back disagree -- on and around the fast square, whose motion DIS follows
# badly, and along the border the camera leaves. It finds occlusion only as well as the flow
# knows it; that is why the methods below never trust a flow on unreliable pixels.

# %%
sprite = synthetic_clip("tubingen", frames=3, size=(SIZE * 3 // 4, SIZE), kind="sprite")
found = use_reliable(estimate_flow(sprite.frames[1], sprite.frames[0]), estimate_flow(sprite.frames[0],
                                                                                     sprite.frames[1]))
fig = viz.show_images({"frame 1": sprite.frames[1], "exactly reliable": sprite.masks[0].expand(3, -1, -1),
                       "forward-backward check": found.expand(3, -1, -1)}, size=2.6)

# %% [markdown]
# ### Exercise 3 · the warping error
# Lai et al. (2018) measure flicker as the **warping error**: for each pair of frames warp output
# $t-1$ onto frame $t$ with the flow of the *input* clip (a stylized frame has no trustworthy
# motion of its own), square the difference to output $t$, sum over the colours, average over the
# reliable pixels $M_t$, then over the pairs:
#
# $$E = \frac{1}{T-1}\sum_{t} \frac{\sum_p M_t(p)\,\lVert O_t(p) - \mathrm{warp}(O_{t-1}, F_t)(p)\rVert^2}{\sum_p M_t(p)}$$
#
# `outputs` `(T, 3, H, W)`, `flows` `(T-1, 2, H, W)` with `flows[t-1]` from frame $t$ to $t-1$,
# `masks` `(T-1, H, W)`.

# %%
def my_warping_error(outputs, flows, masks):
    ### BEGIN SOLUTION
    errors = []
    for t in range(1, len(outputs)):
        squared = (outputs[t] - warp(outputs[t - 1], flows[t - 1])).pow(2).sum(0)
        errors.append((squared * masks[t - 1]).sum() / masks[t - 1].sum())
    return torch.stack(errors).mean()
    ### END SOLUTION


use_warping_error = yours_or_ours(check_warping_error(my_warping_error), my_warping_error,
                                  lambda o, f, m: warping_error(o, flows=f, masks=m), "warping_error")

# %% [markdown]
# On the synthetic clip, with its exact flow: the input itself scores ~0 (bilinear resampling
# only), the network per frame much more. Below each frame: where it flickers.

# %%
exact = {"flows": clip.flows, "masks": clip.masks}
per_frame = apply_video(johnson, clip.frames).frames
print(f"warping error of the input clip {float(use_warping_error(clip.frames, clip.flows, clip.masks)):.5f}, "
      f"of the network per frame {float(use_warping_error(per_frame, clip.flows, clip.masks)):.5f}")
fig = show_flicker({"input": clip.frames, "johnson per frame": per_frame}, **exact)

# %% [markdown]
# ## Why networks flicker: the shift test
# Move the photo $s$ pixels to the left, stylize, and compare with the stylized photo moved the
# same way. A method that only depends on *what* is where would give the same strokes, moved.
# `shift_sensitivity` measures the change for $s = 0 \dots 8$.

# %%
photo = nstlab.load_sample("tubingen", SIZE)
changes = shift_sensitivity(lambda x: nstlab.apply(johnson, x).image, photo, shifts=range(9),
                            margin=pick(16, 4))
fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.bar(range(9), changes)
ax.set_xlabel("shift s (pixels)")
_ = ax.set_ylabel("mean change of the output")

# %% [markdown]
# ### Question · why are shifts by 4 and 8 almost free?
# (a) the network was trained on crops whose size is a multiple of 4; (b) its two stride-2
# convolutions see the image on a grid of every 4th pixel, so only shifts by a multiple of 4 move
# that grid with the image; (c) bilinear resizing rounds shifts to multiples of 4. Answer with the
# letter.

# %%
def answer():
    ### BEGIN SOLUTION
    return "b"
    ### END SOLUTION


check_choice("09-shift", answer)

# %% [markdown]
# Real motion is rarely a multiple of 4 pixels, so every frame lands on a different grid and gets
# different strokes. The three remedies follow.
#
# ## 1 · Optimization that remembers (Ruder et al. 2016)
# Gatys et al. per frame, with two changes: frame $t$ **starts** from the previous result warped
# along the flow (the photo where the flow is unreliable), and a **temporal loss** keeps it close
# to that warped result on the reliable pixels:
#
# $$\mathcal{L}_t = \mathcal{L}_\text{content} + \mathcal{L}_\text{style} + \lambda_\text{temporal}\,\frac{1}{3|M|}\sum_p M(p)\,\lVert x(p) - \mathrm{warp}(x_{t-1}, F_t)(p)\rVert^2$$
#
# `temporal_weight=0` keeps the warped start but drops the loss; 333 is the default.

# %%
short = synthetic_clip("tubingen", frames=pick(4, 2), size=(pick(120, 48), pick(160, 64)), kind="zoom")
runs = {w: stylize_video(short.frames, "starry_night", steps=pick(20, 2), temporal_weight=w)
        for w in (0, 333)}
for w, run in runs.items():
    print(f"temporal weight {w:3}: warping error "
          f"{warping_error(run.frames, flows=short.flows, masks=short.masks):.5f}, {run.seconds:.0f} s")
fig = viz.show_images({f"frame {t}, weight {w}": run.frames[t] for w, run in runs.items()
                       for t in range(len(short.frames))}
                      | {f"frame {t}: difference x 5": ((runs[333].frames[t] - runs[0].frames[t]).abs() * 5).clamp(0, 1)
                         for t in range(len(short.frames))}, ncols=len(short.frames), size=2.2)

# %% [markdown]
# The two rows look alike: the temporal loss does not change the look, it changes what moves
# from frame to frame. The last row shows where they differ (5x): frame 0 is the same (nothing to
# be consistent with yet); later frames differ in the strokes the loss held in place.

# %% [markdown]
# `nstlab video clip.mp4 starry_night -o out.mp4` does this for a whole clip (add `--long-term 1 2 4`
# to look further back, `--loop` for a GIF that loops); it keeps finished frames in a folder, so
# an interrupted run goes on where it stopped.
#
# ## 2 · The stabilizer, for any method
# Blend each output with the previous *stabilized* frame warped onto it, on the reliable pixels:
# $S_t = (1 - sM)\,O_t + sM\,\mathrm{warp}(S_{t-1})$, strength $s \in [0, 1)$. Blending two sets of
# strokes that do not line up averages them into mush, so nstlab then scales the fine detail back
# to the energy of $O_t$'s own (`keep_detail`). The curve: flicker against style for both.

# %%
strengths = pick([0.0, 0.3, 0.5, 0.7, 0.85], [0.0, 0.5])
curves = {}
for keep in (False, True):
    points = []
    for s in progress.bar(strengths, desc="detail kept" if keep else "blend only"):
        steady = stabilize(per_frame, strength=s, keep_detail=keep, **exact)
        style = style_and_content(steady, clip.frames, "starry_night")["style"]
        points.append((s, warping_error(steady, **exact), style))
    curves["blend, detail kept" if keep else "blend only"] = points
fig = tradeoff_plot(curves)

# %% [markdown]
# Read the curve: moving left is less flicker, moving up is further from the painting. Keeping
# the detail buys the same drop in flicker for less style. At the strongest setting the curve can
# turn back: the output is then mostly earlier frames warped again and again, each warp blurs a
# little, and the detail put back on the blur changes from frame to frame -- more strength stops
# buying steadiness. Try it yourself: the slider re-runs the stabilizer on the network's frames.

# %%
StabilizerExplorer(per_frame, **exact)

# %% [markdown]
# Side by side on the real clip: per frame, stabilized at 0.5.

# %%
play({"per frame": styled.frames, "stabilized 0.5": stabilize(styled.frames, bunny, strength=0.5)}, fps=fps)

# %% [markdown]
# ## 3 · Networks trained to hold still (Wang et al. 2020)
# The stabilizer needs the flow at run time. Instead, teach the network itself: take a training
# photo $x$, move it a little with a random smooth flow $f$ and add noise, as the next frame of a
# video would be, and ask that the output moves the same way:
#
# $$\mathcal{L}_\text{stable} = \lVert N(\mathrm{warp}(x, f) + n) - \mathrm{warp}(N(x), f)\rVert^2$$
#
# No video and no flow estimation in training, no cost at run time. `nstlab train ...
# --temporal-weight W` adds it, and `--finetune NAME` starts from a trained network.
# nstlab ships stable versions of its Johnson networks, fine-tuned so:

# %%
stable = nstlab.load_model("johnson-starry_night-stable")
card = stable.info.card
print(f"fine-tuned from {card['finetuned_from']}: {card['steps']} steps, temporal weight "
      f"{card['objective']['temporal_weight']:g}, style weight {card['objective']['style_weight']:g}")
stable_frames = apply_video(stable, clip.frames).frames
fig = show_flicker({"johnson": per_frame, "johnson, stable": stable_frames,
                    "johnson, stabilized 0.5": stabilize(per_frame, strength=0.5, **exact)}, **exact)

# %% [markdown]
# ## A style that changes over the clip
# A conditional network (notebook 07) holds several styles, and AdaIN takes any: with a list of
# styles and `morph=True`, the mix weights move from each style to the next over the clip, a
# little every frame, and the stabilizer keeps the change smooth.

# %%
morph = apply_video("cin-6styles", bunny, style=["starry_night", "the_scream"], morph=True, stabilize=0.5)
play({"input": bunny, "starry night -> the scream": morph.frames}, fps=fps)

# %% [markdown]
# **Try it**
# - `nstlab video bigbuckbunny --model johnson-the_scream -o bunny.gif` prints the warping error
#   beside the input's own. Try `--stabilize 0` and `0.8`.
# - Run the shift test on the stable network: what changed, and why is its style weaker?
# - Flicker is measured against the input's own warping error: why is that never 0 on a real clip?
