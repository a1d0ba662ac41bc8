"""Executing notebooks with papermill (``python -m gendiff run``): one after the other or on Dask, the ledger
notebook last; the runner passes each notebook its profile and its results folder (``results_dir``); progress bars
are stripped from the executed notebooks."""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from .._checks import GendiffError
from .cluster import check_workers, map_tasks
from .io import atomic_write_text, committed_results_dir, runs_dir
from .notebooks import INDEX, all_notebooks, notebooks_dir, prepare, read_notebook, resolve

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
        for i, err, _ in map_tasks(_run_notebook, stage, [f"{verb} {t[0]} ({profile})" for t in stage], **par):
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
