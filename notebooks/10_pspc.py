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
# # 10 · PSPC: patch posterior composites reproduce the networks without training (Niedoba et al. 2025, Figs 1, 2, 7, 9)
#
# **Claims (Niedoba et al. 2025).** Composites of patch posterior means — PSPC-Square (all $s \times s$ crops, $s$
# scheduled with the noise) and PSPC-Flex (one crop per pixel from its gradient-sensitivity map, a mass fraction
# $\lambda$ scheduled with the noise) — match trained networks far better than the empirical-optimal denoiser $D_M$,
# better than the Gaussian denoiser $D_G$ mainly for $t \in [0.3, 3]$, and Flex better than Square; their samples
# resemble the network's from the same noise.
#
# **Our setting vs the paper's.** MNIST 16×16, U-Nets of channel base 8/16/32 on $N = 1024$ images (notebook 09's
# zoo). The paper hand-picked its CIFAR schedules (they ship in `gendiff.denoisers.patch`, but sizes of 32×32 images
# do not transfer to 16×16); we **calibrate** each schedule per net and per σ on forward-process inputs from
# *held-out* images (`gendiff.analytic.calibrated`), then evaluate on other inputs: the forward process of training
# images and each net's own reverse trajectory. Baselines: $D_M$, $D_G$, the ELS machine (Kamb & Ganguli 2025, as
# its authors define it: circular padding, training patches wholly inside the image; our earlier zero-padded variant is
# `analytic.ELS_ZERO_PADDED`), a smoothed $D_M$ (after Scarvelis et al. 2023) and a *tempered* $D_M$ (ours: $D_M$ with
# a temperature calibrated per σ, the same freedom as PSPC-Square's size per σ), all calibrated alike.
# ELS is calibrated over the same patch sizes as PSPC-Square (`analytic.els_sizes`: the odd ones, up to 15 at 16 px),
# so the two compete on equal candidates; ELS is calibrated on 8 of the held-out inputs, its costliest part.

# %% tags=["parameters"]
profile = "default"
results_dir = None  # where the claims are recorded (null: runs/<profile>/results)
seed = 0
dataset = "mnist"
size = 16
data_path = None
N = 1024
channel_bases = [8, 16, 32]
steps = 1200
n_eval = 48  # forward-process inputs per level (training images)
n_cal = 32  # held-out images for calibration
n_reverse = 24  # reverse trajectories per net
n_heat = 8  # inputs per sensitivity map (as in notebook 09: the maps are shared through the cache)
n_sigmas = 10
n_samples = 64  # samples per denoiser (the first 8 are shown)
sample_net = 16  # the net whose samples are shown next to every analytic denoiser's
more_seeds = [1, 2]  # the sample_net net also at these training seeds (cached by notebooks 05 and 08)
pretrained = None  # paths of pretrained nets, one per channel base, used in place of training (gendiff.pretrained)
pretrained_kind = "edm"  # their format: "edm" (a net computing D(x, sigma)) or "ddpm" (a diffusers DDPM folder)


# %% [markdown]
# ## Claims, declared before anything is computed
# The `sample_net` net (c = 16) is scored at three training seeds (`seed` and `more_seeds`), each with its own
# calibration: its ratio is a mean with a t-interval over seeds. The nets of the other widths have one seed each (a
# point value). Each row takes the worst net, and its interval runs between the ends of the nets' intervals
# (`Estimate.extreme`: the worst true ratio lies there whenever each net's interval covers its own).
#
# *Declared before the run that decides it (issue 30, item 2):* a second source of variation. Each net's interval is
# the hull (`Estimate.hull`) of its t-interval over training seeds and a percentile bootstrap over the evaluation
# inputs: the noised training images of the forward process, or the reverse trajectories, resampled alike at every
# level, seed and denoiser (`analytic.band_means`). A hull only widens an interval, so a verdict can move from holds
# or differs to inconclusive, never across; the reading says which rows the t-interval alone would have decided.
#
# *Declared after a referee read, before the run that decides it:* `002-flex-learned` tests an explanation of
# `002-flex`. Flex's crops come from eq. 8's maps of the whole denoiser, and at small σ the skip path
# $c_\mathrm{skip} x$ makes those one pixel wide (notebook 09). The explanation: built from the maps of the learned
# term alone, PSPC-Flex would beat PSPC-Square.

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("10_pspc", profile, results_dir)
NI = "Niedoba et al. 2025"
RATIO = ("worst (over nets; c = 16 at three seeds, mean over seeds) ratio of band-mean MSE to the net; each net's "
         "interval is the hull of its t-interval over seeds (c = 16) and a percentile bootstrap over the evaluation "
         "inputs (the same resampled images or trajectories at every level, seed and denoiser); the row's interval "
         "runs from the nets' intervals' ends")
