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
# (forward process) and on final samples from the same noise, with the winner of each column. Samples are compared
# with the net's in three ways, because pixel RMSE rewards blur (a blurred digit is nearer in RMSE than a sharp digit
# shifted by a pixel): pixel RMSE, 1 − SSIM (structure, Wang et al. 2004) and the RMSE between the features of a
# small digit classifier trained on held-out images (`gendiff.classifier`); the classifier's confidence is a quality
# proxy, and the distance of the samples to their nearest training image is shown next to the net's own.
#
# **Setting.** MNIST 16×16; U-Nets of channel base 8/16/32 on $N = 1024$ images (generalizing), and channel base 16
# on $N = 64$ (memorizing, notebook 05) as a contrast. Schedules are calibrated per net on held-out images and
# cached (`gendiff.analytic`), shared with notebook 10. Bands: high σ ∈ [3, 80], mid [0.3, 3], low [0.002, 0.3].

# %% tags=["parameters"]
profile = "default"
results_dir = None  # where the claims are recorded (null: runs/<profile>/results)
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
n_samples = 64
seeded = 16  # the channel base whose zoo nets are scored at every training seed
more_seeds = [1, 2]  # those nets also at these training seeds (cached by notebooks 05 and 08)
pretrained = None  # paths of pretrained nets, one per zoo entry, used in place of training (gendiff.pretrained)
pretrained_kind = "edm"  # their format: "edm" (a net computing D(x, sigma)) or "ddpm" (a diffusers DDPM folder)


# %% [markdown]
# ## Claims, declared before anything is computed
# The zoo's c = 16 nets (`seeded`; the generalizing and the memorizing one) are scored at three training seeds, each
# calibrated on its own; the others have one seed. A row on MSE takes each net's mean over its seeds with a
# t-interval, then the worst net, its interval between the ends of the nets' intervals (`Estimate.extreme`). A row on
# samples takes the worst net *and seed* on `n_samples` samples from shared noise, with a bootstrap interval over
# the samples. Each verdict on samples names the measure that decides it: pixel RMSE for
# `002-leaderboard-samples`, 1 − SSIM for `002-leaderboard-samples-ssim` (declared before either was computed with
# SSIM). The wrong world for both: a global denoiser (D_G, D_M, smoothed D_M) whose samples are nearer the net's than
# every local one's.
#
# *Declared after a referee read, before the run that decides it:* the candidates now include $D_M$ with a
# temperature calibrated per σ (`tempered D_M`, a global denoiser with the same per-σ freedom as the patch sizes), and
# ELS is the authors' definition (circular padding). `002-leaderboard-memorizing-equal` tests an explanation of the
# memorizing row: that it differed because the patch composites had a calibrated knob per σ and $D_M$ none.

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("11_leaderboard", profile, results_dir)
LOCAL = ("PSPC-Square", "PSPC-Flex", "ELS")
claims.declare("002-leaderboard-mid", "A local analytic denoiser (PSPC or ELS) explains every generalizing net best in "
               "the mid band", source="ours, after Niedoba et al. 2025", paper="(beyond the papers)",
               statistic="margin: smallest (over generalizing nets; c = 16 at three seeds, mean; each net's interval "
                         "the hull of its t-interval over seeds and a bootstrap over the evaluation inputs) ratio of "
                         "the best non-local to the best local MSE in the mid band [0.3, 3]",
               tests={"margin": above(1.0)},
               differs="a global denoiser (D_G, D_M, smoothed or tempered D_M) explains some generalizing net better",
               kind="extension")
claims.declare("002-leaderboard-samples", "A local analytic denoiser gives the samples nearest the net's",
               source="ours, after Niedoba et al. 2025", paper="(beyond the papers)",
               statistic="margin: smallest (over generalizing nets and seeds) ratio of the best non-local to the "
                         "best local pixel RMSE of samples from shared noise, bootstrap over the samples",
               tests={"margin": above(1.0)}, differs="a global denoiser's samples are nearer", kind="extension")
claims.declare("002-leaderboard-samples-ssim", "A local analytic denoiser gives the samples structurally nearest the "
               "net's (SSIM)", source="ours, after Niedoba et al. 2025", paper="(beyond the papers)",
               statistic="margin: the same ratio for 1 - SSIM (Wang et al. 2004) between samples from shared noise, "
                         "bootstrap over the samples",
               tests={"margin": above(1.0)}, differs="a global denoiser's samples are structurally nearer",
               kind="extension")
