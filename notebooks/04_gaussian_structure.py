# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · The hidden Gaussian structure of trained denoisers (seed 001, Figs 2–5, App D)
#
# **Claims (Li, Dai & Qu 2024).**
# - **Fig 3.** The best linear fit to a trained net, $D_L$ (linear distillation, eq 8–9), matches the net at high
#   noise $[20,80]$ and low noise $[0.002,0.1]$ (RMSE, eq 10, < 0.05). In between the net is clearly non-linear.
# - **Figs 3–4.** $D_L$ is close to the Gaussian denoiser $D_G$ at all noise levels (RMSE < 0.05). Their weights
#   agree, with NMSE$(W_L,W_G)<0.2$ for most σ, and the leading singular vectors of $W_L$ align with those of $D_G$.
# - **Fig 5.** In the memorization regime (small $N$) all of this breaks.
# - **App D.** At low noise the networks approach the identity.
#
# **Our setting vs the paper's.** The nets of notebook 03 are reused from the cache: MNIST 16×16, UNet2DModel with
# channels (16, 32, 32), trained for 1200 steps. The generalizing net is trained on $N=4096$, the memorizing one on
# $N=16$. The paper uses FFHQ 64×64, channel base 128 and far longer training. Distillation uses 4096 pairs
# $(z, D(z))$ per σ. It is solved in closed form (least squares) and, for the $W_L\to W_G$ curves, by the paper's
# Algorithm 1 (Adam, batch 256, its per-σ learning rates) on the same fixed pool.

# %% tags=["parameters"]
profile = "default"
seed = 0
dataset = "mnist"
size = 16
N_gen = 4096
N_mem = 16
channels = 16
steps = 1200
n_eval = 256  # clean training images per RMSE estimate
n_distill = 4096  # (z, D(z)) pairs per sigma
adam_epochs = 100  # the paper's
adam_sigmas = [4.07, 1.5, 0.47]
n_samples = 8
sv_k = 50
rmse_threshold = 0.05  # the paper's
nmse_threshold = 0.2  # the paper's
assert_regimes = True  # verdicts 1-2 need nets trained at the default scale; only the smoke profile turns this off

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from gendiff import edm
from gendiff.cache import get_model
from gendiff.data import load_dataset, train_test_split
from gendiff.denoisers import EmpiricalDenoiser, GaussianDenoiser
from gendiff.distill import distill, distill_adam, distill_lstsq, distill_pairs, paper_distill_lr
from gendiff.metrics import score_field_rmse, singular_vector_alignment, weight_nmse
from gendiff.plots import image_grid, style
from gendiff.progress import tqdm
from gendiff.results import Results
from gendiff.sampling import edm_sampler
from gendiff.zoo import NetConfig

style()
res = Results("04_gaussian_structure", profile)
t_start = time.time()
sigmas = edm.sigma_grid(10).tolist()
regimes = {"generalizing": N_gen, "memorizing": N_mem}
M = {}
for name, N in regimes.items():
    cfg = NetConfig(N=N, dataset=dataset, size=size, channels=channels, steps=steps, seed=seed)
    net, info = get_model(cfg, device="cpu")
    y, y_out = train_test_split(load_dataset(dataset, size=size), N, n_eval, seed=cfg.data_seed)
    assert torch.equal(y, cfg.training_set())
    M[name] = dict(N=N, net=net, y=y, y_out=y_out, G=GaussianDenoiser.from_data(y), E=EmpiricalDenoiser(y))
    print(f"{name}: N = {N}, trained now: {info['trained']}")

# %% [markdown]
# ## 1. RMSE vs σ: $D_L$, $D_G$ and $D_M$ against the net (eq 10)
# $D_L$ is distilled at the 10 levels. The inputs are training images plus fresh noise, the same draw for every
# denoiser, as in eq 10. Dashed: $D_G$ and $D_M$ against the net on *held-out* images (never trained on).

