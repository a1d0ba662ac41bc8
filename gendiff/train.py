"""Training a network Denoiser with the EDM loss (docs/formulas.md, EDM): Adam, warm-up, grad clipping, EMA.

:class:`EDMTrainer` holds everything a run needs to continue bit-for-bit after an interruption (weights, EMA,
optimizer, schedule, both RNG states, step, losses): ``state_dict`` / ``load_state_dict``. The cache
(gendiff.cache) checkpoints it with write-then-rename."""
from __future__ import annotations

import copy
import math
import time

import torch

from ._checks import GendiffError, check_choice, check_int, check_positive
from .edm import P_MEAN, P_STD, edm_loss
from .progress import tqdm

# Bump when the training loop's arithmetic changes: it is part of every cached model's key.
TRAIN_CODE_VERSION = 1


class EDMTrainer:
    """EDM training of D (e.g. ``EDMPrecond(net)``) on y (N, ...). ``ema`` is the EMA copy of D's weights."""

    def __init__(self, D: torch.nn.Module, y: torch.Tensor, *, batch_size: int = 128, lr: float = 2e-3,
                 warmup: int = 100, grad_clip: float = 1.0, ema_decay: float = 0.995, P_mean: float = P_MEAN,
                 P_std: float = P_STD, seed: int = 0, precision: str = "fp32"):
        check_int("batch_size", batch_size, low=1)
        check_positive("lr", lr)
        check_choice("precision", precision, ("fp32", "bf16"))
        self.precision = precision
        self.D, self.batch_size, self.grad_clip, self.ema_decay = D, batch_size, grad_clip, ema_decay
        self.P_mean, self.P_std = P_mean, P_std
        self.device = next(D.parameters()).device
        self.y = y.to(self.device)
        self.g = torch.Generator(device=self.device).manual_seed(seed)
        self.gi = torch.Generator().manual_seed(seed + 1)
        self.ema = copy.deepcopy(D).eval().requires_grad_(False)
        self.opt = torch.optim.Adam(D.parameters(), lr=lr)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lambda t: min(1.0, (t + 1) / max(warmup, 1)))
        self.step_count = 0
        self.losses: list[float] = []

    def step(self) -> float:
        self.D.train()
        idx = torch.randint(0, self.y.shape[0], (self.batch_size,), generator=self.gi).to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            loss = edm_loss(self.D, self.y[idx], P_mean=self.P_mean, P_std=self.P_std, generator=self.g)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.D.parameters(), self.grad_clip)
        self.opt.step()
        self.sched.step()
        with torch.no_grad():
            for pe, p in zip(self.ema.parameters(), self.D.parameters()):
                pe.lerp_(p, 1 - self.ema_decay)
        self.step_count += 1
        self.losses.append(loss.item())
        return self.losses[-1]

    def run(self, until: int, *, callback=None, progress: bool = True, desc: str = "train"):
        """Train up to step ``until``; ``callback(trainer)`` after every step (checkpoints, snapshots)."""
        check_int("steps", until, low=0)
        t0, s0 = time.perf_counter(), self.step_count
        bar = tqdm(total=until, initial=self.step_count, disable=not progress, desc=desc, leave=False)
        while self.step_count < until:
            loss = self.step()
            if not math.isfinite(loss):  # a diverged run stops here: no checkpoint, snapshot or final weights
                bar.close()
                raise GendiffError(f"training of {desc} diverged at step {self.step_count}: the loss is {loss}; "
                                   f"lower the learning rate (lr={self.opt.param_groups[0]['initial_lr']:g})")
            bar.update(1)
            if self.step_count % 50 == 0 or self.step_count == until:
                ips = (self.step_count - s0) * self.batch_size / (time.perf_counter() - t0)
                bar.set_postfix(loss=f"{loss:.4f}", img_s=f"{ips:.0f}")
            if callback is not None:
                callback(self)
        bar.close()
        self.D.eval()
        dt = time.perf_counter() - t0
        return (self.step_count - s0) * self.batch_size / dt if dt > 0 and self.step_count > s0 else 0.0

    def state_dict(self) -> dict:
        return {"D": self.D.state_dict(), "ema": self.ema.state_dict(), "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict(), "g": self.g.get_state(), "gi": self.gi.get_state(),
                "step": self.step_count, "losses": list(self.losses)}

    def load_state_dict(self, sd: dict) -> None:
        self.D.load_state_dict(sd["D"])
        self.ema.load_state_dict(sd["ema"])
        self.opt.load_state_dict(sd["opt"])
        self.sched.load_state_dict(sd["sched"])
        self.g.set_state(sd["g"])
        self.gi.set_state(sd["gi"])
        self.step_count, self.losses = int(sd["step"]), list(sd["losses"])


def train_edm(D: torch.nn.Module, y: torch.Tensor, *, steps: int, progress: bool = True, desc: str = "train",
              **kw):
    """Train D on y for ``steps`` steps (no cache, no checkpoints). Returns (ema_D, {'loss', 'img_per_s'})."""
    check_int("steps", steps, low=1)
    tr = EDMTrainer(D, y, **kw)
    ips = tr.run(steps, progress=progress, desc=desc)
    return tr.ema, {"loss": tr.losses, "img_per_s": ips}
