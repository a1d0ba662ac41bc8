import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gendiff import GendiffError, runner
from gendiff.ledger import CLAIMS
from gendiff.results import Results, atomic_write_text, load_results

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = runner.all_notebooks()


def test_notebooks_found():
    assert {"00_index", "01_linear_theory", "02_gaussian_optimality"} <= set(NOTEBOOKS)
    assert runner.resolve("01") == "01_linear_theory"
    with pytest.raises(GendiffError, match="not found"):
        runner.resolve("99")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_profile_has_valid_parameters(name):
    defaults = runner.notebook_parameters(runner.read_notebook(name))
    for profile in runner.PROFILES:
        params = runner.load_profile(profile, name)
        # paper profiles may name a user's folder (FFHQ): everything but the data itself is checked
        external = profile == "paper" and params.get("dataset") in ("folder", "npz")
        runner.validate(name, defaults, {**params, **({"profile": profile} if "profile" in defaults else {})},
                        check_data=not external)
    # the committed notebooks are executed without injection, so default == the parameters cell
    assert runner.load_profile("default", name) == defaults


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_pairs_in_sync(name):
    import jupytext

    py = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    ipynb_path = ROOT / "notebooks" / f"{name}.ipynb"
    assert ipynb_path.exists(), f"{name}.ipynb is missing: run `make study`"
    nb = jupytext.read(ipynb_path)
    cells = lambda n: [(c.cell_type, c.source.strip()) for c in n.cells]  # noqa: E731
    assert cells(nb) == cells(py), f"{name}: .py and .ipynb differ; run `make study` (or `make sync`)"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{name}.ipynb is not fully executed"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))


def test_validation_messages():
    d = runner.notebook_parameters(runner.read_notebook("02_gaussian_optimality"))
    with pytest.raises(GendiffError, match="unknown parameter 'bogus'"):
        runner.validate("02", d, {"bogus": 1})
    with pytest.raises(GendiffError, match="N=5000 is larger than the dataset 'digits'"):
        runner.validate("02", d, {"N": 5000})
    with pytest.raises(GendiffError, match="'gd_steps' .* must be like"):
        runner.validate("02", d, {"gd_steps": "many"})
    with pytest.raises(GendiffError, match="'dataset': 'cifar'"):
        runner.validate("02", d, {"datasets": ["cifar"]})
    d1 = runner.notebook_parameters(runner.read_notebook("01_linear_theory"))
    with pytest.raises(GendiffError, match="gap_sigmas must be > 0"):
        runner.validate("01", d1, {"gap_sigmas": [0.1, 0.0]})
    with pytest.raises(GendiffError, match="eta must be > 0"):
        runner.validate("01", d1, {"eta": -1.0})
    d4 = runner.notebook_parameters(runner.read_notebook("04_gaussian_structure"))
    with pytest.raises(GendiffError, match="channels must be >= 1"):
        runner.validate("04", d4, {"channels": 0})
    with pytest.raises(GendiffError, match="N=9999 is larger than the dataset 'mnist'"):
        runner.validate("04", d4, {"N_gen": 9999})
    with pytest.raises(GendiffError, match="profile"):
        runner.validate("01", d1, {"profile": "huge"})
    fake = {"dataset": "digits", "data_path": None, "N": 10}
    with pytest.raises(GendiffError, match="data_path.*does not exist"):
        runner.validate("x", fake, {"dataset": "folder", "data_path": "/no/such/folder"})
    with pytest.raises(GendiffError, match="data_path' is needed"):
        runner.validate("x", fake, {"dataset": "npz"})


def test_cli_rejects_before_running(tmp_path):
    env = {**os.environ, "GENDIFF_RUNS": str(tmp_path)}
    for args, msg in ((["--set", "N=99999", "02"], "N=99999 is larger"), (["--set", "nope=1"], "unknown parameter 'nope'"),
                      (["--set", "sigma_mins=[-0.1]", "01"], "sigma_mins must be > 0")):
        r = subprocess.run([sys.executable, "-m", "gendiff", "run", "-p", "smoke", *args], capture_output=True,
                           text=True, env=env, cwd=ROOT)
        assert r.returncode == 2 and msg in r.stderr, r.stderr
        assert "running" not in r.stderr
    assert not any(tmp_path.iterdir())


def test_prepare_only_injects_parameters(tmp_path):
    out = runner.run(["01"], "smoke", out_dir=tmp_path, prepare_only=True, progress=False)
    nb = json.loads(out[0].read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "d = 16" in "".join(injected[0]["source"])


def test_results_atomic_and_ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("GENDIFF_RUNS", str(tmp_path))
    r = Results("01_linear_theory", "smoke")
    assert r.claim("000-c-ridge", "c within 1%", True) is True
    r.number("x", 1.5)
    got = load_results("smoke")["01_linear_theory"]
    assert got["claims"][0]["holds"] is True and got["numbers"]["x"] == 1.5
    assert not list((tmp_path / "smoke" / "results").glob(".*tmp"))
    from gendiff.ledger import ledger_table

    t = ledger_table(("smoke",))
    assert t.set_index("id").loc["000-c-ridge", "verdict"] == "holds"
    assert t.set_index("id").loc["000-loss-gap", "verdict"] == "not run"
    assert len({c[0] for c in CLAIMS}) == len(CLAIMS)


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    p = tmp_path / "f.json"
    atomic_write_text(p, "old")

    class Boom:
        def __str__(self):
            raise RuntimeError

    with pytest.raises(TypeError):
        atomic_write_text(p, Boom())
    assert p.read_text() == "old" and [q.name for q in tmp_path.iterdir()] == ["f.json"]


def test_ledger_claims_point_at_existing_notebooks():
    for cid, seed, fig, claim, paper, nb in CLAIMS:
        assert nb is None or nb in NOTEBOOKS, cid


def test_paper_profiles_are_yaml_mappings():
    for p in (ROOT / "params").glob("*/*.yaml"):
        assert isinstance(yaml.safe_load(p.read_text()) or {}, dict), p