# %%
for name, m in M.items():
    m["L"] = distill(m["net"], m["y"], sigmas, n_pairs=n_distill, seed=seed, progress=True)
    g = torch.Generator().manual_seed(seed + 5)
    x_eval = m["y"][torch.randint(0, m["y"].shape[0], (n_eval,), generator=g)]
    rm = {k: [] for k in ("D_L", "D_G", "D_M", "D_L vs D_G", "identity", "D_G held-out", "D_M held-out")}
    ident = lambda x, s: x  # noqa: E731
    for s in tqdm(sigmas, desc=f"RMSE ({name})", leave=False):
        gen = lambda: torch.Generator().manual_seed(seed + 6)  # noqa: E731
        rm["D_L"].append(score_field_rmse(m["L"], m["net"], x_eval, s, generator=gen()))
        rm["D_G"].append(score_field_rmse(m["G"], m["net"], x_eval, s, generator=gen()))
        rm["D_M"].append(score_field_rmse(m["E"], m["net"], x_eval, s, generator=gen()))
        rm["D_L vs D_G"].append(score_field_rmse(m["L"], m["G"], x_eval, s, generator=gen()))
        rm["identity"].append(score_field_rmse(ident, m["net"], x_eval, s, generator=gen()))
        rm["D_G held-out"].append(score_field_rmse(m["G"], m["net"], m["y_out"], s, generator=gen()))
        rm["D_M held-out"].append(score_field_rmse(m["E"], m["net"], m["y_out"], s, generator=gen()))
    m["rmse"] = {k: np.array(v) for k, v in rm.items()}

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, (name, m) in zip(axes, M.items()):
    for k, st in (("D_L", "o-C0"), ("D_G", "s-C1"), ("D_M", "^-C2"), ("D_L vs D_G", "k:"), ("D_G held-out", "s--C1"),
                  ("D_M held-out", "^--C2")):
        ax.loglog(sigmas, m["rmse"][k], st, label=k if "vs" in k or "held" in k else f"{k} vs net")
    ax.axhline(rmse_threshold, color="gray", lw=0.8)
    ax.axvspan(0.1, 20, color="orange", alpha=0.08)
    ax.set(xlabel="σ", ylabel="RMSE (eq 10)", title=f"{name} net (N = {m['N']})")
    ax.legend(fontsize=8)
fig.tight_layout()
for name, m in M.items():
    print(name)
    for k, v in m["rmse"].items():
        print(f"   {k:11s}", np.array2string(v, precision=3))

# %% [markdown]
# ## 2. $W_L\to W_G$: Algorithm 1 curves, weight NMSE at every level, singular vectors
# Left: Algorithm 1 with the paper's learning rates on our pool of 4096 pairs (16 Adam steps per epoch). Dotted:
# the closed-form $W_L$ from the same pairs. At σ ≥ 4.07 the paper's rate 5e-5 is far too small for this few
# steps. Adam moves every weight by about lr per step, whatever its gradient, so the error *grows* before it
# falls. The closed form has no such problem, which is one reason to prefer it (see `bench/`).

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for name, m in M.items():
    nm = [weight_nmse(m["L"].W[k], m["G"].wiener(s)[0]) for k, s in enumerate(sigmas)]
    m["nmse"] = np.array(nm)
    axes[1].loglog(sigmas, nm, "o-", label=f"{name} (closed form)")
gm = M["generalizing"]
adam_vs_lstsq = {}
for s in adam_sigmas:
    Z, Y = distill_pairs(gm["net"], gm["y"], s, n_distill, generator=torch.Generator().manual_seed(seed))
    W_G = gm["G"].wiener(s)[0]
    W_adam, _, h = distill_adam(Z, Y, lr=paper_distill_lr(s), epochs=adam_epochs, W_ref=W_G, seed=seed)
    adam_vs_lstsq[s] = weight_nmse(W_adam, distill_lstsq(Z, Y)[0])
    axes[0].semilogy(h["epoch"], h["nmse"], label=f"σ={s} (lr {paper_distill_lr(s):g})")
    k = min(range(len(sigmas)), key=lambda i: abs(sigmas[i] - s))
    axes[0].axhline(gm["nmse"][k], ls=":", color=axes[0].lines[-1].get_color())
axes[0].set(xlabel="epoch (Algorithm 1)", ylabel="NMSE(W_L, W_G)", title="generalizing net: Adam (dotted: closed form)")
print("distance between the two distillations, NMSE(W_Adam, W_closed-form) on the same pairs:",
      {s: round(v, 4) for s, v in adam_vs_lstsq.items()})
