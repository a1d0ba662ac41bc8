"""Device choice (cuda > mps > cpu), seeding and dtype helpers: the same code runs on CPU and GPU."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from ._checks import GendiffError


def get_device(prefer: str | None = None) -> torch.device:
    """The best available device, or ``prefer`` ('cpu', 'cuda', 'mps'); env GENDIFF_DEVICE overrides."""
    prefer = prefer or os.environ.get("GENDIFF_DEVICE") or None
    if prefer:
        dev = torch.device(prefer)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise GendiffError(f"device={prefer!r} requested but CUDA is not available")
        if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise GendiffError(f"device={prefer!r} requested but MPS is not available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (all devices); return a CPU generator seeded with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator on ``device`` seeded with ``seed``."""
    return torch.Generator(device=device).manual_seed(int(seed))


def randn(shape, *, generator: torch.Generator | None = None, device=None, dtype=torch.float32):
    """Standard normal draws made on the generator's device, then moved: same seed, same numbers on CPU and GPU."""
    gdev = generator.device if generator is not None else torch.device("cpu")
    z = torch.randn(*shape, generator=generator, device=gdev, dtype=dtype)
    return z.to(device) if device is not None else z


def float64_device(device: torch.device) -> torch.device:
    """Where float64 math can run: MPS has no float64, so fall back to the CPU there."""
    return torch.device("cpu") if torch.device(device).type == "mps" else torch.device(device)
