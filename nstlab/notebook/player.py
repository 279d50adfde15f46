"""Clips in a notebook: `play({name: frames})` shows them side by side as one looping animation.

The animation is an animated GIF made with `video.write_video` and handed to IPython's `Image`:
it plays in JupyterLab, VS Code and a saved notebook alike, with no widget or JavaScript.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import torch
from IPython.display import Image

from ..errors import InputError
from ..video.io import write_video

GAP = 4  # white pixels between the clips


def play(clips: Mapping[str, torch.Tensor], fps: float = 8.0) -> Image:
    """The clips (each (T, 3, H, W) in [0, 1], all the same size) side by side, looping; the
    shortest sets the length. Names are not drawn: say in the text which is which (left to right)."""
    clips = list(clips.values())
    if not clips or any(c.shape[1:] != clips[0].shape[1:] for c in clips):
        raise InputError("play needs clips of one frame size (T, 3, H, W)")
    count = min(len(c) for c in clips)
    gap = torch.ones(count, 3, clips[0].shape[-2], GAP)
    parts = [p for c in clips for p in (c[:count].float().cpu(), gap)][:-1]
    with tempfile.TemporaryDirectory() as folder:
        path = write_video(torch.cat(parts, dim=-1), Path(folder) / "clips.gif", fps)
        return Image(data=path.read_bytes(), format="gif")
