"""The empirical-optimal ("multi-delta") denoiser of Li et al. 2024, eq. 5, streamed over the training set."""
from __future__ import annotations

import torch

from .._checks import GendiffError, check_int
from .base import Denoiser, flat
from .softmax import StreamingSoftmaxMean


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
        y = torch.as_tensor(y)
        if y.ndim < 2 or y.shape[0] == 0:
            raise GendiffError(f"the training set is empty (shape {tuple(y.shape)})")
        y = flat(y)
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
        mean = StreamingSoftmaxMean((xf.shape[0],), xf.shape[1], dtype=x.dtype, device=x.device)
        for lo in range(0, self.y.shape[0], self.chunk_size):
            hi = min(lo + self.chunk_size, self.y.shape[0])
            yc = self.y[lo:hi].to(x.dtype)
            mean.update(self.logits_chunk(xf, inv_s2, lo, hi), lambda w: w @ yc)  # (B, n) weights x (n, d) images
        return mean.mean().reshape(x.shape)

    def weights(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """The full softmax weights (B, N) -- for analysis on small sets (memory O(B N))."""
        from .base import as_sigma

        xf = flat(x)
        s = as_sigma(sigma, x).to(x.dtype)
        return torch.softmax(self.logits_chunk(xf, 1.0 / s**2, 0, self.y.shape[0]), dim=1)


class TemperedEmpiricalDenoiser(EmpiricalDenoiser):
    """D_M with a temperature tau: softmax_i(-||x - y_i||^2 / (2 tau s^2)) y_i; tau = 1 is D_M, tau > 1 spreads the
    weight over more training images (towards their mean), tau < 1 concentrates it on the nearest. ``temperature``
    is a number or a per-sigma ``Schedule``: with one calibrated tau per sigma, D_M gets the same freedom as a patch
    size per sigma gives PSPC-Square (ours: the equal-freedom rival of the patch composites, Niedoba et al. 2025)."""

    name = "tempered empirical"

    def __init__(self, y: torch.Tensor, temperature=1.0, chunk_size: int = 2048):
        super().__init__(y, chunk_size)
        values = getattr(temperature, "values", [temperature])
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 and v < float("inf")
                   for v in values):
            raise GendiffError(f"temperature must be > 0 and finite (or a Schedule of such), got {temperature!r}")
        self.temperature = temperature

    def denoise(self, x, sigma):
        t = self.temperature
        tau = torch.tensor([float(t(s)) for s in sigma.tolist()] if callable(t) else [float(t)] * sigma.numel(),
                           dtype=sigma.dtype, device=sigma.device)
        return super().denoise(x, sigma * tau.sqrt())  # the logits scale as 1 / (tau s^2)
