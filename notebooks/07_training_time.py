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
# # 07 · Training time: the Gaussian bias comes first, memorization later (Li et al. 2024, Fig 8)
#
# **Claim (Li, Dai & Qu 2024, Fig 8).** An over-parameterized model on a small training set (channel base 128,
# $N = 1094$ FFHQ images) first approaches the Gaussian denoiser $D_G$ — its distance to $D_G$ in the intermediate
# noise band is smallest around epoch 841 — and then drifts away as it memorizes (snapshots at epochs 187, 841,
# 9173, 64210). Early stopping therefore keeps the Gaussian structure.
#
# **Our setting vs the paper's.** MNIST 16×16 ($d = 256$), $N = 64$ — the size at which the channel-16 net of
# notebooks 05–06 memorizes — and snapshots of the EMA weights over 2000 steps (batch 128: step 100 is 200 epochs,
# step 2000 is 4000 epochs). A control at $N = 4096$ (no memorization expected) separates the part of the
# dip-and-rise that comes with memorization from the part that does not. Next to the distance to $D_G$ we track
# what a practitioner can see without $D_G$: the EDM loss on held-out images, and the share of memorized samples.
# Both nets are trained at three seeds (the paper shows one run).

# %% tags=["parameters"]
profile = "default"
results_dir = None  # where the claims are recorded (null: runs/<profile>/results)
seed = 0  # the evaluation draws: sampling noise, noisy inputs, held-out-loss noise
seeds = [0, 1, 2]  # training seeds of both nets (initialisation and noise stream; the same images)
dataset = "mnist"
size = 16
data_path = None
N = 64
N_control = 4096
channels = 16
steps = 2000
snapshots = [100, 200, 300, 400, 600, 800, 1000, 1200, 1600, 2000]
n_samples = 100
n_eval = 256
n_ref = 512  # section 5: images of D_M^own and D_M^unseen (at most the net's N)
report_sigma = 1.5
ladder_from = 600  # the budget ladder (section 2) uses the snapshots from this step on
extend = [2000, 2400, 3200, 4800]  # section 3: the first seed's nets trained on to the last step, kept at these ([]: skip)
extend_far = [9600, 19200]  # section 4: the first seed's control net only, trained on to the last step ([]: skip)


# %% [markdown]
# ## Claims, declared before anything is computed
# Both nets ($N$ and the control) are trained at each of the training seeds, on the same images. Each statistic is
# computed per seed (its own curve, its own minimum) and reported as the mean with its 95 % Student-t interval over
# seeds; a test *holds* when the interval is wholly on the declared side, *differs* when wholly on the other side,
# and is *inconclusive* when it straddles the threshold.
#
# What would fail each test: a net that only approaches $D_G$ (no late drift) gives `dip_last` near 1; a net that
# memorizes from the start gives `mem_at_min` near its final share; a held-out loss that keeps falling while the net
# memorizes puts its minimum at the last snapshot, far from the one nearest $D_G$; and if the late rise were generic
# training drift, the control would rise as much as the small-$N$ net (`rise_ratio` near 1).
#
# **The budget ladder (section 2).** Notebook 04 finds the generalizing net *not* nearer $D_G$ than $D_M$ at
# σ = 1.5 (`001-gauss-vs-mem` differs), and 06 that small nets are under-trained. Is that our budget (1200 steps
# of batch 128, about a thousandth of the images the paper's nets see) or MNIST? The learning rate is constant after
# warm-up and the snapshots hold EMA weights, so the snapshot at step $k$ stands for a net trained for $k$ steps:
# the snapshots from `ladder_from` to the end span half to 5/3 of the default budget, at three seeds, without new
# nets. Two declared claims: as the budget grows, the control net ($N$ = `N_control`, generalizing) moves toward
# $D_G$ relative to $D_M$, and the small-$N$ net moves toward $D_M$. The wrong world for the first: the shortfall
# is a property of the data, and the margin stays flat or falls with more training. The ladder stops at 5/3 of the
# budget, so any reach beyond it is an extrapolation of the fitted trend, reported as such.
#
# **Four times the budget (section 3), declared before its nets were trained.** Does the ladder's line reach beyond
# the ladder? The first seed's two nets are trained on to the last step of `extend` (4800 steps: 4x the 1200-step
# budget of notebooks 03-05) and kept at the steps of `extend`. The first of these is `steps`, where the ladder's
# nets end; nothing in training depends on the total number of steps (constant learning rate after warm-up, the
# same noise and batch streams), so these nets are the ladder's first-seed nets continued, which section 3 checks
# weight for weight. One claim per net: its measure at the last step (the control's margin, the small-$N$ net's
# RMSE to $D_M$) lies inside the 95 % prediction interval of that seed's own ladder line (least squares in
# $\log_2$ step, `Estimate.ols_prediction`). The statistic is $z$ = (measured − predicted) / half-width of that
# interval, and the test $|z| < 1$. The wrong worlds: the trend bends beyond the ladder, the control turning toward
# $D_G$ late ($z > 1$), as the paper's thousand-fold longer training might suggest, or drifting away faster
# ($z < -1$). Single seed: one such net trains 4800 steps, 2.4 times as long as a ladder net, and the verdict is a
# point value against the interval of the seed's own fit.
#
# **Sixteen times the budget (section 4), declared before its net was trained.** At four times the budget the
# control's margin was still falling, more slowly than the ladder's line (section 3). Does it turn toward $D_G$ with
# yet more training, as the paper's far longer runs would suggest? The first seed's control net ($N$ = `N_control`)
# alone is trained on to the last step of `extend_far` (19200 steps: 16x the 1200-step budget) and kept at the steps
# of `extend` and `extend_far`; its weights at the last step of `extend` must equal those of section 3's net. Two
# claims, each a point value of the one net. `001-budget-16x-turn`: the margin rises from the last step of `extend`
# to the last of `extend_far` (change > 0); the wrong world is that its drift away from $D_G$ goes on with more
# compute, so that budget cannot explain our shortfall against the paper. `001-budget-16x-gen`: at the last step of
# `extend_far` the net is nearer $D_G$ than $D_M$ (margin > 0), the paper's state for its generalizing nets; the wrong
# world is that at our data and width the net stays nearer $D_M$ even at 16x. Single seed and the control only: the
# net trains 19200 steps, 9.6 times as long as a ladder net; the small-$N$ net's question (does it keep approaching
# $D_M$) is answered at 4x by section 3.
#
# **On new images (section 5), declared before it was computed.** The margin above reads training inputs at σ = 1.5,
# where $D_M$ is the *better* denoiser of the two references (notebook 04, section 1b): a net that merely denoises
# better drifts toward $D_M$ there without copying anything, so the four rows on the generalizing net's margin cannot
# tell "budget brings it to $D_G$" from "budget makes it a better denoiser". They are kept, computed and shown as
# superseded by four rows on notebook 04's regime-aware statistic, unchanged (`001-gauss-vs-mem-heldout-clear`): inputs
# are held-out images plus noise; the band is the grid levels of the paper's intermediate range [0.1, 20] at which the
# $D_M$ of the net's training images is clearly the worse denoiser, farther from the clean images than its $D_G$ by more
# than `metrics.CLEARLY_WORSE` (`metrics.worse_band`, decided from the references alone, once per training set); the
# **held-out margin** of a snapshot is its smallest
# RMSE(net, $D_M$) − RMSE(net, $D_G$) over the band, and its **own/unseen** ratio the smallest RMSE(net, $D_M^{own}$) /
# RMSE(net, $D_M^{unseen}$) over the band ($D_M$ of `n_ref` of its training images against $D_M$ of as many real
# images it never saw). `001-budget-gen-heldout`: each seed's ladder slope of the control's held-out margin against
# $\log_2$ step is above 0; its wrong world is the small-$N$ net of the same seed read the same way (a net that moves
# toward $D_M$ with training). `001-budget-4x-gen-heldout`, `001-budget-16x-turn-heldout` and
# `001-budget-16x-gen-heldout` replace the margin of their superseded rows by the held-out margin with the same tests;
# the last adds 04's own/unseen test (above 0.8) and names as its wrong world the small-$N$ net of the first seed at
# its last ladder snapshot, read the same way against its own references. A second source of variation costs no
# training here: every section-5 statistic also gets a percentile bootstrap over the `n_eval` held-out images (the
# same resample at every level, snapshot, seed and reference). The trend row's interval is the hull (`Estimate.hull`)
# of its t-interval over seeds and that bootstrap; the single-net rows, point values on the other sections, get the
# bootstrap as their interval.

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("07_training_time", profile, results_dir)
LI = "Li et al. 2024"
claims.declare("001-training-time", "Distance to D_G falls, then rises as memorization sets in",
               source=f"{LI}, Fig. 8", paper="minimum ~ epoch 841",
               statistic="per training seed, dip_first / dip_last: min RMSE(net, D_G) / RMSE at the first / last "
                         "snapshot; mem_at_min: memorized share at the snapshot nearest D_G; mem_last: at the last "
                         "snapshot; mean and 95 % t-interval over seeds",
               tests={"dip_first": below(0.95), "dip_last": below(0.95), "mem_at_min": below(0.1),
                      "mem_last": above(0.5)},
               differs="the distance to D_G only falls (no memorization late in training at this budget)",
               kind="reproduction")