claims.declare("002-leaderboard-memorizing", "For a memorizing net D_M is (near) the best mid-band explanation",
               source="ours, after Niedoba et al. 2025", paper="(beyond the papers)",
               statistic="ratio: D_M's mid-band MSE / the best analytic denoiser's (memorizing nets, worst; c = 16 at "
                         "three seeds, mean; interval: hull of the t-interval over seeds and a bootstrap over the "
                         "evaluation inputs)",
               tests={"ratio": below(1.2)}, differs="even a memorizing net is better explained by a patch composite",
               kind="extension")
claims.declare("002-leaderboard-memorizing-equal", "For a memorizing net, D_M given the same per-sigma freedom (a "
               "temperature) is (near) the best mid-band explanation", source="ours: tests the explanation of "
               "002-leaderboard-memorizing", paper="(beyond the papers)", kind="extension",
               statistic="ratio: tempered D_M's mid-band MSE / the best analytic denoiser's (memorizing nets, worst; "
                         "c = 16 at three seeds, mean; interval: hull of the t-interval over seeds and a bootstrap "
                         "over the evaluation inputs)",
               tests={"ratio": below(1.2)}, explains="002-leaderboard-memorizing",
               differs="even at equal freedom a patch composite explains the memorizing net better than D_M")

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gendiff import analytic, edm
from gendiff.cache import get_model
from gendiff.data import load_dataset
from gendiff.device import stream_seed
from gendiff.classifier import get_classifier, prediction_measures
from gendiff.data import LABELLED
from gendiff.metrics import nn_rmse, paired_distances
from gendiff.plots import style
from gendiff.progress import tqdm
from gendiff.sampling import edm_sampler, initial_noise
from gendiff.zoo import NetConfig

style()
data = load_dataset(dataset, size=size, data_path=data_path)
sigmas = edm.sigma_grid(n_sigmas).tolist()
bands = {f"{b} [{edm.BANDS[b][0]:g},{edm.BANDS[b][1]:g}]": b for b in ("high", "mid", "low")}  # column: band
x_T = initial_noise(n_samples, tuple(data.shape[1:]), seed)
clf = get_classifier()[0] if dataset in LABELLED and size == 16 else None  # feature distance and quality proxy


rows, dists, per_img = [], {}, {}  # dists[net, seed, denoiser]: per-sample distances of its samples to the net's;
# per_img[net, seed]: each denoiser's per-image MSE to the net at every level
runs = [(i, c, N, s) for i, (c, N) in enumerate(zoo) for s in [seed] + (list(more_seeds) if c == seeded else [])]
for i, c, N, s in tqdm(runs, desc="zoo nets x seeds"):
    cfg = NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, channels=c, steps=steps, seed=s,
                    pretrained=pretrained[i] if pretrained else None, pretrained_kind=pretrained_kind)
    net, _ = get_model(cfg)
    y, y_out = cfg.split(n_cal)  # training images; held-out ones calibrate
    analytic.check_disjoint(y[:n_eval], y_out)  # scored on inputs the calibration never saw
    heat = analytic.heatmaps(cfg, net, y[:n_heat], sigmas, seed=seed)
    dens = analytic.analytic_denoisers(y, analytic.calibrated(cfg, net, y, y_out, sigmas, heat, seed=seed), heat)
    per = analytic.cached_mse(cfg, net, dens, analytic.forward_inputs(y[:n_eval], sigmas, seed=stream_seed(seed, "eval")),
                              per_image=True)
    per_img[f"c={c}, N={N}", s] = {name: np.stack([v.numpy() for v in vs]) for name, vs in per.items()}  # (levels, n)
    mse = {name: [float(v.mean()) for v in vs] for name, vs in per.items()}
    dens_s = analytic.cached_samples(cfg, dens, x_T, num_steps=18)  # each denoiser's samples, cached with the net
    net_s = edm_sampler(net, x_T, num_steps=18).clamp(-1, 1)
    net_nn = nn_rmse(net_s, y)
    for name, xs in dens_s.items():
        row = {"net": f"c={c}, N={N}", "seed": s, "denoiser": name}
        for col, b in bands.items():
            row[col] = edm.band_mean(mse[name], sigmas, b)
        d = dists[row["net"], s, name] = paired_distances(xs, net_s, features=clf.features if clf is not None else None)
        row["samples: RMSE to net"] = float(d["pixel RMSE"].mean())
        row["samples: 1 - SSIM to net"] = float(d["1 - SSIM"].mean())
        if clf is not None:
            row["samples: feature RMSE to net"] = float(d["feature RMSE"].mean())
            row["samples: confidence"] = prediction_measures(clf, xs)["confidence"]
            row["net's confidence"] = prediction_measures(clf, net_s)["confidence"]
        row["samples: NN dist"] = nn_rmse(xs, y)
        row["net's NN dist"] = net_nn
        rows.append(row)