SQ_DM, SQ_DG, FLEX = "PSPC-Square / D_M over sigma in [0.1, 20]", "PSPC-Square / D_G over [0.3, 3]", \
    "PSPC-Flex / PSPC-Square over [0.1, 20]"
# one row per comparison, on the forward process (noised training images) and on the nets' own reverse trajectories
for proc, where in (("", "forward process"), ("-reverse", "nets' reverse trajectories")):
    claims.declare(f"002-pspc-DM{proc}", f"PSPC-Square beats D_M clearly ({where})", source=f"{NI}, Figs. 7 and 9",
                   paper="qualitative", statistic=f"{RATIO}, {SQ_DM}", tests={"sq_vs_DM": below(0.5)},
                   differs="patch composites explain the nets no better than the memorizing optimum",
                   kind="reproduction", superseded_by=f"002-pspc-DM-equal{proc}")
    claims.declare(f"002-pspc-DM-equal{proc}", f"PSPC-Square beats D_M clearly at equal freedom ({where})",
                   source=f"{NI}, Figs. 7 and 9", paper="qualitative", kind="reproduction",
                   statistic=f"{RATIO}, PSPC-Square / tempered D_M over sigma in [0.1, 20]: D_M given one calibrated "
                             "value per sigma (a temperature), as PSPC-Square has its size; the superseded row gave "
                             "PSPC-Square a calibrated knob per sigma and D_M none, and PSPC-Square at the full image "
                             "size is D_M itself",
                   tests={"sq_vs_DM": below(0.5)},
                   differs="given the same freedom, the memorizing optimum explains the nets about as well")
    claims.declare(f"002-pspc-DG{proc}", f"PSPC-Square beats D_G for t in [0.3, 3] ({where})",
                   source=f"{NI}, Figs. 7 and 9", paper="qualitative", statistic=f"{RATIO}, {SQ_DG}",
                   tests={"sq_vs_DG": below(1.0)}, differs="the Gaussian denoiser explains the nets as well as patches",
                   kind="reproduction")
    claims.declare(f"002-flex{proc}", f"PSPC-Flex beats PSPC-Square ({where})", source=f"{NI}, Fig. 7",
                   paper="qualitative", statistic=f"{RATIO}, {FLEX}", tests={"flex_vs_sq": below(1.0)},
                   differs="adaptive crops from sensitivity maps do not help here", kind="reproduction")
    claims.declare(f"002-flex-learned{proc}", f"PSPC-Flex built from the learned term's maps beats PSPC-Square "
                   f"({where})", source=f"ours: tests the explanation of 002-flex{proc}", paper="(beyond the papers)",
                   statistic=f"{RATIO}, PSPC-Flex with crops from the maps of D - c_skip x (calibrated alike) / "
                             "PSPC-Square over [0.1, 20]",
                   tests={"flex_vs_sq": below(1.0)}, explains=f"002-flex{proc}", kind="extension",
                   differs="the skip path in the maps is not why Flex loses to Square")

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from gendiff import analytic, edm
from gendiff.cache import get_model
from gendiff.classifier import get_classifier, prediction_measures
from gendiff.data import LABELLED, load_dataset
from gendiff.device import stream, stream_seed
from gendiff.denoisers import SmoothedEmpiricalDenoiser
from gendiff.metrics import nearest_neighbors, nn_rmse, paired_distances, pixel_rmse
from gendiff.plots import image_grid, style
from gendiff.progress import tqdm
from gendiff.sampling import edm_sampler, initial_noise
from gendiff.zoo import NetConfig

