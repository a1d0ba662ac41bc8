# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · The hidden Gaussian structure of trained denoisers (Li et al. 2024, Figs 2–5, App D)
#
# **Claims (Li, Dai & Qu 2024).**
# - **Fig 3.** The best linear fit to a trained net, $D_L$ (linear distillation, eq 8–9), matches the net at high
#   noise $[20,80]$ and low noise $[0.002,0.1]$ (RMSE, eq 10, < 0.05). In between the net is clearly non-linear.
# - **Figs 3–4.** $D_L$ is close to the Gaussian denoiser $D_G$ at all noise levels (RMSE < 0.05). Their weights
#   agree, with NMSE$(W_L,W_G)<0.2$ for most σ, and the leading singular vectors of $W_L$ align with those of $D_G$.
# - **Fig 5.** In the memorization regime (small $N$) all of this breaks.
# - **App D (Fig 15).** At low noise the networks approach the identity.
#
# **Our setting vs the paper's.** The nets of notebook 03 are reused from the cache: MNIST 16×16, UNet2DModel with
# channels (16, 32, 32), trained for 1200 steps. The generalizing net is trained on $N=4096$, the memorizing one on
# $N=16$. The paper uses FFHQ 64×64, channel base 128 and far longer training. Distillation uses 4096 pairs
# $(z, D(z))$ per σ. It is solved in closed form (least squares) and, for the $W_L\to W_G$ curves, by the paper's
# Algorithm 1 (Adam, batch 256, its per-σ learning rates) on the same fixed pool.

# %% tags=["parameters"]
profile = "default"
results_dir = None  # where the claims are recorded (null: runs/<profile>/results)
seed = 0
seeds = [0, 1, 2]  # training seeds: every verdict is a mean with its 95 % t-interval over them
dataset = "mnist"
size = 16
data_path = None  # for the folder and npz datasets
N_gen = 4096
N_mem = 16
channels = 16
steps = 1200
n_eval = 256  # clean training images per RMSE estimate
n_distill = 4096  # (z, D(z)) pairs per sigma
adam_epochs = 100  # the paper's
adam_sigmas = [4.07, 1.5, 0.47]
n_samples = 8
sv_k = 50
n_ref = 512  # images of D_M^own and D_M^unseen (at most N; the unseen ones: outside training and held-out sets)
P_std_wide = 2.4  # section 5: the wider training-noise law, ln sigma ~ N(P_mean, P_std_wide^2)


# %% [markdown]
# ## Claims, declared before anything is computed
# Every statistic is computed per training seed (initialisation and noise stream; the same data, the same pairs for
# the distillation, the same evaluation noise) and reported as the mean with its 95 % Student-t interval over
# seeds; a test *holds* when the whole interval is on the declared side, *differs* when it is wholly on the other
# side, *inconclusive* otherwise. The nets are shared with notebook 03. The figures of Algorithm 1, the singular
# vectors and the samples (sections 2-3) show the first seed's nets. The paper's thresholds are fixed here as the
# paper states them. Bundled checks of earlier versions are separate rows: the paper's pattern for the generalizing
# net, the memorizing net's side, and the linear structure of W_L.
#
# One more claim tests our own explanation of a `differs` row rather than the paper: section 5 retrains the
# generalizing net with a wider training-noise law and asks whether $D_L$'s high-noise gap to $D_G$ closes.
#
# **Where the references differ (`001-gauss-vs-mem-heldout-clear`, declared after this notebook's previous run).**
# That run decided `001-gauss-vs-mem-heldout` at its highest band level, where $D_M$ was the worse denoiser of the new
# images by a hair (the reading below renders by how much): there both references give nearly the mean image, and no
# margin can say which one a net is nearer. The band of the new row keeps only the levels where $D_M$ is *clearly*
# the worse denoiser, at least `metrics.CLEARLY_WORSE` (5 %) farther from the clean images than $D_G$; the
# statistics, tests and wrong world are those of `001-gauss-vs-mem-heldout`, which it supersedes. The band is decided from the references alone, never from
# a net, and notebook 07 reads its budget chain on the same statistic. Its intervals add a second source of variation
# that costs no training: each is the hull (`Estimate.hull`) of the t-interval over seeds and a percentile bootstrap
# over the held-out images (the same resample at every level, seed and reference).

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("04_gaussian_structure", profile, results_dir)
RMSE_PAPER, NMSE_PAPER = 0.05, 0.2  # Li et al. 2024, Figs. 3-4
LI = "Li et al. 2024"
claims.declare("001-rmse-DL-net", "Linear distillation D_L matches the net at high [20, 80] and low [0.002, 0.1] noise",
               source=f"{LI}, Fig. 3", paper=f"RMSE < {RMSE_PAPER}", kind="reproduction", over="seeds",
               statistic="per training seed, the largest RMSE(D_L, net) per band",
               tests={"high": below(RMSE_PAPER), "low": below(RMSE_PAPER)},
               differs="the net is not linear even where the paper finds it so", superseded_by="001-rmse-DL-net-band")
claims.declare("001-rmse-DL-net-band", "Linear distillation D_L matches the net at high noise [20, 80] and at low noise "
               "where a non-linear net would not", source=f"{LI}, Fig. 3", paper=f"RMSE < {RMSE_PAPER}",
               kind="reproduction", over="seeds",
               statistic="per training seed, the largest RMSE(D_L, net) over the grid levels in [20, 80] (high) and in "
                         "[0.02, 0.12] (low: the paper's [0.002, 0.1] with its top end at the nearest grid level, 0.117, "
                         "and without sigma = 0.002, where EDM's skip path makes every net nearly the identity, so "
                         "nearly linear)",
               tests={"high": below(RMSE_PAPER), "low": below(RMSE_PAPER)},
               wrong_world="a net that is not linear there: the memorizing net (N_mem) of the same seed, distilled and "
                           "scored the same way",
               differs="the net is not linear at the low end of the paper's band at our scale")
claims.declare("001-DL-DG", "D_L is close to D_G at all noise levels; weight NMSE(W_L, W_G) < 0.2 for most sigma",
               source=f"{LI}, Figs. 3-4", paper=f"RMSE < {RMSE_PAPER}, NMSE < {NMSE_PAPER}", kind="reproduction",
               statistic="per training seed, rmse_max: largest RMSE(D_L, D_G) over sigma; levels_ok: levels (of 10) "
                         "whose NMSE (unsquared, as the authors compute it) is < 0.2 once the estimation floor f of "
                         "W_L is removed, sqrt(NMSE^2 - f^2); mean and 95 % t-interval over seeds",
               tests={"rmse_max": below(RMSE_PAPER), "levels_ok": above(6.5)},
               differs="the net's linear part is not the Gaussian denoiser of its training set (section 5 tests "
                       "whether sparse training at high noise explains the high-noise gap: 001-noise-coverage)")
claims.declare("001-gauss-vs-mem", "At intermediate noise a generalizing net sits closer to D_G than to D_M",
               source=f"{LI}, Figs. 3 and 5", paper="qualitative", kind="reproduction",
               superseded_by="001-gauss-vs-mem-heldout",
               statistic="per training seed, margin: smallest RMSE(net, D_M) - RMSE(net, D_G) at sigma = 1.5 and 0.47 "
                         "(training inputs); mean and 95 % t-interval over seeds",
               tests={"margin": above(0.0)},
               differs="the generalizing net is at least as near the memorizing optimum (whether more training "
                       "changes that is tested by notebook 07's budget ladder, 001-budget-gen)")
