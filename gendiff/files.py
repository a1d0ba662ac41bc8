"""Where the project lives, and the one write-then-rename helper every writer of the library uses."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._checks import GendiffError


def project_root() -> Path:
    """$GENDIFF_ROOT, else the nearest parent of the cwd holding gendiff's pyproject.toml, else the source tree
    this package was imported from (editable install), else the cwd."""
    if os.environ.get("GENDIFF_ROOT"):
        return Path(os.environ["GENDIFF_ROOT"]).resolve()
    for p in [Path.cwd(), *Path.cwd().parents]:
        if (p / "pyproject.toml").is_file() and (p / "gendiff").is_dir():
            return p
    src = Path(__file__).resolve().parents[1]
    return src if (src / "pyproject.toml").is_file() else Path.cwd()


def atomic_write(path, write) -> Path:
    """Write-then-rename: ``write(tmp_path)`` fills a temporary file beside ``path``, which then replaces ``path``
    in one step. An interrupted or failing write never leaves a half file at ``path`` (the old one stays).
    Files are group- and world-readable (0644), so a shared cache or run folder can be read by others."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except (OSError, RuntimeError) as e:  # a full disk shows as OSError, or as torch's RuntimeError from its writer
        Path(tmp).unlink(missing_ok=True)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise GendiffError(f"could not write {path} ({type(e).__name__}: {first[:200]}); is the disk full or "
                           "the folder read-only? The previous file, if any, is unchanged") from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    """``atomic_write`` of a text file."""
    def write(tmp):
        with open(tmp, "w") as f:
            f.write(text)
    return atomic_write(path, write)
