"""Declared notebook parameters: every parameter of a notebook's ``parameters`` cell has a declaration in
params/schema/<notebook>.yaml (type, range or choices, one-line help), and validation follows the declaration,
never the parameter's name.

    Ns:      {type: "list[int]", ge: 1, data_size: true, help: training-set sizes}
    dataset: {type: str, choices: [mnist, digits, folder, npz], help: which images}
    _constraints:
      - {check: "max(Ns) + n_eval <= data_size", help: the held-out images come after the largest training set}

Types: int, float (finite), bool, str, and list[...] of those (nested lists allowed); ``optional: true`` admits
null. Ranges ``ge``/``gt``/``le``/``lt``, ``multiple_of`` and ``choices`` apply to every element of a list; lists must not be empty
unless ``min_len: 0``. ``data_size: true`` bounds each value by the number of images in the chosen dataset.
``fixed: true`` marks a parameter the runner sets (the profile), which --set cannot change. ``_constraints`` are
expressions over the parameters (and ``data_size``, and ``images(name)``: the number of images of a dataset) that
must be true."""
from __future__ import annotations

import math
import re
from pathlib import Path

import yaml

from .._checks import GendiffError
from .io import project_root

KEYS = {"type", "help", "ge", "gt", "le", "lt", "multiple_of", "choices", "optional", "data_size", "fixed", "min_len"}
_TYPE = re.compile(r"^(list\[)*(int|float|bool|str)(\])*$")


def schema_path(name: str) -> Path:
    return project_root() / "params" / "schema" / f"{name}.yaml"


def read_mapping(path: Path, missing: str) -> dict:
    """A YAML file holding a mapping; one GendiffError naming the file if it is missing, malformed or not a mapping."""
    if not path.is_file():
        raise GendiffError(missing)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise GendiffError(f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise GendiffError(f"{path} must hold a mapping of parameter: value")
    return data


def load_schema(name: str) -> dict:
    """{parameter: declaration}, plus '_constraints' (a list) when the notebook has any; checked for form."""
    path = schema_path(name)
    data = read_mapping(path, f"notebook {name} has no parameter declarations: {path} is missing")
    for k, dec in data.items():
        if k == "_constraints":
            if not isinstance(dec, list) or not all(isinstance(c, dict) and "check" in c for c in dec):
                raise GendiffError(f"{path}: _constraints must be a list of {{check: EXPR, help: TEXT}}")
            continue
        if not isinstance(dec, dict) or "type" not in dec or "help" not in dec:
            raise GendiffError(f"{path}: parameter {k!r} needs at least 'type' and 'help'")
        if set(dec) - KEYS:
            raise GendiffError(f"{path}: parameter {k!r} has unknown keys {sorted(set(dec) - KEYS)}")
        if not _TYPE.match(str(dec["type"])) or str(dec["type"]).count("[") != str(dec["type"]).count("]"):
            raise GendiffError(f"{path}: parameter {k!r} has unknown type {dec['type']!r}")
    return data


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
        raise GendiffError(f"parameter {undeclared[0]!r} of {where} has no declaration in {schema_path(name)}")
    for k in params:
        if k not in defaults:
            raise GendiffError(f"unknown parameter {k!r} for {where}; known: {', '.join(sorted(defaults))}")
    merged = {**defaults, **params}
    for k, v in merged.items():
        dec = schema[k]
        _check_value(f"parameter {k!r} of {where}", dec, str(dec["type"]), v)
    if not check_data:
        return merged
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
                raise GendiffError(f"{schema_path(name)}: constraint {c['check']!r} cannot be evaluated: {e}") from None
            if not ok:
                shown = {k: merged[k] for k in merged if re.search(rf"\b{re.escape(k)}\b", c["check"])}
                raise GendiffError(f"parameters of {where} break {c['check']!r} (data_size={env['data_size']}, "
                                   f"{', '.join(f'{k}={v!r}' for k, v in shown.items())}): {c.get('help', '')}")
    return merged