claims.declare("001-mem-near-DM", "A memorizing net sits closer to D_M than to D_G, and much closer to D_M than the "
               "generalizing net", source=f"{LI}, Fig. 5", paper="qualitative",
               statistic="per training seed, margin: smallest RMSE(net, D_G) - RMSE(net, D_M) at sigma = 1.5, "
                         "0.47; ratio: largest RMSE(mem. net, D_M) / RMSE(gen. net, D_M) (nets of the same seed); "
                         "mean and 95 % t-interval over seeds",
               tests={"margin": above(0.0), "ratio": below(0.5)},
               differs="small-N nets do not copy their training set (no memorization regime at this budget)",
               kind="reproduction", superseded_by="001-mem-near-DM-heldout")
BAND = (0.1, 20)  # the paper's intermediate range (Fig. 3), where the net is non-linear
HELDOUT = ("on held-out inputs z = x + sigma eps (x: images no net saw), over a band declared from the data alone: the "
           "grid levels in the paper's intermediate range [0.1, 20] at which the net's own D_M is farther from the "
           "clean images than its D_G (metrics.worse_band), where drifting toward D_M cannot pass for denoising "
           "better; D_M^own is built on n_ref of the net's training images, D_M^unseen on as many real images outside "
           "its training and held-out sets (NetConfig.unseen: a population proxy)")
claims.declare("001-gauss-vs-mem-heldout", "On new images, where D_M is the worse denoiser, a generalizing net sits "
               "closer to D_G than to D_M, and no closer to its own training images than to other real ones",
               source=f"{LI}, Figs. 3 and 5", paper="qualitative", kind="reproduction", over="seeds",
               statistic=f"{HELDOUT}. Per training seed, margin: the smallest RMSE(net, D_M) - RMSE(net, D_G) over the "
                         "band; own_vs_unseen: the smallest RMSE(net, D_M^own) / RMSE(net, D_M^unseen) over the band",
               tests={"margin": above(0.0), "own_vs_unseen": above(0.8)},
               wrong_world="a net that memorizes: the memorizing net (N_mem) of the same seed, read the same way "
                           "against its own D_G and D_M", superseded_by="001-gauss-vs-mem-heldout-clear",
               differs="on new images the generalizing net leans toward the memorizing optimum or its own training set")
claims.declare("001-gauss-vs-mem-heldout-clear", "On new images, where D_M is clearly the worse denoiser, a "
               "generalizing net sits closer to D_G than to D_M, and no closer to its own training images than to "
               "other real ones", source=f"{LI}, Figs. 3 and 5", paper="qualitative", kind="reproduction",
               statistic=f"{HELDOUT}, keeping only the levels where D_M is farther from the clean images than D_G by "
                         "more than metrics.CLEARLY_WORSE (5 %). Per training seed, margin: the smallest RMSE(net, D_M) "
                         "- RMSE(net, D_G) over that band; own_vs_unseen: the smallest RMSE(net, D_M^own) / "
                         "RMSE(net, D_M^unseen) over it; mean over seeds, its interval the hull of the 95 % t-interval "
                         "over seeds and a percentile bootstrap over the held-out images",
               tests={"margin": above(0.0), "own_vs_unseen": above(0.8)},
               wrong_world="a net that memorizes: the memorizing net (N_mem) of the same seed, read the same way "
                           "against its own D_G and D_M and its own band",
               differs="on new images the generalizing net leans toward the memorizing optimum or its own training set")
claims.declare("001-mem-near-DM-heldout", "On new images a memorizing net sits closer to its D_M than to its D_G, and "
               "much closer to its own training images than to other real ones", source=f"{LI}, Fig. 5",
               paper="qualitative", kind="reproduction", over="seeds",
               statistic=f"{HELDOUT}. Per training seed, for the memorizing net, margin: the smallest RMSE(net, D_G) - "
                         "RMSE(net, D_M) over its band; own_vs_unseen: the largest RMSE(net, D_M^own) / "
                         "RMSE(net, D_M^unseen) over its band",
               tests={"margin": above(0.0), "own_vs_unseen": below(0.5)},
               wrong_world="a net that generalizes: the generalizing net (N_gen) of the same seed, read the same way",
               differs="small-N nets do not copy their training set at this budget")
claims.declare("001-WL-structure", "W_L of the generalizing net is closer to its W_G than the memorizing net's",
               source=f"{LI}, Fig. 4", paper="qualitative", kind="reproduction",
               statistic="per training seed, margin: smallest NMSE(mem.) - NMSE(gen.) at sigma = 1.5 and 0.47; "
                         "mean and 95 % t-interval over seeds",
               tests={"margin": above(0.0)}, differs="the Gaussian structure does not depend on the regime")
K_SV = min(sv_k, N_mem - 1, N_gen - 1)  # one k for both nets: the memorizing W_G has rank N_mem - 1
claims.declare("001-sv-align", "The leading singular vectors of W_L align better with D_G's in the generalizing net "
               "than in the memorizing one", source=f"{LI}, Fig. 4 (right) and Fig. 5", paper="qualitative",
               kind="reproduction", over="seeds",
               statistic=f"per training seed, at sigma = 1.5 and 0.47, the mean |cos| between the i-th left singular "
                         f"vectors of W_L and of W_G for i <= k = {K_SV}, the same k for both nets; margin: the smaller "
                         "over the two levels of (generalizing - memorizing)",
               tests={"margin": above(0.0)}, differs="the alignment does not depend on the regime")
claims.declare("001-identity", "At low noise the networks approach the identity map", source=f"{LI}, App. D, Fig. 15",
               paper="qualitative", kind="reproduction", superseded_by="001-identity-gen",
               statistic="per training seed and net (generalizing, memorizing), slope: log-log slope of the share of "
                         "the noise removed, r = ||D(z) - z|| / (sigma sqrt d) on held-out inputs, against sigma over "
                         "sigma <= 0.1; the smaller of the two nets' slopes; mean and 95 % t-interval over seeds. "
                         "Control: the same slope for D_M (data only)",
               tests={"slope": above(0.0), "dm_slope": below(0.0)},
               differs="at low noise the nets keep removing the noise or pull inputs to training images")
claims.declare("001-identity-gen", "At low noise a generalizing net approaches the identity map",
               source=f"{LI}, App. D, Fig. 15", paper="qualitative", kind="reproduction", over="seeds",
               statistic="per training seed, slope: the log-log slope of r(sigma) = ||D(z) - z|| / (sigma sqrt d) of the "
                         "generalizing net on held-out inputs over sigma <= 0.1 (the memorizing net's slope is shown "
                         "beside it as a contrast, not tested)",
               tests={"slope": above(0.0)},
               wrong_world="a denoiser that pulls new inputs onto training images: D_M of the generalizing net's "
                           "training set, read the same way",
               differs="at low noise the generalizing net keeps removing the noise or pulls inputs to training images")
claims.declare("001-noise-coverage", "The high-noise gap between D_L and D_G comes from nets rarely trained at high noise: "
               "a wider training-noise law closes it by at least half", source="ours: tests the explanation of 001-DL-DG",
               paper="(not in the paper)",
               statistic="per training seed, ratio: largest RMSE(D_L, D_G) over sigma >= 20 of the generalizing net "
                         "trained with ln sigma ~ N(P_mean, P_std_wide^2), over the same for the default law (same "
                         "seed, data, steps); mean and 95 % t-interval over seeds",
               tests={"ratio": below(0.5)},
               differs="under-training at high noise explains less than half of the gap", explains="001-DL-DG",
               kind="extension")

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from gendiff import edm
from gendiff.cache import get_model
from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser
from gendiff.device import stream, stream_seed
from gendiff.distill import distill_adam, distill_cached, distill_lstsq, distill_pairs, paper_distill_lr
from gendiff.metrics import (CLEARLY_WORSE, band_extreme, noise_removed, nmse_noise_floor, reference_distances,
                             score_field_rmse, singular_vector_alignment, weight_nmse, worse_band)
