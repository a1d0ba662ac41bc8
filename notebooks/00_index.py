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
# # gendiff · Why do diffusion models generalize? — index and claims ledger
#
# This study reproduces, checks and extends three works at a scale that runs on two CPU cores:
#
# | claim ids | work | question |
# |---|---|---|
# | `000-*` | Merger & Goldt 2025, *Generalization dynamics of linear diffusion models* | what does a linear denoiser learn from $N$ Gaussian samples in $d$ dimensions? |
# | `001-*` | Li, Dai & Qu, NeurIPS 2024, *Understanding generalizability of diffusion models requires rethinking the hidden Gaussian structure* | are trained denoisers close to the Gaussian (Wiener) denoiser of the training set? |
# | `002-*` | Niedoba et al., ICML 2025, *Towards a mechanistic explanation of diffusion model generalization* | do networks act as local patch-wise denoisers? |
#
# **The one idea of the code.** Everything compared is a *Denoiser* $D(x,\sigma)$: trained nets (through EDM
# preconditioning), the Gaussian denoiser $D_G$, the empirical-optimal denoiser $D_M$, linear models, and patch
# denoisers. Metrics, samplers and plots take any Denoiser. Trained nets come from a content-addressed cache
# (`gendiff.cache.get_model`): every notebook that needs "the channel-16 net on N = 1024" trains it once.
#
# **How to read.** Each notebook declares its claims, with the statistic and test that decide each, in a cell
# before it computes anything; the library then records the verdict from the measured statistics. The committed notebooks are executed at the `default` profile.
#
# **How to rerun.** `make study` runs every notebook at the default profile and refreshes these files.
# `python -m gendiff run -p smoke 01` runs notebook 01 at the CI profile into `runs/smoke/`.
# `python -m gendiff run 01 --set d=64` changes a parameter; every parameter is checked before anything runs.
# `python -m gendiff params 01` lists the parameters of notebook 01.
#
# | notebook | claims |
# |---|---|
# | [01_linear_theory](01_linear_theory.ipynb) | Merger & Goldt 2025: $\rho_N=\mathcal N(\mu_0,\Sigma_0+cI)$, test loss, null directions, KL vs $N/d$, sampler bias, linear vs MLP |
# | [02_gaussian_optimality](02_gaussian_optimality.ipynb) | Li et al. 2024: Theorem 1 on digits and MNIST, eq 7 trajectory, $D_G$ vs $D_M$ samples |
# | [03_linearity](03_linearity.ipynb) | Li et al. 2024, Figs. 1, 10, 12–13: the linearity score rises with $N$ (raw and centred forms), and on a second dataset (digits) as memorization ends |
# | [04_gaussian_structure](04_gaussian_structure.ipynb) | Li et al. 2024, Figs. 2–5, App D: $D_L$, $D_G$, $D_M$ vs the net; $W_L\to W_G$; memorizing vs generalizing |
# | [05_dataset_size](05_dataset_size.ipynb) | Li et al. 2024, Fig. 6: memorized share, GL and distance to $D_G$ vs $N$; where the transition falls relative to $d$ |
# | [06_capacity](06_capacity.ipynb) | Li et al. 2024, Fig. 7: channel base 4–32 at N = 64: memorization and distance to $D_G$ vs capacity |
# | [07_training_time](07_training_time.ipynb) | Li et al. 2024, Fig. 8: snapshots of an over-parameterized net: distance to $D_G$ falls, then rises as memorization sets in; early stopping |
# | [08_strong_generalization](08_strong_generalization.ipynb) | Li et al. 2024, Fig. 9: nets on disjoint halves give the same image from the same noise; small-data failure and its two fixes |
# | [09_locality](09_locality.ipynb) | Niedoba et al. 2025, Figs. 2–4: net vs $D_M$ over σ; gradient-sensitivity maps and their size vs σ; patch posteriors per patch size |
# | [10_pspc](10_pspc.ipynb) | Niedoba et al. 2025, Figs. 1, 2 (right), 7, 9: PSPC-Square / Flex vs $D_M$, $D_G$, ELS, smoothed $D_M$ against each net, forward and reverse; every denoiser on a shared reverse trajectory; samples |
# | [11_leaderboard](11_leaderboard.ipynb) | beyond the papers: every analytic denoiser vs every net, by noise band and on samples, winner per column |
# | [12_transition_scaling](12_transition_scaling.ipynb) | beyond the papers: where memorization ends ($N^\star$) across resolutions and datasets (MNIST 8/12/16 px, digits 8 px); a scaling rule and its prediction for a held-back setting (digits at 16 px) |

