"""The model zoo: U-Net denoisers (diffusers' UNet2DModel) with a channel-base knob, inside EDM preconditioning.

``NetConfig`` fixes everything that defines a trained net (data, N, architecture, schedule, duration, seeds); the
cache (gendiff.cache) trains each config once and reuses it everywhere. A real pretrained UNet2DModel checkpoint
loads through the same wrapper (:func:`load_unet_denoiser`)."""
from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from ._checks import GendiffError, check_choice, check_int, check_positive
from .data import DATASETS, disjoint_split, load_dataset, permutation, subset
from .denoisers.net import EDMPrecond
from .edm import P_MEAN, P_STD

ARCHS = ("unet", "mlp")
PRECISIONS = ("fp32", "bf16")  # bf16: the training forward pass under bfloat16 autocast (weights and Adam stay fp32)  # "mlp": a second architecture family, global (no convolution), for notebook 09


class UNetF(nn.Module):
    """Adapts a diffusers UNet2DModel to the F(x_in, c_noise) signature of EDMPrecond (c_noise as the timestep,
    as EDM's own networks use it)."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        return self.unet(x, c_noise.reshape(-1).to(x.dtype).expand(x.shape[0])).sample


def build_unet(channels: int, in_channels: int, size: int, layers_per_block: int = 1):
    """UNet2DModel with block widths (c, 2c, 2c), three resolutions, attention only in the middle block (heads of 8
    channels, so c >= 4), GroupNorm groups min(8, c)."""
    from diffusers import UNet2DModel

    check_int("channels", channels, low=4)
    return UNet2DModel(sample_size=size, in_channels=in_channels, out_channels=in_channels,
                       block_out_channels=(channels, 2 * channels, 2 * channels), layers_per_block=layers_per_block,
                       down_block_types=("DownBlock2D",) * 3, up_block_types=("UpBlock2D",) * 3,
                       norm_num_groups=min(8, channels))


def load_unet_denoiser(path) -> EDMPrecond:
    """A diffusers UNet2DModel folder (config.json + weights) trained inside EDM preconditioning, as gendiff's nets
    are, wrapped as an EDM Denoiser. A DDPM pipeline's net (a folder with, or beside, scheduler/) predicts noise at
    discrete timesteps and is refused here: ``gendiff.pretrained.load_pretrained(path, "ddpm")`` converts it."""
    from pathlib import Path

    from diffusers import UNet2DModel

    p = Path(path)
    if (p / "scheduler").is_dir() or (p.name == "unet" and (p.parent / "scheduler").is_dir()):
        raise GendiffError(f"{str(p)!r} belongs to a diffusers DDPM pipeline (discrete timesteps, not EDM): load it "
                           "with gendiff.pretrained.load_pretrained(path, 'ddpm')")
    return EDMPrecond(UNetF(UNet2DModel.from_pretrained(str(path))))


def checkpoint_digest(path) -> str:
    """sha256 of a pretrained net's file, or of every file of its folder (names relative to it, and bytes, in order):
    the same checkpoint moved elsewhere keeps its digest. Remembered per (path, sizes, modification times), so a
    large checkpoint is read once per process."""
    from pathlib import Path

    p = Path(path).expanduser().resolve()
    if not p.exists():
        raise GendiffError(f"pretrained net {str(path)!r} does not exist")
    files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
    root = p.parent if p.is_file() else p
    return _digest_files(str(root), tuple((str(q.relative_to(root)), q.stat().st_size, q.stat().st_mtime_ns)
                                          for q in files))


@functools.lru_cache(maxsize=64)
def _digest_files(root: str, stamp: tuple) -> str:
    import hashlib
    from pathlib import Path

    h = hashlib.sha256()
    for name, _, _ in stamp:
        h.update(name.encode() + b"\0")
        with open(Path(root) / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def check_image_side(side: int, what: str = "size") -> int:
    """The U-Net's three resolutions halve the image side twice: it must be >= 8 and a multiple of 4."""
    if side < 8 or side % 4:
        raise GendiffError(f"{what} must be an image side >= 8 and a multiple of 4 (the U-Net halves it twice), "
                           f"got {side}")
    return side


