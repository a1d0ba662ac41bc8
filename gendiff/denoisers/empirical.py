"""The empirical-optimal ("multi-delta") denoiser of Li et al. 2024, eq. 5, streamed over the training set."""
from __future__ import annotations

import torch

from .._checks import check_int
from .base import Denoiser, flat


class EmpiricalDenoiser(Denoiser):
    """D_M(x; s) = sum_i softmax_i(-||x - y_i||^2 / (2 s^2)) y_i   (Li et al. 2024, eq. 5; the optimum of DSM over the set).

    Computed with a streaming log-sum-exp over chunks of ``chunk_size`` training items: memory is
    O(B * chunk_size + B * d) whatever N is, and the running max makes it stable down to sigma = 0.002.
    The logits are -(||y_i||^2 / 2 - x.y_i) / s^2 (the ||x||^2 term cancels in the softmax); they are computed in
    the input's dtype -- pass float64 inputs for a float64 reference."""

    name = "empirical"

    def __init__(self, y: torch.Tensor, chunk_size: int = 2048):
        super().__init__()
        check_int("chunk_size", chunk_size, low=1)
        y = flat(torch.as_tensor(y))
        self.register_buffer("y", y)
        self.register_buffer("half_sq", 0.5 * (y.double() ** 2).sum(1))
        self.chunk_size = chunk_size
        self.shape = None

    @property
    def d(self) -> int:
        return self.y.shape[1]

    def logits_chunk(self, x: torch.Tensor, inv_s2: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        """(x . y_i - ||y_i||^2 / 2) / s^2 for the training items lo..hi (one fused GEMM, then an in-place scale)."""
        yc = self.y[lo:hi].to(x.dtype)
        return torch.addmm(self.half_sq[lo:hi].to(x.dtype).neg()[None], x, yc.T).mul_(inv_s2[:, None])

    def denoise(self, x, sigma):
        self._check_dim(x, self.d)
        xf = flat(x)
        inv_s2 = (1.0 / sigma.to(x.dtype) ** 2)
        B = xf.shape[0]
        m = torch.full((B, 1), -torch.inf, dtype=x.dtype, device=x.device)
        s = torch.zeros((B, 1), dtype=x.dtype, device=x.device)
        acc = torch.zeros_like(xf)
        for lo in range(0, self.y.shape[0], self.chunk_size):
            hi = min(lo + self.chunk_size, self.y.shape[0])
            p = self.logits_chunk(xf, inv_s2, lo, hi)
            m_new = torch.maximum(m, p.amax(1, keepdim=True))
            scale = torch.exp(m - m_new)
            p = p.sub_(m_new).exp_()  # in place: the logits become the unnormalised weights
            s = s.mul_(scale).add_(p.sum(1, keepdim=True))
            acc = torch.addmm(acc.mul_(scale), p, self.y[lo:hi].to(x.dtype))
            m = m_new
        return (acc / s).reshape(x.shape)

    def weights(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """The full softmax weights (B, N) -- for analysis on small sets (memory O(B N))."""
        from .base import as_sigma

        xf = flat(x)
        s = as_sigma(sigma, x).to(x.dtype)
        return torch.softmax(self.logits_chunk(xf, 1.0 / s**2, 0, self.y.shape[0]), dim=1)
