"""The rendered study: a static HTML book of the committed, executed notebooks (Sphinx + MyST-NB + the book theme),
with the claims ledger as its landing page and the docs pages; nothing is re-executed."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .._checks import GendiffError
from .io import atomic_write_text, project_root
from .ledger import counts_line, ledger_html, ledger_table


def landing_page(results_dir: Path | None = None) -> str:
    """index.md: what the study is, the claims ledger generated from the results (compact, verdicts coloured,
    details on click), and the table of contents. The ledger notebook 00 is this page on the site, so it is not
    listed again."""
    from .runner import INDEX, all_notebooks

    readme = (project_root() / "README.md").read_text()
    intro = readme.split("\n## ", 1)[0].split("\n", 1)[1].strip()  # the README's opening, without its title
    intro = intro.replace("](notebooks/", "](notebooks/")
    nbs = "\n".join(f"notebooks/{n}" for n in all_notebooks() if n != INDEX)
    docs = "\n".join(f"docs/{p.stem}" for p in sorted((project_root() / "docs").glob("*.md")))
    return (f"# gendiff: why do diffusion models generalize?\n\n{intro}\n\n"
            f"## Claims ledger\n\nEvery declared claim and its verdict (default profile, generated from the committed "
            f"results): {counts_line(ledger_table(results_dir))}. A verdict holds when the 95 % interval lies wholly "
            f"on the declared side of its test, differs when it lies wholly on the other side, and is inconclusive "
            f"when it straddles the threshold. Open a row's details for its statistics, declared test, the paper's "
            f"value and source.\n\n{ledger_html(results_dir)}\n"
            f"```{{toctree}}\n:caption: Notebooks\n:maxdepth: 1\n\n{nbs}\n```\n\n"
            f"```{{toctree}}\n:caption: Reference\n:maxdepth: 1\n\n{docs}\n```\n")


def stage(src: Path, results_dir: Path | None = None) -> Path:
    """Copy the site's sources into ``src`` (emptied first): conf.py, index.md, the executed notebooks, docs/*.md."""
    from .runner import INDEX

    root = project_root()
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    (src / "docs").mkdir()
    shutil.copy2(root / "site" / "conf.py", src / "conf.py")
    shutil.copytree(root / "site" / "_static", src / "_static")
    missing = [p.name for p in sorted((root / "notebooks").glob("[0-9]*.py"))
               if not p.with_suffix(".ipynb").exists()]
    if missing:
        raise GendiffError(f"notebooks without an executed .ipynb: {missing}; run `make study` first")
    for p in sorted((root / "notebooks").glob("[0-9]*.ipynb")):
        if not p.stem.startswith(INDEX):  # the landing page is the ledger
            shutil.copy2(p, src / "notebooks" / p.name)
    for p in sorted((root / "docs").glob("*.md")):
        shutil.copy2(p, src / "docs" / p.name)
    atomic_write_text(src / "index.md", landing_page(results_dir))
    return src


def build_site(out: Path | None = None, *, results_dir: Path | None = None, strict: bool = True) -> Path:
    """Stage the sources in ``out``/src and build ``out``/html (warnings are errors when ``strict``). Returns the
    path of the built index.html."""
    out = Path(out) if out is not None else project_root() / "runs" / "site"
    src = stage(out / "src", results_dir)
    html = out / "html"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-d", str(out / "doctrees")]
    if strict:
        cmd += ["-W", "--keep-going"]
    r = subprocess.run(cmd + [str(src), str(html)], capture_output=True, text=True)
    if r.returncode != 0:
        raise GendiffError(f"sphinx-build failed (exit {r.returncode}):\n{(r.stderr or r.stdout).strip()[-4000:]}")
    return html / "index.html"
