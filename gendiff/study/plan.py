"""The study's nets as one plan: every net each notebook trains, as a function of its parameters, listed once.

``python -m gendiff plan -p default`` lists every distinct net of a profile (a net two notebooks share appears once,
with both names), what is cached already and what training the rest costs at this machine's measured rates;
``python -m gendiff train -p default [--workers N | --scheduler ADDRESS]`` trains the missing ones, one net a task,
before the notebooks run warm. Notebook 12's nets depend on what its walk over N/d measures: they are listed as
*adaptive* (the notebook trains those its walk reaches), and ``train --adaptive`` trains the whole grid.

Each ``_nets_NN`` below builds its notebook's configs as the notebook does. ``tests/test_plan.py`` compares the
plan of the smoke profile with the nets the smoke notebooks trained (the CI cache), so a notebook that asks for a
net the plan lacks, or a plan entry no notebook uses, fails the tests."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

from .._checks import GendiffError
from ..zoo import NetConfig


@dataclass
class PlannedNet:
    cfg: NetConfig
    notebooks: list = field(default_factory=list)
    adaptive: bool = False  # trained only if the notebook's adaptive walk reaches it

    @property
    def key(self) -> str:
        from ..cache import config_key

        return config_key(self.cfg)


def _net(p, **kw) -> NetConfig:
    """A U-Net config on the notebook's images (dataset, size, data_path where the notebook has them)."""
    base = dict(dataset=p.get("dataset", "mnist"), size=p.get("size"), data_path=p.get("data_path"))
    return NetConfig(**{**base, **kw})


def _nets_03(p):
    first = [_net(p, N=N, channels=p["channels"], steps=p["steps"], seed=s) for s in p["seeds"] for N in p["Ns"]]
    second = [NetConfig(N=N, dataset=p["second_dataset"], size=p["second_size"], channels=p["channels"],
                        steps=p["steps"], seed=s) for s in p["seeds"] for N in p["second_Ns"]]
    return first + second


def _nets_04(p):
    def cfg(N, s, **kw):
        return NetConfig(N=N, dataset=p["dataset"], size=p["size"], channels=p["channels"], steps=p["steps"], seed=s,
                         **kw)
    runs = [cfg(N, s) for s in sorted({p["seed"], *p["seeds"]}) for N in (p["N_gen"], p["N_mem"])]
    return runs + [cfg(p["N_gen"], s, P_std=p["P_std_wide"]) for s in p["seeds"]]


def _nets_05(p):
    return [_net(p, N=N, channels=p["channels"], steps=p["steps"], seed=s) for s in p["seeds"] for N in p["Ns"]]


def _nets_06(p):
    return [_net(p, N=p["N"], channels=c, steps=p["steps"], seed=s) for s in p["seeds"] for c in p["channel_bases"]]


def _nets_07(p):
    def cfg(N, s, steps, snaps):
        return _net(p, N=N, channels=p["channels"], steps=steps, snapshots=tuple(snaps), seed=s)
    out = [cfg(N, s, p["steps"], p["snapshots"]) for s in p["seeds"] for N in (p["N"], p["N_control"])]
    s0 = p["seeds"][0]
    if p["extend"]:
        out += [cfg(N, s0, p["extend"][-1], p["extend"]) for N in (p["N_control"], p["N"])]
    if p["extend_far"]:
        far = list(p["extend"]) + list(p["extend_far"])
        out.append(cfg(p["N_control"], s0, far[-1], far))
    return out


def _nets_08(p):
    def half(N, c, st, part, snaps=()):
        return _net(p, N=N, channels=c, steps=st, data_part=part, snapshots=tuple(snaps))
    settings = [(p["N_gen"], p["channels"], p["steps"], ()),
                (p["N_small"], p["channels"], p["steps_small_data"], p["snapshots"]),
                (p["N_small"], p["channels_small"], p["steps"], ())]
    return [half(N, c, st, part, snaps).with_seed(s) for s in p["seeds"] for N, c, st, snaps in settings
            for part in (0, 1)]


def _nets_09(p):  # pretrained U-Nets (the parameter) are loaded, not trained: the MLP alone is planned then
    unets = [] if p.get("pretrained") else [_net(p, N=p["N"], channels=c, steps=p["steps"], seed=p["seed"])
                                            for c in p["channel_bases"]]
    return unets + [_net(p, N=p["N"], arch="mlp", channels=p["mlp_width"], layers_per_block=p["mlp_depth"],
                         steps=p["steps"], seed=p["seed"])]


