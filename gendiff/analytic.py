"""The training-free denoisers of the study, calibrated to a trained net and cached next to it (Niedoba et al. 2025, §3).

``heatmaps`` and ``calibrated`` are computed once per (net, settings) and stored with the net (``cache.derived``), so
notebooks 09-11 share them; so are the denoisers' MSE curves against the net (``cached_mse``) and their samples
(``cached_samples``), keyed by their inputs and the source of the code that computes them. Calibration uses
forward-process inputs built from *held-out* images; the notebooks evaluate on other inputs (training images'
forward process, the net's own reverse trajectories)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from . import edm
from .cache import derived, digest, source_digest
from .denoisers import (ELSDenoiser, EmpiricalDenoiser, GaussianDenoiser, PSPCFlex, PSPCSquare, Schedule,
                        SmoothedEmpiricalDenoiser, TemperedEmpiricalDenoiser)
from .denoisers.net import LearnedPart
from .locality import calibrate, sensitivity_heatmaps
from .progress import tqdm

FLEX_LAMBDAS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1.0)
SMOOTH_ALPHAS = (0.05, 0.1, 0.2, 0.4)


def square_sizes(side: int) -> list[int]:
    """Odd patch sizes up to the image side, and the side itself (= D_M)."""
    return sorted(set(list(range(1, side, 2)) + [side]))


def els_sizes(side: int) -> list[int]:
    """The ELS candidates: the same patch sizes as PSPC-Square's, odd only (an ELS patch is centred on its pixel)."""
    return [s for s in square_sizes(side) if s % 2 == 1]


def heatmaps(cfg, net, x0: torch.Tensor, sigmas, *, snapshot=None, seed: int = 0, progress: bool = True,
             part: str = "denoiser"):
    """Sensitivity heatmaps (Niedoba et al. 2025, eq. 8) of the net at each sigma, averaged over forward-process inputs from x0:
    (L, H, W, H, W), cached with the net. part='denoiser' differentiates the whole D = c_skip x + c_out F (eq. 8 as
    printed); part='network' only the learned term D - c_skip x (``denoisers.net.LearnedPart``), without the skip path."""
    from ._checks import check_choice

    check_choice("part", part, {"denoiser", "network"})
    sigmas = [float(s) for s in sigmas]
    D = net if part == "denoiser" else LearnedPart(net)  # any Denoiser, a pretrained one too: D - c_skip x

    def compute():
        return torch.stack([sensitivity_heatmaps(D, x0, s, generator=torch.Generator().manual_seed(seed + i))
                            for i, s in enumerate(tqdm(sigmas, desc="heatmaps", disable=not progress))]).float()

    params = dict(sigmas=sigmas, x0=float(x0.double().sum()), n=x0.shape[0], seed=seed, snapshot=snapshot)
    if part != "denoiser":  # the denoiser's maps keep the key they were cached under
        params["part"] = part
    return derived(cfg, "heatmaps", params, compute)


@dataclass(frozen=True)
class Family:
    """A training-free denoiser calibrated to a net: ``build(y, heat, sigmas, value)`` makes it for one calibrated
    value (a candidate, or a ``Schedule`` of them over sigma); ``candidates(side)`` lists what calibration tries.
    ``per_sigma``: a value per sigma (else the one value with the best mean over sigma); ``n_inputs``: calibrate on
    the first n inputs only (a costly denoiser); ``key`` / ``table``: where ``calibrated()`` stores its values and its
    MSE table. ``analytic.register(Family(...))`` adds one to notebooks 10 and 11 without editing this module."""

    name: str
    key: str
    build: Callable
    candidates: Callable
    per_sigma: bool = True
    n_inputs: int | None = None
    table: str = ""


# D_M with a calibrated temperature per sigma: the same freedom as PSPC-Square's size per sigma (ours), so that the
# patch composites are compared with D_M at equal freedom (tau = 1 is D_M itself).
TEMPERATURES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
TEMPERED_DM = Family("tempered D_M", "tau", lambda y, heat, s, v: TemperedEmpiricalDenoiser(y, v),
                     lambda side: TEMPERATURES)
