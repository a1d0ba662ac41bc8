"""Parameter sweeps (``python -m gendiff sweep``): one executed notebook per grid point, each point keyed by what it
ran with (parameters, parameter file, code), collected into sweep.csv with the statistics behind every verdict and a
plot of each against the grid."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .._checks import GendiffError
from .cluster import check_workers, map_tasks
from .execute import check_device, check_writable, execute
from .io import atomic_write_text, runs_dir
from .notebooks import notebooks_dir, prepare, resolve
from .params import params_path

def code_digest(name: str) -> str:
    """sha256 (16 hex digits) of the gendiff package's source and the notebook's: a sweep point computed with other
    code is computed anew."""
    import hashlib

    h = hashlib.sha256()
    pkg = Path(__file__).resolve().parents[1]
    for f in sorted(pkg.rglob("*.py")):
        h.update(str(f.relative_to(pkg)).encode() + f.read_bytes())
    h.update((notebooks_dir() / f"{name}.py").read_bytes())
    return h.hexdigest()[:16]


def point_identity(name: str, profile: str, params: dict, defaults: dict, code: str) -> dict:
    """What a sweep point ran with: every parameter's value (defaults, profile, --set and grid merged), the profile
    parameter file's content (declarations, constraints, every profile's values) and the code digest. A point is
    reused only if all of it is unchanged."""
    import hashlib

    f = params_path(name)
    prof = hashlib.sha256(f.read_bytes() if f.is_file() else b"").hexdigest()[:16]
    merged = {k: v for k, v in {**defaults, **params}.items() if k != "results_dir"}
    return {"params": merged, "profile": profile, "profile_files": prof, "code": code}


def identity_change(old: dict | None, new: dict) -> str | None:
    """None if a done point's identity equals ``new``, else why it must be computed anew (one line)."""
    import json

    if not old:
        return "its record does not say what it ran with"
    norm = lambda v: json.loads(json.dumps(v, default=str))  # noqa: E731  (tuples and lists alike)
    why = [f"{k}: {old['params'].get(k)!r} -> {v!r}" for k, v in norm(new["params"]).items()
           if old.get("params", {}).get(k, object()) != v]
    why += [f"{k} dropped" for k in old.get("params", {}) if k not in new["params"]]
    if old.get("profile_files") != new["profile_files"]:
        why.append("its parameter file changed")
    if old.get("code") != new["code"]:
        why.append("code changed")
    return "; ".join(why) or None


def point_id(point: dict) -> str:
    """A folder name for a grid point: 'N=64,channels=16' (characters outside [A-Za-z0-9._=,-] replaced)."""
    import re

    return re.sub(r"[^A-Za-z0-9._=,-]", "_", ",".join(f"{k}={v}" for k, v in point.items()))


def _run_point(name: str, pt: dict, params: dict, defaults: dict, pdir: Path, progress: bool,
               identity: dict | None = None) -> str | None:
    """Execute one sweep point into ``pdir`` (done.json with its identity on success, failed.json with the error
    otherwise). Returns None or the error message. A top-level function, so a Dask worker can run it."""
    import json

    (pdir / "done.json").unlink(missing_ok=True)  # an interrupted recomputation never looks done
    try:
        execute(name, params, defaults, pdir / f"{name}.ipynb", progress=progress, results_dir=pdir / "results")
        atomic_write_text(pdir / "done.json", json.dumps({"point": pt, "params": params, "identity": identity},
                                                         default=str))
        (pdir / "failed.json").unlink(missing_ok=True)
        return None
    except Exception as e:  # report with its parameters, keep going
        msg = f"{type(e).__name__}: {str(e)[-1500:]}"
        atomic_write_text(pdir / "failed.json", json.dumps({"point": pt, "error": msg}, default=str))
        return msg


def sweep(name: str, grid: dict[str, list], profile: str = "default", *, overrides: dict | None = None,
          progress: bool = True, workers: int | None = None, scheduler: str | None = None) -> Path:
    """Run one notebook over the product of ``grid`` (parameter -> values), one executed notebook per point in
    runs/<profile>/<notebook>/<point>/, skipping points already done with the same identity (every parameter, the
    profile file and the code: ``point_identity``); a point whose identity changed is computed anew, saying why.
    Every point is validated before any runs; a failing point is reported with its parameters and the others go on,
    then the sweep raises GendiffError naming the failed points (after writing the CSV). Points run one after the other, or on a
    Dask cluster (``workers``: a LocalCluster of that many processes; ``scheduler``: an existing cluster). Collects
    each point's results JSON into runs/<profile>/<notebook>/sweep.csv (one row per point, in grid order:
    parameters, status, recorded numbers and verdicts) and a summary plot sweep.png. Returns the CSV path."""
    import itertools

    name = resolve(name)
    if not grid:
        raise GendiffError("sweep needs at least one --grid parameter")
    if workers is not None:
        check_workers(workers)
    check_device()
    keys = list(grid)
    points = [dict(zip(keys, vals)) for vals in itertools.product(*(grid[k] for k in keys))]
    jobs = [(pt, prepare([name], profile, {**(overrides or {}), **pt})[0]) for pt in points]
    import json

    root = runs_dir() / profile / name
    check_writable(root, "the sweep folder")
    code = code_digest(name)
    todo = []
    for i, (pt, (_, params, defaults)) in enumerate(jobs, 1):
        pdir = root / point_id(pt)
        ident = point_identity(name, profile, params, defaults, code)
        if (pdir / "done.json").exists():
            try:
                old = json.loads((pdir / "done.json").read_text()).get("identity")
            except (json.JSONDecodeError, UnicodeDecodeError):
                old = None
            why = identity_change(old, ident)
            if why is None:
                print(f"[{i}/{len(jobs)}] {point_id(pt)}: done, skipped", file=sys.stderr, flush=True)
                continue
            print(f"[{i}/{len(jobs)}] {point_id(pt)}: computed anew ({why})", file=sys.stderr, flush=True)
            shutil.rmtree(pdir / "results", ignore_errors=True)
        todo.append((name, pt, params, defaults, pdir, progress, ident))
    failed = []
    for i, err, _ in map_tasks(_run_point, todo, [point_id(t[1]) for t in todo], workers=workers, scheduler=scheduler):
        if err is not None:
            failed.append(todo[i][1])
            print(f"FAILED point {todo[i][1]}: {err}", file=sys.stderr, flush=True)
    csv = collect_sweep(name, profile, points)
    if failed:
        raise GendiffError(f"{len(failed)} of {len(points)} sweep points failed: {failed}; the others are in {csv}")
    return csv