from gendiff.plots import image_grid, style, t_ci
from gendiff.progress import tqdm
from gendiff.sampling import edm_sampler, initial_noise
from gendiff.zoo import NetConfig

style()
sigmas = edm.sigma_grid(10).tolist()
regimes = {"generalizing": N_gen, "memorizing": N_mem}


def net_config(N, s_, **kw):  # the nets of notebook 03 (and, with P_std=..., section 5's)
    return NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, channels=channels, steps=steps, seed=s_,
                     **kw)


M = {}
for name, N in regimes.items():
    cfg = net_config(N, seed)
    net, info = get_model(cfg)
    y, y_out = cfg.split(n_eval)
    M[name] = dict(N=N, net=net, y=y, y_out=y_out, G=GaussianDenoiser.from_data(y), E=EmpiricalDenoiser(y))
    k_ref = min(n_ref, N)  # D_M on k_ref of its training images, and on as many real images it never saw
    M[name].update(E_own=EmpiricalDenoiser(y[:k_ref]), E_unseen=EmpiricalDenoiser(cfg.unseen(k_ref, n_eval)))
    print(f"{name}: N = {N}, trained now: {info['trained']}")
nets = {(name, seed): m["net"] for name, m in M.items()}


def net_of(name, s_):  # the trained net of a regime at a training seed, loaded from the cache once
    if (name, s_) not in nets:
        nets[name, s_] = get_model(net_config(M[name]["N"], s_))[0]
    return nets[name, s_]

# %% [markdown]
# ## 1. RMSE vs σ: $D_L$, $D_G$ and $D_M$ against the net (eq 10)
# $D_L$ is distilled at the 10 levels from *held-out* images plus noise, as the authors do (a test split, or
# Celeb-HQ for FFHQ nets): for a memorizing net, training images would ask a different question. The RMSE inputs
# are training images plus fresh noise, the same draw for every denoiser and seed, as in eq 10. Dashed: $D_G$ and
# $D_M$ against the net on held-out images. Every net is distilled twice, from two independent pools of pairs: the
# second fit tells how far $W_L$ moves from estimation noise alone (section 2). Lines: mean over training seeds;
# bands: 95 % t-interval.

# %%
RMSE_KEYS = ("D_L", "D_G", "D_M", "D_L vs D_G", "D_G held-out", "D_M held-out")


def distillation_rows(cfg, net, m, s_, label):
    """One row per sigma for the trained net of ``cfg``: RMSEs (eq 10), NMSE(W_L, W_G), its estimation floor and the
    singular-vector alignment; returns (rows, D_L). ``m`` holds the net's data and its D_G, D_M. Both
    distillations are cached with the net (``distill_cached``)."""
    L = distill_cached(cfg, net, m["y_out"], sigmas, n_pairs=n_distill, seed=seed)
    L2 = distill_cached(cfg, net, m["y_out"], sigmas, n_pairs=n_distill, seed=stream_seed(seed, "distill", 1))
    x_eval = m["y"][torch.randint(0, m["y"].shape[0], (n_eval,), generator=stream(seed, "eval", 1))]
    rank = min(m["N"] - 1, m["G"].U.shape[0])  # directions of W_G beyond rank(Sigma0) are an arbitrary basis
    rows = []
    for k, sg in enumerate(sigmas):
        gen = lambda: stream(seed, "eval")  # noqa: E731  the same noise for every denoiser and seed
        W_G = m["G"].wiener(sg)[0]
        row = {"seed": s_, "net": label, "sigma": sg,
               "D_L": score_field_rmse(L, net, x_eval, sg, generator=gen()),
               "D_G": score_field_rmse(m["G"], net, x_eval, sg, generator=gen()),
               "D_M": score_field_rmse(m["E"], net, x_eval, sg, generator=gen()),
               "D_L vs D_G": score_field_rmse(L, m["G"], x_eval, sg, generator=gen()),
               "D_G held-out": score_field_rmse(m["G"], net, m["y_out"], sg, generator=gen()),
               "D_M held-out": score_field_rmse(m["E"], net, m["y_out"], sg, generator=gen()),
               "nmse": weight_nmse(L.W[k], W_G), "floor": nmse_noise_floor(L.W[k], L2.W[k], W_G),
               "sv": float(singular_vector_alignment(L.W[k], m["G"].U, min(sv_k, rank), rank=rank).diagonal().mean()),
               "sv_common": float(singular_vector_alignment(L.W[k], m["G"].U, K_SV, rank=rank).diagonal().mean())}
        rows.append(row)
    return rows, L


dist_rows = []
for s_ in tqdm(seeds, desc="distillation (training seeds)"):
    for name, m in M.items():
        rows_s, L = distillation_rows(net_config(m["N"], s_), net_of(name, s_), m, s_, name)
        dist_rows += rows_s
        if s_ == seed:
            m["L"] = L  # the first seed's D_L: Algorithm 1, singular vectors and samples below
dist = pd.DataFrame(dist_rows)
long = dist.melt(id_vars=["seed", "net", "sigma"], value_vars=list(RMSE_KEYS), var_name="measure", value_name="rmse")
long["measure"] = long.measure.map(lambda k: k if "vs" in k or "held" in k else f"{k} vs net")
fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, name in zip(axes, M):
    sns.lineplot(long[long.net == name], x="sigma", y="rmse", hue="measure", style="measure", markers=True,
                 errorbar=t_ci, ax=ax)
    ax.axhline(RMSE_PAPER, color="gray", lw=0.8)
    ax.axvspan(0.1, 20, color="orange", alpha=0.08)
    ax.set(xscale="log", yscale="log", xlabel="σ", ylabel="RMSE (eq 10)", title=f"{name} net (N = {M[name]['N']})")
    ax.legend(fontsize=8)
fig.tight_layout()
dist.groupby(["net", "sigma"])[list(RMSE_KEYS)].mean().unstack("net").round(3)  # mean over seeds

# %% [markdown]
# ## 1b. On new images, where $D_M$ is the worse denoiser
# On training inputs at σ = 1.5, $D_M$ is the *better* denoiser of the two references, so a net that merely denoises
# well drifts toward it without copying anything: RMSE(net, $D_M$) − RMSE(net, $D_G$) there rewards any good
# denoiser (`001-gauss-vs-mem`, kept below as superseded). Here every input is a held-out image plus noise, and the
# test reads only the levels of the paper's intermediate range where $D_M$ is the worse denoiser of those images
# (dashed, left: each reference's RMSE to the clean image; the band is shaded). A second reading needs no $D_G$: a
# net that has memorized is nearer the $D_M$ of its own training images than the $D_M$ of as many real images it
# never saw (right; 1 for a net that treats both alike). Each net's band comes from its own references.

# %%
REFS = {"D_G": "G", "D_M": "E", "D_M own": "E_own", "D_M unseen": "E_unseen"}
ref_rows = []
for s_ in tqdm(seeds, desc="held-out references (training seeds)"):
    for name, m in M.items():
        rows_s = reference_distances(net_of(name, s_), {k: m[v] for k, v in REFS.items()}, m["y_out"], sigmas,
                                     generator=stream(seed, "eval", 2), per_image=True)
        ref_rows += [dict(r, seed=s_, net=name) for r in rows_s]
refd = pd.DataFrame(ref_rows)


def band_of(name, by=0.0):  # the levels of BAND where the net's D_M is the worse held-out denoiser (by a fraction)
    ref_rows_ = refd[(refd.net == name) & (refd.seed == seed)].to_dict("records")
    return [sg for sg in worse_band(ref_rows_, "D_M", "D_G", by=by) if BAND[0] <= sg <= BAND[1]]