claims.declare("001-early-stop-heldout", "The held-out loss finds the early-stopping point nearest D_G (within 2x in "
               "steps)", source=f"{LI}, Fig. 8 (ours)", paper="(not in the paper)",
               statistic="per training seed, step_ratio: larger / smaller of the two steps; mean and 95 % "
                         "t-interval over seeds", tests={"step_ratio": below(2.01)},
               differs="the held-out loss is no guide to the Gaussian regime", kind="extension")
claims.declare("001-training-time-control", "The late rise of the distance to D_G comes with memorization (a large-N "
               "control rises less than half as much)", source=f"{LI}, Fig. 8 (ours)", paper="(implied)",
               statistic="per training seed, rise_ratio: rise after the minimum at N_control / rise at N; mean "
                         "and 95 % t-interval over seeds",
               tests={"rise_ratio": below(0.5)}, differs="the late rise is training drift, not memorization",
               kind="extension")

claims.declare("001-budget-gen", "More training moves the generalizing net toward D_G relative to D_M",
               source=f"ours: tests the budget explanation of {LI}'s Figs. 3 and 5 at our scale (001-gauss-vs-mem)",
               paper="(implied: the paper's nets are near D_G)",
               statistic="per training seed, slope: least-squares slope of the margin RMSE(net, D_M) - RMSE(net, D_G) "
                         "(training inputs, sigma = report_sigma) of the N_control net against log2(step), over the "
                         "snapshots from ladder_from on; mean and 95 % t-interval over seeds",
               tests={"slope": above(0.0)}, differs="more training does not bring the net nearer D_G than D_M",
               explains="001-gauss-vs-mem", kind="extension", superseded_by="001-budget-gen-heldout")
claims.declare("001-budget-mem", "More training moves the small-N net toward D_M", source=f"ours, after {LI}, Fig. 5",
               paper="(implied)",
               statistic="per training seed, slope: least-squares slope of RMSE(net, D_M) (training inputs, sigma = "
                         "report_sigma) of the N net against log2(step), over the snapshots from ladder_from on; mean "
                         "and 95 % t-interval over seeds",
               tests={"slope": below(0.0)}, differs="the small-N net has stopped approaching D_M at this budget",
               kind="extension")
if extend:
    claims.declare("001-budget-4x-gen", "The ladder's line predicts the generalizing net's margin at 4x the budget",
                   source="ours: tests the reach of 001-budget-gen's trend", paper="(beyond the papers)",
                   statistic="first seed only: z = (margin at the last step of extend - the seed's ladder line "
                             "there) / half-width of its 95 % least-squares prediction interval (log2 step)",
                   tests={"z": between(-1.0, 1.0)},
                   differs="the trend bends beyond the ladder (z > 1: a late turn toward D_G; z < -1: faster away)",
                   explains="001-budget-gen", kind="extension", superseded_by="001-budget-4x-gen-heldout")
    claims.declare("001-budget-4x-mem", "The ladder's line predicts the small-N net's distance to D_M at 4x the "
                   "budget", source="ours: tests the reach of 001-budget-mem's trend", paper="(beyond the papers)",
                   statistic="first seed only: z = (RMSE(net, D_M) at the last step of extend - the seed's ladder "
                             "line there) / half-width of its 95 % least-squares prediction interval (log2 step)",
                   tests={"z": between(-1.0, 1.0)},
                   differs="the trend bends beyond the ladder (z > 1: the approach to D_M stalls; z < -1: it speeds up)",
                   explains="001-budget-mem", kind="extension")
if extend_far:
    claims.declare("001-budget-16x-turn", "Between 4x and 16x the budget, the generalizing net turns toward D_G",
                   source="ours: tests the budget explanation of 001-gauss-vs-mem beyond 001-budget-4x-gen",
                   paper="(implied: the paper's nets, trained far longer, are near D_G)",
                   statistic="first seed, control net only: change = margin RMSE(net, D_M) - RMSE(net, D_G) "
                             "(training inputs, sigma = report_sigma) at the last step of extend_far minus that at "
                             "the last step of extend",
                   tests={"change": above(0.0)},
                   differs="its drift away from D_G goes on with more training", explains="001-gauss-vs-mem",
                   kind="extension", superseded_by="001-budget-16x-turn-heldout")
    claims.declare("001-budget-16x-gen", "At 16x the budget the generalizing net is nearer D_G than D_M",
                   source=f"ours: {LI}'s state for generalizing nets (Figs. 3 and 5), at 16x our budget",
                   paper="(implied: nearer D_G)",
                   statistic="first seed, control net only: margin RMSE(net, D_M) - RMSE(net, D_G) (training "
                             "inputs, sigma = report_sigma) at the last step of extend_far",
                   tests={"margin": above(0.0)},
                   differs="at 16x our budget the net is still nearer D_M than D_G", explains="001-gauss-vs-mem",
                   kind="extension", superseded_by="001-budget-16x-gen-heldout")
HELDOUT = ("notebook 04's 001-gauss-vs-mem-heldout-clear statistic, per snapshot: on held-out inputs z = x + sigma eps, "
           "over the grid levels of [0.1, 20] where the D_M of the net's training images is clearly the worse held-out "
           "denoiser (RMSE to the clean images more than metrics.CLEARLY_WORSE = 5 % above D_G's; metrics.worse_band), "
           "the held-out margin is the smallest RMSE(net, D_M) - RMSE(net, D_G)")
claims.declare("001-budget-gen-heldout", "More training moves the generalizing net toward D_G relative to D_M, on new "
               "images where D_M is the worse denoiser", source=f"ours: 001-budget-gen on the statistic of {LI}'s "
               "Figs. 3 and 5 as notebook 04 now decides it (001-gauss-vs-mem-heldout-clear)",
               paper="(implied: the paper's nets are near D_G)", kind="extension",
               statistic=f"{HELDOUT}. Per training seed, slope: least-squares slope of the N_control net's held-out "
                         "margin against log2(step) over the snapshots from ladder_from on; mean over seeds, its "
                         "interval the hull of the 95 % t-interval over seeds and a percentile bootstrap over the "
                         "held-out images",
               tests={"slope": above(0.0)},
               wrong_world="a net that moves toward D_M with training: the small-N net of the same seed, read the same "
                           "way against its own references",
               differs="more training does not bring the net nearer D_G than D_M on new images",
               explains="001-gauss-vs-mem-heldout-clear")