tidy = pd.DataFrame(rows)  # a row per net x seed x denoiser
board = tidy.drop(columns="seed").groupby(["net", "denoiser"], sort=False).mean()  # means over the seeds
cols = list(bands) + [c for c in board.columns if c.startswith("samples:") and "to net" in c]
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
# **Tests (declared at the top):**
# 1. In the mid band, a *local* denoiser (PSPC-Square, PSPC-Flex or ELS) wins for every generalizing net.
# 2. On final samples, a local denoiser is nearest the net's samples for every generalizing net: in pixel RMSE, and
#    (its own row) in 1 − SSIM.
# 3. For the memorizing net ($N = 64$), $D_M$ is the best or within 20 % of the best in the mid band; and (declared
#    after the referee read) the same for $D_M$ with a temperature per σ, the test of why 3 differed.
#
# The c = 16 nets count at each of three seeds: MSE rows on the mean over seeds, sample rows at the worst seed with a
# bootstrap over the samples. *Declared before the run that decides it (issue 30, item 2):* each net's interval in the
# MSE rows is the hull (`Estimate.hull`) of its t-interval over seeds and a percentile bootstrap over the evaluation
# inputs (the noised training images, resampled alike at every level, seed and denoiser; ELS, scored on the first
# few, uses the resampled ones among its own: `analytic.band_means`). A hull only widens, so a verdict can move to
# inconclusive but never across; the reading says which rows the seeds alone would have decided.

# %%
gen = [n for n in nets if not n.endswith("N=64")]
mem = [n for n in nets if n.endswith("N=64")]


def ratio_best(t, col, top, rest):
    """Best (lowest) value among denoisers ``top`` / best among ``rest``, in column col of one net x seed's rows."""
    v = t.set_index("denoiser")[col]
    return min(v[d] for d in top) / min(v[d] for d in rest)


def boot_best(n, col, top, rest):
    """Net n's best-of-top / best-of-rest ratio (mean over its seeds) with a percentile bootstrap over the
    evaluation inputs, resampled alike at every level, seed and denoiser."""
    band, keys = bands[col], [k for k in per_img if k[0] == n]

    def stat(rows_):
        bms = [analytic.band_means(per_img[k], sigmas, band, rows_[:, 0].astype(int)) for k in keys]
        return float(np.mean([min(b[d] for d in top) / min(b[d] for d in rest) for b in bms]))
    return Estimate.bootstrap(np.arange(n_eval)[:, None], stat=stat, over="inputs")


def over_seeds(which, col, top, rest, extreme, inputs=True):
    """Each net's ratio at each seed -> its mean and t-interval over seeds, hulled with the bootstrap over the
    evaluation inputs (unless not inputs) -> the extreme over nets."""
    return Estimate.extreme([Estimate.hull([Estimate.t_interval([ratio_best(g, col, top, rest) for _, g in
                                                                 tidy[tidy.net == n].groupby("seed")])]
                                           + ([boot_best(n, col, top, rest)] if inputs else []))
                             for n in which], extreme)


NONLOCAL = [d for d in dnames if d not in LOCAL]
gen_runs = [(n, s) for n, s in dict.fromkeys(zip(tidy.net, tidy.seed)) if n in gen]


def sample_margin(measure):
    """Smallest (over generalizing nets and seeds) best non-local / best local mean distance, with a bootstrap
    interval over the shared noise draws (the same resampled draws for every net and denoiser)."""
    def stat(idx):
        idx = idx[:, 0].astype(int)
        return min(min(dists[n, s, d][measure][idx].mean() for d in NONLOCAL)
                   / min(dists[n, s, d][measure][idx].mean() for d in LOCAL) for n, s in gen_runs)
    return Estimate.bootstrap(np.arange(n_samples)[:, None], stat=stat, over="samples")


