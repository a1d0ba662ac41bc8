"""The one interface of the study: a Denoiser maps (x, sigma) -> estimate of the clean x.

x is a batch (B, ...) of images or vectors in [-1, 1] (plus noise); sigma is a float or a (B,) tensor, > 0.
Every Denoiser is an ``nn.Module`` so ``.to(device)`` moves its state; subclasses implement ``denoise(x, sigma)``
with sigma already a (B,) tensor.
"""
from __future__ import annotations

import torch
from torch import nn

from .._checks import GendiffError


def as_sigma(sigma, x: torch.Tensor) -> torch.Tensor:
    """sigma as a (B,) tensor on x's device (float64 if x is float64, else float32); must be > 0."""
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    if x.ndim < 2 or x.shape[0] == 0:
        raise GendiffError(f"x must be a non-empty batch (B, ...), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise GendiffError(f"x must be a floating-point tensor (images in [-1, 1]), got {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise GendiffError(f"x holds {bad} NaN or infinite value(s) (of {x.numel()}): a denoiser's input must be "
                           "finite")
    s = torch.as_tensor(sigma, dtype=dtype, device=x.device).reshape(-1)
    if s.numel() == 1:
        s = s.expand(x.shape[0])
    if s.numel() != x.shape[0]:
        raise GendiffError(f"sigma must be a scalar or have one entry per batch item ({x.shape[0]}), got {s.numel()}")
    if not bool(torch.isfinite(s).all()):
        raise GendiffError(f"sigma must be finite, got {s[~torch.isfinite(s)][0].item()}")
    if not bool((s > 0).all()):
        raise GendiffError(f"sigma must be > 0, got min {float(s.min())}")
    if not bool(torch.isfinite(1.0 / s.to(x.dtype) ** 2).all()):
        raise GendiffError(f"sigma = {float(s.min()):g} is too small for {x.dtype} (1/sigma^2 overflows); "
                           "the study's grid stops at 0.002")
    return s


def flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


class Denoiser(nn.Module):
    """Base class: ``D(x, sigma)`` validates sigma, then calls ``denoise``."""

    name = "denoiser"

    def forward(self, x: torch.Tensor, sigma) -> torch.Tensor:
        return self.denoise(x, as_sigma(sigma, x))

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def _check_dim(self, x: torch.Tensor, d: int):
        if x[0].numel() != d:
            raise GendiffError(f"{type(self).__name__} expects inputs with {d} values per item, got shape "
                               f"{tuple(x.shape)}")
