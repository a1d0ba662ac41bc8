"""The claims ledger: one row per claim of the three seeds, joined with our recorded verdicts."""
from __future__ import annotations

from .results import load_results

# id, seed, figure, claim, the paper's number, the notebook that checks it (None: a later issue)
CLAIMS = [
    # seed 000 -- Merger & Goldt, linear diffusion theory
    ("000-c-ridge", "000", "slides: rho_N", "A ridge on a linear denoiser gives samples N(mu0, Sigma0 + cI), c = ridge",
     "c = ridge (theory)", "01_linear_theory"),
    ("000-c-sigma-min", "000", "slides: rho_N", "Stopping the PF-ODE at sigma_min without final denoise gives c = sigma_min^2",
     "c = sigma_min^2 (theory)", "01_linear_theory"),
    ("000-c-early-stop", "000", "slides: early stopping", "Early stopping leaves unseen directions with variance c ~ 1/(2 eta tau)",
     "c_eff ~ 1/(2 eta tau)", "01_linear_theory"),
    ("000-loss-gap", "000", "slides: test loss", "test - train loss = Tr[(Sigma - Sigma0)(Sigma0 + cI)^-2] (+ mean term) per level",
     "exact formula", "01_linear_theory"),
    ("000-null-dirs", "000", "slides: N < d", "For N < d the d - N null directions of Sigma0 dominate the test loss",
     "null term dominates", "01_linear_theory"),
    ("000-kl-transition", "000", "slides: KL", "KL(rho_N || rho) falls sharply around N ~ d",
     "transition at N ~ d", "01_linear_theory"),
    ("000-kl-decay", "000", "slides: KL", "For N > d, KL/d ~ d/(4N), independent of the spectrum (c = 0)",
     "KL/d ~ d/(4N)", "01_linear_theory"),
    ("000-kl-spectrum", "000", "slides: stay tuned", "With c > 0 the spectrum, ridge and training time change the KL",
     "qualitative", "01_linear_theory"),
    ("000-sampler-bias", "000", "STUDY §1 trap", "A 10-step Heun sampler is biased even with the exact linear denoiser",
     "(finding, not in paper)", "01_linear_theory"),
    ("000-nonlinear", "000", "slides: stay tuned", "A non-linear (MLP) denoiser on Gaussian data vs the linear theory",
     "open question in talk", "01_linear_theory"),
    # seed 001 -- Li, Dai & Qu
    ("001-thm1", "001", "Theorem 1", "GD on the linear DSM objective converges to W* = Sigma0 (Sigma0 + s^2 I)^-1, b* = (I - W*) mu0",
     "exact optimum", "02_gaussian_optimality"),
    ("001-eq7", "001", "eq 7", "The closed-form PF-ODE trajectory under D_G equals numerical integration",
     "exact", "02_gaussian_optimality"),
    ("001-dg-samples", "001", "Fig 2", "D_G samples are new images, not copies of training images",
     "qualitative", "02_gaussian_optimality"),
    ("001-linearity", "001", "Fig 1, 10", "Linearity score rises with N; > 0.96 (worst a, b) in the generalization regime",
     "LS > 0.96", "03_linearity"),
    ("001-rmse-DL-net", "001", "Fig 3", "Linear distillation D_L matches the net at high [20, 80] and low [0.002, 0.1] noise",
     "RMSE < 0.05", "04_gaussian_structure"),
    ("001-DL-DG", "001", "Fig 3-4", "D_L is close to D_G at all noise levels; weight NMSE(W_L, W_G) < 0.2 for most sigma",
     "RMSE < 0.05, NMSE < 0.2", "04_gaussian_structure"),
    ("001-gauss-vs-mem", "001", "Fig 3, 5", "Generalizing nets sit closer to D_G than to D_M at intermediate noise; "
     "memorizing nets the other way", "qualitative", "04_gaussian_structure"),
    ("001-identity", "001", "App D", "At low noise the networks approach the identity map", "qualitative",
     "04_gaussian_structure"),
    ("001-dataset-size", "001", "Fig 6", "Memorization gives way to generalization as N grows; nets approach D_G",
     "GL > 0.6 when generalizing", "05_dataset_size"),
    ("001-transition-d", "001/000", "Fig 6; slides", "The memorization -> generalization transition falls near N ~ d",
     "N ~ d", "05_dataset_size"),
    ("001-capacity", "001", "Fig 7", "At fixed small N, smaller models memorize less and sit closer to D_G at "
     "intermediate noise", "qualitative", "06_capacity"),
    ("001-capacity-high-noise", "001", "Fig 7 caveat", "Small models are under-trained at high noise", "qualitative",
     "06_capacity"),
    ("001-training-time", "001", "Fig 8", "Distance to D_G falls then rises as memorization sets in", "~epoch 841 minimum",
     "07_training_time"),
    ("001-early-stop-heldout", "001", "Fig 8 (ours)", "The held-out loss finds the early-stopping point nearest D_G "
     "(within 2x in steps)", "(not in paper)", "07_training_time"),
    ("001-training-time-control", "001", "Fig 8 (ours)", "The late rise of the distance to D_G comes with memorization "
     "(a large-N control rises < half as much)", "(implied)", "07_training_time"),
    ("001-strong-gen", "001", "Fig 9", "Nets on disjoint halves generate nearly the same image; small data breaks it",
     "qualitative", "08_strong_generalization"),
    ("001-strong-gen-fixes", "001", "Fig 9", "With small data, a smaller net or early stopping restores the agreement",
     "qualitative", "08_strong_generalization"),
    ("001-strong-gen-DG", "001", "Fig 9", "D_G estimated from a few hundred images gives the same samples; nets match "
     "D_G samples", "qualitative", "08_strong_generalization"),
    # seed 002 -- Niedoba et al.
    ("002-net-vs-DM", "002", "Fig 2", "Nets deviate from D_M alike, most for t in ~[0.3, 10]", "qualitative",
     "09_locality"),
    ("002-locality", "002", "Fig 3-4", "Gradient sensitivity is local: 50% mass in 3x3 (t=0.03) .. 13x13 (t=30)",
     "3x3 .. 13x13 (32x32)", "09_locality"),
    ("002-patch-size", "002", "Fig 4", "The patch size that best explains the net grows with the noise", "qualitative",
     "09_locality"),
    ("002-pspc", "002", "Fig 7, 9", "PSPC beats D_M clearly, and D_G for t in [0.3, 3]", "qualitative", "10_pspc"),
    ("002-flex", "002", "Fig 7", "PSPC-Flex beats PSPC-Square", "qualitative", "10_pspc"),
    ("002-pspc-reverse", "002", "Fig 7", "The PSPC comparisons also hold on the nets' reverse trajectories",
     "qualitative", "10_pspc"),
    ("002-leaderboard-mid", "002+", "ours", "A local analytic denoiser (PSPC or ELS) explains every generalizing net best "
     "in the mid band", "(beyond the papers)", "11_leaderboard"),
    ("002-leaderboard-samples", "002+", "ours", "A local analytic denoiser gives the samples nearest the net's",
     "(beyond the papers)", "11_leaderboard"),
    ("002-leaderboard-memorizing", "002+", "ours", "For a memorizing net D_M is (near) the best mid-band explanation",
     "(beyond the papers)", "11_leaderboard"),
]


def ledger_table(profiles=("default", "smoke")):
    """A pandas DataFrame: every claim with our number and verdict from the first profile that recorded it."""
    import pandas as pd

    results = {p: load_results(p) for p in profiles}
    rows = []
    for cid, seed, fig, claim, paper, nb in CLAIMS:
        ours, verdict, prof = "", "not yet reproduced" if nb is None else "not run", ""
        for p in profiles:
            rec = next((c for r in results[p].values() for c in r.get("claims", []) if c["id"] == cid), None)
            if rec is not None:
                ours, verdict, prof = rec["ours"], "holds" if rec["holds"] else "differs", p
                break
        rows.append({"id": cid, "seed": seed, "figure": fig, "claim": claim, "paper": paper, "ours": ours,
                     "profile": prof, "verdict": verdict, "notebook": nb or "(later issue)"})
    return pd.DataFrame(rows)
