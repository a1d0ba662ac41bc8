"""The rendered study (`make site`) in a real browser, and `make lab` serving the paired .py notebooks."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gendiff.study.site import build_site

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "runs" / "ci" / "site-screenshots"  # kept as CI artifacts


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.fail("headless Chromium is needed for the site test: apt-get install chromium (.ci/run does)")
    return exe


def browse(page, screenshot: Path, width: int = 1280, height: int = 2400, budget_ms: int = 10000) -> str:
    """Render ``page`` (a file or a URL) in headless Chromium: save a screenshot and return the DOM after scripts
    ran."""
    base = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--window-size={width},{height}", f"--user-data-dir={screenshot.parent / '.chromium'}",
            f"--virtual-time-budget={budget_ms}"]  # lets MathJax typeset before the screenshot and the DOM dump
    url = page if isinstance(page, str) else page.resolve().as_uri()
    subprocess.run(base + [f"--screenshot={screenshot}", url], check=True, capture_output=True, timeout=120)
    assert screenshot.stat().st_size > 20_000, f"{screenshot} looks blank"
    return subprocess.run(base + ["--dump-dom", url], check=True, capture_output=True, text=True, timeout=120).stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("site"))  # strict: a Sphinx warning fails the build


def test_site_landing_page_is_the_claims_ledger(site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    dom = browse(site, SHOTS / "index.png")
    ledger = json.loads((ROOT / "results" / "01_linear_theory.json").read_text())
    ids = list(ledger["recorded"])
    table = re.search(r"<table.*?</table>", dom, re.S)
    assert table, "no ledger table on the landing page"
    for i in ids:
        assert i in table.group(0), f"claim {i} missing from the rendered ledger"
    assert table.group(0).count("<tr") >= 40  # every claim of every notebook has a row
    for nb in ("01_linear_theory", "10_pspc", "11_leaderboard"):
        assert f'href="notebooks/{nb}.html"' in dom, f"no link to {nb} in the navigation"
    assert "00_index.html" not in dom, "the ledger is listed once: the landing page is notebook 00 on the site"


# Measured in the page itself after layout: does the ledger fit its column, and what colour is each verdict?
_PROBE = """<script>window.addEventListener('load', () => {
  const t = document.querySelector('table.ledger'), c = t.parentElement;
  document.body.setAttribute('data-ledger-fits', String(t.scrollWidth <= c.clientWidth + 1 && t.getBoundingClientRect().right <= window.innerWidth));
  for (const v of ['holds', 'differs', 'inconclusive']) {
    const b = document.querySelector('tr.verdict-' + v + ' .verdict');
    if (b) document.body.setAttribute('data-bg-' + v, getComputedStyle(b).backgroundColor);
  }
});</script>"""


def test_site_ledger_is_readable_at_1400_px(site):
    """Every column visible at 1400 px (wrapped, not clipped), verdicts coloured apart, details one click away."""
    import numpy as np
    from PIL import Image

    probe = site.parent / "index_probe.html"
    probe.write_text(site.read_text().replace("</body>", _PROBE + "</body>"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    dom = browse(probe, SHOTS / "ledger-1400.png", width=1400, height=1800)
    assert 'data-ledger-fits="true"' in dom, "the ledger is wider than its column at 1400 px"
    bgs = [re.search(rf'data-bg-{v}="([^"]+)"', dom) for v in ("holds", "differs", "inconclusive")]
    assert all(bgs) and len({b.group(1) for b in bgs}) == 3, f"verdicts are not coloured apart: {bgs}"
    assert "<details>" in dom and "declared test" in dom
    # the screenshot shows the green of 'holds' (tr.verdict-holds .verdict, #d4efd4) in the first screen
    img = np.asarray(Image.open(SHOTS / "ledger-1400.png").convert("RGB")).astype(int)
    green = (np.abs(img - np.array([0xd4, 0xef, 0xd4])).sum(-1) < 12).sum()
    assert green > 500, f"no coloured verdicts in the 1400 px screenshot ({green} pixels)"


def test_notebook_page_shows_its_figures_and_math(site):
    page = site.parent / "notebooks" / "04_gaussian_structure.html"
    dom = browse(page, SHOTS / "04_gaussian_structure.png")
    imgs = re.findall(r'<img[^>]*src="([^"]+)"', dom)
    figures = [s for s in imgs if "_images/" in s]
    assert len(figures) >= 3, f"only {len(figures)} figures rendered"
    for src in figures:
        assert (page.parent / src).resolve().is_file(), f"figure {src} is missing from the build"
    assert "Claims, declared before anything is computed" in dom
    assert re.search(r"D_L|\\\(D_L", dom), "the notebook's math is missing"
    # math is typeset from the site's own copy of MathJax (no network): its script is local and it ran
    src = re.search(r'<script[^>]*src="([^"]*tex-chtml\.js)"', dom)
    assert src and not src.group(1).startswith("http"), "MathJax is not served from the site itself"
    assert (page.parent / src.group(1)).resolve().is_file(), f"{src.group(1)} is missing from the build"
    assert "<mjx-container" in dom, "MathJax did not typeset the page's math"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_settings() -> tuple[str, str]:
    """The settings file `make lab` writes (path under the Jupyter config folder, content), read from the Makefile."""
    mk = (ROOT / "Makefile").read_text()
    folder = re.search(r"^LAB_SETTINGS := \$\(JUPYTER_CONFIG_DIR\)/(\S+)$", mk, re.M).group(1)
    content, name = re.search(r"echo '([^']+)' > \"\$\(LAB_SETTINGS\)/([^\"]+)\"", mk).groups()
    return f"{folder}/{name}", content


def test_lab_serves_the_py_notebooks_as_notebooks(tmp_path):
    """`make lab` runs `jupyter lab notebooks/`: its contents API must open a jupytext .py as a notebook, also when
    the paired .ipynb is newer than the .py, as it is after every `gendiff run` (the project's jupytext.toml); and
    with the settings `make lab` writes, JupyterLab in a browser opens the .py in the notebook editor."""
    served = tmp_path / "project"
    (served / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "jupytext.toml", served / "notebooks")
    for ext in (".py", ".ipynb"):
        shutil.copy(ROOT / "notebooks" / f"04_gaussian_structure{ext}", served / "notebooks")
    t = time.time()
    os.utime(served / "notebooks" / "04_gaussian_structure.py", (t - 3600, t - 3600))  # outputs written after the source
    rel, content = _lab_settings()
    (tmp_path / "config" / rel).parent.mkdir(parents=True)
    (tmp_path / "config" / rel).write_text(content)
    port, token = _free_port(), "gendiff-test"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "IPYTHONDIR": str(tmp_path / "ipython")}
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", "notebooks/", "--no-browser",
                             f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1",
                             f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0"]
                            + (["--allow-root"] if os.geteuid() == 0 else []),
                            cwd=served, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/api/contents/04_gaussian_structure.py?type=notebook&content=1"
        req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
        deadline, model = time.time() + 90, None
        while time.time() < deadline and model is None:
            try:
                model = json.loads(urllib.request.urlopen(req, timeout=5).read())
            except urllib.error.HTTPError as e:  # the server answered, with an error: no point in waiting
                pytest.fail(f"jupyter lab answered {e.code}: {e.read().decode()[:500]}")
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"jupyter lab exited: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(1)
        assert model is not None, "jupyter lab did not answer on the loopback port"
        assert model["type"] == "notebook" and model["format"] == "json"
        cells = model["content"]["cells"]
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells)
        assert any(c["cell_type"] == "markdown" for c in cells) and len(cells) > 10
        assert any(c.get("outputs") for c in cells if c["cell_type"] == "code"), "the .ipynb's outputs are shown"
        # the browser: double-clicking a .py opens it with the default viewer, the notebook editor
        SHOTS.mkdir(parents=True, exist_ok=True)
        dom = browse(f"http://127.0.0.1:{port}/lab/tree/04_gaussian_structure.py?token={token}", SHOTS / "lab.png",
                     width=1400, height=1000, budget_ms=30000)
        classes = " ".join(re.findall(r'class="([^"]*)"', dom)).split()
        assert "jp-NotebookPanel" in classes and classes.count("jp-Cell") > 10, "the .py did not open as a notebook"
        assert "jp-FileEditor" not in classes, "JupyterLab opened the .py as a text file"
        assert "The hidden Gaussian structure" in dom
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
