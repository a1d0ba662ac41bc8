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
# # 11 · Leaderboard: which training-free denoiser explains which net, where? (beyond the papers)
#
# One table and one figure that score every analytic denoiser of the study — Gaussian $D_G$, empirical $D_M$,
# PSPC-Square, PSPC-Flex, the ELS machine, the smoothed $D_M$ — against every trained net of the zoo, by noise band
# (forward process) and on final samples from the same noise (pixel RMSE to the net's sample, and the distance of
# the samples to their nearest training image next to the net's own), with the winner of each column.
#
# **Setting.** MNIST 16×16; U-Nets of channel base 8/16/32 on $N = 1024$ images (generalizing), and channel base 16
# on $N = 64$ (memorizing, notebook 05) as a contrast. Schedules are calibrated per net on held-out images and
# cached (`gendiff.analytic`), shared with notebook 10. Bands: high σ ∈ [3, 80], mid [0.3, 3], low [0.002, 0.3].

# %% tags=["parameters"]
profile = "default"
seed = 0
dataset = "mnist"
size = 16
data_path = None
zoo = [[8, 1024], [16, 1024], [32, 1024], [16, 64]]  # [channel base, N]
steps = 1200
n_eval = 32
n_cal = 32
n_heat = 8
n_sigmas = 10
n_samples = 8
assert_verdicts = True  # the verdict needs nets trained at the default scale; only the smoke profile turns this off

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from gendiff import analytic, edm
from gendiff.cache import get_model
from gendiff.data import load_dataset, train_test_split
from gendiff.metrics import nn_rmse, pixel_rmse
from gendiff.plots import style
from gendiff.progress import tqdm
from gendiff.results import Results
from gendiff.sampling import edm_sampler
from gendiff.zoo import NetConfig

style()
res = Results("11_leaderboard", profile)
t_start = time.time()
data = load_dataset(dataset, size=size, data_path=data_path)
sigmas = edm.sigma_grid(n_sigmas).tolist()
bands = {"high [3,80]": (3, 80), "mid [0.3,3]": (0.3, 3), "low [0.002,0.3]": (0.002, 0.3)}
x_T = edm.SIGMA_MAX * torch.randn((n_samples, *data.shape[1:]), generator=torch.Generator().manual_seed(seed + 11))


rows = []
for c, N in tqdm(zoo, desc="zoo"):
    cfg = NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, channels=c, steps=steps, seed=seed)
    net, _ = get_model(cfg, device="cpu")
    y, y_out = train_test_split(data, N, n_cal, seed=0)
    heat = analytic.heatmaps(cfg, net, y[:n_heat], sigmas, seed=seed)
    dens = analytic.analytic_denoisers(y, analytic.calibrated(cfg, net, y, y_out, sigmas, heat, seed=seed), heat)
    mse = analytic.mse_to(net, dens, analytic.forward_inputs(y[:n_eval], sigmas, seed=seed + 12))
    net_s = edm_sampler(net, x_T, num_steps=18).clamp(-1, 1)
    net_nn = nn_rmse(net_s, y)
    for name, D in dens.items():
        xs = edm_sampler(D, x_T, num_steps=18).clamp(-1, 1)
        row = {"net": f"c={c}, N={N}", "denoiser": name}
        for b, (lo, hi) in bands.items():
            row[b] = float(np.mean([m for m, s in zip(mse[name], sigmas) if lo <= s <= hi]))
        row["samples: RMSE to net"] = pixel_rmse(xs, net_s)
        row["samples: NN dist"] = nn_rmse(xs, y)
        row["net's NN dist"] = net_nn
        rows.append(row)
board = pd.DataFrame(rows).set_index(["net", "denoiser"])
cols = list(bands) + ["samples: RMSE to net"]
winners = board[cols].groupby(level="net").idxmin().apply(lambda s: s.map(lambda t: t[1]))
board.round(4)

# %% [markdown]
# The winner (lowest MSE or RMSE to the net) per net and column:

# %%
winners