@dataclass(frozen=True)
class NetConfig:
    """Everything that defines a trained net; its hash is the cache key."""

    N: int
    dataset: str = "mnist"
    size: int | None = 16
    data_path: str | None = None
    data_seed: int = 0
    data_part: int = 0
    arch: str = "unet"
    channels: int = 16
    layers_per_block: int = 1
    steps: int = 1200
    batch_size: int = 128
    lr: float = 2e-3
    warmup: int = 100
    grad_clip: float = 1.0
    ema_decay: float = 0.995
    P_mean: float = P_MEAN
    P_std: float = P_STD
    seed: int = 0
    snapshots: tuple = field(default=())
    precision: str = "fp32"
    # A pretrained net used in place of training (gendiff.pretrained.load_pretrained(pretrained, pretrained_kind)):
    # N, dataset, size and data_path then name the images it was trained on (D_M, D_G and calibrations read them),
    # and the fields of training mean nothing. The key holds the checkpoint's sha256, so results derived from it are
    # never served for another file at the same path.
    pretrained: str | None = None
    pretrained_kind: str = "edm"

    def __post_init__(self):
        check_int("N", self.N, low=1)
        check_choice("dataset", self.dataset, DATASETS)
        check_choice("arch", self.arch, ARCHS)
        check_int("data_part", self.data_part, low=0)
        check_choice("precision", self.precision, PRECISIONS)
        # the U-Net's attention needs one head of 8 channels at 2 c (diffusers' head size)
        check_int("channels", self.channels, low=4 if self.arch == "unet" else 1)
        check_int("layers_per_block", self.layers_per_block, low=1)
        check_int("steps", self.steps, low=1)
        check_int("batch_size", self.batch_size, low=1)
        check_int("warmup", self.warmup, low=0)
        check_int("data_seed", self.data_seed, low=0)
        check_int("seed", self.seed, low=0)
        if self.size is not None:
            check_int("size", self.size, low=8)
            if self.arch == "unet":
                check_image_side(self.size, "size")
        check_positive("lr", self.lr)
        check_positive("grad_clip", self.grad_clip)
        check_positive("P_std", self.P_std)
        if isinstance(self.P_mean, bool) or not isinstance(self.P_mean, (int, float)) or not math.isfinite(self.P_mean):
            raise GendiffError(f"P_mean must be a finite number, got {self.P_mean!r}")
        if isinstance(self.ema_decay, bool) or not isinstance(self.ema_decay, (int, float)) or \
                not 0 <= self.ema_decay < 1:
            raise GendiffError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        for s in self.snapshots:
            check_int("snapshots", s, low=1, high=self.steps)
        object.__setattr__(self, "snapshots", tuple(sorted(set(int(s) for s in self.snapshots))))
        if self.pretrained is not None:
            from .pretrained import FORMATS

            if not isinstance(self.pretrained, str) or not self.pretrained:
                raise GendiffError(f"pretrained must be a path, got {self.pretrained!r}")
            check_choice("pretrained_kind", self.pretrained_kind, FORMATS)
            if self.snapshots:
                raise GendiffError("a pretrained net has no training snapshots: leave snapshots empty")

    def with_seed(self, seed: int) -> "NetConfig":
        """The same net (data, architecture, schedule) at another training seed: initialisation and noise stream."""
        return replace(self, seed=seed)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k, default in (("data_part", 0), ("precision", "fp32"), ("pretrained", None), ("pretrained_kind", "edm")):
            if d[k] == default:  # added after the first nets were cached: at its default a field leaves the key as it was
                del d[k]
        if self.pretrained is not None:
            d["pretrained_sha256"] = checkpoint_digest(self.pretrained)
        return d

    def training_set(self) -> torch.Tensor:
        """The N training images: block ``data_part`` of N items of the dataset's fixed permutation. Part 0 is the
        first N (nested in N); parts 0 and 1 are disjoint halves (``data.disjoint_split``)."""
        x = load_dataset(self.dataset, size=self.size, data_path=self.data_path)
        if self.data_part == 0:
            return subset(x, self.N, seed=self.data_seed)
        return disjoint_split(x, self.N, parts=self.data_part + 1, seed=self.data_seed)[self.data_part]

    def split(self, n_heldout: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(the N training images, ``n_heldout`` held-out images): the held-out ones are the last items of the same
        fixed permutation, so they are never in this net's training set (nor in that of any N up to the dataset size
        minus n_heldout), and they are the same for every N of one dataset and data_seed."""
        x = load_dataset(self.dataset, size=self.size, data_path=self.data_path)
        check_int("n_heldout", n_heldout, low=1, high=x.shape[0] - (self.data_part + 1) * self.N)
        return self.training_set(), x[permutation(x.shape[0], self.data_seed)[-n_heldout:]]

    def unseen(self, n: int, n_heldout: int) -> torch.Tensor:
        """``n`` real images outside this net's training set (every data part up to ``data_part``) and outside the
        ``n_heldout`` images of ``split``: the items just after the training blocks in the same fixed permutation.
        A D_M built on them is a population proxy (Li et al.'s memorization question asked against real images
        the net never saw, not against its own)."""
        x = load_dataset(self.dataset, size=self.size, data_path=self.data_path)
        start = (self.data_part + 1) * self.N
        check_int("n", n, low=1, high=x.shape[0] - n_heldout - start)
        return x[permutation(x.shape[0], self.data_seed)[start:start + n]]

    def build(self, shape: tuple) -> EDMPrecond:
        """A freshly initialised denoiser for images of ``shape`` (C, H, W), seeded by ``seed``. For arch "unet",
        ``channels`` is the channel base and ``layers_per_block`` the ResNet layers per block; for arch "mlp" (a plain
        MLP on the flattened image, ``gendiff.nets.MLP``) they are the hidden width and the number of hidden layers."""
        from .nets import MLP

        torch.manual_seed(self.seed)
        if self.arch == "mlp":
            return EDMPrecond(MLP(math.prod(shape), hidden=self.channels, depth=self.layers_per_block, seed=self.seed),
                              shape=shape)
        return EDMPrecond(UNetF(build_unet(self.channels, shape[0], shape[-1], self.layers_per_block)), shape=shape)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
