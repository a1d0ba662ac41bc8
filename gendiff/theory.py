"""Predictions of the linear diffusion theory (Merger & Goldt 2025; docs/formulas.md, linear theory).

A linear denoiser trained by DSM on N samples learns rho_N = N(mu0, Sigma0 + c I). The functions below give
c for each mechanism, the test/train DSM loss gap, and the expected KL between rho_N and rho = N(mu, Sigma)."""
from __future__ import annotations

import math

import numpy as np
import torch
from scipy import integrate, special

from ._checks import check_int, check_positive


def learned_covariance(Sigma0: torch.Tensor, c: float) -> torch.Tensor:
    """Covariance of rho_N: Sigma0 + c I (Merger & Goldt 2025)."""
    return torch.as_tensor(Sigma0, dtype=torch.float64) + c * torch.eye(Sigma0.shape[0], dtype=torch.float64)


def c_ridge(ridge: float) -> float:
    """A ridge on the noise-prediction weights adds exactly c = ridge (optimum (Sigma0 + r)(Sigma0 + r + s^2)^-1)."""
    return float(ridge)


def c_sigma_min(sigma_min: float) -> float:
    """Stopping the exact PF-ODE at sigma_min without a final denoise leaves c = sigma_min^2."""
    return float(sigma_min) ** 2


def Ein(x: float) -> float:
    """Entire exponential integral Ein(x) = int_0^x (1 - e^-t)/t dt = E1(x) + ln x + gamma_E."""
    return float(special.exp1(x) + math.log(x) + np.euler_gamma) if x > 0 else 0.0


def c_early_stopping(eta: float, tau: float, sigma_max: float = 80.0) -> float:
    """Variance left in a direction Sigma0 never saw, for a noise predictor started at zero (D = identity) and
    trained by gradient flow for time tau with rate eta on every level: its gain is w(s) = exp(-2 eta s^2 tau), and
    the PF-ODE from sigma_max gives c = sigma_max^2 exp(-Ein(2 eta tau sigma_max^2)) -> e^-gamma_E / (2 eta tau)."""
    check_positive("eta", eta)
    check_positive("tau", tau)
    return sigma_max**2 * math.exp(-Ein(2 * eta * tau * sigma_max**2))


def ode_output_variance(gain, sigma_max: float = 80.0, sigma_end: float = 0.0) -> float:
    """Output variance (per unit start variance sigma_max^2) of one eigen-direction of the PF-ODE
    dx/ds = (1 - gain(s)) x / s from sigma_max down to sigma_end, for a linear denoiser with gain(s) along it:
    sigma_max^2 exp(-2 int (1 - gain(s)) / s ds). Numerical quadrature in ln s."""
    lo = math.log(max(sigma_end, 1e-12))
    val, _ = integrate.quad(lambda u: 1 - gain(math.exp(u)), lo, math.log(sigma_max), limit=400)
    return sigma_max**2 * math.exp(-2 * val)


def early_stopping_gain(lam: float, eta: float, tau: float, ridge: float = 0.0):
    """Gain along an eigen-direction of Sigma0 (variance lam) after gradient flow for time tau from D = identity:
    w(s) = w* + (1 - w*) exp(-2 eta (lam + s^2 + ridge) tau), w* = (lam + ridge)/(lam + ridge + s^2)."""
    def gain(s):
        w_star = (lam + ridge) / (lam + ridge + s * s)
        return w_star + (1 - w_star) * math.exp(-2 * eta * (lam + s * s + ridge) * tau)
    return gain


def test_train_gap_modes(Sigma, Sigma0, dmu, sigma: float, c: float = 0.0, gamma: float = 0.0):
    """Test minus train DSM loss of the optimal linear denoiser W = (Sigma0 + c)(Sigma0 + c + s^2 + gamma)^-1,
    b = (I - W) mu0, split over the eigen-directions u_nu of Sigma0 (float64):
        gap = (s^2 + gamma)^2 Tr[(Sigma - Sigma0 + dmu dmu^T)(Sigma0 + (c + s^2 + gamma) I)^-2]   (Merger & Goldt 2025)
    Returns (lambda_nu, contribution_nu); directions with lambda_nu = 0 (N < d) are Sigma0's null space, each
    adding (s^2+gamma)^2 u^T(Sigma + dmu dmu^T)u / (c + s^2 + gamma)^2."""
    Sigma, Sigma0 = (torch.as_tensor(S, dtype=torch.float64) for S in (Sigma, Sigma0))
    dmu = torch.as_tensor(dmu, dtype=torch.float64).reshape(-1, 1)
    lam, U = torch.linalg.eigh(Sigma0)
    d = lam.numel()
    lam = torch.where(lam > d * 1e-14 * float(lam.abs().max()), lam, torch.zeros_like(lam))
    Delta = U.T @ (Sigma - Sigma0 + dmu @ dmu.T) @ U
    k = sigma**2 + gamma
    return lam, k**2 * Delta.diagonal() / (lam + c + k) ** 2


def test_train_gap(Sigma, Sigma0, dmu, sigma: float, c: float = 0.0, gamma: float = 0.0) -> float:
    """Sum of :func:`test_train_gap_modes`."""
    return float(test_train_gap_modes(Sigma, Sigma0, dmu, sigma, c, gamma)[1].sum())


def null_direction_gap(Sigma, Sigma0, dmu, sigma: float, c: float = 0.0, gamma: float = 0.0) -> float:
    """The part of the gap carried by the d - N null directions of Sigma0."""
    lam, contrib = test_train_gap_modes(Sigma, Sigma0, dmu, sigma, c, gamma)
    return float(contrib[lam == 0].sum())


def _sum_digamma(d: int, N: int) -> float:
    i = np.arange(1, d + 1)
    return float(special.digamma((N - i) / 2).sum())


def expected_kl_forward(d: int, N: int) -> float:
    """E KL(N(mu0, Sigma0) || N(mu, Sigma)) over draws of N Gaussian samples (Sigma0 with 1/N, c = 0), exact:
    1/2 [-sum_{i=1}^d psi((N - i)/2) - d ln(2/N)]; independent of mu and Sigma. Needs N > d (else infinite)."""
    check_int("d", d, low=1)
    check_int("N", N, low=1)
    if N <= d:
        return math.inf
    return 0.5 * (-_sum_digamma(d, N) - d * math.log(2 / N))


def expected_kl_reverse(d: int, N: int) -> float:
    """E KL(N(mu, Sigma) || N(mu0, Sigma0)), exact (inverse-Wishart mean):
    1/2 [(N + 1) d / (N - d - 2) - d + sum psi((N - i)/2) + d ln(2/N)]. Finite for N > d + 2."""
    check_int("d", d, low=1)
    check_int("N", N, low=1)
    if N <= d + 2:
        return math.inf
    return 0.5 * ((N + 1) * d / (N - d - 2) - d + _sum_digamma(d, N) + d * math.log(2 / N))


def kl_large_N(d: int, N: int) -> float:
    """Leading order for N >> d of both expected KLs: d (d + 1) / (4 N) from the covariance plus d / (2 N) from the
    mean, i.e. d (d + 3) / (4 N): KL/d ~ d/(4N) (Merger & Goldt 2025)."""
    return d * (d + 3) / (4 * N)


