"""Execute the study's notebooks with papermill: ``python -m gendiff run [--profile P] [notebooks...]``.

Notebooks are jupytext py:percent sources in notebooks/; each has a cell tagged ``parameters`` whose assignments
are the knobs a rerun may change, each declared in params/<notebook>.yaml with its value at every profile. Every
parameter is checked against its declaration before anything runs. The runner passes each notebook its profile and
the folder for its results (``results_dir``) as parameters."""
from __future__ import annotations

import ast
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .._checks import GendiffError
from .io import atomic_write_text, committed_results_dir, project_root, runs_dir
from .params import PROFILES, check_defaults, load_profile, load_schema, params_path, validate  # noqa: F401 (API)
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


def resolve_data_path(path) -> str:
    """A data path as an absolute path: ~ expanded, a relative one taken from the project root (the notebooks run in
    notebooks/, so a relative path would otherwise mean something else there). One error names the path tried."""
    if not isinstance(path, str) or not path:
        raise GendiffError(f"parameter 'data_path' must be a path, got {path!r}")
    p = Path(path).expanduser()
    full = p if p.is_absolute() else project_root() / p
    if not full.exists():
        raise GendiffError(f"parameter 'data_path': {path!r} does not exist (tried {full}); pass --set "
                           "data_path=/path/to/your/images (a folder of image files or an .npz)")
    return str(full.resolve())


def prepare(names: list[str], profile: str, overrides: dict | None = None) -> list[tuple[str, dict, dict]]:
    """(name, parameters to inject, defaults) for each notebook, all validated before any runs. The profile is
    chosen by ``profile`` alone: overriding a fixed parameter (``profile``) is refused."""
    all_defaults = {name: notebook_parameters(read_notebook(name)) for name in names}
    if "results_dir" in (overrides or {}):
        raise GendiffError("parameter 'results_dir' is set by --results (the runner passes it to every notebook), "
                           "not by --set")
    unknown = set(overrides or {}) - set().union(*all_defaults.values())
    if unknown:
        raise GendiffError(f"unknown parameter {sorted(unknown)[0]!r} for {', '.join(names)}")
    jobs = []
    for name, defaults in all_defaults.items():
        schema = load_schema(name)
        for k in overrides or {}:
            if k in schema and schema[k].get("fixed"):
                raise GendiffError(f"parameter {k!r} is set by --profile, not by --set")
        check_defaults(name, defaults)
        params = load_profile(profile, name)
        if "profile" in defaults:
            params = {**params, "profile": profile}
        params = {**params, **{k: v for k, v in (overrides or {}).items() if k in defaults}}
        if params.get("data_path") is not None:  # relative to the project root, as the profiles write it
            params["data_path"] = resolve_data_path(params["data_path"])
        validate(name, defaults, params, schema=schema)
        jobs.append((name, params, defaults))
    return jobs


