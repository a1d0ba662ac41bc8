"""A trained network as a Denoiser: EDM preconditioning around any F(x_in, c_noise) (Karras et al. 2022, eq 7),
and its learned term without the skip path."""
from __future__ import annotations

import torch
from torch import nn

from .._checks import GendiffError
from ..edm import SIGMA_DATA, _bcast, preconditioning
from .base import Denoiser


class EDMPrecond(Denoiser):
    """D(x; sigma) = c_skip x + c_out F(c_in x, c_noise): a thin wrapper that turns any network F(x, c_noise)
    into a gendiff Denoiser (EDM eq 7)."""

    def __init__(self, model: nn.Module, sigma_data: float = SIGMA_DATA, shape: tuple | None = None):
        super().__init__()
        self.model = model
        self.sigma_data = sigma_data
        self.shape = tuple(shape) if shape is not None else None  # (C, H, W) the net was built for, if known

    name = "network"

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        if self.shape is not None and tuple(x.shape[1:]) != self.shape:
            raise GendiffError(f"this net takes inputs of shape (B, {', '.join(map(str, self.shape))}), got "
                               f"{tuple(x.shape)}")
        # the net runs on its weights' device and in their dtype; the output comes back on x's device and in x's dtype,
        # so a net trained on a GPU serves data kept on the CPU (on one device the moves are no-ops)
        w = next(self.model.parameters(), None)
        x_in = x.to(w.device) if w is not None else x
        c_skip, c_out, c_in, c_noise = preconditioning(sigma.to(device=x_in.device, dtype=torch.float32),
                                                       self.sigma_data)
        b = lambda t: _bcast(t, x_in)  # noqa: E731
        F_x = self.model((b(c_in) * x_in).to(w.dtype if w is not None else x.dtype), c_noise)
        return (b(c_skip) * x_in + b(c_out) * F_x.to(x.dtype)).to(x.device)

    def learned_part(self) -> "LearnedPart":
        """The network's own term c_out F(c_in x, c_noise) = D(x; sigma) - c_skip x, as a Denoiser."""
        return LearnedPart(self)


class LearnedPart(Denoiser):
    """D(x; sigma) - c_skip(sigma) x for an EDMPrecond D: the learned network without the skip path. Its Jacobian is
    D's minus c_skip I; at small sigma c_skip -> 1 and that identity alone makes D's sensitivity map one pixel wide
    (Niedoba et al. 2025's eq. 8 is the full D's; notebook 09 shows both). Any other Denoiser (D_G, D_M) splits the
    same way, with EDM's c_skip at its sigma_data (default SIGMA_DATA): the control a net's term is read against."""

    name = "network without skip"

    def __init__(self, net: Denoiser):
        super().__init__()
        self.net = net

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        c_skip = preconditioning(sigma.to(torch.float32), getattr(self.net, "sigma_data", SIGMA_DATA))[0]
        return self.net(x, sigma) - _bcast(c_skip, x).to(x.dtype) * x


