"""Linear distillation (Li et al. 2024, eq. 8-9, Algorithm 1): the best affine fit D_L(x) = W x + b to a denoiser at each sigma.

Both ways from the same input/output pairs (z = x + sigma eps, D(z)), x from the training set:
- :func:`distill_lstsq`: the exact least-squares solution (normal equations in float64);
- :func:`distill_adam`: Algorithm 1, Adam from zero, batch 256, per-sigma learning rates of the paper."""
from __future__ import annotations

import torch

from ._checks import GendiffError, check_int, check_positive
from .denoisers.base import flat
from .denoisers.linear import LinearDenoiser
from .progress import tqdm


def paper_distill_lr(sigma: float) -> float:
    """The paper's per-sigma Adam learning rate (docs/formulas.md, hidden Gaussian structure)."""
    if sigma >= 4.0:
        return 5e-5
    if sigma >= 0.4:
        return 5e-4
    if sigma >= 0.1:
        return 5e-3
    return 5e-2


@torch.no_grad()
def distill_pairs(D, x: torch.Tensor, sigma: float, n: int, *, generator=None, batch_size: int = 512):
    """n pairs (z, D(z)) with z = x_i + sigma eps, x_i drawn with replacement from x: float64 (n, d) each."""
    check_int("n", n, low=1)
    check_positive("sigma", sigma)
    gen = generator or torch.Generator().manual_seed(0)
    Z, Y = [], []
    for lo in range(0, n, batch_size):
        m = min(batch_size, n - lo)
        idx = torch.randint(0, x.shape[0], (m,), generator=gen)
        z = x[idx] + sigma * torch.randn((m, *x.shape[1:]), generator=gen, dtype=x.dtype)
        Z.append(flat(z).double().cpu())
        Y.append(flat(D(z, sigma)).double().cpu())
    return torch.cat(Z), torch.cat(Y)


def distill_lstsq(Z: torch.Tensor, Y: torch.Tensor, ridge: float = 0.0):
    """argmin_{W,b} sum ||W z + b - y||^2 (+ ridge ||W||^2): the closed form of eq 8 from the same pairs."""
    if Z.shape[0] != Y.shape[0]:
        raise GendiffError("Z and Y must have the same number of rows")
    mz, my = Z.mean(0), Y.mean(0)
    Zc, Yc = Z - mz, Y - my
    d = Z.shape[1]
    W = torch.linalg.solve(Zc.T @ Zc + ridge * Z.shape[0] * torch.eye(d, dtype=Z.dtype), Zc.T @ Yc).T
    return W, my - W @ mz


def distill_adam(Z: torch.Tensor, Y: torch.Tensor, *, lr: float, epochs: int = 100, batch_size: int = 256,
                 seed: int = 0, W_ref: torch.Tensor | None = None, record_every: int = 1, progress: bool = False):
    """Algorithm 1 on a fixed pool of pairs: W = 0, b = 0, Adam, minibatches of 256, ``epochs`` passes.

    As in the authors' model, the queries are scaled by 1/sqrt(d) before the weights: W = V / sqrt(d) and Adam
    steps V, so the paper's per-sigma learning rates act on sqrt(d) W (at d = 256 a step on W is lr / 16).
    Returns (W, b, history) with the per-epoch loss and, given W_ref, ``weight_nmse(W, W_ref)``."""
    from .metrics import weight_nmse

    check_int("epochs", epochs, low=1)
    check_positive("lr", lr)
    n, d = Z.shape
    Zf, Yf = Z.float() / d**0.5, Y.float()  # scaled queries: Zf V^T = Z W^T
    V = torch.zeros(d, d, requires_grad=True)
    b = torch.zeros(d, requires_grad=True)
    opt = torch.optim.Adam([V, b], lr=lr)
    g = torch.Generator().manual_seed(seed)
    hist = {"epoch": [], "loss": [], "nmse": []}
    for ep in tqdm(range(epochs), disable=not progress, desc="distill (Adam)", leave=False):
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for lo in range(0, n, batch_size):
            i = perm[lo:lo + batch_size]
            loss = ((Zf[i] @ V.T + b - Yf[i]) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(i)
        if (ep + 1) % record_every == 0 or ep == epochs - 1:
            hist["epoch"].append(ep + 1)
            hist["loss"].append(tot / n)
            if W_ref is not None:
                hist["nmse"].append(weight_nmse(V.detach().double() / d**0.5, W_ref))
    return V.detach().double() / d**0.5, b.detach().double(), hist


def distill(D, x: torch.Tensor, sigmas, *, n_pairs: int = 8192, method: str = "lstsq", seed: int = 0,
            progress: bool = False, **kw) -> LinearDenoiser:
    """D_L at each sigma (method 'lstsq' or 'adam'), as a LinearDenoiser."""
    if method not in ("lstsq", "adam"):
        raise GendiffError(f"method must be 'lstsq' or 'adam', got {method!r}")
    Ws, bs = [], []
    s_list = [float(s) for s in torch.as_tensor(sigmas).reshape(-1)]
    for s in tqdm(s_list, disable=not progress, desc=f"distill ({method})", leave=False):
        Z, Y = distill_pairs(D, x, s, n_pairs, generator=torch.Generator().manual_seed(seed))
        if method == "lstsq":
            W, b = distill_lstsq(Z, Y, **kw)
        else:
            W, b, _ = distill_adam(Z, Y, lr=kw.get("lr", paper_distill_lr(s)), epochs=kw.get("epochs", 100), seed=seed)
        Ws.append(W)
        bs.append(b)
    return LinearDenoiser(s_list, torch.stack(Ws), torch.stack(bs), shape=tuple(x.shape[1:]))


def distill_cached(cfg, net, x: torch.Tensor, sigmas, *, n_pairs: int = 8192, seed: int = 0, snapshot=None,
                   **kw) -> LinearDenoiser:
    """``distill(net, x, sigmas, method='lstsq')`` for the net of ``cfg`` (``snapshot``: which of its weights), stored
    with it (``cache.derived``) and keyed by x, the levels, the pairs' seed and the source of this module, the EDM
    wrapper and the nets: a distillation at d = 256 passes n_pairs images through the net per level."""
    import sys

    from . import denoisers, edm, nets
    from .cache import derived, digest, source_digest

    s_list = [float(s) for s in torch.as_tensor(sigmas).reshape(-1)]

    def compute():
        L = distill(net, x, s_list, n_pairs=n_pairs, seed=seed, **kw)
        return {"W": L.W.detach().clone(), "b": L.b.detach().clone()}

    params = dict(x=digest(x), sigmas=s_list, n_pairs=n_pairs, seed=seed, kw=kw, snapshot=snapshot,
                  code=source_digest(sys.modules[__name__], edm, nets, denoisers))
    out = derived(cfg, "distill", params, compute)
    return LinearDenoiser(s_list, out["W"], out["b"], shape=tuple(x.shape[1:]))