if extend:
    claims.declare("001-budget-4x-gen-heldout", "The ladder's line predicts the generalizing net's held-out margin at "
                   "4x the budget", source="ours: tests the reach of 001-budget-gen-heldout's trend",
                   paper="(beyond the papers)", kind="extension",
                   statistic=f"{HELDOUT}. First seed only: z = (held-out margin at the last step of extend - the "
                             "seed's ladder line there) / half-width of its 95 % least-squares prediction interval "
                             "(log2 step); percentile bootstrap over the held-out images",
                   tests={"z": between(-1.0, 1.0)},
                   differs="the trend bends beyond the ladder (z > 1: a late turn toward D_G; z < -1: faster away)",
                   explains="001-budget-gen-heldout")
if extend_far:
    claims.declare("001-budget-16x-turn-heldout", "Between 4x and 16x the budget, the generalizing net turns toward "
                   "D_G on new images", source="ours: tests the budget explanation of 001-gauss-vs-mem-heldout-clear",
                   paper="(implied: the paper's nets, trained far longer, are near D_G)", kind="extension",
                   statistic=f"{HELDOUT}. First seed, control net only: change = held-out margin at the last step of "
                             "extend_far minus that at the last step of extend; percentile bootstrap over the held-out "
                             "images",
                   tests={"change": above(0.0)},
                   differs="its held-out margin does not rise with more training",
                   explains="001-gauss-vs-mem-heldout-clear")
    claims.declare("001-budget-16x-gen-heldout", "At 16x the budget the generalizing net is nearer D_G than D_M on new "
                   "images, and no nearer its own training images than other real ones",
                   source=f"ours: {LI}'s state for generalizing nets (Figs. 3 and 5), at 16x our budget, on notebook "
                          "04's statistic", paper="(implied: nearer D_G)", kind="extension",
                   statistic=f"{HELDOUT}; own_vs_unseen: the smallest RMSE(net, D_M^own) / RMSE(net, D_M^unseen) over "
                             "the band (D_M of n_ref of its training images / of as many real images outside its "
                             "training and held-out sets). First seed, control net only, at the last step of "
                             "extend_far; percentile bootstrap over the held-out images",
                   tests={"margin": above(0.0), "own_vs_unseen": above(0.8)},
                   wrong_world="a memorizing net: the small-N net of the first seed at its last ladder snapshot, read "
                               "the same way against its own references",
                   differs="at 16x our budget the net is still not nearer D_G than D_M on new images, or leans toward "
                           "its own training images", explains="001-gauss-vs-mem-heldout-clear")

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import display

from gendiff import edm
from gendiff.cache import get_model, net_samples
from gendiff.data import load_dataset
from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser
from gendiff.device import stream, stream_seed
from gendiff.metrics import (CLEARLY_WORSE, band_extreme, heldout_edm_loss, linearity_score,
                             memorization_fraction, nearest_neighbors, reference_distances, score_field_rmse,
                             worse_band)
from gendiff.plots import image_grid, style, t_ci
from gendiff.progress import tqdm
from gendiff.sampling import initial_noise
from gendiff.zoo import NetConfig

style()
data = load_dataset(dataset, size=size, data_path=data_path)
x_T = initial_noise(n_samples, tuple(data.shape[1:]), seed)
BAND = (0.1, 20)  # section 5: the paper's intermediate range, as in notebook 04
held_sigmas = [sg for sg in edm.sigma_grid(10).tolist() if BAND[0] <= sg <= BAND[1]]


def cfg_of(n_train, train_seed, steps_=steps, snaps=snapshots):
    """The net trained on n_train images at one training seed for steps_ steps, kept at the steps of snaps."""
    return NetConfig(N=n_train, dataset=dataset, size=size, data_path=data_path, channels=channels, steps=steps_,
                     snapshots=tuple(snaps), seed=train_seed)


def weights_gap(short, long_):
    """Largest weight difference between the net of config ``short`` and the net of config ``long_`` at the step
    where ``short`` ends: 0 when the longer run continues the shorter one exactly."""
    a = get_model(short)[0].state_dict()
    b = get_model(long_, snapshot=short.steps)[0].state_dict()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def value_at(df, step, col="margin", n_train=None):
    """One measure of a table of kept steps (sections 3 and 4) at one step (and one training-set size)."""
    rows = df[(df.step == step) & ((df.N == n_train) if n_train is not None else True)]
    return float(rows[col].iloc[0])


def snapshot_curve(n_train, train_seed, all_sigmas=False, steps_=steps, snaps=snapshots, run="ladder"):
    """Every snapshot of the net trained on n_train images at one training seed: samples and this notebook's
    measures, one row per snapshot; with all_sigmas, also RMSE(net, D_G) at every level (one row per snapshot and
    level); and section 5's held-out distances to the references at the levels of BAND (rows of
    metrics.reference_distances, tagged with run, N, seed and step)."""
    cfg = cfg_of(n_train, train_seed, steps_, snaps)
    y, y_out = cfg.split(n_eval)
    G, E = GaussianDenoiser.from_data(y), EmpiricalDenoiser(y)
    k_ref = min(n_ref, n_train)  # D_M on k_ref of its training images, and on as many real images it never saw
    refs = {"D_G": G, "D_M": E, "D_M own": EmpiricalDenoiser(y[:k_ref]),
            "D_M unseen": EmpiricalDenoiser(cfg.unseen(k_ref, n_eval))}
    rows, samples, prof, held = [], {}, [], []
    h = y_out.shape[0] // 2  # held-out pairs (x1, x2) of the linearity score
    for step in tqdm(cfg.snapshots, desc=f"N={n_train}, seed {train_seed}: snapshots", leave=False):
        net, _ = get_model(cfg, snapshot=step)
        xs = net_samples(cfg, net, x_T, snapshot=step)  # cached with the net
        samples[step] = xs
        gen = lambda: stream(seed, "eval")  # noqa: E731
        rows.append(dict(N=n_train, seed=train_seed, step=step, memorized=memorization_fraction(xs, y),
                         rmse_DG=score_field_rmse(net, G, y_out, report_sigma, generator=gen()),
                         rmse_DG_train=score_field_rmse(net, G, y[:n_eval], report_sigma, generator=gen()),
                         rmse_DM_train=score_field_rmse(net, E, y[:n_eval], report_sigma, generator=gen()),
                         heldout_loss=heldout_edm_loss(net, y_out, seed=stream_seed(seed, "heldout-loss")),
                         linearity=linearity_score(net, y_out[:h], y_out[h:2 * h], report_sigma, center=y.mean(0),
                                                   generator=gen())))
        prof += [dict(seed=train_seed, step=step, sigma=sg, rmse=score_field_rmse(net, G, y_out, sg, generator=gen()))
                 for sg in (edm.sigma_grid(10).tolist() if all_sigmas else [])]
        held += [dict(r, run=run, N=n_train, seed=train_seed, step=step) for r in
                 reference_distances(net, refs, y_out, held_sigmas, generator=stream(seed, "eval", 2), per_image=True)]
    return rows, samples, y, prof, held


rows, samples, profiles, held = [], {}, [], []  # tidy: one row per (N, seed, snapshot), per (seed, snapshot, sigma),
for s in tqdm(seeds, desc="training seeds"):  # and per (run, N, seed, snapshot, sigma, of, to)
    r, samples[s], y, prof, h_ = snapshot_curve(N, s, all_sigmas=True)
    r_c, _, _, _, h_c = snapshot_curve(N_control, s)
    rows += r + r_c
    profiles += prof
    held += h_ + h_c
