"""Device choice (cuda > mps > cpu), seeding and dtype helpers: the same code runs on CPU and GPU."""
from __future__ import annotations

import hashlib
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
            via = " (GENDIFF_DEVICE)" if os.environ.get("GENDIFF_DEVICE") else ""
            raise GendiffError(f"device={prefer!r} requested{via} but CUDA is not available on this machine")
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


# Named random streams of one study seed: each use of randomness in a notebook draws from its own stream, so adding a
# draw to one never shifts another, and no notebook carries unnamed offsets (seed + 11, seed + 12, ...).
STREAMS = {
    "data": "samples drawn from a synthetic distribution",
    "samples": "the initial noise x_T = sigma_max z of the sampler",
    "eval": "the noise added to evaluation images (forward-process inputs, score-field and linearity probes)",
    "heldout-loss": "the noise levels and draws of the held-out EDM loss",
    "distill": "the noisy pairs of a linear distillation",
    "fit": "the noise of a linear DSM fit",
}


def stream_seed(seed: int, name: str, index: int = 0) -> int:
    """The seed of stream ``name`` (one of STREAMS; ``index`` numbers several draws of one stream) of study seed
    ``seed``: a hash, so streams of one seed, and the same stream of different seeds, are unrelated."""
    if name not in STREAMS:
        raise GendiffError(f"stream={name!r}: unknown random stream; one of {', '.join(STREAMS)}")
    h = hashlib.blake2b(f"gendiff/{int(seed)}/{name}/{int(index)}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") & (2**63 - 1)


def stream(seed: int, name: str, index: int = 0, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh generator for stream ``name`` of study seed ``seed`` (see ``stream_seed``)."""
    return generator(stream_seed(seed, name, index), device)


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