# %%
nets = list(dict.fromkeys(board.index.get_level_values(0)))
dnames = list(dict.fromkeys(board.index.get_level_values(1)))
fig, axes = plt.subplots(1, len(cols), figsize=(4.2 * len(cols), 4), sharey=True)
for ax, col in zip(axes, cols):
    M = np.array([[board.loc[(n, d), col] for n in nets] for d in dnames])
    im = ax.imshow(np.log10(M), cmap="viridis_r", aspect="auto")
    ax.grid(False)
    for j in range(len(nets)):
        ax.add_patch(plt.Rectangle((j - 0.5, M[:, j].argmin() - 0.5), 1, 1, fill=False, ec="r", lw=2))
    ax.set(xticks=range(len(nets)), title=f"log10 {col}")
    ax.set_xticklabels(nets, rotation=40, ha="right", fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.046)
axes[0].set(yticks=range(len(dnames)), yticklabels=dnames)
fig.suptitle("analytic denoisers vs trained nets (red: winner per net)")
fig.tight_layout()

# %% [markdown]
# **Verdicts**, stated before measuring:
# 1. In the mid band, a *local* denoiser (PSPC-Square, PSPC-Flex or ELS) wins for every generalizing net. Asserted.
# 2. On final samples, a local denoiser is nearest the net's samples for every generalizing net. Recorded.
# 3. For the memorizing net ($N = 64$), $D_M$ is the best or within 20 % of the best in the mid band. Recorded.

# %%
local = {"PSPC-Square", "PSPC-Flex", "ELS"}
gen = [n for n in nets if not n.endswith("N=64")]
ok_mid = all(winners.loc[n, "mid [0.3,3]"] in local for n in gen)
ok_samples = all(winners.loc[n, "samples: RMSE to net"] in local for n in gen)
mem = [n for n in nets if n.endswith("N=64")]
ok_mem = all(board.loc[(n, "D_M"), "mid [0.3,3]"] <= 1.2 * board.loc[n]["mid [0.3,3]"].min() for n in mem)
res.claim("002-leaderboard-mid", "mid-band winners: " + ", ".join(f"{n}: {winners.loc[n, 'mid [0.3,3]']}" for n in nets),
          ok_mid)
res.claim("002-leaderboard-samples", "sample winners: " +
          ", ".join(f"{n}: {winners.loc[n, 'samples: RMSE to net']}" for n in nets), ok_samples)
res.claim("002-leaderboard-memorizing", "memorizing net, mid band: D_M " +
          ", ".join(f"{board.loc[(n, 'D_M'), 'mid [0.3,3]']:.4f} vs best {board.loc[n]['mid [0.3,3]'].min():.4f}"
                    for n in mem), ok_mem)
res.number("winners", winners.reset_index().to_dict("records"))
res.number("runtime_s", time.time() - t_start)
if assert_verdicts:
    assert ok_mid, f"a non-local denoiser wins the mid band: {winners['mid [0.3,3]'].to_dict()}"

# %% [markdown]
# **Reading (default profile).** A patch composite wins every column but one for the three generalizing nets:
# PSPC-Square or PSPC-Flex in the high and mid bands, and PSPC-Flex on samples from the same noise (pixel RMSE
# 0.19–0.21 to the net's sample, against 0.21–0.23 for $D_G$ and 0.34–0.36 for $D_M$). In the low band the ELS machine
# edges out PSPC (both ≈ 4e-4): at low noise every local denoiser is nearly the identity. Two surprises:
# - **ELS is the worst at high noise** (0.08–0.11, ten times PSPC). With small patches taken from *every* position,
#   its high-noise output is the average pixel of the whole dataset, not the average pixel *at that position*. MNIST
#   digits are centred, and the nets have learned where they lie.
# - **The memorizing net ($N = 64$) is not best explained by $D_M$** in the mid band (0.016, PSPC-Flex 0.009), even
#   though its samples copy training images (PSPC-Square's samples do too: NN distance 0.04). Memorization shows
#   in the samples, and less in the one-step denoiser at intermediate noise. Verdict 3 is recorded as "differs".
#
# The smoothed $D_M$, with the smoothing calibrated per net, stays next to $D_M$: the best α is small, and its samples
# are training images (NN distance 0.001).