# ELS as Kamb & Ganguli 2025 define it (circular padding: wrapped queries, wholly-inside training patches); its key
# differs from the zero-padded machine's, so calibrations cached for one are never served for the other.
ELS_AUTHORS = Family("ELS", "els_circ", lambda y, heat, s, v: ELSDenoiser(y, v, padding="circular"), els_sizes,
                     n_inputs=8)
# Our zero-padded variant (every position's patch, padding included), which notebooks 10-11 used until the
# authors' definition was built: not registered by default; ``register(ELS_ZERO_PADDED)`` adds it beside.
ELS_ZERO_PADDED = Family("ELS (zero padding, ours)", "els", lambda y, heat, s, v: ELSDenoiser(y, v), els_sizes,
                         n_inputs=8)

FAMILIES: list[Family] = [
    Family("PSPC-Square", "square", lambda y, heat, s, v: PSPCSquare(y, v), square_sizes),
    Family("PSPC-Flex", "flex", lambda y, heat, s, v: PSPCFlex(y, heat, s, v), lambda side: FLEX_LAMBDAS),
    Family("smoothed D_M", "alpha", lambda y, heat, s, v: SmoothedEmpiricalDenoiser(y, v, n_draws=8),
           lambda side: SMOOTH_ALPHAS, per_sigma=False, table="smoothed"),
    ELS_AUTHORS,
    TEMPERED_DM,
]
ELS_KEYS = ("els", "els_circ")  # the ELS families: the costliest, calibrated on the first n_els inputs

_KEY_ORDER = ["square", "flex", "els", "alpha", "els_circ", "tau"]  # the digest's order of the keys


def register(family: Family) -> None:
    """Add a calibrated denoiser family (after the built-in ones; a name or key used already is refused)."""
    from ._checks import GendiffError

    if any(f.name == family.name or f.key == family.key for f in FAMILIES) or family.key in ("sigmas", "tables"):
        raise GendiffError(f"a denoiser family named {family.name!r} or keyed {family.key!r} is registered already")
    FAMILIES.append(family)
    _KEY_ORDER.append(family.key)


def calibrated(cfg, net, y: torch.Tensor, x_cal: torch.Tensor, sigmas, heat: torch.Tensor, *, snapshot=None,
               seed: int = 0, els: bool = True, n_els: int = 8):
    """For every registered family (``FAMILIES``): per sigma, the candidate nearest the net in MSE on
    forward-process inputs x_cal (held out), or one value for all sigma (its best mean over sigma): the PSPC-Square
    size, PSPC-Flex fraction, ELS size (from the first ``n_els`` inputs, the costliest; ``els=False`` skips it) and
    the smoothing alpha of the smoothed D_M. Returns {"sigmas", <family key>: values, "tables": {<key or table>:
    MSE table}}; cached with the net."""
    sigmas = [float(s) for s in sigmas]
    side = y.shape[-1]
    families = [f for f in FAMILIES if els or f.key not in ELS_KEYS]

    def compute():
        g = torch.Generator().manual_seed(seed)
        out = {"sigmas": sigmas, "tables": {}}
        for f in families:
            n = n_els if f.key in ELS_KEYS else f.n_inputs
            best, t = calibrate(lambda v, f=f: f.build(y, heat, sigmas, v), f.candidates(side), net,
                                x_cal if n is None else x_cal[:n], sigmas, generator=g)
            out["tables"][f.table or f.key] = t
            out[f.key] = best if f.per_sigma else min(f.candidates(side), key=lambda v: sum(row[v] for row in t.values()))
        return out

    params = dict(sigmas=sigmas, y=float(y.double().sum()), x_cal=float(x_cal.double().sum()), n=x_cal.shape[0],
                  heat=float(heat.double().sum()), seed=seed, els=els, n_els=n_els, snapshot=snapshot,
                  cands=[f.candidates(side) for f in FAMILIES])
    if len(FAMILIES) > 4:  # a registered family: its name belongs to the key (its candidates are in cands)
        params["families"] = [f.key for f in FAMILIES]
    return derived(cfg, "calibrated", params, compute)


