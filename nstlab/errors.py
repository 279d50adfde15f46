"""The errors nstlab raises, under one base class: `except nstlab.NstlabError` catches them all.

Each message says what was wrong and how to fix it, in one line the command line can print as is.
The subclasses keep the built-in type a caller would expect (a bad argument is still a ValueError).

    NstlabError
        InputError (ValueError)       a bad argument, setting, layer name, mask, size ...
            ImageError                an image that cannot be read, written or used
        SampleError (LookupError)     a sample image that cannot be found, fetched or verified
        WeightsError (RuntimeError)   VGG weights that cannot be found, downloaded or loaded
        ModelError (RuntimeError)     a trained model file that is missing, damaged or foreign
        DownloadError (RuntimeError)  a download (torchvision's weights, RAFT, a sample original) that failed
        DivergenceError (RuntimeError) an optimization whose loss became NaN or exploded
        WriteError (OSError)          a result that could not be written; says what was kept, where
"""

from __future__ import annotations


class NstlabError(Exception):
    """Base class of every error nstlab raises on purpose."""


class InputError(NstlabError, ValueError):
    """A bad argument or setting; the message names it and what is allowed."""


class ImageError(InputError):
    """An image that cannot be loaded, saved or used (missing, empty, truncated, too large ...)."""


class SampleError(NstlabError, LookupError):
    """A sample that cannot be found, fetched or verified; the message says what to do."""


class WeightsError(NstlabError, RuntimeError):
    """VGG weights that cannot be found, downloaded or loaded; the message says how to fix it."""


class ModelError(NstlabError, RuntimeError):
    """A model file that is missing, damaged or not an nstlab model; the message says which."""


class DownloadError(NstlabError, RuntimeError):
    """A download that failed or arrived damaged; the message says what works offline instead."""


class DivergenceError(NstlabError, RuntimeError):
    """The loss became NaN/inf or exploded; `.result` holds the best image found before."""

    def __init__(self, message: str, result):
        super().__init__(message)
        self.result = result


class WriteError(NstlabError, OSError):
    """A result that could not be written (disk full, a folder that went away); the message says
    what was kept and where, so that nothing finished is lost."""
