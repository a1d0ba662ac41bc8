"""Training a network Denoiser with the EDM loss (STUDY.md section 0): Adam, warm-up, grad clipping, EMA."""
from __future__ import annotations

import copy
import time

import torch
from tqdm.auto import tqdm

from ._checks import check_int, check_positive
from .edm import P_MEAN, P_STD, edm_loss


def train_edm(D: torch.nn.Module, y: torch.Tensor, *, steps: int, batch_size: int = 128, lr: float = 2e-3,
              warmup: int = 100, grad_clip: float = 1.0, ema_decay: float = 0.995, P_mean: float = P_MEAN,
              P_std: float = P_STD, seed: int = 0, progress: bool = True, desc: str = "train"):
    """Train D (e.g. ``EDMPrecond(net)``) on the training set y (N, ...) for ``steps`` Adam steps.

    Returns (ema_D, history) where ema_D is an EMA copy of D's weights (decay ``ema_decay`` per step) and history
    holds the per-step loss and images/s. Deterministic for a given seed on a given device."""
    check_int("steps", steps, low=1)
    check_int("batch_size", batch_size, low=1)
    check_positive("lr", lr)
    device = next(D.parameters()).device
    y = y.to(device)
    g = torch.Generator(device=device).manual_seed(seed)
    gi = torch.Generator().manual_seed(seed + 1)
    ema = copy.deepcopy(D).eval().requires_grad_(False)
    opt = torch.optim.Adam(D.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / max(warmup, 1)))
    losses = []
    t0 = time.perf_counter()
    bar = tqdm(range(steps), disable=not progress, desc=desc, leave=False)
    D.train()
    for t in bar:
        idx = torch.randint(0, y.shape[0], (batch_size,), generator=gi).to(device)
        loss = edm_loss(D, y[idx], P_mean=P_mean, P_std=P_std, generator=g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(D.parameters(), grad_clip)
        opt.step()
        sched.step()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), D.parameters()):
                pe.lerp_(p, 1 - ema_decay)
        losses.append(loss.item())
        if t % 50 == 0 or t == steps - 1:
            bar.set_postfix(loss=f"{losses[-1]:.4f}", img_s=f"{(t + 1) * batch_size / (time.perf_counter() - t0):.0f}")
    D.eval()
    return ema, {"loss": losses, "img_per_s": steps * batch_size / (time.perf_counter() - t0)}
