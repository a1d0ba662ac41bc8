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
# # 09 · Locality: how networks depart from the empirical-optimal denoiser (Niedoba et al. 2025, Figs 2–4)
#
# **Claims (Niedoba et al. 2025).**
# 1. (Fig 2) Trained networks differ from the empirical-optimal denoiser $D_M$ little at small and large noise and
#    most around $t \approx 0.3$–$10$; different architectures deviate in the same way.
# 2. (Fig 3–4, eq 8) The networks' gradients are *local*: the sensitivity map of an output pixel,
#    $G(x, y, t) = \mathbb{E}_z \sum_c |\partial D(z, t)_{x,y,c} / \partial z|$, concentrates near that pixel; the
#    centred square holding 50 % of it is 3×3 at $t = 0.03$ and grows to 13×13 at $t = 30$ (CIFAR-10, 32×32).
# 3. The posterior mean of *patches* (the same crop of every training image) tracks the network better than $D_M$,
#    with a patch size that grows with the noise.
#
# **Our setting vs the paper's.** MNIST 16×16 (the paper: CIFAR-10 32×32 and others, full training sets, large
# U-Nets). Our zoo: U-Nets of channel base 8, 16, 32 trained on $N = 1024$ images (generalizing, notebook 05).
# Forward-process inputs are built from training images (the paper's setting); reverse-process inputs are each
# net's own Heun trajectory. Image side 16 instead of 32: patch sizes should shrink accordingly.

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
n_eval = 64  # forward-process inputs per noise level (training images)
n_reverse = 32  # reverse trajectories per net
n_heat = 8  # inputs averaged in each sensitivity map
n_sigmas = 10
heat_net = 16  # the channel base whose maps are shown
mlp_width = 512  # the second architecture family, an MLP: its hidden width (parameters near the c-32 U-Net)
mlp_depth = 3  # its hidden layers
pretrained = None  # paths of pretrained nets, one per channel base, used in place of training (gendiff.pretrained)
pretrained_kind = "edm"  # their format: "edm" (a net computing D(x, sigma)) or "ddpm" (a diffusers DDPM folder)


# %% [markdown]
# ## Claims, declared before anything is computed
# One training seed per net here (why: the README's "Seeds and intervals"); the verdicts are point values.

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("09_locality", profile, results_dir)
NI = "Niedoba et al. 2025"
claims.declare("002-net-vs-DM", "Nets deviate from D_M most for t in ~[0.3, 10]", source=f"{NI}, Fig. 2",
               paper="qualitative",
               statistic="peak_lo / peak_hi: smallest / largest sigma where a net's forward MSE to D_M peaks",
               tests={"peak_lo": above(0.29), "peak_hi": below(10.01)},
               differs="the nets depart from the memorizing optimum at other noise levels", kind="reproduction")
claims.declare("002-net-vs-DM-alike", "Nets of different width deviate from D_M alike: they are much nearer each "
               "other than either is to D_M", source=f"{NI}, Fig. 2", paper="qualitative",
               statistic="alike_ratio: largest (over net pairs) band-mean MSE(net_i, net_j) / band-mean of "
                         "(MSE(net_i, D_M) + MSE(net_j, D_M)) / 2, forward process, sigma in [0.1, 20]",
               tests={"alike_ratio": below(0.5)},
               differs="each width departs from D_M in its own direction: independent departures of equal size give "
                       "a ratio near 2, shared ones near 0; a correlation of log-MSE curves spanning four decades "
                       "(our earlier test) holds in both worlds", kind="reproduction")
claims.declare("002-net-vs-DM-alike-arch", "A second architecture family (an MLP: no convolution, no locality built "
               "in) deviates from D_M like the U-Nets", source=f"{NI}, Fig. 2 (left: several architectures)",
               paper="qualitative",
               statistic="alike_ratio_arch: largest (over the U-Nets) band-mean MSE(MLP, U-Net) / band-mean of "
                         "(MSE(MLP, D_M) + MSE(U-Net, D_M)) / 2, forward process, sigma in [0.1, 20]",
               tests={"alike_ratio_arch": below(0.5)},
               differs="the shared departure from D_M belongs to the convolutional U-Net (its locality), not to "
                       "trained denoisers in general", kind="reproduction")
