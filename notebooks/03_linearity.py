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
# nested subsets $N\in\{16,\dots,4096\}$, each at three training seeds. They are trained once, cached, and shared
# with notebooks 04 and 05. The pairs
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
seeds = [0, 1, 2]
dataset = "mnist"
size = 16
data_path = None  # for the folder and npz datasets
Ns = [16, 64, 256, 1024, 4096]
channels = 16
steps = 1200
n_pairs = 100  # pairs (x1, x2) per score, as in the paper
n_heldout = 256  # held-out images (never trained on) the pairs are drawn from
a2_sweep = [0.99, 0.87, 0.74, 0.62, 0.5]  # Fig 10's a^2
sweep_sigmas = [4.07, 1.5, 0.47]  # the intermediate levels reported prominently
second_dataset = "digits"  # the second dataset (Li et al. Figs. 12-13): the same protocol on other images
second_size = 8
second_Ns = [16, 64, 256, 1024]  # its training-set sizes (nested subsets)
n_samples = 100  # samples per net of the second dataset, for its memorized share


# %% [markdown]
# ## Claims, declared before anything is computed
# Every net is trained at each of the training seeds (initialisation and noise stream; the same nested images, pairs
# and noise). Each statistic is computed per seed and reported as the mean with its 95 % Student-t interval over
# seeds; a test *holds* when the interval is wholly on the declared side, *differs* when it is wholly on the other,
# *inconclusive* otherwise. The paper's threshold is fixed here, as the paper states it, not as a parameter.
#
# The paper's claim has three parts, each with its own row:
# - **the trend**: the worst-case (over $a$) centred score rises with $\log N$ over *all* the sizes, measured as the
#   least-squares slope per doubling of $N$ at each intermediate σ (the smallest of the three slopes decides). The
#   wrong world: linearity unrelated to $N$, or a rise carried by the two end points while the sizes between go
#   up and down; then the slope's interval straddles 0;
# - **the level, centred**: the largest-$N$ net's worst-case centred score exceeds 0.96. The wrong world: nets that
#   become more linear with $N$ but stay visibly non-linear at this scale;
# - **the level, raw (the paper's form)**: the largest-$N$ net's worst-case raw score exceeds 0.96, *and* exceeds the
#   smallest-$N$ (memorizing) net's. The second test is what makes the first mean something: on MNIST's constant
#   background a memorizing net can score high on the raw form too.
#
# And one row for a **second dataset** (Li et al. 2024, Figs. 12–13 repeat the picture on FFHQ, AFHQ and
# LSUN-Churches): the trend statistic again, on nets of the same architecture and budget trained on
# `second_dataset`. The wrong world: a rise that belongs to MNIST 16×16 (its constant background, its particular
# transition), not to the end of memorization; then the second dataset's slope straddles 0 or falls.

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("03_linearity", profile, results_dir)
PAPER_LS = 0.96  # Li et al. 2024, Fig. 1: linearity score of generalizing models
LI = "Li et al. 2024, Figs. 1 and 10"
claims.declare("001-linearity-trend", "The linearity score rises with N over the whole range of N",
               source=LI, paper="rises with N",
               statistic="per training seed, slope: least-squares slope of the worst-case (over a) centred score "
                         "against log2 N over all N, the smallest over the sweep sigmas; mean and 95 % t-interval "
                         "over seeds",
               tests={"slope": above(0.0)}, differs="nets do not become more linear with more data",
               kind="reproduction")
claims.declare("001-linearity-centred", "The generalizing (largest-N) net is linear: centred worst-case score > 0.96",
               source=LI, paper=f"LS > {PAPER_LS}",
               statistic="per training seed, centred_large: worst-case (over a and the sweep sigmas) centred score "
                         "of the largest-N net; mean and 95 % t-interval over seeds",
               tests={"centred_large": above(PAPER_LS)}, differs="more linear with N, but below the paper's score",
               kind="reproduction", superseded_by="001-linearity-centred-DM")
