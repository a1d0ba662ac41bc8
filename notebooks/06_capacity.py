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
# # 06 · Capacity: smaller models keep the Gaussian bias (Li et al. 2024, Fig 7)
#
# **Claim (Li, Dai & Qu 2024, Fig 7).** At a fixed, small training set ($N = 1094$ on FFHQ), sweeping the channel
# base from 4 to 128 (64k to 64M parameters), the smaller models sit closer to the Gaussian denoiser $D_G$ in the
# intermediate noise band, and the large ones memorize. The paper's caveat: small models are under-trained at
# high noise, so their distance to $D_G$ there is larger.
#
# **Our setting vs the paper's.** MNIST 16×16 ($d = 256$), $N = 64$: a size at which the channel-16 net memorizes
# (notebook 05). Channel bases 4, 8, 16, 32 (17k to 1.1M parameters), 1200 steps each, and three training seeds per
# width (the paper shows one model per width). The nets are cached; c = 16 at the first seed is shared with notebooks
# 03–05.

# %% tags=["parameters"]
profile = "default"
results_dir = None  # where the claims are recorded (null: runs/<profile>/results)
seed = 0  # the evaluation draws: sampling noise and the noise of the RMSE inputs
seeds = [0, 1, 2]  # training seeds of every net (initialisation and noise stream; the same N images)
dataset = "mnist"
size = 16
data_path = None  # for the folder and npz datasets
N = 64
channel_bases = [4, 8, 16, 32]
steps = 1200
n_samples = 100
n_eval = 256


# %% [markdown]
# ## Claims, declared before anything is computed
# Every width is trained at each of the training seeds (initialisation and noise stream; the same $N$ images and the
# same evaluation noise). Each statistic is computed per seed and reported as the mean over seeds with its 95 %
# Student-t interval; a test *holds* only when the whole interval is on the declared side, *differs* when it is wholly
# on the other side, and is *inconclusive* when it straddles the threshold.
#
# What would fail each test: in a world where capacity does not control memorization at this $N$ (every width
# memorizes, or none does), the memorized-share gap straddles 0; if the small nets were simply worse denoisers
# everywhere, they would be *farther* from $D_G$ in the intermediate band and the margin would be negative.

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("06_capacity", profile, results_dir)
LI = "Li et al. 2024"
claims.declare("001-capacity", "At fixed small N, smaller models memorize less and sit closer to D_G at intermediate "
               "noise", source=f"{LI}, Fig. 7", paper="qualitative",
               statistic="per training seed, mem_gap: memorized share (d1/d2 < 1/3) of the largest minus the smallest "
                         "model; dg_margin: smallest (over sigma = 1.5, 0.47) RMSE(largest, D_G) - RMSE(smallest, "
                         "D_G); mean and 95 % t-interval over seeds",
               tests={"mem_gap": above(0.0), "dg_margin": above(0.0)},
               differs="capacity does not control memorization at this N", kind="reproduction")
claims.declare("001-capacity-high-noise", "Small models are under-trained at high noise (farther from D_G at sigma = 80)",
               source=f"{LI}, Fig. 7 caveat", paper="qualitative",
               statistic="per training seed, margin: RMSE(smallest, D_G) - RMSE(largest, D_G) at sigma = 80; mean "
                         "and 95 % t-interval over seeds",
               tests={"margin": above(0.0)}, differs="small models fit high noise as well as large ones",
               kind="reproduction")

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from gendiff import edm
from gendiff.cache import get_model, net_samples
from gendiff.denoisers import GaussianDenoiser
from gendiff.device import stream
from gendiff.metrics import generalization_score, memorization_fraction, score_field_rmse
from gendiff.plots import image_grid, style, t_ci
from gendiff.progress import tqdm
from gendiff.sampling import initial_noise
from gendiff.zoo import NetConfig, n_params

style()
sigmas = edm.sigma_grid(10).tolist()
cfgs = {c: NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, channels=c, steps=steps)
        for c in channel_bases}
y, y_out = cfgs[channel_bases[0]].split(n_eval)  # the same N images for every width and seed (one data_seed)
G = GaussianDenoiser.from_data(y)
x_T = initial_noise(n_samples, tuple(y.shape[1:]), seed)
runs, curves, samples = [], [], {}  # tidy: one row per (seed, width), and per (seed, width, sigma)
for s in tqdm(seeds, desc="training seeds"):
    for c in tqdm(channel_bases, desc="channel bases", leave=False):
        net, info = get_model(cfgs[c].with_seed(s))
        xs = net_samples(cfgs[c].with_seed(s), net, x_T)  # cached with the net
        samples[s, c] = xs
        runs.append(dict(seed=s, c=c, params=n_params(net), memorized=memorization_fraction(xs, y),
                         GL=generalization_score(xs, y)))
        curves += [dict(seed=s, c=c, sigma=sg, rmse=score_field_rmse(net, G, y_out, sg, generator=stream(seed, "eval")))
                   for sg in sigmas]
