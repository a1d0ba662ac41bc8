"""Small networks F(x_in, c_noise) to wrap in :class:`gendiff.denoisers.net.EDMPrecond` (U-Nets come with the model zoo)."""
from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_int


class FourierNoiseEmbedding(nn.Module):
    """c_noise -> [cos, sin](2 pi f c_noise) with fixed random frequencies (EDM's NCSN++ style)."""

    def __init__(self, dim: int = 32, scale: float = 4.0, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("freqs", torch.randn(dim // 2, generator=g) * scale)

    def forward(self, c_noise: torch.Tensor) -> torch.Tensor:
        a = 2 * math.pi * c_noise.reshape(-1, 1).float() * self.freqs
        return torch.cat([a.cos(), a.sin()], dim=1)


class MLP(nn.Module):
    """A plain MLP F(x, c_noise) on flattened inputs: the 'non-linear' contrast to the linear theory."""

    def __init__(self, d: int, hidden: int = 256, depth: int = 3, emb_dim: int = 32, seed: int = 0):
        super().__init__()
        check_int("d", d, low=1)
        check_int("hidden", hidden, low=1)
        check_int("depth", depth, low=1)
        torch.manual_seed(seed)
        self.emb = FourierNoiseEmbedding(emb_dim, seed=seed)
        layers, width = [], d + emb_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, d))
        self.net = nn.Sequential(*layers)
        self.d = d

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        xf = x.reshape(x.shape[0], -1)
        out = self.net(torch.cat([xf, self.emb(c_noise).to(xf.dtype)], dim=1))
        return out.reshape(x.shape)
