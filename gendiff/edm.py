"""EDM conventions (Karras et al. 2022), docs/formulas.md, EDM: noise grid, training noise, preconditioning, loss.
A network becomes a Denoiser through ``gendiff.denoisers.net.EDMPrecond``."""
from __future__ import annotations


import torch

from ._checks import GendiffError, check_choice, check_int, check_positive

SIGMA_MIN, SIGMA_MAX, RHO = 0.002, 80.0, 7.0
SIGMA_DATA = 0.5
P_MEAN, P_STD = -1.2, 1.2


def sigma_grid(n: int = 10, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, rho: float = RHO) -> torch.Tensor:
    """The n EDM noise levels, decreasing from sigma_max to sigma_min (EDM eq 5, float64).

    sigma_i = (s_max^(1/rho) + i/(n-1) (s_min^(1/rho) - s_max^(1/rho)))^rho, i = 0..n-1. n = 10 gives the levels
    Li et al. 2024 evaluates at; n = 18 is EDM's default sampler."""
    check_int("n", n, low=2)
    check_positive("sigma_min", sigma_min)
    check_positive("sigma_max", sigma_max)
    i = torch.arange(n, dtype=torch.float64)
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    return (a + i / (n - 1) * (b - a)) ** rho


# Noise bands by name (closed intervals of sigma): where the papers place their effects. "mid" is Niedoba et al.
# 2025's t in [0.3, 3], where PSPC beats D_G; "pspc" is the wider [0.1, 20] of their Figs. 7 and 9.
BANDS = {"low": (SIGMA_MIN, 0.3), "mid": (0.3, 3.0), "high": (3.0, SIGMA_MAX), "pspc": (0.1, 20.0)}


def band_mean(values, sigmas, band: str) -> float:
    """Mean of ``values`` (one per noise level) over the levels of ``sigmas`` inside band ``band`` (see BANDS);
    NaN when the grid has no level in the band."""
    check_choice("band", band, set(BANDS))
    lo, hi = BANDS[band]
    values, sigmas = [float(v) for v in values], [float(s) for s in sigmas]
    if len(values) != len(sigmas):
        raise GendiffError(f"band_mean: {len(values)} values for {len(sigmas)} noise levels")
    inside = [v for v, s in zip(values, sigmas) if lo <= s <= hi]
    return sum(inside) / len(inside) if inside else float("nan")


def sampling_steps(n: int = 18, sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX, rho: float = RHO,
                   denoise_last: bool = True) -> torch.Tensor:
    """The sampler's time steps: the n-level grid, then sigma = 0 (a final denoise) unless denoise_last=False."""
    s = sigma_grid(n, sigma_min, sigma_max, rho)
    return torch.cat([s, s.new_zeros(1)]) if denoise_last else s


def sample_training_sigma(n: int, P_mean: float = P_MEAN, P_std: float = P_STD, *, generator=None,
                          device=None) -> torch.Tensor:
    """ln sigma ~ N(P_mean, P_std^2): EDM's training-noise distribution."""
    gdev = generator.device if generator is not None else "cpu"
    z = torch.randn(n, generator=generator, device=gdev)
    return (P_mean + P_std * z).exp().to(device) if device is not None else (P_mean + P_std * z).exp()


def loss_weight(sigma: torch.Tensor, sigma_data: float = SIGMA_DATA) -> torch.Tensor:
    """lambda(sigma) = (sigma^2 + sd^2) / (sigma sd)^2 (EDM eq 8/Table 1)."""
    return (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2


def preconditioning(sigma: torch.Tensor, sigma_data: float = SIGMA_DATA):
    """c_skip, c_out, c_in, c_noise of EDM Table 1."""
    s2, sd2 = sigma**2, sigma_data**2
    c_skip = sd2 / (s2 + sd2)
    c_out = sigma * sigma_data / (s2 + sd2).sqrt()
    c_in = 1 / (s2 + sd2).sqrt()
    c_noise = sigma.log() / 4
    return c_skip, c_out, c_in, c_noise


def _bcast(sigma: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return sigma.reshape(-1, *([1] * (x.ndim - 1)))


def edm_loss(denoiser, y: torch.Tensor, *, P_mean: float = P_MEAN, P_std: float = P_STD,
             sigma_data: float = SIGMA_DATA, generator=None) -> torch.Tensor:
    """EDM training loss (eq 8): mean over the batch of lambda(sigma) ||D(y + n; sigma) - y||^2 / d."""
    sigma = sample_training_sigma(y.shape[0], P_mean, P_std, generator=generator, device=y.device)
    gdev = generator.device if generator is not None else y.device
    n = torch.randn(y.shape, generator=generator, device=gdev).to(y.device) * _bcast(sigma, y)
    err = (denoiser(y + n, sigma) - y) ** 2
    return (loss_weight(sigma, sigma_data) * err.reshape(y.shape[0], -1).mean(1)).mean()


def __getattr__(name):
    """``gendiff.edm.EDMPrecond`` as the committed notebooks import it: the wrapper now lives with the other
    denoisers (gendiff.denoisers.net); imported on demand, so this module never imports the denoisers."""
    if name in ("EDMPrecond", "LearnedPart"):
        from .denoisers import net

        return getattr(net, name)
    raise AttributeError(f"module 'gendiff.edm' has no attribute {name!r}")
