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
# # 08 · Strong generalization: two nets, disjoint data, the same image (Li et al. 2024, Fig 9)
#
# **Claim (Li, Dai & Qu 2024, Fig 9; after Kadkhodaie et al. 2024).** Two models trained on *disjoint* halves of a
# dataset generate nearly the same image from the same initial noise when they generalize, and both match the
# samples of the Gaussian denoiser $D_G$, whose structure (mean and covariance) can be estimated from a few hundred
# images. With little data the two models memorize their own halves and disagree; a smaller model, or early
# stopping, restores the agreement.
#
# **Our setting vs the paper's.** MNIST 16×16 ($d = 256$). Generalizing pair: channel base 16 on two disjoint sets of
# $N = 1024$ (notebook 05's net is half A). Small-data pair: $N = 64$ per half, channel base 16, 2000 steps (the
# snapshot net of notebook 07 is half A). Fixes: channel base 4 on the same halves; and early stopping, each net
# stopped at its own snapshot with the lowest EDM loss on held-out images — a rule that needs no $D_G$.
# $D_G$ samples use the same Heun sampler (18 steps) and the same noise as the nets.
#
# **Measures.** For two sample sets from the same noise, the pixel RMSE $\sqrt{\lVert x_a - x_b\rVert^2/d}$ averaged
# over samples, and as a yardstick the same RMSE between *different* noises (pairs shifted by one): a ratio near 0
# means "the same image", near 1 means "unrelated images".

# %% tags=["parameters"]
profile = "default"
results_dir = None  # where the claims are recorded (null: runs/<profile>/results)
seed = 0
dataset = "mnist"
size = 16
data_path = None
N_gen = 1024
N_small = 64
n_few = 300  # images for the "few hundred" D_G, held out from both halves
channels = 16
channels_small = 4
steps = 1200
steps_small_data = 2000
snapshots = [100, 200, 300, 400, 600, 800, 1000, 1200, 1600, 2000]
n_samples = 100
n_eval = 256


# %% [markdown]
# ## Claims, declared before anything is computed
# One training seed per net here (several seeds come with the evidence issue); the verdicts are point values.

# %%
from gendiff.study import Claims, Estimate, above, below, between, say

claims = Claims("08_strong_generalization", profile, results_dir)
LI = "Li et al. 2024"
claims.declare("001-strong-gen", "Nets on disjoint halves generate nearly the same image from the same noise; small "
               "data breaks it", source=f"{LI}, Fig. 9 (after Kadkhodaie et al. 2024)", paper="qualitative",
               statistic="ratio: same-noise / other-noise sample RMSE of the generalizing pair; fail_gap: ratio of the "
                         "small-data pair minus that of the generalizing pair",
               tests={"ratio": below(0.5), "fail_gap": above(0.0)},
               differs="nets trained on different data do not share a generative map")
claims.declare("001-strong-gen-fixes", "With small data, a smaller net or early stopping restores the agreement",
               source=f"{LI}, Fig. 9", paper="qualitative",
               statistic="gain of each fix: small-data ratio minus the fixed pair's ratio",
               tests={"smaller_net": above(0.0), "early_stop": above(0.0)},
               differs="neither capacity nor training time controls memorization here")
claims.declare("001-strong-gen-DG", "D_G estimated from a few hundred images gives the same samples; nets match D_G "
               "samples", source=f"{LI}, Fig. 9", paper="qualitative",
               statistic="few_ratio: D_G(few) vs D_G(N_gen) samples; net_ratio: net A vs D_G(A) samples (same-noise "
                         "/ other-noise RMSE)", tests={"few_ratio": below(0.5), "net_ratio": below(1.0)},
               differs="the Gaussian structure needs many images, or is not what the nets share")

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gendiff.cache import get_model
from gendiff.data import load_dataset, permutation
from gendiff.denoisers import GaussianDenoiser
from gendiff.denoisers.base import flat
from gendiff.device import stream_seed
from gendiff.metrics import heldout_edm_loss, memorization_fraction, pixel_rmse
from gendiff.plots import image_grid, style
from gendiff.progress import tqdm
from gendiff.sampling import edm_sampler, initial_noise
from gendiff.zoo import NetConfig