mid = "mid [0.3,3]"
claims.record("002-leaderboard-mid", "mid-band winners (seed means): " +
              ", ".join(f"{n}: {winners.loc[n, mid]}" for n in nets),
              margin=over_seeds(gen, mid, NONLOCAL, LOCAL, "min"))
claims.record("002-leaderboard-samples", "sample winners (seed means): " +
              ", ".join(f"{n}: {winners.loc[n, 'samples: RMSE to net']}" for n in nets),
              margin=sample_margin("pixel RMSE"))
claims.record("002-leaderboard-samples-ssim", "sample winners in 1 - SSIM (seed means): " +
              ", ".join(f"{n}: {winners.loc[n, 'samples: 1 - SSIM to net']}" for n in nets),
              margin=sample_margin("1 - SSIM"))
claims.record("002-leaderboard-memorizing", "memorizing net, mid band (seed means): D_M " +
              ", ".join(f"{board.loc[(n, 'D_M'), mid]:.4f} vs best {board.loc[n][mid].min():.4f}" for n in mem),
              ratio=over_seeds(mem, mid, ["D_M"], dnames, "max") if mem else float("nan"))
claims.record("002-leaderboard-memorizing-equal", "memorizing net, mid band (seed means): tempered D_M " +
              ", ".join(f"{board.loc[(n, 'tempered D_M'), mid]:.4f} vs best "
                        f"{board.loc[n][mid].min():.4f} ({winners.loc[n, mid]})" for n in mem),
              ratio=over_seeds(mem, mid, ["tempered D_M"], dnames, "max") if mem else float("nan"))
MSE_ROWS = {"002-leaderboard-mid": ("margin", gen, ["NONLOCAL"], "min"),
            "002-leaderboard-memorizing": ("ratio", mem, ["D_M"], "max"),
            "002-leaderboard-memorizing-equal": ("ratio", mem, ["tempered D_M"], "max")}
by_source = []  # each MSE row's interval from seeds alone and with the inputs' bootstrap, and what each decides
for row, (stat_, which, top, ext) in MSE_ROWS.items():
    if which:
        top_, rest_ = (NONLOCAL, LOCAL) if top == ["NONLOCAL"] else (top, dnames)
        e_t = over_seeds(which, mid, top_, rest_, ext, inputs=False)
        by_source.append(dict(row=row, seeds_alone=str(e_t), verdict_seeds_alone=claims.decide(row, **{stat_: e_t}),
                              with_inputs=str(Estimate(**claims.recorded[row]["stats"][stat_])),
                              verdict=claims.verdict(row)))
by_source = pd.DataFrame(by_source).set_index("row")
claims.number("winners", winners.reset_index().to_dict("records"))
claims.number("intervals_by_source", by_source.reset_index().to_dict("records"))
claims.finish()

# %% [markdown]
# **Reading.** The winners per column are in the table above; the sentence below is rendered from this run. ELS
# takes patches from *every* position, so at high noise its output is the average pixel of the whole dataset, not
# the average pixel *at that position*; MNIST digits are centred, and the nets have learned where they lie.

# %%
hi_col = [c for c in cols if c.startswith("high")][0]
say("High band, ELS vs PSPC-Square (MSE to the net): " + ", ".join(
    f"{n}: {board.loc[(n, 'ELS'), hi_col]:.3g} vs {board.loc[(n, 'PSPC-Square'), hi_col]:.3g}" for n in nets) +
    ". Memorizing net, mid band: " + ", ".join(
    f"{n}: D_M {board.loc[(n, 'D_M'), 'mid [0.3,3]']:.3g}, best {winners.loc[n, 'mid [0.3,3]']} "
    f"{board.loc[n]['mid [0.3,3]'].min():.3g}" for n in mem) + ".")

# %% [markdown]
# **Two sources of variation.** Each MSE row's interval from the training seeds alone and with the bootstrap over
# the evaluation inputs (the recorded one), and what the declared test says of each:

# %%
moved = by_source[by_source.verdict != by_source.verdict_seeds_alone]
say("The bootstrap over the evaluation inputs " + ("moves no verdict: every MSE row decides the same on the seeds "
    "alone." if moved.empty else "moves " + ", ".join(f"`{r}` from **{m.verdict_seeds_alone}** to **{m.verdict}**"
                                                     for r, m in moved.iterrows()) + "."))
by_source