curves, profiles = pd.DataFrame(rows), pd.DataFrame(profiles)
main, ctrl = curves[curves.N == N], curves[curves.N == N_control]
per_seed = []  # the statistics of each seed's own curves
for s in seeds:
    c, k = main[main.seed == s].set_index("step"), ctrl[ctrl.seed == s].set_index("step")
    s_dg, s_loss = int(c.rmse_DG.idxmin()), int(c.heldout_loss.idxmin())
    rise, rise_c = c.rmse_DG.iloc[-1] - c.rmse_DG.min(), k.rmse_DG.iloc[-1] - k.rmse_DG.min()
    per_seed.append(dict(seed=s, step_DG=s_dg, step_loss=s_loss, dg_first=c.rmse_DG.iloc[0], dg_min=c.rmse_DG.min(),
                         dg_last=c.rmse_DG.iloc[-1], dip_first=c.rmse_DG.min() / c.rmse_DG.iloc[0],
                         dip_last=c.rmse_DG.min() / c.rmse_DG.iloc[-1], mem_at_min=c.memorized[s_dg],
                         mem_last=c.memorized.iloc[-1], mem_at_loss=c.memorized[s_loss],
                         step_ratio=max(s_dg, s_loss) / min(s_dg, s_loss), rise=rise, rise_c=rise_c,
                         rise_ratio=rise_c / rise if rise > 0 else float("nan")))
per_seed = pd.DataFrame(per_seed).set_index("seed")
per_seed.round(3)

# %% [markdown]
# The measures along training, mean over training seeds with 95 % t-interval bands; the dotted green lines mark each
# seed's snapshot nearest $D_G$, the dashed red ones each seed's lowest held-out loss.

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 4))
dm = main.assign(what=f"N={N}: RMSE(net, D_M), training inputs", value=main.rmse_DM_train)
dg = curves.assign(what=curves.N.map(lambda n: f"N={n}: RMSE(net, D_G)" + (" (control)" if n == N_control else "")),
                   value=curves.rmse_DG)
for ax, (data_, y_, title) in zip(axes, ((pd.concat([dg, dm]), "value", f"RMSE at σ={report_sigma}"),
                                          (curves, "memorized", "memorized share of samples"),
                                          (curves, "heldout_loss", "EDM loss on held-out images"))):
    sns.lineplot(data_, x="step", y=y_, hue="what" if y_ == "value" else "N", marker="o", errorbar=t_ci, ax=ax,
                 palette="deep")
    for s in seeds:
        ax.axvline(per_seed.step_DG[s], color="green", lw=1, ls=":")
        ax.axvline(per_seed.step_loss[s], color="red", lw=1, ls="--")
    ax.set(xscale="log", xlabel="training step", ylabel="", title=title)
    ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# Left, the counterpart of Li et al. 2024, Fig. 8 (a): the distance to $D_G$ at every noise level, one line per
# snapshot of the $N = 64$ net (bands: 95 % t-interval over seeds). Right, the counterpart of Fig. 11: the centred
# linearity score (eq. 11, $a = b = 1/\sqrt2$, held-out pairs, σ = 1.5) along training, for both training-set sizes.
# Shown, not tested: no claim about them was declared here.

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 4.2))
sns.lineplot(profiles.assign(step="step " + profiles.step.astype(str)), x="sigma", y="rmse", hue="step",
             palette="viridis", marker="o", errorbar=t_ci, ax=axes[0])
axes[0].set(xscale="log", yscale="log", xlabel="σ", ylabel="RMSE(net, D_G), held-out inputs",
            title=f"N = {N}: distance to D_G per snapshot (Li et al. 2024, Fig. 8a)")
axes[0].legend(fontsize=7, ncol=2)
sns.lineplot(curves.assign(N="N=" + curves.N.astype(str)), x="step", y="linearity", hue="N", marker="o",
             errorbar=t_ci, ax=axes[1])
axes[1].set(xscale="log", xlabel="training step", ylabel="centred linearity score",
            title=f"linearity along training, σ = {report_sigma} (Li et al. 2024, Fig. 11)")
fig.tight_layout()

# %% [markdown]
# Samples from the same noise at the snapshot nearest $D_G$ and at the end of training (first training seed), each
# above its nearest training image:

# %%
grid, s0 = {}, seeds[0]
for label, step in (("nearest D_G", per_seed.step_DG[s0]), ("end", snapshots[-1])):
    xs = samples[s0][int(step)][:10]
    grid[f"{label} (step {step})"] = xs
    grid[f"nearest train ({label})"] = y[nearest_neighbors(xs, y)[1][:, 0]]
fig = image_grid(grid)

# %% [markdown]
# ## 2. The budget ladder
# The margin RMSE(net, $D_M$) − RMSE(net, $D_G$) at σ = `report_sigma` on training inputs, as in notebook 04 (above 0:
# nearer $D_G$), along the snapshots, and each seed's least-squares line in $\log_2$ step over the ladder (from
# `ladder_from` on). Right: the small-$N$ net's distance to $D_M$ along the same ladder. Where the control's margin is
# still below 0 at the last snapshot, the fitted line says at what step it would reach 0: an extrapolation, given in
# multiples of the default budget of notebooks 03-05 (1200 steps).

# %%
curves["margin"] = curves.rmse_DM_train - curves.rmse_DG_train
lad = curves[curves.step >= ladder_from]


def ladder_slope(g, col):  # least-squares slope of one seed's column against log2(step) over the ladder
    return np.polyfit(np.log2(g.step), g[col], 1)


ladder = []
for s in seeds:
    b_gen, a_gen = ladder_slope(lad[(lad.N == N_control) & (lad.seed == s)], "margin")
    b_mem, _ = ladder_slope(lad[(lad.N == N) & (lad.seed == s)], "rmse_DM_train")
    last = curves[(curves.N == N_control) & (curves.seed == s) & (curves.step == snapshots[-1])].margin.iloc[0]
    ladder.append(dict(seed=s, slope_gen=b_gen, intercept_gen=a_gen, slope_mem=b_mem, margin_last=last,
                       zero_step=2 ** (-a_gen / b_gen) if b_gen > 0 and last < 0 else float("nan")))
ladder = pd.DataFrame(ladder).set_index("seed")
fig, axes = plt.subplots(1, 2, figsize=(13, 4))
sns.lineplot(curves[curves.N == N_control], x="step", y="margin", marker="o", errorbar=t_ci, ax=axes[0],
             label=f"N={N_control}")
sns.lineplot(curves[curves.N == N], x="step", y="margin", marker="s", errorbar=t_ci, ax=axes[0], label=f"N={N}")
grid_steps = np.geomspace(ladder_from, snapshots[-1], 20)
for s in seeds:  # each seed's fitted line, from the table above
    axes[0].plot(grid_steps, ladder.intercept_gen[s] + ladder.slope_gen[s] * np.log2(grid_steps), "k:", lw=0.8)
axes[0].axhline(0, color="gray", lw=0.8)
axes[0].axvspan(ladder_from, snapshots[-1], color="green", alpha=0.05)
axes[0].set(xscale="log", xlabel="training step (budget)", ylabel="RMSE(net, D_M) - RMSE(net, D_G)",
            title=f"nearer D_G (> 0) or D_M (< 0), σ = {report_sigma}, training inputs")
sns.lineplot(curves[curves.N == N], x="step", y="rmse_DM_train", marker="o", errorbar=t_ci, ax=axes[1])
axes[1].axvspan(ladder_from, snapshots[-1], color="green", alpha=0.05)
axes[1].set(xscale="log", xlabel="training step (budget)", ylabel="RMSE(net, D_M), training inputs",
            title=f"N = {N}: distance to the memorizing optimum")
