"""nstlab: neural style transfer to learn from and experiment with.

Where things are:
    images   load / resize / save images as (1, 3, H, W) tensors in [0, 1]
    samples  named sample images (downloaded or from $NSTLAB_DATA) and synthetic ones
    vgg      the VGG-16/19 feature extractor with the paper's layer names
    losses   Gram matrix, content, style and total-variation losses, `Settings`
    gatys    the optimization-based style transfer engine (Gatys et al. 2016, 2017)
    color    colour preservation: luminance-only transfer, histogram matching (Gatys et al. 2017)
    johnson  the feedforward image transformation network (Johnson et al. 2016; instance norm)
    cin      conditional instance norm: many styles in one network (Dumoulin et al. 2017)
    adain    arbitrary style in one pass (Huang & Belongie 2017)
    train    one training loop for the three feedforward networks (DDP under torchrun)
    pretrained  model files, hash-checked loading, the shipped models
    viz      matplotlib figures; widgets: the live notebook widgets; exercises: the answer checks
    notebook fast mode and helpers the notebooks share
    cli      the `nstlab` command line
"""

from .gatys import DivergenceError, Result, Step, StyleTransfer, default_device, stylize
from .images import ImageError, load_image, resize, save_image, to_pil
from .losses import Settings, content_loss, gram_matrix, perceptual_loss, style_loss, total_variation
from .samples import SampleError, load_sample, resolve_image, sample_names
from .vgg import VGGFeatures, WeightsError, layer_names, load_vgg

__version__ = "0.1.0"

__all__ = [
    "DivergenceError", "ImageError", "Result", "SampleError", "Settings", "Step", "StyleTransfer",
    "VGGFeatures", "WeightsError", "content_loss", "default_device", "gram_matrix", "layer_names",
    "load_image", "load_sample", "load_vgg", "perceptual_loss", "resize", "resolve_image",
    "sample_names", "save_image", "style_loss", "stylize", "to_pil", "total_variation",
]