band = {name: band_of(name) for name in M}
band_clear = {name: band_of(name, CLEARLY_WORSE) for name in M}  # 001-gauss-vs-mem-heldout-clear
near = refd[refd.of == "D"].pivot_table(index=["net", "seed", "sigma"], columns="to", values="rmse").reset_index()
near["D_M - D_G"] = near["D_M"] - near["D_G"]
near["own / unseen"] = near["D_M own"] / near["D_M unseen"]
fig, axes = plt.subplots(1, 3, figsize=(16, 4))
for ax, name in zip(axes[:2], M):
    sub = refd[(refd.net == name) & (((refd.of == "D") & refd.to.isin(["D_G", "D_M"])) |
                                     ((refd.to == "clean") & refd.of.isin(["D_G", "D_M", "D"])))].copy()
    sub["what"] = [f"{'net' if o == 'D' else o} to the clean image" if t == "clean" else f"net to {t}"
                   for o, t in zip(sub.of, sub.to)]
    sns.lineplot(sub, x="sigma", y="rmse", hue="what", style="what", markers=True, errorbar=t_ci, ax=ax)
    for sg in band[name]:
        ax.axvspan(sg / 1.3, sg * 1.3, color="orange", alpha=0.15)
    ax.set(xscale="log", yscale="log", xlabel="σ", ylabel="RMSE (held-out inputs)",
           title=f"{name} net (N = {M[name]['N']}); shaded: its band")
    ax.legend(fontsize=7)
sns.lineplot(near, x="sigma", y="own / unseen", hue="net", marker="o", errorbar=t_ci, ax=axes[2])
axes[2].axhline(0.8, color="gray", lw=0.8, ls="--")
axes[2].axhline(0.5, color="gray", lw=0.8, ls=":")
axes[2].set(xscale="log", xlabel="σ", ylabel="RMSE(net, D_M own) / RMSE(net, D_M unseen)",
            title="own training images vs unseen real ones (held-out inputs)")
fig.tight_layout()
print("bands (levels in [0.1, 20] where D_M is the worse held-out denoiser):",
      {k: [round(v, 3) for v in b] for k, b in band.items()}, f"clearly (by > {CLEARLY_WORSE:.0%}):",
      {k: [round(v, 3) for v in b] for k, b in band_clear.items()})
near.groupby(["net", "sigma"])[["D_G", "D_M", "D_M - D_G", "own / unseen"]].mean().unstack("net").round(3)

# %% [markdown]
# ## 2. $W_L\to W_G$: Algorithm 1 curves, weight NMSE at every level, singular vectors
# NMSE is $\lVert W_L - W_G\rVert_F / \lVert W_G\rVert_F$, unsquared, as the authors compute it. $W_L$ is fitted from a
# finite pool of pairs, so part of any NMSE is estimation noise: the *floor* (dashed, middle) is the NMSE that
# noise alone gives, from two fits on independent pools (`nmse_noise_floor`). An NMSE near its floor says nothing
# about the net.
#
# Left (first seed's generalizing net): Algorithm 1 with the paper's learning rates on our pool of pairs (16 Adam
# steps per epoch), with the queries scaled by $1/\sqrt d$ before the weights as in the authors' model, so a step
# moves each weight by about lr$/\sqrt d$. Dotted: the closed-form $W_L$ from the same pairs. Middle and right: mean
# over training seeds, bands 95 % t-interval. Right: the alignment of the first $k$ singular vectors with one $k$ for
# both nets (`001-sv-align`): the memorizing net's $W_G$ has rank $N_{\rm mem}-1$, so a larger $k$ for the
# generalizing net alone would compare different things. The sentence under the figures says whether Algorithm 1
# reached the closed form; every verdict uses the closed form.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
w_long = dist.melt(id_vars=["seed", "net", "sigma"], value_vars=["nmse", "floor"], var_name="what")
w_long["what"] = w_long.what.map({"nmse": "closed form", "floor": "estimation floor"})
sns.lineplot(w_long, x="sigma", y="value", hue="net", style="what", markers=True, errorbar=t_ci, ax=axes[1])
gm = M["generalizing"]
nmse_first = dist[(dist.net == "generalizing") & (dist.seed == seed)].set_index("sigma").nmse
adam_vs_lstsq = {}
for s in adam_sigmas:
    Z, Y = distill_pairs(gm["net"], gm["y_out"], s, n_distill, generator=stream(seed, "distill"))
    W_G = gm["G"].wiener(s)[0]
    W_adam, _, h = distill_adam(Z, Y, lr=paper_distill_lr(s), epochs=adam_epochs, W_ref=W_G, seed=seed)
    adam_vs_lstsq[s] = weight_nmse(W_adam, distill_lstsq(Z, Y)[0])
    axes[0].semilogy(h["epoch"], h["nmse"], label=f"σ={s} (lr {paper_distill_lr(s):g})")
    k = min(range(len(sigmas)), key=lambda i: abs(sigmas[i] - s))
    axes[0].axhline(nmse_first[sigmas[k]], ls=":", color=axes[0].lines[-1].get_color())
axes[0].set(xlabel="epoch (Algorithm 1)", ylabel="NMSE(W_L, W_G)", title="generalizing net: Adam (dotted: closed form)")
axes[0].legend(fontsize=8)
axes[1].axhline(NMSE_PAPER, color="gray", lw=0.8)
axes[1].set(xscale="log", yscale="log", xlabel="σ", ylabel="NMSE(W_L, W_G)", title="weights of D_L vs D_G")
axes[1].legend(fontsize=8)
sns.lineplot(dist, x="sigma", y="sv_common", hue="net", marker="o", errorbar=t_ci, ax=axes[2])
axes[2].set(xscale="log", xlabel="σ", ylabel="mean |cos| of the leading singular vectors",
            title=f"alignment of W_L with U of D_G (k = {K_SV} for both nets)")
axes[2].legend(fontsize=8)
fig.tight_layout()

k15 = min(range(len(sigmas)), key=lambda i: abs(sigmas[i] - 1.5))
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, m) in zip(axes, M.items()):
    ax.imshow(singular_vector_alignment(m["L"].W[k15], m["G"].U, K_SV), vmin=0, vmax=1, cmap="magma")
    ax.set(title=f"{name} (first seed): σ = {sigmas[k15]:.2f}", xlabel="u_i of D_G", ylabel="singular vector of W_L")
fig.tight_layout()
adam_far = max(adam_vs_lstsq.values()) > NMSE_PAPER
say(f"Algorithm 1 after {adam_epochs} epochs at the paper's learning rates ends at NMSE " +
    ", ".join(f"{v:.2f} (σ = {s:g})" for s, v in adam_vs_lstsq.items()) + " from the closed-form $W_L$ of the same "
    "pairs: " + ("it has not converged to it (farther than the paper's own 0.2 between $W_L$ and $W_G$), so its curves "
                 "show the algorithm's path, not the distillation's end point; every verdict uses the closed form."
                 if adam_far else "it reaches the closed form; the verdicts use the closed form."))

# %% [markdown]
# ## 3. Samples from the same noise: net, $D_L$, $D_G$, $D_M$
# The first seed's nets. Each denoiser runs through an 18-step Heun sampler, with $D_L$ distilled at that sampler's levels. The printed
# numbers are the pixel RMSE between each denoiser's samples and the net's. Observation, not stated beforehand and
# so not asserted: the generalizing net's samples lie closer to $D_L$ and $D_G$'s than to $D_M$'s, and the
# memorizing net's the other way. The net's samples are sharp digits, though, and $D_G$'s are not. The Gaussian
# structure is only part of what the net does at our scale.