fig.tight_layout()
ladder.round(4)

# %% [markdown]
# ## 3. Four times the budget, one seed: does the ladder's line reach beyond the ladder?
# The first seed's nets trained on to the last step of `extend`. First, whether they are the ladder's nets continued:
# the largest difference between their weights at `steps` and the ladder nets' final weights. Then their measures at
# each kept step (squares) next to the seed's ladder points (circles), its least-squares line in $\log_2$ step
# (dotted) and that line's 95 % prediction interval for one new measurement (band), declared in the claims.

# %%
s0 = seeds[0]
if extend:
    ext_c, ext_m = (snapshot_curve(n_train, s0, steps_=extend[-1], snaps=extend, run="extend")
                    for n_train in (N_control, N))
    ext = pd.DataFrame(ext_c[0] + ext_m[0])
    held += ext_c[4] + ext_m[4]
    ext["margin"] = ext.rmse_DM_train - ext.rmse_DG_train
    at = lambda n_train, col, step: value_at(ext, step, col, n_train)  # noqa: E731
    continued, pred, fits = {}, {}, {}
    for n_train, col in ((N_control, "margin"), (N, "rmse_DM_train")):
        continued[n_train] = weights_gap(cfg_of(n_train, s0), cfg_of(n_train, s0, extend[-1], extend))
        g = lad[(lad.N == n_train) & (lad.seed == s0)]
        fits[n_train] = (np.log2(g.step.to_numpy()), g[col].to_numpy())
        pred[n_train] = Estimate.ols_prediction(*fits[n_train], np.log2(extend[-1]), over="snapshots")
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    grid_ext = np.geomspace(ladder_from, extend[-1], 30)
    for ax, (n_train, col, label) in zip(axes, ((N_control, "margin", "RMSE(net, D_M) - RMSE(net, D_G)"),
                                                (N, "rmse_DM_train", "RMSE(net, D_M), training inputs"))):
        band = [Estimate.ols_prediction(*fits[n_train], np.log2(t), over="snapshots") for t in grid_ext]
        ax.fill_between(grid_ext, [e.lo for e in band], [e.hi for e in band], color="C0", alpha=0.15,
                        label="95 % prediction interval")
        ax.plot(grid_ext, [e.value for e in band], "k:", lw=1, label=f"seed {s0}'s ladder line")
        ax.plot(2 ** fits[n_train][0], fits[n_train][1], "o", color="C0", label="ladder snapshots")
        e_ = ext[ext.N == n_train]
        ax.plot(e_.step, e_[col], "s", color="C3", label="trained on (section 3)")
        ax.axvspan(ladder_from, snapshots[-1], color="green", alpha=0.05)
        if col == "margin":
            ax.axhline(0, color="gray", lw=0.8)
        ax.set(xscale="log", xlabel="training step (budget)", ylabel=label, title=f"N = {n_train}, seed {s0}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    display(pd.DataFrame({n: dict(weights_at_steps_vs_ladder=continued[n], predicted=pred[n].value, lo=pred[n].lo,
                                  hi=pred[n].hi) for n in pred}).T.round(5))

# %% [markdown]
# ## 4. Sixteen times the budget, the control net alone: does it turn toward $D_G$?
# The first seed's control net trained on to the last step of `extend_far`, measured at every kept step; first,
# whether it is section 3's net continued (the largest weight difference at the last step of `extend`).

# %%
if extend_far:
    far_steps = list(extend) + list(extend_far)
    far_run = snapshot_curve(N_control, s0, steps_=far_steps[-1], snaps=far_steps, run="far")
    far = pd.DataFrame(far_run[0])
    held += far_run[4]
    far["margin"] = far.rmse_DM_train - far.rmse_DG_train
    at_far = lambda step: value_at(far, step)  # noqa: E731
    continued_far = weights_gap(cfg_of(N_control, s0, extend[-1], extend),
                                cfg_of(N_control, s0, far_steps[-1], far_steps))
    fig, ax = plt.subplots(figsize=(7, 4))
    g = lad[(lad.N == N_control) & (lad.seed == s0)]
    ax.plot(g.step, g.margin, "o", color="C0", label=f"ladder snapshots (seed {s0})")
    ax.plot(far.step, far.margin, "s-", color="C3", label="trained on (sections 3 and 4)")
    ax.axhline(0, color="gray", lw=0.8)
    ax.axvspan(ladder_from, snapshots[-1], color="green", alpha=0.05)
    ax.set(xscale="log", xlabel="training step (budget)", ylabel="RMSE(net, D_M) - RMSE(net, D_G)",
           title=f"N = {N_control}, seed {s0}: nearer D_G (> 0) or D_M (< 0), σ = {report_sigma}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    display(far[["step", "margin", "rmse_DG_train", "rmse_DM_train", "memorized", "linearity"]].round(4)
            .set_index("step"))

# %% [markdown]
# ## 5. On new images, where $D_M$ is the worse denoiser
# The margin of sections 2-4 reads training inputs at σ = 1.5, where $D_M$ is the better denoiser, so it rewards any
# net that denoises better. Here, as in notebook 04 (section 1b), every input is a held-out image plus noise, and the
# held-out margin of a snapshot is its smallest RMSE(net, $D_M$) − RMSE(net, $D_G$) over the band of levels where
# $D_M$ is clearly the worse denoiser of those images; each training set's band comes from its references alone. Left: the
# held-out margin along training (ladder: mean over seeds with 95 % t-interval; squares: the first seed's control
# trained on, sections 3-4). Middle: the control's margin at each level of its band (first seed), so the level that
# decides the smallest is visible. Right: own/unseen, the smallest RMSE(net, $D_M^{own}$) / RMSE(net, $D_M^{unseen}$)
# over the band (1: the net treats its own training images and other real ones alike).

# %%
held = pd.DataFrame(held)
refs0 = held[(held.run == "ladder") & (held.seed == seeds[0]) & (held.step == snapshots[0])]
band = {n: worse_band(refs0[refs0.N == n].to_dict("records"), "D_M", "D_G", by=CLEARLY_WORSE) for n in (N, N_control)}
clean = refs0[refs0.to == "clean"].pivot_table(index=["N", "sigma"], columns="of", values="rmse")  # each reference
near = held[held.of == "D"].pivot_table(index=["run", "N", "seed", "step", "sigma"], columns="to",
                                        values="rmse").reset_index()
near["D_M - D_G"] = near["D_M"] - near["D_G"]
near["own / unseen"] = near["D_M own"] / near["D_M unseen"]
near["in_band"] = [sg in band[n] for n, sg in zip(near.N, near.sigma)]
hm = (near[near.in_band].groupby(["run", "N", "seed", "step"])
      .agg(margin=("D_M - D_G", "min"), own_vs_unseen=("own / unseen", "min")).reset_index())


def held_at(run, n_train, step, col="margin", train_seed=s0):
    """Section 5's held-out statistic of one snapshot (nan where the net's band is empty)."""
    r = hm[(hm.run == run) & (hm.N == n_train) & (hm.seed == train_seed) & (hm.step == step)]
    return float(r[col].iloc[0]) if len(r) else float("nan")


lad_h = hm[(hm.run == "ladder") & (hm.step >= ladder_from)]
slope_h = {n: pd.Series({sd: np.polyfit(np.log2(g.step), g.margin, 1)[0] for sd, g in lad_h[lad_h.N == n]
                         .groupby("seed")}, dtype=float) for n in (N, N_control)}  # per seed, each net
per_img = {}  # (run, N, seed, step) -> {(sigma, to): the snapshot's per-image RMSEs to reference `to`}
for r in held[held.of == "D"].itertuples():
    per_img.setdefault((r.run, r.N, r.seed, r.step), {})[r.sigma, r.to] = r.rmse_i
