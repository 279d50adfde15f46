"""Feedforward style transfer: trained networks that stylize in one pass.

    johnson     the image transformation network (Johnson et al. 2016; instance norm, Ulyanov et al.)
    cin         conditional instance norm: many styles in one network (Dumoulin et al. 2017)
    adain       arbitrary style in one pass (Huang & Belongie 2017)
    objectives  what each network learns to minimize (perceptual loss; AdaIN's decoder loss)
    data        random crops of folders of photos
    train       one training loop that knows no model (DDP under torchrun)
    evaluate    held-out scores against two baselines
    recipes     `nstlab train KIND`: the network and objective per kind, the model file and card
    pretrained  model files, hash-checked loading, the shipped models (models/)
    apply       `apply(model, content, style=..., mix=..., masks=...)` -> Result

This package never imports the Gatys engine, nor the notebook layer.
"""

from .apply import apply
from .pretrained import MODELS, load_model, save_model
from .train import TrainConfig, TrainStep, train

__all__ = ["MODELS", "TrainConfig", "TrainStep", "apply", "load_model", "save_model", "train"]
