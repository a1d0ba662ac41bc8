"""Execute the study's notebooks with papermill: ``python -m gendiff run [--profile P] [notebooks...]``.

Notebooks are jupytext py:percent sources in notebooks/; each has a cell tagged ``parameters`` whose assignments
are the knobs a rerun may change. Profiles live in params/<profile>/<notebook>.yaml. Every parameter is checked
(unknown key, wrong type, sigma <= 0, N larger than the dataset, missing data folder) before anything runs."""
from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import yaml

from ._checks import GendiffError
from .results import atomic_write_text, project_root, runs_dir

PROFILES = ("smoke", "default", "paper")
INDEX = "00_index"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def all_notebooks() -> list[str]:
    return sorted(p.stem for p in notebooks_dir().glob("[0-9][0-9]_*.py"))


def resolve(name: str) -> str:
    """'01', '01_linear_theory', 'notebooks/01_linear_theory.py' -> '01_linear_theory'."""
    stem = Path(name).stem
    names = all_notebooks()
    hits = [n for n in names if n == stem or n.split("_")[0] == stem]
    if len(hits) != 1:
        raise GendiffError(f"notebook {name!r} not found; notebooks: {', '.join(names)}")
    return hits[0]


def read_notebook(name: str):
    import jupytext

    return jupytext.read(notebooks_dir() / f"{name}.py")


def notebook_parameters(nb) -> dict:
    """The literal assignments of the cell tagged 'parameters'."""
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise GendiffError(f"a notebook needs exactly one cell tagged 'parameters', found {len(cells)}")
    out = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def load_profile(profile: str, name: str) -> dict:
    if profile not in PROFILES:
        raise GendiffError(f"profile must be one of {PROFILES}, got {profile!r}")
    path = project_root() / "params" / profile / f"{name}.yaml"
    if not path.is_file():
        raise GendiffError(f"no parameter file {path} for notebook {name} at profile {profile!r}")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise GendiffError(f"{path} must hold a mapping of parameter: value")
    return data


