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
# # 03 · Trained denoisers become linear as N grows (Li et al. 2024, Fig 1 and Fig 10)
#
# **Claim (Li, Dai & Qu 2024, Fig 1).** "Diffusion models in the generalization regime exhibit linearity": the
# linearity score
# $\mathrm{LS}(\sigma)=\mathbb E\cos\big(D(a x_1+b x_2;\sigma),\,aD(x_1;\sigma)+bD(x_2;\sigma)\big)$ (eq 11, with
# $a^2+b^2=1$ and $x_j$ noisy training images) rises with the training-set size $N$. It exceeds 0.96 at the worst
# $(a,b)$ of the Fig 10 sweep when the model generalizes.
#
# **Our setting vs the paper's.** The paper trains EDM-VE NCSN++ nets on FFHQ 64×64 with channel base 128. We
# use MNIST-5000 resized to 16×16 ($d=256$) and a diffusers UNet2DModel with channels $(16, 32, 32)$ (267k
# parameters), trained for 1200 steps of batch 128 with EDM's loss and preconditioning. The nets are trained on
# nested subsets $N\in\{16,\dots,4096\}$. They are trained once, cached, and shared with notebook 04. The pairs
# $x_1, x_2$ are *held-out* images plus noise (the same 256 for every $N$, never trained on), as the authors
# estimate on a test split: on its own training images a memorizing net answers a different question.
#
# We report two forms. The paper's raw cosine is dominated on MNIST by the constant −1 background, which every
# denoiser reproduces. We therefore also report a *centred* form, the cosine of $D(\mu+a(z_1-\mu)+b(z_2-\mu))-\mu$
# against $a(D(z_1)-\mu)+b(D(z_2)-\mu)$, with $\mu$ the training mean. It is exactly 1 for the Gaussian
# denoiser $D_G$, or for any affine map fixing $\mu$. The raw form is not exactly 1 even for $D_G$, because
# $a+b\neq1$.

# %% tags=["parameters"]
profile = "default"
results_dir = None  # where the claims are recorded (null: runs/<profile>/results)
seed = 0
dataset = "mnist"
size = 16
Ns = [16, 64, 256, 1024, 4096]
channels = 16
steps = 1200
n_pairs = 100  # pairs (x1, x2) per score, as in the paper
n_heldout = 256  # held-out images (never trained on) the pairs are drawn from
a2_sweep = [0.99, 0.87, 0.74, 0.62, 0.5]  # Fig 10's a^2
sweep_sigmas = [4.07, 1.5, 0.47]  # the intermediate levels reported prominently


# %% [markdown]
# ## Claims, declared before anything is computed
# One training seed per net (the five nets are shared with notebook 04; seeds come with the evidence issue).
# The paper's threshold is fixed here, as the paper states it, not as a parameter.

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("03_linearity", profile, results_dir)
PAPER_LS = 0.96  # Li et al. 2024, Fig. 1: linearity score of generalizing models
claims.declare("001-linearity", "The linearity score rises with N and exceeds 0.96 (worst a, b) in the "
               "generalization regime", source="Li et al. 2024, Figs. 1 and 10", paper=f"LS > {PAPER_LS}",
               statistic="rise: smallest (over the sweep sigmas) gain of the worst-case centred score from the smallest "
                         "to the largest N; raw_large: worst-case raw score of the largest-N net",
               tests={"rise": above(0.0), "raw_large": above(PAPER_LS)},
               differs="nets do not become more linear with more data, or stay below the paper's score")

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from gendiff import edm
from gendiff.cache import get_model
from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser
from gendiff.device import stream
from gendiff.metrics import linearity_score
from gendiff.plots import style
from gendiff.progress import tqdm
from gendiff.zoo import NetConfig, n_params

style()
t_start = time.time()
sigmas = edm.sigma_grid(10).tolist()
configs = {N: NetConfig(N=N, dataset=dataset, size=size, channels=channels, steps=steps, seed=seed) for N in Ns}
nets, infos, train_sets = {}, {}, {}
for N, cfg in tqdm(configs.items(), desc="model zoo (cached)"):
    nets[N], infos[N] = get_model(cfg, device="cpu")
    train_sets[N], heldout = cfg.split(n_heldout)  # the held-out images are the same for every N
print(f"{n_params(nets[Ns[0]]):,} parameters per net; trained now: {[N for N in Ns if infos[N]['trained']]}; "
      f"training speed {np.mean([infos[N]['img_per_s'] for N in Ns]):.0f} img/s")


def pairs(y, n):
    """n pairs of different images of y (the same pairs for every model)."""
    g = stream(seed, "eval", 1)
    i = torch.randint(0, y.shape[0], (n,), generator=g)
    j = (i + torch.randint(1, max(y.shape[0], 2), (n,), generator=g)) % y.shape[0]
    return y[i], y[j]


def scores(D, y_train, s, a=2**-0.5):
    """Raw and centred (at D's training mean) linearity scores of D on pairs of held-out images, as the authors
    measure them (on a test split): a memorizing net's answer on its own training images is another question."""
    x1, x2 = pairs(heldout, n_pairs)
    g = lambda: stream(seed, "eval")  # noqa: E731  the same noise for every model
    return (linearity_score(D, x1, x2, s, a, generator=g()),
            linearity_score(D, x1, x2, s, a, center=y_train.mean(0), generator=g()))