class AnalyticDenoisers(dict):
    """{name: Denoiser}, with ``key``: a digest of what built them (training set, calibration, heatmaps)."""

    key: str = ""


def analytic_denoisers(y: torch.Tensor, cal: dict, heat: torch.Tensor) -> AnalyticDenoisers:
    """Every training-free denoiser for training set y, with the calibrated values ``cal``: D_G, D_M and every
    registered family that ``cal`` calibrated, {name: Denoiser}."""
    s = cal["sigmas"]
    out = AnalyticDenoisers()
    keys = ["sigmas"] + sorted((f.key for f in FAMILIES if f.key in cal), key=_KEY_ORDER.index)
    out.key = digest(y, heat, {k: cal[k] for k in keys})
    out |= {"D_G": GaussianDenoiser.from_data(y), "D_M": EmpiricalDenoiser(y)}
    for f in FAMILIES:
        if f.key in cal:
            out[f.name] = f.build(y, heat, s, Schedule(s, cal[f.key]) if f.per_sigma else cal[f.key])
    return out


def check_disjoint(x_eval: torch.Tensor, x_cal: torch.Tensor) -> None:
    """Refuse evaluation images that are also calibration images: a schedule calibrated on the inputs it is scored
    on favours itself (the full image is among the PSPC-Square candidates, so PSPC-Square <= D_M there by
    construction). Compares the images exactly."""
    cal = {tuple(r.tolist()) for r in x_cal.reshape(x_cal.shape[0], -1).double()}
    shared = sum(tuple(r.tolist()) in cal for r in x_eval.reshape(x_eval.shape[0], -1).double())
    if shared:
        from ._checks import GendiffError

        raise GendiffError(f"{shared} of the {x_eval.shape[0]} evaluation images are calibration images; "
                           "calibrate on held-out images")


def forward_inputs(x0: torch.Tensor, sigmas, *, seed: int = 0) -> list:
    """Forward-process inputs [(x0 + sigma eps, sigma)], one fixed noise draw per sigma level."""
    g = torch.Generator().manual_seed(seed)
    return [(x0 + float(s) * torch.randn(x0.shape, generator=g).to(x0.device), float(s)) for s in sigmas]


@torch.no_grad()
def reverse_inputs(net, x_T: torch.Tensor, num_steps: int = 18) -> list:
    """The net's own reverse-process states [(x_t, t)] along its Heun trajectory from x_T (t > 0 only)."""
    from .edm import sampling_steps
    from .sampling import edm_sampler

    _, traj = edm_sampler(net, x_T, num_steps=num_steps, return_trajectory=True)
    return [(x, float(t)) for x, t in zip(traj, sampling_steps(num_steps).tolist()) if t > 0]


# The ELS machine compares every query patch with every patch of every training image at every position (N H W of
# them): it is scored on the first few inputs of each batch only (its MSE is noisier, not biased).
EVAL_LIMITS = {"ELS": 8, "ELS (zero padding, ours)": 8}


@torch.no_grad()
def mse_to(ref, denoisers: dict, inputs: list, *, limits: dict | None = None, progress: bool = False,
           per_image: bool = False) -> dict:
    """MSE per pixel between each denoiser and the reference (a net) on each (z, sigma): {name: [mse per input]}
    (with ``per_image``, each entry the (n,) tensor of its images' MSEs). ``limits`` {name: n} scores a costly
    denoiser on the first n items of each batch (default EVAL_LIMITS)."""
    from .metrics import denoiser_mse

    limits = EVAL_LIMITS if limits is None else limits
    out = {name: [] for name in denoisers}
    for z, s in tqdm(inputs, desc="MSE vs σ", disable=not progress):
        r = ref(z, s)
        for name, D in denoisers.items():
            n = limits.get(name, z.shape[0])
            out[name].append(denoiser_mse(D, z[:n], s, r[:n], per_image=per_image))
    return out