claims.declare("002-locality-low", "At the lowest noise the gradient sensitivity is local: 50 % of the mass within "
               "3x3", source=f"{NI}, Figs. 3-4", paper="3x3 at t = 0.03 (32x32)",
               statistic="size_max: largest (over nets) median 50 % square side at sigma = 0.002 (sides are odd)",
               tests={"size_max": below(4.0)}, differs="the nets are not local even at low noise", kind="reproduction",
               superseded_by="002-locality-low-learned")
NO_LOCALITY = ("a denoiser with no locality built in: the MLP (no convolution) and D_G of the same training images "
               "(a linear map whose rows span the image), read the same way")
claims.declare("002-locality-low-learned", "Near the paper's lowest level the network's own term is local: 50 % of its "
               "sensitivity within 3x3", source=f"{NI}, Figs. 3-4", paper="3x3 at t = 0.03 (32x32)",
               kind="reproduction",
               statistic="size_max: largest (over the U-Nets) median 50 % square side of the learned term's sensitivity "
                         "(c_out F = D - c_skip x: the skip path makes D's own map one pixel wide for any EDM net as "
                         "sigma -> 0, the superseded row), at the grid level nearest t = 0.03",
               tests={"size_max": below(4.0)}, wrong_world=f"{NO_LOCALITY} (the smaller of their two sides)",
               differs="the networks' own term is not local at the paper's low level at our scale")
claims.declare("002-locality", "The 50 % square of the gradient sensitivity grows with the noise", source=f"{NI}, Figs. 3-4",
               paper="3x3 .. 13x13 (32x32)",
               statistic="rho_min: smallest (over nets) Spearman correlation of the median 50 % side (all pixels) with sigma",
               tests={"rho_min": above(0.8)}, differs="locality does not scale with the noise level", kind="reproduction",
               superseded_by="002-locality-fg")
claims.declare("002-locality-fg", "Where the digits are, the 50 % square of the gradient sensitivity grows with the "
               "noise", source=f"{NI}, Figs. 3-4", paper="3x3 .. 13x13 (32x32)", kind="reproduction",
               statistic="rho_min: smallest (over the U-Nets) Spearman correlation with sigma of the median 50 % side "
                         "over the foreground pixels, declared from the training images alone before any map is "
                         "read (locality.foreground_pixels: variance over the training set at least the median "
                         "pixel's); the superseded row's all-pixel median mixes in the blank background",
               tests={"rho_min": above(0.8)}, wrong_world=f"{NO_LOCALITY} (the larger of their two correlations)",
               differs="locality does not scale with the noise level even where the digits are")
claims.declare("002-patch-size", "The patch size that best explains the net grows with the noise", source=f"{NI}, Fig. 4",
               paper="qualitative", statistic="rho: Spearman correlation of the best PSPC-Square size with sigma",
               tests={"rho": above(0.8)}, differs="one patch size fits all noise levels", kind="reproduction",
               wrong_world=f"{NO_LOCALITY}: the best PSPC-Square size for each (the larger of their two correlations)")

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import spearmanr

from gendiff import analytic, edm
from gendiff.cache import get_model
from gendiff.data import load_dataset
from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser, PSPCSquare
from gendiff.denoisers.net import LearnedPart
from gendiff.device import stream_seed
from gendiff.locality import centred_square_sizes, foreground_pixels, no_locality_sizes, sensitivity_heatmaps
from gendiff.metrics import departure_cosine
from gendiff.plots import style
from gendiff.progress import tqdm
from gendiff.sampling import initial_noise
from gendiff.zoo import NetConfig, n_params

style()
t_start = time.time()
data = load_dataset(dataset, size=size, data_path=data_path)
cfgs = {c: NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, channels=c, steps=steps, seed=seed,
                     pretrained=pretrained[i] if pretrained else None, pretrained_kind=pretrained_kind)
        for i, c in enumerate(channel_bases)}
