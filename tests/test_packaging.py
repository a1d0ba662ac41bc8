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
