"""nstlab: neural style transfer to learn from and experiment with.

One API for every method: `stylize` (Gatys optimization), `apply` (a trained network) and their
video twins `stylize_video` and `apply_video` take the same words -- style, mix, masks,
preserve_color, size, device, precision, progress -- and return one family of results (`Result`,
`VideoResult`; `train` returns a `TrainResult`). `device=None` is always the default device.
Every error derives from `NstlabError`. Where each piece lives: docs/architecture.md.
"""

from .device import default_device
from .errors import (
                     DivergenceError,
                     DownloadError,
                     ImageError,
                     InputError,
                     ModelError,
                     NstlabError,
                     SampleError,
                     WeightsError,
                     WriteError,
)
from .feedforward import TrainConfig, TrainStep, apply, load_model, train
from .gatys import Step, StyleTransfer, stylize
from .images import load_image, resize, save_image, to_pil
from .losses import Settings, content_loss, gram_matrix, perceptual_loss, style_loss, total_variation
from .result import Result, TrainResult
from .samples import load_sample, resolve_image, sample_names
from .vgg import VGGFeatures, layer_names, load_vgg
from .video import VideoResult, apply_video, stylize_video

__version__ = "0.1.0"

__all__ = [
                     "DivergenceError",
                     "DownloadError",
                     "ImageError",
                     "InputError",
                     "ModelError",
                     "NstlabError",
                     "Result",
                     "SampleError",
                     "Settings",
                     "Step",
                     "StyleTransfer",
                     "TrainConfig",
                     "TrainResult",
                     "TrainStep",
                     "VGGFeatures",
                     "VideoResult",
                     "WeightsError",
                     "WriteError",
                     "apply",
                     "apply_video",
                     "content_loss",
                     "default_device",
                     "gram_matrix",
                     "layer_names",
                     "load_image",
                     "load_model",
                     "load_sample",
                     "load_vgg",
                     "perceptual_loss",
                     "resize",
                     "resolve_image",
                     "sample_names",
                     "save_image",
                     "style_loss",
                     "stylize",
                     "stylize_video",
                     "to_pil",
                     "total_variation",
                     "train",
]