def _nets_10(p):
    if p.get("pretrained"):
        return []
    nets = [_net(p, N=p["N"], channels=c, steps=p["steps"], seed=p["seed"]) for c in p["channel_bases"]]
    return nets + [_net(p, N=p["N"], channels=p["sample_net"], steps=p["steps"], seed=s) for s in p["more_seeds"]]


def _nets_11(p):
    if p.get("pretrained"):
        return []
    return [_net(p, N=N, channels=c, steps=p["steps"], seed=s) for c, N in p["zoo"]
            for s in [p["seed"]] + (list(p["more_seeds"]) if c == p["seeded"] else [])]


def _nets_12(p):
    """Every net the walks could reach: each setting's grid of N/d at each seed, the smaller net's, and the budget
    setting's at budget_factor x the steps (adaptive)."""
    settings = list(zip(p["datasets"], p["sizes"])) + [(p["held_back_dataset"], p["held_back_size"])]
    big = [NetConfig(N=round(r * sz * sz), dataset=ds, size=sz, channels=p["channels"], steps=p["steps"], seed=s)
           for ds, sz in settings for s in p["seeds"] for r in p["ratios"]]
    small = [NetConfig(N=round(r * sz * sz), dataset=ds, size=sz, channels=p["small_channels"], steps=p["steps"],
                       seed=s) for ds, sz in zip(p["small_datasets"], p["small_sizes"]) for s in p["seeds"]
             for r in p["small_ratios"]]
    budget = [NetConfig(N=round(r * p["budget_size"] ** 2), dataset=p["budget_dataset"], size=p["budget_size"],
                        channels=p["channels"], steps=p["steps"] * p["budget_factor"], seed=s)
              for s in p["seeds"] for r in p["ratios"]]
    return big + small + budget


NETS = {"03_linearity": _nets_03, "04_gaussian_structure": _nets_04, "05_dataset_size": _nets_05,
        "06_capacity": _nets_06, "07_training_time": _nets_07, "08_strong_generalization": _nets_08,
        "09_locality": _nets_09, "10_pspc": _nets_10, "11_leaderboard": _nets_11,
        "12_transition_scaling": _nets_12}
ADAPTIVE = {"12_transition_scaling"}


def study_plan(profile: str, names: list[str] | None = None, overrides: dict | None = None) -> list[PlannedNet]:
    """The distinct nets of ``names`` (default: every notebook) at ``profile``, validated like a run, in notebook
    order; a net several notebooks need appears once with all their names. A net that a fixed part of some notebook
    needs is not adaptive, even if 12's walk could reach it too."""
    from .runner import all_notebooks, prepare, resolve

    names = [resolve(n) for n in (names or all_notebooks())]
    plan: dict[str, PlannedNet] = {}
    for name, params, defaults in prepare([n for n in names if n in NETS], profile, overrides):
        for cfg in NETS[name]({**defaults, **params}):
            pn = plan.setdefault(PlannedNet(cfg).key, PlannedNet(cfg, adaptive=True))
            if name not in pn.notebooks:
                pn.notebooks.append(name)
            pn.adaptive = pn.adaptive and name in ADAPTIVE
    return list(plan.values())


# ----------------------------------------------------------------------------------------------- cost
def training_rate(arch: str, channels: int, layers: int, side: int, steps: int = 20, in_channels: int = 1) -> float:
    """img/s of this net shape's training on this machine now (batch 128, random images; 3 warm-up steps, then
    ``steps``). The rate does not depend on the training-set size or the dataset, only on the net and the image."""
    import torch

    from ..train import EDMTrainer

    cfg = NetConfig(N=256, size=side, arch=arch, channels=channels, layers_per_block=layers)
    y = torch.rand(256, in_channels, side, side) * 2 - 1
    tr = EDMTrainer(cfg.build((in_channels, side, side)), y, seed=0)
    tr.run(3, progress=False)
    return tr.run(3 + steps, progress=False)


def image_side(cfg: NetConfig) -> int:
    """The side the net trains at: ``size``, else the dataset's native side."""
    if cfg.size is not None:
        return cfg.size
    from ..data import dataset_info

    return dataset_info(cfg.dataset, cfg.data_path)[1]


def costs(plan: list[PlannedNet], steps: int = 20) -> tuple[dict, float]:
    """({net shape: img/s}, the c = 16 16 px rate), measured now, for the nets of ``plan``."""
    ref = training_rate("unet", 16, 1, 16, steps)
    shapes = {(pn.cfg.arch, pn.cfg.channels, pn.cfg.layers_per_block, image_side(pn.cfg)) for pn in plan}
    rates = {s: ref if s == ("unet", 16, 1, 16) else training_rate(*s, steps=steps) for s in sorted(shapes)}
    return rates, ref