# %%
levels18 = edm.sampling_steps(18)[:-1]
for name, m in M.items():
    L18 = distill_cached(net_config(m["N"], seed), m["net"], m["y_out"], levels18, n_pairs=n_distill, seed=seed)
    xT = initial_noise(n_samples, tuple(m["y"].shape[1:]), seed)
    rows = {"net": edm_sampler(m["net"], xT), "D_L": edm_sampler(L18, xT), "D_G": edm_sampler(m["G"], xT),
            "D_M": edm_sampler(m["E"], xT)}
    image_grid({k: v.clamp(-1, 1) for k, v in rows.items()}, title=f"{name} net (N = {m['N']}), same noise per column")
    m["sample_rmse"] = {k: float((rows[k] - rows["net"]).pow(2).mean().sqrt()) for k in ("D_L", "D_G", "D_M")}
    print(name, {k: round(v, 3) for k, v in m["sample_rmse"].items()})
    m["L18"] = L18

# %% [markdown]
# The counterpart of Li et al. 2024, Fig. 2 (right): along each denoiser's own sampling trajectory from the same
# noise (the first sample above, generalizing net), its estimate of the clean image $D(x_t; t)$ at six of the 18
# steps. If the net's denoiser is close to its Gaussian structure, the three rows agree early (high noise) and the
# net's row sharpens later.

# %%
gm, t18 = M["generalizing"], edm.sampling_steps(18)
show = np.linspace(0, len(t18) - 2, 6).round().astype(int).tolist()  # steps shown (t > 0)
xT1 = initial_noise(n_samples, tuple(gm["y"].shape[1:]), seed)[:1]
est = {}
for k, D in (("net", gm["net"]), ("D_L", gm["L18"]), ("D_G", gm["G"])):
    _, traj = edm_sampler(D, xT1, return_trajectory=True)
    est[k] = torch.cat([D(traj[i], float(t18[i])) for i in show]).clamp(-1, 1)
fig = image_grid(est, title="D(x_t; t) along each sampler's path, t = " + ", ".join(f"{float(t18[i]):.3g}" for i in show))

# %% [markdown]
# ## 4. Identity at low noise: the share of the noise removed (App D, Fig 15)
# $r(\sigma)=\lVert D(z)-z\rVert/(\sigma\sqrt d)$ on held-out inputs $z=x+\sigma\epsilon$: 0 for the identity,
# 1 for a denoiser that returns the clean image, and about $d_{\rm NN}/\sigma$ (growing as σ falls) for one that
# pulls new inputs onto training images, as $D_M$ does. Under EDM's preconditioning $D = c_{\rm skip}z + c_{\rm out}F$
# with $c_{\rm out}\approx\sigma$ at small σ, so $r\approx$ rms$(F)$: the test reads the net's own output, not the
# skip path. (The old test, RMSE(net, identity) < 0.01 at σ = 0.002, was bounded by σ·rms$(F)$ and so held for any
# net.) The claim: as σ falls below 0.1, every net's $r$ falls (log-log slope > 0), while $D_M$'s rises.
# The wrong worlds that fail it: a net that keeps removing all the noise ($r\approx1$, slope 0), or one that snaps
# inputs onto training images (slope < 0). $D_G$ is drawn for reference: on MNIST its $r$ levels off above 0,
# because pixels that are −1 in every training image have zero variance and $D_G$ removes their noise at any σ.

# %%
ident_rows = []
for s_ in tqdm(seeds, desc="identity (training seeds)"):
    for name, N in regimes.items():
        ident_rows += [dict(seed=s_, denoiser=f"net, {name}", sigma=sg,
                            r=noise_removed(net_of(name, s_), M[name]["y_out"], sg, generator=stream(seed, "eval")))
                       for sg in sigmas]
for name in regimes:
    for k in ("G", "E"):
        ident_rows += [dict(seed=-1, denoiser=f"{'D_G' if k == 'G' else 'D_M'}, {name}", sigma=sg,
                            r=noise_removed(M[name][k], M[name]["y_out"], sg, generator=stream(seed, "eval")))
                       for sg in sigmas]
ident = pd.DataFrame(ident_rows)
fig, ax = plt.subplots(figsize=(7, 4.2))
sns.lineplot(ident, x="sigma", y="r", hue="denoiser", style="denoiser", markers=True, dashes=False, errorbar=t_ci, ax=ax)
ax.axhline(1, color="gray", lw=0.8, ls="--")
ax.axvspan(min(sigmas), 0.1, color="green", alpha=0.06)
ax.set(xscale="log", yscale="log", xlabel="σ", ylabel="||D(z) - z|| / (σ √d)",
       title="share of the noise removed (held-out inputs; 1: all of it, 0: identity)")
ax.legend(fontsize=7)
fig.tight_layout()


def low_slope(g):  # log-log slope of r against sigma over the low band sigma <= 0.1
    g = g[g.sigma <= 0.1 + 1e-9]
    return np.polyfit(np.log(g.sigma), np.log(g.r), 1)[0]


slopes = ident.groupby(["seed", "denoiser"]).apply(low_slope, include_groups=False).rename("slope").reset_index()
slopes.groupby("denoiser").slope.agg(["mean", "min", "max", "count"]).round(2)  # count: training seeds

# %% [markdown]
# ## 5. Does the high-noise gap come from nets rarely trained there? (noise coverage)
# EDM trains on $\ln\sigma\sim\mathcal N(P_{\rm mean}, P_{\rm std}^2)$ with $P_{\rm mean}=-1.2$, $P_{\rm std}=1.2$: a
# draw above σ = 20 is a 3.5-standard-deviation event, so in 1200 steps of batch 128 the net sees almost no
# training inputs at the noise where $D_L$ is farthest from $D_G$. Our explanation of `001-DL-DG` was that the
# nets are under-trained there. This section tests it: the generalizing net is retrained at every seed with the
# same data, steps and batch but a wider law, $P_{\rm std}$ = `P_std_wide`, which puts a few per cent of the draws
# above σ = 20, and the distillation of section 1 is repeated. Declared claim (`001-noise-coverage`): the largest
# $D_L$-to-$D_G$ RMSE over σ ≥ 20 falls to at most half, seed by seed. The wrong world that fails it: the gap is
# not a matter of coverage (at high noise the net's output is $c_{\rm out}F$ with $c_{\rm out}\to\sigma_{\rm data}$, so
# an error in $F$ that more high-noise steps do not remove would keep it). The price of the wider law is fewer
# draws at intermediate σ; the figure shows it next to the gain.

# %%
wide_rows = []
gm = M["generalizing"]
for s_ in tqdm(seeds, desc="wide noise law (training seeds)"):
    net_w, info_w = get_model(net_config(N_gen, s_, P_std=P_std_wide))
    wide_rows += distillation_rows(net_config(N_gen, s_, P_std=P_std_wide), net_w, gm, s_, f"P_std = {P_std_wide:g}")[0]
cover = pd.concat([dist[dist.net == "generalizing"].assign(net=f"P_std = {edm.P_STD:g} (default)"),
                   pd.DataFrame(wide_rows)])
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, key, title in ((axes[0], "D_L vs D_G", "RMSE(D_L, D_G)"), (axes[1], "nmse", "NMSE(W_L, W_G)"),
                       (axes[2], "D_G", "RMSE(net, D_G), training inputs")):
    sns.lineplot(cover, x="sigma", y=key, hue="net", marker="o", errorbar=t_ci, ax=ax)
    ax.set(xscale="log", yscale="log", xlabel="σ", ylabel=title, title=f"{title}: training-noise law")
    ax.axvspan(20, max(sigmas), color="red", alpha=0.06)
    ax.legend(fontsize=8, title="generalizing net")