y, y_out = cfgs[channel_bases[0]].split(n_eval)  # the same N training images for every width
sigmas = edm.sigma_grid(n_sigmas).tolist()
x_T = initial_noise(n_reverse, tuple(data.shape[1:]), seed)
E = EmpiricalDenoiser(y)
fwd = analytic.forward_inputs(y[:n_eval], sigmas, seed=stream_seed(seed, "eval"))
nets = {c: get_model(cfg)[0] for c, cfg in cfgs.items()}

# %% [markdown]
# ## 1 · Network vs $D_M$ over the noise level

# %%
curves = {}
for c, net in tqdm(nets.items(), desc="nets"):
    rev = analytic.reverse_inputs(net, x_T)
    curves[c] = dict(fwd=analytic.mse_to(net, {"D_M": E}, fwd)["D_M"], rev=analytic.mse_to(net, {"D_M": E}, rev)["D_M"],
                     t_rev=[t for _, t in rev])
fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for c, cv in curves.items():
    axes[0].loglog(sigmas, cv["fwd"], "o-", label=f"c={c}")
    axes[1].loglog(cv["t_rev"], cv["rev"], "o-", label=f"c={c}")
axes[0].set(xlabel="σ", ylabel="MSE(net, D_M)", title="forward process (training images)")
axes[1].set(xlabel="σ", title="reverse process (each net's own trajectory)")
for ax in axes:
    ax.axvspan(0.3, 10, color="orange", alpha=0.08, label="paper's band")
    ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ### A second architecture family (Niedoba et al. 2025, Fig. 2 left)
# The paper finds that different architectures depart from $D_M$ in the same way. Our zoo varies only the U-Net's
# width, so a second family is trained like the zoo (same images, steps, batch, EDM preconditioning, seed): an MLP on
# the flattened image, with no convolution and so no locality built in, of about the c = 32 U-Net's parameter count.
# If the U-Nets' shared departure comes from their convolutional locality, the MLP departs its own way.

# %%
mlp_cfg = NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, arch="mlp", channels=mlp_width,
                    layers_per_block=mlp_depth, steps=steps, seed=seed)
mlp, _ = get_model(mlp_cfg)
curves["MLP"] = dict(fwd=analytic.mse_to(mlp, {"D_M": E}, fwd)["D_M"])
print("parameters:", {**{f"U-Net c={c}": n_params(n) for c, n in nets.items()}, "MLP": n_params(mlp)})
fig, ax = plt.subplots(figsize=(6.5, 4))
for c, cv in curves.items():
    ax.loglog(sigmas, cv["fwd"], "o-" if c != "MLP" else "s--k", label=f"U-Net c={c}" if c != "MLP" else "MLP")
ax.axvspan(0.3, 10, color="orange", alpha=0.08, label="paper's band")
ax.set(xlabel="σ", ylabel="MSE(net, D_M)", title="forward process: two architecture families")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# *Added after seeing the figure, so it decides nothing:* at this budget the MLP is a weaker denoiser than the
# U-Nets: it departs further from $D_M$ over most of the band and breaks down at the highest noise levels. So if
# `002-net-vs-DM-alike-arch` differs, it says that this MLP's departure is not the U-Nets'; whether a well-trained
# MLP would share it is not tested here.

# %% [markdown]
# ## 2 · Gradient sensitivity: how local is each output pixel?
# Maps for every output pixel, by batched autograd (one backward pass gives all 256 rows of a Jacobian), averaged
# over `n_heat` forward-process inputs; cached with the net and reused by notebooks 10–11.
#
# *Which Jacobian?* The net is $D = c_{\rm skip}x + c_{\rm out}F(c_{\rm in}x)$ (EDM). Eq. 8 differentiates the whole
# denoiser $D$, and the verdicts below rest on it, as the paper's maps do. But as σ → 0, $c_{\rm skip}\to 1$, and
# the skip path's identity alone puts almost all of $D$'s sensitivity on the pixel itself. So we also show the
# maps of the learned term $c_{\rm out}F$ alone, for every width (right panel of the size plot, dashed): how local the *network* is, apart from the identity it is handed. Those sizes are reported as numbers,
# not verdicts.