def plan_table(plan: list[PlannedNet], rates: dict | None = None):
    """A tidy frame, one row per net: notebooks, its config's main fields, cached?, adaptive?, minutes (at rates)."""
    import pandas as pd

    from ..cache import ModelStore

    rows = []
    for pn in plan:
        c = pn.cfg
        shape = (c.arch, c.channels, c.layers_per_block, image_side(c))
        rate = (rates or {}).get(shape)
        rows.append(dict(key=pn.key, notebooks=", ".join(n[:2] for n in pn.notebooks), arch=c.arch,
                         channels=c.channels, side=shape[-1], dataset=c.dataset, N=c.N, steps=c.steps, seed=c.seed,
                         extra=",".join(k for k in ("snapshots", "P_std", "data_part")
                                        if getattr(c, k) != getattr(NetConfig(N=1), k)),
                         cached=ModelStore(c).has("model.safetensors"), adaptive=pn.adaptive,
                         minutes=c.steps * c.batch_size / rate / 60 if rate else float("nan")))
    return pd.DataFrame(rows)


def check_against_cache(plan: list[PlannedNet], root=None) -> list[str]:
    """What disagrees between the plan and the nets a run left in the cache at ``root``: a fixed planned net not
    trained, or a trained net not planned. [] when they agree."""
    import json
    from pathlib import Path

    from ..cache import cache_dir

    root = Path(root) if root else cache_dir()
    trained = {p.parent.name: json.loads(p.read_text())["config"] for p in root.glob("*/config.json")}
    keys = {pn.key: pn for pn in plan}
    out = [f"planned for {', '.join(pn.notebooks)} but not trained: {pn.cfg}" for k, pn in keys.items()
           if not pn.adaptive and k not in trained]
    return out + [f"trained but in no notebook's plan: {cfg}" for k, cfg in trained.items() if k not in keys]


# ----------------------------------------------------------------------------------------------- training
def _train_one(cfg: NetConfig, threads: int | None) -> dict:
    """Train (or load) one net of the plan; a top-level function, so a Dask worker can run it."""
    import torch

    from ..cache import get_model

    if threads:
        torch.set_num_threads(threads)
    _, info = get_model(cfg, progress=False)
    return {"trained": info["trained"], "img_per_s": info.get("img_per_s")}


def train_plan(profile: str, names: list[str] | None = None, *, overrides: dict | None = None,
               adaptive: bool = False, workers: int | None = None, scheduler: str | None = None) -> list[dict]:
    """Train every net of the plan that the cache lacks (adaptive ones only with ``adaptive``), one net a task:
    one after another, or on Dask (``workers`` single-threaded processes, or the cluster at ``scheduler``). A net
    that fails is reported and the others go on; then GendiffError names the failed ones."""
    from .runner import check_device, check_workers, map_tasks

    if workers is not None:
        check_workers(workers)
    check_device()
    plan = study_plan(profile, names, overrides)
    from ..cache import ModelStore

    todo = [pn for pn in plan if (adaptive or not pn.adaptive) and not ModelStore(pn.cfg).has("model.safetensors")]
    print(f"plan ({profile}): {len(plan)} nets, {len(todo)} to train", file=sys.stderr, flush=True)
    threads = 1 if (workers or scheduler) else None
    labels = [f"{pn.cfg.arch} c={pn.cfg.channels} N={pn.cfg.N} seed={pn.cfg.seed} ({pn.key}; "
              f"{', '.join(pn.notebooks)})" for pn in todo]
    out, failed = [], []
    for i, res, _ in map_tasks(_safe_train, [(pn.cfg, threads) for pn in todo], labels, workers=workers,
                          scheduler=scheduler):
        if isinstance(res, str):
            failed.append(labels[i])
            print(f"FAILED {labels[i]}: {res}", file=sys.stderr, flush=True)
        else:
            out.append({"key": todo[i].key, **res})
    if failed:
        raise GendiffError(f"{len(failed)} of {len(todo)} nets failed to train: {'; '.join(failed)}")
    return out


def _safe_train(cfg: NetConfig, threads: int | None):
    """``_train_one``, with an error returned as its message (a top-level function, for Dask)."""
    try:
        return _train_one(cfg, threads)
    except Exception as e:  # report and go on with the other nets
        return f"{type(e).__name__}: {e}"

