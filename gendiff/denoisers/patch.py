"""Patch posterior means and their composites, PSPC-Square and PSPC-Flex (Niedoba et al. 2025).

For a crop C (a set of pixel positions, the same in every training image -- no translations) the patch posterior
mean is E[x_C | z_C] = sum_i softmax_i(-||z_C - C y_i||^2 / (2 t^2)) C y_i   (Niedoba et al. 2025, eq. 10).
A composite averages, per pixel, every patch mean whose crop covers it (Niedoba et al. 2025, eq. 11; no padding: border pixels are
covered by fewer crops). PSPC-Square uses all s x s crops; PSPC-Flex one crop per output pixel, taken from that
pixel's gradient-sensitivity map. A crop covering the whole image gives D_M exactly.

Speed: all crops of one size are computed at once -- unfold gives every s x s patch of the batch and of a chunk of
training images, one batched GEMM per chunk gives every (crop, input, image) logit, and a streaming log-sum-exp
(online softmax) accumulates the patch means with memory bounded by ``budget`` whatever N is. The training patches
depend only on (y, s): PSPCSquare makes them once per size and reuses them across calls. On a CPU this runs at the
cost of its bare GEMM + exp arithmetic (bench/bench_pspc.py).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._checks import GendiffError, check_int, check_positive
from .base import Denoiser, flat
from .softmax import StreamingSoftmaxMean


class Schedule:
    """A value per noise level (a patch size or a mass fraction), looked up at the level nearest sigma in log sigma."""

    def __init__(self, sigmas, values):
        self.sigmas = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
        self.values = list(values)
        if len(self.values) != self.sigmas.numel() or not self.values:
            raise GendiffError(f"a schedule needs one value per sigma: {self.sigmas.numel()} sigmas, "
                               f"{len(self.values)} values")
        check_positive("schedule sigmas", self.sigmas.tolist())

    @classmethod
    def constant(cls, value) -> "Schedule":
        return cls([1.0], [value])

    def index(self, sigma: float) -> int:
        return int((self.sigmas.log() - math.log(float(sigma))).abs().argmin())

    def __call__(self, sigma: float):
        return self.values[self.index(sigma)]

    def __repr__(self):
        return "Schedule(" + ", ".join(f"{s:.3g}: {v}" for s, v in zip(self.sigmas.tolist(), self.values)) + ")"


def _edm18():
    from ..edm import sigma_grid

    return sigma_grid(18).tolist()


# The paper's CIFAR-10 schedules (32 x 32, 18 EDM steps from sigma = 80 to 0.002), shipped as data (Niedoba et al. 2025, App.).
CIFAR_SQUARE_SIZES = [32] * 7 + [23, 15, 11, 7, 5] + [3] * 6
CIFAR_FLEX_LAMBDAS = [1.0] * 7 + [0.7, 0.7, 0.5] + [0.4] * 4 + [0.3] * 4


def cifar_square_schedule() -> Schedule:
    return Schedule(_edm18(), CIFAR_SQUARE_SIZES)


def cifar_flex_schedule() -> Schedule:
    return Schedule(_edm18(), CIFAR_FLEX_LAMBDAS)


def square_patches(y: torch.Tensor, s: int, dtype=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Every s x s patch of training images y (N, C, H, W): (P, N, C s^2), contiguous, and half its squared norm
    (P, N), the data-only terms of the PSPC-Square logits. Positions are row-major by top-left corner, as F.unfold."""
    C, H, W = y.shape[1:]
    s = min(int(s), H, W)
    y = y.to(dtype or y.dtype)
    yp = F.unfold(y, s).permute(2, 0, 1).contiguous()
    half_sq = 0.5 * F.conv2d(y.pow(2).sum(1, keepdim=True), y.new_ones(1, 1, s, s)).flatten(1).T.contiguous()
    return yp, half_sq


