"""PF-ODE samplers for any Denoiser (EDM Euler / Heun, Karras et al. 2022 Alg. 1) and exact push-forwards."""
from __future__ import annotations

import torch

from ._checks import GendiffError, check_choice, check_int
from .device import randn, stream
from .edm import RHO, SIGMA_MAX, SIGMA_MIN, sampling_steps
from .progress import tqdm


def initial_noise(n: int, shape: tuple, seed: int, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """x_T = sigma_max z, z ~ N(0, I) of shape (n, *shape), from the "samples" stream of study seed ``seed``: every
    notebook starts its sampler from the same noise for a given seed (same numbers on CPU and GPU)."""
    check_int("n", n, low=1)
    return SIGMA_MAX * randn((n, *shape), generator=stream(seed, "samples"), device=device, dtype=dtype)


@torch.no_grad()
def edm_sampler(D, x_T: torch.Tensor | None = None, *, n: int | None = None, shape: tuple | None = None,
                num_steps: int = 18, solver: str = "heun", sigma_min: float = SIGMA_MIN, sigma_max: float = SIGMA_MAX,
                rho: float = RHO, denoise_last: bool = True, t_steps: torch.Tensor | None = None,
                generator: torch.Generator | None = None, device=None, dtype=torch.float32,
                return_trajectory: bool = False, progress: bool = False):
    """Integrate dx/dt = (x - D(x; t)) / t from t = sigma_max down the EDM grid (rho = 7).

    x_T defaults to sigma_max * z, z ~ N(0, I) of shape (n, *shape) drawn from ``generator``. 'heun' applies the
    2nd-order correction on every step whose t_next > 0 (NFE = 2 num_steps - 1 with denoise_last), 'euler' never.
    denoise_last=False stops at sigma_min without the final denoise (the learned covariance gains sigma_min^2 I).
    t_steps overrides the grid (decreasing, >= 0). Returns x_0, or (x_0, [x at each t]) with return_trajectory."""
    check_choice("solver", solver, {"euler", "heun"})
    if t_steps is None:
        check_int("num_steps", num_steps, low=1 if not denoise_last else 2)
        t_steps = sampling_steps(num_steps, sigma_min, sigma_max, rho, denoise_last)
    t_steps = torch.as_tensor(t_steps, dtype=torch.float64)
    if x_T is None:
        if n is None or shape is None:
            raise GendiffError("edm_sampler needs x_T, or n and shape")
        x_T = randn((n, *shape), generator=generator, device=device, dtype=dtype) * float(t_steps[0])
    x = x_T
    traj = [x] if return_trajectory else None
    pairs = list(zip(t_steps[:-1].tolist(), t_steps[1:].tolist()))
    for t_cur, t_next in tqdm(pairs, disable=not progress, desc=f"{solver} sampler", leave=False):
        d_cur = (x - D(x, t_cur)) / t_cur
        x_next = x + (t_next - t_cur) * d_cur
        if solver == "heun" and t_next > 0:
            d_next = (x_next - D(x_next, t_next)) / t_next
            x_next = x + (t_next - t_cur) * (0.5 * d_cur + 0.5 * d_next)
        x = x_next
        if return_trajectory:
            traj.append(x)
    return (x, traj) if return_trajectory else x


@torch.no_grad()
def pushforward_gaussian(f, mean_in: torch.Tensor, cov_in: torch.Tensor):
    """Exact mean and covariance of f(x), x ~ N(mean_in, cov_in), for an *affine* map f of (B, d) float64 batches
    (e.g. a sampler run with a linear denoiser): with cov_in = L L^T, f(mean + L e_i) - f(mean) = J L e_i, so
    cov_out = (J L)(J L)^T. Checks affinity on a random draw of the input distribution and raises if f is not
    affine."""
    mean_in = torch.as_tensor(mean_in, dtype=torch.float64).reshape(-1)
    d = mean_in.numel()
    L = torch.linalg.cholesky(torch.as_tensor(cov_in, dtype=torch.float64))
    z = torch.randn(d, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    pts = torch.cat([mean_in[None], mean_in[None] + L.T, (mean_in + L @ z)[None]])
    out = f(pts)
    m, JL = out[0], (out[1:d + 1] - out[0]).T
    if not torch.allclose(out[-1], m + JL @ z, atol=1e-6 * (1 + float(out.abs().max()))):
        raise GendiffError("pushforward_gaussian: the map is not affine")
    return m, JL @ JL.T