# ----------------------------------------------------------------------------------------------- execution
_PROGRESS = re.compile(r"^\s*[^\n]*?\d+%\|[^\n]*\|[^\n]*$|^\s*[^\n]*:\s*\d+it \[[^\n]*\]$")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_progress(nb):
    """Drop progress-bar text (tqdm's "desc: 40%|####  | 4/10 [...]" lines) from the stderr of executed cells, so
    committed notebooks keep figures, prints and warnings, not bars. Returns nb."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = _ANSI.sub("", out.get("text", ""))  # nested bars move the cursor with escape codes
                lines = [ln for ln in re.split(r"[\r\n]+", text) if ln.strip()]
                rest = [ln for ln in lines if not _PROGRESS.match(ln)]
                if not rest:
                    continue
                out["text"] = "\n".join(rest) + "\n"
            kept.append(out)
        cell["outputs"] = kept
    return nb


def execute(name: str, params: dict, defaults: dict, out_path: Path, *, progress: bool = True,
            inject: bool = True, prepare_only: bool = False, results_dir: Path | None = None) -> Path:
    """Run one notebook with papermill into out_path (write-then-rename). ``results_dir`` is passed to the notebook
    as a parameter (where its Claims are saved). With inject=False (only allowed when the parameters equal the
    cell's defaults) no parameter cell is injected, so the output stays paired with the .py and the notebook's
    default results folder is used. Temporary notebooks get unique names, so concurrent runs never collide."""
    import nbformat
    import papermill as pm

    nb = read_notebook(name)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if not inject and any(params.get(k, defaults[k]) != defaults[k] for k in defaults):
        raise GendiffError(f"{name}: refreshing the committed notebook needs the profile to equal the parameters "
                           f"cell's defaults; differing: "
                           f"{[k for k in defaults if params.get(k, defaults[k]) != defaults[k]]}")
    if inject and "results_dir" in defaults and results_dir is not None:
        params = {**params, "results_dir": str(results_dir)}
    fd, src = tempfile.mkstemp(dir=out_path.parent, prefix=f".{name}.", suffix=".input.ipynb")
    os.close(fd)
    tmp = src.replace(".input.ipynb", ".partial.ipynb")
    nbformat.write(nb, src)
    env_keep = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # the kernel's figures become PNGs
    try:
        pm.execute_notebook(src, tmp, parameters=params if inject else None, kernel_name="python3",
                            cwd=str(notebooks_dir()), progress_bar=progress, log_output=False,
                            prepare_only=prepare_only)
        if not prepare_only:
            executed = nbformat.read(tmp, as_version=4)
            nbformat.write(strip_progress(executed), tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    finally:
        if env_keep is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_keep
        Path(src).unlink(missing_ok=True)
        Path(tmp).unlink(missing_ok=True)
    return out_path


def _run_notebook(name: str, params: dict, defaults: dict, out: Path, progress: bool, inject: bool,
                  prepare_only: bool, results_dir: Path) -> str | None:
    """Execute one notebook; None, or the error message (a top-level function, so a Dask worker can run it)."""
    try:
        execute(name, params, defaults, out, progress=progress, inject=inject, prepare_only=prepare_only,
                results_dir=results_dir)
        return None
    except Exception as e:  # report and go on with the others
        return f"{type(e).__name__}: {str(e)[-2000:]}"


def run(names: list[str] | None = None, profile: str = "default", *, overrides: dict | None = None,
        out_dir: Path | None = None, results_dir: Path | None = None, refresh: bool = False,
        progress: bool = True, prepare_only: bool = False, workers: int | None = None,
        scheduler: str | None = None) -> list[Path]:
    """Validate all, then execute each notebook into runs/<profile>/<nb>.ipynb, its results into ``results_dir``
    (default runs/<profile>/results); 00_index runs last, after the others. Notebooks run one after the other, or
    on a Dask cluster (``workers`` / ``scheduler``, see ``dask_client``). With refresh (default profile only) also
    replace the committed notebooks/<nb>.ipynb and results/<nb>.json. Returns the written paths; raises
    GendiffError listing the notebooks that failed after running the rest. prepare_only writes the parameterised
    notebooks without executing them (for nbval to execute)."""
    names = [resolve(n) for n in (names or all_notebooks())]
    names = sorted(names, key=lambda n: (n == INDEX, n))
    if refresh and profile != "default":
        raise GendiffError("--refresh rewrites the committed notebooks and is only for the default profile")
    if workers is not None:
        check_workers(workers)
    check_device()
    jobs = prepare(names, profile, overrides)
    out_dir = Path(out_dir) if out_dir else runs_dir() / profile
    results_dir = Path(results_dir).resolve() if results_dir else runs_dir() / profile / "results"
    check_writable(out_dir, "--out")
    check_writable(results_dir, "--results")
    if refresh:
        check_writable(notebooks_dir(), "--refresh (the committed notebooks)")
    verb = "preparing" if prepare_only else "running"
    tasks = [(name, params, defaults, out_dir / f"{name}.ipynb", progress, not refresh, prepare_only, results_dir)
             for name, params, defaults in jobs]
    written, failed = [], []
    # the ledger notebook reads every other notebook's results: it runs after them, in this process
    stages = [[t for t in tasks if t[0] != INDEX], [t for t in tasks if t[0] == INDEX]]
    for k, stage in enumerate(stages):
        par = dict(workers=workers, scheduler=scheduler) if k == 0 else dict(workers=None, scheduler=None)
        for i, err, _ in _map(_run_notebook, stage, [f"{verb} {t[0]} ({profile})" for t in stage], **par):
            name, out = stage[i][0], stage[i][3]
            if err is not None:
                failed.append(name)
                print(f"FAILED {name}: {err}", file=sys.stderr, flush=True)
                continue
            written.append(out)
            if refresh and not prepare_only:
                atomic_write_text(notebooks_dir() / f"{name}.ipynb", out.read_text())
                res = results_dir / f"{name}.json"
                if res.exists():
                    committed_results_dir().mkdir(exist_ok=True)
                    shutil.copyfile(res, committed_results_dir() / res.name)
                    figs, kept = results_dir / "figures" / name, committed_results_dir() / "figures" / name
                    if figs.is_dir():  # the run's figures replace the committed ones as a whole
                        shutil.rmtree(kept, ignore_errors=True)
                        shutil.copytree(figs, kept)
    if failed:
        raise GendiffError(f"notebooks failed: {', '.join(failed)}")
    return written


def check_device() -> None:
    """The device the run asks for (GENDIFF_DEVICE) must exist here: one error before any work, not a CPU run."""
    from ..device import get_device

    get_device()


def check_writable(folder: Path, option: str) -> None:
    """One error naming the option and the folder if it cannot be created or written (before any work)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".gendiff-write-check.")
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise GendiffError(f"{option}: cannot write to the folder {str(folder)!r} ({e.strerror or type(e).__name__})"
                           ) from None


