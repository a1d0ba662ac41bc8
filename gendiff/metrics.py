"""Metrics, each formula once (equation numbers of seed 001 / STUDY.md)."""
from __future__ import annotations

import math

import torch

from ._checks import GendiffError, check_int
from .denoisers.base import flat


def gaussian_kl(m1, S1, m2, S2) -> float:
    """KL(N(m1, S1) || N(m2, S2)) = 1/2 [Tr(S2^-1 S1) - d - ln det(S2^-1 S1) + (m2 - m1)^T S2^-1 (m2 - m1)], float64.
    +inf when S1 is singular (a distribution on a subspace) and S2 is not; raises if S2 is singular."""
    m1, m2 = (torch.as_tensor(m, dtype=torch.float64).reshape(-1) for m in (m1, m2))
    S1, S2 = (torch.as_tensor(S, dtype=torch.float64) for S in (S1, S2))
    d = m1.numel()
    L2, info = torch.linalg.cholesky_ex(S2)
    if info:
        raise GendiffError("gaussian_kl: the second covariance is singular, KL is infinite or undefined")
    L1, info1 = torch.linalg.cholesky_ex(S1)
    if info1:
        ev = torch.linalg.eigvalsh(S1)
        if float(ev.min()) <= d * torch.finfo(torch.float64).eps * float(ev.max()):
            return math.inf
        logdet1 = float(ev.log().sum())
    else:
        logdet1 = 2 * float(L1.diagonal().log().sum())
    logdet2 = 2 * float(L2.diagonal().log().sum())
    tr = float(torch.cholesky_solve(S1, L2).diagonal().sum())
    dm = (m2 - m1)[:, None]
    maha = float((dm * torch.cholesky_solve(dm, L2)).sum())
    return 0.5 * (tr - d - (logdet1 - logdet2) + maha)


def dsm_loss_linear(W, b, mu, Sigma, sigma: float) -> float:
    """Exact denoising loss of D(x) = W x + b at noise sigma on data N(mu, Sigma) (or on any data with these
    moments): E||W (x + s eps) + b - x||^2 = Tr[(W-I) Sigma (W-I)^T] + ||(W-I) mu + b||^2 + s^2 ||W||_F^2.
    Train loss: (mu0, Sigma0); test loss: (mu, Sigma)."""
    W, b, mu, Sigma = (torch.as_tensor(t, dtype=torch.float64).detach() for t in (W, b, mu, Sigma))
    E = W - torch.eye(W.shape[0], dtype=torch.float64)
    return float(torch.trace(E @ Sigma @ E.T) + ((E @ mu + b) ** 2).sum() + sigma**2 * (W**2).sum())


@torch.no_grad()
def score_field_rmse(D1, D2, x: torch.Tensor, sigma: float, *, generator=None, batch_size: int = 512) -> float:
    """Score-field approximation error (001 eq 10): E_{x, eps} sqrt(||D1(x + s eps) - D2(x + s eps)||^2 / d) over the
    clean inputs x (one noise draw each, from ``generator``)."""
    total, n = 0.0, x.shape[0]
    gdev = generator.device if generator is not None else "cpu"
    for lo in range(0, n, batch_size):
        xb = x[lo:lo + batch_size]
        z = xb + sigma * torch.randn(xb.shape, generator=generator, device=gdev, dtype=xb.dtype).to(xb.device)
        diff = flat(D1(z, sigma) - D2(z, sigma))
        total += float((diff.pow(2).mean(1)).sqrt().sum())
    return total / n


@torch.no_grad()
def nearest_neighbors(x: torch.Tensor, y: torch.Tensor, k: int = 1, batch_size: int = 1024):
    """Euclidean (pixel-space) distances and indices of the k nearest rows of y for each row of x: (B, k) each."""
    check_int("k", k, low=1, high=y.shape[0])
    xf, yf = flat(x).double(), flat(y).double()
    y2 = (yf**2).sum(1)
    dists, idxs = [], []
    for lo in range(0, xf.shape[0], batch_size):
        xb = xf[lo:lo + batch_size]
        d2 = ((xb**2).sum(1, keepdim=True) - 2 * xb @ yf.T + y2).clamp_min(0)
        dv, iv = d2.topk(k, dim=1, largest=False)
        dists.append(dv.sqrt())
        idxs.append(iv)
    return torch.cat(dists).to(x.dtype), torch.cat(idxs)


def memorization_fraction(x: torch.Tensor, y: torch.Tensor, ratio: float = 1 / 3) -> float:
    """Share of samples x whose nearest / second-nearest training distance is < ratio (STUDY.md section 2)."""
    d, _ = nearest_neighbors(x, y, k=2)
    return float((d[:, 0] / d[:, 1].clamp_min(1e-12) < ratio).double().mean())