# ----------------------------------------------------------------------------------------------- validation
def _type_ok(default, value) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def _values(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def validate(name: str, defaults: dict, params: dict, *, check_data: bool = True) -> dict:
    """Merged parameters, or one GendiffError naming the first bad parameter. ``check_data=False`` skips the checks
    that need the data itself (a folder or npz that exists, N no larger than the dataset)."""
    from ._checks import check_int, check_positive
    from .data import DATASETS, dataset_size

    where = f"notebook {name}"
    for k, v in params.items():
        if k not in defaults:
            raise GendiffError(f"unknown parameter {k!r} for {where}; known: {', '.join(sorted(defaults))}")
        if not _type_ok(defaults[k], v):
            raise GendiffError(f"parameter {k!r} of {where} must be like {defaults[k]!r} "
                               f"({type(defaults[k]).__name__}), got {v!r}")
    merged = {**defaults, **params}
    for k, v in merged.items():
        lk = k.lower()
        if "sigma" in lk or lk in {"lr", "eta"} or lk.startswith(("lr_", "eta_")):
            check_positive(k, [float(x) for x in _values(v)] if v is not None else [])
        if lk in {"n", "ns", "d", "ds", "size", "epochs", "snapshots"} or \
                lk.startswith(("n_", "steps", "num_", "channel")) or \
                lk.endswith(("_steps", "_epochs")):
            for x in _values(v):
                check_int(k, x, low=1)
        if lk in {"taus"} or lk.startswith("seed"):
            for x in _values(v):
                check_int(k, x, low=0)
    if "profile" in merged and merged["profile"] not in PROFILES:
        raise GendiffError(f"parameter 'profile' must be one of {PROFILES}, got {merged['profile']!r}")
    dsets = _values(merged["dataset"]) if "dataset" in merged else list(merged.get("datasets", []))
    path = merged.get("data_path")
    for ds in dsets if check_data else ():
        if ds not in DATASETS:
            raise GendiffError(f"parameter 'dataset': {ds!r} is not one of {DATASETS}")
        if ds in ("folder", "npz"):
            if path is None:
                raise GendiffError(f"parameter 'data_path' is needed for dataset {ds!r}")
            if not Path(path).expanduser().exists():
                raise GendiffError(f"parameter 'data_path': {path!r} does not exist")
        size = dataset_size(ds, path)
        for k in [k for k in merged if k in ("N", "Ns") or k.startswith("N_")]:
            for x in _values(merged.get(k, [])):
                if x > size:
                    raise GendiffError(f"parameter {k!r}: N={x} is larger than the dataset {ds!r} ({size} images)")
    return merged


def prepare(names: list[str], profile: str, overrides: dict | None = None) -> list[tuple[str, dict, dict]]:
    """(name, parameters to inject, defaults) for each notebook, all validated before any runs."""
    all_defaults = {name: notebook_parameters(read_notebook(name)) for name in names}
    unknown = set(overrides or {}) - set().union(*all_defaults.values())
    if unknown:
        raise GendiffError(f"unknown parameter {sorted(unknown)[0]!r} for {', '.join(names)}")
    jobs = []
    for name, defaults in all_defaults.items():
        params = load_profile(profile, name)
        if "profile" in defaults:
            params = {**params, "profile": profile}
        params = {**params, **{k: v for k, v in (overrides or {}).items() if k in defaults}}
        validate(name, defaults, params)
        jobs.append((name, params, defaults))
    return jobs


# ----------------------------------------------------------------------------------------------- execution
def execute(name: str, params: dict, defaults: dict, out_path: Path, *, progress: bool = True,
            inject: bool = True, prepare_only: bool = False, runs_root: Path | None = None) -> Path:
    """Run one notebook with papermill into out_path (write-then-rename). With inject=False (only allowed when the
    parameters equal the cell's defaults) no parameter cell is injected, so the output stays paired with the .py."""
    import nbformat
    import papermill as pm

    nb = read_notebook(name)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    src = out_path.with_name(f".{name}.input.ipynb")
    tmp = out_path.with_name(f".{name}.partial.ipynb")
    nbformat.write(nb, src)
    if not inject and any(params.get(k, defaults[k]) != defaults[k] for k in defaults):
        raise GendiffError(f"{name}: refreshing the committed notebook needs the profile to equal the parameters "
                           f"cell's defaults; differing: "
                           f"{[k for k in defaults if params.get(k, defaults[k]) != defaults[k]]}")
    env_keep = dict(os.environ)
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures become PNG outputs
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["GENDIFF_ROOT"] = str(project_root())
    os.environ["GENDIFF_RUNS"] = str(runs_root or runs_dir())
    try:
        pm.execute_notebook(str(src), str(tmp), parameters=params if inject else None, kernel_name="python3",
                            cwd=str(notebooks_dir()), progress_bar=progress, log_output=False,
                            prepare_only=prepare_only)
        os.replace(tmp, out_path)
    finally:
        os.environ.clear()
        os.environ.update(env_keep)
        src.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return out_path


def run(names: list[str] | None = None, profile: str = "default", *, overrides: dict | None = None,
        out_dir: Path | None = None, refresh: bool = False, progress: bool = True,
        prepare_only: bool = False) -> list[Path]:
    """Validate all, then execute each notebook (00_index last) into runs/<profile>/<nb>.ipynb; with refresh
    (default profile only) also replace the committed notebooks/<nb>.ipynb. Returns the written paths; raises
    GendiffError listing the notebooks that failed after running the rest. prepare_only writes the parameterised
    notebooks without executing them (for nbval to execute)."""
    names = [resolve(n) for n in (names or all_notebooks())]
    names = sorted(names, key=lambda n: (n == INDEX, n))
    if refresh and profile != "default":
        raise GendiffError("--refresh rewrites the committed notebooks and is only for the default profile")
    jobs = prepare(names, profile, overrides)
    out_dir = Path(out_dir) if out_dir else runs_dir() / profile
    written, failed = [], []
    for i, (name, params, defaults) in enumerate(jobs, 1):
        verb = "preparing" if prepare_only else "running"
        print(f"[{i}/{len(jobs)}] {verb} {name} ({profile})", file=sys.stderr, flush=True)
        try:
            out = execute(name, params, defaults, out_dir / f"{name}.ipynb", progress=progress, inject=not refresh,
                          prepare_only=prepare_only)
        except Exception as e:  # report and go on with the others
            failed.append(name)
            print(f"FAILED {name}: {type(e).__name__}: {str(e)[-2000:]}", file=sys.stderr, flush=True)
            continue
        written.append(out)
        if refresh and not prepare_only:
            atomic_write_text(notebooks_dir() / f"{name}.ipynb", out.read_text())
    if failed:
        raise GendiffError(f"notebooks failed: {', '.join(failed)}")
    return written


# ----------------------------------------------------------------------------------------------- sweeps
def point_id(point: dict) -> str:
    """A folder name for a grid point: 'N=64,channels=16' (characters outside [A-Za-z0-9._=,-] replaced)."""
    import re

    return re.sub(r"[^A-Za-z0-9._=,-]", "_", ",".join(f"{k}={v}" for k, v in point.items()))


def sweep(name: str, grid: dict[str, list], profile: str = "default", *, overrides: dict | None = None,
          progress: bool = True) -> Path:
    """Run one notebook over the product of ``grid`` (parameter -> values), one executed notebook per point in
    runs/<profile>/<notebook>/<point>/, skipping points already done. Every point is validated before any runs; a
    failing point is reported with its parameters and the others go on. Collects each point's results JSON into
    runs/<profile>/<notebook>/sweep.csv (one row per point: parameters, status, recorded numbers and verdicts)
    and a summary plot sweep.png. Returns the CSV path."""
    import itertools
    import json

    name = resolve(name)
    if not grid:
        raise GendiffError("sweep needs at least one --grid parameter")
    keys = list(grid)
    points = [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]
    jobs = [(pt, prepare([name], profile, {**(overrides or {}), **pt})[0]) for pt in points]
    root = runs_dir() / profile / name
    failed = []
    for i, (pt, (_, params, defaults)) in enumerate(jobs, 1):
        pdir = root / point_id(pt)
        if (pdir / "done.json").exists():
            print(f"[{i}/{len(jobs)}] {point_id(pt)}: done, skipped", file=sys.stderr, flush=True)
            continue
        print(f"[{i}/{len(jobs)}] {point_id(pt)}", file=sys.stderr, flush=True)
        try:
            execute(name, params, defaults, pdir / f"{name}.ipynb", progress=progress, runs_root=pdir)
            atomic_write_text(pdir / "done.json", json.dumps({"point": pt, "params": params}, default=str))
            (pdir / "failed.json").unlink(missing_ok=True)
        except Exception as e:  # report with its parameters, keep going
            failed.append(pt)
            msg = f"{type(e).__name__}: {str(e)[-1500:]}"
            atomic_write_text(pdir / "failed.json", json.dumps({"point": pt, "error": msg}, default=str))
            print(f"FAILED point {pt}: {msg}", file=sys.stderr, flush=True)
    csv = collect_sweep(name, profile, points)
    if failed:
        print(f"{len(failed)} of {len(points)} points failed: {failed}", file=sys.stderr)
    return csv


def collect_sweep(name: str, profile: str, points: list[dict]) -> Path:
    """sweep.csv and sweep.png from the points' results (scalar numbers and claim verdicts)."""
    import json

    import pandas as pd

    root = runs_dir() / profile / name
    rows = []
    for pt in points:
        pdir = root / point_id(pt)
        row = dict(pt)
        row["status"] = "done" if (pdir / "done.json").exists() else "failed" if (pdir / "failed.json").exists() \
            else "not run"
        res = pdir / profile / "results" / f"{name}.json"
        if res.exists():
            r = json.loads(res.read_text())
            row.update({k: v for k, v in r.get("numbers", {}).items() if isinstance(v, (int, float))})
            row.update({f"holds:{c['id']}": c["holds"] for c in r.get("claims", [])})
        rows.append(row)
    df = pd.DataFrame(rows)
    csv = root / "sweep.csv"
    atomic_write_text(csv, df.to_csv(index=False))
    _plot_sweep(df, list(points[0]) if points else [], root / "sweep.png")
    return csv


def _plot_sweep(df, keys: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    metrics = [c for c in df.columns if c not in keys and c != "status" and not c.startswith("holds:")
               and df[c].dtype.kind in "if"]
    verdicts = [c for c in df.columns if c.startswith("holds:")]
    n = max(len(metrics) + (1 if verdicts else 0), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.3), squeeze=False)
    x = keys[0] if keys else None
    other = keys[1:]
    groups = df.groupby(other) if other else [((), df)]
    for ax, m in zip(axes[0], metrics):
        for g, sub in groups:
            ax.plot(sub[x], sub[m], "o-", label=", ".join(f"{k}={v}" for k, v in zip(other, g if isinstance(g, tuple) else (g,))))
        ax.set(xlabel=x, title=m)
        if other:
            ax.legend(fontsize=7)
    if verdicts:
        ax = axes[0][len(metrics)]
        ax.imshow(df[verdicts].astype(float).fillna(0.5).T.values, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
        ax.set_yticks(range(len(verdicts)), [v[6:] for v in verdicts], fontsize=7)
        ax.set_xticks(range(len(df)), [point_id({k: r[k] for k in keys}) for _, r in df.iterrows()], rotation=60,
                      fontsize=6)
        ax.set_title("verdicts (green: holds)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
