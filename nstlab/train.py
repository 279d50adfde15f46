"""One training loop for the feedforward style networks, on any folder of photos.

Johnson, Alahi & Fei-Fei (ECCV 2016) train an image transformation network to minimize the same
perceptual loss that Gatys et al. optimize per image: content loss on VGG features of the photo,
style loss on the Gram matrices of a painting. Training takes a while; afterwards a style costs one
forward pass. The loop here trains all three networks of nstlab:

    TransformerNet(norm="instance" | "batch")   one style          (Johnson; Ulyanov et al. 2016)
    TransformerNet(norm="conditional")          N styles, mixable  (Dumoulin et al. 2017)
    AdaIN(encoder)                              any style          (Huang & Belongie 2017)

Each step: a batch of random crops of the photos (B, 3, crop, crop); for the conditional network
one random style per image; for AdaIN a batch of random style crops too. Adam on the network's
weights (for `fit_style=k`: only style k's scale and shift, everything else frozen). Progress bar
with the losses, a preview every `preview_every` steps, a checkpoint every `checkpoint_every`
steps and at the end; `resume=` continues from a checkpoint (weights, optimizer state, step,
history).

Under `torchrun` (NCCL on GPUs, gloo on CPU) the same loop runs data-parallel: each process gets
its share of every batch through a DistributedSampler and DistributedDataParallel averages the
gradients; only rank 0 writes checkpoints, previews and the progress bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler
from tqdm.auto import tqdm

from .adain import AdaIN, adain_losses
from .cin import style_parameters
from .gatys import default_device
from .images import ImageError, load_image, resize, save_image
from .johnson import TransformerNet
from .losses import Settings, gram_matrix, perceptual_loss
from .samples import resolve_image
from .vgg import VGGFeatures

SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
# Johnson et al.'s layers: content where detail is still sharp, style over four blocks. A network
# starts from nothing, not from the photo as Gatys does: at style weight 30 it learned pure texture
# (no photo left after 400 steps); at 5 the photo shows through by step 100.
FEEDFORWARD_SETTINGS = Settings(content_layers=["relu2_2"],
                                style_layers=["relu1_2", "relu2_2", "relu3_3", "relu4_3"],
                                content_weight=1.0, style_weight=5.0, tv_weight=10.0)
# AdaIN's style loss matches means and deviations (not Grams): the shipped decoder used weight 2
ADAIN_STYLE_WEIGHT = 2.0
# held-out scores: content where Gatys et al. measure it (the layout, relu4_2), the same style layers
EVALUATION_SETTINGS = FEEDFORWARD_SETTINGS.replace(content_layers=["relu4_2"], tv_weight=0.0)


def image_files(folders) -> list[Path]:
    """Every image file under the given folder(s), sorted; ImageError when there is none."""
    folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
    files = sorted(p for folder in folders for p in Path(folder).expanduser().rglob("*")
                   if p.suffix.lower() in SUFFIXES)
    if not files:
        raise ImageError(f"no images ({', '.join(sorted(SUFFIXES))}) under {', '.join(map(str, folders))}")
    return files


class RandomCrops(Dataset):
    """Images from folders as random square crops (3, crop, crop): the shorter side is first
    resized to crop x U(1, 1.25), then a random window is cut and flipped half of the time."""

    def __init__(self, folders, crop: int = 256):
        self.files, self.crop = image_files(folders), crop

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> torch.Tensor:
        image = load_image(self.files[index])  # (1, 3, H, W)
        h, w = image.shape[-2:]
        scale = self.crop * (1 + 0.25 * torch.rand(()).item()) / min(h, w)
        image = resize(image, max(self.crop, round(max(h, w) * scale)))
        h, w = image.shape[-2:]
        top = torch.randint(0, h - self.crop + 1, ()).item()
        left = torch.randint(0, w - self.crop + 1, ()).item()
        crop = image[0, :, top:top + self.crop, left:left + self.crop]
        return crop.flip(-1) if torch.rand(()) < 0.5 else crop


@dataclass
class TrainConfig:
    steps: int = 2000
    batch: int = 4  # images per step, over all processes
    crop: int = 256
    lr: float = 1e-3
    style_size: int = 256  # the style images' longest side (Gram targets)
    settings: Settings = field(default_factory=lambda: FEEDFORWARD_SETTINGS)
    fit_style: int | None = None  # conditional net: train only this style's scale and shift
    seed: int = 0
    preview_every: int = 100
    checkpoint_every: int = 500


@dataclass
class TrainStep:
    """What a callback sees after each step."""

    step: int
    total: int
    losses: dict[str, float]  # "loss", "content", "style", "tv"
    preview: torch.Tensor | None  # (B, 3, crop, crop) outputs at a preview step, else None


def train(model, content, styles, extractor: VGGFeatures, config: TrainConfig | None = None, *,
          out_dir=None, resume=None, callback: Callable[[TrainStep], None] | None = None,
          progress: bool = True, device=None) -> list[dict]:
    """Train `model` and return the loss history (one dict per step, this process's losses).

    content: folder(s) of photos. styles: for a TransformerNet a list of style images (one for
    instance/batch norm, N for conditional), each a path, sample name or tensor; for AdaIN folder(s)
    of style images. out_dir: where checkpoints (`checkpoint.pt`) and previews go (None: nowhere).
    """
    config = config or TrainConfig()
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if config.batch % world:
        raise ValueError(f"batch {config.batch} does not split over {world} processes")
    device = default_device(device)
    model, extractor = model.to(device), extractor.to(device)
    if config.fit_style is not None:  # Dumoulin et al.: a new style = only its scale and shift
        trainable = style_parameters(model, config.fit_style)
        model.requires_grad_(False)
        for p in trainable:
            p.requires_grad_(True)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    history, start = [], 0
    if resume is not None:
        state = torch.load(resume, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, start = state["history"], state["step"]
    torch.manual_seed(config.seed + 1000 * rank + start)  # crops and styles differ per process
    objective = training_objective(model, styles, extractor, config, device)
    if world > 1:  # gradients averaged over the processes in backward()
        objective = torch.nn.parallel.DistributedDataParallel(
            objective, device_ids=[device.index] if device.type == "cuda" else None)
    photos = RandomCrops(content, config.crop)
    sampler = (DistributedSampler(photos, world, rank, seed=config.seed) if world > 1
               else RandomSampler(photos, replacement=True, num_samples=10**9))
    loader = DataLoader(photos, batch_size=config.batch // world, sampler=sampler, drop_last=True)
    out = None if out_dir is None else Path(out_dir)
    if out is not None and rank == 0:
        out.mkdir(parents=True, exist_ok=True)

    model.train()
    bar = tqdm(total=config.steps, initial=start, disable=not progress or rank > 0, desc="train", unit="step")
    step, epoch, batches = start, 0, iter(())
    while step < config.steps:
        try:
            x = next(batches)
        except StopIteration:
            if isinstance(sampler, DistributedSampler):
                sampler.set_epoch(epoch)
            epoch += 1
            batches = iter(loader)
            continue
        loss, parts, output = objective(x.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        values = {"loss": loss.item(), **{k: v.item() for k, v in parts.items()}}
        history.append(values)
        bar.update()
        bar.set_postfix({k: f"{v:.3g}" for k, v in values.items()}, refresh=False)
        preview = output.detach() if step % config.preview_every == 0 or step == config.steps else None
        if rank == 0 and out is not None:
            if preview is not None:
                save_image(tile(preview), out / f"preview-{step:06d}.png")
            if step % config.checkpoint_every == 0 or step == config.steps:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                            "history": history}, out / "checkpoint.pt")
        if callback is not None:
            callback(TrainStep(step, config.steps, values, preview))
    bar.close()
    model.eval()
    return history


class _AdaINObjective(torch.nn.Module):
    """AdaIN's loss for a batch of photos; style crops are drawn at random from the style folders."""

    def __init__(self, model: AdaIN, styles, config: TrainConfig):
        super().__init__()
        self.model, self.settings = model, config.settings
        self.styles = RandomCrops(styles, config.crop)

    def forward(self, x):
        index = torch.randint(len(self.styles), (x.shape[0],)).tolist()
        s = torch.stack([self.styles[i] for i in index]).to(x.device)
        content, style, output = adain_losses(self.model, x, s)
        loss = self.settings.content_weight * content + self.settings.style_weight * style
        return loss, {"content": content.detach(), "style": style.detach()}, output


class _TransformerObjective(torch.nn.Module):
    """The perceptual loss of a TransformerNet's outputs for a batch of photos (Johnson et al.)."""

    def __init__(self, model: TransformerNet, styles, extractor: VGGFeatures, config: TrainConfig, device):
        super().__init__()
        self.model, self.extractor, self.settings = model, extractor, config.settings
        self.fit_style = config.fit_style
        images = [resolve_image(s, config.style_size).to(device) for s in styles]
        if model.norm == "conditional" and len(images) != model.styles:
            raise ValueError(f"the conditional network has {model.styles} styles, "
                             f"but {len(images)} style images were given")
        if model.norm != "conditional" and len(images) != 1:
            raise ValueError(f"a {model.norm}-norm network learns one style; got {len(images)} style images")
        with torch.no_grad():  # {layer: (N, C, C)} Gram targets of the N styles
            self.grams = {n: torch.cat([gram_matrix(extractor(im, [n])[n]) for im in images])
                          for n in self.settings.active_style_layers()}

    def forward(self, x):
        b, model, settings = x.shape[0], self.model, self.settings
        content_layers = settings.active_content_layers()
        if model.norm == "conditional":
            index = (torch.full((b,), self.fit_style) if self.fit_style is not None
                     else torch.randint(model.styles, (b,))).to(x.device)
            output = model(x, F.one_hot(index, model.styles).float())
            targets = {n: g[index] for n, g in self.grams.items()}  # (B, C, C): each image its style
        else:
            output, targets = model(x), self.grams
        with torch.no_grad():
            content_targets = self.extractor(x, content_layers)
        features = self.extractor(output, [*content_layers, *self.grams])
        loss, parts = perceptual_loss(features, output, settings, content_targets, targets)
        return loss, _groups(parts), output


def training_objective(model, styles, extractor, config, device) -> torch.nn.Module:
    """The loss of one batch for this kind of network: a module, objective(x) -> (loss, parts, output)."""
    if isinstance(model, AdaIN):
        return _AdaINObjective(model, styles, config)
    if isinstance(model, TransformerNet):
        return _TransformerObjective(model, styles, extractor, config, device)
    raise TypeError(f"cannot train a {type(model).__name__}: expected a TransformerNet or AdaIN")


def _groups(parts: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """{"content:relu2_2": .., "style:relu1_2": .., "tv": ..} -> sums per group."""
    groups: dict[str, torch.Tensor] = {}
    for key, value in parts.items():
        group = key.split(":")[0]
        groups[group] = groups.get(group, 0) + value
    return groups


def tile(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (1, 3, H, B*W) side by side."""
    return torch.cat(list(images.float().cpu().clamp(0, 1)), dim=-1)[None]


@torch.no_grad()
def evaluate(model, photos, painting, extractor: VGGFeatures, *, size: int = 256, limit: int = 20,
             settings: Settings = EVALUATION_SETTINGS, **call) -> dict[str, float]:
    """Held-out check of a trained network on the first `limit` photos at `size` px: the mean
    content and style losses of its outputs, beside two baselines -- the style loss of the photo
    itself (where the style starts) and the content loss of the painting in the photo's place
    (what losing the content entirely costs). painting: the style target; `call` goes to the
    network (style=..., alpha=...)."""
    painting = resolve_image(painting, size)
    content_layers, style_layers = settings.active_content_layers(), settings.active_style_layers()
    targets = {n: gram_matrix(f) for n, f in extractor(painting, style_layers).items()}
    totals = {"content": 0.0, "style": 0.0, "style of the photo": 0.0, "content of the painting": 0.0}
    files = image_files(photos)[:limit]
    for file in files:
        photo = load_image(file, size)
        in_its_place = F.interpolate(painting, size=photo.shape[-2:], mode="bilinear", antialias=True)
        layers = [*content_layers, *style_layers]
        photo_features = extractor(photo, layers)
        content_targets = {n: photo_features[n] for n in content_layers}
        for image, keys in ((model(photo, **call), ("content", "style")),
                            (photo, (None, "style of the photo")),
                            (in_its_place, ("content of the painting", None))):
            features = photo_features if image is photo else extractor(image, layers)
            groups = _groups(perceptual_loss(features, image, settings, content_targets, targets)[1])
            for key, group in zip(keys, ("content", "style"), strict=True):
                if key is not None:
                    totals[key] += groups[group].item()
    return {k: v / len(files) for k, v in totals.items()}