def band_means(per_image: dict, sigmas, band: str, idx=None) -> dict:
    """{name: ``edm.band_mean`` of its per-level mean MSE} from ``cached_mse(..., per_image=True)`` (or its arrays
    stacked to (levels, images), which is faster in a bootstrap loop), over the images
    ``idx`` (a resample of the evaluation inputs' indices; None: all). A denoiser scored on fewer images
    (EVAL_LIMITS) averages the resampled indices that fall among its own (all of its own if none does), so every
    denoiser sees the same resample where it can."""
    import numpy as np

    out = {}
    for name, vs in per_image.items():
        a = vs if isinstance(vs, np.ndarray) else np.stack([np.asarray(v, dtype=float) for v in vs])  # (levels, images)
        if idx is not None:
            k = np.asarray(idx)[np.asarray(idx) < a.shape[1]]
            a = a[:, k] if k.size else a
        out[name] = edm.band_mean(a.mean(1), sigmas, band)
    return out


def _code(what: str = "samples") -> str:
    """The source the cached samples depend on (the denoisers, the sampler, EDM), and for the MSE curves also the
    metric that scores them: editing another metric recomputes neither."""
    import inspect

    from . import denoisers, edm, metrics, sampling

    code = source_digest(denoisers, edm, sampling)
    return code if what == "samples" else digest(code, inspect.getsource(metrics.denoiser_mse))


def _check_keyed(dens) -> None:
    if not isinstance(dens, AnalyticDenoisers):
        from ._checks import GendiffError

        raise GendiffError("dens: pass the dict analytic_denoisers() returns (its key names what built them); "
                           "for other denoisers call mse_to / edm_sampler directly")


def cached_mse(cfg, net, dens: AnalyticDenoisers, inputs: list, *, snapshot=None, limits: dict | None = None,
               per_image: bool = False) -> dict:
    """``mse_to(net, dens, inputs)``, one cached result per denoiser, stored with the net of ``cfg``: ELS alone takes
    about a minute per net on two cores, and notebooks 10-11 score the same nets on the same inputs. The cache holds
    each image's MSE; ``per_image`` returns those ({name: [(n,) tensor per input]}), else their means per input."""
    _check_keyed(dens)
    limits = EVAL_LIMITS if limits is None else limits
    key = digest(*[t for z, s in inputs for t in (z, float(s))])
    per = {name: derived(cfg, f"mse-{name}", dict(denoiser=name, built=dens.key, inputs=key, limit=limits.get(name),
                                                   snapshot=snapshot, code=_code("mse"), form="per image"),
                         lambda name=name, D=D: mse_to(net, {name: D}, inputs, limits=limits, per_image=True)[name])
           for name, D in dens.items()}
    return per if per_image else {name: [float(v.mean()) for v in vs] for name, vs in per.items()}


def cached_samples(cfg, dens: AnalyticDenoisers, x_T: torch.Tensor, *, num_steps: int = 18, snapshot=None) -> dict:
    """Samples of every denoiser of ``dens`` from the shared noise x_T (EDM Heun sampler, num_steps, clamped to
    [-1, 1]), one cached result per denoiser, stored with the net of ``cfg``."""
    from .sampling import edm_sampler

    _check_keyed(dens)
    key = digest(x_T)
    return {name: derived(cfg, f"samples-{name}", dict(denoiser=name, built=dens.key, x_T=key, num_steps=num_steps,
                                                        snapshot=snapshot, code=_code("samples")),
                          lambda D=D: edm_sampler(D, x_T, num_steps=num_steps).clamp(-1, 1))
            for name, D in dens.items()}
