"""nstlab: neural style transfer to learn from and experiment with.

One API for every method: `stylize` (Gatys optimization) and `apply` (a trained network) take
the same words -- style, mix, masks, preserve_color, size, device -- and return one `Result`.
Every error derives from `NstlabError`.

Where things are (the foundation imports nothing above it):
    errors    NstlabError and its subclasses
    device    default device, reduced-precision autocast, `on` (a module on a device, never moved)
    compact   int8 weights with a scale per output channel (the bundled VGG-16, the AdaIN decoder)
    files     sha256 checks in, atomic writes out
    images    load / resize / save images as (1, 3, H, W) tensors in [0, 1]; image folders
    samples   named sample images (bundled; originals from $NSTLAB_DATA or a download), synthetic ones
    vgg       the VGG-16/19 feature extractor with the paper's layer names (the bundled VGG-16 by
              default; cached per weights)
    losses    Gram matrix, content, style and total-variation losses, `Settings`, loss-part names
    mixing    several styles in one image: mixing weights and region masks
    targets   content activations and style Gram matrices, computed once
    color     colour preservation: luminance-only transfer, histogram matching (Gatys et al. 2017)
    result    `Result`, what every method returns
    viz       matplotlib figures
The methods (never importing each other):
    gatys        the optimization engine (Gatys et al. 2016, 2017): `StyleTransfer`, `stylize`
    feedforward  Johnson, CIN, AdaIN networks, their objectives, training, shipped models, `apply`
Above them:
    video     clips in time: flow, warping error, stabilizer, `apply_video`, `stylize_video`
    notebook  fast mode, widgets (studio, explorers, mixers, monitor), exercises, notebook builder
    cli       the `nstlab` command line
"""

from .device import default_device
from .errors import (
                     DivergenceError,
                     ImageError,
                     InputError,
                     ModelError,
                     NstlabError,
                     SampleError,
                     WeightsError,
)
from .feedforward import TrainConfig, apply, load_model, train
from .gatys import Step, StyleTransfer, stylize
from .images import load_image, resize, save_image, to_pil
from .losses import Settings, content_loss, gram_matrix, perceptual_loss, style_loss, total_variation
from .result import Result
from .samples import load_sample, resolve_image, sample_names
from .vgg import VGGFeatures, layer_names, load_vgg
from .video import apply_video, stylize_video

__version__ = "0.1.0"

__all__ = [
                     "DivergenceError",
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
                     "VGGFeatures",
                     "WeightsError",
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