style()
data = load_dataset(dataset, size=size, data_path=data_path)
cfgs = {c: NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, channels=c, steps=steps, seed=seed,
                     pretrained=pretrained[i] if pretrained else None, pretrained_kind=pretrained_kind)
        for i, c in enumerate(channel_bases)}
y, y_out = cfgs[channel_bases[0]].split(n_cal)  # training images; held-out ones calibrate
analytic.check_disjoint(y[:n_eval], y_out)  # verdicts are scored on inputs the calibration never saw
sigmas = edm.sigma_grid(n_sigmas).tolist()
fwd = analytic.forward_inputs(y[:n_eval], sigmas, seed=stream_seed(seed, "eval"))
x_T = initial_noise(max(n_reverse, n_samples), tuple(data.shape[1:]), seed)
clf = get_classifier()[0] if dataset in LABELLED and size == 16 else None  # feature distance and quality proxy
FLEX_F = "PSPC-Flex (learned-term maps)"
runs = [(c, seed) for c in channel_bases] + [(sample_net, s) for s in more_seeds]  # (channel base, training seed)
results, cals, dens_of, all_results = {}, {}, {}, {}
for c, s in tqdm(runs, desc="nets"):
    cfg = cfgs[c].with_seed(s)
    net, _ = get_model(cfg)
    heat = analytic.heatmaps(cfg, net, y[:n_heat], sigmas, seed=seed)
    cal = analytic.calibrated(cfg, net, y, y_out, sigmas, heat, seed=seed)
    dens = analytic.analytic_denoisers(y, cal, heat)
    # the explanation of 002-flex: Flex calibrated alike, its crops from the maps of the learned term D - c_skip x
    heat_F = analytic.heatmaps(cfg, net, y[:n_heat], sigmas, seed=seed, part="network")
    dens_F = analytic.analytic_denoisers(y, analytic.calibrated(cfg, net, y, y_out, sigmas, heat_F, seed=seed,
                                                                els=False), heat_F)
    flex_F = analytic.AnalyticDenoisers({"PSPC-Flex": dens_F["PSPC-Flex"]})
    flex_F.key = dens_F.key
    rev = analytic.reverse_inputs(net, x_T[:n_reverse])
    per = {proc: analytic.cached_mse(cfg, net, dens, z, per_image=True)
           | {FLEX_F: analytic.cached_mse(cfg, net, flex_F, z, per_image=True)["PSPC-Flex"]}
           for proc, z in (("fwd", fwd), ("rev", rev))}  # each image's MSE, per level and denoiser
    res = {proc: {name: [float(v.mean()) for v in vs] for name, vs in p_.items()} for proc, p_ in per.items()}
    per = {proc: {name: np.stack([v.numpy() for v in vs]) for name, vs in p_.items()} for proc, p_ in per.items()}
    all_results[c, s] = dict(res, per=per, t_rev=[t for _, t in rev], net=net)  # per: (levels, inputs) arrays
    if s == seed:  # the figures and samples show each width at the first seed
        results[c], cals[c], dens_of[c] = all_results[c, s], cal, dens
    print(f"c={c}, seed {s}: square sizes {cal['square']}, flex λ {cal['flex']}, ELS sizes {cal.get('els_circ')}, "
          f"smoothing α {cal['alpha']}, D_M temperatures {cal['tau']}")

# %% [markdown]
# The calibrated schedules (σ from 80 down to 0.002):

# %%
pd.DataFrame({f"{k} (c={c})": cals[c][k] for c in channel_bases for k in ("square", "flex", "els_circ", "tau")},
             index=[f"{s:.3g}" for s in sigmas]).T

# %%
names = list(dens_of[channel_bases[0]]) + [FLEX_F]
fig, axes = plt.subplots(2, len(channel_bases), figsize=(5 * len(channel_bases), 8), squeeze=False)
for k, c in enumerate(channel_bases):
    for name in names:
        axes[0, k].loglog(sigmas, results[c]["fwd"][name], "o-", ms=3, label=name)
        axes[1, k].loglog(results[c]["t_rev"], results[c]["rev"][name], "o-", ms=3, label=name)
    axes[0, k].set(title=f"c={c}: forward process", xlabel="σ", ylabel="MSE to the net")
    axes[1, k].set(title=f"c={c}: reverse process", xlabel="σ", ylabel="MSE to the net")
    for ax in axes[:, k]:
        ax.axvspan(0.3, 3, color="orange", alpha=0.08)