# %%
heat = {c: analytic.heatmaps(cfgs[c], nets[c], y[:n_heat], sigmas, seed=seed) for c in channel_bases}
heat_F = {c: analytic.heatmaps(cfgs[c], nets[c], y[:n_heat], sigmas, seed=seed, part="network") for c in channel_bases}
H = heat[heat_net]
show = [0, n_sigmas // 3, 2 * n_sigmas // 3, n_sigmas - 1]
fig, axes = plt.subplots(2, len(show), figsize=(3 * len(show), 6))
for k, li in enumerate(show):
    for r, (i, j) in enumerate([(size // 2, size // 2), (2, 2)]):
        axes[r, k].imshow(H[li, i, j], cmap="magma")
        axes[r, k].plot(j, i, "c+", ms=10)
        axes[r, k].set(title=f"σ={sigmas[li]:.3g}, pixel ({i},{j})", xticks=[], yticks=[])
fig.suptitle(f"sensitivity maps, c={heat_net}")
fig.tight_layout()

fractions = (0.5, 0.75, 0.95)
lo_c, hi_c = size // 4, size - size // 4  # the central half of the image, where the digits lie (added after looking)
sizes, sizes_centre = {}, {}
for c in channel_bases:
    per = {q: [centred_square_sizes(heat[c][li].double(), q).double() for li in range(n_sigmas)] for q in fractions}
    sizes[c] = {q: [float(m.median()) for m in v] for q, v in per.items()}
    sizes_centre[c] = {q: [float(m[lo_c:hi_c, lo_c:hi_c].median()) for m in v] for q, v in per.items()}
sizes_F = {c: [float(centred_square_sizes(h[li].double(), 0.5).median()) for li in range(n_sigmas)]
           for c, h in heat_F.items()}  # the learned term alone, 50 %
flat_map = {q: no_locality_sizes(size, size, q).double() for q in fractions}  # the ceiling: a map with no locality
ceiling = {q: float(m.median()) for q, m in flat_map.items()}
ceiling_centre = {q: float(m[lo_c:hi_c, lo_c:hi_c].median()) for q, m in flat_map.items()}
fig, axes = plt.subplots(1, 3, figsize=(19, 4), sharey=True)
for ax, table, where in ((axes[0], sizes, "all pixels"), (axes[1], sizes_centre, "central pixels (post hoc)")):
    for c, ls in zip(channel_bases, ["-", "--", ":"]):
        for q, col in zip(fractions, ["C0", "C1", "C2"]):
            ax.semilogx(sigmas, table[c][q], ls, color=col, marker="o", ms=3, label=f"{q:.0%} (c={c})")
    for q, col in zip(fractions, ["C0", "C1", "C2"]):
        ax.axhline((ceiling if table is sizes else ceiling_centre)[q], color=col, lw=0.8, ls="-.", alpha=0.6)
    ax.set(xlabel="σ", ylabel="side of the centred square", title=f"locality vs noise: median over {where}")
for k, c in enumerate(sizes_F):
    col = f"C{3 + k}"
    axes[2].semilogx(sigmas, sizes[c][0.5], "-", color=col, marker="o", ms=3, label=f"D (c={c})")
    axes[2].semilogx(sigmas, sizes_F[c], "--", color=col, marker="s", ms=3, label=f"c_out F only (c={c})")
axes[2].axhline(ceiling[0.5], color="gray", lw=0.8, ls="-.", label="no locality (uniform map)")
axes[2].set(xlabel="σ", title="50 % square: whole denoiser vs learned term")
axes[0].legend(fontsize=7, ncol=3)
axes[2].legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# *Why sides above 16 on a 16-pixel image?* The square is centred on the output pixel and clipped at the border, so
# its side runs up to $2 \cdot 16 - 1 = 31$: a pixel near the border must reach across the image to hold half of a
# spread-out map. The dash-dotted lines are the sizes of a map with no locality at all (uniform over the image,
# `locality.no_locality_sizes`), the ceiling each measured size is read against; a size at that line means the
# output pixel depends on the whole image.

# %%
say(f"With no locality, the median 50 % side over all pixels would be {ceiling[0.5]:.0f} "
    f"({ceiling_centre[0.5]:.0f} over the central pixels; 75 %: {ceiling[0.75]:.0f}, 95 %: {ceiling[0.95]:.0f}). "
    f"At σ = {sigmas[0]:.3g} the nets' median 50 % sides are " +
    ", ".join(f"{sizes[c][0.5][0]:.0f} (c = {c})" for c in channel_bases) + "; at σ = " + f"{sigmas[-1]:.3g}: " +
    ", ".join(f"{sizes[c][0.5][-1]:.0f}" for c in channel_bases) + ".")

# %% [markdown]
# ### Controls with no locality built in, and the foreground pixels
# Two rows above could pass for any denoiser: at σ = 0.002 the skip path alone makes $D$'s map one pixel wide, and
# the all-pixel median mixes the digits with MNIST's blank background. The rows that supersede them read the
# learned term $c_{\rm out}F = D - c_{\rm skip}x$ at the grid level nearest the paper's $t = 0.03$, and the
# foreground pixels, declared from the training images alone (left: variance at least the median pixel's). Each is
# read the same way for two denoisers with no locality built in: the MLP, and $D_G$ of the same images (split the
# same way, $D_G - c_{\rm skip}x$; it is linear, so one input gives its exact map). If they pass too, the row says
# nothing about locality.

# %%
G = GaussianDenoiser.from_data(y)
fg = foreground_pixels(y)  # (H, W) bool, from the training images alone
heat_ctrl = {"MLP": analytic.heatmaps(mlp_cfg, mlp, y[:n_heat], sigmas, seed=seed),
             "D_G": torch.stack([sensitivity_heatmaps(G, y[:1], s) for s in sigmas]).float()}
heat_ctrl_F = {"MLP": analytic.heatmaps(mlp_cfg, mlp, y[:n_heat], sigmas, seed=seed, part="network"),
               "D_G": torch.stack([sensitivity_heatmaps(LearnedPart(G), y[:1], s) for s in sigmas]).float()}


def median_side(h, where=None):  # the median 50 % square side of one level's maps, over all pixels or a mask
    m = centred_square_sizes(h.double(), 0.5).double()
    return float((m[where] if where is not None else m).median())


def rho_sigma(v):  # Spearman correlation with sigma; a constant (no change with the noise) reads 0
    r = spearmanr(sigmas, v).statistic
    return 0.0 if np.isnan(r) else float(r)


i_low = int(np.argmin(np.abs(np.log(sigmas) - np.log(0.03))))  # the grid level nearest the paper's t = 0.03
maps = {**{f"c={c}": heat[c] for c in channel_bases}, **heat_ctrl}
fg_sizes = {k: [median_side(h[li], fg) for li in range(n_sigmas)] for k, h in maps.items()}
rho_fg = {k: rho_sigma(v) for k, v in fg_sizes.items()}
low_F = {**{f"c={c}": median_side(heat_F[c][i_low]) for c in channel_bases},
         **{k: median_side(h[i_low]) for k, h in heat_ctrl_F.items()}}
fig, axes = plt.subplots(1, 3, figsize=(16, 4), gridspec_kw=dict(width_ratios=[1, 2, 1.4]))
axes[0].imshow(fg, cmap="gray")
axes[0].set(title=f"foreground pixels ({int(fg.sum())} of {fg.numel()})", xticks=[], yticks=[])
for k, v in fg_sizes.items():
    axes[1].semilogx(sigmas, v, "o-" if k.startswith("c=") else "s--", ms=3, label=f"{k} (ρ = {rho_fg[k]:.2f})")
axes[1].set(xlabel="σ", ylabel="median 50 % side, foreground", title="locality vs noise where the digits are")
axes[1].legend(fontsize=7)
axes[2].bar(list(low_F), list(low_F.values()), color=["C0"] * len(channel_bases) + ["gray", "gray"])
axes[2].axhline(3, color="k", lw=0.8, ls="--")
axes[2].set(ylabel="median 50 % side", title=f"learned term at σ = {sigmas[i_low]:.3g} (paper: 3 at t = 0.03)")
fig.tight_layout()

# %% [markdown]
# ## 3 · Patch posterior means vs $D_M$ and vs the network, per patch size
# PSPC-Square with a fixed patch size $s$ at every level; $s = 16$ is $D_M$.

# %%
net = nets[heat_net]
rev = analytic.reverse_inputs(net, x_T)
ps = analytic.square_sizes(size)
sq = {s: PSPCSquare(y, s) for s in ps}
tab = {"fwd vs net": analytic.mse_to(net, sq, fwd), "rev vs net": analytic.mse_to(net, sq, rev),
       "fwd vs D_M": analytic.mse_to(E, sq, fwd), "rev vs D_M": analytic.mse_to(E, sq, rev)}
fig, axes = plt.subplots(1, 4, figsize=(20, 4))
for ax, (name, t) in zip(axes, tab.items()):
    M = np.array([t[s] for s in ps])
    ts = sigmas if name.startswith("fwd") else [t_ for _, t_ in rev]
    im = ax.imshow(np.log10(M + 1e-12), aspect="auto", cmap="viridis")
    ax.grid(False)
    ax.scatter(np.arange(len(ts)), np.argmin(M, 0), c="r", s=12, label="best s")
    ax.set(yticks=range(len(ps)), yticklabels=ps, xticks=range(0, len(ts), 2),
           xticklabels=[f"{v:.2g}" for v in ts[::2]], xlabel="σ", ylabel="patch size s", title=f"log10 MSE, {name}")
    fig.colorbar(im, ax=ax)
    ax.legend(fontsize=7)
fig.tight_layout()
best_fwd = [ps[i] for i in np.argmin(np.array([tab["fwd vs net"][s] for s in ps]), 0)]
print("best patch size per σ (forward):", dict(zip([round(s, 3) for s in sigmas], best_fwd)))
best_ctrl = {k: [ps[i] for i in np.argmin(np.array([t[s] for s in ps]), 0)]  # the same, for the no-locality controls
             for k, t in (("MLP", analytic.mse_to(mlp, sq, fwd)), ("D_G", analytic.mse_to(G, sq, fwd)))}
print("best patch size per σ for the controls:", best_ctrl)

# %% [markdown]
# **Tests (declared at the top):**
# 1. Every net's forward-process MSE to $D_M$ peaks at σ in [0.3, 10]. Separately, the nets deviate alike: over
#    σ in [0.1, 20] the MSE between two nets is less than half their MSE to $D_M$. If each net departed from $D_M$
#    in its own direction, the two departures would add and the ratio would be near 2; if they share one departure,
#    near 0. A correlation of log-MSE curves that span four decades (our earlier test, ≥ 0.9) holds in both worlds.
#    A shared departure says the widths share one inductive bias, not which one: notebook 10 tests PSPC as that bias.
# 2. Locality: at the lowest noise the median 50 % square is at most 3×3, and it grows with σ (Spearman ρ ≥ 0.8
#    over the levels) for every net. The paper's 13×13 at σ = 30 (on 32×32) is recorded next to ours.
#    The low-noise half and the growth are separate rows.
# 3. The best patch size (forward, vs the net) grows with σ: Spearman ρ ≥ 0.8; read for the MLP and $D_G$ too.
# 4. *Re-declared (after a referee read), superseding the two rows of 2:* the learned term's median 50 % square at the
#    grid level nearest $t = 0.03$ is at most 3×3 for every U-Net; the foreground pixels' median grows with σ
#    (ρ ≥ 0.8) for every U-Net. Rows 3 and 4 read their statistics for the MLP and $D_G$: a row whose tests hold
#    for a denoiser with no locality built in is *not discriminating*.

# %%
peaks = {c: sigmas[int(np.argmax(curves[c]["fwd"]))] for c in channel_bases}
logs = np.log([curves[c]["fwd"] for c in channel_bases])
corr = np.corrcoef(logs)[np.triu_indices(len(channel_bases), 1)]
alike = {}  # band-mean MSE between two nets over their mean band-mean MSE to D_M
for a, ca in enumerate(channel_bases):
    for cb in channel_bases[a + 1:]:
        between_nets = analytic.mse_to(nets[ca], {"other": nets[cb]}, fwd)["other"]
        to_DM = [(u + v) / 2 for u, v in zip(curves[ca]["fwd"], curves[cb]["fwd"])]
        alike[(ca, cb)] = edm.band_mean(between_nets, sigmas, "pspc") / edm.band_mean(to_DM, sigmas, "pspc")
alike_ratio = max(alike.values()) if alike else float("nan")
alike_arch = {}  # the same ratio between the MLP and each U-Net
for c in channel_bases:
    between_nets = analytic.mse_to(mlp, {"other": nets[c]}, fwd)["other"]
    to_DM = [(u + v) / 2 for u, v in zip(curves["MLP"]["fwd"], curves[c]["fwd"])]
    alike_arch[c] = edm.band_mean(between_nets, sigmas, "pspc") / edm.band_mean(to_DM, sigmas, "pspc")
rho = {c: spearmanr(sigmas, sizes[c][0.5]).statistic for c in channel_bases}
low = {c: sizes[c][0.5][-1] for c in channel_bases}
i30 = int(np.argmin(np.abs(np.log(sigmas) - np.log(30))))
rho_centre = {c: spearmanr(sigmas, sizes_centre[c][0.5]).statistic for c in channel_bases}
rho_best = spearmanr(sigmas, best_fwd).statistic
print(f"1. peaks of MSE(net, D_M): {peaks}; MSE between nets / MSE to D_M over σ in [0.1, 20]: "
      f"{ {f'c={a} vs c={b}': round(r, 3) for (a, b), r in alike.items()} }; "
      f"min correlation of log-MSE curves {corr.min():.2f} (not a test)")
print(f"2. median 50% square at the lowest σ: {low}; Spearman (all pixels) "
      f"{ {c: round(float(r), 2) for c, r in rho.items()} }, (central, post hoc) "
      f"{ {c: round(float(r), 2) for c, r in rho_centre.items()} } ")
print(f"3. best patch size per σ: {best_fwd}; Spearman {rho_best:.2f} ")
claims.record("002-net-vs-DM", "MSE(net, D_M) peaks at σ = " + ", ".join(f"{p:.2g} (c={c})" for c, p in peaks.items()),
              peak_lo=min(peaks.values()), peak_hi=max(peaks.values()))
claims.record("002-net-vs-DM-alike", "MSE between nets / MSE to D_M, σ∈[0.1,20]: " + ", ".join(
              f"{r:.2f} (c={a} vs {b})" for (a, b), r in alike.items()), alike_ratio=alike_ratio)
band = edm.BANDS["pspc"]
cos_arch = {c: departure_cosine(mlp, nets[c], E, fwd, band=band) for c in channel_bases}
cos_unets = {(a, b): departure_cosine(nets[a], nets[b], E, fwd, band=band)
             for i, a in enumerate(channel_bases) for b in channel_bases[i + 1:]}
claims.record("002-net-vs-DM-alike-arch", "MSE(MLP, U-Net) / MSE to D_M, σ∈[0.1,20]: " + ", ".join(
              f"{r:.2f} (c={c})" for c, r in alike_arch.items()) + "; cosine of the departures from D_M, MLP vs U-Net: " +
              ", ".join(f"{v:.2f} (c={c})" for c, v in cos_arch.items()) + " (U-Nets among themselves: " +
              ", ".join(f"{v:.2f}" for v in cos_unets.values()) + ")", alike_ratio_arch=max(alike_arch.values()))
claims.record("002-locality-low", "median 50% square at σ=0.002: " + ", ".join(f"{low[c]:.0f}" for c in channel_bases),
              size_max=max(low.values()))
claims.record("002-locality", f"at σ={sigmas[i30]:.3g}: " + ", ".join(f"{sizes[c][0.5][i30]:.0f}" for c in channel_bases) +
              " (c=" + "/".join(map(str, channel_bases)) + f", 16x16); Spearman ρ ≥ {min(rho.values()):.2f} "
              f"(central pixels, post hoc: ≥ {min(rho_centre.values()):.2f})", rho_min=float(min(rho.values())))
rho_best_ctrl = {k: rho_sigma(v) for k, v in best_ctrl.items()}
claims.record("002-patch-size", f"best PSPC-Square size per σ (c={heat_net}, forward): {best_fwd}; Spearman ρ = "
              f"{rho_best:.2f}; for the controls: " + ", ".join(f"{k} {v:.2f}" for k, v in rho_best_ctrl.items()),
              rho=float(rho_best), wrong_world={"rho": max(rho_best_ctrl.values())})
claims.record("002-locality-low-learned", f"the learned term's median 50 % side at σ = {sigmas[i_low]:.3g}: " +
              ", ".join(f"{v:.0f} ({k})" for k, v in low_F.items()),
              size_max=max(low_F[f"c={c}"] for c in channel_bases),
              wrong_world={"size_max": min(low_F["MLP"], low_F["D_G"])})
claims.record("002-locality-fg", f"{int(fg.sum())} foreground pixels; Spearman ρ of their median 50 % side with σ: " +
              ", ".join(f"{v:.2f} ({k})" for k, v in rho_fg.items()),
              rho_min=min(rho_fg[f"c={c}"] for c in channel_bases), wrong_world={"rho_min": max(rho_fg["MLP"], rho_fg["D_G"])})
claims.number("sizes50", {c: sizes[c][0.5] for c in channel_bases})
claims.number("sizes50_learned_term", sizes_F)
claims.number("sizes50_foreground", fg_sizes)
claims.number("departure_cosine_MLP", cos_arch)
claims.number("runtime_s", time.time() - t_start)
claims.finish()

# %% [markdown]
# **Reading.** Rendered from this run's numbers. Where the all-pixel median is not monotone, the likely cause is
# MNIST's −1 background: those pixels' outputs barely depend on the input, and their weak maps are diffuse. The
# central-pixel sizes are a choice made *after* seeing this, so they decide nothing.

# %%
say(f"Peaks of MSE(net, $D_M$): {', '.join(f'c = {c}: σ = {p:.3g}' for c, p in peaks.items())}; MSE between two "
    f"nets / their MSE to $D_M$ at most {alike_ratio:.2f} (near 2 if they departed independently). Median 50 % square (all pixels) per σ, c = {heat_net}: "
    f"{', '.join(f'{v:.0f}' for v in sizes[heat_net][0.5][::-1])} (σ rising); central pixels: "
    f"{', '.join(f'{v:.0f}' for v in sizes_centre[heat_net][0.5][::-1])}. Best PSPC-Square size per σ (σ falling): "
    f"{best_fwd}. Without the skip path (the learned term c_out F alone), the median 50 % square per σ (σ rising) "
    f"is {', '.join(f'{v:.0f}' for v in sizes_F[heat_net][::-1])}: at σ = {sigmas[-1]:.3g} "
    f"{sizes_F[heat_net][-1]:.0f} against {sizes[heat_net][0.5][-1]:.0f} for the whole denoiser. The learned term's "
    f"50 % square at the lowest and highest σ, per width: "
    f"{'; '.join(f'c = {c}: {v[-1]:.0f} and {v[0]:.0f}' for c, v in sizes_F.items())}.")
say(f"Re-declared rows: at σ = {sigmas[i_low]:.3g}, the grid level nearest the paper's t = 0.03, the learned term's "
    f"median 50 % side is " + ", ".join(f"{v:.0f} ({k})" for k, v in low_F.items()) + " (the paper: 3): "
    f"`002-locality-low-learned` **{claims.verdict('002-locality-low-learned')}** (`002-locality-low`, superseded, "
    f"read **{claims.verdict('002-locality-low')}** on the whole denoiser at σ = {sigmas[-1]:.3g}). Over the "
    f"{int(fg.sum())} foreground pixels the median side's Spearman ρ with σ is " +
    ", ".join(f"{v:.2f} ({k})" for k, v in rho_fg.items()) + f": `002-locality-fg` "
    f"**{claims.verdict('002-locality-fg')}**. The best patch size grows with σ for the controls too, by ρ = " +
    ", ".join(f"{v:.2f} ({k})" for k, v in rho_best_ctrl.items()) + f": `002-patch-size` "
    f"**{claims.verdict('002-patch-size')}**. The MLP's departure from $D_M$ has cosine " +
    ", ".join(f"{v:.2f}" for v in cos_arch.values()) + " with the U-Nets' (theirs among themselves: " +
    ", ".join(f"{v:.2f}" for v in cos_unets.values()) + ").")
