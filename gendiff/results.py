"""Where runs and their recorded results live, and the per-notebook results JSON the ledger reads."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path


def project_root() -> Path:
    """$GENDIFF_ROOT, else the nearest parent of the cwd holding gendiff's pyproject.toml, else the source tree
    this package was imported from (editable install), else the cwd."""
    if os.environ.get("GENDIFF_ROOT"):
        return Path(os.environ["GENDIFF_ROOT"]).resolve()
    for p in [Path.cwd(), *Path.cwd().parents]:
        if (p / "pyproject.toml").is_file() and (p / "gendiff").is_dir():
            return p
    src = Path(__file__).resolve().parent.parent
    return src if (src / "pyproject.toml").is_file() else Path.cwd()


def runs_dir() -> Path:
    """$GENDIFF_RUNS or <root>/runs."""
    return Path(os.environ["GENDIFF_RUNS"]).resolve() if os.environ.get("GENDIFF_RUNS") else project_root() / "runs"


def atomic_write_text(path: Path, text: str) -> None:
    """Write-then-rename: an interrupted write never leaves a half file at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Claim:
    id: str
    ours: str
    holds: bool
    value: float | None = None
    note: str = ""


@dataclass
class Results:
    """A notebook's recorded verdicts and numbers, saved after every record to runs/<profile>/results/<nb>.json."""

    notebook: str
    profile: str
    claims: list = field(default_factory=list)
    numbers: dict = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return runs_dir() / self.profile / "results" / f"{self.notebook}.json"

    def claim(self, id: str, ours: str, holds: bool, value: float | None = None, note: str = "") -> bool:
        """Record the verdict of ledger claim ``id`` (see gendiff.ledger.CLAIMS); returns ``holds`` for the assert."""
        self.claims = [c for c in self.claims if c.id != id] + [Claim(id, ours, bool(holds), value, note)]
        self.save()
        return bool(holds)

    def number(self, key: str, value) -> None:
        self.numbers[key] = value
        self.save()

    def save(self) -> None:
        d = asdict(self)
        atomic_write_text(self.path, json.dumps(d, indent=1, default=float))


def load_results(profile: str) -> dict[str, dict]:
    """All results JSONs of a profile: {notebook: {...}}."""
    out = {}
    for p in sorted((runs_dir() / profile / "results").glob("*.json")):
        out[p.stem] = json.loads(p.read_text())
    return out
