"""Choosing an image in a notebook: a sample dropdown, an upload button and a thumbnail."""

from __future__ import annotations

import ipywidgets as W
import torch

from ..errors import ImageError, SampleError
from ..images import load_image, resize
from ..samples import resolve_image, sample_names
from .preview import png

UPLOAD = "(uploaded)"


class ImagePicker(W.VBox):
    """A sample name from a dropdown, or an uploaded file ("(uploaded)"); `.image()` loads the choice.

    initial: a sample name, or anything `resolve_image` takes (then it counts as an upload).
    on_change(): called after every change of the choice; errors go to on_error(message).
    """

    def __init__(self, label: str, initial, *, on_change=None, on_error=None, thumb: int = 160):
        names = sample_names()
        self.uploaded: torch.Tensor | None = None
        if isinstance(initial, str) and initial in names:
            value = initial
        else:
            self.uploaded, value = resolve_image(initial), UPLOAD
        self._initial = (value, self.uploaded)
        self.on_change, self.on_error, self.thumb_size = on_change, on_error or (lambda _: None), thumb
        self.dropdown = W.Dropdown(options=[*names, UPLOAD], value=value, description=label)
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="upload")
        self.thumb = W.Image(format="png", layout=W.Layout(max_width=f"{thumb}px"))
        self.dropdown.observe(lambda _: self._changed(), "value")
        self.upload.observe(self._uploaded, "value")
        super().__init__([self.dropdown, self.upload, self.thumb])
        self._show()

    def image(self) -> torch.Tensor:
        """The chosen image, (1, 3, H, W)."""
        if self.dropdown.value == UPLOAD:
            if self.uploaded is None:
                raise ImageError("nothing uploaded yet: press upload")
            return self.uploaded
        return resolve_image(self.dropdown.value)

    def reset(self) -> None:
        """Back to the initial choice (and the initial upload, if it was one)."""
        value, self.uploaded = self._initial
        if self.dropdown.value == value:
            self._changed()
        self.dropdown.value = value

    def _uploaded(self, change) -> None:
        if not change["new"]:
            return
        file = change["new"][0]
        try:
            self.uploaded = load_image(bytes(file["content"]))
        except ImageError as err:
            self.on_error(f"upload {file['name']}: {err}")
            return
        if self.dropdown.value == UPLOAD:
            self._changed()
        self.dropdown.value = UPLOAD

    def _changed(self) -> None:
        self._show()
        if self.on_change is not None:
            self.on_change()

    def _show(self) -> None:
        try:
            self.thumb.value = png(resize(self.image(), self.thumb_size))
        except (ImageError, SampleError) as err:
            self.on_error(f"{self.dropdown.description}: {err}")