style()
t_start = time.time()
data = load_dataset(dataset, size=size, data_path=data_path)
if 2 * max(N_gen, N_small) + n_eval + n_few > data.shape[0]:
    raise ValueError(f"two halves of N_gen={N_gen} plus n_eval + n_few = {n_eval + n_few} held-out images need "
                     f"{2 * N_gen + n_eval + n_few} images; {dataset!r} has {data.shape[0]}")
held = data[permutation(data.shape[0], 0)[-(n_eval + n_few):]]  # the end of the permutation: in neither half
y_out, y_few = held[:n_eval], held[n_eval:]
x_T = initial_noise(n_samples, tuple(data.shape[1:]), seed)
sample = lambda D: edm_sampler(D, x_T, num_steps=18).clamp(-1, 1)  # noqa: E731


def agreement(a, b):
    """Same-noise RMSE, different-noise RMSE (b shifted by one) and their ratio."""
    same, other = pixel_rmse(a, b), pixel_rmse(a, b.roll(1, 0))
    return same, other, same / other


def half(N, c, st, part, snaps=()):
    return NetConfig(N=N, dataset=dataset, size=size, data_path=data_path, channels=c, steps=st, seed=seed,
                     data_part=part, snapshots=tuple(snaps))


def early_stopped(cfg):
    """The snapshot with the lowest EDM loss on held-out images (no D_G needed)."""
    losses = {s: heldout_edm_loss(get_model(cfg, device="cpu", snapshot=s)[0], y_out, seed=stream_seed(seed, "heldout-loss"))
              for s in cfg.snapshots}
    best = min(losses, key=losses.get)
    return get_model(cfg, device="cpu", snapshot=best)[0], best


settings = {  # name -> (config of half A, of half B, early stop?)
    f"N={N_gen}, c={channels}": (half(N_gen, channels, steps, 0), half(N_gen, channels, steps, 1), False),
    f"N={N_small}, c={channels}": (half(N_small, channels, steps_small_data, 0, snapshots),
                                   half(N_small, channels, steps_small_data, 1, snapshots), False),
    f"N={N_small}, c={channels_small}": (half(N_small, channels_small, steps, 0), half(N_small, channels_small, steps, 1),
                                         False),
    f"N={N_small}, c={channels}, early stop": (half(N_small, channels, steps_small_data, 0, snapshots),
                                               half(N_small, channels, steps_small_data, 1, snapshots), True),
}
rows, samples = [], {}
for name, (cfg_a, cfg_b, stop) in tqdm(settings.items(), desc="settings"):
    ya, yb = cfg_a.training_set(), cfg_b.training_set()
    assert not (flat(ya)[:, None] == flat(yb)[None]).all(-1).any(), "the halves overlap"
    if stop:
        (Da, sa), (Db, sb) = early_stopped(cfg_a), early_stopped(cfg_b)
    else:
        (Da, _), (Db, _) = get_model(cfg_a, device="cpu"), get_model(cfg_b, device="cpu")
        sa = sb = cfg_a.steps
    xa, xb = sample(Da), sample(Db)
    ga, gfew = sample(GaussianDenoiser.from_data(ya)), sample(GaussianDenoiser.from_data(y_few))
    samples[name] = (xa, xb, ga)
    same, other, ratio = agreement(xa, xb)
    rows.append(dict(setting=name, steps=f"{sa}/{sb}", rmse_AB=same, rmse_AB_other_noise=other, ratio_AB=ratio,
                     ratio_A_DG_A=agreement(xa, ga)[2], ratio_A_DG_few=agreement(xa, gfew)[2],
                     memorized_A=memorization_fraction(xa, ya), memorized_B=memorization_fraction(xb, yb)))
table = pd.DataFrame(rows).set_index("setting")
table.round(3)

# %% [markdown]
# The $D_G$ samples among themselves: from half A, half B (at each $N$) and from the few hundred held-out images.

# %%
dg_rows = []
for N in (N_gen, N_small):
    ya, yb = half(N, channels, steps, 0).training_set(), half(N, channels, steps, 1).training_set()
    ga, gb = sample(GaussianDenoiser.from_data(ya)), sample(GaussianDenoiser.from_data(yb))
    gfew = sample(GaussianDenoiser.from_data(y_few))
    dg_rows.append(dict(N=N, ratio_DG_A_B=agreement(ga, gb)[2], ratio_DG_A_few=agreement(ga, gfew)[2]))