ladder_steps = [st for st in snapshots if st >= ladder_from]


def held_on(idx, run, n_train, step, col="margin", train_seed=s0):
    """held_at on the held-out images idx (a resample; every index: held_at itself): metrics.band_extreme."""
    return band_extreme(per_img[run, n_train, train_seed, step], band[n_train], col, idx)


def slope_on(idx, n_train):
    """The mean over seeds of each seed's ladder slope of the held-out margin, on the held-out images idx."""
    return float(np.mean([np.polyfit(np.log2(ladder_steps), [held_on(idx, "ladder", n_train, st, train_seed=sd)
                                                              for st in ladder_steps], 1)[0] for sd in seeds]))


def over_images(stat):
    """stat(idx) with a percentile bootstrap over the n_eval held-out images (NaN where a band is empty)."""
    if not np.isfinite(stat(np.arange(n_eval))):
        return float("nan")
    return Estimate.bootstrap(np.arange(n_eval)[:, None], stat=lambda a: stat(a[:, 0].astype(int)), over="images")
fig, axes = plt.subplots(1, 3, figsize=(17, 4))
ladder_h = hm[hm.run == "ladder"].assign(net=lambda d: d.N.map(lambda n: f"N={n}"))
sns.lineplot(ladder_h, x="step", y="margin", hue="net", marker="o", errorbar=t_ci, ax=axes[0])
sns.lineplot(ladder_h, x="step", y="own_vs_unseen", hue="net", marker="o", errorbar=t_ci, ax=axes[2])
for run, mk in (("extend", "s"), ("far", "D")):
    e_ = hm[(hm.run == run) & (hm.N == N_control)]
    axes[0].plot(e_.step, e_.margin, mk, color="C3", label=f"N={N_control}, seed {s0}, trained on ({run})")
    axes[2].plot(e_.step, e_.own_vs_unseen, mk, color="C3", label=f"N={N_control}, seed {s0}, trained on ({run})")
lv = near[(near.N == N_control) & (near.seed == s0) & near.in_band & (near.run != "extend")]
sns.lineplot(lv.assign(level=lv.sigma.map(lambda v: f"σ = {v:.3g}")), x="step", y="D_M - D_G", hue="level",
             marker="o", ax=axes[1], palette="viridis", errorbar=None)
for ax in axes[:2]:
    ax.axhline(0, color="gray", lw=0.8)
axes[2].axhline(0.8, color="gray", lw=0.8, ls="--")
for ax, title, ylab in zip(axes, ("held-out margin (smallest over the band)", f"N = {N_control}, seed {s0}: each "
                                  "level of its band", "own / unseen (smallest over the band)"),
                           ("RMSE(net, D_M) - RMSE(net, D_G)", "RMSE(net, D_M) - RMSE(net, D_G)",
                            "RMSE(net, D_M own) / RMSE(net, D_M unseen)")):
    ax.axvspan(ladder_from, snapshots[-1], color="green", alpha=0.05)
    ax.set(xscale="log", xlabel="training step (budget)", ylabel=ylab, title=title)
    ax.legend(fontsize=7)
fig.tight_layout()
print(f"bands (levels in [0.1, 20] where D_M is the worse held-out denoiser by more than {CLEARLY_WORSE:.0%}):",
      {f"N={n}": [round(v, 3) for v in b] for n, b in band.items()})
hm.pivot_table(index=["run", "step"], columns="N", values=["margin", "own_vs_unseen"]).round(4)

# %% [markdown]
# **Tests (declared at the top):**
# 1. At $N = 64$ the distance to $D_G$ (σ = 1.5) falls then rises: its minimum over the snapshots is at least 5 %
#    below both the first and the last snapshot's.
# 2. Memorization sets in after that minimum: at most 10 % of samples are memorized at the snapshot nearest $D_G$,
#    at least 50 % at the last one.
# 3. The held-out loss, which needs no $D_G$, picks an early-stopping point within a factor 2 in steps of the one
#    nearest $D_G$.
# 4. Control: is the rise specific to memorization? At $N = 4096$ the rise from the minimum to the last snapshot is
#    less than half of the rise at $N = 64$.
# 5. Budget ladder: per seed, the control's margin rises with $\log_2$ step over the ladder (slope > 0), and the
#    small-$N$ net's distance to $D_M$ falls (slope < 0).
# 6. Four times the budget (first seed): each net's measure at the last step of `extend` lies inside the 95 %
#    prediction interval of its ladder line ($|z| < 1$).
# 7. Sixteen times the budget (first seed, control net): its margin rises from the last step of `extend` to the last of
#    `extend_far` (`001-budget-16x-turn`), and is above 0 there (`001-budget-16x-gen`).
# 8. On new images (section 5): the rows of tests 5-7 on the generalizing net, on the held-out margin (`-heldout`),
#    the 16x row also with own/unseen above 0.8; the trend row and the 16x row each read in their wrong world too.

# %%
SHARES = ("mem_at_min", "mem_last")  # memorized shares: their intervals are cut to [0, 1]
est = {k: Estimate.t_interval(per_seed[k].dropna(), bounds=(0, 1) if k in SHARES else None)
       if per_seed[k].notna().any() else float("nan")
       for k in ("dip_first", "dip_last", "mem_at_min", "mem_last", "step_ratio", "rise_ratio")}
m = per_seed.mean()
steps_at = lambda col: "/".join(str(int(v)) for v in per_seed[col])  # noqa: E731  one step per seed
claims.record("001-training-time", f"N={N}, c={channels}, {len(seeds)} seeds: mean RMSE to D_G at σ={report_sigma} "
              f"{m.dg_first:.3f} -> {m.dg_min:.3f} (steps {steps_at('step_DG')}) -> {m.dg_last:.3f} (step "
              f"{snapshots[-1]}); memorized {m.mem_at_min:.0%} -> {m.mem_last:.0%}",
              dip_first=est["dip_first"], dip_last=est["dip_last"], mem_at_min=est["mem_at_min"],
              mem_last=est["mem_last"])
claims.record("001-early-stop-heldout", f"lowest held-out loss at steps {steps_at('step_loss')}, nearest D_G at steps "
              f"{steps_at('step_DG')} (per seed)", step_ratio=est["step_ratio"])
claims.record("001-training-time-control", f"mean rise of RMSE to D_G after its minimum: {m.rise:.3f} at N={N} vs "
              f"{m.rise_c:.3f} at N={N_control} (memorized at most {ctrl.memorized.max():.0%})",
              rise_ratio=est["rise_ratio"])
e_gen, e_mem = Estimate.t_interval(ladder.slope_gen), Estimate.t_interval(ladder.slope_mem)
z4 = {}
if extend:
    for key, n_train, col, what in (("001-budget-4x-gen", N_control, "margin", "margin"),
                                    ("001-budget-4x-mem", N, "rmse_DM_train", "RMSE(net, D_M)")):
        p_ = pred[n_train]
        meas = at(n_train, col, extend[-1])
        z4[key] = (meas - p_.value) / ((p_.hi - p_.lo) / 2)
        claims.record(key, f"N={n_train}, seed {s0}, step {extend[-1]}: {what} {meas:+.4f} measured, "
                      f"{p_.value:+.4f} [{p_.lo:+.4f}, {p_.hi:+.4f}] predicted by the seed's ladder line; its weights "
                      f"at step {steps} differ from the ladder net's by at most {continued[n_train]:.1e}", z=z4[key])
    claims.number("extension", ext.to_dict("records"))