def collect_sweep(name: str, profile: str, points: list[dict]) -> Path:
    """sweep.csv and sweep.png from the points' results: per point its parameters, status, recorded numbers, each
    claim's verdict and every statistic behind it (``<claim>.<statistic>`` with ``:lo``/``:hi`` for its interval)."""
    import pandas as pd

    from .claims import load_results

    root = runs_dir() / profile / name
    rows, tests = [], {}
    for pt in points:
        pdir = root / point_id(pt)
        row = dict(pt)
        row["status"] = "done" if (pdir / "done.json").exists() else "failed" if (pdir / "failed.json").exists() \
            else "not run"
        r = load_results(pdir / "results").get(name) if (pdir / "results").is_dir() else None
        if r and row["status"] == "done" and not r.get("unfinished"):
            row.update({k: v for k, v in r.get("numbers", {}).items()
                        if isinstance(v, (int, float)) and not isinstance(v, bool)})
            for i, rec in r.get("recorded", {}).items():
                row[f"verdict:{i}"] = rec["verdict"]
                for k, e in rec.get("stats", {}).items():
                    row[f"{i}.{k}"] = e["value"] if e else float("nan")
                    if e and e.get("lo") is not None:
                        row[f"{i}.{k}:lo"], row[f"{i}.{k}:hi"] = e["lo"], e["hi"]
            tests.update({f"{d['id']}.{k}": t for d in r.get("declared", []) for k, t in d["tests"].items()})
        rows.append(row)
    df = pd.DataFrame(rows)
    csv = root / "sweep.csv"
    atomic_write_text(csv, df.to_csv(index=False))
    _plot_sweep(df, list(points[0]) if points else [], root / "sweep.png", tests)
    return csv


def _plot_sweep(df, keys: list[str], path: Path, tests: dict[str, str] | None = None) -> None:
    """One panel per claim statistic against the first grid parameter (a line per value of the others), with its
    95 % interval as error bars and its declared threshold(s) dashed; then the verdicts of every point. Numbers that
    decide no claim (run time, counts) stay in the CSV only."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .claims import Test

    tests = tests or {}
    metrics = [c for c in df.columns if c in tests and df[c].dtype.kind in "if"]
    verdicts = [c for c in df.columns if c.startswith("verdict:")]
    n = max(len(metrics) + (1 if verdicts else 0), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.3), squeeze=False)
    x = keys[0] if keys else None
    other = keys[1:]
    groups = df.groupby(other) if other else [((), df)]
    for ax, m in zip(axes[0], metrics):
        for g, sub in groups:
            label = ", ".join(f"{k}={v}" for k, v in zip(other, g if isinstance(g, tuple) else (g,)))
            if f"{m}:lo" in sub:
                err = [(sub[m] - sub[f"{m}:lo"]).fillna(0).values, (sub[f"{m}:hi"] - sub[m]).fillna(0).values]
                ax.errorbar(sub[x], sub[m], yerr=err, fmt="o-", capsize=3, label=label)
            else:
                ax.plot(sub[x], sub[m], "o-", label=label)
        t = Test.parse(tests[m])
        for thr in (t.lo, t.hi):
            if thr is not None:
                ax.axhline(thr, color="k", ls="--", lw=0.8)
        ax.set(xlabel=x, title=f"{m} (test: {tests[m]})")
        ax.title.set_fontsize(8)
        if other:
            ax.legend(fontsize=7)
    if verdicts:
        ax = axes[0][len(metrics)]
        score = df[verdicts].apply(lambda c: c.map({"holds": 1.0, "inconclusive": 0.5, "not discriminating": 0.5,
                                                    "differs": 0.0}))
        ax.imshow(score.astype(float).T.values, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
        ax.set_yticks(range(len(verdicts)), [v[8:] for v in verdicts], fontsize=7)
        ax.set_xticks(range(len(df)), [point_id({k: r[k] for k in keys}) for _, r in df.iterrows()], rotation=60,
                      fontsize=6)
        ax.set_title("verdicts (green holds, yellow inconclusive, red differs)", fontsize=8)
    fig.tight_layout()
    from .io import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
