"""Where the study's runs live. The project root and write-then-rename are the library's (``gendiff.files``), named
here too for the study's modules."""
from __future__ import annotations

from pathlib import Path

from ..files import atomic_write, atomic_write_text, project_root  # noqa: F401  (the study's names for them)


def runs_dir() -> Path:
    """<root>/runs: executed notebooks, sweeps and results of every profile."""
    return project_root() / "runs"


def results_dir(profile: str) -> Path:
    """Where a profile's notebooks record their claims by default: <root>/runs/<profile>/results."""
    return runs_dir() / profile / "results"


def committed_results_dir() -> Path:
    """The default profile's results of the committed notebooks (written by `make study`): <root>/results."""
    return project_root() / "results"