dg_table = pd.DataFrame(dg_rows).set_index("N")
dg_table.round(3)

# %%
fig, ax = plt.subplots(figsize=(9, 3.8))
xpos = np.arange(len(table))
for k, (col, lab) in enumerate([("ratio_AB", "net A vs net B"), ("ratio_A_DG_A", "net A vs D_G(A)"),
                                ("ratio_A_DG_few", f"net A vs D_G({n_few} held-out)")]):
    ax.bar(xpos + (k - 1) * 0.27, table[col], 0.27, label=lab)
ax.axhline(1, color="gray", lw=0.8, ls="--")
ax.set_xticks(xpos, table.index, fontsize=8)
ax.set(ylabel="same-noise RMSE / different-noise RMSE", title="agreement of samples from the same noise (0 = identical)")
ax.legend(fontsize=8)
fig.tight_layout()
for name, (xa, xb, ga) in samples.items():
    image_grid({f"{name}: net A": xa[:10], "net B": xb[:10], "D_G(A)": ga[:10]})

# %% [markdown]
# **Tests (declared at the top):**
# 1. Generalizing pair: samples from the same noise agree — same-noise RMSE at most half the different-noise
#    RMSE (ratio ≤ 0.5).
# 2. Small-data failure: the $N = 64$, c = 16 pair (2000 steps) agrees less (higher ratio) than the generalizing
#    pair.
# 3. Both fixes — the smaller net and early stopping — lower the ratio of the small-data pair.
# 4. $D_G$ from a few hundred images gives nearly the same samples as $D_G$ from 1024 (ratio ≤ 0.5), and the
#    generalizing net A is nearer the $D_G$ samples than to unrelated ones (ratio < 1).

# %%
g, m, s_, e = (table.iloc[i] for i in range(4))
few = dg_table.loc[N_gen, "ratio_DG_A_few"]
print(table.round(3).to_string())
claims.record("001-strong-gen", f"same-noise / other-noise RMSE of nets on disjoint halves: {g['ratio_AB']:.2f} "
              f"(N={N_gen}), {m['ratio_AB']:.2f} (N={N_small}, memorized {m['memorized_A']:.0%})",
              ratio=g["ratio_AB"], fail_gap=m["ratio_AB"] - g["ratio_AB"])
claims.record("001-strong-gen-fixes", f"N={N_small}: ratio {m['ratio_AB']:.2f} -> {s_['ratio_AB']:.2f} "
              f"(c={channels_small}), {e['ratio_AB']:.2f} (early stop at steps {e['steps']})",
              smaller_net=m["ratio_AB"] - s_["ratio_AB"], early_stop=m["ratio_AB"] - e["ratio_AB"])
claims.record("001-strong-gen-DG", f"D_G({n_few} images) vs D_G({N_gen}) samples: ratio {few:.2f}; net vs D_G samples: "
              f"{g['ratio_A_DG_A']:.2f}", few_ratio=few, net_ratio=g["ratio_A_DG_A"])
claims.number("table", table.reset_index().to_dict("records"))
claims.number("runtime_s", time.time() - t_start)
claims.finish()

# %% [markdown]
# **Reading.** Rendered from this run's numbers:

# %%
say(f"Two nets trained on disjoint sets of {N_gen} images give samples from the same noise whose pixel RMSE is "
    f"{g['ratio_AB']:.2f} of that between unrelated samples, while on {N_small} images per half they memorize "
    f"({m['memorized_A']:.0%}) and disagree ({m['ratio_AB']:.2f}). A narrower net (c = {channels_small}: "
    f"{s_['ratio_AB']:.2f}) or early stopping at the lowest held-out loss ({e['ratio_AB']:.2f}, steps {e['steps']}) "
    f"changes that. $D_G$ from {n_few} held-out images against $D_G$ from {N_gen}: {few:.2f}; the nets' samples "
    f"against the $D_G$ samples: {g['ratio_A_DG_A']:.2f} (1 = as far as unrelated samples).")
