"""Metrics, each formula once (equation numbers of Li et al. 2024; docs/formulas.md)."""
from __future__ import annotations

import math

import torch

from ._checks import GendiffError, check_choice, check_int
from .denoisers.base import flat


def gaussian_kl(m1, S1, m2, S2) -> float:
    """KL(N(m1, S1) || N(m2, S2)) = 1/2 [Tr(S2^-1 S1) - d - ln det(S2^-1 S1) + (m2 - m1)^T S2^-1 (m2 - m1)], float64.
    +inf when S1 is singular (a distribution on a subspace) and S2 is not; raises if S2 is singular."""
    m1, m2 = (torch.as_tensor(m, dtype=torch.float64).reshape(-1) for m in (m1, m2))
    S1, S2 = (torch.as_tensor(S, dtype=torch.float64) for S in (S1, S2))
    d = m1.numel()
    L2, info = torch.linalg.cholesky_ex(S2)
    if info:
        raise GendiffError("gaussian_kl: the second covariance is singular, KL is infinite or undefined")
    L1, info1 = torch.linalg.cholesky_ex(S1)
    if info1:
        ev = torch.linalg.eigvalsh(S1)
        if float(ev.min()) <= d * torch.finfo(torch.float64).eps * float(ev.max()):
            return math.inf
        logdet1 = float(ev.log().sum())
    else:
        logdet1 = 2 * float(L1.diagonal().log().sum())
    logdet2 = 2 * float(L2.diagonal().log().sum())
    tr = float(torch.cholesky_solve(S1, L2).diagonal().sum())
    dm = (m2 - m1)[:, None]
    maha = float((dm * torch.cholesky_solve(dm, L2)).sum())
    return 0.5 * (tr - d - (logdet1 - logdet2) + maha)


def dsm_loss_linear(W, b, mu, Sigma, sigma: float) -> float:
    """Exact denoising loss of D(x) = W x + b at noise sigma on data N(mu, Sigma) (or on any data with these
    moments): E||W (x + s eps) + b - x||^2 = Tr[(W-I) Sigma (W-I)^T] + ||(W-I) mu + b||^2 + s^2 ||W||_F^2.
    Train loss: (mu0, Sigma0); test loss: (mu, Sigma)."""
    W, b, mu, Sigma = (torch.as_tensor(t, dtype=torch.float64).detach() for t in (W, b, mu, Sigma))
    E = W - torch.eye(W.shape[0], dtype=torch.float64)
    return float(torch.trace(E @ Sigma @ E.T) + ((E @ mu + b) ** 2).sum() + sigma**2 * (W**2).sum())


@torch.no_grad()
def score_field_rmse(D1, D2, x: torch.Tensor, sigma: float, *, generator=None, batch_size: int = 512) -> float:
    """Score-field approximation error (Li et al. 2024, eq. 10): E_{x, eps} sqrt(||D1(x + s eps) - D2(x + s eps)||^2 / d) over the
    clean inputs x (one noise draw each, from ``generator``)."""
    total, n = 0.0, x.shape[0]
    gdev = generator.device if generator is not None else "cpu"
    for lo in range(0, n, batch_size):
        xb = x[lo:lo + batch_size]
        z = xb + sigma * torch.randn(xb.shape, generator=generator, device=gdev, dtype=xb.dtype).to(xb.device)
        diff = flat(D1(z, sigma) - D2(z, sigma))
        total += float((diff.pow(2).mean(1)).sqrt().sum())
    return total / n


@torch.no_grad()
def denoiser_mse(D, z: torch.Tensor, sigma, ref: torch.Tensor, *, batch_size: int = 256, per_image: bool = False):
    """Mean squared difference per pixel between D(z; sigma) and a reference output ``ref`` of the same inputs
    (Niedoba et al.'s comparison of a denoiser with a network, on forward- or reverse-process inputs z). With
    ``per_image``, the per-pixel mean of each input image (float64, shape (n,)), whose mean is the scalar form: what a
    bootstrap over the evaluation inputs resamples."""
    per = []
    sig = torch.as_tensor(sigma, dtype=torch.float32).reshape(-1)
    for lo in range(0, z.shape[0], batch_size):
        s = sig if sig.numel() == 1 else sig[lo:lo + batch_size]
        out = D(z[lo:lo + batch_size], s)
        per.append(((flat(out) - flat(ref[lo:lo + batch_size])).double() ** 2).mean(1).cpu())
    per = torch.cat(per)
    return per if per_image else float(per.mean())