if extend_far:
    claims.record("001-budget-16x-turn", f"N={N_control}, seed {s0}: margin {at_far(extend[-1]):+.4f} at step "
                  f"{extend[-1]} -> {at_far(far_steps[-1]):+.4f} at step {far_steps[-1]}; weights at step {extend[-1]} "
                  f"differ from section 3's net by at most {continued_far:.1e}",
                  change=at_far(far_steps[-1]) - at_far(extend[-1]))
    claims.record("001-budget-16x-gen", f"N={N_control}, seed {s0}, step {far_steps[-1]} "
                  f"({far_steps[-1] / 1200:g}x the 1200-step budget): margin {at_far(far_steps[-1]):+.4f}",
                  margin=at_far(far_steps[-1]))
    claims.number("extension_far", far.to_dict("records"))


def slope_interval(n_train):
    """Mean over seeds of the ladder slope of the held-out margin: the hull of its t-interval over seeds and the
    bootstrap over the held-out images (NaN where a seed has no band)."""
    if len(slope_h[n_train]) != len(seeds):
        return float("nan")
    return Estimate.hull([Estimate.t_interval(slope_h[n_train]), over_images(lambda i: slope_on(i, n_train))])


e_gen_h, e_mem_h = slope_interval(N_control), slope_interval(N)
band_txt = "; ".join(f"N={n}: " + (", ".join(f"{sg:.3g}" for sg in b) or "none") for n, b in band.items())
claims.record("001-budget-gen-heldout", f"bands (σ): {band_txt}. N={N_control}: held-out margin "
              f"{lad_h[(lad_h.N == N_control) & (lad_h.step == snapshots[-1])].margin.mean():+.4f} at step "
              f"{snapshots[-1]} (mean over seeds), slope per doubling of steps {e_gen_h}; the small-N net (wrong "
              f"world): {e_mem_h}", slope=e_gen_h, wrong_world=dict(slope=e_mem_h))
if extend:
    def z_on(idx):  # section 3's z of the held-out margin, on the held-out images idx
        line = Estimate.ols_prediction(np.log2(ladder_steps), [held_on(idx, "ladder", N_control, st)
                                                               for st in ladder_steps], np.log2(extend[-1]))
        return (held_on(idx, "extend", N_control, extend[-1]) - line.value) / ((line.hi - line.lo) / 2)

    p_h = Estimate.ols_prediction(np.log2(ladder_steps), [held_at("ladder", N_control, st) for st in ladder_steps],
                                  np.log2(extend[-1]), over="snapshots") if len(ladder_steps) >= 3 else None
    meas_h = held_at("extend", N_control, extend[-1])
    z4_h = over_images(z_on) if p_h is not None else float("nan")
    claims.record("001-budget-4x-gen-heldout", f"N={N_control}, seed {s0}, step {extend[-1]}: held-out margin "
                  f"{meas_h:+.4f} measured, " + (f"{p_h.value:+.4f} [{p_h.lo:+.4f}, {p_h.hi:+.4f}] predicted by the "
                                                 "seed's ladder line" if p_h is not None else "no ladder line"),
                  z=z4_h)
if extend_far:
    last = far_steps[-1]
    h4, h16 = held_at("far", N_control, extend[-1]), held_at("far", N_control, last)
    turn = over_images(lambda i: held_on(i, "far", N_control, last) - held_on(i, "far", N_control, extend[-1]))
    claims.record("001-budget-16x-turn-heldout", f"N={N_control}, seed {s0}: held-out margin {h4:+.4f} at step "
                  f"{extend[-1]} -> {h16:+.4f} at step {last}: change {turn}", change=turn)
    gen16 = dict(margin=over_images(lambda i: held_on(i, "far", N_control, last)),
                 own_vs_unseen=over_images(lambda i: held_on(i, "far", N_control, last, "own_vs_unseen")))
    mem_end = dict(margin=over_images(lambda i: held_on(i, "ladder", N, snapshots[-1])),
                   own_vs_unseen=over_images(lambda i: held_on(i, "ladder", N, snapshots[-1], "own_vs_unseen")))
    claims.record("001-budget-16x-gen-heldout", f"N={N_control}, seed {s0}, step {last}: held-out margin "
                  f"{gen16['margin']}, own/unseen {gen16['own_vs_unseen']}; the N={N} net at step {snapshots[-1]} "
                  f"(wrong world): {mem_end['margin']} and {mem_end['own_vs_unseen']}", **gen16, wrong_world=mem_end)
claims.number("heldout band", {str(n): b for n, b in band.items()})
claims.number("heldout", hm.to_dict("records"))
claims.number("heldout levels", near.drop(columns="in_band").to_dict("records"))
claims.record("001-budget-gen", f"N={N_control}: margin RMSE(net, D_M) - RMSE(net, D_G) at σ={report_sigma} "
              f"{ladder.margin_last.mean():+.4f} at step {snapshots[-1]}; slope per doubling of steps {e_gen}" +
              (f"; the line's reach to step {extend[-1]} is tested in 001-budget-4x-gen "
               f"({claims.verdict('001-budget-4x-gen')})" if extend else ""), slope=e_gen)
claims.record("001-budget-mem", f"N={N}: RMSE(net, D_M) slope per doubling of steps {e_mem}", slope=e_mem)
claims.number("ladder", ladder.reset_index().to_dict("records"))
claims.number("best_step", per_seed.step_DG.tolist())
claims.number("per_seed", per_seed.reset_index().to_dict("records"))
claims.number("curves", curves.to_dict("records"))
claims.finish()

# %% [markdown]
# **Reading.** Rendered from this run's numbers:

# %%
say(f"At $N = {N}$, over {len(seeds)} training seeds, the distance to $D_G$ at σ = {report_sigma} goes from "
    f"{m.dg_first:.2f} (step {snapshots[0]}) to a minimum of {m.dg_min:.2f} at steps {steps_at('step_DG')}, where "
    f"{m.mem_at_min:.0%} of samples are memorized, and ends at {m.dg_last:.2f} (step {snapshots[-1]}, "
    f"{m.mem_last:.0%} memorized): the minimum is {est['dip_last']} of the final distance. The held-out loss, which "
    f"needs no $D_G$, is lowest at steps {steps_at('step_loss')} ({m.mem_at_loss:.0%} memorized). The control at "
    f"$N = {N_control}$ rises by {m.rise_c:.3f} after its minimum, against {m.rise:.3f} at $N = {N}$ (ratio "
    f"{est['rise_ratio']}). The paper's minimum is at 1.3 % of training (epoch 841 of 64210); ours is at "
    f"{m.step_DG / snapshots[-1]:.0%} of a much shorter run, on average.")
if extend:
    p_g, p_m = pred[N_control], pred[N]
    say(f"Trained on to step {extend[-1]} ({extend[-1] / 1200:g}x the default budget of 03-05), seed {s0}'s control "
        f"net has margin {at(N_control, 'margin', extend[-1]):+.4f} "
        f"({'nearer D_G' if at(N_control, 'margin', extend[-1]) > 0 else 'nearer D_M'}), "
        f"against {p_g.value:+.4f} [{p_g.lo:+.4f}, {p_g.hi:+.4f}] from its ladder line: z = {z4['001-budget-4x-gen']:+.2f} "
        f"(**{claims.verdict('001-budget-4x-gen')}**). The small-N net's RMSE to D_M gives z = "
        f"{z4['001-budget-4x-mem']:+.2f} (**{claims.verdict('001-budget-4x-mem')}**). Both nets continue the ladder's "
        f"runs: their weights at step {steps} differ from the ladder nets' by at most "
        f"{max(continued.values()):.1e}.")
    g0, g1 = at(N_control, "margin", steps), at(N_control, "margin", extend[-1])
    m0, m1 = at(N, "rmse_DM_train", steps), at(N, "rmse_DM_train", extend[-1])
    say(f"Which way each measure moved from step {steps} to {extend[-1]}: the control's margin {g0:+.4f} -> "
        f"{g1:+.4f} ({'further from D_G' if g1 < g0 else 'back toward D_G'}), the small-N net's RMSE to D_M "
        f"{m0:.4f} -> {m1:.4f} ({'still falling' if m1 < m0 else 'rising'})." +
        (" The control's z above 1 with its margin still falling means that its drift away from D_G slowed beyond "
         "the ladder; it did not turn toward D_G, the one way to z > 1 that the declared text of 001-budget-4x-gen "
         "names." if z4["001-budget-4x-gen"] > 1 and g1 < g0 else "") +
        (" The small-N net's z above 1 with its distance to D_M still falling means that its approach to D_M slowed "
         "beyond the ladder." if z4["001-budget-4x-mem"] > 1 and m1 < m0 else ""))