axes[0].axhline(RMSE_PAPER, color="gray", lw=0.8)
axes[1].axhline(NMSE_PAPER, color="gray", lw=0.8)
fig.tight_layout()
gap = cover[cover.sigma >= 20 - 1e-9].groupby(["net", "seed"])["D_L vs D_G"].max().unstack("net")
gap_ratio = gap[f"P_std = {P_std_wide:g}"] / gap[f"P_std = {edm.P_STD:g} (default)"]  # per seed, same seed's pair
gap.assign(ratio=gap_ratio).round(4)  # the largest RMSE(D_L, D_G) over sigma >= 20, per training seed

# %% [markdown]
# ## Tests (declared at the top)
# 1. *Generalizing vs memorizing (Fig 3 vs Fig 5).* At σ = 1.5 and 0.47, the generalizing net is closer to $D_G$
#    than to $D_M$, and the memorizing net is closer to $D_M$ than to $D_G$.
# 2. *Linear structure.* At σ = 1.5 and 0.47, $W_L$ of the generalizing net is closer to $W_G$ (NMSE) than the
#    memorizing net's $W_L$ is to its own $W_G$.
# 3. *Identity at low noise (App D, Fig 15).* Per training seed, the smaller of the two nets' log-log slopes of
#    $r(\sigma)$ over σ ≤ 0.1 is positive (the nets remove less and less of the noise: they approach the identity);
#    the control $D_M$ (of the generalizing net's training set) has a negative slope.
# 4. The paper's absolute thresholds (RMSE < 0.05, NMSE < 0.2) are recorded as *holds* or *differs*, with our
#    numbers next to them. The NMSE count is taken per seed after the estimation floor is removed.
# 5. *Noise coverage (ours).* Per seed, the high-noise gap of the net trained with the wider law is at most half the
#    default net's.
# 6. *The rows that supersede 1, 3 and the low band of 4* (declared after a referee read found that those statistics
#    pass in their wrong worlds too): the same questions on held-out inputs in the band where $D_M$ is the worse
#    denoiser, with the own-vs-unseen ratio (section 1b); the identity slope of the generalizing net alone, read
#    against $D_M$; $D_L$'s low band without σ = 0.002 and read against the memorizing net; the singular vectors with
#    one $k$ for both nets. Each names its wrong world and records what its statistics read there: a row whose tests
#    would hold there too is *not discriminating*. The superseded rows are still computed and shown.
#
# Each statistic is computed per training seed; the verdict is decided on its 95 % t-interval over seeds. The next
# cell records the verdicts; the sentences under it are rendered from this run's numbers.

# %%
def per_seed(f):  # f(rows of one seed, indexed by (net, sigma)) -> a number; its t-interval over seeds
    return Estimate.t_interval([f(g.set_index(["net", "sigma"])) for _, g in dist.groupby("seed")])


mid = [min(sigmas, key=lambda sg: abs(np.log(sg / t))) for t in (1.5, 0.47)]  # the grid levels nearest 1.5, 0.47
high = [sg for sg in sigmas if sg >= 20 - 1e-9]
low = [sg for sg in sigmas if sg <= 0.1 + 1e-9]
low_band = [sg for sg in sigmas if 0.02 <= sg <= 0.12]  # the paper's low band without the skip-path level 0.002
mean = dist.groupby(["net", "sigma"]).mean(numeric_only=True)  # over seeds, for the sentences
fmt = lambda net, k: "/".join(f"{mean.loc[(net, sg), k]:.3f}" for sg in mid)  # noqa: E731
e_high = per_seed(lambda g: g.loc["generalizing"].loc[high, "D_L"].max())
e_low = per_seed(lambda g: g.loc["generalizing"].loc[low, "D_L"].max())
claims.record("001-rmse-DL-net", f"RMSE(D_L, net) high-noise max {e_high}, low-noise max {e_low}", high=e_high, low=e_low)
band_max = {(net, b): per_seed(lambda g: g.loc[net].loc[levels, "D_L"].max())
            for net in M for b, levels in (("high", high), ("low", low_band))}
per_level = lambda net: ", ".join(f"{mean.loc[(net, sg), 'D_L']:.3f} at σ = {sg:.3g}" for sg in low_band)  # noqa: E731
claims.record("001-rmse-DL-net-band", f"largest RMSE(D_L, net) over σ in [20, 80]: {band_max['generalizing', 'high']}; "
              f"over σ in [0.02, 0.12]: {band_max['generalizing', 'low']} ({per_level('generalizing')}; the memorizing "
              f"net: {per_level('memorizing')}; means over {len(seeds)} seeds)",
              high=band_max["generalizing", "high"], low=band_max["generalizing", "low"],
              wrong_world={"high": band_max["memorizing", "high"], "low": band_max["memorizing", "low"]})


def levels_ok(g):  # levels whose NMSE, with the estimation floor removed (noise adds in quadrature), is < 0.2
    g = g.loc["generalizing"]
    return int((np.sqrt(np.clip(g.nmse**2 - g.floor**2, 0, None)) < NMSE_PAPER).sum())


gen_mean = mean.loc["generalizing"]
e_dg, e_ok = per_seed(lambda g: g.loc["generalizing"]["D_L vs D_G"].max()), per_seed(levels_ok)
worst_dl_dg = gen_mean["D_L vs D_G"].idxmax()
e_cover = Estimate.t_interval(gap_ratio)
claims.record("001-noise-coverage", f"largest RMSE(D_L, D_G) over σ ≥ 20: default law "
              f"{gap[f'P_std = {edm.P_STD:g} (default)'].mean():.3f}, P_std = {P_std_wide:g} "
              f"{gap[f'P_std = {P_std_wide:g}'].mean():.3f} (means over {len(seeds)} seeds); ratio {e_cover}",
              ratio=e_cover)
claims.record("001-DL-DG", f"RMSE(D_L, D_G) max {e_dg} (largest on average at σ={worst_dl_dg:.3g}); levels with "
              f"NMSE(W_L, W_G) < {NMSE_PAPER} once the estimation floor is removed: {e_ok} of 10 (raw NMSE median "
              f"{gen_mean.nmse.median():.2f}, floor median {gen_mean.floor.median():.2f}); the wider training-noise law "
              f"(001-noise-coverage, {claims.verdict('001-noise-coverage')}) scales the high-noise gap by {e_cover.value:.2f}",
              rmse_max=e_dg, levels_ok=e_ok)
e_gm = per_seed(lambda g: min(g.loc[("generalizing", sg), "D_M"] - g.loc[("generalizing", sg), "D_G"] for sg in mid))
claims.record("001-gauss-vs-mem", f"σ=1.5/0.47, train inputs: gen. net to D_G {fmt('generalizing', 'D_G')} vs D_M "
              f"{fmt('generalizing', 'D_M')}; held-out: D_G {fmt('generalizing', 'D_G held-out')} vs D_M "
              f"{fmt('generalizing', 'D_M held-out')} (means over {len(seeds)} seeds)", margin=e_gm)
e_mm = per_seed(lambda g: min(g.loc[("memorizing", sg), "D_G"] - g.loc[("memorizing", sg), "D_M"] for sg in mid))
e_mr = per_seed(lambda g: max(g.loc[("memorizing", sg), "D_M"] / g.loc[("generalizing", sg), "D_M"] for sg in mid))
claims.record("001-mem-near-DM", f"mem. net to D_M {fmt('memorizing', 'D_M')} vs D_G {fmt('memorizing', 'D_G')} "
              f"(means over {len(seeds)} seeds)", margin=e_mm, ratio=e_mr)
