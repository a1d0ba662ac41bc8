"""Locality of denoisers (Niedoba et al. 2025): Jacobians, gradient-sensitivity heatmaps (eq 8), the centred squares that hold
a share of their mass, and schedules calibrated to a given network."""
from __future__ import annotations

import torch

from ._checks import GendiffError, check_int
from .denoisers.base import as_sigma, flat
from .progress import tqdm


def jacobian(D, z: torch.Tensor, sigma, *, batch: int = 2048) -> torch.Tensor:
    """The Jacobians dD(z_b; sigma_b)/dz_b, (B, d_out, d_in), by batched autograd: one forward pass per input, then
    its rows ``batch`` at a time in one vmapped backward pass (``is_grads_batched``). Networks whose ops vmap cannot
    batch fall back to replicas: one copy of the input per row in a large batch, one backward pass of the sum of
    the selected outputs (valid when batch items do not interact, as for every Denoiser here)."""
    check_int("batch", batch, low=1)
    sigma = as_sigma(sigma, z)
    B, d = z.shape[0], z[0].numel()
    rows = torch.empty((B, d, d), dtype=z.dtype, device=z.device)
    for b in range(B):
        try:
            with torch.enable_grad():
                x = z[b:b + 1].detach().clone().requires_grad_(True)
                out = flat(D(x, sigma[b:b + 1]))[0]
                for lo in range(0, d, batch):
                    k = torch.arange(lo, min(lo + batch, d), device=z.device)
                    sel = torch.zeros((len(k), d), dtype=out.dtype, device=z.device)
                    sel[torch.arange(len(k), device=z.device), k] = 1
                    (g,) = torch.autograd.grad(out, x, grad_outputs=sel, is_grads_batched=True, retain_graph=True)
                    rows[b, lo:lo + len(k)] = g.reshape(len(k), d).to(rows.dtype)
        except RuntimeError:
            rows[b] = _jacobian_replicas(D, z[b:b + 1], sigma[b:b + 1], batch)[0]
    return rows


def _jacobian_replicas(D, z, sigma, batch):
    B, d = z.shape[0], z[0].numel()
    rows = torch.empty((B, d, d), dtype=z.dtype, device=z.device)
    pairs = torch.cartesian_prod(torch.arange(B), torch.arange(d))  # (B d, 2): (input, output row)
    for lo in range(0, pairs.shape[0], batch):
        b, k = pairs[lo:lo + batch, 0].to(z.device), pairs[lo:lo + batch, 1].to(z.device)
        with torch.enable_grad():
            x = z[b].detach().clone().requires_grad_(True)
            out = flat(D(x, sigma[b]))
            (g,) = torch.autograd.grad(out[torch.arange(len(k), device=z.device), k].sum(), x)
        rows[b, k] = flat(g).to(rows.dtype)
    return rows


def sensitivity_heatmaps(D, x0: torch.Tensor, sigma: float, *, generator=None, batch: int = 2048,
                         progress: bool = False) -> torch.Tensor:
    """Gradient sensitivity (Niedoba et al. 2025, eq. 8): G[i, j] = E_z sum_{c, c'} |dD(z; t)_{c,i,j} / dz_{c'}|, an H x W map per output
    pixel (i, j), averaged over forward-process inputs z = x0 + t eps (one draw per clean image). (H, W, H, W)."""
    B, C, H, W = x0.shape
    gdev = generator.device if generator is not None else "cpu"
    z = x0 + sigma * torch.randn(x0.shape, generator=generator, device=gdev).to(x0.device)
    heat = torch.zeros((H, W, H, W), dtype=torch.float64, device=x0.device)
    per = max(1, batch // (C * H * W))  # inputs whose Jacobians fit in one batch of rows
    for b in tqdm(range(0, B, per), desc=f"Jacobians σ={sigma:.3g}", disable=not progress):
        J = jacobian(D, z[b:b + per], sigma, batch=batch).abs().double()  # (n, C H W, C H W)
        heat += J.reshape(-1, C, H, W, C, H, W).sum((0, 1, 4))
    return heat / B


def centred_square_mass(heat: torch.Tensor) -> torch.Tensor:
    """Share of each output pixel's map inside the centred square of side 2r + 1, r = 0 .. max(H, W) - 1 (clipped
    at the border): (R, H, W)."""
    H, W = heat.shape[:2]
    i = torch.arange(H, device=heat.device)
    j = torch.arange(W, device=heat.device)
    di = (i[:, None] - i[None, :]).abs()  # (H out, H in)
    dj = (j[:, None] - j[None, :]).abs()
    total = heat.sum((2, 3))
    out = []
    for r in range(max(H, W)):
        m = (di <= r)[:, None, :, None] & (dj <= r)[None, :, None, :]  # (H, W, H, W)
        out.append((heat * m).sum((2, 3)) / total)
    return torch.stack(out)


def centred_square_sizes(heat: torch.Tensor, fraction: float) -> torch.Tensor:
    """Per output pixel, the side (odd) of the smallest centred square holding ``fraction`` of its map: (H, W)."""
    if not 0 < fraction <= 1:
        raise GendiffError(f"fraction must be in (0, 1], got {fraction}")
    mass = centred_square_mass(heat)
    r = (mass < fraction - 1e-12).sum(0)  # the first r whose square reaches the fraction
    return 2 * r + 1


def no_locality_sizes(H: int, W: int, fraction: float) -> torch.Tensor:
    """The sizes of a map with no locality at all (uniform over the image): the ceiling a measured size is read
    against. The square is centred on the output pixel and clipped at the border, so its side runs up to
    2 max(H, W) - 1: a pixel near the border needs a side above the image's to reach half of a spread-out map (on
    16 x 16 at 50 %: 13 at the centre, 23 at a corner)."""
    return centred_square_sizes(torch.ones((H, W, H, W), dtype=torch.float64), fraction)


@torch.no_grad()
def calibrate(make, candidates, net, x0: torch.Tensor, sigmas, *, generator=None):
    """Per sigma, the candidate (a patch size or a mass fraction) whose denoiser make(candidate) is nearest the net
    in MSE on forward-process inputs x0 + sigma eps (held-out images): returns (best values, MSE table
    [sigma][candidate])."""
    from .metrics import denoiser_mse

    candidates = list(candidates)
    if not candidates:
        raise GendiffError("calibrate needs at least one candidate")
    table = {}
    for s in tqdm(list(sigmas), desc="calibrating"):
        g = None if generator is None else torch.Generator(generator.device).manual_seed(int(generator.initial_seed()))
        z = x0 + float(s) * torch.randn(x0.shape, generator=g).to(x0.device)
        ref = net(z, float(s))
        table[float(s)] = {c: denoiser_mse(make(c), z, float(s), ref) for c in candidates}
    best = [min(row, key=row.get) for row in table.values()]
    return best, table


def foreground_pixels(y: torch.Tensor, quantile: float = 0.5) -> torch.Tensor:
    """The pixels that carry the images' content, declared from the training set alone (before any net is looked
    at): those whose variance over the training images is at least the ``quantile`` of all pixels' variances.
    (H, W) bool; channels pooled. Ours, so that a locality statistic is not an average over blank background."""
    if not 0 <= quantile < 1:
        raise GendiffError(f"quantile must be in [0, 1), got {quantile}")
    if y.ndim != 4 or y.shape[0] < 2:
        raise GendiffError(f"y must be a batch of at least two images (N, C, H, W), got shape {tuple(y.shape)}")
    var = y.double().var(0).mean(0)  # (H, W)
    return var >= torch.quantile(var.flatten(), quantile)