claims.declare("001-linearity-centred-DM", "By our centred score, the generalizing net is more linear than the "
               "memorizing optimum D_M of its own training set", source="ours: a sharper form of Li et al. 2024, "
               "Fig. 1 (the paper's 0.96 is a raw-form number and is not used here)",
               paper="(not in the paper)", kind="extension", over="seeds",
               statistic="per training seed, margin: the worst-case (over a and the sweep sigmas) centred score of the "
                         "largest-N net minus that of D_M built on the same training images, on the same pairs and "
                         "noise. Rationale: the centred score is exactly 1 for D_G (any affine map fixing the mean), "
                         "and D_M is where a net that memorizes its training set ends up; a generalizing net should "
                         "sit above it",
               tests={"margin": above(0.0)},
               wrong_world="a net that memorizes: the smallest-N net of the same seed against its own training set's D_M",
               differs="the largest-N net is no more linear than the memorizing optimum of its data")
claims.declare("001-linearity-raw", "In the paper's raw form the generalizing net scores > 0.96, above the "
               "memorizing net", source=LI, paper=f"LS > {PAPER_LS}",
               statistic="per training seed, raw_large: worst-case raw score of the largest-N net; raw_gap: that "
                         "minus the smallest-N net's; mean and 95 % t-interval over seeds",
               tests={"raw_large": above(PAPER_LS), "raw_gap": above(0.0)},
               differs="the raw form does not separate generalizing from memorizing nets on this data",
               kind="reproduction")
claims.declare("001-linearity-trend-second", f"On a second dataset ({second_dataset}, {second_size} px) the linearity "
               "score rises with N too", source="Li et al. 2024, Figs. 12-13",
               paper="rises with N on FFHQ, AFHQ and LSUN-Churches",
               statistic=f"as 001-linearity-trend, on nets trained on {second_dataset} at N = {second_Ns}",
               tests={"slope": above(0.0)}, differs=f"the rise with N does not carry to {second_dataset}",
               kind="reproduction")

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from gendiff import edm
from gendiff.cache import get_model, net_samples
from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser
from gendiff.device import stream
from gendiff.metrics import linearity_score, memorization_fraction
from gendiff.plots import style, t_ci
from gendiff.progress import tqdm
from gendiff.sampling import initial_noise
from gendiff.zoo import NetConfig, n_params

style()
t_start = time.time()
sigmas = edm.sigma_grid(10).tolist()
configs = {N: NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, channels=channels, steps=steps)
           for N in Ns}
nets, infos, train_sets = {}, {}, {}
for s in tqdm(seeds, desc="training seeds"):
    for N, cfg in tqdm(configs.items(), desc="model zoo (cached)", leave=False):
        nets[s, N], infos[s, N] = get_model(cfg.with_seed(s))
        train_sets[N], heldout = cfg.split(n_heldout)  # the held-out images are the same for every N
print(f"{n_params(nets[seeds[0], Ns[0]]):,} parameters per net; trained now: "
      f"{[k for k in nets if infos[k]['trained']]}; training speed "
      f"{np.mean([i['img_per_s'] for i in infos.values()]):.0f} img/s")


def pairs(y, n):
    """n pairs of different images of y (the same pairs for every model)."""
    g = stream(seed, "eval", 1)
    i = torch.randint(0, y.shape[0], (n,), generator=g)
    j = (i + torch.randint(1, max(y.shape[0], 2), (n,), generator=g)) % y.shape[0]
    return y[i], y[j]


def scores(D, y_train, s, a=2**-0.5, held=None):
    """Raw and centred (at D's training mean) linearity scores of D on pairs of held-out images (default: this
    dataset's), as the authors measure them (on a test split): a memorizing net's answer on its own training images
    is another question."""
    x1, x2 = pairs(heldout if held is None else held, n_pairs)
    g = lambda: stream(seed, "eval")  # noqa: E731  the same noise for every model
    return (linearity_score(D, x1, x2, s, a, generator=g()),
            linearity_score(D, x1, x2, s, a, center=y_train.mean(0), generator=g()))


# %% [markdown]
# ## Linearity score vs σ for nets trained on increasing N
# The references are $D_G$ (exactly linear around $\mu$) and the empirical-optimal $D_M$ (memorizes), both built
# on the largest training set. Lines: mean over seeds; bands: 95 % t-interval over seeds.