e_wl = per_seed(lambda g: min(g.loc[("memorizing", sg), "nmse"] - g.loc[("generalizing", sg), "nmse"] for sg in mid))
claims.record("001-WL-structure", f"NMSE(W_L, W_G) σ=1.5/0.47: gen. {fmt('generalizing', 'nmse')} vs mem. "
              f"{fmt('memorizing', 'nmse')} (means over {len(seeds)} seeds)", margin=e_wl)
e_sv = per_seed(lambda g: min(g.loc[("generalizing", sg), "sv_common"] - g.loc[("memorizing", sg), "sv_common"]
                              for sg in mid))
claims.record("001-sv-align", f"mean |cos| of the first {K_SV} singular vectors, σ=1.5/0.47: gen. "
              f"{fmt('generalizing', 'sv_common')} vs mem. {fmt('memorizing', 'sv_common')} (means over {len(seeds)} "
              "seeds)", margin=e_sv)


def heldout(name, stat, agg, band_=band):  # a section-1b statistic of one net over its band: t-interval over seeds
    rows = near[(near.net == name) & near.sigma.isin(band_[name])]
    if rows.empty:
        return None  # no level of [0.1, 20] where D_M is the worse denoiser: nothing to decide on
    return Estimate.t_interval(rows.groupby("seed")[stat].agg(agg))


near["D_G - D_M"] = -near["D_M - D_G"]
gen_side = {name: dict(margin=heldout(name, "D_M - D_G", "min"), own_vs_unseen=heldout(name, "own / unseen", "min"))
            for name in M}  # 001-gauss-vs-mem-heldout's statistics, read for either net
mem_side = {name: dict(margin=heldout(name, "D_G - D_M", "min"), own_vs_unseen=heldout(name, "own / unseen", "max"))
            for name in M}  # 001-mem-near-DM-heldout's
per_img = {}  # (net, seed) -> {(sigma, to): the net's per-image RMSEs to reference `to`}
for r in refd[refd.of == "D"].itertuples():
    per_img.setdefault((r.net, r.seed), {})[r.sigma, r.to] = r.rmse_i


def clear_on(idx, name, stat):
    """A 001-gauss-vs-mem-heldout-clear statistic of one net on the held-out images idx: per seed, its smallest over
    the clear band (metrics.band_extreme); their mean over seeds (every index: the t-interval's mean)."""
    return float(np.mean([band_extreme(per_img[name, s_], band_clear[name], stat, idx) for s_ in seeds]))


def clear_interval(name, stat, col):
    """The hull of the t-interval over seeds (heldout) and the bootstrap over the held-out images."""
    if not band_clear[name]:
        return float("nan")  # no level where D_M is clearly the worse: nothing to decide on
    n_img = M[name]["y_out"].shape[0]
    boot = Estimate.bootstrap(np.arange(n_img)[:, None], stat=lambda a: clear_on(a[:, 0].astype(int), name, stat),
                              over="images")
    return Estimate.hull([heldout(name, col, "min", band_clear), boot])


clear_side = {name: dict(margin=clear_interval(name, "margin", "D_M - D_G"),
                         own_vs_unseen=clear_interval(name, "own_vs_unseen", "own / unseen"))
              for name in M}  # 001-gauss-vs-mem-heldout-clear's
bands_txt = "; ".join(f"{name}: " + (", ".join(f"{sg:.3g}" for sg in b) or "none") for name, b in band.items())
nm = near.groupby(["net", "sigma"]).mean(numeric_only=True)
fmt_h = lambda name, k, b=band: ", ".join(f"{nm.loc[(name, sg), k]:.3f}" for sg in b[name])  # noqa: E731
claims.record("001-gauss-vs-mem-heldout", f"bands (σ): {bands_txt}. Generalizing net, held-out inputs: "
              f"RMSE(net, D_M) - RMSE(net, D_G) {fmt_h('generalizing', 'D_M - D_G')}, own/unseen "
              f"{fmt_h('generalizing', 'own / unseen')}; memorizing net (wrong world): "
              f"{fmt_h('memorizing', 'D_M - D_G')} and {fmt_h('memorizing', 'own / unseen')} (means over "
              f"{len(seeds)} seeds, per band level)",
              **gen_side["generalizing"], wrong_world=gen_side["memorizing"])
clear_txt = "; ".join(f"{name}: " + (", ".join(f"{sg:.3g}" for sg in b) or "none") for name, b in band_clear.items())
claims.record("001-gauss-vs-mem-heldout-clear", f"bands where D_M is clearly the worse (σ): {clear_txt}. Generalizing "
              f"net: RMSE(net, D_M) - RMSE(net, D_G) {fmt_h('generalizing', 'D_M - D_G', band_clear)}, own/unseen "
              f"{fmt_h('generalizing', 'own / unseen', band_clear)}; memorizing net (wrong world): "
              f"{fmt_h('memorizing', 'D_M - D_G', band_clear)} and {fmt_h('memorizing', 'own / unseen', band_clear)} "
              f"(means over {len(seeds)} seeds, per band level)",
              **clear_side["generalizing"], wrong_world=clear_side["memorizing"])
claims.record("001-mem-near-DM-heldout", f"memorizing net, held-out inputs, band ({bands_txt}): RMSE(net, D_M) - "
              f"RMSE(net, D_G) {fmt_h('memorizing', 'D_M - D_G')}, "
              f"own/unseen {fmt_h('memorizing', 'own / unseen')} (means over {len(seeds)} seeds)",
              **mem_side["memorizing"], wrong_world=mem_side["generalizing"])
net_slopes = slopes[slopes.denoiser.str.startswith("net")].pivot_table(index="seed", columns="denoiser", values="slope")
dm_slope = float(slopes.set_index("denoiser").slope["D_M, generalizing"])
r_min = ident[ident.sigma == min(sigmas)].groupby("denoiser").r.mean()
claims.record("001-identity", f"{len(seeds)} seeds: log-log slope of r(σ) over σ ≤ 0.1: " +
              ", ".join(f"{c.split(', ')[1]} {net_slopes[c].mean():+.2f}" for c in net_slopes) +
              f" (D_M {dm_slope:+.2f}); r at σ={min(sigmas):.3g}: " +
              ", ".join(f"{c.split(', ')[1]} {r_min[c]:.2f}" for c in net_slopes),
              slope=Estimate.t_interval(net_slopes.min(axis=1)), dm_slope=dm_slope)
e_id = Estimate.t_interval(net_slopes["net, generalizing"])
claims.record("001-identity-gen", f"log-log slope of r(σ) over σ ≤ 0.1, generalizing net {e_id}; memorizing net "
              f"(contrast) {Estimate.t_interval(net_slopes['net, memorizing'])}; D_M {dm_slope:+.2f}",
              slope=e_id, wrong_world={"slope": dm_slope})
for k in RMSE_KEYS + ("nmse", "floor", "sv", "sv_common"):
    claims.number(k, {net: mean.loc[net, k].tolist() for net in M})  # means over seeds, per sigma
for k in ("D_G", "D_M", "D_M own", "D_M unseen", "own / unseen"):  # section 1b, held-out inputs
    claims.number(f"heldout {k}", {net: nm.loc[net, k].tolist() for net in M})