@torch.no_grad()
def departure_cosine(A, B, ref, inputs: list, *, band: tuple[float, float] | None = None) -> float:
    """How alike two denoisers depart from a reference: the cosine between A(z) - ref(z) and B(z) - ref(z), all
    inputs (z, sigma) of ``inputs`` (e.g. ``analytic.forward_inputs``) with sigma in ``band`` stacked into one
    vector each. 1: the same departure; 0: unrelated ones; -1: opposite. Ours, beside Niedoba et al. 2025's Fig. 2
    ratio of MSEs, which cannot tell a shared departure from two of a similar size."""
    dot = na = nb = 0.0
    for z, s in inputs:
        if band is not None and not band[0] <= float(s) <= band[1]:
            continue
        r = flat(ref(z, s)).double()
        a, b = flat(A(z, s)).double() - r, flat(B(z, s)).double() - r
        dot, na, nb = dot + float((a * b).sum()), na + float((a * a).sum()), nb + float((b * b).sum())
    if na == 0 or nb == 0:
        raise GendiffError("departure_cosine: no input in the band, or a denoiser equal to the reference there")
    return dot / math.sqrt(na * nb)


@torch.no_grad()
def noise_removed(D, x: torch.Tensor, sigma: float, *, generator=None, batch_size: int = 512) -> float:
    """rms(D(z) - z) / sigma for z = x + sigma * eps: the share of the noise the denoiser removes (after Li et al. 2024,
    App. D and Fig. 15, ||D(z) - z|| against sigma). 0 for the identity; 1 for a denoiser that returns the clean x;
    about d_NN / sigma (unbounded as sigma -> 0) for one that snaps new inputs onto training images."""
    total, n = 0.0, 0
    for lo in range(0, x.shape[0], batch_size):
        xb = x[lo:lo + batch_size]
        eps = torch.randn(xb.shape, generator=generator, device=generator.device if generator is not None else "cpu",
                          dtype=xb.dtype).to(xb.device)
        z = xb + sigma * eps
        total += float((D(z, sigma) - z).double().pow(2).sum())
        n += z.numel()
    return math.sqrt(total / n) / sigma


def heldout_edm_loss(D, y: torch.Tensor, *, repeats: int = 4, seed: int = 0, batch_size: int = 512) -> float:
    """The EDM training loss (eq 8, ``edm.edm_loss``) of D on images y, averaged over ``repeats`` fixed draws of
    (sigma, noise): comparable across nets and snapshots; on held-out images it measures generalization."""
    from .edm import edm_loss

    check_int("repeats", repeats, low=1)
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    for _ in range(repeats):
        for lo in range(0, y.shape[0], batch_size):
            yb = y[lo:lo + batch_size]
            total += float(edm_loss(D, yb, generator=g)) * yb.shape[0]
    return total / (repeats * y.shape[0])