# %%
curves = pd.DataFrame([dict(seed=s, N=N, sigma=sg, **dict(zip(("raw", "centred"), scores(nets[s, N], train_sets[N], sg))))
                       for s in tqdm(seeds, desc="linearity") for N in Ns for sg in sigmas])
yL = train_sets[Ns[-1]]
refs = {"D_G": GaussianDenoiser.from_data(yL), "D_M": EmpiricalDenoiser(yL)}
ref_scores = {k: np.array([scores(D, yL, sg) for sg in sigmas]) for k, D in refs.items()}

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharex=True)
for ax, (j, form) in zip(axes, enumerate(("raw", "centred"))):
    sns.lineplot(curves.assign(N="N=" + curves.N.astype(str)), x="sigma", y=form, hue="N", marker="o",
                 errorbar=t_ci, palette="viridis", ax=ax)
    for k, style_ in (("D_G", "k--"), ("D_M", "r:")):
        ax.plot(sigmas, ref_scores[k][:, j], style_, label=f"{k} (N={Ns[-1]})")
    ax.set(xscale="log", xlabel="σ")
    ax.legend(fontsize=7)
axes[0].axhline(PAPER_LS, color="gray", lw=0.8)
axes[0].set(ylabel="linearity score (cos)", title="paper's form (eq 11), a = b = 1/√2")
axes[1].set(ylabel="centred linearity score", title="centred at the training mean")
fig.tight_layout()

# %% [markdown]
# ## Fig 10: the $(a, b)$ sweep
# At each intermediate σ we take the worst score over $a^2\in\{0.99,\dots,0.5\}$ for each net and seed. Left: the
# sweep at σ = 1.5 (first seed); right: the worst score against $N$ (mean and 95 % t-interval over seeds).

# %%
def sweep_table(nets_, train_sets_, held, Ns_, desc="a/b sweep"):
    """One row per (seed, N, σ, a²): raw and centred scores of each net on pairs of the held-out images."""
    return pd.DataFrame([dict(seed=s, N=N, sigma=sg, a2=a2,
                              **dict(zip(("raw", "centred"), scores(nets_[s, N], train_sets_[N], sg, a=a2**0.5, held=held))))
                         for s in tqdm(seeds, desc=desc) for N in Ns_ for sg in sweep_sigmas for a2 in a2_sweep])


sweep = sweep_table(nets, train_sets, heldout, Ns)
worst = sweep.groupby(["seed", "N", "sigma"])[["raw", "centred"]].min().reset_index()
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
first = sweep[(sweep.seed == seeds[0]) & (sweep.sigma == sweep_sigmas[1])]
for i, (N, g) in enumerate(first.groupby("N")):
    col = plt.cm.viridis(i / max(len(Ns) - 1, 1) * 0.9)
    axes[0].plot(g.a2, g.raw, "o-", color=col, label=f"N={N}")
    axes[0].plot(g.a2, g.centred, "s--", color=col)
axes[0].set(xlabel="$a^2$", ylabel="score", title=f"σ = {sweep_sigmas[1]}: raw (solid), centred (dashed)")
axes[0].legend(fontsize=7)
long = worst.melt(id_vars=["seed", "N", "sigma"], value_vars=["raw", "centred"], var_name="form")
long["form, σ"] = long["form"] + ", σ=" + long["sigma"].astype(str)
sns.lineplot(long, x="N", y="value", hue="form, σ", style="form", marker="o", errorbar=t_ci, err_style="bars",
             ax=axes[1])
axes[1].axhline(PAPER_LS, color="gray", lw=0.8)
axes[1].set(xscale="log", xlabel="N", ylabel="worst score over a", title="linearity vs training-set size")
axes[1].legend(fontsize=7)
fig.tight_layout()
worst.pivot_table(index="N", columns="sigma", values=["raw", "centred"]).round(3)  # worst over a, mean over seeds