axes[0].legend(fontsize=8)
axes[1].axhline(nmse_threshold, color="gray", lw=0.8)
axes[1].set(xlabel="σ", ylabel="NMSE(W_L, W_G)", title="weights of D_L vs D_G")
axes[1].legend(fontsize=8)
for name, m in M.items():
    diag = [float(singular_vector_alignment(m["L"].W[k], m["G"].U, sv_k).diagonal().mean()) for k in range(len(sigmas))]
    m["sv_diag"] = np.array(diag)
    axes[2].semilogx(sigmas, diag, "o-", label=name)
axes[2].set(xlabel="σ", ylabel=f"mean |cos| of the first {sv_k} singular vectors", title="alignment of W_L with U of D_G")
axes[2].legend(fontsize=8)
fig.tight_layout()

k15 = min(range(len(sigmas)), key=lambda i: abs(sigmas[i] - 1.5))
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, m) in zip(axes, M.items()):
    ax.imshow(singular_vector_alignment(m["L"].W[k15], m["G"].U, sv_k), vmin=0, vmax=1, cmap="magma")
    ax.set(title=f"{name}: σ = {sigmas[k15]:.2f}", xlabel="u_i of D_G", ylabel="singular vector of W_L")
fig.tight_layout()

# %% [markdown]
# ## 3. Samples from the same noise: net, $D_L$, $D_G$, $D_M$
# Each denoiser runs through an 18-step Heun sampler, with $D_L$ distilled at that sampler's levels. The printed
# numbers are the pixel RMSE between each denoiser's samples and the net's. Observation, not stated beforehand and
# so not asserted: the generalizing net's samples lie closer to $D_L$ and $D_G$'s than to $D_M$'s, and the
# memorizing net's the other way. The net's samples are sharp digits, though, and $D_G$'s are not. The Gaussian
# structure is only part of what the net does at our scale.

# %%
levels18 = edm.sampling_steps(18)[:-1]
for name, m in M.items():
    L18 = distill(m["net"], m["y"], levels18, n_pairs=n_distill, seed=seed)
    g = torch.Generator().manual_seed(seed + 9)
    xT = edm.SIGMA_MAX * torch.randn((n_samples, *m["y"].shape[1:]), generator=g)
    rows = {"net": edm_sampler(m["net"], xT), "D_L": edm_sampler(L18, xT), "D_G": edm_sampler(m["G"], xT),
            "D_M": edm_sampler(m["E"], xT)}
    image_grid({k: v.clamp(-1, 1) for k, v in rows.items()}, title=f"{name} net (N = {m['N']}), same noise per column")
    m["sample_rmse"] = {k: float((rows[k] - rows["net"]).pow(2).mean().sqrt()) for k in ("D_L", "D_G", "D_M")}
    print(name, {k: round(v, 3) for k, v in m["sample_rmse"].items()})

# %% [markdown]
# ## Verdicts
# Stated before measuring:
# 1. *Generalizing vs memorizing (Fig 3 vs Fig 5).* At σ = 1.5 and 0.47, the generalizing net is closer to $D_G$
#    than to $D_M$, and the memorizing net is closer to $D_M$ than to $D_G$.
# 2. *Linear structure.* At σ = 1.5 and 0.47, $W_L$ of the generalizing net is closer to $W_G$ (NMSE) than the
#    memorizing net's $W_L$ is to its own $W_G$. Asserted.
# 3. *Identity at low noise (App D).* At σ = 0.002 the net is within RMSE 0.01 of the identity. EDM's
#    preconditioning ($c_{\rm skip}\to1$, $c_{\rm out}\to\sigma$) makes this nearly automatic. Asserted.
# 4. The paper's absolute thresholds (RMSE < 0.05, NMSE < 0.2) are recorded as *holds* or *differs*, with our
#    numbers next to them.
#
# **What happened to verdict 1** (default profile, first run). On training inputs at σ = 0.47, the N = 4096 net
# was *closer to $D_M$ (0.119) than to $D_G$ (0.140)*. At σ = 1.5 it was barely closer to $D_G$ (0.147 vs 0.157).
# At our scale the generalizing net is not clearly Gaussian at intermediate noise. It sits between the two
# references, about as far from each, as the pilot found ("the remaining distance is ~2/3 of the $D_G$–$D_M$
# gap"). We record the claim as **differs**. We do not assert it. The next cell prints whether it holds in this run.
# The dashed held-out curves are shown as extra evidence, not as a replacement test. What we assert instead is
# the regime separation that does hold and could fail: at σ = 1.5 and 0.47 the memorizing net is closer to $D_M$
# than to $D_G$. Its distance to $D_M$ is also less than half the generalizing net's distance to $D_M$.

