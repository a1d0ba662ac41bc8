"""environment.yml (conda) and pyproject.toml (pip) must list the same dependencies."""
import re
try:
    import tomllib
except ImportError:  # python 3.10
    import tomli as tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    pp = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = {_name(s): s.replace(" ", "") for s in pp["dependencies"] + pp["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip_section = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section += dep.get("pip", [])
        elif _name(dep) not in ("python", "pip"):
            conda[_name(dep)] = dep.replace(" ", "")
    for s in pip_section:
        if not s.startswith("-e"):
            conda[_name(s)] = s
    assert set(conda) == set(pip_deps), f"only in environment.yml: {set(conda) - set(pip_deps)}; " \
                                        f"only in pyproject.toml: {set(pip_deps) - set(conda)}"
    for name, spec in pip_deps.items():
        if name != "torch":  # pinned to the CPU wheel in environment.yml, a range in pyproject
            assert conda[name] == spec, f"{name}: {conda[name]} vs {spec}"


def test_torch_never_unpinned_in_setup():
    mk = (ROOT / "Makefile").read_text()
    assert "torch==2.13.0" in mk
    first_torch = mk.index("torch==2.13.0")
    assert first_torch < mk.index(".[dev]"), "torch must be installed before the package"


def test_gpu_check_skips_cleanly_without_cuda():
    import subprocess
    import sys
    from pathlib import Path

    import torch

    if torch.cuda.is_available():  # pragma: no cover  (CI has no GPU)
        return
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "bench" / "gpu_check.py")], capture_output=True, text=True)
    assert r.returncode == 0 and "no CUDA device here" in r.stdout and "skipped" in r.stdout, r.stderr


def test_the_ledger_as_csv_has_a_row_per_claim():
    import contextlib
    import csv
    import io

    from gendiff.study.cli import main
    from gendiff.study.ledger import ledger_table

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["ledger", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    t = ledger_table()
    assert len(rows) == len(t) and [r["id"] for r in rows] == list(t.id)
    assert {"id", "verdict", "statistics", "tested_by"} <= set(rows[0])


def test_the_project_says_how_to_use_and_cite_it():
    root = Path(__file__).resolve().parents[1]
    assert "MIT License" in (root / "LICENSE").read_text()
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and len(cff["references"]) == 3
    assert "gendiff = \"gendiff.study.cli:main\"" in (root / "pyproject.toml").read_text()


def imported_modules(source: str, package: list[str]) -> list[str]:
    """The absolute names of the modules a source file imports (relative imports resolved against ``package``)."""
    import ast

    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out += [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
    return out


def test_the_library_never_imports_the_study_plumbing():
    """Science below plumbing: no module of gendiff outside gendiff/study (the command-line entry point aside) imports
    gendiff.study, so the library can be used, and tested, without the study's machinery."""
    pkg = ROOT / "gendiff"
    offenders = []
    for f in sorted(pkg.rglob("*.py")):
        rel = f.relative_to(pkg)
        if rel.parts[0] == "study" or rel.name == "__main__.py":
            continue
        mods = imported_modules(f.read_text(), ["gendiff", *rel.parts[:-1]])
        offenders += [f"{rel}: {m}" for m in mods if m == "gendiff.study" or m.startswith("gendiff.study.")]
    assert not offenders, offenders
    # the check sees an upward import, relative or absolute, from any depth
    assert "gendiff.study.io" in imported_modules("from ..study.io import x", ["gendiff", "denoisers"])
    assert "gendiff.study" in imported_modules("from .study import claims", ["gendiff"])
    assert "gendiff.study.io" in imported_modules("import gendiff.study.io", ["gendiff"])