if extend_far:
    f0, f1 = at_far(extend[-1]), at_far(far_steps[-1])
    say(f"Trained on to step {far_steps[-1]} ({far_steps[-1] / 1200:g}x the default budget), seed {s0}'s control net "
        f"has margin {f1:+.4f} ({'nearer D_G' if f1 > 0 else 'nearer D_M'}), against {f0:+.4f} at step {extend[-1]}: "
        f"it {'moved toward' if f1 > f0 else 'drifted further from'} $D_G$ "
        f"(`001-budget-16x-turn` **{claims.verdict('001-budget-16x-turn')}**, `001-budget-16x-gen` "
        f"**{claims.verdict('001-budget-16x-gen')}**). Its weights at step {extend[-1]} differ from section 3's net's "
        f"by at most {continued_far:.1e}. The paper's generalizing nets see roughly a thousand times our default "
        f"budget's images, so {far_steps[-1] / 1200:g}x is still far from their regime.")
    whole = pd.concat([curves[(curves.N == N_control) & (curves.seed == s0)][["step", "margin"]],
                       far[far.step > snapshots[-1]][["step", "margin"]]], ignore_index=True)  # the one net, all steps
    top, pos = whole.iloc[int(whole.margin.argmax())], whole[whole.margin > 0]
    say(f"Over this net's whole trajectory (steps {whole.step.min()}-{whole.step.max()}) its margin is largest, "
        f"{top.margin:+.4f}, at step {top.step:.0f}; " +
        ("it is never above 0." if pos.empty else
         f"it is last above 0 at step {pos.step.max():.0f}" +
         (f", and nearer $D_M$ on its training inputs from then on; at the kept steps past the ladder " +
          ("no sample is memorized." if far.memorized.max() == 0 else
           f"at most {far.memorized.max():.0%} of samples are memorized.")
          if pos.step.max() < whole.step.max() else ".")))
    b_far, a_far = ladder_slope(far[far.step >= extend[-1]], "margin")
    say(f"The late trend, fitted over steps {extend[-1]}-{far_steps[-1]} in $\\log_2$ step, changes the margin by "
        f"{b_far:+.4f} per doubling of the budget" +
        (f"; continued, it would reach 0 (the paper's side) at about {2 ** (-a_far / b_far):.0f} steps, "
         f"{2 ** (-a_far / b_far) / 1200:.0f} times the default budget (an extrapolation)." if b_far > 0 and f1 < 0
         else "; it does not rise, so no budget on this line brings the net nearer D_G than D_M." if f1 < 0
         else "."))
zs = ladder.zero_step
reach = ("the margin is already above 0 at the last snapshot for every seed" if (ladder.margin_last > 0).all() else
         "the fitted lines do not rise, so no budget is predicted to bring it above 0" if zs.isna().all() else
         f"extrapolating each seed's line, the margin would reach 0 at about {zs.min():.0f}-{zs.max():.0f} steps, "
         f"{zs.min() / 1200:.1f}-{zs.max() / 1200:.1f} times the default budget (an extrapolation beyond the "
         f"ladder's {snapshots[-1] / 1200:.2f})" if zs.notna().all() else
         "for some seeds the line does not rise, so the budget that would close the gap is not determined")
say(f"Budget ladder (steps {ladder_from}-{snapshots[-1]}): the generalizing net's margin (nearer $D_G$ when above 0) "
    f"changes by {e_gen} per doubling of the budget (`001-budget-gen` **{claims.verdict('001-budget-gen')}**) and "
    f"ends at {ladder.margin_last.mean():+.4f}; {reach}. The small-$N$ net's distance to $D_M$ changes by {e_mem} per "
    f"doubling (`001-budget-mem` **{claims.verdict('001-budget-mem')}**).")
if extend_far:
    deciding = lambda run, step: near[(near.run == run) & (near.N == N_control) & (near.seed == s0)  # noqa: E731
                                      & near.in_band & (near.step == step)].set_index("sigma")["D_M - D_G"]
    lv0, lv1 = deciding("ladder", snapshots[-1]), deciding("far", far_steps[-1])
    levels_txt = lambda lv: ", ".join(f"{v:+.4f} at σ = {sg:.3g}" for sg, v in lv.items())  # noqa: E731
    say(f"On new images (section 5), where $D_M$ is clearly the worse denoiser (bands: {band_txt}), the control's "
        f"held-out margin changes by {e_gen_h} per doubling of the budget over the ladder (`001-budget-gen-heldout` "
        f"**{claims.verdict('001-budget-gen-heldout')}**); the small-$N$ net's, its wrong world, by {e_mem_h}. "
        f"At 4x, seed {s0}'s control reads {meas_h:+.4f} (z = {z4_h}, `001-budget-4x-gen-heldout` "
        f"**{claims.verdict('001-budget-4x-gen-heldout')}**); from 4x to 16x it goes {h4:+.4f} -> {h16:+.4f}, a "
        f"change of {turn} (`001-budget-16x-turn-heldout` **{claims.verdict('001-budget-16x-turn-heldout')}**), "
        f"with own/unseen {gen16['own_vs_unseen']} at 16x (`001-budget-16x-gen-heldout` "
        f"**{claims.verdict('001-budget-16x-gen-heldout')}**; the small-$N$ net reads {mem_end['margin']} and "
        f"{mem_end['own_vs_unseen']}). Intervals: percentile bootstrap over the {n_eval} held-out images, and for "
        f"the slopes its hull with the t-interval over seeds.")
    say(f"Level by level (seed {s0}'s control), the margin at step {snapshots[-1]} is {levels_txt(lv0)}; at step "
        f"{far_steps[-1]} it is {levels_txt(lv1)}. The smallest, which decides the rows, is at σ = "
        f"{lv1.idxmin():.3g}, where the two references' own errors on the clean images differ by "
        f"{clean.loc[(N_control, lv1.idxmin()), 'D_M'] - clean.loc[(N_control, lv1.idxmin()), 'D_G']:.1e} (D_M's minus "
        f"D_G's RMSE to the clean image).")
    ctrl_h = hm[hm.N == N_control]
    always = bool((ctrl_h.margin > 0).all())
    say(("On new images the control is nearer $D_G$ than $D_M$ at every kept step of every seed "
         f"(its smallest held-out margin, {ctrl_h.margin.min():+.4f}, is above 0), "
         if always else f"On new images the control's held-out margin is at or below 0 at "
         f"{int((ctrl_h.margin <= 0).sum())} of {len(ctrl_h)} kept steps, ") +
        ("and more training shrinks its lead rather than building it. " if claims.verdict("001-budget-gen-heldout")
         == "differs" else "and more training builds its lead. " if claims.verdict("001-budget-gen-heldout") ==
         "holds" else "and the ladder cannot say which way training moves it. ") +
        ("What the superseded rows read as a shortfall against $D_G$ at σ = 1.5 on training inputs is the statistic's "
         "(there $D_M$ is the better denoiser), not a budget the net lacks." if always else
         "So a budget shortfall is not ruled out on new images either."))