claims.number("heldout band", band)
claims.number("heldout band clear", band_clear)
claims.number("gap_high", gap.round(6).to_dict("list"))
claims.number("nmse_adam_vs_closed_form", {str(k): v for k, v in adam_vs_lstsq.items()})
nmse_g, floor_g = gen_mean.nmse, gen_mean.floor
n_ok = int((nmse_g < NMSE_PAPER).sum())
say(f"Over {len(seeds)} training seeds, on training inputs, the generalizing net (N = {N_gen}) is "
    f"{fmt('generalizing', 'D_G')} (RMSE) from $D_G$ and {fmt('generalizing', 'D_M')} from $D_M$ at σ = 1.5 / 0.47, so "
    f"`001-gauss-vs-mem` **{claims.verdict('001-gauss-vs-mem')}**; the memorizing net (N = {N_mem}) is "
    f"{fmt('memorizing', 'D_M')} from $D_M$ (`001-mem-near-DM` **{claims.verdict('001-mem-near-DM')}**). The mean "
    f"NMSE(W_L, W_G) of the generalizing net is below {NMSE_PAPER} at {n_ok} of 10 levels" +
    ("." if n_ok == len(sigmas) else "; where it is not: " + ", ".join(
        f"{nmse_g[sg]:.2f} (estimation floor {floor_g[sg]:.2f}) at σ = {sg:.3g}" for sg in sigmas
        if nmse_g[sg] >= NMSE_PAPER) + "."))
d15 = cover[cover.sigma == mid[0]].groupby("net").D_G.mean()
say(f"Noise coverage: with P_std = {P_std_wide:g} the largest $D_L$-to-$D_G$ RMSE over σ ≥ 20 is "
    f"{e_cover} times the default net's (per-seed ratio, mean [95 % t-interval]), so `001-noise-coverage` is "
    f"**{claims.verdict('001-noise-coverage')}** against the declared half. At σ = 1.5 the wider law moves the net's "
    f"RMSE to $D_G$ (training inputs) from {d15[f'P_std = {edm.P_STD:g} (default)']:.3f} (default) to "
    f"{d15[f'P_std = {P_std_wide:g}']:.3f}.")
MOVED = {"001-rmse-DL-net": ("001-rmse-DL-net-band", "at σ = 0.002 the skip path makes any net linear"),
         "001-gauss-vs-mem": ("001-gauss-vs-mem-heldout", "on training inputs at σ = 1.5 D_M is the better denoiser, "
                              "so the old margin rewards any good denoiser"),
         "001-gauss-vs-mem-heldout": ("001-gauss-vs-mem-heldout-clear", "its band kept levels where the two "
                                      "references nearly coincide"),
         "001-mem-near-DM": ("001-mem-near-DM-heldout", "the same statistic, now on new images and against unseen ones"),
         "001-identity": ("001-identity-gen", "the paper's claim is about generalizing nets; D_M is the wrong world")}
say("What the re-declared rows read: " + "; ".join(
    f"`{old}` read **{claims.verdict(old)}**, `{new}` reads **{claims.verdict(new)}** ({why})"
    for old, (new, why) in MOVED.items()) + f". With one k = {K_SV} for both nets, `001-sv-align` is "
    f"**{claims.verdict('001-sv-align')}**.")
claims.finish()

# %% [markdown]
# **Reading, on new images.** Rendered from this run's numbers: where in the band each held-out row is decided, and
# how far apart the references themselves are there (a margin is only as telling as the gap between $D_M$ and $D_G$).

# %%
def where_decided(name, stat, band_=band):  # a held-out statistic of one net per band level (means over seeds)
    return ", ".join(f"{nm.loc[(name, sg), stat]:+.3f} at σ = {sg:.3g}" for sg in band_[name]) or "(no level)"


clean_ho = refd[(refd.to == "clean") & (refd.seed == seed)].groupby(["net", "sigma", "of"]).rmse.mean()
s_gen = nm.loc["generalizing"].loc[band["generalizing"], "D_M - D_G"].idxmin()
gap_ref = clean_ho[("generalizing", s_gen, "D_M")] - clean_ho[("generalizing", s_gen, "D_G")]
say(f"Generalizing net, RMSE(net, $D_M$) − RMSE(net, $D_G$) on new images: {where_decided('generalizing', 'D_M - D_G')}. "
    f"The smallest, which decides `001-gauss-vs-mem-heldout` (**{claims.verdict('001-gauss-vs-mem-heldout')}**), is at "
    f"σ = {s_gen:.3g}, where $D_M$ is the worse denoiser of the new images by only {gap_ref:.4f} in RMSE to the clean "
    f"image ($D_G$ {clean_ho[('generalizing', s_gen, 'D_G')]:.3f}, $D_M$ {clean_ho[('generalizing', s_gen, 'D_M')]:.3f}). "
    f"Its own/unseen ratio: {where_decided('generalizing', 'own / unseen')}. The memorizing net's own/unseen ratio: "
    f"{where_decided('memorizing', 'own / unseen')}, and its RMSE(net, $D_G$) − RMSE(net, $D_M$): "
    f"{where_decided('memorizing', 'D_G - D_M')}: on new images it is pulled to its own training images where the ratio "
    f"is well below 1, and not where it is near 1 (`001-mem-near-DM-heldout` "
    f"**{claims.verdict('001-mem-near-DM-heldout')}**).")
gap_clear = {name: ", ".join(f"{clean_ho[(name, sg, 'D_M')] / clean_ho[(name, sg, 'D_G')] - 1:+.1%} at σ = {sg:.3g}"
                             for sg in band[name]) for name in M}
say(f"By how much $D_M$ is the worse denoiser of the new images at each level of the band (its RMSE to the clean "
    f"image over $D_G$'s, minus 1): generalizing net's references {gap_clear['generalizing']}; memorizing net's "
    f"{gap_clear['memorizing']}. Keeping the levels above {CLEARLY_WORSE:.0%}, the generalizing net reads "
    f"{where_decided('generalizing', 'D_M - D_G', band_clear)} and the memorizing net "
    f"{where_decided('memorizing', 'D_M - D_G', band_clear)} (`001-gauss-vs-mem-heldout-clear` "
    f"**{claims.verdict('001-gauss-vs-mem-heldout-clear')}**).")

# %% [markdown]
# **Reading, identity at low noise.** Rendered from this run's numbers: the two nets' slopes are read separately,
# since the declared test decides on the smaller one.

# %%
ms = slopes.groupby("denoiser").slope.mean()
s_top = max(sg for sg in sigmas if sg <= 0.1 + 1e-9)  # the highest level of the low band
r_top = ident[ident.sigma == s_top].groupby("denoiser").r.mean()


def reading(name, N_):
    k = f"net, {name}"
    e_k = Estimate.t_interval(slopes[slopes.denoiser == k].slope)
    trend = ("falls as σ falls: it approaches the identity" if e_k.lo is not None and e_k.lo > 0 else
             "rises as σ falls" if e_k.hi is not None and e_k.hi < 0 else
             f"does not clearly fall as σ falls (slope {e_k})")
    return (f"the {name} net (N = {N_}) removes a share {r_min[k]:.2f} of the noise at σ = {min(sigmas):.3g} and "
            f"{r_top[k]:.2f} at σ = {s_top:.3g} (slope {ms[k]:+.2f}, mean over seeds; $D_G$ {r_min[f'D_G, {name}']:.2f}, "
            f"$D_M$ {r_min[f'D_M, {name}']:.3g} at σ = {min(sigmas):.3g}); its share {trend}")


say("At low noise " + "; ".join(reading(n, N_) for n, N_ in regimes.items()) + ". A share that stays near its "
    "value while $D_M$'s grows as 1/σ means the net neither approaches the identity nor snaps new inputs onto its "
    f"training images. The superseded test decided on the smaller of the two slopes (`001-identity` read "
    f"**{claims.verdict('001-identity')}**); the paper's claim is about generalizing nets, so `001-identity-gen` "
    f"decides on the generalizing net's slope alone, against $D_M$'s as the wrong world: "
    f"**{claims.verdict('001-identity-gen')}**.")
