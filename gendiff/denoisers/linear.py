"""Affine denoisers, one per noise level, and their training on the DSM objective (Merger & Goldt 2025; Li et al. 2024, Theorem 1)."""
from __future__ import annotations

import torch

from .._checks import GendiffError, check_choice, check_int, check_positive
from ..data import empirical_moments
from .base import Denoiser, flat
from .gaussian import GaussianDenoiser
from ..progress import tqdm


class LinearDenoiser(Denoiser):
    """D(x; sigma_k) = W_k x + b_k at K fixed noise levels sigma_k (W: (K, d, d), b: (K, d)).

    A query sigma must be one of the levels (relative tolerance 1e-6): the samplers only evaluate the levels of
    their step grid, so train at exactly those (e.g. ``edm.sampling_steps(n)[:-1]``)."""

    name = "linear"

    def __init__(self, sigmas, W: torch.Tensor, b: torch.Tensor, shape: tuple | None = None):
        super().__init__()
        sigmas = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
        check_positive("sigmas", sigmas)
        K, d = b.shape
        if W.shape != (K, d, d) or len(sigmas) != K:
            raise GendiffError(f"W must be (K, d, d) = ({len(sigmas)}, {d}, {d}) and b (K, d); got {tuple(W.shape)}, "
                               f"{tuple(b.shape)}")
        self.register_buffer("sigmas", sigmas)
        self.W = torch.nn.Parameter(W.double().clone())
        self.b = torch.nn.Parameter(b.double().clone())
        self.shape = tuple(shape) if shape is not None else (d,)

    @classmethod
    def closed_form(cls, mu0, Sigma0, sigmas, *, c: float = 0.0, gamma: float = 0.0, shape=None):
        """The exact DSM optimum at each level: W* = Sigma0 (Sigma0 + s^2 I)^-1, b* = (I - W*) mu0 (Theorem 1),
        with the optional ridges c and gamma of :class:`GaussianDenoiser`."""
        G = GaussianDenoiser(mu0, Sigma0, c=c, gamma=gamma)
        Wb = [G.wiener(float(s)) for s in torch.as_tensor(sigmas).reshape(-1)]
        return cls(sigmas, torch.stack([w for w, _ in Wb]), torch.stack([b for _, b in Wb]), shape=shape)

    @property
    def d(self) -> int:
        return self.b.shape[1]

    def level_index(self, sigma: torch.Tensor) -> torch.Tensor:
        s = sigma.to(torch.float64).to(self.sigmas.device)
        rel = (s[:, None] / self.sigmas[None] - 1).abs()
        err, idx = rel.min(1)
        if bool((err > 1e-6).any()):
            bad = float(s[err.argmax()])
            raise GendiffError(f"LinearDenoiser has no level sigma={bad:g}; its levels are "
                               f"{[round(float(v), 6) for v in self.sigmas]}")
        return idx

    def denoise(self, x, sigma):
        self._check_dim(x, self.d)
        idx = self.level_index(sigma)
        xf = flat(x)
        out = torch.empty_like(xf)
        for k in idx.unique().tolist():
            sel = idx == k
            out[sel] = xf[sel] @ self.W[k].T.to(x.dtype) + self.b[k].to(x.dtype)
        return out.reshape(x.shape)


def linear_dsm_loss_eps(A: torch.Tensor, Sigma: torch.Tensor, sigma: torch.Tensor, ridge: float = 0.0):
    """Exact expected noise-prediction DSM loss of eps_hat(x) = A (x - mu0) on data with covariance Sigma, per
    level: E||A (x + s eps - mu0) - eps||^2 + ridge ||A||_F^2 = Tr(A (Sigma + s^2 I) A^T) - 2 s Tr A + d + ridge||A||^2."""
    d = Sigma.shape[0]
    s = sigma.reshape(-1, 1, 1)
    C = Sigma[None] + (s**2 + ridge) * torch.eye(d, dtype=Sigma.dtype)
    return (torch.einsum("kij,kjl,kil->k", A, C, A) - 2 * s.reshape(-1) * A.diagonal(dim1=1, dim2=2).sum(1) + d)


