"""The Gaussian (Wiener) denoiser of Li et al. 2024, eq. 6 and its closed-form PF-ODE trajectory (eq 7)."""
from __future__ import annotations

import torch

from .._checks import GendiffError, check_positive
from ..data import empirical_moments
from .base import Denoiser, as_sigma, flat


class GaussianDenoiser(Denoiser):
    """D_G(x; s) = mu + U diag((l + c) / (l + c + s^2 + gamma)) U^T (x - mu)   (Li et al. 2024, eq. 6).

    U, l: eigenvectors/eigenvalues of Sigma (float64 eigh, all d of them, so a rank-deficient Sigma0 with N < d is
    handled: its null directions are mapped to mu). ``c`` adds c I to the covariance, i.e. the denoiser of
    N(mu, Sigma + cI) -- what a ridge on the score parameters learns (Merger & Goldt 2025). ``gamma`` is the Wiener-form ridge
    Sigma (Sigma + (s^2 + gamma) I)^-1 of docs/formulas.md, linear theory. c = gamma = 0 is the exact DSM optimum (Theorem 1)."""

    name = "gaussian"

    def __init__(self, mu: torch.Tensor, Sigma: torch.Tensor, *, c: float = 0.0, gamma: float = 0.0,
                 shape: tuple | None = None):
        super().__init__()
        check_positive("c", c, allow_zero=True)
        check_positive("gamma", gamma, allow_zero=True)
        mu = torch.as_tensor(mu, dtype=torch.float64).reshape(-1)
        Sigma = torch.as_tensor(Sigma, dtype=torch.float64)
        d = mu.numel()
        if Sigma.shape != (d, d):
            raise GendiffError(f"Sigma must be {d} x {d} to match mu, got {tuple(Sigma.shape)}")
        lam, U = torch.linalg.eigh((Sigma + Sigma.T) / 2)
        lam, U = lam.flip(0), U.flip(1)  # decreasing
        tol = d * torch.finfo(torch.float64).eps * max(float(lam.abs().max()), 1e-300)
        lam = torch.where(lam > tol, lam, torch.zeros_like(lam))
        self.register_buffer("mu", mu)
        self.register_buffer("U", U)
        self.register_buffer("lam", lam)
        self.c, self.gamma = float(c), float(gamma)
        self.shape = tuple(shape) if shape is not None else (d,)
        self._cast = {}

    @classmethod
    def from_data(cls, y: torch.Tensor, **kw) -> "GaussianDenoiser":
        """Fit to a training set (N, ...): empirical mean and covariance (1/N)."""
        mu0, Sigma0 = empirical_moments(y)
        return cls(mu0, Sigma0, shape=tuple(y.shape[1:]), **kw)

    @property
    def d(self) -> int:
        return self.mu.numel()

    @property
    def rank(self) -> int:
        return int((self.lam > 0).sum())

    def _typed(self, dtype, device):
        key = (dtype, str(device))
        if key not in self._cast:
            self._cast = {key: (self.mu.to(device, dtype), self.U.to(device, dtype), self.lam.to(device, dtype))}
        return self._cast[key]

    def gain(self, sigma: torch.Tensor) -> torch.Tensor:
        """Per-eigendirection gain (l + c) / (l + c + s^2 + gamma), shape (B, d) for sigma of shape (B,)."""
        lam = self.lam.to(sigma.device, sigma.dtype)
        return (lam + self.c) / (lam + self.c + sigma[:, None] ** 2 + self.gamma)

    def denoise(self, x, sigma):
        self._check_dim(x, self.d)
        mu, U, _ = self._typed(x.dtype, x.device)
        coef = (flat(x) - mu) @ U * self.gain(sigma).to(x.dtype)
        return (coef @ U.T + mu).reshape(x.shape)

    def wiener(self, sigma: float):
        """W, b of the affine map at one noise level (float64): D(x) = W x + b."""
        s = as_sigma(sigma, self.mu[None].double())
        W = (self.U * self.gain(s)[0]) @ self.U.T
        return W, self.mu - W @ self.mu

    @property
    def covariance(self) -> torch.Tensor:
        """Covariance of the Gaussian this denoiser is optimal for: U diag(l + c) U^T."""
        return (self.U * (self.lam + self.c)) @ self.U.T

    def trajectory(self, x_T: torch.Tensor, sigma_T: float, sigma_t) -> torch.Tensor:
        """Closed-form PF-ODE solution under D_G (Li et al. 2024, eq. 7), from x_T at sigma_T to each sigma_t (>= 0):
        x_t = mu + sum_i sqrt((s_t^2 + l_i)/(s_T^2 + l_i)) u_i u_i^T (x_T - mu); a null direction (l_i = 0) scales
        by s_t / s_T. Returns (len(sigma_t), *x_T.shape), or x_T.shape for a scalar sigma_t."""
        if self.gamma:
            raise GendiffError("the closed-form trajectory (eq 7) needs gamma = 0 (use c for a ridge)")
        check_positive("sigma_T", sigma_T)
        scalar = torch.as_tensor(sigma_t).ndim == 0
        st = torch.as_tensor(sigma_t, dtype=torch.float64).reshape(-1)
        check_positive("sigma_t", st, allow_zero=True)
        mu, U, lam = self._typed(x_T.dtype, x_T.device)
        lam64 = self.lam + self.c
        scale = ((st[:, None] ** 2 + lam64) / (sigma_T**2 + lam64)).sqrt().to(x_T.device, x_T.dtype)  # (T, d)
        coef = (flat(x_T) - mu) @ U  # (B, d)
        out = (coef[None] * scale[:, None]) @ U.T + mu
        out = out.reshape(len(st), *x_T.shape)
        return out[0] if scalar else out