# ----------------------------------------------------------------------------------------------- sweeps
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


def dask_client(workers: int | None = None, scheduler: str | None = None):
    """A dask.distributed Client: on the cluster at ``scheduler`` (an address such as tcp://host:8786, or a
    scheduler file path ending in .json), or on an in-process LocalCluster of ``workers`` single-threaded worker
    processes. Every worker must see this project and its model cache on a shared filesystem."""
    try:
        from dask.distributed import Client
    except ImportError:  # pragma: no cover
        raise GendiffError("--workers/--scheduler need dask.distributed: pip install 'dask[distributed]'") from None
    if scheduler:
        if str(scheduler).endswith(".json"):
            return Client(scheduler_file=str(scheduler))
        return Client(str(scheduler))
    check_workers(workers)
    # the Client starts the LocalCluster itself, so closing the Client also stops its worker processes
    return Client(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=":0")


def check_workers(workers) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise GendiffError(f"workers must be an integer >= 1, got {workers!r}")


def _map(fn, tasks: list[tuple], labels: list[str], *, workers: int | None, scheduler: str | None):
    """Run fn(*task) for every task, sequentially or on Dask; yields (index, result or error message, ok) as each
    finishes, printing one line per task."""
    if workers is None and scheduler is None:
        for i, (t, label) in enumerate(zip(tasks, labels)):
            print(f"[{i + 1}/{len(tasks)}] {label}", file=sys.stderr, flush=True)
            yield i, fn(*t), True
        return
    from dask.distributed import as_completed

    with dask_client(workers, scheduler) as client:
        print(f"dask: {len(tasks)} tasks on {len(client.scheduler_info()['workers'])} workers "
              f"({client.scheduler.address})", file=sys.stderr, flush=True)
        futures = {client.submit(fn, *t, pure=False, key=f"gendiff-{label}-{i}"): i
                   for i, (t, label) in enumerate(zip(tasks, labels))}
        done = 0
        for fut in as_completed(futures):
            i, done = futures[fut], done + 1
            print(f"[{done}/{len(tasks)}] finished {labels[i]}", file=sys.stderr, flush=True)
            if fut.status == "error":  # the worker itself failed (killed, lost), not the notebook
                yield i, f"{type(fut.exception()).__name__}: {fut.exception()}", False
            else:
                yield i, fut.result(), True


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
    for i, err, _ in _map(_run_point, todo, [point_id(t[1]) for t in todo], workers=workers, scheduler=scheduler):
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
        score = df[verdicts].apply(lambda c: c.map({"holds": 1.0, "inconclusive": 0.5, "differs": 0.0}))
        ax.imshow(score.astype(float).T.values, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
        ax.set_yticks(range(len(verdicts)), [v[8:] for v in verdicts], fontsize=7)
        ax.set_xticks(range(len(df)), [point_id({k: r[k] for k in keys}) for _, r in df.iterrows()], rotation=60,
                      fontsize=6)
        ax.set_title("verdicts (green holds, yellow inconclusive, red differs)", fontsize=8)
    fig.tight_layout()
    from .io import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