def square_patch_composite(z: torch.Tensor, y: torch.Tensor, s: int, sigma: torch.Tensor, *,
                           budget: int = 1 << 22, patches: tuple[torch.Tensor, torch.Tensor] | None = None
                           ) -> torch.Tensor:
    """The composite of all s x s patch posterior means (Niedoba et al. 2025, eq. 10-11) for inputs z (B, C, H, W), training images
    y (N, C, H, W) and noise levels sigma (B,). ``budget`` bounds the logits held at once (floats). ``patches``:
    ``square_patches(y, s)`` computed once and reused across calls (otherwise made chunk by chunk)."""
    B, C, H, W = z.shape
    s = min(int(s), H, W)
    # Query patches: every s x s crop of every input, position-major for batched GEMMs
    zu = F.unfold(z, s)  # (B, K, P): every s x s patch of every input
    K, P = zu.shape[1], zu.shape[2]
    zp = zu.permute(2, 0, 1).contiguous()  # (P, B, K)
    zz = 0.5 * (zp**2).sum(-1, keepdim=True)  # (P, B, 1)
    inv_s2 = (1.0 / sigma.to(z.dtype) ** 2)[None, :, None]
    if patches is not None and tuple(patches[0].shape) != (P, y.shape[0], K):
        raise GendiffError(f"patches of shape {tuple(patches[0].shape)} are not square_patches(y, {s}) for y of shape "
                           f"{tuple(y.shape)} (want {(P, y.shape[0], K)})")
    chunk = max(1, budget // (P * B))  # training images per chunk: bounds the (P, B, n) logits
    mean = StreamingSoftmaxMean((P, B), K, dtype=z.dtype, device=z.device)  # one row per (crop position, input)
    for lo in range(0, y.shape[0], chunk):
        # Training patches at the same positions (made here, or cut from the ones made once)
        if patches is None:
            yp, half_sq = square_patches(y[lo:lo + chunk], s, z.dtype)  # (P, n, K), (P, n)
        else:
            yp, half_sq = patches[0][:, lo:lo + chunk], patches[1][:, lo:lo + chunk]
        # logits: -||z_C - y_C||^2 / (2 t^2), expanded; keeping the ||z_C||^2 term (which cancels in the softmax)
        # keeps the largest logits near 0, where float32 is most accurate
        logits = torch.baddbmm(-half_sq[:, None, :], zp, yp.transpose(1, 2)).sub_(zz).mul_(inv_s2)
        mean.update(logits, lambda w: torch.bmm(w, yp))  # (P, B, n) weights x (P, n, K) patches
    means = mean.mean()  # (P, B, K): every patch posterior mean
    # Composite: each pixel averages the posterior means of the crops that cover it (eq. 11)
    comp = F.fold(means.permute(1, 2, 0), (H, W), s)
    count = F.fold(torch.ones((1, K, P), dtype=z.dtype, device=z.device), (H, W), s)
    return comp / count


def masked_patch_composite(z: torch.Tensor, y: torch.Tensor, masks: torch.Tensor, sigma: torch.Tensor, *,
                           weights: torch.Tensor | None = None, budget: int = 1 << 24) -> torch.Tensor:
    """The composite of the patch posterior means of arbitrary crops: ``masks`` (P, H, W) boolean (a crop takes every
    channel of its pixels), each crop counted ``weights[p]`` times (default 1) in the per-pixel average. Pixels that
    no crop covers raise an error."""
    B, C, H, W = z.shape
    M = masks.reshape(masks.shape[0], H * W).to(z.dtype)
    wts = torch.ones(M.shape[0], dtype=z.dtype, device=z.device) if weights is None else weights.to(z.dtype)
    count = (wts[:, None] * M).sum(0)  # (HW,)
    if bool((count == 0).any()):
        raise GendiffError(f"{int((count == 0).sum())} pixels are covered by no crop")
    P, d = M.shape[0], C * H * W
    Md = M.repeat(1, C)  # (P, d): the crop on every channel
    zf = flat(z)
    inv_s2 = (1.0 / sigma.to(z.dtype) ** 2)[:, None, None]
    out = torch.zeros_like(zf)
    bb = max(1, min(B, budget // (P * d)))  # inputs per block: bounds the (b, P, d) masked copies
    for b0 in range(0, B, bb):
        zb = zf[b0:b0 + bb]
        zm = (zb[:, None, :] * Md[None]).reshape(-1, d)  # (b P, d): each input seen through each crop
        n_chunk = max(1, budget // (zm.shape[0]))
        post = StreamingSoftmaxMean((zb.shape[0], P), d, dtype=z.dtype, device=z.device)
        for lo in range(0, y.shape[0], n_chunk):
            yc = flat(y[lo:lo + n_chunk]).to(z.dtype)
            half_sq = 0.5 * (yc**2) @ Md.T  # (n, P)
            logits = (zm @ yc.T).reshape(zb.shape[0], P, -1).sub_(half_sq.T[None]).mul_(inv_s2[b0:b0 + bb])
            post.update(logits, lambda w: w @ yc)
        means = post.mean()  # (b, P, d); only the crop's own entries are used
        out[b0:b0 + bb] = (means * (wts[:, None] * Md)[None]).sum(1) / count.repeat(C)[None]
    return out.reshape(z.shape)


def patch_posterior_loop(z: torch.Tensor, y: torch.Tensor, masks: torch.Tensor, sigma: torch.Tensor, *,
                         chunk: int = 100) -> torch.Tensor:
    """Slow reference in the shape of the public reference code: one crop at a time; the crop of the whole training
    set is taken, then a streaming posterior mean runs over chunks of ``chunk`` images with broadcast differences
    and broadcast weighted sums; the patch mean is scattered back into a full image. Empty masks are skipped.
    For tests and bench/ only."""
    B, C, H, W = z.shape
    comp, norm = torch.zeros_like(z), torch.zeros_like(z)
    two_s2 = 2 * sigma.to(z.dtype)[:, None] ** 2
    for mask in masks.to(z.device):
        if not bool(mask.any()):
            continue
        idx = mask.reshape(-1)
        zc = z.reshape(B, C, -1)[:, :, idx].reshape(B, -1)
        yc_all = y.reshape(y.shape[0], C, -1)[:, :, idx].reshape(y.shape[0], -1).to(z.dtype)
        m = torch.full((B, 1), -torch.inf, dtype=z.dtype, device=z.device)
        s = torch.zeros((B, 1), dtype=z.dtype, device=z.device)
        mean = torch.zeros_like(zc)
        for lo in range(0, y.shape[0], chunk):
            yc = yc_all[lo:lo + chunk]
            sc = -((zc[:, None, :] - yc[None]) ** 2).sum(-1) / two_s2
            m_new = torch.maximum(m, sc.amax(1, keepdim=True))
            w = (sc - m_new).exp()
            s_new = s * (m - m_new).exp() + w.sum(1, keepdim=True)
            mean = (mean * s * (m - m_new).exp() + (yc[None] * w[:, :, None]).sum(1)) / s_new
            m, s = m_new, s_new
        full = torch.zeros((B, C, H * W), dtype=z.dtype, device=z.device)
        full[:, :, idx] = mean.reshape(B, C, -1)
        comp += full.reshape(z.shape)
        norm += mask.to(z.dtype)[None, None]
    return comp / norm


def square_masks(H: int, W: int, s: int, *, every_position: bool = False) -> torch.Tensor:
    """All s x s crops that fit in an H x W image (no padding): (P, H, W) boolean, row-major by top-left corner.
    every_position=True returns one mask per pixel (H W), empty where the crop would not fit (as the public code
    iterates)."""
    s = min(int(s), H, W)
    out = torch.zeros((H * W if every_position else (H - s + 1) * (W - s + 1), H, W), dtype=torch.bool)
    k = 0
    for i in range(H if every_position else H - s + 1):
        for j in range(W if every_position else W - s + 1):
            if i + s <= H and j + s <= W:
                out[k, i:i + s, j:j + s] = True
            k += 1
    return out


def mask_from_heatmap(heat: torch.Tensor, lam: float) -> torch.Tensor:
    """The smallest set of pixels holding a fraction ``lam`` of a sensitivity map's mass (Niedoba et al. 2025 PSPC-Flex): the largest
    entries of ``heat`` (..., H, W) until their sum reaches lam of the total. lam = 1 gives every pixel."""
    if not 0 < lam <= 1:
        raise GendiffError(f"lambda must be in (0, 1], got {lam}")
    h = heat.reshape(*heat.shape[:-2], -1).double()
    v, order = h.sort(-1, descending=True)
    frac = v.cumsum(-1) / v.sum(-1, keepdim=True)
    keep_sorted = torch.cat([torch.ones_like(frac[..., :1], dtype=torch.bool), frac[..., :-1] < lam - 1e-6], -1)
    if lam >= 1:
        keep_sorted = torch.ones_like(keep_sorted)
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
    return keep.reshape(heat.shape)


def _unique_masks(masks: torch.Tensor):
    """Distinct crops and how often each occurs (a composite weighs a crop by its multiplicity)."""
    u, counts = torch.unique(masks.reshape(masks.shape[0], -1), dim=0, return_counts=True)
    return u.reshape(-1, *masks.shape[1:]), counts


class _PatchBase(Denoiser):
    def __init__(self, y: torch.Tensor, budget: int = 1 << 24):
        super().__init__()
        y = torch.as_tensor(y)
        if y.ndim != 4 or y.shape[0] == 0:
            raise GendiffError(f"patch denoisers need a non-empty set of images (N, C, H, W), got shape {tuple(y.shape)}")
        check_int("budget", budget, low=1)
        self.register_buffer("y", y)
        self.budget = budget

    def _check(self, x):
        if tuple(x.shape[1:]) != tuple(self.y.shape[1:]):
            raise GendiffError(f"{type(self).__name__} expects images of shape {tuple(self.y.shape[1:])}, "
                               f"got {tuple(x.shape[1:])}")

    def _by_key(self, x, sigma, key, fn):
        """Apply fn(x_group, sigma_group, key) per group of inputs sharing key(sigma) (a patch size or a mask set)."""
        self._check(x)
        keys = [key(float(s)) for s in sigma]
        out = torch.empty_like(x)
        for k in dict.fromkeys(keys):
            idx = torch.tensor([i for i, kk in enumerate(keys) if kk == k], device=x.device)
            out[idx] = fn(x[idx], sigma[idx], k)
        return out


class PatchPosteriorDenoiser(_PatchBase):
    """The composite of the patch posterior means of a fixed set of crops ``masks`` (P, H, W) (Niedoba et al. 2025, eq. 10-11).
    One crop = the whole image gives D_M; the H W single-pixel crops give the per-pixel posterior."""

    name = "patch posterior"

    def __init__(self, y, masks: torch.Tensor, budget: int = 1 << 24):
        super().__init__(y, budget)
        masks = torch.as_tensor(masks, dtype=torch.bool)
        if masks.ndim != 3 or tuple(masks.shape[1:]) != tuple(self.y.shape[2:]):
            raise GendiffError(f"masks must be (P, H, W) with H, W = {tuple(self.y.shape[2:])}, got {tuple(masks.shape)}")
        u, c = _unique_masks(masks)
        self.register_buffer("masks", u)
        self.register_buffer("mult", c)

    def denoise(self, x, sigma):
        self._check(x)
        return masked_patch_composite(x, self.y, self.masks, sigma, weights=self.mult, budget=self.budget)


class PSPCSquare(_PatchBase):
    """PSPC-Square (Niedoba et al. 2025): the composite of all s x s patch posterior means, s = schedule(sigma) (an int or a
    Schedule); s >= the image side gives D_M. The training patches of each size are made once and kept while they
    hold at most ``patch_cache`` floats in all (the oldest sizes are dropped first); larger sets are made chunk by
    chunk in every call."""

    name = "PSPC-Square"

    def __init__(self, y, schedule, budget: int = 1 << 22, patch_cache: int = 1 << 27):
        super().__init__(y, budget)
        self.schedule = schedule if isinstance(schedule, Schedule) else Schedule.constant(schedule)
        for s in self.schedule.values:
            check_int("patch size", s, low=1)
        check_int("patch_cache", patch_cache, low=0)
        self.patch_cache = patch_cache
        self._patches = {}

    def patches(self, s: int, dtype, device):
        """square_patches(y, s) in this dtype and device, or None when they would not fit in ``patch_cache``."""
        C, H, W = self.y.shape[1:]
        s = min(int(s), H, W)
        size = self.y.shape[0] * (H - s + 1) * (W - s + 1) * (C * s * s + 1)
        if size > self.patch_cache:
            return None
        key = (s, dtype, device)
        if key not in self._patches:
            while self._patches and size + sum(a.numel() + b.numel() for a, b in self._patches.values()) > self.patch_cache:
                self._patches.pop(next(iter(self._patches)))
            self._patches[key] = square_patches(self.y.to(device), s, dtype)
        return self._patches[key]

    def denoise(self, x, sigma):
        return self._by_key(x, sigma, self.schedule, lambda xb, sb, s: square_patch_composite(
            xb, self.y, s, sb, budget=self.budget, patches=self.patches(s, xb.dtype, xb.device)))


class PSPCFlex(_PatchBase):
    """PSPC-Flex (Niedoba et al. 2025): one crop per output pixel, the smallest pixel set holding a fraction lambda = schedule(sigma)
    of that pixel's gradient-sensitivity map. ``heatmaps`` (L, H, W, H, W) at noise levels ``heat_sigmas`` (L,);
    the map of the nearest level (log sigma) is used. lambda = 1 gives D_M. Each crop also contains its own pixel,
    so every pixel is covered (the public code can leave a pixel uncovered)."""

    name = "PSPC-Flex"

    def __init__(self, y, heatmaps: torch.Tensor, heat_sigmas, schedule, budget: int = 1 << 24):
        super().__init__(y, budget)
        H, W = self.y.shape[2:]
        heatmaps = torch.as_tensor(heatmaps)
        if heatmaps.ndim != 5 or tuple(heatmaps.shape[1:]) != (H, W, H, W):
            raise GendiffError(f"heatmaps must be (L, {H}, {W}, {H}, {W}), got {tuple(heatmaps.shape)}")
        self.levels = Schedule(heat_sigmas, list(range(heatmaps.shape[0])))
        self.register_buffer("heatmaps", heatmaps)
        self.schedule = schedule if isinstance(schedule, Schedule) else Schedule.constant(float(schedule))
        self._masks = {}

    def masks_for(self, sigma: float):
        """The distinct crops at noise level sigma and their multiplicities."""
        key = (self.levels(sigma), float(self.schedule(sigma)))
        if key not in self._masks:
            L, lam = key
            H, W = self.y.shape[2:]
            m = mask_from_heatmap(self.heatmaps[L].reshape(H * W, H, W), lam)
            m.reshape(H * W, -1)[torch.arange(H * W), torch.arange(H * W)] = True  # its own pixel
            self._masks[key] = _unique_masks(m)
        return self._masks[key]

    def denoise(self, x, sigma):
        def fn(xb, sb, key):
            u, c = self.masks_for(float(sb[0]))
            return masked_patch_composite(xb, self.y, u.to(xb.device), sb, weights=c.to(xb.device), budget=self.budget)

        return self._by_key(x, sigma, lambda s: (self.levels(s), float(self.schedule(s))), fn)