# %% [markdown]
# ## A second dataset (Li et al. 2024, Figs. 12–13)
# The paper shows on other datasets that as $N$ grows the samples stop copying training images (Fig. 13 a, d) while
# the denoisers become more linear (Fig. 13 b, c, e, f). The same here on `second_dataset`: nets of the same
# architecture, budget and training seeds at `second_Ns`. Left, the memorized share of their samples (notebook 05's
# rule, $d_1/d_2 < 1/3$, validated on MNIST); right, the worst-case centred score at the sweep σ, as above. Mean
# and 95 % t-interval over seeds.

# %%
cfgs2 = {N: NetConfig(N=N, dataset=second_dataset, size=second_size, channels=channels, steps=steps)
         for N in second_Ns}
nets2, train2 = {}, {}
for s in tqdm(seeds, desc=f"{second_dataset}: training seeds"):
    for N, cfg in cfgs2.items():
        nets2[s, N], _ = get_model(cfg.with_seed(s))
        train2[N], heldout2 = cfg.split(n_heldout)
x_T2 = initial_noise(n_samples, tuple(heldout2.shape[1:]), seed)
mem2 = pd.DataFrame([dict(seed=s, N=N, memorized=memorization_fraction(
    net_samples(cfgs2[N].with_seed(s), nets2[s, N], x_T2), train2[N])) for s in seeds for N in second_Ns])
worst2 = sweep_table(nets2, train2, heldout2, second_Ns, f"{second_dataset}: a/b sweep").groupby(
    ["seed", "N", "sigma"])[["raw", "centred"]].min().reset_index()
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
sns.lineplot(mem2, x="N", y="memorized", marker="o", errorbar=t_ci, err_style="bars", ax=axes[0])
axes[0].set(xscale="log", xlabel="N", ylabel="memorized share (d1/d2 < 1/3)",
            title=f"{second_dataset} {second_size} px: memorization (Fig. 13 a, d)")
sns.lineplot(worst2.assign(σ=worst2.sigma.astype(str)), x="N", y="centred", hue="σ", marker="o", errorbar=t_ci,
             err_style="bars", ax=axes[1])
axes[1].set(xscale="log", xlabel="N", ylabel="worst centred score over a",
            title=f"{second_dataset} {second_size} px: linearity (Fig. 13 b, c, e, f)")
fig.tight_layout()

# %% [markdown]
# **Tests (declared at the top), per training seed, then mean and 95 % t-interval over seeds:**
# 1. The slope of the worst-case centred score against $\log_2 N$, fitted over all five sizes, is positive at each of
#    the three intermediate σ (the smallest slope decides).
# 2. The largest-$N$ net's worst-case centred score (over $a$ and the three σ) exceeds 0.96. Superseded: 0.96 is the
#    paper's number for its raw form, and the centred form is ours. It is still computed and shown.
# 2b. *Ours, replacing 2:* the largest-$N$ net's worst-case centred score exceeds that of $D_M$ built on the same
#    training images (same pairs and noise). Wrong world: the smallest-$N$ net against its own $D_M$; if it passes
#    there too, the row reads *not discriminating*.
# 3. The paper's raw form: the largest-$N$ net's worst-case score exceeds 0.96 and the smallest-$N$ net's.
# 4. Test 1 on the second dataset's nets.

# %%
def slope(g):  # least-squares slope of the worst centred score per doubling of N
    return np.polyfit(np.log2(g.N.to_numpy(float)), g.centred.to_numpy(float), 1)[0]


per_sigma = worst.groupby(["seed", "sigma"]).apply(slope, include_groups=False).rename("slope").reset_index()
by_seed = worst.groupby(["seed", "N"])[["raw", "centred"]].min().reset_index()  # worst over the sweep sigmas
per_seed = pd.DataFrame({
    "slope": per_sigma.groupby("seed").slope.min(),
    "centred_large": by_seed[by_seed.N == Ns[-1]].set_index("seed").centred,
    "raw_large": by_seed[by_seed.N == Ns[-1]].set_index("seed").raw,
    "raw_small": by_seed[by_seed.N == Ns[0]].set_index("seed").raw})
