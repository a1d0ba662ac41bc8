"""The study's notebooks and their parameters: jupytext py:percent sources in notebooks/, each with a cell tagged
``parameters`` whose assignments are the knobs a rerun may change, each declared in params/<notebook>.yaml with its
value at every profile. ``prepare`` checks every parameter against its declaration before anything runs."""
from __future__ import annotations

import ast
from pathlib import Path

from .._checks import GendiffError
from .io import project_root
from .params import check_defaults, load_profile, load_schema, validate

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


PATH_ADVICE = {"data_path": "pass --set data_path=/path/to/your/images (a folder of image files or an .npz)",
               "pretrained": "pass --set 'pretrained=[\"/path/to/net\", ...]', one per net (gendiff.pretrained)"}


def resolve_data_path(path, name: str = "data_path") -> str:
    """A path parameter as an absolute path: ~ expanded, a relative one taken from the project root (the notebooks
    run in notebooks/, so a relative path would otherwise mean something else there). One error names the
    parameter and the path tried."""
    if not isinstance(path, str) or not path:
        raise GendiffError(f"parameter {name!r} must be a path, got {path!r}")
    p = Path(path).expanduser()
    full = p if p.is_absolute() else project_root() / p
    if not full.exists():
        raise GendiffError(f"parameter {name!r}: {path!r} does not exist (tried {full}); "
                           + PATH_ADVICE.get(name, f"pass --set {name}=PATH"))
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
        for k, v in params.items():  # path parameters: relative to the project root, as the profiles write them
            if v is not None and (k == "data_path" or schema.get(k, {}).get("path")):
                params[k] = ([resolve_data_path(x, k) for x in v] if isinstance(v, (list, tuple))
                             else resolve_data_path(v, k))
        validate(name, defaults, params, schema=schema)
        jobs.append((name, params, defaults))
    return jobs