# %% [markdown]
# ## Linearity score vs σ for nets trained on increasing N
# The references are $D_G$ (exactly linear around $\mu$) and the empirical-optimal $D_M$ (memorizes), both built
# on the largest training set.

# %%
ls_raw = np.zeros((len(Ns), len(sigmas)))
ls_cen = np.zeros_like(ls_raw)
for i, N in enumerate(tqdm(Ns, desc="linearity")):
    for j, s in enumerate(sigmas):
        ls_raw[i, j], ls_cen[i, j] = scores(nets[N], train_sets[N], s)
yL = train_sets[Ns[-1]]
refs = {"D_G": GaussianDenoiser.from_data(yL), "D_M": EmpiricalDenoiser(yL)}
ref_scores = {k: np.array([scores(D, yL, s) for s in sigmas]) for k, D in refs.items()}

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharex=True)
cols = plt.cm.viridis(np.linspace(0, 0.9, len(Ns)))
for i, N in enumerate(Ns):
    axes[0].semilogx(sigmas, ls_raw[i], "o-", color=cols[i], label=f"net N={N}")
    axes[1].semilogx(sigmas, ls_cen[i], "o-", color=cols[i], label=f"net N={N}")
for k, style_ in (("D_G", "k--"), ("D_M", "r:")):
    axes[0].semilogx(sigmas, ref_scores[k][:, 0], style_, label=f"{k} (N={Ns[-1]})")
    axes[1].semilogx(sigmas, ref_scores[k][:, 1], style_, label=f"{k} (N={Ns[-1]})")
axes[0].axhline(PAPER_LS, color="gray", lw=0.8)
axes[0].set(xlabel="σ", ylabel="linearity score (cos)", title="paper's form (eq 11), a = b = 1/√2")
axes[1].set(xlabel="σ", ylabel="centred linearity score", title="centred at the training mean")
axes[1].legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## Fig 10: the $(a, b)$ sweep
# At each intermediate σ we take the worst score over $a^2\in\{0.99,\dots,0.5\}$ for each net.

# %%
worst_raw = np.zeros((len(Ns), len(sweep_sigmas)))
worst_cen = np.zeros_like(worst_raw)
sweep = np.zeros((len(Ns), len(a2_sweep), 2))
for i, N in enumerate(tqdm(Ns, desc="a/b sweep")):
    for j, s in enumerate(sweep_sigmas):
        vals = np.array([scores(nets[N], train_sets[N], s, a=a2**0.5) for a2 in a2_sweep])
        worst_raw[i, j], worst_cen[i, j] = vals.min(0)
        if j == 1:
            sweep[i] = vals
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for i, N in enumerate(Ns):
    axes[0].plot(a2_sweep, sweep[i, :, 0], "o-", color=cols[i], label=f"N={N}")
    axes[0].plot(a2_sweep, sweep[i, :, 1], "s--", color=cols[i])
axes[0].set(xlabel="$a^2$", ylabel="score", title=f"σ = {sweep_sigmas[1]}: raw (solid), centred (dashed)")
axes[0].legend(fontsize=7)
for j, s in enumerate(sweep_sigmas):
    axes[1].semilogx(Ns, worst_raw[:, j], "o-", label=f"raw, σ={s}")
    axes[1].semilogx(Ns, worst_cen[:, j], "s--", label=f"centred, σ={s}")
axes[1].axhline(PAPER_LS, color="gray", lw=0.8)
axes[1].set(xlabel="N", ylabel="worst score over a", title="linearity vs training-set size")
axes[1].legend(fontsize=7)
fig.tight_layout()
for j, s in enumerate(sweep_sigmas):
    print(f"sigma={s}: worst raw {np.round(worst_raw[:, j], 3)}   worst centred {np.round(worst_cen[:, j], 3)}")

# %% [markdown]
# **Test (declared at the top).** At each of the three intermediate σ, the worst-case centred score of the
# largest-$N$ net exceeds that of the smallest-$N$ net: linearity rises with $N$. The paper's absolute claim,
# raw worst-case score > 0.96 for the generalizing net, is the second statistic. The
# raw score of the *memorizing* net is also reported: if it too is above 0.96, the raw form cannot separate the
# regimes on MNIST.

# %%
raw_large, raw_small = float(worst_raw[-1].min()), float(worst_raw[0].min())
claims.record("001-linearity", f"centred worst-a LS N={Ns[0]}->{Ns[-1]}: " +
          ", ".join(f"{worst_cen[0, j]:.2f}->{worst_cen[-1, j]:.2f} (σ={s})" for j, s in enumerate(sweep_sigmas)) +
          f"; raw worst-a LS {raw_large:.3f} at N={Ns[-1]} (memorizing N={Ns[0]}: {raw_small:.3f})",
          rise=float((worst_cen[-1] - worst_cen[0]).min()), raw_large=raw_large)
claims.number("worst_centred", worst_cen.tolist())
claims.number("worst_raw", worst_raw.tolist())
claims.number("runtime_s", time.time() - t_start)
claims.finish()