per_seed["raw_gap"] = per_seed.raw_large - per_seed.raw_small
e = {k: Estimate.t_interval(per_seed[k]) for k in per_seed}
mean_slope = per_sigma.groupby("sigma").slope.mean()
claims.record("001-linearity-trend", f"{len(seeds)} seeds: slope of the worst centred score per doubling of N: " +
              ", ".join(f"{mean_slope[sg]:+.4f} (σ={sg})" for sg in sweep_sigmas), slope=e["slope"])
claims.record("001-linearity-centred", f"worst centred score at N={Ns[-1]}: {per_seed.centred_large.mean():.3f} "
              f"(N={Ns[0]}: {by_seed[by_seed.N == Ns[0]].centred.mean():.3f})", centred_large=e["centred_large"])
dm_worst = {N: min(scores(EmpiricalDenoiser(train_sets[N]), train_sets[N], sg, a=a2**0.5)[1]
                   for sg in sweep_sigmas for a2 in a2_sweep) for N in (Ns[0], Ns[-1])}  # D_M: no seed
centred_by_N = by_seed.pivot_table(index="seed", columns="N", values="centred")
e_cdm = Estimate.t_interval(centred_by_N[Ns[-1]] - dm_worst[Ns[-1]])
e_cdm_wrong = Estimate.t_interval(centred_by_N[Ns[0]] - dm_worst[Ns[0]])
claims.record("001-linearity-centred-DM", f"worst centred score at N={Ns[-1]}: net {centred_by_N[Ns[-1]].mean():.3f} vs "
              f"its D_M {dm_worst[Ns[-1]]:.3f}; at N={Ns[0]} (wrong world): net {centred_by_N[Ns[0]].mean():.3f} vs "
              f"its D_M {dm_worst[Ns[0]]:.3f} (nets: means over {len(seeds)} seeds)",
              margin=e_cdm, wrong_world={"margin": e_cdm_wrong})
claims.record("001-linearity-raw", f"worst raw score at N={Ns[-1]}: {per_seed.raw_large.mean():.3f} (memorizing "
              f"N={Ns[0]}: {per_seed.raw_small.mean():.3f})", raw_large=e["raw_large"], raw_gap=e["raw_gap"])
slope2 = worst2.groupby(["seed", "sigma"]).apply(slope, include_groups=False).groupby("seed").min()
e["slope_second"] = Estimate.t_interval(slope2)
claims.record("001-linearity-trend-second", f"{second_dataset} {second_size} px, {len(seeds)} seeds: slope of the "
              "worst centred score per doubling of N, smallest over the sweep σ; memorized share " +
              ", ".join(f"{m:.2f} (N={N})" for N, m in mem2.groupby("N").memorized.mean().items()),
              slope=e["slope_second"])
claims.number("worst", worst.to_dict("records"))
claims.number("worst_second", worst2.to_dict("records"))
claims.number("memorized_second", mem2.to_dict("records"))
claims.number("per_seed", per_seed.reset_index().to_dict("records"))
claims.number("centred_DM_worst", {str(N): v for N, v in dm_worst.items()})
claims.number("runtime_s", time.time() - t_start)
claims.finish()

# %% [markdown]
# **Reading.** Rendered from this run's numbers:

# %%
say(f"Over {len(seeds)} training seeds the worst-case centred score rises by {e['slope']} per doubling of N (the "
    f"smallest of the three σ): **{claims.verdict('001-linearity-trend')}**. The largest-N net's worst-case centred "
    f"score is {e['centred_large']} against the paper's {PAPER_LS} (`001-linearity-centred`, superseded: it read "
    f"**{claims.verdict('001-linearity-centred')}**, but 0.96 is the paper's raw-form number); our own test asks "
    f"instead whether it is above its training set's $D_M$: by {e_cdm}, **{claims.verdict('001-linearity-centred-DM')}** "
    f"(the memorizing net against its $D_M$: {e_cdm_wrong}). "
    f"In the paper's raw form it scores {e['raw_large']}, above the memorizing net by {e['raw_gap']}: "
    f"**{claims.verdict('001-linearity-raw')}**. On {second_dataset} at {second_size} px the same slope is "
    f"{e['slope_second']}: **{claims.verdict('001-linearity-trend-second')}**.")