runs, curves = pd.DataFrame(runs), pd.DataFrame(curves)
runs.groupby("c")[["params", "memorized", "GL"]].agg(["mean", "std"]).round(3)

# %% [markdown]
# Distance to $D_G$ per width (mean over seeds, bars: 95 % t-interval over seeds), and the memorized share against
# the number of parameters. Below: samples from the same noise, one row per width (the first training seed).

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
sns.lineplot(curves, x="sigma", y="rmse", hue="c", marker="o", errorbar=t_ci, err_style="bars", palette="viridis",
             ax=axes[0])
axes[0].set(xscale="log", yscale="log", xlabel="σ", ylabel="RMSE(net, D_G), held-out inputs",
            title=f"N = {N}: distance to D_G")
axes[0].axvspan(0.1, 20, color="orange", alpha=0.08)
long = runs.melt(id_vars=["seed", "c", "params"], value_vars=["memorized", "GL"], var_name="measure")
sns.pointplot(long, x="c", y="value", hue="measure", errorbar=t_ci, capsize=0.1, ax=axes[1])
axes[1].set(xlabel="channel base c (parameters: " +
            ", ".join(f"{p / 1e3:.0f}k" for p in runs.groupby("c")["params"].first()) + ")",
            title="memorization vs capacity", ylabel="share / score")
fig.tight_layout()
fig = image_grid({f"c={c}": samples[seeds[0], c][:10] for c in channel_bases}, title="samples from the same noise")

# %% [markdown]
# **Tests (declared at the top), each per training seed, then mean and 95 % t-interval over seeds:**
# 1. The smallest model memorizes a smaller share of its samples than the largest.
# 2. At σ = 1.5 and 0.47 the smallest model is closer to $D_G$ than the largest.
# 3. The paper's caveat: at σ = 80 the smallest model is *farther* from $D_G$ than the largest (under-trained at high
#    noise).

# %%
near = lambda v: min(sigmas, key=lambda x: abs(x - v))  # noqa: E731  the grid level nearest v
small, large = channel_bases[0], channel_bases[-1]
wide = curves.pivot_table(index=["seed", "sigma"], columns="c", values="rmse")
mem = runs.pivot_table(index="seed", columns="c", values="memorized")
per_seed = pd.DataFrame({
    "mem_gap": mem[large] - mem[small],
    "dg_margin": pd.concat([wide.xs(near(v), level="sigma")[large] - wide.xs(near(v), level="sigma")[small]
                            for v in (1.5, 0.47)], axis=1).min(axis=1),
    "margin_80": wide.xs(sigmas[0], level="sigma")[small] - wide.xs(sigmas[0], level="sigma")[large]})
est = {k: Estimate.t_interval(per_seed[k]) for k in per_seed}
at = {v: wide.xs(near(v), level="sigma").mean() for v in (1.5, 0.47)}
claims.record("001-capacity", f"N={N}, {len(seeds)} seeds: memorized c={small}: {mem[small].mean():.0%} vs c={large}: "
              f"{mem[large].mean():.0%}; mean RMSE to D_G at σ=1.5/0.47: " +
              "/".join(f"{at[v][small]:.3f}" for v in at) + " vs " + "/".join(f"{at[v][large]:.3f}" for v in at),
              mem_gap=est["mem_gap"], dg_margin=est["dg_margin"])
claims.record("001-capacity-high-noise", f"mean RMSE to D_G at σ={sigmas[0]:.3g} over {len(seeds)} seeds: c={small} "
              f"{wide.xs(sigmas[0], level='sigma')[small].mean():.3f} vs c={large} "
              f"{wide.xs(sigmas[0], level='sigma')[large].mean():.3f}", margin=est["margin_80"])
claims.number("memorized", {int(c): v for c, v in runs.groupby("c")["memorized"].mean().items()})
claims.number("per_seed", per_seed.reset_index().to_dict("records"))
claims.finish()

# %% [markdown]
# **Reading.** Rendered from this run's numbers:

# %%
say(f"Over {len(seeds)} training seeds at $N = {N}$, the memorized share of the largest net (c = {large}) minus that "
    f"of the smallest (c = {small}) is {est['mem_gap']}, and the smallest net is nearer $D_G$ in the intermediate band "
    f"by {est['dg_margin']} (RMSE). At σ = {sigmas[0]:.3g} the smallest net is farther from $D_G$ by "
    f"{est['margin_80']}: verdicts **{claims.verdict('001-capacity')}** and "
    f"**{claims.verdict('001-capacity-high-noise')}**.")