# %% tags=["parameters"]
profile = "default"
results_dir = None  # the results folder to read (null: runs/<profile>/results)
require_complete = True  # every claim of a notebook that ran must have a recorded verdict

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from gendiff.plots import style
from gendiff.study.claims import load_results
from gendiff.study.io import results_dir as profile_results
from gendiff.study.ledger import VERDICT_COLOURS, counts_line, ledger_table

style()
pd.set_option("display.max_colwidth", 90)
folder = Path(results_dir) if results_dir else profile_results(profile)
runs = {k: v for k, v in load_results(folder).items() if k != "00_index"}
table = ledger_table(folder, notebooks=list(runs) or None)
print(f"profile {profile!r}: results of {len(runs)} notebooks: {', '.join(runs) or 'none yet'}")

# %% [markdown]
# ## The claims ledger
# One row per declared claim: where the paper makes it, the paper's value, the test declared in the notebook before
# anything was computed, our statistics and the verdict the library decided from them. **holds**: every declared
# test is met (its whole interval, where there is one). **differs**: a test fails, and the notebook says how our
# small-scale result departs from the paper. **inconclusive**: an interval straddles a threshold, or a statistic
# could not be measured at this scale. **not discriminating**: the tests hold, but would hold too in the wrong world
# the claim named when it was declared, so passing them says nothing. **superseded**: a row whose statistic a
# later declaration found not to decide the claim; it is still computed, and `ours` says what it read and which row
# decides the claim now.
# `knife_edge`: the statistics whose interval ends within 1 % of their (non-zero) threshold, where a little more
# noise could flip the verdict. `kind`: verification (an identity or a theorem), reproduction (a paper's empirical
# finding) or extension (ours), where the notebook declared it.
# `tested_by`: where a notebook tested the explanation of a row (often a row that differs), the claims that tested
# it, with their verdicts; each such claim names the row it explains when it is declared.

# %%
cols = ["id", "kind", "source", "claim", "paper", "test", "ours", "statistics", "verdict", "knife_edge", "tested_by"]
table[cols].style.hide(axis="index").map(lambda v: f"background-color:{VERDICT_COLOURS[v]}40"
                                         if v in VERDICT_COLOURS else "", subset=["verdict"])

# %%
table["work"] = table.id.str.split("-").str[0].map({"000": "Merger & Goldt 2025", "001": "Li et al. 2024",
                                                     "002": "Niedoba et al. 2025"}).fillna("not run")
counts = table.groupby(["work", "verdict"]).size().unstack(fill_value=0)
ax = counts.plot.barh(stacked=True, figsize=(7, 2.4), color=VERDICT_COLOURS)
ax.set(xlabel="claims", ylabel="", title=f"claims ledger ({profile} profile)")
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
plt.tight_layout()

# %% [markdown]
# **Check.** Every claim declared by a notebook that has run must carry a verdict. A notebook that stopped early
# leaves its later rows "not recorded", and this cell fails.

# %%
missing = table[table.verdict == "not recorded"]
print(f"{counts_line(table)}; from {len(runs)} notebooks")
if require_complete and not missing.empty:
    raise RuntimeError(f"claims without a verdict: {list(missing.id)}")