def fit_linear_dsm(mu, Sigma, sigmas, *, steps: int, lr: float, init: str = "identity", ridge: float = 0.0,
                   momentum: float | str = 0.0, record_every: int = 0, W_ref: torch.Tensor | None = None,
                   progress: bool = False, shape=None):
    """Gradient descent on the exact DSM objective of an affine denoiser, all levels at once (float64).

    Model (Merger & Goldt 2025): a noise predictor eps_hat(x) = A_k (x - mu) + a_k per level s_k, i.e.
    D(x; s_k) = (I - s_k A_k) x + s_k (A_k mu - a_k); the loss is the exact expectation over noise and data (mu,
    Sigma) (:func:`linear_dsm_loss_eps`), so this is full-batch gradient descent. Its optimum is
    W = (Sigma + ridge I)(Sigma + (ridge + s^2) I)^-1 (ridge = 0: Li et al. 2024, Theorem 1). docs/formulas.md.
    init: 'identity' (A = 0, a = 0: D = identity) or 'zero' (W = 0, b = 0). momentum: 0 (plain GD), a number
    (Nesterov), or 'auto' (Nesterov with each level's optimal (sqrt(k) - 1)/(sqrt(k) + 1)). record_every > 0 records
    the loss and ||W - W_ref|| / ||W_ref||. Returns (LinearDenoiser, history)."""
    check_int("steps", steps, low=0)
    check_positive("lr", lr)
    check_positive("ridge", ridge, allow_zero=True)
    check_choice("init", init, {"identity", "zero"})
    if not (momentum == "auto" or (isinstance(momentum, (int, float)) and 0 <= momentum < 1)):
        raise GendiffError(f"momentum must be in [0, 1) or 'auto', got {momentum!r}")
    mu = torch.as_tensor(mu, dtype=torch.float64).reshape(-1)
    Sigma = torch.as_tensor(Sigma, dtype=torch.float64)
    s = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    check_positive("sigmas", s)
    K, d = len(s), mu.numel()
    if Sigma.shape != (d, d):
        raise GendiffError(f"Sigma must be {d} x {d} to match mu, got {tuple(Sigma.shape)}")
    I = torch.eye(d, dtype=torch.float64)
    # Step sizes: the A-block's curvature is 2 (Sigma + (s^2 + ridge) I), so 1/L = 0.5 / (l_max + s^2 + ridge)
    ev = torch.linalg.eigvalsh(Sigma).clamp_min(0)
    lmax, lmin = float(ev.max()), float(ev.min())
    sk = s.reshape(K, 1, 1)
    eta = torch.clamp(0.5 / (lmax + s**2 + ridge), max=lr).reshape(K, 1, 1)
    if momentum == "auto":  # Nesterov's optimal momentum for condition number kappa
        kappa = (lmax + s**2 + ridge) / (lmin + s**2 + ridge)
        beta = ((kappa.sqrt() - 1) / (kappa.sqrt() + 1)).reshape(K, 1, 1)
    else:
        beta = torch.full((K, 1, 1), float(momentum), dtype=torch.float64)
    use_momentum = bool((beta > 0).any())
    # Initialise: A = 0, a = 0 is D = identity; 'zero' is W = 0, b = 0, i.e. A = I / s, a = mu / s
    if init == "identity":
        A, a = torch.zeros(K, d, d, dtype=torch.float64), torch.zeros(K, d, dtype=torch.float64)
    else:
        A, a = (I / sk).clone(), (mu / s.reshape(K, 1)).clone()
    # grad_A L = 2 (A C - s I) with C = Sigma + (s^2 + ridge) I;  grad_a L = 2 a
    C = Sigma[None] + (sk**2 + ridge) * I
    target = sk * I
    V = torch.zeros_like(A)
    hist = {"step": [], "loss": [], "rel_err": []}

    def record(t):
        hist["step"].append(t)
        hist["loss"].append(linear_dsm_loss_eps(A, Sigma, s, ridge) + (a**2).sum(1))
        if W_ref is not None:
            W = I - sk * A
            hist["rel_err"].append(torch.linalg.matrix_norm(W - W_ref) / torch.linalg.matrix_norm(W_ref))

    for t in tqdm(range(steps), disable=not progress, desc="linear DSM", leave=False):
        if record_every and t % record_every == 0:
            record(t)
        if t == 0:
            # Bias step: a's curvature is exactly 2, so step 1/2 reaches its optimum a = 0 at once
            a = a - 0.5 * (2 * a)
        if use_momentum:
            # Nesterov step: gradient at the look-ahead point A + beta V
            grad = 2 * ((A + beta * V) @ C - target)
            V = beta * V - eta * grad
            A = A + V
        else:
            # Gradient step on A, all levels at once: (K, d, d)
            A = A - eta * 2 * (A @ C - target)
    if record_every:
        record(steps)
        hist = {k: (torch.stack(v) if v and torch.is_tensor(v[0]) else torch.tensor(v)) for k, v in hist.items()}
    # Back to the denoiser: W = I - s A, b = s (A mu - a)
    W = I - sk * A
    b = s.reshape(K, 1) * ((A @ mu) - a)
    return LinearDenoiser(s, W, b, shape=shape), hist


def fit_linear_sgd(y: torch.Tensor, sigmas, *, steps: int, batch_size: int = 256, lr: float = 1e-2,
                   seed: int = 0, progress: bool = False):
    """Adam on sampled noise and minibatches (the practical DSM training), one affine map per level, zero init,
    learning rate decayed linearly to 0: minimises E||W_k (y + s_k eps) + b_k - y||^2.
    Returns (LinearDenoiser, loss history)."""
    check_int("steps", steps, low=1)
    check_int("batch_size", batch_size, low=1)
    check_positive("lr", lr)
    yf = flat(y).double()
    s = torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    check_positive("sigmas", s)
    K, d = len(s), yf.shape[1]
    g = torch.Generator().manual_seed(seed)
    W = torch.zeros(K, d, d, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(K, d, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 - t / steps)
    losses = []
    for _ in tqdm(range(steps), disable=not progress, desc="linear SGD", leave=False):
        yb = yf[torch.randint(0, yf.shape[0], (batch_size,), generator=g)]
        x = yb[None] + s.reshape(K, 1, 1) * torch.randn(K, batch_size, d, generator=g, dtype=torch.float64)
        loss = ((x @ W.transpose(1, 2) + b[:, None] - yb[None]) ** 2).sum(-1).mean(1)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
        sched.step()
        losses.append(loss.detach())
    return LinearDenoiser(s, W.detach(), b.detach(), shape=tuple(y.shape[1:])), torch.stack(losses)


def fit_linear_closed_form(y: torch.Tensor, sigmas, **kw) -> LinearDenoiser:
    """Convenience: :meth:`LinearDenoiser.closed_form` from a training set."""
    mu0, Sigma0 = empirical_moments(y)
    return LinearDenoiser.closed_form(mu0, Sigma0, sigmas, shape=tuple(y.shape[1:]), **kw)