axes[0, 0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# Samples from the same noise (Heun, 18 steps): the net, then each analytic denoiser calibrated to it (the first 8 of
# `n_samples` are shown). Under them, each denoiser's samples against the net's in three measures, each a mean over
# the samples with its bootstrap interval over them (lower is nearer; no verdict of this notebook rests on them, the
# leaderboard of notebook 11 declares its own): pixel RMSE, which rewards blur; 1 − SSIM (structure, Wang et al.
# 2004); and the RMSE between features of a small digit classifier trained on held-out images (`gendiff.classifier`),
# with its confidence as a quality proxy.

# %%
dens = dens_of[sample_net]
net_s = edm_sampler(results[sample_net]["net"], x_T[:n_samples], num_steps=18).clamp(-1, 1)
rows = {f"net c={sample_net}": net_s}
sample_measures = []
for name, xs in analytic.cached_samples(cfgs[sample_net], dens, x_T[:n_samples], num_steps=18).items():
    rows[name] = xs
    dist = paired_distances(xs, net_s, features=clf.features if clf is not None else None)
    sample_measures.append({"denoiser": name, **{f"{k} to net": str(Estimate.bootstrap(v, over="samples"))
                                                 for k, v in dist.items()},
                            **({"confidence": prediction_measures(clf, xs)["confidence"]} if clf is not None else {})})
fig = image_grid({k: v[:8] for k, v in rows.items()})
pd.DataFrame(sample_measures).set_index("denoiser")

# %% [markdown]
# A check the referee asked for: smoothed $D_M$'s samples come out equal to $D_M$'s, which looks like a bug. The
# smoothing averages $D_M$ over inputs moved by $\alpha u$, $u \sim N(0, I)$. Near the end of sampling $D_M$ returns
# the training image nearest its input. The move adds about $\alpha^2 d$ to every squared distance alike; what can
# change which image is nearest is the cross term $2\alpha\, u \cdot (y_k - y_i)$, of size about $2\alpha$ times
# the gap $\lVert y_k - y_i \rVert$, against the gap squared. So the samples should stay equal to $D_M$'s while
# $\alpha$ is well below half the gap between neighbouring training images, and part from them as $\alpha$
# approaches it. Below: the samples at the calibrated $\alpha$ and at larger ones, against $D_M$'s.

# %%
dm_s = rows["D_M"]
check = []
for alpha in sorted({float(cals[sample_net]["alpha"]), 0.4, 1.0, 2.0}):
    xs = edm_sampler(SmoothedEmpiricalDenoiser(y, alpha, n_draws=8), x_T[:8], num_steps=18).clamp(-1, 1)
    check.append({"alpha": alpha, "calibrated": alpha == float(cals[sample_net]["alpha"]),
                  "pixel RMSE to D_M samples": pixel_rmse(xs, dm_s[:8]),
                  "largest pixel difference": float((xs - dm_s[:8]).abs().max()),
                  "RMSE to the nearest training image": nn_rmse(xs, y)})
smooth_check = pd.DataFrame(check).set_index("alpha")
nn_gap = float(nearest_neighbors(y[:256], y, k=2)[0][:, 1].median())  # a training image to its nearest other one
smooth_check.round(4)

# %% [markdown]
# The counterpart of Niedoba et al. 2025, Fig. 2 (right): one denoising step from the same noisy inputs (two training
# images plus the same noise) at three noise levels where nets and $D_M$ part ways. $D_M$ returns a training image;
# the nets and the patch composites (calibrated to `sample_net`) return something else, and alike.

# %%
t3 = sorted({min(sigmas, key=lambda x: abs(x - v)) for v in (0.47, 1.5, 4.07)})  # grid levels nearest
x2 = y[:2]
eps = torch.randn(x2.shape, generator=stream(seed, "eval", 2))
one_step = {"clean": torch.cat([x2] * len(t3)), "noisy": torch.cat([x2 + t * eps for t in t3]).clamp(-1, 1)}
lineup = ([("D_M", dens_of[sample_net]["D_M"])] + [(f"net c={c}", results[c]["net"]) for c in channel_bases]
          + [(k, dens_of[sample_net][k]) for k in ("PSPC-Square", "PSPC-Flex", "D_G")])  # rows of this figure and the next
for label, D in lineup:
    one_step[label] = torch.cat([D(x2 + t * eps, t) for t in t3]).clamp(-1, 1)
fig = image_grid(one_step, title="one step D(x + σ ε; σ), columns: two inputs at σ = " + ", ".join(f"{t:.3g}" for t in t3))

# %% [markdown]
# The counterpart of Niedoba et al. 2025, Fig. 1: every denoiser applied to the *same reverse-process states*, those
# of the `sample_net` net's own trajectory from one noise draw (the first of the samples above), at four levels of its
# 18-step schedule. The paper's point is that below $t\approx 3$ the nets depart from $D_M$ alike and that the patch
# composite departs the same way; the reverse-process rows of the tests measure that, this figure only shows it.

# %%
traj = analytic.reverse_inputs(results[sample_net]["net"], x_T[:1])
picks = sorted({min(range(len(traj)), key=lambda i: abs(traj[i][1] - v)) for v in (4.07, 1.5, 0.47, 0.15)})
fig1 = {"input z_t": torch.cat([traj[i][0] for i in picks]).clamp(-1, 1)}
for label, D in lineup:
    fig1[label] = torch.cat([D(traj[i][0], traj[i][1]) for i in picks]).clamp(-1, 1)
fig = image_grid(fig1, title=f"D(z_t; t) on the c={sample_net} net's reverse trajectory, columns: t = " +
                 ", ".join(f"{traj[i][1]:.3g}" for i in picks))

# %% [markdown]
# **Tests (declared at the top)** (forward process, mean MSE over the levels in a band, every net):
# 1. PSPC-Square beats $D_M$ clearly: at most half its MSE over σ in [0.1, 20].
# 2. PSPC-Square beats $D_G$ for σ in [0.3, 3].
# 3. PSPC-Flex beats PSPC-Square over σ in [0.1, 20].
# 4. Reverse process: the same three comparisons on the nets' own trajectories, each in a row of its own
#    (`*-reverse`).
# 5. *Declared after a referee read, superseding 1 (and its reverse row):* the same comparison at equal freedom,
#    PSPC-Square against $D_M$ with a temperature calibrated per σ (`*-DM-equal`); the superseded rows are still
#    computed. The ELS baseline is now the authors' definition.
# 6. *Also declared after the referee read:* PSPC-Flex from the learned term's maps against PSPC-Square
#    (`002-flex-learned*`), the tested explanation of 3. Every row takes the worst net; the c = 16 net at three seeds.

# %%
KEYS = {"sq_vs_DM": ("PSPC-Square", "D_M", "pspc"), "sq_vs_DG": ("PSPC-Square", "D_G", "mid"),
        "flex_vs_sq": ("PSPC-Flex", "PSPC-Square", "pspc"), "sq_vs_DM_equal": ("PSPC-Square", "tempered D_M", "pspc"),
        "flexF_vs_sq": (FLEX_F, "PSPC-Square", "pspc")}  # ratio: (numerator, denominator, band)
rows = []
for (c, s), r in all_results.items():
    for proc, ts in (("fwd", sigmas), ("rev", r["t_rev"])):
        mid = {n: edm.band_mean(r[proc][n], ts, "pspc") for n in names}
        core = {n: edm.band_mean(r[proc][n], ts, "mid") for n in ("PSPC-Square", "D_G")}
        band = {"pspc": mid, "mid": core}
        rows.append({"net": f"c={c}", "seed": s, "process": proc,
                     **{k: band[b][a] / band[b][d] for k, (a, d, b) in KEYS.items()},
                     **{f"{n} [0.1,20]": mid[n] for n in names}, **{f"{n} [0.3,3]": core[n] for n in core}})
tidy = pd.DataFrame(rows)  # a row per net x seed x process
print(tidy.round(4).to_string(index=False))


def boot_ratio(proc, key, c):
    """Net c's ratio (mean over its seeds) with a percentile bootstrap over the evaluation inputs: the same
    resampled images (forward) or trajectories (reverse) at every level, seed and denoiser."""
    a, d, b = KEYS[key]
    runs_c = [r for (c_, _), r in all_results.items() if c_ == c]
    ts_of = lambda r: sigmas if proc == "fwd" else r["t_rev"]  # noqa: E731

    def stat(rows_):
        idx = rows_[:, 0].astype(int)
        return float(np.mean([(lambda m: m[a] / m[d])(analytic.band_means({n: r["per"][proc][n] for n in (a, d)},
                                                                           ts_of(r), b, idx)) for r in runs_c]))
    n_inputs = runs_c[0]["per"][proc][a].shape[1]
    return Estimate.bootstrap(np.arange(n_inputs)[:, None], stat=stat, over="inputs")


def net_intervals(proc, key, inputs=True):
    """Each net's ratio: its t-interval over seeds (c = 16), hulled with the bootstrap over inputs unless not inputs."""
    t = tidy[tidy.process == proc]
    return [Estimate.hull([Estimate.t_interval(g[key])] + ([boot_ratio(proc, key, int(n[2:]))] if inputs else []))
            for n, g in t.groupby("net", sort=False)]


def worst(proc, key, inputs=True):
    """The worst (largest) ratio over nets (Estimate.extreme), each net's interval from per_net."""
    return Estimate.extreme(net_intervals(proc, key, inputs), "max")


ROWS = {"002-pspc-DM": ("sq_vs_DM", "sq_vs_DM"), "002-pspc-DM-equal": ("sq_vs_DM", "sq_vs_DM_equal"),
        "002-pspc-DG": ("sq_vs_DG", "sq_vs_DG"), "002-flex": ("flex_vs_sq", "flex_vs_sq"),
        "002-flex-learned": ("flex_vs_sq", "flexF_vs_sq")}  # row: (its statistic, its ratio in KEYS)
by_source = []  # each row's interval from seeds alone and with the inputs' bootstrap, and what each would decide
for proc, tag in (("fwd", ""), ("rev", "-reverse")):
    for row, (stat_, key) in ROWS.items():
        e_t, e_h = worst(proc, key, inputs=False), worst(proc, key)
        by_source.append(dict(row=row + tag, seeds_alone=str(e_t), verdict_seeds_alone=claims.decide(row + tag, **{
            stat_: e_t}), with_inputs=str(e_h), verdict=claims.decide(row + tag, **{stat_: e_h})))
by_source = pd.DataFrame(by_source).set_index("row")
for proc, tag in (("fwd", ""), ("rev", "-reverse")):
    t = tidy[tidy.process == proc].groupby("net", sort=False).mean(numeric_only=True)
    per_net = lambda a, b: "/".join(f"{u:.4f} vs {v:.4f}" for u, v in zip(t[a], t[b]))  # noqa: E731
    nets = f" ({', '.join(t.index)}; c={sample_net}: mean over seeds {[seed, *more_seeds]})"
    claims.record(f"002-pspc-DM{tag}", f"{proc} MSE over σ∈[0.1,20], PSPC-Square vs D_M: "
                  + per_net("PSPC-Square [0.1,20]", "D_M [0.1,20]") + nets, sq_vs_DM=worst(proc, "sq_vs_DM"))
    claims.record(f"002-pspc-DM-equal{tag}", f"{proc} MSE over σ∈[0.1,20], PSPC-Square vs tempered D_M: "
                  + per_net("PSPC-Square [0.1,20]", "tempered D_M [0.1,20]") + nets,
                  sq_vs_DM=worst(proc, "sq_vs_DM_equal"))
    claims.record(f"002-pspc-DG{tag}", f"{proc} MSE over σ∈[0.3,3], PSPC-Square vs D_G: "
                  + per_net("PSPC-Square [0.3,3]", "D_G [0.3,3]") + nets, sq_vs_DG=worst(proc, "sq_vs_DG"))
    claims.record(f"002-flex{tag}", f"{proc} MSE over σ∈[0.1,20], PSPC-Flex vs Square: "
                  + per_net("PSPC-Flex [0.1,20]", "PSPC-Square [0.1,20]") + nets, flex_vs_sq=worst(proc, "flex_vs_sq"))
    claims.record(f"002-flex-learned{tag}", f"{proc} MSE over σ∈[0.1,20], PSPC-Flex from the learned term's maps vs "
                  "Square: " + per_net(f"{FLEX_F} [0.1,20]", "PSPC-Square [0.1,20]") + nets,
                  flex_vs_sq=worst(proc, "flexF_vs_sq"))
claims.number("sample_measures", sample_measures)
claims.number("smoothed_DM_check", smooth_check.reset_index().to_dict("records"))
claims.number("intervals_by_source", by_source.reset_index().to_dict("records"))
claims.finish()

# %% [markdown]
# **Reading.** Rendered from this run's numbers. Where PSPC-Flex loses, a likely reason is MNIST's background: the
# sensitivity maps of the −1 background pixels are weak and diffuse (notebook 09), so their Flex crops are scattered
# pixel sets, while the paper's CIFAR images have no flat background. Where ELS loses, translation equivariance is a
# poor prior for centred digits.

# %%
fr = tidy[tidy.process == "fwd"].groupby("net", sort=False).mean(numeric_only=True)
say(f"PSPC-Square is {1 / fr.sq_vs_DM.max():.2f}–{1 / fr.sq_vs_DM.min():.2f}× closer to the nets than $D_M$ over "
    f"σ ∈ [0.1, 20] and {1 / fr.sq_vs_DG.max():.2f}–{1 / fr.sq_vs_DG.min():.2f}× closer than $D_G$ over [0.3, 3]; "
    f"at equal freedom (tempered $D_M$) {1 / fr.sq_vs_DM_equal.max():.2f}–{1 / fr.sq_vs_DM_equal.min():.2f}×. "
    f"PSPC-Flex / PSPC-Square: {fr.flex_vs_sq.min():.3f}–{fr.flex_vs_sq.max():.3f} (below 1: Flex better); with "
    f"crops from the learned term's maps {fr.flexF_vs_sq.min():.3f}–{fr.flexF_vs_sq.max():.3f}, so the skip path "
    f"{'is' if fr.flexF_vs_sq.max() < 1 <= fr.flex_vs_sq.max() else 'is not'} what made Flex lose. "
    f"Calibrated PSPC-Square sizes for c = {sample_net} (σ falling): {cals[sample_net]['square']}.")
cal_alpha = float(cals[sample_net]["alpha"])
say(f"Smoothed $D_M$ at its calibrated α = {cal_alpha:g}: its samples differ from $D_M$'s by at most "
    f"{smooth_check.loc[cal_alpha, 'largest pixel difference']:.2g} per pixel; at α = 2 by "
    f"{smooth_check.loc[2.0, 'largest pixel difference']:.2g} (pixel RMSE "
    f"{smooth_check.loc[2.0, 'pixel RMSE to D_M samples']:.3g}). A training image's nearest other one lies "
    f"{nn_gap:.3g} away (median, Euclidean), so the smoothing can change the nearest image once α nears "
    f"{nn_gap / 2:.3g}; the calibrated α is {cal_alpha / (nn_gap / 2):.2f} of that: "
    + ("equal samples at the calibrated α are what the smoothing does at that size, not a bug."
       if smooth_check.loc[2.0, "largest pixel difference"] > 0.1 >= smooth_check.loc[cal_alpha, "largest pixel difference"]
       else "the samples do not behave as the smoothing predicts; this needs a look."))

# %% [markdown]
# **Two sources of variation.** Each row's interval from the training seeds alone (t-interval, c = 16; the other
# widths are point values there) and with the bootstrap over the evaluation inputs (the recorded one), and what the
# declared test says of each:

# %%
moved = by_source[by_source.verdict != by_source.verdict_seeds_alone]
say("The bootstrap over the evaluation inputs " + ("moves no verdict: every row decides the same on the seeds alone."
    if moved.empty else "moves " + ", ".join(f"`{r}` from **{m.verdict_seeds_alone}** to **{m.verdict}**"
                                            for r, m in moved.iterrows()) + "."))
by_source