def pixel_rmse(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over items of sqrt(||a_i - b_i||^2 / d): how far two sample sets from the same noise are, per pixel."""
    return float(((flat(a).double() - flat(b).double()) ** 2).mean(1).sqrt().mean())


def nn_rmse(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean over samples x_i of sqrt(||x_i - NN(x_i)||^2 / d), NN the nearest training image in y."""
    return float((nearest_neighbors(x, y)[0][:, 0].double() / math.sqrt(x[0].numel())).mean())


def nearest_neighbors(x: torch.Tensor, y: torch.Tensor, k: int = 1, batch_size: int = 1024):
    """Euclidean (pixel-space) distances and indices of the k nearest rows of y for each row of x: (B, k) each."""
    check_int("k", k, low=1, high=y.shape[0])
    xf, yf = flat(x).double(), flat(y).double()
    y2 = (yf**2).sum(1)
    dists, idxs = [], []
    for lo in range(0, xf.shape[0], batch_size):
        xb = xf[lo:lo + batch_size]
        d2 = ((xb**2).sum(1, keepdim=True) - 2 * xb @ yf.T + y2).clamp_min(0)
        dv, iv = d2.topk(k, dim=1, largest=False)
        dists.append(dv.sqrt())
        idxs.append(iv)
    return torch.cat(dists).to(x.dtype), torch.cat(idxs)


def nn_ratio(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per sample x_i, d1 / d2: its nearest over its second-nearest training distance in y (float64, (B,)); the
    quantity the memorization rule thresholds. Near 0: a near-copy of one training image; near 1: as near one as
    another."""
    d, _ = nearest_neighbors(x, y, k=2)
    return d[:, 0].double() / d[:, 1].double().clamp_min(1e-12)


def memorization_fraction(x: torch.Tensor, y: torch.Tensor, ratio: float = 1 / 3) -> float:
    """Share of samples x whose nearest / second-nearest training distance is < ratio: the memorization rule of Yoon
    et al. 2023 and Gu et al. 2023 (used by Li et al. 2024; docs/formulas.md)."""
    return float((nn_ratio(x, y) < ratio).double().mean())


def near_copy_rate(x: torch.Tensor, y: torch.Tensor, y_ref: torch.Tensor, level=0.05):
    """Share of samples x nearer to the training set y than the ``level`` quantile of new real images' own nearest
    training distances (y_ref, never trained on): a memorization rule calibrated on the data. New images drawn like
    y_ref score ``level`` on average; copies of training images score 1. Unlike d1/d2 < 1/3 it does not depend on
    how near the second training image is. ``level`` may be a list of levels: then a list of shares, from one
    nearest-neighbour search."""
    levels = [level] if isinstance(level, (int, float)) else list(level)
    for lv in levels:
        if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not 0.0 < lv < 1.0:
            raise GendiffError(f"level must be in (0, 1), got {lv!r}")
    d1 = nearest_neighbors(x, y)[0][:, 0].double()
    q = torch.quantile(nearest_neighbors(y_ref, y)[0][:, 0].double(), torch.tensor(levels, dtype=torch.float64))
    shares = [float((d1 < qi).double().mean()) for qi in q]
    return shares[0] if isinstance(level, (int, float)) else shares


def log_crossing(xs, ys, level: float = 0.5) -> float:
    """The first x where a falling curve ys(xs) crosses ``level``, interpolated linearly in log x (N* of a memorized
    share against N); NaN when it never crosses from >= level to < level."""
    import numpy as np

    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    for i in range(len(xs) - 1):
        if ys[i] >= level > ys[i + 1]:
            t = (ys[i] - level) / (ys[i] - ys[i + 1])
            return float(np.exp(np.log(xs[i]) + t * (np.log(xs[i + 1]) - np.log(xs[i]))))
    return float("nan")


def covariance_spectrum(x: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of the sample covariance Sigma0 of the images x (N, ...), largest first (float64, clipped at 0)."""
    y = flat(x).double()
    if y.shape[0] < 2:
        raise GendiffError(f"a covariance spectrum needs at least 2 images, got {y.shape[0]}")
    return torch.linalg.eigvalsh(torch.cov(y.T)).clamp_min(0).flip(0)


def participation_ratio(x: torch.Tensor) -> float:
    """(tr Sigma)^2 / tr(Sigma^2) of the images x (N, ...): the number of directions the data's variance effectively
    spreads over (1 for data on a line, d for isotropic data). A data statistic of Sigma0, next to d."""
    ev = covariance_spectrum(x)
    return float(ev.sum() ** 2 / ev.pow(2).sum())


def fit_power_law(xs, ys) -> tuple[float, float]:
    """(a, b) of y = a x^b, least squares in log-log (a scaling rule such as N* = a d^b); needs two distinct x."""
    import numpy as np

    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if xs.shape != ys.shape or xs.size < 2 or np.any(xs <= 0) or np.any(ys <= 0) or np.ptp(np.log(xs)) == 0:
        raise GendiffError(f"fit_power_law needs >= 2 positive pairs with distinct x, got x={xs.tolist()}, "
                           f"y={ys.tolist()}")
    b, log_a = np.polyfit(np.log(xs), np.log(ys), 1)
    return float(np.exp(log_a)), float(b)


def ssim(a: torch.Tensor, b: torch.Tensor, win_size: int = 7) -> float:
    """Mean structural similarity (Wang et al. 2004) of paired images a_i, b_i in [-1, 1] (data range 2), averaged
    over items and channels: scikit-image's ``structural_similarity`` with its uniform ``win_size`` window (sample
    covariances, K1 = 0.01, K2 = 0.03). 1 for identical images; unlike pixel RMSE it does not reward a blur."""
    from skimage.metrics import structural_similarity

    if a.shape != b.shape or a.dim() != 4:
        raise GendiffError(f"ssim needs two (B, C, H, W) batches of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    A, B = a.detach().cpu().double().numpy(), b.detach().cpu().double().numpy()
    return float(sum(structural_similarity(A[i, c], B[i, c], data_range=2.0, win_size=win_size)
                     for i in range(A.shape[0]) for c in range(A.shape[1])) / (A.shape[0] * A.shape[1]))


@torch.no_grad()
def paired_distances(a: torch.Tensor, b: torch.Tensor, features=None) -> dict:
    """Per pair (a_i, b_i) of samples from the same noise, as float64 arrays: "pixel RMSE", "1 - SSIM" and, given
    ``features`` (images -> (B, k) feature vectors, e.g. a classifier's penultimate layer), "feature RMSE". Their
    means are ``pixel_rmse``, ``1 - ssim`` and ``classifier.feature_rmse``; the rows are what a bootstrap over
    samples resamples."""
    import numpy as np

    if a.shape != b.shape or a.dim() != 4:
        raise GendiffError(f"paired_distances needs two (B, C, H, W) batches of one shape, got {tuple(a.shape)} and "
                           f"{tuple(b.shape)}")
    out = {"pixel RMSE": ((flat(a).double() - flat(b).double()) ** 2).mean(1).sqrt().cpu().numpy(),
           "1 - SSIM": np.array([1 - ssim(a[i:i + 1], b[i:i + 1]) for i in range(a.shape[0])])}
    if features is not None:
        fa, fb = features(a.float()).double(), features(b.float()).double()
        out["feature RMSE"] = ((fa - fb) ** 2).mean(1).sqrt().cpu().numpy()
    return out


@torch.no_grad()
def linearity_score(D, x1: torch.Tensor, x2: torch.Tensor, sigma: float, a: float = 2**-0.5, b: float | None = None,
                    *, center: torch.Tensor | None = None, kind: str = "cos", generator=None) -> float:
    """Linearity score (Li et al. 2024, eq. 11; kind='nmse': eq 12) of D at noise sigma over pairs of clean images x1, x2.

    z_j = x_j + sigma eps_j; with a^2 + b^2 = 1 the combination a z1 + b z2 keeps noise variance sigma^2.
    cos:  E cos(D(a z1 + b z2), a D(z1) + b D(z2));
    nmse: E ||D(a z1 + b z2) - (a D(z1) + b D(z2))|| / ||a D(z1) + b D(z2)|| (normalised by the linear prediction, as
    the authors' code does; eq 12 as printed divides by ||D(a z1 + b z2)||, which differs at second order).
    center=mu scores the centred form: D(mu + a(z1 - mu) + b(z2 - mu)) - mu against a(D(z1) - mu) + b(D(z2) - mu),
    which is exactly 1 for any affine map that fixes mu (D_G), while the paper's raw form is not (a + b != 1)."""
    b = (1 - a * a) ** 0.5 if b is None else b
    if abs(a * a + b * b - 1) > 1e-6:
        raise GendiffError(f"linearity score needs a^2 + b^2 = 1, got a={a}, b={b}")
    if kind not in ("cos", "nmse"):
        raise GendiffError(f"kind must be 'cos' or 'nmse', got {kind!r}")
    gdev = generator.device if generator is not None else "cpu"
    noise = lambda x: torch.randn(x.shape, generator=generator, device=gdev, dtype=x.dtype).to(x.device)  # noqa: E731
    z1, z2 = x1 + sigma * noise(x1), x2 + sigma * noise(x2)
    mu = torch.zeros_like(z1[:1]) if center is None else center.reshape(1, *z1.shape[1:]).to(z1)
    lhs = flat(D(mu + a * (z1 - mu) + b * (z2 - mu), sigma) - mu)
    rhs = flat(a * (D(z1, sigma) - mu) + b * (D(z2, sigma) - mu))
    if kind == "cos":
        return float(torch.nn.functional.cosine_similarity(lhs.double(), rhs.double(), dim=1).mean())
    return float(((lhs - rhs).norm(dim=1) / rhs.norm(dim=1).clamp_min(1e-12)).mean())


def weight_nmse(W, W_ref) -> float:
    """||W - W_ref||_F / ||W_ref||_F: the NMSE between W_L and W_G of Li et al. 2024 (Figs. 3-4), unsquared, as the
    authors compute it (the norm of the difference over the norm of the target)."""
    W, W_ref = (torch.as_tensor(t, dtype=torch.float64).detach() for t in (W, W_ref))
    return float(torch.linalg.matrix_norm(W - W_ref) / torch.linalg.matrix_norm(W_ref))


def nmse_noise_floor(W_a, W_b, W_ref) -> float:
    """The estimation noise of a distilled W, on the scale of ``weight_nmse``: two fits W_a, W_b of the same
    denoiser from independent pools of pairs differ by sqrt(2) times the error of one fit, so
    ||W_a - W_b||_F / (sqrt(2) ||W_ref||_F) is the NMSE that noise alone gives. An NMSE to W_G near this floor says
    nothing about the net; one well above it does."""
    W_a, W_b, W_ref = (torch.as_tensor(t, dtype=torch.float64).detach() for t in (W_a, W_b, W_ref))
    return float(torch.linalg.matrix_norm(W_a - W_b) / (2**0.5 * torch.linalg.matrix_norm(W_ref)))


def singular_vector_alignment(W, U_ref, k: int = 100, rank: int | None = None) -> torch.Tensor:
    """|cos| between the k leading left singular vectors of W and the k leading columns of U_ref (Li et al. 2024, Fig. 4):
    a (k, k) matrix, the identity when they align. ``rank``: the rank of the reference (e.g. N - 1 for the covariance
    of N images); k is cut to it, since columns of U_ref beyond its rank are an arbitrary basis of its null space
    and no W could align with them."""
    W = torch.as_tensor(W, dtype=torch.float64).detach()
    k = min(k, W.shape[0], U_ref.shape[1], *(() if rank is None else (rank,)))
    if k < 1:
        raise GendiffError(f"singular_vector_alignment: nothing to compare (k = {k}, rank = {rank})")
    U, _, _ = torch.linalg.svd(W)
    return (U[:, :k].T @ torch.as_tensor(U_ref, dtype=torch.float64)[:, :k]).abs()


def generalization_score(x: torch.Tensor, y: torch.Tensor) -> float:
    """GL (Li et al. 2024, eq. 14): mean over samples x_i of ||x_i - NN(x_i)|| / ||x_i||, NN the nearest training image in y."""
    d, _ = nearest_neighbors(x, y, k=1)
    return float((d[:, 0].double() / flat(x).double().norm(dim=1).clamp_min(1e-12)).mean())


@torch.no_grad()
def reference_distances(D, refs: dict, x0: torch.Tensor, sigmas, *, generator=None, batch_size: int = 256,
                        per_image: bool = False) -> list:
    """Where a denoiser sits among reference denoisers, and how good each is: on forward-process inputs
    z = x0 + sigma eps (one draw per image and sigma, from ``generator``), the per-image RMSE of D to each reference
    (Li et al. 2024, eq. 10's form) and of D and every reference to the clean image x0, averaged over the images.
    Rows {sigma, of, to, rmse}: ``of`` is 'D' or a reference's name, ``to`` a reference's name or 'clean'. On
    held-out x0 the 'clean' rows say which reference is the better denoiser at each sigma (``worse_band``). With
    ``per_image``, each row also holds ``rmse_i``, the per-image RMSEs (a float64 numpy array whose mean is ``rmse``):
    what a bootstrap over the evaluation images resamples."""
    gdev = generator.device if generator is not None else "cpu"
    rows = []
    for s in [float(v) for v in sigmas]:
        per: dict = {}
        for lo in range(0, x0.shape[0], batch_size):
            xb = x0[lo:lo + batch_size]
            z = xb + s * torch.randn(xb.shape, generator=generator, device=gdev, dtype=xb.dtype).to(xb.device)
            outs = {"D": D(z, s), **{name: R(z, s) for name, R in refs.items()}}
            pairs = [("D", name) for name in refs] + [(name, "clean") for name in outs]
            for a, b in pairs:
                other = xb if b == "clean" else outs[b]
                per.setdefault((a, b), []).append(flat(outs[a] - other).double().pow(2).mean(1).sqrt().cpu())
        for (a, b), parts in per.items():
            r_i = torch.cat(parts)
            rows.append(dict(sigma=s, of=a, to=b, rmse=float(r_i.sum()) / x0.shape[0],
                             **({"rmse_i": r_i.numpy()} if per_image else {})))
    return rows


def band_extreme(per_image, band, stat: str = "margin", idx=None) -> float:
    """Notebook 04's held-out statistics of one net (Li et al. 2024, Figs. 3 and 5, read on new images), from the
    per-image RMSEs of ``reference_distances(per_image=True)`` as a mapping (sigma, to) -> array: over the levels of
    ``band``, the smallest margin RMSE(net, D_M) - RMSE(net, D_G) (``stat="margin"``) or the smallest ratio
    RMSE(net, D_M own) / RMSE(net, D_M unseen) (``"own_vs_unseen"``), on the images ``idx`` (a bootstrap resample;
    None: all). NaN for an empty band."""
    import numpy as np

    check_choice("stat", stat, ("margin", "own_vs_unseen"))
    m = lambda to, sg: float(np.mean(per_image[sg, to] if idx is None else per_image[sg, to][idx]))  # noqa: E731
    vals = [m("D_M", sg) - m("D_G", sg) if stat == "margin" else m("D_M own", sg) / m("D_M unseen", sg)
            for sg in band]
    return min(vals) if vals else float("nan")


CLEARLY_WORSE = 0.05  # worse_band(by=): "clearly the worse denoiser" is at least 5 % farther from the clean images


def worse_band(rows: list, worse: str, better: str, by: float = 0.0) -> list:
    """The sigmas at which reference ``worse`` is farther from the clean images than ``better`` (rows from
    ``reference_distances`` on held-out images): e.g. the band where D_M is the worse held-out denoiser, in which a
    net drifting toward D_M cannot be mistaken for a better denoiser. With ``by`` > 0, only the levels where it is
    farther by more than that fraction (RMSE_worse > (1 + by) RMSE_better, e.g. ``CLEARLY_WORSE``): at high noise both
    references give nearly the mean image, and a level where they differ by 1e-4 cannot say which one a net is
    nearer."""
    if not 0 <= by < 10:
        raise GendiffError(f"worse_band: by must be a fraction in [0, 10), got {by!r}")
    clean = {(r["sigma"], r["of"]): r["rmse"] for r in rows if r["to"] == "clean"}
    sigmas = sorted({r["sigma"] for r in rows}, reverse=True)
    return [s for s in sigmas if clean[(s, worse)] > (1 + by) * clean[(s, better)]]
