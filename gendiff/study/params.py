"""Declared notebook parameters: one file per notebook, params/<notebook>.yaml, holds each parameter of its
``parameters`` cell once, with its declaration (type, range or choices, one-line help) and its value at every
profile side by side. Validation follows the declaration, never the parameter's name.

    Ns:
      type: list[int]
      ge: 2
      data_size: true
      help: training-set sizes (nested subsets)
      default: [8, 16, 32, 64, 128, 256, 1024, 4096]   # the read-along profile: equals the notebook's cell
      smoke: [8, 1024]                                 # CI; only where it differs from default
      paper: [68, 137, 1094, 4375, 8750, 35000, 69000] # the papers' scale
    _constraints:
      - {check: "max(Ns) + n_eval <= data_size", help: the held-out images come after the largest training set}

Types: int, float (finite), bool, str, and list[...] of those (nested lists allowed); ``optional: true`` admits
null. Ranges ``ge``/``gt``/``le``/``lt``, ``multiple_of`` and ``choices`` apply to every element of a list; lists must not be empty
unless ``min_len: 0``. ``data_size: true`` bounds each value by the number of images in the chosen dataset.
``_constraints`` are expressions over the parameters (and ``data_size``, and ``images(name)``: the number of images
of a dataset) that must be true. The two parameters the runner sets in every notebook, ``profile`` (``fixed``:
--set cannot change it) and ``results_dir``, are declared once, here (RUNNER)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import yaml

from .._checks import GendiffError
from .io import project_root

KEYS = {"type", "help", "ge", "gt", "le", "lt", "multiple_of", "choices", "optional", "data_size", "fixed", "min_len",
        "path"}  # path: true -- a file or folder (each, in a list) that must exist; relative to the project root
PROFILES = ("smoke", "default", "paper")
_TYPE = re.compile(r"^(list\[)*(int|float|bool|str)(\])*$")

# Declared once for every notebook: the runner passes both.
RUNNER = {
    "profile": {"type": "str", "choices": list(PROFILES), "fixed": True,
                "help": "the parameter profile this run uses (set by --profile)"},
    "results_dir": {"type": "str", "optional": True,
                    "help": "folder for the results JSON (null: runs/<profile>/results; the runner passes it)"},
}


def params_path(name: str) -> Path:
    return project_root() / "params" / f"{name}.yaml"


def read_mapping(path: Path, missing: str) -> dict:
    """A YAML file holding a mapping; one GendiffError naming the file if it is missing, malformed or not a mapping."""
    if not path.is_file():
        raise GendiffError(missing)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise GendiffError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise GendiffError(f"{path} must hold a mapping of parameter: declaration")
    return data


def _read(name: str) -> dict:
    """params/<name>.yaml, checked for form: every parameter has a type, a help and a default value; only the
    declaration keys and the profile names appear."""
    path = params_path(name)
    data = read_mapping(path, f"notebook {name} has no parameter file: {path} is missing")
    for k, dec in data.items():
        if k == "_constraints":
            if not isinstance(dec, list) or not all(isinstance(c, dict) and "check" in c for c in dec):
                raise GendiffError(f"{path}: _constraints must be a list of {{check: EXPR, help: TEXT}}")
            continue
        if k in RUNNER:
            raise GendiffError(f"{path}: {k!r} is set by the runner and declared in gendiff.study.params.RUNNER")
        if not isinstance(dec, dict) or not {"type", "help", "default"} <= set(dec):
            raise GendiffError(f"{path}: parameter {k!r} needs at least 'type', 'help' and 'default'")
        if set(dec) - KEYS - set(PROFILES):
            raise GendiffError(f"{path}: parameter {k!r} has unknown keys {sorted(set(dec) - KEYS - set(PROFILES))}")
        if not _TYPE.match(str(dec["type"])) or str(dec["type"]).count("[") != str(dec["type"]).count("]"):
            raise GendiffError(f"{path}: parameter {k!r} has unknown type {dec['type']!r}")
    return data


def load_schema(name: str) -> dict:
    """{parameter: declaration} (the runner's two included), plus '_constraints' (a list) when the notebook has any."""
    data = _read(name)
    out = {k: dict(v) for k, v in RUNNER.items()}
    for k, dec in data.items():
        out[k] = dec if k == "_constraints" else {kk: v for kk, v in dec.items() if kk not in PROFILES}
    return out


def load_profile(profile: str, name: str) -> dict:
    """{parameter: value} of a profile: every default, and smoke's or paper's value where the file gives one."""
    if profile not in PROFILES:
        raise GendiffError(f"profile must be one of {PROFILES}, got {profile!r}")
    data = _read(name)
    return {k: dec.get(profile, dec["default"]) for k, dec in data.items() if k != "_constraints"}


def check_defaults(name: str, cell: dict) -> None:
    """The notebook's parameters cell must equal the declared defaults (the committed notebooks run without
    injection): one error naming the first parameter that differs."""
    declared = load_profile("default", name)
    for k in sorted(set(cell) | set(declared)):
        if k in RUNNER:
            continue
        if k not in declared:
            raise GendiffError(f"parameter {k!r} of notebook {name} has no declaration in {params_path(name)}")
        if k not in cell:
            raise GendiffError(f"{params_path(name)} declares {k!r}, which notebook {name}'s parameters cell lacks")
        if cell[k] != declared[k] and not (isinstance(cell[k], (list, tuple)) and list(cell[k]) == declared[k]):
            raise GendiffError(f"parameter {k!r}: notebook {name}'s parameters cell has {cell[k]!r}, "
                               f"{params_path(name)} says default {declared[k]!r}; make them agree")


def describe(dec: dict) -> str:
    """'list[int] >= 1, <= dataset size' for one declaration."""
    parts = [str(dec["type"]) + (" or null" if dec.get("optional") else "")]
    for key, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if key in dec:
            parts.append(f"{sym} {dec[key]}")
    if "multiple_of" in dec:
        parts.append(f"multiple of {dec['multiple_of']}")
    if "choices" in dec:
        parts.append("one of " + ", ".join(map(str, dec["choices"])))
    if dec.get("path"):
        parts.append("existing paths" if str(dec["type"]).startswith("list[") else "an existing path")
    if dec.get("data_size"):
        parts.append("<= dataset size")
    if dec.get("fixed"):
        parts.append("set by --profile")
    return ", ".join(parts)


def _check_value(where: str, dec: dict, typ: str, v, elem: str = ""):
    """Type and range of one value (recursing into lists) against its declaration."""
    label = f"{where}{elem}"
    if v is None:
        if dec.get("optional") and not elem:
            return
        raise GendiffError(f"{label} must be {typ}, got null")
    if typ.startswith("list["):
        if not isinstance(v, (list, tuple)):
            raise GendiffError(f"{label} must be a {typ}, got {v!r}")
        if len(v) < dec.get("min_len", 1):
            raise GendiffError(f"{label} must have at least {dec.get('min_len', 1)} value(s), got {list(v)!r}")
        for i, x in enumerate(v):
            _check_value(where, dec, typ[5:-1], x, f"{elem}[{i}]")
        return
    ok = {"int": isinstance(v, int) and not isinstance(v, bool),
          "float": isinstance(v, (int, float)) and not isinstance(v, bool),
          "bool": isinstance(v, bool), "str": isinstance(v, str)}[typ]
    if not ok:
        raise GendiffError(f"{label} must be {'a number' if typ == 'float' else 'an ' + typ if typ == 'int' else 'a ' + typ}"
                           f", got {v!r}")
    if typ == "float" and not math.isfinite(v):
        raise GendiffError(f"{label} must be finite, got {v!r}")
    for key, bad, sym in (("ge", lambda a, b: a < b, ">="), ("gt", lambda a, b: a <= b, ">"),
                          ("le", lambda a, b: a > b, "<="), ("lt", lambda a, b: a >= b, "<")):
        if key in dec and bad(v, dec[key]):
            raise GendiffError(f"{label} must be {sym} {dec[key]}, got {v!r}")
    if "multiple_of" in dec and v % dec["multiple_of"]:
        raise GendiffError(f"{label} must be a multiple of {dec['multiple_of']}, got {v!r}")
    if "choices" in dec and v not in dec["choices"]:
        raise GendiffError(f"{label} must be one of {dec['choices']}, got {v!r}")


def _flat(v):
    if isinstance(v, (list, tuple)):
        return [y for x in v for y in _flat(x)]
    return [] if v is None else [v]


def validate(name: str, defaults: dict, params: dict, *, check_data: bool = True, schema: dict | None = None) -> dict:
    """The merged parameters, or one GendiffError naming the first bad parameter, before any work.
    ``check_data=False`` skips the checks that need the data itself (a folder that exists, dataset sizes)."""
    from ..data import DATASETS, dataset_info
    from ..zoo import check_image_side

    schema = load_schema(name) if schema is None else schema
    where = f"notebook {name}"
    undeclared = sorted(set(defaults) - set(schema))
    if undeclared:
        raise GendiffError(f"parameter {undeclared[0]!r} of {where} has no declaration in {params_path(name)}")
    for k in params:
        if k not in defaults:
            raise GendiffError(f"unknown parameter {k!r} for {where}; known: {', '.join(sorted(defaults))}")
    merged = {**defaults, **params}
    for k, v in merged.items():
        dec = schema[k]
        _check_value(f"parameter {k!r} of {where}", dec, str(dec["type"]), v)
    if not check_data:
        return merged
    for k, v in merged.items():
        if schema[k].get("path"):
            for x in _flat(v):
                if not Path(x).expanduser().exists():
                    raise GendiffError(f"parameter {k!r} of {where}: {x!r} does not exist")
    dsets = _flat(merged["dataset"]) if "dataset" in merged else _flat(merged.get("datasets"))
    path = merged.get("data_path")
    sizes = []
    for ds in dsets:
        if ds not in DATASETS:
            raise GendiffError(f"parameter 'dataset' of {where}: {ds!r} is not one of {DATASETS}")
        if ds in ("folder", "npz"):
            if path is None:
                raise GendiffError(f"parameter 'data_path' of {where} is needed for dataset {ds!r}")
            if not Path(path).expanduser().exists():
                raise GendiffError(f"parameter 'data_path' of {where}: {path!r} does not exist")
        n, side = dataset_info(ds, path, merged.get("size"))
        if "size" in merged:  # the notebook trains U-Nets on these images
            check_image_side(side, f"parameter 'size' of {where}" + (
                f" is null, so {ds!r} keeps its native side, which" if merged["size"] is None else ""))
        sizes.append((ds, n))
    for ds, size in sizes:
        for k, v in merged.items():
            if schema[k].get("data_size"):
                for x in _flat(v):
                    if x > size:
                        raise GendiffError(f"parameter {k!r} of {where}: N={x} is larger than the dataset {ds!r} "
                                           f"({size} images)")
    if sizes:
        env = {"max": max, "min": min, "sum": sum, "len": len, "set": set, "all": all, "any": any, "zip": zip, "range": range, "sorted": sorted, "list": list, "round": round, "data_size": min(s for _, s in sizes),
               "images": lambda ds: dataset_info(ds, path)[0], **merged}
        for c in schema.get("_constraints", []):
            try:
                ok = eval(c["check"], {"__builtins__": {}, **env})  # noqa: S307  (the project's own schema files)
            except Exception as e:  # a malformed constraint is the schema's bug: say which
                raise GendiffError(f"{params_path(name)}: constraint {c['check']!r} cannot be evaluated: {e}") from None
            if not ok:
                shown = {k: merged[k] for k in merged if re.search(rf"\b{re.escape(k)}\b", c["check"])}
                raise GendiffError(f"parameters of {where} break {c['check']!r} (data_size={env['data_size']}, "
                                   f"{', '.join(f'{k}={v!r}' for k, v in shown.items())}): {c.get('help', '')}")
    return merged
