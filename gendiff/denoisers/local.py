"""Two more training-free denoisers: the equivariant local score (ELS) machine and the smoothed empirical denoiser."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import GendiffError, check_choice, check_int, check_positive
from .base import Denoiser, flat
from .empirical import EmpiricalDenoiser
from .patch import Schedule
from .softmax import StreamingSoftmaxMean


ELS_PADDINGS = ("zeros", "circular")


def els_denoise(z: torch.Tensor, y: torch.Tensor, s: int, sigma: torch.Tensor, *, padding: str = "zeros",
                pad_value: float = 0.0, budget: int = 1 << 24) -> torch.Tensor:
    """ELS machine (after Kamb & Ganguli 2025): each output pixel is the posterior mean of the centre pixel of the
    s x s patch around it, over a pool of training patches at every position:
    D(z)_p = sum_{i, q} softmax_{i, q}(-||z_{Omega_p} - y_i[Omega_q]||^2 / (2 t^2)) y_i[q]. Translation-equivariant.
    s must be odd. The boundary, by ``padding``:

    - "circular", the authors' equivariant ELS (their code's circular mode): the query patch wraps around the input
      (circular padding), and the pool holds only the patches that lie wholly inside a training image (no padding),
      (H - s + 1)(W - s + 1) per image;
    - "zeros", our variant: input and training images are padded with ``pad_value`` (s // 2 on each side), so border
      queries and the H W patches per image contain padding, as in a zero-padded convolution."""
    if s % 2 != 1:
        raise GendiffError(f"ELS patch size must be odd (a centre pixel), got {s}")
    check_choice("ELS padding", padding, ELS_PADDINGS)
    B, C, H, W = z.shape
    r = s // 2
    if padding == "circular" and (s > H or s > W):
        raise GendiffError(f"ELS patch size {s} is larger than the images ({H}x{W}): no patch lies inside them")
    # Queries: the s x s patch around every pixel of every input (borders padded or wrapped)
    pad = (lambda t: F.pad(t, (r, r, r, r), mode="circular")) if padding == "circular" else \
        (lambda t: F.pad(t, (r, r, r, r), value=pad_value))
    q = F.unfold(pad(z), s).transpose(1, 2).reshape(B * H * W, -1)  # (B HW, K)
    inv_s2 = (1.0 / sigma.to(z.dtype) ** 2).repeat_interleave(H * W)[:, None]
    centre = (s * s) // 2  # index of the centre within one channel's s*s block
    per_image = (H - s + 1) * (W - s + 1) if padding == "circular" else H * W
    n_img = max(1, budget // (q.shape[0] * per_image))  # training images per chunk: bounds the logits held at once
    mean = StreamingSoftmaxMean((q.shape[0],), C, dtype=z.dtype, device=z.device)  # one row per (input, pixel)
    for lo in range(0, y.shape[0], n_img):
        # Keys: the s x s patches of the chunk's training images, at every position (translation equivariance)
        yc = y[lo:lo + n_img].to(z.dtype)
        keys = yc if padding == "circular" else F.pad(yc, (r, r, r, r), value=pad_value)
        pool = F.unfold(keys, s).transpose(1, 2).reshape(-1, q.shape[1])
        vals = pool.reshape(pool.shape[0], C, s * s)[:, :, centre]  # (n positions, C): the patches' centre pixels
        # logits -||q - y_patch||^2 / (2 t^2) up to the query's own norm (it cancels in the softmax)
        logits = torch.addmm((-0.5 * (pool**2).sum(1))[None], q, pool.T).mul_(inv_s2)
        mean.update(logits, lambda w: w @ vals)  # posterior mean of the centre pixel
    return mean.mean().reshape(B, H, W, C).permute(0, 3, 1, 2).contiguous()


class ELSDenoiser(Denoiser):
    """The ELS machine (Kamb & Ganguli 2025) with patch size schedule(sigma) (odd; an int or a Schedule) and the
    boundary ``padding`` of ``els_denoise``: "circular" is the authors' definition (analytic's built-in ELS family,
    which notebooks 10-11 calibrate); "zeros" (the default here, ``analytic.ELS_ZERO_PADDED``) is our variant."""

    name = "ELS"

    def __init__(self, y: torch.Tensor, schedule, pad_value: float = 0.0, budget: int = 1 << 24,
                 padding: str = "zeros"):
        super().__init__()
        check_choice("ELS padding", padding, ELS_PADDINGS)
        y = torch.as_tensor(y)
        if y.ndim != 4:
            raise GendiffError(f"ELS needs images (N, C, H, W), got shape {tuple(y.shape)}")
        self.register_buffer("y", y)
        self.schedule = schedule if isinstance(schedule, Schedule) else Schedule.constant(int(schedule))
        for s in self.schedule.values:
            check_int("ELS patch size", s, low=1)
            if s % 2 != 1:
                raise GendiffError(f"ELS patch sizes must be odd, got {s}")
        self.pad_value, self.budget, self.padding = pad_value, budget, padding
        if padding == "circular" and max(self.schedule.values) > min(y.shape[-2:]):
            raise GendiffError(f"ELS patch sizes {sorted(set(self.schedule.values))} must fit inside the "
                               f"{y.shape[-2]}x{y.shape[-1]} images with circular padding")

    def denoise(self, x, sigma):
        if tuple(x.shape[1:]) != tuple(self.y.shape[1:]):
            raise GendiffError(f"ELS expects images of shape {tuple(self.y.shape[1:])}, got {tuple(x.shape[1:])}")
        sizes = [self.schedule(float(s)) for s in sigma]
        out = torch.empty_like(x)
        for s in dict.fromkeys(sizes):
            idx = torch.tensor([i for i, v in enumerate(sizes) if v == s], device=x.device)
            out[idx] = els_denoise(x[idx], self.y, s, sigma[idx], padding=self.padding, pad_value=self.pad_value,
                                   budget=self.budget)
        return out


class SmoothedEmpiricalDenoiser(Denoiser):
    """Smoothed closed-form denoiser (after Scarvelis, Borde & Solomon 2023, sigma-CFDM): D_M averaged over Gaussian
    perturbations of its input, D(x; t) = E_u D_M(x + alpha u; t), u ~ N(0, I), by ``n_draws`` fixed draws (the
    same draws for every call: a deterministic denoiser). alpha -> 0 gives D_M; large alpha pulls samples towards
    barycentres of nearby training images instead of the images themselves."""

    name = "smoothed empirical"

    def __init__(self, y: torch.Tensor, alpha: float, n_draws: int = 16, seed: int = 0, chunk_size: int = 2048):
        super().__init__()
        check_positive("alpha", alpha)
        check_int("n_draws", n_draws, low=1)
        self.E = EmpiricalDenoiser(y, chunk_size=chunk_size)
        self.alpha, self.n_draws = float(alpha), n_draws
        self.register_buffer("u", torch.randn((n_draws, self.E.d), generator=torch.Generator().manual_seed(seed)))

    def denoise(self, x, sigma):
        self.E._check_dim(x, self.E.d)
        xf = flat(x)
        xs = (xf[None] + self.alpha * self.u[:, None, :].to(x.dtype)).reshape(-1, xf.shape[1])  # (M B, d)
        out = self.E(xs, sigma.repeat(self.n_draws)).reshape(self.n_draws, *xf.shape).mean(0)
        return out.reshape(x.shape)