# %%
idx = {s: min(range(len(sigmas)), key=lambda i: abs(sigmas[i] - s)) for s in (1.5, 0.47)}
G_, Mm = M["generalizing"]["rmse"], M["memorizing"]["rmse"]
paper_pattern = all(G_["D_G"][i] < G_["D_M"][i] and Mm["D_M"][i] < Mm["D_G"][i] for i in idx.values())
paper_pattern_heldout = all(G_["D_G held-out"][i] < G_["D_M held-out"][i] for i in idx.values())
separated = all(Mm["D_M"][i] < Mm["D_G"][i] and Mm["D_M"][i] < 0.5 * G_["D_M"][i] for i in idx.values())
ok_struct = all(M["generalizing"]["nmse"][i] < M["memorizing"]["nmse"][i] for i in idx.values())
ident = float(G_["identity"][-1])
high = [i for i, s in enumerate(sigmas) if s >= 20]
low = [i for i, s in enumerate(sigmas) if s <= 0.1]
dl_high, dl_low = float(G_["D_L"][high].max()), float(G_["D_L"][low].max())
dl_dg = float(G_["D_L vs D_G"].max())
nmse_g = M["generalizing"]["nmse"]
n_ok = int((nmse_g < nmse_threshold).sum())
worst_dl_dg = sigmas[int(np.argmax(G_["D_L vs D_G"]))]
fmt = lambda v: "/".join(f"{v[i]:.3f}" for i in idx.values())  # noqa: E731
print(f"paper's pattern on training inputs: {paper_pattern}; generalizing net closer to D_G on held-out inputs: "
      f"{paper_pattern_heldout}; regimes separated: {separated}; W_L structure: {ok_struct}")
res.claim("001-rmse-DL-net", f"RMSE(D_L, net) high-noise max {dl_high:.3f}, low-noise max {dl_low:.3f} "
          f"(threshold {rmse_threshold})", dl_high < rmse_threshold and dl_low < rmse_threshold)
res.claim("001-DL-DG", f"RMSE(D_L, D_G) max {dl_dg:.3f} (at σ={worst_dl_dg:.3g}; nets under-trained at high noise); "
          f"NMSE(W_L, W_G) < {nmse_threshold} at {n_ok}/10 levels (median {np.median(nmse_g):.2f})",
          dl_dg < rmse_threshold and n_ok >= 7)
res.claim("001-gauss-vs-mem", f"σ=1.5/0.47, train inputs: gen. net to D_G {fmt(G_['D_G'])} vs D_M {fmt(G_['D_M'])}; "
          f"held-out: D_G {fmt(G_['D_G held-out'])} vs D_M {fmt(G_['D_M held-out'])}; mem. net to D_M "
          f"{fmt(Mm['D_M'])} vs D_G {fmt(Mm['D_G'])}", paper_pattern and ok_struct,
          note="asserted: regime separation and W_L structure")
res.claim("001-identity", f"RMSE(net, identity) at σ=0.002: {ident:.4f}", ident < 0.01, ident)
res.number("rmse", {k: {kk: v.tolist() for kk, v in m["rmse"].items()} for k, m in M.items()})
res.number("nmse", {k: m["nmse"].tolist() for k, m in M.items()})
res.number("nmse_adam_vs_closed_form", {str(k): v for k, v in adam_vs_lstsq.items()})
res.number("runtime_s", time.time() - t_start)
if assert_regimes:
    assert separated, "the memorizing net is not clearly closer to D_M than the generalizing one"
    assert ok_struct, "W_L of the generalizing net is not closer to W_G than the memorizing net's"
assert ident < 0.01, f"the net is not the identity at sigma = 0.002: {ident}"
